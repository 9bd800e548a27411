package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
)

// AccountPage is GET /account: the signed-in email and the form to change
// the password.
func (h *Handlers) AccountPage(c *fiber.Ctx) error {
	var v views.AccountView
	if c.Query("totp") == "setup" {
		v.TOTPSetup = engine.NewTOTPSecret()
	}
	return h.renderAccount(c, fiber.StatusOK, v)
}

func (h *Handlers) renderAccount(c *fiber.Ctx, status int, v views.AccountView) error {
	if s := session(c); s != nil {
		v.Email = s.Email
		u, err := h.Auth.GetUserByEmail(c.UserContext(), s.Email)
		if err != nil {
			return err
		}
		v.TOTPOn = u.TOTPSecret != ""
	}
	if v.TOTPOn {
		v.TOTPSetup = ""
	} else if v.TOTPSetup == "" && v.TOTPCodeError != "" {
		v.TOTPSetup = engine.NewTOTPSecret()
	}
	if v.TOTPSetup != "" {
		v.TOTPURI = engine.TOTPURI(v.TOTPSetup, v.Email)
	}
	return render(c, status, views.AccountPage(h.meta(c, "Account", "account"), v))
}

// AccountPassword is POST /account/password (OWASP ASVS 2.1.5/2.1.6): the
// current password is required, wrong guesses are throttled like sign-ins,
// and a change signs the user out in every other session.
func (h *Handlers) AccountPassword(c *fiber.Ctx) error {
	s := session(c)
	if s == nil {
		return engine.Errorf(engine.EUNAUTHORIZED, "sign in first")
	}
	ctx := c.UserContext()
	current := postValue(c, "current_password")
	next := postValue(c, "new_password")
	confirm := postValue(c, "confirm_password")

	// Throttled before any check, even of a right password: the same
	// counters as sign-in, so a stolen session cannot guess faster here.
	att, wait, err := h.Throttle.Begin(c.UserContext(), s.Email, h.clientIP(c), time.Now())
	if err != nil {
		return err
	}
	if att == nil {
		c.Set(fiber.HeaderRetryAfter, retryAfter(wait))
		return h.renderAccount(c, fiber.StatusTooManyRequests, views.AccountView{
			CurrentError: "Too many wrong passwords. Try again in " + wait.Round(time.Second).String() + ".",
		})
	}
	defer att.Cancel() // unless settled below

	var v views.AccountView
	if next != confirm {
		v.ConfirmError = "The two new passwords differ"
	}
	if current == "" {
		v.CurrentError = "Enter your current password"
		return h.renderAccount(c, fiber.StatusUnprocessableEntity, v)
	}
	u, err := h.Auth.GetUserByEmail(ctx, s.Email)
	if err != nil {
		return err
	}
	if u.ID != s.UserID {
		return engine.Errorf(engine.EUNAUTHORIZED, "the session does not match the account: sign in again")
	}
	ok, busy := h.checkPassword(ctx, u.PasswordHash, current)
	if busy {
		c.Set(fiber.HeaderRetryAfter, "1")
		return h.renderAccount(c, fiber.StatusServiceUnavailable, views.AccountView{CurrentError: busyMessage})
	}
	if !ok {
		att.Fail()
		h.Log.Warn("password change: wrong current password", "user_id", u.ID, "ip", h.clientIP(c), "request_id", requestID(c))
		v.CurrentError = "Wrong password"
		return h.renderAccount(c, fiber.StatusUnprocessableEntity, v)
	}
	att.Succeed()
	if v.ConfirmError != "" {
		return h.renderAccount(c, fiber.StatusUnprocessableEntity, v)
	}
	if next == current {
		v.NewError = "Choose a password different from the current one"
		return h.renderAccount(c, fiber.StatusUnprocessableEntity, v)
	}
	hash, err := engine.HashPassword(next, u.Email)
	if err != nil {
		if engine.ErrorCode(err) != engine.EINVALID {
			return err
		}
		_, v.NewError = splitFieldError(engine.ErrorMessage(err), "password")
		return h.renderAccount(c, fiber.StatusUnprocessableEntity, v)
	}
	if err := h.Auth.UpdatePassword(ctx, u.ID, hash); err != nil {
		return err
	}
	// Every other session goes: whoever else knew the old password (or
	// holds a stolen cookie) is signed out. This browser stays signed in.
	if err := h.Auth.DeleteSessionsOfUser(ctx, u.ID, s.TokenHash); err != nil {
		return err
	}
	h.Log.Info("password changed", "user_id", u.ID, "request_id", requestID(c))
	h.flash(c, "success", "Password changed. Other sessions were signed out.")
	return redirect(c, "/account")
}
