package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/handlers"
	"github.com/hookflow/hookflow/static"
)

// uiRoutes registers the admin UI: static assets, sign-in, and the pages
// behind a session with CSRF checks on every state-changing request.
func uiRoutes(app *fiber.App, h *handlers.Handlers) {
	renderHTMLError = h.ErrorPage

	app.Get("/static/:name", serveStatic)

	app.Get("/signin", h.SignInPage)
	app.Post("/signin", h.SignIn)

	// Every page below needs a session, and every state-changing request
	// its CSRF token. (Not a Group: a group without prefix would put the
	// session check in front of every unmatched path, /api ones included.)
	ui := func(method, path string, handler fiber.Handler) {
		app.Add(method, path, h.RequireSession, h.CheckCSRF, handler)
	}
	ui(fiber.MethodPost, "/signout", h.SignOut)

	// Workflows list (area: list).

	// Workflow editor: trigger settings and flow canvas (area: editor).

	// Executions (area: executions).

	// API tokens (area: tokens).
}

// serveStatic serves embedded assets; a request carrying the current
// content hash (?v=) may be cached for a year.
func serveStatic(c *fiber.Ctx) error {
	data, ctype, hash, ok := static.Asset(c.Params("name"))
	if !ok {
		return fiber.ErrNotFound
	}
	if c.Query("v") == hash {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	c.Set(fiber.HeaderETag, `"`+hash+`"`)
	if c.Get(fiber.HeaderIfNoneMatch) == `"`+hash+`"` {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, ctype)
	return c.Send(data)
}
