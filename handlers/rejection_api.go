package handlers

import (
	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
)

// rejectionItem is one entry of a workflow's rejection log.
type rejectionItem struct {
	At            string              `json:"at"`
	ClientAddress string              `json:"clientAddress"`
	Status        int                 `json:"status"`
	Reason        engine.RejectReason `json:"reason"`
	Message       string              `json:"message"`
}

// RejectionListAPI is GET /api/v1/workflows/{id}/rejections: the last
// requests the workflow's URL refused (401, 403, 400, 413), newest first.
func (h *Handlers) RejectionListAPI(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	list, err := h.Svc.ListRejections(c.UserContext(), id)
	if err != nil {
		return err
	}
	items := make([]rejectionItem, 0, len(list))
	for _, r := range list {
		items = append(items, rejectionItem{At: rfc3339(r.At), ClientAddress: r.ClientAddress, Status: r.Status, Reason: r.Reason, Message: r.Message})
	}
	return c.JSON(fiber.Map{"items": items})
}
