package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hookflow/hookflow/db/postgres/pgtest"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/storetest"
)

// events records what a Member hands its listener.
type events chan string

func (e events) WorkDue()                   { e <- "work" }
func (e events) WorkflowChanged(key string) { e <- "workflow " + key }
func (e events) Disconnected()              { e <- "disconnected" }
func (e events) Reconnected(n int, last int64) {
	e <- fmt.Sprintf("reconnected %d %d", n, last)
}

func (e events) want(t *testing.T, what string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case got := <-e:
			if got == what {
				return
			}
		case <-deadline:
			t.Fatalf("no %q within 5 s", what)
		}
	}
}

func join(t *testing.T, d *DB) (*Member, events) {
	t.Helper()
	m, err := d.Join(context.Background())
	if err != nil {
		t.Fatalf("Join: %v", err)
	}
	ev := make(events, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx, ev) }()
	t.Cleanup(func() { cancel(); <-done; m.Close() })
	return m, ev
}

// Instances on one database hold different numbers; a number is free again
// as soon as its holder's connection ends.
func TestMemberInstanceNumbers(t *testing.T) {
	pgtest.ServerURL(t)
	url := pgtest.Schema(t)
	a, b := openURL(t, url, testKey), openURL(t, url, testKey)
	ma, err := a.Join(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mb, err := b.Join(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	if ma.Instance() == mb.Instance() {
		t.Fatalf("two members hold instance %d", ma.Instance())
	}
	freed, pid := ma.Instance(), ma.backendPID()
	ma.Close()
	// The server frees the backend's locks a moment after the
	// client hangs up: wait for that, as a restarted instance would find it.
	gone := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := b.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_locks WHERE pid = $1 AND locktype = 'advisory'`, int64(pid)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(gone) {
			t.Fatalf("backend %d still holds its number 10 s after its connection closed", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mc, err := a.Join(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	if mc.Instance() != freed {
		t.Errorf("new member took %d, want the freed %d", mc.Instance(), freed)
	}
	// Another schema has numbers of its own.
	other := open(t)
	mo, err := other.Join(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer mo.Close()
	if mo.Instance() != 0 {
		t.Errorf("first member of another schema took %d, want 0", mo.Instance())
	}
}

// What one instance does, the others hear: work made due and workflows
// changed; a lost connection is reported, then restored with the same
// number.
func TestMemberSignals(t *testing.T) {
	pgtest.ServerURL(t)
	ctx := context.Background()
	url := pgtest.Schema(t)
	here, there := openURL(t, url, testKey), openURL(t, url, testKey)
	m, ev := join(t, here)

	w := storetest.CreateWorkflow(t, there, `{"title":"a","mode":"async","nodes":[]}`)
	up := *w
	if err := there.UpdateWorkflow(ctx, &up); err != nil {
		t.Fatal(err)
	}
	ev.want(t, "workflow "+w.Key)

	var ids engine.IDGenerator
	e := &engine.Execution{ID: ids.Next(), WorkflowID: w.ID, Revision: 1, Status: engine.StatusQueued, Mode: engine.ModeAsync,
		Request: engine.Request{Method: "POST"}, Context: []byte(`{}`), CreatedAt: time.Now()}
	if err := there.InsertExecution(ctx, e, "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	ev.want(t, "work")

	// A running execution released by an instance that stops wakes the
	// others at once.
	if _, err := there.ClaimExecutions(ctx, "stopping", time.Now(), time.Now().Add(time.Minute), 10); err != nil {
		t.Fatal(err)
	}
	if n, err := there.ReleaseLeases(ctx, "stopping"); err != nil || n != 1 {
		t.Fatalf("ReleaseLeases = %d, %v", n, err)
	}
	ev.want(t, "work")

	if err := there.DeleteWorkflow(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	ev.want(t, "workflow "+w.Key)

	// The connection is cut (a restart of PostgreSQL, a network fault).
	if _, err := there.pool.Exec(ctx, `SELECT pg_terminate_backend($1)`, int64(m.backendPID())); err != nil {
		t.Fatal(err)
	}
	ev.want(t, "disconnected")
	// The executions went with their workflow: no id is stored.
	ev.want(t, fmt.Sprintf("reconnected %d 0", m.Instance()))
	w2 := storetest.CreateWorkflow(t, there, `{"title":"b","mode":"async","nodes":[]}`)
	if err := there.DeleteWorkflow(ctx, w2.ID); err != nil {
		t.Fatal(err)
	}
	ev.want(t, "workflow "+w2.Key)
}
