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
	if got, _ := json.Marshal(types); string(got) != `["condition","request","set","delay","end"]` {
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

// The canvas says a condition in words: the trigger field's alias, else a
// readable path, and words for every operator.
func TestConditionSummaryWords(t *testing.T) {
	t.Parallel()
	d := &engine.Document{Trigger: engine.Trigger{
		Headers: []engine.Field{{Path: "X-Event", Alias: "Event"}},
		Body:    []engine.Field{{Path: "order.status", Alias: "Order status"}, {Path: "order.total"}},
	}}
	rule := func(left, op, right string) json.RawMessage {
		return json.RawMessage(`{"mode":"branch","rules":{"and":[{"left":` + left + `,"op":"` + op + `","right":` + right + `}]}}`)
	}
	for _, tt := range []struct {
		cfg  json.RawMessage
		want string
	}{
		{rule(`"{{$context.body.order.status}}"`, "equal", `"paid"`), "Order status is paid"},
		{rule(`"{{ $context.headers.x-event }}"`, "notEqual", `"ping"`), "Event is not ping"},
		{rule(`"{{$context.body.order.total}}"`, "gte", `100`), "Order total is at least 100"},
		{rule(`"{{$context.body.customer.firstName}}"`, "startsWith", `"A"`), "Customer first name starts with A"},
		{rule(`"{{$context.query.source}}"`, "empty", `""`), "Source is empty"},
		{rule(`"{{$context.headers.x-other}}"`, "exists", `null`), "x-other header exists"},
		{rule(`"{{$jobsMapByNodeKey.check}}"`, "equal", `true`), "$jobsMapByNodeKey.check is true"},
		{rule(`"{{$context.body.note}}"`, "equal", `""`), `Note is ""`},
		{json.RawMessage(`{"mode":"continue","rules":{"or":[]}}`), `Never true (empty "any" group) · stops if false`},
	} {
		if got := conditionSummary(tt.cfg, d); got != tt.want {
			t.Errorf("summary of %s = %q, want %q", tt.cfg, got, tt.want)
		}
	}
	for _, o := range engine.RuleOperators {
		if _, ok := operatorWords[o.Op]; !ok {
			t.Errorf("operator %s has no words", o.Op)
		}
	}
}
