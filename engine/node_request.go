package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

func init() { RegisterNodeKind("request", requestKind{}) }

// Request node limits and defaults (product.md §13).
const (
	DefaultRequestTimeout   = 10 * time.Second
	MaxRequestTimeoutSecs   = 300
	MaxRequestAttempts      = 20
	DefaultBackoffSeconds   = 2.0
	DefaultMaxBackoffSecs   = 600.0
	MaxBackoffSeconds       = 86400.0
	maxRequestURLLength     = 8 << 10
	redactedValue           = "[redacted]"
	requestIdempotencyKey   = "Idempotency-Key"
	requestUserAgentHeader  = "User-Agent"
	requestContentTypeField = "Content-Type"
)

// requestMethods are the methods a request node may use.
var requestMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// RequestMethods lists the methods a request node may use, for the
// editor's method picker (a copy: callers may change it).
func RequestMethods() []string { return append([]string(nil), requestMethods...) }

// requestKind is the request node (§13): an outgoing HTTP call with
// retries. It is not pure: its executions run in the worker pool (async),
// and its job is stored before any later node that acts starts.
type requestKind struct{}

type requestConfig struct {
	Method            string          `json:"method"`
	URL               string          `json:"url"`
	Headers           []ReplyHeader   `json:"headers"`
	Body              json.RawMessage `json:"body"`
	TimeoutSeconds    *float64        `json:"timeoutSeconds"`
	Retry             *retryConfig    `json:"retry"`
	ContinueOnFailure bool            `json:"continueOnFailure"`
}

type retryConfig struct {
	Attempts          *int     `json:"attempts"`
	BackoffSeconds    *float64 `json:"backoffSeconds"`
	MaxBackoffSeconds *float64 `json:"maxBackoffSeconds"`
}

// RetryPolicy is a request node's retry setting, resolved to defaults.
type RetryPolicy struct {
	Attempts   int
	Backoff    time.Duration
	MaxBackoff time.Duration
}

// forbiddenRequestHeaders are set by HTTP itself; a configured one would
// break the framing or the connection.
var forbiddenRequestHeaders = []string{"Host", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "TE", "Trailer", "Proxy-Connection"}

