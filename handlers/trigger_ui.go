package handlers

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
	"github.com/tidwall/gjson"
)

// The trigger panel of the editor: the workflow's title, Basic Auth, the
// declared request fields (typed in or parsed from a sample), and the async
// reply or the sync timeout.

// fieldPost is a declared field row as posted.
type fieldPost struct {
	Path  string `json:"path"`
	Alias string `json:"alias"`
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
	Headers []fieldPost `json:"headers"`
	Query   []fieldPost `json:"query"`
	Body    []fieldPost `json:"body"`
	// HeadersSample is nil when the form has no headers sample box (a page
	// from before it existed), which keeps the stored samples.
	HeadersSample *string `json:"headersSample"`
	QuerySample   string  `json:"querySample"`
	BodySample    string  `json:"bodySample"`
	// Verify is nil when the form has no trust sections (a page from
	// before them), which keeps verify, allowIPs and dedupe as stored.
	Verify   *verifyPost `json:"verify"`
	AllowIPs []string    `json:"allowIPs"`
	Dedupe   dedupePost  `json:"dedupe"`
	Response struct {
		Status   string       `json:"status"`
		Headers  []headerPost `json:"headers"`
		Body     string       `json:"body"`
		BodyType string       `json:"bodyType"`
	} `json:"response"`
	TimeoutSeconds string `json:"timeoutSeconds"`
	Action         string `json:"action"`
	// Listen is the listen the panel shows, so that a panel redrawn (a
	// row added, a save) keeps showing it.
	Listen string `json:"listen"`
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

func fieldsFromPost(rows []fieldPost) []engine.Field {
	out := make([]engine.Field, 0, len(rows))
	for _, r := range rows {
		out = append(out, engine.Field{Path: r.Path, Alias: r.Alias})
	}
	return out
}

// triggerForm is the trigger panel of the saved document.
func (h *Handlers) triggerForm(c *fiber.Ctx, w *engine.Workflow, d *engine.Document) views.TriggerForm {
	f := h.triggerFormBase(c, w, d)
	t := &d.Trigger
	f.BasicAuth = t.BasicAuth
	f.Headers, f.Query, f.Body = t.Headers, t.Query, t.Body
	samplesForm(&f, t.Samples)
	trustForm(&f, t)
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
		Vars:   pickerVars(d, "", false),
		Listen: views.ListenView{WorkflowID: w.ID, State: "idle"},
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
	if p.HeadersSample != nil {
		f.HeadersSample = *p.HeadersSample
	} else if sm := d.Trigger.Samples; sm != nil {
		f.HeadersSample = headerLines(sm.Headers)
	}
	if p.Verify != nil {
		f.Verify = verifyFormFromPost(p.Verify)
		f.AllowIPs = p.AllowIPs
		f.DedupeKey, f.DedupeWindow = p.Dedupe.Key, p.Dedupe.WindowSeconds
	} else {
		trustForm(&f, &d.Trigger)
	}
	if p.Listen != "" {
		if cp, err := h.captureHub().Get(w.ID, p.Listen); err == nil {
			f.Listen = h.listenView(w.ID, cp, 0, secretHeaders(d))
		}
	}
	f.ReplyStatus = p.Response.Status
	f.ReplyHeaders = headersFromPost(p.Response.Headers)
	f.ReplyBody, f.ReplyBodyJSON = p.Response.Body, p.Response.BodyType != "text"
	f.Timeout = p.TimeoutSeconds
	return f
}

// postedTriggerForm parses the posted trigger panel: the form as posted
// and the post itself (its action).
func (h *Handlers) postedTriggerForm(c *fiber.Ctx, w *engine.Workflow, d *engine.Document) (views.TriggerForm, *triggerPost, error) {
	var p triggerPost
	if err := parseEditorForm(c, &p); err != nil {
		return views.TriggerForm{}, nil, err
	}
	return h.triggerFormFromPost(c, w, d, &p), &p, nil
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
	trustInputs(f, in)
	return in
}

// cleanFields removes rows whose path and alias are both empty and trims
// the others.
func cleanFields(rows []engine.Field) []engine.Field {
	rows = slices.DeleteFunc(rows, func(f engine.Field) bool {
		return strings.TrimSpace(f.Path) == "" && strings.TrimSpace(f.Alias) == ""
	})
	for i := range rows {
		rows[i].Path = strings.TrimSpace(rows[i].Path)
		rows[i].Alias = strings.TrimSpace(rows[i].Alias)
	}
	return rows
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
	f, _, err := h.postedTriggerForm(c, w, d)
	if err != nil {
		return err
	}
	f.Headers, f.Query, f.Body = cleanFields(f.Headers), cleanFields(f.Query), cleanFields(f.Body)
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
	t.Samples = samplesFromForm(&f)
	f.AllowIPs = slices.DeleteFunc(f.AllowIPs, func(s string) bool { return strings.TrimSpace(s) == "" })
	for i := range f.AllowIPs {
		f.AllowIPs[i] = strings.TrimSpace(f.AllowIPs[i])
	}
	applyTrust(&f, t, d.Mode)
	if len(f.Verify.Secrets) == 0 && f.Verify.Type != "" {
		f.Verify.Secrets = []views.SecretRow{{}}
	}
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
		checkReplyHeaders("response[headers]", f.ReplyHeaders, f.Errors)
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
	// Every problem at once: those of the form's own values above, and
	// the engine's for each field of the trigger.
	f.FormError = placeErrors(d.Problems(), "", triggerInputs(&f), f.Errors)
	placeVerifyErrors(f.Errors, len(f.Verify.Secrets))
	if f.FormError != "" {
		return fail()
	}
	nw, nd, err := h.saveDoc(c, w, d)
	if err != nil {
		if engine.ErrorCode(err) != engine.EINVALID {
			return err
		}
		f.FormError = placeError(err, "", triggerInputs(&f), f.Errors)
		placeVerifyErrors(f.Errors, len(f.Verify.Secrets))
		return fail()
	}
	nf := h.triggerForm(c, nw, nd)
	nf.Listen = f.Listen
	return h.respondEditor(c, nw, nd, editorResult{panel: views.TriggerPanel(nf), selected: views.TriggerKey, saved: true,
		message: "Saved as revision " + strconv.Itoa(nw.Revision), testInput: true})
}

// TriggerPanelRefresh is POST /workflows/:id/trigger/panel: re-renders the
// trigger form from the posted state after an action (add or remove a
// row, parse a sample without JavaScript); nothing is saved.
func (h *Handlers) TriggerPanelRefresh(c *fiber.Ctx) error {
	w, d, err := h.loadEditor(c)
	if err != nil {
		return err
	}
	f, p, err := h.postedTriggerForm(c, w, d)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	message := ""
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
		case "allowIPs":
			f.AllowIPs = append(f.AllowIPs, "")
			f.Focus = fmt.Sprintf("allow-ip-%d", len(f.AllowIPs)-1)
		case "verify.secrets":
			f.Verify.Secrets = append(f.Verify.Secrets, views.SecretRow{})
			f.Focus = fmt.Sprintf("verify-secret-%d", len(f.Verify.Secrets)-1)
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
		case "allowIPs":
			if i >= 0 && i < len(f.AllowIPs) {
				f.AllowIPs = slices.Delete(f.AllowIPs, i, i+1)
			}
			f.Focus = "add-allowIPs"
		case "verify.secrets":
			if i >= 0 && i < len(f.Verify.Secrets) && len(f.Verify.Secrets) > 1 {
				f.Verify.Secrets = slices.Delete(f.Verify.Secrets, i, i+1)
			}
			f.Focus = "add-verify-secret"
		}
	case "parse":
		if !parsePart(&f, arg) {
			status = fiber.StatusUnprocessableEntity
		}
	case "dedupe-suggest":
		suggestDedupe(&f)
	case "samples":
		// "Use as samples": a captured request ("capture:ID").
		src, id, _ := strings.Cut(arg, ":")
		if src != "capture" {
			return engine.Errorf(engine.EINVALID, "action: unknown sample source %q", src)
		}
		cp, err := h.captureHub().Get(w.ID, id)
		if err != nil {
			return err
		}
		if cp.Request == nil {
			return engine.Errorf(engine.ECONFLICT, "no request was captured yet: wait for one, or listen again")
		}
		message = useSamples(&f, cp.Request, secretHeaders(d), "the captured request")
	}
	f.Unsaved = true
	// A refresh without an action (the verify type's fields following the
	// type) leaves the flash region alone.
	return h.respondEditor(c, w, d, editorResult{status: status, panel: views.TriggerPanel(f), selected: views.TriggerKey,
		message: message, opened: p.Action == "" || p.Action == "verify-type"})
}

