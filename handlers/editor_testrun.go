package handlers

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
	"github.com/tidwall/gjson"
)

// Test runs in the editor (issue 16): the Test bar runs the current
// revision (engine.Service.Test, §17) on the trigger's samples, a captured
// request or a recent execution's request; the reply draws the path on the
// canvas and shows the steps, the calls and the reply in the execution
// page's components, and says the outcome in the status region.
//
// A test runs the revision as saved. Running the side panel's unsaved
// changes would mean building a document from a half-edited form outside
// the save path, with its own validation: instead the bar says "save to
// test your changes" whenever the panel holds unsaved changes.

// testRecentExecutions is how many recent executions the bar offers.
const testRecentExecutions = 10

// testInputView lists what a test may run on; selected is kept when it is
// still offered.
func (h *Handlers) testInputView(c *fiber.Ctx, w *engine.Workflow, d *engine.Document, selected string) views.TestInputView {
	v := views.TestInputView{Samples: samplesSummary(d.Trigger.Samples)}
	for _, cp := range h.captureHub().Captured(w.ID) {
		v.Captures = append(v.Captures, views.TestInputOption{Value: "capture:" + cp.ID, Label: captureLabel(cp)})
	}
	list, err := h.Svc.ListExecutions(c.UserContext(), engine.ExecutionFilter{WorkflowID: w.ID, Limit: testRecentExecutions})
	if err != nil {
		// The bar still offers the samples and captures.
		h.Log.Warn("test bar: list executions", "workflow_id", w.ID, "error", err, "request_id", requestID(c))
	}
	now := time.Now()
	for _, e := range list {
		v.Executions = append(v.Executions, views.TestInputOption{Value: "execution:" + itoa(e.ID),
			Label: "Execution #" + views.ShortID(e.ID) + " · " + string(e.Status) + " · " + views.SinceText(now, e.CreatedAt)})
	}
	offered := func(val string) bool {
		if val == "samples" {
			return true
		}
		for _, o := range append(v.Captures, v.Executions...) {
			if o.Value == val {
				return true
			}
		}
		return false
	}
	switch {
	case selected != "" && offered(selected):
		v.Selected = selected
	case v.Samples != "":
		v.Selected = "samples"
	case len(v.Captures) > 0:
		v.Selected = v.Captures[0].Value
	case len(v.Executions) > 0:
		v.Selected = v.Executions[0].Value
	default:
		v.Selected = "samples"
	}
	return v
}

func captureLabel(cp engine.Capture) string {
	return "Captured at " + cp.CapturedAt.UTC().Format("15:04:05 UTC") + " · " + cp.Request.Method
}

// samplesSummary describes the trigger's samples in a few words ("" when
// there are none): "2 headers, a query, a 1.2 KiB body".
func samplesSummary(s *engine.Samples) string {
	if s == nil || (len(s.Headers) == 0 && s.Query == "" && s.Body == "") {
		return ""
	}
	var parts []string
	if n := len(s.Headers); n > 0 {
		parts = append(parts, strconv.Itoa(n)+" "+editorPlural(n, "header", "headers"))
	}
	if s.Query != "" {
		parts = append(parts, "a query")
	}
	if s.Body != "" {
		parts = append(parts, "a "+sizeWords(len(s.Body))+" body")
	}
	return strings.Join(parts, ", ")
}

func sizeWords(n int) string {
	if n < 1024 {
		return strconv.Itoa(n) + "-byte"
	}
	return strconv.FormatFloat(float64(n)/1024, 'f', 1, 64) + " KiB"
}

