package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Service is the webhook engine: it manages workflows and their compiled
// flows, answers triggers and feeds the runner. It is safe for concurrent
// use.
type Service struct {
	workflows  WorkflowStore
	executions ExecutionStore
	log        *slog.Logger

	mu    sync.RWMutex
	cache map[string]*liveFlow // current revision by key
	// cacheCost is the estimated memory of the cached flows (liveFlow.cost),
	// kept under cacheBudget (maxLiveFlowBytes).
	cacheCost, cacheBudget int64
	// gen counts cache invalidations: a flow loaded before one is not
	// cached, as it may be the revision the invalidation replaced.
	gen uint64
	// cacheOff bypasses the cache while signals from the other instances
	// sharing the database may be missed (ClusterListener.Disconnected).
	cacheOff atomic.Bool

	revMu    sync.Mutex
	revCache map[revKey]*revFlow // any revision, for the runner

	// wake tells the runner that work was queued.
	wake chan struct{}
	now  func() time.Time
	ids  IDGenerator

	// owner names this process in the leases it holds on executions; lease
	// is how long one lasts.
	owner string
	lease time.Duration
	// runner, when started, takes accepted executions at once.
	runner *Runner
	// env is what acting nodes use in the background; envInline the same
	// inside a sync request.
	env, envInline *RunEnv
	// rejects is the rejection log's write budget.
	rejects rejectLimiter

	// obs receives the measurements (observe.go); unknownRec records the
	// requests that match no workflow.
	obs        Observer
	unknownRec WebhookRecorder
}

type revKey struct {
	id  int64
	rev int
}

// liveFlow is the current revision of a workflow with what the hot path
// needs precomputed.
type liveFlow struct {
	wf   *Workflow
	flow *Flow
	// authSum is sha256("user:password"), compared in constant time.
	authSum [32]byte
	// trust is the compiled allowIPs, verify and dedupe settings.
	trust *trust
	// cost estimates the memory of the compiled flow, from its document's
	// size.
	cost int64
	// rec records the workflow's webhook requests.
	rec WebhookRecorder
}

// flowCost estimates the heap a compiled flow takes from the size of its
// stored document, on the large side: the benchmark's 3-node flow, a
// 560-byte document, measured 3.8 KB compiled and is counted as 4.9 KB.
func flowCost(w *Workflow) int64 { return 1024 + 7*int64(len(w.Stored)) }

// NewService returns a Service over the given stores.
func NewService(ws WorkflowStore, es ExecutionStore, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{
		workflows: ws, executions: es, log: log,
		cache: map[string]*liveFlow{}, cacheBudget: maxLiveFlowBytes,
		revCache:   map[revKey]*revFlow{},
		wake:       make(chan struct{}, 1),
		now:        time.Now,
		owner:      RandomToken(9),
		lease:      30 * time.Second,
		env:        &RunEnv{},
		envInline:  &RunEnv{Inline: true},
		obs:        nopObserver{},
		unknownRec: nopRecorder{},
	}
}

// UseOutbound sets the port through which request nodes call other
// systems, and the User-Agent they send ("Hookflow/<version>"). Call it
// before serving requests.
func (s *Service) UseOutbound(o Outbound, userAgent string) {
	s.env = &RunEnv{Outbound: o, UserAgent: userAgent, Observer: s.env.Observer}
	s.envInline = &RunEnv{Outbound: o, UserAgent: userAgent, Inline: true, Observer: s.envInline.Observer}
}

// Owner is the name of this process in the leases it holds.
func (s *Service) Owner() string { return s.owner }

// SeedIDs makes every execution id generated from now on larger than
// last, typically the largest id already stored.
func (s *Service) SeedIDs(last int64) { s.ids.Seed(last) }

