package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/engine"
)

// Switching sync and async after creation: allowed when every step fits
// the new mode, otherwise the panel says what blocks it (issue 12, point
// 12).
func TestWorkflowModeSwitch(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(editorS9) // sync, a condition with two response steps
	res, body := e.sess.get(t, e.srv.app, wfPath(w.ID, ""))
	wantStatus(t, res, http.StatusOK)
	if got := textOf(element(t, body, "mode-switch")); got != "Switch to async" {
		t.Errorf("mode button %q", got)
	}
	res, body = e.post(wfPath(w.ID, "/mode"), url.Values{"mode": {"async"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	msg := textOf(element(t, body, "error-mode"))
	if !strings.Contains(msg, "remove the 2 response steps (ok, bad) first") || !strings.Contains(msg, "only allowed in sync workflows") {
		t.Errorf("blocker message %q", msg)
	}
	if cur, d := e.doc(w.ID); cur.Revision != 1 || d.Mode != engine.ModeSync {
		t.Fatalf("a blocked switch saved: revision %d mode %s", cur.Revision, d.Mode)
	}
	// One response left: the message says so in the singular.
	if res, body := e.post(wfPath(w.ID, "/nodes/bad/delete"), nil); res.StatusCode != 200 {
		t.Fatalf("delete: %d %s", res.StatusCode, body)
	}
	_, body = e.post(wfPath(w.ID, "/mode"), url.Values{"mode": {"async"}})
	if msg := textOf(element(t, body, "error-mode")); !strings.Contains(msg, "remove the response step ok first") {
		t.Errorf("blocker message %q", msg)
	}
	if res, body := e.post(wfPath(w.ID, "/nodes/ok/delete"), nil); res.StatusCode != 200 {
		t.Fatalf("delete: %d %s", res.StatusCode, body)
	}
	// Nothing blocks it now: a new revision in async mode, then the editor.
	res, _ = e.post(wfPath(w.ID, "/mode"), url.Values{"mode": {"async"}})
	wantStatus(t, res, http.StatusNoContent)
	if loc := res.Header.Get("HX-Redirect"); loc != wfPath(w.ID, "") {
		t.Errorf("HX-Redirect %q", loc)
	}
	cur, d := e.doc(w.ID)
	if cur.Revision != 4 || d.Mode != engine.ModeAsync || len(d.Nodes) != 1 || d.Trigger.BasicAuth.Password != "s3cret" {
		t.Fatalf("after the switch: revision %d mode %s nodes %d", cur.Revision, d.Mode, len(d.Nodes))
	}
	_, body = e.sess.get(t, e.srv.app, wfPath(w.ID, ""))
	if hasTestID(body, "insert-root-main-0-response") || textOf(element(t, body, "mode-switch")) != "Switch to sync" {
		t.Error("the editor still offers sync things")
	}
	// And back: async to sync has nothing to block it here.
	res, _ = e.post(wfPath(w.ID, "/mode"), url.Values{"mode": {"sync"}})
	wantStatus(t, res, http.StatusNoContent)
	if _, d := e.doc(w.ID); d.Mode != engine.ModeSync {
		t.Errorf("mode %s after switching back", d.Mode)
	}
	res, _ = e.post(wfPath(w.ID, "/mode"), url.Values{"mode": {"both"}})
	wantStatus(t, res, http.StatusBadRequest)
}
