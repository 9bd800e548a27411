package handlers

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
	"github.com/tidwall/gjson"
)

// WorkflowListPage is GET /: every workflow with its URL, switch and last
// execution, and the form to create one.
func (h *Handlers) WorkflowListPage(c *fiber.Ctx) error {
	return h.renderWorkflowList(c, fiber.StatusOK, views.NewWorkflowForm{Mode: engine.ModeAsync})
}

func (h *Handlers) renderWorkflowList(c *fiber.Ctx, status int, form views.NewWorkflowForm) error {
	list, err := h.Svc.ListWorkflows(c.UserContext())
	if err != nil {
		return err
	}
	m := h.meta(c, "Workflows", "workflows")
	now := time.Now()
	// Every sparkline from one read of the hour counters.
	recent, err := h.Svc.RecentActivity(c.UserContext(), views.SparkRange.From(now))
	if err != nil {
		return err
	}
	form.Templates = templateOptions()
	v := views.WorkflowListView{New: form, Now: now, Rows: make([]views.WorkflowRow, 0, len(list))}
	for _, s := range list {
		v.Rows = append(v.Rows, h.workflowRow(c, s, m.CSRFToken, now, recent[s.ID]))
	}
	return render(c, status, views.WorkflowListPage(m, v))
}

// workflowRow is one row of the list; recent are its hour buckets of the
// last 24 hours (its sparkline).
func (h *Handlers) workflowRow(c *fiber.Ctx, s engine.WorkflowSummary, csrf string, now time.Time, recent []engine.ActivityBucket) views.WorkflowRow {
	return views.WorkflowRow{ID: s.ID, Title: s.Title, Mode: s.Mode, Enabled: s.Enabled, URL: h.WebhookURL(c, s.Key),
		Revision: s.Revision, ExecutionCount: s.ExecutionCount, LastStatus: s.LastStatus, LastAt: s.LastAt, CSRFToken: csrf, Now: now,
		Spark: views.NewSparkline(recent, now)}
}

// newDocument is the document of a new workflow, fields in this order.
type newDocument struct {
	Title   string          `json:"title"`
	Mode    engine.Mode     `json:"mode"`
	Enabled bool            `json:"enabled"`
	Trigger json.RawMessage `json:"trigger"`
	Nodes   []engine.Node   `json:"nodes"`
}

// WorkflowCreate is POST /workflows: a new workflow from a title and a
// mode, then its editor. Validation errors re-render the list (422) with
// the message next to the field.
func (h *Handlers) WorkflowCreate(c *fiber.Ctx) error {
	form := views.NewWorkflowForm{Title: strings.TrimSpace(c.FormValue("title")), Mode: engine.Mode(c.FormValue("mode"))}
	raw, err := json.Marshal(newDocument{Title: form.Title, Mode: form.Mode, Enabled: true, Trigger: json.RawMessage("{}"), Nodes: []engine.Node{}})
	if err != nil {
		return err
	}
	w, err := h.Svc.CreateWorkflow(c.UserContext(), raw)
	if err != nil {
		if engine.ErrorCode(err) != engine.EINVALID && engine.ErrorCode(err) != engine.ETOOLARGE {
			return err
		}
		field, msg := splitFieldError(engine.ErrorMessage(err), "title", "mode")
		form.Errors = map[string]string{field: msg}
		return h.renderWorkflowList(c, fiber.StatusUnprocessableEntity, form)
	}
	h.Log.Info("workflow created", "workflow_id", w.ID, "request_id", requestID(c))
	h.flash(c, "success", "Workflow “"+w.Doc.Title+"” created. Its URL is ready to copy; add steps below the trigger.")
	return redirect(c, "/workflows/"+itoa(w.ID))
}

// templateOptions are the templates the New workflow card offers.
func templateOptions() []views.TemplateOption {
	var out []views.TemplateOption
	for _, t := range engine.Templates() {
		out = append(out, views.TemplateOption{Name: t.Name, Title: t.Title, Description: t.Description,
			Mode: engine.Mode(gjson.GetBytes(t.Document, "mode").Str)})
	}
	return out
}

