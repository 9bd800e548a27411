package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestInvalidUTF8 (issue 12, point 6): a JSON body or document with bytes
// that are not UTF-8 inside a string is refused with 400, and what the API
// serves is always valid UTF-8 JSON, whatever bytes the query, headers and
// body of a stored request held.
func TestInvalidUTF8(t *testing.T) {
	t.Parallel()
	e := apiSetup(t)
	w := e.create(t, `{"title":"store","mode":"async","nodes":[]}`)

	r := e.trigger(t, w.Get("key").Str, "", "{\"a\":\"\xff\"}")
	if msg := apiError(t, r, http.StatusBadRequest); !strings.Contains(msg, "UTF-8") {
		t.Errorf("message %q does not say UTF-8", msg)
	}
	r = e.call(t, http.MethodPost, "/api/v1/workflows", "{\"title\":\"caf\xe9\",\"mode\":\"async\",\"nodes\":[]}")
	if msg := apiError(t, r, http.StatusBadRequest); !strings.Contains(msg, "UTF-8") {
		t.Errorf("document: message %q does not say UTF-8", msg)
	}

	// Accepted: bytes that are not UTF-8 in the query, a header and a
	// body that is not JSON. The execution is served as valid JSON.
	req := httptest.NewRequest(http.MethodPost, "/api/webhook:trigger/"+w.Get("key").Str+"?q=%ff%fe", strings.NewReader("\xff\xfe raw"))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("X-Latin1", "caf\xe9")
	if r := e.send(t, req); r.status != http.StatusOK {
		t.Fatalf("trigger: %d %s", r.status, r.body)
	}
	list := e.call(t, http.MethodGet, "/api/v1/workflows/"+w.Get("id").Raw+"/executions", "")
	if list.status != http.StatusOK || !json.Valid(list.body) || !utf8.Valid(list.body) {
		t.Fatalf("list: %d %q", list.status, list.body)
	}
	items := list.json().Get("items").Array()
	if len(items) != 1 {
		t.Fatalf("%d executions stored, want 1 (%s)", len(items), list.body)
	}
	one := e.call(t, http.MethodGet, "/api/v1/executions/"+items[0].Get("id").Raw, "")
	if one.status != http.StatusOK || !json.Valid(one.body) || !utf8.Valid(one.body) {
		t.Fatalf("execution: %d %q is not valid UTF-8 JSON", one.status, one.body)
	}
}
