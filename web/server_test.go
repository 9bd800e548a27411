package web_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/db"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/metrics"
	"github.com/hookflow/hookflow/handlers"
	"github.com/hookflow/hookflow/web"
	"github.com/tidwall/gjson"
)

// The admin API of product.md §10 and the health check, through the real
// server assembly over a SQLite store in t.TempDir(). Each test has its own
// server and database, so tests run in parallel.

const apiPublicURL = "https://hooks.example.com"

// testServer is the real server assembly (web.New) over a SQLite store in
// a temporary directory, with one API token; every test of this package
// builds its server with newTestServer, or newLockableEnv where another
// connection must hold the database's write lock.
type testServer struct {
	app     *fiber.App
	svc     *engine.Service
	store   *db.DB
	token   string
	metrics *metrics.Metrics
}

func newTestServer(tb testing.TB, cfg web.Config, publicURL string, opts ...func(*handlers.Handlers)) *testServer {
	tb.Helper()
	return newObservedServer(tb, cfg, publicURL, true, opts...)
}

// newObservedServer is newTestServer with the engine's and the store's
// observer on or off (HOOKFLOW_METRICS_OBSERVER=off), for the benchmark
// of what the metrics cost.
func newObservedServer(tb testing.TB, cfg web.Config, publicURL string, observe bool, hopts ...func(*handlers.Handlers)) *testServer {
	tb.Helper()
	ctx := context.Background()
	box, err := db.NewSecretBox([]byte("web-test-key-0123456789"))
	if err != nil {
		tb.Fatal(err)
	}
	// Metrics are always on, as in production; cfg.Metrics says whether
	// the main listener serves them.
	m := metrics.New("test")
	var dbOpts []db.Option
	if observe {
		dbOpts = append(dbOpts, db.WithObserver(m))
	}
	store, err := db.Open(ctx, filepath.Join(tb.TempDir(), db.FileName), box, dbOpts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	log := slog.New(slog.DiscardHandler)
	svc := engine.NewService(store, store, log)
	if observe {
		svc.UseObserver(m)
		m.WatchPending(store)
	}
	h := &handlers.Handlers{
		Svc: svc, Auth: store, Log: log, Ping: store.Ping, Throttle: handlers.NewThrottle(),
		PublicURL: publicURL,
		FirstRun:  func(*fiber.Ctx) bool { return false },
	}
	for _, o := range hopts {
		o(h)
	}
	tok, rec, err := engine.NewAPIToken("web test")
	if err != nil {
		tb.Fatal(err)
	}
	if err := store.CreateAPIToken(ctx, rec); err != nil {
		tb.Fatal(err)
	}
	return &testServer{app: web.New(cfg, h, log), svc: svc, store: store, token: tok, metrics: m}
}

type apiEnv struct{ *testServer }

// lockableEnv is a test server on a SQLite file whose writes wait at most
// 50 ms for its lock, with /readyz checking writes (ready), and a second
// connection to that file (other): a transaction begun on it holds the
// write lock, as another process would.
type lockableEnv struct {
	*apiEnv
	ready *handlers.Readiness
	other *sql.DB
}

func newLockableEnv(t *testing.T) *lockableEnv {
	t.Helper()
	path := filepath.Join(t.TempDir(), db.FileName)
	box, err := db.NewSecretBox([]byte("web-test-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := db.Open(context.Background(), path, box, db.WithBusyTimeout(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	log := slog.New(slog.DiscardHandler)
	svc := engine.NewService(store, store, log)
	ready := handlers.NewReadiness(store.CheckWrite, time.Millisecond)
	h := &handlers.Handlers{Svc: svc, Auth: store, Log: log, Ping: store.Ping, Throttle: handlers.NewThrottle(),
		Readiness: ready, FirstRun: func(*fiber.Ctx) bool { return false }}
	other, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	return &lockableEnv{&apiEnv{&testServer{app: web.New(web.Config{}, h, log), svc: svc, store: store}}, ready, other}
}

func apiSetup(t *testing.T) *apiEnv {
	t.Helper()
	return &apiEnv{newTestServer(t, web.Config{}, apiPublicURL+"/")}
}

type apiReply struct {
	status int
	header http.Header
	body   []byte
}

func (r apiReply) json() gjson.Result { return gjson.ParseBytes(r.body) }

// call sends an API request with the bearer token; body "" sends none.
func (e *apiEnv) call(t *testing.T, method, path, body string) apiReply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	return e.send(t, req)
}

// send sends a request to the server; an admin API exchange is checked
// against the OpenAPI description on the way (checkOpenAPI).
func (e *apiEnv) send(t *testing.T, req *http.Request) apiReply {
	t.Helper()
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			t.Fatal(err)
		}
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := e.app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	checkOpenAPI(t, req, reqBody, resp.StatusCode, resp.Header, b)
	return apiReply{resp.StatusCode, resp.Header, b}
}

// trigger posts a JSON body to a workflow's public URL.
func (e *apiEnv) trigger(t *testing.T, key, query, body string, headers ...string) apiReply {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/webhook:trigger/"+key+query, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return e.send(t, req)
}

// create posts a document and returns the created workflow's JSON.
func (e *apiEnv) create(t *testing.T, doc string) gjson.Result {
	t.Helper()
	r := e.call(t, http.MethodPost, "/api/v1/workflows", doc)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	return r.json()
}

// apiError checks the JSON error format and returns the message.
func apiError(t *testing.T, r apiReply, status int) string {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d (%s)", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	msgs := r.json().Get("errors.#.message").Array()
	if len(msgs) != 1 || msgs[0].String() == "" {
		t.Errorf("body %s is not the JSON error format", r.body)
		return ""
	}
	return msgs[0].String()
}

var apiExampleDoc = readSection9("../engine/testdata/section9.json")

var keyRE = regexp.MustCompile(`^[a-z0-9]{16,}$`)

func TestHealth(t *testing.T) {
	t.Parallel()
	e := apiSetup(t)
	r := e.send(t, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if r.status != 200 || r.json().Get("status").String() != "ok" {
		t.Errorf("healthz: %d %s", r.status, r.body)
	}
	// The database is part of health.
	e.store.Close()
	r = e.send(t, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	apiError(t, r, http.StatusServiceUnavailable)
}

func TestAPIAuth(t *testing.T) {
	t.Parallel()
	e := apiSetup(t)
	for _, tc := range []struct{ name, auth string }{
		{"missing", ""},
		{"bad token", "Bearer hf_notatoken"},
		{"empty bearer", "Bearer "},
		{"basic", "Basic " + base64.StdEncoding.EncodeToString([]byte("a:b"))},
		{"token without scheme", e.token},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, route := range [][2]string{{"GET", "/api/v1/workflows"}, {"POST", "/api/v1/workflows"}, {"GET", "/api/v1/executions/1"}, {"DELETE", "/api/v1/workflows/1"}} {
				req := httptest.NewRequest(route[0], route[1], strings.NewReader(apiExampleDoc))
				req.Header.Set("Content-Type", "application/json")
				if tc.auth != "" {
					req.Header.Set("Authorization", tc.auth)
				}
				r := e.send(t, req)
				apiError(t, r, http.StatusUnauthorized)
				if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("%s %s: WWW-Authenticate %q", route[0], route[1], got)
				}
			}
		})
	}
	t.Run("scheme in lower case", func(t *testing.T) {
		t.Parallel()
		req := httptest.NewRequest("GET", "/api/v1/workflows", nil)
		req.Header.Set("Authorization", "bearer "+e.token)
		if r := e.send(t, req); r.status != 200 {
			t.Errorf("lower-case bearer: %d %s", r.status, r.body)
		}
	})
}

