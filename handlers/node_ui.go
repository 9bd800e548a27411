package handlers

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
)

// The node panel and the canvas operations of the editor: add, open,
// save, delete and move a node. What differs between node kinds is asked
// of the kind's nodeEditor (node_editor.go).

// nodePost is what every node panel posts besides its kind's settings.
type nodePost struct {
	Title  string `json:"title"`
	Action string `json:"action"`
}

// nodeForm is the panel of a saved node.
func (h *Handlers) nodeForm(c *fiber.Ctx, w *engine.Workflow, d *engine.Document, n *engine.Node) views.NodeForm {
	f := h.nodeFormBase(c, w, d, n)
	f.Title = n.Title
	if e, ok := editorFor(n.Type); ok {
		f.Settings = e.fromNode(n)
	}
	return f
}

// nodeFormBase fills what does not come from the posted form.
func (h *Handlers) nodeFormBase(c *fiber.Ctx, w *engine.Workflow, d *engine.Document, n *engine.Node) views.NodeForm {
	f := views.NodeForm{
		WorkflowID: w.ID, Mode: d.Mode, CSRFToken: editorCSRF(c),
		Key: n.Key, Type: n.Type, Kind: kindOf(n.Type),
		Errors:   map[string]string{},
		Vars:     pickerVars(d, n.Key, true),
		Branches: engine.NodeBranchNames(n, d.Mode),
	}
	for _, b := range n.Branches {
		for i := range b {
			f.BranchSteps += engine.CountNodes(&b[i])
		}
	}
	f.CanMoveUp = engine.MoveNode(editorCloneDoc(d), n.Key, -1) == nil
	f.CanMoveDown = engine.MoveNode(editorCloneDoc(d), n.Key, 1) == nil
	return f
}

// nodeFormFromPost is the panel as posted, with the kind's settings.
func (h *Handlers) nodeFormFromPost(c *fiber.Ctx, w *engine.Workflow, d *engine.Document, n *engine.Node) (views.NodeForm, nodeSettings, *nodePost, error) {
	form, err := editorFormJSON(c)
	if err != nil {
		return views.NodeForm{}, nil, nil, err
	}
	var p nodePost
	if err := decodeEditorForm(form, &p); err != nil {
		return views.NodeForm{}, nil, nil, err
	}
	e, ok := editorFor(n.Type)
	if !ok {
		return views.NodeForm{}, nil, nil, engine.Errorf(engine.EINVALID, "steps of type %q cannot be edited here: use the API", n.Type)
	}
	s, err := e.fromPost(form)
	if err != nil {
		return views.NodeForm{}, nil, nil, err
	}
	f := h.nodeFormBase(c, w, d, n)
	f.Title = p.Title
	f.Settings = s
	return f, s, &p, nil
}

// nodeInputs lists the input names of a node panel, to place errors.
func nodeInputs(s nodeSettings) map[string]bool {
	in := map[string]bool{"title": true}
	s.inputs(in)
	return in
}

// nodeField is the document field of the node with key, as the engine
// names it in errors: nodes[1].branches.no[0].
func nodeField(nodes []engine.Node, key, prefix string) (string, bool) {
	for i := range nodes {
		f := prefix + "[" + strconv.Itoa(i) + "]"
		if nodes[i].Key == key {
			return f, true
		}
		for b, sub := range nodes[i].Branches {
			if s, ok := nodeField(sub, key, f+".branches."+b); ok {
				return s, true
			}
		}
	}
	return "", false
}

