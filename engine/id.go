package engine

import (
	"sync"
	"time"
)

// idEpoch is the start of execution id time: 2024-01-01T00:00:00Z.
const idEpoch = 1704067200000

// IDGenerator hands out execution ids that grow with time: milliseconds
// since 2024 shifted left by 12 bits, plus a sequence. Ids are known before
// the row is written (so $system.executionId works in sync flows), sort by
// creation time, and stay below 2^53 for about 70 years, so JavaScript
// clients read them exactly. The zero value is ready to use.
type IDGenerator struct {
	mu   sync.Mutex
	last int64
}

// Next returns a new id, larger than every id returned or seeded before.
func (g *IDGenerator) Next() int64 {
	id := (time.Now().UnixMilli() - idEpoch) << 12
	g.mu.Lock()
	if id <= g.last {
		id = g.last + 1
	}
	g.last = id
	g.mu.Unlock()
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

// FirstIDAt returns the smallest id generated at or after t: every
// execution created before t has a smaller id.
func FirstIDAt(t time.Time) int64 {
	ms := t.UnixMilli() - idEpoch
	if ms < 0 {
		return 0
	}
	return ms << 12
}
