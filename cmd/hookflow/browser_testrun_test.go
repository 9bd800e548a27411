package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-rod/rod/lib/proto"
	"github.com/hookflow/hookflow/engine"
)

// Browser tests of issue 16 (test runs, templates) and of issue 11's
// trigger panel (verify the sender, listen for a request).

// docShot saves the page as docs/<name>.png when HOOKFLOW_DOC_SHOTS=1
// (make screenshots), else in a temporary directory; either way the image
// is checked to be a PNG of the page's width. The README's screenshots
// come from here, so that they can be taken again after a UI change.
func (x *bt) docShot(name string) {
	x.t.Helper()
	img, err := x.page.Timeout(browserWait).Screenshot(true, &proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng})
	if err != nil {
		x.t.Fatalf("screenshot: %v", err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(img))
	// The viewport is 1280 wide, less a scroll bar.
	if err != nil || cfg.Width < 1200 || cfg.Width > 1280 {
		x.t.Fatalf("screenshot: not a PNG of the 1280 viewport (%v, %d)", err, cfg.Width)
	}
	dir := x.t.TempDir()
	if os.Getenv("HOOKFLOW_DOC_SHOTS") == "1" {
		dir = filepath.Join("..", "..", "docs")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			x.t.Fatal(err)
		}
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		x.t.Fatal(err)
	}
	x.t.Logf("screenshot %s", path)
}

// runTest clicks Run test and waits for the result's path in words.
func (x *bt) runTest() string {
	x.t.Helper()
	before := ""
	if x.has(tid("test-path")) {
		before = x.text(tid("test-path"))
	}
	x.eval(`document.querySelector('[data-testid="test-announce"]').textContent = ""`)
	x.click(tid("test-run"))
	var got string
	x.waitFor("the test result", func() bool {
		if !x.has(tid("test-path")) {
			return false
		}
		got = x.text(tid("test-path"))
		return got != before || x.eval(`document.querySelector('[data-testid="test-announce"]').textContent`).String() != ""
	})
	return got
}

// TestBrowserTemplates creates a workflow from each template by clicking,
// runs its test on its samples and sees the path and the reply on the
// canvas, announced; the Stripe one is the README's screenshot.
func TestBrowserTemplates(t *testing.T) {
	x := newBrowserTest(t)
	x.signIn()
	for _, tpl := range engine.Templates() {
		x.open("/")
		x.waitText(tid("template-"+tpl.Name), tpl.Title)
		x.click(tid("use-template-" + tpl.Name))
		id := strings.TrimPrefix(x.waitPath(`^/workflows/\d+$`), "/workflows/")
		x.waitText(tid("flash-success"), "created from a template")
		if got := x.eval(`document.querySelector('[data-testid="test-input"]').value`).String(); got != "samples" {
			t.Errorf("%s: the test runs on %q, want the samples", tpl.Name, got)
		}
		path := x.runTest()
		if !strings.HasPrefix(path, "Ran: ") || !regexp.MustCompile(`; reply 2\d\d\.$`).MatchString(path) {
			t.Errorf("%s: path %q", tpl.Name, path)
		}
		if got := x.text(tid("test-status-badge")); got != "resolved" {
			t.Errorf("%s: status %q", tpl.Name, got)
		}
		if got := x.text(tid("execution-response-status")); !strings.HasPrefix(got, "2") {
			t.Errorf("%s: reply %q", tpl.Name, got)
		}
		// The canvas: the first step ran, the others either ran or say
		// they did not.
		ran := x.eval(`document.querySelectorAll('#canvas-region .node.on-path:not(.node-trigger)').length`).Int()
		cards := x.eval(`document.querySelectorAll('#canvas-region .node:not(.node-trigger)').length`).Int()
		notRun := x.eval(`document.querySelectorAll('#canvas-region [data-testid^="node-not-run-"]').length`).Int()
		if ran == 0 || ran+notRun != cards {
			t.Errorf("%s: %d cards, %d on the path, %d did not run", tpl.Name, cards, ran, notRun)
		}
		x.waitFor("the announcement", func() bool {
			return strings.HasPrefix(x.eval(`document.querySelector('[data-testid="test-announce"]').textContent`).String(), "Test run resolved. Ran: ")
		})
		if tpl.Name == "stripe-payment-callback" {
			// The flash would cover the reply.
			x.eval(`document.querySelectorAll('#flash .flash').forEach(f => f.remove())`)
			x.docShot("test-run")
		}
		if list := x.srv.api(t, "/api/v1/workflows/"+id+"/executions"); len(list.Get("items").Array()) != 0 {
			t.Errorf("%s: the test run was stored", tpl.Name)
		}
	}
}

