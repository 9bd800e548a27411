package web

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/handlers"
)

// routes registers every route of Hookflow: this list is the map of the
// server.
func routes(app *fiber.App, cfg Config, h *handlers.Handlers, log *slog.Logger) {
	// A handler that panics (a bug) gets the one ErrorHandler's 500, not a
	// crash of the server.
	app.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: func(c *fiber.Ctx, e any) {
		log.Error("handler panicked", "route", routePath(c), "panic", fmt.Sprint(e), "stack", string(debug.Stack()))
	}}))
	app.Use(withRequest(), accessLog(log, h.ClientAddr), securityHeaders(h.PublicURL), requestFraming(), compressHTML())

	app.Get("/healthz", h.Health)
	app.Get("/readyz", h.Ready)
	if cfg.Metrics != nil {
		app.Get("/metrics", bearerAuth(h.Auth), adaptor.HTTPHandler(cfg.Metrics))
	}

	// The public endpoint. The colon is escaped so that ":trigger" is not a
	// parameter; other methods get 405 with Allow.
	app.Post(`/api/webhook\:trigger/:key`, h.WebhookTrigger)
	app.All(`/api/webhook\:trigger/:key`, h.WebhookMethodNotAllowed)

	// The admin API. Its description needs no token (registered before the
	// group's token check, which it then never reaches).
	app.Get("/api/v1/openapi.json", h.OpenAPI)
	api := app.Group("/api/v1", bearerAuth(h.Auth))
	api.Get("/workflows", h.WorkflowListAPI)
	api.Post("/workflows", h.WorkflowCreateAPI)
	api.Get("/workflows/:id", h.WorkflowGetAPI)
	api.Put("/workflows/:id", h.WorkflowReplaceAPI)
	api.Delete("/workflows/:id", h.WorkflowDeleteAPI)
	api.Get("/workflows/:id/revisions", h.RevisionListAPI)
	api.Get("/workflows/:id/revisions/:rev", h.RevisionGetAPI)
	api.Get("/workflows/:id/executions", h.ExecutionListAPI)
	api.Get("/workflows/:id/rejections", h.RejectionListAPI)
	api.Post("/workflows/:id/replay", h.WorkflowReplayAPI)
	api.Post("/workflows/:id/test", h.WorkflowTestAPI)
	api.Get("/templates", h.TemplateListAPI)
	api.Get("/executions/:id", h.ExecutionGetAPI)
	api.Post("/executions/:id/replay", h.ExecutionReplayAPI)
	api.Post("/executions/:id/retry", h.ExecutionRetryAPI)
	api.Post("/executions/:id/cancel", h.ExecutionCancelAPI)

	uiRoutes(app, h)

	app.Use(func(c *fiber.Ctx) error {
		return engine.Errorf(engine.ENOTFOUND, "no such page: %s %s", c.Method(), c.Path())
	})
}

// bearerAuth admits API requests that carry a valid API token.
func bearerAuth(auth engine.AuthStore) fiber.Handler {
	return func(c *fiber.Ctx) error {
		v := c.Get(fiber.HeaderAuthorization)
		const prefix = "bearer "
		if len(v) <= len(prefix) || !strings.EqualFold(v[:len(prefix)], prefix) {
			return engine.Errorf(engine.EUNAUTHORIZED, "an API token is required: Authorization: Bearer <token>")
		}
		tok, err := auth.GetAPIToken(c.UserContext(), engine.HashToken(strings.TrimSpace(v[len(prefix):])))
		if err != nil {
			if engine.ErrorCode(err) == engine.ENOTFOUND {
				return engine.Errorf(engine.EUNAUTHORIZED, "invalid or revoked API token")
			}
			return err
		}
		c.Locals("api_token_id", tok.ID)
		return c.Next()
	}
}
