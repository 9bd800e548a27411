package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// ctxJSONTokens lists the tokens of a JSON value with their types, numbers as
// written: two values with equal token lists are equal, key order and big
// numbers included.
func ctxJSONTokens(tb testing.TB, raw []byte) []string {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			tb.Fatalf("tokens of %.200s: %v", raw, err)
		}
		out = append(out, fmt.Sprintf("%T:%v", tok, tok))
	}
}

func ctxSameJSON(tb testing.TB, got, want []byte) bool {
	tb.Helper()
	g, w := ctxJSONTokens(tb, got), ctxJSONTokens(tb, want)
	return strings.Join(g, "\x00") == strings.Join(w, "\x00")
}

func ctxSample(tb testing.TB, name, file string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "samples", name, file))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func ctxRequest(ct, body string) *Request {
	return &Request{Method: "POST", Headers: []HeaderValue{{"Content-Type", ct}}, Body: []byte(body)}
}

func TestBuildContextJSON(t *testing.T) {
	t.Parallel()
	shopify := ctxSample(t, "shopify-orders-create", "body.json")
	for _, tc := range []struct {
		name, ct string
		body     []byte
		want     string // the body part of the context
	}{
		{"shopify big ints byte-exact", "application/json", shopify, string(bytes.TrimSpace(shopify))},
		{"charset", "application/json; charset=utf-8", []byte(`{"a": 1}`), `{"a": 1}`},
		{"upper case type", "Application/JSON", []byte(`[1, 2]`), `[1, 2]`},
		{"+json", "application/vnd.api+json", []byte(`{"data":{"id":"1"}}`), `{"data":{"id":"1"}}`},
		{"cloudevents with params", "application/cloudevents+json; charset=UTF-8", []byte(` "s" `), `"s"`},
		{"scalar", "application/json", []byte("12345678901234567891\n"), `12345678901234567891`},
		{"null", "application/json", []byte(`null`), `null`},
		{"empty JSON body", "application/json", nil, `{}`},
		{"blank JSON body", "application/json", []byte(" \r\n\t"), `{}`},
		{"text/plain", "text/plain", []byte(`{"a":1}`), `{}`},
		{"no content type", "", []byte(`{"a":1}`), `{}`},
		{"octet-stream", "application/octet-stream", []byte{0xff, 0x00, 0x01}, `{}`},
		{"xml (part two: parsed)", "application/xml", []byte(`<a>1</a>`), `{"a":"1"}`},
		{"plain text", "text/plain", []byte(`<a>1</a>`), `{}`},
		{"json-ish but not json type", "application/jsonx", []byte(`not json`), `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := &Request{Method: "POST", Body: tc.body}
			if tc.ct != "" {
				req.Headers = []HeaderValue{{"Content-Type", tc.ct}}
			}
			ctx, err := BuildContext(req)
			if err != nil {
				t.Fatalf("BuildContext: %v", err)
			}
			if !json.Valid(ctx) {
				t.Fatalf("context is not JSON: %s", ctx)
			}
			if got := gjson.GetBytes(ctx, "body").Raw; got != tc.want {
				t.Errorf("body\n got %.300s\nwant %.300s", got, tc.want)
			}
			if got := docKeys(ctx); strings.Join(got, ",") != "headers,query,body" {
				t.Errorf("context keys %v", got)
			}
		})
	}

	ctx, err := BuildContext(ctxRequest("application/json", string(shopify)))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"body.id":                          "820982911946154508",
		"body.line_items.0.id":             "866550311766439020",
		"body.line_items.1.id":             "141249953214522974",
		"body.customer.id":                 "115310627314723954",
		"body.customer.default_address.id": "715243470612851245",
	} {
		if got := gjson.GetBytes(ctx, path).Raw; got != want {
			t.Errorf("%s = %s, want %s", path, got, want)
		}
	}
}

func TestBuildContextInvalidJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ ct, body string }{
		{"application/json", `{"a":`},
		{"application/json; charset=utf-8", `{'a':1}`},
		{"application/vnd.github+json", `ok`},
		{"application/json", `{"a":1} trailing`},
		{"application/json", `{"a":1}{"b":2}`},
		{"application/json", strings.Repeat("[", MaxJSONDepth+1) + strings.Repeat("]", MaxJSONDepth+1)},
		// JSON text is UTF-8 (RFC 8259 §8.1): invalid bytes inside a string
		// are refused, not stored to be served later as invalid JSON.
		{"application/json", "{\"a\":\"\xff\"}"},
		{"application/json", "{\"a\xc0\":1}"},
		{"application/json", "[\"ok\",\"\xed\xa0\x80\"]"}, // an encoded surrogate
		{"application/json", "\"\xe2\x82\""},              // cut short
	} {
		_, err := BuildContext(ctxRequest(tc.ct, tc.body))
		if ErrorCode(err) != EINVALID {
			t.Errorf("%s %q: error %v (%s), want %s", tc.ct, tc.body, err, ErrorCode(err), EINVALID)
			continue
		}
		if msg := ErrorMessage(err); !strings.Contains(msg, "JSON") {
			t.Errorf("%s %q: message %q does not say JSON", tc.ct, tc.body, msg)
		}
	}
}

func TestBuildContextFormSamples(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"paypal-ipn", "slack-slash-command", "twilio-sms"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var meta struct{ ContentType string }
			if err := json.Unmarshal(ctxSample(t, name, "meta.json"), &meta); err != nil {
				t.Fatal(err)
			}
			body := ctxSample(t, name, "body.form")
			ctx, err := BuildContext(ctxRequest(meta.ContentType, string(body)))
			if err != nil {
				t.Fatalf("BuildContext: %v", err)
			}
			got := []byte(gjson.GetBytes(ctx, "body").Raw)
			want := ctxSample(t, name, "expect-body.json")
			if !ctxSameJSON(t, got, want) {
				t.Errorf("body\n got %s\nwant %s", got, docCompact(t, string(want)))
			}
		})
	}
	// Charset parameters and case do not hide a form.
	ctx, err := BuildContext(ctxRequest("Application/X-WWW-Form-Urlencoded; charset=UTF-8", "b=2&a[]=1&a[]=x+y"))
	if err != nil {
		t.Fatal(err)
	}
	if got := gjson.GetBytes(ctx, "body").Raw; got != `{"b":"2","a":["1","x y"]}` {
		t.Errorf("form body %s", got)
	}
}

func TestBuildContextHeadersAndQuery(t *testing.T) {
	t.Parallel()
	req := &Request{
		Method: "POST",
		Headers: []HeaderValue{
			{"Content-Type", "application/json"},
			{"X-Request-Id", "r1"},
			{"Accept", "text/plain"},
			{"x-request-id", "r2"},
			{"X-Quote", `a"b\c`},
			{"ACCEPT", "application/json"},
		},
		Query: "source=shop&a[b]=1&c=1&c=2&query[0][a]=x+y&e=%2B1",
		Body:  []byte(`{}`),
	}
	ctx, err := BuildContext(req)
	if err != nil {
		t.Fatal(err)
	}
	wantHeaders := `{"content-type":"application/json","x-request-id":"r1, r2","accept":"text/plain, application/json","x-quote":"a\"b\\c"}`
	if got := gjson.GetBytes(ctx, "headers").Raw; got != wantHeaders {
		t.Errorf("headers\n got %s\nwant %s", got, wantHeaders)
	}
	wantQuery := `{"source":"shop","a":{"b":"1"},"c":["1","2"],"query":[{"a":"x y"}],"e":"+1"}`
	if got := gjson.GetBytes(ctx, "query").Raw; got != wantQuery {
		t.Errorf("query\n got %s\nwant %s", got, wantQuery)
	}
	if got := string(ctx); got != `{"headers":`+wantHeaders+`,"query":`+wantQuery+`,"body":{}}` {
		t.Errorf("context %s", got)
	}

	// No headers, no query.
	ctx, err = BuildContext(&Request{Method: "POST"})
	if err != nil || string(ctx) != `{"headers":{},"query":{},"body":{}}` {
		t.Errorf("empty request: %s %v", ctx, err)
	}
}

func TestBuildContextTooManyHeaders(t *testing.T) {
	t.Parallel()
	headers := make([]HeaderValue, MaxHeaderCount)
	for i := range headers {
		headers[i] = HeaderValue{"X-H" + itoa(i), "v"}
	}
	if _, err := BuildContext(&Request{Method: "POST", Headers: headers}); err != nil {
		t.Errorf("%d headers: %v", len(headers), err)
	}
	headers = append(headers, HeaderValue{"X-One-Too-Many", "v"})
	_, err := BuildContext(&Request{Method: "POST", Headers: headers})
	if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), "headers") {
		t.Errorf("%d headers: %v, want EINVALID about headers", len(headers), err)
	}
}

