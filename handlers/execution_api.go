package handlers

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
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
	// DueAt is when a waiting execution wakes.
	DueAt string `json:"dueAt,omitempty"`
	// ReplayOf is the execution this one replays (§14).
	ReplayOf int64 `json:"replayOf,omitempty"`
	// Duplicates counts the requests recognised as retries of this one by
	// the workflow's dedupe key (§12).
	Duplicates int64 `json:"duplicates"`
}

func newExecutionItem(e *engine.Execution) executionItem {
	it := executionItem{ID: e.ID, WorkflowID: e.WorkflowID, Status: e.Status, Revision: e.Revision, Error: e.Error, Attempts: e.Attempts,
		CreatedAt: rfc3339(e.CreatedAt), StartedAt: rfc3339(e.StartedAt), FinishedAt: rfc3339(e.FinishedAt), DueAt: rfc3339(e.DueAt), ReplayOf: e.ReplayOf,
		Duplicates: e.Duplicates}
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
	// Replays lists the executions that replay this one.
	Replays  []int64         `json:"replays"`
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
	// DueAt is when a waiting job runs again.
	DueAt string `json:"dueAt,omitempty"`
	// Request and Attempts are a request node's call and its attempts.
	Request  *engine.SentRequest `json:"request,omitempty"`
	Attempts []attemptDetail     `json:"attempts,omitempty"`
}

type attemptDetail struct {
	Number     int                   `json:"number"`
	StartedAt  string                `json:"startedAt"`
	DurationMS float64               `json:"durationMs"`
	Status     int                   `json:"status,omitempty"`
	Error      string                `json:"error,omitempty"`
	Reply      *engine.ReceivedReply `json:"reply,omitempty"`
	RetryAt    string                `json:"retryAt,omitempty"`
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
	d.Replays = e.Replays
	if d.Replays == nil {
		d.Replays = []int64{}
	}
	for _, j := range e.Jobs {
		jd := jobDetail{NodeKey: j.NodeKey, NodeType: j.NodeType, Status: j.Status, Result: j.Result, Branch: j.Branch,
			Error: j.Error, StartedAt: rfc3339(j.StartedAt), DurationMS: ms(j.Duration), DueAt: rfc3339(j.DueAt), Request: j.Request}
		for _, a := range j.Attempts {
			jd.Attempts = append(jd.Attempts, attemptDetail{Number: a.Number, StartedAt: rfc3339(a.StartedAt), DurationMS: ms(a.Duration),
				Status: a.Status, Error: a.Error, Reply: a.Reply, RetryAt: rfc3339(a.RetryAt)})
		}
		d.Jobs = append(d.Jobs, jd)
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

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ExecutionReplayAPI is POST /api/v1/executions/{id}/replay: a new
// execution of the workflow's current revision from the stored request
// (§14); 201 with it.
func (h *Handlers) ExecutionReplayAPI(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	e, err := h.Svc.ReplayExecution(c.UserContext(), id)
	if err != nil {
		return err
	}
	h.Log.Info("execution replayed", "execution_id", id, "replay_id", e.ID, "request_id", requestID(c))
	c.Location("/api/v1/executions/" + strconv.FormatInt(e.ID, 10))
	return c.Status(fiber.StatusCreated).JSON(newExecutionDetail(e))
}

// ExecutionRetryAPI is POST /api/v1/executions/{id}/retry: a failed, error
// or aborted execution goes on from the node that stopped it; 202.
func (h *Handlers) ExecutionRetryAPI(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	e, err := h.Svc.RetryExecution(c.UserContext(), id)
	if err != nil {
		return err
	}
	h.Log.Info("execution retried", "execution_id", id, "request_id", requestID(c))
	return c.Status(fiber.StatusAccepted).JSON(newExecutionDetail(e))
}

// ExecutionCancelAPI is POST /api/v1/executions/{id}/cancel: a queued,
// running or waiting execution becomes aborted; 202.
func (h *Handlers) ExecutionCancelAPI(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	e, err := h.Svc.CancelExecution(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(newExecutionDetail(e))
}

// replayFilterPost is the body of a bulk replay; every field is optional.
type replayFilterPost struct {
	Status string `json:"status"`
	Since  string `json:"since"`
	Until  string `json:"until"`
}

// WorkflowReplayAPI is POST /api/v1/workflows/{id}/replay: replays every
// execution of the workflow that matches the body's filter, at most
// engine.MaxBulkReplay; 202 {"count": n}.
func (h *Handlers) WorkflowReplayAPI(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	var p replayFilterPost
	if body := c.Body(); len(strings.TrimSpace(string(body))) > 0 {
		if err := requireJSON(c); err != nil {
			return err
		}
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return engine.Errorf(engine.EINVALID, "body: %s (expected {\"status\", \"since\", \"until\"}, each optional)", strings.TrimPrefix(err.Error(), "json: "))
		}
	}
	f, err := parseReplayFilter(id, p)
	if err != nil {
		return err
	}
	n, err := h.Svc.ReplayExecutions(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"count": n})
}

func parseReplayFilter(id int64, p replayFilterPost) (engine.ReplayFilter, error) {
	f := engine.ReplayFilter{WorkflowID: id, Status: engine.ExecStatus(p.Status)}
	if f.Status != "" && !f.Status.Valid() {
		return f, engine.Errorf(engine.EINVALID, "status: unknown status %q", p.Status)
	}
	var err error
	if p.Since != "" {
		if f.Since, err = time.Parse(time.RFC3339, p.Since); err != nil {
			return f, engine.Errorf(engine.EINVALID, "since: %q is not an RFC 3339 time such as 2026-12-01T00:00:00Z", p.Since)
		}
	}
	if p.Until != "" {
		if f.Until, err = time.Parse(time.RFC3339, p.Until); err != nil {
			return f, engine.Errorf(engine.EINVALID, "until: %q is not an RFC 3339 time such as 2026-12-01T00:00:00Z", p.Until)
		}
	}
	return f, nil
}
