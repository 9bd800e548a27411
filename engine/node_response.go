package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"

	"github.com/tidwall/gjson"
)

func init() { RegisterNodeKind("response", responseKind{}) }

// responseKind is the response node (§6): its config is a Reply, and the
// first one reached in a sync workflow decides the HTTP reply.
type responseKind struct{}

// Pure implements PureKind: the node renders templates over the scope.
func (responseKind) Pure() bool { return true }

func (responseKind) Compile(n *Node, env CompileEnv) (Step, error) {
	if env.Mode != ModeSync {
		return nil, Errorf(EINVALID, "type: response nodes are only allowed in sync workflows")
	}
	var r *Reply
	if cfg := bytes.TrimSpace(n.Config); len(cfg) > 0 && string(cfg) != "null" {
		if cfg[0] != '{' {
			return nil, Errorf(EINVALID, "config: must be an object with status, headers and body")
		}
		r = new(Reply)
		if err := json.Unmarshal(cfg, r); err != nil {
			var te *json.UnmarshalTypeError
			if asError(err, &te) && te.Field != "" {
				return nil, Errorf(EINVALID, "config.%s", jsonErrorMessage(err))
			}
			return nil, Errorf(EINVALID, "config: %s", jsonErrorMessage(err))
		}
	}
	reply, err := CompileReply(r, "config")
	if err != nil {
		return nil, err
	}
	st := &responseStep{reply: reply}
	if c := gjson.GetBytes(n.Config, "continue"); c.Exists() {
		switch c.Type {
		case gjson.True:
			st.cont = true
		case gjson.False, gjson.Null:
		default:
			return nil, Errorf(EINVALID, "config.continue: must be true or false")
		}
	}
	return st, nil
}

type responseStep struct {
	reply *CompiledReply
	// cont is "continue": the reply is sent when the node is reached and
	// the rest of the flow runs in the background (§13).
	cont bool
}

func (*responseStep) Branches() []string { return nil }

// Run renders the reply; the job's result is {"status":N}.
func (r *responseStep) Run(_ context.Context, s *Scope) (Outcome, error) {
	resp, err := r.reply.Render(s)
	if err != nil {
		return Outcome{}, err
	}
	result := strconv.AppendInt([]byte(`{"status":`), int64(resp.Status), 10)
	return Outcome{Response: resp, Continue: r.cont, Result: append(result, '}')}, nil
}
