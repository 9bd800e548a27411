package handlers

import (
	"testing"

	"github.com/hookflow/hookflow/engine"
)

// mergeFields keeps the rows (aliases too) but the empty ones, then adds
// the paths not among them by the key given: a field path's canonical
// form, a header name without regard to case.
func TestMergeFields(t *testing.T) {
	t.Parallel()
	rows := []engine.Field{{Path: " order.id ", Alias: "Order"}, {}, {Path: " ", Alias: " "}}
	got, added := mergeFields(rows, []string{"order.id", "order.total", "order.total"}, canonPath)
	if added != 1 || len(got) != 2 || got[0] != rows[0] || got[1] != (engine.Field{Path: "order.total"}) {
		t.Errorf("paths: %+v, added %d", got, added)
	}
	got, added = mergeFields([]engine.Field{{Path: "x-team", Alias: "Team"}}, []string{"X-Team", "X-Slack-Signature"}, headerKey)
	if added != 1 || len(got) != 2 || got[0].Alias != "Team" || got[1].Path != "X-Slack-Signature" {
		t.Errorf("headers: %+v, added %d", got, added)
	}
}

// cleanFields drops the rows left empty and trims the others.
func TestCleanFields(t *testing.T) {
	t.Parallel()
	got := cleanFields([]engine.Field{{Path: " a ", Alias: " A "}, {Path: " ", Alias: ""}, {Alias: "only"}})
	if len(got) != 2 || got[0] != (engine.Field{Path: "a", Alias: "A"}) || got[1] != (engine.Field{Alias: "only"}) {
		t.Errorf("%+v", got)
	}
}