// NewKey returns a random workflow key: 20 lowercase letters and digits
// from crypto/rand, about 103 bits.
func NewKey() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	const n = 20
	b := make([]byte, n)
	// 252 is the largest multiple of 36 below 256: rejecting bytes above
	// it keeps every character equally likely.
	buf := make([]byte, 64)
	for i := 0; i < n; {
		rand.Read(buf)
		for _, c := range buf {
			if c < 252 && i < n {
				b[i] = alphabet[c%36]
				i++
			}
		}
	}
	return string(b)
}

// CreateWorkflow validates a document and stores it as revision 1 of a
// new workflow with a fresh key.
func (s *Service) CreateWorkflow(ctx context.Context, raw []byte) (*Workflow, error) {
	stored, secrets, doc, err := PrepareDocument(raw)
	if err != nil {
		return nil, err
	}
	w := &Workflow{Key: NewKey(), Stored: stored, Secrets: secrets, Doc: doc}
	if err := s.workflows.CreateWorkflow(ctx, w); err != nil {
		return nil, err
	}
	return w, nil
}

// UpdateWorkflow replaces the document of a workflow, saving a new
// revision; key and URL never change. A secret the document leaves out
// (an export without secrets, see KeepSecrets) keeps its stored value.
func (s *Service) UpdateWorkflow(ctx context.Context, id int64, raw []byte) (*Workflow, error) {
	cur, err := s.workflows.GetWorkflow(ctx, id)
	if err != nil {
		return nil, err
	}
	stored, secrets, doc, err := PrepareDocument(KeepSecrets(raw, cur.Secrets))
	if err != nil {
		return nil, err
	}
	w := &Workflow{ID: id, Key: cur.Key, Stored: stored, Secrets: secrets, Doc: doc, CreatedAt: cur.CreatedAt}
	if err := s.workflows.UpdateWorkflow(ctx, w); err != nil {
		return nil, err
	}
	s.forget(cur.Key)
	return w, nil
}

// DeleteWorkflow deletes a workflow and its executions.
func (s *Service) DeleteWorkflow(ctx context.Context, id int64) error {
	cur, err := s.workflows.GetWorkflow(ctx, id)
	if err != nil {
		return err
	}
	if err := s.workflows.DeleteWorkflow(ctx, id); err != nil {
		return err
	}
	s.forget(cur.Key)
	s.obs.WorkflowDeleted(id)
	return nil
}

// GetWorkflow returns the current revision of a workflow.
func (s *Service) GetWorkflow(ctx context.Context, id int64) (*Workflow, error) {
	return s.workflows.GetWorkflow(ctx, id)
}

// GetRevision returns one revision of a workflow.
func (s *Service) GetRevision(ctx context.Context, id int64, rev int) (*Workflow, error) {
	return s.workflows.GetRevision(ctx, id, rev)
}

// ListRevisions lists a workflow's revisions, newest first.
func (s *Service) ListRevisions(ctx context.Context, id int64) ([]RevisionInfo, error) {
	return s.workflows.ListRevisions(ctx, id)
}

// ListWorkflows lists every workflow with its execution summary.
func (s *Service) ListWorkflows(ctx context.Context) ([]WorkflowSummary, error) {
	return s.workflows.ListWorkflows(ctx)
}

// GetExecution returns one execution.
func (s *Service) GetExecution(ctx context.Context, id int64) (*Execution, error) {
	return s.executions.GetExecution(ctx, id)
}

// ListExecutions lists executions of a workflow, newest first.
func (s *Service) ListExecutions(ctx context.Context, f ExecutionFilter) ([]*Execution, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, Errorf(EINVALID, "status: unknown status %q", f.Status)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 1000 {
		return nil, Errorf(EINVALID, "limit: at most 1000")
	}
	return s.executions.ListExecutions(ctx, f)
}

func (s *Service) forget(key string) {
	s.mu.Lock()
	if lf := s.cache[key]; lf != nil {
		s.cacheCost -= lf.cost
		delete(s.cache, key)
	}
	s.gen++
	s.mu.Unlock()
}

