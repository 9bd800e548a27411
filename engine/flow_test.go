package engine

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// example9Doc is the workflow document of product.md §9, as written.
var example9Doc = readSection9("testdata/section9.json")

// Test-only node kinds: "test-sleep" waits until its context is done, and
// "test-fail" fails with a safe message ("boom") or, with config "internal",
// with an error whose details must not leak.
func init() {
	RegisterNodeKind("test-sleep", flowTestSleepKind{})
	RegisterNodeKind("test-fail", flowTestFailKind{})
}

type flowTestSleepKind struct{}

func (flowTestSleepKind) Compile(*Node, CompileEnv) (Step, error) { return flowTestSleepStep{}, nil }

type flowTestSleepStep struct{}

func (flowTestSleepStep) Branches() []string { return nil }
func (flowTestSleepStep) Run(ctx context.Context, _ *Scope) (Outcome, error) {
	<-ctx.Done()
	return Outcome{}, ctx.Err()
}

type flowTestFailKind struct{}

func (flowTestFailKind) Compile(n *Node, _ CompileEnv) (Step, error) {
	return flowTestFailStep{internal: string(n.Config) == `"internal"`}, nil
}

type flowTestFailStep struct{ internal bool }

func (flowTestFailStep) Branches() []string { return nil }
func (s flowTestFailStep) Run(context.Context, *Scope) (Outcome, error) {
	if s.internal {
		return Outcome{}, errors.New("db: secret connection string leaked")
	}
	return Outcome{Result: []byte(`"ignored"`)}, Errorf(EINVALID, "boom")
}

// compileFlow parses and compiles a document, failing the test on error.
func compileFlow(tb testing.TB, doc string) *Flow {
	tb.Helper()
	d, err := ParseDocument([]byte(doc))
	if err != nil {
		tb.Fatalf("ParseDocument: %v", err)
	}
	f, err := Compile(d)
	if err != nil {
		tb.Fatalf("Compile: %v", err)
	}
	return f
}

// flowSyncDoc wraps a nodes array into a minimal sync document.
func flowSyncDoc(nodes string) string {
	return `{"title":"t","mode":"sync","trigger":{},"nodes":` + nodes + `}`
}

const (
	flowTrue  = `{"mode":"continue","rules":{"and":[]}}`
	flowFalse = `{"mode":"continue","rules":{"or":[]}}`
)

func flowCond(key, config string) string {
	return `{"key":"` + key + `","type":"condition","config":` + config + `}`
}

type flowWantJob struct {
	key    string
	status JobStatus
	result string
	branch string
}

