package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
	"github.com/tidwall/gjson"
)

func init() { registerNodeEditor(responseEditor{}) }

// responseEditor edits response nodes: status, headers and body
// (views/node_response.templ).
type responseEditor struct{}

func (responseEditor) kind() views.NodeKind { return views.ResponseKind }

// newConfig is a 200 reply with the JSON body {"ok":true}.
func (responseEditor) newConfig() json.RawMessage {
	return json.RawMessage(`{"status":200,"headers":[],"body":{"ok":true}}`)
}

func (responseEditor) fromNode(n *engine.Node) nodeSettings {
	var r engine.Reply
	_ = json.Unmarshal(n.Config, &r)
	s := &responseSettings{views.ResponseForm{Status: strconv.Itoa(r.Status), Headers: r.Headers,
		Continue: gjson.GetBytes(n.Config, "continue").Type == gjson.True}}
	s.Body, s.BodyJSON = bodyForm(r.Body)
	return s
}

func (responseEditor) fromPost(form []byte) (nodeSettings, error) {
	var p struct {
		Status   string       `json:"status"`
		Headers  []headerPost `json:"headers"`
		Body     string       `json:"body"`
		BodyType string       `json:"bodyType"`
		Continue string       `json:"continue"`
	}
	if err := decodeEditorForm(form, &p); err != nil {
		return nil, err
	}
	return &responseSettings{views.ResponseForm{Status: p.Status, Headers: headersFromPost(p.Headers),
		Body: p.Body, BodyJSON: p.BodyType != "text", Continue: p.Continue == "on"}}, nil
}

func (responseEditor) card(n *engine.Node, _ *engine.Document) nodeCard {
	var r struct {
		Status   int               `json:"status"`
		Headers  []json.RawMessage `json:"headers"`
		Body     json.RawMessage   `json:"body"`
		Continue bool              `json:"continue"`
	}
	if json.Unmarshal(n.Config, &r) != nil {
		return nodeCard{summary: "Invalid settings", ends: true}
	}
	s := strconv.Itoa(r.Status)
	body := bytes.TrimSpace(r.Body)
	switch {
	case len(body) == 0 || string(body) == "null":
		s += " · no body"
	case body[0] == '"':
		s += " · text body"
	default:
		s += " · JSON body"
	}
	switch len(r.Headers) {
	case 0:
	case 1:
		s += " · 1 header"
	default:
		s += " · " + strconv.Itoa(len(r.Headers)) + " headers"
	}
	if r.Continue {
		// Respond and continue (§13): the flow goes on after the reply.
		return nodeCard{summary: s + " · then goes on"}
	}
	return nodeCard{summary: s, ends: true}
}

func (responseEditor) vars(*engine.Node) []resultVar {
	return []resultVar{{Hint: `{"status": …}`}}
}

// responseSettings is a response panel's state.
type responseSettings struct{ views.ResponseForm }

// responseOwned are the config members the response panel shows.
var responseOwned = []string{"status", "headers", "body", "continue"}

func (s *responseSettings) config(stored json.RawMessage, errs map[string]string) json.RawMessage {
	s.Headers = dropEmptyHeaders(s.Headers)
	r := struct {
		Status  int                  `json:"status"`
		Headers []engine.ReplyHeader `json:"headers"`
		Body    json.RawMessage      `json:"body,omitempty"`
		// Continue is written only when on: off is the default.
		Continue bool `json:"continue,omitempty"`
	}{Headers: s.Headers, Continue: s.Continue}
	if r.Headers == nil {
		r.Headers = []engine.ReplyHeader{}
	}
	var err error
	if r.Status, err = strconv.Atoi(strings.TrimSpace(s.Status)); err != nil {
		errs["status"] = "must be a number between 200 and 599"
	}
	if r.Body, err = bodyJSON(s.Body, s.BodyJSON); err != nil {
		errs["body"] = err.Error()
	}
	checkReplyHeaders("headers", s.Headers, errs)
	out, _ := json.Marshal(r)
	return setConfig(stored, responseOwned, out)
}

func (s *responseSettings) inputs(in map[string]bool) {
	in["status"], in["headers"], in["body"], in["continue"] = true, true, true, true
	for i := range s.Headers {
		in[fmt.Sprintf("headers[%d][name]", i)] = true
		in[fmt.Sprintf("headers[%d][value]", i)] = true
	}
}

// act adds a header row, or removes the one at arg ("headers.1").
func (s *responseSettings) act(verb, arg string) string {
	return headerRowsAct(&s.Headers, "headers", verb, arg)
}
