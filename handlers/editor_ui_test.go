package handlers_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/engine"
)

// editorS9 is the workflow document of product.md §9.
var editorS9 = readSection9("../engine/testdata/section9.json")

// editorEnv is a signed-in editor test bundle.
type editorEnv struct {
	t    *testing.T
	srv  *uiServer
	sess uiSession
}

func newEditorEnv(t *testing.T) *editorEnv {
	t.Helper()
	srv := newUIServer(t)
	return &editorEnv{t: t, srv: srv, sess: signIn(t, srv.app)}
}

func (e *editorEnv) create(doc string) *engine.Workflow {
	e.t.Helper()
	return createWorkflow(e.t, e.srv.svc, doc)
}

// post sends an htmx form post (CSRF in the header).
func (e *editorEnv) post(path string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	return doForm(e.t, e.srv.app, e.sess, path, form, formOpts{HTMX: true})
}

// doc returns the current document of a workflow.
func (e *editorEnv) doc(id int64) (*engine.Workflow, *engine.Document) {
	e.t.Helper()
	w, err := e.srv.svc.GetWorkflow(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return w, w.Doc
}

func wfPath(id int64, rest string) string { return "/workflows/" + strconv.FormatInt(id, 10) + rest }

// attr returns the value of an attribute in an element's opening tag.
func attr(t *testing.T, elem, name string) string {
	t.Helper()
	open := elem[:strings.Index(elem, ">")+1]
	i := strings.Index(open, " "+name+"=\"")
	if i < 0 {
		return ""
	}
	v := open[i+len(name)+3:]
	return html.UnescapeString(v[:strings.Index(v, `"`)])
}

func TestEditorPage(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(editorS9)
	res, body := e.sess.get(t, e.srv.app, wfPath(w.ID, ""))
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "editor", "canvas", "trigger-card", "node-paid", "node-ok", "node-bad",
		"branch-paid-yes", "branch-paid-no", "trigger-panel", "copy-url", "basic-auth-toggle",
		"executions-link", "export-link", "workflow-mode", "editor-title", "editor-crumb", "workflow-title",
		// insert buttons: main chain before and after paid, each branch before and after its node
		"insert-root-main-0", "insert-root-main-1", "insert-paid-yes-0", "insert-paid-yes-1", "insert-paid-no-0", "insert-paid-no-1",
		"insert-root-main-0-condition", "insert-root-main-0-response", "insert-root-main-0-end")
	wantURL := "http://example.com/api/webhook:trigger/" + w.Key
	if got := attr(t, element(t, body, "webhook-url"), "value"); got != wantURL {
		t.Errorf("webhook-url = %q, want %q", got, wantURL)
	}
	if got := attr(t, element(t, body, "copy-url"), "data-copy"); got != wantURL {
		t.Errorf("copy-url copies %q", got)
	}
	if got := attr(t, element(t, body, "webhook-url-auth"), "value"); got != "http://hook:s3cret@example.com/api/webhook:trigger/"+w.Key {
		t.Errorf("webhook-url-auth = %q", got)
	}
	if got := textOf(element(t, body, "revision")); !strings.HasPrefix(got, "Revision 1 · saved ") {
		t.Errorf("revision = %q", got)
	}
	// In words, not operator names (issue 12, point 16).
	if got := textOf(element(t, body, "node-summary-paid")); got != `Order status is paid` {
		t.Errorf("summary of paid = %q", got)
	}
	if got := textOf(element(t, body, "node-summary-ok")); got != "200 · JSON body · 1 header" {
		t.Errorf("summary of ok = %q", got)
	}
	if !strings.Contains(element(t, body, "trigger-card"), "is-selected") {
		t.Error("the trigger card is not selected by default")
	}
	// Sync: a timeout, no async reply.
	mustTestID(t, body, "timeout")
	if hasTestID(body, "reply-status") {
		t.Error("sync workflow shows the async reply")
	}
	// The password can be read back.
	if got := attr(t, element(t, body, "basic-auth-password"), "value"); got != "s3cret" {
		t.Errorf("password field = %q", got)
	}

	// ?node= opens a node's panel; its picker offers fields, upstream
	// nodes and system values.
	res, body = e.sess.get(t, e.srv.app, wfPath(w.ID, "?node=ok"))
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "node-panel", "response-status", "headers-0-name", "headers-0-value", "response-body", "var-picker",
		"var-option-$context.body.order.id", "var-option-$context.headers.x-request-id", "var-option-$context.query.source",
		"var-option-$jobsMapByNodeKey.paid", "var-option-$system.now", "var-option-$system.executionId", "var-option-$system.workflowId")
	if hasTestID(body, "var-option-$jobsMapByNodeKey.bad") {
		t.Error("the picker offers a node that does not run before ok")
	}
	if got := attr(t, element(t, body, "var-option-$context.body.order.id"), "data-var-value"); got != "{{$context.body.order.id}}" {
		t.Errorf("option inserts %q", got)
	}
	if !strings.Contains(element(t, body, "node-ok"), "is-selected") {
		t.Error("node ok is not selected")
	}
	_, body = e.sess.getHTMX(t, e.srv.app, wfPath(w.ID, "/nodes/paid/panel"))
	if got := attr(t, element(t, body, "rules-items-0-left"), "value"); got != "{{$context.body.order.status}}" {
		t.Errorf("rule left = %q", got)
	}
	if !strings.Contains(element(t, body, "rules-items-0-op"), `<option value="equal" selected>`) {
		t.Error("operator equal not selected")
	}
	if strings.Contains(body, "<html") {
		t.Error("htmx panel request got a full page")
	}
	// The canvas comes along, out of band, with the node selected; the
	// flash region is left alone.
	if !strings.Contains(element(t, body, "node-paid"), "is-selected") || !strings.Contains(body, `id="canvas-region" aria-label="Flow" hx-swap-oob="true"`) {
		t.Error("no out-of-band canvas with paid selected")
	}
	if strings.Contains(body, `hx-swap-oob="innerHTML:#flash"`) {
		t.Error("opening a panel clears the flash region")
	}

	// Unknown workflow: 404 page.
	res, _ = e.sess.get(t, e.srv.app, "/workflows/999")
	wantStatus(t, res, http.StatusNotFound)
}

