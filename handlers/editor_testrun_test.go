package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hookflow/hookflow/engine"
)

// Test runs in the editor (issue 16).

// s9WithSamples is the §9 example with samples for a paid order.
var s9WithSamples = strings.Replace(editorS9, `"response": {"status": 200, "headers": [], "body": "ok"}`,
	`"response": {"status": 200, "headers": [], "body": "ok"},
    "samples": {"headers": {"content-type": "application/json", "x-request-id": "r-1"}, "query": "source=shop", "body": "{\"order\": {\"id\": 7, \"status\": \"paid\"}}"}`, 1)

func TestEditorTestRun(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(s9WithSamples)

	// The bar offers the samples, selected.
	_, page := e.sess.get(t, e.srv.app, wfPath(w.ID, ""))
	cspSafe(t, page)
	mustTestID(t, page, "test-bar", "test-run", "test-result", "test-announce")
	sel := element(t, page, "test-input")
	if !strings.Contains(sel, `<option value="samples" selected>The trigger's samples: 2 headers, a query, a 38-byte body</option>`) {
		t.Errorf("test input %s", sel)
	}
	if !strings.Contains(textOf(element(t, page, "test-unsaved")), "save to test your changes") || !strings.Contains(element(t, page, "test-unsaved"), " hidden") {
		t.Error("the unsaved note is missing or shown")
	}

	res, body := e.post(wfPath(w.ID, "/test"), url.Values{"input": {"samples"}})
	wantStatus(t, res, http.StatusOK)
	if got := textOf(element(t, body, "test-path")); got != "Ran: Paid? (yes) → ok; reply 200." {
		t.Errorf("path text %q", got)
	}
	if got := textOf(element(t, body, "test-status-badge")); got != "resolved" {
		t.Errorf("status %q", got)
	}
	if !strings.Contains(textOf(element(t, body, "test-summary")), "Revision 1 on the trigger's samples. Not stored.") {
		t.Errorf("summary %q", textOf(element(t, body, "test-summary")))
	}
	// The execution page's components: the steps and the reply.
	mustTestID(t, body, "execution-jobs", "job-paid", "job-ok", "execution-response")
	if got := textOf(element(t, body, "execution-response-body")); !strings.Contains(got, `"id": 7`) {
		t.Errorf("reply body %q", got)
	}
	if !strings.Contains(textOf(element(t, body, "execution-response")), "Reply the caller would get") {
		t.Error("the reply is not worded as a test's")
	}
	// The canvas, out of band, shows the path; the status region says it.
	canvas := element(t, body, "canvas")
	if !strings.Contains(body, `id="canvas-region" aria-label="Flow" hx-swap-oob="true"`) {
		t.Error("no canvas out of band")
	}
	if textOf(element(t, canvas, "node-status-paid")) != "resolved" || textOf(element(t, canvas, "node-status-ok")) != "resolved" ||
		textOf(element(t, canvas, "node-not-run-bad")) != "Did not run" {
		t.Errorf("canvas path: %s", textOf(canvas))
	}
	if !strings.Contains(canvas, `href="/workflows/`+strconv.FormatInt(w.ID, 10)+`?node=paid"`) {
		t.Error("the canvas is no longer the editor's (cards should still open their panel)")
	}
	if !strings.Contains(body, `<div id="test-status" hx-swap-oob="innerHTML">Test run resolved. Ran: Paid? (yes) → ok; reply 200.</div>`) {
		t.Errorf("no announcement in %s", body)
	}
	// Nothing stored.
	if list, _ := e.srv.svc.ListExecutions(context.Background(), engine.ExecutionFilter{WorkflowID: w.ID}); len(list) != 0 {
		t.Errorf("a test run was stored: %d executions", len(list))
	}

	// The unsaved note is repeated beside the result.
	_, body = e.post(wfPath(w.ID, "/test"), url.Values{"input": {"samples"}, "unsaved": {"1"}})
	mustTestID(t, body, "test-unsaved-note")

	// A past execution's request: an unpaid order takes the no branch.
	req := httptest.NewRequest(http.MethodPost, "/api/webhook:trigger/"+w.Key, strings.NewReader(`{"order":{"id":8,"status":"open"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("hook", "s3cret")
	if res, _ := send(t, e.srv.app, req); res.StatusCode != 422 {
		t.Fatalf("webhook: %d", res.StatusCode)
	}
	list, _ := e.srv.svc.ListExecutions(context.Background(), engine.ExecutionFilter{WorkflowID: w.ID})
	if len(list) != 1 {
		t.Fatal("no execution")
	}
	xid := strconv.FormatInt(list[0].ID, 10)
	_, page = e.sess.get(t, e.srv.app, wfPath(w.ID, ""))
	if !strings.Contains(element(t, page, "test-input"), `value="execution:`+xid+`"`) {
		t.Error("the bar does not offer the execution")
	}
	_, body = e.post(wfPath(w.ID, "/test"), url.Values{"input": {"execution:" + xid}})
	if got := textOf(element(t, body, "test-path")); got != "Ran: Paid? (no) → bad; reply 422." {
		t.Errorf("on the execution: %q", got)
	}

	// Errors the admin can act on are shown in the result region.
	w2 := e.create(`{"title":"Empty","mode":"async","trigger":{},"nodes":[]}`)
	res, body = e.post(wfPath(w2.ID, "/test"), url.Values{"input": {"samples"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if got := textOf(element(t, body, "test-error")); !strings.Contains(got, "the trigger has no samples") {
		t.Errorf("no samples: %q", got)
	}
	res, body = e.post(wfPath(w2.ID, "/test"), url.Values{"input": {"execution:" + xid}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if !strings.Contains(textOf(element(t, body, "test-error")), "not one of this workflow's") {
		t.Errorf("another workflow's execution: %s", textOf(element(t, body, "test-error")))
	}
	res, _ = e.post(wfPath(w2.ID, "/test"), url.Values{"input": {"capture:nope"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)

	// Without JavaScript: the editor page with the result and the path.
	res, page = doForm(t, e.srv.app, e.sess, wfPath(w.ID, "/test"), url.Values{"input": {"samples"}}, formOpts{})
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, page, "test-summary", "node-status-ok", "trigger-panel")

	// Clear: the canvas without the path.
	res, body = e.post(wfPath(w.ID, "/test/clear"), url.Values{})
	wantStatus(t, res, http.StatusOK)
	if hasTestID(body, "node-status-ok") || hasTestID(body, "test-summary") || !strings.Contains(body, "Test result cleared.") {
		t.Errorf("clear: %s", body)
	}
}

// TestEditorTestRunActing: a request step is not sent unless asked (its
// card says so and the call shows the request it would send), a pinned
// reply reaches later steps, a delay says how long it would wait.
func TestEditorTestRunActing(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	var hits atomic.Int32
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(sink.Close)
	w := e.create(`{"title":"Act","mode":"async","trigger":{"samples":{"body":"{\"n\":3}"}},"nodes":[
		{"key":"quiet","type":"request","config":{"method":"POST","url":"` + sink.URL + `/q","headers":[{"name":"Authorization","value":"Bearer s3cret"}],"body":{"n":"{{$context.body.n}}"}}},
		{"key":"price","type":"request","title":"Price","config":{"method":"GET","url":"` + sink.URL + `/p"},"test":{"pin":{"status":200,"headers":{"Content-Type":"application/json"},"body":{"price":42}}}},
		{"key":"total","type":"set","config":{"value":{"total":"{{$jobsMapByNodeKey.price.body.price}}"}}},
		{"key":"wait","type":"delay","config":{"seconds":3600}}]}`)
	res, body := e.post(wfPath(w.ID, "/test"), url.Values{"input": {"samples"}})
	wantStatus(t, res, http.StatusOK)
	if hits.Load() != 0 {
		t.Fatalf("the test sent %d requests", hits.Load())
	}
	for key, want := range map[string]string{"quiet": "not sent (test)", "price": "pinned reply 200", "wait": "would wait 1 h"} {
		if got := textOf(element(t, body, "node-note-"+key)); got != want {
			t.Errorf("card note of %s = %q, want %q", key, got, want)
		}
	}
	if got := textOf(element(t, body, "job-total")); !strings.Contains(got, `"total": 42`) {
		t.Errorf("the pinned reply did not reach the set step: %q", got)
	}
	mustTestID(t, body, "call-not-sent-quiet", "call-pinned-price", "execution-calls")
	sent := textOf(element(t, body, "call-sent-quiet"))
	if !strings.Contains(sent, "Request it would send: POST") || strings.Contains(sent, "s3cret") || !strings.Contains(sent, `"n": 3`) {
		t.Errorf("the request it would send: %q", sent)
	}
	if got := textOf(element(t, body, "test-path")); got != "Ran: quiet → Price → total → wait; reply 200." {
		t.Errorf("path %q", got)
	}
	if !strings.Contains(textOf(element(t, body, "execution-response")), "Async: a real request gets the trigger's reply") {
		t.Error("async reply not worded for a test")
	}

	// This server has no HTTP client: steps that are not sent do not
	// need one, and a step set to run for real is an error of its own,
	// shown on its card (not a crash).
	w2 := e.create(`{"title":"Real","mode":"sync","trigger":{"samples":{"body":"{}"}},"nodes":[
		{"key":"shown","type":"request","config":{"method":"POST","url":"` + sink.URL + `/a"}},
		{"key":"real","type":"request","config":{"method":"POST","url":"` + sink.URL + `/b"},"test":{"run":true}}]}`)
	res, body = e.post(wfPath(w2.ID, "/test"), url.Values{"input": {"samples"}})
	wantStatus(t, res, http.StatusOK)
	if textOf(element(t, body, "node-note-shown")) != "not sent (test)" || textOf(element(t, body, "node-note-real")) != "request nodes cannot run here" ||
		textOf(element(t, body, "test-status-badge")) != "error" || hits.Load() != 0 {
		t.Errorf("without a client: %s / %s", textOf(element(t, body, "test-summary")), textOf(element(t, canvasOf(t, body), "canvas")))
	}
}

func canvasOf(t *testing.T, body string) string { return element(t, body, "canvas") }

// TestEditorTestRunCapture: a captured request is offered to the Test bar
// (out of band when it comes in) and runs.
func TestEditorTestRunCapture(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(`{"title":"Cap","mode":"sync","trigger":{},"nodes":[{"key":"r","type":"response","config":{"status":201,"body":{"got":"{{$context.body.x}}"}}}]}`)
	_, body := e.post(wfPath(w.ID, "/trigger/listen"), url.Values{})
	poll := attr(t, element(t, body, "listen-timer"), "hx-get")
	if st := e.webhook(w.Key, "application/json", `{"x":"live"}`, nil); st != 201 {
		t.Fatalf("webhook %d", st)
	}
	_, body = e.sess.getHTMX(t, e.srv.app, poll)
	sel := element(t, body, "test-input")
	if !strings.Contains(body, `id="test-input-box" hx-swap-oob="true"`) || !strings.Contains(sel, `<option value="capture:`) ||
		!regexp.MustCompile(` selected>Captured at \d\d:\d\d:\d\d UTC · POST</option>`).MatchString(sel) {
		t.Fatalf("test input after the capture: %s", sel)
	}
	// The method was copied out of the server's buffers: later requests
	// do not change it.
	for range 3 {
		e.sess.getHTMX(t, e.srv.app, poll)
	}
	if _, page := e.sess.get(t, e.srv.app, wfPath(w.ID, "")); !strings.Contains(element(t, page, "test-input"), "· POST</option>") {
		t.Errorf("the captured method changed: %s", element(t, page, "test-input"))
	}
	id := strings.TrimPrefix(strings.SplitN(poll, "?", 2)[0], wfPath(w.ID, "/trigger/listen/"))
	res, body := e.post(wfPath(w.ID, "/test"), url.Values{"input": {"capture:" + id}})
	wantStatus(t, res, http.StatusOK)
	if got := textOf(element(t, body, "execution-response-body")); !strings.Contains(got, `"got": "live"`) {
		t.Errorf("reply on the capture: %q", got)
	}
	if !strings.Contains(textOf(element(t, body, "test-summary")), "the request captured at") {
		t.Error("the input is not named")
	}
}
