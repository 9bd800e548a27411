package engine

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// fakeOutbound answers calls from a script, one reply (or error) per call,
// and records what it was sent. The real HTTP client is tested against real
// loopback servers in engine/outbound and in web's act tests; this one
// makes the node's own logic (retries, waits, results) exact to test.
type fakeOutbound struct {
	mu      sync.Mutex
	replies []fakeReply
	calls   []*OutboundRequest
}

type fakeReply struct {
	resp *OutboundResponse
	err  error
	// block, when set, waits for the context instead of answering.
	block bool
}

func (f *fakeOutbound) Do(ctx context.Context, r *OutboundRequest) (*OutboundResponse, error) {
	f.mu.Lock()
	f.calls = append(f.calls, r)
	var next fakeReply
	if len(f.replies) > 0 {
		next, f.replies = f.replies[0], f.replies[1:]
	} else {
		next = fakeReply{resp: &OutboundResponse{Status: 200}}
	}
	f.mu.Unlock()
	if next.block {
		<-ctx.Done()
		return nil, Errorf(OutboundTimeout, "timed out")
	}
	return next.resp, next.err
}

func reply(status int, body string, headers ...HeaderValue) fakeReply {
	return fakeReply{resp: &OutboundResponse{Status: status, Body: []byte(body), Headers: headers}}
}

func flowAsyncDoc(nodes string) string {
	return `{"title":"t","mode":"async","trigger":{},"nodes":` + nodes + `}`
}

func actScope(out Outbound, inline bool) *Scope {
	s := NewScope([]byte(`{"headers":{},"query":{},"body":{"order":{"id":12345678901234567891,"status":"paid"},"remindAt":"2030-01-02T03:04:05Z"}}`))
	s.ExecutionID = 4242
	s.Env = &RunEnv{Outbound: out, UserAgent: "Hookflow/test", Inline: inline}
	return s
}

func header(hs []HeaderValue, name string) (string, bool) {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

func TestRequestNodeCompileErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ config, want string }{
		{`{}`, "nodes[0].config.method: required"},
		{`{"method":"FETCH","url":"https://x"}`, `nodes[0].config.method: "FETCH" is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS`},
		{`{"method":"POST"}`, "nodes[0].config.url: required"},
		{`{"method":"POST","url":"ftp://x/y"}`, `nodes[0].config.url: unsupported scheme "ftp" (use http or https)`},
		{`{"method":"POST","url":"/relative"}`, "nodes[0].config.url: must be an absolute URL starting with http:// or https://"},
		{`{"method":"POST","url":"mailto:{{$context.body.x}}"}`, "nodes[0].config.url: must start with http:// or https://"},
		{`{"method":"POST","url":"https://x/{{$nope.a}}"}`, "nodes[0].config.url: "},
		{`{"method":"POST","url":"https://x","headers":[{"name":"Content-Length","value":"1"}]}`, "nodes[0].config.headers[0].name: Content-Length is set by HTTP itself"},
		{`{"method":"POST","url":"https://x","headers":[{"name":"bad name","value":"1"}]}`, "nodes[0].config.headers[0].name:"},
		{`{"method":"POST","url":"https://x","timeoutSeconds":301}`, "nodes[0].config.timeoutSeconds: must be more than 0 and at most 300"},
		{`{"method":"POST","url":"https://x","retry":{"attempts":21}}`, "nodes[0].config.retry.attempts: must be from 1 (no retry) to 20"},
		{`{"method":"POST","url":"https://x","retry":{"attempts":3,"backoffSeconds":10,"maxBackoffSeconds":5}}`, "nodes[0].config.retry.maxBackoffSeconds: must not be less than backoffSeconds"},
		{`{"method":"POST","url":"https://x","retry":{"attempts":"3"}}`, "nodes[0].config.retry.attempts: expected a number"},
	} {
		_, err := ParseDocument([]byte(flowAsyncDoc(`[{"key":"n","type":"request","config":` + tc.config + `}]`)))
		if err == nil || !strings.HasPrefix(ErrorMessage(err), tc.want) {
			t.Errorf("%s: error %v, want prefix %q", tc.config, err, tc.want)
		}
	}
}

