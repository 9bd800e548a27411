package engine

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func renderReply(t *testing.T, r *Reply, s *Scope) *Response {
	t.Helper()
	c, err := CompileReply(r, "trigger.response")
	if err != nil {
		t.Fatalf("CompileReply: %v", err)
	}
	resp, err := c.Render(s)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return resp
}

func TestReplyBodies(t *testing.T) {
	s := newTplTestScope()
	for _, tc := range []struct {
		name, body    string // JSON as configured; "" is absent
		contentType   string
		want          string
		wantJSONValid bool
	}{
		{"text", `"ok"`, replyTextPlain, "ok", false},
		{"text with escapes", `"a\"b\nc"`, replyTextPlain, "a\"b\nc", false},
		{"text template", `"Order {{$context.body.order.id}} is {{$context.body.order.status}}"`, replyTextPlain, "Order 5678901234567890123 is paid", false},
		{"single string", `"{{$context.body.order.customer.name}}"`, replyTextPlain, `Zoë "Z" O'Neil`, false},
		{"single big number", `"{{$context.body.order.id}}"`, replyJSON, "5678901234567890123", true},
		{"single object", `"{{$context.body.order.customer}}"`, replyJSON, `{"name":"Zoë \"Z\" O'Neil","email":"z@example.com"}`, true},
		{"single missing", `"{{$context.body.nope}}"`, replyJSON, "null", true},
		{"interpolated missing", `"[{{$context.body.nope}}]"`, replyTextPlain, "[]", false},
		{"§9 object", `{"ok": true, "id": "{{$context.body.order.id}}"}`, replyJSON, `{"ok":true,"id":5678901234567890123}`, true},
		{"static object", `{"ok": false}`, replyJSON, `{"ok":false}`, true},
		{"big literal", `{"id": 12345678901234567891, "f": 1.10}`, replyJSON, `{"id":12345678901234567891,"f":1.10}`, true},
		{"array", `["{{$context.body.order.items.sku}}", "{{$system.executionId}}"]`, replyJSON, `[["A1","B2"],42]`, true},
		{"number", `201`, replyJSON, "201", true},
		{"boolean", `true`, replyJSON, "true", true},
		{"absent", ``, replyTextPlain, "", false},
		{"null", `null`, replyTextPlain, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := renderReply(t, &Reply{Status: 201, Body: json.RawMessage(tc.body)}, s)
			if resp.Status != 201 || resp.ContentType != tc.contentType || string(resp.Body) != tc.want {
				t.Errorf("got %d %q %q, want 201 %q %q", resp.Status, resp.ContentType, resp.Body, tc.contentType, tc.want)
			}
			if tc.wantJSONValid && !json.Valid(resp.Body) {
				t.Errorf("invalid JSON body %q", resp.Body)
			}
		})
	}
}

func TestReplyDefaults(t *testing.T) {
	s := newTplTestScope()
	resp := renderReply(t, nil, s)
	if resp.Status != 200 || resp.ContentType != replyTextPlain || string(resp.Body) != "ok" || len(resp.Headers) != 0 {
		t.Errorf("nil reply: %+v %q", resp, resp.Body)
	}
	resp = renderReply(t, &Reply{}, s)
	if resp.Status != 200 || resp.ContentType != replyTextPlain || string(resp.Body) != "" {
		t.Errorf("zero reply: %+v %q", resp, resp.Body)
	}
	// A shared static body must not be writable through an append.
	c, _ := CompileReply(&Reply{Body: json.RawMessage(`"ok"`)}, "x")
	r1, _ := c.Render(s)
	_ = append(r1.Body, '!')
	r2, _ := c.Render(s)
	if string(r2.Body) != "ok" {
		t.Errorf("static body changed: %q", r2.Body)
	}
}