// WorkflowCreateFromTemplate is POST /workflows/from-template (template):
// a new workflow from a template's document, then its editor.
func (h *Handlers) WorkflowCreateFromTemplate(c *fiber.Ctx) error {
	t, ok := engine.TemplateByName(c.FormValue("template"))
	if !ok {
		return engine.Errorf(engine.ENOTFOUND, "no such template: choose one of the list")
	}
	w, err := h.Svc.CreateWorkflow(c.UserContext(), t.Document)
	if err != nil {
		return fmt.Errorf("workflows: create from template %s: %w", t.Name, err)
	}
	h.Log.Info("workflow created", "workflow_id", w.ID, "template", t.Name, "request_id", requestID(c))
	msg := "Workflow “" + w.Doc.Title + "” created from a template, with sample requests: press Run test to try it."
	if w.Doc.Trigger.Verify != nil {
		msg += " Put your sender's secret in Verify the sender before giving it the URL."
	}
	h.flash(c, "success", msg)
	return redirect(c, "/workflows/"+itoa(w.ID))
}

// splitFieldError maps an engine message "field: problem" to one of the
// form's fields and the problem, capitalised; other messages go to the
// form as a whole ("").
func splitFieldError(message string, fields ...string) (field, msg string) {
	for _, f := range fields {
		if rest, ok := strings.CutPrefix(message, f+": "); ok {
			return f, upperFirst(rest)
		}
	}
	return "", message
}

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// WorkflowEnabled is POST /workflows/:id/enabled: the switch of the list.
// The form says the wanted state (enabled=on, or absent for off), so a
// double click cannot flip it back. The state is not part of the document's
// history: no revision is saved. htmx gets the row back, other browsers the
// list.
func (h *Handlers) WorkflowEnabled(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	want := c.FormValue("enabled") == "on"
	w, err := h.Svc.SetWorkflowEnabled(c.UserContext(), id, want)
	if err != nil {
		return err
	}
	title := w.Doc.Title
	h.Log.Info("workflow enabled changed", "workflow_id", id, "enabled", want, "request_id", requestID(c))
	msg := "“" + title + "” is on: its URL accepts requests."
	if !want {
		msg = "“" + title + "” is off: its URL answers 404 until you turn it on."
	}
	if !isHTMX(c) {
		h.flash(c, "success", msg)
		return redirect(c, "/")
	}
	list, err := h.Svc.ListWorkflows(c.UserContext())
	if err != nil {
		return err
	}
	now := time.Now()
	recent, err := h.Svc.Activity(c.UserContext(), id, views.SparkRange.Span, views.SparkRange.From(now), now.Add(views.SparkRange.Span))
	if err != nil {
		return err
	}
	for _, s := range list {
		if s.ID == id {
			row := h.workflowRow(c, s, session(c).CSRFToken, now, recent)
			return render(c, fiber.StatusOK, views.WorkflowRowSwap(row, []views.Flash{{Kind: "success", Message: msg}}))
		}
	}
	return engine.Errorf(engine.ENOTFOUND, "workflow %d not found", id)
}

func boolJSON(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// copyTitle is the title of a duplicate, within the length limit.
func copyTitle(title string) string {
	t := []rune("Copy of " + title)
	if len(t) > engine.MaxTitleLength {
		t = t[:engine.MaxTitleLength]
	}
	return string(t)
}

// WorkflowDuplicate is POST /workflows/:id/duplicate: a new workflow with
// the same document (secrets included), "Copy of …" as title and a new key
// and URL; then its editor.
func (h *Handlers) WorkflowDuplicate(c *fiber.Ctx) error {
	w, err := h.workflowParam(c)
	if err != nil {
		return err
	}
	id := w.ID
	title := copyTitle(w.Doc.Title)
	doc := engine.SetTopLevel(engine.InjectSecrets(w.Stored, w.Secrets), "title", engine.AppendJSONString(nil, title))
	// The copy starts in the original's state.
	doc = engine.SetTopLevel(doc, "enabled", []byte(boolJSON(w.Doc.IsEnabled())))
	cp, err := h.Svc.CreateWorkflow(c.UserContext(), doc)
	if err != nil {
		return err
	}
	h.Log.Info("workflow duplicated", "workflow_id", cp.ID, "from_workflow_id", id, "request_id", requestID(c))
	h.flash(c, "success", "Created “"+title+"”, a copy with its own URL.")
	return redirect(c, "/workflows/"+itoa(cp.ID))
}

// WorkflowDelete is POST /workflows/:id/delete (the list asks first).
func (h *Handlers) WorkflowDelete(c *fiber.Ctx) error {
	w, err := h.workflowParam(c)
	if err != nil {
		return err
	}
	id := w.ID
	if err := h.Svc.DeleteWorkflow(c.UserContext(), id); err != nil {
		return err
	}
	h.Log.Info("workflow deleted", "workflow_id", id, "request_id", requestID(c))
	h.flash(c, "success", "Deleted “"+w.Doc.Title+"” and its executions.")
	return redirect(c, "/")
}
