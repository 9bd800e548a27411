package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/views"
)

// rejectionSummary sums up a workflow's rejection log for the line above
// its executions: how many in the last hour, and the newest message.
func (h *Handlers) rejectionSummary(c *fiber.Ctx, workflowID int64, now time.Time) (views.RejectionSummary, error) {
	s := views.RejectionSummary{WorkflowID: workflowID, Now: now}
	list, err := h.Svc.ListRejections(c.UserContext(), workflowID)
	if err != nil || len(list) == 0 {
		return s, err
	}
	s.Total, s.Newest = len(list), list[0]
	others := map[string]bool{}
	for _, r := range list {
		if now.Sub(r.At) > time.Hour {
			break // newest first
		}
		s.LastHour += int(max(r.Count, 1))
		if r.Message != s.Newest.Message {
			others[r.Message] = true
		}
	}
	s.OtherMessages = len(others)
	return s, nil
}

// RejectionListPage is GET /workflows/:id/rejections: the requests the
// workflow's URL refused lately, newest first.
func (h *Handlers) RejectionListPage(c *fiber.Ctx) error {
	w, err := h.workflowParam(c)
	if err != nil {
		return err
	}
	list, err := h.Svc.ListRejections(c.UserContext(), w.ID)
	if err != nil {
		return err
	}
	v := views.RejectionListView{WorkflowID: w.ID, WorkflowTitle: w.Doc.Title, Rows: list, Now: time.Now()}
	return render(c, fiber.StatusOK, views.RejectionListPage(h.meta(c, "Refused requests of "+w.Doc.Title, "workflows"), v))
}
