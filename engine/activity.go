package engine

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Activity spans: the store keeps counters per minute for a few hours and
// per hour for a week.
const (
	ActivityMinute = time.Minute
	ActivityHour   = time.Hour
	// ActivityMinutesKept and ActivityHoursKept bound how far back each
	// span is kept.
	ActivityMinutesKept = 3 * time.Hour
	ActivityHoursKept   = 8 * 24 * time.Hour
)

// ActivityBucket counts the traffic of one workflow in one bucket of time:
// requests accepted (executions created), executions finished by outcome,
// and requests refused. Finished executions are counted in the bucket of
// their creation.
type ActivityBucket struct {
	Start    time.Time
	Requests int64
	Resolved int64
	// Failed counts failed, error and aborted executions.
	Failed   int64
	Rejected int64
	// Durations counts finished executions per duration class
	// (DurationBounds); hour buckets only.
	Durations []int64
}

// ActivityStore reads the activity counters, which the execution store
// keeps as it writes.
type ActivityStore interface {
	// Activity returns a workflow's buckets of span (ActivityMinute or
	// ActivityHour) that start in [from, to), oldest first; buckets without
	// traffic are left out.
	Activity(ctx context.Context, workflowID int64, span time.Duration, from, to time.Time) ([]ActivityBucket, error)
	// RecentActivity returns every workflow's hour buckets since from, by
	// workflow id.
	RecentActivity(ctx context.Context, from time.Time) (map[int64][]ActivityBucket, error)
}

// DurationBounds are the upper bounds of the duration classes of
// ActivityBucket.Durations; the last class is everything longer.
var DurationBounds = []time.Duration{
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond,
	50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute,
}

// DurationClass returns the class of a duration in DurationBounds.
func DurationClass(d time.Duration) int {
	for i, b := range DurationBounds {
		if d <= b {
			return i
		}
	}
	return len(DurationBounds)
}

// EncodeDurations and DecodeDurations store duration class counts as text
// ("3,0,12"), trailing zeros left out.
func EncodeDurations(counts []int64) string {
	end := len(counts)
	for end > 0 && counts[end-1] == 0 {
		end--
	}
	var b strings.Builder
	for i, c := range counts[:end] {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(c, 10))
	}
	return b.String()
}

// DecodeDurations parses EncodeDurations' text; a bad entry counts 0.
func DecodeDurations(s string) []int64 {
	out := make([]int64, len(DurationBounds)+1)
	if s == "" {
		return out
	}
	for i, f := range strings.Split(s, ",") {
		if i >= len(out) {
			break
		}
		out[i], _ = strconv.ParseInt(f, 10, 64)
	}
	return out
}

// FlowStats summarises a workflow's finished executions over a span.
type FlowStats struct {
	Requests, Resolved, Failed, Rejected int64
	// P50 and P99 are flow durations, estimated from the duration classes
	// (0 without finished executions).
	P50, P99 time.Duration
}

// SuccessRate is the share of finished executions that resolved, or -1
// when none finished.
func (f FlowStats) SuccessRate() float64 {
	if n := f.Resolved + f.Failed; n > 0 {
		return float64(f.Resolved) / float64(n)
	}
	return -1
}

// SummarizeActivity adds up buckets.
func SummarizeActivity(bs []ActivityBucket) FlowStats {
	var f FlowStats
	hist := make([]int64, len(DurationBounds)+1)
	for _, b := range bs {
		f.Requests += b.Requests
		f.Resolved += b.Resolved
		f.Failed += b.Failed
		f.Rejected += b.Rejected
		for i, c := range b.Durations {
			if i < len(hist) {
				hist[i] += c
			}
		}
	}
	f.P50, f.P99 = durationQuantile(hist, 0.50), durationQuantile(hist, 0.99)
	return f
}

// durationQuantile estimates a quantile from class counts, interpolating
// within the class it falls in (linearly from the class's lower bound).
func durationQuantile(hist []int64, q float64) time.Duration {
	var total int64
	for _, c := range hist {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	var seen float64
	for i, c := range hist {
		if c == 0 {
			continue
		}
		if seen+float64(c) >= rank {
			lo := time.Duration(0)
			if i > 0 {
				lo = DurationBounds[i-1]
			}
			hi := lo * 2
			if i < len(DurationBounds) {
				hi = DurationBounds[i]
			}
			frac := (rank - seen) / float64(c)
			return lo + time.Duration(frac*float64(hi-lo))
		}
		seen += float64(c)
	}
	return DurationBounds[len(DurationBounds)-1]
}

// BucketStart is the start of the bucket of span that holds t.
func BucketStart(t time.Time, span time.Duration) time.Time { return t.Truncate(span) }

// ActivityKey names one bucket of one workflow's activity counters.
type ActivityKey struct {
	Workflow int64
	Span     time.Duration
	Start    int64 // unix milliseconds
}

// ActivityDelta is what writes add to one bucket.
type ActivityDelta struct {
	Requests, Resolved, Failed, Rejected int64
	// Durations are counts to add per duration class; nil when none.
	Durations []int64
}

// ActivityDeltas gathers what a transaction's writes add to the activity
// counters, so that a store adds them with one upsert per bucket (both
// stores use it). The zero value is ready to use.
type ActivityDeltas map[ActivityKey]*ActivityDelta

func (a *ActivityDeltas) at(workflow int64, span time.Duration, t time.Time) *ActivityDelta {
	if *a == nil {
		*a = ActivityDeltas{}
	}
	k := ActivityKey{workflow, span, BucketStart(t, span).UnixMilli()}
	d := (*a)[k]
	if d == nil {
		d = &ActivityDelta{}
		(*a)[k] = d
	}
	return d
}

// Request counts an execution created at t.
func (a *ActivityDeltas) Request(workflow int64, t time.Time) {
	a.at(workflow, ActivityMinute, t).Requests++
	a.at(workflow, ActivityHour, t).Requests++
}

// Finish counts an execution created at t that finished with status after
// running for d; n is 1, or -1 to take a count back (a retried execution
// is no longer failed).
func (a *ActivityDeltas) Finish(workflow int64, t time.Time, status ExecStatus, d time.Duration, n int64) {
	for _, span := range []time.Duration{ActivityMinute, ActivityHour} {
		x := a.at(workflow, span, t)
		if status == StatusResolved {
			x.Resolved += n
		} else {
			x.Failed += n
		}
		if span == ActivityHour && n > 0 {
			if x.Durations == nil {
				x.Durations = make([]int64, len(DurationBounds)+1)
			}
			x.Durations[DurationClass(d)]++
		}
	}
}

// Reject counts n requests refused at t.
func (a *ActivityDeltas) Reject(workflow int64, t time.Time, n int64) {
	a.at(workflow, ActivityMinute, t).Rejected += n
	a.at(workflow, ActivityHour, t).Rejected += n
}

// Keys returns the buckets in one order (workflow, span, start), the order
// in which concurrent transactions lock them without deadlocking.
func (a ActivityDeltas) Keys() []ActivityKey {
	keys := make([]ActivityKey, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y ActivityKey) int {
		return cmp.Or(cmp.Compare(x.Workflow, y.Workflow), cmp.Compare(x.Span, y.Span), cmp.Compare(x.Start, y.Start))
	})
	return keys
}