func TestWorkflowAPI(t *testing.T) {
	t.Parallel()
	e := apiSetup(t)
	ctx := context.Background()

	// Create: 201, Location, the document plus id, key, url, revision.
	r := e.call(t, http.MethodPost, "/api/v1/workflows", apiExampleDoc)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	doc := r.json()
	id, key := doc.Get("id").Int(), doc.Get("key").String()
	if id <= 0 || !keyRE.MatchString(key) || doc.Get("revision").Int() != 1 {
		t.Fatalf("created %s", r.body)
	}
	if got := r.header.Get("Location"); got != "/api/v1/workflows/"+strconv.FormatInt(id, 10) {
		t.Errorf("Location %q", got)
	}
	wantURL := apiPublicURL + "/api/webhook:trigger/" + key
	if doc.Get("url").String() != wantURL {
		t.Errorf("url %q, want %q", doc.Get("url"), wantURL)
	}
	// The export is the document as sent (compacted), after the read-only
	// fields.
	wantBody := `{"id":` + strconv.FormatInt(id, 10) + `,"key":"` + key + `","url":"` + wantURL + `","revision":1,` + apiCompact(t, apiExampleDoc)[1:]
	if string(r.body) != wantBody {
		t.Errorf("created body\n got %s\nwant %s", r.body, wantBody)
	}

	// Get returns the same export.
	g := e.call(t, http.MethodGet, "/api/v1/workflows/"+strconv.FormatInt(id, 10), "")
	if g.status != 200 || string(g.body) != wantBody || !strings.HasPrefix(g.header.Get("Content-Type"), "application/json") {
		t.Errorf("get: %d %s", g.status, g.body)
	}

	// A second workflow, then the list, newest first.
	second := e.create(t, `{"title":"Inbox","mode":"async","enabled":false,"nodes":[]}`)
	l := e.call(t, http.MethodGet, "/api/v1/workflows", "")
	items := l.json().Get("items").Array()
	if l.status != 200 || len(items) != 2 {
		t.Fatalf("list: %d %s", l.status, l.body)
	}
	if it := items[0]; it.Get("id").Int() != second.Get("id").Int() || it.Get("title").String() != "Inbox" || it.Get("mode").String() != "async" ||
		it.Get("enabled").Bool() || it.Get("url").String() != second.Get("url").String() {
		t.Errorf("list item 0 %s", it.Raw)
	}
	if it := items[1]; it.Get("id").Int() != id || it.Get("key").String() != key || it.Get("title").String() != "Payment callback" ||
		it.Get("mode").String() != "sync" || !it.Get("enabled").Bool() || it.Get("url").String() != wantURL {
		t.Errorf("list item 1 %s", it.Raw)
	}

	// Put: a new revision; key and URL unchanged; read-only fields sent back
	// are ignored.
	changed := strings.Replace(g.json().Raw, `"title":"Payment callback"`, `"title":"Payment callback v2"`, 1)
	changed = strings.Replace(changed, `"revision":1`, `"revision":99`, 1)
	changed = strings.Replace(changed, `"key":"`+key+`"`, `"key":"forgedkey000000000000"`, 1)
	p := e.call(t, http.MethodPut, "/api/v1/workflows/"+strconv.FormatInt(id, 10), changed)
	pd := p.json()
	if p.status != 200 || pd.Get("revision").Int() != 2 || pd.Get("key").String() != key || pd.Get("url").String() != wantURL ||
		pd.Get("title").String() != "Payment callback v2" || pd.Get("trigger.basicAuth.password").String() != "s3cret" {
		t.Errorf("put: %d %s", p.status, p.body)
	}
	g = e.call(t, http.MethodGet, "/api/v1/workflows/"+strconv.FormatInt(id, 10), "")
	if gd := g.json(); gd.Get("revision").Int() != 2 || gd.Get("title").String() != "Payment callback v2" {
		t.Errorf("get after put: %s", g.body)
	}
	// The new revision runs at the unchanged URL.
	if tr := e.trigger(t, key, "", `{"order":{"id":5,"status":"paid"}}`, "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("hook:s3cret"))); tr.status != 200 || string(tr.body) != `{"ok":true,"id":5}` {
		t.Errorf("trigger after put: %d %s", tr.status, tr.body)
	}

	// Delete: 204, then 404 everywhere, executions gone.
	d := e.call(t, http.MethodDelete, "/api/v1/workflows/"+strconv.FormatInt(id, 10), "")
	if d.status != http.StatusNoContent || len(d.body) != 0 {
		t.Errorf("delete: %d %s", d.status, d.body)
	}
	apiError(t, e.call(t, http.MethodGet, "/api/v1/workflows/"+strconv.FormatInt(id, 10), ""), 404)
	apiError(t, e.call(t, http.MethodDelete, "/api/v1/workflows/"+strconv.FormatInt(id, 10), ""), 404)
	apiError(t, e.call(t, http.MethodPut, "/api/v1/workflows/"+strconv.FormatInt(id, 10), apiExampleDoc), 404)
	apiError(t, e.call(t, http.MethodGet, "/api/v1/workflows/"+strconv.FormatInt(id, 10)+"/executions", ""), 404)
	apiError(t, e.trigger(t, key, "", `{}`), 404)
	if list, err := e.store.ListExecutions(ctx, engine.ExecutionFilter{WorkflowID: id, Limit: 10}); err != nil || len(list) != 0 {
		t.Errorf("executions after delete: %d, %v", len(list), err)
	}
	for _, path := range []string{"/api/v1/workflows/abc", "/api/v1/workflows/0", "/api/v1/workflows/-1", "/api/v1/executions/abc", "/api/v1/nothing"} {
		apiError(t, e.call(t, http.MethodGet, path, ""), 404)
	}
}

