package web_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/handlers"
	"github.com/hookflow/hookflow/web"
)

// TestSecurityHeaders checks the headers that harden every reply: a CSP
// without inline script and with frame-ancestors 'none' on pages, and
// nosniff, a Referrer-Policy and framing refusal everywhere.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := apiSetup(t)
	for _, path := range []string{"/signin", "/healthz", "/api/v1/workflows", "/no-such-page"} {
		resp, err := e.app.Test(httptest.NewRequest(http.MethodGet, path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", path, got)
		}
		if got := h.Get("Referrer-Policy"); got != "same-origin" {
			t.Errorf("%s: Referrer-Policy %q", path, got)
		}
		if got := h.Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("%s: X-Frame-Options %q", path, got)
		}
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP %q allows inline or eval", path, csp)
		}
	}
}

// TestWebhookReplyHeaders: every webhook reply, success or error, is
// sandboxed and never sniffed (issue 12, point 2): a response node that
// answers text/html echoing the request cannot run script as the admin
// UI's origin. A flow cannot set cookies, framing headers or weaker
// security headers.
func TestWebhookReplyHeaders(t *testing.T) {
	le := newLimitsEnv(t, web.Config{BodyLimit: 1024})
	e := &apiEnv{le.testServer}
	echo := e.create(t, `{"title":"echo","mode":"sync","nodes":[{"key":"r","type":"response","config":{"status":200,
		"headers":[{"name":"Content-Type","value":"text/html; charset=utf-8"},{"name":"X-Echo","value":"{{$context.query.q}}"}],
		"body":"<p>{{$context.query.q}}</p>"}}]}`).Get("key").Str
	async := e.create(t, `{"title":"store","mode":"async","nodes":[]}`).Get("key").Str
	basic := e.create(t, `{"title":"auth","mode":"async","trigger":{"basicAuth":{"enabled":true,"username":"u","password":"p"}},"nodes":[]}`).Get("key").Str

	const script = "<script>fetch('/tokens')</script>"
	check := func(label string, status, wantStatus int, h http.Header) {
		t.Helper()
		if status != wantStatus {
			t.Errorf("%s: status %d, want %d", label, status, wantStatus)
		}
		if got := h.Get("Content-Security-Policy"); got != "sandbox; default-src 'none'" {
			t.Errorf("%s: Content-Security-Policy %q", label, got)
		}
		if got := h.Values("X-Content-Type-Options"); len(got) != 1 || got[0] != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", label, got)
		}
	}
	r := e.trigger(t, echo, "?q="+url.QueryEscape(script), "{}")
	check("sync text/html echo", r.status, http.StatusOK, r.header)
	if !strings.Contains(string(r.body), script) || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("the echo flow did not echo: %s %q", r.header.Get("Content-Type"), r.body)
	}
	r = e.trigger(t, async, "", "{}")
	check("async reply", r.status, http.StatusOK, r.header)
	r = e.trigger(t, "nosuchkey0000000", "", "{}")
	check("unknown key", r.status, http.StatusNotFound, r.header)
	r = e.trigger(t, async, "", "{")
	check("invalid JSON", r.status, http.StatusBadRequest, r.header)
	r = e.trigger(t, basic, "", "{}")
	check("no credentials", r.status, http.StatusUnauthorized, r.header)
	r = e.send(t, httptest.NewRequest(http.MethodGet, handlers.TriggerPath(async), nil))
	check("GET", r.status, http.StatusMethodNotAllowed, r.header)
	// Refused before routing, so without the middleware: over a socket.
	resp, _, _ := limitsExchange(t, le.listen(t), limitsRawRequest(handlers.TriggerPath(async),
		[]string{"Content-Type: application/json", "Content-Length: 2048"}, bytes.Repeat([]byte(" "), 2048)), false)
	check("body over the limit", resp.StatusCode, http.StatusRequestEntityTooLarge, resp.Header)

	// Saving a reply header a flow must not set is refused, naming it.
	for _, tc := range []struct{ doc, want string }{
		{`{"title":"c","mode":"sync","nodes":[{"key":"r","type":"response","config":{"status":200,"headers":[{"name":"Set-Cookie","value":"s={{$context.query.s}}; Path=/"}]}}]}`,
			"nodes[0].config.headers[0].name: Set-Cookie is not allowed in webhook replies"},
		{`{"title":"c","mode":"async","trigger":{"response":{"status":200,"headers":[{"name":"X-Ok","value":"1"},{"name":"content-security-policy","value":"default-src *"}]}},"nodes":[]}`,
			"trigger.response.headers[1].name: Content-Security-Policy is not allowed in webhook replies"},
		{`{"title":"c","mode":"async","trigger":{"response":{"status":200,"headers":[{"name":"Transfer-Encoding","value":"chunked"}]}},"nodes":[]}`,
			"trigger.response.headers[0].name: Transfer-Encoding is not allowed in webhook replies"},
	} {
		r := e.call(t, http.MethodPost, "/api/v1/workflows", tc.doc)
		if msg := apiError(t, r, http.StatusBadRequest); msg != tc.want {
			t.Errorf("message %q, want %q", msg, tc.want)
		}
	}
}

// TestHSTS: with an https public URL every reply carries HSTS (one year,
// this host only); over plain http none does, since a browser would then
// refuse the site.
func TestHSTS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		publicURL, want string
	}{
		{"https://hooks.example.com", "max-age=31536000"},
		{"HTTPS://hooks.example.com/", "max-age=31536000"},
		{"http://hooks.example.com", ""},
		{"", ""},
	} {
		e := &apiEnv{newTestServer(t, web.Config{}, tc.publicURL)}
		key := e.create(t, `{"title":"store","mode":"async","nodes":[]}`).Get("key").Str
		for _, r := range []apiReply{
			e.send(t, httptest.NewRequest(http.MethodGet, "/signin", nil)),
			e.send(t, httptest.NewRequest(http.MethodGet, "/healthz", nil)),
			e.call(t, http.MethodGet, "/api/v1/workflows", ""),
			e.trigger(t, key, "", "{}"),
			e.trigger(t, "nosuchkey0000000", "", "{}"),
		} {
			if got := r.header.Get("Strict-Transport-Security"); got != tc.want {
				t.Errorf("public URL %q: Strict-Transport-Security %q, want %q", tc.publicURL, got, tc.want)
			}
		}
	}
}

// panickyAuth is an AuthStore whose token lookup panics (a bug).
type panickyAuth struct{ engine.AuthStore }

func (panickyAuth) GetAPIToken(context.Context, string) (*engine.APIToken, error) { panic("a bug") }

// TestHandlerPanic: a handler or middleware that panics (a bug) gets a 500
// in the JSON error format, and the server goes on serving.
func TestHandlerPanic(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, web.Config{}, "")
	log := slog.New(slog.DiscardHandler)
	h := &handlers.Handlers{Svc: srv.svc, Auth: panickyAuth{srv.store}, Log: log, Ping: srv.store.Ping, Throttle: handlers.NewThrottle(),
		FirstRun: func(*fiber.Ctx) bool { return false }}
	e := &apiEnv{&testServer{app: web.New(web.Config{}, h, log), svc: srv.svc, store: srv.store, token: srv.token}}
	r := e.call(t, http.MethodGet, "/api/v1/workflows", "")
	if msg := apiError(t, r, 500); msg != "internal error" {
		t.Errorf("message %q", msg)
	}
	if r := e.send(t, httptest.NewRequest(http.MethodGet, "/healthz", nil)); r.status != 200 {
		t.Errorf("after the panic: %d", r.status)
	}
}