func TestEditorAsyncPage(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(`{"title":"A","mode":"async","trigger":{},"nodes":[]}`)
	_, body := e.sess.get(t, e.srv.app, wfPath(w.ID, ""))
	mustTestID(t, body, "reply-status", "reply-body", "reply-body-type", "insert-root-main-0-condition", "insert-root-main-0-end")
	if hasTestID(body, "insert-root-main-0-response") {
		t.Error("async workflow offers response steps")
	}
	if hasTestID(body, "webhook-url-auth") {
		t.Error("URL with credentials shown without Basic Auth")
	}
	if got := textOf(element(t, body, "reply-body")); got != "ok" {
		t.Errorf("default reply body = %q", got)
	}
}

func TestEditorAuth(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(editorS9)
	// No session: sign in first.
	res, _ := send(t, e.srv.app, newGet(wfPath(w.ID, "")))
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "/signin") {
		t.Errorf("Location = %q", loc)
	}
	// No CSRF token: refused, nothing saved.
	for _, path := range []string{"/trigger", "/nodes", "/nodes/paid", "/nodes/paid/delete", "/nodes/paid/move?dir=up", "/trigger/parse?part=body"} {
		res, _ := doForm(t, e.srv.app, e.sess, wfPath(w.ID, path), url.Values{"type": {"end"}, "index": {"0"}}, formOpts{NoCSRF: true})
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s without CSRF: %d, want 403", path, res.StatusCode)
		}
	}
	if cur, _ := e.doc(w.ID); cur.Revision != 1 {
		t.Errorf("revision = %d after refused posts", cur.Revision)
	}
}

func newGet(path string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, "http://example.com"+path, nil)
	return req
}

// triggerForm is the trigger form of the §9 workflow as the panel posts it.
func triggerForm() url.Values {
	return url.Values{
		"title":               {"Payment callback"},
		"basicAuth[enabled]":  {"on"},
		"basicAuth[username]": {"hook"},
		"basicAuth[password]": {"n3w-secret"},
		"headers[0][path]":    {"X-Request-Id"},
		"headers[0][alias]":   {"Request ID"},
		"query[0][path]":      {"source"},
		"query[0][alias]":     {""},
		"body[0][path]":       {"order.id"},
		"body[0][alias]":      {"Order"},
		"body[1][path]":       {"order.status"},
		"body[2][path]":       {""}, // an empty row is dropped
		"body[2][alias]":      {""},
		"bodySample":          {"{}"},
		"timeoutSeconds":      {"45"},
	}
}

func TestEditorTriggerSave(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(editorS9)
	res, body := e.post(wfPath(w.ID, "/trigger"), triggerForm())
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "trigger-panel", "flash-success")
	if !strings.Contains(body, "Saved as revision 2") {
		t.Error("no success flash")
	}
	rev := element(t, body, "revision")
	if !strings.Contains(rev, `hx-swap-oob="true"`) || !strings.Contains(textOf(rev), "Revision 2") {
		t.Errorf("revision line = %s", rev)
	}
	if got := attr(t, element(t, body, "webhook-url-auth"), "value"); !strings.Contains(got, "hook:n3w-secret@") {
		t.Errorf("auth URL = %q", got)
	}
	cur, d := e.doc(w.ID)
	if cur.Revision != 2 || d.TimeoutSeconds != 45 || d.Trigger.BasicAuth.Password != "n3w-secret" {
		t.Fatalf("saved: revision %d, timeout %d, password %q", cur.Revision, d.TimeoutSeconds, d.Trigger.BasicAuth.Password)
	}
	if len(d.Trigger.Body) != 2 || d.Trigger.Body[0] != (engine.Field{Path: "order.id", Alias: "Order"}) || d.Trigger.Headers[0].Path != "X-Request-Id" {
		t.Fatalf("fields = %+v %+v", d.Trigger.Headers, d.Trigger.Body)
	}
	if len(d.Nodes) != 1 || d.Nodes[0].Key != "paid" {
		t.Fatal("the nodes were lost")
	}

	// Basic Auth off: the credentials go.
	f := triggerForm()
	f.Del("basicAuth[enabled]")
	f.Set("basicAuth[username]", "")
	f.Set("basicAuth[password]", "")
	res, body = e.post(wfPath(w.ID, "/trigger"), f)
	wantStatus(t, res, http.StatusOK)
	if hasTestID(body, "webhook-url-auth") {
		t.Error("URL with credentials still shown")
	}

	// Bad values: 422, the error next to the field, nothing saved.
	for _, tt := range []struct {
		name, field, value, testid, want string
	}{
		{"timeout", "timeoutSeconds", "999", "timeoutSeconds", "between 1 and 300"},
		{"username", "basicAuth[username]", "", "basicAuth-username", "required when Basic Auth is enabled"},
		{"path", "body[1][path]", "order..status", "body-1-path", ""},
		{"duplicate", "body[1][path]", "order.id", "body-1-path", "duplicate path"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := triggerForm()
			f.Set(tt.field, tt.value)
			before, _ := e.doc(w.ID)
			res, body := e.post(wfPath(w.ID, "/trigger"), f)
			wantStatus(t, res, http.StatusUnprocessableEntity)
			msg := textOf(element(t, body, "error-"+tt.testid))
			if msg == "" || !strings.Contains(msg, tt.want) {
				t.Errorf("error next to %s = %q, want %q", tt.testid, msg, tt.want)
			}
			mustTestID(t, body, "panel-error")
			if after, _ := e.doc(w.ID); after.Revision != before.Revision {
				t.Error("a bad form was saved")
			}
		})
	}
}

