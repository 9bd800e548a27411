package handlers

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
	"github.com/tidwall/gjson"
)

// "Listen for a request" in the trigger panel (issue 11): the admin starts
// a listen, the webhook path hands the next request to this workflow's URL
// to it (engine.Captures), and the panel polls every second for the time
// left, then shows the request with "Use as samples". Polling, rather than
// one request held open for two minutes, keeps every request short (write
// timeouts, proxies) and lets the admin stop at any time.

// listenThresholds are the times left (in seconds) that the status region
// speaks, once each.
var listenThresholds = []int{60, 30, 10}

// listenView is the box of a listen as it stands.
func (h *Handlers) listenView(wid int64, cp engine.Capture, announced int, secret []string) views.ListenView {
	now := time.Now()
	v := views.ListenView{WorkflowID: wid, ID: cp.ID, Announced: announced}
	switch {
	case cp.Request != nil:
		v.State, v.CapturedAt, v.Truncated = "captured", cp.CapturedAt, cp.BodyTruncated
		rv := capturedRequestView(cp.Request, cp.BodySize, secret)
		v.Request = &rv
	case cp.Waiting(now):
		v.State, v.Left = "waiting", cp.Deadline.Sub(now)
	default:
		v.State = "over"
	}
	return v
}

// capturedRequestView prepares a captured request for display, as the
// execution page shows a stored one (credentials masked).
func capturedRequestView(req *engine.Request, size int, secret []string) views.RequestView {
	r := views.RequestView{Method: req.Method, Query: req.Query}
	for _, hv := range redactHeaders(req.Headers, secret) {
		val := hv.Value
		if k := strings.ToLower(hv.Name); k == "authorization" || k == "proxy-authorization" {
			val = maskCredential(val)
		}
		r.Headers = append(r.Headers, views.HeaderRow{Name: hv.Name, Value: val})
	}
	var parsed *gjson.Result
	if ctx, err := engine.BuildContext(req); err == nil {
		b := gjson.GetBytes(ctx, "body")
		parsed = &b
	}
	r.Body = bodyView(req.Body, req.ContentType(), parsed)
	r.Body.Size = size
	return r
}

// listenReply answers a listen request: htmx gets the box's content (or
// the timer alone while waiting) and what the status region says; other
// browsers go to the editor, which shows the listen.
func (h *Handlers) listenReply(c *fiber.Ctx, wid int64, v views.ListenView, say string, timerOnly bool) error {
	return h.listenReplyWith(c, wid, v, say, timerOnly, nil)
}

// listenReplyWith is listenReply redrawing the Test bar's choices too.
func (h *Handlers) listenReplyWith(c *fiber.Ctx, wid int64, v views.ListenView, say string, timerOnly bool, input *views.TestInputView) error {
	if !isHTMX(c) {
		if v.ID == "" {
			return redirect(c, editorURL(wid, ""))
		}
		return redirect(c, editorURL(wid, "")+"?listen="+v.ID)
	}
	if !timerOnly {
		// The poll's target is the timer: the finished box replaces the
		// whole box instead.
		c.Set("HX-Retarget", "#listen-box")
		c.Set("HX-Reswap", "innerHTML")
	}
	return render(c, fiber.StatusOK, views.ListenUpdate(v, say, timerOnly, input))
}

// TriggerListen is POST /workflows/:id/trigger/listen: waits for the next
// request to the workflow's URL.
func (h *Handlers) TriggerListen(c *fiber.Ctx) error {
	w, err := h.workflowParam(c)
	if err != nil {
		return err
	}
	cp, err := h.captureHub().Listen(w.ID, w.Key)
	if err != nil {
		if engine.ErrorCode(err) != engine.ETOOMANY || !isHTMX(c) {
			return err
		}
		v := views.ListenView{WorkflowID: w.ID, State: "idle", Error: engine.ErrorMessage(err)}
		return h.listenReply(c, w.ID, v, engine.ErrorMessage(err), false)
	}
	v := h.listenView(w.ID, cp, int(engine.ListenFor/time.Second), nil)
	say := "Listening for " + strconv.Itoa(int(engine.ListenFor/time.Minute)) + " minutes: send a request to this workflow's URL."
	if !w.Doc.IsEnabled() {
		say += " The workflow is off: its URL answers 404, but the request is still captured."
	}
	return h.listenReply(c, w.ID, v, say, false)
}

// TriggerListenPoll is GET /workflows/:id/trigger/listen/:lid?announced=N:
// the time left, or the box once a request came or the time ran out.
func (h *Handlers) TriggerListenPoll(c *fiber.Ctx) error {
	w, err := h.workflowParam(c)
	if err != nil {
		return err
	}
	wid := w.ID
	cp, err := h.captureHub().Get(wid, c.Params("lid"))
	if err != nil {
		if !isHTMX(c) {
			return err
		}
		v := views.ListenView{WorkflowID: wid, State: "idle", Error: engine.ErrorMessage(err)}
		return h.listenReply(c, wid, v, engine.ErrorMessage(err), false)
	}
	announced, _ := strconv.Atoi(c.Query("announced"))
	v := h.listenView(wid, cp, announced, secretHeaders(w.Doc))
	switch v.State {
	case "captured":
		say := "Request captured: " + cp.Request.Method
		if ct := cp.Request.ContentType(); ct != "" {
			say += ", " + ct
		}
		say += ", " + strconv.Itoa(cp.BodySize) + " bytes of body. Use as samples is next; the Test bar offers it too."
		// The Test bar offers the capture at once, selected.
		in := h.testInputView(c, w, w.Doc, "capture:"+cp.ID)
		in.OOB = true
		return h.listenReplyWith(c, wid, v, say, false, &in)
	case "over":
		return h.listenReply(c, wid, v, "No request came in "+strconv.Itoa(int(engine.ListenFor/time.Minute))+" minutes.", false)
	}
	say := ""
	left := int((v.Left + time.Second - 1) / time.Second)
	for _, t := range listenThresholds {
		if left <= t && (announced == 0 || announced > t) {
			say, v.Announced = views.ListenSpoken(t), t
		}
	}
	return h.listenReply(c, wid, v, say, true)
}

// TriggerListenStop is POST /workflows/:id/trigger/listen/:lid/stop.
func (h *Handlers) TriggerListenStop(c *fiber.Ctx) error {
	wid, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.Svc.GetWorkflow(c.UserContext(), wid); err != nil {
		return err
	}
	h.captureHub().Stop(wid, c.Params("lid"))
	return h.listenReply(c, wid, views.ListenView{WorkflowID: wid, State: "idle"}, "Stopped listening.", false)
}
