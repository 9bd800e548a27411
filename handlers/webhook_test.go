package handlers_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/db"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/handlers"
	"github.com/hookflow/hookflow/web"
	"github.com/tidwall/gjson"
)

// The public endpoint, row by row of product.md §2, through the real server
// assembly (web.New) over a SQLite store in t.TempDir(). Each test has its
// own server and database, so tests run in parallel.

// whSleepKind is a test-only node kind that waits until its context ends,
// to exceed a sync workflow's timeout.
type whSleepKind struct{}

func (whSleepKind) Compile(*engine.Node, engine.CompileEnv) (engine.Step, error) {
	return whSleepStep{}, nil
}

type whSleepStep struct{}

func (whSleepStep) Branches() []string { return nil }
func (whSleepStep) Run(ctx context.Context, _ *engine.Scope) (engine.Outcome, error) {
	<-ctx.Done()
	return engine.Outcome{}, ctx.Err()
}

// whNapKind is a test-only pure node kind that takes 200 ms unless its
// context ends first: longer than an async flow may run inline.
type whNapKind struct{}

func (whNapKind) Pure() bool { return true }
func (whNapKind) Compile(*engine.Node, engine.CompileEnv) (engine.Step, error) {
	return whNapStep{}, nil
}

type whNapStep struct{}

func (whNapStep) Branches() []string { return nil }
func (whNapStep) Run(ctx context.Context, _ *engine.Scope) (engine.Outcome, error) {
	select {
	case <-time.After(200 * time.Millisecond):
		return engine.Outcome{Result: []byte(`"rested"`)}, nil
	case <-ctx.Done():
		return engine.Outcome{}, ctx.Err()
	}
}

func init() {
	engine.RegisterNodeKind("wh-sleep", whSleepKind{})
	engine.RegisterNodeKind("wh-nap", whNapKind{})
}

type whEnv struct {
	app   *fiber.App
	store *db.DB
	svc   *engine.Service
}

func whSetup(t *testing.T, cfg web.Config) *whEnv {
	t.Helper()
	ctx := context.Background()
	box, err := db.NewSecretBox([]byte("webhook-test-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := db.Open(ctx, filepath.Join(t.TempDir(), db.FileName), box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	log := slog.New(slog.DiscardHandler)
	svc := engine.NewService(store, store, log)
	h := &handlers.Handlers{
		Svc: svc, Auth: store, Log: log, Ping: store.Ping, Throttle: handlers.NewThrottle(),
		PublicURL: "https://hooks.example.com",
		FirstRun:  func(*fiber.Ctx) bool { return false },
	}
	return &whEnv{app: web.New(cfg, h, log), store: store, svc: svc}
}

func (e *whEnv) create(t *testing.T, doc string) *engine.Workflow {
	t.Helper()
	w, err := e.svc.CreateWorkflow(context.Background(), []byte(doc))
	if err != nil {
		t.Fatalf("create workflow: %v", err)
	}
	return w
}

// whResult is a reply read in full.
type whResult struct {
	status int
	header http.Header
	body   []byte
}

func (e *whEnv) do(t *testing.T, req *http.Request) whResult {
	t.Helper()
	resp, err := e.app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return whResult{resp.StatusCode, resp.Header, body}
}

// post sends a webhook; headers are name, value pairs.
func (e *whEnv) post(t *testing.T, target, ctype string, body string, headers ...string) whResult {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	return e.do(t, req)
}

func whPath(key string) string { return "/api/webhook:trigger/" + key }

func whBasic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// whJSONError checks the JSON error format of §2 and returns the message.
func whJSONError(t *testing.T, r whResult, status int) string {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d (body %s)", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var e struct {
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || len(e.Errors) != 1 || e.Errors[0].Message == "" {
		t.Errorf("body %s is not the JSON error format", r.body)
		return ""
	}
	for _, leak := range []string{"goroutine", ".go:", "panic", "sql"} {
		if strings.Contains(e.Errors[0].Message, leak) {
			t.Errorf("message %q leaks internals", e.Errors[0].Message)
		}
	}
	return e.Errors[0].Message
}

const (
	whAsyncDoc    = `{"title":"store","mode":"async","nodes":[]}`
	whDisabledDoc = `{"title":"off","mode":"async","enabled":false,"nodes":[]}`
	whAuthDoc     = `{"title":"auth","mode":"async","trigger":{"basicAuth":{"enabled":true,"username":"hook","password":"s3cret"}},"nodes":[]}`
)

func TestWebhookMethodNotAllowed(t *testing.T) {
	t.Parallel()
	e := whSetup(t, web.Config{})
	w := e.create(t, whAsyncDoc)
	for _, path := range []string{whPath(w.Key), whPath("unknownkey")} {
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
			r := e.do(t, httptest.NewRequest(method, path, strings.NewReader(`{}`)))
			whJSONError(t, r, http.StatusMethodNotAllowed)
			if got := r.header.Get("Allow"); got != "POST" {
				t.Errorf("%s %s: Allow %q, want POST", method, path, got)
			}
		}
	}
	// No execution was stored for any of them.
	if list, err := e.svc.ListExecutions(context.Background(), engine.ExecutionFilter{WorkflowID: w.ID}); err != nil || len(list) != 0 {
		t.Errorf("executions after 405s: %d, %v", len(list), err)
	}
}

func TestWebhookNotFound(t *testing.T) {
	t.Parallel()
	e := whSetup(t, web.Config{})
	on := e.create(t, whAsyncDoc)
	off := e.create(t, whDisabledDoc)
	for _, tc := range []struct {
		name, path string
		want       int
	}{
		{"unknown key", whPath("doesnotexist0000"), 404},
		{"disabled", whPath(off.Key), 404},
		{"unescaped colon is not a parameter", "/api/webhookFOO/" + on.Key, 404},
		{"other word after the colon", "/api/webhook:triggers/" + on.Key, 404},
		{"no key", "/api/webhook:trigger/", 404},
		{"percent-encoded colon routes", "/api/webhook%3Atrigger/" + on.Key, 200},
		{"query string", whPath(on.Key) + "?a=1", 200},
		{"enabled", whPath(on.Key), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := e.post(t, tc.path, "application/json", `{"a":1}`)
			if tc.want == 200 {
				if r.status != 200 || string(r.body) != "ok" {
					t.Errorf("got %d %q, want 200 ok", r.status, r.body)
				}
				return
			}
			whJSONError(t, r, tc.want)
		})
	}
	// A disabled workflow's URL answers exactly like a key that does not
	// exist: the endpoint does not tell which keys are real.
	unknown := e.post(t, whPath("doesnotexist0000"), "application/json", `{}`)
	disabled := e.post(t, whPath(off.Key), "application/json", `{}`)
	if unknown.status != disabled.status || string(unknown.body) != string(disabled.body) {
		t.Errorf("unknown key %d %s, disabled %d %s: must not differ", unknown.status, unknown.body, disabled.status, disabled.body)
	}
}

