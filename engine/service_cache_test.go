package engine

import (
	"context"
	"strconv"
	"testing"
)

// keyStore serves workflows by key, compiled from one document each, and
// counts the loads.
type keyStore struct {
	WorkflowStore
	loads int
}

func (k *keyStore) GetWorkflowByKey(_ context.Context, key string) (*Workflow, error) {
	k.loads++
	stored, secret, doc, err := PrepareDocument([]byte(`{"title":"` + key + `","mode":"async","nodes":[{"key":"e","type":"end"}]}`))
	if err != nil {
		return nil, err
	}
	id, _ := strconv.ParseInt(key[1:], 10, 64)
	return &Workflow{ID: id, Key: key, Revision: 1, Stored: stored, Secrets: secret, Doc: doc}, nil
}

// The cache of compiled flows stays under its memory budget, keeps what
// fits, and only the runner's flows (not pure) enter the revision cache.
func TestLiveFlowCacheBudget(t *testing.T) {
	ks := &keyStore{}
	s := NewService(ks, nil, nil)
	one, err := s.live(context.Background(), "k0")
	if err != nil {
		t.Fatal(err)
	}
	s.cacheBudget = 10 * one.cost
	for i := range 100 {
		if _, err := s.live(context.Background(), "k"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	sum := func() (n int64) {
		for _, lf := range s.cache {
			n += lf.cost
		}
		return n
	}
	// Keys k10..k99 are one byte longer than k0, so nine of them fit.
	if len(s.cache) != 9 || s.cacheCost != sum() || s.cacheCost > s.cacheBudget {
		t.Errorf("%d flows cached costing %d (sum %d), budget %d", len(s.cache), s.cacheCost, sum(), s.cacheBudget)
	}
	loads := ks.loads
	for key := range s.cache {
		if _, err := s.live(context.Background(), key); err != nil {
			t.Fatal(err)
		}
	}
	if ks.loads != loads {
		t.Errorf("cached flows were loaded again: %d loads", ks.loads-loads)
	}
	s.forget("k99") // the last one loaded is cached
	if s.cache["k99"] != nil || s.cacheCost != sum() || len(s.cache) != 8 {
		t.Errorf("after forget: %d flows costing %d (sum %d)", len(s.cache), s.cacheCost, sum())
	}
	if len(s.revCache) != 0 {
		t.Errorf("%d pure flows in the runner's revision cache", len(s.revCache))
	}
}
