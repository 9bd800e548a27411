package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// TestCrashActing extends the crash test to acting workflows (product.md
// §13): the server is killed (SIGKILL) while executions wait for a delay,
// while they wait for a retry, and while their calls are in flight. After
// the restart every one of them runs to completion from the node it had
// reached: the calls made before the crash are not made again, the one in
// flight is sent again with the same Idempotency-Key, and the waits end on
// time.
func TestCrashActing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary; skipped with -short")
	}
	bin := crashBuild(t)
	dir := t.TempDir()
	env := crashEnv(dir)
	token := crashToken(t, bin, env, "crash test")
	crashSeedAdmin(t, dir)

	// The other side, in this process: it outlives the server.
	var (
		mu      sync.Mutex
		calls   = map[string][]crashCall{} // by path and request id
		holding = true                     // /slow holds its calls
		held    = 0
	)
	release := make(chan struct{})
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		id := gjson.GetBytes(b, "id").Str
		key := r.URL.Path + " " + id
		mu.Lock()
		calls[key] = append(calls[key], crashCall{idem: r.Header.Get("Idempotency-Key"), body: string(b), at: time.Now()})
		n := len(calls[key])
		hold := r.URL.Path == "/slow" && holding
		if hold {
			held++
		}
		mu.Unlock()
		switch {
		case r.URL.Path == "/retry" && n == 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case hold:
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	defer sink.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	srv := crashStart(t, bin, env, "--workers", "128")
	const each = 20
	// Resumed after the delay: the set job stored with the wait is kept,
	// so the body sent after the restart carries the time it had before.
	delayID, delayPath := crashCreateWorkflow(t, srv, token, `{"title":"delay","mode":"async","nodes":[
		{"key":"stamp","type":"set","config":{"value":"{{$system.now}}"}},
		{"key":"wait","type":"delay","config":{"seconds":3}},
		{"key":"send","type":"request","config":{"method":"POST","url":"`+sink.URL+`/delay","body":{"id":"{{$context.body.id}}","stamp":"{{$jobsMapByNodeKey.stamp}}"}}}]}`)
	// Killed while waiting for the retry of the second call: the first is
	// stored and must not be sent again.
	retryID, retryPath := crashCreateWorkflow(t, srv, token, `{"title":"retry","mode":"async","nodes":[
		{"key":"first","type":"request","config":{"method":"POST","url":"`+sink.URL+`/first","body":{"id":"{{$context.body.id}}"}}},
		{"key":"second","type":"request","config":{"method":"POST","url":"`+sink.URL+`/retry","body":{"id":"{{$context.body.id}}"},"retry":{"attempts":3,"backoffSeconds":3}}}]}`)
	// Killed while the second call is in flight.
	slowID, slowPath := crashCreateWorkflow(t, srv, token, `{"title":"slow","mode":"async","nodes":[
		{"key":"first","type":"request","config":{"method":"POST","url":"`+sink.URL+`/before-slow","body":{"id":"{{$context.body.id}}"}}},
		{"key":"slow","type":"request","config":{"method":"POST","url":"`+sink.URL+`/slow","body":{"id":"{{$context.body.id}}"},"timeoutSeconds":60}}]}`)

	for i := range each {
		for _, p := range []string{delayPath, retryPath, slowPath} {
			resp, err := crashClient.Post("http://"+srv.addr+p, "application/json", strings.NewReader(fmt.Sprintf(`{"id":"r%02d"}`, i)))
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("accept: %d", resp.StatusCode)
			}
		}
	}
	// Wait until every delay and retry execution waits and every slow call
	// is held.
	deadline := time.Now().Add(20 * time.Second)
	for {
		waitingDelay := crashCount(t, srv, token, delayID, "waiting")
		waitingRetry := crashCount(t, srv, token, retryID, "waiting")
		mu.Lock()
		h := held
		mu.Unlock()
		if waitingDelay == each && waitingRetry == each && h == each {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("before the kill: %d delays and %d retries waiting, %d calls held; want %d each", waitingDelay, waitingRetry, h, each)
		}
		time.Sleep(50 * time.Millisecond)
	}
	killedAt := time.Now()
	srv.cmd.Process.Signal(syscall.SIGKILL)
	if err := srv.wait(10 * time.Second); err == nil {
		t.Fatal("the server exited 0 after SIGKILL")
	}
	mu.Lock()
	holding = false
	mu.Unlock()
	close(release)

	srv = crashStart(t, bin, env, "--workers", "128")
	deadline = time.Now().Add(30 * time.Second)
	for _, wf := range []int64{delayID, retryID, slowID} {
		for crashCount(t, srv, token, wf, "resolved") < each {
			if time.Now().After(deadline) {
				var page struct{ Items []json.RawMessage }
				crashAPI(t, srv, token, http.MethodGet, fmt.Sprintf("/api/v1/workflows/%d/executions?limit=500", wf), nil, &page)
				for _, it := range page.Items {
					if gjson.GetBytes(it, "status").Str != "resolved" {
						var x json.RawMessage
						crashAPI(t, srv, token, http.MethodGet, fmt.Sprintf("/api/v1/executions/%d", gjson.GetBytes(it, "id").Int()), nil, &x)
						t.Logf("unresolved: %s", x)
					}
				}
				t.Fatalf("workflow %d: %d of %d resolved 30 s after the restart\n%s", wf, crashCount(t, srv, token, wf, "resolved"), each, srv.logs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	t.Logf("all %d executions resolved %v after the kill", 3*each, time.Since(killedAt).Round(time.Millisecond))

	mu.Lock()
	defer mu.Unlock()
	for i := range each {
		id := fmt.Sprintf("r%02d", i)
		// Delay: one call, after the wait, with the stamp stored before the crash.
		d := calls["/delay "+id]
		if len(d) != 1 {
			t.Errorf("%s: %d calls after the delay, want 1", id, len(d))
		} else if stamp := gjson.Get(d[0].body, "stamp").Str; stamp == "" {
			t.Errorf("%s: no stamp in %s", id, d[0].body)
		} else if st, err := time.Parse(time.RFC3339Nano, stamp); err != nil || !st.Before(killedAt) {
			t.Errorf("%s: stamp %s is not from before the kill: the stored set job was not kept", id, stamp)
		}
		// Retry: the first call once, the retried one twice, same key.
		if n := len(calls["/first "+id]); n != 1 {
			t.Errorf("%s: the call before the retried one was made %d times, want 1 (resume at the node that was running)", id, n)
		}
		r := calls["/retry "+id]
		if len(r) != 2 || r[0].idem != r[1].idem || r[0].idem == "" {
			t.Errorf("%s: retried calls %+v, want 2 with one Idempotency-Key", id, r)
		}
		// In flight: the call before it once, the slow one again with the same key.
		if n := len(calls["/before-slow "+id]); n != 1 {
			t.Errorf("%s: the call before the one in flight was made %d times, want 1", id, n)
		}
		s := calls["/slow "+id]
		if len(s) != 2 || s[0].idem != s[1].idem || s[0].idem == "" {
			t.Errorf("%s: calls in flight at the crash %+v, want sent again once with the same Idempotency-Key", id, s)
		}
	}
	// The executions record the attempts of the retried call.
	var page struct{ Items []struct{ ID int64 } }
	crashAPI(t, srv, token, http.MethodGet, fmt.Sprintf("/api/v1/workflows/%d/executions?limit=1", retryID), nil, &page)
	var x json.RawMessage
	crashAPI(t, srv, token, http.MethodGet, fmt.Sprintf("/api/v1/executions/%d", page.Items[0].ID), nil, &x)
	if a := gjson.GetBytes(x, `jobs.#(nodeKey=="second").attempts.#.status`).Raw; a != "[503,200]" {
		t.Errorf("retried job's attempts %s, want [503,200]", a)
	}
	srv.cmd.Process.Signal(syscall.SIGTERM)
	if err := srv.wait(40 * time.Second); err != nil {
		t.Errorf("final SIGTERM: %v", err)
	}
}

type crashCall struct {
	idem, body string
	at         time.Time
}

// crashCount returns how many executions of a workflow have a status (at
// most 500).
func crashCount(t *testing.T, srv *crashServer, token string, wf int64, status string) int {
	t.Helper()
	var page struct{ Items []json.RawMessage }
	crashAPI(t, srv, token, http.MethodGet, fmt.Sprintf("/api/v1/workflows/%d/executions?status=%s&limit=500", wf, status), nil, &page)
	return len(page.Items)
}
