package main

// Browser tests: the real server (run's wiring on 127.0.0.1:0) driven by
// Debian's Chromium through go-rod. They are skipped when Chromium is not
// installed, unless HOOKFLOW_REQUIRE_BROWSER=1 (CI), which makes a missing
// browser a failure. A failing test saves a screenshot and prints its path.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/proto"
	"github.com/hookflow/hookflow/engine"
	"github.com/tidwall/gjson"
	"golang.org/x/crypto/bcrypt"
)

const (
	browserEmail    = "admin@example.com"
	browserPassword = "correct-horse-battery"
	// browserWait bounds every single wait for the page.
	browserWait = 15 * time.Second
)

// chromiumPath finds Debian's Chromium ("" when missing).
func chromiumPath() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

var (
	browserOnce sync.Once
	browserInst *rod.Browser
	browserErr  error
)

// browserDirs holds the browsers' profile directories. A test binary has
// no teardown hook here (no TestMain, to stay clear of other test files),
// so each start removes the profiles of earlier runs; the browser itself
// dies with the test binary (rod's leakless guard).
var browserDirs = filepath.Join(os.TempDir(), "hookflow-browser-tests")

// sharedBrowser starts Chromium once per test binary.
func sharedBrowser(t *testing.T) *rod.Browser {
	t.Helper()
	bin := chromiumPath()
	if bin == "" {
		if os.Getenv("HOOKFLOW_REQUIRE_BROWSER") == "1" {
			t.Fatal("chromium not found (/usr/bin/chromium or on PATH) and HOOKFLOW_REQUIRE_BROWSER=1")
		}
		t.Skip("chromium not installed: browser tests skipped (apt-get install -y chromium)")
	}
	browserOnce.Do(func() {
		if entries, err := os.ReadDir(browserDirs); err == nil {
			for _, e := range entries {
				if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Hour {
					os.RemoveAll(filepath.Join(browserDirs, e.Name()))
				}
			}
		}
		if browserErr = os.MkdirAll(browserDirs, 0o700); browserErr != nil {
			return
		}
		var profile string
		if profile, browserErr = os.MkdirTemp(browserDirs, "profile-"); browserErr != nil {
			return
		}
		l := launcher.New().Bin(bin).Headless(true).NoSandbox(true).
			Set("disable-gpu").Set("disable-background-networking").Set("disable-component-update").
			Set("disable-sync").Set("no-first-run").UserDataDir(profile)
		var u string
		if u, browserErr = l.Launch(); browserErr != nil {
			return
		}
		b := rod.New().ControlURL(u)
		if browserErr = b.Connect(); browserErr != nil {
			return
		}
		browserInst = b
	})
	if browserErr != nil {
		t.Fatalf("start chromium: %v", browserErr)
	}
	return browserInst
}

// browserLog collects the server's JSON log lines.
type browserLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *browserLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *browserLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// browserServer is a running `hookflow serve` for one browser test.
type browserServer struct {
	base  string
	dir   string
	logs  *browserLog
	token string // an admin API token, to check what the UI saved
}

