package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/db"
	"github.com/hookflow/hookflow/engine"
	"github.com/tidwall/gjson"
)

// The end-to-end tests run the real run() wiring on 127.0.0.1:0, as main
// would, and talk to it over real HTTP.

// syncBuffer is an io.Writer safe for the server's logger and the test to
// share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// logLine returns the first JSON log line with the given msg.
func (s *syncBuffer) logLine(msg string) (gjson.Result, bool) {
	for _, line := range strings.Split(s.String(), "\n") {
		if l := gjson.Parse(line); l.Get("msg").String() == msg {
			return l, true
		}
	}
	return gjson.Result{}, false
}

func noEnv(string) string { return "" }

// e2eServer is a running hookflow serve.
type e2eServer struct {
	base string // http://127.0.0.1:port
	// metrics is http://127.0.0.1:port of --metrics-addr, if given.
	metrics string
	logs    *syncBuffer
	cancel  context.CancelFunc
	done    chan error
	client  *http.Client
	token   string
}

// openDataDir opens the SQLite database of a data directory as the
// commands do (openDB), for a test to seed or check it; the caller closes
// it.
func openDataDir(tb testing.TB, dir string) *db.DB {
	tb.Helper()
	store, err := openDB(context.Background(), &config{dataDir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	return store
}

// createToken runs `hookflow token create` on dir and returns the token.
func createToken(t *testing.T, dir string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"token", "create", "--name", "e2e", "--data-dir", dir}, noEnv, &stdout, &stderr); err != nil {
		t.Fatalf("token create: %v (%s)", err, stderr.String())
	}
	out := stdout.String()
	if !regexp.MustCompile(`^hf_[A-Za-z0-9_-]{40,}\n$`).MatchString(out) {
		t.Fatalf("token create printed %q, want the token alone on one line", out)
	}
	return strings.TrimSpace(out)
}

// startServer runs `hookflow --addr 127.0.0.1:0 --data-dir dir` (and the
// extra arguments) until the test ends, and waits for its "hookflow
// started" log line.
func startServer(t *testing.T, dir, token string, extra ...string) *e2eServer {
	t.Helper()
	return startServerEnv(t, dir, token, noEnv, extra...)
}