func (requestKind) Compile(n *Node, _ CompileEnv) (Step, error) {
	cfg := bytes.TrimSpace(n.Config)
	if len(cfg) == 0 || cfg[0] != '{' {
		return nil, Errorf(EINVALID, `config: must be an object with method and url, such as {"method": "POST", "url": "https://example.com/hook"}`)
	}
	if err := CheckJSON(cfg, MaxJSONDepth); err != nil {
		return nil, Errorf(EINVALID, "config: %s", ErrorMessage(err))
	}
	var c requestConfig
	if err := json.Unmarshal(cfg, &c); err != nil {
		return nil, Errorf(EINVALID, "config.%s", strings.TrimPrefix(jsonErrorMessage(err), "config."))
	}
	st := &requestStep{key: n.Key, continueOnFailure: c.ContinueOnFailure}
	st.method = strings.ToUpper(strings.TrimSpace(c.Method))
	switch {
	case st.method == "":
		return nil, Errorf(EINVALID, "config.method: required (one of %s)", strings.Join(requestMethods, ", "))
	case !contains(requestMethods, st.method):
		return nil, Errorf(EINVALID, "config.method: %q is not one of %s", c.Method, strings.Join(requestMethods, ", "))
	}
	if strings.TrimSpace(c.URL) == "" {
		return nil, Errorf(EINVALID, "config.url: required")
	}
	if len(c.URL) > maxRequestURLLength {
		return nil, Errorf(EINVALID, "config.url: longer than %d bytes", maxRequestURLLength)
	}
	u, err := CompileTemplate(strings.TrimSpace(c.URL))
	if err != nil {
		return nil, Errorf(EINVALID, "config.url: %s", ErrorMessage(err))
	}
	if err := checkStaticURLPrefix(u); err != nil {
		return nil, Errorf(EINVALID, "config.url: %s", ErrorMessage(err))
	}
	st.url = u
	for i, h := range c.Headers {
		for _, bad := range forbiddenRequestHeaders {
			if strings.EqualFold(h.Name, bad) {
				return nil, Errorf(EINVALID, "config.headers[%d].name: %s is set by HTTP itself and cannot be configured", i, bad)
			}
		}
		if strings.EqualFold(h.Name, requestContentTypeField) {
			st.hasContentType = true
		}
		if strings.EqualFold(h.Name, requestIdempotencyKey) {
			st.hasIdempotencyKey = true
		}
		if strings.EqualFold(h.Name, requestUserAgentHeader) {
			st.hasUserAgent = true
		}
	}
	st.hasBody = len(bytes.TrimSpace(c.Body)) > 0 && string(bytes.TrimSpace(c.Body)) != "null"
	// Headers and body render exactly as a reply's do: the same templates,
	// the same rule for the content type (a JSON string is text/plain, any
	// other value application/json, a configured Content-Type wins).
	st.parts, err = CompileReply(&Reply{Status: 200, Headers: c.Headers, Body: c.Body}, "config")
	if err != nil {
		return nil, err
	}
	st.timeout = DefaultRequestTimeout
	if c.TimeoutSeconds != nil {
		t := *c.TimeoutSeconds
		if t <= 0 || t > MaxRequestTimeoutSecs {
			return nil, Errorf(EINVALID, "config.timeoutSeconds: must be more than 0 and at most %d", MaxRequestTimeoutSecs)
		}
		st.timeout = time.Duration(t * float64(time.Second))
	}
	st.retry, err = compileRetry(c.Retry)
	if err != nil {
		return nil, err
	}
	if st.test, err = compileRequestTest(n.Test); err != nil {
		return nil, err
	}
	return st, nil
}

// requestTest is what a request node does in a test run (§17): by default
// it is not sent and its result shows the request it would send; run sends
// it for real; pin uses a reply given in the document.
type requestTest struct {
	run bool
	pin *OutboundResponse
}

func compileRequestTest(raw json.RawMessage) (requestTest, error) {
	var t requestTest
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return t, nil
	}
	if err := CheckJSON(raw, MaxJSONDepth); err != nil {
		return t, Errorf(EINVALID, "test: %s", ErrorMessage(err))
	}
	v := gjson.ParseBytes(raw)
	if !v.IsObject() {
		return t, Errorf(EINVALID, `test: must be {"run": true} or {"pin": {"status": 200, "headers": {}, "body": ...}}`)
	}
	run, pin := v.Get("run"), v.Get("pin")
	switch {
	case run.Exists() && run.Type != gjson.True && run.Type != gjson.False:
		return t, Errorf(EINVALID, "test.run: must be true or false")
	case run.Type == gjson.True && pin.Exists():
		return t, Errorf(EINVALID, "test: run for real or pin a reply, not both")
	}
	t.run = run.Type == gjson.True
	if !pin.Exists() || pin.Type == gjson.Null {
		return t, nil
	}
	if !pin.IsObject() {
		return t, Errorf(EINVALID, `test.pin: must be an object such as {"status": 200, "headers": {"content-type": "application/json"}, "body": {"id": 1}}`)
	}
	status := pin.Get("status")
	if status.Type != gjson.Number || status.Int() < 100 || status.Int() > 599 || float64(status.Int()) != status.Float() {
		return t, Errorf(EINVALID, "test.pin.status: must be an HTTP status from 100 to 599")
	}
	resp := &OutboundResponse{Status: int(status.Int())}
	if h := pin.Get("headers"); h.Exists() && h.Type != gjson.Null {
		if !h.IsObject() {
			return t, Errorf(EINVALID, "test.pin.headers: must be an object of header names and text values")
		}
		var bad string
		h.ForEach(func(k, val gjson.Result) bool {
			if !ValidHeaderName(k.Str) || val.Type != gjson.String {
				bad = k.Str
				return false
			}
			resp.Headers = append(resp.Headers, HeaderValue{Name: strings.ToLower(k.Str), Value: val.Str})
			return true
		})
		if bad != "" {
			return t, Errorf(EINVALID, "test.pin.headers.%s: must be a header name with a text value", bad)
		}
	}
	body := pin.Get("body")
	switch {
	case !body.Exists() || body.Type == gjson.Null:
	case body.Type == gjson.String:
		resp.Body = []byte(body.Str)
	default:
		resp.Body = []byte(body.Raw)
		if !hasHeader(resp.Headers, "content-type") {
			resp.Headers = append(resp.Headers, HeaderValue{Name: "content-type", Value: replyJSON})
		}
	}
	t.pin = resp
	return t, nil
}