// NodeCreate is POST /workflows/:id/nodes (type, parent, branch, index):
// adds a node with a new key and default settings, then opens its panel.
func (h *Handlers) NodeCreate(c *fiber.Ctx) error {
	w, d, err := h.loadEditor(c)
	if err != nil {
		return err
	}
	typ := c.FormValue("type")
	e, ok := editorFor(typ)
	if !ok {
		return engine.Errorf(engine.EINVALID, "type: unknown step type %q", typ)
	}
	if err := nodeFits(typ, d.Mode); err != nil {
		return engine.Errorf(engine.EINVALID, "%s steps cannot be added to this %s workflow: %s",
			e.kind().Label, d.Mode, fieldErrorText(engine.ErrorMessage(err)))
	}
	index, err := strconv.Atoi(c.FormValue("index"))
	if err != nil {
		return engine.Errorf(engine.EINVALID, "index: must be a number")
	}
	key := engine.NewNodeKey(d, typ)
	if err := engine.InsertNode(d, c.FormValue("parent"), c.FormValue("branch"), index, engine.Node{Key: key, Type: typ, Config: e.newConfig()}); err != nil {
		return err
	}
	nw, nd, err := h.saveDoc(c, w, d)
	if err != nil {
		return err
	}
	n, _ := engine.FindNode(nd, key)
	f := h.nodeForm(c, nw, nd, n)
	f.Focus = "node-title"
	return h.respondEditor(c, nw, nd, editorResult{panel: views.NodePanel(f), selected: key, canvas: true, saved: true,
		message: "Added " + strings.ToLower(e.kind().Label) + " " + key + " · revision " + strconv.Itoa(nw.Revision)})
}

// loadNode loads the editor's workflow (loadEditor) and the node named by
// :key in its document.
func (h *Handlers) loadNode(c *fiber.Ctx) (*engine.Workflow, *engine.Document, *engine.Node, error) {
	w, d, err := h.loadEditor(c)
	if err != nil {
		return nil, nil, nil, err
	}
	n, ok := engine.FindNode(d, c.Params("key"))
	if !ok {
		return nil, nil, nil, engine.Errorf(engine.ENOTFOUND, "this step no longer exists: reload the page")
	}
	return w, d, n, nil
}

// NodePanel is GET /workflows/:id/nodes/:key/panel.
func (h *Handlers) NodePanel(c *fiber.Ctx) error {
	w, d, n, err := h.loadNode(c)
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		return redirect(c, editorURL(w.ID, n.Key))
	}
	// The canvas comes along to show the selection.
	return h.respondEditor(c, w, d, editorResult{panel: views.NodePanel(h.nodeForm(c, w, d, n)), selected: n.Key, canvas: true, opened: true})
}

// NodePanelRefresh is POST /workflows/:id/nodes/:key/panel: re-renders the
// node form from the posted state after an action of its kind (add or
// remove a rule, a group or a header), or without one to bring a help text
// up to date; nothing is saved.
func (h *Handlers) NodePanelRefresh(c *fiber.Ctx) error {
	w, d, n, err := h.loadNode(c)
	if err != nil {
		return err
	}
	f, s, p, err := h.nodeFormFromPost(c, w, d, n)
	if err != nil {
		return err
	}
	verb, arg, _ := strings.Cut(p.Action, ":")
	f.Focus = s.act(verb, arg)
	f.Unsaved = true
	// No action is a live refresh (a help text that follows the values,
	// such as a request's retries): it leaves the flash region alone.
	return h.respondEditor(c, w, d, editorResult{panel: views.NodePanel(f), selected: n.Key, opened: p.Action == ""})
}

