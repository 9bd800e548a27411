package engine

import (
	"context"
	"strings"

	"github.com/tidwall/gjson"
)

// Service methods for what is not a plain edit of a workflow's document:
// its enabled state, a restore of an old revision, and a replacement that
// keeps the stored secret.

// SetWorkflowEnabled turns a workflow on or off. It is state, not an
// edit: no revision is saved. The live flow is forgotten so that the URL
// answers (or 404s) at once. It returns the workflow as it is now.
func (s *Service) SetWorkflowEnabled(ctx context.Context, id int64, enabled bool) (*Workflow, error) {
	cur, err := s.workflows.GetWorkflow(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.workflows.SetWorkflowEnabled(ctx, id, enabled); err != nil {
		return nil, err
	}
	s.forget(cur.Key)
	cur.Doc.Enabled = &enabled
	return cur, nil
}

// ReplaceWorkflow saves raw as a new revision of workflow id, as
// UpdateWorkflow does (a document without a secret value, as in an export
// without secrets, keeps the stored one: product.md §11), except that one
// without "enabled" keeps the workflow's state.
func (s *Service) ReplaceWorkflow(ctx context.Context, id int64, raw []byte) (*Workflow, error) {
	cur, err := s.workflows.GetWorkflow(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, cur, raw)
}

// update saves raw as a new revision of cur's workflow; the workflow
// returned says the state the store kept when raw does not set it.
func (s *Service) update(ctx context.Context, cur *Workflow, raw []byte) (*Workflow, error) {
	w, err := s.UpdateWorkflow(ctx, cur.ID, raw)
	if err != nil {
		return nil, err
	}
	if w.Doc.Enabled == nil {
		w.Doc.Enabled = cur.Doc.Enabled
	}
	return w, nil
}

// RestoreRevision saves the document of revision rev as a new revision of
// workflow id (history is never rewritten). The workflow's state stays as
// it is, and so do its current secrets (Basic Auth password, verify
// secrets) when it has them: a restore brings back the flow, not a secret
// that was changed (or rotated away) since.
func (s *Service) RestoreRevision(ctx context.Context, id int64, rev int) (*Workflow, error) {
	cur, err := s.workflows.GetWorkflow(ctx, id)
	if err != nil {
		return nil, err
	}
	old, err := s.workflows.GetRevision(ctx, id, rev)
	if err != nil {
		return nil, err
	}
	keep := cur.Secrets
	if keep.BasicAuthPassword == "" {
		keep.BasicAuthPassword = old.Secrets.BasicAuthPassword
	}
	if keep.VerifySecret == "" && keep.VerifySecrets == nil {
		keep.VerifySecret, keep.VerifySecrets = old.Secrets.VerifySecret, old.Secrets.VerifySecrets
	}
	raw := DropTopLevel(old.Stored, "enabled")
	raw = KeepSecrets(DropSecrets(raw), keep)
	return s.update(ctx, cur, raw)
}

// SecretGiven reports whether a document carries its Basic Auth password,
// or needs none (no trigger.basicAuth).
func SecretGiven(raw []byte) bool { return secretGiven(raw) }

// secretGiven reports whether a document carries its Basic Auth password:
// a "password" member in trigger.basicAuth (keys matched as encoding/json
// matches them), or no basicAuth at all (nothing to keep).
func secretGiven(raw []byte) bool {
	ba := member(member(gjson.ParseBytes(raw), "trigger"), "basicAuth")
	if !ba.IsObject() {
		return true
	}
	return member(ba, "password").Exists()
}

// DropTopLevel returns doc without its top-level member key (matched
// without regard to case).
func DropTopLevel(doc []byte, key string) []byte {
	return rewriteObject(nil, gjson.ParseBytes(doc), func(k string, v gjson.Result, dst []byte) ([]byte, bool) {
		if strings.EqualFold(k, key) {
			return dst, false
		}
		return append(dst, v.Raw...), true
	})
}
