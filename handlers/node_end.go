package handlers

import (
	"encoding/json"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
)

func init() { registerNodeEditor(endEditor{}) }

// endEditor edits end nodes: the status the execution ends with
// (views/node_end.templ).
type endEditor struct{}

func (endEditor) kind() views.NodeKind { return views.EndKind }

// newConfig is an end that resolves.
func (endEditor) newConfig() json.RawMessage { return json.RawMessage(`{"status":"resolved"}`) }

// endStatus reads the status of an end node's config; missing means
// resolved, as the engine runs it.
func endStatus(config json.RawMessage) string {
	var e struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(config, &e)
	if e.Status == "" {
		return string(engine.StatusResolved)
	}
	return e.Status
}

func (endEditor) fromNode(n *engine.Node) nodeSettings {
	return &endSettings{views.EndForm{Status: endStatus(n.Config)}}
}

func (endEditor) fromPost(form []byte) (nodeSettings, error) {
	var p struct {
		Status string `json:"status"`
	}
	if err := decodeEditorForm(form, &p); err != nil {
		return nil, err
	}
	return &endSettings{views.EndForm{Status: p.Status}}, nil
}

func (endEditor) card(n *engine.Node, _ *engine.Document) nodeCard {
	return nodeCard{summary: "Ends the execution as " + endStatus(n.Config), ends: true}
}

func (endEditor) vars(*engine.Node) []resultVar {
	return []resultVar{{Hint: `{"status": …}`}}
}

// endSettings is an end panel's state.
type endSettings struct{ views.EndForm }

func (s *endSettings) config(stored json.RawMessage, _ map[string]string) json.RawMessage {
	out := engine.AppendJSONString([]byte(`{"status":`), s.Status)
	return setConfig(stored, []string{"status"}, append(out, '}'))
}

func (s *endSettings) inputs(in map[string]bool) { in["status"] = true }

func (s *endSettings) act(string, string) string { return "" }
