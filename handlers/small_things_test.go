package handlers_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// Execution ids are shown shortened, whole on hover and behind a copy
// button; the account page's email and recovery command never break
// mid-word (issue 12, point 16).
func TestShortExecutionIDsAndAccountText(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(`{"title":"A","mode":"sync","nodes":[]}`)
	r := trigger(t, e.srv.svc, w.Key, jsonRequest(`{}`))
	id := strconv.FormatInt(r.ExecutionID, 10)
	if len(id) <= 8 {
		t.Fatalf("execution id %s is short already", id)
	}
	short := "#…" + id[len(id)-6:]
	_, body := e.sess.get(t, e.srv.app, wfPath(w.ID, "/executions"))
	link := element(t, body, "exec-id-"+id)
	if textOf(link) != short || attr(t, link, "title") != "Execution "+id || attr(t, link, "aria-label") != "Execution "+id {
		t.Errorf("list link %s", link)
	}
	if got := attr(t, element(t, body, "copy-exec-id-"+id), "data-copy"); got != id {
		t.Errorf("copy button copies %q", got)
	}
	res, body := e.sess.get(t, e.srv.app, "/executions/"+id)
	wantStatus(t, res, http.StatusOK)
	if el := element(t, body, "exec-id"); textOf(el) != short || attr(t, el, "title") != id {
		t.Errorf("page id %s", el)
	}
	mustTestID(t, body, "copy-exec-id-"+id)

	_, body = e.sess.get(t, e.srv.app, "/account")
	if el := element(t, body, "account-email"); !strings.Contains(el, "admin<wbr>@example<wbr>.com") || textOf(el) != testEmail {
		t.Errorf("email %s", el)
	}
	if got := textOf(element(t, body, "recovery-command")); got != "hookflow admin password --email "+testEmail {
		t.Errorf("recovery command %q", got)
	}
	if !strings.Contains(element(t, body, "recovery-command"), "code-line") {
		t.Error("the recovery command may wrap mid-word")
	}
}
