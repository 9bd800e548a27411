package engine

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"time"
)

// RejectReason classifies a request the public endpoint refused for an
// existing workflow (product.md §11). The set is fixed: the rejection log
// and the metrics use these names.
type RejectReason string

// The reasons a request is rejected.
const (
	// RejectAuth: Basic Auth credentials missing or wrong (401).
	RejectAuth RejectReason = "auth"
	// RejectSignature: trigger.verify failed: a header missing or
	// malformed, a timestamp outside the tolerance, a signature or token
	// that does not match (401).
	RejectSignature RejectReason = "signature"
	// RejectAddress: the client address is not in trigger.allowIPs (403).
	RejectAddress RejectReason = "address"
	// RejectSize: the body is over the limit (413).
	RejectSize RejectReason = "size"
	// RejectParse: the body or query cannot be read as its type says (400).
	RejectParse RejectReason = "parse"
)

// RejectReasons lists every RejectReason.
var RejectReasons = []RejectReason{RejectAuth, RejectSignature, RejectAddress, RejectSize, RejectParse}

// MaxRejections is how many rejections each workflow keeps, the newest.
const MaxRejections = 100

// maxRejectionMessage bounds the message kept with a rejection, in bytes
// (a message names at most a header, an address or a place in the body).
const maxRejectionMessage = 300

// Rejection is one refused request in a workflow's rejection log: no body
// and no credentials, only what tells an admin why a sender is refused.
type Rejection struct {
	WorkflowID int64
	At         time.Time
	// ClientAddress is the client address (see ClientAddr), "" if unknown.
	ClientAddress string
	// Status is the HTTP status of the reply: 401, 403, 400 or 413.
	Status int
	Reason RejectReason
	// Message is the reply's error message.
	Message string
	// Count is how many refused requests the entry stands for: itself, and
	// those of the workflow that the write budget left out since the entry
	// before (0 counts as 1).
	Count int64
}

// RejectedError is the error of a rejected request: the reply's error and
// why. ErrorCode and ErrorMessage see the *Error it wraps.
type RejectedError struct {
	Reason RejectReason
	Err    *Error
}

func (e *RejectedError) Error() string { return e.Err.Message }

// Unwrap returns the *Error.
func (e *RejectedError) Unwrap() error { return e.Err }

// RejectReasonOf returns the reason of a rejected request's error, or "".
func RejectReasonOf(err error) RejectReason {
	var r *RejectedError
	if errors.As(err, &r) {
		return r.Reason
	}
	return ""
}

// rejectStatus is the reply status of each rejection's error code (the
// web layer maps the same codes to the same statuses).
var rejectStatus = map[string]int{EUNAUTHORIZED: 401, EFORBIDDEN: 403, EINVALID: 400, ETOOLARGE: 413}

// The rejection log's write budget. A sender that keeps failing, or an
// attacker who knows a URL, must not turn refused requests into database
// load: each workflow records at most rejectBurst rejections at once and
// rejectRate per second after that, and all workflows together
// rejectGlobalBurst and rejectGlobalRate. Rejections past the budget are
// still refused, just not recorded.
const (
	rejectBurst       = 10
	rejectRate        = 1.0
	rejectGlobalBurst = 50
	rejectGlobalRate  = 20.0
	// rejectWorkflows bounds the per-workflow buckets kept; past it they
	// start over (a bucket is only a few bytes, workflows are few).
	rejectWorkflows = 10000
)

// rejectLimiter is the rejection log's write budget: token buckets per
// workflow and overall.
type rejectLimiter struct {
	mu     sync.Mutex
	byID   map[int64]*tokenBucket
	global tokenBucket
}

type tokenBucket struct {
	tokens float64
	at     time.Time
	// left counts the refusals the budget left out since the last one
	// recorded.
	left int64
}

// take spends a token if one is left, refilling at rate per second up to
// burst.
func (b *tokenBucket) take(now time.Time, rate, burst float64) bool {
	if b.at.IsZero() {
		b.tokens = burst
	} else if d := now.Sub(b.at).Seconds(); d > 0 {
		b.tokens = min(burst, b.tokens+d*rate)
	}
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// allow reports whether a rejection of the workflow may be recorded now,
// and how many refusals it then stands for (itself and those left out).
func (l *rejectLimiter) allow(workflowID int64, now time.Time) (bool, int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byID == nil || len(l.byID) >= rejectWorkflows {
		l.byID = map[int64]*tokenBucket{}
	}
	b := l.byID[workflowID]
	if b == nil {
		b = &tokenBucket{}
		l.byID[workflowID] = b
	}
	// The workflow's bucket first: a workflow over its own budget must not
	// spend the global one.
	if !b.take(now, rejectRate, rejectBurst) || !l.global.take(now, rejectGlobalRate, rejectGlobalBurst) {
		b.left++
		return false, 0
	}
	n := b.left + 1
	b.left = 0
	return true, n
}

// reject records a refused request of a live workflow, within the write
// budget, and returns the error to reply with.
func (s *Service) reject(ctx context.Context, w *Workflow, client netip.Addr, reason RejectReason, e *Error) error {
	s.recordRejection(ctx, w.ID, client, reason, rejectStatus[e.Code], e.Message)
	return &RejectedError{Reason: reason, Err: e}
}

func (s *Service) recordRejection(ctx context.Context, workflowID int64, client netip.Addr, reason RejectReason, status int, message string) {
	addr := ""
	if client.IsValid() {
		addr = client.String()
	}
	if len(message) > maxRejectionMessage {
		message = message[:maxRejectionMessage] + "…"
	}
	s.log.Debug("webhook request rejected", "workflow_id", workflowID, "reason", string(reason), "status", status, "client_ip", addr)
	// Every rejection is counted in the metrics; the log below keeps only
	// what its write budget allows.
	s.obs.Rejected(reason)
	now := s.now()
	ok, count := s.rejects.allow(workflowID, now)
	if !ok {
		return
	}
	r := &Rejection{WorkflowID: workflowID, At: now, ClientAddress: addr, Status: status, Reason: reason, Message: message, Count: count}
	// The caller is refused whatever happens here: a log that cannot be
	// written is the admin's loss, not a reason to change the reply.
	if err := s.executions.InsertRejection(context.WithoutCancel(ctx), r); err != nil {
		s.log.Warn("record rejected request", "workflow_id", workflowID, "error", err)
	}
}

// RecordRejection records a request to the workflow with key that was
// refused before it reached Trigger (a body over the limit, which the HTTP
// server refuses before reading it). Unknown keys and disabled workflows
// are not recorded, as Trigger would have answered them 404.
func (s *Service) RecordRejection(ctx context.Context, key string, client netip.Addr, reason RejectReason, status int, message string) {
	lf, err := s.live(ctx, key)
	if err != nil || !lf.wf.Doc.IsEnabled() {
		return
	}
	s.recordRejection(ctx, lf.wf.ID, client, reason, status, message)
}

// ListRejections returns the rejection log of a workflow, newest first.
func (s *Service) ListRejections(ctx context.Context, workflowID int64) ([]Rejection, error) {
	if _, err := s.workflows.GetWorkflow(ctx, workflowID); err != nil {
		return nil, err
	}
	return s.executions.ListRejections(ctx, workflowID, MaxRejections)
}
