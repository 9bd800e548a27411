package engine

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// The golden files are rewritten with `go test ./engine -run Golden -update`.
// The flag is registered only if no other test file did, so that several
// golden tests in the package can share it.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func goldenUpdate() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// tplTestContext is a trigger context with the shapes templates meet:
// big ids, numeric strings, timestamps, nulls, arrays of objects, escapes.
const tplTestContext = `{
  "headers": {"x-request-id": "req-1", "content-type": "application/json", "x-multi": "a, b"},
  "query": {"source": "shop", "amount": "12.50", "query": [{"a": "1"}, {"a": "2"}], "flag": ""},
  "body": {
    "order": {
      "id": 5678901234567890123,
      "status": "paid",
      "total": "12.50",
      "amount": 12.5,
      "paid": true,
      "refunded": false,
      "note": null,
      "created": "2024-05-01T10:00:00Z",
      "tags": ["vip", "new"],
      "items": [
        {"sku": "A1", "qty": 2, "price": "9.99"},
        {"sku": "B2", "qty": 1, "price": "2.51", "opts": [{"k": "x"}, {"k": "y"}]},
        {"qty": 3}
      ],
      "customer": {"name": "Zoë \"Z\" O'Neil", "email": "z@example.com"},
      "empty": "",
      "emptyArr": [],
      "emptyObj": {},
      "multiline": "line1\nline2\ttab",
      "unicode": "\u00e9\u2028"
    },
    "event": "order.created",
    "big": 12345678901234567891,
    "exp": 1.5e300,
    "matrix": [[1, 2], [3, 4]],
    "weird key": {"a.b": "dotted", "x}}y": "braced"}
  }
}`

// newTplTestScope returns a scope over tplTestContext with fixed system
// values and two job results, so that golden output is stable.
func newTplTestScope() *Scope {
	s := NewScope([]byte(tplTestContext))
	s.Jobs["paid"] = gjson.Parse(`true`)
	s.Jobs["lookup"] = gjson.Parse(`{"status": 200, "user": {"name": "Ann", "roles": ["admin", "dev"]}, "big": 9007199254740993}`)
	s.ExecutionID = 42
	s.WorkflowID = 7
	s.WorkflowKey = "k3y"
	s.Revision = 3
	s.Now = time.Date(2024, 5, 1, 12, 30, 45, 123000000, time.UTC)
	return s
}

func mustTemplate(tb testing.TB, src string) *Template {
	tb.Helper()
	t, err := CompileTemplate(src)
	if err != nil {
		tb.Fatalf("CompileTemplate(%q): %v", src, err)
	}
	return t
}

func typeName(r gjson.Result) string {
	if !r.Exists() {
		return "missing"
	}
	return r.Type.String()
}