// TestRequestNodeSends: the call carries the rendered URL, headers and body,
// the User-Agent and an Idempotency-Key of execution id and node key; the
// result is §13's shape with the reply's JSON body parsed (big numbers
// exact), and the recorded request has its secrets redacted.
func TestRequestNodeSends(t *testing.T) {
	t.Parallel()
	out := &fakeOutbound{replies: []fakeReply{reply(201, `{"id":98765432109876543210,"ok":true}`,
		HeaderValue{Name: "content-type", Value: "application/json; charset=utf-8"}, HeaderValue{Name: "x-b", Value: "1"}, HeaderValue{Name: "x-b", Value: "2"})}}
	f := compileFlow(t, flowAsyncDoc(`[{"key":"notify","type":"request","config":{
		"method":"post","url":"https://api.example.com/orders/{{$context.body.order.id}}?api_key=s3cr3t&x=1",
		"headers":[{"name":"Authorization","value":"Bearer tok-{{$context.body.order.status}}"},{"name":"X-Plain","value":"v"}],
		"body":{"status":"{{$context.body.order.status}}","id":"{{$context.body.order.id}}"}}},
		{"key":"after","type":"set","config":{"value":{"id":"{{$jobsMapByNodeKey.notify.body.id}}","st":"{{$jobsMapByNodeKey.notify.status}}"}}}]`))
	r := f.Run(context.Background(), actScope(out, false))
	if r.Status != StatusResolved || len(r.Jobs) != 2 {
		t.Fatalf("status %s error %q jobs %+v", r.Status, r.Error, r.Jobs)
	}
	if len(out.calls) != 1 {
		t.Fatalf("%d calls", len(out.calls))
	}
	c := out.calls[0]
	if c.Method != "POST" || c.URL != "https://api.example.com/orders/12345678901234567891?api_key=s3cr3t&x=1" || string(c.Body) != `{"status":"paid","id":12345678901234567891}` {
		t.Errorf("call %s %s %s", c.Method, c.URL, c.Body)
	}
	for name, want := range map[string]string{"User-Agent": "Hookflow/test", "Idempotency-Key": "4242-notify", "Content-Type": "application/json", "Authorization": "Bearer tok-paid", "X-Plain": "v"} {
		if got, _ := header(c.Headers, name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	if c.Timeout != DefaultRequestTimeout || c.MaxBody != DefaultOutboundMaxBody {
		t.Errorf("timeout %v max body %d", c.Timeout, c.MaxBody)
	}
	res := gjson.ParseBytes(r.Jobs[0].Result)
	if !res.Get("ok").Bool() || res.Get("status").Int() != 201 || res.Get("body.id").Raw != "98765432109876543210" ||
		res.Get("headers.x-b").Str != "1, 2" || res.Get("attempts").Int() != 1 || !res.Get("durationMs").Exists() {
		t.Errorf("result %s", r.Jobs[0].Result)
	}
	if got := string(r.Jobs[1].Result); got != `{"id":98765432109876543210,"st":201}` {
		t.Errorf("later node saw %s", got)
	}
	sent := r.Jobs[0].Request
	if sent == nil || strings.Contains(sent.URL, "s3cr3t") || !strings.Contains(sent.URL, "x=1") {
		t.Fatalf("recorded request %+v", sent)
	}
	if v, _ := header(sent.Headers, "Authorization"); v != "[redacted]" {
		t.Errorf("recorded Authorization %q, want it redacted", v)
	}
	if v, _ := header(sent.Headers, "X-Plain"); v != "v" {
		t.Errorf("recorded X-Plain %q", v)
	}
	if a := r.Jobs[0].Attempts; len(a) != 1 || a[0].Number != 1 || a[0].Status != 201 || a[0].Error != "" || a[0].Reply == nil {
		t.Errorf("attempts %+v", a)
	}
}

// TestRequestNodeBodies: a string body is text/plain, a configured
// Content-Type wins, no body sends none.
func TestRequestNodeBodies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ config, ctype, body string }{
		{`"body":"id={{$context.body.order.id}}"`, "text/plain; charset=utf-8", "id=12345678901234567891"},
		{`"body":"a=1","headers":[{"name":"content-type","value":"application/x-www-form-urlencoded"}]`, "application/x-www-form-urlencoded", "a=1"},
		{`"body":{"a":1}`, "application/json", `{"a":1}`},
		{`"method2":1`, "", ""},
	} {
		out := &fakeOutbound{}
		f := compileFlow(t, flowAsyncDoc(`[{"key":"n","type":"request","config":{"method":"PUT","url":"http://h/x",`+tc.config+`}}]`))
		if r := f.Run(context.Background(), actScope(out, false)); r.Status != StatusResolved {
			t.Fatalf("%s: %s %s", tc.config, r.Status, r.Error)
		}
		c := out.calls[0]
		ct, _ := header(c.Headers, "Content-Type")
		if ct != tc.ctype || string(c.Body) != tc.body {
			t.Errorf("%s: content type %q body %q, want %q %q", tc.config, ct, c.Body, tc.ctype, tc.body)
		}
	}
}

