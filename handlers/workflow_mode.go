package handlers

import (
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
)

// modeBlockers explains what keeps d from running in mode: the nodes that
// do not compile in it, grouped by kind ("remove the 2 response steps
// first (ok, bad): response nodes are only allowed in sync workflows"), or
// "" when nothing does. The engine decides, node by node, so that every
// kind's rule (a response is sync only, a delay async only) applies
// without being repeated here; a last compile of the whole document in
// that mode catches anything else.
func modeBlockers(d *engine.Document, mode engine.Mode) string {
	type group struct {
		keys   []string
		reason string
	}
	var order []string
	groups := map[string]*group{}
	var walk func(nodes []engine.Node)
	walk = func(nodes []engine.Node) {
		for i := range nodes {
			n := &nodes[i]
			if k, ok := engine.NodeKindFor(n.Type); ok {
				probe := *n
				probe.Branches = nil
				if _, err := k.Compile(&probe, engine.CompileEnv{Mode: mode}); err != nil {
					g := groups[n.Type]
					if g == nil {
						g = &group{reason: fieldErrorText(engine.ErrorMessage(err))}
						groups[n.Type] = g
						order = append(order, n.Type)
					}
					g.keys = append(g.keys, n.Key)
				}
			}
			for _, b := range branchesInOrder(n, d.Mode) {
				walk(n.Branches[b])
			}
		}
	}
	walk(d.Nodes)
	var parts []string
	for _, typ := range order {
		g := groups[typ]
		label := strings.ToLower(kindOf(typ).Label)
		what := "the " + label + " step " + g.keys[0]
		if len(g.keys) > 1 {
			what = "the " + strconv.Itoa(len(g.keys)) + " " + label + " steps (" + strings.Join(g.keys, ", ") + ")"
		}
		parts = append(parts, "remove "+what+" first: "+g.reason)
	}
	if len(parts) > 0 {
		return "To switch to " + string(mode) + ", " + strings.Join(parts, "; ") + "."
	}
	probe := *d
	probe.Mode = mode
	if _, err := engine.Compile(&probe); err != nil {
		return "To switch to " + string(mode) + ", fix this first: " + engine.ErrorMessage(err)
	}
	return ""
}

// branchesInOrder lists a node's branches in the order its kind draws
// them (yes, no), then any others sorted, for messages that list nodes in
// flow order.
func branchesInOrder(n *engine.Node, mode engine.Mode) []string {
	out := engine.NodeBranchNames(n, mode)
	var rest []string
	for b := range n.Branches {
		if !slices.Contains(out, b) {
			rest = append(rest, b)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// WorkflowMode is POST /workflows/:id/mode (mode=sync|async): switches a
// workflow between sync and async, a new revision, when every step fits
// the new mode; otherwise the trigger panel says what blocks it (422).
func (h *Handlers) WorkflowMode(c *fiber.Ctx) error {
	w, d, err := h.loadEditor(c)
	if err != nil {
		return err
	}
	mode := engine.Mode(c.FormValue("mode"))
	if mode != engine.ModeSync && mode != engine.ModeAsync {
		return engine.Errorf(engine.EINVALID, `mode: must be "sync" or "async"`)
	}
	if mode == d.Mode {
		return redirect(c, editorURL(w.ID, views.TriggerKey))
	}
	if msg := modeBlockers(d, mode); msg != "" {
		f := h.triggerForm(c, w, d)
		f.Errors["mode"] = msg
		f.Focus = "mode-switch"
		return h.respondEditor(c, w, d, editorResult{status: fiber.StatusUnprocessableEntity, panel: views.TriggerPanel(f), selected: views.TriggerKey})
	}
	d.Mode = mode
	nw, _, err := h.saveDoc(c, w, d)
	if err != nil {
		return err
	}
	h.Log.Info("workflow mode switched", "workflow_id", w.ID, "mode", string(mode), "revision", nw.Revision, "request_id", requestID(c))
	msg := "Switched to sync: callers now wait for the flow's reply · revision " + strconv.Itoa(nw.Revision)
	if mode == engine.ModeAsync {
		msg = "Switched to async: requests are stored and answered at once · revision " + strconv.Itoa(nw.Revision)
	}
	// The header, the panel and the + menus all change: a new page.
	h.flash(c, "success", msg)
	return redirect(c, editorURL(w.ID, views.TriggerKey))
}