func TestFlowRun(t *testing.T) {
	t.Parallel()
	orderCtx := func(status string) string {
		return `{"headers":{"x-request-id":"r1"},"query":{},"body":{"order":{"id":123,"status":"` + status + `"}}}`
	}
	branchYesNo := func(yes, no string) string {
		return `{"key":"c","type":"condition","config":{"mode":"branch","rules":{"and":[` +
			`{"left":"{{$context.body.order.status}}","op":"equal","right":"paid"}]}},` +
			`"branches":{"yes":` + yes + `,"no":` + no + `}}`
	}
	for _, tc := range []struct {
		name        string
		doc         string
		context     string
		status      ExecStatus
		errMsg      string
		jobs        []flowWantJob
		respStatus  int // 0: no response
		respBody    string
		respHeaders []HeaderValue
	}{
		{
			name: "§9 paid takes yes", doc: example9Doc, context: orderCtx("paid"),
			status:     StatusResolved,
			jobs:       []flowWantJob{{"paid", JobResolved, "true", "yes"}, {"ok", JobResolved, `{"status":200}`, ""}},
			respStatus: 200, respBody: `{"ok":true,"id":123}`, respHeaders: []HeaderValue{{"X-Order", "123"}},
		},
		{
			name: "§9 refunded takes no", doc: example9Doc, context: orderCtx("refunded"),
			status:     StatusResolved,
			jobs:       []flowWantJob{{"paid", JobResolved, "false", "no"}, {"bad", JobResolved, `{"status":422}`, ""}},
			respStatus: 422, respBody: `{"ok":false}`,
		},
		{
			name: "no nodes", doc: flowSyncDoc(`[]`), context: orderCtx("paid"),
			status: StatusResolved,
		},
		{
			name: "continue true goes on", doc: flowSyncDoc(`[` + flowCond("a", flowTrue) + `,` + flowCond("b", flowTrue) + `]`),
			context: orderCtx("paid"), status: StatusResolved,
			jobs: []flowWantJob{{"a", JobResolved, "true", ""}, {"b", JobResolved, "true", ""}},
		},
		{
			name: "continue false fails the execution", doc: flowSyncDoc(`[` + flowCond("a", flowTrue) + `,` + flowCond("b", flowFalse) + `,` + flowCond("c", flowTrue) + `]`),
			context: orderCtx("paid"), status: StatusFailed, errMsg: "workflow failed at node b",
			jobs: []flowWantJob{{"a", JobResolved, "true", ""}, {"b", JobFailed, "false", ""}},
		},
		{
			name: "end resolved stops", doc: flowSyncDoc(`[{"key":"e","type":"end","config":{"status":"resolved"}},` + flowCond("after", flowTrue) + `]`),
			context: orderCtx("paid"), status: StatusResolved,
			jobs: []flowWantJob{{"e", JobResolved, `{"status":"resolved"}`, ""}},
		},
		{
			name: "end failed", doc: flowSyncDoc(`[` + flowCond("a", flowTrue) + `,{"key":"e","type":"end","config":{"status":"failed"}},` + flowCond("after", flowTrue) + `]`),
			context: orderCtx("paid"), status: StatusFailed, errMsg: "workflow failed at node e",
			jobs: []flowWantJob{{"a", JobResolved, "true", ""}, {"e", JobFailed, `{"status":"failed"}`, ""}},
		},
		{
			name:    "end inside a branch stops the main chain",
			doc:     flowSyncDoc(`[` + branchYesNo(`[{"key":"e","type":"end","config":{"status":"failed"}}]`, `[]`) + `,` + flowCond("after", flowTrue) + `]`),
			context: orderCtx("paid"), status: StatusFailed, errMsg: "workflow failed at node e",
			jobs: []flowWantJob{{"c", JobResolved, "true", "yes"}, {"e", JobFailed, `{"status":"failed"}`, ""}},
		},
		{
			name: "first response wins",
			doc: flowSyncDoc(`[` + branchYesNo(`[{"key":"first","type":"response","config":{"status":201,"body":"first"}}]`, `[]`) + `,` +
				`{"key":"second","type":"response","config":{"status":202,"body":"second"}}]`),
			context: orderCtx("paid"), status: StatusResolved,
			jobs:       []flowWantJob{{"c", JobResolved, "true", "yes"}, {"first", JobResolved, `{"status":201}`, ""}},
			respStatus: 201, respBody: "first",
		},
		{
			name: "empty branch rejoins and reaches the later response",
			doc: flowSyncDoc(`[` + branchYesNo(`[{"key":"first","type":"response","config":{"status":201,"body":"first"}}]`, `[]`) + `,` +
				`{"key":"second","type":"response","config":{"status":202,"body":"second"}}]`),
			context: orderCtx("refunded"), status: StatusResolved,
			jobs:       []flowWantJob{{"c", JobResolved, "false", "no"}, {"second", JobResolved, `{"status":202}`, ""}},
			respStatus: 202, respBody: "second",
		},
		{
			name:    "yes branch rejoins below the node",
			doc:     flowSyncDoc(`[` + branchYesNo(`[`+flowCond("y1", flowTrue)+`,`+flowCond("y2", flowTrue)+`]`, `[`+flowCond("n1", flowTrue)+`]`) + `,` + flowCond("after", flowTrue) + `]`),
			context: orderCtx("paid"), status: StatusResolved,
			jobs: []flowWantJob{{"c", JobResolved, "true", "yes"}, {"y1", JobResolved, "true", ""}, {"y2", JobResolved, "true", ""}, {"after", JobResolved, "true", ""}},
		},
		{
			name:    "no branch rejoins below the node",
			doc:     flowSyncDoc(`[` + branchYesNo(`[`+flowCond("y1", flowTrue)+`]`, `[`+flowCond("n1", flowTrue)+`]`) + `,` + flowCond("after", flowTrue) + `]`),
			context: orderCtx("refunded"), status: StatusResolved,
			jobs: []flowWantJob{{"c", JobResolved, "false", "no"}, {"n1", JobResolved, "true", ""}, {"after", JobResolved, "true", ""}},
		},
		{
			name: "nested branches rejoin at each level",
			doc: flowSyncDoc(`[` + branchYesNo(`[{"key":"inner","type":"condition","config":{"mode":"branch","rules":{"and":[{"left":"{{$context.body.order.id}}","op":"gt","right":100}]}},`+
				`"branches":{"yes":[`+flowCond("deep", flowTrue)+`]}},`+flowCond("y2", flowTrue)+`]`, `[]`) + `,` + flowCond("after", flowTrue) + `]`),
			context: orderCtx("paid"), status: StatusResolved,
			jobs: []flowWantJob{{"c", JobResolved, "true", "yes"}, {"inner", JobResolved, "true", "yes"}, {"deep", JobResolved, "true", ""},
				{"y2", JobResolved, "true", ""}, {"after", JobResolved, "true", ""}},
		},
		{
			name: "$jobsMapByNodeKey is visible to later nodes",
			doc: flowSyncDoc(`[` + flowCond("a", flowTrue) + `,` +
				flowCond("b", `{"mode":"continue","rules":{"and":[{"left":"{{$jobsMapByNodeKey.a}}","op":"equal","right":true}]}}`) + `,` +
				`{"key":"r","type":"response","config":{"status":200,"body":{"a":"{{$jobsMapByNodeKey.a}}","b":"{{$jobsMapByNodeKey.b}}","missing":"{{$jobsMapByNodeKey.zzz}}"}}}]`),
			context: orderCtx("paid"), status: StatusResolved,
			jobs:       []flowWantJob{{"a", JobResolved, "true", ""}, {"b", JobResolved, "true", ""}, {"r", JobResolved, `{"status":200}`, ""}},
			respStatus: 200, respBody: `{"a":true,"b":true,"missing":null}`,
		},
		{
			name:    "a job result is not visible before its node ran",
			doc:     flowSyncDoc(`[` + flowCond("b", `{"mode":"continue","rules":{"and":[{"left":"{{$jobsMapByNodeKey.a}}","op":"exists"}]}}`) + `,` + flowCond("a", flowTrue) + `]`),
			context: orderCtx("paid"), status: StatusFailed, errMsg: "workflow failed at node b",
			jobs: []flowWantJob{{"b", JobFailed, "false", ""}},
		},
		{
			name:    "node error",
			doc:     flowSyncDoc(`[` + flowCond("a", flowTrue) + `,{"key":"f","type":"test-fail"},` + flowCond("after", flowTrue) + `]`),
			context: orderCtx("paid"), status: StatusError, errMsg: "workflow failed at node f",
			jobs: []flowWantJob{{"a", JobResolved, "true", ""}, {"f", JobError, "null", ""}},
		},
		{
			name:    "internal node error",
			doc:     flowSyncDoc(`[{"key":"f","type":"test-fail","config":"internal"}]`),
			context: orderCtx("paid"), status: StatusError, errMsg: "workflow failed at node f",
			jobs: []flowWantJob{{"f", JobError, "null", ""}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := compileFlow(t, tc.doc)
			r := f.Run(context.Background(), NewScope([]byte(tc.context)))
			if r.Status != tc.status || r.Error != tc.errMsg {
				t.Errorf("status %q error %q, want %q %q", r.Status, r.Error, tc.status, tc.errMsg)
			}
			if len(r.Jobs) != len(tc.jobs) {
				t.Fatalf("got %d jobs %+v, want %d", len(r.Jobs), r.Jobs, len(tc.jobs))
			}
			for i, j := range r.Jobs {
				w := tc.jobs[i]
				if j.NodeKey != w.key || j.Status != w.status || string(j.Result) != w.result || j.Branch != w.branch {
					t.Errorf("job %d: got {%s %s %s %q}, want {%s %s %s %q}", i, j.NodeKey, j.Status, j.Result, j.Branch, w.key, w.status, w.result, w.branch)
				}
				if j.StartedAt.IsZero() || j.Duration < 0 {
					t.Errorf("job %d: start %v duration %v", i, j.StartedAt, j.Duration)
				}
				if !json.Valid(j.Result) {
					t.Errorf("job %d: result %q is not JSON", i, j.Result)
				}
			}
			if tc.respStatus == 0 {
				if r.Response != nil {
					t.Errorf("unexpected response %d %q", r.Response.Status, r.Response.Body)
				}
				return
			}
			if r.Response == nil {
				t.Fatalf("no response, want %d", tc.respStatus)
			}
			if r.Response.Status != tc.respStatus || string(r.Response.Body) != tc.respBody {
				t.Errorf("response %d %q, want %d %q", r.Response.Status, r.Response.Body, tc.respStatus, tc.respBody)
			}
			if len(r.Response.Headers) != len(tc.respHeaders) {
				t.Fatalf("response headers %v, want %v", r.Response.Headers, tc.respHeaders)
			}
			for i, h := range tc.respHeaders {
				if r.Response.Headers[i] != h {
					t.Errorf("response header %d: %v, want %v", i, r.Response.Headers[i], h)
				}
			}
		})
	}
}

