package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/handlers"
	"github.com/hookflow/hookflow/web"
)

// Request smuggling (issue 12, point 9): a request whose body length two
// parties could read differently is refused before any handler runs, over
// a raw TCP connection on 127.0.0.1 (an HTTP client would never send these
// bytes). A proxy in front and Hookflow must never disagree on where one
// request ends and the next begins.
func TestRequestSmuggling(t *testing.T) {
	e := newLimitsEnv(t, web.Config{})
	id, key := e.workflow(t, limitsAsyncDoc)
	target := handlers.TriggerPath(key)
	addr := e.listen(t)
	// head starts each refused HTTP/1.1 request: its framing headers
	// follow. X-Token is a secret the error message must not echo.
	head := "POST " + target + " HTTP/1.1\r\nHost: hookflow.test\r\nX-Token: s3cr3t\r\nContent-Type: application/json\r\n"

	cases := []struct {
		name   string
		raw    string
		status int
		// inMsg is a word the error message names.
		inMsg string
	}{
		{
			name:   "two different Content-Length headers",
			raw:    head + "Content-Length: 2\r\nContent-Length: 30\r\n\r\n{}",
			status: http.StatusBadRequest, inMsg: "Content-Length",
		},
		{
			name:   "two Content-Length values in one header",
			raw:    head + "Content-Length: 2, 30\r\n\r\n{}",
			status: http.StatusBadRequest, inMsg: "Content-Length",
		},
		{
			name:   "Content-Length with Transfer-Encoding: chunked",
			raw:    head + "Content-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
			status: http.StatusBadRequest, inMsg: "Transfer-Encoding",
		},
		{
			name:   "Transfer-Encoding other than chunked",
			raw:    head + "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
			status: http.StatusBadRequest, inMsg: "Transfer-Encoding",
		},
		{
			name: "HTTP/1.0 POST without Content-Length",
			raw: "POST " + target + " HTTP/1.0\r\nHost: hookflow.test\r\nContent-Type: application/json\r\n\r\n" +
				`{"lost":true}`,
			status: http.StatusLengthRequired, inMsg: "Content-Length",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body, closed := limitsExchange(t, addr, []byte(tc.raw), true)
			msg := limitsJSONError(t, tc.name, resp.StatusCode, tc.status, resp.Header, body)
			if !strings.Contains(strings.ToLower(msg), strings.ToLower(tc.inMsg)) {
				t.Errorf("message %q does not name %s", msg, tc.inMsg)
			}
			if strings.Contains(msg, "s3cr3t") || strings.Contains(msg, "Host:") {
				t.Errorf("message %q echoes the request", msg)
			}
			if !closed {
				t.Error("connection kept open after a request whose end is unknown")
			}
		})
	}
	if n := countExecutions(t, e, id); n != 0 {
		t.Errorf("%d executions stored from refused requests", n)
	}

	// What stays accepted: one Content-Length, the same length twice,
	// chunked alone, and an HTTP/1.0 POST that declares its length.
	ok := []struct{ name, raw string }{
		{"one Content-Length", "POST " + target + " HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"},
		{"chunked", "POST " + target + " HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"},
		{"HTTP/1.0 with Content-Length", "POST " + target + " HTTP/1.0\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"},
		{"HTTP/1.1 POST without a body", "POST " + target + " HTTP/1.1\r\nHost: h\r\n\r\n"},
	}
	for _, tc := range ok {
		resp, body, _ := limitsExchange(t, addr, []byte(tc.raw), false)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d %s, want 200", tc.name, resp.StatusCode, body)
		}
	}
	if n := countExecutions(t, e, id); n != len(ok) {
		t.Errorf("%d executions stored, want %d", n, len(ok))
	}
}

func countExecutions(t *testing.T, e *limitsEnv, id int64) int {
	t.Helper()
	list, err := e.svc.ListExecutions(context.Background(), engine.ExecutionFilter{WorkflowID: id, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}
