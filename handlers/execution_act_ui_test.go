package handlers_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/outbound"
)

// The execution pages of acting workflows (issue 10, parts 4 and 5): what
// a waiting execution and its calls look like, and the replay, retry and
// cancel forms on one execution and on the list's selection. The flows
// run for real: a runner, the HTTP client and a server on 127.0.0.1.

type actUI struct {
	*editorEnv
}

// newActUI is an editor bundle whose service runs executions and calls
// out (loopback allowed).
func newActUI(t *testing.T) *actUI {
	t.Helper()
	e := newEditorEnv(t)
	client, err := outbound.New(outbound.Config{Deny: outbound.DenyNone})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.svc.UseOutbound(client, "Hookflow/test")
	r := e.srv.svc.NewRunner(engine.RunnerConfig{Workers: 4, Poll: 100 * time.Millisecond, Lease: 3 * time.Second})
	r.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r.Stop(ctx)
		client.CloseIdleConnections()
	})
	return &actUI{e}
}

// until waits for an execution to reach one of the statuses.
func (a *actUI) until(id int64, want ...engine.ExecStatus) *engine.Execution {
	a.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		x, err := a.srv.svc.GetExecution(context.Background(), id)
		if err != nil {
			a.t.Fatal(err)
		}
		for _, w := range want {
			if x.Status == w {
				return x
			}
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("execution %d is %s, want %v (error %q)", id, x.Status, want, x.Error)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// untilJob waits for an execution to wait at the step key (a retry of an
// earlier call waits too).
func (a *actUI) untilJob(id int64, key string) {
	a.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		x := a.until(id, engine.StatusWaiting)
		if n := len(x.Jobs); n > 0 && x.Jobs[n-1].NodeKey == key {
			return
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("execution %d does not wait at %s", id, key)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// form posts a plain form (the _csrf field, no htmx) and expects a
// redirect; it returns the page the browser lands on, with the flash.
func (a *actUI) form(path string, f url.Values) (location, page string) {
	a.t.Helper()
	res, body := doForm(a.t, a.srv.app, a.sess, path, f, formOpts{})
	if res.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("POST %s: %d, want 303\n%.500s", path, res.StatusCode, body)
	}
	location = res.Header.Get("Location")
	req := httptest.NewRequest(http.MethodGet, location, nil)
	cookie := a.sess.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "hookflow_flash" && c.Value != "" {
			cookie += "; hookflow_flash=" + c.Value
		}
	}
	req.Header.Set("Cookie", cookie)
	res, page = send(a.t, a.srv.app, req)
	wantStatus(a.t, res, http.StatusOK)
	return location, page
}

func exURL(id int64, rest string) string { return "/executions/" + strconv.FormatInt(id, 10) + rest }

func TestExecutionPageActing(t *testing.T) {
	t.Parallel()
	a := newActUI(t)
	var calls atomic.Int32
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "busy")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"received":true}`)
	}))
	defer sink.Close()
	w := a.create(`{"title":"Forward","mode":"async","trigger":{},"nodes":[
	  {"key":"notify","type":"request","title":"Tell chat","config":{"method":"POST","url":"` + sink.URL + `/hook",
	    "headers":[{"name":"Authorization","value":"Bearer chat-secret"}],"body":{"text":"{{$context.body.msg}}"},
	    "retry":{"attempts":3,"backoffSeconds":0.1,"maxBackoffSeconds":1}}},
	  {"key":"wait","type":"delay","config":{"seconds":3600}}]}`)
	x := trigger(t, a.srv.svc, w.Key, jsonRequest(`{"msg":"hello"}`))
	a.untilJob(x.ExecutionID, "wait")

	res, body := a.sess.get(t, a.srv.app, exURL(x.ExecutionID, ""))
	wantStatus(t, res, http.StatusOK)
	cspSafe(t, body)
	// Waiting: what for and until when, and the page refreshes itself.
	if got := textOf(element(t, body, "execution-wait-text")); !strings.HasPrefix(got, "Waits for step 'wait' until ") || !strings.HasSuffix(got, "in 1 hour") {
		t.Errorf("wait = %q", got)
	}
	if got := textOf(element(t, body, "execution-status")); got != "waiting" || attr(t, element(t, body, "execution-status"), "data-announce") == "" {
		t.Errorf("status badge = %s", element(t, body, "execution-status"))
	}
	if !strings.Contains(body, `hx-trigger="every 2s, poll-now"`) {
		t.Error("a waiting execution's page does not refresh")
	}
	// The call: two attempts, the first a 503 retried later.
	calls1 := element(t, body, "call-attempts-notify")
	if got := textOf(element(t, calls1, "attempt-notify-1")); !strings.Contains(got, "503") || !strings.Contains(got, "HTTP 503") || !strings.Contains(got, "UTC") {
		t.Errorf("attempt 1 = %q", got)
	}
	if got := textOf(element(t, calls1, "attempt-notify-2")); !strings.Contains(got, "200") || strings.Contains(got, "HTTP") {
		t.Errorf("attempt 2 = %q", got)
	}
	if got := textOf(element(t, body, "call-line-notify")); got != "POST "+sink.URL+"/hook" {
		t.Errorf("call line = %q", got)
	}
	// In disclosure widgets: the request sent (secrets redacted) and each
	// reply received.
	sent := element(t, body, "call-sent-notify")
	if !strings.HasPrefix(sent, "<details") || !strings.Contains(sent, "<summary") || !strings.Contains(textOf(sent), "Authorization [redacted]") ||
		strings.Contains(sent, "chat-secret") || !strings.Contains(textOf(sent), `"text": "hello"`) {
		t.Errorf("request sent = %s", sent)
	}
	if got := textOf(element(t, body, "call-reply-body-notify-1")); got != "busy" {
		t.Errorf("reply 1 = %q", got)
	}
	if got := textOf(element(t, body, "call-reply-body-notify-2")); got != `{ "received": true }` {
		t.Errorf("reply 2 = %q", got)
	}
	if strings.Contains(body, "chat-secret") {
		t.Error("the page shows the secret")
	}
	// Actions: replay and cancel allowed, retry not, and why.
	for id, disabled := range map[string]bool{"execution-replay": false, "execution-cancel": false, "execution-retry": true} {
		if got := strings.Contains(strings.SplitN(element(t, body, id), ">", 2)[0], " disabled"); got != disabled {
			t.Errorf("%s disabled = %v, want %v", id, got, disabled)
		}
	}
	if got := textOf(element(t, body, "execution-retry-why")); !strings.Contains(got, "this one is waiting") {
		t.Errorf("why no retry = %q", got)
	}
	if attr(t, element(t, body, "execution-retry"), "aria-describedby") != "exec-retry-why" {
		t.Error("the disabled retry is not described by its reason")
	}
	if hasTestID(body, "execution-cancel-why") || hasTestID(body, "execution-lineage") {
		t.Error("a reason for cancel, or replay links, on a waiting original")
	}

	// Cancel: back on the page, aborted, with a flash; now retry is on.
	loc, page := a.form(exURL(x.ExecutionID, "/cancel"), nil)
	if loc != exURL(x.ExecutionID, "") {
		t.Errorf("cancel went to %s", loc)
	}
	if got := textOf(element(t, page, "flash-success")); !strings.Contains(got, "Cancelled") {
		t.Errorf("flash = %q", got)
	}
	if got := textOf(element(t, page, "execution-status")); got != "aborted" || !strings.Contains(page, "An admin cancelled it.") {
		t.Errorf("after cancel: %q", got)
	}
	if strings.Contains(page, `hx-trigger="every 2s`) || hasTestID(page, "execution-wait") {
		t.Error("a cancelled execution still refreshes or waits")
	}
	if strings.Contains(strings.SplitN(element(t, page, "execution-retry"), ">", 2)[0], " disabled") {
		t.Error("retry is off on an aborted execution")
	}
	if got := textOf(element(t, page, "execution-cancel-why")); !strings.Contains(got, "has finished (aborted)") {
		t.Errorf("why no cancel = %q", got)
	}
	// Cancelling it again says why not, on its page.
	_, page = a.form(exURL(x.ExecutionID, "/cancel"), nil)
	if got := textOf(element(t, page, "flash-error")); !strings.Contains(got, "is aborted and cannot be cancelled: only queued, running or waiting executions can be cancelled") {
		t.Errorf("second cancel = %q", got)
	}

	// Retry goes on from the step that stopped it: it waits again.
	_, page = a.form(exURL(x.ExecutionID, "/retry"), nil)
	if got := textOf(element(t, page, "flash-success")); !strings.Contains(got, "Retrying") {
		t.Errorf("retry flash = %q", got)
	}
	a.untilJob(x.ExecutionID, "wait")

	// Replay: a new execution, linked both ways.
	loc, page = a.form(exURL(x.ExecutionID, "/replay"), nil)
	replayID, err := strconv.ParseInt(strings.TrimPrefix(loc, "/executions/"), 10, 64)
	if err != nil || replayID == x.ExecutionID {
		t.Fatalf("replay went to %s", loc)
	}
	if got := textOf(element(t, page, "flash-success")); !strings.Contains(got, "Replayed execution #") || !strings.Contains(got, "revision 1") {
		t.Errorf("replay flash = %q", got)
	}
	if got := attr(t, element(t, page, "execution-original"), "href"); got != exURL(x.ExecutionID, "") {
		t.Errorf("link to the original = %q", got)
	}
	_, body = a.sess.get(t, a.srv.app, exURL(x.ExecutionID, ""))
	if got := attr(t, element(t, body, "execution-replay-"+strconv.FormatInt(replayID, 10)), "href"); got != loc {
		t.Errorf("the original links its replay as %q", got)
	}

	// Without the CSRF token: refused, nothing done.
	for _, verb := range []string{"replay", "retry", "cancel"} {
		res, _ := doForm(t, a.srv.app, a.sess, exURL(x.ExecutionID, "/"+verb), nil, formOpts{NoCSRF: true})
		wantStatus(t, res, http.StatusForbidden)
	}
	// An unknown execution: 404.
	res, _ = doForm(t, a.srv.app, a.sess, exURL(999, "/replay"), nil, formOpts{})
	wantStatus(t, res, http.StatusNotFound)
}

