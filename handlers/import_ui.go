package handlers

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
)

// Import in the UI: upload or paste a document, see what it will create
// (or, into an existing workflow, what it changes), then confirm. The
// document travels back with the confirmation; nothing is saved before.

// WorkflowImportPage is GET /workflows/import and GET
// /workflows/:id/import: the form.
func (h *Handlers) WorkflowImportPage(c *fiber.Ctx) error {
	v, err := h.importView(c)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.ImportPage(h.meta(c, "", "workflows"), v))
}

// importView is the page for /workflows/import or /workflows/:id/import.
func (h *Handlers) importView(c *fiber.Ctx) (views.ImportView, error) {
	v := views.ImportView{}
	if s := session(c); s != nil {
		v.CSRFToken = s.CSRFToken
	}
	if c.Params("id") != "" {
		w, err := h.workflowParam(c)
		if err != nil {
			return v, err
		}
		v.IntoID, v.IntoTitle = w.ID, w.Doc.Title
	}
	return v, nil
}

// importedDocument reads the posted document: the uploaded file when one
// was chosen, else the pasted text.
func importedDocument(c *fiber.Ctx) ([]byte, error) {
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		if fh.Size > engine.MaxDocumentBytes {
			return nil, engine.Errorf(engine.ETOOLARGE, "The file is larger than %d bytes.", engine.MaxDocumentBytes)
		}
		f, err := fh.Open()
		if err != nil {
			return nil, engine.Errorf(engine.EINVALID, "The file could not be read: choose it again.")
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, engine.MaxDocumentBytes+1))
		if err != nil {
			return nil, engine.Errorf(engine.EINVALID, "The file could not be read: choose it again.")
		}
		return b, nil
	}
	return []byte(strings.Clone(c.FormValue("document"))), nil
}

// importError turns a validation error into what the import page says.
// A document that turns Basic Auth on without a password is what an
// export without secrets gives: say so, and how to go on.
func importError(err error, into bool) string {
	msg := engine.ErrorMessage(err)
	if strings.HasPrefix(msg, "trigger.basicAuth.password: required") && !into {
		return "This document turns Basic Auth on but carries no password (exports leave secrets out unless asked). " +
			"Add trigger.basicAuth.password to the document, or import it into the workflow it came from, which keeps its stored password."
	}
	if strings.HasPrefix(msg, "document: ") {
		return "This is not a workflow document: " + strings.TrimPrefix(msg, "document: ")
	}
	return "The document is not valid: " + msg
}

// WorkflowImport is POST /workflows/import and POST /workflows/:id/import:
// action=preview shows what the document will do, action=create saves it
// (a new workflow, or a new revision of :id).
func (h *Handlers) WorkflowImport(c *fiber.Ctx) error {
	v, err := h.importView(c)
	if err != nil {
		return err
	}
	raw, err := importedDocument(c)
	if err != nil {
		if engine.ErrorCode(err) != engine.EINVALID && engine.ErrorCode(err) != engine.ETOOLARGE {
			return err
		}
		v.Error = engine.ErrorMessage(err)
		return render(c, fiber.StatusUnprocessableEntity, views.ImportPage(h.meta(c, "", "workflows"), v))
	}
	v.Document = string(raw)
	fail := func(msg string) error {
		v.Error, v.Preview = msg, nil
		return render(c, fiber.StatusUnprocessableEntity, views.ImportPage(h.meta(c, "", "workflows"), v))
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return fail("Choose a file or paste a document first.")
	}
	ctx := c.UserContext()
	var cur *engine.Workflow
	check := raw
	if v.IntoID != 0 {
		if cur, err = h.Svc.GetWorkflow(ctx, v.IntoID); err != nil {
			return err
		}
		check = engine.KeepSecrets(raw, cur.Secrets)
	}
	_, _, doc, err := engine.PrepareDocument(check)
	if err != nil {
		if code := engine.ErrorCode(err); code != engine.EINVALID && code != engine.ETOOLARGE {
			return err
		}
		return fail(importError(err, v.IntoID != 0))
	}

	if c.FormValue("action") == "create" {
		var w *engine.Workflow
		if cur != nil {
			w, err = h.Svc.ReplaceWorkflow(ctx, cur.ID, raw)
		} else {
			w, err = h.Svc.CreateWorkflow(ctx, raw)
		}
		if err != nil {
			if code := engine.ErrorCode(err); code != engine.EINVALID && code != engine.ETOOLARGE {
				return err
			}
			return fail(importError(err, cur != nil))
		}
		if cur != nil {
			h.Log.Info("workflow imported", "workflow_id", w.ID, "revision", w.Revision, "request_id", requestID(c))
			h.flash(c, "success", "Imported as revision "+itoa(int64(w.Revision))+".")
		} else {
			h.Log.Info("workflow imported", "workflow_id", w.ID, "request_id", requestID(c))
			h.flash(c, "success", "Imported “"+w.Doc.Title+"” with its own URL.")
		}
		return redirect(c, "/workflows/"+itoa(w.ID))
	}

	p := &views.ImportPreview{Title: doc.Title, Mode: doc.Mode, Enabled: doc.IsEnabled(),
		Fields:    len(doc.Trigger.Headers) + len(doc.Trigger.Query) + len(doc.Trigger.Body),
		BasicAuth: doc.Trigger.BasicAuth.Enabled,
		Canvas:    views.CanvasView{Mode: doc.Mode, Nodes: doc.Nodes, Cards: canvasCards(doc)}}
	for i := range doc.Nodes {
		p.Steps += engine.CountNodes(&doc.Nodes[i])
	}
	if cur != nil {
		p.KeepsPassword = p.BasicAuth && !engine.SecretGiven(raw)
		if doc.Enabled == nil {
			p.Enabled = cur.Doc.IsEnabled() // a document without it keeps the state
		}
		before, err := revisionText(cur, false)
		if err != nil {
			return err
		}
		stored, secrets, _, _ := engine.PrepareDocument(check)
		after, err := revisionText(&engine.Workflow{ID: cur.ID, Stored: stored, Secrets: secrets}, !secrets.Equal(cur.Secrets))
		if err != nil {
			return err
		}
		if p.Hunks, p.Added, p.Removed, err = lineDiff(before, after); err != nil {
			return err
		}
	}
	v.Preview = p
	return render(c, fiber.StatusOK, views.ImportPage(h.meta(c, "", "workflows"), v))
}

// exportDocument is the document the UI's export downloads: the API's
// export, without any secret (Basic Auth password, verify secrets) unless
// secrets is set.
func exportDocument(w *engine.Workflow, url string, secrets bool) ([]byte, error) {
	doc := engine.ExportDocumentWithoutSecrets(w, url)
	if secrets {
		doc = engine.ExportDocument(w, url)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, doc, "", "  "); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
