package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/outbound"
	"github.com/hookflow/hookflow/web"
	"github.com/tidwall/gjson"
)

// Acting workflows (product.md §13, §14) through the real server assembly,
// SQLite store, runner and HTTP client, against a real HTTP server on
// 127.0.0.1 as the other side.

// sink is the other side: it records every call and answers with the
// handler the test gives it.
type sink struct {
	*httptest.Server
	mu    sync.Mutex
	calls []sinkCall
	// answer decides the reply to call n (from 1); nil answers 200 "ok".
	answer func(n int, w http.ResponseWriter, r *http.Request)
}

type sinkCall struct {
	at     time.Time
	method string
	path   string
	header http.Header
	body   string
}

func newSink(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *sink {
	t.Helper()
	s := &sink{answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.calls = append(s.calls, sinkCall{at: time.Now(), method: r.Method, path: r.URL.RequestURI(), header: r.Header.Clone(), body: string(b)})
		n := len(s.calls)
		s.mu.Unlock()
		if s.answer != nil {
			s.answer(n, w, r)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sink) got() []sinkCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkCall(nil), s.calls...)
}

type actEnv struct {
	*apiEnv
	runner *engine.Runner
}

// actSetup starts the server with a runner and an HTTP client whose
// outbound policy is deny.
func actSetup(t *testing.T, deny outbound.Policy) *actEnv {
	t.Helper()
	e := &actEnv{apiEnv: &apiEnv{newTestServer(t, web.Config{}, apiPublicURL)}}
	client, err := outbound.New(outbound.Config{Deny: deny})
	if err != nil {
		t.Fatal(err)
	}
	e.svc.UseOutbound(client, "Hookflow/test")
	e.runner = e.svc.NewRunner(engine.RunnerConfig{Workers: 8, Poll: 200 * time.Millisecond, Lease: 3 * time.Second})
	e.runner.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.runner.Stop(ctx)
		client.CloseIdleConnections()
	})
	return e
}

// workflow creates a workflow and returns its id and key.
func (e *actEnv) workflow(t *testing.T, doc string) (int64, string) {
	t.Helper()
	w := e.create(t, doc)
	return w.Get("id").Int(), w.Get("key").Str
}

// fire posts body to the workflow and returns the reply and the execution
// id (from the list, newest first).
func (e *actEnv) fire(t *testing.T, id int64, key, body string) (apiReply, int64) {
	t.Helper()
	r := e.trigger(t, key, "", body)
	list := e.call(t, http.MethodGet, "/api/v1/workflows/"+strconv.FormatInt(id, 10)+"/executions?limit=1", "").json()
	return r, list.Get("items.0.id").Int()
}

func (e *actEnv) execution(t *testing.T, id int64) gjson.Result {
	t.Helper()
	r := e.call(t, http.MethodGet, "/api/v1/executions/"+strconv.FormatInt(id, 10), "")
	if r.status != 200 {
		t.Fatalf("get execution %d: %d %s", id, r.status, r.body)
	}
	return r.json()
}

