// Command hookbench measures Hookflow's public endpoint honestly: against a
// bare Fiber baseline, on loopback only, for a bounded time.
//
// Subcommands:
//
//	hookbench baseline --addr 127.0.0.1:PORT
//	    A bare Fiber server with Hookflow's fiber.Config basics that parses
//	    the §9 example's body with gjson and answers like it (paid → 200 with
//	    X-Order and {"ok":true,"id":<id>}, else 422 {"ok":false}); no storage.
//
//	hookbench load --url U [--url U2 ...] --connections 64 --duration 10s
//	               [--body FILE | --body-json '...'] [--header K:V] [--basic user:pass]
//	               [--expect 2xx,422] [--max-requests N] [--client raw|http]
//	    A closed-loop load generator: each connection sends one request, waits
//	    for the reply and sends the next, over keep-alive HTTP/1.1. The default
//	    client writes prebuilt requests on raw net.Conn and parses replies with
//	    a small reader, so that it costs the shared CPU as little as possible;
//	    --client http uses net/http for comparison. Several --url values are
//	    used in turn. Only loopback hosts are accepted. Prints one JSON object:
//	    requests, errors, requests/s, p50/p90/p99/max latency (log-linear
//	    histogram, under 1.6% relative error) and the client's own CPU time.
//
//	hookbench run [--duration 10s] [--connections 64] [--quick]
//	    The orchestrator behind `make bench` (which builds bin/hookflow and
//	    bin/hookbench first). It starts the baseline and Hookflow on free
//	    127.0.0.1 ports with a temporary data directory, creates an API token
//	    and the workflows, runs the scenarios one after another and prints the
//	    machine, a Markdown table and the targets of issues 6 and 11. The
//	    (c) group has the §9 example plain, with github verification and
//	    with a dedupe key unique to each request.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/bits"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/db"
	"github.com/hookflow/hookflow/engine"
	"github.com/tidwall/gjson"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "hookbench:", err)
		}
		os.Exit(1)
	}
}