func TestReplyHeaders(t *testing.T) {
	s := NewScope([]byte(`{"headers":{"x-evil":"a\r\nSet-Cookie: x=1\u0000"},"body":{"order":{"id":5678901234567890123},"xml":"text/xml"}}`))
	resp := renderReply(t, &Reply{
		Status: 200,
		Headers: []ReplyHeader{
			{Name: "X-Order", Value: "{{$context.body.order.id}}"},
			{Name: "X-Echo", Value: "v={{$context.headers.x-evil}}"},
			{Name: "X-Missing", Value: "{{$context.body.nope}}"},
			{Name: "X-Static", Value: "fixed\tvalue"},
			{Name: "content-type", Value: "{{$context.body.xml}}; charset=utf-8"},
		},
		Body: json.RawMessage(`"<Response/>"`),
	}, s)
	want := []HeaderValue{
		{"X-Order", "5678901234567890123"},
		{"X-Echo", "v=aSet-Cookie: x=1"},
		{"X-Missing", ""},
		{"X-Static", "fixed\tvalue"},
	}
	if len(resp.Headers) != len(want) {
		t.Fatalf("headers %+v", resp.Headers)
	}
	for i := range want {
		if resp.Headers[i] != want[i] {
			t.Errorf("header %d = %+v, want %+v", i, resp.Headers[i], want[i])
		}
	}
	if resp.ContentType != "text/xml; charset=utf-8" || string(resp.Body) != "<Response/>" {
		t.Errorf("content type %q body %q", resp.ContentType, resp.Body)
	}
	// An empty rendered Content-Type keeps the derived one.
	resp = renderReply(t, &Reply{Headers: []ReplyHeader{{Name: "Content-Type", Value: "{{$context.body.nope}}"}}, Body: json.RawMessage(`{}`)}, s)
	if resp.ContentType != replyJSON || len(resp.Headers) != 0 {
		t.Errorf("empty content type header: %+v", resp)
	}
}

func TestReplyErrors(t *testing.T) {
	for _, tc := range []struct {
		reply Reply
		want  string
	}{
		{Reply{Status: 700}, "trigger.response.status: must be between 200 and 599, got 700"},
		{Reply{Status: 199}, "trigger.response.status: must be between 200 and 599, got 199"},
		{Reply{Headers: []ReplyHeader{{Name: "X Bad", Value: "v"}}}, `trigger.response.headers[0].name: "X Bad" is not a valid header name`},
		{Reply{Headers: []ReplyHeader{{Name: "X-A", Value: "a"}, {Name: "X-B", Value: "{{$context.a"}}}, "trigger.response.headers[1].value: unterminated {{"},
		{Reply{Headers: []ReplyHeader{{Name: "X-A", Value: "a\nb"}}}, "trigger.response.headers[0].value: must not contain line breaks"},
		{Reply{Body: json.RawMessage(`{"items": ["{{"]}`)}, "trigger.response.body.items[0]: unterminated {{"},
		{Reply{Body: json.RawMessage(`"{{foo}}"`)}, "trigger.response.body: invalid placeholder {{foo}}: a path must start with $context, $jobsMapByNodeKey or $system"},
		{Reply{Body: json.RawMessage(`{"a":`)}, "trigger.response.body: invalid JSON"},
		// Headers a flow must not set (issue 12, point 2): a cookie would
		// apply to the admin UI's site; framing headers are the server's;
		// the security headers of webhook replies cannot be weakened.
		{Reply{Headers: []ReplyHeader{{Name: "Set-Cookie", Value: "{{$context.query.c}}"}}}, "trigger.response.headers[0].name: Set-Cookie is not allowed in webhook replies"},
		{Reply{Headers: []ReplyHeader{{Name: "X-A", Value: "a"}, {Name: "set-cookie", Value: "a=b"}}}, "trigger.response.headers[1].name: Set-Cookie is not allowed in webhook replies"},
		{Reply{Headers: []ReplyHeader{{Name: "Set-Cookie2", Value: "a=b"}}}, "trigger.response.headers[0].name: Set-Cookie2 is not allowed in webhook replies"},
		{Reply{Headers: []ReplyHeader{{Name: "Content-Length", Value: "0"}}}, "trigger.response.headers[0].name: Content-Length is not allowed in webhook replies"},
		{Reply{Headers: []ReplyHeader{{Name: "TRANSFER-ENCODING", Value: "chunked"}}}, "trigger.response.headers[0].name: Transfer-Encoding is not allowed in webhook replies"},
		{Reply{Headers: []ReplyHeader{{Name: "Connection", Value: "close"}}}, "trigger.response.headers[0].name: Connection is not allowed in webhook replies"},
		{Reply{Headers: []ReplyHeader{{Name: "Keep-Alive", Value: "timeout=5"}}}, "trigger.response.headers[0].name: Keep-Alive is not allowed in webhook replies"},
		{Reply{Headers: []ReplyHeader{{Name: "Upgrade", Value: "h2c"}}}, "trigger.response.headers[0].name: Upgrade is not allowed in webhook replies"},
		{Reply{Headers: []ReplyHeader{{Name: "Trailer", Value: "X"}}}, "trigger.response.headers[0].name: Trailer is not allowed in webhook replies"},
		{Reply{Headers: []ReplyHeader{{Name: "Content-Security-Policy", Value: "default-src *"}}}, "trigger.response.headers[0].name: Content-Security-Policy is not allowed in webhook replies"},
		{Reply{Headers: []ReplyHeader{{Name: "X-Content-Type-Options", Value: "none"}}}, "trigger.response.headers[0].name: X-Content-Type-Options is not allowed in webhook replies"},
		{Reply{Headers: []ReplyHeader{{Name: "Strict-Transport-Security", Value: "max-age=0"}}}, "trigger.response.headers[0].name: Strict-Transport-Security is not allowed in webhook replies"},
		{Reply{Headers: []ReplyHeader{{Name: "Clear-Site-Data", Value: `"*"`}}}, "trigger.response.headers[0].name: Clear-Site-Data is not allowed in webhook replies"},
	} {
		_, err := CompileReply(&tc.reply, "trigger.response")
		if err == nil || ErrorCode(err) != EINVALID || err.Error() != tc.want {
			t.Errorf("%+v: got %v, want %q", tc.reply, err, tc.want)
		}
	}
}

