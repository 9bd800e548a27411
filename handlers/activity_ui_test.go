package handlers_test

import (
	"context"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/engine"
)

// activityDoc resolves requests whose body says ok, fails the others.
const activityDoc = `{"title":"Charted","mode":"sync","nodes":[
 {"key":"ok","type":"condition","config":{"mode":"continue","rules":{"and":[{"left":"{{$context.body.ok}}","op":"equal","right":true}]}}}]}`

// TestActivityCharts is issue 15's points 6 and 7 on the server: the
// executions page's chart (SVG stacked by outcome, its words and its
// table, the range chooser), the list's sparkline and the editor's line
// of the last 24 hours, all from the activity counters.
func TestActivityCharts(t *testing.T) {
	t.Parallel()
	e := newEditorEnv(t)
	w := e.create(activityDoc)
	idle := e.create(`{"title":"Idle","mode":"sync","nodes":[]}`)
	for _, body := range []string{`{"ok":true}`, `{"ok":true}`, `{"ok":true}`, `{"ok":false}`} {
		trigger(t, e.srv.svc, w.Key, jsonRequest(body))
	}
	e.srv.svc.RecordRejection(context.Background(), w.Key, netip.MustParseAddr("192.0.2.7"), engine.RejectSize, http.StatusRequestEntityTooLarge, "the body is over the limit")
	id := strconv.FormatInt(w.ID, 10)

	// The executions page: 24 hours by default.
	res, body := e.sess.get(t, e.srv.app, wfPath(w.ID, "/executions"))
	wantStatus(t, res, http.StatusOK)
	cspSafe(t, body)
	const want = "5 requests in the last 24 hours: 3 resolved, 1 failed or error; 1 refused. Busiest: "
	if got := textOf(element(t, body, "activity-summary")); !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "UTC, with 5.") {
		t.Errorf("summary %q, want %q…", got, want)
	}
	svg := element(t, body, "activity-svg")
	for _, s := range []string{`role="img"`, `aria-labelledby="activity-summary"`, `viewBox="0 0 240 100"`, `data-series="resolved"`, `data-series="failed"`, `data-series="rejected"`} {
		if !strings.Contains(svg, s) {
			t.Errorf("chart lacks %s: %s", s, svg)
		}
	}
	if strings.Contains(svg, `data-series="pending"`) {
		t.Error("a pending series with nothing in progress")
	}
	if got := strings.Count(svg, "<rect"); got != 1 {
		t.Errorf("%d bars with a hover target, want 1 (one hour has traffic)", got)
	}
	table := element(t, body, "activity-table")
	if got := strings.Count(table, "<tr>"); got != 2 {
		t.Errorf("table of %d rows, want the header and one hour", got)
	}
	if row := textOf(table[strings.LastIndex(table, "<tr>"):]); !strings.HasSuffix(row, "UTC 3 1 0 1 5") {
		t.Errorf("table row %q", row)
	}
	if r := element(t, body, "chart-range-24h"); !strings.Contains(r, `aria-current="page"`) {
		t.Errorf("24 hours not marked current: %s", r)
	}

	// The chooser keeps the status filter; the filter keeps the range.
	res, body = e.sess.get(t, e.srv.app, wfPath(w.ID, "/executions?status=failed&chart=1h"))
	wantStatus(t, res, http.StatusOK)
	if got := textOf(element(t, body, "activity-summary")); !strings.HasPrefix(got, "5 requests in the last hour") {
		t.Errorf("1h summary %q", got)
	}
	if !strings.Contains(element(t, body, "activity-svg"), `viewBox="0 0 600 100"`) {
		t.Error("the last hour is not 60 minute bars")
	}
	if got := attr(t, element(t, body, "chart-range-7d"), "href"); got != "/workflows/"+id+"/executions?status=failed&amp;chart=7d" && got != "/workflows/"+id+"/executions?status=failed&chart=7d" {
		t.Errorf("7 days links %q", got)
	}
	if got := attr(t, element(t, body, "status-filter-resolved"), "href"); !strings.Contains(got, "chart=1h") {
		t.Errorf("a status filter drops the range: %q", got)
	}
	res, body = e.sess.get(t, e.srv.app, wfPath(w.ID, "/executions?chart=7d"))
	wantStatus(t, res, http.StatusOK)
	if !strings.Contains(element(t, body, "activity-svg"), `viewBox="0 0 1680 100"`) {
		t.Error("7 days are not 168 hour bars")
	}
	res, body = e.sess.get(t, e.srv.app, wfPath(w.ID, "/executions?chart=1y"))
	wantStatus(t, res, http.StatusBadRequest)
	if !strings.Contains(body, "chart: must be 1h, 24h or 7d") {
		t.Errorf("bad range answered %s", body)
	}

	// A workflow without traffic says so.
	_, body = e.sess.get(t, e.srv.app, wfPath(idle.ID, "/executions"))
	if got := textOf(element(t, body, "activity-summary")); got != "No requests in the last 24 hours." {
		t.Errorf("idle summary %q", got)
	}
	if hasTestID(body, "activity-table") {
		t.Error("a table of nothing")
	}

	// The list: a sparkline per workflow with its count.
	res, body = e.sess.get(t, e.srv.app, "/")
	wantStatus(t, res, http.StatusOK)
	cspSafe(t, body)
	spark := element(t, body, "spark-"+id)
	if got := textOf(element(t, body, "spark-count-"+id)); got != "5" {
		t.Errorf("sparkline count %q", got)
	}
	if !strings.Contains(textOf(spark), "5 requests in the last 24 hours, 1 failed or error, 1 refused") || !strings.Contains(spark, `aria-hidden="true"`) {
		t.Errorf("sparkline %s", spark)
	}
	if got := textOf(element(t, body, "spark-count-"+strconv.FormatInt(idle.ID, 10))); got != "0" {
		t.Errorf("idle sparkline count %q", got)
	}
	// The switch's reply keeps the row's sparkline.
	res, body = e.post(wfPath(w.ID, "/enabled"), nil)
	wantStatus(t, res, http.StatusOK)
	if got := textOf(element(t, body, "spark-count-"+id)); got != "5" {
		t.Errorf("sparkline after the switch: %q", got)
	}

	// The editor's header: success rate and durations beside the revision.
	res, body = e.sess.get(t, e.srv.app, wfPath(w.ID, ""))
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "revision", "flow-stats-p50", "flow-stats-p99")
	if got := textOf(element(t, body, "flow-stats-success")); got != "75% of 4 succeeded" {
		t.Errorf("success %q", got)
	}
	if got := textOf(element(t, body, "flow-stats-refused")); got != "1 refused" {
		t.Errorf("refused %q", got)
	}
	if got := textOf(element(t, body, "flow-stats-p99")); !strings.HasPrefix(got, "p99 ") || !strings.HasSuffix(got, "ms") {
		t.Errorf("p99 %q", got)
	}
	_, body = e.sess.get(t, e.srv.app, wfPath(idle.ID, ""))
	if got := textOf(element(t, body, "flow-stats")); !strings.Contains(got, "Last 24 h: no finished executions") {
		t.Errorf("idle stats %q", got)
	}
}
