package outbound

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// benchSetup is a local sink, as in the lead's target (>= 10,000 request
// node executions/s on 2 cores), and a request like the ones request nodes
// send. The numbers include the in-process server's own work.
func benchSetup(b *testing.B) (*Client, *engine.OutboundRequest) {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true,"id":"0190f5b2"}`)
	}))
	b.Cleanup(srv.Close)
	c, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.CloseIdleConnections)
	return c, &engine.OutboundRequest{
		Method: "POST",
		URL:    srv.URL + "/sink?source=bench",
		Headers: []engine.HeaderValue{
			{Name: "Content-Type", Value: "application/json"},
			{Name: "User-Agent", Value: "Hookflow/0.2.0"},
			{Name: "Idempotency-Key", Value: "01J9Z3K4M5N6P7Q8R9S0T1U2V3-notify"},
		},
		Body:    []byte(`{"order":{"id":820982911946154508,"status":"paid"}}`),
		Timeout: 10 * time.Second,
	}
}

func BenchmarkDo(b *testing.B) {
	c, req := benchSetup(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Do(ctx, req)
		if err != nil || resp.Status != 200 {
			b.Fatalf("Do: %v %v", resp, err)
		}
	}
}

// BenchmarkDoParallel is the runner's shape: several workers share the
// client and its keep-alive connections.
func BenchmarkDoParallel(b *testing.B) {
	c, req := benchSetup(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Do(ctx, req)
			if err != nil || resp.Status != 200 {
				b.Errorf("Do: %v %v", resp, err)
				return
			}
		}
	})
}
