// Package metrics implements the engine's measurement ports
// (engine.Observer, engine.StoreObserver) with the Prometheus client
// library, as engine/outbound implements its Outbound port: an adapter that
// imports engine and nothing else of ours, wired in by cmd. The web layer
// serves its registry at /metrics (product.md §15).
//
// Every label has bounded values: workflow ids (never keys, titles or
// URLs), status codes, fixed reasons, modes and classes. The hot path looks
// nothing up by label values: a workflow's series are resolved once, when
// its flow is compiled (Webhook), and the fixed label values once, here.
package metrics

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metric names, for the dashboard test and the README.
const (
	WebhookRequests        = "hookflow_webhook_requests_total"
	WebhookRejections      = "hookflow_webhook_rejections_total"
	WebhookDuration        = "hookflow_webhook_request_duration_seconds"
	ExecutionsFinished     = "hookflow_executions_finished_total"
	ExecutionsPending      = "hookflow_executions_pending"
	OutboundRequests       = "hookflow_outbound_requests_total"
	OutboundDuration       = "hookflow_outbound_request_duration_seconds"
	OutboundRetries        = "hookflow_outbound_retries_total"
	StoreCommitOperations  = "hookflow_store_commit_operations"
	StoreCommitDuration    = "hookflow_store_commit_duration_seconds"
	StoreCommitErrors      = "hookflow_store_commit_errors_total"
	RetentionDeleted       = "hookflow_retention_deleted_executions_total"
	BuildInfo              = "hookflow_build_info"
	pendingCountErrorsName = "hookflow_executions_pending_errors_total"
)

// latencyBuckets span a sub-millisecond accept to a sync flow at its
// longest timeout (300 s).
var latencyBuckets = []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5, 10, 30, 60, 300}

// Metrics is the registry and the metrics of one Hookflow process.
type Metrics struct {
	reg *prometheus.Registry

	requests   *prometheus.CounterVec
	rejections map[engine.RejectReason]prometheus.Counter
	duration   map[engine.Mode]prometheus.Observer
	finished   map[engine.ExecStatus]prometheus.Counter

	outbound        map[string]prometheus.Counter // by class
	outboundSeconds prometheus.Observer
	retries         prometheus.Counter

	commitOps     prometheus.Observer
	commitSeconds prometheus.Observer
	commitErrors  prometheus.Counter
	pruned        prometheus.Counter
}

var (
	_ engine.Observer      = (*Metrics)(nil)
	_ engine.StoreObserver = (*Metrics)(nil)
)

// New returns the metrics of a process running version, registered with a
// registry of their own, beside the Go runtime and process collectors.
func New(version string) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := factory{reg}
	m := &Metrics{reg: reg}

	info := f.gaugeVec(BuildInfo, "Always 1; the version of Hookflow and of Go it was built with.", "version", "goversion")
	info.WithLabelValues(version, goVersion()).Set(1)

	m.requests = f.counterVec(WebhookRequests,
		"Webhook requests answered, by workflow id and status code. workflow=\"\" counts requests that match no workflow (unknown key).",
		"workflow", "code")
	rej := f.counterVec(WebhookRejections, "Webhook requests refused before they became executions, by reason: auth, signature, address, size, parse.", "reason")
	m.rejections = map[engine.RejectReason]prometheus.Counter{}
	for _, r := range engine.RejectReasons {
		m.rejections[r] = rej.WithLabelValues(string(r))
	}
	dur := f.histogramVec(WebhookDuration, "Time from a webhook request's arrival in the handler to its reply, by workflow mode (sync, async).", latencyBuckets, "mode")
	m.duration = map[engine.Mode]prometheus.Observer{engine.ModeSync: dur.WithLabelValues("sync"), engine.ModeAsync: dur.WithLabelValues("async")}
	fin := f.counterVec(ExecutionsFinished, "Executions that reached a final status: resolved, failed, error, aborted. Test runs are not counted.", "status")
	m.finished = map[engine.ExecStatus]prometheus.Counter{}
	for _, s := range []engine.ExecStatus{engine.StatusResolved, engine.StatusFailed, engine.StatusError, engine.StatusAborted} {
		m.finished[s] = fin.WithLabelValues(string(s))
	}

	out := f.counterVec(OutboundRequests,
		"Calls of request nodes (each attempt), by class: 1xx to 5xx for a reply, else timeout, connect, refused (outbound policy), invalid or error.", "class")
	m.outbound = map[string]prometheus.Counter{}
	for _, c := range outboundClasses {
		m.outbound[c] = out.WithLabelValues(c)
	}
	m.outboundSeconds = f.histogram(OutboundDuration, "Duration of request nodes' calls (each attempt), reply or not.", latencyBuckets)
	m.retries = f.counter(OutboundRetries, "Failed calls of request nodes that will be tried again.")

	m.commitOps = f.histogram(StoreCommitOperations, "Write operations per database transaction (group commit): webhooks, progress, admin writes.",
		prometheus.ExponentialBuckets(1, 2, 10))
	m.commitSeconds = f.histogram(StoreCommitDuration, "Duration of database write transactions, commit included.",
		[]float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5})
	m.commitErrors = f.counter(StoreCommitErrors, "Database write transactions that failed (full disk, lock held too long, I/O error).")
	m.pruned = f.counter(RetentionDeleted, "Executions deleted by retention (--retention-age, --retention-count).")
	return m
}

