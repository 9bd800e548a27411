package main

import (
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod/lib/proto"
)

// screenshotPath is the README's picture of the executions page.
var screenshotPath = filepath.Join("..", "..", "docs", "executions-page.png")

// screenshotDoc is the README's workflow: a payment callback behind Basic
// Auth that accepts paid orders.
const screenshotDoc = `{"title": "Payment callback", "mode": "sync",
 "trigger": {"basicAuth": {"enabled": true, "username": "shop", "password": "s3cret"}, "body": [{"path": "order.id", "alias": "Order"}]},
 "nodes": [
  {"key": "paid", "type": "condition", "title": "Paid?", "config": {"mode": "continue", "rules": {"and": [
    {"left": "{{$context.body.order.status}}", "op": "equal", "right": "paid"}]}}},
  {"key": "ok", "type": "response", "title": "Accept", "config": {"status": 200, "body": {"ok": true, "id": "{{$context.body.order.id}}"}}}]}`

// TestBrowserExecutionsScreenshot takes the README's screenshot of the
// executions page: a day of traffic with a busy afternoon and a bad hour,
// stored in SQL, and a few real requests on top (paid, refused by the
// flow, refused for missing credentials), in Chromium at 1280×960; axe
// checks the page with that chart. The picture goes to
// docs/executions-page.png with HOOKFLOW_DOC_SHOTS=1 (make screenshots),
// else to a temporary directory. The traffic's shape is fixed, so a new
// picture differs only where the page does.
func TestBrowserExecutionsScreenshot(t *testing.T) {
	x := newBrowserTest(t)
	x.signIn()
	code, doc := x.srv.apiDo(t, http.MethodPost, "/api/v1/workflows", screenshotDoc)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, doc.Raw)
	}
	wf, url := doc.Get("id").String(), doc.Get("url").String()
	send := func(status string, auth bool) {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"order":{"id":"A-1042","status":"`+status+`"}}`))
		req.Header.Set("Content-Type", "application/json")
		if auth {
			req.SetBasicAuth("shop", "s3cret")
		}
		res, err := browserHTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	send("paid", true) // the template of the day's traffic

	// 23 hours before this one: quiet nights, busy afternoons (UTC), and
	// one hour five hours ago where a third failed.
	now := time.Now()
	hour := now.Truncate(time.Hour)
	var batches []fillBatch
	for h := 1; h <= 23; h++ {
		start := hour.Add(-time.Duration(h) * time.Hour)
		day := float64(start.UTC().Hour()) + 0.5
		n := 30 + int(180*math.Max(0, math.Sin(math.Pi*(day-7)/14))) + (h*37)%23
		fail := 60
		if h == 5 {
			fail = 3
		}
		batches = append(batches, fillBatch{N: n, From: start, To: start.Add(time.Hour), FailEvery: fail})
	}
	fillExecutions(t, x.srv, wf, batches)
	for _, s := range []string{"paid", "paid", "refunded", "paid", "paid", "paid", "pending", "paid"} {
		send(s, true)
	}
	for range 3 {
		send("paid", false) // 401: no credentials
	}

	x.viewport(1280, 960)
	x.colorScheme("light", false)
	x.open("/workflows/" + wf + "/executions")
	x.waitText(tid("activity-summary"), "requests in the last 24 hours")
	x.el(tid("rejection-summary"))
	x.axe("executions with a day of traffic")
	img, err := proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng}.Call(x.p())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "executions-page.png")
	if os.Getenv("HOOKFLOW_DOC_SHOTS") == "1" {
		path = screenshotPath
	}
	if err := os.WriteFile(path, img.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", path, len(img.Data))
}
