package engine

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime/debug"
	"time"
)

var nodeKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// Flow is a compiled workflow revision: validated, every template parsed,
// ready to run any number of executions concurrently. A Flow never changes;
// a new revision compiles to a new Flow.
type Flow struct {
	Doc   *Document
	Nodes []*FlowNode
	// Reply is the async trigger's reply.
	Reply *CompiledReply
	// Pure is set when every node's kind is a PureKind: the flow computes
	// from its scope only, so it can run before its async request is stored.
	Pure      bool
	byKey     map[string]*FlowNode
	nodeCount int
}

// FlowNode is a node of a compiled flow with its branches.
type FlowNode struct {
	Node     *Node
	Step     Step
	Branches map[string][]*FlowNode
	// Pure is set when the node's kind is a PureKind.
	Pure bool
}

// Compile validates a document and compiles it into a Flow. Errors are
// EINVALID *Errors whose message starts with the offending field, such as
// `nodes[0].config.rules.and[1].op: unknown operator "bogus"`.
func Compile(d *Document) (*Flow, error) {
	if err := d.validateTop(); err != nil {
		return nil, err
	}
	reply, err := CompileReply(d.Trigger.Response, "trigger.response")
	if err != nil {
		return nil, err
	}
	c := &compiler{env: CompileEnv{Mode: d.Mode}, f: &Flow{Doc: d, Reply: reply, Pure: true, byKey: map[string]*FlowNode{}}}
	c.f.Nodes, err = c.chain(d.Nodes, "nodes", 1)
	if err != nil {
		return nil, err
	}
	c.f.nodeCount = c.count
	return c.f, nil
}

type compiler struct {
	env   CompileEnv
	f     *Flow
	count int
}

