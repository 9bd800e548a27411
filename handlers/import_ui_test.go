package handlers_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// postMultipart posts a multipart form (file upload) with the session.
func postMultipart(t *testing.T, e *editorEnv, path string, fields map[string]string, file string) (*http.Response, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fields["_csrf"] = e.sess.CSRF
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != "" {
		fw, _ := mw.CreateFormFile("file", "export.json")
		fw.Write([]byte(file))
	}
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, path, &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Cookie", e.sess.Cookie)
	return send(t, e.srv.app, req)
}

// Import in the UI: upload or paste, preview what it creates, create; an
// export without secrets imports back into its workflow keeping the
// password, and as a new workflow says clearly what is missing (issue 12,
// point 13).
func TestWorkflowImportUI(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	res, body := e.sess.get(t, e.srv.app, "/workflows/import")
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "import-form", "import-file", "import-document")
	_, list := e.sess.get(t, e.srv.app, "/")
	mustTestID(t, list, "import-link")

	// Preview of an uploaded file: nothing created yet.
	res, body = postMultipart(t, e, "/workflows/import", map[string]string{"action": "preview"}, editorS9)
	wantStatus(t, res, http.StatusOK)
	sum := textOf(element(t, body, "import-summary"))
	for _, want := range []string{"Payment callback", "sync", "Steps 3", "Declared request fields 4", "on, with the document's password"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary %q lacks %q", sum, want)
		}
	}
	mustTestID(t, body, "node-paid", "node-ok", "import-create")
	cspSafe(t, body)
	if list, _ := e.srv.svc.ListWorkflows(t.Context()); len(list) != 0 {
		t.Fatal("the preview created a workflow")
	}
	// Create (the document comes back pasted in the confirmation form).
	res, _ = postMultipart(t, e, "/workflows/import", map[string]string{"action": "create", "document": editorS9}, "")
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/workflows/1" {
		t.Fatalf("Location %q", loc)
	}
	_, d := e.doc(1)
	if d.Title != "Payment callback" || len(d.Nodes) != 1 || d.Trigger.BasicAuth.Password != "s3cret" {
		t.Fatalf("imported %+v", d)
	}

	// Export without secrets, import it back into the workflow: the diff
	// shows the change, the password stays.
	_, exported := e.sess.get(t, e.srv.app, "/workflows/1/export")
	changed := strings.Replace(exported, `"Payment callback"`, `"Payments"`, 1)
	res, body = postMultipart(t, e, "/workflows/1/import", map[string]string{"action": "preview", "document": changed}, "")
	wantStatus(t, res, http.StatusOK)
	if sum := textOf(element(t, body, "import-summary")); !strings.Contains(sum, "on, with the stored password") {
		t.Errorf("summary %q", sum)
	}
	if got := textOf(element(t, body, "import-diff-summary")); !strings.HasPrefix(got, "1 line added, 1 removed") {
		t.Errorf("diff summary %q", got)
	}
	res, _ = postMultipart(t, e, "/workflows/1/import", map[string]string{"action": "create", "document": changed}, "")
	wantStatus(t, res, http.StatusSeeOther)
	cur, d := e.doc(1)
	if cur.Revision != 2 || d.Title != "Payments" || cur.Secrets.BasicAuthPassword != "s3cret" {
		t.Errorf("import into: revision %d title %q secret %q", cur.Revision, d.Title, cur.Secrets.BasicAuthPassword)
	}

	// The same export as a new workflow: Basic Auth on, no password.
	res, body = postMultipart(t, e, "/workflows/import", map[string]string{"action": "preview", "document": exported}, "")
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if msg := textOf(element(t, body, "panel-error")); !strings.Contains(msg, "turns Basic Auth on but carries no password") {
		t.Errorf("message %q", msg)
	}
	for _, tt := range []struct{ doc, want string }{
		{"", "Choose a file or paste a document first."},
		{"{", "This is not a workflow document"},
		{`{"title":"x","mode":"both","nodes":[]}`, "mode: must be"},
	} {
		res, body := e.post("/workflows/import", url.Values{"action": {"preview"}, "document": {tt.doc}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if msg := textOf(element(t, body, "panel-error")); !strings.Contains(msg, tt.want) {
			t.Errorf("%q: message %q", tt.doc, msg)
		}
	}
	if list, _ := e.srv.svc.ListWorkflows(t.Context()); len(list) != 1 {
		t.Errorf("%d workflows after refused imports", len(list))
	}
}
