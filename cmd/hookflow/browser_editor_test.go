package main

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-rod/rod/lib/proto"
)

// consoleWatch collects what a page reports as wrong: console errors and
// warnings, log entries (CSP violations among them) and, from the page
// itself, securitypolicyviolation events.
type consoleWatch struct {
	mu   sync.Mutex
	msgs []string
}

func (w *consoleWatch) add(s string) {
	w.mu.Lock()
	w.msgs = append(w.msgs, s)
	w.mu.Unlock()
}

// messages returns what was collected, the page's CSP events included.
func (w *consoleWatch) messages(x *bt) []string {
	w.mu.Lock()
	out := append([]string(nil), w.msgs...)
	w.mu.Unlock()
	for _, v := range x.eval(`window.__csp || []`).Array() {
		out = append(out, "CSP event: "+v.String())
	}
	return out
}

// watchConsole starts collecting; call it before the first navigation.
func (x *bt) watchConsole() *consoleWatch {
	x.t.Helper()
	w := &consoleWatch{}
	if err := (proto.LogEnable{}).Call(x.page); err != nil {
		x.t.Fatal(err)
	}
	if _, err := x.page.EvalOnNewDocument(`window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.sample || e.blockedURI || "") + " at " + e.sourceFile + ":" + e.lineNumber);
});`); err != nil {
		x.t.Fatal(err)
	}
	go x.page.EachEvent(func(e *proto.LogEntryAdded) {
		if e.Entry.Level == proto.LogLogEntryLevelError || e.Entry.Level == proto.LogLogEntryLevelWarning {
			w.add("log " + string(e.Entry.Source) + ": " + e.Entry.Text)
		}
	}, func(e *proto.RuntimeConsoleAPICalled) {
		if e.Type == proto.RuntimeConsoleAPICalledTypeError || e.Type == proto.RuntimeConsoleAPICalledTypeWarning {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, a.Value.String())
			}
			w.add("console " + string(e.Type) + ": " + strings.Join(parts, " "))
		}
	}, func(e *proto.RuntimeExceptionThrown) {
		w.add("exception: " + e.ExceptionDetails.Text)
	})()
	return w
}

