package outbound

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// dialLog is a Config.Dial that records every address dialled and dials
// loopback only: a test that would reach anything else fails instead.
type dialLog struct {
	t     *testing.T
	mu    sync.Mutex
	addrs []string
}

func (d *dialLog) dial(ctx context.Context, network, address string) (net.Conn, error) {
	d.mu.Lock()
	d.addrs = append(d.addrs, address)
	d.mu.Unlock()
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		d.t.Errorf("dialled %s: tests dial loopback only", address)
		return nil, errors.New("test: not a loopback address")
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, address)
}

func (d *dialLog) dialled() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.addrs)
}

// fakeResolver answers from a table, in turn for a host with several
// answers (the last one repeats), and never asks real DNS.
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	lookups map[string]int
}

func newResolver(answers map[string][]string) *fakeResolver {
	r := &fakeResolver{answers: map[string][][]netip.Addr{}, lookups: map[string]int{}}
	for host, seq := range answers {
		for _, s := range seq {
			var ips []netip.Addr
			for _, a := range strings.Split(s, ",") {
				ips = append(ips, netip.MustParseAddr(a))
			}
			r.answers[host] = append(r.answers[host], ips)
		}
	}
	return r
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seq, ok := r.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	i := min(r.lookups[host], len(seq)-1)
	r.lookups[host]++
	return seq[i], nil
}

// server is a loopback test server that counts requests and connections.
type server struct {
	*httptest.Server
	hits  atomic.Int64
	conns atomic.Int64
}

func newServer(t *testing.T, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// port is the server's port, for URLs with a fake host name.
func (s *server) port() string {
	_, p, _ := net.SplitHostPort(s.Listener.Addr().String())
	return p
}

// newTLSServer is httptest.NewTLSServer without the log lines of the
// handshakes the tests make fail on purpose.
func newTLSServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func do(t *testing.T, c *Client, r *engine.OutboundRequest) *engine.OutboundResponse {
	t.Helper()
	resp, err := c.Do(context.Background(), r)
	if err != nil {
		t.Fatalf("Do(%s %s): %v", r.Method, r.URL, err)
	}
	return resp
}

// wantErr checks that err is an *engine.Error with the code and a message
// that contains msg.
func wantErr(t *testing.T, err error, code, msg string) *engine.Error {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %#v, want *engine.Error %s", err, code)
	}
	if e.Code != code || !strings.Contains(e.Message, msg) {
		t.Fatalf("error = %s %q, want %s containing %q", e.Code, e.Message, code, msg)
	}
	return e
}

func TestNew(t *testing.T) {
	t.Parallel()
	c := newClient(t, Config{})
	if c.deny != DenyMetadata || c.maxRedirects != 5 || c.transport.MaxIdleConnsPerHost != 64 ||
		c.transport.IdleConnTimeout != DefaultIdleConnTimeout {
		t.Errorf("defaults: deny %v, redirects %d, idle per host %d, idle timeout %v",
			c.deny, c.maxRedirects, c.transport.MaxIdleConnsPerHost, c.transport.IdleConnTimeout)
	}
	if c.transport.Proxy != nil {
		t.Error("the transport takes a proxy: HTTP_PROXY would bypass the address policy")
	}
	for _, bad := range []Config{{Deny: Policy(3)}, {MaxRedirects: -1}, {MaxIdleConnsPerHost: -1}, {IdleConnTimeout: -time.Second}} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v) accepted", bad)
		}
	}
}