const usage = `Usage: hookbench <command> [flags]

Commands:
  baseline --addr 127.0.0.1:PORT   bare Fiber server answering like the §9 example
  load --url U [flags]             closed-loop load generator (loopback only), prints JSON
  run [--duration 10s] [--quick]   start baseline and Hookflow, run every scenario, print a table

Run 'hookbench <command> -h' for the flags of a command.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("a command is required")
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "baseline":
		return baselineCmd(ctx, args, stderr)
	case "load":
		return loadCmd(ctx, args, stdout, stderr)
	case "run":
		return runCmd(ctx, args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// ---------------------------------------------------------------------------
// Baseline

// newBaseline returns the bare Fiber app: Hookflow's fiber.Config basics,
// one route, gjson, no middleware and no storage.
func newBaseline() *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:               "hookbench-baseline",
		DisableStartupMessage: true,
		BodyLimit:             10 << 20,
		ReadTimeout:           15 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           90 * time.Second,
		ReadBufferSize:        16 << 10,
		CaseSensitive:         true,
		UnescapePath:          true,
	})
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Post(`/api/webhook\:trigger/:key`, baselineTrigger)
	return app
}

// baselineTrigger answers like the §9 example: it validates the JSON (as
// Hookflow does for a JSON content type), reads order.status and order.id
// and replies.
func baselineTrigger(c *fiber.Ctx) error {
	body := c.Body()
	if !gjson.ValidBytes(body) {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Status(fiber.StatusBadRequest).SendString(`{"errors":[{"message":"body: invalid JSON"}]}`)
	}
	r := gjson.GetManyBytes(body, "order.status", "order.id")
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	if r[0].String() != "paid" {
		return c.Status(fiber.StatusUnprocessableEntity).SendString(`{"ok":false}`)
	}
	id := r[1].Raw
	if id == "" {
		id = "null"
	}
	c.Set("X-Order", r[1].String())
	return c.Status(fiber.StatusOK).Send(append(append([]byte(`{"ok":true,"id":`), id...), '}'))
}

func baselineCmd(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("hookbench baseline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:13100", "listen address (loopback only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	if !loopbackHost(host) {
		return fmt.Errorf("--addr: %q is not a loopback address; hookbench listens on 127.0.0.1 only", host)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	app := newBaseline()
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	select {
	case <-ctx.Done():
		return app.ShutdownWithTimeout(5 * time.Second)
	case err := <-served:
		return err
	}
}

// ---------------------------------------------------------------------------
// Histogram

// Log-linear histogram in the manner of HdrHistogram: values below 128 have
// their own bucket; above, each power of two is split into 64 buckets, so a
// reported value is within 1/64 (1.6%) of the true one.
const (
	histSubBits  = 7
	histSub      = 1 << histSubBits                    // 128
	histHalf     = histSub / 2                         // 64
	histBuckets  = histSub + (63-histSubBits)*histHalf // up to math.MaxInt64
	histMaxValue = math.MaxInt64
)

// histogram records latencies in nanoseconds. The zero value is ready; it is
// not safe for concurrent use (each connection has its own, merged at the
// end).
type histogram struct {
	counts [histBuckets]int64
	n      int64
	sum    int64
	min    int64
	max    int64
}

func bucketOf(v int64) int {
	if v < 0 {
		v = 0
	}
	if v < histSub {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - histSubBits
	return histSub + (e-1)*histHalf + int(v>>e) - histHalf
}

// bucketLow is the smallest value that falls in bucket i.
func bucketLow(i int) int64 {
	if i < histSub {
		return int64(i)
	}
	j := i - histSub
	e := j/histHalf + 1
	m := int64(j%histHalf + histHalf)
	return m << e
}

// bucketHigh is the largest value that falls in bucket i.
func bucketHigh(i int) int64 {
	if i+1 >= histBuckets {
		return histMaxValue
	}
	return bucketLow(i+1) - 1
}

func (h *histogram) record(v int64) {
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += v
}

func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// quantile returns the value at quantile q (0 < q ≤ 1): the highest value
// of the bucket holding the rank, never above the largest value recorded.
func (h *histogram) quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	if rank < 1 {
		rank = 1
	}
	var cum int64
	for i, c := range h.counts {
		cum += c
		if cum >= rank {
			return min(max(bucketHigh(i), h.min), h.max)
		}
	}
	return h.max
}

func (h *histogram) mean() float64 {
	if h.n == 0 {
		return 0
	}
	return float64(h.sum) / float64(h.n)
}

// ---------------------------------------------------------------------------
// Host guard

// loopbackHost reports whether host (no port) is localhost or a loopback
// IP. Names are never resolved: "localhost" is the only name accepted.
func loopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkTarget parses a load URL and refuses anything but plain HTTP to a
// loopback host. It returns the URL and the address to dial (localhost is
// dialled as 127.0.0.1, so that no resolver is involved).
func checkTarget(raw string) (*url.URL, string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", fmt.Errorf("--url %q: %w", raw, err)
	}
	if u.Scheme != "http" {
		return nil, "", fmt.Errorf("--url %q: only http:// is supported", raw)
	}
	host := u.Hostname()
	if !loopbackHost(host) {
		return nil, "", fmt.Errorf("--url %q: host %q refused: hookbench targets 127.0.0.1 or localhost only", raw, host)
	}
	if u.User != nil {
		return nil, "", fmt.Errorf("--url %q: put credentials in --basic", raw)
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	if strings.EqualFold(host, "localhost") {
		host = "127.0.0.1"
	}
	return u, net.JoinHostPort(host, port), nil
}

// ---------------------------------------------------------------------------
// Load generator

type header struct{ name, value string }

// loadConfig is one load run.
type loadConfig struct {
	URLs        []string
	Method      string
	Body        []byte
	Headers     []header
	Connections int
	Duration    time.Duration
	MaxRequests int64
	Timeout     time.Duration // per request
	Client      string        // "raw" or "http"
	Expect      func(status int) bool
	// SeqHeader, when set, names a header sent with a value unique to each
	// request (a counter), as senders number their deliveries.
	SeqHeader string
}

// loadResult is what `hookbench load` prints.
type loadResult struct {
	URL             string           `json:"url"`
	URLs            int              `json:"urls"`
	Client          string           `json:"client"`
	Connections     int              `json:"connections"`
	DurationSeconds float64          `json:"duration_s"`
	Requests        int64            `json:"requests"`
	Errors          int64            `json:"errors"`
	TransportErrors int64            `json:"transport_errors"`
	Status          map[string]int64 `json:"status"`
	RPS             float64          `json:"requests_per_s"`
	P50ms           float64          `json:"p50_ms"`
	P90ms           float64          `json:"p90_ms"`
	P99ms           float64          `json:"p99_ms"`
	Maxms           float64          `json:"max_ms"`
	Meanms          float64          `json:"mean_ms"`
	ClientCPUs      float64          `json:"client_cpu_s"`
	FirstError      string           `json:"first_error,omitempty"`

	hist *histogram
}

func (r *loadResult) p50() time.Duration { return time.Duration(r.hist.quantile(0.50)) }
func (r *loadResult) p99() time.Duration { return time.Duration(r.hist.quantile(0.99)) }

// parseExpect parses "2xx,422" into a status predicate.
func parseExpect(spec string) (func(int) bool, error) {
	var classes [6]bool
	codes := map[int]bool{}
	for _, p := range strings.Split(spec, ",") {
		p = strings.TrimSpace(strings.ToLower(p))
		if p == "" {
			continue
		}
		if len(p) == 3 && p[1:] == "xx" && p[0] >= '1' && p[0] <= '5' {
			classes[p[0]-'0'] = true
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 100 || n > 599 {
			return nil, fmt.Errorf("--expect: %q is not a status such as 200, 422 or 2xx", p)
		}
		codes[n] = true
	}
	return func(s int) bool {
		if s >= 100 && s <= 599 && classes[s/100] {
			return true
		}
		return codes[s]
	}, nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func loadCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hookbench load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var urls, headers multiFlag
	fs.Var(&urls, "url", "target URL, http://127.0.0.1:PORT/... (repeat to use several in turn)")
	fs.Var(&headers, "header", "extra request header K:V (repeatable)")
	conns := fs.Int("connections", 64, "concurrent keep-alive connections")
	dur := fs.Duration("duration", 10*time.Second, "how long to send requests")
	maxReq := fs.Int64("max-requests", 10_000_000, "stop after this many requests")
	bodyFile := fs.String("body", "", "file holding the request body")
	bodyJSON := fs.String("body-json", "", "request body given inline (sent as application/json)")
	basic := fs.String("basic", "", "Basic Auth credentials user:pass")
	method := fs.String("method", "POST", "request method")
	expect := fs.String("expect", "2xx", "statuses that are not errors, e.g. 2xx,422")
	client := fs.String("client", "raw", "raw (prebuilt requests on net.Conn) or http (net/http)")
	timeout := fs.Duration("timeout", 10*time.Second, "per-request timeout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(urls) == 0 {
		return errors.New("--url is required")
	}
	if *bodyFile != "" && *bodyJSON != "" {
		return errors.New("use --body or --body-json, not both")
	}
	cfg := loadConfig{URLs: urls, Method: strings.ToUpper(*method), Connections: *conns, Duration: *dur,
		MaxRequests: *maxReq, Timeout: *timeout, Client: *client}
	switch {
	case *bodyFile != "":
		b, err := os.ReadFile(*bodyFile)
		if err != nil {
			return fmt.Errorf("--body: %w", err)
		}
		cfg.Body = b
	case *bodyJSON != "":
		cfg.Body = []byte(*bodyJSON)
	}
	hasCT := false
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || strings.ContainsAny(k+v, "\r\n") {
			return fmt.Errorf("--header %q: want Name:value", h)
		}
		hasCT = hasCT || strings.EqualFold(k, "Content-Type")
		cfg.Headers = append(cfg.Headers, header{k, v})
	}
	if len(cfg.Body) > 0 && !hasCT {
		cfg.Headers = append(cfg.Headers, header{"Content-Type", "application/json"})
	}
	if *basic != "" {
		if !strings.Contains(*basic, ":") {
			return errors.New("--basic: want user:pass")
		}
		cfg.Headers = append(cfg.Headers, basicHeader(*basic))
	}
	var err error
	if cfg.Expect, err = parseExpect(*expect); err != nil {
		return err
	}
	res, err := runLoad(ctx, cfg)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

func basicHeader(userpass string) header {
	return header{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(userpass))}
}

// buildRequest prebuilds the bytes of one HTTP/1.1 request.
func buildRequest(method string, u *url.URL, body []byte, headers []header) []byte {
	var b bytes.Buffer
	path := u.RequestURI()
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: hookbench\r\n", method, path, u.Host)
	for _, h := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h.name, h.value)
	}
	if len(body) > 0 || method == "POST" || method == "PUT" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

var errBadResponse = errors.New("malformed HTTP response")

// readResponse reads one HTTP/1.x response from br and discards its body.
// It returns the status and whether the server closes the connection.
func readResponse(br *bufio.Reader) (status int, closeConn bool, err error) {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, true, err
		}
		if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
			return 0, true, errBadResponse
		}
		d0, d1, d2 := line[9]-'0', line[10]-'0', line[11]-'0'
		if d0 > 9 || d1 > 9 || d2 > 9 {
			return 0, true, errBadResponse
		}
		status = int(d0)*100 + int(d1)*10 + int(d2)
		closeConn = line[7] == '0' // HTTP/1.0 closes unless told otherwise
		length, chunked := int64(-1), false
		for {
			line, err = br.ReadSlice('\n')
			if err != nil {
				return status, true, err
			}
			if len(line) <= 2 {
				break
			}
			k, v, ok := bytes.Cut(line, []byte(":"))
			if !ok {
				return status, true, errBadResponse
			}
			v = bytes.TrimSpace(v)
			switch {
			case bytes.EqualFold(k, []byte("Content-Length")):
				n, err := strconv.ParseInt(string(v), 10, 64)
				if err != nil || n < 0 {
					return status, true, errBadResponse
				}
				length = n
			case bytes.EqualFold(k, []byte("Transfer-Encoding")):
				chunked = bytes.Contains(bytes.ToLower(v), []byte("chunked"))
			case bytes.EqualFold(k, []byte("Connection")):
				switch {
				case bytes.EqualFold(v, []byte("close")):
					closeConn = true
				case bytes.EqualFold(v, []byte("keep-alive")):
					closeConn = false
				}
			}
		}
		if status >= 100 && status < 200 {
			continue // interim reply; the real one follows
		}
		switch {
		case status == 204 || status == 304:
		case chunked:
			if err := discardChunked(br); err != nil {
				return status, true, err
			}
		case length >= 0:
			if _, err := br.Discard(int(length)); err != nil {
				return status, true, err
			}
		default:
			_, err := io.Copy(io.Discard, br)
			return status, true, err
		}
		return status, closeConn, nil
	}
}

func discardChunked(br *bufio.Reader) error {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		sz, _, _ := bytes.Cut(bytes.TrimSpace(line), []byte(";"))
		n, err := strconv.ParseInt(string(sz), 16, 64)
		if err != nil || n < 0 {
			return errBadResponse
		}
		if n == 0 {
			for { // trailers up to the empty line
				line, err := br.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(line) <= 2 {
					return nil
				}
			}
		}
		if _, err := br.Discard(int(n) + 2); err != nil {
			return err
		}
	}
}

// runLoad runs a closed-loop load: Connections workers each send a request,
// wait for its reply and send the next, until Duration has passed or
// MaxRequests have been sent. Requests in flight at the end are waited for
// (at most Timeout) and counted.
func runLoad(ctx context.Context, cfg loadConfig) (*loadResult, error) {
	if cfg.Connections < 1 || cfg.Connections > 10000 {
		return nil, fmt.Errorf("--connections: %d is not between 1 and 10000", cfg.Connections)
	}
	if cfg.Duration <= 0 || cfg.Duration > time.Hour {
		return nil, fmt.Errorf("--duration: %s is not between 0 and 1h", cfg.Duration)
	}
	if cfg.MaxRequests <= 0 {
		cfg.MaxRequests = math.MaxInt64
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Method == "" {
		cfg.Method = "POST"
	}
	if cfg.Expect == nil {
		cfg.Expect = func(s int) bool { return s >= 200 && s < 300 }
	}
	if cfg.Client == "" {
		cfg.Client = "raw"
	}
	if cfg.Client != "raw" && cfg.Client != "http" {
		return nil, fmt.Errorf("--client: %q is not raw or http", cfg.Client)
	}
	var dial string
	reqs := make([][]byte, len(cfg.URLs))
	parsed := make([]*url.URL, len(cfg.URLs))
	for i, raw := range cfg.URLs {
		u, addr, err := checkTarget(raw)
		if err != nil {
			return nil, err
		}
		if dial == "" {
			dial = addr
		} else if addr != dial {
			return nil, fmt.Errorf("--url: every URL must name the same host and port (%s, %s)", dial, addr)
		}
		parsed[i] = u
		reqs[i] = buildRequest(cfg.Method, u, cfg.Body, cfg.Headers)
	}
	// With a numbered header, each request is its prebuilt bytes with the
	// header's line put in after the request line.
	var seq atomic.Int64
	lineEnd := make([]int, len(reqs))
	for i, r := range reqs {
		lineEnd[i] = bytes.Index(r, []byte("\r\n")) + 2
	}

	type workerOut struct {
		hist      histogram
		status    map[int]int64
		errs      int64
		transport int64
		firstErr  error
	}
	outs := make([]*workerOut, cfg.Connections)
	var sent atomic.Int64
	cpu0 := selfCPU()
	start := time.Now()
	end := start.Add(cfg.Duration)
	runCtx, cancel := context.WithDeadline(ctx, end.Add(cfg.Timeout))
	defer cancel()

	var httpClient *http.Client
	if cfg.Client == "http" {
		httpClient = &http.Client{
			Timeout: cfg.Timeout,
			Transport: &http.Transport{
				Proxy:               nil,
				DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
				MaxIdleConns:        cfg.Connections,
				MaxIdleConnsPerHost: cfg.Connections,
				MaxConnsPerHost:     cfg.Connections,
				DisableCompression:  true,
				IdleConnTimeout:     30 * time.Second,
			},
		}
		defer httpClient.CloseIdleConnections()
	}

	var wg sync.WaitGroup
	for w := 0; w < cfg.Connections; w++ {
		out := &workerOut{status: map[int]int64{}}
		outs[w] = out
		wg.Add(1)
		go func() {
			defer wg.Done()
			fail := func(err error) {
				out.errs++
				out.transport++
				if out.firstErr == nil {
					out.firstErr = err
				}
			}
			// URLs are taken in turn across all connections, so that N
			// requests touch min(N, len(URLs)) distinct URLs.
			take := func() (int, bool) {
				if runCtx.Err() != nil || !time.Now().Before(end) {
					return 0, false
				}
				n := sent.Add(1)
				if n > cfg.MaxRequests {
					return 0, false
				}
				return int((n - 1) % int64(len(reqs))), true
			}
			if cfg.Client == "http" {
				for {
					i, ok := take()
					if !ok {
						return
					}
					req, err := http.NewRequestWithContext(runCtx, cfg.Method, cfg.URLs[i], bytes.NewReader(cfg.Body))
					if err != nil {
						fail(err)
						return
					}
					for _, h := range cfg.Headers {
						req.Header.Set(h.name, h.value)
					}
					if cfg.SeqHeader != "" {
						req.Header.Set(cfg.SeqHeader, strconv.FormatInt(seq.Add(1), 10))
					}
					t0 := time.Now()
					resp, err := httpClient.Do(req)
					if err == nil {
						_, err = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
					lat := time.Since(t0)
					if err != nil {
						fail(err)
						continue
					}
					out.hist.record(int64(lat))
					out.status[resp.StatusCode]++
					if !cfg.Expect(resp.StatusCode) {
						out.errs++
					}
				}
			}
			var conn net.Conn
			var br *bufio.Reader
			var numbered []byte
			defer func() {
				if conn != nil {
					conn.Close()
				}
			}()
			for {
				i, ok := take()
				if !ok {
					return
				}
				if conn == nil {
					d := net.Dialer{Timeout: 5 * time.Second}
					c, err := d.DialContext(runCtx, "tcp", dial)
					if err != nil {
						fail(err)
						// Do not spin against a server that is down.
						select {
						case <-runCtx.Done():
							return
						case <-time.After(20 * time.Millisecond):
						}
						continue
					}
					if tc, ok := c.(*net.TCPConn); ok {
						tc.SetNoDelay(true)
					}
					conn = c
					if br == nil {
						br = bufio.NewReaderSize(conn, 32<<10)
					} else {
						br.Reset(conn)
					}
				}
				raw := reqs[i]
				if cfg.SeqHeader != "" {
					numbered = append(numbered[:0], raw[:lineEnd[i]]...)
					numbered = append(numbered, cfg.SeqHeader...)
					numbered = append(numbered, ": "...)
					numbered = strconv.AppendInt(numbered, seq.Add(1), 10)
					numbered = append(numbered, "\r\n"...)
					numbered = append(numbered, raw[lineEnd[i]:]...)
					raw = numbered
				}
				t0 := time.Now()
				conn.SetDeadline(t0.Add(cfg.Timeout))
				_, err := conn.Write(raw)
				var status int
				var closeConn bool
				if err == nil {
					status, closeConn, err = readResponse(br)
				}
				lat := time.Since(t0)
				if err != nil {
					fail(err)
					conn.Close()
					conn = nil
					continue
				}
				out.hist.record(int64(lat))
				out.status[status]++
				if !cfg.Expect(status) {
					out.errs++
				}
				if closeConn {
					conn.Close()
					conn = nil
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := selfCPU() - cpu0

	res := &loadResult{URL: cfg.URLs[0], URLs: len(cfg.URLs), Client: cfg.Client, Connections: cfg.Connections,
		DurationSeconds: elapsed.Seconds(), Status: map[string]int64{}, hist: &histogram{}}
	for _, o := range outs {
		res.hist.merge(&o.hist)
		res.Errors += o.errs
		res.TransportErrors += o.transport
		for s, n := range o.status {
			res.Status[strconv.Itoa(s)] += n
		}
		if res.FirstError == "" && o.firstErr != nil {
			res.FirstError = o.firstErr.Error()
		}
	}
	res.Requests = res.hist.n + res.TransportErrors
	res.RPS = float64(res.hist.n) / elapsed.Seconds()
	ms := func(v int64) float64 { return math.Round(float64(v)/1e3) / 1e3 }
	res.P50ms, res.P90ms, res.P99ms = ms(res.hist.quantile(0.50)), ms(res.hist.quantile(0.90)), ms(res.hist.quantile(0.99))
	res.Maxms, res.Meanms = ms(res.hist.max), ms(int64(res.hist.mean()))
	res.ClientCPUs = math.Round(cpu.Seconds()*1000) / 1000
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, nil
}

// selfCPU is the user+system CPU time of this process.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ---------------------------------------------------------------------------
// Process sampling (/proc)

// procRSS returns VmRSS of pid in bytes.
func procRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseVmRSS(b)
}

func parseVmRSS(status []byte) (int64, error) {
	for _, line := range bytes.Split(status, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := bytes.Fields(v)
			if len(f) < 1 {
				break
			}
			kb, err := strconv.ParseInt(string(f[0]), 10, 64)
			if err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmRSS line")
}

// procCPU returns the user+system CPU time of pid from /proc/<pid>/stat
// (clock ticks of 1/100 s, Linux's USER_HZ).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(string(f[11]), 10, 64)
	st, _ := strconv.ParseInt(string(f[12]), 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// machineBusy returns the CPU time all processes have used (every
// non-idle column of the cpu line of /proc/stat).
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 8 || string(f[0]) != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest time is already in user
			break
		}
		n, _ := strconv.ParseInt(string(v), 10, 64)
		busy += n
	}
	return time.Duration(busy) * 10 * time.Millisecond
}

// sampler records the largest RSS of a process while a scenario runs, and
// its CPU time over the scenario.
type sampler struct {
	pid    int
	stop   chan struct{}
	done   chan struct{}
	maxRSS int64
	cpu0   time.Duration
	busy0  time.Duration
	self0  time.Duration
	t0     time.Time
	// others is how many cores the rest of the machine (neither the
	// server nor hookbench) used over the sampling, set by finish.
	others float64
}

func startSampler(pid int) *sampler {
	s := &sampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{}), cpu0: procCPU(pid),
		busy0: machineBusy(), self0: selfCPU(), t0: time.Now()}
	s.sample()
	go func() {
		defer close(s.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				s.sample()
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *sampler) sample() {
	if v, err := procRSS(s.pid); err == nil && v > s.maxRSS {
		s.maxRSS = v
	}
}

// finish stops sampling and returns the largest RSS seen and the CPU time
// used since the start.
func (s *sampler) finish() (int64, time.Duration) {
	close(s.stop)
	<-s.done
	cpu := procCPU(s.pid) - s.cpu0
	if el := time.Since(s.t0); el > 0 {
		other := machineBusy() - s.busy0 - cpu - (selfCPU() - s.self0)
		s.others = max(0, other.Seconds()/el.Seconds())
	}
	return s.maxRSS, cpu
}

// ---------------------------------------------------------------------------
// The table

// row is one line of the result table.
type row struct {
	Scenario  string
	Conns     int // 0: not applicable
	RPS       float64
	P50, P99  time.Duration // 0: not applicable
	Errors    int64
	Ratio     float64 // 0: not applicable
	RSS       int64   // bytes; 0: not measured
	CPUPerReq time.Duration
	Stored    int64 // executions stored when the scenario started; -1: not applicable
	// Busy is set when other processes used a noticeable share of the
	// CPUs meanwhile (busyCheck): the row understates Hookflow.
	Busy bool
}

func fmtThousands(v float64) string {
	n := int64(math.Round(v))
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func fmtLatency(d time.Duration) string {
	if d <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f ms", float64(d)/1e6)
}

func formatRow(r row) []string {
	conns, ratio, rss, cpu, stored := "–", "–", "–", "–", "–"
	if r.Stored >= 0 {
		stored = fmtThousands(float64(r.Stored))
	}
	if r.Conns > 0 {
		conns = strconv.Itoa(r.Conns)
	}
	if r.Ratio > 0 {
		ratio = fmt.Sprintf("%.2f×", r.Ratio)
	}
	if r.RSS > 0 {
		rss = fmt.Sprintf("%d MB", (r.RSS+(1<<19))>>20)
	}
	if r.CPUPerReq > 0 {
		cpu = fmt.Sprintf("%.0f µs", float64(r.CPUPerReq)/1e3)
	}
	return []string{r.Scenario, conns, fmtThousands(r.RPS), fmtLatency(r.P50), fmtLatency(r.P99),
		fmtThousands(float64(r.Errors)), ratio, rss, cpu, stored}
}

var tableHeader = []string{"scenario", "connections", "requests/s", "p50", "p99", "errors", "ratio to baseline", "server RSS", "server CPU/req", "executions stored"}

// formatTable renders rows as an aligned Markdown table; numeric columns are
// right-aligned.
func formatTable(rows []row) string {
	cells := [][]string{tableHeader}
	for _, r := range rows {
		cells = append(cells, formatRow(r))
	}
	width := make([]int, len(tableHeader))
	for _, c := range cells {
		for i, s := range c {
			width[i] = max(width[i], len([]rune(s)), 3)
		}
	}
	var b strings.Builder
	line := func(c []string) {
		b.WriteByte('|')
		for i, s := range c {
			pad := strings.Repeat(" ", width[i]-len([]rune(s)))
			if i == 0 {
				b.WriteString(" " + s + pad + " |")
			} else {
				b.WriteString(" " + pad + s + " |")
			}
		}
		b.WriteByte('\n')
	}
	line(cells[0])
	b.WriteByte('|')
	for i, w := range width {
		if i == 0 {
			b.WriteString(" " + strings.Repeat("-", w) + " |")
		} else {
			b.WriteString(" " + strings.Repeat("-", w-1) + ": |")
		}
	}
	b.WriteByte('\n')
	for _, c := range cells[1:] {
		line(c)
	}
	return b.String()
}

// ---------------------------------------------------------------------------
// Machine

func machineInfo() string {
	model := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := "unknown"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
				if f := strings.Fields(v); len(f) > 0 {
					if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
						mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
					}
				}
			}
		}
	}
	kernel := "unknown"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	load := "unknown"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = strings.Join(f[:3], " ")
		}
	}
	return fmt.Sprintf("- CPU: %s, nproc %d (GOMAXPROCS %d)\n- Memory: %s\n- OS: linux %s, %s/%s, %s\n- Load average at start: %s\n",
		model, runtime.NumCPU(), runtime.GOMAXPROCS(0), mem, kernel, runtime.GOOS, runtime.GOARCH, runtime.Version(), load)
}

// ---------------------------------------------------------------------------
// The orchestrator

// Request bodies and workflow documents of the scenarios.
const (
	paidOrder = `{"order":{"id":12345,"status":"paid","amount":"49.90","currency":"EUR"},"source":"bench"}`

	// syncDoc is the example of product.md §9, as written.
	syncDoc = `{
  "title": "Payment callback",
  "mode": "sync",
  "enabled": true,
  "timeoutSeconds": 30,
  "trigger": {
    "basicAuth": {"enabled": true, "username": "hook", "password": "s3cret"},
    "headers": [{"path": "x-request-id", "alias": "Request ID"}],
    "query":   [{"path": "source"}],
    "body":    [{"path": "order.id", "alias": "Order"}, {"path": "order.status"}],
    "response": {"status": 200, "headers": [], "body": "ok"}
  },
  "nodes": [
    {"key": "paid", "type": "condition", "title": "Paid?",
     "config": {"mode": "branch", "rules": {"and": [
        {"left": "{{$context.body.order.status}}", "op": "equal", "right": "paid"}]}},
     "branches": {
       "yes": [{"key": "ok", "type": "response", "config": {"status": 200,
                "headers": [{"name": "X-Order", "value": "{{$context.body.order.id}}"}],
                "body": {"ok": true, "id": "{{$context.body.order.id}}"}}}],
       "no":  [{"key": "bad", "type": "response", "config": {"status": 422, "body": {"ok": false}}}]}}
  ]
}`

	// githubSecret is the signature secret of the github verification
	// rows (githubSignature).
	githubSecret = "bench-github-secret"

	// asyncDoc is the 3-node async flow: condition → condition → end.
	asyncDoc = `{
  "title": %q,
  "mode": "async",
  "enabled": true,
  "trigger": {"body": [{"path": "order.id"}, {"path": "order.status"}]},
  "nodes": [
    {"key": "paid", "type": "condition", "config": {"mode": "continue", "rules": {"and": [
        {"left": "{{$context.body.order.status}}", "op": "equal", "right": "paid"}]}}},
    {"key": "positive", "type": "condition", "config": {"mode": "continue", "rules": {"and": [
        {"left": "{{$context.body.order.id}}", "op": "gt", "right": 0}]}}},
    {"key": "done", "type": "end", "config": {"status": "resolved"}}
  ]
}`
)

// The §9 example with github verification, and with a dedupe key on
// X-Request-Id (the load generator numbers its requests).
var (
	syncGitHubDoc = withTrigger(syncDoc, `"verify": {"type": "github", "secret": "`+githubSecret+`"}`)
	syncDedupeDoc = withTrigger(syncDoc, `"dedupe": {"key": "{{$context.headers.x-request-id}}"}`)
	// githubSignature is paidOrder signed with githubSecret as GitHub signs
	// (X-Hub-Signature-256).
	githubSignature = "sha256=" + hmacSHA256Hex(githubSecret, paidOrder)
)

// withTrigger adds members to the trigger of a document.
func withTrigger(doc, members string) string {
	out := strings.Replace(doc, `"trigger": {`, `"trigger": {`+members+`, `, 1)
	if out == doc {
		panic("hookbench: the document has no trigger")
	}
	return out
}

func hmacSHA256Hex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// runConfig is the orchestrator's configuration.
type runConfig struct {
	duration  time.Duration
	warmup    time.Duration
	conns     int
	quick     bool
	hookflow  string
	self      string
	drainN    int
	waitN     int
	drainMax  time.Duration
	storedN   int
	only      map[string]bool
	keep      bool
	overall   time.Duration
	connSteps []int
	idleWait  time.Duration
	// postgres is a server URL for the PostgreSQL scenarios ("": skip them).
	postgres string
}

// bench is one orchestrator run: the processes, their addresses and the
// rows gathered so far.
type bench struct {
	cfg     runConfig
	out     io.Writer
	log     io.Writer
	dataDir string
	token   string

	base *proc
	hf   *proc

	syncKey, asyncKey string
	// githubKey and dedupeKey are the §9 example with github verification
	// and with a dedupe key.
	githubKey, dedupeKey string
	asyncID              int64
	asyncKeys            []string // every async workflow, for the growth runs

	start     time.Time
	rows      []row
	baseByCon map[int]float64
	notes     []string
	drainRate float64
	// actRate, wakeFirst and wakeAll are the acting scenarios' numbers.
	actRate            float64
	wakeFirst, wakeAll time.Duration
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hookbench run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := runConfig{}
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "length of each measured scenario")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "unmeasured warm-up before each scenario")
	fs.IntVar(&cfg.conns, "connections", 64, "connections of the main scenarios")
	fs.BoolVar(&cfg.quick, "quick", false, "2 s scenarios; skip the 10,000-workflow and 1M-execution growth cases")
	fs.StringVar(&cfg.hookflow, "hookflow", "bin/hookflow", "the Hookflow binary to measure")
	fs.IntVar(&cfg.drainN, "drain", 100_000, "queued executions for the drain scenarios")
	fs.IntVar(&cfg.waitN, "waiting", 100_000, "waiting executions for the wake-up scenario")
	fs.IntVar(&cfg.storedN, "stored", 1_000_000, "executions stored before the last growth case")
	only := fs.String("only", "", "comma list of scenario groups to run: a,b,c,d,e,f,g,m,p, or e-conns,e-workflows,e-stored for parts of e (default all)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the temporary data directory")
	fs.DurationVar(&cfg.overall, "timeout", 30*time.Minute, "bound on the whole run")
	fs.DurationVar(&cfg.idleWait, "wait-idle", time.Minute, "wait at most this long for other processes to leave the CPUs alone before starting")
	fs.StringVar(&cfg.postgres, "postgres", os.Getenv("HOOKFLOW_TEST_DATABASE"), "PostgreSQL server URL where hookbench may create a schema, for the PostgreSQL rows (p); default HOOKFLOW_TEST_DATABASE")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.quick {
		cfg.duration, cfg.warmup = 2*time.Second, 300*time.Millisecond
		if cfg.drainN == 100_000 {
			cfg.drainN = 20_000
		}
		if cfg.waitN == 100_000 {
			cfg.waitN = 20_000
		}
		if cfg.overall == 30*time.Minute {
			cfg.overall = 5 * time.Minute
		}
	}
	cfg.drainMax = 90 * time.Second
	if cfg.quick {
		cfg.drainMax = 20 * time.Second
	}
	cfg.connSteps = []int{1, 16, 64, 256}
	cfg.only = map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			if !slices.Contains(scenarioGroups, s) {
				return fmt.Errorf("--only: unknown scenario group %q (groups: %s)", s, strings.Join(scenarioGroups, ","))
			}
			cfg.only[s] = true
		}
	}
	var err error
	if cfg.self, err = os.Executable(); err != nil {
		return err
	}
	if cfg.hookflow, err = filepath.Abs(cfg.hookflow); err != nil {
		return err
	}
	if _, err := os.Stat(cfg.hookflow); err != nil {
		return fmt.Errorf("--hookflow: %w (run `make build` first)", err)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.overall)
	defer cancel()

	b := &bench{cfg: cfg, out: stdout, log: stderr, baseByCon: map[int]float64{}, start: time.Now()}
	if b.dataDir, err = os.MkdirTemp("", "hookbench-"); err != nil {
		return err
	}
	defer func() {
		b.base.stop()
		b.hf.stop()
		if cfg.keep {
			fmt.Fprintln(stderr, "data kept in", b.dataDir)
		} else {
			os.RemoveAll(b.dataDir)
		}
	}()
	b.waitIdle(ctx, cfg.idleWait)
	fmt.Fprintf(stdout, "## Machine\n\n%s\n", machineInfo())
	mode := "full"
	if cfg.quick {
		mode = "quick"
	}
	fmt.Fprintf(stdout, "Run: %s, %s per scenario after a %s warm-up, %d connections unless stated; load generator: hookbench raw HTTP/1.1 client in the same machine; Hookflow with its defaults but HOOKFLOW_RETENTION_COUNT=0 (no pruning during the run).\n\n",
		mode, cfg.duration, cfg.warmup, cfg.conns)
	err = b.all(ctx)
	if len(b.rows) > 0 {
		fmt.Fprintf(stdout, "## Results\n\n%s\n", formatTable(b.rows))
		b.printTargets()
		if len(b.notes) > 0 {
			fmt.Fprintln(stdout, "Notes:")
			for _, n := range b.notes {
				fmt.Fprintln(stdout, "- "+n)
			}
		}
	}
	return err
}

// busyShare is the CPU share other processes may use during a scenario
// before its row is noted as unreliable.
const busyShare = 0.15

// busyCheck notes a scenario during which other processes used a
// noticeable share of the CPUs (its numbers understate Hookflow) and
// reports whether they did.
func (b *bench) busyCheck(name string, others float64) bool {
	if others <= busyShare {
		return false
	}
	b.note("%s: other processes used %.2f of %d cores meanwhile: this row is unreliable", name, others, runtime.NumCPU())
	return true
}

// waitIdle waits, at most limit, until the other processes of the machine
// use under 0.15 cores over a 2 s window.
func (b *bench) waitIdle(ctx context.Context, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for {
		b0, s0, t0 := machineBusy(), selfCPU(), time.Now()
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
		others := (machineBusy() - b0 - (selfCPU() - s0)).Seconds() / time.Since(t0).Seconds()
		if others < 0.15 {
			return
		}
		if time.Now().After(deadline) {
			b.note("the machine was not idle at the start: other processes used %.2f of %d cores", others, runtime.NumCPU())
			return
		}
		b.logf("waiting for an idle machine: other processes use %.2f cores", others)
	}
}

// scenarioGroups are the names --only takes: the groups, and parts of e.
var scenarioGroups = []string{"a", "b", "c", "d", "e", "f", "g", "m", "p", "e-conns", "e-workflows", "e-stored"}

func (b *bench) want(group string) bool { return len(b.cfg.only) == 0 || b.cfg.only[group] }

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "hookbench %6.1fs: "+format+"\n", append([]any{time.Since(b.start).Seconds()}, args...)...)
}

func (b *bench) note(format string, args ...any) {
	b.notes = append(b.notes, fmt.Sprintf(format, args...))
}

func (b *bench) all(ctx context.Context) error {
	var err error
	// Baseline.
	port, err := freePort()
	if err != nil {
		return err
	}
	b.base, err = startProc(ctx, "baseline", b.cfg.self, []string{"baseline", "--addr", "127.0.0.1:" + port}, nil, "127.0.0.1:"+port, b.log)
	if err != nil {
		return err
	}
	// Hookflow: token first, on the same data directory, then the server.
	if err := b.createToken(ctx); err != nil {
		return err
	}
	if err := b.startHookflow(ctx); err != nil {
		return err
	}
	if err := b.createMainWorkflows(ctx); err != nil {
		return err
	}
	if err := b.sanity(ctx); err != nil {
		return err
	}
	paid := []byte(paidOrder)
	basic := []header{{"Content-Type", "application/json"}, basicHeader("hook:s3cret")}
	plain := []header{{"Content-Type", "application/json"}}
	conns := b.cfg.conns

	if b.want("a") {
		r, err := b.measure(ctx, "(a) baseline: bare Fiber, §9 paid order", b.base, []string{b.base.url(syncPath("baseline"))}, conns, paid, basic, 0)
		if err != nil {
			return err
		}
		b.baseByCon[conns] = r.RPS
	}
	if b.want("b") {
		if _, err := b.measureHF(ctx, "(b) async accept (3-node flow, reply after commit)", []string{b.hf.url(syncPath(b.asyncKey))}, conns, paid, plain); err != nil {
			return err
		}
	}
	if b.want("c") {
		if _, err := b.measureHF(ctx, "(c) sync §9 example, paid order", []string{b.hf.url(syncPath(b.syncKey))}, conns, paid, basic); err != nil {
			return err
		}
		// The trust rows (issue 11): the same request, signed as GitHub
		// signs; and numbered as senders number deliveries, each a new
		// dedupe key.
		signed := append(slices.Clone(basic), header{"X-Hub-Signature-256", githubSignature})
		if _, err := b.measureHF(ctx, "(c) sync §9 example with github verification", []string{b.hf.url(syncPath(b.githubKey))}, conns, paid, signed); err != nil {
			return err
		}
		numbered := func(c *loadConfig) { c.SeqHeader = "X-Request-Id" }
		if _, err := b.measureHF(ctx, "(c) sync §9 example with a dedupe key", []string{b.hf.url(syncPath(b.dedupeKey))}, conns, paid, basic, numbered); err != nil {
			return err
		}
	}
	if b.want("m") {
		if err := b.metricsCost(ctx, paid, plain); err != nil {
			return err
		}
	}
	if b.want("e") || b.want("e-conns") || b.want("e-workflows") {
		if err := b.growth(ctx, paid, plain, basic); err != nil {
			return err
		}
	}
	if b.want("d") {
		if err := b.drain(ctx); err != nil {
			return err
		}
	}
	if b.want("f") {
		if err := b.acting(ctx, paid, plain); err != nil {
			return err
		}
	}
	if b.want("g") {
		if err := b.waiting(ctx); err != nil {
			return err
		}
	}
	if b.want("p") && b.cfg.postgres != "" {
		if err := b.postgres(ctx, paid, plain, basic); err != nil {
			return err
		}
	}
	if (b.want("e") || b.want("e-stored")) && !b.cfg.quick {
		if err := b.stored(ctx, paid, plain); err != nil {
			return err
		}
	}
	return nil
}

func syncPath(key string) string { return "/api/webhook:trigger/" + key }

// measure runs one load scenario against p after a warm-up and adds its row.
func (b *bench) measure(ctx context.Context, name string, p *proc, urls []string, conns int, body []byte, headers []header, baseRPS float64, opts ...func(*loadConfig)) (*loadResult, error) {
	cfg := loadConfig{URLs: urls, Body: body, Headers: headers, Connections: conns, Timeout: 10 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	b.logf("%s, %d connections", name, conns)
	if b.cfg.warmup > 0 {
		cfg.Duration = b.cfg.warmup
		if _, err := runLoad(ctx, cfg); err != nil {
			return nil, err
		}
	}
	if len(urls) > 1 {
		// Touch every URL once, so that the row measures the steady state
		// rather than the first compile of each workflow (timed in a note).
		w := cfg
		w.Duration, w.MaxRequests = time.Minute, int64(len(urls))
		t0 := time.Now()
		if _, err := runLoad(ctx, w); err != nil {
			return nil, err
		}
		b.note("%s: first request to each of the %s workflows took %.1f s in all (warm-up, not in the row)", name, fmtThousands(float64(len(urls))), time.Since(t0).Seconds())
	}
	stored := int64(-1)
	if p == b.hf {
		var err error
		if stored, err = b.storedCount(ctx); err != nil {
			return nil, err
		}
	}
	cfg.Duration = b.cfg.duration
	s := startSampler(p.pid())
	res, err := runLoad(ctx, cfg)
	rss, cpu := s.finish()
	if err != nil {
		return nil, err
	}
	r := row{Scenario: name, Conns: conns, RPS: res.RPS, P50: res.p50(), P99: res.p99(), Errors: res.Errors, RSS: rss, Stored: stored}
	if res.hist.n > 0 {
		r.CPUPerReq = cpu / time.Duration(res.hist.n)
	}
	if baseRPS > 0 {
		r.Ratio = res.RPS / baseRPS
	}
	if res.FirstError != "" || res.Errors > 0 {
		b.note("%s: %d errors, statuses %v, first transport error %q", name, res.Errors, res.Status, res.FirstError)
	}
	clientShare := res.ClientCPUs / res.DurationSeconds
	b.logf("  %.0f req/s, p50 %s, p99 %s, errors %d; CPU cores used: server %.2f, hookbench %.2f, other processes %.2f",
		res.RPS, fmtLatency(r.P50), fmtLatency(r.P99), res.Errors, cpu.Seconds()/res.DurationSeconds, clientShare, s.others)
	r.Busy = b.busyCheck(name, s.others)
	b.rows = append(b.rows, r)
	return res, nil
}

// measureHF measures Hookflow against the baseline at the same connection
// count, then waits for the queue it left to drain so that the next
// scenario starts from a quiet server.
func (b *bench) measureHF(ctx context.Context, name string, urls []string, conns int, body []byte, headers []header, opts ...func(*loadConfig)) (*loadResult, error) {
	res, err := b.measure(ctx, name, b.hf, urls, conns, body, headers, b.baseByCon[conns], opts...)
	if err != nil {
		return nil, err
	}
	left, err := b.pending(ctx)
	if err == nil && left > 0 {
		t0 := time.Now()
		left2, derr := b.waitQueueEmpty(ctx, 60*time.Second)
		if derr != nil {
			return res, derr
		}
		msg := fmt.Sprintf("the workers drained them in %.1f s", time.Since(t0).Seconds())
		if left2 > 0 {
			msg = fmt.Sprintf("%s were still pending 60 s later", fmtThousands(float64(left2)))
		}
		b.note("%s: %s executions still queued when the load stopped; %s", name, fmtThousands(float64(left)), msg)
	}
	return res, nil
}

// growth measures the async accept at several connection counts and with
// more workflows defined.
func (b *bench) growth(ctx context.Context, paid []byte, plain, basic []header) error {
	for _, c := range b.cfg.connSteps {
		if !b.want("e") && !b.want("e-conns") {
			break
		}
		if _, ok := b.baseByCon[c]; !ok && b.want("a") {
			r, err := b.measure(ctx, fmt.Sprintf("(e) baseline at %d connections", c), b.base, []string{b.base.url(syncPath("baseline"))}, c, paid, basic, 0)
			if err != nil {
				return err
			}
			b.baseByCon[c] = r.RPS
		}
		if _, err := b.measureHF(ctx, fmt.Sprintf("(e) async accept at %d connections", c), []string{b.hf.url(syncPath(b.asyncKey))}, c, paid, plain); err != nil {
			return err
		}
	}
	steps := []int{100, 10_000}
	if b.cfg.quick {
		steps = steps[:1]
	}
	for _, total := range steps {
		if !b.want("e") && !b.want("e-workflows") {
			break
		}
		defined := 2 + len(b.asyncKeys) - 1
		if err := b.createAsyncWorkflows(ctx, total-defined); err != nil {
			return err
		}
		urls := make([]string, len(b.asyncKeys))
		for i, k := range b.asyncKeys {
			urls[i] = b.hf.url(syncPath(k))
		}
		name := fmt.Sprintf("(e) async accept, %s workflows defined, load over all %s async ones", fmtThousands(float64(total)), fmtThousands(float64(len(urls))))
		if _, err := b.measureHF(ctx, name, urls, b.cfg.conns, paid, plain); err != nil {
			return err
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// Processes

// proc is a child server process.
type proc struct {
	name string
	cmd  *exec.Cmd
	addr string
	done chan struct{}
	err  error
}

func (p *proc) pid() int               { return p.cmd.Process.Pid }
func (p *proc) url(path string) string { return "http://" + p.addr + path }

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port, nil
}

// startProc starts a server and waits until GET /healthz answers 200.
func startProc(ctx context.Context, name, bin string, args, env []string, addr string, logw io.Writer) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logw, logw
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, addr: addr, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(p.url("/healthz"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p, nil
			}
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited at start: %v", name, p.err)
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s did not answer /healthz within 60 s", name)
		}
	}
}

// stop asks the process to shut down (SIGTERM) and kills it after 30 s.
func (p *proc) stop() {
	if p == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// hookflowEnv is Hookflow's environment in every scenario. The count rule
// of retention is off: scenarios store hundreds of thousands of rows for
// one workflow, past the default 100,000, and the pruner catching up on
// them would share the write connection with the scenario measured next
// (and the growth case would measure deletions rather than the table's
// size).
func (b *bench) hookflowEnv() []string {
	return []string{
		"HOOKFLOW_ADMIN_EMAIL=bench@example.com",
		"HOOKFLOW_ADMIN_PASSWORD=bench-password-123",
		"HOOKFLOW_DATA_DIR=" + b.dataDir,
		"HOOKFLOW_LOG_LEVEL=warn",
		"HOOKFLOW_RETENTION_COUNT=0",
	}
}

func (b *bench) createToken(ctx context.Context) error {
	return b.createTokenEnv(ctx, b.hookflowEnv())
}

// createTokenEnv creates an API token into b.token with the given
// environment (which names the database).
func (b *bench) createTokenEnv(ctx context.Context, env []string) error {
	cmd := exec.CommandContext(ctx, b.cfg.hookflow, "token", "create", "--name", "hookbench", "--data-dir", b.dataDir)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = b.log
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("hookflow token create: %w", err)
	}
	b.token = strings.TrimSpace(string(out))
	if b.token == "" || strings.ContainsAny(b.token, " \n") {
		return fmt.Errorf("hookflow token create: unexpected output %q", out)
	}
	return nil
}

func (b *bench) startHookflow(ctx context.Context, extraEnv ...string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + port
	b.hf, err = startProc(ctx, "hookflow", b.cfg.hookflow,
		[]string{"serve", "--addr", addr, "--data-dir", b.dataDir, "--log-level", "warn"}, append(b.hookflowEnv(), extraEnv...), addr, b.log)
	return err
}

// metricsCostRounds is how many times the metrics-cost scenario measures
// each side: alternating spreads the machine's drift over both.
const metricsCostRounds = 3

// metricsCostSides returns, for the metrics on and the observer off, the
// best requests/s and the lowest server CPU per request among the rows of
// the metrics-cost scenario that no other process disturbed: the machine
// is shared, and a disturbed row says more about the neighbours than
// about Hookflow.
func (b *bench) metricsCostSides() (on, off row, ok bool) {
	pick := func(prefix string) (best row, found bool) {
		for _, r := range b.rows {
			if !strings.HasPrefix(r.Scenario, prefix) || r.Busy {
				continue
			}
			if !found {
				best, found = r, true
				continue
			}
			cpu := min(best.CPUPerReq, r.CPUPerReq)
			if r.RPS > best.RPS {
				best = r
			}
			best.CPUPerReq = cpu
		}
		return best, found
	}
	on, okOn := pick("(m) async accept, metrics on")
	off, okOff := pick("(m) async accept, observer off")
	return on, off, okOn && okOff && off.RPS > 0 && off.CPUPerReq > 0
}

// metricsCost measures what the metrics cost the async accept (issue 13:
// within 5%): the same binary, restarted alternately with the engine's and
// the store's observer disabled (HOOKFLOW_METRICS_OBSERVER=off) and with
// it on, as it always is in production. Each restart starts from the same
// database, so both sides see the same table.
func (b *bench) metricsCost(ctx context.Context, paid []byte, plain []header) error {
	for round := 1; round <= metricsCostRounds; round++ {
		for _, side := range []struct {
			label string
			env   []string
		}{{"observer off", []string{"HOOKFLOW_METRICS_OBSERVER=off"}}, {"metrics on", nil}} {
			b.hf.stop()
			if err := b.startHookflow(ctx, side.env...); err != nil {
				return err
			}
			name := fmt.Sprintf("(m) async accept, %s, round %d", side.label, round)
			if _, err := b.measureHF(ctx, name, []string{b.hf.url(syncPath(b.asyncKey))}, b.cfg.conns, paid, plain); err != nil {
				return err
			}
		}
	}
	return nil
}

// api calls the admin API and decodes a JSON reply into out.
func (b *bench) api(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, b.hf.url(path), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := apiClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

var apiClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

type created struct {
	ID  int64  `json:"id"`
	Key string `json:"key"`
}

func (b *bench) createMainWorkflows(ctx context.Context) error {
	var s, a created
	if err := b.api(ctx, "POST", "/api/v1/workflows", []byte(syncDoc), &s); err != nil {
		return fmt.Errorf("create the §9 workflow: %w", err)
	}
	if err := b.api(ctx, "POST", "/api/v1/workflows", []byte(fmt.Sprintf(asyncDoc, "bench async")), &a); err != nil {
		return fmt.Errorf("create the async workflow: %w", err)
	}
	if s.Key == "" || a.Key == "" {
		return errors.New("create workflows: no key in the reply")
	}
	b.syncKey, b.asyncKey, b.asyncID = s.Key, a.Key, a.ID
	b.asyncKeys = []string{a.Key}
	var g, d created
	if err := b.api(ctx, "POST", "/api/v1/workflows", []byte(syncGitHubDoc), &g); err != nil {
		return fmt.Errorf("create the §9 workflow with github verification: %w", err)
	}
	if err := b.api(ctx, "POST", "/api/v1/workflows", []byte(syncDedupeDoc), &d); err != nil {
		return fmt.Errorf("create the §9 workflow with a dedupe key: %w", err)
	}
	b.githubKey, b.dedupeKey = g.Key, d.Key
	return nil
}

// createAsyncWorkflows creates n more async workflows, 32 at a time.
func (b *bench) createAsyncWorkflows(ctx context.Context, n int) error {
	if n <= 0 {
		return nil
	}
	t0 := time.Now()
	keys := make([]string, n)
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				var c created
				err := b.api(ctx, "POST", "/api/v1/workflows", []byte(fmt.Sprintf(asyncDoc, fmt.Sprintf("bench async %d", len(b.asyncKeys)+i))), &c)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				keys[i] = c.Key
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("create workflows: %w", firstErr)
	}
	b.asyncKeys = append(b.asyncKeys, keys...)
	d := time.Since(t0)
	b.note("created %s workflows through the API in %.1f s (%.0f/s, 32 at a time)", fmtThousands(float64(n)), d.Seconds(), float64(n)/d.Seconds())
	return nil
}

// sanity checks once that the baseline and Hookflow answer the §9 request
// alike, and that the async endpoint accepts.
func (b *bench) sanity(ctx context.Context) error {
	post := func(u string, auth bool) (int, http.Header, string, error) {
		req, _ := http.NewRequestWithContext(ctx, "POST", u, strings.NewReader(paidOrder))
		req.Header.Set("Content-Type", "application/json")
		if auth {
			req.SetBasicAuth("hook", "s3cret")
		}
		req.Header.Set("X-Hub-Signature-256", githubSignature)
		req.Header.Set("X-Request-Id", "sanity")
		resp, err := apiClient.Do(req)
		if err != nil {
			return 0, nil, "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(body), nil
	}
	for _, t := range []struct {
		name string
		url  string
	}{{"baseline", b.base.url(syncPath("baseline"))}, {"hookflow sync", b.hf.url(syncPath(b.syncKey))},
		{"hookflow sync with github verification", b.hf.url(syncPath(b.githubKey))}, {"hookflow sync with a dedupe key", b.hf.url(syncPath(b.dedupeKey))}} {
		st, h, body, err := post(t.url, true)
		if err != nil {
			return fmt.Errorf("sanity %s: %w", t.name, err)
		}
		if st != 200 || h.Get("X-Order") != "12345" || body != `{"ok":true,"id":12345}` {
			return fmt.Errorf("sanity %s: got %d X-Order=%q %s", t.name, st, h.Get("X-Order"), body)
		}
	}
	st, _, body, err := post(b.hf.url(syncPath(b.asyncKey)), false)
	if err != nil || st != 200 {
		return fmt.Errorf("sanity async: %d %s %v", st, body, err)
	}
	_, err = b.waitQueueEmpty(ctx, 10*time.Second)
	return err
}

// ---------------------------------------------------------------------------
// Direct database access (server stopped, or read-only polling)

func (b *bench) dbPath() string { return filepath.Join(b.dataDir, db.FileName) }

func (b *bench) openRead() (*sql.DB, error) {
	d, err := sql.Open("sqlite", "file:"+b.dbPath()+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		return nil, err
	}
	d.SetMaxOpenConns(1)
	return d, nil
}

// pending counts queued and running executions (the partial index).
func (b *bench) pending(ctx context.Context) (int64, error) {
	d, err := b.openRead()
	if err != nil {
		return 0, err
	}
	defer d.Close()
	return countPending(ctx, d)
}

func countPending(ctx context.Context, d *sql.DB) (int64, error) {
	var n int64
	err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM executions WHERE status IN ('queued', 'running', 'waiting')`).Scan(&n)
	return n, err
}

// waitQueueEmpty polls until no execution is queued or running, or max
// has passed; it returns how many are left.
func (b *bench) waitQueueEmpty(ctx context.Context, limit time.Duration) (int64, error) {
	d, err := b.openRead()
	if err != nil {
		return 0, err
	}
	defer d.Close()
	deadline := time.Now().Add(limit)
	for {
		n, err := countPending(ctx, d)
		if err != nil {
			return 0, err
		}
		if n == 0 || time.Now().After(deadline) {
			return n, nil
		}
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// cloneMode says what the copies of cloneExecutions are.
type cloneMode int

const (
	cloneFinished cloneMode = iota // the template's outcome
	cloneQueued                    // queued, due at their creation
	cloneWaiting                   // waiting until dueAt, their first job's dueAt set to it
)

// cloneExecutions inserts n copies of the template execution tmpl with ids
// from firstID up, in transactions of 100,000 rows: a recursive CTE makes
// the rows inside SQLite, so a million take seconds.
func (b *bench) cloneExecutions(ctx context.Context, tmpl, firstID int64, n int, mode cloneMode, createdAt, dueAt time.Time) error {
	d, err := sql.Open("sqlite", "file:"+b.dbPath()+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)&_pragma=foreign_keys(ON)")
	if err != nil {
		return err
	}
	defer d.Close()
	d.SetMaxOpenConns(1)
	var outcome string
	due := any(nil)
	switch mode {
	case cloneFinished:
		outcome = `t.status, t.jobs, t.response, t.error, t.attempts, t.started_at, t.finished_at`
	case cloneQueued:
		outcome = `'queued', NULL, NULL, '', 0, NULL, NULL`
		due = createdAt.UnixMilli()
	case cloneWaiting:
		outcome = `'waiting', json_set(t.jobs, '$[0].dueAt', '` + dueAt.UTC().Format(time.RFC3339Nano) + `'), NULL, '', 1, t.started_at, NULL`
		due = dueAt.UnixMilli()
	}
	q := `WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ?)
INSERT INTO executions (id, workflow_id, revision, mode, method, query, body, context, status, jobs, response, error, attempts, started_at, finished_at, created_at, due_at)
SELECT ? + seq.n, t.workflow_id, t.revision, t.mode, t.method, t.query, t.body, t.context, ` + outcome + `, ?, ?
FROM seq, (SELECT * FROM executions WHERE id = ?) AS t`
	const chunk = 100_000
	for done := 0; done < n; done += chunk {
		m := min(chunk, n-done)
		tx, err := d.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, q, m, firstID+int64(done), createdAt.UnixMilli(), due, tmpl)
		if err != nil {
			tx.Rollback()
			return fmt.Errorf("clone executions: %w", err)
		}
		if k, _ := res.RowsAffected(); k != int64(m) {
			tx.Rollback()
			return fmt.Errorf("clone executions: inserted %d of %d (template %d missing?)", k, m, tmpl)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE workflows SET execution_count = execution_count + ? WHERE id = (SELECT workflow_id FROM executions WHERE id = ?)`, m, tmpl); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	_, err = d.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

// maxID is the largest execution id stored.
func (b *bench) maxID(ctx context.Context) (int64, error) {
	d, err := b.openRead()
	if err != nil {
		return 0, err
	}
	defer d.Close()
	var id int64
	err = d.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM executions`).Scan(&id)
	return id, err
}

// storedCount is how many executions are stored.
func (b *bench) storedCount(ctx context.Context) (int64, error) {
	d, err := b.openRead()
	if err != nil {
		return 0, err
	}
	defer d.Close()
	var n int64
	err = d.QueryRowContext(ctx, `SELECT COUNT(*) FROM executions`).Scan(&n)
	return n, err
}

// template returns the newest execution of the async workflow with the
// given status.
func (b *bench) template(ctx context.Context, workflowID int64, status string) (int64, error) {
	d, err := b.openRead()
	if err != nil {
		return 0, err
	}
	defer d.Close()
	var id int64
	err = d.QueryRowContext(ctx, `SELECT id FROM executions WHERE workflow_id = ? AND status = ? ORDER BY id DESC LIMIT 1`, workflowID, status).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("no %s execution of the async workflow to copy: %w", status, err)
	}
	return id, nil
}

// drain stops Hookflow, queues drainN executions of the 3-node flow
// directly in the database, starts Hookflow again and measures how fast the
// workers empty the queue (between 10% and 90% done, so that start-up and
// the tail do not count).
func (b *bench) drain(ctx context.Context) error {
	n := b.cfg.drainN
	name := fmt.Sprintf("(d) async drain: %s queued 3-node executions (executions/s)", fmtThousands(float64(n)))
	b.logf("%s", name)
	if _, err := b.waitQueueEmpty(ctx, 60*time.Second); err != nil {
		return err
	}
	tmpl, err := b.template(ctx, b.asyncID, "resolved")
	if err != nil {
		return err
	}
	r, err := b.drainCopies(ctx, name, tmpl, n)
	if err != nil {
		return err
	}
	b.drainRate = r.RPS
	return nil
}

// drainCopies stops Hookflow, queues n copies of execution tmpl directly
// in the database, starts Hookflow again and measures how fast the runner
// empties the queue (between 10% and 90% done, so that start-up and the
// tail do not count). It adds the row and returns it.
func (b *bench) drainCopies(ctx context.Context, name string, tmpl int64, n int) (row, error) {
	b.hf.stop()
	// The queued rows are the newest, as they are in production: every
	// finished execution sorts before them.
	created := time.Now()
	first := engine.FirstIDAt(created)
	if maxID, err := b.maxID(ctx); err != nil {
		return row{}, err
	} else if first <= maxID {
		first = maxID + 1
	}
	t0 := time.Now()
	if err := b.cloneExecutions(ctx, tmpl, first, n, cloneQueued, created, time.Time{}); err != nil {
		return row{}, err
	}
	b.logf("  queued %d executions in %.1f s", n, time.Since(t0).Seconds())

	stored, err := b.storedCount(ctx)
	if err != nil {
		return row{}, err
	}
	d, err := b.openRead()
	if err != nil {
		return row{}, err
	}
	defer d.Close()
	type sample struct {
		t    time.Time
		left int64
	}
	if err := b.startHookflow(ctx); err != nil {
		return row{}, err
	}
	s := startSampler(b.hf.pid())
	var samples []sample
	deadline := time.Now().Add(b.cfg.drainMax)
	for {
		left, err := countPending(ctx, d)
		if err != nil {
			s.finish()
			return row{}, err
		}
		samples = append(samples, sample{time.Now(), left})
		if left == 0 || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			s.finish()
			return row{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	rss, cpu := s.finish()
	b.busyCheck(name, s.others)
	// Rate between 10% and 90% done.
	total := float64(n)
	var t10, t90 time.Time
	var l10, l90 int64
	for _, sm := range samples {
		done := total - float64(sm.left)
		if t10.IsZero() && done >= 0.1*total {
			t10, l10 = sm.t, sm.left
		}
		if t90.IsZero() && done >= 0.9*total {
			t90, l90 = sm.t, sm.left
		}
	}
	last := samples[len(samples)-1]
	var rate float64
	switch {
	case !t10.IsZero() && !t90.IsZero() && t90.After(t10):
		rate = float64(l10-l90) / t90.Sub(t10).Seconds()
	case len(samples) > 1:
		rate = (total - float64(last.left)) / last.t.Sub(samples[0].t).Seconds()
	}
	if last.left > 0 {
		b.note("%s: %s still pending after %s", name, fmtThousands(float64(last.left)), b.cfg.drainMax)
	}
	// Outcomes of the copies: errors are those that finished otherwise
	// than resolved (the pending ones are in the note above).
	var bad int64
	err = d.QueryRowContext(ctx, `SELECT COUNT(*) FROM executions WHERE id >= ? AND id < ? AND status NOT IN ('resolved', 'queued', 'running', 'waiting')`, first, first+int64(n)).Scan(&bad)
	if err != nil {
		return row{}, err
	}
	r := row{Scenario: name, RPS: rate, Errors: bad, RSS: rss, Stored: stored}
	if done := total - float64(last.left); done > 0 {
		r.CPUPerReq = time.Duration(float64(cpu) / done)
	}
	b.logf("  %.0f executions/s, %d finished but not resolved, %d still pending", rate, bad, last.left)
	b.rows = append(b.rows, r)
	return r, nil
}

// stored fills the database up with storedN finished executions of the
// async workflow, restarts Hookflow and measures the accept again.
func (b *bench) stored(ctx context.Context, paid []byte, plain []header) error {
	n := b.cfg.storedN
	if _, err := b.waitQueueEmpty(ctx, 60*time.Second); err != nil {
		return err
	}
	tmpl, err := b.template(ctx, b.asyncID, "resolved")
	if err != nil {
		return err
	}
	b.hf.stop()
	created := time.Now().Add(-48 * time.Hour)
	t0 := time.Now()
	b.logf("storing %d executions directly in the database", n)
	if err := b.cloneExecutions(ctx, tmpl, engine.FirstIDAt(created), n, cloneFinished, created, time.Time{}); err != nil {
		return err
	}
	fill := time.Since(t0)
	var total int64
	d, err := b.openRead()
	if err != nil {
		return err
	}
	err = d.QueryRowContext(ctx, `SELECT COUNT(*) FROM executions`).Scan(&total)
	d.Close()
	if err != nil {
		return err
	}
	fi, _ := os.Stat(b.dbPath())
	t1 := time.Now()
	if err := b.startHookflow(ctx); err != nil {
		return err
	}
	start := time.Since(t1)
	var size int64
	if fi != nil {
		size = fi.Size()
	}
	b.note("stored %s executions in %.1f s (database %d MB, %s rows in all); Hookflow then started (until /healthz answered) in %.2f s",
		fmtThousands(float64(n)), fill.Seconds(), size>>20, fmtThousands(float64(total)), start.Seconds())
	name := fmt.Sprintf("(e) async accept with %s executions stored", fmtThousands(float64(total)))
	_, err = b.measureHF(ctx, name, []string{b.hf.url(syncPath(b.asyncKey))}, b.cfg.conns, paid, plain)
	return err
}

// printTargets checks the numbers against issue 6.
func (b *bench) printTargets() {
	find := func(prefix string) *row {
		for i := range b.rows {
			if strings.HasPrefix(b.rows[i].Scenario, prefix) {
				return &b.rows[i]
			}
		}
		return nil
	}
	mark := func(ok bool) string {
		if ok {
			return "[x]"
		}
		return "[ ]"
	}
	fmt.Fprintln(b.out, "Targets (issue 6, same run):")
	for _, p := range []struct{ prefix, label string }{{"(b)", "async accept"}, {"(c)", "sync §9"}} {
		if r := find(p.prefix); r != nil {
			fmt.Fprintf(b.out, "- %s %s ≥ 0.6× baseline: %.2f×\n", mark(r.Ratio >= 0.6), p.label, r.Ratio)
			fmt.Fprintf(b.out, "- %s %s p99 < 10 ms at %d connections: %s\n", mark(r.P99 < 10*time.Millisecond), p.label, r.Conns, fmtLatency(r.P99))
			fmt.Fprintf(b.out, "- %s %s without errors: %d\n", mark(r.Errors == 0), p.label, r.Errors)
		}
	}
	if on, off, ok := b.metricsCostSides(); ok {
		fmt.Fprintf(b.out, "- %s async accept with metrics within 5%% of the observer off (issue 13, best of %d rounds each, busy rows left out): %+.1f%% requests/s, %+.1f%% server CPU per request\n",
			mark(on.RPS >= 0.95*off.RPS), metricsCostRounds, 100*(on.RPS/off.RPS-1), 100*(float64(on.CPUPerReq)/float64(off.CPUPerReq)-1))
	}
	if r := find("(d)"); r != nil {
		fmt.Fprintf(b.out, "- %s async drain ≥ 20,000 executions/s: %s/s\n", mark(r.RPS >= 20000), fmtThousands(r.RPS))
	}
	if r := find("(f) drain"); r != nil {
		fmt.Fprintf(b.out, "- %s 1-request-node executions ≥ 10,000/s, sink included (issue 10): %s/s\n", mark(r.RPS >= 10000), fmtThousands(r.RPS))
	}
	if b.wakeAll > 0 {
		fmt.Fprintf(b.out, "- %s waiting executions wake within a second of their due time (issue 10): first after %d ms, all %s after %.2f s\n",
			mark(b.wakeFirst < time.Second), b.wakeFirst.Milliseconds(), fmtThousands(float64(b.cfg.waitN)), b.wakeAll.Seconds())
	}
	if plain := find("(c) sync §9 example, paid order"); plain != nil && plain.RPS > 0 {
		for _, p := range []struct{ prefix, label string }{{"(c) sync §9 example with github verification", "github verification"}, {"(c) sync §9 example with a dedupe key", "a dedupe key"}} {
			if r := find(p.prefix); r != nil {
				ratio := r.RPS / plain.RPS
				fmt.Fprintf(b.out, "- %s sync §9 with %s within 15%% of the plain row (issue 11): %.2f×\n", mark(ratio >= 0.85), p.label, ratio)
			}
		}
	}
	var maxRSS int64
	for _, r := range b.rows {
		if !strings.Contains(r.Scenario, "baseline") && r.RSS > maxRSS {
			maxRSS = r.RSS
		}
	}
	fmt.Fprintf(b.out, "- %s Hookflow RSS < 150 MB during the run: max %d MB\n\n", mark(maxRSS < 150<<20), (maxRSS+(1<<19))>>20)
}