// checkGolden compares got with testdata/template/<name>.golden.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "template", name+".golden")
	if goldenUpdate() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestTemplateGolden(t *testing.T) {
	groups := []struct {
		name      string
		templates []string
	}{
		{"types", []string{
			"{{$context.body.order.id}}",
			"{{ $context.body.order.id }}",
			"{{$context.body.big}}",
			"{{$context.body.exp}}",
			"{{$context.body.order.status}}",
			"{{$context.body.order.amount}}",
			"{{$context.body.order.paid}}",
			"{{$context.body.order.refunded}}",
			"{{$context.body.order.note}}",
			"{{$context.body.order.customer}}",
			"{{$context.body.order.tags}}",
			"{{$context.body.order.emptyObj}}",
			"{{$context.body.order.customer.name}}",
			"{{$context.body.order.multiline}}",
			"{{$context.query.amount}}",
			"{{$context.headers.x-request-id}}",
			`{{$context.body["weird key"]["a.b"]}}`,
			`{{$context.body["weird key"]["x}}y"]}}`,
			"plain text, no placeholders",
			"",
		}},
		{"interpolation", []string{
			"Order {{$context.body.order.id}} is {{$context.body.order.status}}",
			" {{$context.body.order.id}}",
			"{{$context.body.order.id}} ",
			"{{$context.body.order.id}}{{$context.body.order.status}}",
			"paid={{$context.body.order.paid}} note=[{{$context.body.order.note}}]",
			"customer: {{$context.body.order.customer}}",
			"name: {{$context.body.order.customer.name}}",
			"text: {{$context.body.order.multiline}}",
			"uni: {{$context.body.order.unicode}}",
			"{{$context.query.query[0].a}}-{{$context.query.query[1].a}}",
			"}} stray closing braces {",
		}},
		{"arrays", []string{
			"{{$context.body.order.items.sku}}",
			"{{$context.body.order.items.qty}}",
			"{{$context.body.order.items[1].sku}}",
			"{{$context.body.order.items[5].sku}}",
			"{{$context.body.order.items.opts.k}}",
			"{{$context.body.order.tags[0]}}",
			"{{$context.body.matrix[1][0]}}",
			"{{$context.query.query.a}}",
			"skus: {{$context.body.order.items.sku}}",
		}},
		{"missing", []string{
			"{{$context.body.nope}}",
			"{{$context.body.order.nope.deeper}}",
			"{{$context.body.order.status.nope}}",
			"{{$context.body.order.tags[9]}}",
			"{{$context.nope}}",
			"[{{$context.body.nope}}]",
			"{{$jobsMapByNodeKey.nope}}",
			"{{$jobsMapByNodeKey.nope.status}}",
			"{{$system.nope}}",
		}},
		{"jobs", []string{
			"{{$jobsMapByNodeKey.paid}}",
			"{{$jobsMapByNodeKey.lookup}}",
			"{{$jobsMapByNodeKey.lookup.status}}",
			"{{$jobsMapByNodeKey.lookup.user.roles}}",
			"{{$jobsMapByNodeKey.lookup.user.roles[1]}}",
			"{{$jobsMapByNodeKey.lookup.big}}",
			"user {{$jobsMapByNodeKey.lookup.user.name}} ({{$jobsMapByNodeKey.lookup.status}})",
		}},
		{"system", []string{
			"{{$system.now}}",
			"{{$system.timestamp}}",
			"{{$system.executionId}}",
			"{{$system.workflowId}}",
			"{{$system.workflowKey}}",
			"{{$system.revision}}",
			"exec {{$system.executionId}} at {{$system.now}}",
		}},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			var b strings.Builder
			for _, src := range g.templates {
				tpl := mustTemplate(t, src)
				s := newTplTestScope()
				r := tpl.Render(s)
				fmt.Fprintf(&b, "template: %s\n", src)
				fmt.Fprintf(&b, "render:   %s (%s)\n", r.Raw, typeName(r))
				fmt.Fprintf(&b, "string:   %q\n", tpl.String(s))
				fmt.Fprintf(&b, "static:   %v\n\n", tpl.IsStatic())
				checkRenderedString(t, tpl, r)
			}
			checkGolden(t, g.name, b.String())
		})
	}
}

// checkRenderedString checks that a rendered string Result is what gjson
// would parse from its Raw.
func checkRenderedString(tb testing.TB, tpl *Template, r gjson.Result) {
	tb.Helper()
	if tpl.single {
		return
	}
	if r.Type != gjson.String {
		tb.Fatalf("%q: Render type %v, want String", tpl.src, r.Type)
	}
	if !gjson.Valid(r.Raw) {
		tb.Fatalf("%q: Render Raw %q is not valid JSON", tpl.src, r.Raw)
	}
	if p := gjson.Parse(r.Raw); p.Str != r.Str || p.Type != gjson.String {
		tb.Fatalf("%q: Render Str %q, but Raw %q parses to %q", tpl.src, r.Str, r.Raw, p.Str)
	}
}