// testInput is the engine's input for the bar's choice, and its words.
func (h *Handlers) testInput(w *engine.Workflow, choice string) (engine.TestInput, string, error) {
	kind, id, _ := strings.Cut(choice, ":")
	switch kind {
	case "", "samples":
		return engine.TestInput{}, "the trigger's samples", nil
	case "execution":
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n < 1 {
			return engine.TestInput{}, "", engine.Errorf(engine.EINVALID, "input: not an execution")
		}
		return engine.TestInput{ExecutionID: n}, "the request of execution #" + views.ShortID(n), nil
	case "capture":
		cp, err := h.captureHub().Get(w.ID, id)
		if err != nil {
			return engine.TestInput{}, "", err
		}
		if cp.Request == nil {
			return engine.TestInput{}, "", engine.Errorf(engine.ECONFLICT, "no request was captured yet")
		}
		r := cp.Request
		tr := &engine.TestRequest{Method: r.Method, Query: r.Query, Body: string(r.Body), Headers: map[string]string{}}
		for _, hv := range r.Headers {
			k := strings.ToLower(hv.Name)
			if old, dup := tr.Headers[k]; dup {
				tr.Headers[k] = old + ", " + hv.Value
				continue
			}
			tr.Headers[k] = hv.Value
		}
		return engine.TestInput{Request: tr}, "the request captured at " + cp.CapturedAt.UTC().Format("15:04:05 UTC"), nil
	}
	return engine.TestInput{}, "", engine.Errorf(engine.EINVALID, "input: choose the samples, a captured request or an execution")
}

// WorkflowTest is POST /workflows/:id/test (input, unsaved): a test run of
// the current revision. htmx gets the result, the canvas with the path
// and the status line; other browsers the editor page with both.
func (h *Handlers) WorkflowTest(c *fiber.Ctx) error {
	w, d, err := h.loadEditor(c)
	if err != nil {
		return err
	}
	choice := c.FormValue("input")
	v := views.TestResultView{WorkflowID: w.ID, Unsaved: c.FormValue("unsaved") == "1"}
	in, label, err := h.testInput(w, choice)
	var res *engine.TestResult
	if err == nil {
		res, err = h.Svc.Test(c.UserContext(), w.ID, in)
	}
	if err != nil {
		switch engine.ErrorCode(err) {
		case engine.EINVALID, engine.ENOTFOUND, engine.ECONFLICT:
		default:
			return err
		}
		v.Error = engine.ErrorMessage(err)
		return h.respondTest(c, w, d, choice, v, nil, "The test could not run: "+v.Error, fiber.StatusUnprocessableEntity)
	}
	e := res.Execution
	if e.Revision != w.Revision {
		// Saved in between: draw the revision that ran.
		if rev, err := h.Svc.GetRevision(c.UserContext(), w.ID, e.Revision); err == nil {
			d = rev.Doc
		}
	}
	v.Input = label
	titles := map[string]string{}
	nodeTitles(d.Nodes, titles)
	ev := views.ExecutionView{Exec: e, WorkflowTitle: d.Title, CurrentRevision: w.Revision, Now: time.Now(), Nodes: d.Nodes, Cards: canvasCards(d)}
	ev.Jobs, ev.Path, ev.Taken = jobViews(e, titles)
	if r := res.Response; r != nil {
		if d.Mode == engine.ModeSync {
			ev.Reply = replyView(r)
		} else {
			ev.TriggerReply = replyView(r)
		}
	}
	ev.Act = actView(e, editorCSRF(c), w.Revision, titles)
	markTestCalls(&ev, e)
	v.Exec = ev
	v.PathText = testPathText(ev, res.Response)
	canvas := h.canvasView(c, w, d, selectedInPage(c))
	canvas.Path, canvas.Taken, canvas.Notes = ev.Path, ev.Taken, testNotes(e)
	say := "Test run " + string(e.Status) + ". " + v.PathText
	return h.respondTest(c, w, d, choice, v, &canvas, say, fiber.StatusOK)
}

// respondTest answers a test run: htmx gets the result fragment, other
// browsers the editor page (trigger panel) with the result in it.
func (h *Handlers) respondTest(c *fiber.Ctx, w *engine.Workflow, d *engine.Document, choice string, v views.TestResultView, canvas *views.CanvasView, say string, status int) error {
	if isHTMX(c) {
		return render(c, status, views.TestUpdate(v, canvas, say))
	}
	page, err := h.editorView(c, w, d, views.TriggerKey, views.TriggerPanel(h.triggerForm(c, w, d)))
	if err != nil {
		return err
	}
	page.Test.Input = h.testInputView(c, w, d, choice)
	if canvas != nil {
		page.Canvas = *canvas
		page.Canvas.Selected = views.TriggerKey
	}
	page.TestResult = &v
	return render(c, status, views.WorkflowEditPage(page))
}

