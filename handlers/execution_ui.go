package handlers

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
	"github.com/tidwall/gjson"
)

// executionPageSize is how many executions one page of the list shows.
const executionPageSize = 50

// ExecutionListPage is GET /workflows/:id/executions?status=&before=: the
// executions of a workflow, newest first. htmx requests (the page polling
// itself) get the table alone.
func (h *Handlers) ExecutionListPage(c *fiber.Ctx) error {
	w, err := h.workflowParam(c)
	if err != nil {
		return err
	}
	var before int64
	if v := c.Query("before"); v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before < 1 {
			return engine.Errorf(engine.EINVALID, "before: must be the next value of a previous page")
		}
	}
	rng, ok := views.ChartRangeByKey(c.Query("chart", views.DefaultChartRange))
	if !ok {
		return engine.Errorf(engine.EINVALID, "chart: must be 1h, 24h or 7d")
	}
	v, err := h.executionListView(c, w, engine.ExecStatus(c.Query("status")), before)
	if err != nil {
		return err
	}
	v.ChartKey = rng.Key
	if isHTMX(c) {
		return render(c, fiber.StatusOK, views.ExecutionTable(v))
	}
	return h.renderExecutionList(c, fiber.StatusOK, w, v)
}

// activityChart reads the counters of a workflow's chart: one indexed
// range of at most 168 rows, whatever the number of executions.
func (h *Handlers) activityChart(c *fiber.Ctx, id int64, r views.ChartRange, status engine.ExecStatus, now time.Time) (*views.ActivityChart, error) {
	from := r.From(now)
	buckets, err := h.Svc.Activity(c.UserContext(), id, r.Span, from, now.Add(r.Span))
	if err != nil {
		return nil, err
	}
	chart := views.NewActivityChart(id, r, buckets, now)
	chart.Status = status
	return &chart, nil
}

// executionListView loads one page of a workflow's executions.
func (h *Handlers) executionListView(c *fiber.Ctx, w *engine.Workflow, status engine.ExecStatus, before int64) (views.ExecutionListView, error) {
	f := engine.ExecutionFilter{WorkflowID: w.ID, Status: status, Before: before, Limit: executionPageSize + 1}
	list, err := h.Svc.ListExecutions(c.UserContext(), f)
	if err != nil {
		return views.ExecutionListView{}, err
	}
	v := views.ExecutionListView{WorkflowID: w.ID, WorkflowTitle: w.Doc.Title, Mode: w.Doc.Mode, URL: h.WebhookURL(c, w.Key),
		Status: f.Status, Before: f.Before, Rows: list, Now: time.Now(),
		Bulk: views.BulkView{CSRFToken: editorCSRF(c), CurrentRevision: w.Revision}}
	if len(list) > executionPageSize {
		v.Rows = list[:executionPageSize]
		v.Next = v.Rows[executionPageSize-1].ID
	}
	if before == 0 {
		if v.Rejections, err = h.rejectionSummary(c, w.ID, v.Now); err != nil {
			return views.ExecutionListView{}, err
		}
	}
	return v, nil
}

// renderExecutionList renders the executions page with its chart.
func (h *Handlers) renderExecutionList(c *fiber.Ctx, status int, w *engine.Workflow, v views.ExecutionListView) error {
	rng, ok := views.ChartRangeByKey(v.ChartKey)
	if !ok {
		rng, _ = views.ChartRangeByKey(views.DefaultChartRange)
	}
	var err error
	if v.Chart, err = h.activityChart(c, w.ID, rng, v.Status, v.Now); err != nil {
		return err
	}
	return render(c, status, views.ExecutionListPage(h.meta(c, "Executions of "+w.Doc.Title, "workflows"), v))
}