func TestDoStatusAndHeaders(t *testing.T) {
	t.Parallel()
	type seen struct {
		method, host, body string
		header             http.Header
	}
	got := make(chan seen, 1)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.Host, string(b), r.Header.Clone()}
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.Header().Set("X-Zeta", "last")
		w.Header().Set("Content-Type", "application/json")
		status := 200
		fmt.Sscan(r.URL.Query().Get("status"), &status)
		w.WriteHeader(status)
		io.WriteString(w, `{"ok":true}`)
	})
	c := newClient(t, Config{})

	for _, status := range []int{200, 201, 204, 301, 404, 429, 500, 503} {
		resp := do(t, c, &engine.OutboundRequest{Method: "GET", URL: fmt.Sprintf("%s/s?status=%d", srv.URL, status)})
		<-got
		if resp.Status != status {
			t.Errorf("status %d: got %d", status, resp.Status)
		}
		wantBody := `{"ok":true}`
		if status == 204 {
			wantBody = ""
		}
		if string(resp.Body) != wantBody || resp.Truncated {
			t.Errorf("status %d: body %q truncated %v", status, resp.Body, resp.Truncated)
		}
	}

	resp := do(t, c, &engine.OutboundRequest{
		Method: "POST", URL: srv.URL + "/orders/7?x=1",
		Headers: []engine.HeaderValue{
			{Name: "content-type", Value: "application/json"},
			{Name: "X-Multi", Value: "one"},
			{Name: "x-multi", Value: "two"},
			{Name: "Idempotency-Key", Value: "ex1-notify"},
			{Name: "Host", Value: "api.example.com"},
		},
		Body: []byte(`{"status":"paid"}`),
	})
	s := <-got
	if s.method != "POST" || s.host != "api.example.com" || s.body != `{"status":"paid"}` {
		t.Errorf("server saw %s host %q body %q", s.method, s.host, s.body)
	}
	if v := s.header["X-Multi"]; !slices.Equal(v, []string{"one", "two"}) {
		t.Errorf("X-Multi = %q, want one, two in order", v)
	}
	if s.header.Get("Content-Type") != "application/json" || s.header.Get("Idempotency-Key") != "ex1-notify" {
		t.Errorf("headers %v", s.header)
	}
	// The port adds nothing but what HTTP needs: no Go User-Agent, no
	// Accept-Encoding.
	for _, h := range []string{"User-Agent", "Accept-Encoding", "Referer"} {
		if v, ok := s.header[h]; ok {
			t.Errorf("request carries %s %q the caller did not set", h, v)
		}
	}
	want := []engine.HeaderValue{
		{Name: "content-length", Value: "11"},
		{Name: "content-type", Value: "application/json"},
		{Name: "date", Value: ""},
		{Name: "set-cookie", Value: "a=1"},
		{Name: "set-cookie", Value: "b=2"},
		{Name: "x-zeta", Value: "last"},
	}
	if len(resp.Headers) != len(want) {
		t.Fatalf("headers %v, want %v", resp.Headers, want)
	}
	for i, h := range resp.Headers {
		if h.Name != want[i].Name || want[i].Value != "" && h.Value != want[i].Value {
			t.Errorf("header %d = %v, want %v", i, h, want[i])
		}
	}
	if resp.URL != srv.URL+"/orders/7?x=1" {
		t.Errorf("URL %q", resp.URL)
	}

	do(t, c, &engine.OutboundRequest{Method: "GET", URL: srv.URL, Headers: []engine.HeaderValue{{Name: "User-Agent", Value: "Hookflow/1.0"}}})
	if ua := (<-got).header.Get("User-Agent"); ua != "Hookflow/1.0" {
		t.Errorf("User-Agent = %q", ua)
	}
	do(t, c, &engine.OutboundRequest{Method: "POST", URL: srv.URL})
	if s := <-got; s.header.Get("Content-Length") != "" && s.header.Get("Content-Length") != "0" || s.body != "" {
		t.Errorf("empty POST: %v %q", s.header, s.body)
	}
}

func TestDoKeepsConnectionsAlive(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	c := newClient(t, Config{})
	for range 20 {
		do(t, c, &engine.OutboundRequest{Method: "POST", URL: srv.URL, Body: []byte("x")})
	}
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("20 calls opened %d connections, want 1", n)
	}
}

func TestDoBodyLimit(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.URL.Query().Get("n"), &n)
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", fmt.Sprint(n))
		}
		chunk := bytes.Repeat([]byte("a"), 4096)
		for n > 0 {
			k := min(n, len(chunk))
			if _, err := w.Write(chunk[:k]); err != nil {
				return
			}
			n -= k
			w.(http.Flusher).Flush()
		}
	})
	c := newClient(t, Config{})
	const mib = 1 << 20
	for _, tc := range []struct {
		n       int
		maxBody int64
		chunked bool
		want    int
		trunc   bool
	}{
		{0, 0, false, 0, false},
		{100, 0, false, 100, false},
		{mib, 0, false, mib, false},
		{mib + 1, 0, false, mib, true},
		{3 * mib, 0, false, mib, true},
		{mib, 0, true, mib, false},
		{mib + 1, 0, true, mib, true},
		{3 * mib, 0, true, mib, true},
		{10, 10, false, 10, false},
		{11, 10, false, 10, true},
		{100, 10, true, 10, true},
	} {
		name := fmt.Sprintf("n=%d max=%d chunked=%v", tc.n, tc.maxBody, tc.chunked)
		url := fmt.Sprintf("%s/?n=%d", srv.URL, tc.n)
		if tc.chunked {
			url += "&chunked=1"
		}
		resp := do(t, c, &engine.OutboundRequest{Method: "GET", URL: url, MaxBody: tc.maxBody})
		if len(resp.Body) != tc.want || resp.Truncated != tc.trunc {
			t.Errorf("%s: kept %d truncated %v, want %d %v", name, len(resp.Body), resp.Truncated, tc.want, tc.trunc)
		}
	}
}

