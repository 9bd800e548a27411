package storetest

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/secretbox"
)

// Workflows runs the workflow store suite: revisions, secrets at rest,
// errors, deletion and the list.
func Workflows(t *testing.T, open OpenDB) {
	runAll(t, open, []namedTest{
		{"CreateGet", testWorkflowCreateGet},
		{"NotFound", testWorkflowNotFound},
		{"DuplicateKey", testWorkflowDuplicateKey},
		{"Revisions", testWorkflowRevisions},
		{"WrongKey", testWorkflowWrongKey},
		{"DeleteCascades", testWorkflowDeleteCascades},
		{"List", testListWorkflows},
		{"SetEnabled", testSetWorkflowEnabled},
	})
}

// secretDocument has a Basic Auth password, stored encrypted, and an extra
// field, kept.
const secretDocument = `{"title":"Orders","mode":"async","trigger":{"basicAuth":{"enabled":true,"username":"hook","password":"pl4intext-s3cret"},` +
	`"body":[{"path":"order.id","alias":"Order"}]},"nodes":[],"x-extra":{"kept":true}}`

// CreateWorkflow stores a workflow from a document and returns it.
func CreateWorkflow(t *testing.T, s engine.WorkflowStore, doc string) *engine.Workflow {
	t.Helper()
	stored, secret, parsed, err := engine.PrepareDocument([]byte(doc))
	if err != nil {
		t.Fatalf("PrepareDocument: %v", err)
	}
	w := &engine.Workflow{Key: engine.NewKey(), Stored: stored, Secrets: secret, Doc: parsed}
	if err := s.CreateWorkflow(context.Background(), w); err != nil {
		t.Fatalf("CreateWorkflow: %v", err)
	}
	return w
}

