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

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
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
	raw, err := engine.ParseQS(string(c.Body()), editorQS)
	if err != nil {
		return engine.Errorf(engine.EINVALID, "the form could not be read: %s", engine.ErrorMessage(err))
	}
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

// saveDoc saves d as a new revision and returns it with its document.
func (h *Handlers) saveDoc(c *fiber.Ctx, id int64, d *engine.Document) (*engine.Workflow, *engine.Document, error) {
	if d.Nodes == nil {
		d.Nodes = []engine.Node{}
	}
	for _, p := range []*[]engine.Field{&d.Trigger.Headers, &d.Trigger.Query, &d.Trigger.Body} {
		if *p == nil {
			*p = []engine.Field{}
		}
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, nil, fmt.Errorf("editor: encode workflow %d: %w", id, err)
	}
	w, err := h.Svc.UpdateWorkflow(c.UserContext(), id, raw)
	if err != nil {
		return nil, nil, err
	}
	return w, w.Doc, nil
}

func editorCSRF(c *fiber.Ctx) string {
	if s := session(c); s != nil {
		return s.CSRFToken
	}
	return ""
}

func (h *Handlers) canvasView(c *fiber.Ctx, w *engine.Workflow, d *engine.Document, selected string) views.CanvasView {
	return views.CanvasView{WorkflowID: w.ID, Mode: d.Mode, Nodes: d.Nodes, Editable: true, Selected: selected, CSRFToken: editorCSRF(c)}
}

func revisionView(w *engine.Workflow) views.RevisionView {
	return views.RevisionView{Revision: w.Revision, SavedAt: w.UpdatedAt}
}

func (h *Handlers) editorView(c *fiber.Ctx, w *engine.Workflow, d *engine.Document, selected string, panel templ.Component) views.EditorView {
	return views.EditorView{
		Meta:       h.meta(c, d.Title, "workflows"),
		WorkflowID: w.ID,
		Title:      d.Title,
		Mode:       d.Mode,
		Enabled:    d.IsEnabled(),
		Revision:   revisionView(w),
		Canvas:     h.canvasView(c, w, d, selected),
		Panel:      panel,
	}
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
		u := views.EditorUpdate{Panel: r.panel, Flash: flash, KeepFlash: r.opened}
		if r.canvas {
			cv := h.canvasView(c, w, d, r.selected)
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
	v := h.editorView(c, w, d, r.selected, r.panel)
	v.Meta.Flash = append(v.Meta.Flash, flash...)
	return render(c, r.status, views.WorkflowEditPage(v))
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
	if panel == nil {
		panel = views.TriggerPanel(h.triggerForm(c, w, d))
	}
	return render(c, fiber.StatusOK, views.WorkflowEditPage(h.editorView(c, w, d, selected, panel)))
}

// WorkflowExport is GET /workflows/:id/export: the API's export document
// as a file download.
func (h *Handlers) WorkflowExport(c *fiber.Ctx) error {
	w, d, err := h.loadEditor(c)
	if err != nil {
		return err
	}
	doc := engine.ExportDocument(w, h.WebhookURL(c, w.Key))
	var buf bytes.Buffer
	if err := json.Indent(&buf, doc, "", "  "); err != nil {
		return fmt.Errorf("editor: export workflow %d: %w", w.ID, err)
	}
	buf.WriteByte('\n')
	name := exportFileName(d.Title, w.ID, w.Revision)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
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

// ----- variables for the picker -----

// contextVar is the template path of a declared trigger field.
func contextVar(part, path string) string {
	if part == "headers" {
		path = strings.ToLower(path)
	}
	if strings.HasPrefix(path, "[") {
		return "$context." + part + path
	}
	return "$context." + part + "." + path
}

// pickerVars lists the variables offered in a panel: the declared trigger
// fields, the results of upstream nodes (for a node) and system values.
func pickerVars(d *engine.Document, nodeKey string, withJobs bool) []views.VarGroup {
	var groups []views.VarGroup
	for _, part := range []struct {
		name   string
		fields []engine.Field
	}{{"headers", d.Trigger.Headers}, {"query", d.Trigger.Query}, {"body", d.Trigger.Body}} {
		g := views.VarGroup{Label: "Trigger — " + part.name}
		for _, f := range part.fields {
			if strings.TrimSpace(f.Path) == "" {
				continue
			}
			o := views.VarOption{Label: f.Label(), Path: contextVar(part.name, f.Path)}
			g.Options = append(g.Options, o)
		}
		if len(g.Options) > 0 {
			groups = append(groups, g)
		}
	}
	if len(groups) == 0 {
		groups = append(groups, views.VarGroup{Label: "Trigger",
			Empty: "No request fields declared yet: open the trigger settings and parse a sample body or URL to list them here."})
	}
	if withJobs {
		g := views.VarGroup{Label: "Earlier nodes", Empty: "No step runs before this one."}
		for _, n := range engine.UpstreamNodes(d, nodeKey) {
			hint := ""
			switch n.Type {
			case "condition":
				hint = "true or false"
			case "response", "end":
				hint = `{"status": …}`
			}
			g.Options = append(g.Options, views.VarOption{Label: views.NodeDisplayTitle(n) + " (" + views.NodeTypeLabel(n.Type) + ")", Path: engine.RootJobs + "." + n.Key, Hint: hint})
		}
		groups = append(groups, g)
	}
	sys := views.VarGroup{Label: "System"}
	for _, s := range []struct{ name, label string }{
		{"now", "Current time (RFC 3339)"},
		{"timestamp", "Current time (Unix milliseconds)"},
		{"executionId", "Execution ID"},
		{"workflowId", "Workflow ID"},
		{"workflowKey", "Workflow key"},
		{"revision", "Revision"},
	} {
		sys.Options = append(sys.Options, views.VarOption{Label: s.label, Path: engine.RootSystem + "." + s.name})
	}
	return append(groups, sys)
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
			errs[name] = rest
			return notSaved
		}
	}
	return msg
}

