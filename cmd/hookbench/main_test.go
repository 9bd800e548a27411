package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

func TestHistogramBuckets(t *testing.T) {
	t.Parallel()
	prev := -1
	for _, v := range []int64{0, 1, 63, 127, 128, 129, 200, 255, 256, 1000, 4095, 4096, 123456, 1e6, 1e9, 1e12, math.MaxInt64 / 2, math.MaxInt64} {
		i := bucketOf(v)
		if i < prev {
			t.Errorf("bucketOf(%d) = %d, below the bucket of a smaller value (%d)", v, i, prev)
		}
		prev = i
		if i < 0 || i >= histBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of range", v, i)
		}
		if lo, hi := bucketLow(i), bucketHigh(i); v < lo || v > hi {
			t.Errorf("value %d in bucket %d = [%d, %d]", v, i, lo, hi)
		}
		if lo := bucketLow(i); lo > 128 && float64(bucketHigh(i)-lo) > float64(lo)/64 {
			t.Errorf("bucket %d = [%d, %d] wider than 1/64 of its value", i, lo, bucketHigh(i))
		}
	}
	// Buckets tile the values: each starts right after the previous one.
	for i := 1; i < histBuckets; i++ {
		if bucketLow(i) != bucketHigh(i-1)+1 {
			t.Fatalf("gap between bucket %d (ends %d) and %d (starts %d)", i-1, bucketHigh(i-1), i, bucketLow(i))
		}
		if bucketOf(bucketLow(i)) != i {
			t.Fatalf("bucketOf(bucketLow(%d)) = %d", i, bucketOf(bucketLow(i)))
		}
	}
}

func TestHistogramPercentiles(t *testing.T) {
	t.Parallel()
	// 1..100000 µs, recorded in ns, in two halves merged afterwards.
	var a, b histogram
	for v := int64(1); v <= 100000; v++ {
		if v%2 == 0 {
			a.record(v * 1000)
		} else {
			b.record(v * 1000)
		}
	}
	var h histogram
	h.merge(&a)
	h.merge(&b)
	if h.n != 100000 {
		t.Fatalf("count = %d, want 100000", h.n)
	}
	for _, c := range []struct {
		q    float64
		want float64 // ns
	}{{0.5, 50000e3}, {0.9, 90000e3}, {0.99, 99000e3}, {0.999, 99900e3}} {
		got := float64(h.quantile(c.q))
		if got < c.want || got > c.want*(1+1.0/64) {
			t.Errorf("p%g = %.0f, want %.0f within +1/64", c.q*100, got, c.want)
		}
	}
	if h.quantile(1) != 100000e3 || h.max != 100000e3 || h.min != 1000 {
		t.Errorf("p100 %d, max %d, min %d", h.quantile(1), h.max, h.min)
	}
	if m := h.mean(); math.Abs(m-50000.5e3) > 1 {
		t.Errorf("mean = %f", m)
	}
	// Small and single samples: exact, never above the maximum.
	var s histogram
	s.record(7)
	if s.quantile(0.5) != 7 || s.quantile(0.99) != 7 {
		t.Errorf("single sample: p50 %d p99 %d", s.quantile(0.5), s.quantile(0.99))
	}
	var e histogram
	if e.quantile(0.99) != 0 || e.mean() != 0 {
		t.Error("empty histogram must report 0")
	}
	// Skewed: 99 fast, 1 slow.
	var k histogram
	for i := 0; i < 99; i++ {
		k.record(1e6)
	}
	k.record(50e6)
	if p := k.quantile(0.99); p > 1e6*(1+1.0/64) {
		t.Errorf("p99 of 99×1ms + 1×50ms = %d, want about 1 ms", p)
	}
	if p := k.quantile(0.999); p != 50e6 {
		t.Errorf("p99.9 = %d, want 50 ms", p)
	}
}

func TestCheckTarget(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		url  string
		dial string // "" means refused
	}{
		{"http://127.0.0.1:13000/api/webhook:trigger/abc", "127.0.0.1:13000"},
		{"http://localhost:8080/x", "127.0.0.1:8080"},
		{"http://LOCALHOST:8080/x", "127.0.0.1:8080"},
		{"http://127.0.0.1/", "127.0.0.1:80"},
		{"http://127.1.2.3:9/", "127.1.2.3:9"},
		{"http://[::1]:9000/", "[::1]:9000"},
		{"http://example.com/", ""},
		{"http://10.0.0.1:80/", ""},
		{"http://192.168.1.10:13000/", ""},
		{"http://0.0.0.0:13000/", ""},
		{"http://[::]:13000/", ""},
		{"http://localhost.example.com/", ""},
		{"http://127.0.0.1.nip.io/", ""},
		{"http://8.8.8.8/", ""},
		{"https://127.0.0.1/", ""},
		{"ftp://127.0.0.1/", ""},
		{"http://user:pw@127.0.0.1/", ""},
		{"127.0.0.1:80", ""},
		{"", ""},
	} {
		_, dial, err := checkTarget(c.url)
		if c.dial == "" {
			if err == nil {
				t.Errorf("checkTarget(%q) accepted, want refused", c.url)
			}
			continue
		}
		if err != nil || dial != c.dial {
			t.Errorf("checkTarget(%q) = %q, %v; want %q", c.url, dial, err, c.dial)
		}
	}
	for host, ok := range map[string]bool{"127.0.0.1": true, "::1": true, "[::1]": true, "localhost": true, "0.0.0.0": false, "": false, "example.com": false} {
		if loopbackHost(host) != ok {
			t.Errorf("loopbackHost(%q) = %v", host, !ok)
		}
	}
}

