package db

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

func TestWorkflowCreateGet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	w := createWorkflow(t, d.DB, testDocument)
	if w.ID <= 0 || w.Revision != 1 || w.CreatedAt.IsZero() {
		t.Fatalf("created %+v", w)
	}
	for name, get := range map[string]func() (*engine.Workflow, error){
		"by id":      func() (*engine.Workflow, error) { return d.GetWorkflow(ctx, w.ID) },
		"by key":     func() (*engine.Workflow, error) { return d.GetWorkflowByKey(ctx, w.Key) },
		"revision 1": func() (*engine.Workflow, error) { return d.GetRevision(ctx, w.ID, 1) },
	} {
		got, err := get()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.ID != w.ID || got.Key != w.Key || got.Revision != 1 || string(got.Stored) != string(w.Stored) {
			t.Errorf("%s: got %+v", name, got)
		}
		if got.Secret != "pl4intext-s3cret" || got.Doc.Trigger.BasicAuth.Password != "pl4intext-s3cret" || got.Doc.Title != "Orders" {
			t.Errorf("%s: secret %q, doc %+v", name, got.Secret, got.Doc)
		}
	}

	// At rest: the document has an empty password and the secret column
	// holds ciphertext, not the password.
	var doc string
	var secret []byte
	raw := rawDB(t, d.path)
	if err := raw.QueryRow(`SELECT document, secret FROM workflow_revisions WHERE workflow_id = ?`, w.ID).Scan(&doc, &secret); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(doc, `"password":""`) || strings.Contains(doc, "pl4intext-s3cret") {
		t.Errorf("stored document %s", doc)
	}
	if !strings.Contains(doc, `"x-extra":{"kept":true}`) {
		t.Errorf("stored document lost an extra field: %s", doc)
	}
	if len(secret) == 0 || bytes.Contains(secret, []byte("pl4intext-s3cret")) {
		t.Errorf("secret column %q is not encrypted", secret)
	}
	if plain, err := testBox(t, testKey).Open(secret); err != nil || plain != "pl4intext-s3cret" {
		t.Errorf("decrypt secret column: %q, %v", plain, err)
	}
	// Sealing twice gives different ciphertexts (random nonce).
	box := testBox(t, testKey)
	if bytes.Equal(box.Seal("x"), box.Seal("x")) {
		t.Error("Seal is deterministic")
	}

	// No Basic Auth: no secret stored.
	w2 := createWorkflow(t, d.DB, `{"title":"Open","mode":"sync","nodes":[]}`)
	var secret2 []byte
	if err := raw.QueryRow(`SELECT secret FROM workflow_revisions WHERE workflow_id = ?`, w2.ID).Scan(&secret2); err != nil || len(secret2) != 0 {
		t.Errorf("secret without Basic Auth: %q, %v", secret2, err)
	}
	if got, err := d.GetWorkflow(ctx, w2.ID); err != nil || got.Secret != "" {
		t.Errorf("GetWorkflow without secret: %+v, %v", got, err)
	}
}

func TestWorkflowNotFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	w := createWorkflow(t, d.DB, testDocument)
	for name, err := range map[string]error{
		"GetWorkflow":      second(d.GetWorkflow(ctx, w.ID+1)),
		"GetWorkflowByKey": second(d.GetWorkflowByKey(ctx, "nope")),
		"GetRevision":      second(d.GetRevision(ctx, w.ID, 2)),
		"DeleteWorkflow":   d.DeleteWorkflow(ctx, w.ID+1),
		"UpdateWorkflow":   d.UpdateWorkflow(ctx, &engine.Workflow{ID: w.ID + 1, Stored: w.Stored, Doc: w.Doc}),
	} {
		if engine.ErrorCode(err) != engine.ENOTFOUND {
			t.Errorf("%s: %v, want %s", name, err, engine.ENOTFOUND)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestWorkflowDuplicateKey(t *testing.T) {
	t.Parallel()
	d := openTest(t)
	w := createWorkflow(t, d.DB, testDocument)
	dup := &engine.Workflow{Key: w.Key, Stored: w.Stored, Secret: w.Secret, Doc: w.Doc}
	if err := d.CreateWorkflow(context.Background(), dup); engine.ErrorCode(err) != engine.ECONFLICT {
		t.Errorf("duplicate key: %v, want %s", err, engine.ECONFLICT)
	}
}

func TestWorkflowRevisions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	w := createWorkflow(t, d.DB, testDocument)

	for rev, doc := range []string{
		`{"title":"Orders v2","mode":"sync","enabled":false,"trigger":{"basicAuth":{"enabled":true,"username":"hook","password":"n3w-s3cret"}},"nodes":[]}`,
		`{"title":"Orders v3","mode":"async","nodes":[]}`,
	} {
		stored, secret, parsed, err := engine.PrepareDocument([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		up := &engine.Workflow{ID: w.ID, Key: w.Key, Stored: stored, Secret: secret, Doc: parsed}
		if err := d.UpdateWorkflow(ctx, up); err != nil {
			t.Fatalf("UpdateWorkflow: %v", err)
		}
		if up.Revision != rev+2 {
			t.Errorf("revision %d, want %d", up.Revision, rev+2)
		}
	}

	cur, err := d.GetWorkflow(ctx, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Revision != 3 || cur.Key != w.Key || cur.Doc.Title != "Orders v3" || cur.Secret != "" {
		t.Errorf("current %+v", cur)
	}
	for rev, want := range map[int]struct{ title, secret string }{
		1: {"Orders", "pl4intext-s3cret"},
		2: {"Orders v2", "n3w-s3cret"},
		3: {"Orders v3", ""},
	} {
		got, err := d.GetRevision(ctx, w.ID, rev)
		if err != nil {
			t.Fatalf("GetRevision(%d): %v", rev, err)
		}
		if got.Revision != rev || got.Doc.Title != want.title || got.Secret != want.secret || got.Key != w.Key {
			t.Errorf("revision %d: %+v (title %q), want %+v", rev, got, got.Doc.Title, want)
		}
	}
	revs, err := d.ListRevisions(ctx, w.ID)
	if err != nil || len(revs) != 3 || revs[0].Revision != 3 || revs[1].Revision != 2 || revs[2].Revision != 1 {
		t.Errorf("ListRevisions = %+v, %v; want 3, 2, 1", revs, err)
	}
	for _, r := range revs {
		if r.CreatedAt.IsZero() {
			t.Errorf("revision %d without a time", r.Revision)
		}
	}
	list, err := d.ListWorkflows(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("ListWorkflows = %+v, %v", list, err)
	}
	// Revision 2 turned it off; revision 3 does not say, which keeps the
	// state (enabled is state, not part of revisions).
	if s := list[0]; s.Title != "Orders v3" || s.Mode != engine.ModeAsync || s.Enabled || s.Revision != 3 || s.Key != w.Key {
		t.Errorf("summary %+v", s)
	}
}

func TestWorkflowWrongKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	w := createWorkflow(t, d.DB, testDocument)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	other := reopen(t, d.path, "another-key-0123456789abcdef")
	_, err := other.GetWorkflow(ctx, w.ID)
	if err == nil {
		t.Fatal("GetWorkflow with the wrong key succeeded")
	}
	if code := engine.ErrorCode(err); code == engine.ENOTFOUND {
		t.Errorf("wrong key reported as %s", code)
	}
	if !strings.Contains(err.Error(), "cannot decrypt") || !strings.Contains(err.Error(), "HOOKFLOW_SECRET_KEY") {
		t.Errorf("error %q does not say the key is wrong", err)
	}
	if strings.Contains(err.Error(), "pl4intext") {
		t.Errorf("error %q leaks the secret", err)
	}
}

func TestWorkflowDeleteCascades(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	w := createWorkflow(t, d.DB, testDocument)
	keep := createWorkflow(t, d.DB, testDocument)
	es := insertExecutions(t, d.DB, w, engine.StatusQueued, 3)
	insertExecutions(t, d.DB, keep, engine.StatusQueued, 2)
	if err := d.DeleteWorkflow(ctx, w.ID); err != nil {
		t.Fatalf("DeleteWorkflow: %v", err)
	}
	if _, err := d.GetWorkflow(ctx, w.ID); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("GetWorkflow after delete: %v", err)
	}
	for _, e := range es {
		if _, err := d.GetExecution(ctx, e.ID); engine.ErrorCode(err) != engine.ENOTFOUND {
			t.Errorf("GetExecution(%d) after delete: %v", e.ID, err)
		}
	}
	raw := rawDB(t, d.path)
	if n := countRows(t, raw, `SELECT COUNT(*) FROM executions WHERE workflow_id = ?`, w.ID); n != 0 {
		t.Errorf("%d executions left", n)
	}
	if n := countRows(t, raw, `SELECT COUNT(*) FROM workflow_revisions WHERE workflow_id = ?`, w.ID); n != 0 {
		t.Errorf("%d revisions left", n)
	}
	if n := countRows(t, raw, `SELECT COUNT(*) FROM executions WHERE workflow_id = ?`, keep.ID); n != 2 {
		t.Errorf("other workflow has %d executions, want 2", n)
	}
	if err := d.DeleteWorkflow(ctx, w.ID); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("second delete: %v", err)
	}
}

func TestListWorkflows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	if list, err := d.ListWorkflows(ctx); err != nil || len(list) != 0 {
		t.Fatalf("empty ListWorkflows = %+v, %v", list, err)
	}
	a := createWorkflow(t, d.DB, testDocument)
	b := createWorkflow(t, d.DB, `{"title":"B","mode":"sync","enabled":false,"nodes":[]}`)
	insertExecutions(t, d.DB, a, engine.StatusQueued, 2)
	last := newExecution(a, engine.StatusFailed)
	if err := d.InsertExecution(ctx, last, "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	list, err := d.ListWorkflows(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("ListWorkflows = %+v, %v", list, err)
	}
	if list[0].ID != b.ID || list[1].ID != a.ID {
		t.Errorf("order %d, %d; want newest first %d, %d", list[0].ID, list[1].ID, b.ID, a.ID)
	}
	if s := list[0]; s.Enabled || s.Mode != engine.ModeSync || s.ExecutionCount != 0 || s.LastStatus != "" || !s.LastAt.IsZero() {
		t.Errorf("summary of B %+v", s)
	}
	if s := list[1]; !s.Enabled || s.ExecutionCount != 3 || s.LastStatus != engine.StatusFailed || s.LastAt.UnixMilli() != last.CreatedAt.UnixMilli() {
		t.Errorf("summary of A %+v", s)
	}
}

