package engine

import (
	"context"
	"errors"
	"regexp"
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
		if pk, ok := kind.(PureKind); !ok || !pk.Pure() {
			c.f.Pure = false
		}
		step, err := kind.Compile(n, c.env)
		if err != nil {
			return nil, Errorf(ErrorCode(err), "%s.%s", nf, ErrorMessage(err))
		}
		fn := &FlowNode{Node: n, Step: step}
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
	Status ExecStatus
	Jobs   []Job
	// Response is the reply of the first response node reached, if any.
	Response *Response
	// Error is a short reason, safe to show to the caller, for failed,
	// error and aborted runs ("workflow failed at node paid").
	Error string
}

// Run executes the flow: it walks the main chain, enters the branch each
// branching node picks and rejoins below it, records one job per node that
// ran, and stops at the first response node, at an end node, at a failure
// or when ctx is done (status aborted).
func (f *Flow) Run(ctx context.Context, s *Scope) RunResult {
	r := RunResult{Status: StatusResolved}
	if f.nodeCount > 0 {
		r.Jobs = make([]Job, 0, min(f.nodeCount, 8))
	}
	f.runChain(ctx, s, f.Nodes, &r)
	return r
}

// runChain returns true when the execution must stop.
func (f *Flow) runChain(ctx context.Context, s *Scope, nodes []*FlowNode, r *RunResult) bool {
	for _, n := range nodes {
		if err := ctx.Err(); err != nil {
			r.Status, r.Error = StatusAborted, "workflow timed out before node "+n.Node.Key
			return true
		}
		start := time.Now()
		out, err := n.Step.Run(ctx, s)
		job := Job{NodeKey: n.Node.Key, NodeType: n.Node.Type, Status: JobResolved, StartedAt: start, Duration: time.Since(start), Branch: out.Branch}
		if len(out.Result) > 0 {
			job.Result = out.Result
		} else {
			job.Result = nullJSON
		}
		if err != nil {
			job.Result = nullJSON
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || ctx.Err() != nil {
				job.Status, job.Error = JobAborted, "timed out"
				r.Jobs = append(r.Jobs, job)
				r.Status, r.Error = StatusAborted, "workflow timed out at node "+n.Node.Key
				return true
			}
			job.Status, job.Error = JobError, ErrorMessage(err)
			r.Jobs = append(r.Jobs, job)
			r.Status, r.Error = StatusError, "workflow failed at node "+n.Node.Key
			return true
		}
		s.Jobs[n.Node.Key] = resultValue(job.Result)
		if out.End == StatusFailed {
			job.Status = JobFailed
		}
		r.Jobs = append(r.Jobs, job)
		switch {
		case out.Response != nil:
			r.Response = out.Response
			return true
		case out.End != "":
			r.Status = out.End
			if out.End != StatusResolved {
				r.Error = "workflow failed at node " + n.Node.Key
			}
			return true
		case out.Branch != "":
			if f.runChain(ctx, s, n.Branches[out.Branch], r) {
				return true
			}
		}
	}
	return false
}

var nullJSON = []byte("null")
