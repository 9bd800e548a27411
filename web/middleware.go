package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/handlers"
)

func itoa(i int) string { return strconv.Itoa(i) }

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals("request_id").(string)
	return id
}

// withRequest gives each request an id (the caller's X-Request-Id when it is
// sane, else a random one), echoes it, and keeps it in the locals, where the
// handlers' and the error handler's log lines take it from.
func withRequest() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id := c.Get(fiber.HeaderXRequestID)
		if !saneRequestID(id) {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		} else {
			id = strings.Clone(id) // fiber reuses the header buffer
		}
		c.Locals("request_id", id)
		c.Set(fiber.HeaderXRequestID, id)
		return c.Next()
	}
}

func asFiber(err error, target **fiber.Error) bool { return errors.As(err, target) }

func saneRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// accessLog logs one line per request: the route pattern (never the path,
// which holds webhook keys), status, duration and client address (by the
// one rule of handlers.ClientAddr). Bodies are never logged.
func accessLog(log *slog.Logger, clientAddr func(*fiber.Ctx) netip.Addr) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !log.Enabled(c.UserContext(), slog.LevelDebug) {
			return c.Next()
		}
		start := time.Now()
		err := c.Next()
		status := c.Response().StatusCode()
		if err != nil {
			// The ErrorHandler has not run yet; report what it will send.
			status = fiber.StatusInternalServerError
			var fe *fiber.Error
			if asFiber(err, &fe) {
				status = fe.Code
			} else if s, ok := statusByCode[engine.ErrorCode(err)]; ok {
				status = s
			}
		}
		log.Debug("request", "method", c.Method(), "route", routePath(c), "status", status,
			"duration_ms", float64(time.Since(start).Microseconds())/1000, "client_ip", clientAddr(c).String(), "request_id", requestID(c))
		return err
	}
}

// uiCSP is the Content-Security-Policy of the admin UI and API.
const uiCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// securityHeaders sets headers that harden every reply. Webhook replies
// are the flow's to shape (an HTML body is allowed) but are served from
// the admin UI's site: handlers.WebhookCSP sandboxes them into an opaque
// origin without scripts, so a reply echoing request data cannot act as
// the admin UI (issue 12, point 2).
//
// When the public URL is https, every reply also carries HSTS, so that a
// browser never again talks to this host over plain http (where the
// session cookie, Secure as it is, could be overwritten and the pages
// altered). It covers this host only: other subdomains of the operator may
// not be served over https.
func securityHeaders(publicURL string) fiber.Handler {
	hsts := strings.HasPrefix(strings.ToLower(strings.TrimSpace(publicURL)), "https://")
	return func(c *fiber.Ctx) error {
		if hsts {
			c.Set(fiber.HeaderStrictTransportSecurity, "max-age=31536000")
		}
		c.Set("X-Content-Type-Options", "nosniff")
		c.Set("Referrer-Policy", "same-origin")
		c.Set("X-Frame-Options", "DENY")
		if isWebhook(c) {
			c.Set(fiber.HeaderContentSecurityPolicy, handlers.WebhookCSP)
		} else {
			c.Set(fiber.HeaderContentSecurityPolicy, uiCSP)
		}
		return c.Next()
	}
}
