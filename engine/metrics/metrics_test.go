package metrics

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
	dto "github.com/prometheus/client_model/go"
)

// series returns the scraped series of one metric as "labels value"
// lines (label pairs in name order), and its type.
func series(t *testing.T, m *Metrics, name string) (map[string]float64, dto.MetricType) {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			var labels []string
			for _, l := range s.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			v := s.GetCounter().GetValue() + s.GetGauge().GetValue()
			if h := s.GetHistogram(); h != nil {
				v = float64(h.GetSampleCount())
			}
			out[strings.Join(labels, ",")] = v
		}
		return out, f.GetType()
	}
	return nil, 0
}

func TestWebhookSeries(t *testing.T) {
	t.Parallel()
	m := New("v1.2.3")
	a := m.Webhook(7, engine.ModeAsync)
	s := m.Webhook(8, engine.ModeSync)
	unknown := m.Webhook(0, "")
	for i := 0; i < 3; i++ {
		a.Done(200, 2*time.Millisecond)
	}
	a.Done(401, time.Millisecond)
	s.Done(422, 30*time.Millisecond)
	unknown.Done(404, time.Millisecond)
	a.Done(413, 0) // refused before it was read: counted, not timed

	got, typ := series(t, m, WebhookRequests)
	want := map[string]float64{"code=200,workflow=7": 3, "code=401,workflow=7": 1, "code=413,workflow=7": 1, "code=422,workflow=8": 1, "code=404,workflow=": 1}
	if typ != dto.MetricType_COUNTER || len(got) != len(want) {
		t.Fatalf("%s: %v (%v), want %v", WebhookRequests, got, typ, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s{%s} = %v, want %v", WebhookRequests, k, got[k], v)
		}
	}
	lat, typ := series(t, m, WebhookDuration)
	if typ != dto.MetricType_HISTOGRAM || lat["mode=async"] != 4 || lat["mode=sync"] != 1 || len(lat) != 2 {
		t.Errorf("%s: %v", WebhookDuration, lat)
	}
	// A second recorder of the same workflow (its flow compiled again)
	// adds to the same series.
	m.Webhook(7, engine.ModeAsync).Done(200, time.Millisecond)
	if got, _ := series(t, m, WebhookRequests); got["code=200,workflow=7"] != 4 {
		t.Errorf("after recompiling: %v", got)
	}
	m.WorkflowDeleted(7)
	got, _ = series(t, m, WebhookRequests)
	for k := range got {
		if strings.HasSuffix(k, "workflow=7") {
			t.Errorf("series %s of a deleted workflow", k)
		}
	}
	if got["code=422,workflow=8"] != 1 {
		t.Errorf("other workflows' series lost: %v", got)
	}
	info, _ := series(t, m, BuildInfo)
	if len(info) != 1 || !strings.Contains(strings.Join(keysOf(info), ""), "version=v1.2.3") {
		t.Errorf("%s: %v", BuildInfo, info)
	}
}

func keysOf(m map[string]float64) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestRecorderConcurrent: concurrent first uses of new status codes lose
// no count (the copy-on-write list of counters).
func TestRecorderConcurrent(t *testing.T) {
	t.Parallel()
	m := New("dev")
	r := m.Webhook(1, engine.ModeSync)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				r.Done(200+i%7, time.Microsecond)
			}
		}()
	}
	wg.Wait()
	got, _ := series(t, m, WebhookRequests)
	total := 0.0
	for _, v := range got {
		total += v
	}
	if total != 8000 || len(got) != 7 {
		t.Errorf("%v series, total %v, want 7 codes and 8000", len(got), total)
	}
}

