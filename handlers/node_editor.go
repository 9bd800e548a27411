package handlers

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
	"github.com/tidwall/gjson"
)

// A node kind in one place: each kind's editor lives in a file of its own
// (node_condition.go, node_response.go, node_end.go) beside its view
// (views/node_*.templ) and registers itself from init. The shared editor
// code (node_ui.go, the canvas, the variable picker) asks the registry and
// never switches on a node type, so a new kind is its engine file, its view
// file, its handler file and a registration.

// nodeEditor is what the editor needs to know about one node kind.
type nodeEditor interface {
	// kind presents the kind: label, hint, accent, icon.
	kind() views.NodeKind
	// newConfig is the config of a node just added.
	newConfig() json.RawMessage
	// fromNode is the panel's settings for a stored node.
	fromNode(n *engine.Node) nodeSettings
	// fromPost is the panel's settings as posted: form is the whole
	// posted form, parsed into JSON (see parseEditorForm).
	fromPost(form []byte) (nodeSettings, error)
	// card is what the canvas shows of the node; d is the document the
	// node belongs to (the trigger's field aliases, the mode).
	card(n *engine.Node, d *engine.Document) nodeCard
	// vars lists what later nodes may use of the node's result.
	vars(n *engine.Node) []resultVar
}

// nodeSettings is the kind's part of a node panel: its state as stored or
// as posted, which views render (views.NodeSettings) and saves turn back
// into a config.
type nodeSettings interface {
	views.NodeSettings
	// config is the node's new config: the form's fields set on the
	// stored config, whose other members stay (see setConfig). Problems
	// the engine would not name well (a status that is not a number, bad
	// JSON) go into errs by input name.
	config(stored json.RawMessage, errs map[string]string) json.RawMessage
	// inputs adds the names of the inputs that can show an error.
	inputs(in map[string]bool)
	// act applies a panel action ("add-rule", "0.1"), returning the test
	// id to focus ("" when the action is not the kind's).
	act(verb, arg string) (focus string)
}

// nodeTestSettings is implemented by the settings of kinds whose node has
// a test setting (§17: what a request step does in a test run), saved as
// the node's "test" member beside its config.
type nodeTestSettings interface {
	// test is the node's new "test" member (nil for none): the form's
	// setting on the stored one, whose other members stay. Problems go
	// into errs by input name.
	test(stored json.RawMessage, errs map[string]string) json.RawMessage
}

// nodeCard is the kind's description of one node on the canvas.
type nodeCard struct {
	summary string
	// ends reports that the flow stops at the node when it runs.
	ends bool
}

// resultVar is one variable a node's result offers: Path is relative to
// $jobsMapByNodeKey.<key> ("" for the whole result, ".status" for a
// member).
type resultVar struct {
	Path, Label, Hint string
}

var (
	nodeEditorsMu sync.RWMutex
	nodeEditors   = map[string]nodeEditor{}
	nodeOrder     []string // registration order (the + menu sorts by NodeKind.Order)
)

// registerNodeEditor makes a kind editable in the UI. It panics when the
// kind is registered twice or unknown to the engine (a programming error).
func registerNodeEditor(e nodeEditor) {
	typ := e.kind().Type
	if _, ok := engine.NodeKindFor(typ); !ok {
		panic("handlers: node editor for a kind the engine does not know: " + typ)
	}
	nodeEditorsMu.Lock()
	defer nodeEditorsMu.Unlock()
	if _, dup := nodeEditors[typ]; dup {
		panic("handlers: node editor registered twice: " + typ)
	}
	nodeEditors[typ] = e
	nodeOrder = append(nodeOrder, typ)
}

// editorFor returns the editor of a node type.
func editorFor(typ string) (nodeEditor, bool) {
	nodeEditorsMu.RLock()
	defer nodeEditorsMu.RUnlock()
	e, ok := nodeEditors[typ]
	return e, ok
}

// kindOf presents a node type, registered or not.
func kindOf(typ string) views.NodeKind {
	if e, ok := editorFor(typ); ok {
		return e.kind()
	}
	return views.NodeKind{Type: typ, Label: typ, Accent: "neutral"}
}