// ExecutionLatest is GET /workflows/:id/executions/latest: a stable link to
// the newest execution (the workflows list links it without looking it up).
func (h *Handlers) ExecutionLatest(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.Svc.GetWorkflow(c.UserContext(), id); err != nil {
		return err
	}
	list, err := h.Svc.ListExecutions(c.UserContext(), engine.ExecutionFilter{WorkflowID: id, Limit: 1})
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return redirect(c, "/workflows/"+itoa(id)+"/executions")
	}
	return redirect(c, "/executions/"+itoa(list[0].ID))
}

// ExecutionPage is GET /executions/:id: the request, the path taken through
// the revision that ran, each job and the reply.
func (h *Handlers) ExecutionPage(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	e, err := h.Svc.GetExecution(ctx, id)
	if err != nil {
		return err
	}
	w, err := h.Svc.GetWorkflow(ctx, e.WorkflowID)
	if err != nil {
		return err
	}
	v := views.ExecutionView{Exec: e, WorkflowTitle: w.Doc.Title, CurrentRevision: w.Revision, Now: time.Now(),
		Request: requestView(e), Path: map[string]engine.JobStatus{}, Taken: map[string]string{}}
	v.Request.SampleURL = editorURL(e.WorkflowID, "") + "?samples=" + itoa(e.ID)
	titles := map[string]string{}
	rev, err := h.Svc.GetRevision(ctx, e.WorkflowID, e.Revision)
	switch {
	case err == nil:
		if e.Mode == engine.ModeAsync {
			v.TriggerReply = asyncReply(e, rev)
		}
		v.Nodes = rev.Doc.Nodes
		if v.Nodes == nil {
			v.Nodes = []engine.Node{}
		}
		v.Cards = canvasCards(rev.Doc)
		nodeTitles(v.Nodes, titles)
	case engine.ErrorCode(err) != engine.ENOTFOUND:
		return err
	}
	v.Jobs, v.Path, v.Taken = jobViews(e, titles)
	if e.Response != nil {
		v.Reply = replyView(e.Response)
	}
	v.Act = actView(e, editorCSRF(c), w.Revision, titles)
	return render(c, fiber.StatusOK, views.ExecutionPage(h.meta(c, "Execution #"+itoa(e.ID), "workflows"), v))
}

func replyView(r *engine.Response) *views.ReplyView {
	rv := &views.ReplyView{Status: r.Status, Body: bodyView(r.Body, r.ContentType, nil)}
	for _, hv := range r.Headers {
		rv.Headers = append(rv.Headers, views.HeaderRow{Name: hv.Name, Value: hv.Value})
	}
	return rv
}

// asyncReply renders, for an async execution, the trigger's reply of the
// revision that stored it, with the execution's context: what the caller
// got (placeholders such as $system.now use the time the request came in).
// It is nil when the reply cannot be rebuilt.
func asyncReply(e *engine.Execution, rev *engine.Workflow) *views.ReplyView {
	cr, err := engine.CompileReply(rev.Doc.Trigger.Response, "trigger.response")
	if err != nil {
		return nil
	}
	sc := engine.NewScope(e.Context)
	sc.RawBody = e.Request.Body
	sc.ExecutionID, sc.WorkflowID, sc.WorkflowKey, sc.Revision, sc.Now = e.ID, e.WorkflowID, rev.Key, e.Revision, e.CreatedAt
	r, err := cr.Render(sc)
	if err != nil {
		return nil
	}
	return replyView(r)
}

func nodeTitles(nodes []engine.Node, out map[string]string) {
	for _, n := range nodes {
		out[n.Key] = n.Title
		for _, b := range n.Branches {
			nodeTitles(b, out)
		}
	}
}

