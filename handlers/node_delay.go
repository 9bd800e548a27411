package handlers

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
	"github.com/tidwall/gjson"
)

func init() { registerNodeEditor(delayEditor{}) }

// delayEditor edits delay nodes: wait for an amount of time or until a
// time (views/node_delay.templ). The config stays as §13 has it: seconds,
// or until.
type delayEditor struct{}

func (delayEditor) kind() views.NodeKind { return views.DelayKind }

// newConfig waits an hour.
func (delayEditor) newConfig() json.RawMessage { return json.RawMessage(`{"seconds":3600}`) }

// delayUnitSeconds is the length of each unit of the form.
var delayUnitSeconds = map[string]float64{"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}

// delayAmount writes seconds in the largest unit that divides them:
// 3600 → 1 hours, 90 → 90 seconds... as the form shows them.
func delayAmount(secs float64) (string, string) {
	for i := len(views.DelayUnits) - 1; i > 0; i-- {
		u := views.DelayUnits[i]
		if n := secs / delayUnitSeconds[u]; n >= 1 && n == math.Trunc(n) {
			return strconv.FormatFloat(n, 'f', -1, 64), u
		}
	}
	return strconv.FormatFloat(secs, 'f', -1, 64), "seconds"
}

func (delayEditor) fromNode(n *engine.Node) nodeSettings {
	s := &delaySettings{views.DelayForm{Unit: "hours", Amount: "1"}}
	if u := gjson.GetBytes(n.Config, "until"); u.Exists() {
		s.Until, s.UntilTime = true, u.String()
	} else if secs := gjson.GetBytes(n.Config, "seconds"); secs.Exists() {
		s.Amount, s.Unit = delayAmount(secs.Float())
	}
	return s
}

func (delayEditor) fromPost(form []byte) (nodeSettings, error) {
	var p struct {
		Wait   string `json:"wait"`
		Amount string `json:"amount"`
		Unit   string `json:"unit"`
		Until  string `json:"until"`
	}
	if err := decodeEditorForm(form, &p); err != nil {
		return nil, err
	}
	return &delaySettings{views.DelayForm{Until: p.Wait == "until", Amount: p.Amount, Unit: p.Unit, UntilTime: p.Until}}, nil
}

// card says the wait in words: "Wait 1 hour", "Wait until {Remind at}".
func (delayEditor) card(n *engine.Node, d *engine.Document) nodeCard {
	if u := gjson.GetBytes(n.Config, "until"); u.Exists() {
		if t, err := time.Parse(time.RFC3339, strings.TrimSpace(u.String())); err == nil {
			return nodeCard{summary: "Wait until " + t.UTC().Format("Jan 2 2006, 15:04 UTC")}
		}
		return nodeCard{summary: "Wait until " + templateWords(u.String(), d)}
	}
	secs := gjson.GetBytes(n.Config, "seconds")
	if !secs.Exists() {
		return nodeCard{summary: "Invalid settings"}
	}
	amount, unit := delayAmount(secs.Float())
	if amount == "1" {
		unit = strings.TrimSuffix(unit, "s")
	}
	return nodeCard{summary: "Wait " + amount + " " + unit}
}

func (delayEditor) vars(*engine.Node) []resultVar {
	return []resultVar{{Hint: `{"until": …}`}, {Path: ".until", Label: "until", Hint: "when the wait ended (RFC 3339)"}}
}

// delaySettings is a delay panel's state.
type delaySettings struct{ views.DelayForm }

func (s *delaySettings) config(stored json.RawMessage, errs map[string]string) json.RawMessage {
	owned := []string{"seconds", "until"}
	if s.Until {
		until := strings.TrimSpace(s.UntilTime)
		if until == "" {
			errs["until"] = "required: an RFC 3339 time such as 2026-12-24T18:00:00Z, or a variable"
			return stored
		}
		return setConfig(stored, owned, append(engine.AppendJSONString([]byte(`{"until":`), until), '}'))
	}
	unit, ok := delayUnitSeconds[s.Unit]
	if !ok {
		s.Unit, unit = "seconds", 1
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(s.Amount), 64)
	switch {
	case strings.TrimSpace(s.Amount) == "":
		errs["amount"] = "required: how long to wait"
	case err != nil || math.IsNaN(n) || math.IsInf(n, 0):
		errs["amount"] = "must be a number, such as 1 or 2.5"
	case n <= 0:
		errs["amount"] = "must be more than 0"
	case time.Duration(n*unit*float64(time.Second)) > engine.MaxDelay:
		errs["amount"] = "must be at most 30 days"
	}
	if errs["amount"] != "" {
		return stored
	}
	secs := n * unit
	out := []byte(`{"seconds":`)
	out = strconv.AppendFloat(out, secs, 'f', -1, 64)
	return setConfig(stored, owned, append(out, '}'))
}

func (s *delaySettings) inputs(in map[string]bool) {
	in["amount"], in["unit"], in["until"] = true, true, true
}

func (s *delaySettings) act(string, string) string { return "" }