// nodeFits reports whether a node of the registered kind typ, with its
// default config, may be part of a workflow in mode; when not, the error
// says why (a response outside sync mode). The engine decides, so that no
// kind's rule is repeated here.
func nodeFits(typ string, mode engine.Mode) error {
	e, ok := editorFor(typ)
	if !ok {
		return engine.Errorf(engine.EINVALID, "type: unknown step type %q", typ)
	}
	k, _ := engine.NodeKindFor(typ)
	_, err := k.Compile(&engine.Node{Key: typ, Type: typ, Config: e.newConfig()}, engine.CompileEnv{Mode: mode})
	return err
}

// insertChoices lists the kinds the + menus offer in a workflow of mode,
// in the order the kinds ask for (NodeKind.Order): init functions run in
// file name order, which says nothing about what users look for first.
func insertChoices(mode engine.Mode) []views.NodeKind {
	nodeEditorsMu.RLock()
	order := slices.Clone(nodeOrder)
	nodeEditorsMu.RUnlock()
	var out []views.NodeKind
	for _, typ := range order {
		if nodeFits(typ, mode) == nil {
			e, _ := editorFor(typ)
			out = append(out, e.kind())
		}
	}
	slices.SortStableFunc(out, func(a, b views.NodeKind) int { return a.Order - b.Order })
	return out
}

// canvasCards describes every node of d for the canvas.
func canvasCards(d *engine.Document) map[string]views.NodeCard {
	cards := map[string]views.NodeCard{}
	var walk func(nodes []engine.Node)
	walk = func(nodes []engine.Node) {
		for i := range nodes {
			n := &nodes[i]
			c := views.NodeCard{Kind: kindOf(n.Type), Branches: engine.NodeBranchNames(n, d.Mode)}
			if e, ok := editorFor(n.Type); ok {
				nc := e.card(n, d)
				c.Summary, c.Ends = nc.summary, nc.ends
			}
			cards[n.Key] = c
			for _, b := range n.Branches {
				walk(b)
			}
		}
	}
	walk(d.Nodes)
	return cards
}

// setConfig returns the stored config with the members the form owns
// replaced by those of form (a JSON object): owned members absent from
// form are removed, every other stored member stays, so that a save never
// drops what the form does not show.
func setConfig(stored json.RawMessage, owned []string, form []byte) json.RawMessage {
	old := gjson.ParseBytes(stored)
	if !old.IsObject() {
		return form
	}
	out := []byte{'{'}
	n := 0
	add := func(k, v gjson.Result) {
		if n > 0 {
			out = append(out, ',')
		}
		n++
		out = append(out, k.Raw...)
		out = append(out, ':')
		out = append(out, v.Raw...)
	}
	// Owned members keep their place when they were stored; new ones come
	// after the stored members.
	fresh := gjson.ParseBytes(form)
	done := map[string]bool{}
	old.ForEach(func(k, v gjson.Result) bool {
		if !slices.Contains(owned, k.Str) {
			add(k, v)
			return true
		}
		if done[k.Str] {
			return true
		}
		done[k.Str] = true
		if nv := fresh.Get(gjson.Escape(k.Str)); nv.Exists() {
			add(k, nv)
		}
		return true
	})
	fresh.ForEach(func(k, v gjson.Result) bool {
		if !done[k.Str] {
			add(k, v)
		}
		return true
	})
	return append(out, '}')
}

// placeholderAnyRE finds the placeholders of a template.
var placeholderAnyRE = regexp.MustCompile(`\{\{\s*(.+?)\s*\}\}`)

// templateWords shows a template for a canvas card: each placeholder as
// {name}, named by the trigger field's alias when it has one, else by its
// path ("orders/{Order}", "{order.id}", "{notify.status}", "{now}").
func templateWords(s string, d *engine.Document) string {
	return placeholderAnyRE.ReplaceAllStringFunc(s, func(ph string) string {
		path := strings.TrimSpace(placeholderAnyRE.FindStringSubmatch(ph)[1])
		if m := contextPlaceholderRE.FindStringSubmatch("{{" + path + "}}"); m != nil {
			part, p := m[1], strings.TrimSpace(m[2])
			if d != nil {
				for _, f := range triggerFields(d, part) {
					if f.Alias != "" && samePath(f.Path, p, part == "headers") {
						return "{" + f.Alias + "}"
					}
				}
			}
			return "{" + p + "}"
		}
		for _, root := range []string{engine.RootJobs + ".", engine.RootSystem + ".", engine.RootContext + "."} {
			if rest, ok := strings.CutPrefix(path, root); ok {
				return "{" + rest + "}"
			}
		}
		return "{" + path + "}"
	})
}