// requestView prepares the stored request for display. Headers come from
// the trigger context (names lower-cased, repeated headers joined), as the
// flow saw them.
func requestView(e *engine.Execution) views.RequestView {
	ctx := gjson.ParseBytes(e.Context)
	r := views.RequestView{Method: e.Request.Method, Query: e.Request.Query}
	ct := ""
	ctx.Get("headers").ForEach(func(k, v gjson.Result) bool {
		val := v.String()
		if k.String() == "authorization" || k.String() == "proxy-authorization" {
			val = maskCredential(val)
		}
		r.Headers = append(r.Headers, views.HeaderRow{Name: k.String(), Value: val})
		if k.String() == "content-type" {
			ct = v.String()
		}
		return true
	})
	if ct == "" {
		ct = e.Request.ContentType()
	}
	if q := ctx.Get("query"); q.Exists() && q.Raw != "{}" {
		r.QueryParsed = prettyJSON([]byte(q.Raw))
	}
	parsed := ctx.Get("body")
	r.Body = bodyView(e.Request.Body, ct, &parsed)
	return r
}

// maskCredential hides a credential on the page, keeping its scheme
// ("Basic ••••••••"): pages get shared as screenshots; the API still has it.
func maskCredential(v string) string {
	if scheme, _, ok := strings.Cut(v, " "); ok {
		return scheme + " ••••••••"
	}
	return "••••••••"
}

// maxShownBody caps a body on the page; the API has it whole.
const maxShownBody = 256 << 10

// bodyView prepares a body for display: JSON indented (from the raw
// bytes, so big numbers stay exact), forms raw and parsed, bytes that are
// not UTF-8 as base64. parsed is $context.body for a request, nil for a
// reply.
func bodyView(body []byte, contentType string, parsed *gjson.Result) views.BodyView {
	b := views.BodyView{ContentType: contentType, Size: len(body)}
	isJSON := engine.IsJSONContentType(contentType)
	switch {
	case len(bytes.TrimSpace(body)) == 0:
		b.Kind = "empty"
		if parsed != nil {
			b.Note = "An empty body: $context.body is {}."
		}
		return b
	case engine.IsMultipartContentType(contentType) && parsed != nil:
		// File parts are often binary: their bytes show as U+FFFD, and
		// $context.body has their metadata.
		b.Kind, b.Text = "multipart", strings.ToValidUTF8(string(body), "\uFFFD")
		b.Parsed = prettyJSON([]byte(parsed.Raw))
	case !utf8.Valid(body):
		b.Kind, b.Text = "base64", base64.StdEncoding.EncodeToString(body)
		switch {
		case parsed != nil && parsed.Raw != "{}":
			// An XML body in Latin-1, decoded by its declaration.
			b.Note = "The body is not UTF-8 text, so it is shown as base64."
			b.Parsed = prettyJSON([]byte(parsed.Raw))
		case parsed != nil:
			b.Note = "The body is not UTF-8 text, so it is shown as base64 and $context.body is {}."
		}
	case engine.IsFormContentType(contentType) && parsed != nil:
		b.Kind, b.Text = "form", string(body)
		b.Parsed = prettyJSON([]byte(parsed.Raw))
	case engine.IsXMLContentType(contentType) && parsed != nil:
		b.Kind, b.Text = "xml", string(body)
		b.Parsed = prettyJSON([]byte(parsed.Raw))
	case json.Valid(body):
		b.Kind, b.Text = "json", prettyJSON(body)
		if parsed != nil && !isJSON {
			b.Note = "This looks like JSON, but the Content-Type is not JSON, so it was not parsed: $context.body is {}. Send Content-Type: application/json to use its fields."
		}
	default:
		b.Kind, b.Text = "text", string(body)
		if parsed != nil {
			if isJSON {
				b.Note = "The Content-Type is JSON but the body is not valid JSON."
			} else {
				b.Note = "Only JSON, form, XML and multipart bodies are parsed: $context.body is {}. The text is in $context.rawBody."
			}
		}
	}
	if len(b.Text) > maxShownBody {
		cut := maxShownBody
		for cut > 0 && !utf8.RuneStart(b.Text[cut]) {
			cut--
		}
		b.Text, b.Truncated = b.Text[:cut], true
	}
	return b
}

// prettyJSON indents JSON without decoding it (no float64 round trip);
// anything else comes back as it is.
func prettyJSON(raw []byte) string {
	if len(raw) == 0 {
		return "null"
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}