// live returns the compiled current revision of the workflow with key.
func (s *Service) live(ctx context.Context, key string) (*liveFlow, error) {
	off := s.cacheOff.Load()
	s.mu.RLock()
	lf, gen := s.cache[key], s.gen
	s.mu.RUnlock()
	if lf != nil && !off {
		return lf, nil
	}
	w, err := s.workflows.GetWorkflowByKey(ctx, key)
	if err != nil {
		return nil, err
	}
	f, err := Compile(w.Doc)
	if err != nil {
		return nil, err
	}
	tr, err := compileTrust(w.Doc)
	if err != nil {
		return nil, err
	}
	lf = &liveFlow{wf: w, flow: f, trust: tr, cost: flowCost(w), rec: s.obs.Webhook(w.ID, w.Doc.Mode)}
	// The cached flows run from the compiled flow: the stored JSON, the
	// nodes' raw configs and the trigger's samples are not needed again
	// (with 10,000 workflows they are tens of megabytes of heap).
	w.Stored = nil
	w.Doc.forCache()
	if ba := w.Doc.Trigger.BasicAuth; ba.Enabled {
		lf.authSum = sha256.Sum256([]byte(ba.Username + ":" + ba.Password))
	}
	s.mu.Lock()
	if s.gen == gen && s.cache[key] == nil && !off {
		// Bounded memory with many workflows: drop arbitrary entries (map
		// order is random), which later requests compile again.
		for k, old := range s.cache {
			if s.cacheCost+lf.cost <= s.cacheBudget {
				break
			}
			s.cacheCost -= old.cost
			delete(s.cache, k)
		}
		s.cache[key] = lf
		s.cacheCost += lf.cost
	}
	s.mu.Unlock()
	if !f.Pure {
		// Its executions go to the runner, which looks the revision up.
		s.revMu.Lock()
		s.revCache[revKey{w.ID, w.Revision}] = &revFlow{wf: w, flow: f}
		s.revMu.Unlock()
	}
	return lf, nil
}

type revFlow struct {
	wf   *Workflow
	flow *Flow
}

// flowFor returns the compiled flow of any revision, for the runner.
func (s *Service) flowFor(ctx context.Context, id int64, rev int) (*revFlow, error) {
	k := revKey{id, rev}
	s.revMu.Lock()
	rf := s.revCache[k]
	s.revMu.Unlock()
	if rf != nil {
		return rf, nil
	}
	w, err := s.workflows.GetRevision(ctx, id, rev)
	if err != nil {
		return nil, err
	}
	f, err := Compile(w.Doc)
	if err != nil {
		return nil, err
	}
	rf = &revFlow{wf: w, flow: f}
	s.revMu.Lock()
	if len(s.revCache) >= maxCachedRevisions {
		clear(s.revCache)
	}
	s.revCache[k] = rf
	s.revMu.Unlock()
	return rf, nil
}

// maxLiveFlowBytes bounds the estimated memory of the cache of compiled
// current revisions: about 13,500 flows of the benchmark's size.
const maxLiveFlowBytes = 64 << 20

// maxCachedRevisions bounds the runner's cache of compiled revisions.
const maxCachedRevisions = 4096

// errNoWorkflow answers unknown keys and disabled workflows alike, so that
// the public endpoint tells a caller nothing about which keys exist.
var errNoWorkflow = &Error{Code: ENOTFOUND, Message: "no enabled workflow at this URL"}

// Credentials are what the caller sent in an Authorization: Basic header.
type Credentials struct {
	Username, Password string
	Present            bool
}

// TriggerResult is the reply to a webhook request.
type TriggerResult struct {
	Response    *Response
	ExecutionID int64
	Status      ExecStatus
	// NotStored is set when a sync execution ran but could not be stored.
	NotStored bool
	// DuplicateOf is set when the request's dedupe key was received
	// already (§12): the execution whose reply Response repeats.
	DuplicateOf int64
	// Recorder records the request in the workflow's metrics, once its
	// reply is sent.
	Recorder WebhookRecorder
}

