package handlers

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/valyala/fasthttp"
)

// WebhookTrigger is the public endpoint POST /api/webhook:trigger/<key>.
func (h *Handlers) WebhookTrigger(c *fiber.Ctx) error {
	start := time.Now()
	// Fiber reuses its buffers after the handler returns: everything that
	// outlives it (stored request, async run) is copied here.
	req := &engine.Request{
		// Fiber's method string is a view of a buffer the next request
		// reuses.
		Method: strings.Clone(c.Method()),
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
		return h.webhookFailed(c, key, start, err)
	}
	if res.DuplicateOf != 0 {
		c.Set(HeaderDuplicateOf, strconv.FormatInt(res.DuplicateOf, 10))
	}
	if res.NotStored {
		// The flow ran and decided this reply, but no record of it
		// exists: say so rather than let the caller believe otherwise.
		c.Set("Hookflow-Execution-Stored", "false")
	}
	err = writeResponse(c, res.Response)
	if res.Recorder != nil {
		res.Recorder.Done(res.Response.Status, time.Since(start))
	}
	return err
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
	start := time.Now()
	c.Set(fiber.HeaderAllow, fiber.MethodPost)
	return h.webhookFailed(c, c.Params("key"), start, engine.Errorf(engine.EMETHOD, "method %s not allowed: use POST", c.Method()))
}

// webhookFailed sends the error reply of a webhook request and counts it
// in the metrics of its workflow. The error handler decides the status
// code, so it runs here rather than after the handler returns.
func (h *Handlers) webhookFailed(c *fiber.Ctx, key string, start time.Time, err error) error {
	c.Locals(webhookCounted, true)
	herr := c.App().ErrorHandler(c, err)
	h.Svc.WebhookRecorder(key).Done(c.Response().StatusCode(), time.Since(start))
	return herr
}

// webhookCounted marks, in the locals, a webhook request counted by its
// handler.
const webhookCounted = "webhook_counted"

// WebhookRefusedEarly counts, in the metrics of its workflow, a webhook
// request answered with an error before its handler ran (it does nothing
// for one the handler counted): a body over the limit (413; counted as a
// rejection by WebhookTooLarge), headers too large, a request refused by
// the framing checks. The web layer's error handler calls it for every
// error on the webhook path.
func (h *Handlers) WebhookRefusedEarly(c *fiber.Ctx, status int) {
	if c.Locals(webhookCounted) != nil {
		return
	}
	key, _, _ := strings.Cut(strings.TrimPrefix(c.Path(), TriggerPath("")), "/")
	h.Svc.WebhookRecorder(key).Done(status, 0)
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
