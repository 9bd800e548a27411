package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// chatSink is the other side of the browser test's request step: a chat
// webhook on 127.0.0.1 that is busy (503) on its first call.
type chatSink struct {
	*httptest.Server
	mu    sync.Mutex
	calls []*http.Request
	body  []string
}

func newChatSink(t *testing.T) *chatSink {
	s := &chatSink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.calls = append(s.calls, r)
		s.body = append(s.body, string(b))
		n := len(s.calls)
		s.mu.Unlock()
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "busy, try later")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *chatSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// TestBrowserActingFlow is issue 10's browser test: an async flow with a
// request step built by clicking (method, a URL on a loopback server, a
// header, a JSON body with a variable from the picker, retries whose help
// follows the numbers) and a delay; a webhook call; its execution with the
// attempts, the request sent and the replies; then cancel, retry and
// replay by clicking, and a bulk cancel from the list.
func TestBrowserActingFlow(t *testing.T) {
	x := newBrowserTest(t)
	// A test that stops with a panel unsaved must not leave the page
	// asking "leave?" when it is closed (that would block the close).
	t.Cleanup(func() {
		_, _ = x.page.Timeout(browserWait).Eval(`() => document.querySelectorAll("form[data-unsaved]").forEach(f => f.removeAttribute("data-unsaved"))`)
	})
	watch := x.watchConsole()
	sink := newChatSink(t)
	x.signIn()
	id := x.createWorkflow("Push to chat", "async")

	// The trigger: the repository's name, from a parsed sample.
	x.fill(tid("body-sample"), `{"repository":{"full_name":"octo/hello"},"pusher":{"name":"octo"}}`)
	x.click(tid("parse-body"))
	x.el(tid("body-0-path"))
	x.editorSave("trigger-save")

	// The request step, by clicking.
	notify := x.addNode("insert-root-main-0", "request")
	x.fill(tid("node-title"), "Tell chat")
	x.setSelect(tid("request-method"), "POST")
	x.fill(tid("url"), sink.URL+"/chat")
	x.click(tid("add-headers"))
	x.el(tid("headers-0-name"))
	x.fill(tid("headers-0-name"), "X-Source")
	x.fill(tid("headers-0-value"), "hookflow")
	x.setSelect(tid("request-body-type"), "json")
	x.fill(tid("request-body"), `{"text": "push to `)
	x.pick("body", "$context.body.repository.full_name")
	body := x.eval(`document.querySelector('[data-testid="request-body"]').value`).String()
	if body != `{"text": "push to {{$context.body.repository.full_name}}` {
		t.Fatalf("the picker made the body %q", body)
	}
	x.fill(tid("request-body"), body+`"}`)
	// The retry help follows the numbers as they are typed.
	x.fill(tid("retry-attempts"), "4")
	x.fill(tid("retry-backoffSeconds"), "0.2")
	x.fill(tid("retry-maxBackoffSeconds"), "1")
	x.waitText(tid("retry-help"), "Tries 4 times over about 1 second: between attempts it waits 200 ms, 400 ms and 800 ms")
	x.step("request-form")
	x.editorSave("node-save")
	if got := x.text(tid("node-summary-" + notify)); got != "POST "+strings.TrimPrefix(sink.URL, "http://")+"/chat · up to 4 tries" {
		t.Errorf("card = %q", got)
	}
	// A delay after it: an hour (the new step's default).
	wait := x.addNode("insert-root-main-1", "delay")
	x.waitText(tid("node-summary-"+wait), "Wait 1 hour")
	// Only the inputs of the way of waiting chosen show.
	shown := func(id string) bool {
		return x.eval(`getComputedStyle(document.getElementById("` + id + `")).display !== "none"`).Bool()
	}
	if !shown("delay-for") || shown("delay-until") {
		t.Error("waiting for a time shows the wrong inputs")
	}
	x.click(tid("delay-wait-until"))
	x.waitFor("the until input", func() bool { return shown("delay-until") && !shown("delay-for") })
	x.step("delay-form")
	x.click(tid("delay-wait-for"))
	x.waitFor("the amount input", func() bool { return shown("delay-for") })
	x.editorSave("node-save")

	doc := x.srv.api(t, "/api/v1/workflows/"+id)
	n := doc.Get("nodes.0")
	for path, want := range map[string]string{
		"key": notify, "type": "request", "title": "Tell chat", "config.method": "POST", "config.url": sink.URL + "/chat",
		"config.headers.0.name": "X-Source", "config.headers.0.value": "hookflow",
		"config.body.text":      "push to {{$context.body.repository.full_name}}",
		"config.retry.attempts": "4", "config.retry.backoffSeconds": "0.2", "config.retry.maxBackoffSeconds": "1",
	} {
		if got := n.Get(path).String(); got != want {
			t.Errorf("node %s = %q, want %q", path, got, want)
		}
	}
	if got := doc.Get("nodes.1.config").Raw; got != `{"seconds":3600}` {
		t.Errorf("delay config %s", got)
	}
	if t.Failed() {
		t.Fatalf("document: %s", doc.Raw)
	}

	// The webhook call; the execution retries the busy chat and waits.
	if code, _ := x.srv.post(t, doc.Get("url").String(), "application/json", `{"repository":{"full_name":"octo/hello"},"pusher":{"name":"octo"}}`); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	x.open("/workflows/" + id + "/executions")
	x.click(`[data-testid^="execution-row-"] a.exec-link`)
	exPath := x.waitPath(`^/executions/\d+$`)
	x.waitText(tid("execution-wait-text"), "Waits for step '"+wait+"' until ")
	x.waitText(tid("execution-status"), "waiting")
	if sink.count() != 2 {
		t.Errorf("the chat got %d calls, want 2", sink.count())
	}
	sink.mu.Lock()
	got, hdr := sink.body[1], sink.calls[1].Header.Get("X-Source")
	sink.mu.Unlock()
	if got != `{"text":"push to octo/hello"}` || hdr != "hookflow" {
		t.Errorf("the chat got %s with X-Source %q", got, hdr)
	}
	attempts := x.text(tid("call-attempts-" + notify))
	if !strings.Contains(attempts, "503") || !strings.Contains(attempts, "HTTP 503") || !strings.Contains(attempts, "200") {
		t.Errorf("attempts shown as %s", attempts)
	}
	// The request sent, behind a disclosure that stays open while the
	// page refreshes, focus where it was.
	x.click("#sent-" + notify + "-summary")
	x.waitText(tid("call-sent-"+notify), "X-Source hookflow")
	if !strings.Contains(x.text(tid("call-sent-body-"+notify)), `"text": "push to octo/hello"`) {
		t.Errorf("sent body: %s", x.text(tid("call-sent-body-"+notify)))
	}
	x.eval(`document.getElementById("sent-` + notify + `-summary").focus()`)
	x.eval(`(window.__polls = 0, document.addEventListener("htmx:afterSwap", () => window.__polls++), 0)`)
	x.waitFor("two refreshes of the page", func() bool { return x.eval(`window.__polls`).Int() >= 2 })
	if !x.eval(`document.getElementById("sent-` + notify + `").open`).Bool() {
		t.Error("a refresh closed the disclosure")
	}
	if got := x.eval(`document.activeElement && document.activeElement.id`).String(); got != "sent-"+notify+"-summary" {
		t.Errorf("after a refresh the focus is on %q", got)
	}
	// A status the refresh changes is spoken in the polite region.
	x.eval(`(document.querySelector('[data-testid="execution-status"]').textContent = "running", htmx.trigger(document.getElementById("execution-detail"), "poll-now"), 0)`)
	x.waitText("#announcer", "Execution status: waiting")
	x.click("#reply-" + notify + "-1-summary")
	x.waitText(tid("call-reply-body-"+notify+"-1"), "busy, try later")
	x.step("execution-waiting")

	// Cancel: it stops, and says so in the polite region.
	ask := x.acceptNextDialog()
	x.click(tid("execution-cancel"))
	if m := ask(); !strings.Contains(m, "Cancel this execution?") {
		t.Errorf("confirmation %q", m)
	}
	x.waitText(tid("flash-success"), "Cancelled")
	x.waitText(tid("execution-status"), "aborted")
	if x.attr(tid("execution-cancel"), "disabled") == "" && !x.eval(`document.querySelector('[data-testid="execution-cancel"]').disabled`).Bool() {
		t.Error("cancel is still on")
	}
	x.el(tid("execution-cancel-why"))

	// Retry: it goes on from the delay and waits again; the page follows
	// and announces the new status.
	x.click(tid("execution-retry"))
	x.waitText(tid("flash-success"), "Retrying")
	x.waitText(tid("execution-status"), "waiting")
	x.waitText(tid("execution-wait-text"), "Waits for step '"+wait+"'")
	if sink.count() != 2 {
		t.Errorf("a retry from the delay called the chat again (%d calls)", sink.count())
	}

	// Replay: a new execution, linked to its original.
	ask = x.acceptNextDialog()
	x.click(tid("execution-replay"))
	ask()
	replayPath := x.waitPath(`^/executions/\d+$`)
	for replayPath == exPath {
		replayPath = x.waitPath(`^/executions/\d+$`)
	}
	x.waitText(tid("flash-success"), "Replayed execution #")
	if got := x.attr(tid("execution-original"), "href"); got != exPath {
		t.Errorf("the replay links %q, want %s", got, exPath)
	}
	x.waitText(tid("execution-status"), "waiting")
	x.step("replay")
	if sink.count() != 3 {
		t.Errorf("the replay made %d calls in all, want 3", sink.count())
	}

	// The list: select all on the page, cancel them in bulk.
	x.open("/workflows/" + id + "/executions")
	x.click(tid("select-all"))
	x.waitText(tid("bulk-count"), "2 executions selected.")
	x.waitText(tid("execution-live"), "paused")
	ask = x.acceptNextDialog()
	x.click(tid("bulk-cancel"))
	ask()
	x.waitText(tid("flash-success"), "Cancelled 2 executions: they are aborted.")
	x.waitText(tid("bulk-count"), "No executions selected.")
	if !x.eval(`document.querySelector('[data-testid="bulk-cancel"]').disabled`).Bool() {
		t.Error("bulk cancel is on with nothing selected")
	}
	x.step("list")
	if msgs := watch.messages(x); len(msgs) > 0 {
		t.Errorf("console:\n%s", strings.Join(msgs, "\n"))
	}
}
