package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/jackc/pgx/v5"
)

// Member is this instance's place among the instances sharing the
// database. It holds one connection of its own, outside the pool, which
// (1) holds a session advisory lock on this instance's number, 0 to
// engine.MaxInstances-1, so that no two live instances make the same
// execution ids: the lock goes with the connection, so an instance that
// dies (even by SIGKILL) frees its number at once; and (2) LISTENs for the
// other instances' signals (work made due, workflows changed), which Run
// hands to an engine.ClusterListener.
type Member struct {
	d   *DB
	log *slog.Logger
	// mu guards conn and instance, which Run replaces when it reconnects.
	mu       sync.Mutex
	conn     *pgx.Conn
	instance int
}

// Join connects the member's connection, leases an instance number and
// starts listening. Call Run to hear the signals, and Close at the end.
func (d *DB) Join(ctx context.Context) (*Member, error) {
	if err := d.checkClock(ctx); err != nil {
		return nil, err
	}
	m := &Member{d: d, log: d.log, instance: -1}
	if err := m.connect(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// maxClockSkew is how far this instance's clock may be from the database
// server's. Leases and due times are written by each instance's clock: an
// instance whose clock ran ahead would take over the live runs of others
// (their leases would look expired to it) and send their calls again.
const maxClockSkew = 2 * time.Second

// checkClock refuses to join with a clock off by more than maxClockSkew.
func (d *DB) checkClock(ctx context.Context) error {
	before := time.Now()
	var dbMS int64
	if err := d.pool.QueryRow(ctx, `SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint`).Scan(&dbMS); err != nil {
		return mapErr("check clock", err)
	}
	after := time.Now()
	local := before.Add(after.Sub(before) / 2)
	skew := local.Sub(time.UnixMilli(dbMS))
	if skew > maxClockSkew || skew < -maxClockSkew {
		return fmt.Errorf("postgres: this instance's clock is %v off the database server's (at most %v): keep the clocks in sync (NTP)", skew.Round(time.Millisecond), maxClockSkew)
	}
	return nil
}

// Instance is this instance's number, for engine.Service.SetInstance.
func (m *Member) Instance() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.instance
}

// backendPID is the server process of the listening connection (tests cut
// it).
func (m *Member) backendPID() uint32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.conn.PgConn().PID()
}

func (m *Member) setConn(conn *pgx.Conn, instance int) {
	m.mu.Lock()
	m.conn, m.instance = conn, instance
	m.mu.Unlock()
}

// connect opens the connection, leases a number (the one held before if it
// is free) and LISTENs.
func (m *Member) connect(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, m.d.pool.Config().ConnConfig.Copy())
	if err != nil {
		return mapErr("join", err)
	}
	lockSpace := int32(m.d.lockKey("instance"))
	held := m.Instance()
	n := -1
	for i := range engine.MaxInstances {
		slot := i
		if held >= 0 {
			slot = (held + i) % engine.MaxInstances
		}
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1::int, $2::int)`, lockSpace, slot).Scan(&ok); err != nil {
			conn.Close(context.Background())
			return mapErr("join", err)
		}
		if ok {
			n = slot
			break
		}
	}
	if n < 0 {
		conn.Close(context.Background())
		return engine.Errorf(engine.EUNAVAILABLE, "all %d instance numbers of this database are taken: at most %d instances can share it", engine.MaxInstances, engine.MaxInstances)
	}
	for _, ch := range []string{m.d.workChannel, m.d.workflowChannel} {
		if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{ch}.Sanitize()); err != nil {
			conn.Close(context.Background())
			return mapErr("join", err)
		}
	}
	m.setConn(conn, n)
	m.d.slot.Store(int32(n))
	return nil
}

// pingEvery is how often Run checks its connection while no signal comes:
// a connection that died without a word (a network partition) is found
// within it.
const pingEvery = 10 * time.Second

// Run hands the other instances' signals to l until ctx ends. When the
// connection breaks, l hears Disconnected, and Reconnected once a new one
// listens again (with this instance's number, which may have changed
// meanwhile, and the largest execution id stored).
func (m *Member) Run(ctx context.Context, l engine.ClusterListener) {
	for ctx.Err() == nil {
		err := m.listen(ctx, l)
		if ctx.Err() != nil {
			return
		}
		m.log.Warn("lost the database connection that hears other instances; reconnecting", "error", err)
		l.Disconnected()
		m.conn.Close(context.Background())
		for wait := 100 * time.Millisecond; ctx.Err() == nil; wait = min(2*wait, 5*time.Second) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			if err := m.connect(ctx); err != nil {
				m.log.Warn("reconnect to hear other instances", "error", err)
				continue
			}
			last, err := m.d.MaxExecutionID(ctx)
			if err != nil {
				m.log.Warn("reconnect to hear other instances", "error", err)
				m.conn.Close(context.Background())
				continue
			}
			m.log.Info("hearing other instances again", "instance", m.Instance())
			l.Reconnected(m.Instance(), last)
			break
		}
	}
}

// listen delivers notifications until the connection fails.
func (m *Member) listen(ctx context.Context, l engine.ClusterListener) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, pingEvery)
		n, err := m.conn.WaitForNotification(wctx)
		quiet := err != nil && wctx.Err() != nil // no signal within pingEvery
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case quiet:
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := m.conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("ping: %w", err)
			}
			continue
		case err != nil:
			return err
		}
		switch n.Channel {
		case m.d.workChannel:
			l.WorkDue()
		case m.d.workflowChannel:
			l.WorkflowChanged(n.Payload)
		}
	}
}

// Close releases the instance number and stops listening. Run must have
// returned.
func (m *Member) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conn == nil || m.conn.IsClosed() {
		return nil
	}
	return m.conn.Close(context.Background())
}
