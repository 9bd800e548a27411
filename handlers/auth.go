package handlers

import (
	"context"
	"crypto/subtle"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
)

// SessionLifetime is how long a sign-in lasts, at most.
const SessionLifetime = 12 * time.Hour

// DefaultSessionIdle is how long a session lasts without a request, unless
// Handlers.SessionIdle says otherwise (OWASP ASVS 3.3.2).
const DefaultSessionIdle = 2 * time.Hour

// sessionTouchEvery is how stale a session's last-seen time may get before
// a request records a new one: one write a minute per active session
// rather than one per request, at the cost of idle expiry being exact to
// the minute.
const sessionTouchEvery = time.Minute

func (h *Handlers) sessionIdle() time.Duration {
	if h.SessionIdle > 0 {
		return h.SessionIdle
	}
	return DefaultSessionIdle
}

// currentSession returns the session of the request's cookie, or nil when
// there is none, it expired (12 hours after sign-in) or it went idle
// (deleted then).
func (h *Handlers) currentSession(c *fiber.Ctx) (*engine.Session, error) {
	tok := c.Cookies(h.sessionCookieName())
	if tok == "" {
		return nil, nil
	}
	ctx, hash, now := c.UserContext(), engine.HashToken(tok), time.Now()
	s, err := h.Auth.GetSession(ctx, hash, now)
	if err != nil {
		if engine.ErrorCode(err) == engine.ENOTFOUND {
			return nil, nil
		}
		return nil, err
	}
	idle := now.Sub(s.SeenAt)
	if idle >= h.sessionIdle() {
		if err := h.Auth.DeleteSession(ctx, hash); err != nil {
			return nil, err
		}
		h.Log.Info("session ended after inactivity", "user_id", s.UserID, "request_id", requestID(c))
		return nil, nil
	}
	if idle >= sessionTouchEvery {
		if err := h.Auth.TouchSession(ctx, hash, now); err != nil {
			// The request goes on: at worst the session ends a little
			// early, at the idle time counted from the last touch.
			h.Log.Warn("record session use", "request_id", requestID(c), "error", err)
		} else {
			s.SeenAt = now
		}
	}
	return s, nil
}

// sessionCookieName is the name of the session cookie: with the __Host-
// prefix when cookies are Secure (behind https), plain otherwise, since
// browsers refuse __Host- cookies that are not Secure. Read, set and clear
// the cookie only under this name.
func (h *Handlers) sessionCookieName() string {
	if h.SecureCookies {
		return SecureSessionCookie
	}
	return SessionCookie
}

// RequireSession admits requests of a signed-in admin; others are sent to
// the sign-in page (htmx requests with HX-Redirect).
func (h *Handlers) RequireSession(c *fiber.Ctx) error {
	s, err := h.currentSession(c)
	if err != nil {
		return err
	}
	if s != nil {
		c.Locals(sessionKey{}, s)
		return c.Next()
	}
	target := "/signin"
	if c.Method() == fiber.MethodGet && c.OriginalURL() != "/" {
		target += "?next=" + url.QueryEscape(c.OriginalURL())
	}
	return redirect(c, target)
}

// CheckCSRF refuses state-changing requests that do not carry the session's
// CSRF token: header X-CSRF-Token, or form field _csrf of the request body,
// never of the query string (a token in a URL leaks through logs, history
// and Referer, and a URL is what a forged link controls).
func (h *Handlers) CheckCSRF(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	s := session(c)
	got := c.Get("X-CSRF-Token")
	if got == "" {
		got = postValue(c, "_csrf")
	}
	if s == nil || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRFToken)) != 1 {
		return engine.Errorf(engine.EFORBIDDEN, "the form expired or came from another site: reload the page and try again")
	}
	return c.Next()
}

// SignInPage is GET /signin.
func (h *Handlers) SignInPage(c *fiber.Ctx) error {
	if s, err := h.currentSession(c); err != nil {
		return err
	} else if s != nil {
		return c.Redirect(safeNext(c.Query("next")), fiber.StatusSeeOther)
	}
	return h.renderSignIn(c, fiber.StatusOK, "", "")
}

func (h *Handlers) renderSignIn(c *fiber.Ctx, status int, email, errMsg string) error {
	m := h.signInMeta(c)
	return render(c, status, views.SignInPage(m, email, errMsg, views.FirstRunHint{Show: h.FirstRun != nil && h.FirstRun(c), FromEnv: h.AdminFromEnv}))
}

// signInMeta is the page meta of the sign-in steps. They have no session
// yet: a double-submit cookie (path /signin, so /signin/code too) guards
// their forms.
func (h *Handlers) signInMeta(c *fiber.Ctx) views.PageMeta {
	csrf := engine.RandomToken(24)
	c.Cookie(&fiber.Cookie{Name: preCSRFCookie, Value: csrf, Path: "/signin", HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, Secure: h.SecureCookies})
	m := h.meta(c, "Sign in", "")
	m.CSRFToken = csrf
	return m
}

