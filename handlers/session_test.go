package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/handlers"
)

// wantDeleted checks that the reply deletes cookie name at path: an empty
// value, Max-Age=0 and an Expires in the past (issue 12, point 10), with
// the flags it was set with.
func wantDeleted(t *testing.T, label string, res *http.Response, name, path string, secure bool) {
	t.Helper()
	for _, raw := range res.Header.Values("Set-Cookie") {
		if !strings.HasPrefix(raw, name+"=") {
			continue
		}
		c, err := http.ParseSetCookie(raw)
		if err != nil {
			t.Fatalf("%s: Set-Cookie %q: %v", label, raw, err)
		}
		if c.Value != "" || c.MaxAge >= 0 || !strings.Contains(strings.ToLower(raw), "max-age=0") {
			t.Errorf("%s: %q does not delete with Max-Age=0", label, raw)
		}
		if c.Expires.IsZero() || !c.Expires.Before(time.Now()) {
			t.Errorf("%s: %q has no Expires in the past", label, raw)
		}
		if c.Path != path || c.Secure != secure || !c.HttpOnly {
			t.Errorf("%s: %q: path, Secure or HttpOnly differ from the cookie set", label, raw)
		}
		return
	}
	t.Errorf("%s: no Set-Cookie deleting %s (got %q)", label, name, res.Header.Values("Set-Cookie"))
}

func TestCookiesDeleted(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		t.Run("secure="+strconv.FormatBool(secure), func(t *testing.T) {
			t.Parallel()
			srv := newUIServer(t)
			srv.h.SecureCookies = secure
			name := handlers.SessionCookie
			if secure {
				name = handlers.SecureSessionCookie
			}
			// Signing in deletes the sign-in form's CSRF cookie.
			res, _ := signInAttempt(t, srv.app, testEmail, testPassword, "", "")
			wantStatus(t, res, http.StatusSeeOther)
			wantDeleted(t, "sign-in", res, "hookflow_csrf", "/signin", secure)
			s := uiSession{Cookie: name + "=" + cookieValue(res, name)}
			_, body := s.get(t, srv.app, "/")
			s.CSRF = csrfMetaRE.FindStringSubmatch(body)[1]

			// Signing out deletes the session cookie, and queues a flash...
			res, _ = doForm(t, srv.app, s, "/signout", nil, formOpts{})
			wantStatus(t, res, http.StatusSeeOther)
			wantDeleted(t, "sign-out", res, name, "/", secure)
			flash := cookieValue(res, "hookflow_flash")
			if flash == "" {
				t.Fatal("no flash after sign-out")
			}
			// ...which is deleted once shown.
			req := httptest.NewRequest(http.MethodGet, "/signin", nil)
			req.Header.Set("Cookie", "hookflow_flash="+flash)
			res, _ = send(t, srv.app, req)
			wantDeleted(t, "flash shown", res, "hookflow_flash", "/", secure)
		})
	}
}

// TestCSRFNotFromQuery: the CSRF token counts only in the form body or
// the X-CSRF-Token header, and credentials only in the form body, never
// in the query string.
func TestCSRFNotFromQuery(t *testing.T) {
	t.Parallel()
	srv := newUIServer(t)
	s := signIn(t, srv.app)
	req := httptest.NewRequest(http.MethodPost, "/signout?_csrf="+url.QueryEscape(s.CSRF), nil)
	req.Header.Set("Cookie", s.Cookie)
	res, _ := send(t, srv.app, req)
	wantStatus(t, res, http.StatusForbidden)
	req = httptest.NewRequest(http.MethodPost, "/tokens?_csrf="+url.QueryEscape(s.CSRF), strings.NewReader("name=ci"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", s.Cookie)
	res, _ = send(t, srv.app, req)
	wantStatus(t, res, http.StatusForbidden)
	// The same token in the body or the header is accepted.
	res, _ = doForm(t, srv.app, s, "/tokens", url.Values{"name": {"ci"}}, formOpts{})
	wantStatus(t, res, http.StatusOK) // the page showing the new token once
	res, _ = doForm(t, srv.app, s, "/tokens", url.Values{"name": {"ci2"}}, formOpts{HTMX: true})
	if res.StatusCode >= 400 {
		t.Errorf("token in X-CSRF-Token: %d", res.StatusCode)
	}

	// A password in the query string of POST /signin is not read.
	res, body := send(t, srv.app, httptest.NewRequest(http.MethodGet, "/signin", nil))
	pre := cookieValue(res, "hookflow_csrf")
	csrf := csrfInputRE.FindStringSubmatch(body)[1]
	q := url.Values{"email": {testEmail}, "password": {testPassword}, "_csrf": {csrf}}
	req = httptest.NewRequest(http.MethodPost, "/signin?"+q.Encode(), strings.NewReader(url.Values{"_csrf": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "hookflow_csrf="+pre)
	res, _ = send(t, srv.app, req)
	if res.StatusCode == http.StatusSeeOther || cookieValue(res, handlers.SessionCookie) != "" {
		t.Errorf("signed in with the password in the URL: %d", res.StatusCode)
	}
}

// TestSessionIdle: a session unused for the idle time (2 hours by default,
// configurable) is signed out, though its 12 hours are not over; a
// session in use is kept alive.
func TestSessionIdle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	setSeen := func(t *testing.T, srv *uiServer, s uiSession, seen time.Time) {
		t.Helper()
		tok := strings.TrimPrefix(s.Cookie, handlers.SessionCookie+"=")
		if err := srv.store.TouchSession(ctx, engine.HashToken(tok), seen); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name   string
		idle   time.Duration // configured; 0 is the default
		unused time.Duration
		kept   bool
	}{
		{"default, used an hour ago", 0, time.Hour, true},
		{"default, unused for two hours", 0, 2*time.Hour + time.Second, false},
		{"30m, used 29 minutes ago", 30 * time.Minute, 29 * time.Minute, true},
		{"30m, unused for 31 minutes", 30 * time.Minute, 31 * time.Minute, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newUIServer(t)
			srv.h.SessionIdle = tc.idle
			s := signIn(t, srv.app)
			setSeen(t, srv, s, time.Now().Add(-tc.unused))
			res, _ := s.get(t, srv.app, "/tokens")
			if !tc.kept {
				if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/signin") {
					t.Fatalf("idle session: %d %q, want the sign-in page", res.StatusCode, res.Header.Get("Location"))
				}
				// Gone for good, not only refused once.
				tok := strings.TrimPrefix(s.Cookie, handlers.SessionCookie+"=")
				if _, err := srv.store.GetSession(ctx, engine.HashToken(tok), time.Now()); engine.ErrorCode(err) != engine.ENOTFOUND {
					t.Errorf("idle session still stored: %v", err)
				}
				return
			}
			wantStatus(t, res, http.StatusOK)
			// The request counts as use: the idle time starts over.
			tok := strings.TrimPrefix(s.Cookie, handlers.SessionCookie+"=")
			got, err := srv.store.GetSession(ctx, engine.HashToken(tok), time.Now())
			if err != nil || time.Since(got.SeenAt) > time.Minute {
				t.Errorf("session use not recorded: %+v %v", got, err)
			}
		})
	}
}