// TestRequestNodeRetriesInBackground: a retryable failure makes the node
// wait (the execution becomes a row due later); run again with its job as
// Prior, it continues the round, and a later success resolves it.
func TestRequestNodeRetriesInBackground(t *testing.T) {
	t.Parallel()
	out := &fakeOutbound{replies: []fakeReply{
		reply(503, "busy"),
		{err: Errorf(OutboundConnect, "connection refused by 127.0.0.1:9")},
		reply(200, "fine"),
	}}
	f := compileFlow(t, flowAsyncDoc(`[{"key":"n","type":"request","config":{"method":"POST","url":"http://h/x","retry":{"attempts":3,"backoffSeconds":10,"maxBackoffSeconds":15}}},
		{"key":"after","type":"set","config":{"value":"{{$jobsMapByNodeKey.n.attempts}}"}}]`))
	start := time.Now()
	r := f.Run(context.Background(), actScope(out, false))
	if r.Status != StatusWaiting || len(r.Jobs) != 1 || r.Jobs[0].Status != JobWaiting {
		t.Fatalf("after a 503: status %s jobs %+v", r.Status, r.Jobs)
	}
	// 10 s ± 20%.
	if d := r.WaitUntil.Sub(start); d < 8*time.Second || d > 12*time.Second+time.Second {
		t.Errorf("first wait %v, want about 10 s", d)
	}
	if j := r.Jobs[0]; !j.DueAt.Equal(r.WaitUntil) || j.Error != "attempt 1 of 3 failed: HTTP 503" || len(j.Attempts) != 1 || !j.Attempts[0].RetryAt.Equal(r.WaitUntil) {
		t.Errorf("waiting job %+v", j)
	}
	// Woken: attempt 2 fails to connect; the next wait is doubled, capped at 15 s.
	r2 := f.RunFrom(context.Background(), actScope(out, false), RunOptions{Prior: r.Jobs})
	if r2.Status != StatusWaiting || len(r2.Jobs[0].Attempts) != 2 || r2.Jobs[0].Attempts[1].Number != 2 {
		t.Fatalf("after attempt 2: %s %+v", r2.Status, r2.Jobs)
	}
	// 20 s capped at 15 s, less up to 20% of jitter, never above the cap.
	if d := time.Until(r2.WaitUntil); d < 12*time.Second-time.Second || d > 15*time.Second+time.Millisecond {
		t.Errorf("second wait %v, want 12–15 s", d)
	}
	r3 := f.RunFrom(context.Background(), actScope(out, false), RunOptions{Prior: r2.Jobs})
	if r3.Status != StatusResolved || len(r3.Jobs) != 2 || string(r3.Jobs[1].Result) != "3" {
		t.Fatalf("after attempt 3: %s %q %+v", r3.Status, r3.Error, r3.Jobs)
	}
	if j := r3.Jobs[0]; j.Status != JobResolved || j.Error != "" || len(j.Attempts) != 3 || gjson.GetBytes(j.Result, "attempts").Int() != 3 {
		t.Errorf("resolved job %+v", j)
	}
	// Every attempt carried the same Idempotency-Key.
	for i, c := range out.calls {
		if k, _ := header(c.Headers, "Idempotency-Key"); k != "4242-n" {
			t.Errorf("call %d: Idempotency-Key %q", i, k)
		}
	}
}

