package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// Fuzz targets for the parsers that see untrusted input and have no target
// next to their unit tests. Their seed corpora, and every crasher found, are
// kept under testdata/fuzz/<FuzzName>/ so that a plain `go test` replays
// them; `make fuzz` runs every target for a bounded time.

// FuzzBuildContext feeds random requests to BuildContext: it must never
// panic, and it returns either a valid trigger context or an *Error a caller
// can act on.
func FuzzBuildContext(f *testing.F) {
	for _, s := range []struct{ ct, body, query, headers string }{
		{"application/json", `{"order":{"id":12345678901234567890,"status":"paid"}}`, "a[b]=1&a[c][]=2", "X-Request-Id: abc\nx-request-id: def"},
		{"application/vnd.api+json; charset=utf-8", " [1,2,{\"a\":null}]\n", "", ""},
		{"application/json", `{"a":`, "", ""},
		{"application/json", "   ", "?x", ""},
		{"application/x-www-form-urlencoded", "token=t&text=hello+world&a%5B%5D=1&a%5B%5D=2", "q=%E4%BD%A0", "User-Agent: Slackbot"},
		{"text/plain", "not json at all {", "a=1&a=2", "Date: Mon, 01 Jan 2024 00:00:00 GMT"},
		{"", "\xff\xfe", "\xff=\xc0", "\xff: \xfe"},
		{"APPLICATION/JSON", strings.Repeat("[", 128) + strings.Repeat("]", 128), "", ""},
		{"application/json", strings.Repeat("[", 129) + strings.Repeat("]", 129), "", ""},
		{"application/json", `"<script>\u2028</script>"`, "a[b][c][d][e][f][g][h]=i", "A: <b>\"q\"\\"},
		{"application/x-www-form-urlencoded", "a[b]=1&[a]x=2&a[c]=3&[a]y=4", "", ""},
		{"multipart/form-data; boundary=x", "--x\r\n\r\n--x--", "", strings.Repeat("H: v\n", 101)},
		{"multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"a[b][]\"\r\n\r\n1\r\n--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.bin\"\r\n\r\n\xff\x00\r\n--x--\r\n", "", ""},
		{"application/xml", `<?xml version="1.0"?><r a="1"><i>x</i><i>y &amp; <![CDATA[z]]></i></r>`, "", ""},
		{"text/xml", strings.Repeat("<a><a>", 64) + strings.Repeat("</a></a>", 64), "", ""},
		{"application/atom+xml", `<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>`, "", ""},
	} {
		f.Add(s.ct, []byte(s.body), s.query, s.headers)
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte, query, headers string) {
		req := &Request{Method: "POST", Query: query, Body: body}
		if ct != "" {
			req.Headers = append(req.Headers, HeaderValue{Name: "Content-Type", Value: ct})
		}
		if headers != "" {
			for _, line := range strings.Split(headers, "\n") {
				name, value, _ := strings.Cut(line, ":")
				req.Headers = append(req.Headers, HeaderValue{Name: name, Value: strings.TrimSpace(value)})
			}
		}
		out, err := BuildContext(req)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID || e.Message == "" {
				t.Fatalf("BuildContext: error %v (%T) is not an EINVALID *Error", err, err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("BuildContext = %q: not valid JSON", out)
		}
		// The context nests no deeper than the body allows, plus the
		// wrapping object: every later walk over it stays bounded.
		if err := CheckJSON(out, MaxJSONDepth+1); err != nil {
			t.Fatalf("BuildContext = %q: %v", out, err)
		}
		root := gjson.ParseBytes(out)
		h, q, b := root.Get("headers"), root.Get("query"), root.Get("body")
		if !h.IsObject() || !q.IsObject() || !b.Exists() {
			t.Fatalf("BuildContext = %q: want headers and query objects and a body", out)
		}
		h.ForEach(func(k, v gjson.Result) bool {
			if k.Str != strings.ToLower(k.Str) || v.Type != gjson.String {
				t.Fatalf("BuildContext = %q: header %q = %s", out, k.Str, v.Raw)
			}
			return true
		})
		ctype := req.ContentType()
		trimmed := bytes.TrimSpace(body)
		switch {
		case len(trimmed) == 0 && isBlank(body):
			if b.Raw != "{}" {
				t.Fatalf("blank body gave %s", b.Raw)
			}
		case IsJSONContentType(ctype):
			// Kept byte for byte: big numbers and key order survive.
			if b.Raw != string(trimSpace(body)) {
				t.Fatalf("JSON body %q came out as %q", body, b.Raw)
			}
		case IsFormContentType(ctype), IsXMLContentType(ctype), IsMultipartContentType(ctype):
			if !b.IsObject() {
				t.Fatalf("%s body gave %s", ctype, b.Raw)
			}
		default:
			if b.Raw != "{}" {
				t.Fatalf("Content-Type %q gave body %s, want {}", ctype, b.Raw)
			}
		}
	})
}

