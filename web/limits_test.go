package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/handlers"
	"github.com/hookflow/hookflow/web"
	"github.com/tidwall/gjson"
)

// The explicit limits of issue 5, each tried against the real server
// assembly (web.New over a SQLite store), through app.Test or, where the
// limit lives in the socket layer, over a raw TCP connection.
//
// What fasthttp (under Fiber) does at the socket layer, as asserted below:
//   - A declared Content-Length over BodyLimit is refused right after the
//     headers, before any body byte is read: 413 with our JSON error, then
//     the connection is closed.
//   - Headers that do not fit in ReadBufferSize: 431 (fasthttp's
//     ErrSmallBuffer, mapped by Fiber), then the connection is closed. The
//     request line and headers could not be parsed, so the reply cannot
//     know the route; it is still sent in the JSON error format.
//   - A client that is still sending its request (headers or body) when
//     ReadTimeout has passed since the request began gets 408 and the
//     connection is closed: the deadline covers the whole request, so
//     trickling one byte at a time does not extend it.
// These tests run one after another (not t.Parallel): web.New sets a
// package-level HTML error renderer.

type limitsEnv struct{ *testServer }

func newLimitsEnv(t *testing.T, cfg web.Config) *limitsEnv {
	t.Helper()
	return &limitsEnv{newTestServer(t, cfg, "")}
}

// listen serves the app on a real socket on 127.0.0.1 and returns its
// address; the server is shut down when the test ends.
func (e *limitsEnv) listen(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.app.Listener(ln)
	t.Cleanup(func() { e.app.ShutdownWithTimeout(5 * time.Second) })
	return ln.Addr().String()
}

func (e *limitsEnv) workflow(t *testing.T, doc string) (int64, string) {
	t.Helper()
	w, err := e.svc.CreateWorkflow(context.Background(), []byte(doc))
	if err != nil {
		t.Fatalf("create workflow: %v", err)
	}
	return w.ID, w.Key
}

func (e *limitsEnv) do(t *testing.T, req *http.Request) (int, http.Header, []byte) {
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
	return resp.StatusCode, resp.Header, body
}

func (e *limitsEnv) post(t *testing.T, target, ctype string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if strings.HasPrefix(target, "/api/v1/") {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	return e.do(t, req)
}

const (
	limitsAsyncDoc = `{"title":"store","mode":"async","nodes":[]}`
	// limitsEchoDoc answers with the parsed query.
	limitsEchoDoc = `{"title":"echo","mode":"sync","nodes":[{"key":"r","type":"response","config":{"status":200,"body":"{{$context.query}}"}}]}`
)

// limitsJSONError asserts the JSON error format of product.md §2 and
// returns its message.
func limitsJSONError(t *testing.T, label string, status, wantStatus int, h http.Header, body []byte) string {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("%s: status %d, want %d (body %.300q)", label, status, wantStatus, body)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json (body %.300q)", label, ct, body)
	}
	msg := gjson.GetBytes(body, "errors.0.message")
	if !json.Valid(body) || msg.Type != gjson.String || msg.Str == "" {
		t.Fatalf("%s: body %.300q is not the JSON error format", label, body)
	}
	return msg.Str
}

// limitsExchange writes raw to a new connection and reads one reply; with
// checkClose it also reports whether the server then closed the connection
// (waiting up to 2 s for it).
func limitsExchange(t *testing.T, addr string, raw []byte, checkClose bool) (resp *http.Response, body []byte, closed bool) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	// The server may answer and close before it has read everything (a
	// refused body): a failed write is fine as long as the reply came.
	go conn.Write(raw)
	br := bufio.NewReader(conn)
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read reply: %v", err)
	}
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("read reply body: %v", err)
	}
	if !checkClose {
		return resp, body, false
	}
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	var one [1]byte
	_, err = br.Read(one[:])
	closed = err != nil && !limitsIsTimeout(err)
	return resp, body, closed
}

func limitsIsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func limitsRawRequest(path string, headers []string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: hookflow.test\r\n", path)
	for _, h := range headers {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

func TestLimitBodySize(t *testing.T) {
	const limit = 4096
	e := newLimitsEnv(t, web.Config{BodyLimit: limit})
	_, key := e.workflow(t, limitsAsyncDoc)
	target := handlers.TriggerPath(key)
	jsonOfSize := func(n int) []byte {
		b := []byte(`{"s":"` + strings.Repeat("x", n-8) + `"}`)
		if len(b) != n {
			t.Fatalf("built %d bytes, want %d", len(b), n)
		}
		return b
	}

	if status, _, body := e.post(t, target, "application/json", jsonOfSize(limit)); status != http.StatusOK {
		t.Fatalf("body of exactly the limit: status %d %s", status, body)
	}
	// One byte over, over a socket (app.Test reports the refused body as
	// an error instead of returning the reply): the client sends it all.
	addr := e.listen(t)
	resp, body, closed := limitsExchange(t, addr, limitsRawRequest(target,
		[]string{"Content-Type: application/json", fmt.Sprintf("Content-Length: %d", limit+1)}, jsonOfSize(limit+1)), true)
	msg := limitsJSONError(t, "one byte over", resp.StatusCode, http.StatusRequestEntityTooLarge, resp.Header, body)
	if !strings.Contains(msg, "4 KiB") {
		t.Errorf("message %q does not name the limit", msg)
	}
	if !closed {
		t.Error("connection kept open after 413")
	}

	// A declared length of 1 GiB is refused from the headers alone: the
	// reply comes at once, without the server waiting for the body.
	start := time.Now()
	resp, body, closed = limitsExchange(t, addr, limitsRawRequest(target,
		[]string{"Content-Type: application/json", "Content-Length: 1073741824"}, []byte(`{"a":`)), true)
	limitsJSONError(t, "declared Content-Length over the limit", resp.StatusCode, http.StatusRequestEntityTooLarge, resp.Header, body)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("413 for a declared length took %v", d)
	}
	if !closed {
		t.Error("connection kept open after 413 for a declared length")
	}
}

func TestLimitHeaderCount(t *testing.T) {
	e := newLimitsEnv(t, web.Config{})
	_, key := e.workflow(t, limitsAsyncDoc)
	addr := e.listen(t)
	// The request carries Host, Content-Type and Content-Length, which
	// count like any other header.
	request := func(total int) []byte {
		h := []string{"Content-Type: application/json", "Content-Length: 2"}
		for i := 0; len(h)+1 < total; i++ {
			h = append(h, fmt.Sprintf("X-Extra-%d: %d", i, i))
		}
		return limitsRawRequest(handlers.TriggerPath(key), h, []byte("{}"))
	}
	resp, body, _ := limitsExchange(t, addr, request(engine.MaxHeaderCount), false)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d headers: status %d %s", engine.MaxHeaderCount, resp.StatusCode, body)
	}
	resp, body, _ = limitsExchange(t, addr, request(engine.MaxHeaderCount+1), false)
	msg := limitsJSONError(t, "too many headers", resp.StatusCode, http.StatusBadRequest, resp.Header, body)
	if !strings.Contains(msg, fmt.Sprint(engine.MaxHeaderCount)) {
		t.Errorf("message %q does not name the limit", msg)
	}
}