// TestRequestNodeFailures: what is retried and what fails at once, the
// failure result, continueOnFailure, and Retry-After.
func TestRequestNodeFailures(t *testing.T) {
	t.Parallel()
	node := func(extra string) *Flow {
		return compileFlow(t, flowAsyncDoc(`[{"key":"n","type":"request","config":{"method":"GET","url":"http://h/x","retry":{"attempts":5,"backoffSeconds":1,"maxBackoffSeconds":60}`+extra+`}},{"key":"next","type":"end"}]`))
	}
	for _, tc := range []struct {
		name  string
		reply fakeReply
		retry bool
	}{
		{"404 fails at once", reply(404, "no"), false},
		{"400 fails at once", reply(400, "bad"), false},
		{"408 is retried", reply(408, ""), true},
		{"429 is retried", reply(429, ""), true},
		{"500 is retried", reply(500, ""), true},
		{"timeout is retried", fakeReply{err: Errorf(OutboundTimeout, "timed out after 10s")}, true},
		{"connection error is retried", fakeReply{err: Errorf(OutboundConnect, "connection refused")}, true},
		{"refused address fails at once", fakeReply{err: Errorf(OutboundRefused, "address 10.0.0.1 refused by the outbound policy")}, false},
		{"bad redirect fails at once", fakeReply{err: Errorf(OutboundInvalid, "more than 5 redirects")}, false},
	} {
		r := node("").Run(context.Background(), actScope(&fakeOutbound{replies: []fakeReply{tc.reply}}, false))
		if got := r.Status == StatusWaiting; got != tc.retry {
			t.Errorf("%s: status %s, retried %v", tc.name, r.Status, got)
		}
		if !tc.retry {
			j := r.Jobs[0]
			if r.Status != StatusFailed || r.Error != "workflow failed at node n" || j.Status != JobFailed || len(r.Jobs) != 1 {
				t.Errorf("%s: %s %q %+v", tc.name, r.Status, r.Error, r.Jobs)
			}
			res := gjson.ParseBytes(j.Result)
			if res.Get("ok").Bool() || res.Get("attempts").Int() != 1 || res.Get("error").Str == "" {
				t.Errorf("%s: failure result %s", tc.name, j.Result)
			}
			if tc.reply.err != nil && res.Get("status").Type != gjson.Null {
				t.Errorf("%s: status %s, want null when no reply came", tc.name, res.Get("status").Raw)
			}
		}
	}
	// continueOnFailure: the failure is the result and the flow goes on.
	r := node(`,"continueOnFailure":true`).Run(context.Background(), actScope(&fakeOutbound{replies: []fakeReply{reply(422, `{"e":1}`, HeaderValue{Name: "content-type", Value: "application/json"})}}, false))
	if r.Status != StatusResolved || len(r.Jobs) != 2 || r.Jobs[0].Status != JobResolved || r.Jobs[0].Error != "HTTP 422" {
		t.Fatalf("continueOnFailure: %s %+v", r.Status, r.Jobs)
	}
	if res := gjson.ParseBytes(r.Jobs[0].Result); res.Get("ok").Bool() || res.Get("status").Int() != 422 || res.Get("body.e").Int() != 1 || res.Get("error").Str != "HTTP 422" {
		t.Errorf("continueOnFailure result %s", r.Jobs[0].Result)
	}
	// Retry-After (seconds) decides the wait, up to the maximum backoff.
	for ra, want := range map[string]time.Duration{"7": 7 * time.Second, "3600": 60 * time.Second} {
		r := node("").Run(context.Background(), actScope(&fakeOutbound{replies: []fakeReply{reply(503, "", HeaderValue{Name: "retry-after", Value: ra})}}, false))
		if d := time.Until(r.WaitUntil); d > want+time.Millisecond || d < want-2*time.Second {
			t.Errorf("Retry-After %s: wait %v, want %v", ra, d, want)
		}
	}
	date := time.Now().Add(20 * time.Second).UTC().Format(time.RFC1123)
	date = strings.Replace(date, "UTC", "GMT", 1)
	r = node("").Run(context.Background(), actScope(&fakeOutbound{replies: []fakeReply{reply(429, "", HeaderValue{Name: "retry-after", Value: date})}}, false))
	if d := time.Until(r.WaitUntil); d > 21*time.Second || d < 17*time.Second {
		t.Errorf("Retry-After as a date: wait %v, want about 20 s", d)
	}
}