// until polls an execution until its status is one of want.
func (e *actEnv) until(t *testing.T, id int64, timeout time.Duration, want ...string) gjson.Result {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		x := e.execution(t, id)
		for _, w := range want {
			if x.Get("status").Str == w {
				return x
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %d is %s after %v, want %v:\n%s", id, x.Get("status").Str, timeout, want, x.Raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func asyncDoc(nodes string) string {
	return `{"title":"act","mode":"async","trigger":{},"nodes":` + nodes + `}`
}

// TestActForwardsWithRetries: an async request node forwards the event;
// 503s are retried with backoff (the execution waits as a row in between),
// every attempt carries the same Idempotency-Key and the User-Agent, and
// the execution records each attempt.
func TestActForwardsWithRetries(t *testing.T) {
	t.Parallel()
	e := actSetup(t, outbound.DenyNone)
	s := newSink(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n < 3 {
			w.WriteHeader(503)
			io.WriteString(w, "busy")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"received":true,"n":12345678901234567891}`)
	})
	id, key := e.workflow(t, asyncDoc(`[{"key":"notify","type":"request","config":{"method":"POST","url":"`+s.URL+`/hook/{{$context.body.repo}}",
		"headers":[{"name":"Authorization","value":"Bearer chat-secret"}],
		"body":{"text":"push to {{$context.body.repo}}","count":"{{$context.body.count}}"},
		"retry":{"attempts":4,"backoffSeconds":0.2,"maxBackoffSeconds":1}}},
		{"key":"after","type":"set","config":{"value":"{{$jobsMapByNodeKey.notify.body.n}}"}}]`))
	r, xid := e.fire(t, id, key, `{"repo":"hookflow","count":3}`)
	if r.status != 200 || string(r.body) != "ok" {
		t.Fatalf("accept: %d %s", r.status, r.body)
	}
	x := e.until(t, xid, 10*time.Second, "resolved", "failed", "error")
	if x.Get("status").Str != "resolved" {
		t.Fatalf("execution %s", x.Raw)
	}
	calls := s.got()
	if len(calls) != 3 {
		t.Fatalf("%d calls, want 3", len(calls))
	}
	for i, c := range calls {
		if c.method != "POST" || c.path != "/hook/hookflow" || c.body != `{"text":"push to hookflow","count":3}` ||
			c.header.Get("Idempotency-Key") != strconv.FormatInt(xid, 10)+"-notify" || c.header.Get("User-Agent") != "Hookflow/test" ||
			c.header.Get("Authorization") != "Bearer chat-secret" || c.header.Get("Content-Type") != "application/json" {
			t.Errorf("call %d: %+v", i, c)
		}
		if i > 0 {
			if gap := c.at.Sub(calls[i-1].at); gap < 150*time.Millisecond {
				t.Errorf("call %d came %v after the one before, within the backoff", i, gap)
			}
		}
	}
	job := x.Get("jobs.0")
	if job.Get("status").Str != "resolved" || job.Get("result.ok").Bool() != true || job.Get("result.status").Int() != 200 ||
		job.Get("result.body.n").Raw != "12345678901234567891" || job.Get("result.attempts").Int() != 3 {
		t.Errorf("job %s", job.Raw)
	}
	if got := x.Get("jobs.1.result").Raw; got != "12345678901234567891" {
		t.Errorf("the next node saw %s", got)
	}
	attempts := job.Get("attempts").Array()
	if len(attempts) != 3 || attempts[0].Get("status").Int() != 503 || attempts[0].Get("error").Str != "HTTP 503" ||
		attempts[0].Get("reply.body").Str != "busy" || attempts[0].Get("retryAt").Str == "" || attempts[2].Get("status").Int() != 200 {
		t.Errorf("attempts %s", job.Get("attempts").Raw)
	}
	if h := job.Get(`request.headers.#(name=="Authorization").value`).Str; h != "[redacted]" {
		t.Errorf("recorded Authorization %q, want it redacted", h)
	}
	if x.Get("attempts").Int() < 3 {
		t.Errorf("execution attempts %d: each wake is a run", x.Get("attempts").Int())
	}
}

// TestActRetryAfter: a Retry-After header decides the wait.
func TestActRetryAfter(t *testing.T) {
	t.Parallel()
	e := actSetup(t, outbound.DenyNone)
	s := newSink(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(429)
			return
		}
		io.WriteString(w, "ok")
	})
	id, key := e.workflow(t, asyncDoc(`[{"key":"n","type":"request","config":{"method":"GET","url":"`+s.URL+`","retry":{"attempts":2,"backoffSeconds":0.1}}}]`))
	_, xid := e.fire(t, id, key, `{}`)
	x := e.until(t, xid, 10*time.Second, "resolved", "failed")
	calls := s.got()
	if x.Get("status").Str != "resolved" || len(calls) != 2 {
		t.Fatalf("%s after %d calls", x.Get("status").Str, len(calls))
	}
	if gap := calls[1].at.Sub(calls[0].at); gap < 950*time.Millisecond {
		t.Errorf("retried after %v, before Retry-After's 1 s", gap)
	}
}