func TestLimitHeaderSize(t *testing.T) {
	const buf = 4096
	e := newLimitsEnv(t, web.Config{ReadBufferSize: buf})
	_, key := e.workflow(t, limitsAsyncDoc)
	addr := e.listen(t)
	target := handlers.TriggerPath(key)

	resp, body, _ := limitsExchange(t, addr, limitsRawRequest(target,
		[]string{"Content-Length: 0", "X-Big: " + strings.Repeat("v", buf/2)}, nil), false)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("headers within the buffer: status %d %s", resp.StatusCode, body)
	}
	for name, headers := range map[string][]string{
		"one long header":   {"Content-Length: 0", "X-Big: " + strings.Repeat("v", buf)},
		"many short ones":   strings.Split(strings.Repeat("X-Short: vvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\r\n", buf/32)+"Content-Length: 0", "\r\n"),
		"long request line": {"Content-Length: 0", "X-Q: " + strings.Repeat("q", 10)},
	} {
		path := target
		if name == "long request line" {
			path += "?q=" + strings.Repeat("q", buf)
		}
		resp, body, closed := limitsExchange(t, addr, limitsRawRequest(path, headers, nil), true)
		limitsJSONError(t, name, resp.StatusCode, http.StatusRequestHeaderFieldsTooLarge, resp.Header, body)
		if !closed {
			t.Errorf("%s: connection kept open after 431", name)
		}
	}
}

func TestLimitQuery(t *testing.T) {
	e := newLimitsEnv(t, web.Config{})
	_, key := e.workflow(t, limitsEchoDoc)
	target := handlers.TriggerPath(key)
	params := func(n int) string {
		p := make([]string, n)
		for i := range p {
			p[i] = fmt.Sprintf("p%d=%d", i, i)
		}
		return strings.Join(p, "&")
	}

	status, _, body := e.post(t, target+"?"+params(1000), "", nil)
	if status != http.StatusOK || gjson.GetBytes(body, "p999").Str != "999" {
		t.Fatalf("1000 parameters: status %d %.200s", status, body)
	}
	status, h, body := e.post(t, target+"?"+params(1001), "", nil)
	msg := limitsJSONError(t, "1001 parameters", status, http.StatusBadRequest, h, body)
	if !strings.Contains(msg, "1000 parameters") {
		t.Errorf("message %q does not name the limit", msg)
	}
	// The same limit for a form body.
	status, h, body = e.post(t, target, "application/x-www-form-urlencoded", []byte(params(1001)))
	limitsJSONError(t, "form with 1001 fields", status, http.StatusBadRequest, h, body)

	// Depth 5: the bracket groups past the fifth stay one literal key.
	status, _, body = e.post(t, target+"?a[b][c][d][e][f][g][h]=i", "", nil)
	if want := `{"a":{"b":{"c":{"d":{"e":{"f":{"[g][h]":"i"}}}}}}}`; status != http.StatusOK || string(body) != want {
		t.Fatalf("depth: status %d %s, want %s", status, body, want)
	}
	status, _, body = e.post(t, target+"?a[b][c][d][e][f]=i", "", nil)
	if want := `{"a":{"b":{"c":{"d":{"e":{"f":"i"}}}}}}`; status != http.StatusOK || string(body) != want {
		t.Fatalf("depth 5 exactly: status %d %s, want %s", status, body, want)
	}
}

func TestLimitJSONDepth(t *testing.T) {
	e := newLimitsEnv(t, web.Config{})
	_, key := e.workflow(t, limitsAsyncDoc)
	target := handlers.TriggerPath(key)
	nested := func(n int) []byte {
		return []byte(strings.Repeat(`{"a":[`, n/2) + strings.Repeat("[", n%2) + "1" + strings.Repeat("]", n%2) + strings.Repeat("]}", n/2))
	}

	if status, _, body := e.post(t, target, "application/json", nested(engine.MaxJSONDepth)); status != http.StatusOK {
		t.Fatalf("%d levels: status %d %s", engine.MaxJSONDepth, status, body)
	}
	status, h, body := e.post(t, target, "application/json", nested(engine.MaxJSONDepth+1))
	msg := limitsJSONError(t, "129 levels", status, http.StatusBadRequest, h, body)
	if !strings.Contains(msg, "128") {
		t.Errorf("message %q does not name the limit", msg)
	}

	// 100,000 levels: refused quickly, and the process survives (a
	// recursive parser would overflow the goroutine stack and crash).
	for name, deep := range map[string][]byte{
		"arrays":  []byte(strings.Repeat("[", 100000) + strings.Repeat("]", 100000)),
		"objects": nested(100000),
		"open":    []byte(strings.Repeat(`{"a":`, 100000)),
	} {
		start := time.Now()
		status, h, body := e.post(t, target, "application/json", deep)
		limitsJSONError(t, name, status, http.StatusBadRequest, h, body)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: 100k levels took %v", name, d)
		}
	}

	// A workflow document is held to the same depth.
	doc := `{"title":"deep","mode":"async","nodes":[],"x":` + string(nested(200)) + `}`
	status, h, body = e.post(t, "/api/v1/workflows", "application/json", []byte(doc))
	limitsJSONError(t, "deep document", status, http.StatusBadRequest, h, body)
}

