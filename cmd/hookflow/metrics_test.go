package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookflow/hookflow/db/postgres/pgtest"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/tidwall/gjson"
)

// scrapeURL reads a /metrics URL (with the bearer token when given) and
// parses it with the Prometheus client library's text parser.
func scrapeURL(t *testing.T, url, token string) map[string]*dto.MetricFamily {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("scrape %s: %d %s", url, resp.StatusCode, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse the scrape of %s: %v", url, err)
	}
	return fams
}

// metricValue returns the value of the first series of family name whose
// labels include every "name=value" of want (a histogram's count).
func metricValue(fams map[string]*dto.MetricFamily, name string, want ...string) (float64, bool) {
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

// exportedSeries are the families a running Hookflow exports (issue 13):
// the names the README and the dashboard use.
var exportedSeries = []string{
	"hookflow_webhook_requests_total", "hookflow_webhook_rejections_total", "hookflow_webhook_request_duration_seconds",
	"hookflow_executions_finished_total", "hookflow_executions_pending", "hookflow_outbound_requests_total",
	"hookflow_outbound_request_duration_seconds", "hookflow_outbound_retries_total", "hookflow_store_commit_operations",
	"hookflow_store_commit_duration_seconds", "hookflow_store_commit_errors_total", "hookflow_retention_deleted_executions_total",
	"hookflow_build_info", "go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes",
}

// TestMetricsScrape scrapes a running Hookflow (the real wiring) on its
// main listener with an API token: every series exists, and they move
// with webhook calls, async runs with a request node and its retry.
func TestMetricsScrape(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	token := createToken(t, dir)
	srv := startServer(t, dir, token)
	var calls atomic.Int32
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(503) // retried
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	defer sink.Close()

	// Unauthenticated: refused; /readyz is open.
	if r := srv.do(t, http.MethodGet, "/metrics", nil, nil); r.status != 401 {
		t.Errorf("/metrics without a token: %d", r.status)
	}
	if r := srv.do(t, http.MethodGet, "/readyz", nil, nil); r.status != 200 || string(r.body) != `{"status":"ready"}` {
		t.Errorf("/readyz: %d %s", r.status, r.body)
	}
	before := scrapeURL(t, srv.base+"/metrics", token)
	// Every family but the requests by workflow (no request yet) is there
	// from the start, at 0.
	for _, name := range exportedSeries {
		if before[name] == nil && name != "hookflow_webhook_requests_total" {
			t.Errorf("no %s in the first scrape", name)
		}
	}

	id, key := srv.createWorkflow(t, `{"title":"m","mode":"sync","trigger":{},"nodes":[{"key":"r","type":"response","config":{"status":201,"body":"x"}}]}`)
	aid, akey := srv.createWorkflow(t, `{"title":"call","mode":"async","trigger":{},"nodes":[
		{"key":"n","type":"request","config":{"method":"POST","url":"`+sink.URL+`/x","retry":{"attempts":2,"backoffSeconds":0.1}}}]}`)
	for i := 0; i < 3; i++ {
		if r := srv.do(t, http.MethodPost, "/api/webhook:trigger/"+key, []byte(`{}`), map[string]string{"Content-Type": "application/json"}); r.status != 201 {
			t.Fatalf("webhook: %d", r.status)
		}
	}
	r := srv.do(t, http.MethodPost, "/api/webhook:trigger/"+akey, []byte(`{}`), map[string]string{"Content-Type": "application/json"})
	if r.status != 200 {
		t.Fatalf("async webhook: %d", r.status)
	}
	list := srv.api(t, http.MethodGet, "/api/v1/workflows/"+strconv.FormatInt(aid, 10)+"/executions", "")
	eid := gjson.GetBytes(list.body, "items.0.id").Int()
	if e := srv.waitExecution(t, eid); e.Get("status").String() != "resolved" {
		t.Fatalf("async execution %s", e.Raw)
	}

	var after map[string]*dto.MetricFamily
	deadline := time.Now().Add(5 * time.Second)
	for {
		after = scrapeURL(t, srv.base+"/metrics", token)
		if v, _ := metricValue(after, "hookflow_executions_finished_total", "status=resolved"); v >= 4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, name := range exportedSeries {
		if after[name] == nil {
			t.Errorf("no %s in the scrape", name)
		}
	}
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"hookflow_webhook_requests_total", []string{"workflow=" + strconv.FormatInt(id, 10), "code=201"}, 3},
		{"hookflow_webhook_requests_total", []string{"workflow=" + strconv.FormatInt(aid, 10), "code=200"}, 1},
		{"hookflow_webhook_request_duration_seconds", []string{"mode=sync"}, 3},
		{"hookflow_webhook_request_duration_seconds", []string{"mode=async"}, 1},
		{"hookflow_executions_finished_total", []string{"status=resolved"}, 4},
		{"hookflow_outbound_requests_total", []string{"class=5xx"}, 1},
		{"hookflow_outbound_requests_total", []string{"class=2xx"}, 1},
		{"hookflow_outbound_retries_total", nil, 1},
		{"hookflow_outbound_request_duration_seconds", nil, 2},
		{"hookflow_executions_pending", []string{"status=waiting"}, 0},
	} {
		if got, ok := metricValue(after, tc.name, tc.labels...); !ok || got != tc.want {
			t.Errorf("%s%v = %v (found %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
	// The Grafana dashboard queries only what this scrape has.
	checkDashboard(t, after)
	c0, _ := metricValue(before, "hookflow_store_commit_operations")
	c1, _ := metricValue(after, "hookflow_store_commit_operations")
	if c1 <= c0 {
		t.Errorf("store commits did not move: %v then %v", c0, c1)
	}
	if err := srv.stop(t); err != nil {
		t.Errorf("stop: %v", err)
	}
}

// TestMetricsListener: with --metrics-addr, /metrics is served there
// without a token, and not at all on the main listener.
func TestMetricsListener(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	token := createToken(t, dir)
	srv := startServer(t, dir, token, "--metrics-addr", "127.0.0.1:0")
	if !strings.HasPrefix(srv.metrics, "http://127.0.0.1:") {
		t.Fatalf("metrics address %q in the started line", srv.metrics)
	}
	if r := srv.api(t, http.MethodGet, "/metrics", ""); r.status != 404 {
		t.Errorf("/metrics on the main listener with --metrics-addr: %d", r.status)
	}
	_, key := srv.createWorkflow(t, `{"title":"m","mode":"async","trigger":{"basicAuth":{"enabled":true,"username":"u","password":"p"}},"nodes":[]}`)
	srv.do(t, http.MethodPost, "/api/webhook:trigger/"+key, []byte(`{}`), nil)
	fams := scrapeURL(t, srv.metrics+"/metrics", "")
	for _, name := range exportedSeries {
		if fams[name] == nil {
			t.Errorf("no %s on the metrics listener", name)
		}
	}
	if v, _ := metricValue(fams, "hookflow_webhook_rejections_total", "reason=auth"); v != 1 {
		t.Errorf("auth rejections %v, want 1", v)
	}
	resp, err := http.Get(srv.metrics + "/other")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("/other on the metrics listener: %d", resp.StatusCode)
	}
	if err := srv.stop(t); err != nil {
		t.Errorf("stop: %v", err)
	}
	// Closed with the server.
	if _, err := http.Get(srv.metrics + "/metrics"); err == nil {
		t.Error("the metrics listener still answers after the server stopped")
	}
}

// dashboardPath is the Grafana dashboard shipped with Hookflow.
var dashboardPath = filepath.Join("..", "..", "deploy", "grafana", "hookflow.json")

var (
	// Our metrics, the Go runtime's and the process': every name the
	// dashboard queries starts so.
	dashMetricRE = regexp.MustCompile(`\b((?:hookflow|go|process)_[a-zA-Z0-9_]+)\b`)
	dashByRE     = regexp.MustCompile(`\bby \(([^)]*)\)`)
	dashMatchRE  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"`)
	dashValuesRE = regexp.MustCompile(`label_values\(([^,]+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)`)
)

// dashboardQueries returns every PromQL expression of the dashboard: the
// panels' targets and the variables' queries, after checking that the
// file is a dashboard Grafana imports as it is (its data source is a
// variable, not an __inputs placeholder to fill in).
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID, Title    string
		SchemaVersion int
		Inputs        []any `json:"__inputs"`
		Templating    struct {
			List []struct {
				Name, Type string
				Query      any
			}
		}
		Panels []struct {
			ID         int
			Type       string
			Title      string
			Datasource struct{ UID string }
			Targets    []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	if d.UID == "" || d.Title == "" || d.SchemaVersion < 30 || len(d.Inputs) != 0 {
		t.Errorf("dashboard uid %q title %q schemaVersion %d inputs %v", d.UID, d.Title, d.SchemaVersion, d.Inputs)
	}
	var exprs []string
	hasDS := false
	for _, v := range d.Templating.List {
		switch v.Type {
		case "datasource":
			hasDS = v.Name == "datasource" && v.Query == "prometheus"
		case "query":
			q, _ := v.Query.(map[string]any)
			s, _ := q["query"].(string)
			if s == "" {
				t.Errorf("variable %s has no query", v.Name)
			}
			exprs = append(exprs, s)
		}
	}
	if !hasDS {
		t.Error("no datasource variable of type prometheus: the dashboard would not import as it is")
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %q, %d targets", p.Title, p.Datasource.UID, len(p.Targets))
		}
		for _, tg := range p.Targets {
			if !dashMetricRE.MatchString(tg.Expr) {
				t.Errorf("panel %q: expression %q queries none of our metrics", p.Title, tg.Expr)
			}
			exprs = append(exprs, tg.Expr)
		}
	}
	if len(exprs) < 20 {
		t.Errorf("only %d expressions in the dashboard", len(exprs))
	}
	return exprs
}

// alertsPath holds the Prometheus alerting rules shipped with Hookflow.
var alertsPath = filepath.Join("..", "..", "deploy", "prometheus", "alerts.yml")

// alertQueries returns the expressions of the alerting rules.
func alertQueries(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(alertsPath)
	if err != nil {
		t.Fatal(err)
	}
	var exprs []string
	for _, line := range strings.Split(string(raw), "\n") {
		if e, ok := strings.CutPrefix(strings.TrimSpace(line), "expr: "); ok {
			exprs = append(exprs, e)
		}
	}
	if len(exprs) < 5 {
		t.Errorf("only %d alert expressions in %s", len(exprs), alertsPath)
	}
	return exprs
}

// checkDashboard: every metric the dashboard and the alerting rules query
// is in the scrape of a running Hookflow (histogram series by their
// family), and every label they group or filter by is one of those
// metrics' labels (job and instance come from Prometheus, le from
// histograms).
func checkDashboard(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	checkQueries(t, fams, "the dashboard", dashboardQueries(t))
	checkQueries(t, fams, "the alerting rules", alertQueries(t))
}

func checkQueries(t *testing.T, fams map[string]*dto.MetricFamily, source string, exprs []string) {
	t.Helper()
	family := func(name string) *dto.MetricFamily {
		if f := fams[name]; f != nil {
			return f
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if f := fams[strings.TrimSuffix(name, suffix)]; f != nil && strings.HasSuffix(name, suffix) &&
				(f.GetType() == dto.MetricType_HISTOGRAM || f.GetType() == dto.MetricType_SUMMARY) {
				return f
			}
		}
		return nil
	}
	for _, expr := range exprs {
		labels := map[string]bool{"job": true, "instance": true, "le": true}
		for _, m := range dashMetricRE.FindAllStringSubmatch(expr, -1) {
			f := family(m[1])
			if f == nil {
				t.Errorf("%s query %s, which Hookflow does not export (in %q)", source, m[1], expr)
				continue
			}
			for _, s := range f.GetMetric() {
				for _, l := range s.GetLabel() {
					labels[l.GetName()] = true
				}
			}
		}
		var used []string
		for _, m := range dashByRE.FindAllStringSubmatch(expr, -1) {
			for _, l := range strings.Split(m[1], ",") {
				used = append(used, strings.TrimSpace(l))
			}
		}
		for _, m := range dashMatchRE.FindAllStringSubmatch(expr, -1) {
			used = append(used, m[1])
		}
		for _, m := range dashValuesRE.FindAllStringSubmatch(expr, -1) {
			used = append(used, m[2])
		}
		for _, l := range used {
			if !labels[l] {
				t.Errorf("%s use label %q, which their metrics do not have (in %q)", source, l, expr)
			}
		}
	}
}

// TestMetricsPostgres: an instance on PostgreSQL (the real wiring, with
// --database) exports the queue gauges of the shared queue, is ready, and
// counts its webhook requests.
func TestMetricsPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	dir := t.TempDir()
	env := func(k string) string {
		switch k {
		case "HOOKFLOW_DATABASE":
			return url
		case "HOOKFLOW_SECRET_KEY":
			return "metrics-test-key-0123456789abcdef"
		}
		return ""
	}
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"token", "create", "--name", "m"}, env, &out, &errb); err != nil {
		t.Fatalf("token create: %v (%s)", err, errb.String())
	}
	token := strings.TrimSpace(out.String())
	srv := startServerEnv(t, dir, token, env, "--metrics-addr", "127.0.0.1:0")
	if r := srv.do(t, http.MethodGet, "/readyz", nil, nil); r.status != 200 {
		t.Errorf("/readyz on PostgreSQL: %d %s", r.status, r.body)
	}
	_, key := srv.createWorkflow(t, `{"title":"q","mode":"async","trigger":{},"nodes":[{"key":"d","type":"delay","config":{"seconds":3600}}]}`)
	for i := 0; i < 2; i++ {
		srv.do(t, http.MethodPost, "/api/webhook:trigger/"+key, []byte(`{}`), nil)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		fams := scrapeURL(t, srv.metrics+"/metrics", "")
		waiting, _ := metricValue(fams, "hookflow_executions_pending", "status=waiting")
		reqs, _ := metricValue(fams, "hookflow_webhook_requests_total", "code=200")
		if waiting == 2 && reqs == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting %v, requests %v; want 2 and 2", waiting, reqs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := srv.stop(t); err != nil {
		t.Errorf("stop: %v", err)
	}
}
