package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Parsing samples: scalars and empty documents say why nothing is listed,
// one path is "1 path" (issue 12, point 15).
func TestEditorParseMessages(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(`{"title":"A","mode":"sync","trigger":{},"nodes":[]}`)
	for _, tt := range []struct{ sample, want string }{
		{`42`, "single JSON value (a number)"},
		{` "abc" `, "single JSON value (a string)"},
		{`true`, "single JSON value (true or false)"},
		{`null`, "single JSON value (null)"},
		{`{}`, "The sample has no fields"},
		{`[]`, "The sample has no fields"},
	} {
		res, body := e.post(wfPath(w.ID, "/trigger/parse?part=body"), url.Values{"bodySample": {tt.sample}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if msg := textOf(element(t, body, "error-sample-body")); !strings.Contains(msg, tt.want) {
			t.Errorf("%s: %q, want %q", tt.sample, msg, tt.want)
		}
		if hasTestID(body, "body-rows") {
			t.Errorf("%s: rows were added", tt.sample)
		}
	}
	res, body := e.post(wfPath(w.ID, "/trigger/parse?part=body"), url.Values{"bodySample": {`{"a":1}`}})
	wantStatus(t, res, http.StatusOK)
	if got := textOf(element(t, body, "body-parse-result")); !strings.HasPrefix(got, "Found 1 path; added 1 new row.") {
		t.Errorf("result %q", got)
	}
}

// A save marks every bad field at once, header names and paths with
// spaces are refused, and a JSON error says its line and column (issue
// 12, point 15).
func TestEditorSaveShowsEveryError(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(editorS9)
	f := triggerForm()
	f.Set("timeoutSeconds", "999")
	f.Set("basicAuth[username]", "")
	f.Set("headers[0][path]", "X Request Id")
	f.Set("body[1][path]", "order. status")
	f.Set("query[0][path]", "source")
	res, body := e.post(wfPath(w.ID, "/trigger"), f)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	for id, want := range map[string]string{
		"timeoutSeconds":     "between 1 and 300",
		"basicAuth-username": "required when Basic Auth is enabled",
		"headers-0-path":     "is not a header name",
		"body-1-path":        "a path has no spaces",
	} {
		if msg := textOf(element(t, body, "error-"+id)); !strings.Contains(msg, want) {
			t.Errorf("error next to %s = %q, want %q", id, msg, want)
		}
	}
	if msg := textOf(element(t, body, "panel-error")); msg != "Not saved: fix the 4 highlighted fields." {
		t.Errorf("alert %q", msg)
	}
	if cur, _ := e.doc(w.ID); cur.Revision != 1 {
		t.Fatal("a bad form was saved")
	}
	// A key with a space, quoted, is fine.
	f = triggerForm()
	f.Set("body[1][path]", `order["paid at"]`)
	res, _ = e.post(wfPath(w.ID, "/trigger"), f)
	wantStatus(t, res, http.StatusOK)

	// A response step: a bad status, two bad headers and a JSON error.
	res, body = e.post(wfPath(w.ID, "/nodes/ok"), url.Values{
		"status": {"abc"}, "headers[0][name]": {"bad name"}, "headers[0][value]": {"x"},
		"headers[1][name]": {"X-Ok"}, "headers[1][value]": {"1"}, "headers[2][name]": {"an:other"}, "headers[2][value]": {"y"},
		"body": {"{\n  \"ok\": true,\n  oops\n}"}, "bodyType": {"json"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	for id, want := range map[string]string{
		"status":         "must be a number",
		"headers-0-name": "not a valid header name",
		"headers-2-name": "not a valid header name",
		"body":           "invalid JSON at line 3, column 3",
	} {
		if msg := textOf(element(t, body, "error-"+id)); !strings.Contains(msg, want) {
			t.Errorf("error next to %s = %q, want %q", id, msg, want)
		}
	}
	if msg := textOf(element(t, body, "error-headers-1-name")); msg != "" {
		t.Errorf("a good header is marked: %q", msg)
	}
	// A condition with two bad rules.
	res, body = e.post(wfPath(w.ID, "/nodes/paid"), url.Values{"mode": {"branch"}, "rules[op]": {"and"},
		"rules[items][0][left]": {"{{$context.body.a}}"}, "rules[items][0][op]": {"bogus"}, "rules[items][0][right]": {"1"},
		"rules[items][1][left]": {"{{$context.body.b}}"}, "rules[items][1][op]": {"matches"}, "rules[items][1][right]": {"(unclosed"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if msg := textOf(element(t, body, "error-rules-items-0-op")); !strings.Contains(msg, `unknown operator "bogus"`) {
		t.Errorf("rule 1: %q", msg)
	}
	if msg := textOf(element(t, body, "error-rules-items-1-right")); !strings.Contains(msg, "invalid regular expression") {
		t.Errorf("rule 2: %q", msg)
	}
	if msg := textOf(element(t, body, "panel-error")); msg != "Not saved: fix the 2 highlighted fields." {
		t.Errorf("alert %q", msg)
	}
}