// Registry is where the metrics are registered, for the /metrics handler.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// WatchPending registers the gauges of pending executions (queued, running,
// waiting), counted by c when scraped. A count is kept for a second, so that
// several scrapers at once cost one query.
func (m *Metrics) WatchPending(c engine.PendingCounter) {
	m.reg.MustRegister(&pendingCollector{
		counter: c,
		desc:    prometheus.NewDesc(ExecutionsPending, "Executions not finished yet, by status: queued (due to run), running, waiting (a delay or a retry due later).", []string{"status"}, nil),
		errors:  prometheus.NewCounter(prometheus.CounterOpts{Name: pendingCountErrorsName, Help: "Scrapes whose count of pending executions failed."}),
	})
}

// Webhook implements engine.Observer.
func (m *Metrics) Webhook(workflowID int64, mode engine.Mode) engine.WebhookRecorder {
	id := ""
	if workflowID != 0 {
		id = strconv.FormatInt(workflowID, 10)
	}
	return &webhookRecorder{vec: m.requests, workflow: id, latency: m.duration[mode]}
}

// WorkflowDeleted implements engine.Observer.
func (m *Metrics) WorkflowDeleted(workflowID int64) {
	m.requests.DeletePartialMatch(prometheus.Labels{"workflow": strconv.FormatInt(workflowID, 10)})
}

// Rejected implements engine.Observer.
func (m *Metrics) Rejected(reason engine.RejectReason) {
	if c := m.rejections[reason]; c != nil {
		c.Inc()
	}
}

// ExecutionFinished implements engine.Observer.
func (m *Metrics) ExecutionFinished(status engine.ExecStatus) {
	if c := m.finished[status]; c != nil {
		c.Inc()
	}
}

// outboundClasses are the values of the class label of OutboundRequests.
var outboundClasses = []string{"1xx", "2xx", "3xx", "4xx", "5xx", "timeout", "connect", "refused", "invalid", "error"}

// OutboundRequest implements engine.Observer.
func (m *Metrics) OutboundRequest(status int, failure string, d time.Duration) {
	class := "error"
	switch {
	case status >= 100 && status <= 599:
		class = outboundClasses[status/100-1]
	case failure == engine.OutboundTimeout:
		class = "timeout"
	case failure == engine.OutboundConnect:
		class = "connect"
	case failure == engine.OutboundRefused:
		class = "refused"
	case failure == engine.OutboundInvalid:
		class = "invalid"
	}
	m.outbound[class].Inc()
	m.outboundSeconds.Observe(d.Seconds())
}

// OutboundRetry implements engine.Observer.
func (m *Metrics) OutboundRetry() { m.retries.Inc() }

// Committed implements engine.StoreObserver.
func (m *Metrics) Committed(ops int, d time.Duration, err error) {
	if err != nil {
		m.commitErrors.Inc()
		return
	}
	m.commitOps.Observe(float64(ops))
	m.commitSeconds.Observe(d.Seconds())
}

// Pruned implements engine.StoreObserver.
func (m *Metrics) Pruned(n int64) { m.pruned.Add(float64(n)) }

// webhookRecorder is the series of one workflow: its request counters by
// status code, resolved on first use of each code and kept in a small
// copy-on-write list (a workflow answers with a handful of codes), and the
// latency histogram of its mode.
type webhookRecorder struct {
	vec      *prometheus.CounterVec
	workflow string
	latency  prometheus.Observer
	codes    atomic.Pointer[[]codeCounter]
}

type codeCounter struct {
	code int
	c    prometheus.Counter
}

// Done implements engine.WebhookRecorder.
func (r *webhookRecorder) Done(status int, d time.Duration) {
	r.counter(status).Inc()
	if r.latency != nil && d > 0 {
		r.latency.Observe(d.Seconds())
	}
}

func (r *webhookRecorder) counter(status int) prometheus.Counter {
	if p := r.codes.Load(); p != nil {
		for _, cc := range *p {
			if cc.code == status {
				return cc.c
			}
		}
	}
	c := r.vec.WithLabelValues(r.workflow, strconv.Itoa(status))
	for {
		old := r.codes.Load()
		var next []codeCounter
		if old != nil {
			for _, cc := range *old {
				if cc.code == status {
					return cc.c // added meanwhile
				}
			}
			next = append(next, *old...)
		}
		next = append(next, codeCounter{status, c})
		if r.codes.CompareAndSwap(old, &next) {
			return c
		}
	}
}

// pendingCollector counts the pending executions when scraped.
type pendingCollector struct {
	counter engine.PendingCounter
	desc    *prometheus.Desc
	errors  prometheus.Counter

	mu   sync.Mutex
	at   time.Time
	last engine.PendingCounts
	ok   bool
}

func (p *pendingCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- p.desc
	p.errors.Describe(ch)
}

func (p *pendingCollector) Collect(ch chan<- prometheus.Metric) {
	p.mu.Lock()
	if time.Since(p.at) >= time.Second {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		n, err := p.counter.CountPending(ctx)
		cancel()
		p.at = time.Now()
		if err != nil {
			// No gauge rather than a wrong one; the error counter says why
			// the series vanished.
			p.errors.Inc()
			p.ok = false
		} else {
			p.last, p.ok = n, true
		}
	}
	n, ok := p.last, p.ok
	p.mu.Unlock()
	if ok {
		ch <- prometheus.MustNewConstMetric(p.desc, prometheus.GaugeValue, float64(n.Queued), "queued")
		ch <- prometheus.MustNewConstMetric(p.desc, prometheus.GaugeValue, float64(n.Running), "running")
		ch <- prometheus.MustNewConstMetric(p.desc, prometheus.GaugeValue, float64(n.Waiting), "waiting")
	}
	p.errors.Collect(ch)
}

// factory registers metrics with one registry.
type factory struct{ reg *prometheus.Registry }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(g)
	return g
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	f.reg.MustRegister(h)
	return h
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	f.reg.MustRegister(h)
	return h
}

func goVersion() string { return runtime.Version() }