// NodeSave is POST /workflows/:id/nodes/:key: saves the node's panel.
func (h *Handlers) NodeSave(c *fiber.Ctx) error {
	w, d, n, err := h.loadNode(c)
	if err != nil {
		return err
	}
	f, s, _, err := h.nodeFormFromPost(c, w, d, n)
	if err != nil {
		return err
	}
	f.Title = strings.TrimSpace(f.Title)
	f.Unsaved = true
	cfg := s.config(n.Config, f.Errors)
	// A kind with a test setting saves it beside the config.
	ts, hasTest := s.(nodeTestSettings)
	var test json.RawMessage
	if hasTest {
		test = ts.test(n.Test, f.Errors)
	}
	setTest := func(doc *engine.Document) {
		if tn, ok := engine.FindNode(doc, n.Key); ok && hasTest {
			tn.Test = test
		}
	}
	fail := func() error {
		return h.respondEditor(c, w, d, editorResult{status: fiber.StatusUnprocessableEntity, panel: views.NodePanel(f), selected: n.Key})
	}
	// Every problem at once: the form's own (above) and the engine's
	// verdict on the node, asked of a copy even when the form has some.
	field, _ := nodeField(d.Nodes, n.Key, "nodes")
	inputs := nodeInputs(s)
	scratch := editorCloneDoc(d)
	// ReplaceNodeConfig names fields from the node (config.mode), Validate
	// from the document (nodes[1].config.mode).
	err = engine.ReplaceNodeConfig(scratch, n.Key, f.Title, cfg)
	prefix := ""
	if err == nil {
		setTest(scratch)
		err, prefix = scratch.Validate(), field
	}
	if err != nil {
		if engine.ErrorCode(err) != engine.EINVALID {
			return err
		}
		if msg := placeError(err, prefix, inputs, f.Errors); msg != notSaved {
			f.FormError = msg
		}
	}
	if len(f.Errors) > 0 || f.FormError != "" {
		if f.FormError == "" {
			f.FormError = notSavedFor(f.Errors)
		}
		return fail()
	}
	if err := engine.ReplaceNodeConfig(d, n.Key, f.Title, cfg); err != nil {
		if engine.ErrorCode(err) != engine.EINVALID {
			return err
		}
		f.FormError = placeError(err, "", inputs, f.Errors)
		return fail()
	}
	setTest(d)
	nw, nd, err := h.saveDoc(c, w, d)
	if err != nil {
		if engine.ErrorCode(err) != engine.EINVALID {
			return err
		}
		f.FormError = placeError(err, field, inputs, f.Errors)
		return fail()
	}
	nn, _ := engine.FindNode(nd, n.Key)
	return h.respondEditor(c, nw, nd, editorResult{panel: views.NodePanel(h.nodeForm(c, nw, nd, nn)), selected: n.Key, canvas: true, saved: true,
		message: "Saved as revision " + strconv.Itoa(nw.Revision)})
}

// NodeDelete is POST /workflows/:id/nodes/:key/delete: removes the node
// and its branches.
func (h *Handlers) NodeDelete(c *fiber.Ctx) error {
	w, d, n, err := h.loadNode(c)
	if err != nil {
		return err
	}
	key, count := n.Key, engine.CountNodes(n)
	// Keyboard focus goes to the step that takes its place (issue 15,
	// point 2): the deleted card held it, and the panel that follows is
	// the trigger's.
	next := engine.NodeAfterDelete(d, key)
	if next == "" {
		next = views.TriggerKey
	}
	if err := engine.DeleteNode(d, key); err != nil {
		return err
	}
	nw, nd, err := h.saveDoc(c, w, d)
	if err != nil {
		return err
	}
	msg := "Deleted " + key
	if count > 1 {
		msg += fmt.Sprintf(" and the %d %s in its branches", count-1, editorPlural(count-1, "step", "steps"))
	}
	msg += " · revision " + strconv.Itoa(nw.Revision)
	return h.respondEditor(c, nw, nd, editorResult{panel: views.TriggerPanel(h.triggerForm(c, nw, nd)), selected: views.TriggerKey, canvas: true, saved: true, message: msg, focus: next})
}

// NodeMove is POST /workflows/:id/nodes/:key/move?dir=up|down.
func (h *Handlers) NodeMove(c *fiber.Ctx) error {
	w, d, n, err := h.loadNode(c)
	if err != nil {
		return err
	}
	key := n.Key
	delta := 0
	switch c.Query("dir") {
	case "up":
		delta = -1
	case "down":
		delta = 1
	default:
		return engine.Errorf(engine.EINVALID, "dir: must be up or down")
	}
	if err := engine.MoveNode(d, key, delta); err != nil {
		return err
	}
	nw, nd, err := h.saveDoc(c, w, d)
	if err != nil {
		return err
	}
	nn, _ := engine.FindNode(nd, key)
	f := h.nodeForm(c, nw, nd, nn)
	f.Focus = "node-move-" + c.Query("dir")
	return h.respondEditor(c, nw, nd, editorResult{panel: views.NodePanel(f), selected: key, canvas: true, saved: true,
		message: "Moved " + key + " " + c.Query("dir") + " · revision " + strconv.Itoa(nw.Revision)})
}
