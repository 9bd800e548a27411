package engine

import (
	"strconv"
	"time"

	"github.com/tidwall/gjson"
)

// Roots of template paths.
const (
	RootContext = "$context"
	RootJobs    = "$jobsMapByNodeKey"
	RootSystem  = "$system"
)

// Scope is what templates and conditions read while an execution runs: the
// trigger context, the results of the jobs that ran so far, and system values.
// A Scope belongs to one execution and is not safe for concurrent use.
type Scope struct {
	// Context is the trigger context: {"headers":…,"query":…,"body":…}.
	Context gjson.Result
	// RawBody is the request body as received. $context.rawBody reads it
	// as text (invalid UTF-8 replaced): it is resolved from here when used,
	// so that no execution stores its body twice (once raw, once in the
	// context).
	RawBody []byte
	// Jobs holds the result of every node that ran, by node key.
	Jobs map[string]gjson.Result

	ExecutionID int64
	WorkflowID  int64
	WorkflowKey string
	Revision    int
	Now         time.Time

	// Env gives nodes what they need of the outside world; nil for a flow
	// that only computes (then acting nodes fail with an error).
	Env *RunEnv
	// Prior is the job the running node left in an earlier run of this
	// execution (it waited, or the execution is retried), or nil.
	Prior *Job

	system  gjson.Result
	rawBody gjson.Result
}

// RawBodyKey is the member of $context that reads the raw body as text.
const RawBodyKey = "rawBody"

// RunEnv is what acting nodes use of the outside world while a flow runs.
type RunEnv struct {
	// Outbound sends request nodes' calls.
	Outbound Outbound
	// UserAgent is sent with every outgoing call ("Hookflow/<version>").
	UserAgent string
	// Inline is set when the flow runs inside its sync request: a node
	// waits in place, within the context's deadline, instead of making the
	// execution wait as a stored row.
	Inline bool
	// Test is set in a test run (§17): request nodes are not sent unless
	// their test setting says so, and delays do not wait.
	Test bool
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Observer receives the measurements of request nodes; nil for runs
	// that are not counted in the metrics (test runs, product.md §17).
	Observer Observer
}

// now is the environment's clock.
func (e *RunEnv) now() time.Time {
	if e == nil || e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

// NewScope returns a scope over the raw JSON trigger context.
func NewScope(context []byte) *Scope {
	return &Scope{Context: gjson.ParseBytes(context), Jobs: map[string]gjson.Result{}, Now: time.Now()}
}

// Resolve looks up a full path whose first key is a root ($context,
// $jobsMapByNodeKey or $system). Unknown roots and missing values give a
// Result whose Exists is false.
func (s *Scope) Resolve(p Path) gjson.Result {
	if len(p) == 0 || p[0].IsIndex {
		return gjson.Result{}
	}
	rest := p[1:]
	switch p[0].Key {
	case RootContext:
		if len(rest) > 0 && !rest[0].IsIndex && rest[0].Key == RawBodyKey {
			if len(rest) > 1 {
				return gjson.Result{} // a string has no members
			}
			if !s.rawBody.Exists() {
				s.rawBody = newStringResult(string(s.RawBody))
			}
			return s.rawBody
		}
		return rest.Lookup(s.Context)
	case RootJobs:
		if len(rest) == 0 || rest[0].IsIndex {
			return gjson.Result{}
		}
		return rest[1:].Lookup(s.Jobs[rest[0].Key])
	case RootSystem:
		if !s.system.Exists() {
			s.system = gjson.Parse(s.systemJSON())
		}
		return rest.Lookup(s.system)
	}
	return gjson.Result{}
}

func (s *Scope) systemJSON() string {
	b := make([]byte, 0, 160)
	b = append(b, `{"now":`...)
	b = strconv.AppendQuote(b, s.Now.UTC().Format(time.RFC3339Nano))
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, s.Now.UnixMilli(), 10)
	b = append(b, `,"executionId":`...)
	b = strconv.AppendInt(b, s.ExecutionID, 10)
	b = append(b, `,"workflowId":`...)
	b = strconv.AppendInt(b, s.WorkflowID, 10)
	b = append(b, `,"workflowKey":`...)
	b = strconv.AppendQuote(b, s.WorkflowKey)
	b = append(b, `,"revision":`...)
	b = strconv.AppendInt(b, int64(s.Revision), 10)
	b = append(b, '}')
	return string(b)
}

// IsValidRoot reports whether name is one of the template roots.
func IsValidRoot(name string) bool {
	return name == RootContext || name == RootJobs || name == RootSystem
}

func resultValue(raw []byte) gjson.Result { return gjson.ParseBytes(raw) }