// ----- trigger settings -----

type fieldPost struct {
	Path  string `json:"path"`
	Alias string `json:"alias"`
}

type headerPost struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type triggerPost struct {
	// Title is the workflow's title; nil when the form has no title input
	// (a page from before the input existed), which keeps the title.
	Title     *string `json:"title"`
	BasicAuth struct {
		Enabled  string `json:"enabled"`
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"basicAuth"`
	Headers     []fieldPost `json:"headers"`
	Query       []fieldPost `json:"query"`
	Body        []fieldPost `json:"body"`
	QuerySample string      `json:"querySample"`
	BodySample  string      `json:"bodySample"`
	Response    struct {
		Status   string       `json:"status"`
		Headers  []headerPost `json:"headers"`
		Body     string       `json:"body"`
		BodyType string       `json:"bodyType"`
	} `json:"response"`
	TimeoutSeconds string `json:"timeoutSeconds"`
	Action         string `json:"action"`
}

// authURL puts the credentials into the webhook URL.
func authURL(raw string, ba engine.BasicAuth) string {
	if !ba.Enabled || ba.Username == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.User = url.UserPassword(ba.Username, ba.Password)
	return u.String()
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
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(text)); err != nil {
		var se *json.SyntaxError
		if ok := editorSyntaxError(err, &se); ok {
			return nil, fmt.Errorf("invalid JSON at offset %d: %s (choose Body type: Text to send it as plain text)", se.Offset, se.Error())
		}
		return nil, fmt.Errorf("invalid JSON: %s", err.Error())
	}
	return buf.Bytes(), nil
}

func editorSyntaxError(err error, target **json.SyntaxError) bool {
	se, ok := err.(*json.SyntaxError)
	if ok {
		*target = se
	}
	return ok
}

func fieldsFromPost(rows []fieldPost) []engine.Field {
	out := make([]engine.Field, 0, len(rows))
	for _, r := range rows {
		out = append(out, engine.Field{Path: r.Path, Alias: r.Alias})
	}
	return out
}

func headersFromPost(rows []headerPost) []engine.ReplyHeader {
	out := make([]engine.ReplyHeader, 0, len(rows))
	for _, r := range rows {
		out = append(out, engine.ReplyHeader{Name: r.Name, Value: r.Value})
	}
	return out
}

// triggerForm is the trigger panel of the saved document.
func (h *Handlers) triggerForm(c *fiber.Ctx, w *engine.Workflow, d *engine.Document) views.TriggerForm {
	f := h.triggerFormBase(c, w, d)
	t := d.Trigger
	f.BasicAuth = t.BasicAuth
	f.Headers, f.Query, f.Body = t.Headers, t.Query, t.Body
	f.ReplyStatus, f.ReplyBody, f.ReplyBodyJSON = strconv.Itoa(engine.DefaultReplyStatus), engine.DefaultReplyBody, false
	if r := t.Response; r != nil {
		if r.Status != 0 {
			f.ReplyStatus = strconv.Itoa(r.Status)
		}
		f.ReplyHeaders = r.Headers
		f.ReplyBody, f.ReplyBodyJSON = bodyForm(r.Body)
	}
	f.Timeout = strconv.Itoa(int(d.Timeout().Seconds()))
	return f
}

// triggerFormBase fills what does not come from the posted form.
func (h *Handlers) triggerFormBase(c *fiber.Ctx, w *engine.Workflow, d *engine.Document) views.TriggerForm {
	u := h.WebhookURL(c, w.Key)
	return views.TriggerForm{
		WorkflowID: w.ID, Mode: d.Mode, Title: d.Title, CSRFToken: editorCSRF(c),
		URL: u, AuthURL: authURL(u, d.Trigger.BasicAuth),
		Errors: map[string]string{}, Parsed: map[string]string{},
		Vars: pickerVars(d, "", false),
	}
}

// triggerFormFromPost is the trigger panel as posted.
func (h *Handlers) triggerFormFromPost(c *fiber.Ctx, w *engine.Workflow, d *engine.Document, p *triggerPost) views.TriggerForm {
	f := h.triggerFormBase(c, w, d)
	if p.Title != nil {
		f.Title = *p.Title
	}
	f.BasicAuth = engine.BasicAuth{Enabled: p.BasicAuth.Enabled != "", Username: p.BasicAuth.Username, Password: p.BasicAuth.Password}
	f.Headers, f.Query, f.Body = fieldsFromPost(p.Headers), fieldsFromPost(p.Query), fieldsFromPost(p.Body)
	f.QuerySample, f.BodySample = p.QuerySample, p.BodySample
	f.ReplyStatus = p.Response.Status
	f.ReplyHeaders = headersFromPost(p.Response.Headers)
	f.ReplyBody, f.ReplyBodyJSON = p.Response.Body, p.Response.BodyType != "text"
	f.Timeout = p.TimeoutSeconds
	return f
}

// triggerInputs lists the input names of a trigger panel, to place errors.
func triggerInputs(f *views.TriggerForm) map[string]bool {
	in := map[string]bool{
		"title": true, "basicAuth[username]": true, "basicAuth[password]": true, "basicAuth": true,
		"headers": true, "query": true, "body": true,
	}
	for part, rows := range map[string][]engine.Field{"headers": f.Headers, "query": f.Query, "body": f.Body} {
		for i := range rows {
			in[fmt.Sprintf("%s[%d][path]", part, i)] = true
			in[fmt.Sprintf("%s[%d][alias]", part, i)] = true
		}
	}
	if f.Mode == engine.ModeAsync {
		in["response[status]"], in["response[body]"], in["response[headers]"] = true, true, true
		for i := range f.ReplyHeaders {
			in[fmt.Sprintf("response[headers][%d][name]", i)] = true
			in[fmt.Sprintf("response[headers][%d][value]", i)] = true
		}
	} else {
		in["timeoutSeconds"] = true
	}
	return in
}

// dropEmptyFields removes rows whose path and alias are both empty.
func dropEmptyFields(rows []engine.Field) []engine.Field {
	return slices.DeleteFunc(rows, func(f engine.Field) bool {
		return strings.TrimSpace(f.Path) == "" && strings.TrimSpace(f.Alias) == ""
	})
}

func dropEmptyHeaders(rows []engine.ReplyHeader) []engine.ReplyHeader {
	return slices.DeleteFunc(rows, func(h engine.ReplyHeader) bool {
		return strings.TrimSpace(h.Name) == "" && strings.TrimSpace(h.Value) == ""
	})
}

func trimFields(rows []engine.Field) {
	for i := range rows {
		rows[i].Path = strings.TrimSpace(rows[i].Path)
		rows[i].Alias = strings.TrimSpace(rows[i].Alias)
	}
}

// TriggerPanel is GET /workflows/:id/trigger/panel.
func (h *Handlers) TriggerPanel(c *fiber.Ctx) error {
	w, d, err := h.loadEditor(c)
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		return redirect(c, editorURL(w.ID, views.TriggerKey))
	}
	// The canvas comes along to show the selection.
	return h.respondEditor(c, w, d, editorResult{panel: views.TriggerPanel(h.triggerForm(c, w, d)), selected: views.TriggerKey, canvas: true, opened: true})
}

// TriggerSave is POST /workflows/:id/trigger: applies the form (the
// workflow's title and the trigger settings) to the current document and
// saves a revision.
func (h *Handlers) TriggerSave(c *fiber.Ctx) error {
	w, d, err := h.loadEditor(c)
	if err != nil {
		return err
	}
	var p triggerPost
	if err := parseEditorForm(c, &p); err != nil {
		return err
	}
	f := h.triggerFormFromPost(c, w, d, &p)
	f.Headers, f.Query, f.Body = dropEmptyFields(f.Headers), dropEmptyFields(f.Query), dropEmptyFields(f.Body)
	trimFields(f.Headers)
	trimFields(f.Query)
	trimFields(f.Body)
	f.ReplyHeaders = dropEmptyHeaders(f.ReplyHeaders)
	f.Title = strings.TrimSpace(f.Title)

	// A form with errors is shown on the page as saved: its header keeps
	// the stored title.
	savedTitle := d.Title
	fail := func() error {
		d.Title = savedTitle
		return h.respondEditor(c, w, d, editorResult{status: fiber.StatusUnprocessableEntity, panel: views.TriggerPanel(f), selected: views.TriggerKey})
	}
	d.Title = f.Title
	t := &d.Trigger
	t.BasicAuth = f.BasicAuth
	t.BasicAuth.Username = strings.TrimSpace(t.BasicAuth.Username)
	if !t.BasicAuth.Enabled && t.BasicAuth.Username == "" && t.BasicAuth.Password == "" {
		t.BasicAuth = engine.BasicAuth{}
	}
	t.Headers, t.Query, t.Body = f.Headers, f.Query, f.Body
	if d.Mode == engine.ModeAsync {
		r := &engine.Reply{Headers: f.ReplyHeaders}
		if s := strings.TrimSpace(f.ReplyStatus); s != "" {
			if r.Status, err = strconv.Atoi(s); err != nil {
				f.Errors["response[status]"] = "must be a number between 200 and 599"
			}
		} else {
			r.Status = engine.DefaultReplyStatus
		}
		if r.Body, err = bodyJSON(f.ReplyBody, f.ReplyBodyJSON); err != nil {
			f.Errors["response[body]"] = err.Error()
		}
		t.Response = r
	} else {
		switch s := strings.TrimSpace(f.Timeout); s {
		case "":
			d.TimeoutSeconds = 0
		default:
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > engine.MaxTimeoutSeconds {
				f.Errors["timeoutSeconds"] = fmt.Sprintf("must be a whole number of seconds between 1 and %d", engine.MaxTimeoutSeconds)
			}
			d.TimeoutSeconds = n
		}
	}
	f.Unsaved = true
	if len(f.Errors) > 0 {
		f.FormError = notSaved
		return fail()
	}
	nw, nd, err := h.saveDoc(c, w.ID, d)
	if err != nil {
		if engine.ErrorCode(err) != engine.EINVALID {
			return err
		}
		f.FormError = placeError(err, "", triggerInputs(&f), f.Errors)
		return fail()
	}
	nf := h.triggerForm(c, nw, nd)
	return h.respondEditor(c, nw, nd, editorResult{panel: views.TriggerPanel(nf), selected: views.TriggerKey, saved: true,
		message: "Saved as revision " + strconv.Itoa(nw.Revision)})
}

// TriggerPanelRefresh is POST /workflows/:id/trigger/panel: re-renders the
// trigger form from the posted state after an action (add or remove a
// row, parse a sample without JavaScript); nothing is saved.
func (h *Handlers) TriggerPanelRefresh(c *fiber.Ctx) error {
	w, d, err := h.loadEditor(c)
	if err != nil {
		return err
	}
	var p triggerPost
	if err := parseEditorForm(c, &p); err != nil {
		return err
	}
	f := h.triggerFormFromPost(c, w, d, &p)
	status := fiber.StatusOK
	verb, arg, _ := strings.Cut(p.Action, ":")
	switch verb {
	case "add":
		switch arg {
		case "headers", "query", "body":
			rows := append(f.Fields(arg), engine.Field{})
			f.SetFields(arg, rows)
			f.Focus = fmt.Sprintf("%s-%d-path", arg, len(rows)-1)
		case "response[headers]":
			f.ReplyHeaders = append(f.ReplyHeaders, engine.ReplyHeader{})
			f.Focus = fmt.Sprintf("response-headers-%d-name", len(f.ReplyHeaders)-1)
		}
	case "remove":
		part, idx, _ := editorCutLast(arg, ".")
		i, err := strconv.Atoi(idx)
		if err != nil {
			break
		}
		switch part {
		case "headers", "query", "body":
			rows := f.Fields(part)
			if i >= 0 && i < len(rows) {
				f.SetFields(part, slices.Delete(rows, i, i+1))
			}
			f.Focus = "add-" + part + "-row"
		case "response[headers]":
			if i >= 0 && i < len(f.ReplyHeaders) {
				f.ReplyHeaders = slices.Delete(f.ReplyHeaders, i, i+1)
			}
			f.Focus = "add-response-headers"
		}
	case "parse":
		if !parseSample(&f, arg) {
			status = fiber.StatusUnprocessableEntity
		}
	}
	f.Unsaved = true
	return h.respondEditor(c, w, d, editorResult{status: status, panel: views.TriggerPanel(f), selected: views.TriggerKey})
}

func editorCutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// TriggerParse is POST /workflows/:id/trigger/parse?part=query|body: parses
// the pasted sample and answers with that part's rows, the new paths
// merged into the posted ones (aliases kept, no duplicates).
func (h *Handlers) TriggerParse(c *fiber.Ctx) error {
	w, d, err := h.loadEditor(c)
	if err != nil {
		return err
	}
	part := c.Query("part")
	if part != "query" && part != "body" {
		return engine.Errorf(engine.EINVALID, "part: must be query or body")
	}
	var p triggerPost
	if err := parseEditorForm(c, &p); err != nil {
		return err
	}
	f := h.triggerFormFromPost(c, w, d, &p)
	status := fiber.StatusOK
	if !parseSample(&f, part) {
		status = fiber.StatusUnprocessableEntity
	}
	return render(c, status, views.TriggerFields(f, part))
}

// parseSample lists the paths of the part's sample and merges them into
// its rows; false when the sample is unusable (the error is set).
func parseSample(f *views.TriggerForm, part string) bool {
	var paths []string
	var truncated bool
	var err error
	errKey := "sample-" + part
	f.Focus = "parse-" + part
	switch part {
	case "query":
		if strings.TrimSpace(f.QuerySample) == "" {
			f.Errors[errKey] = "Paste a URL or a query string first."
			return false
		}
		paths, truncated, err = engine.ListQueryPaths(f.QuerySample)
		if err == nil && len(paths) == 0 {
			f.Errors[errKey] = "This URL has no query string (nothing after a ?)."
			return false
		}
	case "body":
		if strings.TrimSpace(f.BodySample) == "" {
			f.Errors[errKey] = "Paste a JSON body first."
			return false
		}
		// A form-encoded body (Slack, Twilio) parses like a query string.
		_, paths, truncated, err = engine.ListSamplePaths(f.BodySample)
	default:
		return false
	}
	if err != nil {
		f.Errors[errKey] = engine.ErrorMessage(err)
		return false
	}
	rows, added := mergeFields(f.Fields(part), paths)
	f.SetFields(part, rows)
	msg := fmt.Sprintf("Found %d paths; added %d new %s.", len(paths), added, editorPlural(added, "row", "rows"))
	if truncated {
		msg += fmt.Sprintf(" The sample is large: the listing stopped at %d paths.", engine.MaxListedPaths)
	}
	msg += " Save the trigger to keep them."
	f.Parsed[part] = msg
	return true
}

func editorPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// mergeFields adds the paths not yet among rows, in sample order, after
// the existing rows (whose aliases stay).
func mergeFields(rows []engine.Field, paths []string) ([]engine.Field, int) {
	canon := func(s string) string {
		if p, err := engine.ParsePath(strings.TrimSpace(s)); err == nil {
			return p.String()
		}
		return strings.TrimSpace(s)
	}
	seen := make(map[string]bool, len(rows)+len(paths))
	out := make([]engine.Field, 0, len(rows)+len(paths))
	for _, r := range rows {
		if strings.TrimSpace(r.Path) == "" && strings.TrimSpace(r.Alias) == "" {
			continue // an empty row the admin added and left
		}
		seen[canon(r.Path)] = true
		out = append(out, r)
	}
	added := 0
	for _, p := range paths {
		if k := canon(p); !seen[k] {
			seen[k] = true
			out = append(out, engine.Field{Path: p})
			added++
		}
	}
	return out, added
}

// ----- nodes -----

type rulePost struct {
	Op        string     `json:"op"`
	Group     string     `json:"group"`
	Left      string     `json:"left"`
	Right     string     `json:"right"`
	LeftType  string     `json:"leftType"`
	RightType string     `json:"rightType"`
	Items     []rulePost `json:"items"`
}

type nodePost struct {
	Title    string       `json:"title"`
	Mode     string       `json:"mode"`
	Rules    rulePost     `json:"rules"`
	Status   string       `json:"status"`
	Headers  []headerPost `json:"headers"`
	Body     string       `json:"body"`
	BodyType string       `json:"bodyType"`
	Action   string       `json:"action"`
}

func groupFromPost(p rulePost) views.RuleGroupForm {
	g := views.RuleGroupForm{Or: p.Op == "or"}
	for _, it := range p.Items {
		if it.Group != "" {
			sub := groupFromPost(it)
			g.Items = append(g.Items, views.RuleItemForm{Group: &sub})
			continue
		}
		g.Items = append(g.Items, views.RuleItemForm{Left: it.Left, Op: it.Op, Right: it.Right,
			LeftJSON: it.LeftType == "json", RightJSON: it.RightType == "json"})
	}
	return g
}

// operandForm shows a rule operand: a string as its text, another JSON
// literal as JSON (flagged so that it is saved back as JSON).
func operandForm(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, false
	}
	return string(raw), true
}

func operandJSON(text string, isJSON bool) json.RawMessage {
	if isJSON {
		t := strings.TrimSpace(text)
		if t != "" && json.Valid([]byte(t)) && t[0] != '"' {
			var buf bytes.Buffer
			if json.Compact(&buf, []byte(t)) == nil {
				return buf.Bytes()
			}
		}
	}
	return engine.AppendJSONString(nil, text)
}

// groupFromJSON reads a rule group of a stored condition.
func groupFromJSON(raw json.RawMessage) views.RuleGroupForm {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(raw, &m)
	var g views.RuleGroupForm
	list, ok := m["and"]
	if or, isOr := m["or"]; isOr && !ok {
		g.Or, list = true, or
	}
	var items []json.RawMessage
	_ = json.Unmarshal(list, &items)
	for _, it := range items {
		var im map[string]json.RawMessage
		_ = json.Unmarshal(it, &im)
		_, hasAnd := im["and"]
		_, hasOr := im["or"]
		if hasAnd || hasOr {
			sub := groupFromJSON(it)
			g.Items = append(g.Items, views.RuleItemForm{Group: &sub})
			continue
		}
		var op string
		_ = json.Unmarshal(im["op"], &op)
		r := views.RuleItemForm{Op: op}
		r.Left, r.LeftJSON = operandForm(im["left"])
		r.Right, r.RightJSON = operandForm(im["right"])
		g.Items = append(g.Items, r)
	}
	return g
}

// groupJSON writes a rule group in the engine's {"and":[...]} form.
func groupJSON(dst []byte, g views.RuleGroupForm) []byte {
	key := `{"and":[`
	if g.Or {
		key = `{"or":[`
	}
	dst = append(dst, key...)
	for i, it := range g.Items {
		if i > 0 {
			dst = append(dst, ',')
		}
		if it.Group != nil {
			dst = groupJSON(dst, *it.Group)
			continue
		}
		dst = append(dst, `{"left":`...)
		dst = append(dst, operandJSON(it.Left, it.LeftJSON)...)
		dst = append(dst, `,"op":`...)
		dst = engine.AppendJSONString(dst, it.Op)
		if !engine.IsUnaryOperator(it.Op) || it.Right != "" {
			dst = append(dst, `,"right":`...)
			dst = append(dst, operandJSON(it.Right, it.RightJSON)...)
		}
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// groupAt returns the group at a rule path ("" the root, "1.0" the first
// item of the group that is item 1 of the root).
func groupAt(g *views.RuleGroupForm, path string) *views.RuleGroupForm {
	if path == "" {
		return g
	}
	for _, s := range strings.Split(path, ".") {
		i, err := strconv.Atoi(s)
		if err != nil || i < 0 || i >= len(g.Items) || g.Items[i].Group == nil {
			return nil
		}
		g = g.Items[i].Group
	}
	return g
}

// rulePrefix is the input name prefix of the item at path.
func rulePrefix(path string) string {
	p := "rules"
	if path == "" {
		return p
	}
	for _, s := range strings.Split(path, ".") {
		p += "[items][" + s + "]"
	}
	return p
}

func joinPath(path string, i int) string {
	if path == "" {
		return strconv.Itoa(i)
	}
	return path + "." + strconv.Itoa(i)
}

// nodeForm is the panel of a saved node.
func (h *Handlers) nodeForm(c *fiber.Ctx, w *engine.Workflow, d *engine.Document, n *engine.Node) views.NodeForm {
	f := h.nodeFormBase(c, w, d, n)
	f.Title = n.Title
	switch n.Type {
	case "condition":
		var cfg struct {
			Mode  string          `json:"mode"`
			Rules json.RawMessage `json:"rules"`
		}
		_ = json.Unmarshal(n.Config, &cfg)
		f.CondMode = cfg.Mode
		f.Rules = groupFromJSON(cfg.Rules)
	case "response":
		var r engine.Reply
		_ = json.Unmarshal(n.Config, &r)
		f.Status = strconv.Itoa(r.Status)
		f.Headers = r.Headers
		f.Body, f.BodyJSON = bodyForm(r.Body)
	case "end":
		var e struct {
			Status string `json:"status"`
		}
		_ = json.Unmarshal(n.Config, &e)
		f.Status = e.Status
		if f.Status == "" {
			f.Status = string(engine.StatusResolved)
		}
	}
	return f
}

// nodeFormBase fills what does not come from the posted form.
func (h *Handlers) nodeFormBase(c *fiber.Ctx, w *engine.Workflow, d *engine.Document, n *engine.Node) views.NodeForm {
	f := views.NodeForm{
		WorkflowID: w.ID, Mode: d.Mode, CSRFToken: editorCSRF(c),
		Key: n.Key, Type: n.Type,
		Errors: map[string]string{},
		Vars:   pickerVars(d, n.Key, true),
	}
	for _, b := range n.Branches {
		for i := range b {
			f.BranchSteps += engine.CountNodes(&b[i])
		}
	}
	f.CanMoveUp = engine.MoveNode(editorCloneDoc(d), n.Key, -1) == nil
	f.CanMoveDown = engine.MoveNode(editorCloneDoc(d), n.Key, 1) == nil
	return f
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

func (h *Handlers) nodeFormFromPost(c *fiber.Ctx, w *engine.Workflow, d *engine.Document, n *engine.Node, p *nodePost) views.NodeForm {
	f := h.nodeFormBase(c, w, d, n)
	f.Title = p.Title
	switch n.Type {
	case "condition":
		f.CondMode = p.Mode
		f.Rules = groupFromPost(p.Rules)
	case "response":
		f.Status = p.Status
		f.Headers = headersFromPost(p.Headers)
		f.Body, f.BodyJSON = p.Body, p.BodyType != "text"
	case "end":
		f.Status = p.Status
	}
	return f
}

// nodeInputs lists the input names of a node panel, to place errors.
func nodeInputs(f *views.NodeForm) map[string]bool {
	in := map[string]bool{"title": true}
	switch f.Type {
	case "condition":
		in["mode"], in["rules"] = true, true
		var walk func(g *views.RuleGroupForm, prefix string)
		walk = func(g *views.RuleGroupForm, prefix string) {
			for i, it := range g.Items {
				p := prefix + "[items][" + strconv.Itoa(i) + "]"
				if it.Group != nil {
					in[p] = true
					walk(it.Group, p)
					continue
				}
				in[p+"[left]"], in[p+"[op]"], in[p+"[right]"] = true, true, true
			}
		}
		walk(&f.Rules, "rules")
	case "response":
		in["status"], in["headers"], in["body"] = true, true, true
		for i := range f.Headers {
			in[fmt.Sprintf("headers[%d][name]", i)] = true
			in[fmt.Sprintf("headers[%d][value]", i)] = true
		}
	case "end":
		in["status"] = true
	}
	return in
}

// nodeField is the document field of the node with key, as the engine
// names it in errors: nodes[1].branches.no[0].
func nodeField(nodes []engine.Node, key, prefix string) (string, bool) {
	for i := range nodes {
		f := prefix + "[" + strconv.Itoa(i) + "]"
		if nodes[i].Key == key {
			return f, true
		}
		for _, b := range []string{"yes", "no"} {
			if s, ok := nodeField(nodes[i].Branches[b], key, f+".branches."+b); ok {
				return s, true
			}
		}
		for b, sub := range nodes[i].Branches {
			if b == "yes" || b == "no" {
				continue
			}
			if s, ok := nodeField(sub, key, f+".branches."+b); ok {
				return s, true
			}
		}
	}
	return "", false
}

// nodeConfig builds a node's config from its form; problems the engine
// would not name well (a status that is not a number, bad JSON) are set
// on f.Errors.
func nodeConfig(f *views.NodeForm) json.RawMessage {
	switch f.Type {
	case "condition":
		mode := f.CondMode
		if mode != "continue" {
			mode = "branch"
		}
		out := []byte(`{"mode":`)
		out = engine.AppendJSONString(out, mode)
		out = append(out, `,"rules":`...)
		out = groupJSON(out, f.Rules)
		return append(out, '}')
	case "response":
		f.Headers = dropEmptyHeaders(f.Headers)
		r := struct {
			Status  int                  `json:"status"`
			Headers []engine.ReplyHeader `json:"headers"`
			Body    json.RawMessage      `json:"body,omitempty"`
		}{Headers: f.Headers}
		if r.Headers == nil {
			r.Headers = []engine.ReplyHeader{}
		}
		var err error
		if r.Status, err = strconv.Atoi(strings.TrimSpace(f.Status)); err != nil {
			f.Errors["status"] = "must be a number between 200 and 599"
		}
		if r.Body, err = bodyJSON(f.Body, f.BodyJSON); err != nil {
			f.Errors["body"] = err.Error()
		}
		out, _ := json.Marshal(r)
		return out
	case "end":
		out := []byte(`{"status":`)
		return append(engine.AppendJSONString(out, f.Status), '}')
	}
	return nil
}

// NodeCreate is POST /workflows/:id/nodes (type, parent, branch, index):
// adds a node with a new key and default settings, then opens its panel.
func (h *Handlers) NodeCreate(c *fiber.Ctx) error {
	w, d, err := h.loadEditor(c)
	if err != nil {
		return err
	}
	typ := c.FormValue("type")
	if typ == "response" && d.Mode != engine.ModeSync {
		return engine.Errorf(engine.EINVALID, "response steps are only for sync workflows")
	}
	cfg := engine.DefaultConfig(typ, d.Mode)
	if cfg == nil {
		return engine.Errorf(engine.EINVALID, "type: unknown step type %q", typ)
	}
	index, err := strconv.Atoi(c.FormValue("index"))
	if err != nil {
		return engine.Errorf(engine.EINVALID, "index: must be a number")
	}
	key := engine.NewNodeKey(d, typ)
	if err := engine.InsertNode(d, c.FormValue("parent"), c.FormValue("branch"), index, engine.Node{Key: key, Type: typ, Config: cfg}); err != nil {
		return err
	}
	nw, nd, err := h.saveDoc(c, w.ID, d)
	if err != nil {
		return err
	}
	n, _ := engine.FindNode(nd, key)
	f := h.nodeForm(c, nw, nd, n)
	f.Focus = "node-title"
	return h.respondEditor(c, nw, nd, editorResult{panel: views.NodePanel(f), selected: key, canvas: true, saved: true,
		message: "Added " + strings.ToLower(views.NodeTypeLabel(typ)) + " " + key + " · revision " + strconv.Itoa(nw.Revision)})
}

// loadNode loads the editor's workflow (loadEditor) and the node named by
// :key in its document.
func (h *Handlers) loadNode(c *fiber.Ctx) (*engine.Workflow, *engine.Document, *engine.Node, error) {
	w, d, err := h.loadEditor(c)
	if err != nil {
		return nil, nil, nil, err
	}
	n, ok := engine.FindNode(d, c.Params("key"))
	if !ok {
		return nil, nil, nil, engine.Errorf(engine.ENOTFOUND, "this step no longer exists: reload the page")
	}
	return w, d, n, nil
}

// NodePanel is GET /workflows/:id/nodes/:key/panel.
func (h *Handlers) NodePanel(c *fiber.Ctx) error {
	w, d, n, err := h.loadNode(c)
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		return redirect(c, editorURL(w.ID, n.Key))
	}
	// The canvas comes along to show the selection.
	return h.respondEditor(c, w, d, editorResult{panel: views.NodePanel(h.nodeForm(c, w, d, n)), selected: n.Key, canvas: true, opened: true})
}

// NodePanelRefresh is POST /workflows/:id/nodes/:key/panel: re-renders the
// node form from the posted state after an action (add or remove a rule,
// a group or a header); nothing is saved.
func (h *Handlers) NodePanelRefresh(c *fiber.Ctx) error {
	w, d, n, err := h.loadNode(c)
	if err != nil {
		return err
	}
	var p nodePost
	if err := parseEditorForm(c, &p); err != nil {
		return err
	}
	f := h.nodeFormFromPost(c, w, d, n, &p)
	verb, arg, _ := strings.Cut(p.Action, ":")
	switch verb {
	case "add-rule", "add-group":
		g := groupAt(&f.Rules, arg)
		if g == nil {
			break
		}
		item := views.RuleItemForm{Op: "equal"}
		if verb == "add-group" {
			// A new group usually mixes in the other connective.
			item = views.RuleItemForm{Group: &views.RuleGroupForm{Or: !g.Or, Items: []views.RuleItemForm{{Op: "equal"}}}}
		}
		g.Items = append(g.Items, item)
		p := rulePrefix(joinPath(arg, len(g.Items)-1))
		if verb == "add-group" {
			p += "[items][0]"
		}
		f.Focus = strings.NewReplacer("[", "-", "]", "").Replace(p + "[left]")
	case "remove-rule":
		parentPath, idx, _ := editorCutLast(arg, ".")
		if !strings.Contains(arg, ".") {
			parentPath, idx = "", arg
		}
		g := groupAt(&f.Rules, parentPath)
		i, err := strconv.Atoi(idx)
		if g == nil || err != nil || i < 0 || i >= len(g.Items) {
			break
		}
		g.Items = slices.Delete(g.Items, i, i+1)
		f.Focus = "add-rule-" + strings.NewReplacer("[", "-", "]", "").Replace(rulePrefix(parentPath))
	case "add":
		if arg == "headers" {
			f.Headers = append(f.Headers, engine.ReplyHeader{})
			f.Focus = fmt.Sprintf("headers-%d-name", len(f.Headers)-1)
		}
	case "remove":
		part, idx, _ := editorCutLast(arg, ".")
		if i, err := strconv.Atoi(idx); err == nil && part == "headers" && i >= 0 && i < len(f.Headers) {
			f.Headers = slices.Delete(f.Headers, i, i+1)
			f.Focus = "add-headers"
		}
	}
	f.Unsaved = true
	return h.respondEditor(c, w, d, editorResult{panel: views.NodePanel(f), selected: n.Key})
}

// NodeSave is POST /workflows/:id/nodes/:key: saves the node's panel.
func (h *Handlers) NodeSave(c *fiber.Ctx) error {
	w, d, n, err := h.loadNode(c)
	if err != nil {
		return err
	}
	var p nodePost
	if err := parseEditorForm(c, &p); err != nil {
		return err
	}
	f := h.nodeFormFromPost(c, w, d, n, &p)
	f.Title = strings.TrimSpace(f.Title)
	f.Unsaved = true
	cfg := nodeConfig(&f)
	fail := func() error {
		return h.respondEditor(c, w, d, editorResult{status: fiber.StatusUnprocessableEntity, panel: views.NodePanel(f), selected: n.Key})
	}
	if len(f.Errors) > 0 {
		f.FormError = notSaved
		return fail()
	}
	field, _ := nodeField(d.Nodes, n.Key, "nodes")
	if err := engine.ReplaceNodeConfig(d, n.Key, f.Title, cfg); err != nil {
		if engine.ErrorCode(err) != engine.EINVALID {
			return err
		}
		f.FormError = placeError(err, "", nodeInputs(&f), f.Errors)
		return fail()
	}
	nw, nd, err := h.saveDoc(c, w.ID, d)
	if err != nil {
		if engine.ErrorCode(err) != engine.EINVALID {
			return err
		}
		f.FormError = placeError(err, field, nodeInputs(&f), f.Errors)
		return fail()
	}
	nn, _ := engine.FindNode(nd, n.Key)
	return h.respondEditor(c, nw, nd, editorResult{panel: views.NodePanel(h.nodeForm(c, nw, nd, nn)), selected: n.Key, canvas: true, saved: true,
		message: "Saved as revision " + strconv.Itoa(nw.Revision)})
}

// NodeDelete is POST /workflows/:id/nodes/:key/delete: removes the node
// and its branches.
func (h *Handlers) NodeDelete(c *fiber.Ctx) error {
	w, d, n, err := h.loadNode(c)
	if err != nil {
		return err
	}
	key, count := n.Key, engine.CountNodes(n)
	if err := engine.DeleteNode(d, key); err != nil {
		return err
	}
	nw, nd, err := h.saveDoc(c, w.ID, d)
	if err != nil {
		return err
	}
	msg := "Deleted " + key
	if count > 1 {
		msg += fmt.Sprintf(" and the %d %s in its branches", count-1, editorPlural(count-1, "step", "steps"))
	}
	msg += " · revision " + strconv.Itoa(nw.Revision)
	return h.respondEditor(c, nw, nd, editorResult{panel: views.TriggerPanel(h.triggerForm(c, nw, nd)), selected: views.TriggerKey, canvas: true, saved: true, message: msg})
}

// NodeMove is POST /workflows/:id/nodes/:key/move?dir=up|down.
func (h *Handlers) NodeMove(c *fiber.Ctx) error {
	w, d, n, err := h.loadNode(c)
	if err != nil {
		return err
	}
	key := n.Key
	delta := 0
	switch c.Query("dir") {
	case "up":
		delta = -1
	case "down":
		delta = 1
	default:
		return engine.Errorf(engine.EINVALID, "dir: must be up or down")
	}
	if err := engine.MoveNode(d, key, delta); err != nil {
		return err
	}
	nw, nd, err := h.saveDoc(c, w.ID, d)
	if err != nil {
		return err
	}
	nn, _ := engine.FindNode(nd, key)
	f := h.nodeForm(c, nw, nd, nn)
	f.Focus = "node-move-" + c.Query("dir")
	return h.respondEditor(c, nw, nd, editorResult{panel: views.NodePanel(f), selected: key, canvas: true, saved: true,
		message: "Moved " + key + " " + c.Query("dir") + " · revision " + strconv.Itoa(nw.Revision)})
}
