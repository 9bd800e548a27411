package handlers

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
)

// revisionItem is a row of GET /api/v1/workflows/{id}/revisions.
type revisionItem struct {
	Revision  int    `json:"revision"`
	CreatedAt string `json:"createdAt"`
	// Current marks the revision the workflow runs now.
	Current bool `json:"current"`
	// URL is the revision's document in the admin API.
	URL string `json:"url"`
}

// revisionParam parses the :rev route parameter; a bad one is a 404.
func revisionParam(c *fiber.Ctx) (int, error) {
	n, err := strconv.Atoi(c.Params("rev"))
	if err != nil || n <= 0 {
		return 0, engine.Errorf(engine.ENOTFOUND, "no such revision")
	}
	return n, nil
}

// workflowRevisionParams parses the :id and :rev route parameters.
func workflowRevisionParams(c *fiber.Ctx) (id int64, n int, err error) {
	if id, err = paramID(c, "id"); err != nil {
		return 0, 0, err
	}
	if n, err = revisionParam(c); err != nil {
		return 0, 0, err
	}
	return id, n, nil
}

// RevisionListAPI is GET /api/v1/workflows/{id}/revisions: every saved
// revision, newest first, and which one is current.
func (h *Handlers) RevisionListAPI(c *fiber.Ctx) error {
	w, err := h.workflowParam(c)
	if err != nil {
		return err
	}
	revs, err := h.Svc.ListRevisions(c.UserContext(), w.ID)
	if err != nil {
		return err
	}
	items := make([]revisionItem, 0, len(revs))
	for _, r := range revs {
		items = append(items, revisionItem{Revision: r.Revision, CreatedAt: rfc3339(r.CreatedAt), Current: r.Revision == w.Revision,
			URL: "/api/v1/workflows/" + itoa(w.ID) + "/revisions/" + strconv.Itoa(r.Revision)})
	}
	return c.JSON(fiber.Map{"items": items, "current": w.Revision})
}

// RevisionGetAPI is GET /api/v1/workflows/{id}/revisions/{n}: that
// revision's document in the export shape (id, key, url, revision, the
// document with its secret) plus createdAt. "enabled" is the workflow's
// state now: it is not part of revisions.
func (h *Handlers) RevisionGetAPI(c *fiber.Ctx) error {
	id, n, err := workflowRevisionParams(c)
	if err != nil {
		return err
	}
	w, err := h.Svc.GetRevision(c.UserContext(), id, n)
	if err != nil {
		return err
	}
	doc := engine.ExportDocument(w, h.WebhookURL(c, w.Key))
	doc = engine.SetTopLevel(doc, "createdAt", engine.AppendJSONString(nil, rfc3339(w.UpdatedAt)))
	return sendJSON(c, doc)
}