func TestWebhookBasicAuth(t *testing.T) {
	t.Parallel()
	e := whSetup(t, web.Config{})
	w := e.create(t, whAuthDoc)
	for _, tc := range []struct {
		name, auth string
		want       int
	}{
		{"missing", "", 401},
		{"wrong password", whBasic("hook", "wrong"), 401},
		{"wrong user", whBasic("hooky", "s3cret"), 401},
		{"password prefix", whBasic("hook", "s3cre"), 401},
		{"password longer", whBasic("hook", "s3cret!"), 401},
		{"empty credentials", whBasic("", ""), 401},
		{"not base64", "Basic !!!", 401},
		{"no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte("hooks3cret")), 401},
		{"bearer", "Bearer s3cret", 401},
		{"right", whBasic("hook", "s3cret"), 200},
		{"scheme in lower case", "basic " + base64.StdEncoding.EncodeToString([]byte("hook:s3cret")), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.auth != "" {
				hdr = []string{"Authorization", tc.auth}
			}
			r := e.post(t, whPath(w.Key), "application/json", `{}`, hdr...)
			if tc.want == 200 {
				if r.status != 200 || string(r.body) != "ok" {
					t.Errorf("got %d %q", r.status, r.body)
				}
				return
			}
			whJSONError(t, r, 401)
			if got := r.header.Get("WWW-Authenticate"); got != `Basic realm="hookflow"` {
				t.Errorf("WWW-Authenticate %q", got)
			}
		})
	}
	// Only the accepted request was stored, and without the credentials:
	// the Authorization header is redacted in the stored context.
	list, err := e.svc.ListExecutions(context.Background(), engine.ExecutionFilter{WorkflowID: w.ID})
	if err != nil || len(list) != 2 {
		t.Fatalf("%d executions stored, want 2 (%v)", len(list), err)
	}
	for _, x := range list {
		ex, err := e.svc.GetExecution(context.Background(), x.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := gjson.GetBytes(ex.Context, "headers.authorization").String(); got != "Basic [redacted]" {
			t.Errorf("stored authorization header %q", got)
		}
		secret := base64.StdEncoding.EncodeToString([]byte("hook:s3cret"))
		if raw, _ := json.Marshal(ex); strings.Contains(string(raw), secret) || strings.Contains(string(raw), "s3cret") {
			t.Errorf("the stored execution holds the credentials: %s", raw)
		}
	}
}

// Without Basic Auth on the trigger, an Authorization header is the
// sender's business (a flow may check a shared token): it is kept.
func TestWebhookAuthorizationKeptWithoutBasicAuth(t *testing.T) {
	t.Parallel()
	e := whSetup(t, web.Config{})
	w := e.create(t, whAsyncDoc)
	r := e.post(t, whPath(w.Key), "application/json", `{}`, "Authorization", "Bearer shared-token")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	list, err := e.svc.ListExecutions(context.Background(), engine.ExecutionFilter{WorkflowID: w.ID})
	if err != nil || len(list) != 1 {
		t.Fatalf("%v %v", list, err)
	}
	ex, err := e.svc.GetExecution(context.Background(), list[0].ID)
	if err != nil || gjson.GetBytes(ex.Context, "headers.authorization").String() != "Bearer shared-token" {
		t.Errorf("authorization header %s (%v)", ex.Context, err)
	}
}

func TestWebhookBodyLimit(t *testing.T) {
	t.Parallel()
	e := whSetup(t, web.Config{BodyLimit: 1024})
	w := e.create(t, whAsyncDoc)
	body := func(n int) string { return `{"a":"` + strings.Repeat("x", n-8) + `"}` }
	if got := len(body(1024)); got != 1024 {
		t.Fatalf("test body is %d bytes", got)
	}
	r := e.post(t, whPath(w.Key), "application/json", body(1024))
	if r.status != 200 {
		t.Errorf("body at the limit: %d %s", r.status, r.body)
	}

	// Over the limit, over a real socket: Fiber answers before reading the
	// body, which app.Test's in-memory connection may report as an error.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.app.Listener(ln)
	t.Cleanup(func() { e.app.ShutdownWithTimeout(5 * time.Second) })
	over := body(1025)
	conn, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	raw := "POST " + whPath(w.Key) + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1025\r\n\r\n" + over
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read reply: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	msg := whJSONError(t, whResult{resp.StatusCode, resp.Header, b}, http.StatusRequestEntityTooLarge)
	if !strings.Contains(msg, "1 KiB") {
		t.Errorf("message %q does not name the limit", msg)
	}
	list, err := e.svc.ListExecutions(context.Background(), engine.ExecutionFilter{WorkflowID: w.ID})
	if err != nil || len(list) != 1 {
		t.Errorf("%d executions stored, want 1 (%v)", len(list), err)
	}
}

func TestWebhookInvalidJSON(t *testing.T) {
	t.Parallel()
	e := whSetup(t, web.Config{})
	w := e.create(t, whAsyncDoc)
	for _, tc := range []struct {
		name, ct, body string
		want           int
	}{
		{"truncated", "application/json", `{"a":`, 400},
		{"charset", "application/json; charset=utf-8", `{a:1}`, 400},
		{"+json", "application/vnd.github+json", `not json`, 400},
		{"two values", "application/json", `{} {}`, 400},
		{"valid", "application/json", `{"a":[1,2]}`, 200},
		{"empty JSON body", "application/json", ``, 200},
		{"text is not checked", "text/plain", `{"a":`, 200},
		{"no content type", "", `{"a":`, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.post(t, whPath(w.Key), tc.ct, tc.body)
			if tc.want == 200 {
				if r.status != 200 {
					t.Errorf("got %d %s", r.status, r.body)
				}
				return
			}
			if msg := whJSONError(t, r, 400); !strings.Contains(msg, "JSON") {
				t.Errorf("message %q does not say JSON", msg)
			}
		})
	}
	list, err := e.svc.ListExecutions(context.Background(), engine.ExecutionFilter{WorkflowID: w.ID})
	if err != nil || len(list) != 4 {
		t.Errorf("%d executions stored, want the 4 accepted (%v)", len(list), err)
	}
}

