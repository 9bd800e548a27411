package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// The scenarios of acting workflows (issue 10): executions that call a
// local sink with one request node, and executions that wait.

// sink is the other side of the request-node scenarios: a plain net/http
// server on 127.0.0.1 in this process that answers every call 200 with a
// small JSON body and counts the calls.
type sink struct {
	srv   *http.Server
	url   string
	calls atomic.Int64
}

func startSink() (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{url: "http://" + ln.Addr().String()}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}), ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

func (s *sink) close() { s.srv.Close() }

// requestDoc is an async flow of one request node that posts the order id
// to the sink.
const requestDoc = `{"title":"bench request","mode":"async","nodes":[
  {"key":"send","type":"request","config":{"method":"POST","url":"%s/orders","body":{"id":"{{$context.body.order.id}}","status":"{{$context.body.order.status}}"}}}]}`

// waitDoc is an async flow that waits an hour, then ends.
const waitDoc = `{"title":"bench wait","mode":"async","nodes":[
  {"key":"wait","type":"delay","config":{"seconds":3600}},{"key":"done","type":"end"}]}`

// acting measures (f): executions of a one-request-node flow against the
// sink, drained from the queue and accepted at full load.
func (b *bench) acting(ctx context.Context, paid []byte, plain []header) error {
	sk, err := startSink()
	if err != nil {
		return err
	}
	defer sk.close()
	var w created
	if err := b.api(ctx, "POST", "/api/v1/workflows", []byte(fmt.Sprintf(requestDoc, sk.url)), &w); err != nil {
		return fmt.Errorf("create the request workflow: %w", err)
	}
	if err := b.fireOne(ctx, w.Key, paid); err != nil {
		return err
	}
	if _, err := b.waitQueueEmpty(ctx, 30*time.Second); err != nil {
		return err
	}
	tmpl, err := b.template(ctx, w.ID, "resolved")
	if err != nil {
		return fmt.Errorf("the request workflow's first execution did not resolve: %w", err)
	}
	n := b.cfg.drainN
	name := fmt.Sprintf("(f) drain: %s queued executions of a 1-request-node flow, local sink (executions/s)", fmtThousands(float64(n)))
	b.logf("%s", name)
	before := sk.calls.Load()
	r, err := b.drainCopies(ctx, name, tmpl, n)
	if err != nil {
		return err
	}
	if got := sk.calls.Load() - before; got < int64(n) {
		b.note("%s: the sink saw %s calls for %s executions", name, fmtThousands(float64(got)), fmtThousands(float64(n)))
	}
	b.actRate = r.RPS
	// End to end: webhooks accepted at full load, each one calling the
	// sink in the background.
	before = sk.calls.Load()
	count0, err := b.countOf(ctx, w.ID)
	if err != nil {
		return err
	}
	t0 := time.Now()
	if _, err := b.measureHF(ctx, "(f) async accept of a 1-request-node flow, calls to a local sink", []string{b.hf.url(syncPath(w.Key))}, b.cfg.conns, paid, plain); err != nil {
		return err
	}
	took := time.Since(t0)
	count1, err := b.countOf(ctx, w.ID)
	if err != nil {
		return err
	}
	execs, calls := count1-count0, sk.calls.Load()-before
	b.note("(f) accept and run, warm-up included: %s executions made %s calls to the sink in %.1f s from the first request to the last call: %s executions/s end to end",
		fmtThousands(float64(execs)), fmtThousands(float64(calls)), took.Seconds(), fmtThousands(float64(execs)/took.Seconds()))
	return nil
}