// Trigger answers one webhook request for the workflow with key: it checks
// that the workflow exists and is enabled, that the client address is
// allowed, that the credentials match and the signature verifies (on the
// raw body, before anything is parsed), builds the trigger context, drops
// duplicates, then either stores the execution and renders the async reply,
// or runs the flow within the workflow's timeout (sync). Refused requests
// are recorded in the workflow's rejection log.
//
// Errors: ENOTFOUND (unknown or disabled); *RejectedError wrapping
// EFORBIDDEN (address), EUNAUTHORIZED (Basic Auth, signature) or EINVALID
// (bad body); *DuplicateRunningError (ECONFLICT); EINTERNAL.
func (s *Service) Trigger(ctx context.Context, key string, creds Credentials, req *Request) (*TriggerResult, error) {
	lf, err := s.live(ctx, key)
	switch ErrorCode(err) {
	case "":
	case ENOTFOUND:
		return nil, errNoWorkflow
	case EINVALID:
		// A stored document that no longer compiles is our fault.
		s.log.Error("stored workflow does not compile", "error", err)
		return nil, Errorf(EINTERNAL, "workflow cannot run")
	default:
		return nil, err
	}
	doc, tr := lf.wf.Doc, lf.trust
	if !doc.IsEnabled() {
		return nil, errNoWorkflow
	}
	if tr.allow != nil && !containsAddr(tr.allow, req.Client) {
		return nil, s.reject(ctx, lf.wf, req.Client, RejectAddress, Errorf(EFORBIDDEN, "requests from %s are not allowed for this workflow", addrText(req.Client)))
	}
	if doc.Trigger.BasicAuth.Enabled {
		sum := sha256.Sum256([]byte(creds.Username + ":" + creds.Password))
		if subtle.ConstantTimeCompare(sum[:], lf.authSum[:]) != 1 || !creds.Present {
			return nil, s.reject(ctx, lf.wf, req.Client, RejectAuth, Errorf(EUNAUTHORIZED, "valid Basic Auth credentials are required"))
		}
	}
	if tr.verifier != nil {
		// The exact bytes received: nothing is parsed before this.
		if err := tr.verifier.Verify(requestHeaders(req.Headers), req.Body, s.now()); err != nil {
			return nil, s.reject(ctx, lf.wf, req.Client, RejectSignature, Errorf(EUNAUTHORIZED, "%s", err.Error()))
		}
	}
	if doc.Trigger.BasicAuth.Enabled {
		redactAuthorization(req)
	}
	if tr.tokenHeader != "" {
		redactHeader(req, tr.tokenHeader)
	}
	context, err := BuildContext(req)
	if err != nil {
		var e *Error
		if asError(err, &e) && (e.Code == EINVALID || e.Code == ETOOLARGE) {
			reason := RejectParse
			if e.Code == ETOOLARGE {
				reason = RejectSize
			}
			return nil, s.reject(ctx, lf.wf, req.Client, reason, e)
		}
		return nil, err
	}
	e := &Execution{
		ID: s.ids.Next(), WorkflowID: lf.wf.ID, Revision: lf.wf.Revision, Mode: doc.Mode,
		Request: *req, Context: context, CreatedAt: s.now(),
	}
	e.Dedupe = s.dedupeClaim(lf, e)
	var res *TriggerResult
	if doc.Mode == ModeAsync {
		res, err = s.accept(ctx, lf, e)
	} else {
		res, err = s.runSync(ctx, lf, e)
	}
	if res != nil {
		res.Recorder = lf.rec
	}
	return res, err
}

// addrText is a client address as messages show it.
func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return "an unknown address"
	}
	return a.String()
}

// requestHeaders looks request headers up by name, case-insensitively, as
// engine/verify reads them: a header sent several times gives its values
// joined with ", ", as in $context.headers.
type requestHeaders []HeaderValue

