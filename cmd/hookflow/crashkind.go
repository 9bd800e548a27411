//go:build crashtest

package main

import (
	"context"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// The crashtest build (crash_test.go builds the server with -tags
// crashtest) adds the node kind "crashtest-worker": it is not pure, so
// async executions of a flow that holds it go through the worker pool, and
// it pauses briefly so that a crash finds some of them running.
func init() { engine.RegisterNodeKind("crashtest-worker", crashWorkerKind{}) }

type crashWorkerKind struct{}

func (crashWorkerKind) Compile(*engine.Node, engine.CompileEnv) (engine.Step, error) {
	return crashWorkerStep{}, nil
}

type crashWorkerStep struct{}

func (crashWorkerStep) Branches() []string { return nil }

func (crashWorkerStep) Run(ctx context.Context, _ *engine.Scope) (engine.Outcome, error) {
	select {
	case <-time.After(200 * time.Microsecond):
		return engine.Outcome{Result: []byte(`"worked"`)}, nil
	case <-ctx.Done():
		return engine.Outcome{}, ctx.Err()
	}
}