func TestFixedSeries(t *testing.T) {
	t.Parallel()
	m := New("dev")
	// Every reason, status and class exists at 0 before anything happens.
	rej, _ := series(t, m, WebhookRejections)
	if len(rej) != 5 || rej["reason=signature"] != 0 {
		t.Errorf("%s: %v", WebhookRejections, rej)
	}
	m.Rejected(engine.RejectAuth)
	m.Rejected(engine.RejectAuth)
	m.Rejected(engine.RejectReason("bogus")) // ignored, no new series
	if got, _ := series(t, m, WebhookRejections); got["reason=auth"] != 2 || len(got) != 5 {
		t.Errorf("%s: %v", WebhookRejections, got)
	}
	m.ExecutionFinished(engine.StatusResolved)
	m.ExecutionFinished(engine.StatusAborted)
	m.ExecutionFinished(engine.StatusQueued) // not final: ignored
	if got, _ := series(t, m, ExecutionsFinished); len(got) != 4 || got["status=resolved"] != 1 || got["status=aborted"] != 1 {
		t.Errorf("%s: %v", ExecutionsFinished, got)
	}
	for _, tc := range []struct {
		status  int
		failure string
		class   string
	}{
		{200, "", "2xx"}, {204, "", "2xx"}, {301, "", "3xx"}, {429, "", "4xx"}, {503, "", "5xx"}, {101, "", "1xx"},
		{0, engine.OutboundTimeout, "timeout"}, {0, engine.OutboundConnect, "connect"}, {0, engine.OutboundRefused, "refused"},
		{0, engine.OutboundInvalid, "invalid"}, {0, engine.EINTERNAL, "error"}, {999, "", "error"},
	} {
		m.OutboundRequest(tc.status, tc.failure, 10*time.Millisecond)
		if got, _ := series(t, m, OutboundRequests); got["class="+tc.class] < 1 {
			t.Errorf("%d %q not counted as %s: %v", tc.status, tc.failure, tc.class, got)
		}
	}
	if got, _ := series(t, m, OutboundRequests); len(got) != len(outboundClasses) {
		t.Errorf("%d classes: %v", len(got), got)
	}
	m.OutboundRetry()
	if got, _ := series(t, m, OutboundRetries); got[""] != 1 {
		t.Errorf("%s: %v", OutboundRetries, got)
	}
	if got, _ := series(t, m, OutboundDuration); got[""] != 12 {
		t.Errorf("%s: %v", OutboundDuration, got)
	}
	m.Committed(40, time.Millisecond, nil)
	m.Committed(1, time.Millisecond, nil)
	m.Committed(3, time.Millisecond, errors.New("disk full"))
	m.Pruned(500)
	if got, _ := series(t, m, StoreCommitOperations); got[""] != 2 {
		t.Errorf("%s: %v", StoreCommitOperations, got)
	}
	if got, _ := series(t, m, StoreCommitErrors); got[""] != 1 {
		t.Errorf("%s: %v", StoreCommitErrors, got)
	}
	if got, _ := series(t, m, RetentionDeleted); got[""] != 500 {
		t.Errorf("%s: %v", RetentionDeleted, got)
	}
}

type countPending struct {
	calls atomic.Int32
	fail  atomic.Bool
	n     engine.PendingCounts
}

func (c *countPending) CountPending(context.Context) (engine.PendingCounts, error) {
	c.calls.Add(1)
	if c.fail.Load() {
		return engine.PendingCounts{}, errors.New("database closed")
	}
	return c.n, nil
}

// TestPendingGauges: the queue gauges are counted at the scrape, at most
// once a second; a failed count leaves them out and counts the error.
func TestPendingGauges(t *testing.T) {
	t.Parallel()
	m := New("dev")
	c := &countPending{n: engine.PendingCounts{Queued: 3, Running: 2, Waiting: 100000}}
	m.WatchPending(c)
	got, typ := series(t, m, ExecutionsPending)
	if typ != dto.MetricType_GAUGE || got["status=queued"] != 3 || got["status=running"] != 2 || got["status=waiting"] != 100000 {
		t.Errorf("%s: %v %v", ExecutionsPending, got, typ)
	}
	for i := 0; i < 5; i++ {
		series(t, m, ExecutionsPending)
	}
	if n := c.calls.Load(); n != 1 {
		t.Errorf("%d counts for 6 scrapes within a second", n)
	}
	c.fail.Store(true)
	time.Sleep(1100 * time.Millisecond)
	if got, _ := series(t, m, ExecutionsPending); len(got) != 0 {
		t.Errorf("gauges after a failed count: %v", got)
	}
	if got, _ := series(t, m, pendingCountErrorsName); got[""] != 1 {
		t.Errorf("%s: %v", pendingCountErrorsName, got)
	}
}
