package handlers

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
	"github.com/tidwall/gjson"
)

func init() { registerNodeEditor(setEditor{}) }

// setEditor edits set nodes: the value later steps read
// (views/node_set.templ).
type setEditor struct{}

func (setEditor) kind() views.NodeKind { return views.SetKind }

// newConfig reshapes a little of the request, to show how.
func (setEditor) newConfig() json.RawMessage {
	return json.RawMessage(`{"value":{"receivedAt":"{{$system.now}}"}}`)
}

func (setEditor) fromNode(n *engine.Node) nodeSettings {
	s := &setSettings{}
	s.Value, s.ValueJSON = bodyForm(json.RawMessage(gjson.GetBytes(n.Config, "value").Raw))
	return s
}

func (setEditor) fromPost(form []byte) (nodeSettings, error) {
	var p struct {
		Value     string `json:"value"`
		ValueType string `json:"valueType"`
	}
	if err := decodeEditorForm(form, &p); err != nil {
		return nil, err
	}
	return &setSettings{views.SetForm{Value: p.Value, ValueJSON: p.ValueType != "text"}}, nil
}

// card names what later steps read: "Set summary · repo, commits".
func (setEditor) card(n *engine.Node, d *engine.Document) nodeCard {
	v := gjson.GetBytes(n.Config, "value")
	s := "Set " + n.Key
	switch {
	case !v.Exists():
		return nodeCard{summary: s + " · no value yet"}
	case v.IsObject():
		var keys []string
		v.ForEach(func(k, _ gjson.Result) bool {
			keys = append(keys, k.String())
			return len(keys) < 4
		})
		if len(keys) == 0 {
			return nodeCard{summary: s + " · {}"}
		}
		more := ""
		if n := len(v.Map()); n > len(keys) {
			more = " (+" + strconv.Itoa(n-len(keys)) + " more)"
		}
		return nodeCard{summary: s + " · " + strings.Join(keys, ", ") + more}
	case v.IsArray():
		n := len(v.Array())
		return nodeCard{summary: s + " · a list of " + strconv.Itoa(n) + " " + editorPlural(n, "item", "items")}
	case v.Type == gjson.String:
		text := templateWords(v.Str, d)
		if len(text) > 60 {
			text = text[:57] + "…"
		}
		return nodeCard{summary: s + " · " + text}
	}
	return nodeCard{summary: s + " · " + v.Raw}
}

// vars offers the value, and the members of an object value.
func (setEditor) vars(n *engine.Node) []resultVar {
	out := []resultVar{{Hint: "the value"}}
	v := gjson.GetBytes(n.Config, "value")
	if v.IsObject() {
		v.ForEach(func(k, _ gjson.Result) bool {
			if p, err := engine.ParsePath(k.String()); err == nil && len(out) <= 20 {
				out = append(out, resultVar{Path: "." + p.String(), Label: k.String()})
			}
			return true
		})
	}
	return out
}

// setSettings is a set panel's state.
type setSettings struct{ views.SetForm }

func (s *setSettings) config(stored json.RawMessage, errs map[string]string) json.RawMessage {
	var value json.RawMessage
	switch {
	case !s.ValueJSON:
		value = engine.AppendJSONString(nil, s.Value)
	case strings.TrimSpace(s.Value) == "":
		errs["value"] = `required: a JSON value such as {"total": "{{$context.body.order.total}}"}, or choose Value type: Text`
	default:
		v, err := parseJSONText(s.Value)
		if err != nil {
			errs["value"] = err.Error() + " (choose Value type: Text to keep it as text)"
		}
		value = v
	}
	if errs["value"] == "" {
		if kind, ok := engine.NodeKindFor("set"); ok {
			cfg := append(append([]byte(`{"value":`), value...), '}')
			if _, err := kind.Compile(&engine.Node{Key: "probe", Type: "set", Config: cfg}, engine.CompileEnv{Mode: engine.ModeAsync}); err != nil {
				msg := engine.ErrorMessage(err)
				if field, rest, ok := editorSplitFieldError(msg); ok {
					msg = rest
					if at := strings.TrimPrefix(field, "config.value"); at != "" {
						msg = "at " + strings.TrimPrefix(at, ".") + ": " + rest
					}
				}
				errs["value"] = msg
			}
		}
	}
	if errs["value"] != "" {
		// The stored value stands in, so that the engine's verdict on the
		// node does not repeat the problem above the form.
		value = json.RawMessage(bytes.TrimSpace([]byte(gjson.GetBytes(stored, "value").Raw)))
		if len(value) == 0 {
			value = json.RawMessage("null")
		}
	}
	out := append(append([]byte(`{"value":`), value...), '}')
	return setConfig(stored, []string{"value"}, out)
}

func (s *setSettings) inputs(in map[string]bool) { in["value"] = true }

func (s *setSettings) act(string, string) string { return "" }
