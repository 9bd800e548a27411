package engine

import (
	"context"
	"log/slog"
	"time"
)

// WorkflowVersions is implemented by stores that tell cheaply whether the
// workflows changed, so that a Service sees the edits another process made
// (`hookflow workflow import` while the server runs, or another instance
// on a shared database).
type WorkflowVersions interface {
	// WorkflowsFingerprint returns a value that changes whenever a workflow
	// is created, updated (a new revision), turned on or off, or deleted,
	// by any process.
	WorkflowsFingerprint(ctx context.Context) (string, error)
	// WorkflowVersions returns the current revision and state of every
	// workflow, by key.
	WorkflowVersions(ctx context.Context) (map[string]WorkflowVersion, error)
}

// WorkflowVersion is what makes a compiled flow current: its revision and
// whether the workflow is on (a state kept apart from the revisions).
type WorkflowVersion struct {
	Revision int
	Enabled  bool
}

// WatchWorkflows polls the store every interval (default 1 s) until ctx
// ends and drops the compiled flows whose workflow has a newer revision,
// was turned on or off, or is gone, so that an edit made by another process is live within the
// interval. Edits made through this Service are live at once anyway.
func (s *Service) WatchWorkflows(ctx context.Context, wv WorkflowVersions, interval time.Duration) {
	if interval <= 0 {
		interval = time.Second
	}
	last, err := wv.WorkflowsFingerprint(ctx)
	if err != nil && ctx.Err() == nil {
		s.log.Warn("watch workflows", "error", err)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fp, err := wv.WorkflowsFingerprint(ctx)
		if err == nil && fp != last {
			err = s.refresh(ctx, wv)
		}
		if err != nil {
			// Logged once per failing spell; the next tick tries again.
			if !failing && ctx.Err() == nil {
				s.log.Warn("watch workflows", "error", err)
			}
			failing = true
			continue
		}
		failing, last = false, fp
	}
}

// refresh drops the cached flows that are not the current version.
func (s *Service) refresh(ctx context.Context, wv WorkflowVersions) error {
	vers, err := wv.WorkflowVersions(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// A flow being loaded meanwhile may be the revision just replaced: the
	// generation keeps it out of the cache.
	s.gen++
	n := 0
	for key, lf := range s.cache {
		if v, ok := vers[key]; !ok || v.Revision != lf.wf.Revision || v.Enabled != lf.wf.Doc.IsEnabled() {
			s.cacheCost -= lf.cost
			delete(s.cache, key)
			n++
		}
	}
	if n > 0 {
		s.log.Debug("workflows changed elsewhere", slog.Int("dropped", n))
	}
	return nil
}
