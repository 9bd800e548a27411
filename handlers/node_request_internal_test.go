package handlers

import (
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// The retry help says what the engine does: waits that double from the
// first up to the longest, summed into a rounded total.
func TestRetryWords(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		attempts    int
		first, most time.Duration
		want        string
	}{
		{1, 2 * time.Second, 600 * time.Second, "Tries once: a failed call is not tried again. Set more attempts to retry."},
		{2, 2 * time.Second, 600 * time.Second, "Tries 2 times over about 2 seconds: between attempts it waits 2 s, give or take 20% so that many retries spread out."},
		{5, 2 * time.Second, 600 * time.Second, "Tries 5 times over about 30 seconds: between attempts it waits 2 s, 4 s, 8 s and 16 s (doubling each time), give or take 20% so that many retries spread out."},
		{8, 2 * time.Second, 10 * time.Second, "Tries 8 times over about 54 seconds: between attempts it waits 2 s, 4 s, 8 s, 10 s, …, 10 s (doubling each time, never more than 10 s), give or take 20% so that many retries spread out."},
		{20, time.Minute, time.Hour, "Tries 20 times over about 14 hours: between attempts it waits 1 min, 2 min, 4 min, 8 min, …, 1 h (doubling each time, never more than 1 h), give or take 20% so that many retries spread out."},
		{3, 500 * time.Millisecond, time.Second, "Tries 3 times over about 2 seconds: between attempts it waits 500 ms and 1 s (doubling each time), give or take 20% so that many retries spread out."},
	} {
		if got := retryWords(tt.attempts, tt.first, tt.most); got != tt.want {
			t.Errorf("retryWords(%d, %v, %v) =\n %q\nwant\n %q", tt.attempts, tt.first, tt.most, got, tt.want)
		}
	}
	if got := retryHelp("5", "2", "x"); got != "Enter the numbers above to see how the retries play out." {
		t.Errorf("help of a bad number = %q", got)
	}
	if got := retryHelp("5", "20", "2"); got != "Not valid yet: must not be less than the first wait." {
		t.Errorf("help of a refused policy = %q", got)
	}
}

func TestShortAndAboutDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		300 * time.Millisecond: "300 ms", 1500 * time.Millisecond: "1.5 s", 90 * time.Second: "1 min 30 s",
		10 * time.Minute: "10 min", 90 * time.Minute: "1 h 30 min", 48 * time.Hour: "2 days", 24 * time.Hour: "1 day",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
	for d, want := range map[time.Duration]string{
		200 * time.Millisecond: "under a second", time.Second: "about 1 second", 30 * time.Second: "about 30 seconds",
		2 * time.Minute: "about 2 minutes", 3 * time.Hour: "about 3 hours", 72 * time.Hour: "about 3 days",
	} {
		if got := aboutDuration(d); got != want {
			t.Errorf("aboutDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestTemplateWords(t *testing.T) {
	t.Parallel()
	d := &engine.Document{Trigger: engine.Trigger{
		Headers: []engine.Field{{Path: "X-Team", Alias: "Team"}},
		Body:    []engine.Field{{Path: "order.id", Alias: "Order"}, {Path: "repo"}},
	}}
	for in, want := range map[string]string{
		"api.example.com/orders/{{$context.body.order.id}}":      "api.example.com/orders/{Order}",
		"x/{{ $context.body.repo }}/{{$context.headers.x-team}}": "x/{repo}/{Team}",
		"{{$jobsMapByNodeKey.notify.status}} at {{$system.now}}": "{notify.status} at {now}",
		"{{$context.query.a[0]}}":                                "{a[0]}",
		"plain":                                                  "plain",
	} {
		if got := templateWords(in, d); got != want {
			t.Errorf("templateWords(%q) = %q, want %q", in, got, want)
		}
	}
}
