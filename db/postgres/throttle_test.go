package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/hookflow/hookflow/db/postgres/pgtest"
	"github.com/hookflow/hookflow/engine"
)

// The sign-in throttle's counters (engine.ThrottleStore): decide sees each
// key's failures in the order of the keys given; a yes adds one failure at
// now to each key, a wait changes nothing; failures older than forget
// count as none and start over; a give-back takes one off (dropping a
// counter at zero) and drops the forget key's counter.
func TestThrottle(t *testing.T) {
	pgtest.ServerURL(t)
	ctx := context.Background()
	d := open(t)
	const forget = time.Hour
	// Not in sorted order: the store sorts them to lock, decide must not
	// see that.
	keys := []string{"ip:192.0.2.1", "email:a@example.com"}
	t0 := time.UnixMilli(time.Now().UnixMilli())
	reserve := func(at time.Time, wait time.Duration, want ...engine.Failures) {
		t.Helper()
		var seen []engine.Failures
		got, err := d.ReserveAttempt(ctx, keys, at, forget, func(f []engine.Failures) time.Duration { seen = f; return wait })
		if err != nil {
			t.Fatal(err)
		}
		if got != wait {
			t.Errorf("ReserveAttempt = %v, want decide's %v", got, wait)
		}
		if len(seen) != len(want) {
			t.Fatalf("decide saw %+v, want %+v", seen, want)
		}
		for i := range want {
			if seen[i].N != want[i].N || !seen[i].Last.Equal(want[i].Last) {
				t.Errorf("decide saw %+v, want %+v", seen, want)
				break
			}
		}
	}
	none := engine.Failures{}
	reserve(t0, 0, none, none)
	reserve(t0.Add(time.Second), 0, engine.Failures{N: 1, Last: t0}, engine.Failures{N: 1, Last: t0})
	t1 := t0.Add(time.Second)
	// A wait adds nothing.
	reserve(t0.Add(2*time.Second), time.Minute, engine.Failures{N: 2, Last: t1}, engine.Failures{N: 2, Last: t1})
	reserve(t0.Add(3*time.Second), time.Minute, engine.Failures{N: 2, Last: t1}, engine.Failures{N: 2, Last: t1})

	// One failure given back on the first key only.
	if err := d.GiveBackAttempt(ctx, keys[:1], ""); err != nil {
		t.Fatal(err)
	}
	reserve(t0.Add(4*time.Second), time.Minute, engine.Failures{N: 1, Last: t1}, engine.Failures{N: 2, Last: t1})

	// Past forget, the old failures count as none, and counting starts
	// over at one.
	late := t1.Add(forget + time.Second)
	reserve(late, 0, none, none)
	reserve(late.Add(time.Second), time.Minute, engine.Failures{N: 1, Last: late}, engine.Failures{N: 1, Last: late})

	// A give-back drops a counter that reaches zero, and the forget key's.
	if err := d.GiveBackAttempt(ctx, keys[:1], keys[1]); err != nil {
		t.Fatal(err)
	}
	reserve(late.Add(2*time.Second), time.Minute, none, none)
}
