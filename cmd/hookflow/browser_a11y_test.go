package main

// Accessibility browser tests (issue 15): axe-core on every page in light
// and dark mode, and the findings of the keyboard walk-through that tools
// miss. axe-core is vendored for the tests only (testdata/axe-core) and
// injected over the DevTools protocol, which the page's CSP does not
// govern: the pages are audited exactly as served.

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-rod/rod/lib/input"
	"github.com/go-rod/rod/lib/proto"
	"github.com/tidwall/gjson"
)

// axeVersion is the vendored axe-core (testdata/axe-core/README.md).
const axeVersion = "4.14.1"

var (
	axeOnce   sync.Once
	axeSource string
	axeErr    error
)

func axeScript(t *testing.T) string {
	t.Helper()
	axeOnce.Do(func() {
		var b []byte
		b, axeErr = os.ReadFile("testdata/axe-core/axe.min.js")
		axeSource = string(b)
		if axeErr == nil && !strings.Contains(axeSource[:200], "axe v"+axeVersion) {
			axeErr = fmt.Errorf("testdata/axe-core/axe.min.js is not axe %s", axeVersion)
		}
	})
	if axeErr != nil {
		t.Fatalf("axe-core: %v", axeErr)
	}
	return axeSource
}

// colorScheme emulates prefers-color-scheme ("light" or "dark") and,
// when forced is set, forced colours (Windows high contrast).
func (x *bt) colorScheme(scheme string, forced bool) {
	x.t.Helper()
	fc := "none"
	if forced {
		fc = "active"
	}
	err := proto.EmulationSetEmulatedMedia{Features: []*proto.EmulationMediaFeature{
		{Name: "prefers-color-scheme", Value: scheme},
		{Name: "forced-colors", Value: fc},
	}}.Call(x.page)
	if err != nil {
		x.t.Fatalf("emulate %s: %v", scheme, err)
	}
}

// axe runs axe-core on the page as it is and fails the test on any
// violation, naming the rule, the elements and what axe says to fix.
func (x *bt) axe(label string) {
	x.t.Helper()
	src := axeScript(x.t)
	if _, err := (proto.RuntimeEvaluate{Expression: src}).Call(x.p()); err != nil {
		x.t.Fatalf("inject axe: %v", err)
	}
	res, err := proto.RuntimeEvaluate{
		Expression: `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations.map(v => ({
			id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary}))}))))`,
		AwaitPromise:  true,
		ReturnByValue: true,
	}.Call(x.p())
	if err != nil {
		x.t.Fatalf("axe on %s: %v", label, err)
	}
	if res.ExceptionDetails != nil {
		x.t.Fatalf("axe on %s threw: %s", label, res.ExceptionDetails.Text)
	}
	violations := gjson.Parse(res.Result.Value.Str())
	for _, v := range violations.Array() {
		var b strings.Builder
		fmt.Fprintf(&b, "axe on %s: %s (%s): %s", label, v.Get("id"), v.Get("impact"), v.Get("help"))
		for _, n := range v.Get("nodes").Array() {
			fmt.Fprintf(&b, "\n    %s\n      %s", n.Get("target"), strings.ReplaceAll(n.Get("summary").String(), "\n", "\n      "))
		}
		x.t.Error(b.String())
	}
	if len(violations.Array()) > 0 {
		x.screenshot(strings.NewReplacer(" ", "-", "/", "_").Replace(label))
	}
}

// apiDo calls the admin API with the test's token and returns the status
// and the JSON reply.
func (s *browserServer) apiDo(t *testing.T, method, path, body string) (int, gjson.Result) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := browserHTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, gjson.ParseBytes(b)
}

// a11yDoc is a sync workflow whose refunded orders leave the yes branch
// unrun: its executions show steps that did not run.
const a11yDoc = `{"title": "Payment callback", "mode": "sync", "trigger": {"body": [{"path": "order.id", "alias": "Order"}]},
 "nodes": [{"key": "paid", "type": "condition", "title": "Paid?",
   "config": {"mode": "branch", "rules": {"and": [{"left": "{{$context.body.order.status}}", "op": "equal", "right": "paid"}]}},
   "branches": {
     "yes": [{"key": "ok", "type": "response", "title": "Accept", "config": {"status": 200, "body": {"ok": true}}}],
     "no":  [{"key": "bad", "type": "response", "title": "Refuse", "config": {"status": 422, "body": {"ok": false}}}]}}]}`

