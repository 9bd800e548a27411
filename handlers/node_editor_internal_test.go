package handlers

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/engine"
)

// Every node kind the engine knows has an editor, and the config a new
// node gets is valid wherever the kind fits.
func TestNodeEditorsCoverKinds(t *testing.T) {
	t.Parallel()
	for _, typ := range engine.NodeTypes() {
		if strings.HasPrefix(typ, "wh-") {
			continue // test-only kinds of webhook_test.go
		}
		e, ok := editorFor(typ)
		if !ok {
			t.Errorf("no editor for node type %q", typ)
			continue
		}
		if e.kind().Type != typ || e.kind().Label == "" || e.kind().Icon == nil {
			t.Errorf("%s: incomplete kind %+v", typ, e.kind())
		}
		fits := 0
		for _, mode := range []engine.Mode{engine.ModeSync, engine.ModeAsync} {
			if nodeFits(typ, mode) != nil {
				continue
			}
			fits++
			d := &engine.Document{Title: "t", Mode: mode, Nodes: []engine.Node{{Key: "n", Type: typ, Config: e.newConfig()}}}
			if err := d.Validate(); err != nil {
				t.Errorf("%s in %s: the new node's config is invalid: %v", typ, mode, err)
			}
		}
		if fits == 0 {
			t.Errorf("%s fits no mode", typ)
		}
	}
	if nodeFits("response", engine.ModeAsync) == nil {
		t.Error("a response step fits an async workflow")
	}
	var types []string
	for _, k := range insertChoices(engine.ModeAsync) {
		types = append(types, k.Type)
	}
	if got, _ := json.Marshal(types); string(got) != `["condition","end"]` {
		t.Errorf("async + menu offers %s", got)
	}
}

// setConfig replaces the members a form owns and keeps the others.
func TestSetConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ stored, form, want string }{
		{`{"status":200,"continue":true,"body":"x","headers":[]}`, `{"status":201,"headers":[]}`, `{"status":201,"continue":true,"headers":[]}`},
		{``, `{"status":"failed"}`, `{"status":"failed"}`},
		{`null`, `{"status":"failed"}`, `{"status":"failed"}`},
		{`{"x":{"a":1}}`, `{"mode":"branch","rules":{"and":[]}}`, `{"x":{"a":1},"mode":"branch","rules":{"and":[]}}`},
	} {
		if got := setConfig(json.RawMessage(tt.stored), []string{"status", "headers", "body", "mode", "rules"}, []byte(tt.form)); string(got) != tt.want {
			t.Errorf("setConfig(%s, %s) = %s, want %s", tt.stored, tt.form, got, tt.want)
		}
	}
}