// TestActTimeoutsAndRedirects: a reply slower than timeoutSeconds fails the
// call (and is retried, then fails the node); redirects are followed up to
// five.
func TestActTimeoutsAndRedirects(t *testing.T) {
	t.Parallel()
	e := actSetup(t, outbound.DenyNone)
	release := make(chan struct{})
	defer close(release)
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/hop/", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
		if n > 0 {
			http.Redirect(w, r, "/hop/"+strconv.Itoa(n-1), http.StatusFound)
			return
		}
		io.WriteString(w, "landed "+r.Method)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	id, key := e.workflow(t, asyncDoc(`[{"key":"slow","type":"request","config":{"method":"GET","url":"`+srv.URL+`/slow","timeoutSeconds":0.2,"retry":{"attempts":2,"backoffSeconds":0.1}}}]`))
	_, xid := e.fire(t, id, key, `{}`)
	x := e.until(t, xid, 10*time.Second, "failed", "resolved", "error")
	if x.Get("status").Str != "failed" || x.Get("error").Str != "workflow failed at node slow" {
		t.Fatalf("slow: %s", x.Raw)
	}
	job := x.Get("jobs.0")
	if n := len(job.Get("attempts").Array()); n != 2 || !strings.Contains(job.Get("error").Str, "timed out") || job.Get("result.status").Type != gjson.Null {
		t.Errorf("slow job: %s", job.Raw)
	}

	id, key = e.workflow(t, asyncDoc(`[{"key":"ok","type":"request","config":{"method":"GET","url":"`+srv.URL+`/hop/5"}},
		{"key":"far","type":"request","config":{"method":"GET","url":"`+srv.URL+`/hop/6"},"title":"six hops"}]`))
	_, xid = e.fire(t, id, key, `{}`)
	x = e.until(t, xid, 10*time.Second, "failed", "resolved", "error")
	if x.Get("jobs.0.result.body").Str != "landed GET" || x.Get("jobs.0.status").Str != "resolved" {
		t.Errorf("5 redirects: %s", x.Get("jobs.0").Raw)
	}
	if x.Get("status").Str != "failed" || !strings.Contains(x.Get("jobs.1.error").Str, "redirects") || len(x.Get("jobs.1.attempts").Array()) != 1 {
		t.Errorf("6 redirects: %s", x.Get("jobs.1").Raw)
	}
}

// TestActOutboundDenyPrivate: with --outbound-deny private a loopback
// address is refused before anything is dialled: the server sees no call,
// and the node fails at once (no retry).
func TestActOutboundDenyPrivate(t *testing.T) {
	t.Parallel()
	e := actSetup(t, outbound.DenyPrivate)
	s := newSink(t, nil)
	id, key := e.workflow(t, asyncDoc(`[{"key":"n","type":"request","config":{"method":"POST","url":"`+s.URL+`/x","retry":{"attempts":5,"backoffSeconds":0.1}}}]`))
	_, xid := e.fire(t, id, key, `{}`)
	x := e.until(t, xid, 10*time.Second, "failed", "resolved", "error")
	if x.Get("status").Str != "failed" || len(x.Get("jobs.0.attempts").Array()) != 1 || !strings.Contains(x.Get("jobs.0.error").Str, "refused by the outbound policy") {
		t.Errorf("execution %s", x.Raw)
	}
	if n := len(s.got()); n != 0 {
		t.Errorf("the loopback server saw %d calls", n)
	}
}

