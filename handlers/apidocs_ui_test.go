package handlers_test

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/handlers"
	"github.com/tidwall/gjson"
)

// TestAPIDocsPage: the admin UI serves the OpenAPI description as a page,
// rendered on the server: every operation (method and path), its
// parameters and bodies, the §9 example, and every schema; linked from the
// navigation and the tokens page; nothing the CSP would refuse.
func TestAPIDocsPage(t *testing.T) {
	t.Parallel()
	app, _, _ := newUITestServer(t)
	res, _ := send(t, app, mustRequest(http.MethodGet, "/api-docs"))
	if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusFound {
		t.Errorf("signed out: %d, want a redirect to sign in", res.StatusCode)
	}
	s := signIn(t, app)
	res, body := s.get(t, app, "/api-docs")
	wantStatus(t, res, http.StatusOK)
	cspSafe(t, body)
	if !strings.Contains(body, `aria-current="page" data-testid="nav-api-docs"`) {
		t.Error("API reference is not the current navigation entry")
	}
	mustTestID(t, body, "openapi-json")
	doc := gjson.ParseBytes(handlers.OpenAPIDocument())
	ops := 0
	doc.Get("paths").ForEach(func(path, item gjson.Result) bool {
		item.ForEach(func(method, op gjson.Result) bool {
			if !op.Get("operationId").Exists() {
				return true
			}
			ops++
			card := element(t, body, "api-op-"+op.Get("operationId").String())
			text := html.UnescapeString(textOf(card))
			if !strings.Contains(text, strings.ToUpper(method.String())) || !strings.Contains(text, path.String()) || !strings.Contains(text, op.Get("summary").String()) {
				t.Errorf("operation %s: %q", op.Get("operationId"), text)
			}
			return true
		})
		return true
	})
	if ops < 13 {
		t.Errorf("%d operations described", ops)
	}
	doc.Get("components.schemas").ForEach(func(name, _ gjson.Result) bool {
		mustTestID(t, body, "api-schema-"+name.String())
		return true
	})
	create := html.UnescapeString(textOf(element(t, body, "api-op-createWorkflow")))
	for _, want := range []string{"Request body", "application/json", "WorkflowDocument", `"title": "Payment callback"`, `"{{$context.body.order.id}}"`, "201", "400", "401"} {
		if !strings.Contains(create, want) {
			t.Errorf("createWorkflow card lacks %q", want)
		}
	}
	list := html.UnescapeString(textOf(element(t, body, "api-op-listExecutions")))
	for _, want := range []string{"status", "query", "limit", "before", "ExecutionList"} {
		if !strings.Contains(list, want) {
			t.Errorf("listExecutions card lacks %q: %s", want, list)
		}
	}
	if spec := html.UnescapeString(textOf(element(t, body, "api-op-getOpenAPI"))); !strings.Contains(spec, "no token") {
		t.Errorf("the description's route should say it needs no token: %s", spec)
	}
	_, tokens := s.get(t, app, "/tokens")
	mustTestID(t, tokens, "token-api-docs")
}
