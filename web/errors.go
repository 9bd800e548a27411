package web

import (
	"errors"
	"log/slog"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/handlers"
)

// statusByCode maps engine error codes to HTTP statuses: the one table.
var statusByCode = map[string]int{
	engine.EINVALID:      fiber.StatusBadRequest,
	engine.EUNAUTHORIZED: fiber.StatusUnauthorized,
	engine.EFORBIDDEN:    fiber.StatusForbidden,
	engine.ENOTFOUND:     fiber.StatusNotFound,
	engine.EMETHOD:       fiber.StatusMethodNotAllowed,
	engine.ECONFLICT:     fiber.StatusConflict,
	engine.ETOOLARGE:     fiber.StatusRequestEntityTooLarge,
	engine.EUNSUPPORTED:  fiber.StatusUnsupportedMediaType,
	engine.ETOOMANY:      fiber.StatusTooManyRequests,
	engine.EINTERNAL:     fiber.StatusInternalServerError,
	engine.EUNAVAILABLE:  fiber.StatusServiceUnavailable,
	engine.ETIMEOUT:      fiber.StatusGatewayTimeout,
}

// retryAfterUnavailable is the Retry-After of every 503, in seconds.
const retryAfterUnavailable = "5"

// htmlErrorRenderer renders an error for browser routes.
type htmlErrorRenderer func(c *fiber.Ctx, status int, message string) error

// tooLargeRecorder records a webhook request refused for its size, by
// the key in its path (handlers.Handlers.WebhookTooLarge).
type tooLargeRecorder func(c *fiber.Ctx, key, message string)

// errorHandler is the one place where errors become replies and get
// logged: internal errors once, at error level, with the request id.
// refusedEarly counts the webhook requests refused before their handler.
func errorHandler(log *slog.Logger, bodyLimit int, renderHTMLError htmlErrorRenderer, tooLarge tooLargeRecorder, refusedEarly func(c *fiber.Ctx, status int)) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		status, msg := fiber.StatusInternalServerError, "internal error"
		var fe *fiber.Error
		switch {
		case errors.As(err, &fe):
			status, msg = fe.Code, fe.Message
			if status == fiber.StatusRequestEntityTooLarge {
				msg = "request body larger than " + humanBytes(bodyLimit)
				// Refused before routing: the workflow's rejection log
				// hears of it here, by the key in the path.
				if tooLarge != nil && isWebhook(c) {
					tooLarge(c, strings.TrimPrefix(c.Path(), webhookPrefix), msg)
				}
			}
		default:
			code := engine.ErrorCode(err)
			if s, ok := statusByCode[code]; ok {
				status = s
			}
			msg = engine.ErrorMessage(err)
		}
		if status >= 500 {
			log.Error("request failed", "method", c.Method(), "route", routePath(c), "status", status, "request_id", requestID(c), "error", err)
		}
		if status == fiber.StatusServiceUnavailable && len(c.Response().Header.Peek(fiber.HeaderRetryAfter)) == 0 {
			// A 503 is temporary by definition: say when to come back, so
			// that webhook senders retry instead of dropping the event.
			c.Set(fiber.HeaderRetryAfter, retryAfterUnavailable)
		}
		if status == fiber.StatusUnauthorized {
			if isWebhook(c) {
				c.Set(fiber.HeaderWWWAuthenticate, `Basic realm="hookflow"`)
			} else if isAPI(c) || c.Path() == "/metrics" {
				c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="hookflow"`)
			}
		}
		// A request whose request line was never read (headers larger than
		// the read buffer, a client too slow to send them) has no path to
		// tell a browser page from a webhook call (fasthttp then leaves no
		// raw headers, and reports the path as "/"): webhook callers expect
		// the JSON format, so such errors are sent as JSON.
		parsed := len(c.Request().Header.RawHeaders()) > 0
		// Errors found before routing (413, 431, 408, a bad request line)
		// skipped the middleware: their replies get the headers of a
		// webhook reply, the strictest.
		c.Set("X-Content-Type-Options", "nosniff")
		if !parsed || isWebhook(c) {
			c.Set(fiber.HeaderContentSecurityPolicy, handlers.WebhookCSP)
		}
		// The webhook handler counts the requests it saw (and runs this
		// handler itself for its errors); this counts those it never saw.
		if refusedEarly != nil && isWebhook(c) {
			refusedEarly(c, status)
		}
		if renderHTMLError != nil && parsed && !isAPI(c) && !isProbe(c) {
			return renderHTMLError(c, status, msg)
		}
		return SendError(c, status, msg)
	}
}

// SendError sends the JSON error format of product.md §2.
func SendError(c *fiber.Ctx, status int, message string) error {
	r := engine.ErrorResponse(status, message)
	c.Set(fiber.HeaderContentType, r.ContentType)
	return c.Status(r.Status).Send(r.Body)
}

func isAPI(c *fiber.Ctx) bool     { return strings.HasPrefix(c.Path(), "/api/") }
func isWebhook(c *fiber.Ctx) bool { return strings.HasPrefix(c.Path(), webhookPrefix) }

const webhookPrefix = "/api/webhook:trigger/"

// isProbe tells the machine-read endpoints outside /api/ (health,
// readiness, metrics), whose errors are JSON too.
func isProbe(c *fiber.Ctx) bool {
	switch c.Path() {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return false
}

func routePath(c *fiber.Ctx) string {
	if r := c.Route(); r != nil && r.Path != "/" {
		return r.Path
	}
	return "(unmatched)"
}

func humanBytes(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return itoa(n>>10) + " KiB"
	}
	return itoa(n) + " bytes"
}