// seedA11y creates a11yDoc through the API and posts a paid and a refunded
// order, then a body that is not JSON (refused: 400); it returns the
// workflow id and the refunded order's execution id.
func (x *bt) seedA11y() (wf, refunded string) {
	x.t.Helper()
	code, doc := x.srv.apiDo(x.t, http.MethodPost, "/api/v1/workflows", a11yDoc)
	if code != http.StatusCreated {
		x.t.Fatalf("create workflow: %d %s", code, doc.Raw)
	}
	url := doc.Get("url").String()
	x.srv.post(x.t, url, "application/json", `{"order":{"id":1,"status":"paid"}}`)
	x.srv.post(x.t, url, "application/json", `{"order":{"id":2,"status":"refunded"}}`)
	if code, _ := x.srv.post(x.t, url, "application/json", `{"order":`); code != http.StatusBadRequest {
		x.t.Fatalf("a body that is not JSON: %d", code)
	}
	wf = doc.Get("id").String()
	list := x.srv.api(x.t, "/api/v1/workflows/"+wf+"/executions")
	return wf, list.Get("items.0.id").String()
}

// TestBrowserAxe is issue 15's audit: no axe-core violation on the
// sign-in, list, editor (trigger and a step selected), executions,
// execution, tokens and account pages, in light and dark mode.
func TestBrowserAxe(t *testing.T) {
	x := newBrowserTest(t)
	for _, scheme := range []string{"light", "dark"} {
		x.colorScheme(scheme, false)
		x.open("/signin")
		x.el(tid("signin-email"))
		x.axe("sign-in " + scheme)
	}
	x.colorScheme("light", false)
	x.signIn()
	wf, exec := x.seedA11y()
	pages := []struct{ name, path, wait string }{
		{"list", "/", "workflow-list"},
		{"editor trigger", "/workflows/" + wf, "trigger-panel"},
		{"editor step", "/workflows/" + wf + "?node=paid", "node-panel"},
		{"executions", "/workflows/" + wf + "/executions", "execution-list"},
		{"execution", "/executions/" + exec, "execution-canvas"},
		{"tokens", "/tokens", "new-token-form"},
		{"account", "/account", "nav-account"},
		// Beyond the list: the other pages of a workflow.
		{"revisions", "/workflows/" + wf + "/revisions", "revision-list"},
		{"refused requests", "/workflows/" + wf + "/rejections", "rejection-list"},
		{"API reference", "/api-docs", "openapi-json"},
	}
	for _, scheme := range []string{"light", "dark"} {
		x.colorScheme(scheme, false)
		for _, p := range pages {
			x.open(p.path)
			x.el(tid(p.wait))
			x.axe(p.name + " " + scheme)
		}
	}
}

// a11yJS measures what axe cannot see through: effective opacity, text
// contrast over the real background, and focus rings. Colours are read
// through a canvas, so any CSS colour syntax works.
const a11yJS = `(() => {
  if (window.__a11y) return;
  const cv = document.createElement("canvas");
  cv.width = cv.height = 1;
  const cx = cv.getContext("2d", {willReadFrequently: true});
  const rgba = (c) => {
    cx.clearRect(0, 0, 1, 1);
    cx.fillStyle = "#000";
    cx.fillStyle = c;
    cx.fillRect(0, 0, 1, 1);
    const d = cx.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2], d[3] / 255];
  };
  const over = (top, under) => {
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + under[i] * (1 - a)).concat([1]);
  };
  // bg is the opaque colour behind el: its background and its ancestors',
  // composed, over the page's.
  const bg = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let out = layers.length && layers[layers.length - 1][3] >= 1 ? layers.pop() : rgba(getComputedStyle(document.body).backgroundColor);
    while (layers.length) out = over(layers.pop(), out);
    return out;
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const contrast = (a, b) => {
    const x = lum(a), y = lum(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  };
  const opacity = (el) => {
    let o = 1;
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      o *= parseFloat(s.opacity);
      if (s.filter && s.filter !== "none") o = -1;
    }
    return o;
  };
  // text is every element under root that holds text of its own, with its
  // effective opacity and contrast.
  const text = (root) => {
    const out = [];
    const els = [root, ...root.querySelectorAll("*")];
    for (const el of els) {
      const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.nodeValue.trim() !== "");
      if (!own || el.closest(".visually-hidden")) continue;
      const s = getComputedStyle(el);
      const fg = rgba(s.color);
      const b = bg(el);
      out.push({text: el.textContent.trim().slice(0, 40), opacity: opacity(el), contrast: contrast(over(fg, b), b)});
    }
    return out;
  };
  // ring describes the focus indicator of el as drawn now.
  const ring = (el) => {
    const s = getComputedStyle(el);
    const off = parseFloat(s.outlineOffset) || 0;
    const behind = off >= 0 ? bg(el.parentElement || el) : bg(el);
    return {style: s.outlineStyle, width: parseFloat(s.outlineWidth) || 0, shadow: s.boxShadow,
      contrast: contrast(over(rgba(s.outlineColor), behind), behind), visible: el.matches(":focus-visible")};
  };
  window.__a11y = {rgba, bg, contrast, opacity, text, ring};
})()`

