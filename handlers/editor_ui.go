package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
	"github.com/tidwall/gjson"
)

// The workflow editor: GET /workflows/:id shows the flow canvas and a side
// panel (trigger settings by default, or one node's settings). Every change
// saves the whole document as a new revision through Svc.UpdateWorkflow,
// which validates it; htmx requests get the new panel plus out-of-band
// swaps of the canvas, the revision line and the flash region, plain form
// posts a redirect (or the full page with the errors, status 422).
//
// Forms post nested names (body[0][path], rules[items][1][op]) that are
// parsed with engine.ParseQS into JSON and decoded into the *Post structs
// below. Buttons named "action" (add a row, remove a rule, parse a sample)
// post the same form to a .../panel route that re-renders it from the
// posted state without saving.

// editorQS bounds the parse of editor forms: deep enough for nested rule
// groups (two levels per group), long enough for MaxFields rows per part.
var editorQS = engine.QSOptions{Depth: 32, ArrayLimit: 1000, ParameterLimit: 20000}

// parseEditorForm decodes a posted editor form into dst.
func parseEditorForm(c *fiber.Ctx, dst any) error {
	raw, err := editorFormJSON(c)
	if err != nil {
		return err
	}
	return decodeEditorForm(raw, dst)
}

// editorFormJSON parses a posted editor form into JSON, for the parts of
// the editor that decode their own fields of it (the node kinds).
func editorFormJSON(c *fiber.Ctx) ([]byte, error) {
	raw, err := engine.ParseQS(string(c.Body()), editorQS)
	if err != nil {
		return nil, engine.Errorf(engine.EINVALID, "the form could not be read: %s", engine.ErrorMessage(err))
	}
	return raw, nil
}

// decodeEditorForm decodes a form parsed by editorFormJSON into dst.
func decodeEditorForm(raw []byte, dst any) error {
	if err := json.Unmarshal(raw, dst); err != nil {
		return engine.Errorf(engine.EINVALID, "the form could not be read: reload the page and try again")
	}
	return nil
}

// loadEditor returns the current revision of the workflow named by :id and
// its document, Basic Auth password included.
func (h *Handlers) loadEditor(c *fiber.Ctx) (*engine.Workflow, *engine.Document, error) {
	w, err := h.workflowParam(c)
	if err != nil {
		return nil, nil, err
	}
	// w.Doc is this request's own decoded copy: the editor may change it.
	return w, w.Doc, nil
}

// saveDoc saves d, an edit of w's document, as a new revision and returns
// it with its document. Members of the stored document that d does not
// know (an API client's extensions) are kept: the UI edits, it never
// rebuilds.
func (h *Handlers) saveDoc(c *fiber.Ctx, w *engine.Workflow, d *engine.Document) (*engine.Workflow, *engine.Document, error) {
	id := w.ID
	if d.Nodes == nil {
		d.Nodes = []engine.Node{}
	}
	// Enabled is the workflow's state, not part of its revisions: left
	// out, it stays as it is (the list's switch sets it).
	d.Enabled = nil
	for _, p := range []*[]engine.Field{&d.Trigger.Headers, &d.Trigger.Query, &d.Trigger.Body} {
		if *p == nil {
			*p = []engine.Field{}
		}
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, nil, fmt.Errorf("editor: encode workflow %d: %w", id, err)
	}
	nw, err := h.Svc.UpdateWorkflow(c.UserContext(), id, engine.KeepUnknownFields(w.Stored, raw))
	if err != nil {
		return nil, nil, err
	}
	nw.Doc.Enabled = w.Doc.Enabled // the state the store kept
	return nw, nw.Doc, nil
}

func editorCSRF(c *fiber.Ctx) string {
	if s := session(c); s != nil {
		return s.CSRFToken
	}
	return ""
}

func (h *Handlers) canvasView(c *fiber.Ctx, w *engine.Workflow, d *engine.Document, selected string) views.CanvasView {
	return views.CanvasView{WorkflowID: w.ID, Mode: d.Mode, Nodes: d.Nodes, Editable: true, Selected: selected, CSRFToken: editorCSRF(c),
		Cards: canvasCards(d), Choices: insertChoices(d.Mode)}
}