// A call whose next attempt is due later says so, with the reason.
func TestExecutionPageRetryWait(t *testing.T) {
	t.Parallel()
	a := newActUI(t)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer sink.Close()
	w := a.create(`{"title":"Flaky","mode":"async","trigger":{},"nodes":[
	  {"key":"notify","type":"request","config":{"method":"GET","url":"` + sink.URL + `","retry":{"attempts":5,"backoffSeconds":600,"maxBackoffSeconds":600}}}]}`)
	x := trigger(t, a.srv.svc, w.Key, jsonRequest(`{}`))
	a.until(x.ExecutionID, engine.StatusWaiting)
	_, body := a.sess.get(t, a.srv.app, exURL(x.ExecutionID, ""))
	got := textOf(element(t, body, "execution-wait-text"))
	if !strings.HasPrefix(got, "Retries step 'notify' at ") || !strings.HasSuffix(got, "minutes: attempt 1 of 5 failed: HTTP 503") {
		t.Errorf("wait = %q", got)
	}
	if !strings.Contains(textOf(element(t, body, "attempt-notify-1")), "UTC") {
		t.Error("attempt 1 does not say when the next one is due")
	}
	// The list shows when it goes on.
	_, body = a.sess.get(t, a.srv.app, wfPath(w.ID, "/executions"))
	if got := textOf(element(t, body, "execution-due-"+strconv.FormatInt(x.ExecutionID, 10))); !strings.HasPrefix(got, "until ") {
		t.Errorf("due in the list = %q", got)
	}
}

