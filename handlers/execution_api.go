package handlers

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/tidwall/gjson"
)

// executionItem is a row of an executions list.
type executionItem struct {
	ID         int64             `json:"id"`
	WorkflowID int64             `json:"workflowId"`
	Status     engine.ExecStatus `json:"status"`
	Revision   int               `json:"revision"`
	Error      string            `json:"error,omitempty"`
	Attempts   int               `json:"attempts"`
	CreatedAt  string            `json:"createdAt"`
	StartedAt  string            `json:"startedAt,omitempty"`
	FinishedAt string            `json:"finishedAt,omitempty"`
	DurationMS *float64          `json:"durationMs,omitempty"`
}

func newExecutionItem(e *engine.Execution) executionItem {
	it := executionItem{ID: e.ID, WorkflowID: e.WorkflowID, Status: e.Status, Revision: e.Revision, Error: e.Error, Attempts: e.Attempts,
		CreatedAt: rfc3339(e.CreatedAt), StartedAt: rfc3339(e.StartedAt), FinishedAt: rfc3339(e.FinishedAt)}
	if d := e.Duration(); d > 0 || !e.FinishedAt.IsZero() {
		v := float64(d) / float64(time.Millisecond)
		it.DurationMS = &v
	}
	return it
}

// ExecutionListAPI is GET /api/v1/workflows/{id}/executions.
func (h *Handlers) ExecutionListAPI(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.Svc.GetWorkflow(c.UserContext(), id); err != nil {
		return err
	}
	f := engine.ExecutionFilter{WorkflowID: id, Status: engine.ExecStatus(c.Query("status")), Limit: 50}
	if v := c.Query("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 500 {
			return engine.Errorf(engine.EINVALID, "limit: must be a whole number from 1 to 500")
		}
	}
	if v := c.Query("before"); v != "" {
		if f.Before, err = strconv.ParseInt(v, 10, 64); err != nil || f.Before < 1 {
			return engine.Errorf(engine.EINVALID, "before: must be the next value of a previous page")
		}
	}
	// One row more than asked tells whether another page follows, so the
	// last page says so itself (next "") instead of leading to an empty one.
	limit := f.Limit
	f.Limit++
	list, err := h.Svc.ListExecutions(c.UserContext(), f)
	if err != nil {
		return err
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		next = strconv.FormatInt(list[limit-1].ID, 10)
	}
	items := make([]executionItem, 0, len(list))
	for _, e := range list {
		items = append(items, newExecutionItem(e))
	}
	return c.JSON(fiber.Map{"items": items, "next": next})
}

type executionDetail struct {
	executionItem
	Request  requestDetail   `json:"request"`
	Context  json.RawMessage `json:"context"`
	Jobs     []jobDetail     `json:"jobs"`
	Response *responseDetail `json:"response"`
}

type requestDetail struct {
	Method       string          `json:"method"`
	Headers      json.RawMessage `json:"headers"`
	Query        string          `json:"query"`
	Body         string          `json:"body"`
	BodyEncoding string          `json:"bodyEncoding,omitempty"`
}

type jobDetail struct {
	NodeKey    string           `json:"nodeKey"`
	NodeType   string           `json:"nodeType"`
	Status     engine.JobStatus `json:"status"`
	Result     json.RawMessage  `json:"result"`
	Branch     string           `json:"branch,omitempty"`
	Error      string           `json:"error,omitempty"`
	StartedAt  string           `json:"startedAt"`
	DurationMS float64          `json:"durationMs"`
}

type responseDetail struct {
	Status      int                  `json:"status"`
	Headers     []engine.HeaderValue `json:"headers"`
	ContentType string               `json:"contentType"`
	Body        string               `json:"body"`
}

// ExecutionGetAPI is GET /api/v1/executions/{id}.
func (h *Handlers) ExecutionGetAPI(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	e, err := h.Svc.GetExecution(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(newExecutionDetail(e))
}

func newExecutionDetail(e *engine.Execution) executionDetail {
	d := executionDetail{executionItem: newExecutionItem(e), Context: e.Context, Jobs: []jobDetail{}}
	d.Request = requestDetail{Method: e.Request.Method, Query: e.Request.Query, Headers: json.RawMessage(gjson.GetBytes(e.Context, "headers").Raw)}
	if len(d.Request.Headers) == 0 {
		d.Request.Headers = json.RawMessage("{}")
	}
	if utf8.Valid(e.Request.Body) {
		d.Request.Body = string(e.Request.Body)
	} else {
		d.Request.Body, d.Request.BodyEncoding = base64.StdEncoding.EncodeToString(e.Request.Body), "base64"
	}
	for _, j := range e.Jobs {
		d.Jobs = append(d.Jobs, jobDetail{NodeKey: j.NodeKey, NodeType: j.NodeType, Status: j.Status, Result: j.Result, Branch: j.Branch,
			Error: j.Error, StartedAt: rfc3339(j.StartedAt), DurationMS: float64(j.Duration) / float64(time.Millisecond)})
	}
	if r := e.Response; r != nil {
		h := r.Headers
		if h == nil {
			h = []engine.HeaderValue{}
		}
		d.Response = &responseDetail{Status: r.Status, Headers: h, ContentType: r.ContentType, Body: string(r.Body)}
	}
	return d
}
