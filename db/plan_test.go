package db

import (
	"strings"
	"testing"
)

// TestQueueQueriesUseIndexes guards the queue queries against full table
// scans: SQLite uses the partial index executions_due only when a query
// implies its condition, and without it every claim reads every stored
// execution (accepts fell from thousands to tens per second).
func TestQueueQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	d := openTest(t).DB
	for name, tc := range map[string]struct {
		q    string
		args []any
	}{
		"claim":    {claimExecutionsSQL, []any{"o", 1, 1, 1, 10}},
		"release":  {releaseLeasesSQL, []any{1, "o"}},
		"expire":   {expireLeasesSQL, []any{1}},
		"next due": {nextDueSQL, nil},
	} {
		all := queryPlan(t, d, tc.q, tc.args...)
		// "SCAN executions USING INDEX executions_due" walks the partial
		// index, which holds the pending rows only: fine.
		if !strings.Contains(all, "USING INDEX executions_due") && !strings.Contains(all, "USING COVERING INDEX executions_due") {
			t.Errorf("%s: plan %q must search executions_due, not scan the table", name, all)
		}
	}
}

// TestCountPendingUsesIndex: the queue gauges count the pending rows from
// the partial index alone, reading no row.
func TestCountPendingUsesIndex(t *testing.T) {
	t.Parallel()
	d := openTest(t).DB
	if plan := queryPlan(t, d, countPendingSQL); !strings.Contains(plan, "USING COVERING INDEX executions_due") {
		t.Errorf("plan %q must read the covering index executions_due only", plan)
	}
}

// TestPruneQueriesUseIndexes: retention reads the rows it deletes from the
// oldest end of the primary key (age) or of the workflow's index (count),
// with no sort and no scan of the table.
func TestPruneQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	d := openTest(t).DB
	for name, tc := range map[string]struct {
		q, want string
	}{
		"age":          {pruneByAgeSQL, "SEARCH executions USING INTEGER PRIMARY KEY (rowid<?)"},
		"window":       {pruneWindowSQL, "SEARCH executions USING COVERING INDEX executions_by_workflow (workflow_id=?)"},
		"count":        {pruneByCountSQL, "SEARCH executions USING COVERING INDEX executions_by_workflow (workflow_id=? AND id<?)"},
		"expired keys": {pruneDedupeSQL, "INDEX dedupe_keys_expiry (expires_at<?)"},
	} {
		all := queryPlan(t, d, tc.q, 1, 10)
		if !strings.Contains(all, tc.want) || strings.Contains(all, "TEMP B-TREE") || strings.Contains(all, "SCAN executions") {
			t.Errorf("%s: plan %q, want %q without a sort or a scan", name, all, tc.want)
		}
	}
}

func queryPlan(t *testing.T, d *DB, q string, args ...any) string {
	t.Helper()
	rows, err := d.write.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "; ")
}
