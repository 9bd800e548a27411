package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// The editors of the acting kinds (issue 10, part 6): request, set and
// delay, and the response's respond-and-continue switch.

// actDoc is an async workflow with a declared body field, a request node
// and a set node after it.
const actDoc = `{"title":"Forward","mode":"async",
  "trigger":{"body":[{"path":"order.id","alias":"Order"},{"path":"repo"}]},
  "nodes":[
    {"key":"notify","type":"request","test":{"pin":{"status":200}},"config":{"method":"POST","url":"https://api.example.com/orders/{{$context.body.order.id}}",
      "headers":[{"name":"Authorization","value":"Bearer x"}],"body":{"id":"{{$context.body.order.id}}"},
      "retry":{"attempts":5,"backoffSeconds":2,"maxBackoffSeconds":600,"x-note":"kept"},"x-extra":[1,2]}},
    {"key":"summary","type":"set","config":{"value":{"repo":"{{$context.body.repo}}","ok":"{{$jobsMapByNodeKey.notify.ok}}"}}},
    {"key":"wait","type":"delay","config":{"seconds":3600}}
  ]}`

// requestForm is the request panel of actDoc's notify node as posted.
func requestForm() url.Values {
	return url.Values{
		"title":                    {"Notify"},
		"method":                   {"PUT"},
		"url":                      {"https://chat.example.com/hooks/{{$context.body.repo}}"},
		"headers[0][name]":         {"X-Team"},
		"headers[0][value]":        {"{{$context.body.repo}}"},
		"headers[1][name]":         {""},
		"headers[1][value]":        {""},
		"body":                     {`{"text": "push to {{$context.body.repo}}"}`},
		"bodyType":                 {"json"},
		"timeoutSeconds":           {"5"},
		"retry[attempts]":          {"4"},
		"retry[backoffSeconds]":    {"1.5"},
		"retry[maxBackoffSeconds]": {"60"},
		"onFailure":                {"continue"},
	}
}

func nodeConfig(t *testing.T, e *editorEnv, id int64, key string) gjson.Result {
	t.Helper()
	w, _ := e.doc(id)
	var found gjson.Result
	var walk func(nodes gjson.Result)
	walk = func(nodes gjson.Result) {
		nodes.ForEach(func(_, n gjson.Result) bool {
			if n.Get("key").Str == key {
				found = n
				return false
			}
			n.Get("branches").ForEach(func(_, b gjson.Result) bool { walk(b); return true })
			return true
		})
	}
	walk(gjson.GetBytes(w.Stored, "nodes"))
	if !found.Exists() {
		t.Fatalf("no node %s in %s", key, w.Stored)
	}
	return found
}