func TestJSONTemplateGolden(t *testing.T) {
	docs := []string{
		`{"ok": true, "id": "{{$context.body.order.id}}"}`,
		`{"ok": false}`,
		`  [1, 2.50, -0, 1e400, 123456789012345678901234567890]  `,
		`{"id": "{{$context.body.order.id}}", "status": "{{ $context.body.order.status }}", "note": "{{$context.body.order.note}}", "nope": "{{$context.body.nope}}"}`,
		`{"customer": "{{$context.body.order.customer}}", "skus": "{{$context.body.order.items.sku}}", "tags": "{{$context.body.order.tags}}"}`,
		`{"text": "Order #{{$context.body.order.id}} for {{$context.body.order.customer.name}}", "esc": "a\"b\\c\n{{$context.body.order.multiline}}"}`,
		`{"keys are not templates {{$context.body.order.id}}": 1, "nested": {"deep": [{"x": "{{$jobsMapByNodeKey.lookup.big}}"}]}}`,
		`"{{$context.body.order.id}}"`,
		`"plain string"`,
		`"prefix {{$context.body.order.status}}"`,
		`null`,
		`{"sys": {"exec": "{{$system.executionId}}", "now": "{{$system.now}}"}, "job": "{{$jobsMapByNodeKey.paid}}"}`,
		`{"unicode": "é\u2028 {{$context.body.order.unicode}}", "raw": "{{$context.body.order.unicode}}"}`,
	}
	var b strings.Builder
	for _, doc := range docs {
		jt, err := CompileJSONTemplate([]byte(doc))
		if err != nil {
			t.Fatalf("CompileJSONTemplate(%s): %v", doc, err)
		}
		out, err := jt.Render(newTplTestScope(), []byte("prefix:"))
		if err != nil {
			t.Fatalf("Render(%s): %v", doc, err)
		}
		if !strings.HasPrefix(string(out), "prefix:") {
			t.Fatalf("Render did not append to dst: %s", out)
		}
		out = out[len("prefix:"):]
		if !gjson.ValidBytes(out) || !json.Valid(out) {
			t.Fatalf("Render(%s) = %s: invalid JSON", doc, out)
		}
		fmt.Fprintf(&b, "template: %s\nrender:   %s\n\n", doc, out)
	}
	checkGolden(t, "json", b.String())
}

func TestTemplateSingleKeepsType(t *testing.T) {
	s := newTplTestScope()
	for src, want := range map[string]gjson.Type{
		"{{$context.body.order.id}}":                           gjson.Number,
		"{{ $context.body.order.paid }}":                       gjson.True,
		"{{$context.body.order.note}}":                         gjson.Null,
		"{{$context.body.order.tags}}":                         gjson.JSON,
		"{{$context.body.order.status}}":                       gjson.String,
		"{{$jobsMapByNodeKey.paid}}":                           gjson.True,
		"{{$system.executionId}}":                              gjson.Number,
		" {{$context.body.order.id}}":                          gjson.String,
		"{{$context.body.order.id}}\n":                         gjson.String,
		"{{$context.body.order.id}}{{$context.body.order.id}}": gjson.String,
	} {
		r := mustTemplate(t, src).Render(s)
		if r.Type != want {
			t.Errorf("%q: type %v, want %v", src, r.Type, want)
		}
	}
	// The big id must come through as its exact text.
	if r := mustTemplate(t, "{{$context.body.order.id}}").Render(s); r.Raw != "5678901234567890123" {
		t.Errorf("big id rendered as %q", r.Raw)
	}
	if r := mustTemplate(t, "{{$context.body.nope}}").Render(s); r.Exists() {
		t.Errorf("missing value exists: %#v", r)
	}
}

func TestTemplatePaths(t *testing.T) {
	tpl := mustTemplate(t, `a {{$context.body.x}} b {{ $jobsMapByNodeKey.paid.result }} {{$system.now}}{{$context["odd key"][0]}}`)
	var got []string
	for _, p := range tpl.Paths() {
		got = append(got, p.String())
	}
	want := `$context.body.x|$jobsMapByNodeKey.paid.result|$system.now|$context.odd key[0]`
	if strings.Join(got, "|") != want {
		t.Errorf("Paths = %s, want %s", strings.Join(got, "|"), want)
	}
	if mustTemplate(t, "static").Paths() != nil {
		t.Error("static template has paths")
	}
	if !mustTemplate(t, "}} {").IsStatic() || mustTemplate(t, "{{$system.now}}").IsStatic() {
		t.Error("IsStatic wrong")
	}
}