func TestWebhookAsyncReply(t *testing.T) {
	t.Parallel()
	e := whSetup(t, web.Config{})
	ctx := context.Background()
	plain := e.create(t, whAsyncDoc)
	r := e.post(t, whPath(plain.Key)+"?x=1", "application/json", `{"id":7}`)
	if r.status != 200 || string(r.body) != "ok" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("default reply: %d %q %q", r.status, r.header.Get("Content-Type"), r.body)
	}
	// The execution is committed before the reply: a read from the store's
	// read pool, another connection, sees it. The flow is pure (no nodes),
	// so it ran before the row was written, and no runner was needed.
	list, err := e.svc.ListExecutions(ctx, engine.ExecutionFilter{WorkflowID: plain.ID})
	if err != nil || len(list) != 1 || list[0].Status != engine.StatusResolved || list[0].Revision != 1 {
		t.Fatalf("executions after the reply: %+v, %v", list, err)
	}

	configured := e.create(t, `{"title":"reply","mode":"async","trigger":{"response":{"status":202,
		"headers":[{"name":"X-Request-Echo","value":"{{$context.headers.x-request-id}}"},{"name":"X-Source","value":"src={{$context.query.source}}"}],
		"body":{"received":true,"executionId":"{{$system.executionId}}","order":"{{$context.body.order.id}}"}}},
		"nodes":[{"key":"nap","type":"wh-sleep"}]}`)
	r = e.post(t, whPath(configured.Key)+"?source=shop", "application/json; charset=utf-8",
		`{"order":{"id":12345678901234567891}}`, "X-Request-Id", "req-42")
	if r.status != 202 || r.header.Get("X-Request-Echo") != "req-42" || r.header.Get("X-Source") != "src=shop" ||
		!strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Errorf("configured reply: %d %v %s", r.status, r.header, r.body)
	}
	reply := gjson.ParseBytes(r.body)
	if !reply.Get("received").Bool() || reply.Get("order").Raw != "12345678901234567891" || reply.Get("executionId").Type != gjson.Number {
		t.Fatalf("configured reply body %s", r.body)
	}
	id := reply.Get("executionId").Int()
	ex, err := e.svc.GetExecution(ctx, id)
	if err != nil {
		t.Fatalf("execution %d named in the reply is not stored: %v", id, err)
	}
	// Its flow is not pure: it waits for a worker, and there is none here.
	if ex.WorkflowID != configured.ID || ex.Status != engine.StatusQueued || ex.Jobs != nil || ex.Request.Method != "POST" || ex.Request.Query != "source=shop" ||
		string(ex.Request.Body) != `{"order":{"id":12345678901234567891}}` ||
		gjson.GetBytes(ex.Context, "body.order.id").Raw != "12345678901234567891" ||
		gjson.GetBytes(ex.Context, "headers.x-request-id").String() != "req-42" {
		t.Errorf("stored execution %+v context %s", ex, ex.Context)
	}
}

