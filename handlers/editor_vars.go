package handlers

import (
	"strings"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
)

// The variable picker of the editor's panels.

// contextVar is the template path of a declared trigger field.
func contextVar(part, path string) string {
	if part == "headers" {
		path = strings.ToLower(path)
	}
	if strings.HasPrefix(path, "[") {
		return "$context." + part + path
	}
	return "$context." + part + "." + path
}

// pickerVars lists the variables offered in a panel: the declared trigger
// fields, the results of upstream nodes (for a node) and system values.
func pickerVars(d *engine.Document, nodeKey string, withJobs bool) []views.VarGroup {
	var groups []views.VarGroup
	for _, part := range []struct {
		name   string
		fields []engine.Field
	}{{"headers", d.Trigger.Headers}, {"query", d.Trigger.Query}, {"body", d.Trigger.Body}} {
		g := views.VarGroup{Label: "Trigger — " + part.name}
		for _, f := range part.fields {
			if strings.TrimSpace(f.Path) == "" {
				continue
			}
			o := views.VarOption{Label: f.Label(), Path: contextVar(part.name, f.Path)}
			g.Options = append(g.Options, o)
		}
		if len(g.Options) > 0 {
			groups = append(groups, g)
		}
	}
	if len(groups) == 0 {
		groups = append(groups, views.VarGroup{Label: "Trigger",
			Empty: "No request fields declared yet: open the trigger settings and parse a sample body or URL to list them here."})
	}
	if withJobs {
		g := views.VarGroup{Label: "Earlier nodes", Empty: "No step runs before this one."}
		for _, n := range engine.UpstreamNodes(d, nodeKey) {
			label := views.NodeDisplayTitle(n) + " (" + kindOf(n.Type).Label + ")"
			vars := []resultVar{{}}
			if e, ok := editorFor(n.Type); ok {
				vars = e.vars(&n)
			}
			for _, rv := range vars {
				o := views.VarOption{Label: label, Path: engine.RootJobs + "." + n.Key + rv.Path, Hint: rv.Hint}
				if rv.Label != "" {
					o.Label += " — " + rv.Label
				}
				g.Options = append(g.Options, o)
			}
		}
		groups = append(groups, g)
	}
	sys := views.VarGroup{Label: "System"}
	for _, s := range []struct{ name, label string }{
		{"now", "Current time (RFC 3339)"},
		{"timestamp", "Current time (Unix milliseconds)"},
		{"executionId", "Execution ID"},
		{"workflowId", "Workflow ID"},
		{"workflowKey", "Workflow key"},
		{"revision", "Revision"},
	} {
		sys.Options = append(sys.Options, views.VarOption{Label: s.label, Path: engine.RootSystem + "." + s.name})
	}
	return append(groups, sys)
}