// parsePart parses the sample of one part ("headers", "query", "body").
func parsePart(f *views.TriggerForm, part string) bool {
	if part == "headers" {
		return parseHeadersSample(f)
	}
	return parseSample(f, part)
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
	if part != "headers" && part != "query" && part != "body" {
		return engine.Errorf(engine.EINVALID, "part: must be headers, query or body")
	}
	f, _, err := h.postedTriggerForm(c, w, d)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if !parsePart(&f, part) {
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
			f.Errors[errKey] = "Paste a body first: JSON, XML or a form."
			return false
		}
		if kind := jsonScalarKind(f.BodySample); kind != "" {
			f.Errors[errKey] = "This sample is a single JSON value (" + kind + "), not an object or an array: it has no fields to list. " +
				`Paste the whole body, such as {"order": {"id": 1}}.`
			return false
		}
		// A form-encoded body (Slack, Twilio) parses like a query string.
		_, paths, truncated, err = engine.ListSamplePaths(f.BodySample)
		if err == nil && len(paths) == 0 {
			f.Errors[errKey] = `The sample has no fields: paste a body with the fields your steps use, such as {"order": {"id": 1}}.`
			return false
		}
	default:
		return false
	}
	if err != nil {
		f.Errors[errKey] = engine.ErrorMessage(err)
		return false
	}
	rows, added := mergeFields(f.Fields(part), paths, canonPath)
	f.SetFields(part, rows)
	msg := fmt.Sprintf("Found %d %s; added %d new %s.", len(paths), editorPlural(len(paths), "path", "paths"), added, editorPlural(added, "row", "rows"))
	if truncated {
		msg += fmt.Sprintf(" The sample is large: the listing stopped at %d paths.", engine.MaxListedPaths)
	}
	msg += " Save the settings to keep them and the sample."
	f.Parsed[part] = msg
	return true
}

