package engine

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Live capture ("Listen for a request", issue 11): an admin asks to see
// the next request that reaches a workflow's real URL, to use it as the
// trigger's samples or as a test run's input. Captures holds those
// listens in memory, on this instance only: a request that reaches
// another instance of a cluster is not seen (the UI says so). Everything
// is bounded: how long a listen waits, how long a captured request is
// kept, how many there are, and how much of a body is copied. Nothing
// here logs a request.

// Capture limits.
const (
	// ListenFor is how long a listen waits for a request.
	ListenFor = 2 * time.Minute
	// CaptureKeep is how long a captured request stays available (to use
	// as samples or to test on), and a listen that timed out says so.
	CaptureKeep = 15 * time.Minute
	// MaxCaptureBody is how much of a captured body is kept: samples are
	// stored in the workflow document, which is at most MaxDocumentBytes.
	MaxCaptureBody = 256 << 10
	// MaxCaptures bounds the listens and captured requests held at once,
	// all workflows together.
	MaxCaptures = 128
	// MaxListensPerWorkflow bounds the listens waiting on one workflow.
	MaxListensPerWorkflow = 8
)

// Capture is one listen: waiting for a request until Deadline, or done.
type Capture struct {
	// ID names the listen in URLs: random, so that one cannot be guessed.
	ID         string
	WorkflowID int64
	// Key is the workflow's URL key, which the webhook path knows.
	Key      string
	Started  time.Time
	Deadline time.Time
	// Request is the captured request (nil while waiting, or when none
	// came); its Body holds at most MaxCaptureBody bytes.
	Request    *Request
	CapturedAt time.Time
	// BodySize is the size of the body received; BodyTruncated reports
	// that Request.Body holds only its start.
	BodySize      int
	BodyTruncated bool
}

// Waiting reports whether the listen still waits at now.
func (c *Capture) Waiting(now time.Time) bool { return c.Request == nil && now.Before(c.Deadline) }

// Captures is the in-memory hub of listens. Its zero value is not usable:
// use NewCaptures. It is safe for concurrent use.
type Captures struct {
	// waiting counts the listens not yet served, so that the webhook path
	// costs one atomic load when nobody listens.
	waiting atomic.Int64
	mu      sync.Mutex
	byID    map[string]*Capture
	now     func() time.Time
}

// NewCaptures returns an empty hub.
func NewCaptures() *Captures {
	return &Captures{byID: map[string]*Capture{}, now: time.Now}
}

// SetClock replaces the hub's clock (tests).
func (h *Captures) SetClock(now func() time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = now
}

// Listen starts waiting for the next request to the workflow's URL and
// returns the listen (a copy). Too many listens at once is ETOOMANY.
func (h *Captures) Listen(workflowID int64, key string) (Capture, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	h.pruneLocked(now)
	mine := 0
	for _, c := range h.byID {
		if c.WorkflowID == workflowID && c.Waiting(now) {
			mine++
		}
	}
	if mine >= MaxListensPerWorkflow {
		return Capture{}, Errorf(ETOOMANY, "%d listens already wait for this workflow's next request: stop one or wait for it to end", mine)
	}
	if len(h.byID) >= MaxCaptures && !h.dropOldestCapturedLocked() {
		return Capture{}, Errorf(ETOOMANY, "too many listens at once: try again in a minute")
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Capture{}, Errorf(EINTERNAL, "engine: listen: %v", err)
	}
	c := &Capture{ID: hex.EncodeToString(b[:]), WorkflowID: workflowID, Key: key, Started: now, Deadline: now.Add(ListenFor)}
	h.byID[c.ID] = c
	h.waiting.Add(1)
	return *c, nil
}

// Get returns the listen id of the workflow (a copy), or ENOTFOUND when it
// is unknown, belongs to another workflow or has expired.
func (h *Captures) Get(workflowID int64, id string) (Capture, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pruneLocked(h.now())
	c, ok := h.byID[id]
	if !ok || c.WorkflowID != workflowID {
		return Capture{}, Errorf(ENOTFOUND, "this listen is over: captured requests are kept %d minutes, on the instance that captured them; listen again", int(CaptureKeep/time.Minute))
	}
	return *c, nil
}

// Stop ends a listen that still waits; a captured request stays.
func (h *Captures) Stop(workflowID int64, id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.byID[id]; ok && c.WorkflowID == workflowID && c.Request == nil {
		delete(h.byID, id)
		h.pruneLocked(h.now())
	}
}

// Captured lists the workflow's captured requests still kept, newest
// first (copies).
func (h *Captures) Captured(workflowID int64) []Capture {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pruneLocked(h.now())
	var out []Capture
	for _, c := range h.byID {
		if c.WorkflowID == workflowID && c.Request != nil {
			out = append(out, *c)
		}
	}
	slices.SortFunc(out, func(a, b Capture) int { return b.CapturedAt.Compare(a.CapturedAt) })
	return out
}

// Offer hands a request that reached the workflow with this URL key to
// every listen waiting for it. req must not change afterwards (the
// webhook path copies it out of the server's buffers first); its body is
// copied up to MaxCaptureBody.
func (h *Captures) Offer(key string, req *Request) {
	if h == nil || h.waiting.Load() <= 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	var cp *Request
	for _, c := range h.byID {
		if c.Key != key || !c.Waiting(now) {
			continue
		}
		if cp == nil {
			cp = &Request{Method: req.Method, Query: req.Query, Headers: slices.Clone(req.Headers), Client: req.Client}
			n := min(len(req.Body), MaxCaptureBody)
			cp.Body = slices.Clone(req.Body[:n])
		}
		// Listens share the copy: nothing changes it.
		c.Request, c.CapturedAt = cp, now
		c.BodySize, c.BodyTruncated = len(req.Body), len(req.Body) > MaxCaptureBody
		h.waiting.Add(-1)
	}
}

// pruneLocked forgets listens that timed out more than CaptureKeep ago
// and captured requests older than CaptureKeep, and stops counting the
// listens whose time ran out.
func (h *Captures) pruneLocked(now time.Time) {
	for id, c := range h.byID {
		switch {
		case c.Request != nil && now.Sub(c.CapturedAt) > CaptureKeep:
			delete(h.byID, id)
		case c.Request == nil && now.Sub(c.Deadline) > CaptureKeep:
			delete(h.byID, id)
		}
	}
	n := int64(0)
	for _, c := range h.byID {
		if c.Waiting(now) {
			n++
		}
	}
	h.waiting.Store(n)
}

// dropOldestCapturedLocked makes room by forgetting the oldest listen that
// no longer waits; false when every listen still waits.
func (h *Captures) dropOldestCapturedLocked() bool {
	now := h.now()
	var oldest *Capture
	for _, c := range h.byID {
		if c.Waiting(now) {
			continue
		}
		if oldest == nil || c.Started.Before(oldest.Started) {
			oldest = c
		}
	}
	if oldest == nil {
		return false
	}
	delete(h.byID, oldest.ID)
	return true
}