func TestLoadRefusesOtherHosts(t *testing.T) {
	t.Parallel()
	_, err := runLoad(context.Background(), loadConfig{URLs: []string{"http://93.184.216.34/"}, Connections: 1, Duration: time.Second})
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("err = %v, want refused", err)
	}
	var out, errb bytes.Buffer
	err = run(context.Background(), []string{"baseline", "--addr", "0.0.0.0:0"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("baseline on 0.0.0.0: err = %v, want refused", err)
	}
}

func TestParseExpect(t *testing.T) {
	t.Parallel()
	f, err := parseExpect("2xx, 422")
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[int]bool{200: true, 204: true, 299: true, 422: true, 400: false, 500: false, 301: false} {
		if f(s) != want {
			t.Errorf("expect(%d) = %v", s, !want)
		}
	}
	for _, bad := range []string{"2yy", "99", "600", "abc"} {
		if _, err := parseExpect(bad); err == nil {
			t.Errorf("parseExpect(%q) accepted", bad)
		}
	}
}

func TestReadResponse(t *testing.T) {
	t.Parallel()
	stream := "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello" +
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 422 Unprocessable Entity\r\ncontent-length: 0\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=1\r\nabc\r\n0\r\nT: 1\r\n\r\n" +
		"HTTP/1.1 204 No Content\r\n\r\n" +
		"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno" +
		"HTTP/1.0 200 OK\r\n\r\nrest of stream"
	br := bufio.NewReader(strings.NewReader(stream))
	for i, want := range []struct {
		status int
		close  bool
	}{{200, false}, {422, false}, {200, false}, {204, false}, {503, true}, {200, true}} {
		st, cl, err := readResponse(br)
		if err != nil || st != want.status || cl != want.close {
			t.Fatalf("response %d: %d close=%v err=%v; want %d close=%v", i, st, cl, err, want.status, want.close)
		}
	}
	if _, _, err := readResponse(bufio.NewReader(strings.NewReader("garbage\r\n"))); err == nil {
		t.Error("garbage accepted")
	}
}

func TestBuildRequest(t *testing.T) {
	t.Parallel()
	u, _, err := checkTarget("http://127.0.0.1:9/api/webhook:trigger/k?a=1")
	if err != nil {
		t.Fatal(err)
	}
	got := string(buildRequest("POST", u, []byte(`{}`), []header{{"Content-Type", "application/json"}, basicHeader("hook:s3cret")}))
	want := "POST /api/webhook:trigger/k?a=1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\nUser-Agent: hookbench\r\n" +
		"Content-Type: application/json\r\nAuthorization: Basic aG9vazpzM2NyZXQ=\r\nContent-Length: 2\r\n\r\n{}"
	if got != want {
		t.Errorf("request:\n%q\nwant\n%q", got, want)
	}
}

func TestFormatTable(t *testing.T) {
	t.Parallel()
	got := formatTable([]row{
		{Scenario: "(a) baseline", Conns: 64, RPS: 31234.4, P50: 1900 * time.Microsecond, P99: 5 * time.Millisecond, RSS: 16 << 20, CPUPerReq: 25 * time.Microsecond, Stored: -1},
		{Scenario: "(b) async accept", Conns: 64, RPS: 20100, P50: 3 * time.Millisecond, P99: 9870 * time.Microsecond, Errors: 1234, Ratio: 0.6435, RSS: 40<<20 + 700<<10, Stored: 0},
		{Scenario: "(d) drain", RPS: 1234567, Stored: 1000000},
	})
	want := `| scenario         | connections | requests/s |     p50 |     p99 | errors | ratio to baseline | server RSS | server CPU/req | executions stored |
| ---------------- | ----------: | ---------: | ------: | ------: | -----: | ----------------: | ---------: | -------------: | ----------------: |
| (a) baseline     |          64 |     31,234 | 1.90 ms | 5.00 ms |      0 |                 – |      16 MB |          25 µs |                 – |
| (b) async accept |          64 |     20,100 | 3.00 ms | 9.87 ms |  1,234 |             0.64× |      41 MB |              – |                 0 |
| (d) drain        |           – |  1,234,567 |       – |       – |      0 |                 – |          – |              – |         1,000,000 |
`
	if got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
	for v, s := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.6: "1,234,568", -4321: "-4,321"} {
		if fmtThousands(v) != s {
			t.Errorf("fmtThousands(%v) = %q, want %q", v, fmtThousands(v), s)
		}
	}
}

