package handlers

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
	"github.com/tidwall/gjson"
)

// A request step's "In test runs" setting (issue 16, §17): not sent (the
// default: the test shows the request it would send), sent for real, or a
// pinned reply that later steps see. It is the node's "test" member, not
// part of its config, and never changes a real execution.

// requestTestPost is the setting as posted.
type requestTestPost struct {
	Mode string `json:"mode"`
	Pin  struct {
		Status   string       `json:"status"`
		Headers  []headerPost `json:"headers"`
		Body     string       `json:"body"`
		BodyType string       `json:"bodyType"`
	} `json:"pin"`
}

// requestTestOwned are the members of "test" the panel shows; others (an
// API client's) stay.
var requestTestOwned = []string{"run", "pin"}

// requestTestForm fills the form's test setting from a node's "test".
func requestTestForm(s *views.RequestForm, raw json.RawMessage) {
	s.TestMode, s.PinStatus, s.PinBodyJSON = "off", "200", true
	t := gjson.ParseBytes(raw)
	if t.Get("run").Type == gjson.True {
		s.TestMode = "run"
	}
	pin := t.Get("pin")
	if !pin.IsObject() {
		return
	}
	if s.TestMode == "off" {
		s.TestMode = "pin"
	}
	if st := pin.Get("status"); st.Exists() {
		s.PinStatus = st.Raw
	}
	pin.Get("headers").ForEach(func(k, v gjson.Result) bool {
		s.PinHeaders = append(s.PinHeaders, engine.ReplyHeader{Name: k.Str, Value: v.String()})
		return true
	})
	if b := pin.Get("body"); b.Exists() {
		s.PinBody, s.PinBodyJSON = bodyForm(json.RawMessage(b.Raw))
	}
}

// requestTestFromPost fills the form's test setting as posted.
func requestTestFromPost(s *views.RequestForm, p *requestTestPost) {
	s.TestMode = p.Mode
	if s.TestMode != "" && s.TestMode != "run" && s.TestMode != "pin" {
		s.TestMode = "off"
	}
	s.PinStatus, s.PinHeaders = p.Pin.Status, headersFromPost(p.Pin.Headers)
	s.PinBody, s.PinBodyJSON = p.Pin.Body, p.Pin.BodyType != "text"
}

// test is the node's new "test" member (nil for none): the kind's part of
// nodeTestSettings.
func (s *requestSettings) test(stored json.RawMessage, errs map[string]string) json.RawMessage {
	var out []byte
	switch s.TestMode {
	case "":
		// A form without the setting (a page from before it) keeps it.
		return stored
	case "run":
		out = []byte(`{"run":true}`)
	case "pin":
		out = s.pinJSON(errs)
	default:
		out = []byte(`{}`)
	}
	merged := setConfig(stored, requestTestOwned, out)
	if gjson.ParseBytes(merged).IsObject() && len(gjson.ParseBytes(merged).Map()) == 0 {
		return nil
	}
	return merged
}

// pinJSON is {"pin": {...}} of the form's pinned reply; problems go into
// errs by input name.
func (s *requestSettings) pinJSON(errs map[string]string) []byte {
	s.PinHeaders = dropEmptyHeaders(s.PinHeaders)
	out := []byte(`{"pin":{"status":`)
	st, err := strconv.Atoi(strings.TrimSpace(s.PinStatus))
	if err != nil || st < 100 || st > 599 {
		errs["test[pin][status]"] = "must be an HTTP status from 100 to 599, such as 200"
		st = 200
	}
	out = strconv.AppendInt(out, int64(st), 10)
	if len(s.PinHeaders) > 0 {
		out = append(out, `,"headers":{`...)
		for i, h := range s.PinHeaders {
			name := strings.TrimSpace(h.Name)
			if !engine.ValidHeaderName(name) {
				errs[fmt.Sprintf("test[pin][headers][%d][name]", i)] = "must be a header name such as Content-Type (letters, digits, - and _)"
			}
			if i > 0 {
				out = append(out, ',')
			}
			out = engine.AppendJSONString(out, name)
			out = append(out, ':')
			out = engine.AppendJSONString(out, h.Value)
		}
		out = append(out, '}')
	}
	if s.PinBodyJSON && strings.TrimSpace(s.PinBody) == "" {
		return append(out, "}}"...)
	}
	body, err := bodyJSON(s.PinBody, s.PinBodyJSON)
	if err != nil {
		errs["test[pin][body]"] = err.Error()
		return append(out, "}}"...)
	}
	out = append(out, `,"body":`...)
	out = append(out, body...)
	return append(out, "}}"...)
}

// testInputs adds the input names of the test setting.
func (s *requestSettings) testInputs(in map[string]bool) {
	for _, n := range []string{"test", "test[mode]", "test[run]", "test[pin]", "test[pin][status]", "test[pin][headers]", "test[pin][body]"} {
		in[n] = true
	}
	for i := range s.PinHeaders {
		in[fmt.Sprintf("test[pin][headers][%d][name]", i)] = true
		in[fmt.Sprintf("test[pin][headers][%d][value]", i)] = true
	}
}

// testCardWords is what the canvas card says of a test setting.
func testCardWords(raw json.RawMessage) string {
	t := gjson.ParseBytes(raw)
	switch {
	case t.Get("run").Type == gjson.True:
		return "sent in test runs"
	case t.Get("pin").IsObject():
		return "pinned " + t.Get("pin.status").Raw + " in test runs"
	}
	return ""
}
