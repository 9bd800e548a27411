package handlers

import (
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
)

// Two-factor sign-in (TOTP, OWASP ASVS 4.3.1): after the password, admins
// who turned it on enter the code of their authenticator app.

const (
	// PendingSignInLifetime is how long the code step of a sign-in waits.
	PendingSignInLifetime = 5 * time.Minute
	// maxPendingSignIns bounds the sign-ins waiting for a code; past it the
	// oldest goes.
	maxPendingSignIns = 1000
	// maxCodeAttempts is how many wrong codes one pending sign-in takes
	// before the password must be entered again (the throttle counts them
	// too).
	maxCodeAttempts = 5
)

// pendingSignIn is a sign-in whose password was right, waiting for its
// code.
type pendingSignIn struct {
	userID   int64
	email    string // as typed: the throttle's key
	next     string
	expires  time.Time
	attempts int
}

// pendingSignIns maps a random single-use token (kept in the code form) to
// its pending sign-in, in memory: a restart only means signing in again.
type pendingSignIns struct {
	mu sync.Mutex
	m  map[string]*pendingSignIn
}

func (h *Handlers) pendingSignIns() *pendingSignIns {
	h.pendingOnce.Do(func() { h.pending = &pendingSignIns{m: map[string]*pendingSignIn{}} })
	return h.pending
}

// add stores a pending sign-in and returns its token.
func (p *pendingSignIns) add(userID int64, email, next string, now time.Time) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.m) >= maxPendingSignIns {
		var oldest string
		for k, v := range p.m {
			if !now.Before(v.expires) {
				delete(p.m, k)
			} else if oldest == "" || v.expires.Before(p.m[oldest].expires) {
				oldest = k
			}
		}
		if len(p.m) >= maxPendingSignIns {
			delete(p.m, oldest)
		}
	}
	tok := engine.RandomToken(32)
	// Cloned: Fiber's form and query values point into the request
	// buffer, which the next request reuses.
	p.m[tok] = &pendingSignIn{userID: userID, email: strings.Clone(email), next: strings.Clone(next), expires: now.Add(PendingSignInLifetime)}
	return tok
}

// get returns a copy of the unexpired pending sign-in of tok.
func (p *pendingSignIns) get(tok string, now time.Time) (pendingSignIn, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.m[tok]
	if !ok {
		return pendingSignIn{}, false
	}
	if !now.Before(v.expires) {
		delete(p.m, tok)
		return pendingSignIn{}, false
	}
	return *v, true
}

// reserve counts a code attempt on tok before the code is checked, so
// that concurrent guesses cannot exceed maxCodeAttempts between them; it
// reports false when tok is unknown, expired or out of attempts.
func (p *pendingSignIns) reserve(tok string, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.m[tok]
	if !ok {
		return false
	}
	if !now.Before(v.expires) || v.attempts >= maxCodeAttempts {
		delete(p.m, tok)
		return false
	}
	v.attempts++
	return true
}

// fail settles a reserved attempt as a wrong code; it reports whether the
// pending sign-in is still open (false: it was dropped after too many).
func (p *pendingSignIns) fail(tok string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.m[tok]
	if !ok {
		return false
	}
	if v.attempts >= maxCodeAttempts {
		delete(p.m, tok)
		return false
	}
	return true
}

// take removes tok; it reports whether it was there, so that a token
// signs in once only even when two requests race.
func (p *pendingSignIns) take(tok string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.m[tok]
	delete(p.m, tok)
	return ok
}

func (h *Handlers) renderSignInCode(c *fiber.Ctx, status int, token, errMsg string) error {
	return render(c, status, views.SignInCodePage(h.signInMeta(c), token, errMsg))
}

