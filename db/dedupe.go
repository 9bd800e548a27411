package db

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// Dedupe keys (product.md §12) in SQLite.
//
// A key must be found by its value, so it lives in an index ordered by key:
// every fresh key lands at a random place of it, and writing it with its
// request costs a page of the write-ahead log per request under load (the
// executions' own rows all land at the end of their table). Measured, that
// made the §9 example with a dedupe key a third slower than without.
//
// So the keys of the last moments are kept in memory, and merged into the
// index (dedupe_keys) in bulk, in key order, every mergeEvery or every
// mergeBatch keys, off the requests' path: one page then takes many keys.
// A request's key is still durable with its request: the execution row
// holds it (dedupe_key, dedupe_expires), written in the same transaction.
// One process owns a SQLite database and every claim runs in the writer's
// one goroutine, so the claim (look in the batch, in memory, in the index;
// then take the key) is race-free. At start-up, the keys of the executions
// stored since a few minutes before the last merge and missing from the
// index are read back into memory (a crash loses nothing).
//
// A key whose execution is gone (deleted with its workflow, or by
// retention) is free: a duplicate gets the first execution's reply, which
// is gone with it. Pending claims of sync flows with effects (ClaimDedupeKey)
// live in memory only: after a crash, their requests never finished and may
// run again.

// mergeEvery and mergeBatch decide when recent keys are merged into the
// index: every second, or sooner once that many wait. A merge writes about
// every page of the index that holds one of its keys: the more keys a merge
// takes, the fewer pages each costs.
const (
	mergeEvery = time.Second
	mergeBatch = 16384
	// recoverySpan is how far before the last merge the start-up looks for
	// keys the index misses: a sync request stored its execution (and key)
	// up to its timeout after it began, which is when its id was given.
	recoverySpan = time.Duration(engine.MaxTimeoutSeconds)*time.Second + time.Minute
)

const (
	dedupeLookupSQL   = `SELECT execution_id, expires_at FROM dedupe_keys WHERE workflow_id = ? AND key_hash = ?`
	countDuplicateSQL = `UPDATE executions SET duplicates = duplicates + 1 WHERE id = ? RETURNING status, response`
	pruneDedupeSQL    = `DELETE FROM dedupe_keys WHERE (workflow_id, key_hash) IN (SELECT workflow_id, key_hash FROM dedupe_keys WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`
)

// mergeRows is how many keys one merge statement upserts: a statement of
// mergeRows rows is prepared once (mergeDedupeSQL), the rest of a merge
// goes one row at a time (mergeDedupeOneSQL).
const mergeRows = 128

