package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/engine"
)

// The trigger panel's samples (issue 16) and trust settings (issue 11).

// webhook sends a request to a workflow's URL through the app.
func (e *editorEnv) webhook(key, contentType, body string, headers map[string]string) int {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/webhook:trigger/"+key+"?src=live", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, _ := send(e.t, e.srv.app, req)
	return res.StatusCode
}

// TestTriggerSamplesSaved: the three sample boxes are saved as
// trigger.samples, shown again on reload, and are what a test run uses.
func TestTriggerSamplesSaved(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(`{"title":"Slack","mode":"sync","trigger":{},"nodes":[
		{"key":"r","type":"response","config":{"status":200,"body":{"text":"{{$context.body.text}}","src":"{{$context.query.src}}","team":"{{$context.headers.x-team}}"}}}]}`)

	// The headers box parses into header rows, transport headers left out.
	res, body := e.post(wfPath(w.ID, "/trigger/parse?part=headers"), url.Values{
		"headersSample":    {"X-Team: T1\nHost: example.com\nContent-Length: 12\nX-Slack-Signature: v0=abc\n"},
		"headers[0][path]": {"x-team"}, "headers[0][alias]": {"Team"}})
	wantStatus(t, res, http.StatusOK)
	if got := rowValues(t, body, "headers"); strings.Join(got, ",") != "x-team,X-Slack-Signature" {
		t.Errorf("header rows %v", got)
	}
	if got := textOf(element(t, body, "headers-parse-result")); !strings.HasPrefix(got, "Found 2 headers; added 1 new row.") {
		t.Errorf("parse result %q", got)
	}
	res, body = e.post(wfPath(w.ID, "/trigger/parse?part=headers"), url.Values{"headersSample": {"X-Team T1"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if got := textOf(element(t, body, "error-sample-headers")); !strings.Contains(got, "line 1: write each header as Name: value") {
		t.Errorf("bad line: %q", got)
	}

	// Saved: a pasted URL keeps its query string; a form body without a
	// Content-Type gets one, so that a test run parses it as a form.
	f := url.Values{"title": {"Slack"}, "timeoutSeconds": {""},
		"headersSample": {"X-Team: T1\n"}, "querySample": {"https://example.com/hook?src=sample"},
		"bodySample": {"text=hello+world&user_id=U1"}, "verify[type]": {""}}
	res, body = e.post(wfPath(w.ID, "/trigger"), f)
	wantStatus(t, res, http.StatusOK)
	_, d := e.doc(w.ID)
	sm := d.Trigger.Samples
	if sm == nil || sm.Query != "src=sample" || sm.Body != "text=hello+world&user_id=U1" || sm.Headers["x-team"] != "T1" ||
		sm.Headers["content-type"] != "application/x-www-form-urlencoded" {
		t.Fatalf("samples %+v", sm)
	}
	if got := textOf(element(t, body, "headers-sample")); got != "content-type: application/x-www-form-urlencoded x-team: T1" {
		t.Errorf("headers box after the save: %q", got)
	}
	_, page := e.sess.get(t, e.srv.app, wfPath(w.ID, ""))
	if got := textOf(element(t, page, "body-sample")); got != "text=hello+world&user_id=U1" {
		t.Errorf("body box on reload: %q", got)
	}
	if got := textOf(element(t, page, "query-sample")); got != "src=sample" {
		t.Errorf("query box on reload: %q", got)
	}
	r, err := e.srv.svc.Test(context.Background(), w.ID, engine.TestInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(r.Response.Body); got != `{"text":"hello world","src":"sample","team":"T1"}` {
		t.Errorf("test run on the saved samples: %s", got)
	}

	// Emptied boxes remove the samples.
	f.Set("headersSample", "")
	f.Set("querySample", "")
	f.Set("bodySample", "  ")
	res, _ = e.post(wfPath(w.ID, "/trigger"), f)
	wantStatus(t, res, http.StatusOK)
	if _, d := e.doc(w.ID); d.Trigger.Samples != nil {
		t.Errorf("samples after emptying the boxes: %+v", d.Trigger.Samples)
	}
}

// TestTriggerVerifyPresets: the form shows only what the chosen sender
// needs, where it shows its secret, and its dedupe key in one click.
func TestTriggerVerifyPresets(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(`{"title":"Hooks","mode":"async","trigger":{},"nodes":[]}`)
	refresh := func(form url.Values) string {
		t.Helper()
		res, body := e.post(wfPath(w.ID, "/trigger/panel"), form)
		wantStatus(t, res, http.StatusOK)
		return element(t, body, "verify-fields")
	}
	for _, tt := range []struct {
		typ, where     string
		has, hasNot    []string
		dedupe, window string
	}{
		{"stripe", "Developers → Webhooks → your endpoint → Signing secret", []string{"verify-toleranceSeconds", "verify-secret-0"}, []string{"verify-header", "verify-algorithm"}, "the event's id", ""},
		{"github", "Settings → Webhooks → your webhook → Secret", []string{"verify-secret-0"}, []string{"verify-header", "verify-toleranceSeconds"}, "X-GitHub-Delivery", ""},
		{"shopify", "Your webhooks will be signed with", []string{"verify-secret-0"}, []string{"verify-toleranceSeconds"}, "X-Shopify-Webhook-Id", ""},
		{"slack", "Signing Secret", []string{"verify-toleranceSeconds"}, []string{"verify-header"}, "event_id", ""},
		{"standard", "Standard Webhooks", []string{"verify-toleranceSeconds"}, []string{"verify-header"}, "webhook-id", ""},
		{"hmac", "algorithm, encoding and any prefix", []string{"verify-header", "verify-algorithm", "verify-encoding", "verify-prefix"}, []string{"verify-toleranceSeconds", "verify-dedupe-suggestion"}, "", ""},
		{"token", "X-Gitlab-Token", []string{"verify-header"}, []string{"verify-algorithm", "verify-toleranceSeconds", "verify-dedupe-suggestion"}, "", ""},
		{"", "", []string{"verify-off"}, []string{"verify-secret-0", "verify-header"}, "", ""},
	} {
		fields := refresh(url.Values{"title": {"Hooks"}, "verify[type]": {tt.typ}})
		if tt.where != "" && !strings.Contains(textOf(element(t, fields, "verify-where")), tt.where) {
			t.Errorf("%s: where %q", tt.typ, textOf(element(t, fields, "verify-where")))
		}
		for _, id := range tt.has {
			if !hasTestID(fields, id) {
				t.Errorf("%s: no %s", tt.typ, id)
			}
		}
		for _, id := range tt.hasNot {
			if hasTestID(fields, id) {
				t.Errorf("%s: %s shown", tt.typ, id)
			}
		}
		if tt.dedupe != "" && !strings.Contains(textOf(element(t, fields, "use-dedupe-suggestion")), tt.dedupe) {
			t.Errorf("%s: dedupe suggestion %q", tt.typ, textOf(element(t, fields, "use-dedupe-suggestion")))
		}
	}
	// One click puts the key in.
	res, body := e.post(wfPath(w.ID, "/trigger/panel"), url.Values{"title": {"Hooks"}, "verify[type]": {"github"}, "action": {"dedupe-suggest"}})
	wantStatus(t, res, http.StatusOK)
	if got := attr(t, element(t, body, "dedupe-key"), "value"); got != "{{$context.headers.x-github-delivery}}" {
		t.Errorf("dedupe key after the suggestion: %q", got)
	}
	if !strings.Contains(element(t, body, "dedupe-key"), "autofocus") {
		t.Error("the key input is not focused")
	}
	if hasTestID(element(t, body, "verify-fields"), "use-dedupe-suggestion") {
		t.Error("the suggestion is still offered once in use")
	}
}

// TestTriggerVerifySecrets: a stored secret never goes back to the
// browser; saving without typing keeps it, typing replaces it, a second
// one rotates.
func TestTriggerVerifySecrets(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(`{"title":"Stripe","mode":"async","trigger":{},"nodes":[]}`)
	const secret = "whsec_first_5ecret"
	base := func() url.Values {
		return url.Values{"title": {"Stripe"}, "verify[type]": {"stripe"}, "verify[toleranceSeconds]": {"600"},
			"dedupe[key]": {"{{$context.body.id}}"}, "dedupe[windowSeconds]": {"259200"}}
	}
	f := base()
	f.Set("verify[secrets][0][value]", secret)
	res, body := e.post(wfPath(w.ID, "/trigger"), f)
	wantStatus(t, res, http.StatusOK)
	if strings.Contains(body, secret) {
		t.Fatal("the saved secret came back in the panel")
	}
	_, d := e.doc(w.ID)
	if v := d.Trigger.Verify; v == nil || v.Type != "stripe" || v.Secret != secret || v.ToleranceSeconds != 600 || v.Header != "" {
		t.Fatalf("verify %+v", d.Trigger.Verify)
	}
	if dd := d.Trigger.Dedupe; dd == nil || dd.Key != "{{$context.body.id}}" || dd.WindowSeconds == nil || *dd.WindowSeconds != 259200 {
		t.Fatalf("dedupe %+v", d.Trigger.Dedupe)
	}
	_, page := e.sess.get(t, e.srv.app, wfPath(w.ID, ""))
	if strings.Contains(page, secret) || strings.Contains(page, "first_5ecret") {
		t.Fatal("the editor page shows the stored secret")
	}
	in := element(t, page, "verify-secret-0")
	if attr(t, in, "value") != "" || attr(t, in, "placeholder") != "stored; type to replace" || attr(t, in, "type") != "password" {
		t.Errorf("stored secret input %s", in)
	}
	mustTestID(t, page, "verify-secret-stored-0")

	// Saving without typing keeps it; a form with another error shows no
	// secret either.
	f = base()
	f.Set("verify[secrets][0][keep]", "1")
	f.Set("verify[secrets][0][value]", "")
	f.Set("title", "")
	res, body = e.post(wfPath(w.ID, "/trigger"), f)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if strings.Contains(body, secret) {
		t.Fatal("a form with errors shows the stored secret")
	}
	f.Set("title", "Stripe")
	res, _ = e.post(wfPath(w.ID, "/trigger"), f)
	wantStatus(t, res, http.StatusOK)
	if _, d := e.doc(w.ID); d.Trigger.Verify.Secret != secret {
		t.Fatalf("secret after a save without typing: %q", d.Trigger.Verify.Secret)
	}

	// Rotation: the stored one and a new one; both match.
	f.Set("verify[secrets][1][value]", "whsec_second")
	res, _ = e.post(wfPath(w.ID, "/trigger"), f)
	wantStatus(t, res, http.StatusOK)
	_, d = e.doc(w.ID)
	if v := d.Trigger.Verify; v.Secret != "" || strings.Join(v.Secrets, ",") != secret+",whsec_second" {
		t.Fatalf("rotation: %+v", v)
	}
	// The old one removed (row 0 gone, the new one kept as row 1 of the
	// stored list).
	f = base()
	f.Set("verify[secrets][0][keep]", "2")
	res, _ = e.post(wfPath(w.ID, "/trigger"), f)
	wantStatus(t, res, http.StatusOK)
	if _, d := e.doc(w.ID); strings.Join(d.Trigger.Verify.Secrets, ",") != "whsec_second" {
		t.Fatalf("after removing the old secret: %+v", d.Trigger.Verify)
	}

	// Rows: add and remove through the panel.
	res, body = e.post(wfPath(w.ID, "/trigger/panel"), url.Values{"title": {"Stripe"}, "verify[type]": {"stripe"},
		"verify[secrets][0][keep]": {"1"}, "action": {"add:verify.secrets"}})
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "verify-secret-1", "remove-verify-secret-0")

	// A token needs its header; a bad tolerance and a bad window are
	// marked at once, and a token type keeps no tolerance.
	f = url.Values{"title": {"Stripe"}, "verify[type]": {"token"}, "verify[secrets][0][value]": {"tok"}, "verify[header]": {""},
		"dedupe[key]": {"{{$context.body.id}}"}, "dedupe[windowSeconds]": {"0"}}
	res, body = e.post(wfPath(w.ID, "/trigger"), f)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	for id, want := range map[string]string{"verify-header": "required", "dedupe-windowSeconds": "between 1 and"} {
		if msg := textOf(element(t, body, "error-"+id)); !strings.Contains(msg, want) {
			t.Errorf("error next to %s = %q, want %q", id, msg, want)
		}
	}
	// An empty secret on a new setting is required.
	f = url.Values{"title": {"Stripe"}, "verify[type]": {"github"}, "verify[secrets][0][value]": {""}}
	w2 := e.create(`{"title":"Other","mode":"async","trigger":{},"nodes":[]}`)
	res, body = e.post(wfPath(w2.ID, "/trigger"), f)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if msg := textOf(element(t, body, "error-verify-secrets-0")); !strings.Contains(msg, "required") {
		t.Errorf("empty secret: %q", msg)
	}

	// Off: verify and dedupe go.
	res, _ = e.post(wfPath(w.ID, "/trigger"), url.Values{"title": {"Stripe"}, "verify[type]": {""}, "dedupe[key]": {""}})
	wantStatus(t, res, http.StatusOK)
	if _, d := e.doc(w.ID); d.Trigger.Verify != nil || d.Trigger.Dedupe != nil {
		t.Errorf("after turning off: verify %+v dedupe %+v", d.Trigger.Verify, d.Trigger.Dedupe)
	}
}

// TestTriggerTrustKeptByOldForms: a form without the trust sections (a
// page from before them, or an API client's extension of verify) keeps
// what is stored.
func TestTriggerTrustKeptByOldForms(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(`{"title":"GH","mode":"async","trigger":{"verify":{"type":"github","secret":"s3cret","x-note":"kept"},
		"allowIPs":["192.30.252.0/22"],"dedupe":{"key":"{{$context.headers.x-github-delivery}}"},
		"samples":{"headers":{"x-github-event":"push"}}},"nodes":[]}`)
	res, _ := e.post(wfPath(w.ID, "/trigger"), url.Values{"title": {"GH 2"}})
	wantStatus(t, res, http.StatusOK)
	cur, d := e.doc(w.ID)
	if d.Title != "GH 2" || d.Trigger.Verify == nil || d.Trigger.Verify.Secret != "s3cret" || len(d.Trigger.AllowIPs) != 1 ||
		d.Trigger.Dedupe == nil || d.Trigger.Samples == nil || d.Trigger.Samples.Headers["x-github-event"] != "push" {
		t.Fatalf("an old form dropped trust settings or samples: %+v", d.Trigger)
	}
	if !strings.Contains(string(cur.Stored), `"x-note":"kept"`) {
		t.Errorf("an unknown member of verify was dropped: %s", cur.Stored)
	}
	// The new form keeps the unknown member too, and the secret untyped.
	res, _ = e.post(wfPath(w.ID, "/trigger"), url.Values{"title": {"GH"}, "verify[type]": {"github"}, "verify[secrets][0][keep]": {"1"},
		"allowIPs[0]": {"192.30.252.0/22"}, "allowIPs[1]": {" 2001:db8::/32 "}, "allowIPs[2]": {""}})
	wantStatus(t, res, http.StatusOK)
	cur, d = e.doc(w.ID)
	if d.Trigger.Verify.Secret != "s3cret" || strings.Join(d.Trigger.AllowIPs, ",") != "192.30.252.0/22,2001:db8::/32" || !strings.Contains(string(cur.Stored), `"x-note":"kept"`) {
		t.Errorf("saved %+v %s", d.Trigger, cur.Stored)
	}
}

// TestTriggerAllowIPs: rows are added and removed, and every bad range is
// marked at once.
func TestTriggerAllowIPs(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(`{"title":"IPs","mode":"async","trigger":{},"nodes":[]}`)
	res, body := e.post(wfPath(w.ID, "/trigger/panel"), url.Values{"title": {"IPs"}, "verify[type]": {""}, "allowIPs[0]": {"10.0.0.0/8"}, "action": {"add:allowIPs"}})
	wantStatus(t, res, http.StatusOK)
	if !strings.Contains(element(t, body, "allow-ip-1"), "autofocus") || !strings.Contains(element(t, body, "allow-ips-section"), " open") {
		t.Error("the new row is not shown focused")
	}
	res, body = e.post(wfPath(w.ID, "/trigger"), url.Values{"title": {"IPs"}, "verify[type]": {""},
		"allowIPs[0]": {"10.0.0.0/33"}, "allowIPs[1]": {"not an address"}, "allowIPs[2]": {"192.168.1.7"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	for _, id := range []string{"allowIPs-0", "allowIPs-1"} {
		if textOf(element(t, body, "error-"+id)) == "" {
			t.Errorf("no error next to %s", id)
		}
	}
	if textOf(element(t, body, "error-allowIPs-2")) != "" {
		t.Error("a good address marked")
	}
	res, body = e.post(wfPath(w.ID, "/trigger/panel"), url.Values{"title": {"IPs"}, "verify[type]": {""},
		"allowIPs[0]": {"10.0.0.0/8"}, "allowIPs[1]": {"192.168.1.7"}, "action": {"remove:allowIPs.0"}})
	wantStatus(t, res, http.StatusOK)
	if got := attr(t, element(t, body, "allow-ip-0"), "value"); got != "192.168.1.7" || hasTestID(body, "allow-ip-1") {
		t.Errorf("after removing row 0: %q", got)
	}
}

// TestTriggerListen: "Listen for a request" captures the next request to
// the workflow's URL, shows it (a token header redacted), and "Use as
// samples" fills the three samples and parses them.
func TestTriggerListen(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(`{"title":"Live","mode":"async","trigger":{"verify":{"type":"token","header":"X-Gitlab-Token","secret":"tok3n"}},"nodes":[]}`)
	_, page := e.sess.get(t, e.srv.app, wfPath(w.ID, ""))
	mustTestID(t, page, "listen-start", "listen-status")

	res, body := e.post(wfPath(w.ID, "/trigger/listen"), url.Values{})
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "listen-waiting", "listen-timer", "listen-stop")
	if got := textOf(element(t, body, "listen-left")); got != "2:00" && got != "1:59" {
		t.Errorf("time left %q", got)
	}
	if !strings.Contains(body, `id="listen-status" hx-swap-oob="innerHTML"`) || !strings.Contains(body, "Listening for 2 minutes") {
		t.Errorf("no announcement: %s", body)
	}
	poll := attr(t, element(t, body, "listen-timer"), "hx-get")
	if !strings.HasPrefix(poll, wfPath(w.ID, "/trigger/listen/")) {
		t.Fatalf("poll URL %q", poll)
	}
	res, body = e.sess.getHTMX(t, e.srv.app, poll)
	wantStatus(t, res, http.StatusOK)
	if res.Header.Get("HX-Retarget") != "" || !hasTestID(body, "listen-timer") {
		t.Errorf("poll while waiting: %v %s", res.Header, body)
	}

	// A panel redrawn meanwhile (a row added, a save) keeps showing the
	// listen.
	lid := strings.TrimPrefix(strings.SplitN(poll, "?", 2)[0], wfPath(w.ID, "/trigger/listen/"))
	_, body = e.post(wfPath(w.ID, "/trigger/panel"), url.Values{"title": {"Live"}, "listen": {lid}, "action": {"add:allowIPs"}})
	if attr(t, element(t, body, "listen-timer"), "hx-get") == "" {
		t.Error("a redrawn panel lost the listen")
	}
	res, body = e.post(wfPath(w.ID, "/trigger"), url.Values{"title": {"Live"}, "listen": {lid}})
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "listen-waiting")

	// The request is captured whatever the reply (here 401: no token).
	if st := e.webhook(w.Key, "application/json", `{"order":{"id":7}}`, map[string]string{"X-Gitlab-Token": "wrong", "X-Request-Id": "r1"}); st != http.StatusUnauthorized {
		t.Fatalf("webhook: %d", st)
	}
	res, body = e.sess.getHTMX(t, e.srv.app, poll)
	wantStatus(t, res, http.StatusOK)
	if res.Header.Get("HX-Retarget") != "#listen-box" || res.Header.Get("HX-Reswap") != "innerHTML" {
		t.Errorf("captured poll headers %v", res.Header)
	}
	mustTestID(t, body, "listen-captured", "listen-use-samples")
	if !strings.Contains(body, "Request captured") || !strings.Contains(textOf(element(t, body, "listen-body")), `"id": 7`) ||
		textOf(element(t, body, "listen-query")) != "?src=live" {
		t.Errorf("captured: %s", body)
	}
	if strings.Contains(body, "wrong") {
		t.Error("the token header's value is shown")
	}
	id := strings.TrimPrefix(strings.SplitN(poll, "?", 2)[0], wfPath(w.ID, "/trigger/listen/"))

	// Use as samples: the boxes are filled and parsed, nothing is saved.
	res, body = e.post(wfPath(w.ID, "/trigger/panel"), url.Values{"title": {"Live"}, "verify[type]": {"token"},
		"verify[header]": {"X-Gitlab-Token"}, "verify[secrets][0][keep]": {"1"}, "action": {"samples:capture:" + id}})
	wantStatus(t, res, http.StatusOK)
	hs := textOf(element(t, body, "headers-sample"))
	if !strings.Contains(hs, "x-request-id: r1") || !strings.Contains(hs, "x-gitlab-token: [redacted]") || strings.Contains(hs, "wrong") || strings.Contains(hs, "host:") {
		t.Errorf("headers sample %q", hs)
	}
	if got := textOf(element(t, body, "body-sample")); got != `{"order":{"id":7}}` {
		t.Errorf("body sample %q", got)
	}
	if got := rowValues(t, body, "body"); strings.Join(got, ",") != "order,order.id" {
		t.Errorf("body rows %v", got)
	}
	if got := rowValues(t, body, "query"); strings.Join(got, ",") != "src" {
		t.Errorf("query rows %v", got)
	}
	if !strings.Contains(body, "Samples taken from the captured request") || !strings.Contains(element(t, body, "trigger-panel"), "data-unsaved") {
		t.Error("no message, or the panel is not marked unsaved")
	}
	if cur, _ := e.doc(w.ID); cur.Revision != 2 {
		t.Errorf("using the samples saved a revision: %d, want the 2 of the save above", cur.Revision)
	}

	// Another workflow cannot read the listen; an unknown one is over.
	other := e.create(`{"title":"Other","mode":"async","trigger":{},"nodes":[]}`)
	res, body = e.sess.getHTMX(t, e.srv.app, wfPath(other.ID, "/trigger/listen/"+id))
	wantStatus(t, res, http.StatusOK)
	if !strings.Contains(textOf(element(t, body, "listen-error")), "this listen is over") {
		t.Errorf("another workflow's listen: %s", body)
	}

	// Stop: a second listen ends at once.
	_, body = e.post(wfPath(w.ID, "/trigger/listen"), url.Values{})
	poll = attr(t, element(t, body, "listen-timer"), "hx-get")
	id2 := strings.TrimPrefix(strings.SplitN(poll, "?", 2)[0], wfPath(w.ID, "/trigger/listen/"))
	res, body = e.post(wfPath(w.ID, "/trigger/listen/"+id2+"/stop"), url.Values{})
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "listen-start")
	if !strings.Contains(body, "Stopped listening.") {
		t.Error("stop not announced")
	}

	// Without JavaScript: the listen is a redirect to the editor, which
	// shows it.
	res, _ = doForm(t, e.srv.app, e.sess, wfPath(w.ID, "/trigger/listen"), url.Values{}, formOpts{})
	wantStatus(t, res, http.StatusSeeOther)
	loc := res.Header.Get("Location")
	if !strings.HasPrefix(loc, wfPath(w.ID, "?listen=")) {
		t.Fatalf("redirect to %q", loc)
	}
	_, page = e.sess.get(t, e.srv.app, loc)
	mustTestID(t, page, "listen-waiting")
}

// TestExecutionUseAsSample: an execution's page offers its request as the
// trigger's samples; the editor opens with them filled and parsed.
func TestExecutionUseAsSample(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(`{"title":"Ex","mode":"async","trigger":{},"nodes":[]}`)
	if st := e.webhook(w.Key, "application/json", `{"a":{"b":1}}`, map[string]string{"Authorization": "Bearer s3cret", "X-Event": "ping"}); st != http.StatusOK {
		t.Fatalf("webhook %d", st)
	}
	list, err := e.srv.svc.ListExecutions(context.Background(), engine.ExecutionFilter{WorkflowID: w.ID, Limit: 1})
	if err != nil || len(list) != 1 {
		t.Fatal(list, err)
	}
	id := strconv.FormatInt(list[0].ID, 10)
	_, page := e.sess.get(t, e.srv.app, "/executions/"+id)
	link := attr(t, element(t, page, "use-as-sample"), "href")
	if link != wfPath(w.ID, "?samples="+id) {
		t.Fatalf("link %q", link)
	}
	res, page := e.sess.get(t, e.srv.app, link)
	wantStatus(t, res, http.StatusOK)
	hs := textOf(element(t, page, "headers-sample"))
	if !strings.Contains(hs, "x-event: ping") || strings.Contains(hs, "s3cret") || strings.Contains(hs, "authorization") {
		t.Errorf("headers sample %q", hs)
	}
	if got := rowValues(t, page, "body"); strings.Join(got, ",") != "a,a.b" {
		t.Errorf("body rows %v", got)
	}
	if !strings.Contains(page, "Samples taken from execution") {
		t.Error("no message")
	}
	other := e.create(`{"title":"Other","mode":"async","trigger":{},"nodes":[]}`)
	res, _ = e.sess.get(t, e.srv.app, wfPath(other.ID, "?samples="+id))
	wantStatus(t, res, http.StatusNotFound)
}

// TestUseAsSampleBadID: ?samples= that is no execution id is refused with
// a message that says so, rather than a page with nothing filled.
func TestUseAsSampleBadID(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(`{"title":"Ex","mode":"async","trigger":{},"nodes":[]}`)
	for _, v := range []string{"abc", "0", "-3"} {
		res, page := e.sess.get(t, e.srv.app, wfPath(w.ID, "?samples="+v))
		wantStatus(t, res, http.StatusBadRequest)
		if !strings.Contains(page, "samples: must be an execution id") {
			t.Errorf("?samples=%s: no clear error in %.300q", v, page)
		}
	}
}