func TestEditorRename(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(editorS9)
	ctx := context.Background()

	// The title input heads the trigger panel; the header shows the title.
	res, body := e.sess.get(t, e.srv.app, wfPath(w.ID, ""))
	wantStatus(t, res, http.StatusOK)
	in := element(t, body, "workflow-title")
	if attr(t, in, "value") != "Payment callback" || attr(t, in, "name") != "title" || attr(t, in, "maxlength") != "200" ||
		!strings.Contains(in, " required") || attr(t, in, "aria-describedby") != "err-title" {
		t.Errorf("title input = %s", in)
	}
	if !strings.Contains(body, `<label for="`+attr(t, in, "id")+`">Title</label>`) {
		t.Error("the title input has no label")
	}
	if got := textOf(element(t, body, "editor-title")); got != "Payment callback" {
		t.Errorf("header title = %q", got)
	}
	if got := textOf(element(t, body, "editor-crumb")); got != "Payment callback" {
		t.Errorf("breadcrumb = %q", got)
	}
	cspSafe(t, body)

	// Rename: a new revision with the new title; the header, breadcrumb
	// and document title follow out of band.
	f := triggerForm()
	f.Set("title", "  Order paid <v2>  ")
	res, body = e.post(wfPath(w.ID, "/trigger"), f)
	wantStatus(t, res, http.StatusOK)
	const renamed = "Order paid <v2>"
	for _, id := range []string{"editor-title", "editor-crumb"} {
		el := element(t, body, id)
		if attr(t, el, "hx-swap-oob") != "true" || textOf(el) != renamed {
			t.Errorf("%s = %s", id, el)
		}
	}
	if !strings.Contains(body, "<title>Order paid &lt;v2&gt; · Hookflow</title>") {
		t.Error("no document title in the reply")
	}
	if got := attr(t, element(t, body, "workflow-title"), "value"); got != renamed {
		t.Errorf("title input after the save = %q", got)
	}
	if !strings.Contains(body, "Saved as revision 2") {
		t.Error("no success flash")
	}
	cur, err := e.srv.svc.GetWorkflow(ctx, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Revision != 2 || cur.Doc.Title != renamed {
		t.Fatalf("saved revision %d titled %q", cur.Revision, cur.Doc.Title)
	}
	if old, err := e.srv.svc.GetRevision(ctx, w.ID, 1); err != nil || old.Doc.Title != "Payment callback" {
		t.Errorf("revision 1 = %v, %v", old, err)
	}
	if list, err := e.srv.svc.ListWorkflows(ctx); err != nil || len(list) != 1 || list[0].Title != renamed {
		t.Errorf("workflows list = %+v, %v", list, err)
	}
	_, body = e.sess.get(t, e.srv.app, wfPath(w.ID, ""))
	if got := textOf(element(t, body, "editor-title")); got != renamed || !strings.Contains(body, "<title>Order paid &lt;v2&gt; · Hookflow</title>") {
		t.Errorf("page after the rename: header %q", got)
	}

	// Empty or too long: 422, the engine's message next to the input,
	// nothing saved, the header left alone.
	for _, tt := range []struct{ name, title, want string }{
		{"empty", "", "required"},
		{"blank", "   ", "required"},
		{"too long", strings.Repeat("é", 201), "longer than 200 characters"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := triggerForm()
			f.Set("title", tt.title)
			res, body := e.post(wfPath(w.ID, "/trigger"), f)
			wantStatus(t, res, http.StatusUnprocessableEntity)
			if got := textOf(element(t, body, "error-title")); got != tt.want {
				t.Errorf("error next to the title = %q, want %q", got, tt.want)
			}
			if in := element(t, body, "workflow-title"); attr(t, in, "aria-invalid") != "true" || attr(t, in, "aria-describedby") != "err-title" {
				t.Errorf("title input = %s", in)
			}
			mustTestID(t, body, "panel-error")
			if hasTestID(body, "editor-title") || hasTestID(body, "editor-crumb") || strings.Contains(body, "<title>") {
				t.Error("a refused rename updates the header")
			}
			if cur, err := e.srv.svc.GetWorkflow(ctx, w.ID); err != nil || cur.Revision != 2 || cur.Doc.Title != renamed {
				t.Errorf("after a refused rename: %v, %v", cur, err)
			}
		})
	}

	// Without JavaScript: the full page with the error, the header showing
	// the stored title; then a rename redirects to the renamed page.
	f.Set("title", "")
	res, body = doForm(t, e.srv.app, e.sess, wfPath(w.ID, "/trigger"), f, formOpts{})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if got := textOf(element(t, body, "error-title")); got != "required" {
		t.Errorf("error next to the title = %q", got)
	}
	if got := textOf(element(t, body, "editor-title")); got != renamed || !strings.Contains(body, "<title>Order paid &lt;v2&gt; · Hookflow</title>") {
		t.Errorf("422 page header = %q", got)
	}
	f.Set("title", "Third")
	res, _ = doForm(t, e.srv.app, e.sess, wfPath(w.ID, "/trigger"), f, formOpts{})
	wantStatus(t, res, http.StatusSeeOther)
	_, body = e.sess.get(t, e.srv.app, wfPath(w.ID, ""))
	if got := textOf(element(t, body, "editor-title")); got != "Third" {
		t.Errorf("header after a plain rename = %q", got)
	}

	// Adding a row keeps the title being typed, unsaved.
	f.Set("title", "Typing…")
	f.Set("action", "add:body")
	_, body = e.post(wfPath(w.ID, "/trigger/panel"), f)
	if got := attr(t, element(t, body, "workflow-title"), "value"); got != "Typing…" {
		t.Errorf("title after adding a row = %q", got)
	}
	f.Del("action")

	// A form without the title input (a page loaded before it existed)
	// keeps the title.
	f.Del("title")
	res, _ = e.post(wfPath(w.ID, "/trigger"), f)
	wantStatus(t, res, http.StatusOK)
	if cur, _ := e.doc(w.ID); cur.Revision != 4 || cur.Doc.Title != "Third" {
		t.Errorf("without a title field: revision %d titled %q", cur.Revision, cur.Doc.Title)
	}
}