func TestFlowRunErrorJobs(t *testing.T) {
	t.Parallel()
	f := compileFlow(t, flowSyncDoc(`[{"key":"f","type":"test-fail"}]`))
	r := f.Run(context.Background(), NewScope([]byte(`{}`)))
	if len(r.Jobs) != 1 || r.Jobs[0].Error != "boom" || r.Jobs[0].NodeType != "test-fail" {
		t.Errorf("jobs %+v, want one test-fail job with error boom", r.Jobs)
	}
	f = compileFlow(t, flowSyncDoc(`[{"key":"f","type":"test-fail","config":"internal"}]`))
	r = f.Run(context.Background(), NewScope([]byte(`{}`)))
	if len(r.Jobs) != 1 || r.Jobs[0].Error != "internal error" {
		t.Errorf("jobs %+v, want the internal error hidden", r.Jobs)
	}
	if strings.Contains(r.Error, "secret") {
		t.Errorf("error %q leaks details", r.Error)
	}
}

func TestFlowRunTimeout(t *testing.T) {
	t.Parallel()
	f := compileFlow(t, flowSyncDoc(`[`+flowCond("a", flowTrue)+`,{"key":"s","type":"test-sleep"},`+flowCond("after", flowTrue)+`]`))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := f.Run(ctx, NewScope([]byte(`{}`)))
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("run took %v after a 20ms timeout", d)
	}
	if r.Status != StatusAborted || r.Error != "workflow timed out at node s" {
		t.Errorf("status %q error %q, want aborted, workflow timed out at node s", r.Status, r.Error)
	}
	if len(r.Jobs) != 2 || r.Jobs[0].Status != JobResolved || r.Jobs[1].NodeKey != "s" || r.Jobs[1].Status != JobAborted || string(r.Jobs[1].Result) != "null" {
		t.Errorf("jobs %+v, want a resolved and an aborted s", r.Jobs)
	}
	if r.Response != nil {
		t.Errorf("unexpected response %+v", r.Response)
	}

	// A context already done stops before the first node: no job ran.
	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	r = f.Run(done, NewScope([]byte(`{}`)))
	if r.Status != StatusAborted || r.Error != "workflow timed out before node a" || len(r.Jobs) != 0 {
		t.Errorf("done context: status %q error %q jobs %d", r.Status, r.Error, len(r.Jobs))
	}
}

