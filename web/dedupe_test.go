package web_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine/outbound"
	"github.com/hookflow/hookflow/handlers"
)

// Idempotent receive (product.md §12) through the real server assembly.

func (e *trustEnv) execution(t *testing.T, id string) []byte {
	t.Helper()
	r := e.call(t, http.MethodGet, "/api/v1/executions/"+id, "")
	if r.status != 200 {
		t.Fatalf("execution %s: %d %s", id, r.status, r.body)
	}
	return r.body
}

// TestDedupeAsync: a retried delivery makes no execution, gets the
// trigger's reply rendered again for it with Hookflow-Duplicate-Of, and
// counts on the first execution; another key, or no key, runs.
func TestDedupeAsync(t *testing.T) {
	t.Parallel()
	e := trustSetup(t)
	w := e.create(t, `{"title":"gh","mode":"async","trigger":{"dedupe":{"key":"{{$context.headers.x-github-delivery}}"},
		"response":{"status":202,"headers":[{"name":"X-Seen","value":"{{$context.body.n}}"}],"body":{"execution":"{{$system.executionId}}"}}},"nodes":[]}`)
	id, key := w.Get("id").Int(), w.Get("key").Str
	first := e.post(t, key, "application/json", `{"n":1}`, "X-GitHub-Delivery", "d-1")
	if first.status != 202 || first.header.Get(handlers.HeaderDuplicateOf) != "" {
		t.Fatalf("first: %d %s %v", first.status, first.body, first.header)
	}
	execID := first.json().Get("execution").String()
	for i := 2; i <= 3; i++ {
		r := e.post(t, key, "application/json", `{"n":`+strconv.Itoa(i)+`}`, "X-GitHub-Delivery", "d-1")
		if r.status != 202 || r.header.Get(handlers.HeaderDuplicateOf) != execID || r.json().Get("execution").String() != execID {
			t.Errorf("retry %d: %d %s, Duplicate-Of %q, want %s", i, r.status, r.body, r.header.Get(handlers.HeaderDuplicateOf), execID)
		}
		// Rendered again for this request.
		if r.header.Get("X-Seen") != strconv.Itoa(i) {
			t.Errorf("retry %d: X-Seen %q", i, r.header.Get("X-Seen"))
		}
	}
	if r := e.post(t, key, "application/json", `{}`, "X-GitHub-Delivery", "d-2"); r.header.Get(handlers.HeaderDuplicateOf) != "" {
		t.Error("another delivery is a duplicate")
	}
	// No header: the key renders empty, no deduplication.
	for range 2 {
		if r := e.post(t, key, "application/json", `{}`); r.status != 202 || r.header.Get(handlers.HeaderDuplicateOf) != "" {
			t.Errorf("without a key: %d %v", r.status, r.header)
		}
	}
	if n := e.count(t, id); n != 4 {
		t.Errorf("%d executions, want 4", n)
	}
	x := e.execution(t, execID)
	if !bytes.Contains(x, []byte(`"duplicates":2`)) {
		t.Errorf("first execution: %s", x)
	}
	list := e.call(t, http.MethodGet, "/api/v1/workflows/"+strconv.FormatInt(id, 10)+"/executions", "").json()
	for _, it := range list.Get("items").Array() {
		want := int64(0)
		if it.Get("id").String() == execID {
			want = 2
		}
		if !it.Get("duplicates").Exists() || it.Get("duplicates").Int() != want {
			t.Errorf("list item %s", it.Raw)
		}
	}
}

// TestDedupeConcurrent: many concurrent requests with one key make exactly
// one execution, async or sync, and every other one names it.
func TestDedupeConcurrent(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"async", "sync"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := trustSetup(t)
			nodes := `[]`
			if mode == "sync" {
				nodes = `[{"key":"r","type":"response","config":{"status":201,"headers":[{"name":"X-Order","value":"{{$context.body.id}}"}],"body":{"id":"{{$context.body.id}}"}}}]`
			}
			w := e.create(t, `{"title":"c","mode":"`+mode+`","trigger":{"dedupe":{"key":"{{$context.body.id}}"}},"nodes":`+nodes+`}`)
			id, key := w.Get("id").Int(), w.Get("key").Str
			const n = 64
			replies := sendConcurrently(t, e, n, func() *http.Request {
				req := httptest.NewRequest(http.MethodPost, handlers.TriggerPath(key), strings.NewReader(`{"id":"evt_42"}`))
				req.Header.Set("Content-Type", "application/json")
				return req
			})
			if c := e.count(t, id); c != 1 {
				t.Fatalf("%d executions for %d concurrent duplicates, want 1", c, n)
			}
			list := e.call(t, http.MethodGet, "/api/v1/workflows/"+strconv.FormatInt(id, 10)+"/executions", "").json()
			execID := list.Get("items.0.id").String()
			dups := 0
			for _, r := range replies {
				if r.status != 200 && r.status != 201 {
					t.Errorf("status %d %s", r.status, r.body)
				}
				switch r.header.Get(handlers.HeaderDuplicateOf) {
				case "":
				case execID:
					dups++
				default:
					t.Errorf("Duplicate-Of %q, want %s", r.header.Get(handlers.HeaderDuplicateOf), execID)
				}
				if mode == "sync" && (r.status != 201 || string(r.body) != `{"id":"evt_42"}` || r.header.Get("X-Order") != "evt_42") {
					t.Errorf("sync reply %d %s %v", r.status, r.body, r.header)
				}
			}
			if dups != n-1 {
				t.Errorf("%d replies name the first execution, want %d", dups, n-1)
			}
			if x := e.execution(t, execID); !bytes.Contains(x, []byte(`"duplicates":`+strconv.Itoa(n-1))) {
				t.Errorf("execution %s", x)
			}
		})
	}
}