func apiCompact(t *testing.T, s string) string {
	t.Helper()
	var buf bytes.Buffer
	// json.Compact keeps key order and number spelling.
	if err := json.Compact(&buf, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestWorkflowAPIInvalid(t *testing.T) {
	t.Parallel()
	e := apiSetup(t)
	for _, tc := range []struct{ name, doc, field string }{
		{"bad operator", `{"title":"t","mode":"sync","nodes":[{"key":"c","type":"condition","config":{"mode":"branch","rules":{"and":[{"left":"a","op":"bogus","right":"b"}]}}}]}`,
			`nodes[0].config.rules.and[0].op`},
		{"no title", `{"mode":"sync","nodes":[]}`, "title"},
		{"mode", `{"title":"t","mode":"later","nodes":[]}`, "mode"},
		{"response in async", `{"title":"t","mode":"async","nodes":[{"key":"r","type":"response","config":{"status":200}}]}`, "nodes[0].type"},
		{"header name", `{"title":"t","mode":"async","trigger":{"response":{"status":200,"headers":[{"name":"Bad Name","value":"x"}]}},"nodes":[]}`,
			"trigger.response.headers[0].name"},
		{"wrong type", `{"title":"t","mode":"sync","timeoutSeconds":"30","nodes":[]}`, "timeoutSeconds"},
		{"not JSON", `{"title":`, "document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msg := apiError(t, e.call(t, http.MethodPost, "/api/v1/workflows", tc.doc), http.StatusBadRequest)
			if !strings.Contains(msg, tc.field) {
				t.Errorf("message %q does not name %s", msg, tc.field)
			}
		})
	}
	t.Run("not declared as JSON", func(t *testing.T) {
		t.Parallel()
		req := httptest.NewRequest(http.MethodPost, "/api/v1/workflows", strings.NewReader(apiExampleDoc))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("Authorization", "Bearer "+e.token)
		apiError(t, e.send(t, req), http.StatusUnsupportedMediaType)
	})
	t.Run("invalid put keeps the revision", func(t *testing.T) {
		t.Parallel()
		w := e.create(t, `{"title":"keep","mode":"async","nodes":[]}`)
		path := "/api/v1/workflows/" + strconv.FormatInt(w.Get("id").Int(), 10)
		apiError(t, e.call(t, http.MethodPut, path, `{"title":"","mode":"async"}`), http.StatusBadRequest)
		if g := e.call(t, http.MethodGet, path, "").json(); g.Get("revision").Int() != 1 || g.Get("title").String() != "keep" {
			t.Errorf("after invalid put: %s", g.Raw)
		}
	})
}

func TestExecutionAPI(t *testing.T) {
	t.Parallel()
	e := apiSetup(t)
	w := e.create(t, `{"title":"orders","mode":"sync","nodes":[
		{"key":"check","type":"condition","config":{"mode":"continue","rules":{"and":[{"left":"{{$context.body.ok}}","op":"equal","right":true}]}}},
		{"key":"reply","type":"response","config":{"status":201,"headers":[{"name":"X-N","value":"{{$context.body.n}}"}],"body":{"n":"{{$context.body.n}}"}}}]}`)
	id, key := w.Get("id").Int(), w.Get("key").String()
	base := "/api/v1/workflows/" + strconv.FormatInt(id, 10) + "/executions"

	// 5 resolved and 3 failed, in this order.
	for n := range 8 {
		ok := n%3 != 0 // 0, 3 and 6 fail
		r := e.trigger(t, key, "?n="+strconv.Itoa(n)+"&tag[]=a&tag[]=b", `{"ok":`+strconv.FormatBool(ok)+`,"n":`+strconv.Itoa(n)+`}`, "X-Test", "yes", "X-Test-Num", strconv.Itoa(n))
		if (ok && r.status != 201) || (!ok && r.status != 500) {
			t.Fatalf("trigger %d: %d %s", n, r.status, r.body)
		}
	}

	// Paging through everything, three at a time, newest first.
	var all []int64
	before := ""
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("paging does not end")
		}
		path := base + "?limit=3"
		if before != "" {
			path += "&before=" + before
		}
		r := e.call(t, http.MethodGet, path, "")
		if r.status != 200 {
			t.Fatalf("list: %d %s", r.status, r.body)
		}
		items := r.json().Get("items").Array()
		if len(items) > 3 {
			t.Errorf("page of %d items with limit 3", len(items))
		}
		for _, it := range items {
			all = append(all, it.Get("id").Int())
			if it.Get("workflowId").Int() != id || it.Get("revision").Int() != 1 || it.Get("createdAt").String() == "" {
				t.Errorf("item %s", it.Raw)
			}
		}
		before = r.json().Get("next").String()
		if !r.json().Get("next").Exists() {
			t.Fatalf("no next in %s", r.body)
		}
		if before == "" {
			break
		}
	}
	if len(all) != 8 {
		t.Fatalf("paged %d executions, want 8: %v", len(all), all)
	}
	for i := 1; i < len(all); i++ {
		if all[i] >= all[i-1] {
			t.Errorf("pages overlap or are not newest first: %v", all)
		}
	}

	// Status filter.
	r := e.call(t, http.MethodGet, base+"?status=failed", "")
	failed := r.json().Get("items").Array()
	if r.status != 200 || len(failed) != 3 || r.json().Get("next").String() != "" {
		t.Errorf("failed: %d %s", r.status, r.body)
	}
	for _, it := range failed {
		if it.Get("status").String() != "failed" || it.Get("error").String() != "workflow failed at node check" {
			t.Errorf("failed item %s", it.Raw)
		}
	}
	// Exactly a page full: the page itself says it is the last one.
	r = e.call(t, http.MethodGet, base+"?status=resolved&limit=5", "")
	if items := r.json().Get("items").Array(); len(items) != 5 || r.json().Get("next").String() != "" {
		t.Errorf("resolved, limit 5: %s", r.body)
	}
	r = e.call(t, http.MethodGet, base+"?status=resolved&limit=4", "")
	if items := r.json().Get("items").Array(); len(items) != 4 || r.json().Get("next").String() == "" {
		t.Errorf("resolved, limit 4: %s", r.body)
	} else if r2 := e.call(t, http.MethodGet, base+"?status=resolved&limit=4&before="+r.json().Get("next").String(), ""); len(r2.json().Get("items").Array()) != 1 || r2.json().Get("next").String() != "" {
		t.Errorf("page after the first 4 resolved: %s", r2.body)
	}
	for _, q := range []string{"?status=bogus", "?limit=0", "?limit=x", "?limit=501", "?before=x", "?before=-5"} {
		apiError(t, e.call(t, http.MethodGet, base+q, ""), http.StatusBadRequest)
	}

	// One execution in detail: the newest, n=7 (resolved).
	r = e.call(t, http.MethodGet, "/api/v1/executions/"+strconv.FormatInt(all[0], 10), "")
	if r.status != 200 {
		t.Fatalf("detail: %d %s", r.status, r.body)
	}
	d := r.json()
	for path, want := range map[string]string{
		"id":                      strconv.FormatInt(all[0], 10),
		"workflowId":              strconv.FormatInt(id, 10),
		"status":                  "resolved",
		"revision":                "1",
		"request.method":          "POST",
		"request.query":           "n=7&tag[]=a&tag[]=b",
		"request.body":            `{"ok":true,"n":7}`,
		"request.headers.x-test":  "yes",
		"context.headers.x-test":  "yes",
		"context.query.n":         "7",
		"context.query.tag":       `["a","b"]`,
		"context.body":            `{"ok":true,"n":7}`,
		"jobs.#":                  "2",
		"jobs.0.nodeKey":          "check",
		"jobs.0.status":           "resolved",
		"jobs.0.result":           "true",
		"jobs.1.nodeKey":          "reply",
		"jobs.1.result":           `{"status":201}`,
		"response.status":         "201",
		"response.body":           `{"n":7}`,
		"response.contentType":    "application/json",
		"response.headers.0.name": "X-N",
	} {
		if got := d.Get(path); got.String() != want && got.Raw != want {
			t.Errorf("%s = %s, want %s", path, got.Raw, want)
		}
	}
	if d.Get("request.headers.X-Test").Exists() {
		t.Errorf("request headers not lower-cased: %s", d.Get("request.headers").Raw)
	}
	// A failed one: the job that failed is recorded, no response node ran.
	r = e.call(t, http.MethodGet, "/api/v1/executions/"+strconv.FormatInt(failed[0].Get("id").Int(), 10), "")
	d = r.json()
	if d.Get("status").String() != "failed" || d.Get("jobs.#").Int() != 1 || d.Get("jobs.0.status").String() != "failed" ||
		d.Get("jobs.0.result").Raw != "false" || d.Get("response.status").Int() != 500 {
		t.Errorf("failed detail %s", r.body)
	}
	apiError(t, e.call(t, http.MethodGet, "/api/v1/executions/999999999", ""), 404)
}

