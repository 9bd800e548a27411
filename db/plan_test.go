package db

import (
	"strings"
	"testing"
)

// TestQueueQueriesUseIndexes guards the hot queue queries against full
// table scans: SQLite uses the partial index executions_pending only when a
// query implies its condition, and without it every claim reads every
// stored execution (accepts fell from thousands to tens per second).
func TestQueueQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	d := openPruneTestDB(t)
	for name, q := range map[string]string{
		"claim":   claimExecutionsSQL,
		"requeue": requeueRunningSQL,
	} {
		rows, err := d.write.Query("EXPLAIN QUERY PLAN "+q, 0, 10)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, "; ")
		if strings.Contains(all, "SCAN executions") || !strings.Contains(all, "executions_pending") {
			t.Errorf("%s: plan %q must search executions_pending, not scan the table", name, all)
		}
	}
}