func TestEditorTriggerSaveAsync(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(`{"title":"A","mode":"async","trigger":{},"nodes":[]}`)
	f := url.Values{
		"response[status]":            {"202"},
		"response[headers][0][name]":  {"X-Id"},
		"response[headers][0][value]": {"{{$system.executionId}}"},
		"response[bodyType]":          {"json"},
		"response[body]":              {`{"queued": true}`},
	}
	res, _ := e.post(wfPath(w.ID, "/trigger"), f)
	wantStatus(t, res, http.StatusOK)
	_, d := e.doc(w.ID)
	r := d.Trigger.Response
	if r == nil || r.Status != 202 || string(r.Body) != `{"queued":true}` || r.Headers[0].Name != "X-Id" {
		t.Fatalf("reply = %+v", r)
	}
	// Text body.
	f.Set("response[bodyType]", "text")
	f.Set("response[body]", "thanks")
	e.post(wfPath(w.ID, "/trigger"), f)
	if _, d := e.doc(w.ID); string(d.Trigger.Response.Body) != `"thanks"` {
		t.Fatalf("text body = %s", d.Trigger.Response.Body)
	}
	// Bad JSON and a bad header name.
	f.Set("response[bodyType]", "json")
	f.Set("response[body]", `{"queued": }`)
	res, body := e.post(wfPath(w.ID, "/trigger"), f)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if msg := textOf(element(t, body, "error-response-body")); !strings.Contains(msg, "invalid JSON") {
		t.Errorf("body error = %q", msg)
	}
	f.Set("response[body]", `{}`)
	f.Set("response[headers][0][name]", "Bad Header")
	res, body = e.post(wfPath(w.ID, "/trigger"), f)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if msg := textOf(element(t, body, "error-response-headers-0-name")); !strings.Contains(msg, "not a valid header name") {
		t.Errorf("header error = %q", msg)
	}
	if !strings.Contains(element(t, body, "response-headers-0-name"), `aria-invalid="true"`) {
		t.Error("header name input not marked invalid")
	}
}

func TestEditorTriggerSavePlainForm(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(editorS9)
	res, _ := doForm(t, e.srv.app, e.sess, wfPath(w.ID, "/trigger"), triggerForm(), formOpts{})
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != wfPath(w.ID, "") {
		t.Errorf("Location = %q", loc)
	}
	f := triggerForm()
	f.Set("timeoutSeconds", "0")
	res, body := doForm(t, e.srv.app, e.sess, wfPath(w.ID, "/trigger"), f, formOpts{})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	mustTestID(t, body, "editor", "canvas", "error-timeoutSeconds")
}

// rowValues lists the values of a part's path inputs in a fragment.
func rowValues(t *testing.T, body, part string) []string {
	var out []string
	for i := 0; hasTestID(body, part+"-"+strconv.Itoa(i)+"-path"); i++ {
		out = append(out, attr(t, element(t, body, part+"-"+strconv.Itoa(i)+"-path"), "value"))
	}
	return out
}