// TestDedupeSync: the §9 example with a dedupe key: a retry gets the first
// execution's stored reply byte for byte; a window of 1 s ends.
func TestDedupeSync(t *testing.T) {
	t.Parallel()
	e := trustSetup(t)
	doc := strings.Replace(apiExampleDoc, `"headers": [{"path": "x-request-id", "alias": "Request ID"}],`,
		`"headers": [{"path": "x-request-id", "alias": "Request ID"}], "dedupe": {"key": "{{$context.headers.x-request-id}}", "windowSeconds": 1},`, 1)
	if doc == apiExampleDoc {
		t.Fatal("the §9 example changed: update this test")
	}
	w := e.create(t, doc)
	id, key := w.Get("id").Int(), w.Get("key").Str
	basic := "Basic " + base64Std("hook:s3cret")
	first := e.post(t, key, "application/json", `{"order":{"id":12345678901234567891,"status":"paid"}}`, "Authorization", basic, "X-Request-Id", "r-1")
	if first.status != 200 || first.header.Get("X-Order") != "12345678901234567891" {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	// The retry carries another body: the stored reply comes back as it
	// was, not one computed from this request.
	again := e.post(t, key, "application/json", `{"order":{"id":1,"status":"refunded"}}`, "Authorization", basic, "X-Request-Id", "r-1")
	if again.status != first.status || !bytes.Equal(again.body, first.body) || again.header.Get("X-Order") != first.header.Get("X-Order") ||
		again.header.Get("Content-Type") != first.header.Get("Content-Type") || again.header.Get(handlers.HeaderDuplicateOf) == "" {
		t.Errorf("duplicate reply %d %s %v, want %d %s", again.status, again.body, again.header, first.status, first.body)
	}
	// Authentication comes first: a duplicate with bad credentials is a 401.
	if r := e.post(t, key, "application/json", `{}`, "X-Request-Id", "r-1"); r.status != 401 {
		t.Errorf("duplicate without credentials: %d", r.status)
	}
	time.Sleep(1100 * time.Millisecond)
	later := e.post(t, key, "application/json", `{"order":{"id":2,"status":"refunded"}}`, "Authorization", basic, "X-Request-Id", "r-1")
	if later.status != 422 || later.header.Get(handlers.HeaderDuplicateOf) != "" {
		t.Errorf("after the window: %d %s %v", later.status, later.body, later.header)
	}
	if n := e.count(t, id); n != 2 {
		t.Errorf("%d executions, want 2", n)
	}
}

// TestDedupeSyncWhileRunning: a sync flow with effects claims its key
// before it runs; a duplicate meanwhile gets 409 with Retry-After: 1, and
// once the first is stored, its reply.
func TestDedupeSyncWhileRunning(t *testing.T) {
	t.Parallel()
	e := actSetup(t, outbound.DenyNone)
	release := make(chan struct{})
	var once sync.Once
	entered := make(chan struct{})
	s := newSink(t, func(n int, w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(entered) })
		<-release
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"charged":true}`)
	})
	w := e.create(t, `{"title":"pay","mode":"sync","timeoutSeconds":20,"trigger":{"dedupe":{"key":"{{$context.body.payment}}"}},"nodes":[
		{"key":"charge","type":"request","config":{"method":"POST","url":"`+s.URL+`/charge"}},
		{"key":"r","type":"response","config":{"status":200,"body":{"charged":"{{$jobsMapByNodeKey.charge.body.charged}}","payment":"{{$context.body.payment}}"}}}]}`)
	id, key := w.Get("id").Int(), w.Get("key").Str
	te := &trustEnv{e.apiEnv}
	firstDone := make(chan apiReply, 1)
	go func() { firstDone <- te.post(t, key, "application/json", `{"payment":"p-1"}`) }()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the first request never reached its request node")
	}
	r := te.post(t, key, "application/json", `{"payment":"p-1"}`)
	if msg := apiError(t, r, http.StatusConflict); !strings.Contains(msg, "still running") {
		t.Errorf("409 message %q", msg)
	}
	if r.header.Get("Retry-After") != "1" || r.header.Get(handlers.HeaderDuplicateOf) == "" {
		t.Errorf("409 headers %v", r.header)
	}
	close(release)
	first := <-firstDone
	if first.status != 200 || string(first.body) != `{"charged":true,"payment":"p-1"}` {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	again := te.post(t, key, "application/json", `{"payment":"p-1"}`)
	if again.status != 200 || !bytes.Equal(again.body, first.body) || again.header.Get(handlers.HeaderDuplicateOf) != r.header.Get(handlers.HeaderDuplicateOf) {
		t.Errorf("after the first finished: %d %s %v", again.status, again.body, again.header)
	}
	if n := len(s.got()); n != 1 {
		t.Errorf("the payment was charged %d times", n)
	}
	if n := te.count(t, id); n != 1 {
		t.Errorf("%d executions, want 1", n)
	}
}

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
