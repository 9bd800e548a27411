package handlers_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/engine"
)

// paymentDoc is the §9 example without Basic Auth.
const paymentDoc = `{
  "title": "Payment callback", "mode": "sync", "enabled": true,
  "trigger": {"body": [{"path": "order.id", "alias": "Order"}, {"path": "order.status"}]},
  "nodes": [
    {"key": "paid", "type": "condition", "title": "Paid?",
     "config": {"mode": "branch", "rules": {"and": [
        {"left": "{{$context.body.order.status}}", "op": "equal", "right": "paid"}]}},
     "branches": {
       "yes": [{"key": "ok", "type": "response", "config": {"status": 200,
                "headers": [{"name": "X-Order", "value": "{{$context.body.order.id}}"}],
                "body": {"ok": true, "id": "{{$context.body.order.id}}"}}}],
       "no":  [{"key": "bad", "type": "response", "config": {"status": 422, "body": {"ok": false}}}]}}
  ]
}`

func trigger(t *testing.T, svc *engine.Service, key string, req *engine.Request) *engine.TriggerResult {
	t.Helper()
	if req.Method == "" {
		req.Method = "POST"
	}
	r, err := svc.Trigger(context.Background(), key, engine.Credentials{}, req)
	if err != nil {
		t.Fatalf("trigger: %v", err)
	}
	return r
}

func jsonRequest(body string) *engine.Request {
	return &engine.Request{Method: "POST", Headers: []engine.HeaderValue{{Name: "Content-Type", Value: "application/json"}, {Name: "X-Request-Id", Value: "r-1"}}, Body: []byte(body)}
}

func TestExecutionList(t *testing.T) {
	t.Parallel()
	app, _, svc := newUITestServer(t)
	s := signIn(t, app)
	w := createWorkflow(t, svc, paymentDoc)
	paid := trigger(t, svc, w.Key, jsonRequest(`{"order":{"id":1,"status":"paid"}}`))
	refunded := trigger(t, svc, w.Key, jsonRequest(`{"order":{"id":2,"status":"refunded"}}`))

	res, body := s.get(t, app, "/workflows/1/executions")
	wantStatus(t, res, http.StatusOK)
	cspSafe(t, body)
	mustTestID(t, body, "execution-list", "execution-live", "status-filter-all", "status-filter-queued", "status-filter-running",
		"status-filter-resolved", "status-filter-failed", "status-filter-error", "status-filter-aborted")
	a, b := "execution-row-"+strconv.FormatInt(refunded.ExecutionID, 10), "execution-row-"+strconv.FormatInt(paid.ExecutionID, 10)
	mustTestID(t, body, a, b)
	if strings.Index(body, a) > strings.Index(body, b) {
		t.Error("executions are not newest first")
	}
	row := element(t, body, a)
	for _, want := range []string{`href="/executions/` + strconv.FormatInt(refunded.ExecutionID, 10) + `"`, "badge-resolved", ">1<", `<span class="chip" title="The caller got 422">422</span>`} {
		if !strings.Contains(row, want) {
			t.Errorf("row lacks %s: %s", want, row)
		}
	}
	if !strings.Contains(element(t, body, "status-filter-all"), `aria-current="page"`) {
		t.Error("All is not the current filter")
	}
	// The newest page polls itself.
	if !strings.Contains(body, `hx-trigger="every 3s, poll-now"`) || !strings.Contains(body, "data-poll") || !strings.Contains(body, "/static/list.js?v=") {
		t.Error("the newest page does not poll")
	}

	// Polling gets the table alone.
	res, frag := s.getHTMX(t, app, "/workflows/1/executions")
	wantStatus(t, res, http.StatusOK)
	if strings.Contains(frag, "<html") || !strings.HasPrefix(strings.TrimSpace(frag), `<div id="execution-table"`) {
		t.Errorf("htmx reply is not the table fragment: %.100s", frag)
	}

	// Filters.
	_, body = s.get(t, app, "/workflows/1/executions?status=failed")
	mustTestID(t, body, "empty-state")
	if !strings.Contains(element(t, body, "status-filter-failed"), `aria-current="page"`) {
		t.Error("failed is not the current filter")
	}
	if !strings.Contains(textOf(element(t, body, "empty-state")), "No failed executions") {
		t.Error("empty filtered list does not say so")
	}
	res, _ = s.get(t, app, "/workflows/1/executions?status=bogus")
	wantStatus(t, res, http.StatusBadRequest)
	res, _ = s.get(t, app, "/workflows/1/executions?before=x")
	wantStatus(t, res, http.StatusBadRequest)

	// The latest link goes to the newest execution.
	res, _ = s.get(t, app, "/workflows/1/executions/latest")
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/executions/"+strconv.FormatInt(refunded.ExecutionID, 10) {
		t.Errorf("latest: Location %q", loc)
	}

	// Unknown workflows are 404 pages.
	for _, p := range []string{"/workflows/9/executions", "/workflows/x/executions", "/workflows/9/executions/latest"} {
		res, body := s.get(t, app, p)
		if res.StatusCode != http.StatusNotFound || !hasTestID(body, "error-page") {
			t.Errorf("GET %s: %d", p, res.StatusCode)
		}
	}
}