// TestDoBodyLimitConnections: a little over the limit is drained and the
// connection reused; far over it the connection is closed, not read to the
// end.
func TestDoBodyLimitConnections(t *testing.T) {
	t.Parallel()
	var written atomic.Int64
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.URL.Query().Get("n"), &n)
		w.Header().Set("Content-Length", fmt.Sprint(n))
		buf := bytes.Repeat([]byte("b"), 1024)
		for n > 0 {
			k, err := w.Write(buf[:min(n, len(buf))])
			written.Add(int64(k))
			if err != nil {
				return
			}
			n -= k
		}
	})
	c := newClient(t, Config{})
	for range 3 {
		resp := do(t, c, &engine.OutboundRequest{Method: "GET", URL: srv.URL + "/?n=5000", MaxBody: 100})
		if !resp.Truncated || len(resp.Body) != 100 {
			t.Fatalf("kept %d truncated %v", len(resp.Body), resp.Truncated)
		}
	}
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("3 slightly truncated replies used %d connections, want 1 (drained and reused)", n)
	}
	resp := do(t, c, &engine.OutboundRequest{Method: "GET", URL: srv.URL + "/?n=104857600", MaxBody: 100})
	if !resp.Truncated || len(resp.Body) != 100 {
		t.Fatalf("100 MB reply: kept %d truncated %v", len(resp.Body), resp.Truncated)
	}
	do(t, c, &engine.OutboundRequest{Method: "GET", URL: srv.URL + "/?n=1"})
	if n := srv.conns.Load(); n != 2 {
		t.Errorf("after a 100 MB reply, %d connections, want 2 (the big one closed)", n)
	}
	// Socket buffers hold a few MB at most: the 100 MB were not all read.
	if w := written.Load(); w > 50<<20 {
		t.Errorf("server wrote %d bytes of a 100 MB reply with MaxBody 100", w)
	}
}

func TestDoTimeout(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stall-body" {
			w.Header().Set("Content-Length", "100")
			io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done()
	})
	c := newClient(t, Config{})

	start := time.Now()
	_, err := c.Do(context.Background(), &engine.OutboundRequest{Method: "GET", URL: srv.URL + "/sleep?token=SECRET", Timeout: 100 * time.Millisecond})
	e := wantErr(t, err, engine.OutboundTimeout, "timed out after 100ms")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout took %v", d)
	}
	if strings.Contains(e.Message, "SECRET") || strings.Contains(e.Message, "127.0.0.1") {
		t.Errorf("message %q leaks the URL", e.Message)
	}

	_, err = c.Do(context.Background(), &engine.OutboundRequest{Method: "GET", URL: srv.URL + "/stall-body", Timeout: 100 * time.Millisecond})
	wantErr(t, err, engine.OutboundTimeout, "timed out after 100ms")

	// The caller's deadline (the workflow's) counts as a timeout too.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = c.Do(ctx, &engine.OutboundRequest{Method: "GET", URL: srv.URL + "/sleep", Timeout: time.Minute})
	wantErr(t, err, engine.OutboundTimeout, "timed out after")

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = c.Do(ctx, &engine.OutboundRequest{Method: "GET", URL: srv.URL + "/sleep"})
	wantErr(t, err, engine.OutboundConnect, "canceled")
}