// TestRequestNodeInlineRetries: in a sync run the node retries in place
// within the workflow's timeout, and fails when the next attempt would not
// fit.
func TestRequestNodeInlineRetries(t *testing.T) {
	t.Parallel()
	out := &fakeOutbound{replies: []fakeReply{reply(502, ""), reply(200, "ok")}}
	f := compileFlow(t, flowSyncDoc(`[{"key":"n","type":"request","config":{"method":"GET","url":"http://h/x","retry":{"attempts":3,"backoffSeconds":0.1}}}]`))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	r := f.Run(ctx, actScope(out, true))
	if r.Status != StatusResolved || len(out.calls) != 2 || len(r.Jobs[0].Attempts) != 2 {
		t.Fatalf("inline retry: %s %q calls %d jobs %+v", r.Status, r.Error, len(out.calls), r.Jobs)
	}
	if d := time.Since(start); d < 70*time.Millisecond {
		t.Errorf("retried after %v, before the backoff", d)
	}
	// Backoff of 10 s with 1 s left: no second attempt.
	out = &fakeOutbound{replies: []fakeReply{reply(503, "")}}
	f = compileFlow(t, flowSyncDoc(`[{"key":"n","type":"request","config":{"method":"GET","url":"http://h/x","retry":{"attempts":3,"backoffSeconds":10}}}]`))
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	r = f.Run(ctx2, actScope(out, true))
	if r.Status != StatusFailed || len(out.calls) != 1 || !strings.Contains(r.Jobs[0].Error, "no time left for another attempt") {
		t.Errorf("no time left: %s %+v", r.Status, r.Jobs)
	}
	// The workflow's deadline cuts a call short: aborted.
	out = &fakeOutbound{replies: []fakeReply{{block: true}}}
	ctx3, cancel3 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel3()
	r = f.Run(ctx3, actScope(out, true))
	if r.Status != StatusAborted || r.Jobs[0].Status != JobAborted || len(r.Jobs[0].Attempts) != 1 {
		t.Errorf("deadline: %s %+v", r.Status, r.Jobs)
	}
}

// TestRequestNodeRetriedExecution: a retried execution starts a new round
// of attempts after the earlier ones, keeping the Idempotency-Key.
func TestRequestNodeRetriedExecution(t *testing.T) {
	t.Parallel()
	out := &fakeOutbound{replies: []fakeReply{reply(400, "no"), reply(200, "yes")}}
	f := compileFlow(t, flowAsyncDoc(`[{"key":"a","type":"set","config":{"value":1}},{"key":"n","type":"request","config":{"method":"GET","url":"http://h/x","retry":{"attempts":2}}}]`))
	r := f.Run(context.Background(), actScope(out, false))
	if r.Status != StatusFailed {
		t.Fatalf("first run %s", r.Status)
	}
	r2 := f.RunFrom(context.Background(), actScope(out, false), RunOptions{Prior: r.Jobs})
	if r2.Status != StatusResolved {
		t.Fatalf("retried run %s %q", r2.Status, r2.Error)
	}
	a := r2.Jobs[1].Attempts
	if len(a) != 2 || a[0].Number != 1 || a[1].Number != 1 || a[0].Status != 400 || a[1].Status != 200 {
		t.Errorf("attempts %+v, want two rounds of one", a)
	}
	if !r2.Jobs[0].StartedAt.Equal(r.Jobs[0].StartedAt) {
		t.Errorf("the set job before the stopped node ran again")
	}
}

