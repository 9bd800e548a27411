package main

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// BenchmarkPages times the pages that show activity (issue 15, point 6)
// with 1,000,000 executions of one workflow stored: the executions page in
// its three ranges, the workflows list and the editor, served by the real
// server on 127.0.0.1 to a signed-in client that accepts compressed
// replies, beside the same pages of a workflow without executions. Run it
// on demand (filling the store takes about half a minute):
//
//	go test -run '^$' -bench BenchmarkPages -benchtime 30x ./cmd/hookflow/
//
// ms/page is the median time to the last byte, p95-ms the 95th
// percentile, B/page the bytes on the wire. It asserts no time.
func BenchmarkPages(b *testing.B) {
	const n = 1_000_000
	srv := startBrowserServer(b)
	client := pagesClient(b, srv)
	full := pagesWorkflow(b, srv, "A million executions")
	empty := pagesWorkflow(b, srv, "No executions")
	t0 := time.Now()
	now := time.Now()
	var batches []fillBatch
	const per = 100_000 // rows per transaction
	for i := 0; i < n/per; i++ {
		to := now.Add(-time.Duration(i) * 8 * 24 * time.Hour / (n / per))
		batches = append(batches, fillBatch{N: per, To: to, From: to.Add(-8 * 24 * time.Hour / (n / per)), FailEvery: 50})
	}
	fillExecutions(b, srv, full, batches)
	b.Logf("stored %d executions and their activity counters in %.1f s", n, time.Since(t0).Seconds())

	pages := []struct{ name, path string }{
		{"executions-24h", "/workflows/%s/executions"},
		{"executions-1h", "/workflows/%s/executions?chart=1h"},
		{"executions-7d", "/workflows/%s/executions?chart=7d"},
		{"executions-table-refresh", "/workflows/%s/executions"}, // htmx: the table alone
		{"editor", "/workflows/%s"},
		{"list", "/"},
	}
	for _, wf := range []struct{ name, id string }{{"1M", full}, {"empty", empty}} {
		for _, p := range pages {
			if p.name == "list" && wf.name == "empty" {
				continue // one list holds both
			}
			path := p.path
			if strings.Contains(path, "%s") {
				path = fmt.Sprintf(path, wf.id)
			}
			htmx := strings.HasSuffix(p.name, "-refresh")
			b.Run(wf.name+"/"+p.name, func(b *testing.B) {
				var times []time.Duration
				size := 0
				for b.Loop() {
					t := time.Now()
					size = pagesGet(b, client, srv.base+path, htmx)
					times = append(times, time.Since(t))
				}
				slices.Sort(times)
				b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms/page")
				b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
				b.ReportMetric(float64(size), "B/page")
			})
		}
	}
}

// pagesClient signs in through the form and keeps the session cookie.
func pagesClient(tb testing.TB, srv *browserServer) *http.Client {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: time.Minute}
	res, err := c.Get(srv.base + "/signin")
	if err != nil {
		tb.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="_csrf" value="([^"]*)"`).FindSubmatch(b)
	if m == nil {
		tb.Fatal("no CSRF field on /signin")
	}
	res, err = c.PostForm(srv.base+"/signin", url.Values{"email": {browserEmail}, "password": {browserPassword}, "_csrf": {html.UnescapeString(string(m[1]))}})
	if err != nil {
		tb.Fatal(err)
	}
	res.Body.Close()
	if res.Request.URL.Path != "/" {
		tb.Fatalf("sign-in ended on %s", res.Request.URL)
	}
	return c
}

// pagesWorkflow creates a sync workflow through the API and sends it one
// request, whose execution the fill copies.
func pagesWorkflow(tb testing.TB, srv *browserServer, title string) string {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.base+"/api/v1/workflows", strings.NewReader(`{"title": "`+title+`", "mode": "sync", "nodes": [
		{"key": "paid", "type": "condition", "config": {"mode": "continue", "rules": {"and": [{"left": "{{$context.body.order.status}}", "op": "equal", "right": "paid"}]}}},
		{"key": "ok", "type": "response", "config": {"status": 200, "body": {"ok": true}}}]}`))
	req.Header.Set("Authorization", "Bearer "+srv.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := browserHTTP.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		tb.Fatalf("create workflow: %d %s", res.StatusCode, body)
	}
	doc := gjson.ParseBytes(body)
	hook, err := browserHTTP.Post(doc.Get("url").String(), "application/json", strings.NewReader(`{"order":{"id":1,"status":"paid"}}`))
	if err != nil {
		tb.Fatal(err)
	}
	hook.Body.Close()
	return doc.Get("id").String()
}

// pagesGet loads a page as a browser would (compressed, as htmx for a
// refresh) and returns the bytes received.
func pagesGet(tb testing.TB, c *http.Client, u string, htmx bool) int {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept-Encoding", "br, gzip")
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	res, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: %d", u, res.StatusCode)
	}
	return int(n)
}
