package web_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/outbound"
)

// Test runs and templates (product.md §17) through the real server.

func (e *actEnv) test(t *testing.T, id int64, body string) apiReply {
	t.Helper()
	return e.call(t, http.MethodPost, "/api/v1/workflows/"+strconv.FormatInt(id, 10)+"/test", body)
}

// TestRunSendsNothing: in a test run a request node is not sent (its result
// shows what it would send), unless it is set to run for real; a pinned
// reply reaches later nodes; a delay does not wait; nothing is stored.
func TestRunSendsNothing(t *testing.T) {
	t.Parallel()
	e := actSetup(t, outbound.DenyNone)
	s := newSink(t, nil)
	id, _ := e.workflow(t, `{"title":"t","mode":"async","trigger":{"response":{"status":202,"body":"got {{$context.body.n}}"}},"nodes":[
		{"key":"quiet","type":"request","config":{"method":"POST","url":"`+s.URL+`/quiet/{{$context.body.n}}","headers":[{"name":"Authorization","value":"Bearer s3cret"}],"body":{"n":"{{$context.body.n}}"}}},
		{"key":"pinned","type":"request","config":{"method":"GET","url":"`+s.URL+`/pinned"},"test":{"pin":{"status":200,"headers":{"Content-Type":"application/json"},"body":{"price":42}}}},
		{"key":"wait","type":"delay","config":{"seconds":3600}},
		{"key":"real","type":"request","config":{"method":"POST","url":"`+s.URL+`/real","body":{"price":"{{$jobsMapByNodeKey.pinned.body.price}}"}},"test":{"run":true}}]}`)
	r := e.test(t, id, `{"request":{"method":"POST","headers":{"content-type":"application/json"},"query":"a=1","body":"{\"n\":7}"}}`)
	if r.status != 200 {
		t.Fatalf("test: %d %s", r.status, r.body)
	}
	x := r.json()
	if !x.Get("test").Bool() || x.Get("status").Str != "resolved" || x.Get("response.status").Int() != 202 || x.Get("response.body").Str != "got 7" {
		t.Errorf("test run: %s", x.Raw)
	}
	quiet := x.Get(`jobs.#(nodeKey=="quiet").result`)
	if quiet.Get("test").Str != "not sent" || !quiet.Get("ok").Bool() || quiet.Get("request.url").Str != s.URL+"/quiet/7" ||
		quiet.Get(`request.headers.#(name=="Authorization").value`).Str != "[redacted]" || quiet.Get("request.body").Str != `{"n":7}` {
		t.Errorf("quiet node: %s", quiet.Raw)
	}
	if p := x.Get(`jobs.#(nodeKey=="pinned").result`); p.Get("test").Str != "pinned" || p.Get("body.price").Int() != 42 || p.Get("status").Int() != 200 {
		t.Errorf("pinned node: %s", p.Raw)
	}
	if w := x.Get(`jobs.#(nodeKey=="wait")`); w.Get("status").Str != "resolved" || w.Get("result.test").Str != "did not wait" {
		t.Errorf("delay: %s", w.Raw)
	}
	calls := s.got()
	if len(calls) != 1 || calls[0].path != "/real" || calls[0].body != `{"price":42}` {
		t.Errorf("the sink saw %+v, want only the call set to run for real", calls)
	}
	if list := e.call(t, http.MethodGet, "/api/v1/workflows/"+strconv.FormatInt(id, 10)+"/executions", "").json(); len(list.Get("items").Array()) != 0 {
		t.Errorf("a test run was stored: %s", list.Raw)
	}

	// A pinned failure fails the node as a real one would.
	id2, _ := e.workflow(t, `{"title":"t","mode":"sync","trigger":{},"nodes":[
		{"key":"n","type":"request","config":{"method":"GET","url":"`+s.URL+`/x"},"test":{"pin":{"status":503}}},
		{"key":"r","type":"response","config":{"status":200,"body":"unreached"}}]}`)
	r = e.test(t, id2, `{"request":{"body":""}}`)
	if x := r.json(); x.Get("status").Str != "failed" || x.Get("response.status").Int() != 500 || len(x.Get("jobs").Array()) != 1 {
		t.Errorf("pinned 503: %s", r.body)
	}
}

