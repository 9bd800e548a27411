package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/handlers"
	"github.com/hookflow/hookflow/static"
)

// uiRoutes registers the admin UI: static assets, sign-in, and the pages
// behind a session with CSRF checks on every state-changing request.
func uiRoutes(app *fiber.App, h *handlers.Handlers) {
	app.Get("/static/:name", serveStatic)
	app.Get("/favicon.ico", favicon)

	app.Get("/signin", h.SignInPage)
	app.Post("/signin", h.SignIn)
	app.Post("/signin/code", h.SignInCode)

	// Every page below needs a session, and every state-changing request
	// its CSRF token. (Not a Group: a group without prefix would put the
	// session check in front of every unmatched path, /api ones included.)
	ui := func(method, path string, handler fiber.Handler) {
		app.Add(method, path, h.RequireSession, h.CheckCSRF, handler)
	}
	ui(fiber.MethodPost, "/signout", h.SignOut)

	// Workflows list (area: list).
	ui(fiber.MethodGet, "/", h.WorkflowListPage)
	ui(fiber.MethodPost, "/workflows", h.WorkflowCreate)
	// Before /workflows/:id routes.
	ui(fiber.MethodPost, "/workflows/from-template", h.WorkflowCreateFromTemplate)
	// Before /workflows/:id, which would take "import" as an id.
	ui(fiber.MethodGet, "/workflows/import", h.WorkflowImportPage)
	ui(fiber.MethodPost, "/workflows/import", h.WorkflowImport)
	ui(fiber.MethodPost, "/workflows/:id/enabled", h.WorkflowEnabled)
	ui(fiber.MethodPost, "/workflows/:id/duplicate", h.WorkflowDuplicate)
	ui(fiber.MethodPost, "/workflows/:id/delete", h.WorkflowDelete)

	// Workflow editor: trigger settings and flow canvas (area: editor).
	ui(fiber.MethodGet, "/workflows/:id", h.WorkflowEditPage)
	ui(fiber.MethodGet, "/workflows/:id/export", h.WorkflowExport)
	ui(fiber.MethodGet, "/workflows/:id/import", h.WorkflowImportPage)
	ui(fiber.MethodPost, "/workflows/:id/import", h.WorkflowImport)
	ui(fiber.MethodGet, "/workflows/:id/revisions", h.RevisionListPage)
	// compare before :rev, which would take "compare" as a number.
	ui(fiber.MethodGet, "/workflows/:id/revisions/compare", h.RevisionCompare)
	ui(fiber.MethodGet, "/workflows/:id/revisions/:rev", h.RevisionPage)
	ui(fiber.MethodPost, "/workflows/:id/revisions/:rev/restore", h.RevisionRestore)
	ui(fiber.MethodGet, "/workflows/:id/trigger/panel", h.TriggerPanel)
	ui(fiber.MethodPost, "/workflows/:id/trigger/panel", h.TriggerPanelRefresh)
	ui(fiber.MethodPost, "/workflows/:id/trigger/parse", h.TriggerParse)
	ui(fiber.MethodPost, "/workflows/:id/trigger", h.TriggerSave)
	ui(fiber.MethodPost, "/workflows/:id/trigger/listen", h.TriggerListen)
	ui(fiber.MethodGet, "/workflows/:id/trigger/listen/:lid", h.TriggerListenPoll)
	ui(fiber.MethodPost, "/workflows/:id/trigger/listen/:lid/stop", h.TriggerListenStop)
	ui(fiber.MethodPost, "/workflows/:id/mode", h.WorkflowMode)
	ui(fiber.MethodPost, "/workflows/:id/test", h.WorkflowTest)
	ui(fiber.MethodPost, "/workflows/:id/test/clear", h.WorkflowTestClear)
	ui(fiber.MethodPost, "/workflows/:id/nodes", h.NodeCreate)
	ui(fiber.MethodGet, "/workflows/:id/nodes/:key/panel", h.NodePanel)
	ui(fiber.MethodPost, "/workflows/:id/nodes/:key/panel", h.NodePanelRefresh)
	ui(fiber.MethodPost, "/workflows/:id/nodes/:key/delete", h.NodeDelete)
	ui(fiber.MethodPost, "/workflows/:id/nodes/:key/move", h.NodeMove)
	ui(fiber.MethodPost, "/workflows/:id/nodes/:key", h.NodeSave)

	// Executions (area: executions).
	ui(fiber.MethodGet, "/workflows/:id/executions", h.ExecutionListPage)
	ui(fiber.MethodGet, "/workflows/:id/executions/latest", h.ExecutionLatest)
	ui(fiber.MethodPost, "/workflows/:id/executions/actions", h.ExecutionBulk)
	ui(fiber.MethodPost, "/workflows/:id/executions/replay", h.ExecutionReplayAll)
	ui(fiber.MethodGet, "/workflows/:id/rejections", h.RejectionListPage)
	ui(fiber.MethodGet, "/executions/:id", h.ExecutionPage)
	ui(fiber.MethodPost, "/executions/:id/replay", h.ExecutionReplay)
	ui(fiber.MethodPost, "/executions/:id/retry", h.ExecutionRetry)
	ui(fiber.MethodPost, "/executions/:id/cancel", h.ExecutionCancel)

	// API tokens (area: tokens).
	ui(fiber.MethodGet, "/tokens", h.TokenListPage)
	ui(fiber.MethodPost, "/tokens", h.TokenCreate)
	ui(fiber.MethodPost, "/tokens/:id/delete", h.TokenRevoke)

	// API reference: the OpenAPI description as a page (area: api).
	ui(fiber.MethodGet, "/api-docs", h.APIDocsPage)

	// Account: the signed-in admin's email and password (area: account).
	ui(fiber.MethodGet, "/account", h.AccountPage)
	ui(fiber.MethodPost, "/account/password", h.AccountPassword)
	ui(fiber.MethodPost, "/account/totp", h.AccountTOTPEnable)
	ui(fiber.MethodPost, "/account/totp/disable", h.AccountTOTPDisable)
}

// favicon answers browsers that ask for /favicon.ico without reading the
// page's <link rel="icon">: a permanent redirect to the SVG icon. The
// redirect is cached for a day only, since its target's URL changes with
// the icon.
func favicon(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	return c.Redirect(static.URL("favicon.svg"), fiber.StatusMovedPermanently)
}

// serveStatic serves embedded assets; a request carrying the current
// content hash (?v=) may be cached for a year. Text assets go out in the
// best encoding the client accepts (brotli, gzip), compressed once, with
// an entity tag of their own per encoding.
func serveStatic(c *fiber.Ctx) error {
	name := c.Params("name")
	data, ctype, hash, ok := static.Asset(name)
	if !ok {
		return fiber.ErrNotFound
	}
	if c.Query("v") == hash {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	etag, enc := hash, ""
	if static.Compressible(name) {
		c.Vary(fiber.HeaderAcceptEncoding)
		if enc = acceptedEncoding(c.Get(fiber.HeaderAcceptEncoding), static.EncodingBrotli, static.EncodingGzip); enc != "" {
			if packed, tag, ok := static.Variant(name, enc); ok {
				data, etag = packed, tag
			} else {
				enc = ""
			}
		}
	}
	c.Set(fiber.HeaderETag, `"`+etag+`"`)
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, ctype)
	if enc != "" {
		c.Set(fiber.HeaderContentEncoding, enc)
	}
	return c.Send(data)
}

// etagMatches reports whether an If-None-Match value names etag (a list,
// weak tags compared weakly, or "*").
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == `"`+etag+`"` {
			return true
		}
	}
	return false
}