// SignInCode is POST /signin/code: the second step of a two-factor
// sign-in. Like a password, a code attempt is reserved in the throttle,
// and on the pending sign-in, before the code is checked.
func (h *Handlers) SignInCode(c *fiber.Ctx) error {
	tok := postValue(c, "token")
	code := postValue(c, "code")
	if !checkPreCSRF(c) {
		h.pendingSignIns().take(tok)
		return h.renderSignIn(c, fiber.StatusForbidden, "", "The form expired. Please sign in again.")
	}
	now := time.Now()
	p, ok := h.pendingSignIns().get(tok, now)
	if !ok {
		return h.renderSignIn(c, fiber.StatusUnauthorized, "", "The sign-in expired. Enter your email and password again.")
	}
	att, wait, err := h.Throttle.Begin(c.UserContext(), p.email, h.clientIP(c), now)
	if err != nil {
		return err
	}
	if att == nil {
		c.Set(fiber.HeaderRetryAfter, retryAfter(wait))
		return h.renderSignInCode(c, fiber.StatusTooManyRequests, tok, "Too many failed sign-ins. Try again in "+wait.Round(time.Second).String()+".")
	}
	defer att.Cancel() // unless settled below
	if !h.pendingSignIns().reserve(tok, now) {
		return h.renderSignIn(c, fiber.StatusUnauthorized, p.email, "Too many wrong codes. Enter your email and password again.")
	}
	u, err := h.Auth.GetUserByEmail(c.UserContext(), p.email)
	if err != nil && engine.ErrorCode(err) != engine.ENOTFOUND {
		return err
	}
	if err != nil || u.ID != p.userID || u.TOTPSecret == "" {
		// The account changed since the password step: start again.
		h.pendingSignIns().take(tok)
		return h.renderSignIn(c, fiber.StatusUnauthorized, "", "The sign-in expired. Enter your email and password again.")
	}
	step, ok := engine.CheckTOTP(u.TOTPSecret, code, now, u.TOTPLastStep)
	used := !ok && engine.TOTPCodeUsed(u.TOTPSecret, code, now, u.TOTPLastStep)
	if ok {
		// Atomic: of two requests with the same code, one wins.
		if ok, err = h.Auth.UseTOTPStep(c.UserContext(), u.ID, step); err != nil {
			return err
		}
		used = !ok
	}
	if !ok {
		att.Fail()
		h.Log.Warn("sign-in failed: wrong two-factor code", "user_id", u.ID, "ip", h.clientIP(c), "request_id", requestID(c))
		if !h.pendingSignIns().fail(tok) {
			return h.renderSignIn(c, fiber.StatusUnauthorized, p.email, "Too many wrong codes. Enter your email and password again.")
		}
		if used {
			return h.renderSignInCode(c, fiber.StatusUnauthorized, tok, "This code was already used. Wait for the next code in your app (a new one comes every 30 seconds) and enter that one.")
		}
		return h.renderSignInCode(c, fiber.StatusUnauthorized, tok, "Wrong code. Enter the current code from your authenticator app.")
	}
	if !h.pendingSignIns().take(tok) {
		return h.renderSignIn(c, fiber.StatusUnauthorized, "", "The sign-in expired. Enter your email and password again.")
	}
	att.Succeed()
	return h.startSession(c, u, p.next)
}

// AccountTOTPEnable is POST /account/totp: turns two-factor sign-in on
// with the secret shown on the page, once the current password proves the
// admin is at the keyboard (a stolen session must not bind its own
// authenticator) and a code from the admin's app proves the app has the
// secret. The secret travels in the form: whoever changes it only ties
// their own account to another app. Wrong passwords are throttled like
// sign-ins.
func (h *Handlers) AccountTOTPEnable(c *fiber.Ctx) error {
	s := session(c)
	if s == nil {
		return engine.Errorf(engine.EUNAUTHORIZED, "sign in first")
	}
	u, err := h.sessionUser(c)
	if err != nil {
		return err
	}
	if u.TOTPSecret != "" {
		return engine.Errorf(engine.ECONFLICT, "two-factor sign-in is already on")
	}
	secret := strings.TrimSpace(postValue(c, "secret"))
	now := time.Now()
	if _, err := engine.TOTPCode(secret, now); err != nil || len(secret) < 26 {
		// Not a secret this page made: show a new one.
		return h.renderAccount(c, fiber.StatusUnprocessableEntity, views.AccountView{TOTPCodeError: "The setup expired. Add this new key to your app and enter its code"})
	}
	v := views.AccountView{TOTPSetup: secret}
	password := postValue(c, "password")
	code := strings.TrimSpace(postValue(c, "code"))
	if password == "" {
		v.TOTPPasswordError = "Enter your current password"
	}
	if code == "" {
		v.TOTPCodeError = "Enter the 6-digit code your app shows"
	}
	if v.TOTPPasswordError != "" || v.TOTPCodeError != "" {
		return h.renderAccount(c, fiber.StatusUnprocessableEntity, v)
	}
	att, wait, err := h.Throttle.Begin(c.UserContext(), s.Email, h.clientIP(c), now)
	if err != nil {
		return err
	}
	if att == nil {
		c.Set(fiber.HeaderRetryAfter, retryAfter(wait))
		v.TOTPPasswordError = "Too many wrong passwords. Try again in " + wait.Round(time.Second).String() + "."
		return h.renderAccount(c, fiber.StatusTooManyRequests, v)
	}
	defer att.Cancel() // unless settled below
	ok, busy := h.checkPassword(c.UserContext(), u.PasswordHash, password)
	if busy {
		c.Set(fiber.HeaderRetryAfter, "1")
		v.TOTPPasswordError = busyMessage
		return h.renderAccount(c, fiber.StatusServiceUnavailable, v)
	}
	if !ok {
		att.Fail()
		h.Log.Warn("two-factor on: wrong password", "user_id", u.ID, "ip", h.clientIP(c), "request_id", requestID(c))
		v.TOTPPasswordError = "Wrong password"
		return h.renderAccount(c, fiber.StatusUnprocessableEntity, v)
	}
	att.Succeed()
	step, ok := engine.CheckTOTP(secret, code, now, 0)
	if !ok {
		v.TOTPCodeError = "Wrong code. Check the key in your app and the clock of your phone"
		return h.renderAccount(c, fiber.StatusUnprocessableEntity, v)
	}
	if err := h.Auth.SetTOTP(c.UserContext(), u.ID, secret); err != nil {
		return err
	}
	// The setup code cannot be used again to sign in.
	if _, err := h.Auth.UseTOTPStep(c.UserContext(), u.ID, step); err != nil {
		return err
	}
	h.Log.Info("two-factor sign-in turned on", "user_id", u.ID, "request_id", requestID(c))
	h.flash(c, "success", "Two-factor sign-in is on. From now on, signing in asks for a code from your app.")
	return redirect(c, "/account")
}

