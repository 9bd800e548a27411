package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// apiPost calls the admin API with the test's token and returns the JSON.
func (s *browserServer) apiPost(t *testing.T, path, body string) gjson.Result {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := browserHTTP.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %d %s", path, res.StatusCode, b)
	}
	return gjson.ParseBytes(b)
}

// TestBrowserRefusedRequests: a Stripe sender whose signature does not
// match shows above the executions ("3 requests refused in the last hour:
// signature does not match"), the line links to the refused requests, and
// a retried delivery shows as a duplicate on the first execution's page.
func TestBrowserRefusedRequests(t *testing.T) {
	x := newBrowserTest(t)
	x.signIn()
	w := x.srv.apiPost(t, "/api/v1/workflows", `{"title":"Stripe payments","mode":"async",
		"trigger":{"verify":{"type":"stripe","secret":"whsec_browser"},"dedupe":{"key":"{{$context.body.id}}"}},"nodes":[]}`)
	id, url := w.Get("id").Int(), w.Get("url").Str
	url = x.srv.base + url[strings.Index(url, "/api/webhook"):]
	send := func(secret string) int {
		body := `{"id":"evt_1","type":"checkout.session.completed"}`
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(ts + "." + body))
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Signature", "t="+ts+",v1="+hex.EncodeToString(m.Sum(nil)))
		res, err := browserHTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for range 3 {
		if st := send("whsec_wrong"); st != http.StatusUnauthorized {
			t.Fatalf("wrong secret: %d", st)
		}
	}
	for range 2 {
		if st := send("whsec_browser"); st != http.StatusOK {
			t.Fatalf("right secret: %d", st)
		}
	}
	x.open("/workflows/" + strconv.FormatInt(id, 10) + "/executions")
	x.waitText(tid("rejection-summary"), "3 requests refused in the last hour: signature does not match")
	x.step("summary")
	x.click(tid("rejection-link"))
	x.waitPath(`^/workflows/\d+/rejections$`)
	x.waitFor("three refused requests", func() bool {
		return x.eval(`document.querySelectorAll('[data-testid="rejection-row"]').length`).Int() == 3
	})
	if got := x.text(tid("rejection-reason")); got != "signature" {
		t.Errorf("reason %q", got)
	}
	x.step("list")
	list := x.srv.api(t, "/api/v1/workflows/"+strconv.FormatInt(id, 10)+"/executions")
	x.open("/executions/" + list.Get("items.0.id").String())
	x.waitText(tid("execution-duplicates"), "1 retry with the same dedupe key got this execution's reply")
	x.step("duplicates")
}