// TestRunInputs: the trigger's samples, a stored execution's request, and
// the errors a caller can act on.
func TestRunInputs(t *testing.T) {
	t.Parallel()
	e := actSetup(t, outbound.DenyNone)
	doc := `{"title":"t","mode":"sync","trigger":{"samples":{"headers":{"content-type":"application/json"},"query":"src=sample","body":"{\"order\":{\"status\":\"paid\"}}"}},
		"nodes":[{"key":"r","type":"response","config":{"status":200,"body":{"status":"{{$context.body.order.status}}","src":"{{$context.query.src}}"}}}]}`
	id, key := e.workflow(t, doc)
	r := e.test(t, id, "")
	if r.status != 200 || r.json().Get("response.body").Str != `{"status":"paid","src":"sample"}` {
		t.Errorf("samples: %d %s", r.status, r.body)
	}
	if r = e.test(t, id, `{}`); r.status != 200 || r.json().Get("response.status").Int() != 200 {
		t.Errorf("{}: %d %s", r.status, r.body)
	}
	_, xid := e.fire(t, id, key, `{"order":{"status":"refunded"}}`)
	r = e.test(t, id, `{"executionId":`+strconv.FormatInt(xid, 10)+`}`)
	if r.status != 200 || r.json().Get("response.body").Str != `{"status":"refunded","src":null}` || r.json().Get("id").Int() == xid {
		t.Errorf("executionId: %d %s", r.status, r.body)
	}
	other, _ := e.workflow(t, `{"title":"other","mode":"async","trigger":{},"nodes":[]}`)
	for _, tc := range []struct {
		id     int64
		body   string
		status int
		msg    string
	}{
		{other, ``, 400, "the trigger has no samples"},
		{id, `{"request":{"body":"{}"},"executionId":1}`, 400, "give a request or an executionId, not both"},
		{other, `{"executionId":` + strconv.FormatInt(xid, 10) + `}`, 404, "is not one of this workflow's"},
		{id, `{"requests":{}}`, 400, `body: unknown field "requests"`},
		{id, `{"request":{"headers":{"content-type":"application/json"},"body":"{nope"}}`, 400, "the body is not valid JSON"},
		{999, `{}`, 404, ""},
	} {
		r := e.test(t, tc.id, tc.body)
		if msg := apiError(t, r, tc.status); !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: %q, want %q", tc.body, msg, tc.msg)
		}
	}
}

// TestTemplates: every template is a complete document that creates a
// workflow, and its test run on its own samples resolves (a sync one with
// a 2xx reply), sending nothing.
func TestTemplates(t *testing.T) {
	t.Parallel()
	e := actSetup(t, outbound.DenyNone)
	list := e.call(t, http.MethodGet, "/api/v1/templates", "").json().Get("items").Array()
	if len(list) < 4 {
		t.Fatalf("%d templates", len(list))
	}
	names := map[string]bool{}
	for _, tpl := range list {
		name := tpl.Get("name").Str
		names[name] = true
		if tpl.Get("title").Str == "" || tpl.Get("description").Str == "" || !tpl.Get("document.trigger.samples.body").Exists() {
			t.Errorf("%s: title, description or samples missing", name)
		}
		w := e.create(t, tpl.Get("document").Raw)
		r := e.test(t, w.Get("id").Int(), `{}`)
		x := r.json()
		if r.status != 200 || x.Get("status").Str != "resolved" || x.Get("response.status").Int()/100 != 2 {
			t.Errorf("%s: test run %d %s", name, r.status, r.body)
		}
		for _, j := range x.Get("jobs").Array() {
			if j.Get("nodeType").Str == "request" && j.Get("result.test").Str == "" {
				t.Errorf("%s: request step %s was sent in a test run", name, j.Get("nodeKey").Str)
			}
		}
	}
	for _, want := range []string{"stripe-payment-callback", "github-push-to-chat", "shopify-order-to-api", "slack-slash-command"} {
		if !names[want] {
			t.Errorf("template %s missing", want)
		}
	}
	if _, ok := engine.TemplateByName("github-push-to-chat"); !ok {
		t.Error("TemplateByName")
	}
}