func TestDoConnectionErrors(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	c := newClient(t, Config{})
	_, err = c.Do(context.Background(), &engine.OutboundRequest{
		Method: "POST", URL: "http://" + closed + "/hook?token=SECRET",
		Headers: []engine.HeaderValue{{Name: "Authorization", Value: "Bearer SECRET"}},
	})
	e := wantErr(t, err, engine.OutboundConnect, "connection refused by "+closed)
	if strings.Contains(e.Message, "SECRET") {
		t.Errorf("message %q leaks a secret", e.Message)
	}

	// A server that hangs up without a reply.
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			io.ReadAtLeast(conn, make([]byte, 16), 1)
			conn.Close()
		}
	}()
	_, err = c.Do(context.Background(), &engine.OutboundRequest{Method: "POST", URL: "http://" + ln.Addr().String() + "/?k=SECRET", Body: []byte("x")})
	e = wantErr(t, err, engine.OutboundConnect, "")
	if strings.Contains(e.Message, "SECRET") || e.Message == "" {
		t.Errorf("hang-up message %q", e.Message)
	}

	// A server that answers garbage.
	garbage, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer garbage.Close()
	go func() {
		for {
			conn, err := garbage.Accept()
			if err != nil {
				return
			}
			io.ReadAtLeast(conn, make([]byte, 16), 1)
			io.WriteString(conn, "HTTP/1.1 twohundred OK\r\n\r\n")
			conn.Close()
		}
	}()
	_, err = c.Do(context.Background(), &engine.OutboundRequest{Method: "GET", URL: "http://" + garbage.Addr().String() + "/?k=SECRET"})
	e = wantErr(t, err, engine.OutboundConnect, "malformed HTTP status code")
	if strings.Contains(e.Message, "SECRET") || strings.Contains(e.Message, "net/http") {
		t.Errorf("garbage reply: %q", e.Message)
	}

	// Reply headers beyond 128 KiB.
	big := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Big", strings.Repeat("h", 200<<10))
	})
	_, err = c.Do(context.Background(), &engine.OutboundRequest{Method: "GET", URL: big.URL})
	wantErr(t, err, engine.OutboundConnect, "reply headers larger than 128 KiB")

	// An unknown host (fake DNS).
	c = newClient(t, Config{Resolver: newResolver(nil)})
	_, err = c.Do(context.Background(), &engine.OutboundRequest{Method: "GET", URL: "http://nowhere.test/?k=SECRET"})
	wantErr(t, err, engine.OutboundConnect, `host "nowhere.test" not found`)
}

func TestDoTLS(t *testing.T) {
	t.Parallel()
	srv := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) })

	c := newClient(t, Config{})
	_, err := c.Do(context.Background(), &engine.OutboundRequest{Method: "GET", URL: srv.URL + "/?k=SECRET"})
	e := wantErr(t, err, engine.OutboundConnect, "TLS handshake failed: x509: certificate signed by unknown authority")
	if strings.Contains(e.Message, "SECRET") {
		t.Errorf("message %q leaks the query", e.Message)
	}

	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c = newClient(t, trust(pool))
	resp := do(t, c, &engine.OutboundRequest{Method: "GET", URL: srv.URL})
	if resp.Status != 200 {
		t.Errorf("status %d", resp.Status)
	}

	// https to a plain HTTP server.
	plain := newServer(t, func(w http.ResponseWriter, r *http.Request) {})
	_, err = c.Do(context.Background(), &engine.OutboundRequest{Method: "GET", URL: strings.Replace(plain.URL, "http", "https", 1)})
	wantErr(t, err, engine.OutboundConnect, "TLS handshake failed: the server answers plain HTTP (use http://)")
}

