package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/handlers"
	"github.com/hookflow/hookflow/web"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metricsSetup is a test server whose main listener serves /metrics, as
// Hookflow does without --metrics-addr.
func metricsSetup(t *testing.T, cfg web.Config) *apiEnv {
	t.Helper()
	// The registry is the server's own, known only once it is built: the
	// handler looks it up at the first scrape.
	var e *apiEnv
	cfg.Metrics = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		promhttp.HandlerFor(e.metrics.Registry(), promhttp.HandlerOpts{}).ServeHTTP(w, r)
	})
	e = &apiEnv{newTestServer(t, cfg, apiPublicURL)}
	return e
}

// scrape reads /metrics with the API token and parses it with the
// Prometheus text parser.
func (e *apiEnv) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	r := e.send(t, req)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("/metrics: %d %q %.300s", r.status, r.header.Get("Content-Type"), r.body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value returns the value of the series of family name whose labels
// include want ("a=b" pairs); a histogram's value is its count. ok is false
// when no series matches.
func value(fams map[string]*dto.MetricFamily, name string, want ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for _, w := range want {
			k, v, _ := strings.Cut(w, "=")
			if got, ok := have[k]; !ok || got != v {
				continue next
			}
		}
		switch {
		case m.GetHistogram() != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), true
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

func TestMetricsEndpointAuth(t *testing.T) {
	e := metricsSetup(t, web.Config{})
	r := e.send(t, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if msg := apiError(t, r, http.StatusUnauthorized); !strings.Contains(msg, "API token") {
		t.Errorf("message %q", msg)
	}
	if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="hookflow"` {
		t.Errorf("WWW-Authenticate %q", got)
	}
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Authorization", "Bearer hf_not-a-token")
	apiError(t, e.send(t, req), http.StatusUnauthorized)

	fams := e.scrape(t)
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "hookflow_build_info", "hookflow_executions_pending",
		"hookflow_webhook_rejections_total", "hookflow_executions_finished_total", "hookflow_outbound_requests_total"} {
		if fams[name] == nil {
			t.Errorf("no %s in the scrape", name)
		}
	}

	// Without a handler (metrics on a listener of their own) the main
	// listener has no /metrics at all.
	plain := &apiEnv{newTestServer(t, web.Config{}, "")}
	req = httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+plain.token)
	apiError(t, plain.send(t, req), http.StatusNotFound)
}

// TestWebhookMetrics: webhook requests are counted by workflow id and the
// status code sent, refused ones by reason too, and timed by mode; a
// request that matches no workflow has workflow="".
func TestWebhookMetrics(t *testing.T) {
	const limit = 4096
	e := metricsSetup(t, web.Config{BodyLimit: limit})
	sync := e.create(t, apiExampleDoc) // Basic Auth hook:s3cret
	async := e.create(t, `{"title":"a","mode":"async","trigger":{},"nodes":[]}`)
	sid, akey := sync.Get("id").String(), async.Get("key").String()
	auth := "Basic " + "aG9vazpzM2NyZXQ=" // hook:s3cret

	for _, tc := range []struct {
		key, body string
		headers   []string
		want      int
	}{
		{sync.Get("key").String(), `{"order":{"id":1,"status":"paid"}}`, []string{"Authorization", auth}, 200},
		{sync.Get("key").String(), `{"order":{"id":1,"status":"paid"}}`, []string{"Authorization", auth}, 200},
		{sync.Get("key").String(), `{"order":{"id":2,"status":"open"}}`, []string{"Authorization", auth}, 422},
		{sync.Get("key").String(), `{}`, []string{"Authorization", "Basic eDp5"}, 401},
		{sync.Get("key").String(), `{"order":`, []string{"Authorization", auth}, 400},
		{akey, `{"a":1}`, nil, 200},
		{"nosuchkey0000000000000", `{}`, nil, 404},
	} {
		if r := e.trigger(t, tc.key, "", tc.body, tc.headers...); r.status != tc.want {
			t.Fatalf("%s %s: %d %s, want %d", tc.key, tc.body, r.status, r.body, tc.want)
		}
	}
	if r := e.send(t, httptest.NewRequest(http.MethodGet, handlers.TriggerPath(akey), nil)); r.status != 405 {
		t.Fatalf("GET: %d", r.status)
	}
	// Refused by the signature check and by the address list (§11).
	signed := e.create(t, `{"title":"s","mode":"async","trigger":{"verify":{"type":"token","header":"X-Token","secret":"tok-123"}},"nodes":[]}`)
	if r := e.trigger(t, signed.Get("key").String(), "", `{}`); r.status != 401 {
		t.Fatalf("unsigned: %d %s", r.status, r.body)
	}
	fenced := e.create(t, `{"title":"f","mode":"async","trigger":{"allowIPs":["192.0.2.0/24"]},"nodes":[]}`)
	if r := e.trigger(t, fenced.Get("key").String(), "", `{}`); r.status != 403 {
		t.Fatalf("outside allowIPs: %d %s", r.status, r.body)
	}
	// A body over the limit is refused by the HTTP server before any
	// handler: still counted, for its workflow, as a size rejection.
	addr := (&limitsEnv{e.testServer}).listen(t)
	resp, _, _ := limitsExchange(t, addr, limitsRawRequest(handlers.TriggerPath(akey),
		[]string{"Content-Type: application/json", fmt.Sprintf("Content-Length: %d", limit+1)}, bytes.Repeat([]byte(" "), limit+1)), false)
	if resp.StatusCode != 413 {
		t.Fatalf("oversized body: %d", resp.StatusCode)
	}

	fams := e.scrape(t)
	aid := async.Get("id").String()
	for _, tc := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"workflow=" + sid, "code=200"}, 2},
		{[]string{"workflow=" + sid, "code=422"}, 1},
		{[]string{"workflow=" + sid, "code=401"}, 1},
		{[]string{"workflow=" + sid, "code=400"}, 1},
		{[]string{"workflow=" + aid, "code=200"}, 1},
		{[]string{"workflow=" + aid, "code=405"}, 1},
		{[]string{"workflow=" + aid, "code=413"}, 1},
		{[]string{"workflow=", "code=404"}, 1},
	} {
		if got, _ := value(fams, "hookflow_webhook_requests_total", tc.labels...); got != tc.want {
			t.Errorf("hookflow_webhook_requests_total%v = %v, want %v", tc.labels, got, tc.want)
		}
	}
	for reason, want := range map[string]float64{"auth": 1, "parse": 1, "size": 1, "signature": 1, "address": 1} {
		if got, ok := value(fams, "hookflow_webhook_rejections_total", "reason="+reason); !ok || got != want {
			t.Errorf("rejections{reason=%s} = %v (%v), want %v", reason, got, ok, want)
		}
	}
	// Timed: sync requests that reached the flow or were refused by it,
	// async ones likewise; the 413 is not timed, unknown keys have no mode.
	if got, _ := value(fams, "hookflow_webhook_request_duration_seconds", "mode=sync"); got != 5 {
		t.Errorf("sync latency count %v, want 5", got)
	}
	// async: the accepted request, the 405, and the two refused by the
	// signature check and the address list.
	if got, _ := value(fams, "hookflow_webhook_request_duration_seconds", "mode=async"); got != 4 {
		t.Errorf("async latency count %v, want 4", got)
	}
	// Executions: the three sync ones that ran (a 422 from a response node
	// is resolved) and the async one, run before it was stored.
	if got, _ := value(fams, "hookflow_executions_finished_total", "status=resolved"); got != 4 {
		t.Errorf("resolved %v, want 4", got)
	}
	if got, _ := value(fams, "hookflow_store_commit_operations"); got < 1 {
		t.Errorf("no commits observed")
	}
	// Deleting a workflow drops its series.
	if r := e.call(t, http.MethodDelete, "/api/v1/workflows/"+sid, ""); r.status != 204 {
		t.Fatalf("delete: %d", r.status)
	}
	if _, ok := value(e.scrape(t), "hookflow_webhook_requests_total", "workflow="+sid); ok {
		t.Error("series of a deleted workflow still exported")
	}
}