// Get implements verify.Headers.
func (h requestHeaders) Get(name string) string {
	value, n := "", 0
	for _, hv := range h {
		if strings.EqualFold(hv.Name, name) {
			if n > 0 {
				value += ", "
			}
			value += hv.Value
			n++
		}
	}
	return value
}

// redactedAuthorization replaces the Authorization header of a request
// whose Basic Auth credentials were checked: they are the webhook's secret,
// which is stored encrypted, and must not sit in clear in every execution.
const redactedAuthorization = "Basic [redacted]"

func redactAuthorization(req *Request) {
	for i := range req.Headers {
		if strings.EqualFold(req.Headers[i].Name, "Authorization") {
			req.Headers[i].Value = redactedAuthorization
		}
	}
}

// redactHeader replaces the value of a header that carried a secret: the
// token of a token verification (GitLab's X-Gitlab-Token is the secret
// itself), which is stored encrypted and must not sit in clear in every
// execution. Signatures of the other types stay: they are no secret.
func redactHeader(req *Request, name string) {
	for i := range req.Headers {
		if strings.EqualFold(req.Headers[i].Name, name) {
			req.Headers[i].Value = "[redacted]"
		}
	}
}

// accept stores an async execution and renders the trigger's reply; the
// row is durable before the reply either way.
//
// A pure flow (PureKind nodes only) runs first, for at most about
// inlineBudget, and the execution is stored finished: one write, and
// nothing left for the runner. It never changes the reply, which comes from
// the trigger alone. A flow that is not pure, or that needs longer, is
// stored for the runner: leased to this process (running) and started at
// once when the runner has a free slot, which saves the claim, or queued
// for the next claim otherwise. A crash leaves such a row to whoever claims
// it when its lease expires.
func (s *Service) accept(ctx context.Context, lf *liveFlow, e *Execution) (*TriggerResult, error) {
	if lf.flow.Pure && s.runInline(ctx, lf, e) {
		if err := s.executions.InsertExecution(ctx, e, "", time.Time{}); err != nil {
			if dup := asDuplicate(err); dup != nil {
				return s.duplicateAsync(lf, e, dup.Holder), nil
			}
			return nil, err
		}
		s.finished(e)
		return &TriggerResult{Response: s.asyncReply(lf, e), ExecutionID: e.ID, Status: e.Status}, nil
	}
	direct := s.runner != nil && s.runner.tryAcquire()
	var leaseUntil time.Time
	if direct {
		e.Status, e.StartedAt, e.Attempts = StatusRunning, s.now(), 1
		leaseUntil = time.Now().Add(s.lease)
	} else {
		e.Status = StatusQueued
	}
	if err := s.executions.InsertExecution(ctx, e, s.owner, leaseUntil); err != nil {
		if direct {
			s.runner.release(1)
		}
		if dup := asDuplicate(err); dup != nil {
			return s.duplicateAsync(lf, e, dup.Holder), nil
		}
		return nil, err
	}
	resp := s.asyncReply(lf, e)
	// Start only after the reply is rendered: from here on the runner owns
	// e.
	if direct {
		s.runner.start(e)
	} else {
		s.notify()
	}
	return &TriggerResult{Response: resp, ExecutionID: e.ID, Status: StatusQueued}, nil
}

// inlineBudget bounds how long a pure async flow may hold its request's
// reply. Conditions, responses and end nodes take microseconds; a flow that
// needs longer (huge bodies, thousands of rules) is stopped at its next
// rule or node past the budget and runs again, from its first node, in the
// worker pool. One rule is not interrupted: a rule over a body of
// megabytes may overrun the budget by the milliseconds it takes.
const inlineBudget = 20 * time.Millisecond