// TestWebhookAsyncInline: a pure async flow runs before its execution is
// stored, so the row is written once, finished; one that overruns the
// inline budget is stored queued and a worker runs it from the start.
func TestWebhookAsyncInline(t *testing.T) {
	t.Parallel()
	e := whSetup(t, web.Config{})
	ctx := context.Background()
	w := e.create(t, `{"title":"inline","mode":"async","trigger":{"response":{"status":202,"body":"{{$jobsMapByNodeKey.paid}}"}},"nodes":[
		{"key":"paid","type":"condition","config":{"mode":"branch","rules":{"and":[{"left":"{{$context.body.status}}","op":"equal","right":"paid"}]}},
		 "branches":{"no":[{"key":"stop","type":"end","config":{"status":"failed"}}]}}]}`)
	for _, status := range []string{"paid", "refunded"} {
		r := e.post(t, whPath(w.Key), "application/json", `{"status":"`+status+`"}`)
		// The reply comes from the trigger alone: the jobs are not in its
		// scope (the value is missing, so null), though the flow ran already.
		if r.status != 202 || string(r.body) != "null" {
			t.Errorf("%s: reply %d %q", status, r.status, r.body)
		}
	}
	list, err := e.svc.ListExecutions(ctx, engine.ExecutionFilter{WorkflowID: w.ID})
	if err != nil || len(list) != 2 {
		t.Fatalf("executions: %v %v", list, err)
	}
	for i, want := range []struct {
		status engine.ExecStatus
		jobs   int
	}{{engine.StatusFailed, 2}, {engine.StatusResolved, 1}} { // newest first
		ex, err := e.svc.GetExecution(ctx, list[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		if ex.Status != want.status || len(ex.Jobs) != want.jobs || ex.Attempts != 1 || ex.StartedAt.IsZero() || ex.FinishedAt.IsZero() ||
			ex.Response != nil || ex.Jobs[0].NodeKey != "paid" {
			t.Errorf("execution %d: %+v", i, ex)
		}
	}

	// A condition whose rules outlast the budget is stopped between rules
	// (1,000 lookups of a missing key in a 256 KB body scan 256 MB): the
	// reply does not wait for it, and the execution goes to the queue.
	rules := make([]string, 1000)
	for i := range rules {
		rules[i] = `{"left":"{{$context.body.missing}}","op":"equal","right":"x"}`
	}
	heavy := e.create(t, `{"title":"heavy","mode":"async","nodes":[{"key":"many","type":"condition","config":{"mode":"continue","rules":{"or":[`+
		strings.Join(rules, ",")+`]}}}]}`)
	if r := e.post(t, whPath(heavy.Key), "application/json", `{"pad":"`+strings.Repeat("x", 256<<10)+`"}`); r.status != 200 {
		t.Fatalf("heavy: %d %s", r.status, r.body)
	}
	list, err = e.svc.ListExecutions(ctx, engine.ExecutionFilter{WorkflowID: heavy.ID})
	if err != nil || len(list) != 1 || list[0].Status != engine.StatusQueued {
		t.Fatalf("heavy execution after the reply: %+v %v", list, err)
	}

	// Over the budget: stored queued, then run by a worker, once.
	slow := e.create(t, `{"title":"slow","mode":"async","nodes":[{"key":"nap","type":"wh-nap"}]}`)
	if r := e.post(t, whPath(slow.Key), "application/json", `{}`); r.status != 200 {
		t.Fatalf("slow: %d %s", r.status, r.body)
	}
	list, err = e.svc.ListExecutions(ctx, engine.ExecutionFilter{WorkflowID: slow.ID})
	if err != nil || len(list) != 1 || list[0].Status != engine.StatusQueued {
		t.Fatalf("slow execution after the reply: %+v %v", list, err)
	}
	runner := e.svc.NewRunner(engine.RunnerConfig{Workers: 1, Poll: 10 * time.Millisecond})
	runner.Start()
	t.Cleanup(func() { runner.Stop(context.Background()) })
	deadline := time.Now().Add(10 * time.Second)
	for {
		ex, err := e.svc.GetExecution(ctx, list[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if ex.Status == engine.StatusResolved {
			if ex.Attempts != 1 || len(ex.Jobs) != 1 || string(ex.Jobs[0].Result) != `"rested"` {
				t.Errorf("slow execution: %+v", ex)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slow execution still %s", ex.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWebhookSync(t *testing.T) {
	t.Parallel()
	e := whSetup(t, web.Config{})
	auth := []string{"Authorization", whBasic("hook", "s3cret")}
	const (
		noResponse = `{"title":"quiet","mode":"sync","nodes":[{"key":"c","type":"condition","config":{"mode":"continue","rules":{"and":[]}}}]}`
		failing    = `{"title":"strict","mode":"sync","nodes":[{"key":"paid","type":"condition","config":{"mode":"continue","rules":{"and":[
		{"left":"{{$context.body.order.status}}","op":"equal","right":"paid"}]}}},{"key":"r","type":"response","config":{"status":201,"body":"yes"}}]}`
		ended = `{"title":"end","mode":"sync","nodes":[{"key":"stop","type":"end","config":{"status":"failed"}}]}`
		slow  = `{"title":"slow","mode":"sync","timeoutSeconds":1,"nodes":[{"key":"nap","type":"wh-sleep"}]}`
		echo  = `{"title":"echo","mode":"sync","nodes":[{"key":"r","type":"response","config":{"status":200,
		"headers":[{"name":"X-Custom","value":"{{$context.headers.x-custom}}"}],
		"body":{"query":"{{$context.query}}","form":"{{$context.body}}"}}}]}`
	)
	example := whExampleDoc

	for _, tc := range []struct {
		name, doc, ct, query, body string
		headers                    []string
		status                     int
		ct2                        string // reply content type prefix
		reply                      string // exact body, or for errors the message
		replyHeaders               map[string]string
		execStatus                 engine.ExecStatus
	}{
		{name: "§9 paid", doc: example, ct: "application/json", body: `{"order":{"id":123,"status":"paid"}}`, headers: auth,
			status: 200, ct2: "application/json", reply: `{"ok":true,"id":123}`, replyHeaders: map[string]string{"X-Order": "123"}, execStatus: engine.StatusResolved},
		{name: "§9 paid, big id", doc: example, ct: "application/json", body: `{"order":{"id":12345678901234567891,"status":"paid"}}`, headers: auth,
			status: 200, ct2: "application/json", reply: `{"ok":true,"id":12345678901234567891}`, replyHeaders: map[string]string{"X-Order": "12345678901234567891"}, execStatus: engine.StatusResolved},
		{name: "§9 refunded", doc: example, ct: "application/json", body: `{"order":{"id":123,"status":"refunded"}}`, headers: auth,
			status: 422, ct2: "application/json", reply: `{"ok":false}`, execStatus: engine.StatusResolved},
		{name: "§9 without credentials", doc: example, ct: "application/json", body: `{"order":{"id":123,"status":"paid"}}`,
			status: 401, reply: "valid Basic Auth credentials are required"},
		{name: "no response node reached", doc: noResponse, ct: "application/json", body: `{}`,
			status: 200, ct2: "text/plain", reply: "ok", execStatus: engine.StatusResolved},
		{name: "continue condition false", doc: failing, ct: "application/json", body: `{"order":{"status":"open"}}`,
			status: 500, reply: "workflow failed at node paid", execStatus: engine.StatusFailed},
		{name: "continue condition true", doc: failing, ct: "application/json", body: `{"order":{"status":"paid"}}`,
			status: 201, ct2: "text/plain", reply: "yes", execStatus: engine.StatusResolved},
		{name: "end failed", doc: ended, ct: "application/json", body: `{}`,
			status: 500, reply: "workflow failed at node stop", execStatus: engine.StatusFailed},
		{name: "timeout", doc: slow, body: ``,
			status: 504, reply: "workflow timed out at node nap", execStatus: engine.StatusAborted},
		{name: "query and form reach the context", doc: echo, ct: "application/x-www-form-urlencoded",
			query: "?a[b]=1&c=2&c=3&query[0][a]=x+y", body: "text=hello+world&user[name]=Zo%C3%AB", headers: []string{"X-Custom", "v1", "X-Custom", "v2"},
			status: 200, ct2: "application/json",
			reply:        `{"query":{"a":{"b":"1"},"c":["2","3"],"query":[{"a":"x y"}]},"form":{"text":"hello world","user":{"name":"Zoë"}}}`,
			replyHeaders: map[string]string{"X-Custom": "v1, v2"}, execStatus: engine.StatusResolved},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			wf := e.create(t, tc.doc) // one per subtest: they run in parallel
			start := time.Now()
			r := e.post(t, whPath(wf.Key)+tc.query, tc.ct, tc.body, tc.headers...)
			if tc.ct2 == "" { // an error in the JSON format of §2
				if msg := whJSONError(t, r, tc.status); msg != tc.reply {
					t.Errorf("message %q, want %q", msg, tc.reply)
				}
				if tc.status == 504 && time.Since(start) > 10*time.Second {
					t.Errorf("timeout took %v", time.Since(start))
				}
			} else {
				if r.status != tc.status || string(r.body) != tc.reply || !strings.HasPrefix(r.header.Get("Content-Type"), tc.ct2) {
					t.Errorf("got %d %q %s, want %d %q %s", r.status, r.header.Get("Content-Type"), r.body, tc.status, tc.ct2, tc.reply)
				}
				if tc.ct2 == "application/json" && !json.Valid(r.body) {
					t.Errorf("invalid JSON reply %s", r.body)
				}
			}
			for k, v := range tc.replyHeaders {
				if got := r.header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tc.execStatus == "" {
				return
			}
			// The sync execution is stored with its jobs and the reply sent.
			list, err := e.svc.ListExecutions(ctx, engine.ExecutionFilter{WorkflowID: wf.ID})
			if err != nil || len(list) != 1 {
				t.Fatalf("%d executions, %v; want 1", len(list), err)
			}
			ex, err := e.svc.GetExecution(ctx, list[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			if ex.Status != tc.execStatus || ex.Mode != engine.ModeSync || ex.Response == nil || ex.Response.Status != r.status || string(ex.Response.Body) != string(r.body) {
				t.Errorf("stored execution status %s response %+v, want %s and the reply sent", ex.Status, ex.Response, tc.execStatus)
			}
			if len(ex.Jobs) == 0 {
				t.Errorf("no jobs stored")
			}
		})
	}
}

// whExampleDoc is the workflow document of product.md §9, as written.
var whExampleDoc = readSection9("../engine/testdata/section9.json")
