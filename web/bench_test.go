package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/outbound"
	"github.com/hookflow/hookflow/web"
	"github.com/valyala/fasthttp"
)

// benchAsyncDoc is the 3-node async flow of `make bench`.
const benchAsyncDoc = `{"title":"bench async","mode":"async","nodes":[
 {"key":"paid","type":"condition","config":{"mode":"continue","rules":{"and":[{"left":"{{$context.body.order.status}}","op":"equal","right":"paid"}]}}},
 {"key":"positive","type":"condition","config":{"mode":"continue","rules":{"and":[{"left":"{{$context.body.order.id}}","op":"gt","right":0}]}}},
 {"key":"done","type":"end","config":{"status":"resolved"}}]}`

const benchPaidOrder = `{"order":{"id":12345,"status":"paid","amount":"49.90","currency":"EUR"},"source":"bench"}`

// BenchmarkWebhook runs the public endpoint in process, from fasthttp's
// request context through Fiber, the engine and the SQLite store (group
// commit included), without sockets: ns/op is the server's cost of one
// request with 64 requests in flight, the load of `make bench`.
//
// The trust rows (product.md §11, §12) are the §9 example with GitHub
// verification (the signature computed once, as the body never changes),
// with a dedupe key unique to each request (every request claims a key in
// its write), and with one key for all (every request after the first is a
// duplicate: its cost is a claim that fails and the count on the first
// execution).
//
// The async and sync rows run with the metrics (as always in production)
// and again with the engine's and the store's observer off, which measures
// what the metrics cost (README, "Performance"):
//
//	go test -run '^$' -bench 'Webhook/async' -count 8 ./web/
func BenchmarkWebhook(b *testing.B) {
	section9 := readSection9("../engine/testdata/section9.json")
	withTrigger := func(extra string) string {
		out := strings.Replace(section9, `"trigger": {`, `"trigger": {`+extra+`,`, 1)
		if out == section9 {
			b.Fatal("the §9 example has no trigger to extend")
		}
		return out
	}
	sig := "sha256=" + hmacHex("bench-secret", benchPaidOrder)
	var seq atomic.Int64
	for _, tc := range []struct {
		name, doc string
		headers   func(h *fasthttp.RequestHeader)
		noObserve bool
	}{
		{name: "async", doc: benchAsyncDoc},
		{name: "async-metrics-off", doc: benchAsyncDoc, noObserve: true},
		{name: "sync", doc: section9},
		{name: "sync-metrics-off", doc: section9, noObserve: true},
		{name: "sync-github", doc: withTrigger(`"verify": {"type": "github", "secret": "bench-secret"}`),
			headers: func(h *fasthttp.RequestHeader) { h.Set("X-Hub-Signature-256", sig) }},
		{name: "sync-dedupe", doc: withTrigger(`"dedupe": {"key": "{{$context.headers.x-request-id}}"}`),
			headers: func(h *fasthttp.RequestHeader) { h.Set("X-Request-Id", strconv.FormatInt(seq.Add(1), 10)) }},
		{name: "sync-duplicates", doc: withTrigger(`"dedupe": {"key": "{{$context.headers.x-request-id}}"}`),
			headers: func(h *fasthttp.RequestHeader) { h.Set("X-Request-Id", "the-same") }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			srv := newObservedServer(b, web.Config{}, "http://127.0.0.1", !tc.noObserve)
			w, err := srv.svc.CreateWorkflow(context.Background(), []byte(tc.doc))
			if err != nil {
				b.Fatal(err)
			}
			handler := srv.app.Handler()
			uri := "/api/webhook:trigger/" + w.Key
			b.SetParallelism(32) // 64 goroutines on 2 CPUs, like 64 connections
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var rc fasthttp.RequestCtx
				for pb.Next() {
					rc.Request.Reset()
					rc.Response.Reset()
					rc.Request.Header.SetMethod(fasthttp.MethodPost)
					rc.Request.SetRequestURI(uri)
					rc.Request.Header.SetHost("127.0.0.1:13000")
					rc.Request.Header.SetContentType("application/json")
					rc.Request.Header.Set("User-Agent", "hookbench")
					rc.Request.Header.Set("Authorization", "Basic aG9vazpzM2NyZXQ=") // hook:s3cret, as §9 asks
					if tc.headers != nil {
						tc.headers(&rc.Request.Header)
					}
					rc.Request.SetBodyString(benchPaidOrder)
					handler(&rc)
					if rc.Response.StatusCode() != 200 {
						b.Errorf("status %d: %s", rc.Response.StatusCode(), rc.Response.Body())
						return
					}
				}
			})
		})
	}
}

// BenchmarkRequestNode runs executions of a one-request-node flow from the
// queue to the end, in process: the runner claims them, each calls a
// loopback HTTP server with the real client, and its outcome is stored.
// ns/op is the cost of one execution with the server's (the sink's) share.
func BenchmarkRequestNode(b *testing.B) {
	srv := newTestServer(b, web.Config{}, "http://127.0.0.1")
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
	defer sink.Close()
	client, err := outbound.New(outbound.Config{Deny: outbound.DenyNone})
	if err != nil {
		b.Fatal(err)
	}
	srv.svc.UseOutbound(client, "Hookflow/bench")
	ctx := context.Background()
	w, err := srv.svc.CreateWorkflow(ctx, []byte(`{"title":"bench request","mode":"async","nodes":[
		{"key":"send","type":"request","config":{"method":"POST","url":"`+sink.URL+`/orders","body":{"id":"{{$context.body.order.id}}","status":"{{$context.body.order.status}}"}}}]}`))
	if err != nil {
		b.Fatal(err)
	}
	// Queued by the public endpoint, with no runner yet.
	handler := srv.app.Handler()
	uri := "/api/webhook:trigger/" + w.Key
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		var rc fasthttp.RequestCtx
		for pb.Next() {
			rc.Request.Reset()
			rc.Response.Reset()
			rc.Request.Header.SetMethod(fasthttp.MethodPost)
			rc.Request.SetRequestURI(uri)
			rc.Request.Header.SetContentType("application/json")
			rc.Request.SetBodyString(benchPaidOrder)
			handler(&rc)
		}
	})
	b.ReportAllocs()
	b.ResetTimer()
	runner := srv.svc.NewRunner(engine.RunnerConfig{})
	runner.Start()
	for {
		n, _, err := srv.store.NextDue(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n.IsZero() {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	b.StopTimer()
	runner.Stop(ctx)
	list, err := srv.svc.ListExecutions(ctx, engine.ExecutionFilter{WorkflowID: w.ID, Status: engine.StatusResolved, Limit: 1})
	if err != nil || len(list) == 0 {
		b.Fatalf("no resolved execution: %v", err)
	}
}