func revisionView(w *engine.Workflow) views.RevisionView {
	return views.RevisionView{Revision: w.Revision, SavedAt: w.UpdatedAt}
}

func (h *Handlers) editorView(c *fiber.Ctx, w *engine.Workflow, d *engine.Document, selected string, panel templ.Component) (views.EditorView, error) {
	stats, err := h.flowStats(c, w.ID)
	if err != nil {
		return views.EditorView{}, err
	}
	return views.EditorView{
		Meta:       h.meta(c, d.Title, "workflows"),
		WorkflowID: w.ID,
		Title:      d.Title,
		Mode:       d.Mode,
		Enabled:    d.IsEnabled(),
		Revision:   revisionView(w),
		Stats:      stats,
		Canvas:     h.canvasView(c, w, d, selected),
		Panel:      panel,
		Test:       views.TestBarView{WorkflowID: w.ID, CSRFToken: editorCSRF(c), Input: h.testInputView(c, w, d, "")},
	}, nil
}

// flowStats sums up a workflow's last 24 hours from its hour counters:
// success rate and flow durations, for the editor's header (issue 15,
// point 7).
func (h *Handlers) flowStats(c *fiber.Ctx, id int64) (views.FlowStatsView, error) {
	now := time.Now()
	r := views.SparkRange
	buckets, err := h.Svc.Activity(c.UserContext(), id, r.Span, r.From(now), now.Add(r.Span))
	if err != nil {
		return views.FlowStatsView{}, err
	}
	return views.FlowStatsView{WorkflowID: id, Stats: engine.SummarizeActivity(buckets)}, nil
}

// editorResult is the outcome of an editor request.
type editorResult struct {
	status   int // 200, or 422 for a form with errors
	panel    templ.Component
	selected string // node key of the panel, views.TriggerKey for the trigger
	canvas   bool   // the tree or the selection changed: redraw the canvas
	saved    bool   // a new revision was saved
	message  string // success flash
	opened   bool   // the panel only opened: leave the flash region alone
	focus    string // node key (views.TriggerKey) whose card takes focus after the swap
	// testInput redraws the Test bar's choices (the samples changed).
	testInput bool
}

// respondEditor answers an editor request: for htmx the panel and the
// out-of-band updates, otherwise a redirect after a save, else the full
// page with the panel.
func (h *Handlers) respondEditor(c *fiber.Ctx, w *engine.Workflow, d *engine.Document, r editorResult) error {
	if r.status == 0 {
		r.status = fiber.StatusOK
	}
	// Success is flashed; a form with errors says so in the panel, next to
	// the fields (a flash would cover the panel's Save button).
	var flash []views.Flash
	if r.message != "" && r.status < 400 {
		flash = []views.Flash{{Kind: "success", Message: r.message}}
	}
	if isHTMX(c) {
		// The address bar follows the panel, so that a reload or Back
		// shows it again (htmx pushes the URL into the history).
		if want := editorURL(w.ID, r.selected); r.status < 400 && r.selected != "" && !samePage(c.Get("HX-Current-URL"), want) {
			c.Set("HX-Push-Url", want)
		}
		u := views.EditorUpdate{Panel: r.panel, Flash: flash, KeepFlash: r.opened}
		if r.testInput {
			ti := h.testInputView(c, w, d, "")
			ti.OOB = true
			u.TestInput = &ti
		}
		if r.canvas {
			cv := h.canvasView(c, w, d, r.selected)
			cv.Focus = r.focus
			u.Canvas = &cv
		}
		if r.saved {
			rv := revisionView(w)
			u.Revision = &rv
			// The title may have changed: header, breadcrumb, <title>.
			u.Title = &d.Title
		}
		return render(c, r.status, views.EditorUpdateFragment(u))
	}
	if r.saved && r.status < 400 {
		if r.message != "" {
			h.flash(c, "success", r.message)
		}
		return redirect(c, editorURL(w.ID, r.selected))
	}
	v, err := h.editorView(c, w, d, r.selected, r.panel)
	if err != nil {
		return err
	}
	v.Meta.Flash = append(v.Meta.Flash, flash...)
	return render(c, r.status, views.WorkflowEditPage(v))
}