func TestRequestEditor(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(actDoc)

	// The panel shows the stored settings, and the retries in words.
	res, body := e.sess.get(t, e.srv.app, wfPath(w.ID, "?node=notify"))
	wantStatus(t, res, http.StatusOK)
	cspSafe(t, body)
	mustTestID(t, body, "request-method", "url", "pick-url", "headers-0-name", "headers-0-value", "pick-headers-0-value",
		"request-body", "request-body-type", "timeoutSeconds", "retry-attempts", "retry-backoffSeconds", "retry-maxBackoffSeconds",
		"retry-help", "request-on-failure-stop", "request-on-failure-continue")
	if !strings.Contains(element(t, body, "request-method"), `<option value="POST" selected>`) {
		t.Error("method POST not selected")
	}
	if got := attr(t, element(t, body, "url"), "value"); got != "https://api.example.com/orders/{{$context.body.order.id}}" {
		t.Errorf("url = %q", got)
	}
	if got := attr(t, element(t, body, "timeoutSeconds"), "value"); got != "10" {
		t.Errorf("timeout shows %q, want the default 10", got)
	}
	if got := textOf(element(t, body, "retry-help")); !strings.HasPrefix(got, "Tries 5 times over about 30 seconds: between attempts it waits 2 s, 4 s, 8 s and 16 s (doubling each time)") {
		t.Errorf("retry help = %q", got)
	}
	// Fieldsets with legends; the retry help follows the values.
	retry := element(t, body, "request-retry")
	if !strings.Contains(retry, "<legend>Retries</legend>") || attr(t, retry, "hx-select") != "#retry-help" || attr(t, retry, "hx-target") != "#retry-help" {
		t.Errorf("retry fieldset = %.300s", retry)
	}
	if !strings.Contains(element(t, body, "request-on-failure"), "<legend>If every attempt fails</legend>") {
		t.Error("no legend for the failure choice")
	}
	// The canvas says the call in words, the alias as the placeholder.
	if got := textOf(element(t, body, "node-summary-notify")); got != "POST api.example.com/orders/{Order} · up to 5 tries · pinned 200 in test runs" {
		t.Errorf("summary = %q", got)
	}
	if got := textOf(element(t, body, "node-summary-wait")); got != "Wait 1 hour" {
		t.Errorf("delay summary = %q", got)
	}
	if got := textOf(element(t, body, "node-summary-summary")); got != "Set summary · repo, ok" {
		t.Errorf("set summary = %q", got)
	}

	// Later steps' pickers offer the result's members and the set value's.
	_, body = e.sess.getHTMX(t, e.srv.app, wfPath(w.ID, "/nodes/wait/panel"))
	mustTestID(t, body, "var-option-$jobsMapByNodeKey.notify", "var-option-$jobsMapByNodeKey.notify.ok",
		"var-option-$jobsMapByNodeKey.notify.status", "var-option-$jobsMapByNodeKey.notify.body", "var-option-$jobsMapByNodeKey.notify.headers",
		"var-option-$jobsMapByNodeKey.summary", "var-option-$jobsMapByNodeKey.summary.repo", "var-option-$jobsMapByNodeKey.summary.ok")
	if hasTestID(body, "var-option-$jobsMapByNodeKey.notify.error") {
		t.Error("the error is offered though a failure stops the flow")
	}

	// The live help: a refresh without an action re-renders the help from
	// the posted numbers, saves nothing and leaves the flash alone.
	f := requestForm()
	res, body = e.post(wfPath(w.ID, "/nodes/notify/panel"), f)
	wantStatus(t, res, http.StatusOK)
	if got := textOf(element(t, body, "retry-help")); !strings.HasPrefix(got, "Tries 4 times over about 11 seconds: between attempts it waits 1.5 s, 3 s and 6 s") {
		t.Errorf("refreshed help = %q", got)
	}
	if strings.Contains(body, `hx-swap-oob="innerHTML:#flash"`) {
		t.Error("a live refresh clears the flash region")
	}
	if cur, _ := e.doc(w.ID); cur.Revision != 1 {
		t.Fatalf("a refresh saved revision %d", cur.Revision)
	}

	// Save: the form's fields change, everything else stays (the test pin,
	// an unknown member of the config and of its retry object).
	res, body = e.post(wfPath(w.ID, "/nodes/notify"), f)
	wantStatus(t, res, http.StatusOK)
	n := nodeConfig(t, e, w.ID, "notify")
	for path, want := range map[string]string{
		"title":                          "Notify",
		"test":                           `{"pin":{"status":200}}`,
		"config.method":                  "PUT",
		"config.url":                     "https://chat.example.com/hooks/{{$context.body.repo}}",
		"config.headers":                 `[{"name":"X-Team","value":"{{$context.body.repo}}"}]`,
		"config.body":                    `{"text":"push to {{$context.body.repo}}"}`,
		"config.timeoutSeconds":          "5",
		"config.retry":                   `{"attempts":4,"backoffSeconds":1.5,"maxBackoffSeconds":60,"x-note":"kept"}`,
		"config.continueOnFailure":       "true",
		"config.x-extra":                 "[1,2]",
		"config.retry.x-note":            "kept",
		"config.retry.maxBackoffSeconds": "60",
	} {
		got := n.Get(path)
		if got.Raw != want && got.String() != want {
			t.Errorf("%s = %s, want %s", path, got.Raw, want)
		}
	}
	if got := textOf(element(t, body, "node-summary-notify")); got != "PUT chat.example.com/hooks/{repo} · up to 4 tries · goes on if it fails · pinned 200 in test runs" {
		t.Errorf("summary after the save = %q", got)
	}
	// With continueOnFailure, later steps may read the error.
	_, body = e.sess.getHTMX(t, e.srv.app, wfPath(w.ID, "/nodes/wait/panel"))
	mustTestID(t, body, "var-option-$jobsMapByNodeKey.notify.error")
}