// TestBrowserEditorPitfalls covers issue 12's point 14: adding steps keeps
// the console clean (no CSP violations), the address bar follows the
// selected step so that reload and Back restore its panel, and unsaved
// changes ask before the page is left by any link.
func TestBrowserEditorPitfalls(t *testing.T) {
	x := newBrowserTest(t)
	watch := x.watchConsole()
	x.signIn()
	id := x.createWorkflow("Pitfalls", "sync")
	x.el(tid("trigger-panel"))

	cond := x.addNode("insert-root-main-0", "condition")
	yes := x.addNode("insert-"+cond+"-yes-0", "response")
	end := x.addNode("insert-root-main-1", "end")
	x.step("steps-added")
	if msgs := watch.messages(x); len(msgs) > 0 {
		t.Errorf("console after adding steps:\n%s", strings.Join(msgs, "\n"))
	}

	// The address bar follows the selection: the last step added is in
	// it, a click on a card puts that card's step there, the trigger card
	// takes it away.
	base := "/workflows/" + id
	x.waitPath(`^` + base + `\?node=` + end + `$`)
	x.click(tid("node-" + yes))
	x.waitPath(`^` + base + `\?node=` + yes + `$`)
	x.waitText(tid("panel-node-key"), yes)
	x.click(tid("trigger-card"))
	x.waitPath(`^` + base + `$`)
	x.el(tid("trigger-panel"))
	x.click(tid("node-" + cond))
	x.waitPath(`^` + base + `\?node=` + cond + `$`)
	x.waitText(tid("panel-node-key"), cond)
	// Reload shows the same panel; Back the one before, Forward again.
	if err := x.p().Reload(); err != nil {
		t.Fatal(err)
	}
	x.waitPath(`^` + base + `\?node=` + cond + `$`)
	x.waitText(tid("panel-node-key"), cond)
	if err := x.p().NavigateBack(); err != nil {
		t.Fatal(err)
	}
	x.waitPath(`^` + base + `$`)
	x.waitFor("the trigger panel after Back", func() bool { return x.has(tid("trigger-panel")) && !x.has(tid("node-panel")) })
	if err := x.p().NavigateBack(); err != nil {
		t.Fatal(err)
	}
	x.waitPath(`^` + base + `\?node=` + yes + `$`)
	x.waitText(tid("panel-node-key"), yes)
	if err := x.p().NavigateForward(); err != nil {
		t.Fatal(err)
	}
	x.waitPath(`^` + base + `$`)
	x.waitFor("the trigger panel after Forward", func() bool { return x.has(tid("trigger-panel")) })

	// Unsaved changes: leaving by a link asks first; staying keeps the
	// typing, leaving after saying so goes.
	x.click(tid("node-" + cond))
	x.waitText(tid("panel-node-key"), cond)
	x.fill(tid("node-title"), "Typed, not saved")
	wait, handle := x.page.HandleDialog()
	asked := make(chan proto.PageJavascriptDialogOpening, 1)
	go func() {
		e := wait()
		asked <- *e
		_ = handle(&proto.PageHandleJavaScriptDialog{Accept: false})
	}()
	x.click(tid("revisions-link"))
	select {
	case e := <-asked:
		if e.Type != proto.PageDialogTypeBeforeunload {
			t.Errorf("dialog of type %s, want beforeunload", e.Type)
		}
	case <-time.After(browserWait):
		t.Fatal("leaving with unsaved changes did not ask")
	}
	time.Sleep(300 * time.Millisecond)
	if p := strings.TrimPrefix(x.url(), x.srv.base); p != base+"?node="+cond {
		t.Fatalf("a cancelled leave went to %s", p)
	}
	if got := x.eval(`document.querySelector('[data-testid="node-title"]').value`).String(); got != "Typed, not saved" {
		t.Errorf("the typing was lost: %q", got)
	}
	wait, handle = x.page.HandleDialog()
	go func() {
		wait()
		_ = handle(&proto.PageHandleJavaScriptDialog{Accept: true})
	}()
	x.click(tid("revisions-link"))
	x.waitPath(`^` + base + `/revisions$`)
	x.el(tid("revision-list"))

	// Saved work leaves without a question.
	x.open(base + "?node=" + cond)
	x.fill(tid("node-title"), "Saved")
	x.editorSave("node-save")
	x.click(tid("revisions-link"))
	x.waitPath(`^` + base + `/revisions$`)
	if msgs := watch.messages(x); len(msgs) > 0 {
		t.Errorf("console:\n%s", strings.Join(msgs, "\n"))
	}
}

// Flashes sit in the same corner on every page (issue 12, point 16).
func TestBrowserToastCorner(t *testing.T) {
	x := newBrowserTest(t)
	x.signIn()
	id := x.createWorkflow("Toasts", "async")
	corner := func() string {
		return x.eval(`(() => { const r = document.getElementById("flash").getBoundingClientRect();
			return (r.left < innerWidth / 2 ? "left" : "right") + " " + (r.bottom > innerHeight / 2 ? "bottom" : "top"); })()`).String()
	}
	x.waitText(tid("flash-success"), "Toasts")
	editor := corner()
	x.open("/")
	x.click(tid("enabled-toggle-" + id))
	x.waitText(tid("flash-success"), "answers 404")
	list := corner()
	x.open("/tokens")
	x.fill(tid("new-token-name"), "ci")
	x.click(tid("new-token-submit"))
	x.el(tid("new-token-created"))
	tokens := corner()
	if editor != list || list != tokens || editor != "left bottom" {
		t.Errorf("flashes at %q (editor), %q (list), %q (tokens); want bottom-left everywhere", editor, list, tokens)
	}
}