func TestReplyTooLarge(t *testing.T) {
	big := strings.Repeat("x", 600<<10)
	s := NewScope([]byte(`{"body":{"s":"` + big + `","h":"` + strings.Repeat("h", 5000) + `"}}`))
	for _, r := range []Reply{
		{Body: json.RawMessage(`{"a":"{{$context.body.s}}","b":"{{$context.body.s}}"}`)},
		{Body: json.RawMessage(`"{{$context.body.s}}{{$context.body.s}}"`)},
		{Headers: []ReplyHeader{{Name: "X-H", Value: "{{$context.body.h}}{{$context.body.h}}"}}},
	} {
		c, err := CompileReply(&r, "config")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Render(s); ErrorCode(err) != ETOOLARGE {
			t.Errorf("%+v: err %v, want too_large", r.Headers, err)
		}
	}
}

func TestResponseNode(t *testing.T) {
	kind, _ := NodeKindFor("response")
	n := &Node{Key: "ok", Type: "response", Config: json.RawMessage(`{"status": 201,
		"headers": [{"name": "X-Order", "value": "{{$context.body.order.id}}"}],
		"body": {"ok": true, "id": "{{$context.body.order.id}}"}}`)}
	if _, err := kind.Compile(n, CompileEnv{Mode: ModeAsync}); err == nil || err.Error() != "type: response nodes are only allowed in sync workflows" {
		t.Errorf("async: %v", err)
	}
	step, err := kind.Compile(n, CompileEnv{Mode: ModeSync})
	if err != nil {
		t.Fatal(err)
	}
	if step.Branches() != nil {
		t.Error("response node has branches")
	}
	out, err := step.Run(context.Background(), newTplTestScope())
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Result) != `{"status":201}` || out.Response == nil || out.Branch != "" || out.End != "" {
		t.Fatalf("outcome %+v", out)
	}
	if r := out.Response; r.Status != 201 || r.ContentType != replyJSON || string(r.Body) != `{"ok":true,"id":5678901234567890123}` ||
		len(r.Headers) != 1 || r.Headers[0] != (HeaderValue{"X-Order", "5678901234567890123"}) {
		t.Errorf("response %+v %s", r, r.Body)
	}
	for config, want := range map[string]string{
		`{"status": "200"}`: "config.status: expected a number, got string",
		`{"status": 99}`:    "config.status: must be between 200 and 599, got 99",
		`[1]`:               "config: must be an object with status, headers and body",
		`{"body": "{{x}}"}`: "config.body: invalid placeholder {{x}}: a path must start with $context, $jobsMapByNodeKey or $system",
		`{"headers": [{"name": "X", "value": "{{"}]}`: "config.headers[0].value: unterminated {{",
	} {
		_, err := kind.Compile(&Node{Config: json.RawMessage(config)}, CompileEnv{Mode: ModeSync})
		if err == nil || ErrorCode(err) != EINVALID || err.Error() != want {
			t.Errorf("%s: got %v, want %q", config, err, want)
		}
	}
	// No config is the default reply.
	step, err = kind.Compile(&Node{}, CompileEnv{Mode: ModeSync})
	if err != nil {
		t.Fatal(err)
	}
	out, _ = step.Run(context.Background(), newTplTestScope())
	if out.Response.Status != 200 || string(out.Response.Body) != "ok" {
		t.Errorf("default response %+v", out.Response)
	}
}

