package engine

import (
	"context"
	"sort"
	"strings"

	"github.com/tidwall/gjson"
)

// TestInput is what a test run (§17) runs the workflow on: a request, a
// stored execution's request, or, when both are empty, the trigger's
// samples.
type TestInput struct {
	Request     *TestRequest
	ExecutionID int64
}

// TestRequest is a request given to a test run.
type TestRequest struct {
	Method  string
	Headers map[string]string
	Query   string
	Body    string
}

// TestResult is a test run's execution and the reply the caller would
// have got: the flow's reply (sync) or the trigger's (async).
type TestResult struct {
	Execution *Execution
	Response  *Response
}

// Test runs the current revision of a workflow on an input, without any
// effect outside it (§17): authentication, verification and deduplication
// are not applied; request nodes are not sent unless their test setting
// says to (then they are, with retries within the workflow's timeout); a
// pinned reply stands in for a call; delays do not wait. The execution is
// not stored: a test run is an editor's question, and its answer is the
// reply, while the executions list stays the record of real traffic (and
// dedupe, bulk replay, retention and metrics never see a test).
func (s *Service) Test(ctx context.Context, workflowID int64, in TestInput) (*TestResult, error) {
	w, err := s.workflows.GetWorkflow(ctx, workflowID)
	if err != nil {
		return nil, err
	}
	rf, err := s.flowFor(ctx, w.ID, w.Revision)
	if err != nil {
		return nil, err
	}
	req, err := s.testRequest(ctx, w, in)
	if err != nil {
		return nil, err
	}
	tc, err := BuildContext(req)
	if err != nil {
		return nil, err
	}
	e := &Execution{
		ID: s.ids.Next(), WorkflowID: w.ID, Revision: w.Revision, Mode: w.Doc.Mode, Test: true,
		Request: *req, Context: tc, CreatedAt: s.now(), StartedAt: s.now(), Attempts: 1,
	}
	runCtx, cancel := context.WithTimeout(ctx, w.Doc.Timeout())
	defer cancel()
	sc := s.scope(w, e)
	sc.Env = &RunEnv{Outbound: s.env.Outbound, UserAgent: s.env.UserAgent, Inline: true, Test: true}
	r := rf.flow.RunFrom(runCtx, sc, RunOptions{})
	s.logPanic(&r, e)
	e.Status, e.Jobs, e.Error, e.FinishedAt = r.Status, r.Jobs, r.Error, s.now()
	res := &TestResult{Execution: e}
	if w.Doc.Mode == ModeAsync {
		reply, err := rf.flow.Reply.Render(s.scope(w, e))
		if err != nil {
			reply = DefaultResponse()
		}
		res.Response = reply
		return res, nil
	}
	switch {
	case r.Response != nil:
		res.Response = r.Response
	case r.Status == StatusResolved:
		res.Response = DefaultResponse()
	case r.Status == StatusAborted:
		res.Response = ErrorResponse(504, r.Error)
	default:
		res.Response = ErrorResponse(500, r.Error)
	}
	e.Response = res.Response
	return res, nil
}

// testRequest is the request a test run runs on.
func (s *Service) testRequest(ctx context.Context, w *Workflow, in TestInput) (*Request, error) {
	switch {
	case in.Request != nil && in.ExecutionID != 0:
		return nil, Errorf(EINVALID, "give a request or an executionId, not both")
	case in.Request != nil:
		return in.Request.build(), nil
	case in.ExecutionID != 0:
		x, err := s.executions.GetExecution(ctx, in.ExecutionID)
		if err != nil {
			return nil, err
		}
		if x.WorkflowID != w.ID {
			return nil, Errorf(ENOTFOUND, "executionId: execution %d is not one of this workflow's", in.ExecutionID)
		}
		req := x.Request
		// Stored executions keep their headers in the context only.
		req.Headers = nil
		gjson.GetBytes(x.Context, "headers").ForEach(func(k, v gjson.Result) bool {
			req.Headers = append(req.Headers, HeaderValue{Name: k.Str, Value: v.Str})
			return true
		})
		return &req, nil
	}
	sm := w.Doc.Trigger.Samples
	if sm == nil || (sm.Body == "" && sm.Query == "" && len(sm.Headers) == 0) {
		return nil, Errorf(EINVALID, "the trigger has no samples: paste a sample request in the trigger panel, or send a request or an executionId")
	}
	return (&TestRequest{Method: "POST", Headers: sm.Headers, Query: sm.Query, Body: sm.Body}).build(), nil
}

// build makes a Request of a test request: POST by default, headers in
// name order, and a JSON content type for a body that looks like JSON when
// none is given.
func (t *TestRequest) build() *Request {
	req := &Request{Method: strings.ToUpper(strings.TrimSpace(t.Method)), Query: strings.TrimPrefix(t.Query, "?"), Body: []byte(t.Body)}
	if req.Method == "" {
		req.Method = "POST"
	}
	names := make([]string, 0, len(t.Headers))
	for k := range t.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		req.Headers = append(req.Headers, HeaderValue{Name: k, Value: t.Headers[k]})
	}
	if req.ContentType() == "" {
		if b := strings.TrimSpace(t.Body); strings.HasPrefix(b, "{") || strings.HasPrefix(b, "[") {
			req.Headers = append(req.Headers, HeaderValue{Name: "content-type", Value: "application/json"})
		}
	}
	return req
}
