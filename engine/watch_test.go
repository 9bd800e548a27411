package engine

import (
	"context"
	"sync"
	"testing"
	"time"
)

// fakeVersions is a WorkflowVersions over a map the test edits.
type fakeVersions struct {
	mu   sync.Mutex
	vers map[string]WorkflowVersion
	n    int // bumped with every edit: the fingerprint
	// read is closed when the watcher has taken its first fingerprint.
	read     chan struct{}
	readOnce sync.Once
}

func (f *fakeVersions) set(key string, v *WorkflowVersion) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v == nil {
		delete(f.vers, key)
	} else {
		f.vers[key] = *v
	}
	f.n++
}

func (f *fakeVersions) WorkflowsFingerprint(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.readOnce.Do(func() { close(f.read) })
	return itoa(f.n), nil
}

func (f *fakeVersions) WorkflowVersions(context.Context) (map[string]WorkflowVersion, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]WorkflowVersion{}
	for k, v := range f.vers {
		out[k] = v
	}
	return out, nil
}

// TestWatchWorkflows: a flow whose workflow another process changed (a
// new revision, turned off, deleted) leaves the cache within a poll; the
// others stay compiled.
func TestWatchWorkflows(t *testing.T) {
	t.Parallel()
	ks := &keyStore{}
	s := NewService(ks, nil, nil)
	fv := &fakeVersions{vers: map[string]WorkflowVersion{}, read: make(chan struct{})}
	keys := []string{"k1", "k2", "k3", "k4"}
	for _, k := range keys {
		if _, err := s.live(context.Background(), k); err != nil {
			t.Fatal(err)
		}
		fv.vers[k] = WorkflowVersion{Revision: 1, Enabled: true}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.WatchWorkflows(ctx, fv, 5*time.Millisecond) }()
	defer func() { cancel(); <-done }()
	<-fv.read // edits made after the watcher started

	fv.set("k1", &WorkflowVersion{Revision: 2, Enabled: true})
	fv.set("k2", &WorkflowVersion{Revision: 1, Enabled: false})
	fv.set("k3", nil)
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.RLock()
		n, kept := len(s.cache), s.cache["k4"] != nil
		s.mu.RUnlock()
		if n == 1 && kept {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cache holds %d flows (k4 kept: %v), want only k4", n, kept)
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.cacheCost != s.cache["k4"].cost {
		t.Errorf("cache cost %d, want %d", s.cacheCost, s.cache["k4"].cost)
	}
}
