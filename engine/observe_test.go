package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// recObserver is an Observer that keeps what it is told, as text.
type recObserver struct {
	mu     sync.Mutex
	events []string
	// webhooks counts the recorders asked for, by workflow id.
	webhooks map[int64]int
}

func (o *recObserver) add(format string, args ...any) {
	o.mu.Lock()
	o.events = append(o.events, fmt.Sprintf(format, args...))
	o.mu.Unlock()
}

func (o *recObserver) take() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := o.events
	o.events = nil
	sort.Strings(out)
	return out
}

func (o *recObserver) Webhook(id int64, mode Mode) WebhookRecorder {
	o.mu.Lock()
	if o.webhooks == nil {
		o.webhooks = map[int64]int{}
	}
	o.webhooks[id]++
	o.mu.Unlock()
	return &recRecorder{o: o, name: fmt.Sprintf("%d/%s", id, mode)}
}
func (o *recObserver) WorkflowDeleted(id int64)       { o.add("deleted %d", id) }
func (o *recObserver) Rejected(r RejectReason)        { o.add("rejected %s", r) }
func (o *recObserver) ExecutionFinished(s ExecStatus) { o.add("finished %s", s) }
func (o *recObserver) OutboundRequest(status int, failure string, d time.Duration) {
	o.add("outbound %d %s", status, failure)
}
func (o *recObserver) OutboundRetry() { o.add("retry") }

type recRecorder struct {
	o    *recObserver
	name string
}

func (r *recRecorder) Done(status int, d time.Duration) { r.o.add("request %s %d", r.name, status) }

func equalEvents(t *testing.T, label string, got []string, want ...string) {
	t.Helper()
	sort.Strings(want)
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("%s: events %q, want %q", label, got, want)
	}
}

// TestServiceObserver: the service hands out one recorder per compiled
// flow (the hot path looks nothing up), counts its rejections and the
// executions it finishes.
func TestServiceObserver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := &flowTestStore{unused: errors.New("unused")}
	svc := NewService(store, store, nil)
	obs := &recObserver{}
	svc.UseObserver(obs)
	w, err := svc.CreateWorkflow(ctx, []byte(`{"title":"t","mode":"sync","trigger":{"basicAuth":{"enabled":true,"username":"u","password":"p"}},
		"nodes":[{"key":"c","type":"condition","config":{"mode":"continue","rules":{"and":[{"left":"{{$context.body.ok}}","op":"equal","right":"yes"}]}}},
		         {"key":"r","type":"response","config":{"status":201,"body":"fine"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	good := Credentials{Username: "u", Password: "p", Present: true}
	json := func(body string) *Request {
		return &Request{Method: "POST", Headers: []HeaderValue{{Name: "Content-Type", Value: "application/json"}}, Body: []byte(body)}
	}
	for i := 0; i < 3; i++ {
		res, err := svc.Trigger(ctx, w.Key, good, json(`{"ok":"yes"}`))
		if err != nil || res.Response.Status != 201 {
			t.Fatalf("Trigger: %+v, %v", res, err)
		}
		res.Recorder.Done(res.Response.Status, time.Millisecond)
	}
	if _, err := svc.Trigger(ctx, w.Key, good, json(`{"ok":"no"}`)); err != nil {
		t.Fatal(err)
	}
	equalEvents(t, "sync", obs.take(), "finished resolved", "finished resolved", "finished resolved", "finished failed",
		"request 1/sync 201", "request 1/sync 201", "request 1/sync 201")
	if obs.webhooks[1] != 1 {
		t.Errorf("%d recorders asked for workflow 1, want 1 (once per compiled flow)", obs.webhooks[1])
	}

	// Refused: wrong credentials, then a body that is not JSON.
	if _, err := svc.Trigger(ctx, w.Key, Credentials{Username: "u", Password: "x", Present: true}, json(`{}`)); ErrorCode(err) != EUNAUTHORIZED {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := svc.Trigger(ctx, w.Key, good, json(`{not json`)); ErrorCode(err) != EINVALID {
		t.Fatalf("bad JSON: %v", err)
	}
	equalEvents(t, "rejections", obs.take(), "rejected auth", "rejected parse")

	// The recorder of a refused request: the workflow's while its flow is
	// compiled, the one of unknown workflows otherwise.
	svc.WebhookRecorder(w.Key).Done(401, 0)
	svc.WebhookRecorder("no-such-key").Done(404, 0)
	equalEvents(t, "recorders", obs.take(), "request 1/sync 401", "request 0/ 404")

	// Async: a pure flow runs before it is stored, and finishes there.
	if _, err := svc.UpdateWorkflow(ctx, w.ID, []byte(`{"title":"t","mode":"async","nodes":[{"key":"e","type":"end","config":{"status":"failed"}}]}`)); err != nil {
		t.Fatal(err)
	}
	res, err := svc.Trigger(ctx, w.Key, Credentials{}, json(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Recorder.Done(res.Response.Status, time.Millisecond)
	equalEvents(t, "async", obs.take(), "finished failed", "request 1/async 200")
}

// TestRequestNodeObserved: every attempt of a request node is reported
// with its status or failure kind, and every retry; a run without an
// observer in its environment (a test run) reports nothing.
func TestRequestNodeObserved(t *testing.T) {
	t.Parallel()
	f := compileFlow(t, flowAsyncDoc(`[{"key":"n","type":"request","config":{"method":"POST","url":"https://example.com/x","retry":{"attempts":3,"backoffSeconds":0.1}}}]`))
	out := &fakeOutbound{replies: []fakeReply{
		{err: Errorf(OutboundConnect, "connection refused")},
		reply(503, "busy"),
		reply(200, `{}`),
	}}
	obs := &recObserver{}
	sc := actScope(out, true)
	sc.Env.Observer = obs
	r := f.Run(context.Background(), sc)
	if r.Status != StatusResolved {
		t.Fatalf("status %s: %s", r.Status, r.Error)
	}
	equalEvents(t, "attempts", obs.take(), "outbound 0 outbound_connect", "outbound 503 ", "outbound 200 ", "retry", "retry")

	// Not inline: the retry is a wait, counted too.
	out = &fakeOutbound{replies: []fakeReply{reply(500, "")}}
	sc = actScope(out, false)
	sc.Env.Observer = obs
	if r := f.Run(context.Background(), sc); r.Status != StatusWaiting {
		t.Fatalf("status %s, want waiting", r.Status)
	}
	equalEvents(t, "wait", obs.take(), "outbound 500 ", "retry")

	// A test run's environment has no observer.
	sc = actScope(&fakeOutbound{}, true)
	if r := f.Run(context.Background(), sc); r.Status != StatusResolved {
		t.Fatalf("status %s", r.Status)
	}
	equalEvents(t, "unobserved", obs.take())
}