// TestRevisions: executions keep the revision they ran.
func TestRevisions(t *testing.T) {
	t.Parallel()
	e := apiSetup(t)
	doc := `{"title":"rev","mode":"sync","nodes":[{"key":"r","type":"response","config":{"status":200,"body":"v1"}}]}`
	w := e.create(t, doc)
	id, key := strconv.FormatInt(w.Get("id").Int(), 10), w.Get("key").String()
	if r := e.trigger(t, key, "", `{}`); string(r.body) != "v1" {
		t.Fatalf("first run: %d %s", r.status, r.body)
	}
	p := e.call(t, http.MethodPut, "/api/v1/workflows/"+id, strings.Replace(doc, `"v1"`, `"v2"`, 1))
	if p.status != 200 || p.json().Get("revision").Int() != 2 {
		t.Fatalf("put: %d %s", p.status, p.body)
	}
	if r := e.trigger(t, key, "", `{}`); string(r.body) != "v2" {
		t.Fatalf("second run: %d %s", r.status, r.body)
	}
	items := e.call(t, http.MethodGet, "/api/v1/workflows/"+id+"/executions", "").json().Get("items").Array()
	if len(items) != 2 {
		t.Fatalf("%d executions", len(items))
	}
	newer, older := items[0], items[1]
	if newer.Get("revision").Int() != 2 || older.Get("revision").Int() != 1 {
		t.Errorf("revisions %d (newer), %d (older)", newer.Get("revision").Int(), older.Get("revision").Int())
	}
	for ex, want := range map[int64][2]string{older.Get("id").Int(): {"1", "v1"}, newer.Get("id").Int(): {"2", "v2"}} {
		d := e.call(t, http.MethodGet, "/api/v1/executions/"+strconv.FormatInt(ex, 10), "").json()
		if d.Get("revision").String() != want[0] || d.Get("response.body").String() != want[1] {
			t.Errorf("execution %d: revision %s body %s, want %v", ex, d.Get("revision"), d.Get("response.body"), want)
		}
	}
	if g := e.call(t, http.MethodGet, "/api/v1/workflows/"+id, "").json(); g.Get("revision").Int() != 2 || g.Get("key").String() != key {
		t.Errorf("workflow after put: %s", g.Raw)
	}
}