func TestParseVmRSS(t *testing.T) {
	t.Parallel()
	n, err := parseVmRSS([]byte("Name:\thookflow\nVmPeak:\t  99999 kB\nVmRSS:\t   24576 kB\nThreads:\t7\n"))
	if err != nil || n != 24576<<10 {
		t.Fatalf("parseVmRSS = %d, %v", n, err)
	}
	if _, err := parseVmRSS([]byte("Name:\tx\n")); err == nil {
		t.Error("missing VmRSS accepted")
	}
}

// TestLoadSmoke starts the baseline in-process and runs `hookbench load`
// against it for 300 ms.
func TestLoadSmoke(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	app := newBaseline()
	go app.Listener(ln)
	t.Cleanup(func() { app.ShutdownWithTimeout(time.Second) })
	base := "http://" + ln.Addr().String() + "/api/webhook:trigger/k"

	for _, c := range []struct {
		name   string
		args   []string
		status string
		errors bool
	}{
		{"paid raw", []string{"--body-json", paidOrder, "--basic", "hook:s3cret"}, "200", false},
		{"paid net/http", []string{"--body-json", paidOrder, "--client", "http"}, "200", false},
		{"unpaid counted as errors", []string{"--body-json", `{"order":{"id":1,"status":"open"}}`}, "422", true},
		{"unpaid expected", []string{"--body-json", `{"order":{"id":1,"status":"open"}}`, "--expect", "2xx,422"}, "422", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"load", "--url", base, "--connections", "4", "--duration", "300ms"}, c.args...)
			if err := run(context.Background(), args, &out, &errb); err != nil {
				t.Fatalf("load: %v\n%s", err, errb.String())
			}
			var res loadResult
			if err := json.Unmarshal(out.Bytes(), &res); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out.String())
			}
			if res.Requests < 10 || res.RPS <= 0 || res.P50ms <= 0 || res.P99ms < res.P50ms || res.Maxms < res.P99ms {
				t.Errorf("implausible result: %s", out.String())
			}
			if res.Status[c.status] != res.Requests || res.TransportErrors != 0 {
				t.Errorf("statuses %v of %d requests, transport errors %d (%s)", res.Status, res.Requests, res.TransportErrors, res.FirstError)
			}
			if (res.Errors > 0) != c.errors {
				t.Errorf("errors = %d, want errors: %v", res.Errors, c.errors)
			}
			if res.DurationSeconds < 0.3 || res.DurationSeconds > 2 {
				t.Errorf("ran %.2f s for --duration 300ms", res.DurationSeconds)
			}
		})
	}

	// --max-requests bounds the run before the duration does.
	res, err := runLoad(context.Background(), loadConfig{URLs: []string{base}, Body: []byte(paidOrder), Connections: 2, Duration: 10 * time.Second, MaxRequests: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 50 || res.DurationSeconds > 5 {
		t.Errorf("max 50 requests: got %d in %.1f s", res.Requests, res.DurationSeconds)
	}
}

// TestLoadURLRotation checks that several URLs are taken in turn across all
// connections: N requests over N URLs touch each exactly once.
func TestLoadURLRotation(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	hits := map[string]int{}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/k/:key", func(c *fiber.Ctx) error {
		mu.Lock()
		hits[strings.Clone(c.Params("key"))]++
		mu.Unlock()
		return c.SendStatus(204)
	})
	go app.Listener(ln)
	t.Cleanup(func() { app.ShutdownWithTimeout(time.Second) })
	urls := make([]string, 50)
	for i := range urls {
		urls[i] = fmt.Sprintf("http://%s/k/%d", ln.Addr(), i)
	}
	res, err := runLoad(context.Background(), loadConfig{URLs: urls, Connections: 8, Duration: 10 * time.Second, MaxRequests: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 50 || res.Errors != 0 || len(hits) != 50 {
		t.Fatalf("%d requests, %d errors, %d distinct URLs hit: %v", res.Requests, res.Errors, len(hits), hits)
	}
	for k, n := range hits {
		if n != 1 {
			t.Errorf("URL %s hit %d times", k, n)
		}
	}
	if _, err := runLoad(context.Background(), loadConfig{URLs: []string{urls[0], "http://127.0.0.1:1/x"}, Connections: 1, Duration: time.Second}); err == nil {
		t.Error("URLs on different ports accepted")
	}
}

// TestMetricsCostSides: the metrics-cost comparison takes each side's best
// requests/s and lowest CPU per request, leaving disturbed rows out.
func TestMetricsCostSides(t *testing.T) {
	t.Parallel()
	b := &bench{rows: []row{
		{Scenario: "(b) async accept (3-node flow, reply after commit)", RPS: 99999, CPUPerReq: time.Microsecond},
		{Scenario: "(m) async accept, observer off, round 1", RPS: 30000, CPUPerReq: 40 * time.Microsecond},
		{Scenario: "(m) async accept, metrics on, round 1", RPS: 29000, CPUPerReq: 42 * time.Microsecond},
		{Scenario: "(m) async accept, observer off, round 2", RPS: 31000, CPUPerReq: 41 * time.Microsecond},
		{Scenario: "(m) async accept, metrics on, round 2", RPS: 40000, CPUPerReq: 30 * time.Microsecond, Busy: true},
		{Scenario: "(m) async accept, metrics on, round 3", RPS: 30500, CPUPerReq: 39 * time.Microsecond},
	}}
	on, off, ok := b.metricsCostSides()
	if !ok || on.RPS != 30500 || on.CPUPerReq != 39*time.Microsecond || off.RPS != 31000 || off.CPUPerReq != 40*time.Microsecond {
		t.Errorf("on %.0f/%s, off %.0f/%s, %v", on.RPS, on.CPUPerReq, off.RPS, off.CPUPerReq, ok)
	}
	if _, _, ok := (&bench{rows: b.rows[:3]}).metricsCostSides(); !ok {
		t.Error("one round each should do")
	}
	if _, _, ok := (&bench{rows: b.rows[:2]}).metricsCostSides(); ok {
		t.Error("a comparison without the metrics side")
	}
}

// TestLoadSeqHeader: with SeqHeader, every request of both clients carries
// that header with a value of its own, and the rest of the request as
// built (body, headers).
func TestLoadSeqHeader(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	bad := 0
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/k", func(c *fiber.Ctx) error {
		mu.Lock()
		defer mu.Unlock()
		seen[strings.Clone(c.Get("X-Request-Id"))]++
		if string(c.Body()) != paidOrder || c.Get("X-Other") != "1" {
			bad++
		}
		return c.SendStatus(204)
	})
	go app.Listener(ln)
	t.Cleanup(func() { app.ShutdownWithTimeout(time.Second) })
	for _, client := range []string{"raw", "http"} {
		clear(seen)
		res, err := runLoad(context.Background(), loadConfig{URLs: []string{"http://" + ln.Addr().String() + "/k"}, Body: []byte(paidOrder),
			Headers: []header{{"X-Other", "1"}}, Connections: 4, Duration: 10 * time.Second, MaxRequests: 200, SeqHeader: "X-Request-Id", Client: client})
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		if res.Requests != 200 || res.Errors != 0 || len(seen) != 200 || seen[""] != 0 || bad != 0 {
			t.Errorf("%s: %d requests, %d errors, %d distinct ids, %d malformed", client, res.Requests, res.Errors, len(seen), bad)
		}
		mu.Unlock()
	}
}