// Every problem of the form at once, next to its input; nothing saved.
func TestRequestEditorErrors(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(actDoc)
	f := requestForm()
	f.Set("url", "ftp://files.example.com/x")
	f.Set("headers[0][name]", "Host")
	f.Set("body", `{"text": }`)
	f.Set("timeoutSeconds", "soon")
	f.Set("retry[attempts]", "50")
	f.Set("retry[backoffSeconds]", "10")
	f.Set("retry[maxBackoffSeconds]", "5")
	res, body := e.post(wfPath(w.ID, "/nodes/notify"), f)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	for id, want := range map[string]string{
		"error-url":            "unsupported scheme",
		"error-headers-0-name": "Host is set by HTTP itself",
		"error-body":           "invalid JSON at line 1, column 10",
		"error-timeoutSeconds": "must be a number",
		"error-retry-attempts": "must be from 1 (no retry) to 20",
		"panel-error":          "Not saved: fix the 5 highlighted fields.",
		"retry-help":           "Not valid yet: must be from 1 (no retry) to 20.",
	} {
		if got := textOf(element(t, body, id)); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want it to contain %q", id, got, want)
		}
	}
	// The longest wait is checked against the first only when the retry
	// numbers are valid on their own.
	if got := textOf(element(t, body, "error-retry-maxBackoffSeconds")); got != "" {
		t.Errorf("longest wait error = %q while attempts are invalid", got)
	}
	for _, id := range []string{"url", "headers-0-name", "request-body", "timeoutSeconds", "retry-attempts"} {
		if attr(t, element(t, body, id), "aria-invalid") != "true" {
			t.Errorf("%s is not marked invalid", id)
		}
	}
	// The form comes back as typed; the empty header row is gone.
	if got := attr(t, element(t, body, "timeoutSeconds"), "value"); got != "soon" {
		t.Errorf("timeout came back as %q", got)
	}
	if hasTestID(body, "headers-1-name") {
		t.Error("the empty header row came back")
	}
	if cur, _ := e.doc(w.ID); cur.Revision != 1 {
		t.Errorf("a refused form saved revision %d", cur.Revision)
	}

	// The longest wait below the first: said on the longest wait.
	f = requestForm()
	f.Set("retry[backoffSeconds]", "10")
	f.Set("retry[maxBackoffSeconds]", "5")
	res, body = e.post(wfPath(w.ID, "/nodes/notify"), f)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if got := textOf(element(t, body, "error-retry-maxBackoffSeconds")); got != "must not be less than the first wait" {
		t.Errorf("longest wait error = %q", got)
	}
	// A template that does not compile in the body is said on the body,
	// once (the stored body stands in for the engine's check).
	f = requestForm()
	f.Set("body", `{"a": "{{$context.body.x"}`)
	res, body = e.post(wfPath(w.ID, "/nodes/notify"), f)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if got := textOf(element(t, body, "error-body")); !strings.Contains(got, "unterminated {{") {
		t.Errorf("body error = %q", got)
	}
	if got := textOf(element(t, body, "panel-error")); got != "Not saved: fix the highlighted field." {
		t.Errorf("panel alert = %q", got)
	}
	// A missing URL and method.
	f = requestForm()
	f.Set("url", " ")
	f.Set("method", "")
	res, body = e.post(wfPath(w.ID, "/nodes/notify"), f)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if got := textOf(element(t, body, "error-url")); !strings.HasPrefix(got, "required") {
		t.Errorf("url error = %q", got)
	}
	if got := textOf(element(t, body, "error-method")); !strings.HasPrefix(got, "required") {
		t.Errorf("method error = %q", got)
	}
}