// samePage reports whether the browser's current URL (htmx's
// HX-Current-URL) is path, query included.
func samePage(current, path string) bool {
	u, err := url.Parse(current)
	if err != nil {
		return false
	}
	got := u.EscapedPath()
	if u.RawQuery != "" {
		got += "?" + u.RawQuery
	}
	return got == path
}

func editorURL(id int64, selected string) string {
	u := "/workflows/" + strconv.FormatInt(id, 10)
	if selected != "" && selected != views.TriggerKey {
		u += "?node=" + url.QueryEscape(selected)
	}
	return u
}

// WorkflowEditPage is GET /workflows/:id: the editor. ?node=KEY opens that
// node's panel.
func (h *Handlers) WorkflowEditPage(c *fiber.Ctx) error {
	w, d, err := h.loadEditor(c)
	if err != nil {
		return err
	}
	selected := views.TriggerKey
	var panel templ.Component
	if key := c.Query("node"); key != "" {
		if n, ok := engine.FindNode(d, key); ok {
			selected = key
			panel = views.NodePanel(h.nodeForm(c, w, d, n))
		}
	}
	var flash []views.Flash
	if panel == nil {
		f := h.triggerForm(c, w, d)
		// ?listen=ID shows a listen (the page of a browser without
		// JavaScript); ?samples=ID fills the samples from one of the
		// workflow's executions ("Use this request as sample").
		if id := c.Query("listen"); id != "" {
			cp, err := h.captureHub().Get(w.ID, id)
			if err != nil {
				f.Listen.Error = engine.ErrorMessage(err)
			} else {
				f.Listen = h.listenView(w.ID, cp, 0, secretHeaders(d))
			}
		}
		if v := c.Query("samples"); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id < 1 {
				return engine.Errorf(engine.EINVALID, "samples: must be an execution id")
			}
			req, err := h.executionSample(c, w.ID, id)
			if err != nil {
				return err
			}
			msg := useSamples(&f, req, secretHeaders(d), "execution #"+views.ShortID(id))
			f.Unsaved = true
			flash = append(flash, views.Flash{Kind: "info", Message: msg})
		}
		panel = views.TriggerPanel(f)
	}
	v, err := h.editorView(c, w, d, selected, panel)
	if err != nil {
		return err
	}
	v.Meta.Flash = append(v.Meta.Flash, flash...)
	return render(c, fiber.StatusOK, views.WorkflowEditPage(v))
}

// executionSample is the stored request of one of the workflow's
// executions, headers included (a stored execution keeps them in its
// context, as the flow saw them).
func (h *Handlers) executionSample(c *fiber.Ctx, wid, id int64) (*engine.Request, error) {
	e, err := h.Svc.GetExecution(c.UserContext(), id)
	if err != nil {
		return nil, err
	}
	if e.WorkflowID != wid {
		return nil, engine.Errorf(engine.ENOTFOUND, "execution %d is not one of this workflow's", id)
	}
	req := e.Request
	req.Headers = nil
	gjson.GetBytes(e.Context, "headers").ForEach(func(k, v gjson.Result) bool {
		req.Headers = append(req.Headers, engine.HeaderValue{Name: k.Str, Value: v.String()})
		return true
	})
	return &req, nil
}

// WorkflowExport is GET /workflows/:id/export: the API's export document
// as a file download, without the Basic Auth password unless ?secrets=1
// (an import without it keeps the stored one).
func (h *Handlers) WorkflowExport(c *fiber.Ctx) error {
	w, d, err := h.loadEditor(c)
	if err != nil {
		return err
	}
	doc, err := exportDocument(w, h.WebhookURL(c, w.Key), c.Query("secrets") == "1")
	if err != nil {
		return fmt.Errorf("editor: export workflow %d: %w", w.ID, err)
	}
	name := exportFileName(d.Title, w.ID, w.Revision)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(doc)
}

var exportSlugRE = regexp.MustCompile(`[^a-z0-9]+`)

func exportFileName(title string, id int64, rev int) string {
	slug := strings.Trim(exportSlugRE.ReplaceAllString(strings.ToLower(title), "-"), "-")
	if len(slug) > 60 {
		slug = strings.Trim(slug[:60], "-")
	}
	if slug == "" {
		slug = "workflow-" + strconv.FormatInt(id, 10)
	}
	return slug + "-rev" + strconv.Itoa(rev) + ".json"
}

// ----- error mapping -----

