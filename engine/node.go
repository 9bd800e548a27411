package engine

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"
)

// Node is one step of the flow as written in the workflow document (§9).
type Node struct {
	Key      string            `json:"key"`
	Type     string            `json:"type"`
	Title    string            `json:"title,omitempty"`
	Config   json.RawMessage   `json:"config,omitempty"`
	Branches map[string][]Node `json:"branches,omitempty"`
	// Test says what the node does in a test run (§17) and never changes
	// a real execution: for a request node {"run": true} (send it for
	// real) or {"pin": {"status", "headers", "body"}} (use this reply).
	Test json.RawMessage `json:"test,omitempty"`
}

// NodeKind is one type of node (condition, response, end, ...). Each kind
// lives in a file of its own and registers itself with RegisterNodeKind from
// an init function, so adding a kind is one file and one registration.
type NodeKind interface {
	// Compile checks the node's config and returns the step that runs it.
	// Compile is called once per revision, never per request. An invalid
	// config gives an *Error with code EINVALID whose message starts with the
	// offending field relative to the node, such as
	// `config.rules.and[1].op: unknown operator "bogus"`.
	Compile(n *Node, env CompileEnv) (Step, error)
}

// PureKind is implemented by node kinds whose steps only compute from the
// scope: no I/O, no waiting, no effect outside their execution, so running
// one twice changes nothing but the time it took. A flow made only of pure
// nodes runs while its async request is accepted (see Service.accept);
// a kind that does not implement PureKind (an HTTP call, a delay) sends its
// executions to the worker pool.
type PureKind interface {
	NodeKind
	Pure() bool
}

// CompileEnv tells a NodeKind about the workflow its node belongs to.
type CompileEnv struct {
	Mode Mode
}

// Step is a compiled node. Steps are shared by every execution of a revision
// and run concurrently: they must not keep per-execution state.
type Step interface {
	// Branches lists the branch names this node routes to, in display order
	// ("yes", "no" for a condition in branch mode), or nil.
	Branches() []string
	// Run executes the node. An error ends the execution with status error;
	// its safe message (ErrorMessage) is recorded on the job.
	Run(ctx context.Context, s *Scope) (Outcome, error)
}

// Outcome is what a node's run decides.
type Outcome struct {
	// Result is the job's result as JSON (nil records null). It becomes
	// $jobsMapByNodeKey.<key> for later nodes.
	Result []byte
	// Branch names the branch to enter; "" goes on with the next node.
	Branch string
	// End, when set, ends the execution with that status after this node.
	End ExecStatus
	// Response, when set, ends the execution: in sync mode it is the reply.
	Response *Response
	// Continue, with Response, sends the reply and goes on with the flow
	// (respond and continue, §13).
	Continue bool
	// Wait, when set, makes the execution wait until then; the node runs
	// again when it wakes, with its job as Scope.Prior.
	Wait time.Time
	// Error says why the node failed (with End failed), or why it failed
	// and the flow went on (continueOnFailure), or what a waiting node waits
	// after (a failed attempt).
	Error string
	// Request and Attempts are a request node's call, recorded on its job.
	Request  *SentRequest
	Attempts []Attempt
}

// Response is an HTTP reply decided by the flow or by the trigger.
type Response struct {
	Status      int           `json:"status"`
	Headers     []HeaderValue `json:"headers"`
	ContentType string        `json:"contentType"`
	Body        []byte        `json:"-"`
}

// HeaderValue is one rendered reply header.
type HeaderValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

var (
	kindsMu sync.RWMutex
	kinds   = map[string]NodeKind{}
)

// RegisterNodeKind makes a node type available to workflow documents. It
// panics when the type is registered twice, which is a programming error.
func RegisterNodeKind(typ string, k NodeKind) {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if _, dup := kinds[typ]; dup {
		panic("engine: node kind registered twice: " + typ)
	}
	kinds[typ] = k
}

// NodeKindFor returns the registered kind of a node type.
func NodeKindFor(typ string) (NodeKind, bool) {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	k, ok := kinds[typ]
	return k, ok
}

// NodeTypes lists the registered node types, sorted.
func NodeTypes() []string {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	out := make([]string, 0, len(kinds))
	for t := range kinds {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