// TestActDelayCancelRetry: a delay makes the execution wait as a row and
// wakes it on time; cancel aborts a waiting execution; retry makes a failed
// one go on from the node that stopped it, keeping the jobs before it and
// the Idempotency-Key.
func TestActDelayCancelRetry(t *testing.T) {
	t.Parallel()
	e := actSetup(t, outbound.DenyNone)
	var fail sync.Mutex
	failing := true
	s := newSink(t, func(n int, w http.ResponseWriter, r *http.Request) {
		fail.Lock()
		defer fail.Unlock()
		if failing {
			w.WriteHeader(400)
			io.WriteString(w, "not yet")
			return
		}
		io.WriteString(w, "ok")
	})
	// seconds must be a number, not a placeholder.
	if r := e.call(t, http.MethodPost, "/api/v1/workflows", asyncDoc(`[{"key":"wait","type":"delay","config":{"seconds":"{{$context.body.s}}"}}]`)); apiError(t, r, 400) != "nodes[0].config.seconds: must be a number" {
		t.Errorf("templated seconds: %s", r.body)
	}

	id, key := e.workflow(t, asyncDoc(`[{"key":"shape","type":"set","config":{"value":{"at":"{{$system.now}}"}}},
		{"key":"wait","type":"delay","config":{"seconds":1}},
		{"key":"notify","type":"request","config":{"method":"POST","url":"`+s.URL+`/n","body":"{{$jobsMapByNodeKey.shape.at}}"}}]`))
	fired := time.Now()
	_, xid := e.fire(t, id, key, `{}`)
	x := e.until(t, xid, 5*time.Second, "waiting")
	due, err := time.Parse(time.RFC3339, x.Get("dueAt").Str)
	if err != nil || due.Sub(fired) < 900*time.Millisecond || due.Sub(fired) > 2*time.Second {
		t.Errorf("dueAt %q (%v), want about 1 s after firing", x.Get("dueAt").Str, err)
	}
	if x.Get("jobs.1.status").Str != "waiting" || x.Get("jobs.1.dueAt").Str == "" || len(s.got()) != 0 {
		t.Errorf("waiting execution %s", x.Raw)
	}
	x = e.until(t, xid, 5*time.Second, "failed", "resolved")
	calls := s.got()
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	if late := calls[0].at.Sub(due); late > time.Second || late < 0 {
		t.Errorf("woke %v after its due time, want within a second", late)
	}
	shapeAt := x.Get("jobs.0.result.at").Str
	if x.Get("status").Str != "failed" || calls[0].body != shapeAt {
		t.Fatalf("after the delay: %s; sent %q", x.Raw, calls[0].body)
	}

	// Retry: the failed request runs again; the set and delay jobs stay.
	fail.Lock()
	failing = false
	fail.Unlock()
	r := e.call(t, http.MethodPost, "/api/v1/executions/"+strconv.FormatInt(xid, 10)+"/retry", "")
	// The runner may claim it before the reply is built: queued or later.
	if r.status != http.StatusAccepted || r.json().Get("status").Str == "failed" || r.json().Get("id").Int() != xid {
		t.Fatalf("retry: %d %s", r.status, r.body)
	}
	x = e.until(t, xid, 5*time.Second, "resolved", "failed")
	calls = s.got()
	if x.Get("status").Str != "resolved" || len(calls) != 2 || calls[1].body != shapeAt ||
		calls[1].header.Get("Idempotency-Key") != calls[0].header.Get("Idempotency-Key") {
		t.Fatalf("after retry: %s\ncalls %+v", x.Raw, calls)
	}
	if x.Get("jobs.0.result.at").Str != shapeAt || len(x.Get("jobs.2.attempts").Array()) != 2 || x.Get("jobs.2.attempts.1.number").Int() != 1 {
		t.Errorf("jobs after retry: %s", x.Get("jobs").Raw)
	}
	if r := e.call(t, http.MethodPost, "/api/v1/executions/"+strconv.FormatInt(xid, 10)+"/retry", ""); apiError(t, r, 409) == "" {
		t.Error("retry of a resolved execution: no message")
	}

	// Cancel a long wait: aborted at once, never wakes.
	id, key = e.workflow(t, asyncDoc(`[{"key":"wait","type":"delay","config":{"seconds":3600}},{"key":"n","type":"request","config":{"method":"GET","url":"`+s.URL+`/never"}}]`))
	_, xid = e.fire(t, id, key, `{}`)
	e.until(t, xid, 5*time.Second, "waiting")
	r = e.call(t, http.MethodPost, "/api/v1/executions/"+strconv.FormatInt(xid, 10)+"/cancel", "")
	if r.status != http.StatusAccepted || r.json().Get("status").Str != "aborted" || r.json().Get("error").Str != engine.CancelReason {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	if r := e.call(t, http.MethodPost, "/api/v1/executions/"+strconv.FormatInt(xid, 10)+"/cancel", ""); !strings.Contains(apiError(t, r, 409), "cannot be cancelled") {
		t.Errorf("second cancel: %s", r.body)
	}
	if r := e.call(t, http.MethodPost, "/api/v1/executions/999/cancel", ""); r.status != 404 {
		t.Errorf("cancel of a missing execution: %d", r.status)
	}
}

// TestActCancelRunning: cancelling an execution in the middle of a call
// stops the call and keeps it aborted.
func TestActCancelRunning(t *testing.T) {
	t.Parallel()
	e := actSetup(t, outbound.DenyNone)
	entered := make(chan struct{}, 1)
	gone := make(chan struct{}, 1)
	s := newSink(t, func(n int, w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-r.Context().Done() // until the caller hangs up
		gone <- struct{}{}
	})
	id, key := e.workflow(t, asyncDoc(`[{"key":"n","type":"request","config":{"method":"GET","url":"`+s.URL+`","timeoutSeconds":60}}]`))
	_, xid := e.fire(t, id, key, `{}`)
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the call never came")
	}
	if r := e.call(t, http.MethodPost, "/api/v1/executions/"+strconv.FormatInt(xid, 10)+"/cancel", ""); r.status != http.StatusAccepted {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the call went on after the cancel")
	}
	time.Sleep(100 * time.Millisecond)
	x := e.execution(t, xid)
	if x.Get("status").Str != "aborted" || x.Get("error").Str != engine.CancelReason {
		t.Errorf("after cancel: %s", x.Raw)
	}
}