func TestLimitTemplateOutput(t *testing.T) {
	e := newLimitsEnv(t, web.Config{})
	id, key := e.workflow(t, `{"title":"big","mode":"sync","nodes":[{"key":"big","type":"response","config":{"status":200,
		"body":{"a":"{{$context.body.s}}","b":"{{$context.body.s}}","c":"{{$context.body.s}}"}}}]}`)
	target := handlers.TriggerPath(key)

	status, _, body := e.post(t, target, "application/json", []byte(`{"s":"small"}`))
	if status != http.StatusOK || string(body) != `{"a":"small","b":"small","c":"small"}` {
		t.Fatalf("small render: status %d %s", status, body)
	}
	// Three copies of 400 kB pass MaxTemplateOutput (1 MiB); the request
	// itself is well within the body limit.
	s := strings.Repeat("x", 400_000)
	if 3*len(s) <= engine.MaxTemplateOutput {
		t.Fatal("test value too small")
	}
	status, h, body := e.post(t, target, "application/json", []byte(`{"s":"`+s+`"}`))
	msg := limitsJSONError(t, "oversized render", status, http.StatusInternalServerError, h, body)
	if msg != "workflow failed at node big" {
		t.Errorf("message %q", msg)
	}
	list, err := e.svc.ListExecutions(context.Background(), engine.ExecutionFilter{WorkflowID: id, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Status != engine.StatusError {
		t.Fatalf("executions: %d, newest %+v", len(list), list[0])
	}
	full, err := e.svc.GetExecution(context.Background(), list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Jobs) != 1 || full.Jobs[0].Status != engine.JobError || !strings.Contains(full.Jobs[0].Error, "larger than") {
		t.Errorf("job: %+v", full.Jobs)
	}
	// The server still answers.
	if status, _, _ := e.post(t, target, "application/json", []byte(`{"s":"again"}`)); status != http.StatusOK {
		t.Errorf("after the oversized render: status %d", status)
	}
}

func TestLimitDocument(t *testing.T) {
	e := newLimitsEnv(t, web.Config{})
	// Over MaxDocumentBytes but well within the body limit: the API
	// refuses the document itself.
	pad := strings.Repeat("x", engine.MaxDocumentBytes)
	doc := `{"title":"big","mode":"async","nodes":[],"notes":"` + pad + `"}`
	status, h, body := e.post(t, "/api/v1/workflows", "application/json", []byte(doc))
	limitsJSONError(t, "document over the size limit", status, http.StatusRequestEntityTooLarge, h, body)

	nodes := func(n int) string {
		list := make([]string, n)
		for i := range list {
			list[i] = fmt.Sprintf(`{"key":"n%d","type":"end","config":{"status":"resolved"}}`, i)
		}
		return `{"title":"many","mode":"async","nodes":[` + strings.Join(list, ",") + `]}`
	}
	if status, _, body := e.post(t, "/api/v1/workflows", "application/json", []byte(nodes(engine.MaxNodes))); status != http.StatusCreated {
		t.Fatalf("%d nodes: status %d %.300s", engine.MaxNodes, status, body)
	}
	status, h, body = e.post(t, "/api/v1/workflows", "application/json", []byte(nodes(engine.MaxNodes+1)))
	msg := limitsJSONError(t, "too many nodes", status, http.StatusBadRequest, h, body)
	if want := fmt.Sprintf("nodes[%d]", engine.MaxNodes); !strings.Contains(msg, want) || !strings.Contains(msg, fmt.Sprint(engine.MaxNodes)) {
		t.Errorf("message %q does not name the field %s and the limit", msg, want)
	}
	// Nodes inside branches count too.
	branch := func(n int) string {
		list := make([]string, n)
		for i := range list {
			list[i] = fmt.Sprintf(`{"key":"b%d","type":"end","config":{"status":"resolved"}}`, i)
		}
		return `{"title":"branchy","mode":"async","nodes":[{"key":"c","type":"condition","config":{"mode":"branch","rules":{"and":[]}},
			"branches":{"yes":[` + strings.Join(list, ",") + `]}}]}`
	}
	status, h, body = e.post(t, "/api/v1/workflows", "application/json", []byte(branch(engine.MaxNodes)))
	msg = limitsJSONError(t, "too many nodes in a branch", status, http.StatusBadRequest, h, body)
	if !strings.Contains(msg, "nodes[0].branches.yes[") {
		t.Errorf("message %q does not name the field", msg)
	}
}

func TestLimitSlowClient(t *testing.T) {
	const readTimeout = 500 * time.Millisecond
	e := newLimitsEnv(t, web.Config{ReadTimeout: readTimeout})
	_, key := e.workflow(t, limitsAsyncDoc)
	addr := e.listen(t)
	target := handlers.TriggerPath(key)

	// A slowloris client trickles its request; the read deadline covers
	// the whole request, so the server cuts it off after ReadTimeout even
	// though a byte keeps arriving (here every 100 ms, so the test stays
	// short; one per second is cut off the same way).
	for name, req := range map[string][]byte{
		"headers": limitsRawRequest(target, []string{"Content-Type: application/json", "Content-Length: 2", "X-Slow: " + strings.Repeat("s", 100)}, []byte("{}")),
		"body":    limitsRawRequest(target, []string{"Content-Type: application/json", "Content-Length: 400"}, bytes.Repeat([]byte(" "), 400)),
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			start := time.Now()
			if name == "body" {
				// The headers arrive at once; only the body trickles.
				head := bytes.Index(req, []byte("\r\n\r\n")) + 4
				conn.Write(req[:head])
				req = req[head:]
			}
			type result struct {
				reply []byte
				after time.Duration
			}
			done := make(chan result, 1)
			go func() {
				conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				reply, _ := io.ReadAll(conn) // until the server closes
				done <- result{reply, time.Since(start)}
			}()
			var r result
		trickle:
			for _, c := range req {
				select {
				case r = <-done:
					break trickle
				case <-time.After(100 * time.Millisecond):
				}
				if _, err := conn.Write([]byte{c}); err != nil {
					r = <-done
					break trickle
				}
			}
			if r.after == 0 {
				t.Fatal("the whole request was sent before the server cut it off")
			}
			if r.after < readTimeout-50*time.Millisecond || r.after > readTimeout+1500*time.Millisecond {
				t.Errorf("connection closed after %v, want about %v", r.after, readTimeout)
			}
			// fasthttp answers 408, in the JSON error format, before it
			// closes.
			resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(r.reply)), nil)
			if err != nil {
				t.Fatalf("reply before close %.200q: %v", r.reply, err)
			}
			body, _ := io.ReadAll(resp.Body)
			limitsJSONError(t, "slow client", resp.StatusCode, http.StatusRequestTimeout, resp.Header, body)
			t.Logf("cut off after %v with %.40q", r.after, r.reply)
		})
	}
}