// TestRunLoadsMerges: runLoads spreads one load over several servers (the
// instances of the PostgreSQL rows) and adds their results up.
func TestRunLoadsMerges(t *testing.T) {
	var urls []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		app := newBaseline()
		go app.Listener(ln)
		t.Cleanup(func() { app.ShutdownWithTimeout(time.Second) })
		urls = append(urls, "http://"+ln.Addr().String()+"/api/webhook:trigger/k")
	}
	cfgs := []loadConfig{
		{URLs: urls[:1], Body: []byte(paidOrder), Headers: []header{basicHeader("hook:s3cret")}, Connections: 2, MaxRequests: 100},
		{URLs: urls[1:], Body: []byte(paidOrder), Headers: []header{basicHeader("hook:s3cret")}, Connections: 2, MaxRequests: 60},
	}
	res, err := runLoads(context.Background(), cfgs, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 160 || res.Status["200"] != 160 || res.hist.n != 160 || res.Connections != 4 || res.URLs != 2 || res.Errors != 0 {
		t.Errorf("merged %+v (hist %d)", res, res.hist.n)
	}
}

// TestRunOnlyUnknownGroup: --only with a group that does not exist is
// refused, naming it, before anything starts (a typo would otherwise run
// no scenario at all).
func TestRunOnlyUnknownGroup(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	err := runCmd(context.Background(), []string{"--only", "b, x", "--hookflow", "/nonexistent/hookflow"}, &stderr, &stderr)
	if err == nil || !strings.Contains(err.Error(), `--only: unknown scenario group "x"`) {
		t.Errorf("error %v", err)
	}
}
