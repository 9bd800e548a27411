package handlers

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
)

// The execution pages' part of acting workflows (issue 10): what the page
// shows of waits and calls, and the replay, retry and cancel actions of
// §14 as browser forms, on one execution and on a selection of the list.
// Each action is a plain POST form with the CSRF token that answers with
// a flash and a redirect (303): the page to look at next.

// maxBulkSelection bounds the ids one bulk action takes: a page shows 50.
const maxBulkSelection = 500

// actView prepares what the execution page shows of acting: the wait, the
// step a retry goes on from, and each request step's calls.
func actView(e *engine.Execution, csrf string, current int, titles map[string]string) views.ActView {
	a := views.ActView{CSRFToken: csrf, CurrentRevision: current}
	name := func(key string) string {
		if t := titles[key]; t != "" {
			return t
		}
		return key
	}
	for i, j := range e.Jobs {
		if j.Status == engine.JobWaiting && e.Status == engine.StatusWaiting {
			due := j.DueAt
			if due.IsZero() {
				due = e.DueAt
			}
			a.Wait = &views.WaitView{Step: name(j.NodeKey), Due: due, Retry: len(j.Attempts) > 0, Why: j.Error}
		}
		if i == len(e.Jobs)-1 && e.Status.Retryable() &&
			(j.Status == engine.JobFailed || j.Status == engine.JobError || j.Status == engine.JobAborted) {
			a.RetryFrom = name(j.NodeKey)
		}
		if j.Request == nil && len(j.Attempts) == 0 {
			continue
		}
		cv := views.CallView{Key: j.NodeKey, Title: titles[j.NodeKey], Status: j.Status, Error: j.Error}
		if j.Status == engine.JobWaiting {
			cv.Error = "" // the wait above says it
		}
		if r := j.Request; r != nil {
			cv.Sent = &views.SentView{Method: r.Method, URL: r.URL, Headers: headerRows(r.Headers), Body: capturedBody(r.Body, r.BodyTruncated), Truncated: r.BodyTruncated}
		}
		for k, at := range j.Attempts {
			av := views.AttemptView{Number: at.Number, StartedAt: at.StartedAt, Duration: at.Duration, Status: at.Status,
				Error: at.Error, RetryAt: at.RetryAt, NewRound: k > 0 && at.Number <= 1}
			if rr := at.Reply; rr != nil {
				av.Reply = &views.ReceivedView{Headers: headerRows(rr.Headers), Body: capturedBody(rr.Body, rr.BodyTruncated), Truncated: rr.BodyTruncated}
			}
			cv.Attempts = append(cv.Attempts, av)
		}
		a.Calls = append(a.Calls, cv)
	}
	return a
}

func headerRows(hs []engine.HeaderValue) []views.HeaderRow {
	out := make([]views.HeaderRow, 0, len(hs))
	for _, h := range hs {
		out = append(out, views.HeaderRow{Name: h.Name, Value: h.Value})
	}
	return out
}

// capturedBody shows a recorded body: indented when it is complete JSON.
func capturedBody(body string, truncated bool) string {
	if !truncated && json.Valid([]byte(body)) {
		return prettyJSON([]byte(body))
	}
	return body
}

// actionFailed answers an action the execution's status refused
// (ECONFLICT) with the reason as a flash on the execution's page; other
// errors go to the error handler.
func (h *Handlers) actionFailed(c *fiber.Ctx, id int64, err error) error {
	if engine.ErrorCode(err) != engine.ECONFLICT {
		return err
	}
	h.flash(c, "error", upperFirst(engine.ErrorMessage(err))+".")
	return redirect(c, "/executions/"+itoa(id))
}

// ExecutionReplay is POST /executions/:id/replay: a new execution of the
// workflow's current revision on the stored request; the browser goes to
// it.
func (h *Handlers) ExecutionReplay(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	e, err := h.Svc.ReplayExecution(c.UserContext(), id)
	if err != nil {
		return h.actionFailed(c, id, err)
	}
	h.Log.Info("execution replayed", "execution_id", id, "replay_id", e.ID, "request_id", requestID(c))
	h.flash(c, "success", "Replayed execution #"+views.ShortID(id)+" as this one, with revision "+strconv.Itoa(e.Revision)+".")
	return redirect(c, "/executions/"+itoa(e.ID))
}

