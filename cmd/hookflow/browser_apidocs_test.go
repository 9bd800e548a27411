package main

import (
	"strings"
	"testing"
)

// TestBrowserAPIDocs: the API reference is reached from the navigation,
// shows every route with its method, links types to their schemas, links
// the JSON description, and keeps the console clean under the UI's CSP.
func TestBrowserAPIDocs(t *testing.T) {
	x := newBrowserTest(t)
	w := x.watchConsole()
	x.signIn()
	x.click(tid("nav-api-docs"))
	x.waitPath(`^/api-docs$`)
	x.waitText(tid("api-op-createWorkflow"), "POST")
	x.step("api-docs")
	if n := x.eval(`document.querySelectorAll('[data-testid^="api-op-"]').length`).Int(); n < 17 {
		t.Errorf("%d operations on the page", n)
	}
	if got := x.text(tid("api-op-getExecution")); !strings.Contains(got, "/api/v1/executions/{id}") || !strings.Contains(got, "Execution") {
		t.Errorf("getExecution card: %q", got)
	}
	// A type links to its schema, which is on the page.
	x.click(`[data-testid="api-op-getExecution"] a[href="#schema-Execution"]`)
	x.waitFor("the Execution schema in view", func() bool {
		return x.eval(`(function(){var r=document.getElementById("schema-Execution").getBoundingClientRect();return r.top>=0&&r.top<window.innerHeight})()`).Bool()
	})
	if href := x.attr(tid("openapi-json"), "href"); href != "/api/v1/openapi.json" {
		t.Errorf("JSON link %q", href)
	}
	x.viewport(390, 844)
	x.step("api-docs-phone")
	if wide := x.eval(`document.documentElement.scrollWidth > window.innerWidth + 1`).Bool(); wide {
		t.Error("the page scrolls sideways on a phone")
	}
	if msgs := w.messages(x); len(msgs) > 0 {
		t.Errorf("console: %q", msgs)
	}
}
