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
	"github.com/hookflow/hookflow/handlers"
)

// accountOpenTag returns the opening tag of the element with the testid.
func accountOpenTag(t *testing.T, body, testid string) string {
	t.Helper()
	el := element(t, body, testid)
	return el[:strings.Index(el, ">")+1]
}

// accountAttr returns an attribute of the element with the testid; ok is
// false when the element does not have it.
func accountAttr(t *testing.T, body, testid, name string) (string, bool) {
	t.Helper()
	m := regexp.MustCompile(`\s` + regexp.QuoteMeta(name) + `(?:="([^"]*)")?[\s/>]`).FindStringSubmatch(accountOpenTag(t, body, testid))
	if m == nil {
		return "", false
	}
	return html.UnescapeString(m[1]), true
}

// changePassword posts the change-password form with the session.
func changePassword(t *testing.T, app *fiber.App, s uiSession, current, next, confirm string) (*http.Response, string) {
	t.Helper()
	return doForm(t, app, s, "/account/password", url.Values{
		"current_password": {current}, "new_password": {next}, "confirm_password": {confirm},
	}, formOpts{})
}

// storedHash is the admin's password hash as stored.
func storedHash(t *testing.T, srv *uiServer) string {
	t.Helper()
	u, err := srv.store.GetUserByEmail(context.Background(), testEmail)
	if err != nil {
		t.Fatal(err)
	}
	return u.PasswordHash
}

// wantFieldError checks the message next to a field and that the field
// points at it (aria-invalid, aria-describedby).
func wantFieldError(t *testing.T, body, field, want string) {
	t.Helper()
	if got := textOf(element(t, body, field+"-error")); got != want {
		t.Errorf("%s error %q, want %q", field, got, want)
	}
	errID, _ := accountAttr(t, body, field+"-error", "id")
	if v, _ := accountAttr(t, body, field, "aria-invalid"); v != "true" {
		t.Errorf("%s lacks aria-invalid=true: %s", field, accountOpenTag(t, body, field))
	}
	if v, _ := accountAttr(t, body, field, "aria-describedby"); errID == "" || !strings.Contains(" "+v+" ", " "+errID+" ") {
		t.Errorf("%s aria-describedby %q does not name its error %q", field, v, errID)
	}
}

// wantNoFieldError checks that a field is not marked invalid.
func wantNoFieldError(t *testing.T, body, field string) {
	t.Helper()
	if got := textOf(element(t, body, field+"-error")); got != "" {
		t.Errorf("%s has error %q", field, got)
	}
	if _, ok := accountAttr(t, body, field, "aria-invalid"); ok {
		t.Errorf("%s marked invalid", field)
	}
}

// wantPasswordsNotEchoed checks that no password field is filled back in.
func wantPasswordsNotEchoed(t *testing.T, body string) {
	t.Helper()
	for _, f := range []string{"current-password", "new-password", "confirm-password", "totp-password"} {
		if !hasTestID(body, f) {
			continue
		}
		if v, ok := accountAttr(t, body, f, "value"); ok {
			t.Errorf("%s sent back with value %q", f, v)
		}
	}
}

