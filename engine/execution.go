package engine

import (
	"encoding/json"
	"net/netip"
	"strings"
	"time"
)

// ExecStatus is the state of an execution (§7).
type ExecStatus string

// Execution statuses.
const (
	StatusQueued  ExecStatus = "queued"
	StatusRunning ExecStatus = "running"
	// StatusWaiting: a delay, or a retry of a request node, is due later
	// (§13); the execution is a row with a due time until then.
	StatusWaiting  ExecStatus = "waiting"
	StatusResolved ExecStatus = "resolved"
	StatusFailed   ExecStatus = "failed"
	StatusError    ExecStatus = "error"
	StatusAborted  ExecStatus = "aborted"
)

// ExecStatuses lists every status in lifecycle order.
var ExecStatuses = []ExecStatus{StatusQueued, StatusRunning, StatusWaiting, StatusResolved, StatusFailed, StatusError, StatusAborted}

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
func (s ExecStatus) Final() bool {
	return s != StatusQueued && s != StatusRunning && s != StatusWaiting
}

// Retryable reports whether an execution in this status may be retried
// from the node that stopped it (§14).
func (s ExecStatus) Retryable() bool {
	return s == StatusFailed || s == StatusError || s == StatusAborted
}

// JobStatus is the outcome of one node's run.
type JobStatus string

// Job statuses.
const (
	JobResolved JobStatus = "resolved"
	JobFailed   JobStatus = "failed"
	JobError    JobStatus = "error"
	JobAborted  JobStatus = "aborted"
	// JobWaiting: the node waits (a delay, or a request's next attempt) and
	// runs again when the execution wakes at DueAt.
	JobWaiting JobStatus = "waiting"
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
	// Client is the client address (see ClientAddr), for allowIPs and the
	// rejection log. It is not stored with the execution.
	Client netip.Addr
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
	Error string
	// Attempts counts the runs of the execution: the first, and each resume
	// after a wait, a crash or a retry.
	Attempts int
	// DueAt is when a waiting execution wakes (zero otherwise).
	DueAt time.Time
	// ReplayOf is the execution this one replays (§14), or 0.
	ReplayOf int64
	// Test marks a test run (§17), which is never stored.
	Test bool
	// LoadErr is set by a store that claimed the execution but could not
	// read its stored jobs or reply: the runner ends it as error rather
	// than run it from a wrong state.
	LoadErr error `json:"-"`
	// Replays lists the executions that replay this one, oldest first
	// (GetExecution only).
	Replays []int64
	// Duplicates counts the requests that came again with this execution's
	// dedupe key within its window (§12) and made no execution of their own.
	Duplicates int64
	// Dedupe is the request's dedupe key, which InsertExecution stores with
	// the execution; nil when the workflow has no dedupe key or the key
	// rendered empty. It is not read back.
	Dedupe     *DedupeClaim
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

// Job records one node's run. A node that ran again (a retry after a wait,
// a retried execution) keeps one job, whose Attempts grow.
type Job struct {
	NodeKey   string          `json:"nodeKey"`
	NodeType  string          `json:"nodeType"`
	Status    JobStatus       `json:"status"`
	Result    json.RawMessage `json:"result"`
	Branch    string          `json:"branch,omitempty"`
	Error     string          `json:"error,omitempty"`
	StartedAt time.Time       `json:"startedAt"`
	Duration  time.Duration   `json:"durationNs"`
	// DueAt is when a waiting job runs again.
	DueAt time.Time `json:"dueAt,omitzero"`
	// Request is what a request node sent (its last rendering), with
	// secrets redacted and the body capped.
	Request *SentRequest `json:"request,omitempty"`
	// Attempts are a request node's calls, oldest first.
	Attempts []Attempt `json:"attempts,omitempty"`
}

// SentRequest is an outgoing request as recorded on its job: header values
// that look secret and secret-looking query parameters are redacted, and
// the body is capped (MaxRecordedBody).
type SentRequest struct {
	Method        string        `json:"method"`
	URL           string        `json:"url"`
	Headers       []HeaderValue `json:"headers"`
	Body          string        `json:"body,omitempty"`
	BodyTruncated bool          `json:"bodyTruncated,omitempty"`
}

// Attempt is one call of a request node.
type Attempt struct {
	// Number counts the attempts of one round, from 1: a retried execution
	// starts a new round at 1, after the attempts of the earlier rounds.
	Number    int           `json:"number"`
	StartedAt time.Time     `json:"startedAt"`
	Duration  time.Duration `json:"durationNs"`
	// Status is the HTTP status of the reply, 0 when none came.
	Status int `json:"status,omitempty"`
	// Error says why the attempt failed ("" for a 2xx reply).
	Error string `json:"error,omitempty"`
	// Reply is the reply received, body capped, or nil.
	Reply *ReceivedReply `json:"reply,omitempty"`
	// Retry says the attempt was to be tried again, and when.
	RetryAt time.Time `json:"retryAt,omitzero"`
}

// ReceivedReply is the reply of an attempt as recorded: headers as
// received (names lower-cased), body capped (MaxRecordedBody).
type ReceivedReply struct {
	Headers       []HeaderValue `json:"headers"`
	Body          string        `json:"body,omitempty"`
	BodyTruncated bool          `json:"bodyTruncated,omitempty"`
}

// MaxRecordedBody caps the request and reply bodies recorded on a request
// node's job for display; the body in the job's result is kept up to
// DefaultOutboundMaxBody.
const MaxRecordedBody = 16 << 10
