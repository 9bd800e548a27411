package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookflow/hookflow/db"
	"github.com/hookflow/hookflow/engine"
	_ "modernc.org/sqlite"
)

// TestCrashSafety proves the promise of product.md §5 on the real binary:
// an async request that got a 2xx is never lost. It builds hookflow, runs
// it as a subprocess, fires async requests from many goroutines and kills
// the server in the middle of the stream, first with SIGKILL (a crash), then
// with SIGTERM (a graceful stop), restarting it on the same data directory
// each time. After each restart every acknowledged request must have run to
// completion (at least once; duplicates are logged, as a request whose reply
// was lost in the crash may have been stored), nothing may be left queued
// or running, and a graceful stop must cut no request off: each one in
// flight gets a complete reply (never a 5xx) or a connection error, and the
// process exits 0 after logging "stopped".
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary; skipped with -short")
	}
	if runtime.GOOS == "windows" {
		t.Skip("needs POSIX signals")
	}
	start := time.Now()
	phase := func(what string) { t.Logf("%8v %s", time.Since(start).Round(time.Millisecond), what) }
	bin := crashBuild(t)
	phase("built")
	dir := t.TempDir()
	env := crashEnv(dir)

	token := crashToken(t, bin, env, "crash test")
	crashSeedAdmin(t, dir)

	srv := crashStart(t, bin, env)
	phase("started")
	// Two workflows, sent every other request: one whose flow is pure and
	// runs as its request is accepted, one whose flow goes through the
	// worker pool (its first node is a kind that exists only in the
	// crashtest build of the server).
	inlineID, inlinePath := crashCreateWorkflow(t, srv, token, crashDoc)
	workerID, workerPath := crashCreateWorkflow(t, srv, token, crashWorkerDoc)
	wfIDs, hookPaths := []int64{inlineID, workerID}, []string{inlinePath, workerPath}

	// SIGKILL: a crash in the middle of the stream.
	sent := crashFire(t, srv, hookPaths, "kill", 16, 300, syscall.SIGKILL)
	phase("fired, SIGKILL sent")
	if err := srv.wait(10 * time.Second); err == nil {
		t.Fatal("the server exited 0 after SIGKILL")
	}
	phase("killed")
	t.Logf("SIGKILL: %d requests acknowledged, %d connection errors, %d other replies", len(sent.acked), sent.connErrors, len(sent.other))
	if len(sent.other) > 0 {
		t.Errorf("SIGKILL: replies other than 2xx: %v", sent.other)
	}
	srv = crashStart(t, bin, env)
	phase("restarted")
	if n, ok := srv.requeued(); ok {
		t.Logf("SIGKILL: the restart requeued %d executions left running", n)
	}
	crashDrain(t, srv, token, wfIDs)
	phase("queue drained")
	crashVerify(t, srv, wfIDs, "kill", sent.acked)

	// SIGTERM: a graceful stop in the middle of the stream.
	sent = crashFire(t, srv, hookPaths, "term", 16, 300, syscall.SIGTERM)
	phase("fired, SIGTERM sent")
	t.Logf("SIGTERM: %d requests acknowledged, %d connection errors, %d other replies", len(sent.acked), sent.connErrors, len(sent.other))
	if len(sent.other) > 0 {
		t.Errorf("SIGTERM: replies other than 2xx (a graceful stop must not refuse or fail requests): %v", sent.other)
	}
	if len(sent.cutOff) > 0 {
		t.Errorf("SIGTERM: replies cut off after their status line: %v", sent.cutOff)
	}
	// Connections that were opened but never sent a request (Go's client
	// dials spare ones) must not hold the stop until their read deadline,
	// which is long here on purpose.
	if err := srv.wait(40 * time.Second); err != nil {
		t.Errorf("SIGTERM: the server did not exit 0: %v\n%s", err, srv.logs.String())
	}
	if d := time.Since(sent.signaledAt); d > 10*time.Second {
		t.Errorf("SIGTERM: the graceful stop took %v", d)
	} else {
		t.Logf("SIGTERM: the server exited %v after the signal", d.Round(time.Millisecond))
	}
	phase("stopped")
	if !srv.logged("stopped") {
		t.Errorf("SIGTERM: no \"stopped\" in the log:\n%s", srv.logs.String())
	}
	// A graceful stop finishes the batches it claimed: nothing is left
	// running. Requests stored but not yet claimed stay queued for the
	// next start.
	left := crashStatuses(t, dir, wfIDs)
	if left["running"] > 0 {
		t.Errorf("SIGTERM: %d executions left running by a graceful stop", left["running"])
	}
	t.Logf("SIGTERM: left queued for the next start: %d", left["queued"])
	srv = crashStart(t, bin, env)
	phase("restarted")
	crashDrain(t, srv, token, wfIDs)
	phase("queue drained")
	crashVerify(t, srv, wfIDs, "term", sent.acked)

	srv.cmd.Process.Signal(syscall.SIGTERM)
	if err := srv.wait(40 * time.Second); err != nil {
		t.Errorf("final SIGTERM: %v", err)
	}
	phase("stopped again")
}