// insertMany stores n executions of w concurrently (group commit keeps it
// fast), ids ascending in slice order.
func insertMany(t *testing.T, s Store, w *engine.Workflow, status engine.ExecStatus, n int) []*engine.Execution {
	t.Helper()
	out := make([]*engine.Execution, n)
	for i := range out {
		out[i] = newExecution(w, status, time.Now())
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, e := range out {
		wg.Go(func() { errs[i] = s.InsertExecution(context.Background(), e, "", time.Time{}) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("InsertExecution: %v", err)
		}
	}
	return out
}

func testWorkflowCreateGet(t *testing.T, d *DB) {
	ctx := context.Background()
	w := CreateWorkflow(t, d, secretDocument)
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
		if got.Secrets.BasicAuthPassword != "pl4intext-s3cret" || got.Doc.Trigger.BasicAuth.Password != "pl4intext-s3cret" || got.Doc.Title != "Orders" {
			t.Errorf("%s: secret %q, doc %+v", name, got.Secrets.BasicAuthPassword, got.Doc)
		}
	}

	// At rest: the document has an empty password and the secrets column
	// holds ciphertext (of the document's secrets as JSON), not the
	// password; the secret column, where revisions stored the password
	// alone before every secret was, is not written.
	var doc string
	var secret, legacy []byte
	if err := d.Raw.QueryRow(`SELECT document, secrets, secret FROM workflow_revisions WHERE workflow_id = ?`, w.ID).Scan(&doc, &secret, &legacy); err != nil {
		t.Fatal(err)
	}
	if len(legacy) != 0 {
		t.Errorf("legacy secret column written: %q", legacy)
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
	box, err := secretbox.New([]byte(d.Key))
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := box.Open(secret); err != nil || plain != `{"basicAuthPassword":"pl4intext-s3cret"}` {
		t.Errorf("decrypt secrets column: %q, %v", plain, err)
	}

	// No Basic Auth: no secret stored.
	w2 := CreateWorkflow(t, d, `{"title":"Open","mode":"sync","nodes":[]}`)
	var secret2 []byte
	if err := d.Raw.QueryRow(`SELECT secrets FROM workflow_revisions WHERE workflow_id = ?`, w2.ID).Scan(&secret2); err != nil || len(secret2) != 0 {
		t.Errorf("secret without Basic Auth: %q, %v", secret2, err)
	}
	if got, err := d.GetWorkflow(ctx, w2.ID); err != nil || !got.Secrets.IsZero() {
		t.Errorf("GetWorkflow without secret: %+v, %v", got, err)
	}
	// Free text that one database takes and the other refuses in a text
	// column (a NUL) is stored either way.
	w3 := CreateWorkflow(t, d, `{"title":"nul \u0000 title","mode":"async","nodes":[]}`)
	if got, err := d.GetWorkflow(ctx, w3.ID); err != nil || !strings.HasPrefix(got.Doc.Title, "nul ") {
		t.Errorf("workflow with a NUL in its title: %+v, %v", got, err)
	}
}

func testWorkflowNotFound(t *testing.T, d *DB) {
	ctx := context.Background()
	w := CreateWorkflow(t, d, secretDocument)
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

func testWorkflowDuplicateKey(t *testing.T, d *DB) {
	w := CreateWorkflow(t, d, secretDocument)
	dup := &engine.Workflow{Key: w.Key, Stored: w.Stored, Secrets: w.Secrets, Doc: w.Doc}
	if err := d.CreateWorkflow(context.Background(), dup); engine.ErrorCode(err) != engine.ECONFLICT {
		t.Errorf("duplicate key: %v, want %s", err, engine.ECONFLICT)
	}
}

func testWorkflowRevisions(t *testing.T, d *DB) {
	ctx := context.Background()
	w := CreateWorkflow(t, d, secretDocument)
	for rev, doc := range []string{
		`{"title":"Orders v2","mode":"sync","enabled":false,"trigger":{"basicAuth":{"enabled":true,"username":"hook","password":"n3w-s3cret"}},"nodes":[]}`,
		`{"title":"Orders v3","mode":"async","nodes":[]}`,
	} {
		stored, secret, parsed, err := engine.PrepareDocument([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		up := &engine.Workflow{ID: w.ID, Key: w.Key, Stored: stored, Secrets: secret, Doc: parsed}
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
	if cur.Revision != 3 || cur.Key != w.Key || cur.Doc.Title != "Orders v3" || !cur.Secrets.IsZero() {
		t.Errorf("current %+v", cur)
	}
	if byKey, err := d.GetWorkflowByKey(ctx, w.Key); err != nil || byKey.Revision != 3 {
		t.Errorf("GetWorkflowByKey after updates: %+v, %v", byKey, err)
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
		if got.Revision != rev || got.Doc.Title != want.title || got.Secrets.BasicAuthPassword != want.secret || got.Key != w.Key {
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

func testWorkflowWrongKey(t *testing.T, d *DB) {
	ctx := context.Background()
	w := CreateWorkflow(t, d, secretDocument)
	other := d.Reopen(t, "another-key-0123456789abcdef")
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

func testWorkflowDeleteCascades(t *testing.T, d *DB) {
	ctx := context.Background()
	w := CreateWorkflow(t, d, secretDocument)
	keep := CreateWorkflow(t, d, secretDocument)
	es := insertMany(t, d, w, engine.StatusQueued, 3)
	insertMany(t, d, keep, engine.StatusQueued, 2)
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
	if n := count(t, d, `SELECT COUNT(*) FROM executions WHERE workflow_id = ?`, w.ID); n != 0 {
		t.Errorf("%d executions left", n)
	}
	if n := count(t, d, `SELECT COUNT(*) FROM workflow_revisions WHERE workflow_id = ?`, w.ID); n != 0 {
		t.Errorf("%d revisions left", n)
	}
	if n := count(t, d, `SELECT COUNT(*) FROM executions WHERE workflow_id = ?`, keep.ID); n != 2 {
		t.Errorf("other workflow has %d executions, want 2", n)
	}
	if err := d.DeleteWorkflow(ctx, w.ID); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("second delete: %v", err)
	}
	// An execution of a workflow that no longer exists is refused, and
	// does not fail the executions committed with it.
	gone := newExecution(w, engine.StatusQueued, time.Now())
	ok := newExecution(keep, engine.StatusQueued, time.Now())
	var wg sync.WaitGroup
	var goneErr, okErr error
	wg.Go(func() { goneErr = d.InsertExecution(ctx, gone, "", time.Time{}) })
	wg.Go(func() { okErr = d.InsertExecution(ctx, ok, "", time.Time{}) })
	wg.Wait()
	if goneErr == nil || okErr != nil {
		t.Errorf("insert for a deleted workflow: %v; for a live one: %v", goneErr, okErr)
	}
}

func testListWorkflows(t *testing.T, d *DB) {
	ctx := context.Background()
	if list, err := d.ListWorkflows(ctx); err != nil || len(list) != 0 {
		t.Fatalf("empty ListWorkflows = %+v, %v", list, err)
	}
	a := CreateWorkflow(t, d, secretDocument)
	b := CreateWorkflow(t, d, `{"title":"B","mode":"sync","enabled":false,"nodes":[]}`)
	insertMany(t, d, a, engine.StatusQueued, 2)
	last := newExecution(a, engine.StatusFailed, time.Now())
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
func testSetWorkflowEnabled(t *testing.T, d *DB) {
	ctx := context.Background()
	w := CreateWorkflow(t, d, `{"title":"A","mode":"async","enabled":true,"nodes":[]}`)
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
		u := &engine.Workflow{ID: w.ID, Key: w.Key, Stored: stored, Secrets: secret, Doc: parsed}
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