// runInline runs a pure async flow before its execution is stored and
// fills in the outcome. It returns false, leaving e as it was, when the flow
// did not finish within the budget.
func (s *Service) runInline(ctx context.Context, lf *liveFlow, e *Execution) bool {
	runCtx, cancel := context.WithTimeout(ctx, min(inlineBudget, lf.wf.Doc.Timeout()))
	defer cancel()
	start := s.now()
	r := lf.flow.Run(runCtx, s.scope(lf.wf, e))
	s.logPanic(&r, e)
	if r.Status == StatusAborted {
		return false
	}
	e.Status, e.Jobs, e.Error, e.Response = r.Status, r.Jobs, r.Error, r.Response
	e.StartedAt, e.FinishedAt, e.Attempts = start, s.now(), 1
	return true
}

// asyncReply renders the trigger's reply. Its scope holds the context and
// system values only, whether or not the flow ran already, so that the
// reply never depends on how the flow was run.
func (s *Service) asyncReply(lf *liveFlow, e *Execution) *Response {
	if r := lf.flow.Reply.Fixed(); r != nil {
		return r // no scope to build
	}
	resp, err := lf.flow.Reply.Render(s.scope(lf.wf, e))
	if err != nil {
		// The request is stored and will run; answer the default.
		s.log.Warn("render async reply", "workflow_id", lf.wf.ID, "execution_id", e.ID, "error", err)
		return DefaultResponse()
	}
	return resp
}

// runSync runs a sync flow inside its request and stores the execution.
// Request nodes call out in place, retrying within the workflow's timeout.
// A response node with "continue" ends the request's part: the execution so
// far is stored (leased to this process, or queued), the reply is sent,
// and the rest of the flow runs in the background like an async one.
func (s *Service) runSync(ctx context.Context, lf *liveFlow, e *Execution) (*TriggerResult, error) {
	if c := e.Dedupe; c != nil && !lf.flow.Pure {
		// A flow with effects must not run twice: claim the key first, for
		// as long as the run may take; the window starts once it is stored.
		window := c.ExpiresAt
		c.ExpiresAt = e.CreatedAt.Add(lf.wf.Doc.Timeout() + dedupePendingMargin)
		holder, err := s.executions.ClaimDedupeKey(ctx, c, e.CreatedAt)
		if err != nil {
			return nil, err
		}
		if !holder.Claimed {
			return duplicateSync(holder)
		}
		c.Claimed, c.ExpiresAt = true, window
	}
	runCtx, cancel := context.WithTimeout(ctx, lf.wf.Doc.Timeout())
	defer cancel()
	e.Status = StatusRunning
	e.StartedAt = s.now()
	e.Attempts = 1
	sc := s.scope(lf.wf, e)
	sc.Env = s.envInline
	r := lf.flow.RunFrom(runCtx, sc, RunOptions{StopAtContinue: true})
	s.logPanic(&r, e)
	e.Status, e.Jobs, e.Error = r.Status, r.Jobs, r.Error
	resp := r.Response
	switch {
	case resp != nil:
	case r.Status == StatusResolved:
		resp = DefaultResponse()
	case r.Status == StatusAborted:
		resp = ErrorResponse(504, r.Error)
	default:
		resp = ErrorResponse(500, r.Error)
	}
	e.Response = resp
	if r.Continue {
		return s.continueSync(ctx, e, resp)
	}
	e.FinishedAt = s.now()
	s.finished(e)
	res := &TriggerResult{Response: resp, ExecutionID: e.ID, Status: e.Status}
	// Group commit in the store makes this wait short; a record that cannot
	// be stored must not change the reply the flow decided, but the reply
	// says so.
	if err := s.executions.InsertExecution(context.WithoutCancel(ctx), e, "", time.Time{}); err != nil {
		if dup := asDuplicate(err); dup != nil {
			// A pure flow ran beside the first request with this key:
			// its result is dropped, and the first one's reply repeated.
			return duplicateSync(dup.Holder)
		}
		s.log.Error("store sync execution", "workflow_id", e.WorkflowID, "execution_id", e.ID, "error", err)
		res.NotStored = true
		s.releaseDedupe(ctx, e)
	}
	return res, nil
}

