package engine

import (
	"sync"
	"testing"
	"time"
)

func TestIDGeneratorGrowsAndFitsJavaScript(t *testing.T) {
	t.Parallel()
	var g IDGenerator
	before := FirstIDAt(time.Now())
	last := int64(0)
	for range 100000 {
		id := g.Next()
		if id <= last {
			t.Fatalf("id %d after %d", id, last)
		}
		last = id
	}
	if last < before || last >= 1<<53 {
		t.Errorf("id %d: want at least FirstIDAt(start) %d and below 2^53", last, before)
	}
	g.Seed(last + 1000)
	if id := g.Next(); id <= last+1000 {
		t.Errorf("id %d after Seed(%d)", id, last+1000)
	}
}

// Instances sharing a database make ids concurrently, each with its own
// number in the low bits: none is made twice, each instance's grow, and
// FirstIDAt still bounds the ids made before a time.
func TestIDGeneratorInstancesNeverCollide(t *testing.T) {
	t.Parallel()
	const instances, each = 4, 20000
	start := time.Now()
	lists := make([][]int64, instances)
	var wg sync.WaitGroup
	for i := range instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var g IDGenerator
			g.Seed(FirstIDAt(start)) // another instance's id, as MaxExecutionID gives
			g.SetInstance(i + 60)
			for range each {
				lists[i] = append(lists[i], g.Next())
			}
		}()
	}
	wg.Wait()
	ahead := FirstIDAt(time.Now().Add(time.Second))
	seen := map[int64]int{}
	for i, ids := range lists {
		for j, id := range ids {
			if got := int(id & (MaxInstances - 1)); got != i+60 {
				t.Fatalf("instance %d made id %d with instance bits %d", i+60, id, got)
			}
			if j > 0 && id <= ids[j-1] {
				t.Fatalf("instance %d: id %d after %d", i, id, ids[j-1])
			}
			if other, dup := seen[id]; dup {
				t.Fatalf("id %d made by instances %d and %d", id, other, i)
			}
			seen[id] = i
			// A burst of 20,000 ids in a few milliseconds borrows from
			// the coming milliseconds (64 a millisecond): far less than
			// a second ahead.
			if id < FirstIDAt(start) || id >= ahead {
				t.Fatalf("id %d outside [FirstIDAt(start), FirstIDAt(now+1s))", id)
			}
		}
	}
}

func TestIDGeneratorSwitchesInstanceWithoutGoingBack(t *testing.T) {
	t.Parallel()
	var g IDGenerator
	a := g.Next()
	g.SetInstance(5)
	b := g.Next()
	g.SetInstance(3)
	g.Seed(b + 7) // another instance's larger id
	c := g.Next()
	if !(a < b && b < c) || b&(MaxInstances-1) != 5 || c&(MaxInstances-1) != 3 {
		t.Errorf("ids %d %d %d", a, b, c)
	}
}