// ExecutionRetry is POST /executions/:id/retry: a failed, error or
// aborted execution goes on from the step that stopped it.
func (h *Handlers) ExecutionRetry(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.Svc.RetryExecution(c.UserContext(), id); err != nil {
		return h.actionFailed(c, id, err)
	}
	h.Log.Info("execution retried", "execution_id", id, "request_id", requestID(c))
	h.flash(c, "success", "Retrying: the execution is queued again and goes on from the step that stopped it.")
	return redirect(c, "/executions/"+itoa(id))
}

// ExecutionCancel is POST /executions/:id/cancel: a queued, running or
// waiting execution becomes aborted.
func (h *Handlers) ExecutionCancel(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.Svc.CancelExecution(c.UserContext(), id); err != nil {
		return h.actionFailed(c, id, err)
	}
	h.flash(c, "success", "Cancelled: the execution is aborted. Retry takes it up again from where it stopped.")
	return redirect(c, "/executions/"+itoa(id))
}

// executionListURL is the list page of a workflow with a status filter
// and a page cursor, as the bulk forms post them back.
func executionListURL(id int64, status string, before string) string {
	q := url.Values{}
	if status != "" {
		q.Set("status", status)
	}
	if n, err := strconv.ParseInt(before, 10, 64); err == nil && n > 0 {
		q.Set("before", before)
	}
	u := "/workflows/" + itoa(id) + "/executions"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// bulkAction is one of the list's actions on a selection.
type bulkAction struct {
	// done is the past tense for the flash; after says what became of
	// them (the replays' revision follows).
	done, after string
	// allowed reports whether an execution in a status may take it, and
	// rule says which may.
	allowed func(engine.ExecStatus) bool
	rule    string
	run     func(h *Handlers, c *fiber.Ctx, id int64) error
}

var bulkActions = map[string]bulkAction{
	"replay": {done: "Replayed", after: " as new ones with revision ",
		allowed: func(engine.ExecStatus) bool { return true },
		run: func(h *Handlers, c *fiber.Ctx, id int64) error {
			_, err := h.Svc.ReplayExecution(c.UserContext(), id)
			return err
		}},
	"retry": {done: "Retried", after: ": they go on from the step that stopped them",
		allowed: engine.ExecStatus.Retryable, rule: "only failed, error or aborted executions can be retried",
		run: func(h *Handlers, c *fiber.Ctx, id int64) error {
			_, err := h.Svc.RetryExecution(c.UserContext(), id)
			return err
		}},
	"cancel": {done: "Cancelled", after: ": they are aborted",
		allowed: func(s engine.ExecStatus) bool { return !s.Final() }, rule: "only queued, running or waiting executions can be cancelled",
		run: func(h *Handlers, c *fiber.Ctx, id int64) error {
			_, err := h.Svc.CancelExecution(c.UserContext(), id)
			return err
		}},
}

// ExecutionBulk is POST /workflows/:id/executions/actions (action, ids):
// replays, retries or cancels the selected executions of the workflow.
// Executions whose status does not allow the action are skipped and
// counted by status; the flash says what was done, and the browser goes
// back to the page of the list it came from.
func (h *Handlers) ExecutionBulk(c *fiber.Ctx) error {
	w, err := h.workflowParam(c)
	if err != nil {
		return err
	}
	name := postValue(c, "action")
	act, ok := bulkActions[name]
	if !ok {
		return engine.Errorf(engine.EINVALID, "action: must be replay, retry or cancel")
	}
	back := executionListURL(w.ID, postValue(c, "status"), postValue(c, "before"))
	raw := c.Request().PostArgs().PeekMulti("ids")
	if len(raw) == 0 {
		h.flash(c, "error", "Nothing selected: tick the executions to "+name+" first.")
		return redirect(c, back)
	}
	if len(raw) > maxBulkSelection {
		return engine.Errorf(engine.EINVALID, "ids: at most %d executions at once", maxBulkSelection)
	}
	ids := make([]int64, 0, len(raw))
	for _, b := range raw {
		id, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil || id < 1 {
			return engine.Errorf(engine.EINVALID, "ids: %q is not an execution id", string(b))
		}
		ids = append(ids, id)
	}
	ctx := c.UserContext()
	done, missing := 0, 0
	skipped := map[engine.ExecStatus]int{}
	for _, id := range ids {
		e, err := h.Svc.GetExecution(ctx, id)
		switch {
		case engine.ErrorCode(err) == engine.ENOTFOUND || (err == nil && e.WorkflowID != w.ID):
			missing++
			continue
		case err != nil:
			return err
		case !act.allowed(e.Status):
			skipped[e.Status]++
			continue
		}
		if err := act.run(h, c, id); err != nil {
			if engine.ErrorCode(err) == engine.ECONFLICT {
				// Its status changed since it was read.
				if cur, gerr := h.Svc.GetExecution(ctx, id); gerr == nil {
					skipped[cur.Status]++
					continue
				}
			}
			return err
		}
		done++
	}
	h.Log.Info("executions changed in bulk", "workflow_id", w.ID, "action", name, "count", done, "request_id", requestID(c))
	kind, msg := "success", act.done+" "+countText(done, "execution", "executions")
	if done > 0 {
		msg += act.after
		if name == "replay" {
			msg += strconv.Itoa(w.Revision)
		}
	}
	msg += "."
	if n := sumCounts(skipped); n > 0 {
		msg += " Skipped " + strconv.Itoa(n) + ": " + act.rule + " (" + statusCounts(skipped) + ")."
	}
	if missing > 0 {
		msg += " " + countText(missing, "execution no longer exists", "executions no longer exist") + " in this workflow."
	}
	if done == 0 {
		kind = "error"
	}
	h.flash(c, kind, msg)
	return redirect(c, back)
}

func countText(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func sumCounts(m map[engine.ExecStatus]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// statusCounts writes "2 resolved, 1 running", in lifecycle order.
func statusCounts(m map[engine.ExecStatus]int) string {
	var parts []string
	for _, s := range engine.ExecStatuses {
		if m[s] > 0 {
			parts = append(parts, strconv.Itoa(m[s])+" "+string(s))
		}
	}
	return strings.Join(parts, ", ")
}

// replayAllTimeLayouts are what a datetime-local input posts (with or
// without seconds), and RFC 3339 for a typed value.
var replayAllTimeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339}

func parseReplayAllTime(v string) (time.Time, error) {
	for _, l := range replayAllTimeLayouts {
		if t, err := time.ParseInLocation(l, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("handlers: parse %q: not a date and time", v)
}

// ExecutionReplayAll is POST /workflows/:id/executions/replay (status,
// since, until): the bulk replay of §14 for the list's status filter and
// an optional time range, read as UTC. The flash says how many were
// queued; the browser goes to the unfiltered list, where the replays
// appear. A bad time re-renders the list (422) with the error next to it.
func (h *Handlers) ExecutionReplayAll(c *fiber.Ctx) error {
	w, err := h.workflowParam(c)
	if err != nil {
		return err
	}
	status := engine.ExecStatus(postValue(c, "status"))
	if status != "" && !status.Valid() {
		return engine.Errorf(engine.EINVALID, "status: unknown status %q", status)
	}
	form := views.ReplayAllForm{Since: strings.TrimSpace(postValue(c, "since")), Until: strings.TrimSpace(postValue(c, "until")),
		Errors: map[string]string{}, Open: true}
	f := engine.ReplayFilter{WorkflowID: w.ID, Status: status}
	for _, in := range []struct {
		name, value string
		dst         *time.Time
	}{{"since", form.Since, &f.Since}, {"until", form.Until, &f.Until}} {
		if in.value == "" {
			continue
		}
		t, err := parseReplayAllTime(in.value)
		if err != nil {
			form.Errors[in.name] = "Must be a date and time such as 2026-05-01T09:00"
			continue
		}
		*in.dst = t
	}
	if len(form.Errors) == 0 && !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		form.Errors["until"] = "Must be after From"
	}
	if len(form.Errors) > 0 {
		v, err := h.executionListView(c, w, status, 0)
		if err != nil {
			return err
		}
		v.Bulk.ReplayAll = form
		return h.renderExecutionList(c, fiber.StatusUnprocessableEntity, w, v)
	}
	n, err := h.Svc.ReplayExecutions(c.UserContext(), f)
	if err != nil {
		return err
	}
	h.Log.Info("executions replayed in bulk", "workflow_id", w.ID, "count", n, "request_id", requestID(c))
	which := "matching executions"
	if status != "" {
		which = string(status) + " executions"
	}
	switch {
	case n == 0:
		h.flash(c, "info", "No "+which+" in that range: nothing was replayed.")
	case n >= engine.MaxBulkReplay:
		h.flash(c, "success", "Queued "+strconv.Itoa(n)+" replays, the most one run takes: the oldest "+which+
			" were replayed. To replay the rest, run it again with From after the last of them.")
	default:
		h.flash(c, "success", "Queued "+countText(n, "replay", "replays")+" of "+which+" with revision "+strconv.Itoa(w.Revision)+
			". They run in the background and appear here as new executions.")
	}
	return redirect(c, executionListURL(w.ID, "", ""))
}
