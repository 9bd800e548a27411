package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aymanbagabas/go-udiff"
	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
)

// The revisions of a workflow in the UI: the list, one revision (its flow
// and document), a line diff of two, and restoring one as a new revision.

// hiddenSecret stands for a secret (Basic Auth password, verify secret) in
// documents shown in the UI's history: old secrets are not shown, a change
// of secret is.
const hiddenSecret = "•••••• (hidden)"

// revisionText is a revision's document as the history shows it: indented,
// without the enabled state (not part of revisions), the secrets hidden
// in place (marked as changed when changed is set).
func revisionText(w *engine.Workflow, changed bool) (string, error) {
	marker := hiddenSecret
	if changed {
		marker = "•••••• (hidden, changed)"
	}
	doc := engine.DropTopLevel(engine.InjectSecrets(w.Stored, w.Secrets.Masked(marker)), "enabled")
	var buf bytes.Buffer
	if err := json.Indent(&buf, doc, "", "  "); err != nil {
		return "", fmt.Errorf("revisions: indent workflow %d revision %d: %w", w.ID, w.Revision, err)
	}
	return buf.String() + "\n", nil
}

// RevisionListPage is GET /workflows/:id/revisions.
func (h *Handlers) RevisionListPage(c *fiber.Ctx) error {
	w, err := h.workflowParam(c)
	if err != nil {
		return err
	}
	revs, err := h.Svc.ListRevisions(c.UserContext(), w.ID)
	if err != nil {
		return err
	}
	v := views.RevisionListView{WorkflowID: w.ID, Title: w.Doc.Title, Current: w.Revision, Now: time.Now()}
	for _, r := range revs {
		v.Rows = append(v.Rows, views.RevisionRow{Revision: r.Revision, CreatedAt: r.CreatedAt, Current: r.Revision == w.Revision})
	}
	return render(c, fiber.StatusOK, views.RevisionListPage(h.meta(c, "", "workflows"), v))
}

// loadRevision loads the current revision of :id and revision n of it.
func (h *Handlers) loadRevision(c *fiber.Ctx, n int) (cur, rev *engine.Workflow, err error) {
	cur, err = h.workflowParam(c)
	if err != nil {
		return nil, nil, err
	}
	rev, err = h.Svc.GetRevision(c.UserContext(), cur.ID, n)
	if err != nil {
		return nil, nil, err
	}
	return cur, rev, nil
}

// RevisionPage is GET /workflows/:id/revisions/:rev.
func (h *Handlers) RevisionPage(c *fiber.Ctx) error {
	n, err := revisionParam(c)
	if err != nil {
		return err
	}
	cur, rev, err := h.loadRevision(c, n)
	if err != nil {
		return err
	}
	text, err := revisionText(rev, false)
	if err != nil {
		return err
	}
	m := h.meta(c, "", "workflows")
	v := views.RevisionPageView{WorkflowID: cur.ID, Title: cur.Doc.Title, Revision: rev.Revision, CreatedAt: rev.UpdatedAt,
		Current: cur.Revision, Document: text, CSRFToken: m.CSRFToken,
		Canvas: views.CanvasView{WorkflowID: cur.ID, Mode: rev.Doc.Mode, Nodes: rev.Doc.Nodes, Cards: canvasCards(rev.Doc)}}
	return render(c, fiber.StatusOK, views.RevisionPage(m, v))
}

// RevisionCompare is GET /workflows/:id/revisions/compare?from=&to=: a line
// diff of two revisions' documents (to defaults to the current one, from
// to the one before to).
func (h *Handlers) RevisionCompare(c *fiber.Ctx) error {
	cur, err := h.workflowParam(c)
	if err != nil {
		return err
	}
	num := func(name string, def int) (int, error) {
		s := c.Query(name)
		if s == "" {
			return def, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return 0, engine.Errorf(engine.EINVALID, "%s: must be a revision number", name)
		}
		return n, nil
	}
	to, err := num("to", cur.Revision)
	if err != nil {
		return err
	}
	from, err := num("from", max(to-1, 1))
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	a, err := h.Svc.GetRevision(ctx, cur.ID, from)
	if err != nil {
		return err
	}
	b, err := h.Svc.GetRevision(ctx, cur.ID, to)
	if err != nil {
		return err
	}
	before, err := revisionText(a, false)
	if err != nil {
		return err
	}
	after, err := revisionText(b, !a.Secrets.Equal(b.Secrets))
	if err != nil {
		return err
	}
	v := views.RevisionDiffView{WorkflowID: cur.ID, Title: cur.Doc.Title, From: from, To: to, Current: cur.Revision}
	for r := cur.Revision; r >= 1; r-- {
		v.Revisions = append(v.Revisions, r)
	}
	v.Hunks, v.Added, v.Removed, err = lineDiff(before, after)
	if err != nil {
		return fmt.Errorf("revisions: diff workflow %d %d..%d: %w", cur.ID, from, to, err)
	}
	return render(c, fiber.StatusOK, views.RevisionDiffPage(h.meta(c, "", "workflows"), v))
}

// diffContext is how many unchanged lines surround each change.
const diffContext = 3

// lineDiff compares two texts line by line (go-udiff's Myers diff) and
// returns the hunks with their line numbers.
func lineDiff(before, after string) (hunks []views.DiffHunk, added, removed int, err error) {
	u, err := udiff.ToUnifiedDiff("before", "after", before, udiff.Lines(before, after), diffContext)
	if err != nil {
		return nil, 0, 0, err
	}
	for _, h := range u.Hunks {
		old, nw := h.FromLine, h.ToLine
		dh := views.DiffHunk{}
		var oldN, newN int
		for _, l := range h.Lines {
			text := strings.TrimSuffix(l.Content, "\n")
			switch l.Kind {
			case udiff.Delete:
				dh.Lines = append(dh.Lines, views.DiffLine{Kind: "del", Old: old, Text: text})
				old++
				oldN++
				removed++
			case udiff.Insert:
				dh.Lines = append(dh.Lines, views.DiffLine{Kind: "add", New: nw, Text: text})
				nw++
				newN++
				added++
			default:
				dh.Lines = append(dh.Lines, views.DiffLine{Kind: "same", Old: old, New: nw, Text: text})
				old++
				nw++
				oldN++
				newN++
			}
		}
		dh.Header = fmt.Sprintf("Lines %d–%d → %d–%d", h.FromLine, h.FromLine+max(oldN-1, 0), h.ToLine, h.ToLine+max(newN-1, 0))
		hunks = append(hunks, dh)
	}
	return hunks, added, removed, nil
}

// RevisionRestore is POST /workflows/:id/revisions/:rev/restore: saves that
// revision's document as a new revision, then opens the editor.
func (h *Handlers) RevisionRestore(c *fiber.Ctx) error {
	id, n, err := workflowRevisionParams(c)
	if err != nil {
		return err
	}
	w, err := h.Svc.RestoreRevision(c.UserContext(), id, n)
	if err != nil {
		return err
	}
	h.Log.Info("workflow revision restored", "workflow_id", id, "from_revision", n, "revision", w.Revision, "request_id", requestID(c))
	h.flash(c, "success", "Restored revision "+strconv.Itoa(n)+" as revision "+strconv.Itoa(w.Revision)+".")
	return redirect(c, "/workflows/"+itoa(id))
}