var fieldTokenRE = regexp.MustCompile(`[^.\[\]]+|\[\d+\]`)

// editorSplitFieldError splits an engine message "field: message" (the field
// has no spaces); ok is false for messages that name no field.
func editorSplitFieldError(msg string) (field, rest string, ok bool) {
	field, rest, ok = strings.Cut(msg, ": ")
	if !ok || field == "" || strings.ContainsAny(field, " \"") {
		return "", msg, false
	}
	return field, rest, true
}

// fieldInputName turns an engine field (relative to the trigger or node,
// with its "trigger." or "config." prefix) into the name of the form input
// that edits it: trigger.body[2].path → body[2][path],
// config.rules.and[1].op → rules[items][1][op], config.rules.and → rules.
func fieldInputName(field string) string {
	toks := fieldTokenRE.FindAllString(field, -1)
	if len(toks) > 0 && (toks[0] == "trigger" || toks[0] == "config") {
		toks = toks[1:]
	}
	var out []string
	for i := 0; i < len(toks); i++ {
		t := strings.Trim(toks[i], "[]")
		if (t == "and" || t == "or") && len(out) > 0 {
			if i+1 < len(toks) && strings.HasPrefix(toks[i+1], "[") {
				out = append(out, "items")
			}
			continue
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return ""
	}
	name := out[0]
	for _, t := range out[1:] {
		name += "[" + t + "]"
	}
	return name
}

// notSaved heads a panel whose errors are shown next to the fields.
const notSaved = "Not saved: fix the highlighted field."

// fieldErrorText is an engine message without the field it names.
func fieldErrorText(msg string) string {
	if _, rest, ok := editorSplitFieldError(msg); ok {
		return rest
	}
	return msg
}

// placeError puts an engine error next to its input when the form has it
// (and returns notSaved for the panel's alert), else returns the message
// for the alert.
func placeError(err error, prefix string, inputs map[string]bool, errs map[string]string) (formError string) {
	msg := "Not saved: " + engine.ErrorMessage(err)
	field, rest, ok := editorSplitFieldError(engine.ErrorMessage(err))
	if ok && prefix != "" {
		if !strings.HasPrefix(field, prefix) {
			return msg
		}
		field = strings.TrimPrefix(strings.TrimPrefix(field, prefix), ".")
	}
	if ok {
		if name := fieldInputName(field); inputs[name] {
			if errs[name] == "" { // the first problem of an input is shown
				errs[name] = rest
			}
			return notSaved
		}
	}
	return msg
}

// placeErrors places every error as placeError does; the panel's alert is
// the first that no input shows, else notSaved.
func placeErrors(list []error, prefix string, inputs map[string]bool, errs map[string]string) (formError string) {
	for _, err := range list {
		if msg := placeError(err, prefix, inputs, errs); msg != notSaved && formError == "" {
			formError = msg
		}
	}
	if formError == "" && len(errs) > 0 {
		formError = notSavedFor(errs)
	}
	return formError
}

// notSavedFor heads a panel with errs next to its fields.
func notSavedFor(errs map[string]string) string {
	if len(errs) > 1 {
		return fmt.Sprintf("Not saved: fix the %d highlighted fields.", len(errs))
	}
	return notSaved
}

// ----- replies (async trigger and response nodes) -----

type headerPost struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// bodyForm shows a reply body: a JSON string as its text, other JSON
// indented.
func bodyForm(raw json.RawMessage) (text string, isJSON bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", true
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s, false
		}
	}
	var buf bytes.Buffer
	if json.Indent(&buf, raw, "", "  ") != nil {
		return string(raw), true
	}
	return buf.String(), true
}

// bodyJSON turns the body textarea back into JSON: text becomes a JSON
// string; JSON is checked and compacted; an empty JSON body is no body.
func bodyJSON(text string, isJSON bool) (json.RawMessage, error) {
	if !isJSON {
		return json.RawMessage(engine.AppendJSONString(nil, text)), nil
	}
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	out, err := parseJSONText(text)
	if err != nil {
		return nil, fmt.Errorf("%s (choose Body type: Text to send it as plain text)", err.Error())
	}
	return out, nil
}

