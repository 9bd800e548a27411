package handlers

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/valyala/fasthttp"
)

// WebhookTrigger is the public endpoint POST /api/webhook:trigger/<key>.
func (h *Handlers) WebhookTrigger(c *fiber.Ctx) error {
	// Fiber reuses its buffers after the handler returns: everything that
	// outlives it (stored request, async run) is copied here.
	req := &engine.Request{
		Method: c.Method(),
		Query:  string(c.Request().URI().QueryString()),
		Body:   bytes.Clone(c.Body()),
	}
	req.Headers = copyHeaders(&c.Request().Header)
	req.Client = h.ClientAddr(c)
	key := strings.Clone(c.Params("key"))
	// An admin listening for this URL's next request sees it, whatever
	// the reply (one atomic load when nobody listens).
	h.captureHub().Offer(key, req)
	res, err := h.Svc.Trigger(c.UserContext(), key, basicAuth(c), req)
	if err != nil {
		var running *engine.DuplicateRunningError
		if errors.As(err, &running) {
			// The first request with this dedupe key still runs: its reply
			// is the one to repeat, soon.
			c.Set(fiber.HeaderRetryAfter, "1")
			c.Set(HeaderDuplicateOf, strconv.FormatInt(running.Of, 10))
		}
		return err
	}
	if res.DuplicateOf != 0 {
		c.Set(HeaderDuplicateOf, strconv.FormatInt(res.DuplicateOf, 10))
	}
	if res.NotStored {
		// The flow ran and decided this reply, but no record of it
		// exists: say so rather than let the caller believe otherwise.
		c.Set("Hookflow-Execution-Stored", "false")
	}
	return writeResponse(c, res.Response)
}

// HeaderDuplicateOf names, on the reply to a duplicate request (§12), the
// execution whose reply it repeats.
const HeaderDuplicateOf = "Hookflow-Duplicate-Of"

// WebhookTooLarge records a request refused for its size (413) in its
// workflow's rejection log: the HTTP server refuses such a body before any
// handler runs, so the error handler calls this with the path's key.
func (h *Handlers) WebhookTooLarge(c *fiber.Ctx, key, message string) {
	if key == "" || len(key) > 128 || strings.ContainsAny(key, "/?#") {
		return
	}
	h.Svc.RecordRejection(c.UserContext(), strings.Clone(key), h.ClientAddr(c), engine.RejectSize, fiber.StatusRequestEntityTooLarge, message)
}

// WebhookMethodNotAllowed answers every method but POST on the trigger path.
func (h *Handlers) WebhookMethodNotAllowed(c *fiber.Ctx) error {
	c.Set(fiber.HeaderAllow, fiber.MethodPost)
	return engine.Errorf(engine.EMETHOD, "method %s not allowed: use POST", c.Method())
}

// copyHeaders copies the request headers out of fasthttp's buffers with
// two allocations: every name and value is a slice of one string.
func copyHeaders(h *fasthttp.RequestHeader) []engine.HeaderValue {
	n, size := 0, 0
	h.VisitAll(func(k, v []byte) {
		n++
		size += len(k) + len(v)
	})
	buf := make([]byte, 0, size)
	h.VisitAll(func(k, v []byte) {
		buf = append(buf, k...)
		buf = append(buf, v...)
	})
	all := string(buf)
	out := make([]engine.HeaderValue, 0, n)
	i := 0
	h.VisitAll(func(k, v []byte) {
		out = append(out, engine.HeaderValue{Name: all[i : i+len(k)], Value: all[i+len(k) : i+len(k)+len(v)]})
		i += len(k) + len(v)
	})
	return out
}

func basicAuth(c *fiber.Ctx) engine.Credentials {
	auth := c.Get(fiber.HeaderAuthorization)
	const prefix = "basic "
	if len(auth) < len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
		return engine.Credentials{}
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(auth[len(prefix):]))
	if err != nil {
		return engine.Credentials{}
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return engine.Credentials{}
	}
	return engine.Credentials{Username: user, Password: pass, Present: true}
}

// WebhookCSP is the Content-Security-Policy of every webhook reply,
// success or error: the reply is shown, if a browser ever loads it, in a
// sandbox (an opaque origin: no scripts, no forms, no access to the admin
// UI's cookies or storage) and loads nothing.
const WebhookCSP = "sandbox; default-src 'none'"

func writeResponse(c *fiber.Ctx, r *engine.Response) error {
	if r.ContentType != "" {
		c.Set(fiber.HeaderContentType, r.ContentType)
	}
	// Configured headers come after the type so that they may override it.
	// Forbidden names are refused when a document is saved; a reply kept
	// from before that rule (and sent again) has them dropped here.
	for _, hv := range r.Headers {
		if _, bad := engine.ForbiddenReplyHeader(hv.Name); bad {
			continue
		}
		c.Set(hv.Name, hv.Value)
	}
	c.Set(fiber.HeaderContentSecurityPolicy, WebhookCSP)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	return c.Status(r.Status).Send(r.Body)
}
