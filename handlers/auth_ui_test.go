package handlers_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
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
		// Control characters: a CR LF would split the Location header
		// (issue 12: a Set-Cookie sent through next=), a tab is dropped by
		// browsers so that "/\t/evil.example/" becomes "//evil.example/".
		{"/\r\nSet-Cookie: x=y", "/"},
		{"/\nSet-Cookie: x=y", "/"},
		{"/\t/evil.example/", "/"},
		{"/\x00/evil.example/", "/"},
		{"/\x7f", "/"},
		{"/workflows\\..\\evil", "/"},
		{"///evil.example", "/"},
		{"/a b", "/"},
		{"http:/evil.example", "/"},
		{"/%2F/evil.example", "/"}, // decodes to "///evil.example": refused, to be safe
		{"/workflows/1/executions?status=failed&x=%0d%0a", "/workflows/1/executions?status=failed&x=%0D%0A"},
		{"/tokens#frag", "/tokens"},
		{"tokens", "/"},
		{"", "/"},
	} {
		res, _ := signInAttempt(t, app, testEmail, testPassword, tc.next, "")
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != tc.want {
			t.Errorf("next=%q: %d Location %q, want %q", tc.next, res.StatusCode, res.Header.Get("Location"), tc.want)
		}
		if cookieValue(res, "x") != "" {
			t.Errorf("next=%q: set a cookie through the Location header", tc.next)
		}
	}
	// A signed-in admin who opens /signin?next=... is sent there at once:
	// one click on a link, so the same rules apply.
	s := signIn(t, app)
	for _, tc := range []struct{ next, want string }{
		{"/tokens", "/tokens"},
		{"/\r\nSet-Cookie: x=y", "/"},
		{"/\t/evil.example/", "/"},
		{"//evil.example", "/"},
	} {
		res, _ := s.get(t, app, "/signin?next="+url.QueryEscape(tc.next))
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != tc.want {
			t.Errorf("signed in, next=%q: %d Location %q, want %q", tc.next, res.StatusCode, res.Header.Get("Location"), tc.want)
		}
		if len(res.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("signed in, next=%q: Set-Cookie %q", tc.next, res.Header.Values("Set-Cookie"))
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

// turnOnTOTP gives the test admin a two-factor secret, straight in the store.
func turnOnTOTP(t *testing.T, srv *uiServer) string {
	t.Helper()
	ctx := context.Background()
	u, err := srv.store.GetUserByEmail(ctx, testEmail)
	if err != nil {
		t.Fatal(err)
	}
	secret := engine.NewTOTPSecret()
	if err := srv.store.SetTOTP(ctx, u.ID, secret); err != nil {
		t.Fatal(err)
	}
	return secret
}

var tokenInputRE = regexp.MustCompile(`name="token" value="([^"]*)"`)

// codeStep is the second sign-in step as a browser holds it: its CSRF
// cookie and field and the pending sign-in token.
type codeStep struct {
	pre, csrf, token string
}

// wantCodeStep checks that a reply is the code step and returns it.
func wantCodeStep(t *testing.T, res *http.Response, body string) codeStep {
	t.Helper()
	mustTestID(t, body, "signin-code-form", "signin-code")
	if hasTestID(body, "signin-password") {
		t.Error("the code step asks for the password again")
	}
	if cookieValue(res, "hookflow_session") != "" {
		t.Error("a session cookie before the code")
	}
	st := codeStep{pre: cookieValue(res, "hookflow_csrf")}
	m, tm := csrfInputRE.FindStringSubmatch(body), tokenInputRE.FindStringSubmatch(body)
	if st.pre == "" || m == nil || tm == nil || tm[1] == "" {
		t.Fatal("code step without CSRF cookie, CSRF field or token")
	}
	st.csrf, st.token = html.UnescapeString(m[1]), html.UnescapeString(tm[1])
	return st
}

// sendCode posts the code step.
func sendCode(t *testing.T, app *fiber.App, st codeStep, code string) (*http.Response, string) {
	t.Helper()
	form := url.Values{"token": {st.token}, "code": {code}, "_csrf": {st.csrf}}
	req := httptest.NewRequest(http.MethodPost, "/signin/code", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "hookflow_csrf="+st.pre)
	return send(t, app, req)
}

// wrongCode returns a 6-digit code that is not valid around now.
func wrongCode(t *testing.T, secret string) string {
	t.Helper()
	valid := map[string]bool{}
	for _, d := range []time.Duration{-time.Minute, -30 * time.Second, 0, 30 * time.Second, time.Minute} {
		c, _ := engine.TOTPCode(secret, time.Now().Add(d))
		valid[c] = true
	}
	for i := 0; ; i++ {
		c := strconv.Itoa(100000 + i)
		if !valid[c] {
			return c
		}
	}
}

func TestSignInTOTP(t *testing.T) {
	t.Parallel()
	srv := newUIServer(t)
	secret := turnOnTOTP(t, srv)

	// The right password leads to the code step, not to a session.
	res, body := signInAttempt(t, srv.app, testEmail, testPassword, "/tokens", "")
	wantStatus(t, res, http.StatusOK)
	st := wantCodeStep(t, res, body)
	cspSafe(t, body)

	// A wrong code: 401, the code step again, no session.
	res, body = sendCode(t, srv.app, st, wrongCode(t, secret))
	wantStatus(t, res, http.StatusUnauthorized)
	st = wantCodeStep(t, res, body)
	if got := textOf(element(t, body, "signin-error")); !strings.HasPrefix(got, "Wrong code") {
		t.Errorf("error %q", got)
	}
	if !strings.Contains(element(t, body, "signin-code"), `aria-invalid="true"`) {
		t.Error("code field not marked invalid")
	}

	// The right code signs in and goes on to next.
	code, err := engine.TOTPCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, _ = sendCode(t, srv.app, st, code)
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/tokens" {
		t.Errorf("redirect to %q, want /tokens", loc)
	}
	tok := cookieValue(res, "hookflow_session")
	if tok == "" {
		t.Fatal("no session after the right code")
	}
	res, _ = uiSession{Cookie: "hookflow_session=" + tok}.get(t, srv.app, "/")
	wantStatus(t, res, http.StatusOK)

	// The token was single-use: it sends back to the first step.
	res, body = sendCode(t, srv.app, st, code)
	wantStatus(t, res, http.StatusUnauthorized)
	mustTestID(t, body, "signin-form", "signin-password")
	if cookieValue(res, "hookflow_session") != "" {
		t.Error("a used token signed in again")
	}

	// The same code in a new sign-in is refused (replay).
	res, body = signInAttempt(t, srv.app, testEmail, testPassword, "", "")
	st = wantCodeStep(t, res, body)
	res, body = sendCode(t, srv.app, st, code)
	wantStatus(t, res, http.StatusUnauthorized)
	wantCodeStep(t, res, body)
	// It says so, rather than "wrong code" (issue 12, point 16).
	if got := textOf(element(t, body, "signin-error")); !strings.HasPrefix(got, "This code was already used. Wait for the next code") {
		t.Errorf("replay error %q", got)
	}
}

func TestSignInTOTPPendingToken(t *testing.T) {
	t.Parallel()
	srv := newUIServer(t)
	secret := turnOnTOTP(t, srv)
	res, body := signInAttempt(t, srv.app, testEmail, testPassword, "", "")
	st := wantCodeStep(t, res, body)
	code, _ := engine.TOTPCode(secret, time.Now())

	// An unknown (or expired) token sends back to email and password.
	bad := st
	bad.token = "not-a-pending-sign-in"
	res, body = sendCode(t, srv.app, bad, code)
	wantStatus(t, res, http.StatusUnauthorized)
	mustTestID(t, body, "signin-form", "signin-email", "signin-password")
	if got := textOf(element(t, body, "signin-error")); !strings.Contains(got, "expired") {
		t.Errorf("error %q", got)
	}
	if cookieValue(res, "hookflow_session") != "" {
		t.Error("an unknown token signed in")
	}

	// Without the CSRF cookie: refused, and the pending sign-in is gone.
	noCSRF := st
	noCSRF.pre = "other"
	res, _ = sendCode(t, srv.app, noCSRF, code)
	wantStatus(t, res, http.StatusForbidden)
	res, body = sendCode(t, srv.app, st, code)
	wantStatus(t, res, http.StatusUnauthorized)
	mustTestID(t, body, "signin-password")
}

func TestSignInTOTPThrottled(t *testing.T) {
	t.Parallel()
	srv := newUIServer(t)
	secret := turnOnTOTP(t, srv)
	// Wrong codes count as failed sign-ins, with the same keys: after
	// Free of them, even the right password and code wait.
	wrong := wrongCode(t, secret)
	var st codeStep
	for i := range srv.h.Throttle.Free {
		if i%4 == 0 {
			res, body := signInAttempt(t, srv.app, testEmail, testPassword, "", "")
			st = wantCodeStep(t, res, body)
		}
		res, _ := sendCode(t, srv.app, st, wrong)
		wantStatus(t, res, http.StatusUnauthorized)
	}
	res, body := signInAttempt(t, srv.app, testEmail, testPassword, "", "")
	wantStatus(t, res, http.StatusTooManyRequests)
	if !strings.Contains(textOf(element(t, body, "signin-error")), "Too many failed sign-ins") {
		t.Error("no throttling message")
	}
}