// crashSeedAdmin stores the admin account before the first start, with a
// cheap bcrypt hash of HOOKFLOW_ADMIN_PASSWORD: the server then finds an
// admin and skips hashing one at cost 12, which takes seconds under -race
// and is not what this test is about.
func crashSeedAdmin(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	store := openDataDir(t, dir)
	defer store.Close()
	const cost4Hash = "$2a$04$WFrWR7ca5gZjwfejKNCqxuuguwiI4M5TYNlKDZQ6WAPiAsGBiq7QW" // crash-test-password-1
	if err := store.CreateUser(ctx, &engine.User{Email: "admin@example.com", PasswordHash: cost4Hash}); err != nil {
		t.Fatal(err)
	}
}

// crashBuild builds the hookflow binary into a temporary directory.
func crashBuild(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "hookflow")
	// The crashtest tag adds a node kind that sends its executions to the
	// worker pool (crashkind.go).
	args := []string{"build", "-tags", "crashtest", "-o", bin}
	// Under `go test -race` (make test) the server is built with -race
	// too: it reuses the packages just compiled for the test, and the
	// server runs under the race detector while it is hammered.
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				args = append(args, "-race")
			}
		}
	}
	cmd := exec.Command(goBin, append(args, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// crashEnv is the environment of every hookflow process of the test: the
// caller's, without HOOKFLOW_* settings, plus the data directory and the
// first admin.
func crashEnv(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKFLOW_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"HOOKFLOW_DATA_DIR="+dir,
		"HOOKFLOW_ADMIN_EMAIL=admin@example.com",
		"HOOKFLOW_ADMIN_PASSWORD=crash-test-password-1",
	)
}

func crashCommand(bin string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	return cmd
}

// crashToken runs `hookflow token create` with the built binary and
// returns the token.
func crashToken(t *testing.T, bin string, env []string, name string) string {
	t.Helper()
	out, err := crashCommand(bin, env, "token", "create", "--name", name).Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// crashServer is a running hookflow subprocess.
type crashServer struct {
	cmd    *exec.Cmd
	addr   string
	logs   *crashLog
	exited chan struct{}
	err    error // of Wait, once exited is closed
}

// crashLog collects the server's log lines.
type crashLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *crashLog) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

func (l *crashLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// logged reports whether a log line has the message msg.
func (s *crashServer) logged(msg string) bool {
	s.logs.mu.Lock()
	defer s.logs.mu.Unlock()
	for _, line := range s.logs.lines {
		var rec struct{ Msg string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == msg {
			return true
		}
	}
	return false
}

// crashReadTimeout is the server's --read-timeout in this test: longer than
// the stop may take, so that a shutdown waiting for silent connections until
// their read deadline fails the test.
const crashReadTimeout = 60 * time.Second

// requeued returns the count the server logged when it put executions
// left running due again at start.
func (s *crashServer) requeued() (int, bool) {
	s.logs.mu.Lock()
	defer s.logs.mu.Unlock()
	for _, line := range s.logs.lines {
		var rec struct {
			Msg   string
			Count int
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "resuming executions left running" {
			return rec.Count, true
		}
	}
	return 0, false
}

// crashStart starts the server on a free port of 127.0.0.1 and waits for
// its "hookflow started" line, which names the address.
func crashStart(t *testing.T, bin string, env []string, extra ...string) *crashServer {
	t.Helper()
	args := []string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json", "--workers", "2", "--read-timeout", crashReadTimeout.String()}
	cmd := crashCommand(bin, env, append(args, extra...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &crashServer{cmd: cmd, logs: &crashLog{}, exited: make(chan struct{})}
	started := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.logs.add(line)
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "hookflow started" {
				started <- rec.Addr
			}
		}
	}()
	go func() {
		<-scanned // Wait closes the pipe: read it to the end first
		s.err = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			cmd.Process.Kill()
			<-s.exited
		}
	})
	select {
	case s.addr = <-started:
	case <-s.exited:
		t.Fatalf("the server exited at start: %v\n%s", s.err, s.logs.String())
	case <-time.After(90 * time.Second):
		// Generous: under -race, on a machine loaded by other tests, a
		// start can take many seconds.
		t.Fatalf("the server did not start within 90 s:\n%s", s.logs.String())
	}
	return s
}

// wait waits for the process to exit and returns what Wait returned.
func (s *crashServer) wait(d time.Duration) error {
	select {
	case <-s.exited:
		return s.err
	case <-time.After(d):
		s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("still running after %v; killed", d)
	}
}

var crashClient = &http.Client{
	Timeout:   10 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 32, DisableCompression: true},
}

// crashAPI calls the admin API and decodes the JSON reply into out.
func crashAPI(t *testing.T, srv *crashServer, token, method, path string, body []byte, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+srv.addr+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := crashClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// crashDoc is an async workflow whose flow resolves for every request the
// test sends: a condition that stops at a missing id, then a branch to an
// end node.
const crashDoc = `{"title":"crash test","mode":"async","nodes":[
  {"key":"has_id","type":"condition","config":{"mode":"continue","rules":{"and":[
    {"left":"{{$context.body.id}}","op":"notEmpty"}]}}},
  {"key":"route","type":"condition","config":{"mode":"branch","rules":{"and":[
    {"left":"{{$context.body.n}}","op":"gte","right":0}]}},
   "branches":{
     "yes":[{"key":"done","type":"end","config":{"status":"resolved"}}],
     "no":[{"key":"odd","type":"end","config":{"status":"failed"}}]}}
]}`

// crashWorkerDoc is crashDoc behind a node that is not pure: its
// executions are stored for the worker pool instead of running inline.
var crashWorkerDoc = strings.Replace(crashDoc, `"nodes":[`, `"nodes":[{"key":"work","type":"crashtest-worker"},`, 1)

// crashCreateWorkflow creates a workflow and returns its id and the path
// of its URL (the port changes at each restart).
func crashCreateWorkflow(t *testing.T, srv *crashServer, token, doc string) (int64, string) {
	t.Helper()
	var w struct {
		ID  int64
		URL string
	}
	crashAPI(t, srv, token, http.MethodPost, "/api/v1/workflows", []byte(doc), &w)
	u, err := url.Parse(w.URL)
	if err != nil || w.ID == 0 || !strings.HasPrefix(u.Path, "/api/webhook:trigger/") {
		t.Fatalf("created workflow: %+v (%v)", w, err)
	}
	return w.ID, u.Path
}

// crashSent is what the clients saw.
type crashSent struct {
	acked      []string // ids of requests answered 2xx
	other      []string // replies other than 2xx
	cutOff     []string // replies whose body could not be read
	connErrors int
	signaledAt time.Time
}

// crashFire sends async requests from workers goroutines, each with a
// unique id, and sends sig to the server once after acks requests were
// acknowledged. Every goroutine stops at its first failed request after the
// signal (the server is gone), or after 20 s.
func crashFire(t *testing.T, srv *crashServer, hookPaths []string, prefix string, workers, acks int, sig os.Signal) *crashSent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var (
		mu       sync.Mutex
		res      = &crashSent{}
		next     atomic.Int64
		ackCount atomic.Int64
		signaled atomic.Bool
		once     sync.Once
		wg       sync.WaitGroup
	)
	signal := func() {
		once.Do(func() {
			res.signaledAt = time.Now()
			signaled.Store(true)
			if err := srv.cmd.Process.Signal(sig); err != nil {
				t.Errorf("signal %v: %v", sig, err)
			}
		})
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				n := next.Add(1)
				id := fmt.Sprintf("%s-%06d", prefix, n)
				body := fmt.Sprintf(`{"id":%q,"n":%d}`, id, n)
				hookURL := "http://" + srv.addr + hookPaths[int(n)%len(hookPaths)]
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, hookURL, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := crashClient.Do(req)
				if err != nil {
					mu.Lock()
					res.connErrors++
					mu.Unlock()
					if signaled.Load() {
						return
					}
					if ctx.Err() == nil {
						t.Errorf("%s before the signal: %v", id, err)
					}
					return
				}
				_, rerr := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				switch {
				case rerr != nil:
					res.cutOff = append(res.cutOff, fmt.Sprintf("%s: %d then %v", id, resp.StatusCode, rerr))
				case resp.StatusCode/100 == 2:
					res.acked = append(res.acked, id)
				default:
					res.other = append(res.other, fmt.Sprintf("%s: %d", id, resp.StatusCode))
				}
				mu.Unlock()
				if resp.StatusCode/100 == 2 && rerr == nil && ackCount.Add(1) == int64(acks) {
					signal()
				}
			}
		}()
	}
	wg.Wait()
	if !signaled.Load() {
		t.Fatalf("%s: the signal was never sent (%d acknowledged)", prefix, ackCount.Load())
	}
	return res
}

