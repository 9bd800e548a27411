package engine

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

func init() { RegisterNodeKind("delay", delayKind{}) }

// MaxDelay is the longest a delay node waits (§13).
const MaxDelay = 30 * 24 * time.Hour

// delayKind is the delay node (§13, async only): {"seconds": 3600} or
// {"until": "{{$context.body.remindAt}}"} (RFC 3339). The execution waits
// as a stored row with a due time, costing nothing while it waits, and
// goes on with the next node when it is due.
type delayKind struct{}

func (delayKind) Compile(n *Node, env CompileEnv) (Step, error) {
	if env.Mode != ModeAsync {
		return nil, Errorf(EINVALID, "type: delay nodes are only allowed in async workflows")
	}
	cfg := bytes.TrimSpace(n.Config)
	if len(cfg) == 0 || cfg[0] != '{' {
		return nil, Errorf(EINVALID, `config: must be an object such as {"seconds": 3600} or {"until": "{{$context.body.remindAt}}"}`)
	}
	if err := CheckJSON(cfg, MaxJSONDepth); err != nil {
		return nil, Errorf(EINVALID, "config: %s", ErrorMessage(err))
	}
	secs, until := gjson.GetBytes(cfg, "seconds"), gjson.GetBytes(cfg, "until")
	switch {
	case secs.Exists() && until.Exists():
		return nil, Errorf(EINVALID, "config: give seconds or until, not both")
	case secs.Exists():
		if secs.Type != gjson.Number {
			return nil, Errorf(EINVALID, "config.seconds: must be a number")
		}
		d := time.Duration(secs.Float() * float64(time.Second))
		if secs.Float() <= 0 || d > MaxDelay {
			return nil, Errorf(EINVALID, "config.seconds: must be more than 0 and at most %d (30 days)", int(MaxDelay/time.Second))
		}
		return &delayStep{wait: d}, nil
	case until.Exists():
		if until.Type != gjson.String || strings.TrimSpace(until.Str) == "" {
			return nil, Errorf(EINVALID, `config.until: must be an RFC 3339 time or a placeholder such as "{{$context.body.remindAt}}"`)
		}
		t, err := CompileTemplate(strings.TrimSpace(until.Str))
		if err != nil {
			return nil, Errorf(EINVALID, "config.until: %s", ErrorMessage(err))
		}
		if t.IsStatic() {
			if _, err := time.Parse(time.RFC3339, t.src); err != nil {
				return nil, Errorf(EINVALID, "config.until: %q is not an RFC 3339 time such as 2026-12-24T18:00:00Z", t.src)
			}
		}
		return &delayStep{until: t}, nil
	}
	return nil, Errorf(EINVALID, "config: give seconds (a number) or until (an RFC 3339 time)")
}

type delayStep struct {
	wait  time.Duration
	until *Template
}

func (*delayStep) Branches() []string { return nil }

// Run makes the execution wait until the delay's end; when it wakes, the
// node runs again with its waiting job as Prior and resolves. The result
// is {"until": "<RFC 3339>"}.
func (st *delayStep) Run(_ context.Context, s *Scope) (Outcome, error) {
	now := s.Env.now()
	var until time.Time
	if p := s.Prior; p != nil && p.Status == JobWaiting && !p.DueAt.IsZero() {
		until = p.DueAt
	} else if st.until != nil {
		v := strings.TrimSpace(st.until.String(s))
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return Outcome{}, Errorf(EINVALID, "until: %s is not an RFC 3339 time such as 2026-12-24T18:00:00Z", strconv.Quote(capString(v, 64)))
		}
		if t.Sub(now) > MaxDelay {
			return Outcome{}, Errorf(EINVALID, "until: %s is more than 30 days ahead", v)
		}
		until = t
	} else {
		until = now.Add(st.wait)
	}
	result := AppendJSONString([]byte(`{"until":`), until.UTC().Format(time.RFC3339Nano))
	if s.Env != nil && s.Env.Test {
		// A test run does not wait: it says how long it would have.
		return Outcome{Result: append(result, `,"test":"did not wait"}`...)}, nil
	}
	result = append(result, '}')
	if !until.After(now) {
		return Outcome{Result: result}, nil
	}
	return Outcome{Wait: until, Result: result}, nil
}

func capString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