func TestSetNode(t *testing.T) {
	t.Parallel()
	f := compileFlow(t, flowSyncDoc(`[{"key":"s","type":"set","config":{"value":{"id":"{{$context.body.order.id}}","label":"order {{$context.body.order.status}}","n":[1,true,null]}}},
		{"key":"r","type":"response","config":{"status":200,"body":"{{$jobsMapByNodeKey.s}}"}}]`))
	r := f.Run(context.Background(), actScope(nil, true))
	want := `{"id":12345678901234567891,"label":"order paid","n":[1,true,null]}`
	if r.Status != StatusResolved || string(r.Jobs[0].Result) != want || string(r.Response.Body) != want {
		t.Errorf("set: %s %s reply %s", r.Status, r.Jobs[0].Result, r.Response.Body)
	}
	for _, tc := range []struct{ config, want string }{
		{`{}`, "nodes[0].config.value: required"},
		{`[]`, "nodes[0].config: must be an object"},
		{`{"value":"{{oops"}`, "nodes[0].config.value: unterminated {{"},
	} {
		if _, err := ParseDocument([]byte(flowSyncDoc(`[{"key":"s","type":"set","config":` + tc.config + `}]`))); err == nil || !strings.HasPrefix(ErrorMessage(err), tc.want) {
			t.Errorf("%s: %v, want %q", tc.config, err, tc.want)
		}
	}
}

func TestDelayNode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ doc, want string }{
		{flowSyncDoc(`[{"key":"d","type":"delay","config":{"seconds":5}}]`), "nodes[0].type: delay nodes are only allowed in async workflows"},
		{flowAsyncDoc(`[{"key":"d","type":"delay","config":{}}]`), "nodes[0].config: give seconds"},
		{flowAsyncDoc(`[{"key":"d","type":"delay","config":{"seconds":0}}]`), "nodes[0].config.seconds: must be more than 0 and at most 2592000"},
		{flowAsyncDoc(`[{"key":"d","type":"delay","config":{"seconds":2592001}}]`), "nodes[0].config.seconds: must be more than 0"},
		{flowAsyncDoc(`[{"key":"d","type":"delay","config":{"seconds":1,"until":"2030-01-01T00:00:00Z"}}]`), "nodes[0].config: give seconds or until, not both"},
		{flowAsyncDoc(`[{"key":"d","type":"delay","config":{"until":"tomorrow"}}]`), `nodes[0].config.until: "tomorrow" is not an RFC 3339 time`},
	} {
		if _, err := ParseDocument([]byte(tc.doc)); err == nil || !strings.HasPrefix(ErrorMessage(err), tc.want) {
			t.Errorf("%s: %v, want %q", tc.doc, err, tc.want)
		}
	}
	f := compileFlow(t, flowAsyncDoc(`[{"key":"d","type":"delay","config":{"seconds":3600}},{"key":"after","type":"set","config":{"value":"{{$jobsMapByNodeKey.d.until}}"}}]`))
	now := time.Now()
	r := f.Run(context.Background(), actScope(nil, false))
	if r.Status != StatusWaiting || len(r.Jobs) != 1 || r.Jobs[0].Status != JobWaiting {
		t.Fatalf("delay: %s %+v", r.Status, r.Jobs)
	}
	if d := r.WaitUntil.Sub(now); d < time.Hour || d > time.Hour+time.Second {
		t.Errorf("waits %v, want 1 h", d)
	}
	// Woken early (a retry of a cancelled wait): it waits on until the same time.
	r2 := f.RunFrom(context.Background(), actScope(nil, false), RunOptions{Prior: r.Jobs})
	if r2.Status != StatusWaiting || !r2.WaitUntil.Equal(r.WaitUntil) {
		t.Errorf("early wake: %s until %v, want waiting until %v", r2.Status, r2.WaitUntil, r.WaitUntil)
	}
	// Woken when due: resolves, and the next node sees its result.
	prior := r.Jobs
	prior[0].DueAt = time.Now().Add(-time.Millisecond)
	r3 := f.RunFrom(context.Background(), actScope(nil, false), RunOptions{Prior: prior})
	if r3.Status != StatusResolved || len(r3.Jobs) != 2 || r3.Jobs[0].Status != JobResolved {
		t.Fatalf("due wake: %s %+v", r3.Status, r3.Jobs)
	}
	if got := gjson.ParseBytes(r3.Jobs[1].Result).Str; got != prior[0].DueAt.UTC().Format(time.RFC3339Nano) {
		t.Errorf("later node saw until %q", got)
	}
	// until from the request; a time in the past does not wait.
	f = compileFlow(t, flowAsyncDoc(`[{"key":"d","type":"delay","config":{"until":"{{$context.body.remindAt}}"}}]`))
	s := actScope(nil, false)
	s.Env.Now = func() time.Time { return time.Date(2029, 12, 25, 0, 0, 0, 0, time.UTC) }
	if r := f.Run(context.Background(), s); r.Status != StatusWaiting || !r.WaitUntil.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("until: %s %v", r.Status, r.WaitUntil)
	}
	s.Env.Now = func() time.Time { return time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC) }
	if r := f.Run(context.Background(), s); r.Status != StatusResolved {
		t.Errorf("until in the past: %s, want resolved at once", r.Status)
	}
	s.Env.Now = func() time.Time { return time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) }
	if r := f.Run(context.Background(), s); r.Status != StatusError || !strings.Contains(r.Jobs[0].Error, "more than 30 days ahead") {
		t.Errorf("until too far: %s %+v", r.Status, r.Jobs)
	}
}