// A request node written through the API without timeout or retry gets
// none from a save that leaves the defaults; a new node tries three times.
func TestRequestEditorDefaults(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(`{"title":"S","mode":"sync","nodes":[{"key":"call","type":"request","config":{"method":"get","url":"https://example.com/x"}}]}`)
	_, body := e.sess.get(t, e.srv.app, wfPath(w.ID, "?node=call"))
	if got := textOf(element(t, body, "retry-help")); got != "Tries once: a failed call is not tried again. Set more attempts to retry." {
		t.Errorf("help = %q", got)
	}
	if !strings.Contains(element(t, body, "request-method"), `<option value="GET" selected>`) {
		t.Error("a lower-case method is not shown as GET")
	}
	f := url.Values{"method": {"GET"}, "url": {"https://example.com/x"}, "bodyType": {"json"}, "timeoutSeconds": {"10"},
		"retry[attempts]": {"1"}, "retry[backoffSeconds]": {"2"}, "retry[maxBackoffSeconds]": {"600"}, "onFailure": {"stop"}}
	res, body := e.post(wfPath(w.ID, "/nodes/call"), f)
	wantStatus(t, res, http.StatusOK)
	if got := nodeConfig(t, e, w.ID, "call").Get("config").Raw; got != `{"method":"GET","url":"https://example.com/x","headers":[]}` {
		t.Errorf("config = %s", got)
	}
	// Short waits below the default first wait are fine together.
	f.Set("retry[attempts]", "4")
	f.Set("retry[backoffSeconds]", "0.2")
	f.Set("retry[maxBackoffSeconds]", "1")
	res, body = e.post(wfPath(w.ID, "/nodes/call"), f)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("short waits: %d %s", res.StatusCode, textOf(element(t, body, "node-panel")))
	}
	if got := nodeConfig(t, e, w.ID, "call").Get("config.retry").Raw; got != `{"attempts":4,"backoffSeconds":0.2,"maxBackoffSeconds":1}` {
		t.Errorf("retry = %s", got)
	}
	// A first wait above the longest one typed is said on the longest.
	f.Set("retry[backoffSeconds]", "700")
	res, body = e.post(wfPath(w.ID, "/nodes/call"), f)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if got := textOf(element(t, body, "error-retry-maxBackoffSeconds")); got != "must not be less than the first wait" || textOf(element(t, body, "error-retry-backoffSeconds")) != "" {
		t.Errorf("errors: first %q, longest %q", textOf(element(t, body, "error-retry-backoffSeconds")), got)
	}

	// A new request step: valid, retried, its panel open.
	res, body = e.post(wfPath(w.ID, "/nodes"), url.Values{"type": {"request"}, "index": {"1"}})
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "request-method", "retry-help")
	if got := textOf(element(t, body, "retry-help")); !strings.HasPrefix(got, "Tries 3 times over about 6 seconds") {
		t.Errorf("new node's help = %q", got)
	}
	// The + menu offers the acting kinds in a sync workflow, delay aside.
	mustTestID(t, body, "insert-root-main-0-request", "insert-root-main-0-set")
	if hasTestID(body, "insert-root-main-0-delay") {
		t.Error("a sync workflow offers delay steps")
	}
}