// a11y installs a11yJS in the page.
func (x *bt) a11y() {
	x.t.Helper()
	if _, err := x.p().Eval(`() => ` + a11yJS); err != nil {
		x.t.Fatalf("a11y helpers: %v", err)
	}
}

// keyFocus focuses an element as the keyboard would: a key press first,
// so that the browser shows focus rings (:focus-visible) for it.
func (x *bt) keyFocus(selector string) {
	x.t.Helper()
	if err := x.page.Keyboard.Type(input.ShiftLeft); err != nil {
		x.t.Fatal(err)
	}
	x.eval(`(document.querySelector(` + jsString(selector) + `).focus(), 0)`)
}

// press types keys (input.Tab, input.Enter...) on the focused element.
func (x *bt) press(keys ...input.Key) {
	x.t.Helper()
	if err := x.page.Keyboard.Type(keys...); err != nil {
		x.t.Fatalf("keys: %v", err)
	}
}

// shiftTab moves the focus backwards.
func (x *bt) shiftTab() {
	x.t.Helper()
	if err := x.p().KeyActions().Press(input.ShiftLeft).Type(input.Tab).Do(); err != nil {
		x.t.Fatalf("shift+tab: %v", err)
	}
}

// focused names the focused element: its data-testid, else its id, else
// its tag; "BODY" when the focus was dropped.
func (x *bt) focused() string {
	x.t.Helper()
	return x.eval(`(() => { const a = document.activeElement; if (!a) return "none";
		return a.getAttribute("data-testid") || a.id || a.tagName; })()`).String()
}