// GET /api/v1/workflows/{id}/revisions and /revisions/{n} (issue 12,
// point 11).
func TestRevisionsAPI(t *testing.T) {
	t.Parallel()
	e := apiSetup(t)
	doc := `{"title":"rev","mode":"sync","trigger":{"basicAuth":{"enabled":true,"username":"u","password":"p1"}},"nodes":[{"key":"r","type":"response","config":{"status":200,"body":"v1"}}]}`
	w := e.create(t, doc)
	id := strconv.FormatInt(w.Get("id").Int(), 10)
	if p := e.call(t, http.MethodPut, "/api/v1/workflows/"+id, strings.Replace(doc, `"v1"`, `"v2"`, 1)); p.status != 200 {
		t.Fatalf("put: %d %s", p.status, p.body)
	}
	list := e.call(t, http.MethodGet, "/api/v1/workflows/"+id+"/revisions", "")
	if list.status != 200 {
		t.Fatalf("list: %d %s", list.status, list.body)
	}
	items := list.json().Get("items").Array()
	if len(items) != 2 || items[0].Get("revision").Int() != 2 || !items[0].Get("current").Bool() || items[1].Get("current").Bool() ||
		list.json().Get("current").Int() != 2 || items[1].Get("url").String() != "/api/v1/workflows/"+id+"/revisions/1" {
		t.Fatalf("list: %s", list.body)
	}
	if _, err := time.Parse(time.RFC3339, items[0].Get("createdAt").String()); err != nil {
		t.Errorf("createdAt: %v", err)
	}
	one := e.call(t, http.MethodGet, items[1].Get("url").String(), "")
	j := one.json()
	if one.status != 200 || j.Get("revision").Int() != 1 || j.Get("nodes.0.config.body").String() != "v1" ||
		j.Get("id").String() != id || j.Get("trigger.basicAuth.password").String() != "p1" || !j.Get("enabled").Bool() || j.Get("createdAt").String() == "" {
		t.Errorf("revision 1: %d %s", one.status, one.body)
	}
	for _, path := range []string{"/revisions/3", "/revisions/0", "/revisions/x"} {
		apiError(t, e.call(t, http.MethodGet, "/api/v1/workflows/"+id+path, ""), http.StatusNotFound)
	}
	apiError(t, e.call(t, http.MethodGet, "/api/v1/workflows/99/revisions", ""), http.StatusNotFound)
	apiError(t, e.call(t, http.MethodGet, "/api/v1/workflows/99/revisions/1", ""), http.StatusNotFound)
}

