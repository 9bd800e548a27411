package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/engine"
)

func TestUIPagesRequireSession(t *testing.T) {
	t.Parallel()
	app, _, _ := newUITestServer(t)
	for _, tc := range []struct{ path, want string }{
		{"/", "/signin"},
		{"/tokens", "/signin?next=%2Ftokens"},
		{"/workflows/1/executions?status=failed", "/signin?next=%2Fworkflows%2F1%2Fexecutions%3Fstatus%3Dfailed"},
		{"/executions/1", "/signin?next=%2Fexecutions%2F1"},
	} {
		res, _ := send(t, app, mustRequest(http.MethodGet, tc.path))
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != tc.want {
			t.Errorf("GET %s without session: %d Location %q, want 303 %q", tc.path, res.StatusCode, res.Header.Get("Location"), tc.want)
		}
	}
	// htmx requests are sent with HX-Redirect, POSTs too.
	res, _ := doForm(t, app, uiSession{}, "/workflows", url.Values{"title": {"x"}, "mode": {"async"}}, formOpts{HTMX: true})
	if res.Header.Get("HX-Redirect") != "/signin" {
		t.Errorf("htmx POST without session: HX-Redirect %q, want /signin", res.Header.Get("HX-Redirect"))
	}
}

func mustRequest(method, path string) *http.Request {
	req, err := http.NewRequest(method, "http://example.com"+path, nil)
	if err != nil {
		panic(err)
	}
	return req
}

func TestWorkflowListEmpty(t *testing.T) {
	t.Parallel()
	app, _, _ := newUITestServer(t)
	s := signIn(t, app)
	res, body := s.get(t, app, "/")
	wantStatus(t, res, http.StatusOK)
	cspSafe(t, body)
	mustTestID(t, body, "empty-state", "new-workflow-form", "new-workflow-title", "new-workflow-mode-sync", "new-workflow-mode-async", "new-workflow-submit", "nav-workflows")
	if hasTestID(body, "workflow-list") {
		t.Error("empty list shows a table")
	}
	if !strings.Contains(textOf(element(t, body, "empty-state")), "copy that URL into the system that sends the webhooks") {
		t.Error("empty state does not say what to do")
	}
	// Async is the default mode.
	if !strings.Contains(element(t, body, "new-workflow-mode-async"), "checked") {
		t.Error("async is not preselected")
	}
	if !strings.Contains(body, `aria-current="page" data-testid="nav-workflows"`) {
		t.Error("Workflows is not the current navigation entry")
	}
}

func TestWorkflowCreate(t *testing.T) {
	t.Parallel()
	app, _, svc := newUITestServer(t)
	s := signIn(t, app)
	res, _ := doForm(t, app, s, "/workflows", url.Values{"title": {"  Payment callback "}, "mode": {"sync"}}, formOpts{})
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/workflows/1" {
		t.Fatalf("Location %q, want the editor /workflows/1", loc)
	}
	flash := cookieValue(res, "hookflow_flash")
	if flash == "" {
		t.Fatal("no flash after create")
	}
	w, err := svc.GetWorkflow(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(w.Stored), `{"title":"Payment callback","mode":"sync","enabled":true,"trigger":{},"nodes":[]}`; got != want {
		t.Errorf("stored document\n got %s\nwant %s", got, want)
	}

	// The flash shows on the next page, then the list has the row.
	req := mustRequest(http.MethodGet, "/")
	req.Header.Set("Cookie", s.Cookie+"; hookflow_flash="+flash)
	res, body := send(t, app, req)
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "flash-success", "workflow-list", "workflow-row-1", "enabled-toggle-1", "duplicate-1", "delete-1")
	if !strings.Contains(textOf(element(t, body, "flash-success")), "Payment callback") {
		t.Error("flash does not name the workflow")
	}
	if hasTestID(body, "empty-state") {
		t.Error("list with a workflow shows the empty state")
	}

	// htmx forms get HX-Redirect.
	res, _ = doForm(t, app, s, "/workflows", url.Values{"title": {"Second"}, "mode": {"async"}}, formOpts{HTMX: true})
	if res.Header.Get("HX-Redirect") != "/workflows/2" {
		t.Errorf("htmx create: HX-Redirect %q", res.Header.Get("HX-Redirect"))
	}
}