func TestCompileTemplateErrors(t *testing.T) {
	for src, want := range map[string]string{
		"{{":                         "unterminated {{",
		"abc {{$context.body.x":      "unterminated {{",
		"{{$context.body.x}} {{ ":    "unterminated {{",
		`{{$context["a}}`:            "unterminated {{",
		"{{}}":                       "invalid placeholder {{}}: empty path",
		"{{  }}":                     "invalid placeholder {{  }}: empty path",
		"{{body.x}}":                 "invalid placeholder {{body.x}}: a path must start with $context, $jobsMapByNodeKey or $system",
		"{{context.body}}":           "invalid placeholder {{context.body}}: a path must start with $context, $jobsMapByNodeKey or $system",
		"{{[0].a}}":                  "invalid placeholder {{[0].a}}: a path must start with $context, $jobsMapByNodeKey or $system",
		"{{$context..x}}":            `invalid placeholder {{$context..x}}: path "$context..x": empty key at offset 9`,
		"{{$context.a[x]}}":          `invalid placeholder {{$context.a[x]}}: path "$context.a[x]": bad array index "x"`,
		"{{{$context.a}}}":           `invalid placeholder {{{$context.a}}: path "{$context.a": unexpected '{' at offset 0`,
		"{{$jobsMapByNodeKey}}":      "invalid placeholder {{$jobsMapByNodeKey}}: $jobsMapByNodeKey must be followed by a node key, as in $jobsMapByNodeKey.paid",
		"{{$jobsMapByNodeKey[0].x}}": "invalid placeholder {{$jobsMapByNodeKey[0].x}}: $jobsMapByNodeKey must be followed by a node key, as in $jobsMapByNodeKey.paid",
	} {
		_, err := CompileTemplate(src)
		if err == nil {
			t.Errorf("CompileTemplate(%q): no error, want %q", src, want)
			continue
		}
		if ErrorCode(err) != EINVALID || err.Error() != want {
			t.Errorf("CompileTemplate(%q):\n got %s %q\nwant invalid %q", src, ErrorCode(err), err.Error(), want)
		}
	}
}

func TestCompileJSONTemplateErrors(t *testing.T) {
	for doc, want := range map[string]string{
		`{"body": {"items": ["ok", "{{"]}}`:      "body.items[1]: unterminated {{",
		`["{{$context.a}}", {"x y": "{{foo}}"}]`: `[1].x y: invalid placeholder {{foo}}: a path must start with $context, $jobsMapByNodeKey or $system`,
		`"{{"`:                                   "unterminated {{",
		`{"a": }`:                                "invalid JSON",
		``:                                       "invalid JSON",
		`{"a": 1} x`:                             "invalid JSON",
		strings.Repeat("[", 200) + strings.Repeat("]", 200): "JSON nested deeper than 128 levels",
	} {
		_, err := CompileJSONTemplate([]byte(doc))
		if err == nil || ErrorCode(err) != EINVALID || err.Error() != want {
			t.Errorf("CompileJSONTemplate(%.40s): got %v, want %q", doc, err, want)
		}
	}
	_, err := compileJSONTemplateAt([]byte(`{"items": ["{{"]}`), "trigger.response.body")
	if err == nil || err.Error() != "trigger.response.body.items[0]: unterminated {{" {
		t.Errorf("prefixed location: %v", err)
	}
	_, err = compileJSONTemplateAt([]byte(`[{"a": "{{"}]`), "config.body")
	if err == nil || err.Error() != "config.body[0].a: unterminated {{" {
		t.Errorf("prefixed index location: %v", err)
	}
}

