package engine

import (
	"bytes"
	"context"

	"github.com/tidwall/gjson"
)

func init() { RegisterNodeKind("end", endKind{}) }

// endKind is the end node (§6): it ends the execution with the status in
// its config, {"status": "resolved"} or {"status": "failed"}. A missing
// config or status means resolved, the harmless choice.
type endKind struct{}

// Pure implements PureKind: the node only decides the status.
func (endKind) Pure() bool { return true }

func (endKind) Compile(n *Node, _ CompileEnv) (Step, error) {
	cfg := bytes.TrimSpace(n.Config)
	status := StatusResolved
	if len(cfg) > 0 && string(cfg) != "null" {
		if err := CheckJSON(cfg, MaxJSONDepth); err != nil {
			return nil, Errorf(EINVALID, "config: %s", ErrorMessage(err))
		}
		v := gjson.ParseBytes(cfg)
		if !v.IsObject() {
			return nil, Errorf(EINVALID, `config: must be an object such as {"status": "resolved"}`)
		}
		switch st := v.Get("status"); {
		case st.Type == gjson.Null: // missing or null
		case st.Type == gjson.String && st.Str == string(StatusResolved):
		case st.Type == gjson.String && st.Str == string(StatusFailed):
			status = StatusFailed
		default:
			return nil, Errorf(EINVALID, `config.status: must be "resolved" or "failed"`)
		}
	}
	return &endStep{status: status}, nil
}

type endStep struct {
	status ExecStatus
}

func (*endStep) Branches() []string { return nil }

// Run ends the execution; the job's result is {"status":"..."}.
func (e *endStep) Run(context.Context, *Scope) (Outcome, error) {
	return Outcome{End: e.status, Result: []byte(`{"status":"` + string(e.status) + `"}`)}, nil
}