// TestRunFromCheckpoints: a job that acted is stored before the next node
// starts, whatever that node is (§13); pure jobs ride along; a run stops
// when the checkpoint fails.
func TestRunFromCheckpoints(t *testing.T) {
	t.Parallel()
	f := compileFlow(t, flowAsyncDoc(`[{"key":"c","type":"condition","config":`+flowTrue+`},{"key":"r1","type":"request","config":{"method":"GET","url":"http://h/1"}},
		{"key":"s","type":"set","config":{"value":1}},{"key":"r2","type":"request","config":{"method":"GET","url":"http://h/2"}},{"key":"r3","type":"request","config":{"method":"GET","url":"http://h/3"}}]`))
	var stored [][]string
	checkpoint := func(jobs []Job) error {
		var keys []string
		for _, j := range jobs {
			keys = append(keys, j.NodeKey)
		}
		stored = append(stored, keys)
		return nil
	}
	r := f.RunFrom(context.Background(), actScope(&fakeOutbound{}, false), RunOptions{Checkpoint: checkpoint})
	if r.Status != StatusResolved {
		t.Fatal(r.Status, r.Error)
	}
	got, _ := json.Marshal(stored)
	if string(got) != `[["c","r1"],["c","r1","s","r2"]]` {
		t.Errorf("checkpoints %s, want one after r1 and one after r2", got)
	}
	boom := errors.New("database is gone")
	out := &fakeOutbound{}
	r = f.RunFrom(context.Background(), actScope(out, false), RunOptions{Checkpoint: func([]Job) error { return boom }})
	if r.Stopped != boom || len(out.calls) != 1 {
		t.Errorf("failed checkpoint: stopped %v after %d calls, want to stop before r2", r.Stopped, len(out.calls))
	}
}