// A PUT without the Basic Auth password keeps the stored one (product.md
// §11); "enabled" in a PUT sets the state and its absence keeps it (issue
// 12, points 13 and 16).
func TestReplaceKeepsSecretAndState(t *testing.T) {
	t.Parallel()
	e := apiSetup(t)
	w := e.create(t, `{"title":"s","mode":"async","trigger":{"basicAuth":{"enabled":true,"username":"u","password":"keep-me"}},"nodes":[]}`)
	id := strconv.FormatInt(w.Get("id").Int(), 10)
	key := w.Get("key").String()
	noSecret := `{"title":"s2","mode":"async","enabled":false,"trigger":{"basicAuth":{"enabled":true,"username":"u"}},"nodes":[]}`
	p := e.call(t, http.MethodPut, "/api/v1/workflows/"+id, noSecret)
	if p.status != 200 || p.json().Get("trigger.basicAuth.password").String() != "keep-me" || p.json().Get("enabled").Bool() {
		t.Fatalf("put without password: %d %s", p.status, p.body)
	}
	if r := e.trigger(t, key, "", `{}`); r.status != http.StatusNotFound {
		t.Errorf("disabled by PUT, the URL answered %d", r.status)
	}
	// No "enabled": the state stays off.
	p = e.call(t, http.MethodPut, "/api/v1/workflows/"+id, strings.Replace(noSecret, `"enabled":false,`, "", 1))
	if p.status != 200 || p.json().Get("enabled").Bool() {
		t.Fatalf("put without enabled: %d %s", p.status, p.body)
	}
	// An explicit empty password is a real change: Basic Auth on without
	// one is refused.
	bad := e.call(t, http.MethodPut, "/api/v1/workflows/"+id, `{"title":"s","mode":"async","trigger":{"basicAuth":{"enabled":true,"username":"u","password":""}},"nodes":[]}`)
	if msg := apiError(t, bad, http.StatusBadRequest); !strings.Contains(msg, "password") {
		t.Errorf("empty password: %s", msg)
	}
	// A new workflow from such a document cannot have the password: the
	// error says why.
	cr := e.call(t, http.MethodPost, "/api/v1/workflows", noSecret)
	if msg := apiError(t, cr, http.StatusBadRequest); !strings.Contains(msg, "export without secrets") {
		t.Errorf("create without password: %s", msg)
	}
	p = e.call(t, http.MethodPut, "/api/v1/workflows/"+id, `{"title":"s","mode":"async","enabled":true,"trigger":{"basicAuth":{"enabled":true,"username":"u"}},"nodes":[]}`)
	if p.status != 200 || !p.json().Get("enabled").Bool() {
		t.Fatalf("put enabling: %d %s", p.status, p.body)
	}
	req := httptest.NewRequest(http.MethodPost, "/api/webhook:trigger/"+key, strings.NewReader(`{}`))
	req.SetBasicAuth("u", "keep-me")
	if r := e.send(t, req); r.status != http.StatusOK {
		t.Errorf("with the kept password: %d %s", r.status, r.body)
	}
}
