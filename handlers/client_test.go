package handlers_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/engine"
)

// signInForwarded is a sign-in attempt whose requests carry X-Forwarded-For.
func signInForwarded(t *testing.T, srv *uiServer, xff, password string) *http.Response {
	t.Helper()
	get := httptest.NewRequest(http.MethodGet, "/signin", nil)
	get.Header.Set("X-Forwarded-For", xff)
	res, body := send(t, srv.app, get)
	pre := cookieValue(res, "hookflow_csrf")
	m := csrfInputRE.FindStringSubmatch(body)
	if pre == "" || m == nil {
		t.Fatal("sign-in page without CSRF cookie or field")
	}
	form := url.Values{"email": {testEmail}, "password": {password}, "_csrf": {html.UnescapeString(m[1])}}
	req := httptest.NewRequest(http.MethodPost, "/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "hookflow_csrf="+pre)
	req.Header.Set("X-Forwarded-For", xff)
	res, _ = send(t, srv.app, req)
	return res
}

// TestSignInThrottleClientAddress: the sign-in throttle counts the client
// address by the one rule. Behind a trusted proxy, one attacker's address
// is throttled and another client is not; without a trusted proxy the
// header is ignored, so an attacker cannot pick fresh addresses with it.
func TestSignInThrottleClientAddress(t *testing.T) {
	t.Parallel()
	t.Run("behind a trusted proxy", func(t *testing.T) {
		t.Parallel()
		srv := newUIServer(t)
		// app.Test's connections come from 0.0.0.0: the proxy.
		srv.h.TrustedProxies = mustPrefixes(t, "0.0.0.0/32")
		for i := range srv.h.Throttle.Free {
			wantStatus(t, signInForwarded(t, srv, "198.51.100.1", "wrong-password-"+strconv.Itoa(i)), http.StatusUnauthorized)
		}
		wantStatus(t, signInForwarded(t, srv, "198.51.100.1", testPassword), http.StatusTooManyRequests)
		// Another client behind the same proxy signs in.
		wantStatus(t, signInForwarded(t, srv, "198.51.100.2", testPassword), http.StatusSeeOther)
		// Spoofing an entry on the left does not escape: the proxy
		// appended the real address.
		wantStatus(t, signInForwarded(t, srv, "203.0.113.9, 198.51.100.1", testPassword), http.StatusTooManyRequests)
	})
	t.Run("no trusted proxy", func(t *testing.T) {
		t.Parallel()
		srv := newUIServer(t)
		for i := range srv.h.Throttle.Free {
			wantStatus(t, signInForwarded(t, srv, "198.51.100."+strconv.Itoa(i+1), "wrong-password-"+strconv.Itoa(i)), http.StatusUnauthorized)
		}
		// A new X-Forwarded-For buys nothing: the peer is the client.
		wantStatus(t, signInForwarded(t, srv, "198.51.100.99", testPassword), http.StatusTooManyRequests)
	})
}

func mustPrefixes(t *testing.T, list ...string) []netip.Prefix {
	t.Helper()
	ps, err := engine.ParsePrefixes(list)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// TestNoFiberIP: every use of the client address goes through
// Handlers.ClientAddr; Fiber's c.IP() follows another rule.
func TestNoFiberIP(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`\bc\.IPs?\(\)`)
	for _, dir := range []string{".", "../web"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(string(b), "\n") {
				if code, _, _ := strings.Cut(line, "//"); re.MatchString(code) {
					t.Errorf("%s:%d uses Fiber's client address: %s", f, i+1, strings.TrimSpace(line))
				}
			}
		}
	}
}