// TestRunFromResumes: a resumed run keeps the resolved jobs (their nodes do
// not run again, their branches are followed) and runs the first node
// without one.
func TestRunFromResumes(t *testing.T) {
	t.Parallel()
	f := compileFlow(t, flowAsyncDoc(`[{"key":"c","type":"condition","config":{"mode":"branch","rules":{"and":[]}},"branches":{
		"yes":[{"key":"r1","type":"request","config":{"method":"GET","url":"http://h/yes"}}],
		"no":[{"key":"r0","type":"request","config":{"method":"GET","url":"http://h/no"}}]}},
		{"key":"r2","type":"request","config":{"method":"GET","url":"http://h/{{$jobsMapByNodeKey.r1.body.next}}"}}]`))
	prior := []Job{
		// The condition said "no" when it ran: resuming follows that.
		{NodeKey: "c", NodeType: "condition", Status: JobResolved, Result: json.RawMessage("false"), Branch: "no"},
		{NodeKey: "r0", NodeType: "request", Status: JobResolved, Result: json.RawMessage(`{"ok":true}`)},
	}
	out := &fakeOutbound{}
	r := f.RunFrom(context.Background(), actScope(out, false), RunOptions{Prior: prior})
	if r.Status != StatusResolved || len(r.Jobs) != 3 || r.Jobs[2].NodeKey != "r2" {
		t.Fatalf("resume: %s %+v", r.Status, r.Jobs)
	}
	if len(out.calls) != 1 || out.calls[0].URL != "http://h/" {
		t.Errorf("calls %+v, want r2 only", out.calls)
	}
	prior = []Job{
		{NodeKey: "c", NodeType: "condition", Status: JobResolved, Result: json.RawMessage("true"), Branch: "yes"},
		{NodeKey: "r1", NodeType: "request", Status: JobResolved, Result: json.RawMessage(`{"ok":true,"body":{"next":"n2"}}`)},
	}
	out = &fakeOutbound{}
	r = f.RunFrom(context.Background(), actScope(out, false), RunOptions{Prior: prior})
	if r.Status != StatusResolved || len(out.calls) != 1 || out.calls[0].URL != "http://h/n2" {
		t.Errorf("resume after r1: %s calls %+v", r.Status, out.calls)
	}
}

// TestRespondAndContinue: inline, a response node with continue stops the
// run with the reply; resumed in the background, the flow goes on after it.
func TestRespondAndContinue(t *testing.T) {
	t.Parallel()
	f := compileFlow(t, flowSyncDoc(`[{"key":"ack","type":"response","config":{"status":200,"body":{"text":"working on it"},"continue":true}},
		{"key":"work","type":"request","config":{"method":"POST","url":"http://h/work"}},
		{"key":"done","type":"response","config":{"status":201,"body":"late"}}]`))
	out := &fakeOutbound{}
	r := f.RunFrom(context.Background(), actScope(out, true), RunOptions{StopAtContinue: true})
	if !r.Continue || r.Status != StatusRunning || r.Response == nil || string(r.Response.Body) != `{"text":"working on it"}` || len(out.calls) != 0 {
		t.Fatalf("inline: continue %v status %s response %+v calls %d", r.Continue, r.Status, r.Response, len(out.calls))
	}
	bg := f.RunFrom(context.Background(), actScope(out, false), RunOptions{Prior: r.Jobs})
	if bg.Status != StatusResolved || len(out.calls) != 1 || len(bg.Jobs) != 3 || bg.Response == nil || bg.Response.Status != 201 {
		t.Errorf("background: %s calls %d jobs %+v", bg.Status, len(out.calls), bg.Jobs)
	}
	if _, err := ParseDocument([]byte(flowSyncDoc(`[{"key":"r","type":"response","config":{"status":200,"continue":"yes"}}]`))); err == nil ||
		ErrorMessage(err) != "nodes[0].config.continue: must be true or false" {
		t.Errorf("bad continue: %v", err)
	}
}

func TestSecretHeaderName(t *testing.T) {
	t.Parallel()
	for name, secret := range map[string]bool{
		"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "X-Api-Key": true, "X-Auth-Token": true, "api_key": true,
		"X-Hub-Signature-256": true, "X-Shopify-Access-Token": true, "Private-Token": true, "key": true, "X-Secret": true,
		"Idempotency-Key": false, "Content-Type": false, "User-Agent": false, "X-Request-Id": false, "Accept": false, "Keyboard": false,
	} {
		if got := SecretHeaderName(name); got != secret {
			t.Errorf("SecretHeaderName(%q) = %v, want %v", name, got, secret)
		}
	}
	if got := redactURL("https://u:p@h/x?token=a&b=2&API_KEY=z"); got != "https://u:redacted@h/x?token=%5Bredacted%5D&b=2&API_KEY=%5Bredacted%5D" {
		t.Errorf("redactURL = %s", got)
	}
}
