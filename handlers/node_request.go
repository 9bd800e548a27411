package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
	"github.com/tidwall/gjson"
)

func init() { registerNodeEditor(requestEditor{}) }

// requestEditor edits request nodes: method, URL, headers, body, timeout,
// retries and what a failure does (views/node_request.templ).
type requestEditor struct{}

func (requestEditor) kind() views.NodeKind { return views.RequestKind }

// newConfig is a POST to a placeholder address that tries three times:
// forwarding an event is what the step is added for, and a careful user
// expects a passing outage of the other side to be retried.
func (requestEditor) newConfig() json.RawMessage {
	return json.RawMessage(`{"method":"POST","url":"https://example.com/webhook","headers":[],"body":{"executionId":"{{$system.executionId}}"},"retry":{"attempts":3,"backoffSeconds":2,"maxBackoffSeconds":600}}`)
}

// requestStored is a request config as stored, numbers as written.
type requestStored struct {
	Method         string               `json:"method"`
	URL            string               `json:"url"`
	Headers        []engine.ReplyHeader `json:"headers"`
	Body           json.RawMessage      `json:"body"`
	TimeoutSeconds json.Number          `json:"timeoutSeconds"`
	Retry          struct {
		Attempts          json.Number `json:"attempts"`
		BackoffSeconds    json.Number `json:"backoffSeconds"`
		MaxBackoffSeconds json.Number `json:"maxBackoffSeconds"`
	} `json:"retry"`
	ContinueOnFailure bool `json:"continueOnFailure"`
}

func readRequestConfig(raw json.RawMessage) requestStored {
	var c requestStored
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	_ = dec.Decode(&c)
	return c
}

// numberOr is a stored number as written, or the default when absent.
func numberOr(n json.Number, def float64) string {
	if n == "" {
		return strconv.FormatFloat(def, 'f', -1, 64)
	}
	return n.String()
}

func (requestEditor) fromNode(n *engine.Node) nodeSettings {
	c := readRequestConfig(n.Config)
	s := &requestSettings{views.RequestForm{
		Method: strings.ToUpper(strings.TrimSpace(c.Method)), URL: c.URL, Headers: c.Headers,
		Timeout:           numberOr(c.TimeoutSeconds, engine.DefaultRequestTimeout.Seconds()),
		Attempts:          numberOr(c.Retry.Attempts, 1),
		Backoff:           numberOr(c.Retry.BackoffSeconds, engine.DefaultBackoffSeconds),
		MaxBackoff:        numberOr(c.Retry.MaxBackoffSeconds, engine.DefaultMaxBackoffSecs),
		ContinueOnFailure: c.ContinueOnFailure,
	}}
	s.Body, s.BodyJSON = bodyForm(c.Body)
	s.RetryHelp = retryHelp(s.Attempts, s.Backoff, s.MaxBackoff)
	requestTestForm(&s.RequestForm, n.Test)
	return s
}

func (requestEditor) fromPost(form []byte) (nodeSettings, error) {
	var p struct {
		Method         string       `json:"method"`
		URL            string       `json:"url"`
		Headers        []headerPost `json:"headers"`
		Body           string       `json:"body"`
		BodyType       string       `json:"bodyType"`
		TimeoutSeconds string       `json:"timeoutSeconds"`
		Retry          struct {
			Attempts          string `json:"attempts"`
			BackoffSeconds    string `json:"backoffSeconds"`
			MaxBackoffSeconds string `json:"maxBackoffSeconds"`
		} `json:"retry"`
		OnFailure string          `json:"onFailure"`
		Test      requestTestPost `json:"test"`
	}
	if err := decodeEditorForm(form, &p); err != nil {
		return nil, err
	}
	s := &requestSettings{views.RequestForm{
		Method: strings.ToUpper(strings.TrimSpace(p.Method)), URL: p.URL, Headers: headersFromPost(p.Headers),
		Body: p.Body, BodyJSON: p.BodyType != "text", Timeout: p.TimeoutSeconds,
		Attempts: p.Retry.Attempts, Backoff: p.Retry.BackoffSeconds, MaxBackoff: p.Retry.MaxBackoffSeconds,
		ContinueOnFailure: p.OnFailure == "continue",
	}}
	s.RetryHelp = retryHelp(s.Attempts, s.Backoff, s.MaxBackoff)
	requestTestFromPost(&s.RequestForm, &p.Test)
	return s, nil
}

