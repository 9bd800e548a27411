package engine

import (
	"bytes"
	"mime/multipart"
	"net/textproto"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// Every body type of product.md §3 part two: XML and multipart/form-data
// into $context.body; the raw body never stored twice.

func contextBody(t *testing.T, ct string, body []byte) gjson.Result {
	t.Helper()
	ctx, err := BuildContext(&Request{Method: "POST", Headers: []HeaderValue{{Name: "Content-Type", Value: ct}}, Body: body})
	if err != nil {
		t.Fatalf("BuildContext(%s): %v", ct, err)
	}
	if !gjson.ValidBytes(ctx) {
		t.Fatalf("context is not JSON: %s", ctx)
	}
	if gjson.GetBytes(ctx, "rawBody").Exists() {
		t.Errorf("the context stores rawBody: %s", ctx)
	}
	return gjson.GetBytes(ctx, "body")
}

func TestBuildContextXML(t *testing.T) {
	t.Parallel()
	const doc = `<?xml version="1.0"?>
<order id="12345678901234567891" status="paid">
  <item sku="a">Tea</item>
  <item sku="b">Cake &amp; cream</item>
  <note><![CDATA[<b>fragile</b>]]></note>
</order>`
	for _, ct := range []string{"application/xml", "text/xml; charset=utf-8", "application/soap+xml", "APPLICATION/ATOM+XML"} {
		b := contextBody(t, ct, []byte(doc))
		if got := b.Get("order.@id").Raw; got != `"12345678901234567891"` {
			t.Errorf("%s: order.@id = %s (every value a string, big numbers exact)", ct, got)
		}
		if got := b.Get("order.item.1.#text").Str; got != "Cake & cream" {
			t.Errorf("%s: second item text %q in %s", ct, got, b.Raw)
		}
		if got := b.Get("order.note").Str; got != "<b>fragile</b>" {
			t.Errorf("%s: CDATA note %q", ct, got)
		}
	}
	// Paths as templates read them.
	sc := NewScope([]byte(`{"headers":{},"query":{},"body":` + contextBody(t, "text/xml", []byte(doc)).Raw + `}`))
	tmpl, err := CompileTemplate(`{{$context.body.order.item[0].@sku}}/{{$context.body.order.@status}}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := tmpl.String(sc); got != "a/paid" {
		t.Errorf("template over XML: %q", got)
	}
	// No entity from a DTD is ever expanded, and nothing is read.
	xxe := `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd"><!ENTITY y "boom">]><r>&x;&y;</r>`
	if _, err := BuildContext(&Request{Headers: []HeaderValue{{Name: "Content-Type", Value: "application/xml"}}, Body: []byte(xxe)}); err == nil {
		t.Error("an undefined entity was accepted")
	}
	for _, bad := range []string{`<a><b></a>`, `not xml`, `<a>` + strings.Repeat("<a>", MaxJSONDepth+10)} {
		_, err := BuildContext(&Request{Headers: []HeaderValue{{Name: "Content-Type", Value: "application/xml"}}, Body: []byte(bad)})
		if ErrorCode(err) != EINVALID || !strings.HasPrefix(ErrorMessage(err), "the body is not valid XML, but Content-Type says it is (invalid XML") {
			t.Errorf("%.20q: %v", bad, err)
		}
	}
	// An empty XML body is an empty object, as for every type.
	if b := contextBody(t, "application/xml", nil); b.Raw != "{}" {
		t.Errorf("empty XML body: %s", b.Raw)
	}
}

func buildMultipart(t *testing.T, build func(w *multipart.Writer)) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	build(w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.FormDataContentType()
}

func TestBuildContextMultipart(t *testing.T) {
	t.Parallel()
	body, ct := buildMultipart(t, func(w *multipart.Writer) {
		w.WriteField("name", "Ada")
		w.WriteField("tags[]", "a")
		w.WriteField("tags[]", "b")
		w.WriteField("order[id]", "12345678901234567891")
		w.WriteField("order[lines][0][sku]", "x")
		w.WriteField("same", "1")
		w.WriteField("same", "2")
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="files[]"; filename="a.png"`)
		h.Set("Content-Type", "image/png")
		p, _ := w.CreatePart(h)
		p.Write(bytes.Repeat([]byte{0x89}, 1000))
		f, _ := w.CreateFormFile("files[]", "notes.txt")
		f.Write([]byte("hello"))
		e, _ := w.CreateFormFile("empty", "")
		e.Write(nil)
	})
	b := contextBody(t, ct, body)
	for path, want := range map[string]string{
		"name":                 `"Ada"`,
		"tags":                 `["a","b"]`,
		"order.id":             `"12345678901234567891"`,
		"order.lines.0.sku":    `"x"`,
		"same":                 `["1","2"]`,
		"files.0":              `{"filename":"a.png","contentType":"image/png","size":1000}`,
		"files.1":              `{"filename":"notes.txt","contentType":"application/octet-stream","size":5}`,
		"empty":                `{"filename":"","contentType":"application/octet-stream","size":0}`,
		"files.0.size":         `1000`,
		"files.1.contentType":  `"application/octet-stream"`,
		"order.lines.0.sku.no": ``,
	} {
		if got := b.Get(path).Raw; got != want {
			t.Errorf("%s = %s, want %s (body %s)", path, got, want, b.Raw)
		}
	}
	// The same fields URL-encoded give the same text values: one rule for
	// both form encodings.
	form := contextBody(t, "application/x-www-form-urlencoded", []byte("name=Ada&tags[]=a&tags[]=b&order[id]=12345678901234567891&order[lines][0][sku]=x&same=1&same=2"))
	for _, k := range []string{"name", "tags", "order", "same"} {
		if form.Get(k).Raw != b.Get(k).Raw {
			t.Errorf("%s: form %s, multipart %s", k, form.Get(k).Raw, b.Get(k).Raw)
		}
	}
	// Bad multipart bodies are 400s that say why.
	for _, tc := range []struct{ ct, body, want string }{
		{"multipart/form-data", "--x\r\n", "invalid multipart body: missing boundary"},
		{"multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end", "invalid multipart body"},
	} {
		_, err := BuildContext(&Request{Headers: []HeaderValue{{Name: "Content-Type", Value: tc.ct}}, Body: []byte(tc.body)})
		if ErrorCode(err) != EINVALID || !strings.HasPrefix(ErrorMessage(err), tc.want) {
			t.Errorf("%q: %v, want %s…", tc.body, err, tc.want)
		}
	}
	// Field count is bounded like a form's parameters.
	many, mct := buildMultipart(t, func(w *multipart.Writer) {
		for range 1001 {
			w.WriteField("a[]", "x")
		}
	})
	if _, err := BuildContext(&Request{Headers: []HeaderValue{{Name: "Content-Type", Value: mct}}, Body: many}); ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), "more than 1000") {
		t.Errorf("1001 fields: %v", err)
	}
}

func TestParseFormFieldsLimits(t *testing.T) {
	t.Parallel()
	// Past the array limit, an array turns into an object, as for forms.
	var fields []FormField
	for range 101 {
		fields = append(fields, FormField{Name: "a[]", Value: "x"})
	}
	out, err := ParseFormFields(fields, DefaultQSOptions)
	if err != nil {
		t.Fatal(err)
	}
	if r := gjson.GetBytes(out, "a"); !r.IsObject() || r.Get("100").Str != "x" {
		t.Errorf("101 items: %s", out)
	}
	// A file's JSON never merges as text.
	out, err = ParseFormFields([]FormField{{Name: "f", JSON: []byte(`{"filename":"a","contentType":"","size":1}`)}, {Name: "f", Value: "t"}}, DefaultQSOptions)
	if err != nil || string(out) != `{"f":[{"filename":"a","contentType":"","size":1},"t"]}` {
		t.Errorf("file then text: %s, %v", out, err)
	}
	if out, _ := ParseFormFields(nil, DefaultQSOptions); string(out) != "{}" {
		t.Errorf("no fields: %s", out)
	}
}

func TestListSamplePathsXML(t *testing.T) {
	t.Parallel()
	kind, paths, truncated, err := ListSamplePaths("\n  <?xml version=\"1.0\"?><order id=\"7\"><item>a</item><item sku=\"b\">b</item></order>")
	if err != nil || kind != SampleBody || truncated {
		t.Fatalf("XML sample: %s %v %v %v", kind, paths, truncated, err)
	}
	want := []string{"order", "order.@id", "order.item", "order.item[0]", "order.item[1]", "order.item[1].@sku", "order.item[1].#text"}
	if !slices.Equal(paths, want) {
		t.Errorf("paths %q, want %q", paths, want)
	}
	if SampleKind("\ufeff<a/>") != SampleBody {
		t.Error("an XML sample with a byte order mark is not a body")
	}
	_, _, _, err = ListSamplePaths("<order><item></order>")
	if ErrorCode(err) != EINVALID || !strings.HasPrefix(ErrorMessage(err), "the sample is not valid XML: at line 1") {
		t.Errorf("bad XML sample: %v", err)
	}
	// JSON and query samples work as before.
	if _, p, _, err := ListSamplePaths(`{"a":{"b":1}}`); err != nil || !slices.Equal(p, []string{"a", "a.b"}) {
		t.Errorf("JSON sample: %v %v", p, err)
	}
	if k, p, _, err := ListSamplePaths(`?query[0][a]=1`); err != nil || k != SampleQuery || !slices.Equal(p, []string{"query", "query[0]", "query[0].a"}) {
		t.Errorf("query sample: %s %v %v", k, p, err)
	}
}
