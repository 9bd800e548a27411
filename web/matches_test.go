package web_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// TestMatchesBudget (issue 12, point 5): an async request whose pure flow
// matches heavy regular expressions against a large value gets its reply
// after the 20 ms inline budget, not after the matches; the flow is left
// to the workers. A pattern too large to run cheaply is refused when
// saved.
func TestMatchesBudget(t *testing.T) {
	t.Parallel()
	e := apiSetup(t)
	rule := `{"left":"{{$context.body.s}}","op":"matches","right":"(.{1,50}){1,9}z"}`
	w := e.create(t, `{"title":"heavy","mode":"async","nodes":[{"key":"c","type":"condition","config":{"mode":"continue","rules":{"or":[`+
		strings.Repeat(rule+",", 9)+rule+`]}}}]}`)
	subject := strings.Repeat("a", 60<<10)
	body := `{"s":"` + subject + `"}`
	// What one of these matches costs on this machine, in this build
	// (-race makes it far slower): measured on a sixteenth of the subject,
	// as the cost grows linearly with it.
	start := time.Now()
	regexp.MustCompile(`(.{1,50}){1,9}z`).MatchString(subject[:len(subject)/16])
	oneMatch := 16 * time.Since(start)
	start = time.Now()
	r := e.trigger(t, w.Get("key").Str, "", body)
	elapsed := time.Since(start)
	if r.status != http.StatusOK {
		t.Fatalf("trigger: %d %s", r.status, r.body)
	}
	// Ten such rules (0.3 s each here, seconds under -race) if nothing
	// stopped them, one if the budget were only checked between rules.
	if elapsed > oneMatch/2 {
		t.Errorf("the reply took %v (one match takes %v), want about the 20 ms budget", elapsed, oneMatch)
	}
	list, err := e.svc.ListExecutions(context.Background(), engine.ExecutionFilter{WorkflowID: w.Get("id").Int()})
	if err != nil || len(list) != 1 || list[0].Status != engine.StatusQueued {
		t.Fatalf("executions %+v %v, want one queued for the workers", list, err)
	}

	r = e.call(t, http.MethodPost, "/api/v1/workflows", strings.Replace(`{"title":"heavier","mode":"async","nodes":[{"key":"c","type":"condition","config":{"mode":"continue","rules":{"or":[RULE]}}}]}`,
		"RULE", strings.Replace(rule, "{1,50}", "{1,100}", 1), 1))
	if msg := apiError(t, r, http.StatusBadRequest); !strings.Contains(msg, "nodes[0].config.rules.or[0].right: regular expression too large") {
		t.Errorf("message %q", msg)
	}
}