// jsonScalarKind names the kind of value of a sample that is one JSON
// scalar ("a number", "a string", "true or false", "null"), "" otherwise.
func jsonScalarKind(sample string) string {
	t := strings.TrimSpace(sample)
	if !json.Valid([]byte(t)) {
		return ""
	}
	switch v := gjson.Parse(t); v.Type {
	case gjson.Number:
		return "a number"
	case gjson.String:
		return "a string"
	case gjson.True, gjson.False:
		return "true or false"
	case gjson.Null:
		return "null"
	}
	return ""
}

// mergeFields adds the paths not yet among rows, in sample order, after
// the existing rows (whose aliases stay); rows left empty go. Paths are
// compared by their key (canonPath, headerKey).
func mergeFields(rows []engine.Field, paths []string, key func(string) string) ([]engine.Field, int) {
	seen := make(map[string]bool, len(rows)+len(paths))
	out := make([]engine.Field, 0, len(rows)+len(paths))
	for _, r := range rows {
		if strings.TrimSpace(r.Path) == "" && strings.TrimSpace(r.Alias) == "" {
			continue // an empty row the admin added and left
		}
		seen[key(r.Path)] = true
		out = append(out, r)
	}
	added := 0
	for _, p := range paths {
		if k := key(p); !seen[k] {
			seen[k] = true
			out = append(out, engine.Field{Path: p})
			added++
		}
	}
	return out, added
}

// canonPath is a field path's key: its canonical form when it parses.
func canonPath(s string) string {
	if p, err := engine.ParsePath(strings.TrimSpace(s)); err == nil {
		return p.String()
	}
	return strings.TrimSpace(s)
}