// checkPreCSRF checks the double-submit token of the sign-in forms.
func checkPreCSRF(c *fiber.Ctx) bool {
	want := c.Cookies(preCSRFCookie)
	got := postValue(c, "_csrf")
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// SignIn is POST /signin. The attempt is reserved in the throttle before
// the password is checked, so that concurrent guesses cannot all pass it.
func (h *Handlers) SignIn(c *fiber.Ctx) error {
	email := strings.TrimSpace(postValue(c, "email"))
	password := postValue(c, "password")
	if !checkPreCSRF(c) {
		return h.renderSignIn(c, fiber.StatusForbidden, email, "The form expired. Please sign in again.")
	}
	att, wait, err := h.Throttle.Begin(c.UserContext(), email, h.clientIP(c), time.Now())
	if err != nil {
		return err
	}
	if att == nil {
		c.Set(fiber.HeaderRetryAfter, retryAfter(wait))
		return h.renderSignIn(c, fiber.StatusTooManyRequests, email, "Too many failed sign-ins. Try again in "+wait.Round(time.Second).String()+".")
	}
	defer att.Cancel() // unless settled below
	u, err := h.Auth.GetUserByEmail(c.UserContext(), email)
	if err != nil && engine.ErrorCode(err) != engine.ENOTFOUND {
		return err
	}
	hash := ""
	if err == nil {
		hash = u.PasswordHash
	}
	ok, busy := h.checkPassword(c.UserContext(), hash, password)
	switch {
	case busy:
		c.Set(fiber.HeaderRetryAfter, "1")
		return h.renderSignIn(c, fiber.StatusServiceUnavailable, email, busyMessage)
	case !ok:
		att.Fail()
		h.Log.Warn("sign-in failed", "ip", h.clientIP(c), "request_id", requestID(c))
		return h.renderSignIn(c, fiber.StatusUnauthorized, email, "Wrong email or password.")
	}
	if u.TOTPSecret != "" {
		// Two-factor sign-in: the password was right, but the throttle is
		// cleared only once the code is too, so knowing the password does
		// not buy unlimited code guesses.
		tok := h.pendingSignIns().add(u.ID, email, c.Query("next"), time.Now())
		return h.renderSignInCode(c, fiber.StatusOK, tok, "")
	}
	att.Succeed()
	return h.startSession(c, u, c.Query("next"))
}

// busyMessage answers a password check refused because too many run.
const busyMessage = "The server is busy checking other passwords. Try again in a moment."

// checkPassword checks password against hash within the throttle's gate
// of bcrypt checks; an empty hash (no such account) costs the same work
// and is never right. busy reports that the gate was full and nothing was
// checked.
func (h *Handlers) checkPassword(ctx context.Context, hash, password string) (ok, busy bool) {
	if !h.Throttle.AcquireCheck(ctx) {
		return false, true
	}
	defer h.Throttle.ReleaseCheck()
	if hash == "" {
		engine.SpendPasswordCheck(password)
		return false, false
	}
	return engine.CheckPassword(hash, password), false
}

// retryAfter is a Retry-After value for wait: whole seconds, rounded up.
func retryAfter(wait time.Duration) string {
	return itoa(int64((wait + time.Second - 1) / time.Second))
}

// startSession signs u in: a new session, its cookie, and the redirect to
// next.
func (h *Handlers) startSession(c *fiber.Ctx, u *engine.User, next string) error {
	// A new session token at every sign-in (no fixation); the old one goes.
	if old := c.Cookies(h.sessionCookieName()); old != "" {
		_ = h.Auth.DeleteSession(c.UserContext(), engine.HashToken(old))
	}
	tok := engine.RandomToken(32)
	now := time.Now()
	s := &engine.Session{TokenHash: engine.HashToken(tok), UserID: u.ID, Email: u.Email, CSRFToken: engine.RandomToken(24),
		CreatedAt: now, ExpiresAt: now.Add(SessionLifetime), SeenAt: now}
	if err := h.Auth.CreateSession(c.UserContext(), s); err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: h.sessionCookieName(), Value: tok, Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
		Secure: h.SecureCookies, Expires: s.ExpiresAt})
	h.expireCookie(c, preCSRFCookie, "/signin", fiber.CookieSameSiteStrictMode)
	h.Log.Info("signed in", "user_id", u.ID, "request_id", requestID(c))
	return c.Redirect(safeNext(next), fiber.StatusSeeOther)
}

// SignOut is POST /signout: the session is deleted server-side.
func (h *Handlers) SignOut(c *fiber.Ctx) error {
	if tok := c.Cookies(h.sessionCookieName()); tok != "" {
		if err := h.Auth.DeleteSession(c.UserContext(), engine.HashToken(tok)); err != nil {
			return err
		}
	}
	h.expireCookie(c, h.sessionCookieName(), "/", fiber.CookieSameSiteLaxMode)
	h.flash(c, "info", "You are signed out.")
	return redirect(c, "/signin")
}
