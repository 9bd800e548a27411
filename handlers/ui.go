package handlers

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
)

// Cookie names. The session cookie is SecureSessionCookie behind https
// (see Handlers.sessionCookieName) and SessionCookie over plain http.
const (
	SessionCookie = "hookflow_session"
	// SecureSessionCookie carries the __Host- prefix: browsers accept it
	// only with Secure, Path=/ and no Domain, so neither plain http nor a
	// sibling subdomain can plant or overwrite it (ASVS 3.4.4).
	SecureSessionCookie = "__Host-" + SessionCookie
	flashCookie         = "hookflow_flash"
	preCSRFCookie       = "hookflow_csrf"
)

// render writes a templ component as the HTML reply. The component renders
// into a buffer first, so a render error never leaves half a page.
func render(c *fiber.Ctx, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.UserContext(), &buf); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).Send(buf.Bytes())
}

// isHTMX reports whether the request comes from htmx (fragment wanted).
func isHTMX(c *fiber.Ctx) bool { return c.Get("HX-Request") == "true" }

// meta builds what every full page needs from the session.
func (h *Handlers) meta(c *fiber.Ctx, title, active string) views.PageMeta {
	m := views.PageMeta{Title: title, Active: active}
	if s := session(c); s != nil {
		m.SignedIn, m.UserEmail, m.CSRFToken = true, s.Email, s.CSRFToken
	}
	m.Flash = h.takeFlash(c)
	return m
}

// flash queues a message for the next page the browser loads.
func (h *Handlers) flash(c *fiber.Ctx, kind, message string) {
	b, _ := json.Marshal(views.Flash{Kind: kind, Message: message})
	c.Cookie(&fiber.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/", HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode, Secure: h.SecureCookies, MaxAge: 60})
}

func (h *Handlers) takeFlash(c *fiber.Ctx) []views.Flash {
	v := c.Cookies(flashCookie)
	if v == "" {
		return nil
	}
	h.expireCookie(c, flashCookie, "/", fiber.CookieSameSiteLaxMode)
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil
	}
	var f views.Flash
	if json.Unmarshal(b, &f) != nil || f.Message == "" {
		return nil
	}
	switch f.Kind {
	case "success", "error", "info":
	default:
		f.Kind = "info"
	}
	return []views.Flash{f}
}

// expireCookie deletes a cookie in the browser: an empty value with
// Max-Age=0 and an Expires in the past, for browsers of either rule, and
// the attributes it was set with (a cookie is only replaced by one of the
// same name, path and, for __Host- names, Secure). fasthttp writes either
// Max-Age or Expires, never both, so the header is written here.
func (h *Handlers) expireCookie(c *fiber.Ctx, name, path, sameSite string) {
	v := name + "=; Path=" + path + "; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly"
	if h.SecureCookies {
		v += "; Secure"
	}
	v += "; SameSite=" + sameSite
	c.Response().Header.DelCookie(name)
	c.Response().Header.Add(fiber.HeaderSetCookie, v)
}

// postValue is a field of a form request body (URL-encoded or multipart),
// never of the query string, which fiber's FormValue reads too: tokens and
// passwords must not travel in URLs, where logs, history and the Referer
// header keep them.
func postValue(c *fiber.Ctx, name string) string {
	ct := c.Get(fiber.HeaderContentType)
	switch {
	case engine.IsFormContentType(ct):
		return string(c.Request().PostArgs().Peek(name))
	case strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), fiber.MIMEMultipartForm):
		if f, err := c.MultipartForm(); err == nil && len(f.Value[name]) > 0 {
			return f.Value[name][0]
		}
	}
	return ""
}

// redirect sends the browser to path: htmx requests get HX-Redirect, others
// a 303 See Other.
func redirect(c *fiber.Ctx, path string) error {
	if isHTMX(c) {
		c.Set("HX-Redirect", path)
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Redirect(path, fiber.StatusSeeOther)
}

// ErrorPage renders errors of browser routes: an error page, or for htmx a
// flash fragment swapped out of band.
func (h *Handlers) ErrorPage(c *fiber.Ctx, status int, message string) error {
	if status == fiber.StatusUnauthorized {
		return redirect(c, "/signin")
	}
	if isHTMX(c) {
		// Errors of htmx requests land in the page's flash region.
		c.Set("HX-Retarget", "#flash")
		c.Set("HX-Reswap", "innerHTML")
		return render(c, status, views.FlashList([]views.Flash{{Kind: "error", Message: message}}))
	}
	return render(c, status, views.ErrorPage(h.meta(c, "Error", ""), status, message))
}

type sessionKey struct{}

func session(c *fiber.Ctx) *engine.Session {
	s, _ := c.Locals(sessionKey{}).(*engine.Session)
	return s
}

// safeNext keeps post-sign-in redirects on this site: next must be a path
// of this site (a URL with no scheme, no host and no user, starting with
// one slash), with no control character, space or backslash anywhere
// (browsers drop tabs and newlines and read a backslash as a slash, so
// "/\t/evil.example" and "/\\evil.example" lead elsewhere). The path and
// query are rebuilt from their parsed form, the fragment dropped; anything
// else gives "/".
func safeNext(next string) string {
	if next == "" || len(next) > 2048 {
		return "/"
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "/"
	}
	out := (&url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: query.Encode()}).String()
	if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") {
		return "/"
	}
	return out
}