// TestFlowConcurrentRuns runs one compiled flow from many goroutines: a
// Flow is shared by every execution of a revision (run with -race).
func TestFlowConcurrentRuns(t *testing.T) {
	t.Parallel()
	f := compileFlow(t, example9Doc)
	errs := make(chan string, 64)
	for i := range 64 {
		go func() {
			status, want := "paid", `{"ok":true,"id":`+itoa(i)+`}`
			if i%2 == 1 {
				status, want = "refunded", `{"ok":false}`
			}
			r := f.Run(context.Background(), NewScope([]byte(`{"headers":{},"query":{},"body":{"order":{"id":`+itoa(i)+`,"status":"`+status+`"}}}`)))
			if r.Response == nil || string(r.Response.Body) != want {
				errs <- "run " + itoa(i) + ": got " + string(r.Response.Body) + ", want " + want
				return
			}
			errs <- ""
		}()
	}
	for range 64 {
		if msg := <-errs; msg != "" {
			t.Error(msg)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	node := func(key string) string { return flowCond(key, flowTrue) }
	many := make([]string, MaxNodes+1)
	for i := range many {
		many[i] = node("n" + itoa(i))
	}
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"unknown operator", flowSyncDoc(`[{"key":"c","type":"condition","config":{"mode":"branch","rules":{"and":[` +
			`{"left":"a","op":"equal","right":"a"},{"left":"a","op":"bogus","right":"b"}]}}}]`),
			`nodes[0].config.rules.and[1].op: unknown operator "bogus"`},
		{"duplicate key", flowSyncDoc(`[` + node("a") + `,` + node("a") + `]`), `nodes[1].key: duplicate node key "a"`},
		{"duplicate key across branches", flowSyncDoc(`[{"key":"c","type":"condition","config":{"mode":"branch","rules":{"and":[]}},` +
			`"branches":{"yes":[` + node("x") + `],"no":[` + node("x") + `]}}]`), `nodes[0].branches.no[0].key: duplicate node key "x"`},
		{"duplicate of a later main-chain key", flowSyncDoc(`[{"key":"c","type":"condition","config":{"mode":"branch","rules":{"and":[]}},` +
			`"branches":{"yes":[` + node("x") + `]}},` + node("x") + `]`), `nodes[1].key: duplicate node key "x"`},
		{"missing key", flowSyncDoc(`[{"type":"end"}]`), `nodes[0].key: required`},
		{"bad key", flowSyncDoc(`[{"key":"1a","type":"end"}]`), `nodes[0].key: "1a" must start with a letter or _ and hold only letters, digits, _ and -`},
		{"long key", flowSyncDoc(`[{"key":"` + strings.Repeat("k", MaxNodeKeyLength+1) + `","type":"end"}]`), `nodes[0].key: longer than 64 characters`},
		{"unknown type", flowSyncDoc(`[{"key":"a","type":"nope"}]`), `nodes[0].type: unknown node type "nope"`},
		{"missing type", flowSyncDoc(`[{"key":"a"}]`), `nodes[0].type: unknown node type ""`},
		{"response in async", `{"title":"t","mode":"async","trigger":{},"nodes":[{"key":"r","type":"response","config":{"status":200}}]}`,
			`nodes[0].type: response nodes are only allowed in sync workflows`},
		{"response in an async branch", `{"title":"t","mode":"async","trigger":{},"nodes":[{"key":"c","type":"condition","config":{"mode":"branch","rules":{"and":[]}},` +
			`"branches":{"yes":[{"key":"r","type":"response","config":{"status":200}}]}}]}`,
			`nodes[0].branches.yes[0].type: response nodes are only allowed in sync workflows`},
		{"branches on continue", flowSyncDoc(`[{"key":"c","type":"condition","config":` + flowTrue + `,"branches":{"yes":[]}}]`),
			`nodes[0].branches: a condition node in this mode has no branches`},
		{"branches on end", flowSyncDoc(`[{"key":"e","type":"end","branches":{"yes":[]}}]`),
			`nodes[0].branches: a`},
		{"unknown branch", flowSyncDoc(`[{"key":"c","type":"condition","config":{"mode":"branch","rules":{"and":[]}},"branches":{"maybe":[]}}]`),
			`nodes[0].branches.maybe: unknown branch (expected one of [yes no])`},
		{"too many nodes", flowSyncDoc(`[` + strings.Join(many, ",") + `]`), `nodes[200]: more than 200 nodes in the workflow`},
		{"too deep", flowSyncDoc(flowNested(MaxNodeDepth + 1)), ": branches nested deeper than 16 levels"},
		{"condition mode", flowSyncDoc(`[{"key":"c","type":"condition","config":{"mode":"maybe","rules":{"and":[]}}}]`),
			`nodes[0].config.mode: must be "branch" or "continue"`},
		{"bad regexp", flowSyncDoc(`[{"key":"c","type":"condition","config":{"mode":"continue","rules":{"or":[{"left":"a","op":"matches","right":"("}]}}}]`),
			`nodes[0].config.rules.or[0].right: invalid regular expression`},
		{"end status", flowSyncDoc(`[{"key":"e","type":"end","config":{"status":"done"}}]`), `nodes[0].config.status: must be "resolved" or "failed"`},
		{"response status", flowSyncDoc(`[{"key":"r","type":"response","config":{"status":100}}]`), `nodes[0].config.status: must be between 200 and 599, got 100`},
		{"response header name", flowSyncDoc(`[{"key":"r","type":"response","config":{"status":200,"headers":[{"name":"X Bad","value":"1"}]}}]`),
			`nodes[0].config.headers[0].name: "X Bad" is not a valid header name`},
		{"response header line break", flowSyncDoc(`[{"key":"r","type":"response","config":{"status":200,"headers":[{"name":"X-A","value":"a\r\nSet-Cookie: x"}]}}]`),
			`nodes[0].config.headers[0].value: must not contain line breaks`},
		{"trigger reply header name", `{"title":"t","mode":"async","trigger":{"response":{"status":200,"headers":[{"name":"1X","value":"v"}]}},"nodes":[]}`,
			`trigger.response.headers[0].name: "1X" is not a valid header name`},
		{"trigger reply status", `{"title":"t","mode":"async","trigger":{"response":{"status":99}},"nodes":[]}`,
			`trigger.response.status: must be between 200 and 599, got 99`},
		{"title missing", `{"mode":"sync","trigger":{},"nodes":[]}`, `title: required`},
		{"title blank", `{"title":"   ","mode":"sync","trigger":{},"nodes":[]}`, `title: required`},
		{"title too long", `{"title":"` + strings.Repeat("é", MaxTitleLength+1) + `","mode":"sync","trigger":{},"nodes":[]}`, `title: longer than 200 characters`},
		{"mode missing", `{"title":"t","trigger":{},"nodes":[]}`, `mode: must be "sync" or "async", got ""`},
		{"mode wrong", `{"title":"t","mode":"Sync","trigger":{},"nodes":[]}`, `mode: must be "sync" or "async", got "Sync"`},
		{"timeout negative", `{"title":"t","mode":"sync","timeoutSeconds":-1,"trigger":{},"nodes":[]}`, `timeoutSeconds: must be between 1 and 300`},
		{"timeout too long", `{"title":"t","mode":"sync","timeoutSeconds":301,"trigger":{},"nodes":[]}`, `timeoutSeconds: must be between 1 and 300`},
		{"basic auth username", `{"title":"t","mode":"sync","trigger":{"basicAuth":{"enabled":true,"password":"p"}},"nodes":[]}`,
			`trigger.basicAuth.username: required when Basic Auth is enabled`},
		{"basic auth colon", `{"title":"t","mode":"sync","trigger":{"basicAuth":{"enabled":true,"username":"a:b","password":"p"}},"nodes":[]}`,
			`trigger.basicAuth.username: must not contain a colon`},
		{"basic auth password", `{"title":"t","mode":"sync","trigger":{"basicAuth":{"enabled":true,"username":"u"}},"nodes":[]}`,
			`trigger.basicAuth.password: required when Basic Auth is enabled`},
		{"field path", `{"title":"t","mode":"sync","trigger":{"body":[{"path":""}]},"nodes":[]}`, `trigger.body[0].path: required`},
		{"duplicate header field", `{"title":"t","mode":"sync","trigger":{"headers":[{"path":"X-A"},{"path":"x-a"}]},"nodes":[]}`,
			`trigger.headers[1].path: duplicate path "x-a"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var d Document
			if err := json.Unmarshal([]byte(tc.doc), &d); err != nil {
				t.Fatalf("test document: %v", err)
			}
			_, err := Compile(&d)
			if err == nil {
				t.Fatalf("Compile succeeded, want %q", tc.want)
			}
			if ErrorCode(err) != EINVALID {
				t.Errorf("code %q, want %q", ErrorCode(err), EINVALID)
			}
			msg := ErrorMessage(err)
			if strings.HasPrefix(tc.want, ": ") {
				if !strings.HasSuffix(msg, tc.want) || !strings.HasPrefix(msg, "nodes[0].branches.yes[0]") {
					t.Errorf("message %q, want a field path ending in %q", msg, tc.want)
				}
			} else if !strings.HasPrefix(msg, tc.want) {
				t.Errorf("message %q, want %q", msg, tc.want)
			}
			// ParseDocument reports the same message.
			if _, err := ParseDocument([]byte(tc.doc)); ErrorMessage(err) != msg {
				t.Errorf("ParseDocument: %v, want %q", err, msg)
			}
		})
	}
}

// flowNested returns a nodes array whose branch-mode conditions nest
// depth levels deep; the deepest node is an end node.
func flowNested(depth int) string {
	s := `[{"key":"n` + itoa(depth) + `","type":"end"}]`
	for i := depth - 1; i >= 1; i-- {
		s = `[{"key":"n` + itoa(i) + `","type":"condition","config":{"mode":"branch","rules":{"and":[]}},"branches":{"yes":` + s + `}}]`
	}
	return s
}

func TestCompileLimitsAccepted(t *testing.T) {
	t.Parallel()
	nodes := make([]string, MaxNodes)
	for i := range nodes {
		nodes[i] = flowCond("n"+itoa(i), flowTrue)
	}
	for name, doc := range map[string]string{
		"max nodes": flowSyncDoc(`[` + strings.Join(nodes, ",") + `]`),
		"max depth": flowSyncDoc(flowNested(MaxNodeDepth)),
		"max depth, a condition at the bottom": flowSyncDoc(strings.Replace(flowNested(MaxNodeDepth),
			`{"key":"n16","type":"end"}`, `{"key":"n16","type":"condition","config":{"mode":"branch","rules":{"and":[]}}}`, 1)),
		"empty nodes": `{"title":"t","mode":"async","trigger":{},"nodes":[]}`,
		"no nodes":    `{"title":"t","mode":"async"}`,
		"timeout max": `{"title":"t","mode":"sync","timeoutSeconds":300,"trigger":{},"nodes":[]}`,
		"title max":   `{"title":"` + strings.Repeat("é", MaxTitleLength) + `","mode":"sync","trigger":{},"nodes":[]}`,
		"example":     example9Doc,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := compileFlow(t, doc)
			if f.Doc == nil || f.Reply == nil {
				t.Errorf("compiled flow misses its document or reply")
			}
		})
	}
	f := compileFlow(t, example9Doc)
	for _, key := range []string{"paid", "ok", "bad"} {
		if n, ok := f.NodeByKey(key); !ok || n.Node.Key != key {
			t.Errorf("NodeByKey(%q) = %v, %v", key, n, ok)
		}
	}
	if _, ok := f.NodeByKey("nope"); ok {
		t.Errorf("NodeByKey(nope) found a node")
	}
}

func BenchmarkFlowRun(b *testing.B) {
	f := compileFlow(b, example9Doc)
	ctx := []byte(`{"headers":{"content-type":"application/json","x-request-id":"9f1c2b7e"},"query":{"source":"psp"},` +
		`"body":{"order":{"id":5678901234567890123,"status":"paid","total":"12.50"}}}`)
	b.ReportAllocs()
	for b.Loop() {
		r := f.Run(context.Background(), NewScope(ctx))
		if r.Response == nil || r.Response.Status != 200 {
			b.Fatalf("unexpected result %+v", r)
		}
	}
}

// flowTestStore is an in-memory WorkflowStore and ExecutionStore for the
// service test below; GetWorkflowByKey can be held after its read, to
// interleave an update exactly there.
type flowTestStore struct {
	mu     sync.Mutex
	w      *Workflow
	hold   chan struct{} // when set, GetWorkflowByKey reports on read and waits
	read   chan struct{}
	execs  int
	unused error
}

func (m *flowTestStore) CreateWorkflow(_ context.Context, w *Workflow) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	w.ID, w.Revision = 1, 1
	cp := *w
	m.w = &cp
	return nil
}

func (m *flowTestStore) UpdateWorkflow(_ context.Context, w *Workflow) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	w.Revision = m.w.Revision + 1
	cp := *w
	m.w = &cp
	return nil
}

func (m *flowTestStore) current() *Workflow {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp := *m.w
	return &cp
}

func (m *flowTestStore) GetWorkflow(context.Context, int64) (*Workflow, error) {
	return m.current(), nil
}

func (m *flowTestStore) GetWorkflowByKey(context.Context, string) (*Workflow, error) {
	w := m.current()
	m.mu.Lock()
	hold, read := m.hold, m.read
	m.hold = nil
	m.mu.Unlock()
	if hold != nil {
		close(read)
		<-hold
	}
	return w, nil
}

func (m *flowTestStore) GetRevision(context.Context, int64, int) (*Workflow, error) {
	return nil, Errorf(ENOTFOUND, "not kept")
}
func (m *flowTestStore) DeleteWorkflow(context.Context, int64) error           { return m.unused }
func (m *flowTestStore) SetWorkflowEnabled(context.Context, int64, bool) error { return m.unused }
func (m *flowTestStore) ListRevisions(context.Context, int64) ([]RevisionInfo, error) {
	return nil, m.unused
}
func (m *flowTestStore) ListWorkflows(context.Context) ([]WorkflowSummary, error) {
	return nil, m.unused
}
func (m *flowTestStore) InsertExecution(context.Context, *Execution, string, time.Time) error {
	m.mu.Lock()
	m.execs++
	m.mu.Unlock()
	return nil
}
func (m *flowTestStore) ClaimExecutions(context.Context, string, time.Time, time.Time, int) ([]*Execution, error) {
	return nil, nil
}
func (m *flowTestStore) UpdateExecutions(_ context.Context, _ string, _ time.Time, es []*Execution) ([]UpdateOutcome, error) {
	return make([]UpdateOutcome, len(es)), nil
}
func (m *flowTestStore) RenewLeases(context.Context, string, []Lease, time.Time) (RenewResult, error) {
	return RenewResult{}, nil
}
func (m *flowTestStore) ReleaseLeases(context.Context, string) (int64, error) { return 0, nil }
func (m *flowTestStore) NextDue(context.Context) (time.Time, bool, error) {
	return time.Time{}, false, nil
}
func (m *flowTestStore) CancelExecution(context.Context, int64, string, time.Time) (*Execution, error) {
	return nil, m.unused
}
func (m *flowTestStore) RetryExecution(context.Context, int64, time.Time) (*Execution, error) {
	return nil, m.unused
}
func (m *flowTestStore) ReplayExecutions(context.Context, ReplayFilter, int, Mode, func() int64, time.Time) (int, error) {
	return 0, m.unused
}
func (m *flowTestStore) GetExecution(context.Context, int64) (*Execution, error) {
	return nil, m.unused
}
func (m *flowTestStore) ListExecutions(context.Context, ExecutionFilter) ([]*Execution, error) {
	return nil, m.unused
}

// TestServiceCacheUpdateRace: a request that read the old revision just
// before an update must not put that old revision in the cache after the
// update cleared it, or the workflow keeps running the old revision until
// the next edit or restart.
func TestServiceCacheUpdateRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := &flowTestStore{unused: errors.New("unused")}
	svc := NewService(store, store, nil)
	doc := func(body string) []byte {
		return []byte(`{"title":"t","mode":"sync","nodes":[{"key":"r","type":"response","config":{"status":200,"body":"` + body + `"}}]}`)
	}
	w, err := svc.CreateWorkflow(ctx, doc("v1"))
	if err != nil {
		t.Fatal(err)
	}
	trigger := func() string {
		res, err := svc.Trigger(ctx, w.Key, Credentials{}, &Request{Method: "POST"})
		if err != nil {
			t.Errorf("Trigger: %v", err)
			return ""
		}
		return string(res.Response.Body)
	}

	// A request reads revision 1 from the store and is held there...
	hold, read := make(chan struct{}), make(chan struct{})
	store.mu.Lock()
	store.hold, store.read = hold, read
	store.mu.Unlock()
	inflight := make(chan string, 1)
	go func() { inflight <- trigger() }()
	<-read
	// ...while revision 2 is saved...
	if _, err := svc.UpdateWorkflow(ctx, w.ID, doc("v2")); err != nil {
		t.Fatal(err)
	}
	// ...then it finishes with the revision it read.
	close(hold)
	if got := <-inflight; got != "v1" {
		t.Errorf("in-flight request answered %q, want v1", got)
	}
	// Every later request runs revision 2.
	for i := range 3 {
		if got := trigger(); got != "v2" {
			t.Fatalf("request %d after the update answered %q, want v2 (stale cache)", i, got)
		}
	}
}

// A flow without nodes records no jobs: stored as null, not [].
func TestFlowRunNoNodes(t *testing.T) {
	t.Parallel()
	r := compileFlow(t, flowSyncDoc(`[]`)).Run(context.Background(), NewScope([]byte(`{}`)))
	if r.Status != StatusResolved || r.Jobs != nil {
		t.Errorf("status %q jobs %#v, want resolved and nil", r.Status, r.Jobs)
	}
}

// expiringCtx reports its deadline as passed from its n-th Err call on.
type expiringCtx struct {
	context.Context
	calls, n int
}

func (c *expiringCtx) Err() error {
	c.calls++
	if c.calls >= c.n {
		return context.DeadlineExceeded
	}
	return nil
}

// A condition checks its context between rules, so a run that outlasts
// its deadline stops inside a long condition, not after it.
func TestFlowRunStopsBetweenRules(t *testing.T) {
	t.Parallel()
	rules := strings.Repeat(`{"left":"{{$context.body.x}}","op":"equal","right":"y"},`, 10)
	f := compileFlow(t, flowSyncDoc(`[{"key":"c","type":"condition","config":{"mode":"continue","rules":{"or":[`+strings.TrimSuffix(rules, ",")+`]}}}]`))
	ctx := &expiringCtx{Context: context.Background(), n: 4} // before the node, then rules 1, 2 and 3
	r := f.Run(ctx, NewScope([]byte(`{"body":{}}`)))
	if r.Status != StatusAborted || r.Error != "workflow timed out at node c" || len(r.Jobs) != 1 || r.Jobs[0].Status != JobAborted {
		t.Errorf("status %q error %q jobs %+v, want aborted at node c", r.Status, r.Error, r.Jobs)
	}
	if ctx.calls > 5 {
		t.Errorf("%d context checks: the rules went on after the deadline", ctx.calls)
	}
}