// waiting measures (g): the cost of executions that wait (a delay) while
// they wait, and the time to wake them when they are due.
func (b *bench) waiting(ctx context.Context) error {
	var w created
	if err := b.api(ctx, "POST", "/api/v1/workflows", []byte(waitDoc), &w); err != nil {
		return fmt.Errorf("create the delay workflow: %w", err)
	}
	if err := b.fireOne(ctx, w.Key, []byte(paidOrder)); err != nil {
		return err
	}
	var tmpl int64
	for deadline := time.Now().Add(10 * time.Second); ; {
		id, err := b.template(ctx, w.ID, "waiting")
		if err == nil {
			tmpl = id
			break
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	n := b.cfg.waitN
	idle := 10 * time.Second
	if b.cfg.quick {
		idle = 3 * time.Second
	}
	// Idle cost of the server without waiting executions, for comparison.
	time.Sleep(time.Second)
	cpu0 := procCPU(b.hf.pid())
	time.Sleep(idle)
	idleBefore := procCPU(b.hf.pid()) - cpu0
	rssBefore, _ := procRSS(b.hf.pid())

	b.hf.stop()
	created := time.Now()
	first := engine.FirstIDAt(created)
	if maxID, err := b.maxID(ctx); err != nil {
		return err
	} else if first <= maxID {
		first = maxID + 1
	}
	// Due after the start, a second of settling and the idle measurement.
	due := time.Now().Add(idle + 20*time.Second).Truncate(time.Millisecond)
	t0 := time.Now()
	if err := b.cloneExecutions(ctx, tmpl, first, n, cloneWaiting, created, due); err != nil {
		return err
	}
	b.logf("  stored %d waiting executions in %.1f s", n, time.Since(t0).Seconds())
	if err := b.startHookflow(ctx); err != nil {
		return err
	}
	time.Sleep(time.Second)
	cpu0 = procCPU(b.hf.pid())
	time.Sleep(idle)
	idleWaiting := procCPU(b.hf.pid()) - cpu0
	rssWaiting, _ := procRSS(b.hf.pid())
	if time.Now().After(due) {
		return fmt.Errorf("(g): the executions became due before the idle measurement ended")
	}
	b.note("(g) while %s executions waited: the server used %.2f%% of a CPU and %d MB (with none waiting: %.2f%% and %d MB), over %s",
		fmtThousands(float64(n)), 100*idleWaiting.Seconds()/idle.Seconds(), rssWaiting>>20, 100*idleBefore.Seconds()/idle.Seconds(), rssBefore>>20, idle)

	d, err := b.openRead()
	if err != nil {
		return err
	}
	defer d.Close()
	s := startSampler(b.hf.pid())
	time.Sleep(time.Until(due))
	var first1, last time.Time
	for deadline := time.Now().Add(b.cfg.drainMax); ; {
		// The clones only: the template waits on for an hour.
		var left int64
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM executions WHERE status IN ('queued', 'running', 'waiting') AND id >= ? AND id < ?`, first, first+int64(n)).Scan(&left); err != nil {
			s.finish()
			return err
		}
		if left < int64(n) && first1.IsZero() {
			first1 = time.Now()
		}
		if left == 0 || time.Now().After(deadline) {
			last = time.Now()
			if left > 0 {
				b.note("(g): %s executions still waiting %s after they were due", fmtThousands(float64(left)), b.cfg.drainMax)
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	rss, cpu := s.finish()
	var bad int64
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM executions WHERE id >= ? AND id < ? AND status <> 'resolved'`, first, first+int64(n)).Scan(&bad); err != nil {
		return err
	}
	took := last.Sub(due)
	name := fmt.Sprintf("(g) %s waiting executions woken when due (executions/s)", fmtThousands(float64(n)))
	r := row{Scenario: name, RPS: float64(n) / took.Seconds(), Errors: bad, RSS: rss, CPUPerReq: cpu / time.Duration(n), Stored: -1}
	b.rows = append(b.rows, r)
	b.note("(g) the first woke %d ms after the due time; all %s were resolved %.2f s after it", first1.Sub(due).Milliseconds(), fmtThousands(float64(n)), took.Seconds())
	// The template waits an hour: cancel it, so that the later scenarios
	// find an empty queue.
	if err := b.api(ctx, "POST", fmt.Sprintf("/api/v1/executions/%d/cancel", tmpl), nil, nil); err != nil {
		return fmt.Errorf("cancel the waiting template: %w", err)
	}
	b.wakeFirst, b.wakeAll = first1.Sub(due), took
	return nil
}

// fireOne posts one webhook and checks it is accepted.
func (b *bench) fireOne(ctx context.Context, key string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, "POST", b.hf.url(syncPath(key)), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := apiClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("webhook of workflow %s: %d", key, resp.StatusCode)
	}
	return nil
}

// countOf is how many executions a workflow has.
func (b *bench) countOf(ctx context.Context, workflowID int64) (int64, error) {
	d, err := b.openRead()
	if err != nil {
		return 0, err
	}
	defer d.Close()
	var n int64
	err = d.QueryRowContext(ctx, `SELECT COUNT(*) FROM executions WHERE workflow_id = ?`, workflowID).Scan(&n)
	return n, err
}