func TestEditorTriggerParse(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(`{"title":"A","mode":"sync","trigger":{},"nodes":[]}`)
	tests := []struct {
		name, part, sample string
		existing           url.Values
		want               []string
		wantAlias          map[int]string
	}{
		{"json", "body", `{"a":1,"b":{"c":2}}`, nil, []string{"a", "b", "b.c"}, nil},
		{"url", "query", `https://example.com/hook?query[0][a]=1`, nil, []string{"query", "query[0]", "query[0].a"}, nil},
		{"query string", "query", `?a=1&b[]=2`, nil, []string{"a", "b", "b[0]"}, nil},
		{"form body", "body", `token=x&user[name]=y`, nil, []string{"token", "user", "user.name"}, nil},
		{"merge keeps aliases", "body", `{"a":1,"b":{"c":2}}`,
			url.Values{"body[0][path]": {"b"}, "body[0][alias]": {"Bee"}, "body[1][path]": {"zz"}},
			[]string{"b", "zz", "a", "b.c"}, map[int]string{0: "Bee"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := url.Values{tt.part + "Sample": {tt.sample}}
			for k, v := range tt.existing {
				f[k] = v
			}
			res, body := e.post(wfPath(w.ID, "/trigger/parse?part="+tt.part), f)
			wantStatus(t, res, http.StatusOK)
			mustTestID(t, body, "fields-"+tt.part, tt.part+"-parse-result")
			if got := rowValues(t, body, tt.part); strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("rows = %q, want %q", got, tt.want)
			}
			for i, a := range tt.wantAlias {
				if got := attr(t, element(t, body, tt.part+"-"+strconv.Itoa(i)+"-alias"), "value"); got != a {
					t.Errorf("alias %d = %q, want %q", i, got, a)
				}
			}
			if strings.Contains(body, "<html") || hasTestID(body, "trigger-panel") {
				t.Error("parse answered more than the part's fragment")
			}
		})
	}
	for _, tt := range []struct{ name, part, sample, want string }{
		{"bad json", "body", `{"a":`, "not valid JSON"},
		{"empty", "body", ``, "Paste"},
		{"no query", "query", `https://example.com/hook`, "no query string"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, body := e.post(wfPath(w.ID, "/trigger/parse?part="+tt.part), url.Values{tt.part + "Sample": {tt.sample}})
			wantStatus(t, res, http.StatusUnprocessableEntity)
			if msg := textOf(element(t, body, "error-sample-"+tt.part)); !strings.Contains(msg, tt.want) {
				t.Errorf("error = %q, want %q", msg, tt.want)
			}
			if !strings.Contains(element(t, body, tt.part+"-sample"), `aria-invalid="true"`) {
				t.Error("sample not marked invalid")
			}
		})
	}
	// Parsing saves nothing.
	if cur, _ := e.doc(w.ID); cur.Revision != 1 {
		t.Errorf("revision = %d after parsing", cur.Revision)
	}
}

func TestEditorTriggerRows(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(editorS9)
	f := triggerForm()
	f.Set("action", "add:headers")
	res, body := e.post(wfPath(w.ID, "/trigger/panel"), f)
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "headers-1-path")
	if !strings.Contains(element(t, body, "headers-1-path"), "autofocus") {
		t.Error("the new row does not get focus")
	}
	f = triggerForm()
	f.Set("action", "remove:body.0")
	_, body = e.post(wfPath(w.ID, "/trigger/panel"), f)
	if got := rowValues(t, body, "body"); strings.Join(got, " ") != "order.status " {
		t.Errorf("rows after remove = %q", got)
	}
	if cur, _ := e.doc(w.ID); cur.Revision != 1 {
		t.Error("a row action saved the workflow")
	}
}

func TestEditorNodeCreate(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(`{"title":"A","mode":"sync","trigger":{},"nodes":[]}`)
	add := func(typ, parent, branch string, index int) (*http.Response, string) {
		return e.post(wfPath(w.ID, "/nodes"), url.Values{"type": {typ}, "parent": {parent}, "branch": {branch}, "index": {strconv.Itoa(index)}})
	}
	res, body := add("condition", "", "main", 0)
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "node-panel", "canvas", "node-condition_1", "insert-condition_1-yes-0", "insert-condition_1-no-0", "flash-success")
	if !strings.Contains(body, `id="canvas-region"`) || !strings.Contains(body, `hx-swap-oob="true"`) {
		t.Error("no out-of-band canvas")
	}
	if !strings.Contains(element(t, body, "node-condition_1"), "is-selected") {
		t.Error("the new node is not selected")
	}
	if res, _ := add("response", "condition_1", "yes", 0); res.StatusCode != http.StatusOK {
		t.Fatalf("add response: %d", res.StatusCode)
	}
	if res, _ := add("end", "condition_1", "no", 0); res.StatusCode != http.StatusOK {
		t.Fatalf("add end: %d", res.StatusCode)
	}
	if res, _ := add("response", "", "main", 1); res.StatusCode != http.StatusOK {
		t.Fatalf("add response at the end: %d", res.StatusCode)
	}
	cur, d := e.doc(w.ID)
	if cur.Revision != 5 {
		t.Errorf("revision = %d, want 5", cur.Revision)
	}
	b, _ := json.Marshal(d.Nodes)
	want := `[{"key":"condition_1","type":"condition","config":{"mode":"branch","rules":{"and":[]}},"branches":{"no":[{"key":"end_1","type":"end","config":{"status":"resolved"}}],"yes":[{"key":"response_1","type":"response","config":{"status":200,"headers":[],"body":{"ok":true}}}]}},{"key":"response_2","type":"response","config":{"status":200,"headers":[],"body":{"ok":true}}}]`
	if string(b) != want {
		t.Errorf("nodes =\n%s\nwant\n%s", b, want)
	}
	// Refused: bad place, bad type.
	for _, tt := range []struct {
		typ, parent, branch string
		index               int
	}{
		{"end", "", "main", 9},
		{"end", "response_2", "yes", 0},
		{"end", "nope", "yes", 0},
		{"bogus", "", "main", 0},
	} {
		if res, _ := add(tt.typ, tt.parent, tt.branch, tt.index); res.StatusCode < 400 {
			t.Errorf("add %+v: %d", tt, res.StatusCode)
		}
	}
	aw := e.create(`{"title":"B","mode":"async","trigger":{},"nodes":[]}`)
	res, _ = e.post(wfPath(aw.ID, "/nodes"), url.Values{"type": {"response"}, "index": {"0"}})
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("response in async: %d", res.StatusCode)
	}
}

