// Package web assembles Hookflow's HTTP server: the Fiber configuration,
// every route in one list (routes.go), the middleware and the one
// ErrorHandler that maps engine error codes to HTTP replies.
package web

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/handlers"
)

// Config is the server's configuration.
type Config struct {
	// BodyLimit is the largest request body accepted, in bytes.
	BodyLimit int
	// ReadTimeout bounds reading one request (headers and body), which
	// defeats slow clients (slowloris).
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one response.
	WriteTimeout time.Duration
	// IdleTimeout bounds keep-alive connections waiting for a request.
	IdleTimeout time.Duration
	// ReadBufferSize bounds the request line and headers, in bytes.
	ReadBufferSize int
	// Metrics, when set, is served at /metrics to API token holders
	// (product.md §15). It is nil when the metrics have a listener of their
	// own (--metrics-addr): then the main listener does not serve them.
	Metrics http.Handler
}

// Defaults fills in zero fields.
func (c *Config) Defaults() {
	if c.BodyLimit <= 0 {
		c.BodyLimit = 10 << 20
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 15 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 30 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 90 * time.Second
	}
	if c.ReadBufferSize <= 0 {
		c.ReadBufferSize = 16 << 10
	}
}

// New returns the Fiber app with every route registered.
func New(cfg Config, h *handlers.Handlers, log *slog.Logger) *fiber.App {
	cfg.Defaults()
	app := fiber.New(fiber.Config{
		AppName:               "hookflow",
		DisableStartupMessage: true,
		BodyLimit:             cfg.BodyLimit,
		ReadTimeout:           cfg.ReadTimeout,
		WriteTimeout:          cfg.WriteTimeout,
		IdleTimeout:           cfg.IdleTimeout,
		ReadBufferSize:        cfg.ReadBufferSize,
		CaseSensitive:         true,
		ErrorHandler:          errorHandler(log, cfg.BodyLimit, h.ErrorPage, h.WebhookTooLarge, h.WebhookRefusedEarly),
		// Keys and ids are ASCII; a %3A for the colon still routes.
		UnescapePath: true,
	})
	// fasthttp's parse errors otherwise quote the request, headers and
	// body, and Fiber sends that text back as the 400's message: headers a
	// proxy in front added (and any credentials) would be echoed.
	app.Server().SecureErrorLogMessage = true
	routes(app, cfg, h, log)
	return app
}