func TestAccountPage(t *testing.T) {
	t.Parallel()
	app, _, _ := newUITestServer(t)
	s := signIn(t, app)
	res, body := s.get(t, app, "/account")
	wantStatus(t, res, http.StatusOK)
	cspSafe(t, body)
	mustTestID(t, body, "account-form", "current-password", "new-password", "confirm-password", "change-password-submit", "account-email")
	if got := textOf(element(t, body, "account-email")); got != testEmail {
		t.Errorf("email %q", got)
	}
	// The navigation links here, marked current, and shows the email.
	nav := element(t, body, "nav-account")
	if v, _ := accountAttr(t, body, "nav-account", "href"); v != "/account" {
		t.Errorf("nav-account href %q", v)
	}
	if v, _ := accountAttr(t, body, "nav-account", "aria-current"); v != "page" {
		t.Errorf("nav-account not current: %s", nav)
	}
	if got := textOf(nav); !strings.Contains(got, "Account") || !strings.Contains(got, testEmail) {
		t.Errorf("nav-account text %q", got)
	}
	form := element(t, body, "account-form")
	if v, _ := accountAttr(t, body, "account-form", "action"); v != "/account/password" {
		t.Errorf("form action %q", v)
	}
	if v, _ := accountAttr(t, body, "account-form", "method"); v != "post" {
		t.Errorf("form method %q", v)
	}
	if !strings.Contains(form, `<input type="hidden" name="_csrf" value="`+html.EscapeString(s.CSRF)+`">`) {
		t.Error("form lacks the hidden _csrf input")
	}
	for _, tc := range []struct{ testid, name, autocomplete string }{
		{"current-password", "current_password", "current-password"},
		{"new-password", "new_password", "new-password"},
		{"confirm-password", "confirm_password", "new-password"},
	} {
		for attrName, want := range map[string]string{"type": "password", "name": tc.name, "autocomplete": tc.autocomplete} {
			if v, _ := accountAttr(t, body, tc.testid, attrName); v != want {
				t.Errorf("%s %s=%q, want %q", tc.testid, attrName, v, want)
			}
		}
		id, _ := accountAttr(t, body, tc.testid, "id")
		if id == "" || !strings.Contains(form, `<label for="`+id+`">`) {
			t.Errorf("%s has no label", tc.testid)
		}
	}
	if v, _ := accountAttr(t, body, "new-password", "aria-describedby"); !strings.Contains(v, "new-password-hint") ||
		!strings.Contains(form, `id="new-password-hint"`) || !strings.Contains(form, "At least 12 characters") {
		t.Errorf("new password hint missing or not tied to the field (%q)", v)
	}
	for _, f := range []string{"current-password", "new-password", "confirm-password"} {
		wantNoFieldError(t, body, f)
	}
	wantPasswordsNotEchoed(t, body)
	// On other pages the account link is there but not current.
	_, body = s.get(t, app, "/tokens")
	if _, ok := accountAttr(t, body, "nav-account", "aria-current"); ok {
		t.Error("nav-account current on /tokens")
	}
}