// FuzzCheckJSON checks that CheckJSON survives any nesting without
// recursion (the input is wrapped in up to 65535 brackets) and agrees with
// encoding/json: it accepts exactly the valid JSON nested no deeper than
// the limit.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []struct {
		data string
		wrap uint16
		obj  bool
	}{
		{`{"a":[1,2,{"b":"c"}]}`, 0, false},
		{`1`, 127, false},
		{`1`, 128, false},
		{`[]`, 127, true},
		{`[]`, 128, true},
		{`"[[[[\"\\"`, 128, false},
		{`]]]]]]`, 200, false},
		{`{"a":"\ud800"}`, 3, false},
		{"\"\x00\"", 0, false},
		{"\"\xff\"", 0, false},
		{`01`, 0, false},
		{`1.`, 0, false},
		{`-`, 0, false},
		{`1e`, 0, false},
		{`tru`, 0, false},
		{`[1,]`, 0, false},
		{`{"a" 1}`, 0, false},
		{" \t\r\n1 \n", 0, false},
		{"\v1", 0, false},
		{`{"a":1}x`, 0, false},
		{`[`, 60000, false},
		{``, 65535, true},
	} {
		f.Add([]byte(s.data), s.wrap, s.obj)
	}
	f.Fuzz(func(t *testing.T, data []byte, wrap uint16, obj bool) {
		open, close := "[", "]"
		if obj {
			open, close = `{"k":`, "}"
		}
		b := make([]byte, 0, len(data)+int(wrap)*(len(open)+len(close)))
		for range wrap {
			b = append(b, open...)
		}
		b = append(b, data...)
		for range wrap {
			b = append(b, close...)
		}
		err := CheckJSON(b, MaxJSONDepth)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID {
				t.Fatalf("CheckJSON: error %v is not an EINVALID *Error", err)
			}
		}
		depth, valid := fzJSONDepth(b)
		switch want := valid && depth <= MaxJSONDepth; {
		case want && err != nil:
			t.Fatalf("CheckJSON(%q) = %v, but encoding/json finds valid JSON %d deep", fzShort(b), err, depth)
		case !want && err == nil:
			t.Fatalf("CheckJSON(%q) accepted input that encoding/json finds valid=%v, %d deep", fzShort(b), valid, depth)
		}
	})
}

// fzJSONDepth reports whether b is valid JSON per encoding/json and, if so,
// how deeply it nests. It walks tokens, which needs no recursion.
func fzJSONDepth(b []byte) (int, bool) {
	// encoding/json lets invalid UTF-8 through inside strings; JSON text is
	// UTF-8 (RFC 8259 §8.1), and CheckJSON holds to that.
	if !json.Valid(b) || !utf8.Valid(b) {
		return 0, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // a number beyond float64 is still valid JSON
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return deepest, true
		}
		if err != nil {
			return 0, false
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
			deepest = max(deepest, depth)
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
}

func fzShort(b []byte) string {
	if len(b) > 200 {
		return string(b[:100]) + "…" + string(b[len(b)-100:])
	}
	return string(b)
}

// FuzzParsePath checks the round trip between a path's text and its
// segments in both directions: text that parses prints back canonically and
// parses again to the same segments, and segments built from the input
// (split at NUL bytes; a run of digits is an index) print as text that
// parses back to them. Lookup of any parsed path must not panic.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		"a", "order.items[0].sku", "[0].event", `headers["x.y"]`, `a[""]`, `a["\u00e9\"]"]`,
		" a.b ", "a..b", "a.", ".a", "a[01]", "a[1048577]", "a[-1]", "a[", `a["b`, "a]b", "a{b}",
		"$context.body.x", strings.Repeat("a.", 63) + "a", strings.Repeat("a.", 64) + "a",
		"a\x00 b\x001\x00\x00c.d\x00[x]", "\xff\x00\u00a0", "a b\x00 lead\x00trail ",
	} {
		f.Add(s)
	}
	doc := gjson.Parse(`{"a":[{"b":1},{"b":[2,3]},{"c":{"":4}}],"a.b":{"x.y":5},"":{"":6},"0":[7]}`)
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := ParsePath(s); err != nil {
			if ErrorCode(err) != EINVALID || ErrorMessage(err) == "" {
				t.Fatalf("ParsePath(%q): error %v is not an EINVALID *Error", s, err)
			}
		} else {
			if len(p) == 0 || len(p) > MaxPathSegments {
				t.Fatalf("ParsePath(%q) has %d segments", s, len(p))
			}
			text := p.String()
			q, err := ParsePath(text)
			if err != nil {
				t.Fatalf("ParsePath(%q) prints as %q, which does not parse: %v", s, text, err)
			}
			if !fzSamePath(p, q) {
				t.Fatalf("ParsePath(%q) = %#v prints as %q, which parses to %#v", s, p, text, q)
			}
			if again := q.String(); again != text {
				t.Fatalf("canonical text %q prints back as %q", text, again)
			}
			_ = p.Lookup(doc)
		}

		// Segments to text and back.
		var p Path
		for _, part := range strings.Split(s, "\x00") {
			if len(p) == MaxPathSegments {
				break
			}
			if n, ok := fzIndex(part); ok {
				p = append(p, Segment{Index: n, IsIndex: true})
			} else {
				p = append(p, Segment{Key: part})
			}
		}
		text := p.String()
		q, err := ParsePath(text)
		if err != nil {
			t.Fatalf("%#v prints as %q, which does not parse: %v", p, text, err)
		}
		if !fzSamePath(p, q) {
			t.Fatalf("%#v prints as %q, which parses to %#v", p, text, q)
		}
	})
}

// fzIndex reads a canonical array index (no sign, no leading zero, within
// the limit ParsePath accepts).
func fzIndex(s string) (int, bool) {
	if s == "" || len(s) > 7 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n <= maxArrayIndex
}

func fzSamePath(a, b Path) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