// parseJSONText checks and compacts JSON typed into a textarea; its error
// says where the syntax breaks, as people count lines and columns.
func parseJSONText(text string) (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(text)); err != nil {
		// Compact's syntax errors say offset 0; Unmarshal's say where.
		var probe json.RawMessage
		if uerr := json.Unmarshal([]byte(text), &probe); uerr != nil {
			err = uerr
		}
		var se *json.SyntaxError
		if ok := editorSyntaxError(err, &se); ok {
			line, col := lineColumn(text, se.Offset)
			return nil, fmt.Errorf("invalid JSON at line %d, column %d: %s", line, col, se.Error())
		}
		return nil, fmt.Errorf("invalid JSON: %s", err.Error())
	}
	return buf.Bytes(), nil
}

// lineColumn is where a JSON syntax error is, from the offset
// encoding/json gives (the bytes read, the bad one included), as people
// count: lines and columns from 1, columns in characters.
func lineColumn(text string, offset int64) (line, col int) {
	end := int(offset) - 1
	if end < 0 {
		end = 0
	}
	if end > len(text) {
		end = len(text)
	}
	before := text[:end]
	line = strings.Count(before, "\n") + 1
	col = utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
	return line, col
}

func editorSyntaxError(err error, target **json.SyntaxError) bool {
	se, ok := err.(*json.SyntaxError)
	if ok {
		*target = se
	}
	return ok
}

func headersFromPost(rows []headerPost) []engine.ReplyHeader {
	out := make([]engine.ReplyHeader, 0, len(rows))
	for _, r := range rows {
		out = append(out, engine.ReplyHeader{Name: r.Name, Value: r.Value})
	}
	return out
}

// checkReplyHeaders asks the engine about each reply header on its own,
// so that every bad one is marked at once (a reply's validation stops at
// the first): errors go to prefix[i][name] or prefix[i][value].
func checkReplyHeaders(prefix string, headers []engine.ReplyHeader, errs map[string]string) {
	for i, hd := range headers {
		_, err := engine.CompileReply(&engine.Reply{Headers: []engine.ReplyHeader{hd}}, "r")
		if err == nil {
			continue
		}
		field, rest, ok := editorSplitFieldError(engine.ErrorMessage(err))
		if !ok {
			continue
		}
		_, part, _ := editorCutLast(field, ".")
		name := fmt.Sprintf("%s[%d][%s]", prefix, i, part)
		if errs[name] == "" {
			errs[name] = rest
		}
	}
}

// headerRowsAct applies a header-rows action of a panel (replyHeaderRows):
// "add" with arg prefix appends a row, "remove" with arg "prefix.i"
// removes one. It returns the test id to focus, "" when the action is not
// about these rows.
func headerRowsAct(rows *[]engine.ReplyHeader, prefix, verb, arg string) string {
	switch verb {
	case "add":
		if arg == prefix {
			*rows = append(*rows, engine.ReplyHeader{})
			return fmt.Sprintf("%s-%d-name", prefix, len(*rows)-1)
		}
	case "remove":
		part, idx, _ := editorCutLast(arg, ".")
		if i, err := strconv.Atoi(idx); err == nil && part == prefix && i >= 0 && i < len(*rows) {
			*rows = slices.Delete(*rows, i, i+1)
			return "add-" + prefix
		}
	}
	return ""
}

func dropEmptyHeaders(rows []engine.ReplyHeader) []engine.ReplyHeader {
	return slices.DeleteFunc(rows, func(h engine.ReplyHeader) bool {
		return strings.TrimSpace(h.Name) == "" && strings.TrimSpace(h.Value) == ""
	})
}

// ----- small helpers -----

func editorCutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

func editorPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// editorCloneDoc copies a document deeply enough for tree edits.
func editorCloneDoc(d *engine.Document) *engine.Document {
	c := *d
	c.Nodes = editorCloneNodes(d.Nodes)
	return &c
}

func editorCloneNodes(nodes []engine.Node) []engine.Node {
	if nodes == nil {
		return nil
	}
	out := make([]engine.Node, len(nodes))
	for i, n := range nodes {
		if n.Branches != nil {
			b := make(map[string][]engine.Node, len(n.Branches))
			for k, v := range n.Branches {
				b[k] = editorCloneNodes(v)
			}
			n.Branches = b
		}
		out[i] = n
	}
	return out
}
