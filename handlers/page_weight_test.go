package handlers_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/static"
)

// TestFlowStylesWhereFlowsAre is part of issue 15's point 8: flow.css
// (the canvas and the editor, a third of the styles) is linked by the
// pages that draw a flow, and by no other.
func TestFlowStylesWhereFlowsAre(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(`{"title":"Styled","mode":"sync","nodes":[{"key":"r","type":"response","config":{"status":200}}]}`)
	r := trigger(t, e.srv.svc, w.Key, jsonRequest(`{}`))
	link := `<link rel="stylesheet" href="` + static.URL("flow.css") + `">`
	for path, want := range map[string]bool{
		wfPath(w.ID, ""):        true,
		wfPath(w.ID, "?node=r"): true,
		"/executions/" + strconv.FormatInt(r.ExecutionID, 10): true,
		wfPath(w.ID, "/revisions/1"):                          true,
		wfPath(w.ID, "/import"):                               true,
		"/":                                                   false,
		wfPath(w.ID, "/executions"):                           false,
		wfPath(w.ID, "/revisions"):                            false,
		wfPath(w.ID, "/rejections"):                           false,
		"/tokens":                                             false,
		"/account":                                            false,
	} {
		res, body := e.sess.get(t, e.srv.app, path)
		wantStatus(t, res, http.StatusOK)
		if !strings.Contains(body, `<link rel="stylesheet" href="`+static.URL("app.css")+`">`) {
			t.Errorf("%s does not link app.css", path)
		}
		if got := strings.Contains(body, link); got != want {
			t.Errorf("%s links flow.css: %v, want %v", path, got, want)
		}
	}
}