// card is the call in words: "POST api.example.com/orders/{Order}", and
// how many times it is tried.
func (requestEditor) card(n *engine.Node, d *engine.Document) nodeCard {
	c := readRequestConfig(n.Config)
	if c.URL == "" {
		return nodeCard{summary: "No URL yet"}
	}
	u := strings.TrimSpace(c.URL)
	for _, scheme := range []string{"https://", "http://"} {
		if len(u) > len(scheme) && strings.EqualFold(u[:len(scheme)], scheme) {
			u = u[len(scheme):]
			break
		}
	}
	s := strings.ToUpper(strings.TrimSpace(c.Method)) + " " + templateWords(u, d)
	if a, err := c.Retry.Attempts.Int64(); err == nil && a > 1 {
		s += " · up to " + strconv.FormatInt(a, 10) + " tries"
	}
	if c.ContinueOnFailure {
		s += " · goes on if it fails"
	}
	if w := testCardWords(n.Test); w != "" {
		s += " · " + w
	}
	return nodeCard{summary: s}
}

// vars are the result's members of §13: ok, status, body, headers, and
// the error when a failure lets the flow go on.
func (requestEditor) vars(n *engine.Node) []resultVar {
	out := []resultVar{
		{Hint: `{"ok", "status", "headers", "body", …}`},
		{Path: ".ok", Label: "ok", Hint: "true for a 2xx reply"},
		{Path: ".status", Label: "status", Hint: "HTTP status of the reply"},
		{Path: ".body", Label: "body", Hint: "the reply's body (parsed when JSON)"},
		{Path: ".headers", Label: "headers", Hint: "the reply's headers, lower-case names"},
	}
	if readRequestConfig(n.Config).ContinueOnFailure {
		out = append(out, resultVar{Path: ".error", Label: "error", Hint: "why every attempt failed"})
	}
	return out
}

// requestSettings is a request panel's state.
type requestSettings struct{ views.RequestForm }

// requestOwned are the config members the request panel shows; retryOwned
// those of its retry object. Other members (a test pin, §17) stay.
var (
	requestOwned = []string{"method", "url", "headers", "body", "timeoutSeconds", "retry", "continueOnFailure"}
	retryOwned   = []string{"attempts", "backoffSeconds", "maxBackoffSeconds"}
)

// probeRequest asks the engine about one part of a request config alone
// (the engine stops at the first problem), so that every bad input is
// marked at once. cfg is a whole config built around that part
// (probeConfig); an error about field (or a member of it) goes to the
// input name, others are left to the engine's verdict on the node.
func probeRequest(cfg, field, name string, errs map[string]string) {
	if errs[name] != "" {
		return
	}
	kind, ok := engine.NodeKindFor("request")
	if !ok {
		return
	}
	_, err := kind.Compile(&engine.Node{Key: "probe", Type: "request", Config: json.RawMessage(cfg)}, engine.CompileEnv{Mode: engine.ModeAsync})
	if err == nil {
		return
	}
	got, rest, ok := editorSplitFieldError(engine.ErrorMessage(err))
	switch {
	case !ok:
		errs[name] = engine.ErrorMessage(err)
	case got == field:
		errs[name] = rest
	case strings.HasPrefix(got, field+".") || strings.HasPrefix(got, field+"["):
		errs[name] = strings.TrimPrefix(strings.TrimPrefix(got, field), ".") + ": " + rest
	}
}

// probeConfig is a valid request config with method and url replaced when
// given ("" keeps a valid one) and extra members added (",\"retry\":…").
func probeConfig(method, url, extra string) string {
	if method == "" {
		method = "GET"
	}
	if url == "" {
		url = "https://example.com"
	}
	cfg := engine.AppendJSONString([]byte(`{"method":`), method)
	cfg = append(cfg, `,"url":`...)
	cfg = engine.AppendJSONString(cfg, url)
	return string(cfg) + extra + "}"
}