// startServerEnv is startServer with an environment.
func startServerEnv(t *testing.T, dir, token string, getenv func(string) string, extra ...string) *e2eServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &e2eServer{logs: &syncBuffer{}, cancel: cancel, done: make(chan error, 1), token: token,
		client: &http.Client{Timeout: 10 * time.Second}}
	args := append([]string{"--addr", "127.0.0.1:0", "--data-dir", dir, "--log-format", "json", "--workers", "2"}, extra...)
	go func() { s.done <- run(ctx, args, getenv, io.Discard, s.logs) }()
	t.Cleanup(func() {
		s.cancel()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			t.Error("server did not stop")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if l, ok := s.logs.logLine("hookflow started"); ok {
			addr := l.Get("addr").String()
			if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
				t.Fatalf("started on %q", addr)
			}
			s.base = "http://" + addr
			if m := l.Get("metrics_addr").String(); m != "" {
				s.metrics = "http://" + m
			}
			return s
		}
		select {
		case err := <-s.done:
			t.Fatalf("run returned before starting: %v\n%s", err, s.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 'hookflow started' log line:\n%s", s.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop cancels run's context, as SIGTERM does, and returns run's error.
func (s *e2eServer) stop(t *testing.T) error {
	t.Helper()
	s.client.CloseIdleConnections()
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after cancel")
		return nil
	}
}

type e2eReply struct {
	status int
	header http.Header
	body   []byte
}

func (s *e2eServer) do(t *testing.T, method, path string, body []byte, headers map[string]string) e2eReply {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return e2eReply{resp.StatusCode, resp.Header, b}
}

func (s *e2eServer) api(t *testing.T, method, path, body string) e2eReply {
	t.Helper()
	h := map[string]string{"Authorization": "Bearer " + s.token}
	if body != "" {
		h["Content-Type"] = "application/json"
	}
	return s.do(t, method, path, []byte(body), h)
}

func (s *e2eServer) createWorkflow(t *testing.T, doc string) (id int64, key string) {
	t.Helper()
	r := s.api(t, http.MethodPost, "/api/v1/workflows", doc)
	if r.status != http.StatusCreated {
		t.Fatalf("create workflow: %d %s", r.status, r.body)
	}
	j := gjson.ParseBytes(r.body)
	if j.Get("url").String() != s.base+"/api/webhook:trigger/"+j.Get("key").String() {
		t.Errorf("url %q on base %s", j.Get("url"), s.base)
	}
	return j.Get("id").Int(), j.Get("key").String()
}

// waitExecution polls an execution until it is final and returns it.
func (s *e2eServer) waitExecution(t *testing.T, id int64) gjson.Result {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := s.api(t, http.MethodGet, "/api/v1/executions/"+strconv.FormatInt(id, 10), "")
		if r.status != 200 {
			t.Fatalf("execution %d: %d %s", id, r.status, r.body)
		}
		e := gjson.ParseBytes(r.body)
		if st := engine.ExecStatus(e.Get("status").String()); st.Final() {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %d still %s", id, e.Get("status"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// e2eTokens lists the tokens of a JSON value, numbers as written: equal
// lists mean equal values, key order and big numbers included.
func e2eTokens(t *testing.T, raw []byte) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return strings.Join(out, " ")
		}
		if err != nil {
			t.Fatalf("tokens of %.200s: %v", raw, err)
		}
		out = append(out, fmt.Sprintf("%T:%v", tok, tok))
	}
}

type sampleMeta struct {
	Method      string            `json:"method"`
	ContentType string            `json:"contentType"`
	Headers     map[string]string `json:"headers"`
	Query       string            `json:"query"`
	BodyFile    string            `json:"bodyFile"`
}

type sample struct {
	name   string
	meta   sampleMeta
	body   []byte
	expect []byte // the parsed body: the JSON file, or expect-body.json
}

func loadSamples(t *testing.T) []sample {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("..", "..", "engine", "testdata", "samples", "*", "meta.json"))
	if err != nil || len(dirs) < 10 {
		t.Fatalf("samples: %v (%d found)", err, len(dirs))
	}
	var out []sample
	for _, metaPath := range dirs {
		dir := filepath.Dir(metaPath)
		s := sample{name: filepath.Base(dir)}
		b, err := os.ReadFile(metaPath)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &s.meta); err != nil {
			t.Fatalf("%s: %v", metaPath, err)
		}
		if s.body, err = os.ReadFile(filepath.Join(dir, s.meta.BodyFile)); err != nil {
			t.Fatal(err)
		}
		if engine.IsFormContentType(s.meta.ContentType) {
			if s.expect, err = os.ReadFile(filepath.Join(dir, "expect-body.json")); err != nil {
				t.Fatal(err)
			}
		} else {
			s.expect = s.body
		}
		out = append(out, s)
	}
	return out
}

const e2eAuthPassword = "p@ss:word" // a colon in the password is fine

