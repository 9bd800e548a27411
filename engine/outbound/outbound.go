// Package outbound is the HTTP client of request nodes (product.md §13): it
// implements engine.Outbound with net/http, one attempt per call; the
// request node in engine does the retries, templates and standard headers.
//
// It is the one package below web that uses net/http. Every address it
// connects to passes the outbound Policy first (see Policy), checked on the
// IP actually dialled, so that neither a hostname, a redirect nor DNS
// rebinding can reach a refused address. Proxies from the environment are
// ignored (HTTP_PROXY would dial the proxy instead of the target and bypass
// the policy), no cookies are kept, and replies are not decompressed.
//
// Errors are *engine.Error values with one of the engine.Outbound* codes and
// a message that is safe to store and show: never the URL's query string or
// credentials, never a header value.
package outbound

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// Defaults of Config.
const (
	DefaultMaxRedirects        = 5
	DefaultMaxIdleConnsPerHost = 64
	DefaultIdleConnTimeout     = 90 * time.Second
)

const (
	// connectTimeout bounds one TCP connect when the call itself has no
	// shorter deadline.
	connectTimeout = 30 * time.Second
	// maxHeaderBytes bounds the reply header: headers are stored with the
	// job, and net/http's own default is 10 MiB.
	maxHeaderBytes = 128 << 10
	// drainLimit is how much of a truncated body is read and discarded so
	// that the connection can be reused; a longer body closes it instead.
	drainLimit = 64 << 10
)

// Resolver looks up the IP addresses of a host. *net.Resolver implements it;
// tests replace it so that no real DNS query is made.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Config configures a Client. The zero Config is ready to use: policy
// metadata, 5 redirects, 64 idle connections per host.
type Config struct {
	// Deny is the outbound address policy; the zero value is DenyMetadata.
	Deny Policy
	// MaxRedirects is how many redirects a call follows; 0 means
	// DefaultMaxRedirects.
	MaxRedirects int
	// MaxIdleConnsPerHost is how many keep-alive connections per host stay
	// open between calls; 0 means DefaultMaxIdleConnsPerHost.
	MaxIdleConnsPerHost int
	// IdleConnTimeout closes a keep-alive connection unused for that long;
	// 0 means DefaultIdleConnTimeout.
	IdleConnTimeout time.Duration
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver Resolver
	// Dial opens a TCP connection to one "ip:port" that already passed the
	// policy. Nil means a net.Dialer whose Control hook checks the policy
	// once more on the socket about to connect. Tests set it to see which
	// addresses are dialled.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// TLSConfig is the TLS client configuration (a private CA, say); nil
	// means the system roots. It is cloned; TLS 1.2 is the minimum.
	TLSConfig *tls.Config
}

// Client performs request nodes' HTTP calls. It is safe for concurrent use
// and keeps connections alive across calls: make one and share it.
type Client struct {
	deny         Policy
	maxRedirects int
	resolver     Resolver
	dialIP       func(ctx context.Context, network, address string) (net.Conn, error)
	transport    *http.Transport
	client       *http.Client
}

var _ engine.Outbound = (*Client)(nil)

// New returns a Client configured by cfg.
func New(cfg Config) (*Client, error) {
	if int(cfg.Deny) >= len(policyNames) {
		return nil, fmt.Errorf("outbound: new: unknown policy %d", cfg.Deny)
	}
	if cfg.MaxRedirects < 0 || cfg.MaxIdleConnsPerHost < 0 || cfg.IdleConnTimeout < 0 {
		return nil, errors.New("outbound: new: MaxRedirects, MaxIdleConnsPerHost and IdleConnTimeout must not be negative")
	}
	c := &Client{
		deny:         cfg.Deny,
		maxRedirects: cmp.Or(cfg.MaxRedirects, DefaultMaxRedirects),
		resolver:     cfg.Resolver,
		dialIP:       cfg.Dial,
	}
	if c.resolver == nil {
		c.resolver = net.DefaultResolver
	}
	if c.dialIP == nil {
		d := &net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second, Control: cfg.Deny.control}
		c.dialIP = d.DialContext
	}
	tlsConf := &tls.Config{}
	if cfg.TLSConfig != nil {
		tlsConf = cfg.TLSConfig.Clone()
	}
	if tlsConf.MinVersion == 0 {
		tlsConf.MinVersion = tls.VersionTLS12
	}
	perHost := cmp.Or(cfg.MaxIdleConnsPerHost, DefaultMaxIdleConnsPerHost)
	c.transport = &http.Transport{
		Proxy:                  nil,
		DialContext:            c.dial,
		TLSClientConfig:        tlsConf,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           max(1024, perHost),
		MaxIdleConnsPerHost:    perHost,
		IdleConnTimeout:        cmp.Or(cfg.IdleConnTimeout, DefaultIdleConnTimeout),
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: maxHeaderBytes,
		// The body is handed over as received: the caller sets
		// Accept-Encoding if it wants compression, and the size limit
		// applies to the bytes on the wire.
		DisableCompression: true,
	}
	c.client = &http.Client{Transport: c.transport, CheckRedirect: c.checkRedirect}
	return c, nil
}