func TestDoInvalid(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {})
	c := newClient(t, Config{})
	for _, tc := range []struct {
		r   engine.OutboundRequest
		msg string
	}{
		{engine.OutboundRequest{Method: "GET", URL: "ftp://example.com/file"}, `unsupported URL scheme "ftp"`},
		{engine.OutboundRequest{Method: "GET", URL: "file:///etc/passwd"}, `unsupported URL scheme "file"`},
		{engine.OutboundRequest{Method: "GET", URL: "example.com/hook"}, "without a scheme"},
		{engine.OutboundRequest{Method: "GET", URL: "http:///hook?k=SECRET"}, "without a host"},
		{engine.OutboundRequest{Method: "GET", URL: "https://user:SECRET@example.com/"}, "credentials"},
		{engine.OutboundRequest{Method: "GET", URL: "https://user:SE%zzCRET@example.com/"}, "invalid URL: bad percent-escape"},
		{engine.OutboundRequest{Method: "GET", URL: "http://exa mple.com/?k=SECRET"}, "invalid URL"},
		{engine.OutboundRequest{Method: "GET", URL: "http://example.com:SECRET/"}, "invalid URL"},
		{engine.OutboundRequest{Method: "GET", URL: "http://example.com/\x7f?k=SECRET"}, "invalid URL"},
		{engine.OutboundRequest{Method: "", URL: srv.URL}, "no method"},
		{engine.OutboundRequest{Method: "GE T", URL: srv.URL}, `invalid method "GE T"`},
		{engine.OutboundRequest{Method: "GET", URL: srv.URL, Headers: []engine.HeaderValue{{Name: "X Bad", Value: "v"}}}, `invalid header name "X Bad"`},
		{engine.OutboundRequest{Method: "GET", URL: srv.URL, Headers: []engine.HeaderValue{{Name: "X-Token", Value: "SECRET\r\nX-Evil: 1"}}}, `invalid value for header "X-Token"`},
		{engine.OutboundRequest{Method: "GET", URL: srv.URL, Timeout: -time.Second}, "negative"},
		{engine.OutboundRequest{Method: "GET", URL: srv.URL, MaxBody: -1}, "negative"},
	} {
		_, err := c.Do(context.Background(), &tc.r)
		e := wantErr(t, err, engine.OutboundInvalid, tc.msg)
		if strings.Contains(e.Message, "SECRET") || strings.Contains(e.Message, "SE%zz") {
			t.Errorf("%s %q: message %q leaks a secret", tc.r.Method, tc.r.URL, e.Message)
		}
	}
	if _, err := c.Do(context.Background(), nil); engine.ErrorCode(err) != engine.OutboundInvalid {
		t.Errorf("Do(nil) = %v", err)
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("invalid requests reached the server %d times", n)
	}
}

// TestNoProxyFromEnvironment: HTTP_PROXY would send the call to the proxy,
// which dials the target itself, past the address policy.
func TestNoProxyFromEnvironment(t *testing.T) {
	proxy := newServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "proxy") })
	target := newServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "target") })
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)
	t.Setenv("NO_PROXY", "")
	c := newClient(t, Config{Resolver: newResolver(map[string][]string{"target.test": {"127.0.0.1"}})})
	resp := do(t, c, &engine.OutboundRequest{Method: "GET", URL: "http://target.test:" + target.port() + "/"})
	if string(resp.Body) != "target" || proxy.hits.Load() != 0 {
		t.Errorf("body %q, proxy hits %d", resp.Body, proxy.hits.Load())
	}
}

// TestDialFallback: with addresses of both families, the second family is
// tried after a short delay when the first does not answer, as net.Dialer
// does; addresses refused by the policy are skipped.
func TestDialFallback(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	res := newResolver(map[string][]string{
		"dual.test":  {"2001:db8::1,127.0.0.1"},
		"dual6.test": {"2001:db8::1,2001:db8::2,fd00:ec2::254,127.0.0.1"},
	})
	var mu sync.Mutex
	var dialled []string
	dial := func(ctx context.Context, network, address string) (net.Conn, error) {
		mu.Lock()
		dialled = append(dialled, address)
		mu.Unlock()
		if ap := netip.MustParseAddrPort(address); !ap.Addr().IsLoopback() {
			<-ctx.Done() // a black hole; nothing is sent
			return nil, ctx.Err()
		}
		var d net.Dialer
		return d.DialContext(ctx, network, address)
	}
	c := newClient(t, Config{Resolver: res, Dial: dial})
	for _, host := range []string{"dual.test", "dual6.test"} {
		start := time.Now()
		resp := do(t, c, &engine.OutboundRequest{Method: "GET", URL: "http://" + host + ":" + srv.port() + "/", Timeout: 10 * time.Second})
		if d := time.Since(start); string(resp.Body) != "ok" || d > 3*time.Second {
			t.Errorf("%s: %q after %v", host, resp.Body, d)
		}
		c.CloseIdleConnections()
	}
	mu.Lock()
	defer mu.Unlock()
	for _, a := range dialled {
		if strings.Contains(a, "fd00:ec2::254") {
			t.Errorf("dialled the refused %s", a)
		}
	}
	if len(dialled) < 3 || !strings.HasPrefix(dialled[0], "[2001:db8::1]") {
		t.Errorf("dialled %v", dialled)
	}

	// Every address fails: the call's timeout is what is reported.
	_, err := c.Do(context.Background(), &engine.OutboundRequest{Method: "GET", URL: "http://dual.test:1/", Timeout: 500 * time.Millisecond})
	wantErr(t, err, engine.OutboundTimeout, "timed out after 500ms")
}