// WorkflowTestClear is POST /workflows/:id/test/clear: the result goes, and
// the canvas shows the flow without the path.
func (h *Handlers) WorkflowTestClear(c *fiber.Ctx) error {
	w, d, err := h.loadEditor(c)
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		return redirect(c, editorURL(w.ID, ""))
	}
	canvas := h.canvasView(c, w, d, selectedInPage(c))
	return render(c, fiber.StatusOK, views.TestUpdate(views.TestResultView{WorkflowID: w.ID}, &canvas, "Test result cleared."))
}

// selectedInPage is the node whose panel the browser shows (from htmx's
// HX-Current-URL), so that a redrawn canvas keeps it selected.
func selectedInPage(c *fiber.Ctx) string {
	u, err := url.Parse(c.Get("HX-Current-URL"))
	if err != nil {
		return views.TriggerKey
	}
	if key := u.Query().Get("node"); key != "" {
		return key
	}
	return views.TriggerKey
}

// jobViews are an execution's jobs as the execution page lists them, and
// the path they took: each node's status and each branch entered.
func jobViews(e *engine.Execution, titles map[string]string) ([]views.JobView, map[string]engine.JobStatus, map[string]string) {
	var jobs []views.JobView
	path, taken := map[string]engine.JobStatus{}, map[string]string{}
	for _, j := range e.Jobs {
		path[j.NodeKey] = j.Status
		if j.Branch != "" {
			taken[j.NodeKey] = j.Branch
		}
		jobs = append(jobs, views.JobView{Key: j.NodeKey, Type: j.NodeType, Title: titles[j.NodeKey], Status: j.Status,
			Branch: j.Branch, Result: prettyJSON(j.Result), Error: j.Error, Duration: j.Duration})
	}
	return jobs, path, taken
}

// markTestCalls marks the calls a test did not send: a request that was
// only shown, or a pinned reply.
func markTestCalls(v *views.ExecutionView, e *engine.Execution) {
	marks := map[string]string{}
	for _, j := range e.Jobs {
		marks[j.NodeKey] = gjson.GetBytes(j.Result, "test").Str
	}
	for i := range v.Act.Calls {
		switch marks[v.Act.Calls[i].Key] {
		case "not sent":
			v.Act.Calls[i].NotSent = true
		case "pinned":
			v.Act.Calls[i].Pinned = true
		}
	}
}

// testNotes is what each card of the canvas says of its job in a test:
// its error, or what the test did instead of acting ("not sent", "pinned
// 200", "would wait 1 h").
func testNotes(e *engine.Execution) map[string]string {
	notes := map[string]string{}
	for _, j := range e.Jobs {
		res := gjson.ParseBytes(j.Result)
		switch {
		case j.Error != "":
			notes[j.NodeKey] = capWords(j.Error, 90)
		case res.Get("test").Str == "not sent":
			notes[j.NodeKey] = "not sent (test)"
		case res.Get("test").Str == "pinned":
			notes[j.NodeKey] = "pinned reply " + res.Get("status").Raw
		case res.Get("test").Str == "did not wait":
			until, err := time.Parse(time.RFC3339Nano, res.Get("until").Str)
			switch {
			case err != nil:
				notes[j.NodeKey] = "did not wait (test)"
			case until.Sub(j.StartedAt) < time.Second:
				notes[j.NodeKey] = "would not wait"
			default:
				notes[j.NodeKey] = "would wait " + shortDuration(until.Sub(j.StartedAt).Round(time.Second))
			}
		case len(j.Attempts) > 0:
			notes[j.NodeKey] = "sent: " + res.Get("status").Raw
		}
	}
	return notes
}

// capWords cuts a text to n characters at most, with an ellipsis.
func capWords(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// testPathText is the path and the reply in words: "Ran: Paid? (yes) →
// ok; reply 200."
func testPathText(v views.ExecutionView, reply *engine.Response) string {
	var steps []string
	for _, j := range v.Jobs {
		name := j.Title
		if name == "" {
			name = j.Key
		}
		if j.Branch != "" {
			name += " (" + j.Branch + ")"
		}
		steps = append(steps, name)
	}
	s := "Ran: "
	if len(steps) == 0 {
		s += "no step"
	} else {
		s += strings.Join(steps, " → ")
	}
	if reply != nil {
		s += "; reply " + strconv.Itoa(reply.Status)
	}
	return s + "."
}