// CloseIdleConnections closes the keep-alive connections not in use, for a
// clean shutdown.
func (c *Client) CloseIdleConnections() { c.transport.CloseIdleConnections() }

// errCallTimeout is the cause of a call's own timeout, told apart from the
// caller's deadline.
var errCallTimeout = errors.New("outbound: call timed out")

// Do performs one HTTP call. It returns a response for every HTTP reply,
// whatever its status, and an *engine.Error with an Outbound* code when no
// complete reply was received.
func (c *Client) Do(ctx context.Context, r *engine.OutboundRequest) (*engine.OutboundResponse, error) {
	if r == nil {
		return nil, engine.Errorf(engine.OutboundInvalid, "no request")
	}
	if r.Timeout < 0 || r.MaxBody < 0 {
		return nil, engine.Errorf(engine.OutboundInvalid, "negative timeout or body limit")
	}
	start := time.Now()
	if r.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, r.Timeout, errCallTimeout)
		defer cancel()
	}
	req, err := newRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		// After a refused redirect net/http returns the last response too,
		// its body already closed.
		return nil, classify(ctx, err, r, start, false)
	}
	defer resp.Body.Close()
	out := &engine.OutboundResponse{
		Status:  resp.StatusCode,
		Headers: replyHeaders(resp.Header),
		URL:     resp.Request.URL.String(),
	}
	limit := r.MaxBody
	if limit == 0 {
		limit = engine.DefaultOutboundMaxBody
	}
	if resp.Body == http.NoBody {
		// HEAD, 204, 304: Content-Length may announce a body that never comes.
		return out, nil
	}
	out.Body, out.Truncated, err = readBody(resp.Body, limit, resp.ContentLength)
	if err != nil {
		return nil, classify(ctx, err, r, start, true)
	}
	return out, nil
}

// newRequest builds the net/http request of r. Headers go in canonical form
// (HTTP names are case-insensitive) so that net/http recognises
// Authorization and Cookie and drops them on a redirect to another host.
func newRequest(ctx context.Context, r *engine.OutboundRequest) (*http.Request, error) {
	if r.Method == "" {
		return nil, engine.Errorf(engine.OutboundInvalid, "no method")
	}
	if !validToken(r.Method) {
		return nil, engine.Errorf(engine.OutboundInvalid, "invalid method %q", clip(r.Method))
	}
	var body io.Reader = http.NoBody
	if len(r.Body) > 0 {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		return nil, urlParseError(err)
	}
	if err := checkURL(req.URL, false); err != nil {
		return nil, err
	}
	req.Header = make(http.Header, len(r.Headers)+1)
	for _, h := range r.Headers {
		if !validToken(h.Name) {
			return nil, engine.Errorf(engine.OutboundInvalid, "invalid header name %q", clip(h.Name))
		}
		if !validHeaderValue(h.Value) {
			return nil, engine.Errorf(engine.OutboundInvalid, "invalid value for header %q: control characters", h.Name)
		}
		if strings.EqualFold(h.Name, "Host") {
			// net/http takes the Host header from the request, not from
			// its Header. The policy is on the address dialled, so a
			// different Host cannot widen what is reachable.
			req.Host = h.Value
			continue
		}
		req.Header.Add(h.Name, h.Value)
	}
	if _, ok := req.Header["User-Agent"]; !ok {
		// An empty value keeps net/http from adding its own: the port
		// sends what the caller gave and nothing more.
		req.Header["User-Agent"] = []string{""}
	}
	return req, nil
}

