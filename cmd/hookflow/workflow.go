package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/handlers"
)

// The workflow commands work on the data directory (or --database), like
// token create: the server may be running (it picks up an imported
// revision within a second: engine.Service.WatchWorkflows on SQLite, the
// cluster listener on PostgreSQL) or not. They read and write the document
// of product.md §9 exactly as the admin API does, so that workflows can
// live in git: `export` then `import` gives the same document back.

// workflowList is `hookflow workflow list`.
func workflowList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, c := newFlagSet("hookflow workflow list [--json] [flags]",
		"List the workflows, newest first: id, mode, enabled, revision, executions, key and title. With --json, the reply of GET /api/v1/workflows without the URLs.", 0, getenv, stderr)
	asJSON := fs.Bool("json", false, "print JSON ({\"items\": [...]}) instead of a table")
	if _, err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	store, err := openStore(ctx, c, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	list, err := store.ListWorkflows(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		type item struct {
			ID             int64       `json:"id"`
			Key            string      `json:"key"`
			Title          string      `json:"title"`
			Mode           engine.Mode `json:"mode"`
			Enabled        bool        `json:"enabled"`
			Revision       int         `json:"revision"`
			ExecutionCount int64       `json:"executionCount"`
		}
		items := make([]item, 0, len(list))
		for _, w := range list {
			items = append(items, item{w.ID, w.Key, w.Title, w.Mode, w.Enabled, w.Revision, w.ExecutionCount})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"items": items})
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tMODE\tENABLED\tREVISION\tEXECUTIONS\tKEY\tTITLE")
	for _, w := range list {
		// A title is the admin's text: keep it on its line.
		title := strings.Join(strings.Fields(w.Title), " ")
		fmt.Fprintf(tw, "%d\t%s\t%t\t%d\t%d\t%s\t%s\n", w.ID, w.Mode, w.Enabled, w.Revision, w.ExecutionCount, w.Key, title)
	}
	return tw.Flush()
}

// workflowExport is `hookflow workflow export ID [--secrets]`.
func workflowExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, c := newFlagSet("hookflow workflow export ID [--secrets] [flags]",
		`Print the current revision of a workflow as the document of product.md §9, as GET /api/v1/workflows/{id}
returns it (id, key, url and revision first; import ignores them), indented. Every secret (the Basic Auth
password, signature secrets) is left out unless --secrets: importing the document back over the same
workflow keeps the stored ones.`, 1, getenv, stderr)
	secrets := fs.Bool("secrets", false, "include the secrets (keep such a file out of git)")
	publicURL := fs.String("public-url", envOr(getenv, "HOOKFLOW_PUBLIC_URL", ""), "base of the url member, as the server's --public-url (HOOKFLOW_PUBLIC_URL); without it the url is the path alone")
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	id, err := parseWorkflowID(pos[0])
	if err != nil {
		return err
	}
	store, err := openStore(ctx, c, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	w, err := store.GetWorkflow(ctx, id)
	if err != nil {
		return workflowError(err, id)
	}
	// What the admin UI's export downloads, too.
	url := strings.TrimRight(*publicURL, "/") + handlers.TriggerPath(w.Key)
	doc := engine.ExportDocumentWithoutSecrets(w, url)
	if *secrets {
		doc = engine.ExportDocument(w, url)
	}
	var out bytes.Buffer
	// json.Indent keeps the members' order and the numbers' digits.
	if err := json.Indent(&out, doc, "", "  "); err != nil {
		return fmt.Errorf("workflow export: %w", err)
	}
	out.WriteByte('\n')
	_, err = stdout.Write(out.Bytes())
	return err
}

// workflowImport is `hookflow workflow import FILE [--id ID]`.
func workflowImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, c := newFlagSet("hookflow workflow import FILE [--id ID] [flags]",
		`Create a workflow from a document (product.md §9; FILE "-" reads standard input), or with --id save it
as a new revision of that workflow, whose key and URL stay. Read-only members (id, key, url, revision) are
ignored. With --id, a document without its secrets (as export writes it without --secrets) keeps the
stored ones, and one without "enabled" keeps the workflow's state. Prints the workflow's id and revision.`, 1, getenv, stderr)
	idFlag := fs.String("id", "", "update this workflow instead of creating one")
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	var id int64
	if *idFlag != "" {
		if id, err = parseWorkflowID(*idFlag); err != nil {
			return fmt.Errorf("--id: %w", err)
		}
	}
	raw, err := readDocument(pos[0])
	if err != nil {
		return err
	}
	log, err := newLogger(c, stderr)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, c, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	svc := engine.NewService(store, store, log)
	var w *engine.Workflow
	verb := "created"
	if id == 0 {
		w, err = svc.CreateWorkflow(ctx, raw)
	} else {
		// As PUT /api/v1/workflows/{id}: a document without its secrets
		// (exported without --secrets) keeps the stored ones, and one
		// without "enabled" keeps the workflow's state.
		verb = "updated"
		w, err = svc.ReplaceWorkflow(ctx, id, raw)
	}
	if err != nil {
		if code := engine.ErrorCode(err); code == engine.EINVALID {
			return fmt.Errorf("%s: %s", pos[0], engine.ErrorMessage(err))
		}
		return workflowError(err, id)
	}
	fmt.Fprintf(stdout, "workflow %d %s: revision %d, key %s\n", w.ID, verb, w.Revision, w.Key)
	log.Debug("workflow imported", slog.Int64("workflow_id", w.ID), slog.Int("revision", w.Revision))
	return nil
}

// readDocument reads a document file, or standard input for "-", up to the
// document size limit.
func readDocument(name string) ([]byte, error) {
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("workflow import: %w", err)
		}
		defer f.Close()
		r = f
	}
	raw, err := io.ReadAll(io.LimitReader(r, engine.MaxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("workflow import: read %s: %w", name, err)
	}
	if len(raw) > engine.MaxDocumentBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, engine.MaxDocumentBytes)
	}
	return raw, nil
}

func parseWorkflowID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%q is not a workflow id (a number, as `hookflow workflow list` shows)", s)
	}
	return id, nil
}

// workflowError names the workflow a not-found error is about.
func workflowError(err error, id int64) error {
	if engine.ErrorCode(err) == engine.ENOTFOUND {
		return fmt.Errorf("no workflow with id %d", id)
	}
	return err
}