func TestExecutionListEmptyAndLatest(t *testing.T) {
	t.Parallel()
	app, _, svc := newUITestServer(t)
	s := signIn(t, app)
	w := createWorkflow(t, svc, `{"title":"Quiet","mode":"async","nodes":[]}`)
	_, body := s.get(t, app, "/workflows/1/executions")
	mustTestID(t, body, "empty-state", "empty-curl")
	if !strings.Contains(element(t, body, "empty-curl"), "http://example.com/api/webhook:trigger/"+w.Key) {
		t.Error("empty state does not show how to call the URL")
	}
	res, _ := s.get(t, app, "/workflows/1/executions/latest")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/workflows/1/executions" {
		t.Errorf("latest without executions: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestExecutionListPagination(t *testing.T) {
	t.Parallel()
	app, _, svc := newUITestServer(t)
	s := signIn(t, app)
	w := createWorkflow(t, svc, `{"title":"Busy","mode":"sync","nodes":[]}`)
	var ids []int64
	for range 52 {
		ids = append(ids, trigger(t, svc, w.Key, &engine.Request{}).ExecutionID)
	}
	_, body := s.get(t, app, "/workflows/1/executions")
	if n := strings.Count(body, `data-testid="execution-row-`); n != 50 {
		t.Fatalf("first page has %d rows, want 50", n)
	}
	older := element(t, body, "page-older")
	cursor := strconv.FormatInt(ids[2], 10) // the 50th newest
	if !strings.Contains(older, `href="/workflows/1/executions?before=`+cursor+`"`) {
		t.Fatalf("older link %s, want before=%s", older, cursor)
	}
	_, body = s.get(t, app, "/workflows/1/executions?before="+cursor)
	if n := strings.Count(body, `data-testid="execution-row-`); n != 2 {
		t.Errorf("second page has %d rows, want 2", n)
	}
	mustTestID(t, body, "execution-row-"+strconv.FormatInt(ids[0], 10), "page-newest")
	if hasTestID(body, "page-older") {
		t.Error("last page links to an older one")
	}
	if strings.Contains(body, "hx-trigger") || hasTestID(body, "execution-live") {
		t.Error("an older page polls")
	}
	// The status filter is kept across pages.
	_, body = s.get(t, app, "/workflows/1/executions?status=resolved")
	if !strings.Contains(element(t, body, "page-older"), "status=resolved") {
		t.Error("older link drops the filter")
	}
}

func TestExecutionPage(t *testing.T) {
	t.Parallel()
	app, _, svc := newUITestServer(t)
	s := signIn(t, app)
	w := createWorkflow(t, svc, paymentDoc)
	req := jsonRequest(`{"order":{"id":123456789012345678901234567890,"status":"paid"}}`)
	req.Query = "source=shop&tags[]=a&tags[]=b"
	req.Headers = append(req.Headers, engine.HeaderValue{Name: "Authorization", Value: "Bearer top-secret"})
	r := trigger(t, svc, w.Key, req)
	path := "/executions/" + strconv.FormatInt(r.ExecutionID, 10)

	res, body := s.get(t, app, path)
	wantStatus(t, res, http.StatusOK)
	cspSafe(t, body)
	mustTestID(t, body, "execution-status", "execution-request-body", "execution-jobs", "job-paid", "job-ok", "execution-response",
		"execution-canvas", "execution-request-headers", "execution-request-query", "execution-request-query-parsed")
	if got := textOf(element(t, body, "execution-status")); got != "resolved" {
		t.Errorf("status %q", got)
	}
	// The body is indented from its raw bytes: the big number is exact.
	reqBody := element(t, body, "execution-request-body")
	if !strings.Contains(reqBody, "&#34;id&#34;: 123456789012345678901234567890") && !strings.Contains(reqBody, "&quot;id&quot;: 123456789012345678901234567890") && !strings.Contains(reqBody, `"id": 123456789012345678901234567890`) {
		t.Errorf("request body not pretty or not exact: %s", reqBody)
	}
	headers := textOf(element(t, body, "execution-request-headers"))
	if !strings.Contains(headers, "x-request-id r-1") {
		t.Error("headers table lacks x-request-id")
	}
	// Credentials are masked on the page.
	if !strings.Contains(headers, "authorization Bearer ••••••••") || strings.Contains(body, "top-secret") {
		t.Errorf("authorization header not masked: %s", headers)
	}
	if !strings.Contains(textOf(element(t, body, "execution-request-query-parsed")), `"tags": [ "a", "b" ]`) {
		t.Errorf("parsed query: %s", textOf(element(t, body, "execution-request-query-parsed")))
	}
	// The path taken: paid → yes → ok; bad did not run.
	canvas := element(t, body, "execution-canvas")
	if !strings.Contains(element(t, canvas, "node-paid"), "on-path") || !strings.Contains(element(t, canvas, "node-ok"), "on-path") {
		t.Error("nodes that ran are not on the path")
	}
	if !strings.Contains(element(t, canvas, "node-bad"), "off-path") {
		t.Error("the no branch is not off the path")
	}
	if !strings.Contains(textOf(canvas), "Path: Trigger → Paid? (yes) → ok.") {
		t.Errorf("path sentence: %s", textOf(canvas))
	}
	job := textOf(element(t, body, "job-paid"))
	for _, want := range []string{"Paid?", "condition", "resolved", "took yes", "true"} {
		if !strings.Contains(job, want) {
			t.Errorf("job row lacks %q: %s", want, job)
		}
	}
	reply := textOf(element(t, body, "execution-response"))
	for _, want := range []string{"Reply sent", "200", "X-Order", "123456789012345678901234567890", `"ok": true`} {
		if !strings.Contains(reply, want) {
			t.Errorf("reply lacks %q: %s", want, reply)
		}
	}
	if !strings.Contains(textOf(element(t, body, "execution-revision")), "Ran revision 1") || hasTestID(body, "execution-newer-revision") {
		t.Error("revision line is wrong")
	}
	if strings.Contains(body, `hx-trigger="every 2s`) {
		t.Error("a finished execution polls")
	}

	// After an edit the page says the workflow moved on, and still draws
	// the flow that ran.
	if _, err := svc.UpdateWorkflow(context.Background(), w.ID, []byte(`{"title":"Payment callback","mode":"sync","nodes":[]}`)); err != nil {
		t.Fatal(err)
	}
	_, body = s.get(t, app, path)
	mustTestID(t, body, "execution-newer-revision", "node-paid")
	if !strings.Contains(textOf(element(t, body, "execution-newer-revision")), "newer revision 2") {
		t.Error("newer revision not named")
	}
}

func TestExecutionPageNoBranch(t *testing.T) {
	t.Parallel()
	app, _, svc := newUITestServer(t)
	s := signIn(t, app)
	w := createWorkflow(t, svc, paymentDoc)
	r := trigger(t, svc, w.Key, jsonRequest(`{"order":{"id":7,"status":"refunded"}}`))
	_, body := s.get(t, app, "/executions/"+strconv.FormatInt(r.ExecutionID, 10))
	mustTestID(t, body, "job-paid", "job-bad")
	if hasTestID(body, "job-ok") {
		t.Error("ok ran")
	}
	canvas := element(t, body, "execution-canvas")
	if !strings.Contains(element(t, canvas, "node-ok"), "off-path") || !strings.Contains(element(t, canvas, "node-bad"), "on-path") {
		t.Error("path does not go through no")
	}
	if got := textOf(element(t, body, "execution-response-status")); got != "422" {
		t.Errorf("reply status %q", got)
	}
}

func TestExecutionPageBodies(t *testing.T) {
	t.Parallel()
	app, _, svc := newUITestServer(t)
	s := signIn(t, app)
	w := createWorkflow(t, svc, `{"title":"Bodies","mode":"sync","nodes":[{"key":"stop","type":"end","config":{"status":"failed"}}]}`)
	page := func(req *engine.Request) string {
		r := trigger(t, svc, w.Key, req)
		_, body := s.get(t, app, "/executions/"+strconv.FormatInt(r.ExecutionID, 10))
		return body
	}

	body := page(&engine.Request{Headers: []engine.HeaderValue{{Name: "Content-Type", Value: "application/x-www-form-urlencoded"}}, Body: []byte("a=1&b[c]=2")})
	if got := textOf(element(t, body, "execution-request-body")); got != "a=1&b[c]=2" {
		t.Errorf("raw form body %q", got)
	}
	if got := textOf(element(t, body, "execution-request-form")); got != `{ "a": "1", "b": { "c": "2" } }` {
		t.Errorf("parsed form body %q", got)
	}
	// A failed run says why.
	if got := textOf(element(t, body, "execution-status")); got != "failed" {
		t.Errorf("status %q", got)
	}
	if !strings.Contains(textOf(element(t, body, "execution-error")), "workflow failed at node stop") {
		t.Error("no error reason")
	}

	body = page(&engine.Request{Headers: []engine.HeaderValue{{Name: "Content-Type", Value: "application/octet-stream"}}, Body: []byte{0xff, 0xfe, 0x00, 0x01}})
	if got := textOf(element(t, body, "execution-request-body")); got != "//4AAQ==" {
		t.Errorf("binary body %q, want base64", got)
	}

	body = page(&engine.Request{Headers: []engine.HeaderValue{{Name: "Content-Type", Value: "text/plain"}}, Body: []byte(`{"a":1}`)})
	if !strings.Contains(body, "the Content-Type is not JSON, so it was not parsed") {
		t.Error("JSON sent as text/plain is not explained")
	}

	body = page(&engine.Request{})
	if got := textOf(element(t, body, "execution-request-body")); got != "(empty body)" {
		t.Errorf("empty body %q", got)
	}
}

func TestExecutionPageQueued(t *testing.T) {
	t.Parallel()
	app, _, svc := newUITestServer(t)
	s := signIn(t, app)
	w := createWorkflow(t, svc, `{"title":"Later","mode":"async","trigger":{"response":{"status":202,"headers":[{"name":"X-Got","value":"{{$context.body.x}}"}],"body":{"execution":"{{$system.executionId}}"}}},"nodes":[{"key":"nap","type":"wh-sleep"}]}`)
	// No runner in this test, and a flow that is not pure: the execution
	// stays queued.
	r := trigger(t, svc, w.Key, jsonRequest(`{"x":1}`))
	_, body := s.get(t, app, "/executions/"+strconv.FormatInt(r.ExecutionID, 10))
	if got := textOf(element(t, body, "execution-status")); got != "queued" {
		t.Errorf("status %q", got)
	}
	live := element(t, body, "execution-detail-live")
	if live = live[:strings.Index(live, ">")]; !strings.Contains(live, `hx-trigger="every 2s, poll-now"`) || !strings.Contains(live, "data-poll") || !strings.Contains(live, `hx-swap="none"`) {
		t.Error("an unfinished execution does not refresh")
	}
	// The caller already got the trigger's reply: it is rebuilt from the
	// revision with the execution's context.
	reply := textOf(element(t, body, "execution-response"))
	for _, want := range []string{"202", "X-Got 1", `"execution": ` + strconv.FormatInt(r.ExecutionID, 10)} {
		if !strings.Contains(reply, want) {
			t.Errorf("async reply lacks %q: %s", want, reply)
		}
	}
}

// An async execution whose pure flow ran as its request was accepted is
// finished at once: the page shows its outcome, its path and the reply the
// caller got, and does not poll.
func TestExecutionPageAsyncInline(t *testing.T) {
	t.Parallel()
	app, _, svc := newUITestServer(t)
	s := signIn(t, app)
	w := createWorkflow(t, svc, `{"title":"Inline","mode":"async","trigger":{"response":{"status":202,"headers":[{"name":"X-Got","value":"{{$context.body.x}}"}]}},"nodes":[
		{"key":"big","type":"condition","config":{"mode":"branch","rules":{"and":[{"left":"{{$context.body.x}}","op":"gt","right":10}]}},
		 "branches":{"no":[{"key":"stop","type":"end","config":{"status":"failed"}}]}}]}`)
	r := trigger(t, svc, w.Key, jsonRequest(`{"x":1}`))
	_, body := s.get(t, app, "/executions/"+strconv.FormatInt(r.ExecutionID, 10))
	mustTestID(t, body, "job-big", "job-stop", "execution-response")
	if got := textOf(element(t, body, "execution-status")); got != "failed" {
		t.Errorf("status %q, want failed (the no branch ended it)", got)
	}
	canvas := element(t, body, "execution-canvas")
	if !strings.Contains(element(t, canvas, "node-big"), "on-path") || !strings.Contains(element(t, canvas, "node-stop"), "on-path") {
		t.Error("the nodes that ran are not on the path")
	}
	reply := textOf(element(t, body, "execution-response"))
	for _, want := range []string{"202", "X-Got 1"} {
		if !strings.Contains(reply, want) {
			t.Errorf("async reply lacks %q: %s", want, reply)
		}
	}
	if strings.Contains(body, `hx-trigger="every 2s`) {
		t.Error("a finished execution polls")
	}
}

func TestExecutionPageNotFound(t *testing.T) {
	t.Parallel()
	app, _, _ := newUITestServer(t)
	s := signIn(t, app)
	for _, p := range []string{"/executions/12345", "/executions/abc", "/executions/-1"} {
		res, body := s.get(t, app, p)
		if res.StatusCode != http.StatusNotFound || !hasTestID(body, "error-page") {
			t.Errorf("GET %s: %d", p, res.StatusCode)
		}
	}
}
