package handlers_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The history of a workflow in the UI: the list, one revision, the diff
// of two and a restore, which is a new revision keeping the current
// password and the enabled state (issue 12, point 11).
func TestRevisionPages(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	ctx := context.Background()
	w := e.create(`{"title":"Hist","mode":"sync","enabled":true,"trigger":{"basicAuth":{"enabled":true,"username":"u","password":"old-pass"}},` +
		`"nodes":[{"key":"r","type":"response","config":{"status":200,"body":"v1"}}]}`)
	// Revision 2: a new body and a new password; then switched off.
	if _, err := e.srv.svc.UpdateWorkflow(ctx, w.ID, []byte(`{"title":"Hist","mode":"sync","trigger":{"basicAuth":{"enabled":true,"username":"u","password":"new-pass"}},`+
		`"nodes":[{"key":"r","type":"response","config":{"status":201,"body":"v2"}}]}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.svc.SetWorkflowEnabled(ctx, w.ID, false); err != nil {
		t.Fatal(err)
	}

	res, body := e.sess.get(t, e.srv.app, wfPath(w.ID, "/revisions"))
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "revision-row-1", "revision-row-2", "revision-changes-2", "revision-current")
	if strings.Index(body, `revision-row-2"`) > strings.Index(body, `revision-row-1"`) {
		t.Error("revisions not newest first")
	}
	if !strings.Contains(element(t, body, "revision-row-2"), "current") || strings.Contains(element(t, body, "revision-row-1"), "current") {
		t.Error("the current revision is not marked")
	}
	// The editor links to it.
	_, body = e.sess.get(t, e.srv.app, wfPath(w.ID, ""))
	if attr(t, element(t, body, "revisions-link"), "href") != wfPath(w.ID, "/revisions") {
		t.Error("no revisions link in the editor")
	}

	res, body = e.sess.get(t, e.srv.app, wfPath(w.ID, "/revisions/1"))
	wantStatus(t, res, http.StatusOK)
	doc := textOf(element(t, body, "revision-document"))
	if !strings.Contains(doc, `"body": "v1"`) || strings.Contains(doc, "old-pass") || !strings.Contains(doc, "(hidden)") || strings.Count(doc, `"enabled"`) != 1 {
		t.Errorf("revision 1 document: %s", doc)
	}
	mustTestID(t, body, "node-r", "restore-revision", "compare-current")
	cspSafe(t, body)

	res, body = e.sess.get(t, e.srv.app, wfPath(w.ID, "/revisions/compare?from=1&to=2"))
	wantStatus(t, res, http.StatusOK)
	diff := element(t, body, "diff")
	for _, want := range []string{`"status": 200`, `"status": 201`, `"body": "v1"`, `"body": "v2"`, "hidden, changed"} {
		if !strings.Contains(html.UnescapeString(diff), want) {
			t.Errorf("diff lacks %s", want)
		}
	}
	if strings.Contains(body, "old-pass") || strings.Contains(body, "new-pass") {
		t.Error("the diff shows a password")
	}
	if got := textOf(element(t, body, "diff-summary")); got != "3 lines added, 3 removed." {
		t.Errorf("summary %q", got)
	}
	// Defaults: the current revision against the one before; the same
	// revision twice has no changes.
	_, body = e.sess.get(t, e.srv.app, wfPath(w.ID, "/revisions/compare"))
	if !strings.Contains(body, "Revision 1 → 2") {
		t.Error("compare without parameters is not 1 → 2")
	}
	_, body = e.sess.get(t, e.srv.app, wfPath(w.ID, "/revisions/compare?from=2&to=2"))
	if got := textOf(element(t, body, "diff-summary")); got != "The two documents are the same." {
		t.Errorf("same revision: %q", got)
	}
	for _, path := range []string{"/revisions/9", "/revisions/x", "/revisions/compare?from=9"} {
		res, _ = e.sess.get(t, e.srv.app, wfPath(w.ID, path))
		if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: %d", path, res.StatusCode)
		}
	}

	// Restore revision 1: revision 3 with v1's flow, the current password,
	// still disabled.
	res, _ = doForm(t, e.srv.app, e.sess, wfPath(w.ID, "/revisions/1/restore"), url.Values{}, formOpts{})
	wantStatus(t, res, http.StatusSeeOther)
	cur, d := e.doc(w.ID)
	if cur.Revision != 3 || string(d.Nodes[0].Config) != `{"status":200,"body":"v1"}` || cur.Secrets.BasicAuthPassword != "new-pass" || d.IsEnabled() {
		t.Errorf("after restore: revision %d, config %s, secret %q, enabled %v", cur.Revision, d.Nodes[0].Config, cur.Secrets.BasicAuthPassword, d.IsEnabled())
	}
	if res.Header.Get("Location") != wfPath(w.ID, "") || cookieValue(res, "hookflow_flash") == "" {
		t.Errorf("restore answered Location %q without a flash", res.Header.Get("Location"))
	}
	// No CSRF token: refused.
	res, _ = doForm(t, e.srv.app, e.sess, wfPath(w.ID, "/revisions/1/restore"), url.Values{}, formOpts{NoCSRF: true})
	wantStatus(t, res, http.StatusForbidden)
}