func TestAccountRequiresSession(t *testing.T) {
	t.Parallel()
	app, _, _ := newUITestServer(t)
	res, _ := send(t, app, httptest.NewRequest(http.MethodGet, "/account", nil))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin?next=%2Faccount" {
		t.Errorf("GET /account without session: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ = doForm(t, app, uiSession{}, "/account/password", url.Values{"current_password": {testPassword}}, formOpts{NoCSRF: true})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin" {
		t.Errorf("POST /account/password without session: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestAccountPasswordCSRF(t *testing.T) {
	t.Parallel()
	srv := newUIServer(t)
	s := signIn(t, srv.app)
	before := storedHash(t, srv)
	form := url.Values{"current_password": {testPassword}, "new_password": {"a-brand-new-passphrase"}, "confirm_password": {"a-brand-new-passphrase"}}
	res, body := doForm(t, srv.app, s, "/account/password", form, formOpts{NoCSRF: true})
	wantStatus(t, res, http.StatusForbidden)
	mustTestID(t, body, "error-page")
	form.Set("_csrf", "forged")
	res, _ = doForm(t, srv.app, uiSession{Cookie: s.Cookie}, "/account/password", form, formOpts{NoCSRF: true})
	wantStatus(t, res, http.StatusForbidden)
	if storedHash(t, srv) != before {
		t.Error("password changed without a CSRF token")
	}
}

func TestAccountPasswordWrongCurrent(t *testing.T) {
	t.Parallel()
	srv := newUIServer(t)
	s := signIn(t, srv.app)
	before := storedHash(t, srv)
	res, body := changePassword(t, srv.app, s, "not-the-password", "a-brand-new-passphrase", "a-brand-new-passphrase")
	wantStatus(t, res, http.StatusUnprocessableEntity)
	cspSafe(t, body)
	wantFieldError(t, body, "current-password", "Wrong password")
	wantNoFieldError(t, body, "new-password")
	wantNoFieldError(t, body, "confirm-password")
	wantPasswordsNotEchoed(t, body)
	// The error sits in the same field as the input.
	if _, ok := accountAttr(t, body, "current-password", "autofocus"); !ok {
		t.Error("the wrong field is not focused")
	}
	if v, _ := accountAttr(t, body, "account-form", "action"); v != "/account/password" {
		t.Error("form not rendered again")
	}
	if storedHash(t, srv) != before {
		t.Error("password changed with a wrong current password")
	}
	// The old password still signs in.
	res, _ = signInAttempt(t, srv.app, testEmail, testPassword, "", "")
	wantStatus(t, res, http.StatusSeeOther)
	// An empty current password is asked for.
	res, body = changePassword(t, srv.app, s, "", "a-brand-new-passphrase", "another-passphrase!")
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantFieldError(t, body, "current-password", "Enter your current password")
	wantFieldError(t, body, "confirm-password", "The two new passwords differ")
}

func TestAccountPasswordValidation(t *testing.T) {
	t.Parallel()
	srv := newUIServer(t)
	s := signIn(t, srv.app)
	before := storedHash(t, srv)
	long := strings.Repeat("é", 37) // 37 characters, 74 bytes
	for _, tc := range []struct {
		name, next, confirm, field, want string
	}{
		{"too short", "short-pw", "short-pw", "new-password", "At least 12 characters"},
		{"too long", long, long, "new-password", "At most 72 bytes"},
		{"own email", "my " + testEmail, "my " + testEmail, "new-password", "Must not be your email address or its name part"},
		{"sequential", "123456789012", "123456789012", "new-password",
			"Repeated or sequential characters (such as aaaa, 1234, abcd or qwerty, or a short part repeated); choose another"},
		{"common", "Password2024!", "Password2024!", "new-password",
			"One of the most common passwords, perhaps with a few digits or symbols added; choose another"},
		{"mismatch", "a-brand-new-passphrase", "a-brand-new-passphrasf", "confirm-password", "The two new passwords differ"},
		{"same as current", testPassword, testPassword, "new-password", "Choose a password different from the current one"},
	} {
		res, body := changePassword(t, srv.app, s, testPassword, tc.next, tc.confirm)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", tc.name, res.StatusCode)
			continue
		}
		wantFieldError(t, body, tc.field, tc.want)
		wantNoFieldError(t, body, "current-password")
		wantPasswordsNotEchoed(t, body)
		// A reload must not post the form again.
		if !strings.Contains(body, `data-replace-url="/account"`) {
			t.Errorf("%s: page does not replace its URL", tc.name)
		}
	}
	if storedHash(t, srv) != before {
		t.Error("password changed by an invalid form")
	}
}

func TestAccountPasswordChange(t *testing.T) {
	t.Parallel()
	srv := newUIServer(t)
	app := srv.app
	s := signIn(t, app)
	other := signIn(t, app) // the same admin in another browser
	if other.Cookie == s.Cookie {
		t.Fatal("two sign-ins share a session")
	}
	const newPassword = "four random words: lamp orbit tulip"
	res, _ := changePassword(t, app, s, testPassword, newPassword, newPassword)
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/account" {
		t.Errorf("Location %q, want /account", loc)
	}
	// The flash is on the next page.
	flash := cookieValue(res, "hookflow_flash")
	if flash == "" {
		t.Fatal("no flash queued")
	}
	req := httptest.NewRequest(http.MethodGet, "/account", nil)
	req.Header.Set("Cookie", s.Cookie+"; hookflow_flash="+flash)
	res, body := send(t, app, req)
	wantStatus(t, res, http.StatusOK)
	if got := textOf(element(t, body, "flash-success")); got != "Password changed. Other sessions were signed out." {
		t.Errorf("flash %q", got)
	}
	// This session still works; the other one is signed out.
	res, _ = s.get(t, app, "/")
	wantStatus(t, res, http.StatusOK)
	res, _ = other.get(t, app, "/")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin" {
		t.Errorf("other session after the change: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	// The new password signs in, the old one does not.
	res, _ = signInAttempt(t, app, testEmail, testPassword, "", "")
	wantStatus(t, res, http.StatusUnauthorized)
	res, _ = signInAttempt(t, app, testEmail, newPassword, "", "")
	wantStatus(t, res, http.StatusSeeOther)
	if cookieValue(res, handlers.SessionCookie) == "" {
		t.Error("the new password gave no session")
	}
}

func TestAccountPasswordThrottled(t *testing.T) {
	t.Parallel()
	srv := newUIServer(t)
	s := signIn(t, srv.app)
	before := storedHash(t, srv)
	for i := range srv.h.Throttle.Free {
		res, _ := changePassword(t, srv.app, s, "wrong-password-"+strconv.Itoa(i), "a-brand-new-passphrase", "a-brand-new-passphrase")
		wantStatus(t, res, http.StatusUnprocessableEntity)
	}
	// Even the right current password waits now.
	res, body := changePassword(t, srv.app, s, testPassword, "a-brand-new-passphrase", "a-brand-new-passphrase")
	wantStatus(t, res, http.StatusTooManyRequests)
	if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After %q", res.Header.Get("Retry-After"))
	}
	if got := textOf(element(t, body, "current-password-error")); !strings.HasPrefix(got, "Too many wrong passwords. Try again in ") {
		t.Errorf("throttle message %q", got)
	}
	wantPasswordsNotEchoed(t, body)
	if storedHash(t, srv) != before {
		t.Error("a throttled attempt changed the password")
	}
	// The session itself is not signed out.
	res, _ = s.get(t, srv.app, "/account")
	wantStatus(t, res, http.StatusOK)
}

// signInCookie signs in through the form and returns the reply of POST
// /signin; the session cookie is whatever the reply sets.
func signInCookie(t *testing.T, app *fiber.App) *http.Response {
	t.Helper()
	res, _ := signInAttempt(t, app, testEmail, testPassword, "", "")
	wantStatus(t, res, http.StatusSeeOther)
	return res
}

func TestSessionCookieName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		secure bool
		name   string
		other  string
	}{
		{false, handlers.SessionCookie, handlers.SecureSessionCookie},
		{true, "__Host-hookflow_session", handlers.SessionCookie},
	} {
		t.Run("secure="+strconv.FormatBool(tc.secure), func(t *testing.T) {
			t.Parallel()
			srv := newUIServer(t)
			srv.h.SecureCookies = tc.secure
			res := signInCookie(t, srv.app)
			var set *http.Cookie
			for _, c := range res.Cookies() {
				switch c.Name {
				case tc.name:
					set = c
				case tc.other:
					t.Errorf("sign-in set %s", c.Name)
				}
			}
			if set == nil || set.Value == "" {
				t.Fatalf("no %s cookie", tc.name)
			}
			// __Host- cookies need Secure, Path=/ and no Domain; the plain
			// one is the same but for Secure.
			if set.Secure != tc.secure || set.Path != "/" || set.Domain != "" || !set.HttpOnly || set.SameSite != http.SameSiteLaxMode {
				t.Errorf("cookie flags: %+v", set)
			}
			s := uiSession{Cookie: tc.name + "=" + set.Value}
			res, body := s.get(t, srv.app, "/account")
			wantStatus(t, res, http.StatusOK)
			s.CSRF = html.UnescapeString(csrfMetaRE.FindStringSubmatch(body)[1])
			// The same token under the other name is no session.
			res, _ = uiSession{Cookie: tc.other + "=" + set.Value}.get(t, srv.app, "/account")
			if res.StatusCode != http.StatusSeeOther {
				t.Errorf("session accepted under %s: %d", tc.other, res.StatusCode)
			}
			// The sign-in page sees the session (and goes on to /).
			res, _ = s.get(t, srv.app, "/signin")
			if res.StatusCode != http.StatusSeeOther {
				t.Errorf("GET /signin with a session: %d", res.StatusCode)
			}
			// Signing in again from this browser replaces the session.
			res, _ = signInAttempt(t, srv.app, testEmail, testPassword, "", s.Cookie)
			wantStatus(t, res, http.StatusSeeOther)
			if res, _ := s.get(t, srv.app, "/"); res.StatusCode != http.StatusSeeOther {
				t.Errorf("old session survives a new sign-in: %d", res.StatusCode)
			}
			s = uiSession{Cookie: tc.name + "=" + cookieValue(res, tc.name)}
			_, body = s.get(t, srv.app, "/")
			s.CSRF = html.UnescapeString(csrfMetaRE.FindStringSubmatch(body)[1])
			// Sign-out clears the cookie under its name and ends the session.
			res, _ = doForm(t, srv.app, s, "/signout", nil, formOpts{})
			wantStatus(t, res, http.StatusSeeOther)
			cleared := false
			for _, c := range res.Cookies() {
				if c.Name == tc.name && (c.MaxAge < 0 || c.Value == "") {
					cleared = true
					if c.Path != "/" || c.Secure != tc.secure {
						t.Errorf("clearing cookie flags: %+v", c)
					}
				}
			}
			if !cleared {
				t.Errorf("%s not cleared at sign-out", tc.name)
			}
			if res, _ := s.get(t, srv.app, "/"); res.StatusCode != http.StatusSeeOther {
				t.Errorf("session survives sign-out: %d", res.StatusCode)
			}
		})
	}
}