// crashDrain waits (at most 20 s) until the workflows have no execution
// queued or running, as the admin API reports it.
func crashDrain(t *testing.T, srv *crashServer, token string, wfIDs []int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		pending := 0
		for _, wfID := range wfIDs {
			for _, status := range []string{"queued", "running"} {
				var page struct{ Items []json.RawMessage }
				crashAPI(t, srv, token, http.MethodGet, fmt.Sprintf("/api/v1/workflows/%d/executions?status=%s&limit=1", wfID, status), nil, &page)
				pending += len(page.Items)
			}
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("executions still queued or running after 20 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// crashOpenDB opens the database in dir read-only.
func crashOpenDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	dsn := "file:" + (&url.URL{Path: filepath.Join(dir, db.FileName)}).EscapedPath() + "?mode=ro&_pragma=busy_timeout(5000)"
	conn, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// crashStatuses counts the workflows' executions by status.
func crashStatuses(t *testing.T, dir string, wfIDs []int64) map[string]int {
	t.Helper()
	conn := crashOpenDB(t, dir)
	rows, err := conn.Query(`SELECT status, COUNT(*) FROM executions WHERE workflow_id IN (?, ?) GROUP BY status`, wfIDs[0], wfIDs[1])
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			t.Fatal(err)
		}
		out[status] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// crashVerify reads the executions of the workflow from the SQLite file,
// read-only, while the server runs, and checks that every acknowledged id
// has a resolved execution and that nothing is left queued or running.
func crashVerify(t *testing.T, srv *crashServer, wfIDs []int64, prefix string, acked []string) {
	t.Helper()
	dir := ""
	for _, kv := range srv.cmd.Env {
		if v, ok := strings.CutPrefix(kv, "HOOKFLOW_DATA_DIR="); ok {
			dir = v
		}
	}
	conn := crashOpenDB(t, dir)
	rows, err := conn.Query(`SELECT id, status, attempts, COALESCE(json_extract(context, '$.body.id'), '') FROM executions WHERE workflow_id IN (?, ?)`, wfIDs[0], wfIDs[1])
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type run struct {
		id       int64
		status   string
		attempts int
	}
	byID := map[string][]run{}
	total := 0
	for rows.Next() {
		var r run
		var reqID string
		if err := rows.Scan(&r.id, &r.status, &r.attempts, &reqID); err != nil {
			t.Fatal(err)
		}
		total++
		if r.status == "queued" || r.status == "running" {
			t.Errorf("execution %d (%s) is still %s", r.id, reqID, r.status)
		}
		byID[reqID] = append(byID[reqID], r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	missing, unresolved, dups, retried := 0, 0, 0, 0
	for _, id := range acked {
		runs := byID[id]
		if len(runs) == 0 {
			missing++
			if missing <= 10 {
				t.Errorf("%s was acknowledged but has no execution", id)
			}
			continue
		}
		resolved := false
		for _, r := range runs {
			resolved = resolved || r.status == "resolved"
			if r.attempts > 1 {
				retried++
			}
		}
		if !resolved {
			unresolved++
			if unresolved <= 10 {
				t.Errorf("%s was acknowledged but did not resolve: %+v", id, runs)
			}
		}
	}
	for id, runs := range byID {
		if strings.HasPrefix(id, prefix+"-") && len(runs) > 1 {
			dups++
			t.Logf("duplicate: %s has %d executions", id, len(runs))
		}
	}
	stored := 0
	for id := range byID {
		if strings.HasPrefix(id, prefix+"-") {
			stored++
		}
	}
	t.Logf("%s: %d acknowledged, %d stored (%d more than acknowledged: replies lost to the stop), %d missing, %d not resolved, %d duplicated, %d run more than once",
		prefix, len(acked), stored, stored-len(acked), missing, unresolved, dups, retried)
	if missing > 0 || unresolved > 0 {
		t.Errorf("%s: %d of %d acknowledged requests lost, %d not resolved", prefix, missing, len(acked), unresolved)
	}
	if len(acked) == 0 {
		t.Error(errors.New("no request was acknowledged"))
	}
}