func TestSetEditor(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(actDoc)
	_, body := e.sess.get(t, e.srv.app, wfPath(w.ID, "?node=summary"))
	mustTestID(t, body, "set-value", "set-value-type", "pick-value")
	if got := textOf(element(t, body, "set-value")); !strings.Contains(got, `"repo": "{{$context.body.repo}}"`) {
		t.Errorf("value shown as %q", got)
	}
	// Earlier nodes' results are offered to the value.
	mustTestID(t, body, "var-option-$jobsMapByNodeKey.notify.status")

	// JSON, big numbers as written.
	res, _ := e.post(wfPath(w.ID, "/nodes/summary"), url.Values{"value": {`{"id": 12345678901234567890, "who": "{{$context.body.repo}}"}`}, "valueType": {"json"}})
	wantStatus(t, res, http.StatusOK)
	if got := nodeConfig(t, e, w.ID, "summary").Get("config").Raw; got != `{"value":{"id":12345678901234567890,"who":"{{$context.body.repo}}"}}` {
		t.Errorf("config = %s", got)
	}
	// Text is a JSON string.
	res, body = e.post(wfPath(w.ID, "/nodes/summary"), url.Values{"value": {"Order {{$context.body.order.id}}"}, "valueType": {"text"}})
	wantStatus(t, res, http.StatusOK)
	if got := nodeConfig(t, e, w.ID, "summary").Get("config.value").Raw; got != `"Order {{$context.body.order.id}}"` {
		t.Errorf("text value = %s", got)
	}
	if got := textOf(element(t, body, "node-summary-summary")); got != "Set summary · Order {Order}" {
		t.Errorf("summary = %q", got)
	}
	// Errors: empty, bad JSON, a bad placeholder; each once, at the value.
	for _, tt := range []struct{ value, typ, want string }{
		{"", "json", "required"},
		{`{"a": 1,}`, "json", "invalid JSON at line 1, column 9"},
		{`{"a": "{{$nope.x}}"}`, "json", "at a: "},
	} {
		res, body := e.post(wfPath(w.ID, "/nodes/summary"), url.Values{"value": {tt.value}, "valueType": {tt.typ}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if got := textOf(element(t, body, "error-value")); !strings.Contains(got, tt.want) {
			t.Errorf("value %q: error %q, want %q", tt.value, got, tt.want)
		}
		if got := textOf(element(t, body, "panel-error")); got != "Not saved: fix the highlighted field." {
			t.Errorf("value %q: panel alert %q", tt.value, got)
		}
	}
}

func TestDelayEditor(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(actDoc)
	_, body := e.sess.get(t, e.srv.app, wfPath(w.ID, "?node=wait"))
	mustTestID(t, body, "delay-form", "delay-wait-for", "delay-wait-until", "amount", "delay-unit", "until", "pick-until")
	if got := attr(t, element(t, body, "amount"), "value"); got != "1" || !strings.Contains(element(t, body, "delay-unit"), `<option value="hours" selected>`) {
		t.Errorf("3600 seconds shown as %q and %s", got, element(t, body, "delay-unit"))
	}
	if !strings.Contains(element(t, body, "delay-form"), "<legend>Wait</legend>") {
		t.Error("no legend")
	}

	post := func(f url.Values) (*http.Response, string) { return e.post(wfPath(w.ID, "/nodes/wait"), f) }
	res, body := post(url.Values{"wait": {"for"}, "amount": {"2"}, "unit": {"days"}, "until": {""}})
	wantStatus(t, res, http.StatusOK)
	if got := nodeConfig(t, e, w.ID, "wait").Get("config").Raw; got != `{"seconds":172800}` {
		t.Errorf("config = %s", got)
	}
	if got := textOf(element(t, body, "node-summary-wait")); got != "Wait 2 days" {
		t.Errorf("summary = %q", got)
	}
	res, body = post(url.Values{"wait": {"until"}, "amount": {"2"}, "unit": {"days"}, "until": {"{{$context.body.order.id}}"}})
	wantStatus(t, res, http.StatusOK)
	if got := nodeConfig(t, e, w.ID, "wait").Get("config").Raw; got != `{"until":"{{$context.body.order.id}}"}` {
		t.Errorf("config = %s", got)
	}
	if got := textOf(element(t, body, "node-summary-wait")); got != "Wait until {Order}" {
		t.Errorf("summary = %q", got)
	}
	if !strings.Contains(element(t, body, "delay-wait-until"), "checked") {
		t.Error("until is not chosen after the save")
	}
	for _, tt := range []struct {
		form     url.Values
		id, want string
	}{
		{url.Values{"wait": {"for"}, "amount": {"31"}, "unit": {"days"}}, "error-amount", "must be at most 30 days"},
		{url.Values{"wait": {"for"}, "amount": {"0"}, "unit": {"minutes"}}, "error-amount", "must be more than 0"},
		{url.Values{"wait": {"for"}, "amount": {"x"}, "unit": {"minutes"}}, "error-amount", "must be a number"},
		{url.Values{"wait": {"until"}, "until": {"tomorrow"}}, "error-until", `"tomorrow" is not an RFC 3339 time`},
		{url.Values{"wait": {"until"}, "until": {""}}, "error-until", "required"},
	} {
		res, body := post(tt.form)
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if got := textOf(element(t, body, tt.id)); !strings.Contains(got, tt.want) {
			t.Errorf("%v: %s = %q, want %q", tt.form, tt.id, got, tt.want)
		}
		if got := textOf(element(t, body, "panel-error")); got != "Not saved: fix the highlighted field." {
			t.Errorf("%v: panel alert %q", tt.form, got)
		}
	}
	// Ninety minutes stay ninety minutes; a time stays as written.
	res, _ = post(url.Values{"wait": {"for"}, "amount": {"90"}, "unit": {"minutes"}})
	wantStatus(t, res, http.StatusOK)
	_, body = e.sess.get(t, e.srv.app, wfPath(w.ID, "?node=wait"))
	if got := attr(t, element(t, body, "amount"), "value"); got != "90" || !strings.Contains(element(t, body, "delay-unit"), `<option value="minutes" selected>`) {
		t.Errorf("5400 seconds shown as %q", got)
	}
	if got := textOf(element(t, body, "node-summary-wait")); got != "Wait 90 minutes" {
		t.Errorf("summary = %q", got)
	}
}

func TestResponseContinue(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(`{"title":"Slack","mode":"sync","nodes":[{"key":"ack","type":"response","config":{"status":200,"body":"ok"}},
		{"key":"notify","type":"request","config":{"method":"POST","url":"https://example.com"}}]}`)
	_, body := e.sess.get(t, e.srv.app, wfPath(w.ID, "?node=ack"))
	in := element(t, body, "response-continue")
	if strings.Contains(in, "checked") || attr(t, in, "aria-describedby") != "hint-continue err-continue" {
		t.Errorf("continue input = %s", in)
	}
	if !strings.Contains(body, "Reply now, then go on in the background") || !strings.Contains(body, "Slack wants an answer within 3 seconds") {
		t.Error("the switch or its reason is missing")
	}
	f := url.Values{"status": {"200"}, "body": {"ok"}, "bodyType": {"text"}, "continue": {"on"}}
	res, body := e.post(wfPath(w.ID, "/nodes/ack"), f)
	wantStatus(t, res, http.StatusOK)
	if got := nodeConfig(t, e, w.ID, "ack").Get("config").Raw; got != `{"status":200,"body":"ok","headers":[],"continue":true}` {
		t.Errorf("config = %s", got)
	}
	if got := textOf(element(t, body, "node-summary-ack")); got != "200 · text body · then goes on" {
		t.Errorf("summary = %q", got)
	}
	if !strings.Contains(element(t, body, "response-continue"), "checked") {
		t.Error("the switch is off after saving it on")
	}
	f.Del("continue")
	res, _ = e.post(wfPath(w.ID, "/nodes/ack"), f)
	wantStatus(t, res, http.StatusOK)
	if got := nodeConfig(t, e, w.ID, "ack").Get("config"); got.Get("continue").Exists() {
		t.Errorf("continue off kept %s", got.Raw)
	}
}
