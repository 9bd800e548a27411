package handlers_test

import (
	"net/http"
	"strings"
	"testing"
)

// A request step's "In test runs" setting (issue 16): saved as the node's
// test member, beside its config.
func TestRequestTestSetting(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(actDoc)

	// The stored pin is shown.
	_, body := e.sess.get(t, e.srv.app, wfPath(w.ID, "?node=notify"))
	mustTestID(t, body, "request-test", "request-test-off", "request-test-run", "request-test-pin", "pin-body", "add-test-pin-headers")
	if !strings.Contains(element(t, body, "request-test-pin"), " checked") || attr(t, element(t, body, "test-pin-status"), "value") != "200" {
		t.Error("the stored pin is not shown")
	}
	// A delay says what a test run does with it.
	_, body = e.sess.get(t, e.srv.app, wfPath(w.ID, "?node=wait"))
	if got := textOf(element(t, body, "delay-test-note")); !strings.Contains(got, "would wait 1 h") {
		t.Errorf("delay note %q", got)
	}

	save := func(mode string, extra map[string]string) (*http.Response, string) {
		f := requestForm()
		f.Set("test[mode]", mode)
		for k, v := range extra {
			f.Set(k, v)
		}
		return e.post(wfPath(w.ID, "/nodes/notify"), f)
	}

	res, body := save("run", nil)
	wantStatus(t, res, http.StatusOK)
	if got := nodeConfig(t, e, w.ID, "notify").Get("test").Raw; got != `{"run":true}` {
		t.Errorf("run: test = %s", got)
	}
	if got := textOf(element(t, body, "node-summary-notify")); !strings.HasSuffix(got, "· sent in test runs") {
		t.Errorf("card %q", got)
	}

	res, _ = save("pin", map[string]string{"test[pin][status]": "201", "test[pin][headers][0][name]": "Content-Type",
		"test[pin][headers][0][value]": "application/json", "test[pin][headers][1][name]": "", "test[pin][body]": `{"id": 12345678901234567890}`,
		"test[pin][bodyType]": "json"})
	wantStatus(t, res, http.StatusOK)
	if got := nodeConfig(t, e, w.ID, "notify").Get("test").Raw; got != `{"pin":{"status":201,"headers":{"Content-Type":"application/json"},"body":{"id":12345678901234567890}}}` {
		t.Errorf("pin: test = %s", got)
	}
	_, body = e.sess.get(t, e.srv.app, wfPath(w.ID, "?node=notify"))
	if attr(t, element(t, body, "test-pin-headers-0-name"), "value") != "Content-Type" || !strings.Contains(textOf(element(t, body, "pin-body")), "12345678901234567890") {
		t.Error("the saved pin is not shown back")
	}

	// A text body is a JSON string.
	res, _ = save("pin", map[string]string{"test[pin][status]": "200", "test[pin][body]": "plain words", "test[pin][bodyType]": "text"})
	wantStatus(t, res, http.StatusOK)
	if got := nodeConfig(t, e, w.ID, "notify").Get("test").Raw; got != `{"pin":{"status":200,"body":"plain words"}}` {
		t.Errorf("text pin: test = %s", got)
	}

	// Every problem at once; nothing saved.
	before, _ := e.doc(w.ID)
	res, body = save("pin", map[string]string{"test[pin][status]": "99", "test[pin][headers][0][name]": "Bad Name",
		"test[pin][headers][0][value]": "x", "test[pin][body]": `{"id":`, "test[pin][bodyType]": "json"})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	for id, want := range map[string]string{"test-pin-status": "from 100 to 599", "test-pin-headers-0-name": "header name", "test-pin-body": "invalid JSON"} {
		if got := textOf(element(t, body, "error-"+id)); !strings.Contains(got, want) {
			t.Errorf("error next to %s = %q, want %q", id, got, want)
		}
	}
	if after, _ := e.doc(w.ID); after.Revision != before.Revision {
		t.Error("a bad pin was saved")
	}

	// Pinned header rows: add one through the panel.
	f := requestForm()
	f.Set("test[mode]", "off")
	f.Set("action", "add:test[pin][headers]")
	res, body = e.post(wfPath(w.ID, "/nodes/notify/panel"), f)
	wantStatus(t, res, http.StatusOK)
	if !strings.Contains(element(t, body, "test-pin-headers-0-name"), "autofocus") || !strings.Contains(element(t, body, "request-test-pin"), " checked") {
		t.Error("adding a pinned header does not show it, focused, with Pin chosen")
	}

	// Not sent: the member goes (and an API client's other member stays).
	w2 := e.create(strings.Replace(actDoc, `"test":{"pin":{"status":200}}`, `"test":{"pin":{"status":200},"x-note":"kept"}`, 1))
	f = requestForm()
	f.Set("test[mode]", "off")
	res, _ = e.post(wfPath(w2.ID, "/nodes/notify"), f)
	wantStatus(t, res, http.StatusOK)
	if got := nodeConfig(t, e, w2.ID, "notify").Get("test").Raw; got != `{"x-note":"kept"}` {
		t.Errorf("off with an unknown member: test = %s", got)
	}
	res, _ = save("off", nil)
	wantStatus(t, res, http.StatusOK)
	if n := nodeConfig(t, e, w.ID, "notify"); n.Get("test").Exists() {
		t.Errorf("off: test = %s", n.Get("test").Raw)
	}
}
