package views

import (
	"testing"
	"time"
)

// A waiting execution says what it waits for and when, in words.
func TestWaitText(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 13, 1, 0, 0, time.UTC)
	for _, tt := range []struct {
		w    WaitView
		want string
	}{
		{WaitView{Step: "wait", Due: now.Add(59 * time.Minute)}, "Waits for step 'wait' until 14:00 UTC, in 59 minutes"},
		{WaitView{Step: "wait", Due: now.Add(time.Hour)}, "Waits for step 'wait' until 14:01 UTC, in 1 hour"},
		{WaitView{Step: "notify", Due: now.Add(4 * time.Second), Retry: true, Why: "attempt 2 of 5 failed: HTTP 503"},
			"Retries step 'notify' at 13:01:04 UTC, in 4 seconds: attempt 2 of 5 failed: HTTP 503"},
		{WaitView{Step: "remind", Due: now.Add(50 * time.Hour)}, "Waits for step 'remind' until Mar 4, 15:01 UTC, in 2 days"},
		{WaitView{Step: "late", Due: now.Add(-time.Second)}, "Waits for step 'late' until 13:00:59 UTC, any moment now"},
		{WaitView{Step: "year", Due: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}, "Waits for step 'year' until Jan 1 2027, 00:00 UTC, in 304 days"},
	} {
		if got := tt.w.WaitText(now); got != tt.want {
			t.Errorf("WaitText = %q, want %q", got, tt.want)
		}
	}
}
