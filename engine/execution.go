package engine

import (
	"encoding/json"
	"strings"
	"time"
)

// ExecStatus is the state of an execution (§7).
type ExecStatus string

// Execution statuses.
const (
	StatusQueued   ExecStatus = "queued"
	StatusRunning  ExecStatus = "running"
	StatusResolved ExecStatus = "resolved"
	StatusFailed   ExecStatus = "failed"
	StatusError    ExecStatus = "error"
	StatusAborted  ExecStatus = "aborted"
)

// ExecStatuses lists every status in lifecycle order.
var ExecStatuses = []ExecStatus{StatusQueued, StatusRunning, StatusResolved, StatusFailed, StatusError, StatusAborted}

// Valid reports whether s is a known status.
func (s ExecStatus) Valid() bool {
	for _, v := range ExecStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// Final reports whether an execution in this status will not run again.
func (s ExecStatus) Final() bool { return s != StatusQueued && s != StatusRunning }

// JobStatus is the outcome of one node's run.
type JobStatus string

// Job statuses.
const (
	JobResolved JobStatus = "resolved"
	JobFailed   JobStatus = "failed"
	JobError    JobStatus = "error"
	JobAborted  JobStatus = "aborted"
)

// Request is the inbound HTTP request as stored with its execution.
type Request struct {
	Method string
	// Headers are the request headers in the order received, names as sent.
	Headers []HeaderValue
	// Query is the raw query string, without the '?'.
	Query string
	// Body is the raw body as received.
	Body []byte
}

// ContentType returns the value of the Content-Type header, or "".
func (r *Request) ContentType() string {
	for _, h := range r.Headers {
		if strings.EqualFold(h.Name, "Content-Type") {
			return h.Value
		}
	}
	return ""
}

// Execution is one run of one revision of a workflow for one request.
type Execution struct {
	ID         int64
	WorkflowID int64
	Revision   int
	Status     ExecStatus
	Mode       Mode
	Request    Request
	// Context is the trigger context as JSON: {"headers","query","body"}.
	Context json.RawMessage
	Jobs    []Job
	// Response is the reply sent (sync) or decided (async), if any.
	Response *Response
	// Error is a short, safe reason for failed, error and aborted runs.
	Error      string
	Attempts   int
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
}

// Duration is how long the flow ran.
func (e *Execution) Duration() time.Duration {
	if e.StartedAt.IsZero() || e.FinishedAt.IsZero() {
		return 0
	}
	return e.FinishedAt.Sub(e.StartedAt)
}

// Job records one node's run.
type Job struct {
	NodeKey   string          `json:"nodeKey"`
	NodeType  string          `json:"nodeType"`
	Status    JobStatus       `json:"status"`
	Result    json.RawMessage `json:"result"`
	Branch    string          `json:"branch,omitempty"`
	Error     string          `json:"error,omitempty"`
	StartedAt time.Time       `json:"startedAt"`
	Duration  time.Duration   `json:"durationNs"`
}