// The enabled state is set without a revision, read back by every get,
// kept by an update whose document does not name it and set by one that
// does.
func TestSetWorkflowEnabled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	w := createWorkflow(t, d.DB, `{"title":"A","mode":"async","enabled":true,"nodes":[]}`)
	if err := d.SetWorkflowEnabled(ctx, w.ID, false); err != nil {
		t.Fatal(err)
	}
	got, err := d.GetWorkflow(ctx, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Revision != 1 || got.Doc.IsEnabled() {
		t.Errorf("after SetWorkflowEnabled(false): revision %d, enabled %v", got.Revision, got.Doc.IsEnabled())
	}
	if byKey, _ := d.GetWorkflowByKey(ctx, w.Key); byKey.Doc.IsEnabled() {
		t.Error("GetWorkflowByKey says enabled")
	}
	if rev, _ := d.GetRevision(ctx, w.ID, 1); rev.Doc.IsEnabled() {
		t.Error("GetRevision does not carry the state")
	}
	update := func(doc string) *engine.Workflow {
		t.Helper()
		stored, secret, parsed, err := engine.PrepareDocument([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		u := &engine.Workflow{ID: w.ID, Key: w.Key, Stored: stored, Secret: secret, Doc: parsed}
		if err := d.UpdateWorkflow(ctx, u); err != nil {
			t.Fatal(err)
		}
		got, err := d.GetWorkflow(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := update(`{"title":"A2","mode":"async","nodes":[]}`); got.Revision != 2 || got.Doc.IsEnabled() {
		t.Errorf("update without enabled: revision %d, enabled %v", got.Revision, got.Doc.IsEnabled())
	}
	if got := update(`{"title":"A3","mode":"async","enabled":true,"nodes":[]}`); !got.Doc.IsEnabled() {
		t.Error("update with enabled:true left it off")
	}
	if list, _ := d.ListWorkflows(ctx); !list[0].Enabled {
		t.Error("the list says off")
	}
	if err := d.SetWorkflowEnabled(ctx, 999, true); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("unknown id: %v", err)
	}
}