var totpSecretRE = regexp.MustCompile(`name="secret" value="([^"]*)"`)

// totpSetup opens the two-factor setup and returns the secret it shows.
func totpSetup(t *testing.T, app *fiber.App, s uiSession) string {
	t.Helper()
	res, body := s.get(t, app, "/account")
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "totp-card", "totp-start")
	res, body = s.get(t, app, "/account?totp=setup")
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "totp-secret", "totp-code", "totp-password", "totp-enable", "totp-uri")
	cspSafe(t, body)
	m := totpSecretRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no secret in the setup form")
	}
	secret := html.UnescapeString(m[1])
	if v, _ := accountAttr(t, body, "totp-secret", "value"); v != secret {
		t.Errorf("shown secret %q, posted %q", v, secret)
	}
	if !strings.Contains(body, html.EscapeString("otpauth://totp/Hookflow:admin@example.com?issuer=Hookflow&amp;secret="+secret)) &&
		!strings.Contains(body, "otpauth://totp/Hookflow:admin@example.com?issuer=Hookflow&amp;secret="+secret) {
		t.Error("no otpauth URI")
	}
	return secret
}

func TestAccountTOTPEnableDisable(t *testing.T) {
	t.Parallel()
	srv := newUIServer(t)
	s := signIn(t, srv.app)
	ctx := context.Background()
	secret := totpSetup(t, srv.app, s)

	// Without CSRF: refused.
	code, err := engine.TOTPCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, _ := doForm(t, srv.app, s, "/account/totp", url.Values{"secret": {secret}, "code": {code}, "password": {testPassword}}, formOpts{NoCSRF: true})
	wantStatus(t, res, http.StatusForbidden)

	// The current password is required (issue 12, point 7): a stolen
	// session cannot bind its own authenticator.
	for _, tc := range []struct{ password, want string }{
		{"", "Enter your current password"},
		{"not-the-password", "Wrong password"},
	} {
		res, body := doForm(t, srv.app, s, "/account/totp", url.Values{"secret": {secret}, "code": {code}, "password": {tc.password}}, formOpts{})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		wantFieldError(t, body, "totp-password", tc.want)
		if m := totpSecretRE.FindStringSubmatch(body); m == nil || html.UnescapeString(m[1]) != secret {
			t.Errorf("password %q: the secret changed", tc.password)
		}
		wantPasswordsNotEchoed(t, body)
		if u, _ := srv.store.GetUserByEmail(ctx, testEmail); u.TOTPSecret != "" {
			t.Fatalf("password %q turned two-factor on", tc.password)
		}
	}

	// A wrong code: 422, the error next to the field, the same secret kept.
	res, body := doForm(t, srv.app, s, "/account/totp", url.Values{"secret": {secret}, "code": {wrongCode(t, secret)}, "password": {testPassword}}, formOpts{})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantFieldError(t, body, "totp-code", "Wrong code. Check the key in your app and the clock of your phone")
	if m := totpSecretRE.FindStringSubmatch(body); m == nil || html.UnescapeString(m[1]) != secret {
		t.Error("the secret changed after a wrong code")
	}
	if u, _ := srv.store.GetUserByEmail(ctx, testEmail); u.TOTPSecret != "" {
		t.Fatal("a wrong code turned two-factor on")
	}
	// An empty code too.
	res, body = doForm(t, srv.app, s, "/account/totp", url.Values{"secret": {secret}, "code": {""}, "password": {testPassword}}, formOpts{})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantFieldError(t, body, "totp-code", "Enter the 6-digit code your app shows")

	// The right code with the password turns it on.
	res, _ = doForm(t, srv.app, s, "/account/totp", url.Values{"secret": {secret}, "code": {code}, "password": {testPassword}}, formOpts{})
	wantStatus(t, res, http.StatusSeeOther)
	u, err := srv.store.GetUserByEmail(ctx, testEmail)
	if err != nil || u.TOTPSecret != secret || u.TOTPLastStep == 0 {
		t.Fatalf("after enabling: %+v, %v", u, err)
	}
	req := httptest.NewRequest(http.MethodGet, "/account", nil)
	req.Header.Set("Cookie", s.Cookie+"; "+res.Header.Get("Set-Cookie")[:strings.Index(res.Header.Get("Set-Cookie"), ";")])
	res, body = send(t, srv.app, req)
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "totp-password", "totp-disable")
	if hasTestID(body, "totp-secret") || strings.Contains(body, secret) {
		t.Error("the secret is shown once two-factor is on")
	}
	if !strings.Contains(body, "Two-factor sign-in is on") {
		t.Error("no success flash")
	}
	// The setup code cannot sign in.
	res, body = signInAttempt(t, srv.app, testEmail, testPassword, "", "")
	st := wantCodeStep(t, res, body)
	res, _ = sendCode(t, srv.app, st, code)
	wantStatus(t, res, http.StatusUnauthorized)

	// Turning off needs the password.
	res, body = doForm(t, srv.app, s, "/account/totp/disable", url.Values{"password": {""}}, formOpts{})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantFieldError(t, body, "totp-password", "Enter your current password")
	res, body = doForm(t, srv.app, s, "/account/totp/disable", url.Values{"password": {"not-the-password"}}, formOpts{})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantFieldError(t, body, "totp-password", "Wrong password")
	if u, _ := srv.store.GetUserByEmail(ctx, testEmail); u.TOTPSecret == "" {
		t.Fatal("a wrong password turned two-factor off")
	}
	res, _ = doForm(t, srv.app, s, "/account/totp/disable", url.Values{"password": {testPassword}}, formOpts{NoCSRF: true})
	wantStatus(t, res, http.StatusForbidden)
	res, _ = doForm(t, srv.app, s, "/account/totp/disable", url.Values{"password": {testPassword}}, formOpts{})
	wantStatus(t, res, http.StatusSeeOther)
	if u, _ := srv.store.GetUserByEmail(ctx, testEmail); u.TOTPSecret != "" {
		t.Fatal("still on after turning off")
	}
	// Signing in is back to the password alone.
	res, _ = signInAttempt(t, srv.app, testEmail, testPassword, "", "")
	wantStatus(t, res, http.StatusSeeOther)
}

func TestAccountTOTPTamperedSecret(t *testing.T) {
	t.Parallel()
	srv := newUIServer(t)
	s := signIn(t, srv.app)
	res, body := doForm(t, srv.app, s, "/account/totp", url.Values{"secret": {"!!not base32"}, "code": {"123456"}}, formOpts{})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	mustTestID(t, body, "totp-secret", "totp-code-error")
	if u, _ := srv.store.GetUserByEmail(context.Background(), testEmail); u.TOTPSecret != "" {
		t.Error("a bad secret was saved")
	}
	// Requires a session.
	res, _ = doForm(t, srv.app, uiSession{}, "/account/totp", url.Values{"secret": {"x"}, "code": {"1"}}, formOpts{NoCSRF: true})
	wantStatus(t, res, http.StatusSeeOther)
}