// AccountTOTPDisable is POST /account/totp/disable: turns two-factor
// sign-in off; the current password is required and wrong guesses are
// throttled like sign-ins.
func (h *Handlers) AccountTOTPDisable(c *fiber.Ctx) error {
	s := session(c)
	if s == nil {
		return engine.Errorf(engine.EUNAUTHORIZED, "sign in first")
	}
	att, wait, err := h.Throttle.Begin(c.UserContext(), s.Email, h.clientIP(c), time.Now())
	if err != nil {
		return err
	}
	if att == nil {
		c.Set(fiber.HeaderRetryAfter, retryAfter(wait))
		return h.renderAccount(c, fiber.StatusTooManyRequests, views.AccountView{
			TOTPPasswordError: "Too many wrong passwords. Try again in " + wait.Round(time.Second).String() + ".",
		})
	}
	defer att.Cancel() // unless settled below
	u, err := h.sessionUser(c)
	if err != nil {
		return err
	}
	if u.TOTPSecret == "" {
		h.flash(c, "info", "Two-factor sign-in is already off.")
		return redirect(c, "/account")
	}
	password := postValue(c, "password")
	if password == "" {
		return h.renderAccount(c, fiber.StatusUnprocessableEntity, views.AccountView{TOTPPasswordError: "Enter your current password"})
	}
	ok, busy := h.checkPassword(c.UserContext(), u.PasswordHash, password)
	if busy {
		c.Set(fiber.HeaderRetryAfter, "1")
		return h.renderAccount(c, fiber.StatusServiceUnavailable, views.AccountView{TOTPPasswordError: busyMessage})
	}
	if !ok {
		att.Fail()
		h.Log.Warn("two-factor off: wrong password", "user_id", u.ID, "ip", h.clientIP(c), "request_id", requestID(c))
		return h.renderAccount(c, fiber.StatusUnprocessableEntity, views.AccountView{TOTPPasswordError: "Wrong password"})
	}
	att.Succeed()
	if err := h.Auth.SetTOTP(c.UserContext(), u.ID, ""); err != nil {
		return err
	}
	h.Log.Info("two-factor sign-in turned off", "user_id", u.ID, "request_id", requestID(c))
	h.flash(c, "success", "Two-factor sign-in is off. Signing in asks only for your password.")
	return redirect(c, "/account")
}

// sessionUser is the signed-in admin's account.
func (h *Handlers) sessionUser(c *fiber.Ctx) (*engine.User, error) {
	s := session(c)
	if s == nil {
		return nil, engine.Errorf(engine.EUNAUTHORIZED, "sign in first")
	}
	u, err := h.Auth.GetUserByEmail(c.UserContext(), s.Email)
	if err != nil {
		return nil, err
	}
	if u.ID != s.UserID {
		return nil, engine.Errorf(engine.EUNAUTHORIZED, "the session does not match the account: sign in again")
	}
	return u, nil
}