func TestContentTypes(t *testing.T) {
	t.Parallel()
	for ct, want := range map[string][2]bool{
		"application/json":                                       {true, false},
		" application/json ; charset=utf-8":                      {true, false},
		"application/problem+json":                               {true, false},
		"APPLICATION/LD+JSON":                                    {true, false},
		"text/json":                                              {false, false},
		"application/x-www-form-urlencoded":                      {false, true},
		"application/x-www-form-urlencoded;charset=windows-1252": {false, true},
		"multipart/form-data; boundary=x":                        {false, false},
		"":                                                       {false, false},
	} {
		if got := [2]bool{IsJSONContentType(ct), IsFormContentType(ct)}; got != want {
			t.Errorf("%q: json, form = %v, want %v", ct, got, want)
		}
	}
}

// TestBuildContextValidUTF8 checks that every context is valid UTF-8 JSON,
// whatever bytes the query, the headers or a form body carry: the API
// serves it as it is stored (issue 12, point 6).
func TestBuildContextValidUTF8(t *testing.T) {
	t.Parallel()
	for _, req := range []*Request{
		{Method: "POST", Query: "a=%ff&b%fe=1&c=\xff", Headers: []HeaderValue{{"X-Latin1", "caf\xe9"}, {"X-\xff", "v"}}},
		ctxRequest("application/x-www-form-urlencoded", "a=%ff%fe&b[%c0]=1&c=\xff"),
		ctxRequest("text/plain", "\xff\xfe"),
		ctxRequest("application/json", `{"a":"\ud800","b":"\u00e9"}`),
	} {
		ctx, err := BuildContext(req)
		if err != nil {
			t.Errorf("%+v: %v", req, err)
			continue
		}
		if !utf8.Valid(ctx) || !json.Valid(ctx) {
			t.Errorf("%+v: context %q is not valid UTF-8 JSON", req, ctx)
		}
	}
}