// waitFocus waits until the focused element is want (see focused) and
// htmx has settled what it swapped: it binds its handlers to new content
// then (a key pressed on a card before that would follow its plain link).
func (x *bt) waitFocus(step, want string) {
	x.t.Helper()
	deadline := time.Now().Add(browserWait)
	for {
		got := x.focused()
		if got == want && !x.has(".htmx-request, .htmx-swapping, .htmx-settling") {
			return
		}
		if time.Now().After(deadline) {
			x.t.Fatalf("%s: focus is on %q, want %q", step, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowserFocusRings is issue 15's point 4: buttons, inputs, cards, the
// + buttons, the Copy button of the URL field, menu options and switches
// show a solid outline of at least 3:1 against what is around it, in light
// and dark mode; it stays in forced colours (where shadows vanish); and a
// focused card looks unlike a selected one.
func TestBrowserFocusRings(t *testing.T) {
	x := newBrowserTest(t)
	x.signIn()
	wf, _ := x.seedA11y()
	type target struct{ name, path, selector, open string }
	targets := []target{
		{"button", "/workflows/" + wf, tid("revisions-link"), ""},
		{"primary button", "/workflows/" + wf, tid("trigger-save"), ""},
		{"copy button of the URL field", "/workflows/" + wf, tid("copy-url"), ""},
		{"URL field", "/workflows/" + wf, tid("webhook-url"), ""},
		{"text input", "/workflows/" + wf + "?node=paid", tid("node-title"), ""},
		{"select", "/workflows/" + wf + "?node=paid", tid("condition-mode"), ""},
		{"card", "/workflows/" + wf + "?node=paid", tid("node-ok"), ""},
		{"trigger card", "/workflows/" + wf + "?node=paid", tid("trigger-card"), ""},
		{"+ button", "/workflows/" + wf, tid("insert-root-main-1"), ""},
		{"+ menu option", "/workflows/" + wf, tid("insert-root-main-1-end"), tid("insert-root-main-1")},
		{"variable option", "/workflows/" + wf + "?node=paid", `[data-testid^="var-option-"]`, tid("pick-rules-items-0-left")},
		{"switch", "/", tid("enabled-toggle-" + wf), ""},
		{"status filter", "/workflows/" + wf + "/executions", tid("status-filter-failed"), ""},
	}
	for _, mode := range []struct {
		scheme string
		forced bool
	}{{"light", false}, {"dark", false}, {"light", true}} {
		x.colorScheme(mode.scheme, mode.forced)
		for _, tg := range targets {
			x.open(tg.path)
			x.el(tg.selector)
			if tg.open != "" {
				// Opened from the keyboard, which puts the focus in it.
				x.keyFocus(tg.open)
				x.press(input.Enter)
				x.waitFor(tg.name+" shown", func() bool {
					return x.eval(`document.querySelector(` + jsString(tg.selector) + `).closest("[popover], [role=dialog]").contains(document.activeElement)`).Bool()
				})
			}
			x.a11y()
			x.keyFocus(tg.selector)
			// The switch's input is transparent: its track draws the ring;
			// the URL field's whole frame rings its text.
			drawn := `document.activeElement`
			switch tg.name {
			case "switch":
				drawn = `document.activeElement.nextElementSibling`
			case "URL field":
				drawn = `document.activeElement.closest(".copy-field")`
			}
			r := x.eval(`window.__a11y.ring(` + drawn + `)`)
			what := fmt.Sprintf("%s (%s, forced colours %v)", tg.name, mode.scheme, mode.forced)
			if !x.eval(`document.activeElement.matches(` + jsString(tg.selector) + `)`).Bool() {
				t.Errorf("%s: not focused", what)
				continue
			}
			if r.Get("style").String() != "solid" || r.Get("width").Float() < 2 {
				t.Errorf("%s: focus ring %s %.1fpx (box-shadow %s), want a solid outline of 2px", what, r.Get("style"), r.Get("width").Float(), r.Get("shadow"))
			}
			if !mode.forced && r.Get("contrast").Float() < 3 {
				t.Errorf("%s: focus ring contrast %.2f:1, want 3:1", what, r.Get("contrast").Float())
			}
		}
	}

	// A selected card is not drawn like a focused one: no outline.
	x.colorScheme("light", false)
	x.open("/workflows/" + wf + "?node=paid")
	x.a11y()
	x.keyFocus(tid("node-ok"))
	sel := x.eval(`window.__a11y.ring(document.querySelector('[data-testid="node-paid"]'))`)
	foc := x.eval(`window.__a11y.ring(document.querySelector('[data-testid="node-ok"]'))`)
	if x.attr(tid("node-paid"), "aria-current") != "true" {
		t.Fatal("the panel's card is not marked selected")
	}
	if sel.Get("style").String() != "none" || foc.Get("style").String() != "solid" {
		t.Errorf("selected card outline %s, focused card outline %s: they must differ (none, solid)", sel.Get("style"), foc.Get("style"))
	}
}

// TestBrowserStepsNotRun is issue 15's point 3: on the execution page, the
// steps that did not run and their branch label are dashed and keep their
// text at 4.5:1 or more, without any opacity, in light and dark mode.
func TestBrowserStepsNotRun(t *testing.T) {
	x := newBrowserTest(t)
	x.signIn()
	_, refunded := x.seedA11y()
	for _, scheme := range []string{"light", "dark"} {
		x.colorScheme(scheme, false)
		x.open("/executions/" + refunded)
		x.waitText(tid("execution-status"), "resolved")
		x.a11y()
		if c := x.nodeClass("ok"); !strings.Contains(c, "off-path") {
			t.Fatalf("the yes step is not marked as not run: %s", c)
		}
		if got := x.text(`[data-testid="execution-canvas"] ` + tid("node-ok")); !strings.Contains(got, "Did not run") {
			t.Errorf("%s: the step that did not run says %q", scheme, got)
		}
		if b := x.eval(`getComputedStyle(document.querySelector('[data-testid="execution-canvas"] [data-testid="node-ok"]')).borderTopStyle`).String(); b != "dashed" {
			t.Errorf("%s: border of a step that did not run is %s, want dashed", scheme, b)
		}
		for _, root := range []string{
			`[data-testid="execution-canvas"] [data-testid="node-ok"]`,
			`[data-testid="branch-paid-yes"] > .flow-branch-label`,
			`[data-testid="execution-canvas"] [data-testid="node-bad"]`,
		} {
			items := x.eval(`window.__a11y.text(document.querySelector(` + jsString(root) + `))`).Array()
			if len(items) == 0 {
				t.Errorf("%s: no text under %s", scheme, root)
			}
			for _, it := range items {
				if op := it.Get("opacity").Float(); op != 1 {
					t.Errorf("%s: %q under %s has opacity %.2f (-1: a filter), want 1", scheme, it.Get("text"), root, op)
				}
				if c := it.Get("contrast").Float(); c < 4.5 {
					t.Errorf("%s: %q under %s has contrast %.2f:1, want 4.5:1", scheme, it.Get("text"), root, c)
				}
			}
		}
	}
}

// TestBrowserNarrowTokens is part of issue 15's point 5: /tokens (with a
// token just created) fits a 320px screen without scrolling sideways.
func TestBrowserNarrowTokens(t *testing.T) {
	x := newBrowserTest(t)
	x.signIn()
	x.viewport(320, 700)
	x.open("/tokens")
	x.fill(tid("new-token-name"), "a rather long token name for a deploy script")
	x.click(tid("new-token-submit"))
	x.el(tid("new-token-created"))
	for _, path := range []string{"", "/tokens", "/account"} {
		if path != "" {
			x.open(path)
		}
		if w := x.eval(`document.documentElement.scrollWidth`).Int(); w > 320 {
			wide := x.eval(`Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > 321).slice(0, 5).map(e => e.tagName + "." + e.className)`)
			t.Errorf("%s is %dpx wide on a 320px screen: %s", x.url(), w, wide.Raw)
		}
	}
}

// kbDoc is a sync flow for the editor's walk-through: a condition with a
// step in each branch, then a last step.
const kbDoc = `{"title": "Keyboard", "mode": "sync", "nodes": [
 {"key": "paid", "type": "condition", "title": "Paid?",
  "config": {"mode": "branch", "rules": {"and": [{"left": "{{$context.body.status}}", "op": "equal", "right": "paid"}]}},
  "branches": {"yes": [{"key": "ok", "type": "response", "config": {"status": 200}}],
               "no":  [{"key": "bad", "type": "response", "config": {"status": 422}}]}},
 {"key": "done", "type": "end", "config": {"status": "resolved"}}]}`

// TestBrowserKeyboardEditor walks through the editor with the keyboard
// alone (issue 15, points 2 and 5): focus never drops to the page body
// after Save (Space and Enter), after a delete (the next step's card takes
// it), in the + menu (arrows, Home, End, Escape, Tab out closes it) and in
// the variable list (Shift+Tab out closes it); the selected step follows
// in the address bar.
func TestBrowserKeyboardEditor(t *testing.T) {
	x := newBrowserTest(t)
	t.Cleanup(func() {
		_, _ = x.page.Timeout(browserWait).Eval(`() => document.querySelectorAll("form[data-unsaved]").forEach(f => f.removeAttribute("data-unsaved"))`)
	})
	watch := x.watchConsole()
	x.signIn()
	code, doc := x.srv.apiDo(t, http.MethodPost, "/api/v1/workflows", kbDoc)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, doc.Raw)
	}
	wf := doc.Get("id").String()
	base := "/workflows/" + wf
	x.open(base)
	x.el(tid("trigger-panel"))

	// A card opened with Enter: its panel, the focus on the panel's title,
	// the step in the address bar.
	x.keyFocus(tid("node-paid"))
	x.press(input.Enter)
	x.waitFocus("a card opened with Enter", "panel-title")
	x.waitText(tid("panel-node-key"), "paid")
	x.waitPath(`^` + base + `\?node=paid$`)

	// Save with Space, then with Enter: the focus stays on Save.
	x.keyFocus(tid("node-title"))
	x.press(input.End, input.Space, input.KeyA)
	rev := x.text(tid("revision"))
	x.keyFocus(tid("node-save"))
	x.press(input.Space)
	x.waitFor("a save by Space", func() bool { return x.text(tid("revision")) != rev })
	x.waitFocus("after Save by Space", "node-save")
	x.keyFocus(tid("node-title"))
	x.press(input.End, input.Backspace, input.Backspace)
	rev = x.text(tid("revision"))
	x.keyFocus(tid("node-save"))
	x.press(input.Enter)
	x.waitFor("a save by Enter", func() bool { return x.text(tid("revision")) != rev })
	x.waitFocus("after Save by Enter", "node-save")
	if got := x.srv.api(t, "/api/v1/workflows/"+wf).Get("nodes.0.title").String(); got != "Paid?" {
		t.Errorf("title after typing and deleting \" a\": %q", got)
	}

	// The trigger's Save, by Space.
	x.keyFocus(tid("trigger-card"))
	x.press(input.Enter)
	x.waitFocus("the trigger card opened with Enter", "panel-title")
	rev = x.text(tid("revision"))
	x.keyFocus(tid("trigger-save"))
	x.press(input.Space)
	x.waitFor("a trigger save by Space", func() bool { return x.text(tid("revision")) != rev })
	x.waitFocus("after the trigger's Save", "trigger-save")

	// The + menu: Enter opens it on its first option; arrows, End and Home
	// move and wrap; Escape closes it back on the +; Tab out of it closes it.
	plus := "insert-root-main-1"
	menuOpen := func() bool {
		return x.eval(`document.getElementById("` + plus + `-menu").matches(":popover-open")`).Bool()
	}
	x.keyFocus(tid(plus))
	x.press(input.Enter)
	x.waitFocus("the + menu opened with Enter", plus+"-condition")
	options := x.eval(`Array.from(document.querySelectorAll("#` + plus + `-menu .flow-insert-option")).map(b => b.getAttribute("data-testid"))`).Array()
	if len(options) < 3 {
		t.Fatalf("+ menu options: %v", options)
	}
	first, second, last := options[0].String(), options[1].String(), options[len(options)-1].String()
	x.press(input.ArrowDown)
	x.waitFocus("ArrowDown", second)
	x.press(input.ArrowUp)
	x.waitFocus("ArrowUp", first)
	x.press(input.ArrowUp)
	x.waitFocus("ArrowUp on the first option", last)
	x.press(input.ArrowDown)
	x.waitFocus("ArrowDown on the last option", first)
	x.press(input.End)
	x.waitFocus("End", last)
	x.press(input.Home)
	x.waitFocus("Home", first)
	x.press(input.Escape)
	x.waitFor("Escape to close the menu", func() bool { return !menuOpen() })
	x.waitFocus("after Escape", plus)
	x.press(input.Enter)
	x.waitFocus("the + menu opened again", first)
	x.press(input.End, input.Tab)
	x.waitFor("Tab out of the menu to close it", func() bool { return !menuOpen() })
	if got := x.focused(); got == "BODY" || strings.HasPrefix(got, plus+"-") {
		t.Errorf("after Tab out of the menu the focus is on %q", got)
	}

	// The variable list: Enter opens it on its first option, arrows move,
	// Shift+Tab out of it closes it.
	x.keyFocus(tid("node-paid"))
	x.press(input.Enter)
	x.waitFocus("the condition's panel", "panel-title")
	pickerOpen := func() bool { return !x.eval(`document.getElementById("var-picker").hidden`).Bool() }
	x.keyFocus(tid("pick-rules-items-0-left"))
	x.press(input.Enter)
	x.waitFor("the variable list", pickerOpen)
	firstVar := x.focused()
	if !strings.HasPrefix(firstVar, "var-option-") {
		t.Fatalf("the variable list opened with the focus on %q", firstVar)
	}
	x.press(input.ArrowDown)
	x.waitFor("ArrowDown in the variable list", func() bool { f := x.focused(); return f != firstVar && strings.HasPrefix(f, "var-option-") })
	x.press(input.ArrowUp)
	x.waitFocus("ArrowUp in the variable list", firstVar)
	x.shiftTab() // the list's close button
	x.shiftTab() // out: the {x} button
	x.waitFor("Shift+Tab out of the variable list to close it", func() bool { return !pickerOpen() })
	x.waitFocus("after Shift+Tab out of the list", "pick-rules-items-0-left")

	// Delete by the keyboard: the step in its place takes the focus.
	deleteStep := func(key, want string) {
		x.t.Helper()
		x.keyFocus(tid("node-" + key))
		x.press(input.Enter)
		x.waitFocus("the panel of "+key, "panel-title")
		x.waitText(tid("panel-node-key"), key)
		ask := x.acceptNextDialog()
		x.keyFocus(tid("node-delete"))
		x.press(input.Enter)
		ask()
		x.waitFor("the delete of "+key, func() bool { return !x.has(tid("node-" + key)) })
		x.waitFocus("after deleting "+key, want)
	}
	deleteStep("bad", "node-paid")  // alone in its branch: its condition
	deleteStep("paid", "node-done") // the next step
	deleteStep("done", "trigger-card")
	if msgs := watch.messages(x); len(msgs) > 0 {
		t.Errorf("console:\n%s", strings.Join(msgs, "\n"))
	}
}

// slowSink answers each call when the test releases it: an execution
// calling it stays running meanwhile.
type slowSink struct {
	*httptest.Server
	release chan struct{}
}

func newSlowSink(t *testing.T) *slowSink {
	s := &slowSink{release: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-s.release:
		case <-r.Context().Done():
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(func() {
		select {
		case <-s.release:
		default:
			close(s.release)
		}
		s.Close()
	})
	return s
}

// TestBrowserLiveRefresh is issue 15's point 1: the executions list and
// the page of a running execution refresh without moving the focus (the
// focused element stays the same node), new executions are announced in
// the polite status region, and a finished execution stops refreshing.
func TestBrowserLiveRefresh(t *testing.T) {
	x := newBrowserTest(t)
	watch := x.watchConsole()
	sink := newSlowSink(t)
	x.signIn()
	code, doc := x.srv.apiDo(t, http.MethodPost, "/api/v1/workflows", `{"title": "Live", "mode": "async", "nodes": []}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, doc.Raw)
	}
	wf, url := doc.Get("id").String(), doc.Get("url").String()
	x.srv.post(t, url, "application/json", `{"n":1}`)
	first := x.srv.api(t, "/api/v1/workflows/"+wf+"/executions").Get("items.0.id").String()

	x.open("/workflows/" + wf + "/executions")
	x.el(tid("execution-row-" + first))
	if got := x.attr(tid("announcer"), "role"); got != "status" {
		t.Errorf("the announcer's role is %q, want status", got)
	}
	x.keyFocus("#exec-link-" + first)
	x.eval(`(window.__focused = document.activeElement, window.__row = document.getElementById("exec-row-` + first + `"),
		window.__refreshes = 0, document.addEventListener("live:refreshed", () => window.__refreshes++), 0)`)
	x.waitFor("two refreshes of the list", func() bool { return x.eval(`window.__refreshes`).Int() >= 2 })
	same := func(what string) {
		t.Helper()
		if !x.eval(`document.activeElement === window.__focused && window.__focused.isConnected`).Bool() {
			t.Errorf("%s: the focus moved to %q", what, x.focused())
		}
	}
	same("after refreshes with nothing new")
	x.srv.post(t, url, "application/json", `{"n":2}`)
	x.srv.post(t, url, "application/json", `{"n":3}`)
	x.waitFor("the two new rows", func() bool {
		return x.eval(`document.querySelectorAll('[data-testid^="execution-row-"]').length`).Int() == 3
	})
	x.waitText(tid("announcer"), "2 new executions")
	same("after two new executions")
	if !x.eval(`document.getElementById("exec-row-` + first + `") === window.__row`).Bool() {
		t.Error("the unchanged row was replaced, not kept")
	}
	if ids := x.eval(`Array.from(document.querySelectorAll('[data-testid^="execution-row-"]')).map(r => r.id)`).Array(); ids[2].String() != "exec-row-"+first {
		t.Errorf("rows %v: the first execution is not last (newest first)", ids)
	}
	x.press(input.Tab)
	if got := x.focused(); got != "copy-exec-id-"+first {
		t.Errorf("Tab after the refreshes went to %q, want the row's copy button", got)
	}

	// A running execution: its page refreshes, the focus stays, the end is
	// announced, and then the refreshing stops.
	code, _ = x.srv.apiDo(t, http.MethodPut, "/api/v1/workflows/"+wf, `{"title": "Live", "mode": "async", "nodes": [
		{"key": "call", "type": "request", "config": {"method": "POST", "url": "`+sink.URL+`/slow", "timeoutSeconds": 60}}]}`)
	if code != http.StatusOK {
		t.Fatalf("update: %d", code)
	}
	x.srv.post(t, url, "application/json", `{"n":4}`)
	running := x.srv.api(t, "/api/v1/workflows/"+wf+"/executions").Get("items.0.id").String()
	x.open("/executions/" + running)
	x.waitText(tid("execution-status"), "running")
	x.keyFocus(`.page-actions a[href$="/executions"]`)
	x.eval(`(window.__focused = document.activeElement, window.__refreshes = 0, document.addEventListener("live:refreshed", () => window.__refreshes++), 0)`)
	x.waitFor("two refreshes of the running execution", func() bool { return x.eval(`window.__refreshes`).Int() >= 2 })
	same("on the running execution's page")
	close(sink.release)
	x.waitText(tid("execution-status"), "resolved")
	x.waitText(tid("announcer"), "Execution status: resolved")
	same("after the execution ended")
	n := x.eval(`window.__refreshes`).Int()
	time.Sleep(4500 * time.Millisecond) // two polling periods
	if m := x.eval(`window.__refreshes`).Int(); m > n+1 {
		t.Errorf("the page of a finished execution refreshed %d more times", m-n)
	}
	if msgs := watch.messages(x); len(msgs) > 0 {
		t.Errorf("console:\n%s", strings.Join(msgs, "\n"))
	}
}

// TestBrowserCharts is issue 15's points 6 and 7 in the browser: the
// executions page's chart draws its bars and switches range, its table
// opens, the list shows a sparkline and the editor its line of the last
// 24 hours, all without a CSP complaint in the console.
func TestBrowserCharts(t *testing.T) {
	x := newBrowserTest(t)
	watch := x.watchConsole()
	x.signIn()
	wf, _ := x.seedA11y()
	x.open("/workflows/" + wf + "/executions")
	x.waitText(tid("activity-summary"), "3 requests in the last 24 hours: 2 resolved, 0 failed or error; 1 refused.")
	box := x.eval(`(() => { const r = document.querySelector('[data-testid="activity-svg"]').getBoundingClientRect(); return [r.width, r.height]; })()`).Array()
	if box[0].Float() < 300 || box[1].Float() < 100 {
		t.Errorf("the chart is %.0f×%.0f px", box[0].Float(), box[1].Float())
	}
	bar := x.eval(`(() => { const r = document.querySelector('.chart-resolved').getBoundingClientRect(); return r.height; })()`).Float()
	if bar < 50 {
		t.Errorf("the busiest bar is %.0f px high in a chart of %.0f", bar, box[1].Float())
	}
	x.click(tid("chart-range-1h"))
	x.waitPath(`/executions\?chart=1h$`)
	x.waitText(tid("activity-summary"), "in the last hour")
	if x.attr(tid("chart-range-1h"), "aria-current") != "page" {
		t.Error("the chosen range is not marked current")
	}
	x.click(tid("activity-table") + " > summary")
	x.waitFor("the table", func() bool { return x.eval(`document.getElementById("activity-table").open`).Bool() })
	if got := x.text(tid("activity-table") + " tbody"); !strings.Contains(got, "UTC 2 0 0 1 3") {
		t.Errorf("table: %s", got)
	}
	x.open("/")
	if w := x.eval(`document.querySelector('[data-testid="spark-` + wf + `"] svg').getBoundingClientRect().width`).Float(); w < 40 {
		t.Errorf("sparkline %.0f px wide", w)
	}
	x.waitText(tid("spark-count-"+wf), "3")
	x.open("/workflows/" + wf)
	x.waitText(tid("flow-stats-success"), "100% of 2 succeeded")
	x.colorScheme("dark", false)
	x.open("/workflows/" + wf + "/executions?chart=7d")
	x.waitText(tid("activity-summary"), "in the last 7 days")
	x.step("chart-dark")
	if msgs := watch.messages(x); len(msgs) > 0 {
		t.Errorf("console:\n%s", strings.Join(msgs, "\n"))
	}
}
