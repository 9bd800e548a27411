package engine

import (
	"context"
	"time"
)

// The dedupe and rejection methods of the in-memory store of flow_test.go,
// which its tests do not use.

func (m *flowTestStore) ClaimDedupeKey(context.Context, *DedupeClaim, time.Time) (DedupeHolder, error) {
	return DedupeHolder{}, m.unused
}
func (m *flowTestStore) ReleaseDedupeKey(context.Context, *DedupeClaim) error { return m.unused }
func (m *flowTestStore) InsertRejection(context.Context, *Rejection) error    { return m.unused }
func (m *flowTestStore) ListRejections(context.Context, int64, int) ([]Rejection, error) {
	return nil, m.unused
}