// asDuplicate returns the *DuplicateError in err's chain, or nil.
func asDuplicate(err error) *DuplicateError {
	var dup *DuplicateError
	if asError(err, &dup) {
		return dup
	}
	return nil
}

// releaseDedupe frees the dedupe key a sync execution claimed when the
// execution could not be stored: a retry of the request may run again.
func (s *Service) releaseDedupe(ctx context.Context, e *Execution) {
	if c := e.Dedupe; c != nil && c.Claimed {
		if err := s.executions.ReleaseDedupeKey(context.WithoutCancel(ctx), c); err != nil {
			s.log.Warn("release dedupe key", "workflow_id", e.WorkflowID, "execution_id", e.ID, "error", err)
		}
	}
}

// continueSync stores a sync execution that responded and goes on, then
// starts (or queues) the rest of its flow. The reply is sent only once the
// row is durable, so that the work it promises is never lost.
func (s *Service) continueSync(ctx context.Context, e *Execution, resp *Response) (*TriggerResult, error) {
	direct := s.runner != nil && s.runner.tryAcquire()
	var leaseUntil time.Time
	if direct {
		leaseUntil = time.Now().Add(s.lease)
	} else {
		e.Status = StatusQueued
	}
	if err := s.executions.InsertExecution(context.WithoutCancel(ctx), e, s.owner, leaseUntil); err != nil {
		if direct {
			s.runner.release(1)
		}
		if dup := asDuplicate(err); dup != nil {
			return duplicateSync(dup.Holder)
		}
		s.releaseDedupe(ctx, e)
		// The caller is told to try again: the work after the reply could
		// not be made durable.
		return nil, err
	}
	if direct {
		s.runner.start(e)
	} else {
		s.notify()
	}
	return &TriggerResult{Response: resp, ExecutionID: e.ID, Status: StatusRunning}, nil
}

func (s *Service) scope(w *Workflow, e *Execution) *Scope {
	sc := NewScope(e.Context)
	sc.RawBody = e.Request.Body
	sc.ExecutionID, sc.WorkflowID, sc.WorkflowKey, sc.Revision, sc.Now = e.ID, w.ID, w.Key, e.Revision, s.now()
	return sc
}

func (s *Service) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// DefaultResponse is the reply when nothing else decides: 200 "ok".
func DefaultResponse() *Response {
	return &Response{Status: 200, ContentType: "text/plain; charset=utf-8", Body: []byte("ok")}
}

// ErrorResponse is a reply in the JSON error format of product.md §2.
func ErrorResponse(status int, message string) *Response {
	b := append([]byte(`{"errors":[{"message":`), nil...)
	b = AppendJSONString(b, message)
	b = append(b, "}]}"...)
	return &Response{Status: status, ContentType: "application/json", Body: b}
}

// logPanic logs a node's panic (a bug) once, where the run's outcome is
// handled; the execution itself ends as error.
func (s *Service) logPanic(r *RunResult, e *Execution) {
	if r.Panic == nil {
		return
	}
	args := append([]any{"workflow_id", e.WorkflowID, "execution_id", e.ID}, r.Panic.LogAttrs()...)
	s.log.Error("a node panicked", args...)
}

// forCache drops from a compiled document what only compiling and editing
// read: the nodes' raw configs and test settings, and the trigger's
// samples. A document is compiled once per revision; the cached copy then
// serves the hot path only.
func (d *Document) forCache() {
	d.Trigger.Samples = nil
	var strip func(nodes []Node)
	strip = func(nodes []Node) {
		for i := range nodes {
			nodes[i].Config, nodes[i].Test = nil, nil
			for _, b := range nodes[i].Branches {
				strip(b)
			}
		}
	}
	strip(d.Nodes)
}