func TestWorkflowCreateValidation(t *testing.T) {
	t.Parallel()
	app, _, svc := newUITestServer(t)
	s := signIn(t, app)
	for _, tc := range []struct {
		name, title, mode, field, msg string
	}{
		{"empty title", "   ", "async", "new-workflow-title-error", "Required"},
		{"long title", strings.Repeat("x", 201), "async", "new-workflow-title-error", "Longer than 200 characters"},
		{"bad mode", "Orders", "bogus", "new-workflow-mode-error", `Must be "sync" or "async", got "bogus"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := doForm(t, app, s, "/workflows", url.Values{"title": {tc.title}, "mode": {tc.mode}}, formOpts{})
			wantStatus(t, res, http.StatusUnprocessableEntity)
			mustTestID(t, body, "new-workflow-form")
			if !strings.Contains(body, `data-replace-url="/"`) {
				t.Error("a reload would post the form again")
			}
			if tc.field == "new-workflow-title-error" {
				in := element(t, body, "new-workflow-title")
				if !strings.Contains(in, `aria-invalid="true"`) || !strings.Contains(in, `aria-describedby="new-workflow-title-error"`) {
					t.Errorf("title input not marked invalid: %s", in)
				}
			} else if !strings.Contains(body, `id="new-workflow-mode-error"`) {
				t.Error("no mode error element")
			}
			if got := textOf(element(t, body, tc.field)); got != tc.msg {
				t.Errorf("error %q, want %q", got, tc.msg)
			}
		})
	}
	if list, _ := svc.ListWorkflows(context.Background()); len(list) != 0 {
		t.Errorf("invalid forms created %d workflows", len(list))
	}
}

func TestWorkflowUICSRF(t *testing.T) {
	t.Parallel()
	app, _, svc := newUITestServer(t)
	s := signIn(t, app)
	w := createWorkflow(t, svc, `{"title":"A","mode":"async","nodes":[]}`)
	for _, path := range []string{"/workflows", "/workflows/1/enabled", "/workflows/1/duplicate", "/workflows/1/delete"} {
		res, body := doForm(t, app, s, path, url.Values{"title": {"x"}, "mode": {"async"}}, formOpts{NoCSRF: true})
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s without CSRF token: %d, want 403", path, res.StatusCode)
		}
		mustTestID(t, body, "error-page")
		res, _ = doForm(t, app, s, path, nil, formOpts{HTMX: true, NoCSRF: true})
		if res.StatusCode != http.StatusForbidden || res.Header.Get("HX-Retarget") != "#flash" {
			t.Errorf("htmx POST %s without CSRF token: %d retarget %q", path, res.StatusCode, res.Header.Get("HX-Retarget"))
		}
		// A token from another session is refused too.
		other := s
		other.CSRF = "not-the-token"
		if res, _ := doForm(t, app, other, path, nil, formOpts{}); res.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s with a wrong CSRF token: %d", path, res.StatusCode)
		}
	}
	got, err := svc.GetWorkflow(context.Background(), w.ID)
	if err != nil || got.Revision != 1 {
		t.Errorf("refused requests changed the workflow: %v, revision %d", err, got.Revision)
	}
}

func TestWorkflowListRow(t *testing.T) {
	t.Parallel()
	app, _, svc := newUITestServer(t)
	s := signIn(t, app)
	w := createWorkflow(t, svc, `{"title":"Orders <b>","mode":"sync","nodes":[{"key":"end","type":"end","config":{"status":"failed"}}]}`)
	for range 2 {
		if _, err := svc.Trigger(context.Background(), w.Key, engine.Credentials{}, &engine.Request{Method: "POST"}); err != nil {
			t.Fatal(err)
		}
	}
	_, body := s.get(t, app, "/")
	cspSafe(t, body)
	row := element(t, body, "workflow-row-1")
	wantURL := "http://example.com/api/webhook:trigger/" + w.Key
	for _, want := range []string{
		`href="/workflows/1"`,
		`Orders &lt;b&gt;`,
		`badge-sync`,
		`>` + wantURL + `</code>`,
		`data-copy="` + wantURL + `"`,
		`href="/workflows/1/executions/latest"`,
		`badge-failed`,
		`href="/workflows/1/executions"`,
		`data-confirm="Delete “Orders &lt;b&gt;” and its 2 executions? This cannot be undone."`,
	} {
		if !strings.Contains(row, want) {
			t.Errorf("row lacks %s", want)
		}
	}
	if !strings.Contains(element(t, row, "enabled-toggle-1"), "checked") {
		t.Error("enabled switch is off")
	}
	if !strings.Contains(textOf(element(t, row, "executions-1")), "2") {
		t.Error("execution count is not 2")
	}
}

func TestWorkflowEnabledToggle(t *testing.T) {
	t.Parallel()
	app, _, svc := newUITestServer(t)
	s := signIn(t, app)
	ctx := context.Background()
	// Extra fields, a big number and the Basic Auth secret must survive.
	w := createWorkflow(t, svc, `{"title":"Hook","mode":"async","x-extra":{"big":123456789012345678901234567890},"trigger":{"basicAuth":{"enabled":true,"username":"u","password":"p4ss"}},"nodes":[]}`)

	res, body := doForm(t, app, s, "/workflows/1/enabled", url.Values{}, formOpts{HTMX: true})
	wantStatus(t, res, http.StatusOK)
	if strings.Contains(body, "<html") {
		t.Error("htmx toggle returned a whole page")
	}
	if !strings.HasPrefix(strings.TrimSpace(body), "<tr") {
		t.Errorf("htmx toggle reply does not start with the row: %.80s", body)
	}
	if strings.Contains(element(t, body, "enabled-toggle-1"), "checked") {
		t.Error("row still shows the switch on")
	}
	if !strings.Contains(body, `hx-swap-oob`) || !strings.Contains(body, "answers 404") {
		t.Error("no flash about the change")
	}
	got, err := svc.GetWorkflow(ctx, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The state is not an edit: no revision (issue 12, point 16).
	if got.Revision != 1 || got.Doc.IsEnabled() {
		t.Fatalf("after switching off: revision %d enabled %v", got.Revision, got.Doc.IsEnabled())
	}
	if revs, _ := svc.ListRevisions(ctx, w.ID); len(revs) != 1 {
		t.Errorf("%d revisions after switching off", len(revs))
	}
	if exp := string(engine.ExportDocument(got, "u")); !strings.Contains(exp, `"enabled":false`) {
		t.Errorf("export does not say disabled: %s", exp)
	}
	if !strings.Contains(string(got.Stored), `"x-extra":{"big":123456789012345678901234567890}`) || got.Secrets.BasicAuthPassword != "p4ss" {
		t.Errorf("switch lost data: %s secret %q", got.Stored, got.Secrets.BasicAuthPassword)
	}
	if !strings.HasPrefix(string(got.Stored), `{"title":"Hook","mode":"async",`) {
		t.Errorf("switch reordered the document: %s", got.Stored)
	}
	if _, err := svc.Trigger(ctx, w.Key, engine.Credentials{Username: "u", Password: "p4ss", Present: true}, &engine.Request{Method: "POST"}); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("disabled workflow answered: %v", err)
	}

	// The same state again saves nothing.
	doForm(t, app, s, "/workflows/1/enabled", url.Values{}, formOpts{HTMX: true})
	if got, _ := svc.GetWorkflow(ctx, w.ID); got.Revision != 1 {
		t.Errorf("no-op toggle saved revision %d", got.Revision)
	}

	// Without htmx: a redirect to the list.
	res, _ = doForm(t, app, s, "/workflows/1/enabled", url.Values{"enabled": {"on"}}, formOpts{})
	wantStatus(t, res, http.StatusSeeOther)
	if got, _ := svc.GetWorkflow(ctx, w.ID); got.Revision != 1 || !got.Doc.IsEnabled() {
		t.Errorf("switching on: revision %d enabled %v", got.Revision, got.Doc.IsEnabled())
	}
	if _, err := svc.Trigger(ctx, w.Key, engine.Credentials{Username: "u", Password: "p4ss", Present: true}, &engine.Request{Method: "POST"}); err != nil {
		t.Errorf("enabled again, the workflow does not answer: %v", err)
	}

	// Unknown ids are 404s.
	res, _ = doForm(t, app, s, "/workflows/99/enabled", nil, formOpts{})
	wantStatus(t, res, http.StatusNotFound)
}

func TestSetTopFieldCaseVariants(t *testing.T) {
	t.Parallel()
	app, _, svc := newUITestServer(t)
	s := signIn(t, app)
	// The decoder matches keys without regard to case: "Enabled" is the
	// enabled flag: it is the one set, and no second key appears.
	createWorkflow(t, svc, `{"title":"Hook","mode":"async","Enabled":true,"nodes":[]}`)
	doForm(t, app, s, "/workflows/1/enabled", url.Values{}, formOpts{HTMX: true})
	got, err := svc.GetWorkflow(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Doc.IsEnabled() || strings.Count(strings.ToLower(string(got.Stored)), `"enabled"`) != 1 {
		t.Errorf("stored %s", got.Stored)
	}
}

func TestWorkflowDuplicate(t *testing.T) {
	t.Parallel()
	app, _, svc := newUITestServer(t)
	s := signIn(t, app)
	ctx := context.Background()
	orig := createWorkflow(t, svc, `{"title":"Payment callback","mode":"sync","trigger":{"basicAuth":{"enabled":true,"username":"hook","password":"s3cret"}},"nodes":[{"key":"ok","type":"response","config":{"status":201,"body":{"n":12345678901234567890}}}]}`)
	res, _ := doForm(t, app, s, "/workflows/1/duplicate", nil, formOpts{})
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/workflows/2" {
		t.Fatalf("Location %q, want /workflows/2", loc)
	}
	cp, err := svc.GetWorkflow(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Doc.Title != "Copy of Payment callback" || cp.Key == orig.Key || cp.Secrets.BasicAuthPassword != "s3cret" || cp.Doc.Mode != engine.ModeSync {
		t.Errorf("copy: title %q key %q (orig %q) secret %q mode %s", cp.Doc.Title, cp.Key, orig.Key, cp.Secrets.BasicAuthPassword, cp.Doc.Mode)
	}
	if !strings.Contains(string(cp.Stored), `{"n":12345678901234567890}`) {
		t.Errorf("copy changed the nodes: %s", cp.Stored)
	}
	// A long title stays within the limit.
	createWorkflow(t, svc, `{"title":"`+strings.Repeat("é", engine.MaxTitleLength)+`","mode":"async","nodes":[]}`)
	res, _ = doForm(t, app, s, "/workflows/3/duplicate", nil, formOpts{})
	wantStatus(t, res, http.StatusSeeOther)
	if res, _ := doForm(t, app, s, "/workflows/42/duplicate", nil, formOpts{}); res.StatusCode != http.StatusNotFound {
		t.Errorf("duplicate unknown: %d", res.StatusCode)
	}
}

func TestWorkflowDelete(t *testing.T) {
	t.Parallel()
	app, _, svc := newUITestServer(t)
	s := signIn(t, app)
	ctx := context.Background()
	w := createWorkflow(t, svc, `{"title":"Old hook","mode":"sync","nodes":[]}`)
	if _, err := svc.Trigger(ctx, w.Key, engine.Credentials{}, &engine.Request{Method: "POST"}); err != nil {
		t.Fatal(err)
	}
	res, _ := doForm(t, app, s, "/workflows/1/delete", nil, formOpts{})
	wantStatus(t, res, http.StatusSeeOther)
	if res.Header.Get("Location") != "/" || cookieValue(res, "hookflow_flash") == "" {
		t.Errorf("delete: Location %q, flash %q", res.Header.Get("Location"), cookieValue(res, "hookflow_flash"))
	}
	if _, err := svc.GetWorkflow(ctx, w.ID); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("workflow still there: %v", err)
	}
	res, body := doForm(t, app, s, "/workflows/1/delete", nil, formOpts{})
	wantStatus(t, res, http.StatusNotFound)
	mustTestID(t, body, "error-page")
	// A bad id is a 404 too, never a 500.
	res, _ = doForm(t, app, s, "/workflows/abc/delete", nil, formOpts{})
	wantStatus(t, res, http.StatusNotFound)
}