// checkURL accepts absolute http and https URLs without credentials. The
// userinfo form (https://user:pass@host/) is refused rather than sent as
// Basic Auth: the URL is stored and shown with the workflow and its
// executions, so a secret in it would leak; an Authorization header is the
// place for it.
func checkURL(u *url.URL, redirect bool) *engine.Error {
	what := "URL"
	if redirect {
		what = "redirect to a URL"
	}
	switch {
	case u.Scheme == "":
		return engine.Errorf(engine.OutboundInvalid, "%s without a scheme: use http:// or https://", what)
	case u.Scheme != "http" && u.Scheme != "https":
		if redirect {
			return engine.Errorf(engine.OutboundInvalid, "redirect to unsupported URL scheme %q", clip(u.Scheme))
		}
		return engine.Errorf(engine.OutboundInvalid, "unsupported URL scheme %q", clip(u.Scheme))
	case u.User != nil:
		return engine.Errorf(engine.OutboundInvalid, "%s with credentials (user:password@) refused: send an Authorization header instead", what)
	case u.Hostname() == "":
		return engine.Errorf(engine.OutboundInvalid, "%s without a host", what)
	}
	return nil
}

// urlParseError turns a URL parse error into a message without the URL:
// url.Error embeds it whole, query string and password included.
func urlParseError(err error) *engine.Error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ee url.EscapeError
	if errors.As(err, &ee) {
		// The escape may come from the password: do not quote it.
		return engine.Errorf(engine.OutboundInvalid, "invalid URL: bad percent-escape")
	}
	var he url.InvalidHostError
	if errors.As(err, &he) {
		return engine.Errorf(engine.OutboundInvalid, "invalid URL: invalid character %q in host name", string(he))
	}
	// Other messages quote a piece of the URL (invalid port ":x"): keep
	// only the words before it.
	msg, _, _ := strings.Cut(strings.TrimPrefix(err.Error(), "net/url: "), `"`)
	return engine.Errorf(engine.OutboundInvalid, "invalid URL: %s", strings.TrimSpace(msg))
}

// validToken reports whether s is an HTTP token (RFC 9110 §5.6.2), the
// syntax of methods and header names.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue reports whether s has no control characters but tab:
// a CR or LF would split the header.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// clip shortens s for an error message.
func clip(s string) string {
	const n = 40
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// replyHeaders converts the reply header. net/http keeps headers in a map,
// so the order among different names is lost (RFC 9110 §5.3: it carries no
// meaning); names are sorted for a stable result, and the values of a
// repeated header keep the order received, which does carry meaning.
func replyHeaders(h http.Header) []engine.HeaderValue {
	if len(h) == 0 {
		return nil
	}
	names := make([]string, 0, len(h))
	n := 0
	for k, vv := range h {
		names = append(names, k)
		n += len(vv)
	}
	slices.Sort(names)
	out := make([]engine.HeaderValue, 0, n)
	for _, k := range names {
		lk := lowerName(k)
		for _, v := range h[k] {
			out = append(out, engine.HeaderValue{Name: lk, Value: v})
		}
	}
	return out
}

// commonNames holds the lower-case form of frequent reply headers, so that
// most replies lower-case their names without allocating.
var commonNames = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"Accept-Ranges", "Access-Control-Allow-Origin", "Age", "Cache-Control", "Connection",
		"Content-Encoding", "Content-Language", "Content-Length", "Content-Type", "Date", "Etag",
		"Expires", "Keep-Alive", "Last-Modified", "Location", "Retry-After", "Server", "Set-Cookie",
		"Strict-Transport-Security", "Vary", "Via", "Www-Authenticate", "X-Content-Type-Options",
		"X-Frame-Options", "X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset",
		"X-Request-Id",
	} {
		m[k] = strings.ToLower(k)
	}
	return m
}()

func lowerName(k string) string {
	if l, ok := commonNames[k]; ok {
		return l
	}
	return strings.ToLower(k)
}

// readBody reads at most limit bytes of body. size is the announced length,
// -1 when unknown. When the body is longer, it is truncated and up to
// drainLimit more bytes are read and discarded so that the connection can be
// reused; past that the caller's Close drops the connection instead.
func readBody(body io.Reader, limit64, size int64) ([]byte, bool, error) {
	limit := int(limit64)
	capacity := 512
	switch {
	case size >= 0 && size <= limit64:
		capacity = int(size) + 1 // room to see the end without growing
	case size > limit64:
		capacity = limit + 1
	}
	// An announced length is a hint, not a promise: allocate up front no
	// more than the default limit.
	buf := make([]byte, 0, min(capacity, limit+1, engine.DefaultOutboundMaxBody+1))
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(cap(buf), limit+1-len(buf)))
		}
		n, err := body.Read(buf[len(buf):min(cap(buf), limit+1)])
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			if size < 0 || size-limit64 <= drainLimit {
				io.CopyN(io.Discard, body, drainLimit)
			}
			return buf[:limit], true, nil
		}
		if err == io.EOF {
			return buf, false, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
}
