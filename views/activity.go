package views

import (
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// The activity charts (issue 15, points 6 and 7) are drawn on the server
// as SVG from the activity counters (engine.ActivityBucket): bars stacked
// by outcome, shapes coloured by class (the CSP allows no inline style),
// with the same numbers in words and in a table beside them.

// ChartRange is one span the executions page's chart can show.
type ChartRange struct {
	// Key is the chart= value of the page's URL.
	Key string
	// Label names the range in the chooser ("Last hour").
	Label string
	// Phrase ends "requests in …" ("the last hour").
	Phrase string
	// Span is the bucket size: engine.ActivityMinute or ActivityHour.
	Span time.Duration
	// Bars is how many buckets it shows, the current one last.
	Bars int
	// Ticks is how many intervals the time axis is cut into.
	Ticks int
}

// ChartRanges are the chart's ranges, in the chooser's order.
var ChartRanges = []ChartRange{
	{Key: "1h", Label: "Last hour", Phrase: "the last hour", Span: engine.ActivityMinute, Bars: 60, Ticks: 4},
	{Key: "24h", Label: "24 hours", Phrase: "the last 24 hours", Span: engine.ActivityHour, Bars: 24, Ticks: 4},
	{Key: "7d", Label: "7 days", Phrase: "the last 7 days", Span: engine.ActivityHour, Bars: 7 * 24, Ticks: 7},
}

// DefaultChartRange is the range a page shows unless its URL asks.
const DefaultChartRange = "24h"

// ChartRangeByKey returns the range named key.
func ChartRangeByKey(key string) (ChartRange, bool) {
	for _, r := range ChartRanges {
		if r.Key == key {
			return r, true
		}
	}
	return ChartRange{}, false
}

// From is the start of the oldest bucket shown at now.
func (r ChartRange) From(now time.Time) time.Time {
	return engine.BucketStart(now, r.Span).Add(-time.Duration(r.Bars-1) * r.Span)
}

// ChartBar is one bucket: what the requests of its span became.
type ChartBar struct {
	Start time.Time
	// Resolved and Failed (failed, error, aborted) count finished
	// executions; Pending those not finished yet (queued, running,
	// waiting); Rejected the requests refused (401, 403, 400, 413).
	Resolved, Failed, Pending, Rejected int64
}

// Total is every request of the bucket, refused ones included.
func (b ChartBar) Total() int64 { return b.Resolved + b.Failed + b.Pending + b.Rejected }

// ChartSeries names the stacked series, bottom first: their CSS classes
// (chart-<name>) and legend labels.
var ChartSeries = []struct{ Name, Label string }{
	{"resolved", "resolved"},
	{"failed", "failed or error"},
	{"pending", "in progress"},
	{"rejected", "refused (401, 403, 400, 413)"},
}

// add counts o's requests into b (a sum of bars).
func (b *ChartBar) add(o ChartBar) {
	b.Resolved += o.Resolved
	b.Failed += o.Failed
	b.Pending += o.Pending
	b.Rejected += o.Rejected
}

func (b ChartBar) value(series string) int64 {
	switch series {
	case "resolved":
		return b.Resolved
	case "failed":
		return b.Failed
	case "pending":
		return b.Pending
	}
	return b.Rejected
}

// ActivityChart is a chart of one workflow's requests over a range.
type ActivityChart struct {
	WorkflowID int64
	Range      ChartRange
	// Bars are the range's buckets, oldest first, empty ones included.
	Bars []ChartBar
	// Sum adds up the bars.
	Sum ChartBar
	// Peak is the busiest bar (the first of equals).
	Peak ChartBar
	// Max is the top of the value axis: a round number at least the
	// busiest bar's total.
	Max int64
	// Ticks label the time axis at even intervals, left edge to right.
	Ticks []string
	// Status is the executions list's filter, kept by the chooser's links.
	Status engine.ExecStatus
}

// NewActivityChart builds the chart of buckets (a store's answer, empty
// ones left out) over r at now.
func NewActivityChart(workflowID int64, r ChartRange, buckets []engine.ActivityBucket, now time.Time) ActivityChart {
	c := ActivityChart{WorkflowID: workflowID, Range: r, Bars: chartBars(r, buckets, now)}
	for _, b := range c.Bars {
		c.Sum.add(b)
		if b.Total() > c.Peak.Total() {
			c.Peak = b
		}
	}
	c.Max = niceCeil(c.Peak.Total())
	from := r.From(now)
	step := time.Duration(r.Bars) * r.Span / time.Duration(r.Ticks)
	for i := 0; i <= r.Ticks; i++ {
		c.Ticks = append(c.Ticks, chartTime(r, from.Add(time.Duration(i)*step)))
	}
	return c
}

// chartBars lays buckets out on r's bars ending at now.
func chartBars(r ChartRange, buckets []engine.ActivityBucket, now time.Time) []ChartBar {
	from := r.From(now)
	bars := make([]ChartBar, r.Bars)
	for i := range bars {
		bars[i].Start = from.Add(time.Duration(i) * r.Span)
	}
	for _, b := range buckets {
		i := int(b.Start.Sub(from) / r.Span)
		if b.Start.Before(from) || i >= len(bars) {
			continue
		}
		bars[i].Resolved, bars[i].Failed, bars[i].Rejected = b.Resolved, b.Failed, b.Rejected
		bars[i].Pending = max(0, b.Requests-b.Resolved-b.Failed)
	}
	return bars
}

// niceCeil rounds n up to a round even number (2, 3, 4, 5, 6, 8 or 10
// times a power of ten), so that the axis' middle label is whole too; 0
// stays 0.
func niceCeil(n int64) int64 {
	if n <= 0 {
		return 0
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{2, 3, 4, 5, 6, 8, 10} {
			if v := m * p; v%2 == 0 && v >= n {
				return v
			}
		}
	}
}

// chartTime writes a time of the axis: a clock for minutes and hours, a
// date for days.
func chartTime(r ChartRange, t time.Time) string {
	t = t.UTC()
	if r.Ticks == 7 {
		return t.Format("Jan 2")
	}
	return t.Format("15:04")
}

// BarLabel says what a bar covers: "14:05 UTC" (a minute), "14:00–15:00
// UTC" (an hour), with the date for hours.
func (c ActivityChart) BarLabel(b ChartBar) string {
	s := b.Start.UTC()
	if c.Range.Span == engine.ActivityMinute {
		return s.Format("15:04") + " UTC"
	}
	return s.Format("Jan 2, 15:04") + "–" + s.Add(c.Range.Span).Format("15:04") + " UTC"
}

// Geometry of the plot, in viewBox units: each bar has a slot of
// chartSlot with chartGap left free; heights are out of chartHeight.
const (
	chartSlot   = 10
	chartGap    = 2
	chartHeight = 100
)

// ViewBox is the plot's SVG viewBox.
func (c ActivityChart) ViewBox() string {
	return "0 0 " + strconv.Itoa(len(c.Bars)*chartSlot) + " " + strconv.Itoa(chartHeight)
}

// Path draws one series as a path of rectangles stacked on the series
// below it.
func (c ActivityChart) Path(series string) string {
	return stackPath(c.Bars, c.Max, series, chartSlot, chartGap, chartHeight)
}

// stackPath draws series's part of each bar, on top of the series before
// it in ChartSeries, scaled so that top fills height.
func stackPath(bars []ChartBar, top int64, series string, slot, gap, height int) string {
	if top <= 0 {
		return ""
	}
	var p strings.Builder
	scale := float64(height) / float64(top)
	for i, b := range bars {
		var below int64
		for _, s := range ChartSeries {
			if s.Name == series {
				break
			}
			below += b.value(s.Name)
		}
		v := b.value(series)
		if v == 0 {
			continue
		}
		y0 := float64(height) - float64(below)*scale
		h := float64(v) * scale
		p.WriteString("M")
		p.WriteString(strconv.Itoa(i*slot + gap/2))
		p.WriteByte(' ')
		p.WriteString(svgNum(y0 - h))
		p.WriteString("h")
		p.WriteString(strconv.Itoa(slot - gap))
		p.WriteString("v")
		p.WriteString(svgNum(h))
		p.WriteString("h-")
		p.WriteString(strconv.Itoa(slot - gap))
		p.WriteString("z")
	}
	return p.String()
}

func svgNum(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// BarX is where a bar's slot starts, for its hover target.
func (c ActivityChart) BarX(i int) string { return strconv.Itoa(i * chartSlot) }

// GridPath draws the value axis' lines: the top, the middle and the base.
func (c ActivityChart) GridPath() string {
	w := strconv.Itoa(len(c.Bars) * chartSlot)
	return "M0 0.5H" + w + "M0 50H" + w + "M0 99.5H" + w
}

// Summary says the chart in one sentence, for everyone: "1,234 requests
// in the last 24 hours: 1,200 resolved, 30 failed or error, 4 in progress;
// 12 refused. Busiest: Dec 7, 14:00–15:00 UTC, with 230."
func (c ActivityChart) Summary() string {
	total := c.Sum.Total()
	if total == 0 {
		return "No requests in " + c.Range.Phrase + "."
	}
	s := Count(total, "request", "requests") + " in " + c.Range.Phrase + ": " + Count(c.Sum.Resolved, "resolved", "resolved") +
		", " + Count(c.Sum.Failed, "failed or error", "failed or error")
	if c.Sum.Pending > 0 {
		s += ", " + Count(c.Sum.Pending, "in progress", "in progress")
	}
	if c.Sum.Rejected > 0 {
		s += "; " + Count(c.Sum.Rejected, "refused", "refused")
	}
	return s + ". Busiest: " + c.BarLabel(c.Peak) + ", with " + Thousands(c.Peak.Total()) + "."
}

// TableBars are the bars with traffic, newest first: the table's rows.
func (c ActivityChart) TableBars() []ChartBar {
	var out []ChartBar
	for i := len(c.Bars) - 1; i >= 0; i-- {
		if c.Bars[i].Total() > 0 {
			out = append(out, c.Bars[i])
		}
	}
	return out
}

func (c ActivityChart) rangeURL(key string) string {
	u := wlPath(c.WorkflowID) + "/executions"
	var q []string
	if c.Status != "" {
		q = append(q, "status="+string(c.Status))
	}
	if key != DefaultChartRange {
		q = append(q, "chart="+key)
	}
	if len(q) > 0 {
		u += "?" + strings.Join(q, "&")
	}
	return u
}

// Thousands writes n with thousands separators: 1234567 → "1,234,567".
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Count writes "1 request", "1,234 requests".
func Count(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return Thousands(n) + " " + many
}

// Sparkline is a workflow's last 24 hours in the workflows list: hour
// bars and the count beside them.
type Sparkline struct {
	Bars []ChartBar
	Sum  ChartBar
	Max  int64
}

// SparkRange is the sparkline's range: the last 24 hours by hour.
var SparkRange = ChartRanges[1]

// NewSparkline builds a workflow's sparkline from its hour buckets.
func NewSparkline(buckets []engine.ActivityBucket, now time.Time) Sparkline {
	s := Sparkline{Bars: chartBars(SparkRange, buckets, now)}
	for _, b := range s.Bars {
		s.Sum.add(b)
		s.Max = max(s.Max, b.Total())
	}
	return s
}

// Geometry of a sparkline, in viewBox units.
const (
	sparkSlot   = 10
	sparkGap    = 2
	sparkHeight = 40
)

// ViewBox is the sparkline's SVG viewBox.
func (s Sparkline) ViewBox() string {
	return "0 0 " + strconv.Itoa(len(s.Bars)*sparkSlot) + " " + strconv.Itoa(sparkHeight)
}

// Path draws one series of the sparkline.
func (s Sparkline) Path(series string) string {
	return stackPath(s.Bars, s.Max, series, sparkSlot, sparkGap, sparkHeight)
}

// Text says the sparkline in words: "1,234 requests in the last 24
// hours, 3 failed or error, 2 refused".
func (s Sparkline) Text() string {
	t := Count(s.Sum.Total(), "request", "requests") + " in the last 24 hours"
	if s.Sum.Failed > 0 {
		t += ", " + Count(s.Sum.Failed, "failed or error", "failed or error")
	}
	if s.Sum.Rejected > 0 {
		t += ", " + Count(s.Sum.Rejected, "refused", "refused")
	}
	return t
}

// FlowStatsView is the editor header's line about the last 24 hours:
// success rate and flow durations (p50, p99).
type FlowStatsView struct {
	WorkflowID int64
	Stats      engine.FlowStats
}

// Finished counts the executions the line is about.
func (f FlowStatsView) Finished() int64 { return f.Stats.Resolved + f.Stats.Failed }

// SuccessText is the share of finished executions that resolved, never
// rounded up to 100% while one failed: "98.5%", "100%".
func (f FlowStatsView) SuccessText() string {
	r := f.Stats.SuccessRate()
	if r < 0 {
		return ""
	}
	pct := float64(int64(r*1000)) / 10 // floored to 0.1
	if pct == float64(int64(pct)) {
		return strconv.FormatInt(int64(pct), 10) + "%"
	}
	return strconv.FormatFloat(pct, 'f', 1, 64) + "%"
}