func (c *compiler) chain(nodes []Node, field string, depth int) ([]*FlowNode, error) {
	// An empty branch below the deepest level holds no node: a branching
	// node is allowed there like any other.
	if depth > MaxNodeDepth && len(nodes) > 0 {
		return nil, Errorf(EINVALID, "%s: branches nested deeper than %d levels", field, MaxNodeDepth)
	}
	out := make([]*FlowNode, 0, len(nodes))
	for i := range nodes {
		n := &nodes[i]
		nf := field + "[" + itoa(i) + "]"
		c.count++
		if c.count > MaxNodes {
			return nil, Errorf(EINVALID, "%s: more than %d nodes in the workflow", nf, MaxNodes)
		}
		switch {
		case n.Key == "":
			return nil, Errorf(EINVALID, "%s.key: required", nf)
		case len(n.Key) > MaxNodeKeyLength:
			return nil, Errorf(EINVALID, "%s.key: longer than %d characters", nf, MaxNodeKeyLength)
		case !nodeKeyRE.MatchString(n.Key):
			return nil, Errorf(EINVALID, "%s.key: %q must start with a letter or _ and hold only letters, digits, _ and -", nf, n.Key)
		}
		if _, dup := c.f.byKey[n.Key]; dup {
			return nil, Errorf(EINVALID, "%s.key: duplicate node key %q", nf, n.Key)
		}
		if len(n.Title) > MaxTitleLength*4 {
			return nil, Errorf(EINVALID, "%s.title: longer than %d characters", nf, MaxTitleLength)
		}
		kind, ok := NodeKindFor(n.Type)
		if !ok {
			return nil, Errorf(EINVALID, "%s.type: unknown node type %q", nf, n.Type)
		}
		pure := false
		if pk, ok := kind.(PureKind); ok && pk.Pure() {
			pure = true
		} else {
			c.f.Pure = false
		}
		step, err := kind.Compile(n, c.env)
		if err != nil {
			return nil, Errorf(ErrorCode(err), "%s.%s", nf, ErrorMessage(err))
		}
		fn := &FlowNode{Node: n, Step: step, Pure: pure}
		c.f.byKey[n.Key] = fn
		allowed := step.Branches()
		for name := range n.Branches {
			if !contains(allowed, name) {
				if len(allowed) == 0 {
					return nil, Errorf(EINVALID, "%s.branches: a %s node in this mode has no branches", nf, n.Type)
				}
				return nil, Errorf(EINVALID, "%s.branches.%s: unknown branch (expected one of %v)", nf, name, allowed)
			}
		}
		if len(allowed) > 0 {
			fn.Branches = make(map[string][]*FlowNode, len(allowed))
			for _, name := range allowed {
				fn.Branches[name], err = c.chain(n.Branches[name], nf+".branches."+name, depth+1)
				if err != nil {
					return nil, err
				}
			}
		}
		out = append(out, fn)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// NodeByKey returns the compiled node with the given key.
func (f *Flow) NodeByKey(key string) (*FlowNode, bool) {
	n, ok := f.byKey[key]
	return n, ok
}

// RunResult is what running a flow decided.
type RunResult struct {
	// Status is the execution's status after the run: final, waiting (see
	// WaitUntil), or running when the run stopped at a response node that
	// continues (see Continue) or could not go on (see Stopped).
	Status ExecStatus
	Jobs   []Job
	// Response is the reply of the first response node reached, if any.
	Response *Response
	// Continue is set when an inline run stopped at a response node with
	// "continue": the reply is to be sent and the rest of the flow run in
	// the background, from these jobs.
	Continue bool
	// WaitUntil is when a waiting execution wakes.
	WaitUntil time.Time
	// Error is a short reason, safe to show to the caller, for failed,
	// error and aborted runs ("workflow failed at node paid").
	Error string
	// Panic is set when a node's step panicked (a bug): its job and the
	// execution end as error; the caller logs it.
	Panic interface{ LogAttrs() []any }
	// Stopped is the checkpoint's error when the run stopped because its
	// progress could not be stored (its lease was lost, it was cancelled,
	// the database failed); the run's outcome is then not to be recorded
	// as if it had finished.
	Stopped error
}

// RunOptions tune a run of a flow.
type RunOptions struct {
	// Prior are the jobs of earlier runs of the execution: a resumed run
	// (after a wait, a crash or a retry) keeps the resolved ones as they
	// were and runs the first node that has none, or whose job did not
	// resolve, with that job as Scope.Prior.
	Prior []Job
	// Checkpoint, when set, stores the jobs so far before a node that is
	// not pure starts, whenever a job that acted (a request) has not been
	// stored yet: a crash after the checkpoint never runs that job again.
	// An error stops the run (RunResult.Stopped).
	Checkpoint func(jobs []Job) error
	// StopAtContinue makes a response node with "continue" stop the run
	// (an inline sync run: the reply goes out, the rest runs later); in the
	// background such a node is recorded and the flow goes on.
	StopAtContinue bool
	// NodeTimeout, when set, bounds each node's run instead of the whole
	// run (ctx's deadline), except that a node with a timeout of its own (a
	// request's call) gets at least that.
	NodeTimeout time.Duration
}

// ownTimeout is implemented by steps that bound their own work: a request
// node's call.
type ownTimeout interface {
	OwnTimeout() time.Duration
}

// Run executes the flow from its first node; see RunFrom.
func (f *Flow) Run(ctx context.Context, s *Scope) RunResult {
	return f.RunFrom(ctx, s, RunOptions{})
}

// RunFrom executes the flow: it walks the main chain, enters the branch
// each branching node picks and rejoins below it, records one job per node
// that ran, and stops at the first response node, at an end node, at a
// failure, when a node waits, or when ctx is done (status aborted). Jobs of
// o.Prior that resolved are kept without running their nodes again.
func (f *Flow) RunFrom(ctx context.Context, s *Scope, o RunOptions) RunResult {
	w := walker{f: f, o: &o, r: RunResult{Status: StatusResolved}}
	if f.nodeCount > 0 {
		w.r.Jobs = make([]Job, 0, min(f.nodeCount, 8))
	}
	if len(o.Prior) > 0 {
		w.prior = make(map[string]*Job, len(o.Prior))
		for i := range o.Prior {
			w.prior[o.Prior[i].NodeKey] = &o.Prior[i]
		}
	}
	w.chain(ctx, s, f.Nodes)
	s.Prior = nil
	return w.r
}

type walker struct {
	f     *Flow
	o     *RunOptions
	r     RunResult
	prior map[string]*Job
	// unstored is set when a job that acted has not been checkpointed.
	unstored bool
}

// chain returns true when the execution must stop.
func (w *walker) chain(ctx context.Context, s *Scope, nodes []*FlowNode) bool {
	r := &w.r
	for _, n := range nodes {
		if err := ctx.Err(); err != nil {
			r.Status, r.Error = StatusAborted, "workflow timed out before node "+n.Node.Key
			return true
		}
		pj := w.prior[n.Node.Key]
		if pj != nil && pj.Status == JobResolved {
			// Ran before this run: keep its job and follow its branch.
			r.Jobs = append(r.Jobs, *pj)
			s.Jobs[n.Node.Key] = resultValue(pj.Result)
			if pj.Branch != "" && w.chain(ctx, s, n.Branches[pj.Branch]) {
				return true
			}
			continue
		}
		// A job that acted is stored before the next node starts,
		// whatever that node is (§13): a crash after this point never
		// repeats the call.
		if w.unstored && w.o.Checkpoint != nil {
			if err := w.o.Checkpoint(r.Jobs); err != nil {
				r.Status, r.Stopped = StatusRunning, err
				return true
			}
			w.unstored = false
		}
		if w.step(ctx, s, n, pj) {
			return true
		}
	}
	return false
}

// step runs one node; it returns true when the execution must stop.
func (w *walker) step(ctx context.Context, s *Scope, n *FlowNode, pj *Job) bool {
	r := &w.r
	start := time.Now()
	s.Prior = pj
	stepCtx := ctx
	if d := w.o.NodeTimeout; d > 0 {
		if ot, ok := n.Step.(ownTimeout); ok {
			d = max(d, ot.OwnTimeout()+time.Second)
		}
		var cancel context.CancelFunc
		stepCtx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	out, err := runStepSafely(stepCtx, n.Step, s)
	var pe *panicError
	if errors.As(err, &pe) && r.Panic == nil {
		pe.node = n.Node.Key
		r.Panic = pe
	}
	s.Prior = nil
	job := Job{NodeKey: n.Node.Key, NodeType: n.Node.Type, Status: JobResolved, StartedAt: start, Duration: time.Since(start),
		Branch: out.Branch, Error: out.Error, Request: out.Request, Attempts: out.Attempts}
	if pj != nil {
		// One job per node: a node that runs again keeps its first start
		// and adds up the time it ran.
		job.StartedAt, job.Duration = pj.StartedAt, pj.Duration+job.Duration
	}
	if len(out.Result) > 0 {
		job.Result = out.Result
	} else {
		job.Result = nullJSON
	}
	if err != nil {
		job.Result, job.Branch = nullJSON, ""
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || stepCtx.Err() != nil {
			job.Status, job.Error = JobAborted, "timed out"
			r.Jobs = append(r.Jobs, job)
			r.Status, r.Error = StatusAborted, "workflow timed out at node "+n.Node.Key
			if errors.Is(context.Cause(ctx), errCancelled) {
				job.Error, r.Error = "cancelled", "workflow cancelled at node "+n.Node.Key
			}
			return true
		}
		job.Status, job.Error = JobError, ErrorMessage(err)
		r.Jobs = append(r.Jobs, job)
		r.Status, r.Error = StatusError, "workflow failed at node "+n.Node.Key
		return true
	}
	if !out.Wait.IsZero() {
		out.Wait = ceilMillisecond(out.Wait)
		job.Status, job.DueAt, job.Result = JobWaiting, out.Wait, nullJSON
		r.Jobs = append(r.Jobs, job)
		r.Status, r.WaitUntil = StatusWaiting, out.Wait
		return true
	}
	if !n.Pure {
		w.unstored = true
	}
	s.Jobs[n.Node.Key] = resultValue(job.Result)
	if out.End == StatusFailed {
		job.Status = JobFailed
	}
	r.Jobs = append(r.Jobs, job)
	switch {
	case out.Response != nil && out.Continue:
		if r.Response == nil {
			r.Response = out.Response
		}
		if w.o.StopAtContinue {
			r.Status, r.Continue = StatusRunning, true
			return true
		}
	case out.Response != nil:
		if r.Response == nil {
			r.Response = out.Response
		}
		return true
	case out.End != "":
		r.Status = out.End
		if out.End != StatusResolved {
			r.Error = "workflow failed at node " + n.Node.Key
		}
		return true
	case out.Branch != "":
		if w.chain(ctx, s, n.Branches[out.Branch]) {
			return true
		}
	}
	return false
}

var nullJSON = []byte("null")

// panicError is the error of a node whose step panicked: a bug, which ends
// its execution as error (the job says "internal error") instead of
// crashing the process, wherever the flow runs (a sync request, the
// runner, a test run). The caller logs it (RunResult.Panic).
type panicError struct {
	node  string
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("node %s panicked: %v", p.node, p.value) }

// LogAttrs are the panic's attributes for a log line.
func (p *panicError) LogAttrs() []any {
	return []any{"node", p.node, "panic", fmt.Sprint(p.value), "stack", string(p.stack)}
}

func runStepSafely(ctx context.Context, st Step, s *Scope) (out Outcome, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = Outcome{}, &panicError{value: p, stack: debug.Stack()}
		}
	}()
	return st.Run(ctx, s)
}

// ceilMillisecond rounds t up to the millisecond. Stores keep due times in
// milliseconds: rounded up, a wake-up never comes before the time a node
// asked for.
func ceilMillisecond(t time.Time) time.Time {
	r := t.Truncate(time.Millisecond)
	if r.Before(t) {
		r = r.Add(time.Millisecond)
	}
	return r
}