// TestBrowserTestRunRequests: a test run sends nothing to the (loopback)
// target of a request step unless the step is set to run for real, and a
// pinned reply reaches the steps after it. The settings are made by
// clicking in the step's panel.
func TestBrowserTestRunRequests(t *testing.T) {
	x := newBrowserTest(t)
	t.Cleanup(func() {
		_, _ = x.page.Timeout(browserWait).Eval(`() => document.querySelectorAll("form[data-unsaved]").forEach(f => f.removeAttribute("data-unsaved"))`)
	})
	var hits atomic.Int32
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"price":7}`)
	}))
	t.Cleanup(sink.Close)
	x.signIn()
	w := x.srv.apiPost(t, "/api/v1/workflows", `{"title":"Prices","mode":"sync","trigger":{"samples":{"body":"{\"item\":\"book\"}"}},"nodes":[
		{"key":"price","type":"request","title":"Get price","config":{"method":"GET","url":"`+sink.URL+`/price/{{$context.body.item}}"}},
		{"key":"answer","type":"response","config":{"status":200,"body":{"price":"{{$jobsMapByNodeKey.price.body.price}}"}}}]}`)
	id := w.Get("id").String()
	x.open("/workflows/" + id)

	// Not sent: the card says so, the call shows what it would send.
	if path := x.runTest(); path != "Ran: Get price → answer; reply 200." {
		t.Errorf("path %q", path)
	}
	if hits.Load() != 0 {
		t.Fatalf("a test run sent %d requests", hits.Load())
	}
	x.waitText(tid("node-note-price"), "not sent (test)")
	x.waitText(tid("call-sent-price"), "Request it would send: GET")
	x.waitText(tid("call-line-price"), sink.URL+"/price/book")

	// Pin a reply, by clicking: later steps see it.
	x.click(tid("node-price"))
	x.el(tid("request-test"))
	x.click(tid("request-test-pin"))
	x.fill(tid("test-pin-status"), "200")
	x.fill(tid("pin-body"), `{"price": 42}`)
	x.el(tid("request-test")).MustScrollIntoView()
	x.step("pin")
	// The Test bar says the unsaved changes are not tested.
	x.waitFor("the unsaved note", func() bool { return x.eval(`!document.getElementById("test-unsaved").hidden`).Bool() })
	x.editorSave("node-save")
	x.waitFor("the note to go", func() bool { return x.eval(`document.getElementById("test-unsaved").hidden`).Bool() })
	x.runTest()
	x.waitText(tid("node-note-price"), "pinned reply 200")
	x.waitText(tid("execution-response-body"), `"price": 42`)
	if hits.Load() != 0 {
		t.Fatalf("a pinned step sent %d requests", hits.Load())
	}

	// For real: the loopback target gets the call, and its reply goes on.
	x.click(tid("request-test-run"))
	x.editorSave("node-save")
	if got := x.srv.api(t, "/api/v1/workflows/"+id).Get(`nodes.#(key=="price").test`).Raw; got != `{"run":true}` {
		t.Fatalf("saved test setting %s", got)
	}
	x.runTest()
	x.waitText(tid("node-note-price"), "sent: 200")
	x.waitText(tid("execution-response-body"), `"price": 7`)
	if hits.Load() != 1 {
		t.Errorf("a step set to run for real sent %d requests, want 1", hits.Load())
	}
}