// s9RuleForm is the §9 condition as the rule builder posts it.
func s9RuleForm() url.Values {
	return url.Values{
		"title":                  {"Paid?"},
		"mode":                   {"branch"},
		"rules[op]":              {"and"},
		"rules[items][0][left]":  {"{{$context.body.order.status}}"},
		"rules[items][0][op]":    {"equal"},
		"rules[items][0][right]": {"paid"},
	}
}

func TestEditorNodeSave(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	// A step in a branch: errors in the rules must not be taken for a
	// mode switch that would drop it.
	w := e.create(`{"title":"A","mode":"sync","trigger":{},"nodes":[{"key":"paid","type":"condition","config":{"mode":"branch","rules":{"and":[]}},"branches":{"yes":[{"key":"e","type":"end"}]}}]}`)
	res, body := e.post(wfPath(w.ID, "/nodes/paid"), s9RuleForm())
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "node-panel", "flash-success")
	// In words, not operator names (issue 12, point 16).
	if got := textOf(element(t, body, "node-summary-paid")); got != `Order status is paid` {
		t.Errorf("canvas summary = %q", got)
	}
	_, d := e.doc(w.ID)
	if d.Nodes[0].Title != "Paid?" || string(d.Nodes[0].Config) != `{"mode":"branch","rules":{"and":[{"left":"{{$context.body.order.status}}","op":"equal","right":"paid"}]}}` {
		t.Fatalf("saved %q %s", d.Nodes[0].Title, d.Nodes[0].Config)
	}

	// Nested groups, unary operators, or.
	f := s9RuleForm()
	f.Set("rules[items][1][group]", "1")
	f.Set("rules[items][1][op]", "or")
	f.Set("rules[items][1][items][0][left]", "{{$context.query.source}}")
	f.Set("rules[items][1][items][0][op]", "exists")
	f.Set("rules[items][1][items][0][right]", "")
	f.Set("rules[items][1][items][1][group]", "1")
	f.Set("rules[items][1][items][1][op]", "and")
	f.Set("rules[items][1][items][1][items][0][left]", "{{$context.body.order.id}}")
	f.Set("rules[items][1][items][1][items][0][op]", "gt")
	f.Set("rules[items][1][items][1][items][0][right]", "100")
	res, _ = e.post(wfPath(w.ID, "/nodes/paid"), f)
	wantStatus(t, res, http.StatusOK)
	_, d = e.doc(w.ID)
	want := `{"mode":"branch","rules":{"and":[{"left":"{{$context.body.order.status}}","op":"equal","right":"paid"},{"or":[{"left":"{{$context.query.source}}","op":"exists"},{"and":[{"left":"{{$context.body.order.id}}","op":"gt","right":"100"}]}]}]}}`
	if string(d.Nodes[0].Config) != want {
		t.Fatalf("config =\n%s\nwant\n%s", d.Nodes[0].Config, want)
	}
	// It renders back as it was posted.
	_, body = e.sess.getHTMX(t, e.srv.app, wfPath(w.ID, "/nodes/paid/panel"))
	mustTestID(t, body, "group-rules-items-1", "group-rules-items-1-items-1", "rules-items-1-items-1-items-0-left")
	if got := attr(t, element(t, body, "rules-items-1-items-1-items-0-right"), "value"); got != "100" {
		t.Errorf("nested right = %q", got)
	}

	// Errors land on the rule's input.
	for _, tt := range []struct {
		name, op, right, testid, want string
	}{
		{"bad regex", "matches", "(", "rules-items-0-right", "invalid regular expression"},
		{"unknown operator", "bogus", "x", "rules-items-0-op", `unknown operator "bogus"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := s9RuleForm()
			f.Set("rules[items][0][op]", tt.op)
			f.Set("rules[items][0][right]", tt.right)
			res, body := e.post(wfPath(w.ID, "/nodes/paid"), f)
			wantStatus(t, res, http.StatusUnprocessableEntity)
			if msg := textOf(element(t, body, "error-"+tt.testid)); !strings.Contains(msg, tt.want) {
				t.Errorf("error = %q, want %q", msg, tt.want)
			}
			if !strings.Contains(element(t, body, tt.testid), `aria-invalid="true"`) {
				t.Errorf("%s not marked invalid", tt.testid)
			}
			if msg := textOf(element(t, body, "panel-error")); msg != "Not saved: fix the highlighted field." {
				t.Errorf("panel alert = %q", msg)
			}
		})
	}
	// A regex that compiles is fine.
	f = s9RuleForm()
	f.Set("rules[items][0][op]", "matches")
	f.Set("rules[items][0][right]", "^pa(id|yed)$")
	if res, _ := e.post(wfPath(w.ID, "/nodes/paid"), f); res.StatusCode != http.StatusOK {
		t.Errorf("good regex: %d", res.StatusCode)
	}
}

func TestEditorNodeSaveNested(t *testing.T) {
	t.Parallel()
	// Errors of a node deep in a branch map to its panel too.
	e := newEditorEnv(t)
	w := e.create(editorS9)
	res, body := e.post(wfPath(w.ID, "/nodes/ok"), url.Values{
		"status": {"200"}, "headers[0][name]": {"X Order"}, "headers[0][value]": {"{{$context.body.order.id}}"},
		"bodyType": {"json"}, "body": {`{"ok":true}`},
	})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if msg := textOf(element(t, body, "error-headers-0-name")); !strings.Contains(msg, "not a valid header name") {
		t.Errorf("error = %q", msg)
	}
	// Status out of range, then fine with a text body.
	res, body = e.post(wfPath(w.ID, "/nodes/ok"), url.Values{"status": {"700"}, "bodyType": {"text"}, "body": {"hi"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if msg := textOf(element(t, body, "error-status")); !strings.Contains(msg, "between 200 and 599") {
		t.Errorf("status error = %q", msg)
	}
	res, _ = e.post(wfPath(w.ID, "/nodes/ok"), url.Values{"title": {"OK"}, "status": {"201"}, "bodyType": {"text"}, "body": {"hi"}})
	wantStatus(t, res, http.StatusOK)
	_, d := e.doc(w.ID)
	if ok := d.Nodes[0].Branches["yes"][0]; ok.Title != "OK" || string(ok.Config) != `{"status":201,"headers":[],"body":"hi"}` {
		t.Errorf("ok = %q %s", ok.Title, ok.Config)
	}
	// An end node.
	res, _ = e.post(wfPath(w.ID, "/nodes"), url.Values{"type": {"end"}, "parent": {"paid"}, "branch": {"no"}, "index": {"1"}})
	wantStatus(t, res, http.StatusOK)
	res, _ = e.post(wfPath(w.ID, "/nodes/end_1"), url.Values{"status": {"failed"}})
	wantStatus(t, res, http.StatusOK)
	if n, _ := engine.FindNode(docOf(e, w.ID), "end_1"); string(n.Config) != `{"status":"failed"}` {
		t.Errorf("end = %s", n.Config)
	}
	// Switching a condition with steps in its branches to continue mode is refused.
	f := s9RuleForm()
	f.Set("mode", "continue")
	res, body = e.post(wfPath(w.ID, "/nodes/paid"), f)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if msg := textOf(element(t, body, "error-mode")); !strings.Contains(msg, "delete them first") {
		t.Errorf("mode error = %q", msg)
	}
}

func docOf(e *editorEnv, id int64) *engine.Document {
	_, d := e.doc(id)
	return d
}

func TestEditorRuleBuilderActions(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(editorS9)
	path := wfPath(w.ID, "/nodes/paid/panel")
	f := s9RuleForm()
	f.Set("action", "add-rule:")
	res, body := e.post(path, f)
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "rules-items-0-left", "rules-items-1-left")
	if !strings.Contains(element(t, body, "rules-items-1-left"), "autofocus") {
		t.Error("the new rule does not get focus")
	}
	if got := attr(t, element(t, body, "rules-items-0-right"), "value"); got != "paid" {
		t.Errorf("posted state lost: right = %q", got)
	}
	f.Set("action", "add-group:")
	_, body = e.post(path, f)
	mustTestID(t, body, "group-rules-items-1", "rules-items-1-items-0-left")
	if !strings.Contains(element(t, body, "rules-items-1-op"), `<option value="or" selected>`) {
		t.Error("a group added to an and group is not an or group")
	}
	f.Set("rules[items][1][group]", "1")
	f.Set("rules[items][1][op]", "or")
	f.Set("rules[items][1][items][0][left]", "x")
	f.Set("rules[items][1][items][0][op]", "equal")
	f.Set("action", "remove-rule:1.0")
	_, body = e.post(path, f)
	mustTestID(t, body, "group-rules-items-1", "empty-rules-items-1")
	f.Set("action", "remove-rule:0")
	_, body = e.post(path, f)
	if hasTestID(body, "rules-items-0-left") {
		t.Error("rule 0 not removed (the group moved up to 0)")
	}
	mustTestID(t, body, "group-rules-items-0")
	if cur, _ := e.doc(w.ID); cur.Revision != 1 {
		t.Error("a rule builder action saved the workflow")
	}
	// Response header rows.
	_, body = e.post(wfPath(w.ID, "/nodes/ok/panel"), url.Values{"status": {"200"}, "action": {"add:headers"}})
	mustTestID(t, body, "headers-0-name")
}

func TestEditorNodeDeleteAndMove(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(editorS9)
	for _, typ := range []string{"end", "end"} {
		if res, _ := e.post(wfPath(w.ID, "/nodes"), url.Values{"type": {typ}, "index": {"1"}}); res.StatusCode != http.StatusOK {
			t.Fatal(res.StatusCode)
		}
	}
	// paid end_2 end_1
	keys := func() string {
		var ks []string
		for _, n := range docOf(e, w.ID).Nodes {
			ks = append(ks, n.Key)
		}
		return strings.Join(ks, " ")
	}
	if got := keys(); got != "paid end_2 end_1" {
		t.Fatalf("keys = %q", got)
	}
	res, body := e.post(wfPath(w.ID, "/nodes/end_1/move?dir=up"), nil)
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "node-panel", "canvas")
	if got := keys(); got != "paid end_1 end_2" {
		t.Errorf("after move up: %q", got)
	}
	e.post(wfPath(w.ID, "/nodes/paid/move?dir=down"), nil)
	if got := keys(); got != "end_1 paid end_2" {
		t.Errorf("after move down: %q", got)
	}
	res, body = e.post(wfPath(w.ID, "/nodes/end_1/move?dir=up"), nil)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "already the first") {
		t.Errorf("move past the top: %d %s", res.StatusCode, body)
	}
	// The delete button warns about the branches.
	_, body = e.sess.getHTMX(t, e.srv.app, wfPath(w.ID, "/nodes/paid/panel"))
	if c := attr(t, element(t, body, "node-delete"), "data-confirm"); !strings.Contains(c, "yes and no branches go too (2 steps)") {
		t.Errorf("confirm = %q", c)
	}
	res, body = e.post(wfPath(w.ID, "/nodes/paid/delete"), nil)
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "trigger-panel")
	if !strings.Contains(body, "Deleted paid and the 2 steps in its branches") {
		t.Error("no delete message")
	}
	if got := keys(); got != "end_1 end_2" {
		t.Errorf("after delete: %q", got)
	}
	if hasTestID(body, "node-ok") {
		t.Error("the canvas still shows a deleted branch")
	}
	res, _ = e.post(wfPath(w.ID, "/nodes/paid/delete"), nil)
	wantStatus(t, res, http.StatusNotFound)
}

func TestEditorExport(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(editorS9)
	res, body := e.sess.get(t, e.srv.app, wfPath(w.ID, "/export"))
	wantStatus(t, res, http.StatusOK)
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="payment-callback-rev1.json"` {
		t.Errorf("Content-Disposition = %q", cd)
	}
	var doc struct {
		Key     string `json:"key"`
		URL     string `json:"url"`
		Trigger struct {
			BasicAuth engine.BasicAuth `json:"basicAuth"`
		} `json:"trigger"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	// Secrets are left out unless asked for (product.md §11, issue 12
	// point 13).
	if doc.Key != w.Key || !strings.HasSuffix(doc.URL, "/api/webhook:trigger/"+w.Key) || doc.Trigger.BasicAuth.Password != "" ||
		strings.Contains(body, "password") || !doc.Trigger.BasicAuth.Enabled {
		t.Errorf("export = %+v", doc)
	}
	_, body = e.sess.get(t, e.srv.app, wfPath(w.ID, "/export?secrets=1"))
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Trigger.BasicAuth.Password != "s3cret" {
		t.Errorf("export with secrets: %+v", doc)
	}
}

// A save from the browser changes what its form shows and keeps every
// other field of the stored document, known to this version or not.
func TestEditorKeepsUnknownFields(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(`{"title":"A","mode":"sync","x-top":{"n":12345678901234567890},` +
		`"trigger":{"verify":{"type":"github","secret":"s"},"body":[{"path":"a","note":"n"}]},` +
		`"nodes":[{"key":"r","type":"response","test":{"run":true},"config":{"status":200,"continue":true,"headers":[],"body":"x"}},` +
		`{"key":"c","type":"condition","config":{"mode":"continue","rules":{"and":[]},"label":"L"}}]}`)
	for _, step := range []struct {
		path string
		form url.Values
	}{
		{"/trigger", url.Values{"title": {"B"}, "body[0][path]": {"a"}, "body[0][alias]": {"A"}, "timeoutSeconds": {"20"}}},
		{"/nodes/r", url.Values{"title": {"T"}, "status": {"201"}, "body": {"y"}, "bodyType": {"text"}, "continue": {"on"}}},
		{"/nodes/c", url.Values{"mode": {"continue"}, "rules[op]": {"or"}}},
		{"/nodes/c/move?dir=up", nil},
		{"/nodes", url.Values{"type": {"end"}, "index": {"2"}}},
	} {
		res, body := e.post(wfPath(w.ID, step.path), step.form)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %d %s", step.path, res.StatusCode, body)
		}
	}
	cur, _ := e.doc(w.ID)
	var doc struct {
		Top     json.RawMessage `json:"x-top"`
		Title   string
		Trigger struct {
			Verify json.RawMessage
			Body   []map[string]string
		}
		Nodes []struct {
			Key    string
			Title  string
			Test   json.RawMessage
			Config map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal(cur.Stored, &doc); err != nil {
		t.Fatal(err)
	}
	if cur.Revision != 6 || doc.Title != "B" || string(doc.Top) != `{"n":12345678901234567890}` {
		t.Errorf("revision %d, title %q, x-top %s", cur.Revision, doc.Title, doc.Top)
	}
	// The verify secret is stored encrypted, apart from the document.
	if string(doc.Trigger.Verify) != `{"type":"github","secret":""}` || cur.Secrets.VerifySecret != "s" || len(doc.Trigger.Body) != 1 ||
		doc.Trigger.Body[0]["note"] != "n" || doc.Trigger.Body[0]["alias"] != "A" {
		t.Errorf("trigger: verify %s, body %v", doc.Trigger.Verify, doc.Trigger.Body)
	}
	if len(doc.Nodes) != 3 || doc.Nodes[0].Key != "c" || doc.Nodes[1].Key != "r" || doc.Nodes[2].Key != "end_1" {
		t.Fatalf("nodes: %s", cur.Stored)
	}
	if c := doc.Nodes[0].Config; string(c["label"]) != `"L"` || string(c["rules"]) != `{"or":[]}` {
		t.Errorf("condition config: %s", cur.Stored)
	}
	r := doc.Nodes[1]
	if string(r.Test) != `{"run":true}` || r.Title != "T" || string(r.Config["continue"]) != "true" ||
		string(r.Config["status"]) != "201" || string(r.Config["body"]) != `"y"` {
		t.Errorf("response node: %s", cur.Stored)
	}
}