// mergeDedupeSQL upserts rows of (workflow_id, key_hash, execution_id,
// expires_at).
func mergeDedupeSQL(rows int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO dedupe_keys (workflow_id, key_hash, execution_id, expires_at) VALUES `)
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?, ?, ?, ?)")
	}
	b.WriteString(` ON CONFLICT (workflow_id, key_hash) DO UPDATE SET execution_id = excluded.execution_id, expires_at = excluded.expires_at`)
	return b.String()
}

var (
	mergeDedupeManySQL = mergeDedupeSQL(mergeRows)
	mergeDedupeOneSQL  = mergeDedupeSQL(1)
)

// dedupeKey names a key of a workflow.
type dedupeKey struct {
	workflow int64
	hash     [engine.DedupeKeyHashSize]byte
}

func keyOf(c *engine.DedupeClaim) (dedupeKey, error) {
	k := dedupeKey{workflow: c.WorkflowID}
	if len(c.KeyHash) != len(k.hash) {
		return k, fmt.Errorf("dedupe key of %d bytes, want %d", len(c.KeyHash), len(k.hash))
	}
	copy(k.hash[:], c.KeyHash)
	return k, nil
}

// dedupeEntry is who holds a key until when (unix ms); pending marks the
// claim of a sync request still running (no execution stored yet).
type dedupeEntry struct {
	execution int64
	expires   int64
	pending   bool
}

// dedupeIndex is the keys not merged into dedupe_keys yet. Only the
// writer's goroutine touches recent (in write operations and after their
// commit); waiting is read by the merger.
type dedupeIndex struct {
	recent  map[dedupeKey]dedupeEntry
	waiting atomic.Int64 // len(recent), for the merger
	full    chan struct{}
	// filter holds every key merged into dedupe_keys (bloom.go); nil
	// until loaded, when every key is looked up.
	filter *bloom
	// rebuilding collects the keys merged while a larger filter is built
	// from the table (nil when none is).
	rebuilding []dedupeKey
	// crowded tells the merger that the filter holds more keys than it was
	// sized for.
	crowded atomic.Bool
}

func newDedupeIndex() *dedupeIndex {
	return &dedupeIndex{recent: map[dedupeKey]dedupeEntry{}, full: make(chan struct{}, 1)}
}

// set records entries after their transaction committed.
func (x *dedupeIndex) set(entries map[dedupeKey]dedupeEntry) {
	for k, e := range entries {
		x.recent[k] = e
	}
	x.waiting.Store(int64(len(x.recent)))
	if len(x.recent) >= mergeBatch {
		select {
		case x.full <- struct{}{}:
		default:
		}
	}
}

// claimDedupe claims c's key in b's transaction unless another execution
// holds it unexpired at now, in which case it returns that holder, with the
// duplicate counted on it when its execution is stored. A claim is visible
// to the batch's later operations at once, and to every other once its
// batch committed.
func (d *DB) claimDedupe(b *batch, c *engine.DedupeClaim, now time.Time, pending bool) (engine.DedupeHolder, error) {
	k, err := keyOf(c)
	if err != nil {
		return engine.DedupeHolder{}, err
	}
	at := ms(now)
	held, ok := b.keys[k]
	if !ok || held.expires <= at {
		held, ok = d.keys.recent[k]
	}
	ok = ok && held.expires > at
	if !ok && (d.keys.filter == nil || d.keys.filter.mayHave(k)) {
		lookup, err := b.stmt(dedupeLookupSQL)
		if err != nil {
			return engine.DedupeHolder{}, err
		}
		switch err := lookup.QueryRow(k.workflow, k.hash[:]).Scan(&held.execution, &held.expires); {
		case err == nil:
			ok = held.expires > at
			held.pending = false
		case err != sql.ErrNoRows:
			return engine.DedupeHolder{}, err
		}
	}
	if ok && held.execution != c.ExecutionID {
		h := engine.DedupeHolder{ExecutionID: held.execution}
		if held.pending {
			return h, nil // a sync request still running
		}
		count, err := b.stmt(countDuplicateSQL)
		if err != nil {
			return h, err
		}
		var (
			status string
			resp   sql.NullString
		)
		switch err := count.QueryRow(held.execution).Scan(&status, &resp); {
		case err == nil:
			h.Stored, h.Status = true, engine.ExecStatus(status)
			h.Response, err = decodeResponse(resp)
			return h, err
		case err != sql.ErrNoRows:
			return h, err
		}
		// The holder's execution is gone: the key is free.
	}
	d.claimKey(b, k, dedupeEntry{execution: c.ExecutionID, expires: ms(c.ExpiresAt), pending: pending})
	return engine.DedupeHolder{ExecutionID: c.ExecutionID, Claimed: true}, nil
}

// claimKey records a key taken in the batch; the index learns it once the
// batch committed.
func (d *DB) claimKey(b *batch, k dedupeKey, e dedupeEntry) {
	if b.keys == nil {
		b.keys = map[dedupeKey]dedupeEntry{}
		keys := b.keys
		b.after(func() { d.keys.set(keys) })
	}
	b.keys[k] = e
}

// storedKey is what InsertExecution stores in the execution row for its
// dedupe claim: the key and its expiry when the execution holds the key
// (nil values otherwise).
func (d *DB) storedKey(b *batch, e *engine.Execution) (key []byte, expires sql.NullInt64, dup *engine.DuplicateError, err error) {
	c := e.Dedupe
	if c == nil {
		return nil, sql.NullInt64{}, nil, nil
	}
	if !c.Claimed {
		h, err := d.claimDedupe(b, c, e.CreatedAt, false)
		if err != nil || !h.Claimed {
			if err == nil {
				dup = &engine.DuplicateError{Holder: h}
			}
			return nil, sql.NullInt64{}, dup, err
		}
		return c.KeyHash, sql.NullInt64{Int64: ms(c.ExpiresAt), Valid: true}, nil, nil
	}
	// Claimed before the flow ran: the window starts now, if the claim is
	// still this execution's (it may have expired and been taken).
	k, err := keyOf(c)
	if err != nil {
		return nil, sql.NullInt64{}, nil, err
	}
	held, ok := b.keys[k]
	if !ok {
		held, ok = d.keys.recent[k]
	}
	if !ok || held.execution != c.ExecutionID {
		return nil, sql.NullInt64{}, nil, nil
	}
	d.claimKey(b, k, dedupeEntry{execution: c.ExecutionID, expires: ms(c.ExpiresAt)})
	return c.KeyHash, sql.NullInt64{Int64: ms(c.ExpiresAt), Valid: true}, nil, nil
}

// ClaimDedupeKey implements engine.ExecutionStore.
func (d *DB) ClaimDedupeKey(ctx context.Context, c *engine.DedupeClaim, now time.Time) (engine.DedupeHolder, error) {
	var h engine.DedupeHolder
	err := d.w.do(ctx, func(b *batch) error {
		var err error
		h, err = d.claimDedupe(b, c, now, true)
		return err
	})
	return h, mapErr("claim dedupe key", err)
}

// ReleaseDedupeKey implements engine.ExecutionStore.
func (d *DB) ReleaseDedupeKey(ctx context.Context, c *engine.DedupeClaim) error {
	k, err := keyOf(c)
	if err != nil {
		return fmt.Errorf("db: release dedupe key: %w", err)
	}
	err = d.w.do(ctx, func(b *batch) error {
		b.after(func() {
			if e, ok := d.keys.recent[k]; ok && e.execution == c.ExecutionID {
				delete(d.keys.recent, k)
				d.keys.waiting.Store(int64(len(d.keys.recent)))
			}
		})
		_, err := b.tx.Exec(`DELETE FROM dedupe_keys WHERE workflow_id = ? AND key_hash = ? AND execution_id = ?`, k.workflow, k.hash[:], c.ExecutionID)
		return err
	})
	return mapErr("release dedupe key", err)
}

// mergeDedupe moves the recent keys of settled claims into dedupe_keys, in
// key order, mergeRows keys a statement; expired ones are dropped.
func (d *DB) mergeDedupe(ctx context.Context) error {
	err := d.w.do(ctx, func(b *batch) error {
		now := ms(time.Now())
		type row struct {
			k dedupeKey
			e dedupeEntry
		}
		rows := make([]row, 0, len(d.keys.recent))
		var merged []row
		for k, e := range d.keys.recent {
			if !e.pending && e.expires > now {
				rows = append(rows, row{k, e})
			}
		}
		slices.SortFunc(rows, func(a, b row) int {
			if c := cmp.Compare(a.k.workflow, b.k.workflow); c != 0 {
				return c
			}
			return bytes.Compare(a.k.hash[:], b.k.hash[:])
		})
		// In key order, so that each statement fills pages one after the
		// other.
		args := make([]any, 0, 4*mergeRows)
		for len(rows) > 0 {
			n, q := mergeRows, mergeDedupeManySQL
			if len(rows) < mergeRows {
				n, q = 1, mergeDedupeOneSQL
			}
			args = args[:0]
			for i := range rows[:n] {
				r := &rows[i]
				args = append(args, r.k.workflow, r.k.hash[:], r.e.execution, r.e.expires)
			}
			st, err := b.stmt(q)
			if err != nil {
				return err
			}
			if _, err := st.Exec(args...); err != nil {
				return err
			}
			merged = append(merged, rows[:n]...)
			rows = rows[n:]
		}
		if _, err := b.tx.Exec(`UPDATE dedupe_state SET merged_at = ?`, now); err != nil {
			return err
		}
		b.after(func() {
			for _, r := range merged {
				if d.keys.filter != nil {
					d.keys.filter.add(r.k)
				}
				if d.keys.rebuilding != nil {
					d.keys.rebuilding = append(d.keys.rebuilding, r.k)
				}
			}
			if f := d.keys.filter; f != nil && f.added > f.capacity/2 {
				d.keys.crowded.Store(true)
			}
			// Expired entries go, pending or not; merged ones go unless a
			// newer claim replaced them meanwhile.
			for k, e := range d.keys.recent {
				if e.expires <= now {
					delete(d.keys.recent, k)
				}
			}
			for _, r := range merged {
				if d.keys.recent[r.k] == r.e {
					delete(d.keys.recent, r.k)
				}
			}
			d.keys.waiting.Store(int64(len(d.keys.recent)))
		})
		return nil
	})
	return mapErr("merge dedupe keys", err)
}

// recoverDedupe reads back into memory the keys of executions stored
// since a little before the last merge that dedupe_keys misses (a crash
// came before their merge).
func (d *DB) recoverDedupe(ctx context.Context) error {
	var merged int64
	if err := d.write.QueryRowContext(ctx, `SELECT merged_at FROM dedupe_state`).Scan(&merged); err != nil {
		return fmt.Errorf("db: recover dedupe keys: %w", err)
	}
	from := int64(0)
	if merged > 0 {
		from = engine.FirstIDAt(time.UnixMilli(merged).Add(-recoverySpan))
	}
	now := ms(time.Now())
	rows, err := d.write.QueryContext(ctx, `SELECT e.id, e.workflow_id, e.dedupe_key, e.dedupe_expires FROM executions e
WHERE e.id >= ? AND e.dedupe_key IS NOT NULL AND e.dedupe_expires > ?
AND NOT EXISTS (SELECT 1 FROM dedupe_keys k WHERE k.workflow_id = e.workflow_id AND k.key_hash = e.dedupe_key AND k.execution_id = e.id)`, from, now)
	if err != nil {
		return fmt.Errorf("db: recover dedupe keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k    dedupeKey
			e    dedupeEntry
			hash []byte
		)
		if err := rows.Scan(&e.execution, &k.workflow, &hash, &e.expires); err != nil {
			return fmt.Errorf("db: recover dedupe keys: %w", err)
		}
		copy(k.hash[:], hash)
		if cur, ok := d.keys.recent[k]; !ok || cur.execution < e.execution {
			d.keys.recent[k] = e
		}
	}
	d.keys.waiting.Store(int64(len(d.keys.recent)))
	return rows.Err()
}

// merger merges recent keys into dedupe_keys every mergeEvery, or when
// mergeBatch are waiting, until stopped.
type merger struct {
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func (d *DB) startMerger() *merger {
	m := &merger{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		t := time.NewTicker(mergeEvery)
		defer t.Stop()
		failing := false
		for {
			select {
			case <-m.stop:
				return
			case <-t.C:
			case <-d.keys.full:
			}
			if d.keys.waiting.Load() == 0 {
				continue
			}
			if err := d.mergeDedupe(context.Background()); err != nil {
				if !failing {
					d.log.Warn("merge dedupe keys", "error", err)
				}
				failing = true
				continue
			}
			failing = false
			if d.keys.crowded.Swap(false) {
				if err := d.rebuildBloom(context.Background()); err != nil {
					d.log.Warn("rebuild dedupe filter", "error", err)
				}
			}
		}
	}()
	return m
}

// rebuildBloom replaces the filter by a larger one built from the table
// (which also forgets the keys deleted since): the keys merged while it is
// built are added to it before it takes over.
func (d *DB) rebuildBloom(ctx context.Context) error {
	_ = d.w.do(ctx, func(*batch) error { d.keys.rebuilding = []dedupeKey{}; return nil })
	f, err := d.loadBloom(ctx)
	return errors.Join(err, d.w.do(ctx, func(*batch) error {
		if err == nil {
			for _, k := range d.keys.rebuilding {
				f.add(k)
			}
			d.keys.filter = f
		}
		d.keys.rebuilding = nil
		return nil
	}))
}

func (m *merger) close() {
	m.once.Do(func() { close(m.stop) })
	<-m.done
}

// PruneDedupeKeys implements engine.Pruner, oldest expiry first through
// the expiry index; expired keys not merged yet are dropped from memory.
func (d *DB) PruneDedupeKeys(ctx context.Context, now time.Time, limit int) (int64, error) {
	var n int64
	err := d.w.do(ctx, func(b *batch) error {
		res, err := b.tx.Exec(pruneDedupeSQL, ms(now), limit)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		// Expired keys in memory count too; dropping them is harmless
		// should the transaction fail (they are free either way).
		for k, e := range d.keys.recent {
			if n >= int64(limit) {
				break
			}
			if e.expires <= ms(now) {
				delete(d.keys.recent, k)
				n++
			}
		}
		d.keys.waiting.Store(int64(len(d.keys.recent)))
		return nil
	})
	return n, mapErr("prune dedupe keys", err)
}
