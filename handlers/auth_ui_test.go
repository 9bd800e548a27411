package handlers_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// signInAttempt runs the sign-in form once: GET /signin?next= then POST
// with the credentials; extraCookie is sent along (an old session).
func signInAttempt(t *testing.T, app *fiber.App, email, password, next, extraCookie string) (*http.Response, string) {
	t.Helper()
	q := ""
	if next != "" {
		q = "?next=" + url.QueryEscape(next)
	}
	res, body := send(t, app, httptest.NewRequest(http.MethodGet, "/signin"+q, nil))
	pre := cookieValue(res, "hookflow_csrf")
	m := csrfInputRE.FindStringSubmatch(body)
	if pre == "" || m == nil {
		t.Fatal("sign-in page without CSRF cookie or field")
	}
	form := url.Values{"email": {email}, "password": {password}, "_csrf": {html.UnescapeString(m[1])}}
	req := httptest.NewRequest(http.MethodPost, "/signin"+q, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cookie := "hookflow_csrf=" + pre
	if extraCookie != "" {
		cookie += "; " + extraCookie
	}
	req.Header.Set("Cookie", cookie)
	return send(t, app, req)
}

func TestSignInWrongPassword(t *testing.T) {
	t.Parallel()
	app, _, _ := newUITestServer(t)
	res, body := signInAttempt(t, app, testEmail, "not-the-password", "", "")
	wantStatus(t, res, http.StatusUnauthorized)
	mustTestID(t, body, "signin-form", "signin-error")
	if got := textOf(element(t, body, "signin-error")); got != "Wrong email or password." {
		t.Errorf("error %q", got)
	}
	pw := element(t, body, "signin-password")
	if !strings.Contains(pw, `aria-invalid="true"`) || !strings.Contains(pw, `aria-describedby="signin-error"`) {
		t.Errorf("password field not tied to the error: %s", pw)
	}
	if !strings.Contains(element(t, body, "signin-email"), `value="`+testEmail+`"`) {
		t.Error("email not kept")
	}
	if cookieValue(res, "hookflow_session") != "" {
		t.Error("a failed sign-in set a session")
	}
	// An unknown account reads the same.
	res, body = signInAttempt(t, app, "nobody@example.com", "whatever-password", "", "")
	wantStatus(t, res, http.StatusUnauthorized)
	if got := textOf(element(t, body, "signin-error")); got != "Wrong email or password." {
		t.Errorf("unknown account error %q", got)
	}
}

func TestSignInThrottled(t *testing.T) {
	t.Parallel()
	srv := newUIServer(t)
	free := srv.h.Throttle.Free
	for i := range free {
		res, _ := signInAttempt(t, srv.app, testEmail, "wrong-password-"+strconv.Itoa(i), "", "")
		wantStatus(t, res, http.StatusUnauthorized)
	}
	res, body := signInAttempt(t, srv.app, testEmail, testPassword, "", "")
	wantStatus(t, res, http.StatusTooManyRequests)
	ra, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if err != nil || ra < 1 {
		t.Errorf("Retry-After %q", res.Header.Get("Retry-After"))
	}
	if !strings.Contains(textOf(element(t, body, "signin-error")), "Too many failed sign-ins") {
		t.Error("no throttling message next to the form")
	}
	if cookieValue(res, "hookflow_session") != "" {
		t.Error("a throttled attempt signed in, even with the right password")
	}
}

func TestSignInRotatesSession(t *testing.T) {
	t.Parallel()
	app, _, _ := newUITestServer(t)
	s1 := signIn(t, app)
	// Signing in again from the same browser: a new token, the old one gone.
	res, _ := signInAttempt(t, app, testEmail, testPassword, "", s1.Cookie)
	wantStatus(t, res, http.StatusSeeOther)
	tok := cookieValue(res, "hookflow_session")
	if tok == "" || "hookflow_session="+tok == s1.Cookie {
		t.Fatalf("no new session token: %q", tok)
	}
	res, _ = s1.get(t, app, "/")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin" {
		t.Errorf("old session still works: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	s2 := uiSession{Cookie: "hookflow_session=" + tok}
	res, _ = s2.get(t, app, "/")
	wantStatus(t, res, http.StatusOK)
	// Session cookie flags.
	for _, c := range res.Cookies() {
		if c.Name == "hookflow_session" {
			t.Errorf("GET / resets the session cookie")
		}
	}
	res, _ = signInAttempt(t, app, testEmail, testPassword, "", "")
	for _, c := range res.Cookies() {
		if c.Name == "hookflow_session" && (!c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/") {
			t.Errorf("session cookie flags: %+v", c)
		}
	}
}

func TestSignOut(t *testing.T) {
	t.Parallel()
	app, _, _ := newUITestServer(t)
	s := signIn(t, app)
	// Without the CSRF token: refused, and the session survives.
	res, body := doForm(t, app, s, "/signout", nil, formOpts{NoCSRF: true})
	wantStatus(t, res, http.StatusForbidden)
	mustTestID(t, body, "error-page")
	if res, _ := s.get(t, app, "/"); res.StatusCode != http.StatusOK {
		t.Fatalf("session gone after a refused sign-out: %d", res.StatusCode)
	}
	res, _ = doForm(t, app, s, "/signout", nil, formOpts{})
	wantStatus(t, res, http.StatusSeeOther)
	if res.Header.Get("Location") != "/signin" {
		t.Errorf("Location %q", res.Header.Get("Location"))
	}
	// The cookie is cleared and the session deleted server-side: replaying
	// the old cookie does not work.
	cleared := false
	for _, c := range res.Cookies() {
		if c.Name == "hookflow_session" && (c.MaxAge < 0 || c.Value == "") {
			cleared = true
		}
	}
	if !cleared {
		t.Error("session cookie not cleared")
	}
	res, _ = s.get(t, app, "/tokens")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/signin") {
		t.Errorf("old session after sign-out: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestFirstRunHint(t *testing.T) {
	t.Parallel()
	app, _, _ := newUITestServer(t)
	_, body := send(t, app, httptest.NewRequest(http.MethodGet, "/signin", nil))
	mustTestID(t, body, "firstrun-hint")
	if !strings.Contains(textOf(element(t, body, "firstrun-hint")), "HOOKFLOW_ADMIN_PASSWORD") {
		t.Error("hint does not say where the password comes from")
	}
	// A failed attempt is not a sign-in: the hint stays.
	signInAttempt(t, app, testEmail, "wrong-password!", "", "")
	_, body = send(t, app, httptest.NewRequest(http.MethodGet, "/signin", nil))
	mustTestID(t, body, "firstrun-hint")
	signIn(t, app)
	_, body = send(t, app, httptest.NewRequest(http.MethodGet, "/signin", nil))
	if hasTestID(body, "firstrun-hint") {
		t.Error("hint still shown after the first sign-in")
	}
}

func TestSignInNextStaysOnSite(t *testing.T) {
	t.Parallel()
	app, _, _ := newUITestServer(t)
	for _, tc := range []struct{ next, want string }{
		{"/tokens", "/tokens"},
		{"/workflows/1/executions?status=failed", "/workflows/1/executions?status=failed"},
		{"//evil.example/x", "/"},
		{"https://evil.example/", "/"},
		{`/\evil.example`, "/"},
		{"javascript:alert(1)", "/"},
	} {
		res, _ := signInAttempt(t, app, testEmail, testPassword, tc.next, "")
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != tc.want {
			t.Errorf("next=%q: %d Location %q, want %q", tc.next, res.StatusCode, res.Header.Get("Location"), tc.want)
		}
	}
}

func TestSignInCSRF(t *testing.T) {
	t.Parallel()
	app, _, _ := newUITestServer(t)
	// A sign-in form posted from elsewhere has no matching pre-session token.
	form := url.Values{"email": {testEmail}, "password": {testPassword}, "_csrf": {"forged"}}
	req := httptest.NewRequest(http.MethodPost, "/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, _ := send(t, app, req)
	wantStatus(t, res, http.StatusForbidden)
	if cookieValue(res, "hookflow_session") != "" {
		t.Error("forged sign-in set a session")
	}
}
