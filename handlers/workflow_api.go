package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
)

// workflowItem is a row of GET /api/v1/workflows.
type workflowItem struct {
	ID             int64             `json:"id"`
	Key            string            `json:"key"`
	Title          string            `json:"title"`
	Mode           engine.Mode       `json:"mode"`
	Enabled        bool              `json:"enabled"`
	URL            string            `json:"url"`
	Revision       int               `json:"revision"`
	ExecutionCount int64             `json:"executionCount"`
	LastStatus     engine.ExecStatus `json:"lastStatus,omitempty"`
	LastAt         *string           `json:"lastExecutionAt,omitempty"`
}

// WorkflowListAPI is GET /api/v1/workflows.
func (h *Handlers) WorkflowListAPI(c *fiber.Ctx) error {
	list, err := h.Svc.ListWorkflows(c.UserContext())
	if err != nil {
		return err
	}
	items := make([]workflowItem, 0, len(list))
	for _, w := range list {
		it := workflowItem{ID: w.ID, Key: w.Key, Title: w.Title, Mode: w.Mode, Enabled: w.Enabled, URL: h.WebhookURL(c, w.Key),
			Revision: w.Revision, ExecutionCount: w.ExecutionCount, LastStatus: w.LastStatus}
		if !w.LastAt.IsZero() {
			s := rfc3339(w.LastAt)
			it.LastAt = &s
		}
		items = append(items, it)
	}
	return c.JSON(fiber.Map{"items": items})
}

// WorkflowCreateAPI is POST /api/v1/workflows: 201 with the stored document.
func (h *Handlers) WorkflowCreateAPI(c *fiber.Ctx) error {
	if err := requireJSON(c); err != nil {
		return err
	}
	w, err := h.Svc.CreateWorkflow(c.UserContext(), c.Body())
	if err != nil {
		if strings.HasPrefix(engine.ErrorMessage(err), "trigger.basicAuth.password: required") && !engine.SecretGiven(c.Body()) {
			// What an export without secrets gives: say how to go on.
			return engine.Errorf(engine.EINVALID, "trigger.basicAuth.password: required when Basic Auth is enabled, and the document has none "+
				"(an export without secrets): add it, or PUT the document to the workflow it came from, which keeps the stored password")
		}
		return err
	}
	h.Log.Info("workflow created", "workflow_id", w.ID, "request_id", requestID(c))
	c.Location("/api/v1/workflows/" + itoa(w.ID))
	return sendJSON(c.Status(fiber.StatusCreated), engine.ExportDocument(w, h.WebhookURL(c, w.Key)))
}

// WorkflowGetAPI is GET /api/v1/workflows/{id}: the document (export),
// secrets included (product.md §11: an admin reads a secret back to
// configure the sender); ?secrets=false leaves every secret out, for an
// export to share (a PUT of it keeps the stored secrets).
func (h *Handlers) WorkflowGetAPI(c *fiber.Ctx) error {
	secrets := true
	switch v := c.Query("secrets"); v {
	case "", "true", "1":
	case "false", "0":
		secrets = false
	default:
		return engine.Errorf(engine.EINVALID, "secrets: must be true or false, got %q", v)
	}
	w, err := h.workflowParam(c)
	if err != nil {
		return err
	}
	if !secrets {
		return sendJSON(c, engine.ExportDocumentWithoutSecrets(w, h.WebhookURL(c, w.Key)))
	}
	return sendJSON(c, engine.ExportDocument(w, h.WebhookURL(c, w.Key)))
}

// WorkflowReplaceAPI is PUT /api/v1/workflows/{id}: a new revision. A
// document without the Basic Auth password (an export without secrets)
// keeps the stored one; "enabled", when present, sets the state.
func (h *Handlers) WorkflowReplaceAPI(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := requireJSON(c); err != nil {
		return err
	}
	w, err := h.Svc.ReplaceWorkflow(c.UserContext(), id, c.Body())
	if err != nil {
		return err
	}
	h.Log.Info("workflow updated", "workflow_id", w.ID, "revision", w.Revision, "request_id", requestID(c))
	return sendJSON(c, engine.ExportDocument(w, h.WebhookURL(c, w.Key)))
}

// WorkflowDeleteAPI is DELETE /api/v1/workflows/{id}.
func (h *Handlers) WorkflowDeleteAPI(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := h.Svc.DeleteWorkflow(c.UserContext(), id); err != nil {
		return err
	}
	h.Log.Info("workflow deleted", "workflow_id", id, "request_id", requestID(c))
	return c.SendStatus(fiber.StatusNoContent)
}
