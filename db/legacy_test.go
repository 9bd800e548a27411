package db

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hookflow/hookflow/engine"
)

// legacyKey is the secret key of testdata/v3-basic-auth.db.
const legacyKey = "fixture-key-0123456789"

// openLegacy copies testdata/v3-basic-auth.db into a temporary directory and
// opens it with the current code. The file was written by Hookflow at
// schema version 3 (before every secret of a document was stored): a sync
// workflow "Legacy" with Basic Auth (revision 1 password "legacy-s3cret",
// revision 2 "legacy-s3cret-2", stored in the old secret column) and one
// resolved execution, id 1000.
func openLegacy(t *testing.T) *DB {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "v3-basic-auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := Open(context.Background(), path, testBox(t, legacyKey))
	if err != nil {
		t.Fatalf("open a version 3 database: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// A database written before schema version 5 (the trust migration) keeps working: its revisions'
// Basic Auth passwords read back from the old column, a workflow answers
// with them, an update without a password keeps it (written in the new
// form), and its executions read back with no duplicates.
func TestLegacySecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openLegacy(t)
	if v, err := d.SchemaVersion(ctx); err != nil || v < 4 {
		t.Fatalf("SchemaVersion = %d, %v", v, err)
	}
	cur, err := d.GetWorkflow(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Revision != 2 || cur.Secrets.BasicAuthPassword != "legacy-s3cret-2" || cur.Doc.Trigger.BasicAuth.Password != "legacy-s3cret-2" {
		t.Fatalf("current revision %d, secrets %+v", cur.Revision, cur.Secrets)
	}
	if old, err := d.GetRevision(ctx, 1, 1); err != nil || old.Secrets.BasicAuthPassword != "legacy-s3cret" {
		t.Fatalf("revision 1: %+v, %v", old, err)
	}
	if e, err := d.GetExecution(ctx, 1000); err != nil || e.Status != engine.StatusResolved || e.Duplicates != 0 {
		t.Fatalf("legacy execution %+v, %v", e, err)
	}

	// The engine over it: the old password authenticates, and a PUT
	// without one keeps it.
	svc := engine.NewService(d, d, nil)
	w, err := svc.UpdateWorkflow(ctx, 1, []byte(`{"title":"Legacy v3","mode":"sync","trigger":{"basicAuth":{"enabled":true,"username":"hook"},
		"verify":{"type":"token","header":"X-Token","secret":"new-token-1"}},"nodes":[]}`))
	if err != nil {
		t.Fatalf("update without the password: %v", err)
	}
	got, err := d.GetWorkflow(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := engine.Secrets{BasicAuthPassword: "legacy-s3cret-2", VerifySecret: "new-token-1"}
	if got.Revision != w.Revision || got.Revision != 3 || got.Secrets.BasicAuthPassword != want.BasicAuthPassword || got.Secrets.VerifySecret != want.VerifySecret {
		t.Fatalf("after update: revision %d, secrets %+v", got.Revision, got.Secrets)
	}
	var legacy, sealed []byte
	if err := d.read.QueryRowContext(ctx, `SELECT secret, secrets FROM workflow_revisions WHERE workflow_id = 1 AND revision = 3`).Scan(&legacy, &sealed); err != nil {
		t.Fatal(err)
	}
	if legacy != nil || len(sealed) == 0 {
		t.Errorf("revision 3 stored secret %q, secrets %d bytes: want the new column only", legacy, len(sealed))
	}
	// Revisions 1 and 2 are untouched and still read.
	if old, err := d.GetRevision(ctx, 1, 2); err != nil || old.Secrets.BasicAuthPassword != "legacy-s3cret-2" {
		t.Fatalf("revision 2 after update: %+v, %v", old, err)
	}
	res, err := svc.Trigger(ctx, got.Key, engine.Credentials{Username: "hook", Password: "legacy-s3cret-2", Present: true},
		&engine.Request{Method: "POST", Headers: []engine.HeaderValue{{Name: "X-Token", Value: "new-token-1"}}})
	if err != nil || res.Response.Status != 200 {
		t.Fatalf("trigger with the legacy password: %+v, %v", res, err)
	}
}