func TestJSONTemplateTooLarge(t *testing.T) {
	big := strings.Repeat("x", 600<<10)
	s := NewScope([]byte(`{"body":{"s":"` + big + `"}}`))
	for _, doc := range []string{
		`{"a": "{{$context.body.s}}", "b": "{{$context.body.s}}"}`,
		`{"a": "{{$context.body.s}} and {{$context.body.s}}"}`,
		`"` + strings.Repeat("{{$context.body.s}}", 100) + `"`,
	} {
		jt, err := CompileJSONTemplate([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		out, err := jt.Render(s, []byte("keep"))
		if ErrorCode(err) != ETOOLARGE {
			t.Errorf("%.60s: err %v, want too_large", doc, err)
		}
		if string(out) != "keep" {
			t.Errorf("dst changed on error: %.20q", out)
		}
	}
	// The text renderings drop what would cross the limit instead.
	tpl := mustTemplate(t, strings.Repeat("{{$context.body.s}}", 100))
	if n := len(tpl.String(s)); n != 600<<10 {
		t.Errorf("String kept %d bytes, want %d", n, 600<<10)
	}
	if r := tpl.Render(s); len(r.Str) != 600<<10 || !gjson.Valid(r.Raw) {
		t.Errorf("Render kept %d bytes", len(r.Str))
	}
}

func TestNewStringResult(t *testing.T) {
	for _, text := range []string{"", "plain", `q"uote`, "back\\slash", "nl\n", "ctl\x01", "é\u2028", "bad\xffutf8"} {
		r := newStringResult(text)
		p := gjson.Parse(r.Raw)
		if r.Type != gjson.String || !gjson.Valid(r.Raw) || p.Str != r.Str {
			t.Errorf("newStringResult(%q) = %#v; parsed Str %q", text, r, p.Str)
		}
		if utf8Valid := !strings.Contains(text, "\xff"); utf8Valid && r.Str != text {
			t.Errorf("newStringResult(%q).Str = %q", text, r.Str)
		}
	}
}

func FuzzCompileTemplate(f *testing.F) {
	for _, seed := range []string{
		"", "plain", "{{$context.body.order.id}}", " {{ $context.body.order.status }} ",
		"Order {{$context.body.order.id}} {{$context.body.order.items.sku}}",
		"{{$context.body.order.customer}}", `{{$context.body["weird key"]["x}}y"]}}`,
		"{{$jobsMapByNodeKey.lookup.user.roles[1]}}", "{{$system.now}}", "{{", "}}", "{{}}",
		"{{$context.a..b}}", `{"a": "{{$context.body.order}}", "b": [1, "{{$system.now}}"]}`,
		"{{$context.body.matrix.x}}", "\xff{{$context.body.order.unicode}}\x00",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		s := newTplTestScope()
		if tpl, err := CompileTemplate(src); err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("error code %s: %v", ErrorCode(err), err)
			}
		} else {
			checkRenderedString(t, tpl, tpl.Render(s))
			_ = tpl.String(s)
			for _, p := range tpl.Paths() {
				if q, err := ParsePath(p.String()); err != nil || q.String() != p.String() {
					t.Fatalf("path %q does not round-trip: %v", p.String(), err)
				}
			}
		}
		// The same text as a JSON string, and as a JSON document.
		quoted, _ := json.Marshal(src)
		for _, doc := range [][]byte{quoted, []byte(src)} {
			jt, err := CompileJSONTemplate(doc)
			if err != nil {
				continue
			}
			out, err := jt.Render(s, nil)
			if err != nil {
				t.Fatalf("Render(%q): %v", doc, err)
			}
			if !gjson.ValidBytes(out) {
				t.Fatalf("Render(%q) = %q: invalid JSON", doc, out)
			}
		}
	})
}

// benchContext is the §9 payment callback body with some bulk around it.
const benchContext = `{"headers":{"content-type":"application/json","x-request-id":"9f1c2b7e","user-agent":"PSP/1.0"},` +
	`"query":{"source":"psp"},` +
	`"body":{"event":"payment.succeeded","order":{"id":5678901234567890123,"status":"paid","currency":"EUR","total":"129.90",` +
	`"customer":{"id":42,"email":"ann@example.com"},"items":[{"sku":"A1","qty":2},{"sku":"B2","qty":1}]}}}`

func BenchmarkTemplateRender(b *testing.B) {
	s := NewScope([]byte(benchContext))
	for _, bc := range []struct{ name, src string }{
		{"single", "{{$context.body.order.id}}"},
		{"interpolation", "Order {{$context.body.order.id}} is {{$context.body.order.status}}"},
		{"static", "paid"},
	} {
		tpl := mustTemplate(b, bc.src)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = tpl.Render(s)
			}
		})
		b.Run(bc.name+"/String", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = tpl.String(s)
			}
		})
	}
}

func BenchmarkJSONTemplateRender(b *testing.B) {
	s := NewScope([]byte(benchContext))
	jt, err := CompileJSONTemplate([]byte(`{"ok": true, "id": "{{$context.body.order.id}}"}`))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = jt.Render(s, buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
	if string(buf) != `{"ok":true,"id":5678901234567890123}` {
		b.Fatalf("rendered %s", buf)
	}
}
