package handlers_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

func apiGet(t *testing.T, app *fiber.App, token, path string) *http.Response {
	t.Helper()
	req := mustRequest(http.MethodGet, path)
	req.Header.Set("Authorization", "Bearer "+token)
	res, _ := send(t, app, req)
	return res
}

var tokenValueRE = regexp.MustCompile(`value="(hf_[^"]+)"[^>]*data-testid="new-token-value"`)

func TestTokenPage(t *testing.T) {
	t.Parallel()
	app, _, _ := newUITestServer(t)
	s := signIn(t, app)
	res, body := s.get(t, app, "/tokens")
	wantStatus(t, res, http.StatusOK)
	mustTestID(t, body, "empty-state", "new-token-form", "new-token-name", "token-usage")
	if hasTestID(body, "token-list") || hasTestID(body, "new-token-value") {
		t.Error("empty page shows a list or a token")
	}
	if !strings.Contains(body, `aria-current="page" data-testid="nav-tokens"`) {
		t.Error("API tokens is not the current navigation entry")
	}
	if !strings.Contains(html.UnescapeString(textOf(element(t, body, "token-usage"))), `curl -H "Authorization: Bearer hf_…" \ http://example.com/api/v1/workflows`) {
		t.Errorf("usage: %s", textOf(element(t, body, "token-usage")))
	}
}

func TestTokenCreateShownOnceAndRevoke(t *testing.T) {
	t.Parallel()
	app, _, _ := newUITestServer(t)
	s := signIn(t, app)
	res, body := doForm(t, app, s, "/tokens", url.Values{"name": {" CI deploy "}}, formOpts{})
	wantStatus(t, res, http.StatusOK)
	cspSafe(t, body)
	mustTestID(t, body, "new-token-created", "new-token-value", "token-list", "token-row-1", "revoke-1")
	m := tokenValueRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no token value on the page")
	}
	tok := m[1]
	if !strings.Contains(textOf(element(t, body, "new-token-created")), "Copy it now: it will not be shown again") {
		t.Error("no warning that the token is shown once")
	}
	// list.js turns the address into /tokens: a reload must not post again.
	if !strings.Contains(body, `data-replace-url="/tokens"`) || !strings.Contains(body, "/static/list.js?v=") {
		t.Error("a reload would post the form again")
	}
	// Shown once: not in a cookie, a header or a URL, not on the next page.
	for name, vals := range res.Header {
		for _, v := range vals {
			if strings.Contains(v, tok) {
				t.Errorf("token in header %s", name)
			}
		}
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", res.Header.Get("Cache-Control"))
	}
	_, again := s.get(t, app, "/tokens")
	if strings.Contains(again, tok) || hasTestID(again, "new-token-value") {
		t.Error("the token is shown again")
	}
	row := textOf(element(t, again, "token-row-1"))
	if !strings.Contains(row, "CI deploy") || !strings.Contains(row, tok[:9]+"…") || !strings.Contains(row, "Never") {
		t.Errorf("row %q", row)
	}

	// The token works, and shows as used.
	if res := apiGet(t, app, tok, "/api/v1/workflows"); res.StatusCode != http.StatusOK {
		t.Fatalf("API with the new token: %d", res.StatusCode)
	}
	_, again = s.get(t, app, "/tokens")
	if strings.Contains(textOf(element(t, again, "token-row-1")), "Never") {
		t.Error("last use not shown")
	}
	if !strings.Contains(element(t, again, "token-row-1"), `data-confirm="Revoke “CI deploy”?`) {
		t.Error("revoke does not ask first")
	}

	// Revoke: at once, with a flash.
	res, _ = doForm(t, app, s, "/tokens/1/delete", nil, formOpts{})
	wantStatus(t, res, http.StatusSeeOther)
	if res.Header.Get("Location") != "/tokens" || cookieValue(res, "hookflow_flash") == "" {
		t.Errorf("revoke: Location %q", res.Header.Get("Location"))
	}
	if res := apiGet(t, app, tok, "/api/v1/workflows"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("API with a revoked token: %d", res.StatusCode)
	}
	res, body = doForm(t, app, s, "/tokens/1/delete", nil, formOpts{})
	if res.StatusCode != http.StatusNotFound || !hasTestID(body, "error-page") {
		t.Errorf("revoke twice: %d", res.StatusCode)
	}
}

func TestTokenCreateValidation(t *testing.T) {
	t.Parallel()
	app, _, _ := newUITestServer(t)
	s := signIn(t, app)
	for _, tc := range []struct{ name, want string }{
		{"  ", "Required"},
		{strings.Repeat("n", 201), "Longer than 200 characters"},
	} {
		res, body := doForm(t, app, s, "/tokens", url.Values{"name": {tc.name}}, formOpts{})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if got := textOf(element(t, body, "new-token-name-error")); got != tc.want {
			t.Errorf("error %q, want %q", got, tc.want)
		}
		in := element(t, body, "new-token-name")
		if !strings.Contains(in, `aria-invalid="true"`) || !strings.Contains(in, "new-token-name-error") {
			t.Errorf("name input not marked invalid: %s", in)
		}
		if hasTestID(body, "new-token-value") {
			t.Error("a token was shown")
		}
	}
}

func TestTokenCSRF(t *testing.T) {
	t.Parallel()
	app, _, _ := newUITestServer(t)
	s := signIn(t, app)
	res, _ := doForm(t, app, s, "/tokens", url.Values{"name": {"x"}}, formOpts{NoCSRF: true})
	wantStatus(t, res, http.StatusForbidden)
	doForm(t, app, s, "/tokens", url.Values{"name": {"x"}}, formOpts{})
	res, _ = doForm(t, app, s, "/tokens/1/delete", nil, formOpts{NoCSRF: true})
	wantStatus(t, res, http.StatusForbidden)
	_, body := s.get(t, app, "/tokens")
	mustTestID(t, body, "token-row-1")
}
