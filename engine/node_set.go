package engine

import (
	"bytes"
	"context"

	"github.com/tidwall/gjson"
)

func init() { RegisterNodeKind("set", setKind{}) }

// setKind is the set node (§13): {"value": <JSON with placeholders>}; its
// result is the rendered value, so data is reshaped once and later nodes
// read it as $jobsMapByNodeKey.<key>.
type setKind struct{}

// Pure implements PureKind: the node renders a template over the scope.
func (setKind) Pure() bool { return true }

func (setKind) Compile(n *Node, _ CompileEnv) (Step, error) {
	cfg := bytes.TrimSpace(n.Config)
	if len(cfg) == 0 || cfg[0] != '{' {
		return nil, Errorf(EINVALID, `config: must be an object such as {"value": {"id": "{{$context.body.id}}"}}`)
	}
	if err := CheckJSON(cfg, MaxJSONDepth); err != nil {
		return nil, Errorf(EINVALID, "config: %s", ErrorMessage(err))
	}
	v := gjson.GetBytes(cfg, "value")
	if !v.Exists() {
		return nil, Errorf(EINVALID, "config.value: required")
	}
	t, err := compileJSONTemplateAt([]byte(v.Raw), "config.value")
	if err != nil {
		return nil, err
	}
	return &setStep{value: t}, nil
}

type setStep struct {
	value *JSONTemplate
}

func (*setStep) Branches() []string { return nil }

// Run renders the value; the job's result is that value.
func (st *setStep) Run(_ context.Context, s *Scope) (Outcome, error) {
	out, err := st.value.Render(s, nil)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Result: out}, nil
}
