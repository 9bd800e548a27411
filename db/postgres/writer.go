package postgres

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookflow/hookflow/engine"

	"github.com/jackc/pgx/v5"
)

// Group commit of accepted executions: every webhook request waits for its
// row to be durable before it is answered, and a commit costs a round trip
// and a WAL flush. The writer gathers the inserts that arrive while earlier
// ones commit, and writes each gathering as one multi-row INSERT (unnest of
// arrays), the counters of their workflows and a NOTIFY, sent as one batch:
// one round trip and one commit for all of them.

const (
	// maxGroup bounds the rows of one commit.
	maxGroup = 512
	// maxGroupBytes bounds the request bodies of one commit, so that a
	// burst of large bodies does not build one huge statement.
	maxGroupBytes = 8 << 20
	// flushers is how many commits may be in flight at once: while one
	// waits for its WAL flush, the next gathers and sends.
	flushers = 4
)

// insertRow is one execution to insert, its values converted in the
// caller's goroutine.
type insertRow struct {
	id, workflowID         int64
	revision, attempts     int32
	status, mode, method   string
	query, body            []byte
	context                string
	jobs, response         *string
	errText                string
	created                int64
	started, finished, due *int64
	leaseOwner             *string
	replayOf               *int64
	wake                   bool // due now or later: wake the other instances
	// dur is how long a finished execution ran, for the activity counters.
	dur time.Duration
	err chan error
}

type writer struct {
	d    *DB
	ops  chan *insertRow
	mu   sync.RWMutex // held for reading while sending, for writing by close
	shut bool
	wg   sync.WaitGroup
	// commits counts the group commits sent (for tests).
	commits atomic.Int64
}

func newWriter(d *DB) *writer {
	w := &writer{d: d, ops: make(chan *insertRow, maxGroup*4)}
	for range flushers {
		w.wg.Add(1)
		go w.loop()
	}
	return w
}

// insert queues a row and waits for its commit. Once queued, the write
// happens: the outcome is awaited even if ctx ends, so that a caller never
// reports failure for a committed row.
func (w *writer) insert(ctx context.Context, r *insertRow) error {
	r.err = make(chan error, 1)
	w.mu.RLock()
	if w.shut {
		w.mu.RUnlock()
		return errClosed
	}
	select {
	case w.ops <- r:
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	w.mu.RUnlock()
	return <-r.err
}

func (w *writer) loop() {
	defer w.wg.Done()
	group := make([]*insertRow, 0, maxGroup)
	for r := range w.ops {
		group = append(group[:0], r)
		size := len(r.body)
	fill:
		for len(group) < maxGroup && size < maxGroupBytes {
			select {
			case r, ok := <-w.ops:
				if !ok {
					break fill
				}
				group = append(group, r)
				size += len(r.body)
			default:
				break fill
			}
		}
		w.commit(group)
	}
}

// commit writes a group; when it fails, each row is written alone, so that
// one bad row (a deleted workflow) does not fail its neighbours.
func (w *writer) commit(group []*insertRow) {
	err := w.write(group)
	if err == nil || len(group) == 1 || unavailable(err) {
		for _, r := range group {
			r.err <- err
		}
		return
	}
	for _, r := range group {
		r.err <- w.write([]*insertRow{r})
	}
}

const insertExecutionsSQL = `INSERT INTO executions (id, workflow_id, revision, status, mode, method, query, body, context, jobs, response, error, attempts,
	created_at, started_at, finished_at, due_at, lease_owner, replay_of)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::text[], $5::text[], $6::text[], $7::bytea[], $8::bytea[], $9::text[], $10::text[],
	$11::text[], $12::text[], $13::int[], $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[], $18::text[], $19::bigint[])`

// countSQL adds n executions to a workflow's counter in one slot. One
// statement per workflow, in id order: commits lock the counters in the
// same order and never deadlock.
const countSQL = `INSERT INTO execution_counts (workflow_id, slot, n) VALUES ($1, $2, $3)
ON CONFLICT (workflow_id, slot) DO UPDATE SET n = execution_counts.n + EXCLUDED.n`

func (w *writer) write(group []*insertRow) error {
	b := w.batch(group)
	// One round trip; the batch is one implicit transaction.
	w.commits.Add(1)
	return w.d.pool.SendBatch(context.Background(), b).Close()
}

// batch is the statements that store group: the rows, their workflows'
// counters and activity, and a NOTIFY when one is due.
func (w *writer) batch(group []*insertRow) *pgx.Batch {
	n := len(group)
	var (
		ids, wfs, created                []int64
		revs, attempts                   []int32
		status, mode, method, ctxs, errs []string
		queries, bodies                  [][]byte
		jobs, resps, owners              []*string
		started, finished, due, replays  []*int64
	)
	ids, wfs, created = make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
	revs, attempts = make([]int32, 0, n), make([]int32, 0, n)
	counts := map[int64]int64{}
	var act engine.ActivityDeltas
	wake := false
	for _, r := range group {
		ids, wfs, created = append(ids, r.id), append(wfs, r.workflowID), append(created, r.created)
		revs, attempts = append(revs, r.revision), append(attempts, r.attempts)
		status, mode, method = append(status, r.status), append(mode, r.mode), append(method, r.method)
		ctxs, errs = append(ctxs, r.context), append(errs, r.errText)
		queries, bodies = append(queries, r.query), append(bodies, r.body)
		jobs, resps, owners = append(jobs, r.jobs), append(resps, r.response), append(owners, r.leaseOwner)
		started, finished, due, replays = append(started, r.started), append(finished, r.finished), append(due, r.due), append(replays, r.replayOf)
		counts[r.workflowID]++
		wake = wake || r.wake
		created := fromMS(r.created)
		act.Request(r.workflowID, created)
		if st := engine.ExecStatus(r.status); st.Final() {
			act.Finish(r.workflowID, created, st, r.dur, 1)
		}
	}
	b := &pgx.Batch{}
	b.Queue(insertExecutionsSQL, ids, wfs, revs, status, mode, method, queries, bodies, ctxs, jobs, resps, errs, attempts,
		created, started, finished, due, owners, replays)
	workflows := make([]int64, 0, len(counts))
	for id := range counts {
		workflows = append(workflows, id)
	}
	slices.Sort(workflows)
	for _, id := range workflows {
		b.Queue(countSQL, id, w.d.slot.Load(), counts[id])
	}
	w.d.queueActivity(b, act)
	if wake {
		b.Queue(`SELECT pg_notify($1, '')`, w.d.workChannel)
	}
	return b
}

// close stops accepting rows, commits the queued ones and waits.
func (w *writer) close() {
	w.mu.Lock()
	if w.shut {
		w.mu.Unlock()
		return
	}
	w.shut = true
	close(w.ops)
	w.mu.Unlock()
	w.wg.Wait()
}