func e2eSampleDoc(title string, auth bool) string {
	ba := `{"enabled":false}`
	if auth {
		ba = `{"enabled":true,"username":"hook","password":"` + e2eAuthPassword + `"}`
	}
	return `{"title":"` + title + `","mode":"async","trigger":{"basicAuth":` + ba + `,
	  "response":{"status":202,"headers":[{"name":"X-Sample","value":"{{$context.query.sample}}"}],"body":{"executionId":"{{$system.executionId}}"}}},
	  "nodes":[{"key":"typed","type":"condition","config":{"mode":"continue","rules":{"and":[
	    {"left":"{{$context.headers.content-type}}","op":"notEmpty"}]}}}]}`
}

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	token := createToken(t, dir)
	srv := startServer(t, dir, token)

	// First start on an empty database: an admin with a generated password,
	// logged once.
	if l, ok := srv.logs.logLine("admin account created with a generated password; it is shown only this once"); !ok ||
		l.Get("email").String() == "" || len(l.Get("password").String()) < 16 {
		t.Errorf("no admin creation log line:\n%s", srv.logs)
	}
	if r := srv.do(t, http.MethodGet, "/healthz", nil, nil); r.status != 200 {
		t.Errorf("healthz: %d %s", r.status, r.body)
	}
	if r := srv.do(t, http.MethodGet, "/api/v1/workflows", nil, nil); r.status != http.StatusUnauthorized {
		t.Errorf("API without token: %d", r.status)
	}

	samples := loadSamples(t)
	authID, authKey := srv.createWorkflow(t, e2eSampleDoc("all samples, Basic Auth", true))
	type sent struct {
		sample sample
		execID int64
		auth   bool
	}
	var all []sent
	for _, s := range samples {
		_, openKey := srv.createWorkflow(t, e2eSampleDoc("sample "+s.name, false))
		for _, auth := range []bool{false, true} {
			key := openKey
			headers := map[string]string{}
			for k, v := range s.meta.Headers {
				headers[k] = v
			}
			headers["Content-Type"] = s.meta.ContentType
			if auth {
				key = authKey
				headers["Authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte("hook:"+e2eAuthPassword))
			}
			query := "?sample=" + s.name
			if s.meta.Query != "" {
				query += "&" + s.meta.Query
			}
			r := srv.do(t, s.meta.Method, "/api/webhook:trigger/"+key+query, s.body, headers)
			if r.status != http.StatusAccepted || r.header.Get("X-Sample") != s.name {
				t.Fatalf("%s (auth %v): %d %v %s", s.name, auth, r.status, r.header, r.body)
			}
			id := gjson.GetBytes(r.body, "executionId").Int()
			if id <= 0 {
				t.Fatalf("%s: reply %s has no execution id", s.name, r.body)
			}
			all = append(all, sent{s, id, auth})
		}
		// A wrong password is refused and stores nothing.
		headers := map[string]string{"Content-Type": s.meta.ContentType,
			"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("hook:wrong"))}
		r := srv.do(t, http.MethodPost, "/api/webhook:trigger/"+authKey, s.body, headers)
		if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != `Basic realm="hookflow"` {
			t.Errorf("%s with a wrong password: %d %v", s.name, r.status, r.header)
		}
	}

	for _, x := range all {
		s := x.sample
		e := srv.waitExecution(t, x.execID)
		label := fmt.Sprintf("%s (auth %v)", s.name, x.auth)
		if e.Get("status").String() != "resolved" || e.Get("attempts").Int() != 1 || e.Get("jobs.0.nodeKey").String() != "typed" ||
			e.Get("jobs.0.status").String() != "resolved" {
			t.Errorf("%s: execution %.400s", label, e.Raw)
		}
		// The raw body is stored byte for byte.
		raw := e.Get("request.body").String()
		if e.Get("request.bodyEncoding").String() == "base64" {
			b, _ := base64.StdEncoding.DecodeString(raw)
			raw = string(b)
		}
		if raw != string(s.body) {
			t.Errorf("%s: stored body differs from the %d bytes sent", label, len(s.body))
		}
		if e.Get("request.method").String() != "POST" || e.Get("request.query").String() != "sample="+s.name {
			t.Errorf("%s: request %.300s", label, e.Get("request").Raw)
		}
		// The parsed body: exact, big numbers and key order included.
		if got, want := e2eTokens(t, []byte(e.Get("context.body").Raw)), e2eTokens(t, s.expect); got != want {
			t.Errorf("%s: context.body differs\n got %.300s\nwant %.300s", label, got, want)
		}
		// Headers lower-cased, values as sent.
		for k, v := range s.meta.Headers {
			if got := e.Get("context.headers").Get(gjson.Escape(strings.ToLower(k))); got.String() != v {
				t.Errorf("%s: header %s = %q, want %q", label, strings.ToLower(k), got.String(), v)
			}
		}
		e.Get("context.headers").ForEach(func(k, _ gjson.Result) bool {
			if k.String() != strings.ToLower(k.String()) {
				t.Errorf("%s: header name %q not lower-cased", label, k.String())
			}
			return true
		})
		if e.Get("context.query.sample").String() != s.name {
			t.Errorf("%s: context.query %s", label, e.Get("context.query").Raw)
		}
	}
	// Spot check: Shopify's ids above 2^53 are kept exactly.
	for _, x := range all {
		if x.sample.name == "shopify-orders-create" {
			if got := srv.waitExecution(t, x.execID).Get("context.body.id").Raw; got != "820982911946154508" {
				t.Errorf("shopify id %s", got)
			}
		}
	}
	list := srv.api(t, http.MethodGet, "/api/v1/workflows/"+strconv.FormatInt(authID, 10)+"/executions?limit=500", "")
	if n := len(gjson.GetBytes(list.body, "items").Array()); n != len(samples) {
		t.Errorf("%d executions of the Basic Auth workflow, want %d (wrong passwords store nothing)", n, len(samples))
	}

	// SIGTERM: run returns nil after an ordered shutdown.
	if err := srv.stop(t); err != nil {
		t.Errorf("run returned %v\n%s", err, srv.logs)
	}
	if _, ok := srv.logs.logLine("stopped"); !ok {
		t.Errorf("no 'stopped' log line")
	}
	// Everything acknowledged is in the database after the stop.
	store := openDataDir(t, dir)
	defer store.Close()
	for _, x := range all {
		e, err := store.GetExecution(context.Background(), x.execID)
		if err != nil || e.Status != engine.StatusResolved {
			t.Errorf("execution %d after stop: %v %v", x.execID, e, err)
		}
	}
}

// TestRecovery: an execution left running by a crash runs again at the
// next start.
func TestRecovery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	store := openDataDir(t, dir)
	// An admin exists already, so the start does not spend a bcrypt hash.
	if err := store.CreateUser(ctx, &engine.User{Email: "a@example.com", PasswordHash: "$2a$12$notarealhashnotarealhashnotarealhashnotarealhashnot"}); err != nil {
		t.Fatal(err)
	}
	stored, secret, doc, err := engine.PrepareDocument([]byte(`{"title":"recover","mode":"async","nodes":[
		{"key":"c","type":"condition","config":{"mode":"continue","rules":{"and":[{"left":"{{$context.body.n}}","op":"gt","right":0}]}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	w := &engine.Workflow{Key: engine.NewKey(), Stored: stored, Secrets: secret, Doc: doc}
	if err := store.CreateWorkflow(ctx, w); err != nil {
		t.Fatal(err)
	}
	var ids engine.IDGenerator
	var execs []*engine.Execution
	for i, status := range []engine.ExecStatus{engine.StatusRunning, engine.StatusQueued} {
		req := engine.Request{Method: "POST", Headers: []engine.HeaderValue{{Name: "Content-Type", Value: "application/json"}},
			Body: []byte(`{"n":` + strconv.Itoa(i+1) + `}`)}
		c, err := engine.BuildContext(&req)
		if err != nil {
			t.Fatal(err)
		}
		e := &engine.Execution{ID: ids.Next(), WorkflowID: w.ID, Revision: 1, Status: status, Mode: engine.ModeAsync,
			Request: req, Context: c, CreatedAt: time.Now()}
		if status == engine.StatusRunning {
			e.Attempts, e.StartedAt = 1, time.Now() // claimed, then the process died
		}
		if err := store.InsertExecution(ctx, e, "", time.Time{}); err != nil {
			t.Fatal(err)
		}
		execs = append(execs, e)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	token := createToken(t, dir)
	srv := startServer(t, dir, token)
	for i, x := range execs {
		e := srv.waitExecution(t, x.ID)
		if e.Get("status").String() != "resolved" || e.Get("jobs.0.result").Raw != "true" {
			t.Errorf("execution %d: %s", i, e.Raw)
		}
		if want := int64(2 - i); e.Get("attempts").Int() != want {
			t.Errorf("execution %d: attempts %d, want %d", i, e.Get("attempts").Int(), want)
		}
	}
	if l, ok := srv.logs.logLine("resuming executions left running"); !ok || l.Get("count").Int() != 1 {
		t.Errorf("no resuming log line with count 1:\n%s", srv.logs)
	}
	// New ids stay above the stored ones.
	_, key := srv.createWorkflow(t, `{"title":"after","mode":"async","trigger":{"response":{"status":200,"body":{"id":"{{$system.executionId}}"}}},"nodes":[]}`)
	r := srv.do(t, http.MethodPost, "/api/webhook:trigger/"+key, []byte(`{}`), map[string]string{"Content-Type": "application/json"})
	if id := gjson.GetBytes(r.body, "id").Int(); id <= execs[1].ID {
		t.Errorf("new execution id %d not above the stored %d", id, execs[1].ID)
	}
	if err := srv.stop(t); err != nil {
		t.Errorf("run returned %v", err)
	}
}

func TestCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	existing := filepath.Join(t.TempDir(), "existing.db")
	if err := os.WriteFile(existing, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string // "" for success
		stdout  string // regexp
		stderr  string // regexp
	}{
		{name: "version", args: []string{"version"}, stdout: `^hookflow \S+\n$`},
		{name: "help", args: []string{"help"}, stdout: `(?s)^Usage: hookflow.*token create`},
		{name: "token create without name", args: []string{"token", "create", "--data-dir", dir}, wantErr: "--name: required"},
		{name: "token create with blank name", args: []string{"token", "create", "--name", "  ", "--data-dir", dir}, wantErr: "--name: required"},
		{name: "token without create", args: []string{"token"}, wantErr: "usage: hookflow token create --name NAME"},
		{name: "token create from env data dir", args: []string{"token", "create", "--name", "env"}, env: map[string]string{"HOOKFLOW_DATA_DIR": dir},
			stdout: `^hf_[A-Za-z0-9_-]{40,}\n$`},
		{name: "unknown command", args: []string{"bogus"}, wantErr: `unknown command "bogus"`, stderr: `Usage: hookflow`},
		{name: "unknown flag", args: []string{"serve", "--nope"}, wantErr: "flag provided but not defined: -nope"},
		{name: "bad log format", args: []string{"--log-format", "xml", "--data-dir", dir}, wantErr: `--log-format: "xml" is not text or json`},
		{name: "bad body limit", args: []string{"--body-limit", "lots", "--data-dir", dir}, wantErr: "--body-limit"},
		{name: "bad public url", args: []string{"--public-url", "hooks.example.com", "--data-dir", dir}, wantErr: "--public-url"},
		{name: "session idle too short", args: []string{"--session-idle", "10s", "--data-dir", dir}, wantErr: `--session-idle: "10s" is not a duration from 1m to 12h0m0s`},
		{name: "session idle over the lifetime", args: []string{"--session-idle", "13h", "--data-dir", dir}, wantErr: "--session-idle"},
		{name: "session idle from env", args: []string{"--data-dir", dir}, env: map[string]string{"HOOKFLOW_SESSION_IDLE": "soon"}, wantErr: `--session-idle: "soon"`},
		{name: "migrate", args: []string{"migrate", "--data-dir", dir}, stdout: `^database schema at version [0-9]+\n$`},
		{name: "backup without file", args: []string{"backup", "--data-dir", dir}, wantErr: "usage: hookflow backup"},
		{name: "backup", args: []string{"backup", "--data-dir", dir, filepath.Join(t.TempDir(), "copy.db")}, stdout: `^backup written to `},
		{name: "database not postgres", args: []string{"migrate", "--database", "mysql://x"}, wantErr: "--database: not a postgres:// URL"},
		{name: "database without secret key", args: []string{"token", "create", "--name", "x", "--database", "postgres://127.0.0.1:1/x"},
			wantErr: "HOOKFLOW_SECRET_KEY is required with --database"},
		{name: "database with short secret key", args: []string{"migrate"}, env: map[string]string{"HOOKFLOW_DATABASE": "postgres://127.0.0.1:1/x", "HOOKFLOW_SECRET_KEY": "short"},
			wantErr: "HOOKFLOW_SECRET_KEY: secret key: at least 16 bytes"},
		{name: "backup of postgres", args: []string{"backup", "--database", "postgres://127.0.0.1:1/x", filepath.Join(t.TempDir(), "x.db")}, wantErr: "pg_dump"},
		{name: "bad lease", args: []string{"--lease", "10ms", "--data-dir", dir}, wantErr: `--lease: "10ms" is not a duration from 1s to 1h`},
		{name: "bad log level", args: []string{"--log-level", "loud", "--data-dir", dir}, wantErr: `--log-level: "loud" is not debug, info, warn or error`},
		{name: "bad trusted proxies", args: []string{"--trusted-proxies", "10.0.0.0/8,proxy.internal", "--data-dir", dir}, wantErr: "--trusted-proxies: "},
		{name: "bad outbound deny", args: []string{"--outbound-deny", "some", "--data-dir", dir}, wantErr: `--outbound-deny: "some" is not metadata, private or none`},
		{name: "shutdown timeout too short", args: []string{"--shutdown-timeout", "500ms", "--data-dir", dir}, wantErr: `--shutdown-timeout: "500ms" is not a duration of at least 1s`},
		{name: "negative retention age", args: []string{"--retention-age", "-1h", "--data-dir", dir}, wantErr: `--retention-age: "-1h" is not a duration`},
		{name: "retention count from env", args: []string{"--data-dir", dir}, env: map[string]string{"HOOKFLOW_RETENTION_COUNT": "many"}, wantErr: `--retention-count: "many" is not a whole number`},
		{name: "backup over a file", args: []string{"backup", "--data-dir", dir, existing}, wantErr: "backup: " + existing + " already exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: the commands share dir.
			getenv := func(k string) string { return tc.env[k] }
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args, getenv, &stdout, &stderr)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("error %v (%s)", err, stderr.String())
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if tc.stdout != "" && !regexp.MustCompile(tc.stdout).MatchString(stdout.String()) {
				t.Errorf("stdout %q, want %s", stdout.String(), tc.stdout)
			}
			if tc.stderr != "" && !regexp.MustCompile(tc.stderr).MatchString(stderr.String()) {
				t.Errorf("stderr %q, want %s", stderr.String(), tc.stderr)
			}
		})
	}
	// The tokens created above work against the same database.
	store := openDataDir(t, dir)
	defer store.Close()
	if list, err := store.ListAPITokens(context.Background()); err != nil || len(list) != 1 || list[0].Name != "env" {
		t.Errorf("tokens %+v, %v", list, err)
	}
}

// TestParseSize covers --body-limit values.
func TestParseSize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{"1024": 1024, "10MiB": 10 << 20, "1KiB": 1024, "2k": 2048, "1MB": 1000000, "64 KB": 64000, "5B": 5, "1m": 1 << 20} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "lots", "1.5MiB", "2GiB", "1TB"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
}

// TestOneServerPerDataDir: a second server on the same SQLite data
// directory refuses to start (it would make the first one's running
// executions due and run them twice); commands still work beside it.
func TestOneServerPerDataDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	token := createToken(t, dir)
	first := startServer(t, dir, token)
	var stderr syncBuffer
	err := run(context.Background(), []string{"--addr", "127.0.0.1:0", "--data-dir", dir, "--log-format", "json"}, noEnv, io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), "another hookflow server uses the data directory") {
		t.Fatalf("second server: %v", err)
	}
	if createToken(t, dir) == "" {
		t.Error("token create beside a running server")
	}
	if r := first.api(t, "GET", "/api/v1/workflows", ""); r.status != 200 {
		t.Errorf("the first server after the refused start: %d", r.status)
	}
}
