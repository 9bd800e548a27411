package engine

import (
	"context"
	"testing"
	"time"
)

// Signals from other instances: a changed workflow is loaded again, a lost
// connection bypasses the cache until it is back, and work due elsewhere
// wakes the runner.
func TestClusterListener(t *testing.T) {
	ks := &keyStore{}
	s := NewService(ks, nil, nil)
	l := s.ClusterListener()
	ctx := context.Background()
	load := func(want int) {
		t.Helper()
		if _, err := s.live(ctx, "k1"); err != nil {
			t.Fatal(err)
		}
		if ks.loads != want {
			t.Fatalf("%d loads, want %d", ks.loads, want)
		}
	}
	load(1)
	load(1) // cached
	l.WorkflowChanged("k1")
	load(2)
	load(2)
	l.Disconnected()
	load(3) // nothing is trusted while signals may be missed
	load(4)
	last := s.ids.Next()
	l.Reconnected(7, last+100)
	load(5)
	load(5)
	if id := s.ids.Next(); id <= last+100 || id&(MaxInstances-1) != 7 {
		t.Errorf("id after Reconnected(7, %d): %d", last+100, id)
	}
	select {
	case <-s.wake:
	default:
		t.Error("Reconnected did not wake the runner")
	}
	l.WorkDue()
	select {
	case <-s.wake:
	case <-time.After(time.Second):
		t.Error("WorkDue did not wake the runner")
	}
}
