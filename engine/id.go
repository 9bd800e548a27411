package engine

import (
	"sync"
	"time"
)

// idEpoch is the start of execution id time: 2024-01-01T00:00:00Z.
const idEpoch = 1704067200000

// Execution id layout: milliseconds since idEpoch shifted left by
// idTimeShift bits; below them a sequence within the millisecond and, for
// instances sharing a database, the instance number in the lowest
// InstanceBits bits.
const (
	idTimeShift = 12
	// InstanceBits is how many low bits of an id hold the instance number
	// when several instances share one database: up to MaxInstances
	// instances, each with 2^(12-InstanceBits) = 64 ids a millisecond
	// before it borrows from the next one.
	InstanceBits = 6
	// MaxInstances is how many instances may share one database.
	MaxInstances = 1 << InstanceBits
)

// IDGenerator hands out execution ids that grow with time: milliseconds
// since 2024 shifted left by 12 bits, plus a sequence. Ids are known before
// the row is written (so $system.executionId works in sync flows), sort by
// creation time, and stay below 2^53 for about 70 years, so JavaScript
// clients read them exactly. The zero value is ready to use and has the
// whole 12 bits for its sequence (one process owns the database).
//
// With SetInstance, the low InstanceBits bits hold an instance number that
// no other live instance holds (leased from the database), so that
// instances sharing a database never make the same id, without asking the
// database for each one. A millisecond then has fewer ids per instance;
// a burst beyond them takes ids of the following milliseconds, so ids
// always grow, running slightly ahead of the clock until the burst ends.
type IDGenerator struct {
	mu       sync.Mutex
	last     int64 // the last id handed out or seeded
	instance int64
	bits     uint // instance bits: 0 or InstanceBits
}

// Next returns a new id, larger than every id returned or seeded before.
func (g *IDGenerator) Next() int64 {
	now := time.Now().UnixMilli() - idEpoch
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.bits == 0 {
		id := now << idTimeShift
		if id <= g.last {
			id = g.last + 1
		}
		g.last = id
		return id
	}
	// The sequence field sits above the instance bits; the id after last
	// with this instance's number is the next sequence value.
	id := now<<idTimeShift | g.instance
	if id <= g.last {
		id = (g.last>>g.bits+1)<<g.bits | g.instance
	}
	g.last = id
	return id
}

// Seed makes later ids larger than last.
func (g *IDGenerator) Seed(last int64) {
	g.mu.Lock()
	if last > g.last {
		g.last = last
	}
	g.mu.Unlock()
}

// SetInstance makes the generator put instance (0 to MaxInstances-1) in
// the low bits of every later id. Later ids stay larger than earlier ones.
func (g *IDGenerator) SetInstance(instance int) {
	g.mu.Lock()
	g.instance, g.bits = int64(instance)&(MaxInstances-1), InstanceBits
	g.mu.Unlock()
}

// FirstIDAt returns the smallest id generated at or after t: every
// execution created before t has a smaller id.
func FirstIDAt(t time.Time) int64 {
	ms := t.UnixMilli() - idEpoch
	if ms < 0 {
		return 0
	}
	return ms << idTimeShift
}