// formNumber reads a number input: "" is absent; a bad number is an
// error on the input.
func formNumber(text, name string, whole bool, errs map[string]string) (json.RawMessage, bool) {
	t := strings.TrimSpace(text)
	if t == "" {
		return nil, false
	}
	if whole {
		n, err := strconv.Atoi(t)
		if err != nil {
			errs[name] = "must be a whole number"
			return nil, false
		}
		return json.RawMessage(strconv.Itoa(n)), true
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		errs[name] = "must be a number, such as 2 or 0.5"
		return nil, false
	}
	return json.RawMessage(strconv.FormatFloat(f, 'f', -1, 64)), true
}

// keepNumber decides whether a number goes into the config: always when
// the stored config had the member, else only when it is not the default
// (so that saving a node written through the API without it does not
// spell out every default).
func keepNumber(v json.RawMessage, stored gjson.Result, def float64) bool {
	if stored.Exists() {
		return true
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return err != nil || f != def
}

func (s *requestSettings) config(stored json.RawMessage, errs map[string]string) json.RawMessage {
	s.Headers = dropEmptyHeaders(s.Headers)
	old := gjson.ParseBytes(stored)

	if s.Method == "" {
		errs["method"] = "required: choose a method"
	}
	probeRequest(probeConfig(s.Method, "", ""), "config.method", "method", errs)
	if strings.TrimSpace(s.URL) == "" {
		errs["url"] = "required: the address to call, such as https://api.example.com/hook"
	}
	probeRequest(probeConfig("", strings.TrimSpace(s.URL), ""), "config.url", "url", errs)
	for i, h := range s.Headers {
		one, _ := json.Marshal([]engine.ReplyHeader{h})
		probeHeader(string(one), i, errs)
	}
	body, err := bodyJSON(s.Body, s.BodyJSON)
	if err != nil {
		errs["body"] = err.Error()
	} else if body != nil {
		probeRequest(probeConfig("POST", "", `,"body":`+string(body)), "config.body", "body", errs)
	}
	if errs["body"] != "" {
		// The stored body stands in, so that the engine's verdict on the
		// node does not repeat the problem above the form.
		body = json.RawMessage(old.Get("body").Raw)
	}

	out := []byte(`{"method":`)
	out = engine.AppendJSONString(out, s.Method)
	out = append(out, `,"url":`...)
	out = engine.AppendJSONString(out, strings.TrimSpace(s.URL))
	hs := s.Headers
	if hs == nil {
		hs = []engine.ReplyHeader{}
	}
	hj, _ := json.Marshal(hs)
	out = append(out, `,"headers":`...)
	out = append(out, hj...)
	if len(body) > 0 {
		out = append(out, `,"body":`...)
		out = append(out, body...)
	}
	if v, ok := formNumber(s.Timeout, "timeoutSeconds", false, errs); ok {
		probeRequest(probeConfig("", "", `,"timeoutSeconds":`+string(v)), "config.timeoutSeconds", "timeoutSeconds", errs)
		if keepNumber(v, old.Get("timeoutSeconds"), engine.DefaultRequestTimeout.Seconds()) {
			out = append(out, `,"timeoutSeconds":`...)
			out = append(out, v...)
		}
	}

	// Retry: the numbers typed, checked together (the longest wait must
	// not be below the first).
	oldRetry := old.Get("retry")
	retry := []byte{'{'}
	addRetry := func(key string, v json.RawMessage) {
		if len(retry) > 1 {
			retry = append(retry, ',')
		}
		retry = engine.AppendJSONString(retry, key)
		retry = append(retry, ':')
		retry = append(retry, v...)
	}
	all := []byte{'{'}
	// Each number is asked about alone, beside the most lenient value of
	// its companion (the engine compares the two waits).
	lenient := strconv.FormatFloat(engine.MaxBackoffSeconds, 'f', -1, 64)
	for i, m := range []struct {
		key, text string
		whole     bool
		def       float64
		companion string
	}{
		{"attempts", s.Attempts, true, 1, ""},
		{"backoffSeconds", s.Backoff, false, engine.DefaultBackoffSeconds, `,"maxBackoffSeconds":` + lenient},
		{"maxBackoffSeconds", s.MaxBackoff, false, engine.DefaultMaxBackoffSecs, `,"backoffSeconds":0.1`},
	} {
		name := "retry[" + m.key + "]"
		v, ok := formNumber(m.text, name, m.whole, errs)
		if !ok {
			continue
		}
		probeRequest(probeConfig("", "", `,"retry":{"`+m.key+`":`+string(v)+m.companion+`}`), "config.retry."+m.key, name, errs)
		if i > 0 && len(all) > 1 {
			all = append(all, ',')
		}
		all = append(append(engine.AppendJSONString(all, m.key), ':'), v...)
		if keepNumber(v, oldRetry.Get(m.key), m.def) {
			addRetry(m.key, v)
		}
	}
	all = append(all, '}')
	if errs["retry[attempts]"] == "" && errs["retry[backoffSeconds]"] == "" && errs["retry[maxBackoffSeconds]"] == "" {
		probeRequest(probeConfig("", "", `,"retry":`+string(all)), "config.retry.maxBackoffSeconds", "retry[maxBackoffSeconds]", errs)
	}
	if msg := errs["retry[maxBackoffSeconds]"]; msg != "" {
		errs["retry[maxBackoffSeconds]"] = retryFieldWords(msg)
	}
	retry = append(retry, '}')
	if len(retry) > 2 || oldRetry.Exists() {
		out = append(out, `,"retry":`...)
		out = append(out, setConfig(json.RawMessage(oldRetry.Raw), retryOwned, retry)...)
	}
	if s.ContinueOnFailure || old.Get("continueOnFailure").Exists() {
		out = append(out, `,"continueOnFailure":`...)
		out = strconv.AppendBool(out, s.ContinueOnFailure)
	}
	return setConfig(stored, requestOwned, append(out, '}'))
}

// probeHeader checks header row i alone: a request refuses the headers
// HTTP sets itself (Host, Content-Length, …) besides a reply's rules.
func probeHeader(one string, i int, errs map[string]string) {
	kind, ok := engine.NodeKindFor("request")
	if !ok {
		return
	}
	cfg := probeConfig("", "", `,"headers":`+one)
	_, err := kind.Compile(&engine.Node{Key: "probe", Type: "request", Config: json.RawMessage(cfg)}, engine.CompileEnv{Mode: engine.ModeAsync})
	if err == nil {
		return
	}
	field, rest, ok := editorSplitFieldError(engine.ErrorMessage(err))
	if !ok {
		return
	}
	_, part, _ := editorCutLast(field, ".")
	if part != "name" && part != "value" {
		part = "name"
	}
	name := fmt.Sprintf("headers[%d][%s]", i, part)
	if errs[name] == "" {
		errs[name] = rest
	}
}

func (s *requestSettings) inputs(in map[string]bool) {
	for _, n := range []string{"method", "url", "headers", "body", "timeoutSeconds", "retry",
		"retry[attempts]", "retry[backoffSeconds]", "retry[maxBackoffSeconds]", "continueOnFailure"} {
		in[n] = true
	}
	for i := range s.Headers {
		in[fmt.Sprintf("headers[%d][name]", i)] = true
		in[fmt.Sprintf("headers[%d][value]", i)] = true
	}
	s.testInputs(in)
}

// act adds a header row, or removes the one at arg ("headers.1"), of the
// request or of its pinned test reply.
func (s *requestSettings) act(verb, arg string) string {
	if focus := headerRowsAct(&s.Headers, "headers", verb, arg); focus != "" {
		return focus
	}
	if focus := headerRowsAct(&s.PinHeaders, "test[pin][headers]", verb, arg); focus != "" {
		s.TestMode = "pin"
		return fieldID(focus)
	}
	return ""
}

// retryHelp says in words what the retry settings do, from the numbers as
// typed: "Tries 5 times over about 30 seconds: …". The engine is asked
// whether they are valid, so that the words never describe settings it
// would refuse.
func retryHelp(attempts, backoff, maxBackoff string) string {
	a, errA := strconv.Atoi(strings.TrimSpace(attempts))
	b, errB := strconv.ParseFloat(strings.TrimSpace(backoff), 64)
	m, errM := strconv.ParseFloat(strings.TrimSpace(maxBackoff), 64)
	if errA != nil || errB != nil || errM != nil {
		return "Enter the numbers above to see how the retries play out."
	}
	cfg := probeConfig("", "", fmt.Sprintf(`,"retry":{"attempts":%d,"backoffSeconds":%s,"maxBackoffSeconds":%s}`,
		a, strconv.FormatFloat(b, 'f', -1, 64), strconv.FormatFloat(m, 'f', -1, 64)))
	if kind, ok := engine.NodeKindFor("request"); ok {
		if _, err := kind.Compile(&engine.Node{Key: "probe", Type: "request", Config: json.RawMessage(cfg)}, engine.CompileEnv{Mode: engine.ModeAsync}); err != nil {
			return "Not valid yet: " + retryFieldWords(fieldErrorText(engine.ErrorMessage(err))) + "."
		}
	}
	return retryWords(a, time.Duration(b*float64(time.Second)), time.Duration(m*float64(time.Second)))
}

// retryFieldWords names the retry numbers in an engine message as the
// form labels them.
func retryFieldWords(msg string) string {
	return strings.NewReplacer("maxBackoffSeconds", "the longest wait", "backoffSeconds", "the first wait").Replace(msg)
}

// retryWords describes a retry policy as the engine runs it: each wait
// doubles from the first up to the longest, give or take 20%.
func retryWords(attempts int, first, longest time.Duration) string {
	if attempts <= 1 {
		return "Tries once: a failed call is not tried again. Set more attempts to retry."
	}
	var waits []time.Duration
	var total time.Duration
	capped := false
	d := first
	for i := 1; i < attempts; i++ {
		w := min(d, longest)
		if d > longest {
			capped = true
		}
		waits = append(waits, w)
		total += w
		if d < longest {
			d *= 2
		}
	}
	var list []string
	for _, w := range waits {
		list = append(list, shortDuration(w))
	}
	if len(list) > 5 {
		list = append(list[:4], "…", list[len(list)-1])
	}
	listText := list[0]
	if len(list) > 1 {
		listText = strings.Join(list[:len(list)-1], ", ") + " and " + list[len(list)-1]
		listText = strings.Replace(listText, ", … and ", ", …, ", 1)
	}
	s := "Tries " + strconv.Itoa(attempts) + " times over " + aboutDuration(total) + ": between attempts it waits " + listText
	switch {
	case len(waits) == 1:
	case capped:
		s += " (doubling each time, never more than " + shortDuration(longest) + ")"
	default:
		s += " (doubling each time)"
	}
	return s + ", give or take 20% so that many retries spread out."
}

// shortDuration writes a wait compactly: "500 ms", "2 s", "1.5 s",
// "10 min", "1 h 30 min", "2 days".
func shortDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	case d < time.Minute:
		return strconv.FormatFloat(math.Round(d.Seconds()*10)/10, 'f', -1, 64) + " s"
	case d < time.Hour:
		m, sec := int(d/time.Minute), int(d%time.Minute/time.Second)
		if sec == 0 {
			return strconv.Itoa(m) + " min"
		}
		return strconv.Itoa(m) + " min " + strconv.Itoa(sec) + " s"
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return strconv.Itoa(h) + " h"
		}
		return strconv.Itoa(h) + " h " + strconv.Itoa(m) + " min"
	}
	days := math.Round(d.Hours()/24*10) / 10
	return strconv.FormatFloat(days, 'f', -1, 64) + " " + editorPlural(int(math.Ceil(days)), "day", "days")
}

// aboutDuration rounds a total to one unit: "about 30 seconds", "about 2
// minutes", "about 3 hours".
func aboutDuration(d time.Duration) string {
	unit := func(n float64, one, many string) string {
		k := int(math.Round(n))
		if k < 1 {
			k = 1
		}
		return "about " + strconv.Itoa(k) + " " + editorPlural(k, one, many)
	}
	switch {
	case d < time.Second:
		return "under a second"
	case d < 90*time.Second:
		return unit(d.Seconds(), "second", "seconds")
	case d < 90*time.Minute:
		return unit(d.Minutes(), "minute", "minutes")
	case d < 36*time.Hour:
		return unit(d.Hours(), "hour", "hours")
	}
	return unit(d.Hours()/24, "day", "days")
}
