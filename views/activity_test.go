package views

import (
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

func TestNiceCeilAndThousands(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]int64{0: 0, 1: 2, 2: 2, 3: 4, 5: 6, 9: 10, 11: 20, 21: 30, 34: 40, 41: 50, 227: 300, 801: 1000, 1001: 2000, 1_000_000: 1_000_000, 1_000_001: 2_000_000} {
		if got := niceCeil(n); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", n, got, want)
		}
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4321: "-4,321"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestNewActivityChart: buckets land on their bars (older ones and future
// ones are dropped), requests not finished count as in progress, and the
// scale, ticks and words follow.
func TestNewActivityChart(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 14, 25, 0, 0, time.UTC)
	r, _ := ChartRangeByKey("24h")
	if got := r.From(now); !got.Equal(time.Date(2026, 12, 6, 15, 0, 0, 0, time.UTC)) {
		t.Fatalf("24h from %s", got)
	}
	c := NewActivityChart(7, r, []engine.ActivityBucket{
		{Start: time.Date(2026, 12, 6, 14, 0, 0, 0, time.UTC), Requests: 99},                         // before the range
		{Start: time.Date(2026, 12, 6, 15, 0, 0, 0, time.UTC), Requests: 10, Resolved: 9, Failed: 1}, // first bar
		{Start: time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC), Requests: 30, Resolved: 20, Failed: 2, Rejected: 4},
		{Start: time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC), Requests: 99}, // after
	}, now)
	if len(c.Bars) != 24 {
		t.Fatalf("%d bars", len(c.Bars))
	}
	if b := c.Bars[0]; b.Resolved != 9 || b.Failed != 1 || b.Pending != 0 || b.Total() != 10 {
		t.Errorf("first bar %+v", b)
	}
	if b := c.Bars[23]; b.Pending != 8 || b.Rejected != 4 || b.Total() != 34 {
		t.Errorf("last bar %+v", b)
	}
	if c.Sum.Total() != 44 || c.Peak.Total() != 34 || c.Max != 40 {
		t.Errorf("sum %d, peak %d, max %d", c.Sum.Total(), c.Peak.Total(), c.Max)
	}
	if got, want := strings.Join(c.Ticks, " "), "15:00 21:00 03:00 09:00 15:00"; got != want {
		t.Errorf("ticks %q, want %q", got, want)
	}
	if got, want := c.Summary(), "44 requests in the last 24 hours: 29 resolved, 3 failed or error, 8 in progress; 4 refused. Busiest: Dec 7, 14:00–15:00 UTC, with 34."; got != want {
		t.Errorf("summary %q\nwant    %q", got, want)
	}
	if rows := c.TableBars(); len(rows) != 2 || !rows[0].Start.Equal(c.Bars[23].Start) {
		t.Errorf("table rows %+v", rows)
	}
	// The stack: resolved from the base, the next series on top of it.
	if got, want := c.Path("resolved"), "M1 77.50h8v22.50h-8zM231 50.00h8v50.00h-8z"; got != want {
		t.Errorf("resolved path %q, want %q", got, want)
	}
	if got, want := c.Path("failed"), "M1 75.00h8v2.50h-8zM231 45.00h8v5.00h-8z"; got != want {
		t.Errorf("failed path %q, want %q", got, want)
	}
	if got := c.Path("rejected"); got != "M231 15.00h8v10.00h-8z" {
		t.Errorf("rejected path %q: 4 on top of 20+2+8", got)
	}
	week, _ := ChartRangeByKey("7d")
	if got := NewActivityChart(7, week, nil, now); len(got.Ticks) != 8 || got.Ticks[0] != "Nov 30" || got.Ticks[7] != "Dec 7" || got.Path("resolved") != "" {
		t.Errorf("an empty week: ticks %v, path %q", got.Ticks, got.Path("resolved"))
	}
	if _, ok := ChartRangeByKey("1y"); ok {
		t.Error("a range that does not exist")
	}
}

// TestFlowStatsSuccess: the rate is floored, so one failure in a thousand
// never shows as 100%.
func TestFlowStatsSuccess(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		resolved, failed int64
		want             string
	}{{0, 0, ""}, {3, 1, "75%"}, {10, 0, "100%"}, {999, 1, "99.9%"}, {9999, 1, "99.9%"}, {1, 2, "33.3%"}} {
		f := FlowStatsView{Stats: engine.FlowStats{Resolved: tc.resolved, Failed: tc.failed}}
		if got := f.SuccessText(); got != tc.want {
			t.Errorf("%d resolved, %d failed: %q, want %q", tc.resolved, tc.failed, got, tc.want)
		}
	}
}

func TestSparkline(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 14, 25, 0, 0, time.UTC)
	s := NewSparkline([]engine.ActivityBucket{{Start: time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC), Requests: 1200, Resolved: 1190, Failed: 3, Rejected: 2}}, now)
	if got, want := s.Text(), "1,202 requests in the last 24 hours, 3 failed or error, 2 refused"; got != want {
		t.Errorf("text %q, want %q", got, want)
	}
	if s.ViewBox() != "0 0 240 40" || !strings.HasPrefix(s.Path("resolved"), "M231 ") {
		t.Errorf("viewBox %q, path %q", s.ViewBox(), s.Path("resolved"))
	}
}
