package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/handlers"
)

func postWebhook(t *testing.T, srv *uiServer, key, body string, headers ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, handlers.TriggerPath(key), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, _ := send(t, srv.app, req)
	return res
}

// TestRejectionsOnExecutionsPage: a sender refused for its signature shows
// above the executions ("3 requests refused in the last hour: …"), linking
// to the list of refused requests.
func TestRejectionsOnExecutionsPage(t *testing.T) {
	t.Parallel()
	srv := newUIServer(t)
	s := signIn(t, srv.app)
	w, err := srv.svc.CreateWorkflow(context.Background(), []byte(`{"title":"Stripe","mode":"async",
		"trigger":{"verify":{"type":"stripe","secret":"whsec_x"}},"nodes":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	page := "/workflows/" + strconv.FormatInt(w.ID, 10) + "/executions"
	res, body := s.get(t, srv.app, page)
	wantStatus(t, res, http.StatusOK)
	if strings.Contains(body, `data-testid="rejection-summary"`) {
		t.Error("a summary with no rejection")
	}
	for range 3 {
		wantStatus(t, postWebhook(t, srv, w.Key, `{"id":"evt_1"}`, "Stripe-Signature", "t=1,v1=00"), http.StatusUnauthorized)
	}
	_, body = s.get(t, srv.app, page)
	got := textOf(element(t, body, "rejection-summary"))
	if !strings.HasPrefix(got, "3 requests refused in the last hour: timestamp outside the tolerance") {
		t.Errorf("summary %q", got)
	}
	if link := element(t, body, "rejection-link"); !strings.Contains(link, `href="/workflows/`+strconv.FormatInt(w.ID, 10)+`/rejections"`) {
		t.Errorf("link %s", link)
	}
	// The table's own refresh (htmx) carries the line too.
	req := httptest.NewRequest(http.MethodGet, page, nil)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("Cookie", s.Cookie)
	_, frag := send(t, srv.app, req)
	mustTestID(t, frag, "rejection-summary")

	res, body = s.get(t, srv.app, "/workflows/"+strconv.FormatInt(w.ID, 10)+"/rejections")
	wantStatus(t, res, http.StatusOK)
	if n := strings.Count(body, `data-testid="rejection-row"`); n != 3 {
		t.Errorf("%d rows, want 3", n)
	}
	if got := textOf(element(t, body, "rejection-reason")); got != "signature" {
		t.Errorf("reason %q", got)
	}
	if !strings.Contains(body, "0.0.0.0") || !strings.Contains(body, "401") {
		t.Error("the list lacks the client address or the status")
	}
	if strings.Contains(body, "evt_1") {
		t.Error("the list shows the body")
	}
	if res, _ := s.get(t, srv.app, "/workflows/999999/rejections"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown workflow: %d", res.StatusCode)
	}
}

// TestDuplicatesOnExecutionPage: the first execution of a key shows how
// many retries got its reply.
func TestDuplicatesOnExecutionPage(t *testing.T) {
	t.Parallel()
	srv := newUIServer(t)
	s := signIn(t, srv.app)
	w, err := srv.svc.CreateWorkflow(context.Background(), []byte(`{"title":"GitHub","mode":"async",
		"trigger":{"dedupe":{"key":"{{$context.headers.x-github-delivery}}"}},"nodes":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		wantStatus(t, postWebhook(t, srv, w.Key, `{}`, "X-GitHub-Delivery", "72d3162e"), http.StatusOK)
	}
	list, err := srv.svc.ListExecutions(context.Background(), engine.ExecutionFilter{WorkflowID: w.ID})
	if err != nil || len(list) != 1 {
		t.Fatalf("executions %v, %v", list, err)
	}
	_, body := s.get(t, srv.app, "/executions/"+strconv.FormatInt(list[0].ID, 10))
	if got := textOf(element(t, body, "execution-duplicates")); !strings.HasPrefix(got, "2 retries with the same dedupe key") {
		t.Errorf("duplicates %q", got)
	}
}