func hasHeader(hs []HeaderValue, name string) bool {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return true
		}
	}
	return false
}

func compileRetry(r *retryConfig) (RetryPolicy, error) {
	p := RetryPolicy{Attempts: 1, Backoff: seconds(DefaultBackoffSeconds), MaxBackoff: seconds(DefaultMaxBackoffSecs)}
	if r == nil {
		return p, nil
	}
	if r.Attempts != nil {
		if *r.Attempts < 1 || *r.Attempts > MaxRequestAttempts {
			return p, Errorf(EINVALID, "config.retry.attempts: must be from 1 (no retry) to %d", MaxRequestAttempts)
		}
		p.Attempts = *r.Attempts
	}
	if r.BackoffSeconds != nil {
		if *r.BackoffSeconds < 0.1 || *r.BackoffSeconds > MaxBackoffSeconds {
			return p, Errorf(EINVALID, "config.retry.backoffSeconds: must be from 0.1 to %g", MaxBackoffSeconds)
		}
		p.Backoff = seconds(*r.BackoffSeconds)
	}
	if r.MaxBackoffSeconds != nil {
		if *r.MaxBackoffSeconds < 0.1 || *r.MaxBackoffSeconds > MaxBackoffSeconds {
			return p, Errorf(EINVALID, "config.retry.maxBackoffSeconds: must be from 0.1 to %g", MaxBackoffSeconds)
		}
		p.MaxBackoff = seconds(*r.MaxBackoffSeconds)
	}
	if p.MaxBackoff < p.Backoff {
		return p, Errorf(EINVALID, "config.retry.maxBackoffSeconds: must not be less than backoffSeconds")
	}
	return p, nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// checkStaticURLPrefix checks what can be known of a URL before it is
// rendered: a literal URL must be an absolute http or https URL with a
// host; a templated one must start with a placeholder or with http:// or
// https://.
func checkStaticURLPrefix(t *Template) error {
	if t.IsStatic() {
		_, err := parseRequestURL(t.src)
		return err
	}
	lit := t.parts[0].text
	if t.parts[0].path != nil {
		return nil
	}
	low := strings.ToLower(lit)
	if strings.HasPrefix(low, "http://") || strings.HasPrefix(low, "https://") ||
		strings.HasPrefix("http://", low) || strings.HasPrefix("https://", low) {
		return nil
	}
	return Errorf(EINVALID, "must start with http:// or https://")
}

// parseRequestURL checks a rendered URL: absolute, http or https, with a
// host. Characters that may not appear in a URL (spaces, quotes, non-ASCII)
// are percent-encoded first, as browsers do, so that a value with a space
// inserted into a path still makes a valid URL.
func parseRequestURL(raw string) (*url.URL, error) {
	raw = escapeURLChars(strings.TrimSpace(raw))
	u, err := url.Parse(raw)
	if err != nil {
		return nil, Errorf(EINVALID, "not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return nil, Errorf(EINVALID, "must be an absolute URL starting with http:// or https://")
		}
		return nil, Errorf(EINVALID, "unsupported scheme %q (use http or https)", u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, Errorf(EINVALID, "has no host")
	}
	return u, nil
}

// escapeURLChars percent-encodes the bytes that are never valid in a URL.
func escapeURLChars(s string) string {
	const hex = "0123456789ABCDEF"
	clean := true
	for i := 0; i < len(s); i++ {
		if urlCharNeedsEscape(s[i]) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if urlCharNeedsEscape(c) {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func urlCharNeedsEscape(c byte) bool {
	return c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' || c == '}'
}

type requestStep struct {
	key    string
	method string
	url    *Template
	// parts renders the headers and the body.
	parts             *CompiledReply
	hasBody           bool
	hasContentType    bool
	hasIdempotencyKey bool
	hasUserAgent      bool
	timeout           time.Duration
	retry             RetryPolicy
	continueOnFailure bool
	test              requestTest
}

func (*requestStep) Branches() []string { return nil }

// OwnTimeout is the call's timeout: in the background, a request node is
// bounded by it rather than by the workflow's timeout.
func (st *requestStep) OwnTimeout() time.Duration { return st.timeout }

// Run sends the call, and tries again on a connection error, a timeout,
// 408, 429 and 5xx while attempts are left: in place when the flow runs
// inside its sync request (within the workflow's timeout), else by making
// the execution wait until the next attempt is due.
func (st *requestStep) Run(ctx context.Context, s *Scope) (Outcome, error) {
	env := s.Env
	// A test run needs no client unless the step is sent for real.
	if env == nil || (env.Outbound == nil && (!env.Test || st.test.run)) {
		return Outcome{}, Errorf(EINTERNAL, "request nodes cannot run here")
	}
	req, sent, err := st.render(s, env)
	if err != nil {
		return Outcome{}, err
	}
	if env.Test && !st.test.run {
		return st.testOutcome(sent, env.now())
	}
	var attempts []Attempt
	round := 0
	if p := s.Prior; p != nil {
		attempts = append(attempts, p.Attempts...)
		if p.Status == JobWaiting {
			round = attemptsInRound(p.Attempts)
		}
	}
	for {
		round++
		a, resp, callErr := st.attempt(ctx, env, req, round)
		if ctx.Err() != nil {
			// The workflow's time is up (or the execution was
			// cancelled): the walker records the node as aborted.
			attempts = append(attempts, a)
			return Outcome{Request: sent, Attempts: attempts}, ctx.Err()
		}
		retryable, retryAfter := classify(resp, callErr)
		if callErr == nil && resp.Status >= 200 && resp.Status < 300 {
			attempts = append(attempts, a)
			return Outcome{Result: successResult(resp, attempts), Request: sent, Attempts: attempts}, nil
		}
		if retryable && round < st.retry.Attempts {
			wait := st.backoff(round, retryAfter)
			at := ceilMillisecond(env.now().Add(wait))
			if !env.Inline {
				a.RetryAt = at
				attempts = append(attempts, a)
				env.observe().OutboundRetry()
				return Outcome{Wait: at, Error: attemptSummary(&a, round, st.retry.Attempts), Request: sent, Attempts: attempts}, nil
			}
			if dl, ok := ctx.Deadline(); !ok || at.Before(dl) {
				a.RetryAt = at
				attempts = append(attempts, a)
				env.observe().OutboundRetry()
				if err := sleepCtx(ctx, wait); err != nil {
					return Outcome{Request: sent, Attempts: attempts}, err
				}
				continue
			}
			a.Error += "; no time left for another attempt within the workflow's timeout"
		}
		attempts = append(attempts, a)
		why := failureSummary(&a, round)
		result := failureResult(resp, why, attempts)
		if st.continueOnFailure {
			return Outcome{Result: result, Error: why, Request: sent, Attempts: attempts}, nil
		}
		return Outcome{Result: result, End: StatusFailed, Error: why, Request: sent, Attempts: attempts}, nil
	}
}

// testOutcome is the node's outcome in a test run when it is not sent: the
// pinned reply taken as if it had come (a 2xx resolves; anything else
// fails, or goes on with continueOnFailure, as a real reply would), or the
// request it would send.
func (st *requestStep) testOutcome(sent *SentRequest, now time.Time) (Outcome, error) {
	pin := st.test.pin
	if pin == nil {
		b := []byte(`{"ok":true,"test":"not sent","request":`)
		r, err := json.Marshal(sent)
		if err != nil {
			return Outcome{}, err
		}
		b = append(append(b, r...), '}')
		return Outcome{Result: b, Request: sent}, nil
	}
	// Shaped like a real attempt: a start time, and a list of headers even
	// when the pin has none.
	headers := pin.Headers
	if headers == nil {
		headers = []HeaderValue{}
	}
	a := Attempt{Number: 1, StartedAt: now, Status: pin.Status, Reply: &ReceivedReply{Headers: headers}}
	a.Reply.Body, a.Reply.BodyTruncated = capText(pin.Body, MaxRecordedBody)
	if pin.Status >= 200 && pin.Status < 300 {
		return Outcome{Result: markPinned(successResult(pin, []Attempt{a})), Request: sent, Attempts: []Attempt{a}}, nil
	}
	a.Error = "HTTP " + strconv.Itoa(pin.Status)
	result := markPinned(failureResult(pin, a.Error, []Attempt{a}))
	if st.continueOnFailure {
		return Outcome{Result: result, Error: a.Error, Request: sent, Attempts: []Attempt{a}}, nil
	}
	return Outcome{Result: result, End: StatusFailed, Error: a.Error, Request: sent, Attempts: []Attempt{a}}, nil
}

// markPinned adds "test":"pinned" to a result object.
func markPinned(result []byte) []byte {
	return append(result[:len(result)-1], `,"test":"pinned"}`...)
}

// attemptsInRound counts the attempts of the current round: those since
// the last attempt numbered 1.
func attemptsInRound(as []Attempt) int {
	for i := len(as) - 1; i >= 0; i-- {
		if as[i].Number <= 1 {
			return len(as) - i
		}
	}
	return len(as)
}

// render builds the outgoing request and the record of it.
func (st *requestStep) render(s *Scope, env *RunEnv) (*OutboundRequest, *SentRequest, error) {
	rawURL := st.url.String(s)
	u, err := parseRequestURL(rawURL)
	if err != nil {
		return nil, nil, Errorf(EINVALID, "url %q: %s", redactURL(rawURL), ErrorMessage(err))
	}
	parts, err := st.parts.Render(s)
	if err != nil {
		return nil, nil, err
	}
	req := &OutboundRequest{Method: st.method, URL: u.String(), Timeout: st.timeout, MaxBody: DefaultOutboundMaxBody}
	req.Headers = make([]HeaderValue, 0, len(parts.Headers)+4)
	if !st.hasUserAgent && env.UserAgent != "" {
		req.Headers = append(req.Headers, HeaderValue{Name: requestUserAgentHeader, Value: env.UserAgent})
	}
	if !st.hasIdempotencyKey {
		req.Headers = append(req.Headers, HeaderValue{Name: requestIdempotencyKey, Value: strconv.FormatInt(s.ExecutionID, 10) + "-" + st.key})
	}
	if st.hasBody || st.hasContentType {
		if parts.ContentType != "" {
			req.Headers = append(req.Headers, HeaderValue{Name: requestContentTypeField, Value: parts.ContentType})
		}
	}
	req.Headers = append(req.Headers, parts.Headers...)
	if st.hasBody {
		req.Body = parts.Body
	}
	sent := &SentRequest{Method: req.Method, URL: redactURL(req.URL), Headers: RedactHeaders(req.Headers)}
	sent.Body, sent.BodyTruncated = capText(req.Body, MaxRecordedBody)
	return req, sent, nil
}

// attempt makes one call and records it.
func (st *requestStep) attempt(ctx context.Context, env *RunEnv, req *OutboundRequest, n int) (Attempt, *OutboundResponse, error) {
	a := Attempt{Number: n, StartedAt: env.now()}
	start := time.Now()
	// The call's own timeout applies, cut short by the workflow's deadline
	// that ctx carries.
	resp, err := env.Outbound.Do(ctx, req)
	a.Duration = time.Since(start)
	if err != nil {
		a.Error = ErrorMessage(err)
		env.observe().OutboundRequest(0, ErrorCode(err), a.Duration)
		return a, nil, err
	}
	env.observe().OutboundRequest(resp.Status, "", a.Duration)
	a.Status = resp.Status
	rr := &ReceivedReply{Headers: resp.Headers}
	rr.Body, rr.BodyTruncated = capText(resp.Body, MaxRecordedBody)
	rr.BodyTruncated = rr.BodyTruncated || resp.Truncated
	a.Reply = rr
	if resp.Status < 200 || resp.Status > 299 {
		a.Error = "HTTP " + strconv.Itoa(resp.Status)
	}
	return a, resp, nil
}

// classify says whether a failed call is tried again, and the delay the
// reply asked for with Retry-After (0 when none).
func classify(resp *OutboundResponse, err error) (retry bool, after time.Duration) {
	if err != nil {
		switch ErrorCode(err) {
		case OutboundTimeout, OutboundConnect:
			return true, 0
		}
		return false, 0
	}
	switch {
	case resp.Status == 408 || resp.Status == 429 || resp.Status >= 500:
		return true, retryAfter(resp.Headers)
	}
	return false, 0
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(hs []HeaderValue) time.Duration {
	for _, h := range hs {
		if !strings.EqualFold(h.Name, "retry-after") {
			continue
		}
		v := strings.TrimSpace(h.Value)
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			if n <= 0 {
				return 0
			}
			if n > int64(MaxBackoffSeconds) {
				n = int64(MaxBackoffSeconds)
			}
			return time.Duration(n) * time.Second
		}
		for _, layout := range []string{time.RFC1123, time.RFC1123Z, time.RFC850, time.ANSIC} {
			if t, err := time.Parse(layout, v); err == nil {
				if d := time.Until(t); d > 0 {
					return d
				}
				return 0
			}
		}
	}
	return 0
}

// backoff is the wait before attempt n+1: Retry-After when the reply gave
// one, else the backoff doubled for each attempt made, less up to 20% of
// jitter so that the retries of many executions spread out; never more than
// the maximum backoff.
func (st *requestStep) backoff(n int, after time.Duration) time.Duration {
	if after > 0 {
		return min(after, st.retry.MaxBackoff)
	}
	d := st.retry.Backoff
	for i := 1; i < n && d < st.retry.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, st.retry.MaxBackoff)
	// Jitter downwards only (80% to 100%): the waits spread out below the
	// cap instead of piling up on it.
	return time.Duration(float64(d) * (0.8 + 0.2*rand.Float64()))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func attemptSummary(a *Attempt, n, of int) string {
	return "attempt " + strconv.Itoa(n) + " of " + strconv.Itoa(of) + " failed: " + a.Error
}

func failureSummary(a *Attempt, rounds int) string {
	if rounds == 1 {
		return a.Error
	}
	return a.Error + " (after " + strconv.Itoa(rounds) + " attempts)"
}

// successResult is the job's result for a 2xx reply (§13).
func successResult(resp *OutboundResponse, attempts []Attempt) []byte {
	b := make([]byte, 0, 128+len(resp.Body))
	b = append(b, `{"ok":true,"status":`...)
	b = strconv.AppendInt(b, int64(resp.Status), 10)
	b = append(b, `,"headers":`...)
	b = AppendHeadersJSON(b, resp.Headers)
	b = append(b, `,"body":`...)
	b = appendReplyBody(b, resp)
	if resp.Truncated {
		b = append(b, `,"bodyTruncated":true`...)
	}
	return appendAttemptTotals(b, attempts)
}

// failureResult is the job's result when every attempt failed: with
// continueOnFailure it is what later nodes see.
func failureResult(resp *OutboundResponse, why string, attempts []Attempt) []byte {
	b := make([]byte, 0, 128)
	b = append(b, `{"ok":false,"status":`...)
	if resp != nil {
		b = strconv.AppendInt(b, int64(resp.Status), 10)
		b = append(b, `,"headers":`...)
		b = AppendHeadersJSON(b, resp.Headers)
		b = append(b, `,"body":`...)
		b = appendReplyBody(b, resp)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"error":`...)
	b = AppendJSONString(b, why)
	return appendAttemptTotals(b, attempts)
}

func appendAttemptTotals(b []byte, attempts []Attempt) []byte {
	var total time.Duration
	for _, a := range attempts {
		total += a.Duration
	}
	b = append(b, `,"attempts":`...)
	b = strconv.AppendInt(b, int64(len(attempts)), 10)
	b = append(b, `,"durationMs":`...)
	b = strconv.AppendFloat(b, float64(total.Microseconds())/1000, 'f', -1, 64)
	return append(b, '}')
}

// appendReplyBody appends a reply body as JSON: the value itself when the
// reply says it is JSON and it parses (complete), else the text.
func appendReplyBody(b []byte, resp *OutboundResponse) []byte {
	ct := ""
	for _, h := range resp.Headers {
		if h.Name == "content-type" {
			ct = h.Value
			break
		}
	}
	body := trimSpace(resp.Body)
	// CheckJSON also refuses invalid UTF-8.
	if !resp.Truncated && len(body) > 0 && IsJSONContentType(ct) && CheckJSON(body, MaxJSONDepth) == nil {
		return appendValueJSON(b, gjson.ParseBytes(body))
	}
	return AppendJSONString(b, string(resp.Body))
}

// capText returns at most limit bytes of b as text, cut at a character
// boundary, and whether it was cut.
func capText(b []byte, limit int) (string, bool) {
	if len(b) <= limit {
		return string(b), false
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return string(b[:cut]), true
}

// RedactHeaders returns a copy of hs with the values of headers that carry
// credentials replaced by "[redacted]" (see SecretHeaderName).
func RedactHeaders(hs []HeaderValue) []HeaderValue {
	out := make([]HeaderValue, len(hs))
	for i, h := range hs {
		out[i] = h
		if SecretHeaderName(h.Name) {
			out[i].Value = redactedValue
		}
	}
	return out
}

// secretWords mark a header or query parameter name as one that carries a
// credential.
var secretWords = []string{"auth", "token", "secret", "password", "passwd", "signature", "apikey", "api-key", "api_key", "cookie", "session", "credential", "private"}

// SecretHeaderName reports whether a header (or query parameter) of this
// name carries a credential and must never be stored or shown in clear:
// Authorization, Cookie, X-Api-Key, X-Auth-Token, anything with token,
// secret, password, signature or key in its name (Idempotency-Key aside).
func SecretHeaderName(name string) bool {
	n := strings.ToLower(name)
	if n == "idempotency-key" {
		return false
	}
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return n == "key" || strings.HasSuffix(n, "-key") || strings.HasSuffix(n, "_key") || strings.HasPrefix(n, "key-") || strings.HasPrefix(n, "key_")
}

// redactURL hides the password of a URL's userinfo and the values of
// query parameters whose names look secret.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	changed := false
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "redacted")
			changed = true
		}
	}
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			k, _, ok := strings.Cut(p, "=")
			name, _ := url.QueryUnescape(k)
			if ok && SecretHeaderName(name) {
				parts[i] = k + "=" + url.QueryEscape(redactedValue)
				changed = true
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	if !changed {
		return raw
	}
	return u.String()
}