func TestExecutionBulkActions(t *testing.T) {
	t.Parallel()
	a := newActUI(t)
	// ok: true waits an hour; ok: false fails at the condition.
	w := a.create(`{"title":"Gate","mode":"async","trigger":{},"nodes":[
	  {"key":"gate","type":"condition","config":{"mode":"continue","rules":{"and":[{"left":"{{$context.body.ok}}","op":"equal","right":true}]}}},
	  {"key":"wait","type":"delay","config":{"seconds":3600}}]}`)
	other := a.create(`{"title":"Other","mode":"async","trigger":{},"nodes":[{"key":"wait","type":"delay","config":{"seconds":3600}}]}`)
	ids := map[string][]int64{}
	for _, ok := range []string{"true", "true", "false", "false"} {
		x := trigger(t, a.srv.svc, w.Key, jsonRequest(`{"ok":`+ok+`}`))
		ids[ok] = append(ids[ok], x.ExecutionID)
	}
	for _, id := range ids["true"] {
		a.until(id, engine.StatusWaiting)
	}
	for _, id := range ids["false"] {
		a.until(id, engine.StatusFailed)
	}
	foreign := trigger(t, a.srv.svc, other.Key, jsonRequest(`{}`)).ExecutionID
	a.until(foreign, engine.StatusWaiting)
	idStr := func(id int64) string { return strconv.FormatInt(id, 10) }
	list := wfPath(w.ID, "/executions")

	// The list: a selection column, the bulk bar and "replay all".
	_, body := a.sess.get(t, a.srv.app, list)
	cspSafe(t, body)
	mustTestID(t, body, "bulk-form", "bulk-count", "bulk-replay", "bulk-retry", "bulk-cancel", "select-all", "replay-all", "replay-all-form",
		"replay-all-since", "replay-all-until", "select-"+idStr(ids["true"][0]), "select-"+idStr(ids["false"][1]))
	box := element(t, body, "select-"+idStr(ids["false"][0]))
	if attr(t, box, "form") != "exec-bulk" || attr(t, box, "name") != "ids" || !strings.Contains(attr(t, box, "aria-label"), "failed") {
		t.Errorf("row checkbox = %s", box)
	}
	if attr(t, element(t, body, "select-all"), "aria-label") != "Select all executions on this page" {
		t.Error("select all has no name")
	}
	if !strings.Contains(body, `data-poll-pause="input[name=ids]:checked"`) {
		t.Error("the table refreshes under a selection")
	}
	if !strings.Contains(element(t, body, "replay-all"), "<legend>Received (UTC, both optional)</legend>") {
		t.Error("replay all: no legend for the time range")
	}
	// On a filter where retry and cancel can change nothing: off, and why.
	_, body = a.sess.get(t, a.srv.app, list+"?status=resolved")
	for _, id := range []string{"bulk-retry", "bulk-cancel"} {
		if !strings.Contains(strings.SplitN(element(t, body, id), ">", 2)[0], " disabled") {
			t.Errorf("%s is on for resolved executions", id)
		}
	}
	if got := textOf(element(t, body, "bulk-retry-why")); !strings.Contains(got, "none of the resolved ones can be retried") {
		t.Errorf("why = %q", got)
	}

	bulk := func(action string, sel ...int64) (string, string) {
		f := url.Values{"action": {action}, "status": {""}}
		for _, id := range sel {
			f.Add("ids", idStr(id))
		}
		return a.form(wfPath(w.ID, "/executions/actions"), f)
	}
	// Retry: the failed ones go on; a waiting one is skipped, and why;
	// another workflow's execution is not touched.
	loc, page := bulk("retry", ids["false"][0], ids["false"][1], ids["true"][0], foreign)
	if loc != list {
		t.Errorf("bulk went to %s", loc)
	}
	want := "Retried 2 executions: they go on from the step that stopped them. Skipped 1: only failed, error or aborted executions can be retried (1 waiting). 1 execution no longer exists in this workflow."
	if got := textOf(element(t, page, "flash-success")); got != want {
		t.Errorf("flash = %q\nwant %q", got, want)
	}
	for _, id := range ids["false"] {
		a.until(id, engine.StatusFailed) // the condition says no again
	}
	if x := a.until(foreign, engine.StatusWaiting); x.Status != engine.StatusWaiting {
		t.Error("another workflow's execution changed")
	}

	// Cancel the waiting ones, keeping the filter.
	f := url.Values{"action": {"cancel"}, "status": {"waiting"}, "ids": {idStr(ids["true"][0]), idStr(ids["true"][1]), idStr(ids["false"][0])}}
	loc, page = a.form(wfPath(w.ID, "/executions/actions"), f)
	if loc != list+"?status=waiting" {
		t.Errorf("cancel went to %s", loc)
	}
	if got := textOf(element(t, page, "flash-success")); got != "Cancelled 2 executions: they are aborted. Skipped 1: only queued, running or waiting executions can be cancelled (1 failed)." {
		t.Errorf("flash = %q", got)
	}
	for _, id := range ids["true"] {
		a.until(id, engine.StatusAborted)
	}

	// Replay two: new executions pointing back.
	_, page = bulk("replay", ids["false"][0], ids["true"][0])
	if got := textOf(element(t, page, "flash-success")); got != "Replayed 2 executions as new ones with revision 1." {
		t.Errorf("flash = %q", got)
	}
	all, err := a.srv.svc.ListExecutions(context.Background(), engine.ExecutionFilter{WorkflowID: w.ID, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	replays := 0
	for _, e := range all {
		if e.ReplayOf == ids["false"][0] || e.ReplayOf == ids["true"][0] {
			replays++
		}
	}
	if replays != 2 {
		t.Errorf("%d replays stored, want 2", replays)
	}
	mustTestID(t, page, "execution-replay-of-"+idStr(all[0].ID))

	// Nothing selected: said, nothing done. Nothing possible: an error.
	_, page = bulk("retry")
	if got := textOf(element(t, page, "flash-error")); got != "Nothing selected: tick the executions to retry first." {
		t.Errorf("flash = %q", got)
	}
	_, page = bulk("cancel", ids["true"][0])
	if got := textOf(element(t, page, "flash-error")); !strings.HasPrefix(got, "Cancelled 0 executions. Skipped 1:") {
		t.Errorf("flash = %q", got)
	}
	// Bad input: 400.
	for _, f := range []url.Values{{"action": {"delete"}, "ids": {"1"}}, {"action": {"retry"}, "ids": {"x"}}} {
		res, _ := doForm(t, a.srv.app, a.sess, wfPath(w.ID, "/executions/actions"), f, formOpts{})
		wantStatus(t, res, http.StatusBadRequest)
	}
	res, _ := doForm(t, a.srv.app, a.sess, wfPath(w.ID, "/executions/actions"), url.Values{"action": {"retry"}}, formOpts{NoCSRF: true})
	wantStatus(t, res, http.StatusForbidden)
}

func TestExecutionReplayAll(t *testing.T) {
	t.Parallel()
	a := newActUI(t)
	w := a.create(`{"title":"Gate","mode":"async","trigger":{},"nodes":[
	  {"key":"gate","type":"condition","config":{"mode":"continue","rules":{"and":[{"left":"{{$context.body.ok}}","op":"equal","right":true}]}}}]}`)
	var failed []int64
	for _, ok := range []string{"false", "true", "false"} {
		x := trigger(t, a.srv.svc, w.Key, jsonRequest(`{"ok":`+ok+`}`))
		st := a.until(x.ExecutionID, engine.StatusFailed, engine.StatusResolved)
		if st.Status == engine.StatusFailed {
			failed = append(failed, x.ExecutionID)
		}
	}
	path := wfPath(w.ID, "/executions/replay")

	// Bad times: the list again (422), the form open, errors by the inputs.
	res, body := doForm(t, a.srv.app, a.sess, path, url.Values{"status": {"failed"}, "since": {"yesterday"}, "until": {"2026-01-01T00:00"}}, formOpts{})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if !strings.Contains(element(t, body, "replay-all"), " open") {
		t.Error("the form is folded after an error")
	}
	if got := textOf(element(t, body, "replay-all-since-error")); got != "Must be a date and time such as 2026-05-01T09:00" {
		t.Errorf("since error = %q", got)
	}
	if attr(t, element(t, body, "replay-all-since"), "aria-invalid") != "true" || attr(t, element(t, body, "replay-all-since"), "value") != "yesterday" {
		t.Error("the bad input is not marked, or not kept")
	}
	res, body = doForm(t, a.srv.app, a.sess, path, url.Values{"since": {"2026-02-01T00:00"}, "until": {"2026-01-01T00:00"}}, formOpts{})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if got := textOf(element(t, body, "replay-all-until-error")); got != "Must be after From" {
		t.Errorf("until error = %q", got)
	}

	// The failed ones, in a range that holds them: two queued.
	now := time.Now().UTC()
	f := url.Values{"status": {"failed"}, "since": {now.Add(-time.Hour).Format("2006-01-02T15:04")}, "until": {now.Add(time.Hour).Format("2006-01-02T15:04:05")}}
	loc, page := a.form(path, f)
	if loc != wfPath(w.ID, "/executions") {
		t.Errorf("replay all went to %s", loc)
	}
	if got := textOf(element(t, page, "flash-success")); got != "Queued 2 replays of failed executions with revision 1. They run in the background and appear here as new executions." {
		t.Errorf("flash = %q", got)
	}
	list, err := a.srv.svc.ListExecutions(context.Background(), engine.ExecutionFilter{WorkflowID: w.ID, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range list {
		if e.ReplayOf != 0 {
			n++
			if e.ReplayOf != failed[0] && e.ReplayOf != failed[1] {
				t.Errorf("replayed %d, not a failed one", e.ReplayOf)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d replays, want 2", n)
	}
	// A range with none.
	_, page = a.form(path, url.Values{"status": {"failed"}, "until": {"2020-01-01T00:00"}})
	if got := textOf(element(t, page, "flash-info")); got != "No failed executions in that range: nothing was replayed." {
		t.Errorf("flash = %q", got)
	}
	res, _ = doForm(t, a.srv.app, a.sess, path, url.Values{"status": {"bogus"}}, formOpts{})
	wantStatus(t, res, http.StatusBadRequest)
}