// TestActReplay: replays of one execution and in bulk run the current
// revision on the stored request and link to their original both ways.
func TestActReplay(t *testing.T) {
	t.Parallel()
	e := actSetup(t, outbound.DenyNone)
	s := newSink(t, nil)
	doc := `{"title":"replay","mode":"sync","trigger":{},"nodes":[{"key":"c","type":"condition","config":{"mode":"continue","rules":{"and":[{"left":"{{$context.body.ok}}","op":"equal","right":true}]}}},
		{"key":"r","type":"response","config":{"status":200,"body":"v1"}}]}`
	id, key := e.workflow(t, doc)
	var failed []int64
	for _, body := range []string{`{"ok":true}`, `{"ok":false}`, `{"ok":false}`} {
		r, xid := e.fire(t, id, key, body)
		if want := map[bool]int{true: 200, false: 500}[strings.Contains(body, "true")]; r.status != want || xid == 0 {
			t.Fatalf("fire %s: %d, want %d", body, r.status, want)
		}
		if strings.Contains(body, "false") {
			failed = append(failed, xid)
		}
	}
	// A new revision forwards everything.
	doc2 := `{"title":"replay","mode":"sync","trigger":{},"nodes":[{"key":"fwd","type":"request","config":{"method":"POST","url":"` + s.URL + `/r","body":"{{$context.body.ok}}"}},
		{"key":"r","type":"response","config":{"status":200,"body":"v2"}}]}`
	if r := e.call(t, http.MethodPut, "/api/v1/workflows/"+strconv.FormatInt(id, 10), doc2); r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	r := e.call(t, http.MethodPost, "/api/v1/executions/"+strconv.FormatInt(failed[0], 10)+"/replay", "")
	if r.status != http.StatusCreated || r.json().Get("replayOf").Int() != failed[0] || r.json().Get("revision").Int() != 2 ||
		r.header.Get("Location") != "/api/v1/executions/"+r.json().Get("id").String() {
		t.Fatalf("replay: %d %s", r.status, r.body)
	}
	replay := r.json().Get("id").Int()
	x := e.until(t, replay, 5*time.Second, "resolved", "failed", "error")
	if x.Get("status").Str != "resolved" || x.Get("response.body").Str != "v2" || x.Get("request.body").Str != `{"ok":false}` {
		t.Errorf("replayed execution: %s", x.Raw)
	}
	if orig := e.execution(t, failed[0]); orig.Get("replays.0").Int() != replay || orig.Get("status").Str != "failed" {
		t.Errorf("original: replays %s status %s", orig.Get("replays").Raw, orig.Get("status").Str)
	}
	// Bulk: every failed execution (the replay itself resolved).
	r = e.call(t, http.MethodPost, "/api/v1/workflows/"+strconv.FormatInt(id, 10)+"/replay", `{"status":"failed"}`)
	if r.status != http.StatusAccepted || r.json().Get("count").Int() != 2 {
		t.Fatalf("bulk replay: %d %s", r.status, r.body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(s.got()) < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(s.got()); n != 3 {
		t.Errorf("the sink saw %d forwarded calls, want 3", n)
	}
	for _, tc := range []struct{ body, want string }{
		{`{"status":"nope"}`, `status: unknown status "nope"`},
		{`{"since":"yesterday"}`, `since: "yesterday" is not an RFC 3339 time`},
		{`{"since":"2026-12-02T00:00:00Z","until":"2026-12-01T00:00:00Z"}`, "since: must be before until"},
		{`{"stat":"failed"}`, "body: unknown field"},
	} {
		r := e.call(t, http.MethodPost, "/api/v1/workflows/"+strconv.FormatInt(id, 10)+"/replay", tc.body)
		if msg := apiError(t, r, 400); !strings.HasPrefix(msg, tc.want) {
			t.Errorf("%s: %q, want %q", tc.body, msg, tc.want)
		}
	}
	if r := e.call(t, http.MethodPost, "/api/v1/workflows/999/replay", ""); r.status != 404 {
		t.Errorf("bulk replay of a missing workflow: %d", r.status)
	}
}

// TestActSync: in a sync flow the request node runs inside the request,
// retrying within the timeout, and its result feeds the reply; a response
// node with "continue" replies before the rest of the flow runs.
func TestActSync(t *testing.T) {
	t.Parallel()
	e := actSetup(t, outbound.DenyNone)
	block := make(chan struct{})
	s := newSink(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/price":
			if n == 1 {
				w.WriteHeader(502)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"price":42}`)
		case "/slow-work":
			<-block
			io.WriteString(w, "done")
		}
	})
	id, key := e.workflow(t, `{"title":"sync","mode":"sync","trigger":{},"nodes":[
		{"key":"price","type":"request","config":{"method":"GET","url":"`+s.URL+`/price","retry":{"attempts":2,"backoffSeconds":0.1}}},
		{"key":"r","type":"response","config":{"status":200,"body":{"price":"{{$jobsMapByNodeKey.price.body.price}}"}}}]}`)
	r, xid := e.fire(t, id, key, `{}`)
	if r.status != 200 || string(r.body) != `{"price":42}` {
		t.Fatalf("sync reply: %d %s", r.status, r.body)
	}
	if x := e.execution(t, xid); x.Get("status").Str != "resolved" || len(x.Get("jobs.0.attempts").Array()) != 2 {
		t.Errorf("sync execution: %s", x.Raw)
	}

	id, key = e.workflow(t, `{"title":"slack","mode":"sync","trigger":{},"nodes":[
		{"key":"ack","type":"response","config":{"status":200,"body":{"text":"On it"},"continue":true}},
		{"key":"work","type":"request","config":{"method":"POST","url":"`+s.URL+`/slow-work"}}]}`)
	start := time.Now()
	r, xid = e.fire(t, id, key, `{}`)
	if r.status != 200 || string(r.body) != `{"text":"On it"}` || time.Since(start) > 3*time.Second {
		t.Fatalf("continue reply: %d %s after %v", r.status, r.body, time.Since(start))
	}
	x := e.until(t, xid, 5*time.Second, "running")
	if x.Get("response.status").Int() != 200 || x.Get("jobs.0.nodeKey").Str != "ack" {
		t.Errorf("stored before the reply: %s", x.Raw)
	}
	close(block)
	x = e.until(t, xid, 5*time.Second, "resolved", "failed")
	if x.Get("status").Str != "resolved" || x.Get("jobs.1.result.body").Str != "done" || x.Get("response.body").Str != `{"text":"On it"}` {
		t.Errorf("after the background part: %s", x.Raw)
	}
}

func init() { engine.RegisterNodeKind("test-panic", panicKind{}) }

// panicKind is a node kind whose step panics: a bug in a node must end its
// execution as error, not the process.
type panicKind struct{}

func (panicKind) Compile(*engine.Node, engine.CompileEnv) (engine.Step, error) {
	return panicStep{}, nil
}

type panicStep struct{}

func (panicStep) Branches() []string { return nil }
func (panicStep) Run(context.Context, *engine.Scope) (engine.Outcome, error) {
	panic("a bug in a node")
}

// TestActPanicIsError: a node that panics ends its execution as error, its
// job saying "internal error"; the runner goes on with the next ones, and a
// sync flow answers 500 while the server goes on serving.
func TestActPanicIsError(t *testing.T) {
	t.Parallel()
	e := actSetup(t, outbound.DenyNone)
	id, key := e.workflow(t, asyncDoc(`[{"key":"boom","type":"test-panic"}]`))
	for range 3 {
		_, xid := e.fire(t, id, key, `{}`)
		x := e.until(t, xid, 5*time.Second, "error", "resolved", "failed")
		if x.Get("status").Str != "error" || x.Get("error").Str != "workflow failed at node boom" || x.Get("jobs.0.error").Str != "internal error" {
			t.Fatalf("after a panic: %s", x.Raw)
		}
	}
	sid, skey := e.workflow(t, `{"title":"sync panic","mode":"sync","trigger":{},"nodes":[{"key":"boom","type":"test-panic"}]}`)
	for range 2 {
		r, xid := e.fire(t, sid, skey, `{}`)
		if msg := apiError(t, r, 500); msg != "workflow failed at node boom" {
			t.Errorf("sync reply %q", msg)
		}
		if x := e.execution(t, xid); x.Get("status").Str != "error" {
			t.Errorf("sync execution %s", x.Raw)
		}
	}
}