// stripeSign signs a body as Stripe does.
func stripeSign(secret, body string, at time.Time) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "." + body))
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// TestBrowserStripeVerify sets up a Stripe-verified workflow by clicking:
// the sender's preset, its secret, its dedupe key in one click. A
// correctly signed request gets 200, a wrongly signed one 401, which shows
// on the executions page; the stored secret is never shown back.
func TestBrowserStripeVerify(t *testing.T) {
	x := newBrowserTest(t)
	x.signIn()
	id := x.createWorkflow("Stripe payments", "async")
	const secret = "whsec_browser_5ecret"

	x.setSelect(tid("verify-type"), "stripe")
	x.el(tid("verify-secret-0"))
	x.waitText(tid("verify-where"), "Stripe: Developers → Webhooks → your endpoint → Signing secret")
	if x.has(tid("verify-header")) {
		t.Error("the Stripe preset shows a header field")
	}
	x.el(tid("verify-toleranceSeconds"))
	x.fill(tid("verify-secret-0"), secret)
	x.click(tid("use-dedupe-suggestion"))
	x.waitFor("the dedupe key", func() bool {
		return x.eval(`(document.querySelector('[data-testid="dedupe-key"]') || {}).value`).String() == "{{$context.body.id}}"
	})
	x.editorSave("trigger-save")
	doc := x.srv.api(t, "/api/v1/workflows/"+id)
	if doc.Get("trigger.verify.type").Str != "stripe" || doc.Get("trigger.verify.secret").Str != secret || doc.Get("trigger.dedupe.key").Str != "{{$context.body.id}}" {
		t.Fatalf("saved trigger %s", doc.Get("trigger").Raw)
	}
	// Reloaded, the secret is stored, not shown.
	x.open("/workflows/" + id)
	if v := x.attr(tid("verify-secret-0"), "placeholder"); v != "stored; type to replace" {
		t.Errorf("placeholder %q", v)
	}
	if html := x.eval(`document.documentElement.outerHTML`).String(); strings.Contains(html, secret) {
		t.Fatal("the page holds the stored secret")
	}
	x.step("stripe-verify")

	url := x.attr(tid("copy-url"), "data-copy")
	send := func(key string) int {
		body := `{"id":"evt_browser_1","type":"checkout.session.completed"}`
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Signature", stripeSign(key, body, time.Now()))
		res, err := browserHTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if st := send(secret); st != http.StatusOK {
		t.Errorf("correctly signed: %d", st)
	}
	if st := send("whsec_wrong"); st != http.StatusUnauthorized {
		t.Errorf("wrongly signed: %d", st)
	}
	x.click(tid("executions-link"))
	x.waitPath(`^/workflows/\d+/executions$`)
	x.waitText(tid("rejection-summary"), "refused in the last hour: signature does not match")
	if n := x.eval(`document.querySelectorAll('[data-testid^="execution-row-"]').length`).Int(); n != 1 {
		t.Errorf("%d executions, want the signed one", n)
	}
}

// TestBrowserListen captures a live request by clicking: the countdown,
// the captured request, "Use as samples", and a test run on it.
func TestBrowserListen(t *testing.T) {
	x := newBrowserTest(t)
	t.Cleanup(func() {
		_, _ = x.page.Timeout(browserWait).Eval(`() => document.querySelectorAll("form[data-unsaved]").forEach(f => f.removeAttribute("data-unsaved"))`)
	})
	x.signIn()
	id := x.createWorkflow("Live orders", "async")
	url := x.attr(tid("copy-url"), "data-copy")

	x.click(tid("listen-start"))
	x.el(tid("listen-waiting"))
	if role := x.attr(tid("listen-timer"), "role"); role != "timer" {
		t.Errorf("timer role %q", role)
	}
	if left := x.text(tid("listen-left")); !regexp.MustCompile(`^[12]:\d\d$`).MatchString(left) {
		t.Errorf("time left %q", left)
	}
	x.waitText(tid("listen-status"), "Listening for 2 minutes")
	if got := x.eval(`document.activeElement.dataset.testid`).String(); got != "listen-stop" {
		t.Errorf("focus on %q after starting, want the stop button", got)
	}
	x.step("listening")

	req, _ := http.NewRequest(http.MethodPost, url+"?source=shop", strings.NewReader(`{"order":{"id":12345678901234567890,"status":"paid"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", "live-1")
	res, err := browserHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	x.el(tid("listen-captured"))
	x.waitText(tid("listen-status"), "Request captured")
	x.waitText(tid("listen-body"), "12345678901234567890")
	x.waitFor("focus on Use as samples", func() bool {
		return x.eval(`document.activeElement.dataset.testid`).String() == "listen-use-samples"
	})
	x.step("captured")
	x.click(tid("listen-use-samples"))
	x.waitText(tid("flash-region"), "Samples taken from the captured request")
	if got := x.eval(`document.querySelector('[data-testid="headers-sample"]').value`).String(); !strings.Contains(got, "x-request-id: live-1") {
		t.Errorf("headers sample %q", got)
	}
	x.el(tid("body-1-path"))
	x.el(tid("query-0-path"))
	x.editorSave("trigger-save")
	doc := x.srv.api(t, "/api/v1/workflows/"+id)
	if s := doc.Get("trigger.samples"); s.Get("query").Str != "source=shop" || !strings.Contains(s.Get("body").Str, "12345678901234567890") || s.Get("headers.x-request-id").Str != "live-1" {
		t.Errorf("saved samples %s", s.Raw)
	}
	if got := doc.Get("trigger.body.#.path").Raw; got != `["order","order.id","order.status"]` {
		t.Errorf("body fields %s", got)
	}

	// The capture is also a test input.
	if opts := x.eval(`[...document.querySelectorAll('[data-testid="test-input"] option')].map(o => o.value)`).Raw; !strings.Contains(opts, `"capture:`) {
		t.Errorf("test inputs %s", opts)
	}
	x.setSelect(tid("test-input"), x.eval(`document.querySelector('[data-testid="test-input"] option[value^="capture:"]').value`).String())
	if path := x.runTest(); path != "Ran: no step; reply 200." {
		t.Errorf("test on the capture: %q", path)
	}
	x.waitText(tid("test-summary"), "the request captured at")
}
