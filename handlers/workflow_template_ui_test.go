package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/engine"
)

// "New workflow" offers the templates (issue 16): one click creates a
// complete workflow, and its test run on its samples passes.
func TestWorkflowFromTemplate(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	_, page := e.sess.get(t, e.srv.app, "/")
	cspSafe(t, page)
	list := element(t, page, "templates")
	for _, tpl := range engine.Templates() {
		item := element(t, list, "template-"+tpl.Name)
		if !strings.Contains(textOf(item), tpl.Title) || !strings.Contains(textOf(item), tpl.Description[:40]) {
			t.Errorf("template %s: %s", tpl.Name, textOf(item))
		}
		res, _ := doForm(t, e.srv.app, e.sess, "/workflows/from-template", url.Values{"template": {tpl.Name}}, formOpts{})
		wantStatus(t, res, http.StatusSeeOther)
		loc := res.Header.Get("Location")
		if !strings.HasPrefix(loc, "/workflows/") {
			t.Fatalf("%s: redirect to %q", tpl.Name, loc)
		}
		withFlash := e.sess
		withFlash.Cookie += "; hookflow_flash=" + cookieValue(res, "hookflow_flash")
		_, editor := withFlash.get(t, e.srv.app, loc)
		if !strings.Contains(editor, "created from a template") || !strings.Contains(element(t, editor, "test-input"), `value="samples" selected`) {
			t.Errorf("%s: editor without the flash or the samples", tpl.Name)
		}
		res, body := e.post(loc+"/test", url.Values{"input": {"samples"}})
		wantStatus(t, res, http.StatusOK)
		status := textOf(element(t, body, "test-status-badge"))
		reply := textOf(element(t, body, "execution-response-status"))
		if status != "resolved" || !strings.HasPrefix(reply, "2") {
			t.Errorf("%s: test run %s, reply %s: %s", tpl.Name, status, reply, textOf(element(t, body, "test-path")))
		}
	}
	res, _ := doForm(t, e.srv.app, e.sess, "/workflows/from-template", url.Values{"template": {"nope"}}, formOpts{})
	wantStatus(t, res, http.StatusNotFound)
	res, _ = doForm(t, e.srv.app, e.sess, "/workflows/from-template", url.Values{"template": {"stripe-payment-callback"}}, formOpts{NoCSRF: true})
	wantStatus(t, res, http.StatusForbidden)
}