// startBrowserServer runs the server on 127.0.0.1:0 with a fresh data
// directory and the admin account from HOOKFLOW_ADMIN_*.
func startBrowserServer(t testing.TB) *browserServer {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{"HOOKFLOW_ADMIN_EMAIL": browserEmail, "HOOKFLOW_ADMIN_PASSWORD": browserPassword}
	getenv := func(k string) string { return env[k] }

	s := &browserServer{dir: dir, logs: &browserLog{}, token: seedBrowserData(t, dir)}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-format", "json"}
	go func() { done <- run(ctx, args, getenv, io.Discard, s.logs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("server did not stop")
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for s.base == "" {
		for _, line := range strings.Split(s.logs.String(), "\n") {
			if l := gjson.Parse(line); l.Get("msg").String() == "hookflow started" {
				s.base = "http://" + l.Get("addr").String()
			}
		}
		select {
		case err := <-done:
			t.Fatalf("server stopped: %v\n%s", err, s.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start:\n%s", s.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

// seedBrowserData prepares the data directory before the server starts:
// the admin account, with its password hashed at bcrypt's lowest cost, and
// an API token (returned) to check through the admin API what the UI
// saved. The hash carries its cost, so signing in goes through the real
// check in a millisecond; at the production cost each sign-in (and the
// account creation at start) takes seconds under -race on a busy machine.
// The account from HOOKFLOW_ADMIN_* is covered by the end-to-end tests.
func seedBrowserData(t testing.TB, dir string) string {
	t.Helper()
	ctx := context.Background()
	store := openDataDir(t, dir)
	defer store.Close()
	hash, err := bcrypt.GenerateFromPassword([]byte(browserPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateUser(ctx, &engine.User{Email: browserEmail, PasswordHash: string(hash)}); err != nil {
		t.Fatal(err)
	}
	tok, rec, err := engine.NewAPIToken("browser-test")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateAPIToken(ctx, rec); err != nil {
		t.Fatal(err)
	}
	return tok
}

var browserHTTP = &http.Client{Timeout: 10 * time.Second}

// post sends a webhook request from the test (not the browser).
func (s *browserServer) post(t *testing.T, url, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := browserHTTP.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// api calls the admin API with the test's token and returns the JSON.
func (s *browserServer) api(t *testing.T, path string) gjson.Result {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	res, err := browserHTTP.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	return gjson.ParseBytes(b)
}

// bt is one browser test: a server, an isolated browser context (its own
// cookies) and a page in it.
type bt struct {
	t    *testing.T
	srv  *browserServer
	page *rod.Page
}

// newBrowserTest starts a server and opens a page at 1280×900. When the
// test fails, its last screen is saved and the path printed.
func newBrowserTest(t *testing.T) *bt {
	t.Helper()
	b := sharedBrowser(t)
	srv := startBrowserServer(t)
	inc, err := b.Incognito()
	if err != nil {
		t.Fatalf("browser context: %v", err)
	}
	page, err := inc.Page(proto.TargetCreateTarget{URL: "about:blank"})
	if err != nil {
		t.Fatalf("new page: %v", err)
	}
	x := &bt{t: t, srv: srv, page: page}
	x.viewport(1280, 900)
	t.Cleanup(func() {
		if t.Failed() {
			x.screenshot("failure")
		}
		page.Close()
		inc.Close()
	})
	return x
}

func (x *bt) viewport(w, h int) {
	x.t.Helper()
	err := x.page.SetViewport(&proto.EmulationSetDeviceMetricsOverride{Width: w, Height: h, DeviceScaleFactor: 1, Mobile: w < 600})
	if err != nil {
		x.t.Fatalf("viewport: %v", err)
	}
}

// screenshot saves the page to a new temp dir and logs where.
func (x *bt) screenshot(name string) string {
	dir, err := os.MkdirTemp("", "hookflow-browser-shot-")
	if err != nil {
		x.t.Logf("screenshot: %v", err)
		return ""
	}
	img, err := x.page.Timeout(browserWait).Screenshot(true, &proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng})
	if err != nil {
		x.t.Logf("screenshot: %v", err)
		return ""
	}
	path := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(x.t.Name())+"-"+name+".png")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		x.t.Logf("screenshot: %v", err)
		return ""
	}
	url := ""
	if info, err := x.page.Timeout(browserWait).Info(); err == nil {
		url = info.URL
	}
	x.t.Logf("screenshot of %s saved to %s", url, path)
	return path
}

// step saves a screenshot when HOOKFLOW_BROWSER_SHOTS=1, to look at what
// a test saw at that point.
func (x *bt) step(name string) {
	if os.Getenv("HOOKFLOW_BROWSER_SHOTS") == "1" {
		x.screenshot(name)
	}
}

// p is the page with a deadline for one operation.
func (x *bt) p() *rod.Page { return x.page.Timeout(browserWait) }

// open loads a path of the server and waits for the page.
func (x *bt) open(path string) {
	x.t.Helper()
	if err := x.p().Navigate(x.srv.base + path); err != nil {
		x.t.Fatalf("open %s: %v", path, err)
	}
	if err := x.p().WaitLoad(); err != nil {
		x.t.Fatalf("load %s: %v", path, err)
	}
}

// el waits for an element (CSS selector) and returns it.
func (x *bt) el(selector string) *rod.Element {
	x.t.Helper()
	el, err := x.p().Element(selector)
	if err != nil {
		x.t.Fatalf("element %s: %v", selector, err)
	}
	return el
}

// tid is the selector of a data-testid.
func tid(id string) string { return `[data-testid="` + id + `"]` }

func (x *bt) has(selector string) bool {
	x.t.Helper()
	ok, _, err := x.p().Has(selector)
	if err != nil {
		x.t.Fatalf("has %s: %v", selector, err)
	}
	return ok
}

func (x *bt) click(selector string) {
	x.t.Helper()
	// Pages that refresh live (the executions list, a running execution)
	// may replace the element between finding and clicking it: find it
	// again then, a few times, as a person would click the new one.
	var err error
	for range 5 {
		if err = x.el(selector).Timeout(browserWait).Click(proto.InputMouseButtonLeft, 1); err == nil {
			return
		}
		if !strings.Contains(err.Error(), "detached") && !strings.Contains(err.Error(), "not attached") && !strings.Contains(err.Error(), "Could not find node") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	x.t.Fatalf("click %s: %v", selector, err)
}

// fill replaces an input's or a textarea's value, as typing would.
func (x *bt) fill(selector, text string) {
	x.t.Helper()
	el := x.el(selector).Timeout(browserWait)
	if err := el.SelectAllText(); err != nil {
		x.t.Fatalf("select %s: %v", selector, err)
	}
	if text == "" {
		if _, err := el.Eval(`function () { this.value = ""; this.dispatchEvent(new Event("input", {bubbles: true})) }`); err != nil {
			x.t.Fatalf("clear %s: %v", selector, err)
		}
		return
	}
	if err := el.Input(text); err != nil {
		x.t.Fatalf("input %s: %v", selector, err)
	}
}

func (x *bt) text(selector string) string {
	x.t.Helper()
	s, err := x.el(selector).Timeout(browserWait).Text()
	if err != nil {
		x.t.Fatalf("text %s: %v", selector, err)
	}
	return strings.Join(strings.Fields(s), " ")
}

func (x *bt) attr(selector, name string) string {
	x.t.Helper()
	v, err := x.el(selector).Timeout(browserWait).Attribute(name)
	if err != nil {
		x.t.Fatalf("attribute %s of %s: %v", name, selector, err)
	}
	if v == nil {
		return ""
	}
	return *v
}

// eval runs a JavaScript expression in the page and returns its value.
func (x *bt) eval(js string) gjson.Result {
	x.t.Helper()
	res, err := x.p().Eval(`() => JSON.stringify(` + js + `)`)
	if err != nil {
		x.t.Fatalf("eval %s: %v", js, err)
	}
	return gjson.Parse(res.Value.Str())
}

// waitFor polls cond until it holds or the wait runs out.
func (x *bt) waitFor(what string, cond func() bool) {
	x.t.Helper()
	deadline := time.Now().Add(browserWait)
	for !cond() {
		if time.Now().After(deadline) {
			x.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// url is the page's current URL.
func (x *bt) url() string {
	info, err := x.p().Info()
	if err != nil {
		x.t.Fatalf("page info: %v", err)
	}
	return info.URL
}

// loaded reports whether the page's document has loaded. While the page
// is still navigating (a reload, Back) the question fails with "Inspected
// target navigated or closed": not yet, and the next poll asks the new
// document.
func (x *bt) loaded() bool {
	res, err := x.p().Eval(`() => document.readyState`)
	return err == nil && res.Value.Str() == "complete"
}

// waitPath waits until the page's path (and query) matches re.
func (x *bt) waitPath(re string) string {
	x.t.Helper()
	rx := regexp.MustCompile(re)
	var path string
	x.waitFor("a page matching "+re, func() bool {
		path = strings.TrimPrefix(x.url(), x.srv.base)
		if !rx.MatchString(path) {
			return false
		}
		return x.loaded()
	})
	return path
}

// waitText waits until the element's text contains want.
func (x *bt) waitText(selector, want string) {
	x.t.Helper()
	x.waitFor(fmt.Sprintf("%q in %s", want, selector), func() bool {
		ok, el, err := x.p().Has(selector)
		if err != nil || !ok {
			return false
		}
		s, err := el.Text()
		return err == nil && strings.Contains(strings.Join(strings.Fields(s), " "), want)
	})
}

// acceptNextDialog accepts the next confirm() the page shows.
func (x *bt) acceptNextDialog() (message func() string) {
	wait, handle := x.page.HandleDialog()
	got := make(chan string, 1)
	go func() {
		e := wait()
		_ = handle(&proto.PageHandleJavaScriptDialog{Accept: true})
		got <- e.Message
	}()
	return func() string {
		select {
		case m := <-got:
			return m
		case <-time.After(browserWait):
			x.t.Fatal("no confirmation dialog")
			return ""
		}
	}
}

// signIn signs in through the form and lands on the workflows list.
func (x *bt) signIn() {
	x.t.Helper()
	x.open("/")
	x.waitPath(`^/signin`)
	x.fill(tid("signin-email"), browserEmail)
	x.fill(tid("signin-password"), browserPassword)
	x.click(tid("signin-submit"))
	x.waitPath(`^/$`)
	x.el(tid("nav-workflows"))
}

// createWorkflow fills the list page's form and returns the new id (the
// page is then the workflow's editor).
func (x *bt) createWorkflow(title, mode string) string {
	x.t.Helper()
	x.open("/")
	x.fill(tid("new-workflow-title"), title)
	x.click(tid("new-workflow-mode-" + mode))
	x.click(tid("new-workflow-submit"))
	path := x.waitPath(`^/workflows/\d+$`)
	return strings.TrimPrefix(path, "/workflows/")
}

func TestBrowserSignIn(t *testing.T) {
	x := newBrowserTest(t)
	x.open("/tokens")
	x.waitPath(`^/signin\?next=`)
	x.el(tid("firstrun-hint"))
	x.fill(tid("signin-email"), browserEmail)
	x.fill(tid("signin-password"), "not-the-password")
	x.click(tid("signin-submit"))
	x.waitText(tid("signin-error"), "Wrong email or password.")
	if got := x.attr(tid("signin-password"), "aria-invalid"); got != "true" {
		t.Errorf("password field aria-invalid=%q", got)
	}
	x.fill(tid("signin-password"), browserPassword)
	x.click(tid("signin-submit"))
	x.waitPath(`^/tokens$`) // back where the visitor was going
	x.el(tid("new-token-form"))

	x.click(tid("nav-signout"))
	x.waitPath(`^/signin$`)
	x.waitText(tid("flash-info"), "You are signed out.")
	if x.has(tid("firstrun-hint")) {
		t.Error("first-run hint after a sign-in")
	}
	x.open("/")
	x.waitPath(`^/signin`)
}

func TestBrowserWorkflowList(t *testing.T) {
	x := newBrowserTest(t)
	x.signIn()
	x.el(tid("empty-state"))

	// Empty title: the error is next to the field.
	x.click(tid("new-workflow-submit"))
	x.waitText(tid("new-workflow-title-error"), "Required")
	x.step("title-required")
	if got := x.attr(tid("new-workflow-title"), "aria-invalid"); got != "true" {
		t.Errorf("title aria-invalid=%q", got)
	}

	id := x.createWorkflow("Orders", "async")
	x.open("/")
	row := "workflow-row-" + id
	x.el(tid(row))
	url := x.attr(tid("copy-"+id), "data-copy")
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/api/webhook:trigger/[a-z0-9]{20}$`).MatchString(url) {
		t.Fatalf("copy button copies %q", url)
	}
	x.click(tid("copy-" + id))
	x.waitText(tid("copy-"+id), "Copied")

	// The switch saves through htmx: the row comes back off, a flash says
	// what it means, and the URL answers 404.
	x.click(tid("enabled-toggle-" + id))
	x.waitText(tid("flash-success"), "answers 404")
	x.waitFor("the switch to show off", func() bool {
		return !x.eval(`document.querySelector('[data-testid="enabled-toggle-` + id + `"]').checked`).Bool()
	})
	x.step("switched-off")
	if code, _ := x.srv.post(t, url, "application/json", `{}`); code != http.StatusNotFound {
		t.Errorf("disabled workflow answered %d", code)
	}
	// Enabled is state, not an edit: no new revision (issue 12, point 16).
	if got := x.srv.api(t, "/api/v1/workflows/"+id); got.Get("revision").Int() != 1 || got.Get("enabled").Bool() {
		t.Errorf("after switching off: revision %d, enabled %v", got.Get("revision").Int(), got.Get("enabled").Bool())
	}
	x.click(tid("enabled-toggle-" + id))
	x.waitFor("the switch to show on", func() bool {
		return x.eval(`document.querySelector('[data-testid="enabled-toggle-` + id + `"]').checked`).Bool()
	})
	// The box ticks at the click; the server applies it when the request
	// arrives: wait for that before calling the URL.
	x.waitFor("the server to turn it on", func() bool {
		return x.srv.api(t, "/api/v1/workflows/"+id).Get("enabled").Bool()
	})
	x.waitText(tid("workflow-row-"+id), "revision 1")
	if code, body := x.srv.post(t, url, "application/json", `{"n":1}`); code != http.StatusOK || body != "ok" {
		t.Errorf("enabled workflow answered %d %q", code, body)
	}

	// The executions page refreshes by itself.
	x.open("/workflows/" + id + "/executions")
	x.el(tid("execution-list"))
	before := x.eval(`document.querySelectorAll('[data-testid^="execution-row-"]').length`).Int()
	x.srv.post(t, url, "application/json", `{"n":2}`)
	x.waitFor("the new execution to appear without a reload", func() bool {
		return x.eval(`document.querySelectorAll('[data-testid^="execution-row-"]').length`).Int() == before+1
	})
	x.click(tid("status-filter-failed"))
	x.waitPath(`status=failed`)
	x.el(tid("empty-state"))

	// Duplicate, then delete the copy after confirming.
	x.open("/")
	x.click(tid("duplicate-" + id))
	copyID := strings.TrimPrefix(x.waitPath(`^/workflows/\d+$`), "/workflows/")
	if copyID == id {
		t.Fatal("duplicate opened the original")
	}
	x.open("/")
	if got := x.text(tid("workflow-row-" + copyID)); !strings.Contains(got, "Copy of Orders") {
		t.Errorf("copy row: %s", got)
	}
	msg := x.acceptNextDialog()
	x.click(tid("delete-" + copyID))
	if m := msg(); !strings.Contains(m, "Delete “Copy of Orders” and its 0 executions?") {
		t.Errorf("confirmation %q", m)
	}
	x.waitText(tid("flash-success"), "Deleted “Copy of Orders”")
	if x.has(tid("workflow-row-" + copyID)) {
		t.Error("deleted workflow still listed")
	}

	// Phone width: the list still shows the URL and the actions.
	x.viewport(390, 844)
	x.open("/")
	if w := x.eval(`document.documentElement.scrollWidth`).Int(); w > 390 {
		t.Errorf("the list scrolls sideways on a phone: %dpx wide", w)
	}
	x.el(tid("copy-" + id))
	x.step("phone")
}

func TestBrowserTokens(t *testing.T) {
	x := newBrowserTest(t)
	x.signIn()
	x.click(tid("nav-tokens"))
	x.waitPath(`^/tokens$`)
	x.fill(tid("new-token-name"), "deploy script")
	x.click(tid("new-token-submit"))
	x.waitText(tid("new-token-created"), "Copy it now: it will not be shown again")
	x.step("token-created")
	tok := x.eval(`document.querySelector('[data-testid="new-token-value"]').value`).String()
	if !strings.HasPrefix(tok, "hf_") {
		t.Fatalf("token %q", tok)
	}
	req, _ := http.NewRequest(http.MethodGet, x.srv.base+"/api/v1/workflows", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := browserHTTP.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("API with the new token: %v %v", err, res)
	}
	res.Body.Close()
	if strings.Contains(x.url(), tok) {
		t.Error("token in the URL")
	}
	cookies, err := x.page.Cookies(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		if strings.Contains(c.Value, tok) {
			t.Errorf("token in cookie %s", c.Name)
		}
	}
	// Reloading shows the page, not the token, and creates no second token.
	if err := x.p().Reload(); err != nil {
		t.Fatal(err)
	}
	x.waitFor("the reloaded page", func() bool { return x.loaded() && x.has(tid("token-list")) })
	if x.has(tid("new-token-value")) {
		t.Error("token shown twice")
	}
	if n := x.eval(`document.querySelectorAll('[data-testid^="token-row-"]').length`).Int(); n != 2 {
		t.Errorf("%d tokens after a reload, want 2 (the test's and the new one)", n)
	}
}

// editorSave clicks a save button and waits for the revision shown in the
// editor header to change.
func (x *bt) editorSave(button string) {
	x.t.Helper()
	before := x.text(tid("revision"))
	x.click(tid(button))
	x.waitFor("the editor to save a new revision", func() bool {
		ok, el, err := x.p().Has(tid("revision"))
		if err != nil || !ok {
			return false
		}
		s, err := el.Text()
		return err == nil && strings.Join(strings.Fields(s), " ") != before
	})
}

// TestBrowserAsyncWorkflow is the first part of issue 4's browser test:
// create an async workflow, copy its URL, switch Basic Auth on, parse a
// JSON sample with an alias, then call the URL and inspect the execution.
func TestBrowserAsyncWorkflow(t *testing.T) {
	x := newBrowserTest(t)
	x.signIn()
	id := x.createWorkflow("Shop orders", "async")
	x.waitText(tid("flash-success"), "Shop orders")
	doc := x.srv.api(t, "/api/v1/workflows/"+id)
	key := doc.Get("key").String()

	// The URL the copy button copies, and that it answers.
	url := x.attr(tid("copy-url"), "data-copy")
	if !strings.HasSuffix(url, "/api/webhook:trigger/"+key) || !strings.HasPrefix(url, x.srv.base) {
		t.Fatalf("copy-url copies %q, want %s/api/webhook:trigger/%s", url, x.srv.base, key)
	}
	if got := x.eval(`document.querySelector('[data-testid="webhook-url"]').value`).String(); got != url {
		t.Errorf("the URL field shows %q, the button copies %q", got, url)
	}
	x.click(tid("copy-url"))
	x.waitText(tid("copy-url"), "Copied")
	if code, body := x.srv.post(t, url, "application/json", `{"ping":true}`); code != http.StatusOK || body != "ok" {
		t.Fatalf("POST to the copied URL: %d %q", code, body)
	}

	// Basic Auth on, saved.
	x.click(tid("basic-auth-toggle"))
	x.fill(tid("basic-auth-username"), "shop")
	x.fill(tid("basic-auth-password"), "s3cret-pass")
	x.editorSave("trigger-save")
	doc = x.srv.api(t, "/api/v1/workflows/"+id)
	if !doc.Get("trigger.basicAuth.enabled").Bool() || doc.Get("trigger.basicAuth.username").String() != "shop" || doc.Get("trigger.basicAuth.password").String() != "s3cret-pass" {
		t.Fatalf("basic auth not saved: %s", doc.Get("trigger.basicAuth").Raw)
	}
	if code, _ := x.srv.post(t, url, "application/json", `{}`); code != http.StatusUnauthorized {
		t.Errorf("without credentials: %d, want 401", code)
	}
	authURL := x.attr(tid("copy-url-auth"), "data-copy")
	if !strings.Contains(authURL, "shop:s3cret-pass@") {
		t.Errorf("URL with credentials %q", authURL)
	}

	// Parse a JSON sample, set an alias, save.
	sample := `{"order":{"id":12345678901234567890,"status":"paid","items":[{"sku":"A-1"}]}}`
	x.fill(tid("body-sample"), sample)
	x.click(tid("parse-body"))
	x.el(tid("body-0-path"))
	paths := x.eval(`Array.from(document.querySelectorAll('[data-testid^="body-"][data-testid$="-path"]')).map(e => e.value)`)
	var list []string
	for _, p := range paths.Array() {
		list = append(list, p.String())
	}
	for _, want := range []string{"order", "order.id", "order.status", "order.items", "order.items[0]", "order.items[0].sku"} {
		if !containsString(list, want) {
			t.Errorf("parsed paths %v lack %s", list, want)
		}
	}
	i := indexOf(list, "order.id")
	x.fill(tid(fmt.Sprintf("body-%d-alias", i)), "Order ID")
	x.editorSave("trigger-save")
	doc = x.srv.api(t, "/api/v1/workflows/"+id)
	var fields []struct{ Path, Alias string }
	if err := json.Unmarshal([]byte(doc.Get("trigger.body").Raw), &fields); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range fields {
		if f.Path == "order.id" && f.Alias == "Order ID" {
			found = true
		}
	}
	if !found {
		t.Errorf("alias not saved: %s", doc.Get("trigger.body").Raw)
	}

	x.step("trigger-saved")

	// Call the URL, then find the execution through the UI.
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(sample))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("shop", "s3cret-pass")
	res, err := browserHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST with credentials: %d", res.StatusCode)
	}
	x.open("/")
	x.click(tid("last-execution-" + id))
	x.waitPath(`^/executions/\d+$`)
	x.waitText(tid("execution-status"), "resolved") // the page refreshes while queued
	body := x.text(tid("execution-request-body"))
	if !strings.Contains(body, `"id": 12345678901234567890`) || !strings.Contains(body, `"status": "paid"`) {
		t.Errorf("request body shown as %s", body)
	}
	if !strings.Contains(x.text(tid("execution-request-headers")), "authorization Basic ••••••••") {
		t.Error("request headers not shown, or the credentials not masked")
	}
	x.step("execution")
}

func containsString(list []string, s string) bool { return indexOf(list, s) >= 0 }

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// setSelect chooses an option of a <select> as a user would (change event).
func (x *bt) setSelect(selector, value string) {
	x.t.Helper()
	_, err := x.el(selector).Timeout(browserWait).Eval(`function (v) {
		this.value = v;
		this.dispatchEvent(new Event("input", {bubbles: true}));
		this.dispatchEvent(new Event("change", {bubbles: true}));
	}`, value)
	if err != nil {
		x.t.Fatalf("select %s in %s: %v", value, selector, err)
	}
	if got := x.eval(`document.querySelector(` + jsString(selector) + `).value`).String(); got != value {
		x.t.Fatalf("%s has no option %q", selector, value)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// pick opens the variable picker of an input and chooses a variable.
func (x *bt) pick(input, path string) {
	x.t.Helper()
	x.click(tid("pick-" + input))
	x.waitFor("the variable picker", func() bool {
		return x.eval(`!document.querySelector('[data-testid="var-picker"]').hidden`).Bool()
	})
	x.click(tid("var-option-" + path))
}

// addNode opens a + menu of the canvas and adds a node of typ; it returns
// the new node's key, read from its panel.
func (x *bt) addNode(insertID, typ string) string {
	x.t.Helper()
	before := ""
	if x.has(tid("panel-node-key")) {
		before = x.text(tid("panel-node-key"))
	}
	x.click(tid(insertID))
	x.click(tid(insertID + "-" + typ))
	var key string
	x.waitFor("the new "+typ+"'s panel", func() bool {
		ok, el, err := x.p().Has(tid("panel-node-key"))
		if err != nil || !ok {
			return false
		}
		key, err = el.Text()
		return err == nil && key != before && strings.HasPrefix(key, typ)
	})
	return key
}

// nodeClass is the class attribute of a node card on the page's canvas.
func (x *bt) nodeClass(key string) string {
	x.t.Helper()
	return x.attr(`[data-testid="execution-canvas"] `+tid("node-"+key), "class")
}

// TestBrowserSyncExample builds product.md §9's example by clicking: a sync
// workflow, a body sample parsed into fields, a condition on the order
// status chosen with the variable picker, and yes/no responses; then it
// posts paid and refunded orders and follows each execution's path.
func TestBrowserSyncExample(t *testing.T) {
	x := newBrowserTest(t)
	x.signIn()
	id := x.createWorkflow("Payment callback", "sync")

	// The trigger: parse a body sample, name the order id.
	x.fill(tid("body-sample"), `{"order":{"id":"A-1","status":"paid"}}`)
	x.click(tid("parse-body"))
	x.el(tid("body-0-path"))
	paths := x.eval(`Array.from(document.querySelectorAll('[data-testid^="body-"][data-testid$="-path"]')).map(e => e.value)`)
	var list []string
	for _, p := range paths.Array() {
		list = append(list, p.String())
	}
	i := indexOf(list, "order.id")
	if i < 0 || indexOf(list, "order.status") < 0 {
		t.Fatalf("parsed paths %v", list)
	}
	x.fill(tid(fmt.Sprintf("body-%d-alias", i)), "Order")
	x.editorSave("trigger-save")

	// The condition, its rule picked from the trigger's fields.
	cond := x.addNode("insert-root-main-0", "condition")
	x.fill(tid("node-title"), "Paid?")
	x.setSelect(tid("condition-mode"), "branch")
	x.click(tid("add-rule-rules"))
	x.el(tid("rules-items-0-left"))
	x.pick("rules-items-0-left", "$context.body.order.status")
	if got := x.eval(`document.querySelector('[data-testid="rules-items-0-left"]').value`).String(); got != "{{$context.body.order.status}}" {
		t.Fatalf("the picker inserted %q", got)
	}
	x.setSelect(tid("rules-items-0-op"), "equal")
	x.fill(tid("rules-items-0-right"), "paid")
	x.editorSave("node-save")
	x.step("condition-saved")

	// Yes: 200 with the order id in a header and the body.
	ok := x.addNode("insert-"+cond+"-yes-0", "response")
	x.fill(tid("response-status"), "200")
	x.click(tid("add-headers"))
	x.fill(tid("headers-0-name"), "X-Order")
	x.pick("headers-0-value", "$context.body.order.id")
	x.setSelect(tid("response-body-type"), "json")
	x.fill(tid("response-body"), `{"ok": true, "id": `)
	x.pick("body", "$context.body.order.id")
	bodyNow := x.eval(`document.querySelector('[data-testid="response-body"]').value`).String()
	x.fill(tid("response-body"), strings.Replace(bodyNow, `"id": {{$context.body.order.id}}`, `"id": "{{$context.body.order.id}}"}`, 1))
	x.editorSave("node-save")

	// No: 422 {"ok": false}.
	bad := x.addNode("insert-"+cond+"-no-0", "response")
	x.fill(tid("response-status"), "422")
	x.setSelect(tid("response-body-type"), "json")
	x.fill(tid("response-body"), `{"ok": false}`)
	x.editorSave("node-save")
	x.step("flow-built")

	// The document is §9's flow.
	doc := x.srv.api(t, "/api/v1/workflows/"+id)
	n := doc.Get("nodes.0")
	checks := map[string]string{
		"mode": "sync",
		"trigger.body.#(path==\"order.id\").alias": "Order",
	}
	for path, want := range checks {
		if got := doc.Get(path).String(); got != want {
			t.Errorf("document %s = %q, want %q", path, got, want)
		}
	}
	for path, want := range map[string]string{
		"key":                                   cond,
		"type":                                  "condition",
		"title":                                 "Paid?",
		"config.mode":                           "branch",
		"config.rules.and.0.left":               "{{$context.body.order.status}}",
		"config.rules.and.0.op":                 "equal",
		"config.rules.and.0.right":              "paid",
		"branches.yes.0.key":                    ok,
		"branches.yes.0.config.status":          "200",
		"branches.yes.0.config.headers.0.name":  "X-Order",
		"branches.yes.0.config.headers.0.value": "{{$context.body.order.id}}",
		"branches.no.0.key":                     bad,
		"branches.no.0.config.status":           "422",
	} {
		if got := n.Get(path).String(); got != want {
			t.Errorf("node %s = %q, want %q", path, got, want)
		}
	}
	if got := n.Get("branches.yes.0.config.body").Raw; !jsonEqual(got, `{"ok":true,"id":"{{$context.body.order.id}}"}`) {
		t.Errorf("yes body %s", got)
	}
	if got := n.Get("branches.no.0.config.body").Raw; !jsonEqual(got, `{"ok":false}`) {
		t.Errorf("no body %s", got)
	}
	if t.Failed() {
		t.Fatalf("document: %s", doc.Raw)
	}

	// Call it: a paid order and a refunded one.
	url := doc.Get("url").String()
	paidReq, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"order":{"id":12345678901234567890,"status":"paid"}}`))
	paidReq.Header.Set("Content-Type", "application/json")
	res, err := browserHTTP.Do(paidReq)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("X-Order") != "12345678901234567890" || !jsonEqual(string(b), `{"ok":true,"id":12345678901234567890}`) {
		t.Errorf("paid order: %d X-Order %q %s", res.StatusCode, res.Header.Get("X-Order"), b)
	}
	code, body := x.srv.post(t, url, "application/json", `{"order":{"id":7,"status":"refunded"}}`)
	if code != 422 || !jsonEqual(body, `{"ok":false}`) {
		t.Errorf("refunded order: %d %s", code, body)
	}

	// Find them in the UI and follow the path each took.
	x.open("/workflows/" + id + "/executions")
	rows := x.eval(`Array.from(document.querySelectorAll('[data-testid^="execution-row-"] a')).map(a => a.getAttribute("href"))`).Array()
	if len(rows) != 2 {
		t.Fatalf("%d executions listed, want 2", len(rows))
	}
	x.click(`a[href="` + rows[0].String() + `"]`) // newest first: refunded
	x.waitPath(`^/executions/\d+$`)
	x.waitText(tid("execution-status"), "resolved")
	if !strings.Contains(x.text(tid("execution-request-body")), `"status": "refunded"`) {
		t.Error("refunded execution shows another request")
	}
	if c := x.nodeClass(cond); !strings.Contains(c, "on-path") {
		t.Errorf("condition not on the path: %s", c)
	}
	if c := x.nodeClass(bad); !strings.Contains(c, "on-path") {
		t.Errorf("no response not on the path: %s", c)
	}
	if c := x.nodeClass(ok); !strings.Contains(c, "off-path") {
		t.Errorf("yes response not dimmed: %s", c)
	}
	if !strings.Contains(x.attr(tid("branch-"+cond+"-no"), "class"), "on-path") {
		t.Error("the no branch is not highlighted")
	}
	x.waitText(tid("execution-response-status"), "422")
	x.el(tid("job-" + bad))
	x.step("refunded-execution")

	x.open(rows[1].String())
	x.waitText(tid("execution-status"), "resolved")
	if c := x.nodeClass(ok); !strings.Contains(c, "on-path") {
		t.Errorf("yes response not on the path: %s", c)
	}
	if c := x.nodeClass(bad); !strings.Contains(c, "off-path") {
		t.Errorf("no response not dimmed: %s", c)
	}
	if !strings.Contains(x.attr(tid("branch-"+cond+"-yes"), "class"), "on-path") {
		t.Error("the yes branch is not highlighted")
	}
	if got := x.text(tid("execution-path-text")); !strings.Contains(got, "Trigger → Paid? (yes) → "+ok) {
		t.Errorf("path in words: %s", got)
	}
	reply := x.text(tid("execution-response"))
	if !strings.Contains(reply, "X-Order 12345678901234567890") {
		t.Errorf("reply shown as %s", reply)
	}
	x.step("paid-execution")
}

// jsonEqual compares two JSON texts by value, numbers as written.
func jsonEqual(a, b string) bool {
	var x, y any
	da, db := json.NewDecoder(strings.NewReader(a)), json.NewDecoder(strings.NewReader(b))
	da.UseNumber()
	db.UseNumber()
	if da.Decode(&x) != nil || db.Decode(&y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}