func TestEndNode(t *testing.T) {
	kind, _ := NodeKindFor("end")
	for config, want := range map[string]ExecStatus{
		``:                       StatusResolved,
		`null`:                   StatusResolved,
		`{}`:                     StatusResolved,
		`{"status": null}`:       StatusResolved,
		`{"status": "resolved"}`: StatusResolved,
		`{"status": "failed"}`:   StatusFailed,
	} {
		step, err := kind.Compile(&Node{Config: json.RawMessage(config)}, CompileEnv{Mode: ModeAsync})
		if err != nil {
			t.Fatalf("%s: %v", config, err)
		}
		out, _ := step.Run(context.Background(), nil)
		if out.End != want || string(out.Result) != `{"status":"`+string(want)+`"}` || step.Branches() != nil {
			t.Errorf("%s: outcome %+v %s", config, out, out.Result)
		}
	}
	for config, want := range map[string]string{
		`{"status": "error"}`: `config.status: must be "resolved" or "failed"`,
		`{"status": 1}`:       `config.status: must be "resolved" or "failed"`,
		`"failed"`:            `config: must be an object such as {"status": "resolved"}`,
	} {
		_, err := kind.Compile(&Node{Config: json.RawMessage(config)}, CompileEnv{Mode: ModeSync})
		if err == nil || ErrorCode(err) != EINVALID || err.Error() != want {
			t.Errorf("%s: got %v, want %q", config, err, want)
		}
	}
}

// A reply without placeholders is rendered once, when compiled; one with
// placeholders is rendered per execution.
func TestReplyFixedRenderedOnce(t *testing.T) {
	def, err := CompileReply(nil, "trigger.response")
	if err != nil {
		t.Fatal(err)
	}
	a, err := def.Render(NewScope([]byte(`{}`)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := def.Render(nil) // a fixed reply never reads the scope
	if a != b || a != def.Fixed() || a.Status != 200 || string(a.Body) != "ok" || a.ContentType != "text/plain; charset=utf-8" {
		t.Errorf("default reply %+v / %+v", a, b)
	}
	fixed, err := CompileReply(&Reply{Status: 202, Headers: []ReplyHeader{{Name: "X-A", Value: "1"}, {Name: "Content-Type", Value: "application/xml"}},
		Body: []byte(`"<ok/>"`)}, "trigger.response")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := fixed.Render(nil)
	if fixed.fixed == nil || r.Status != 202 || len(r.Headers) != 1 || r.Headers[0].Value != "1" || r.ContentType != "application/xml" || string(r.Body) != "<ok/>" {
		t.Errorf("fixed reply %+v", r)
	}
	tpl, err := CompileReply(&Reply{Status: 200, Headers: []ReplyHeader{{Name: "X-Id", Value: "{{$context.body.id}}"}}}, "trigger.response")
	if err != nil {
		t.Fatal(err)
	}
	if tpl.fixed != nil || tpl.Fixed() != nil {
		t.Error("a templated header was rendered once")
	}
	for _, id := range []string{"1", "2"} {
		r, err := tpl.Render(NewScope([]byte(`{"body":{"id":` + id + `}}`)))
		if err != nil || r.Headers[0].Value != id {
			t.Errorf("templated reply %+v %v", r, err)
		}
	}
}
