package views

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/a-h/templ"

	"github.com/hookflow/hookflow/static"
)

// render renders c, with children when given, and fails the test on error.
func render(t *testing.T, c templ.Component, children templ.Component) string {
	t.Helper()
	ctx := context.Background()
	if children != nil {
		ctx = templ.WithChildren(ctx, children)
	}
	var b bytes.Buffer
	if err := c.Render(ctx, &b); err != nil {
		t.Fatalf("render: %v", err)
	}
	return b.String()
}

// openTag returns the opening tag of the element with the given data-testid.
func openTag(t *testing.T, doc, testid string) string {
	t.Helper()
	re := regexp.MustCompile(`<[a-zA-Z]+\b[^>]*\bdata-testid="` + regexp.QuoteMeta(testid) + `"[^>]*>`)
	tags := re.FindAllString(doc, -1)
	if len(tags) != 1 {
		t.Fatalf("want one element with data-testid=%q, found %d", testid, len(tags))
	}
	return tags[0]
}

// attr returns an attribute's unescaped value from an opening tag; ok is
// false when it is absent. Bare boolean attributes give "".
func attr(tag, name string) (string, bool) {
	re := regexp.MustCompile(`\s` + regexp.QuoteMeta(name) + `(?:="([^"]*)")?(?:[\s>/])`)
	m := re.FindStringSubmatch(tag)
	if m == nil {
		return "", false
	}
	return html.UnescapeString(m[1]), true
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// text approximates textContent: tags removed, whitespace collapsed.
func text(fragment string) string {
	return strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(fragment, ""))), " ")
}

// assertCSPSafe checks that markup needs neither 'unsafe-inline' scripts nor styles.
func assertCSPSafe(t *testing.T, doc string) {
	t.Helper()
	for _, tag := range regexp.MustCompile(`<script\b[^>]*>`).FindAllString(doc, -1) {
		if _, ok := attr(tag, "src"); !ok {
			t.Errorf("inline script without src: %s", tag)
		}
	}
	if n := strings.Count(doc, "<script"); n != strings.Count(doc, "</script>") {
		t.Errorf("unbalanced script tags")
	}
	if regexp.MustCompile(`<script\b[^>]*>[^<]+</script>`).MatchString(doc) {
		t.Error("script element with inline content")
	}
	for _, bad := range []string{" style=", "<style", " onclick=", " onload=", " onsubmit=", "javascript:", " hx-on"} {
		if strings.Contains(doc, bad) {
			t.Errorf("markup contains %q, which the CSP forbids", bad)
		}
	}
}

func signedIn() PageMeta {
	return PageMeta{
		Title:     "Workflows",
		CSRFToken: `tok"<&>`,
		SignedIn:  true,
		UserEmail: "admin@example.com",
		Active:    "workflows",
	}
}

func TestLayoutHead(t *testing.T) {
	t.Parallel()
	doc := render(t, Layout(signedIn()), templ.Raw(`<p id="child">hello</p>`))

	if !strings.HasPrefix(strings.ToLower(doc), "<!doctype html>") {
		t.Errorf("document does not start with a doctype: %.40s", doc)
	}
	for _, want := range []string{
		`<html lang="en">`,
		`<meta charset="utf-8">`,
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		`<title>Workflows · Hookflow</title>`,
		`<meta name="color-scheme" content="light dark">`,
		`<meta name="csrf-token" content="tok&#34;&lt;&amp;&gt;">`,
		`<link rel="stylesheet" href="` + static.URL("app.css") + `">`,
		`<link rel="icon" href="` + static.URL("favicon.svg") + `" type="image/svg+xml">`,
		`<script src="` + static.URL("htmx-2.0.11.min.js") + `" defer></script>`,
		`<script src="` + static.URL("app.js") + `" defer></script>`,
		`<main id="main" class="app-main" tabindex="-1"><p id="child">hello</p></main>`,
		`<a class="skip-link" href="#main">`,
		`id="announcer"`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("layout lacks %s", want)
		}
	}
	assertCSPSafe(t, doc)
}

func TestLayoutHTMXConfig(t *testing.T) {
	t.Parallel()
	doc := render(t, Layout(PageMeta{}), nil)
	m := regexp.MustCompile(`<meta name="htmx-config" content="([^"]*)">`).FindStringSubmatch(doc)
	if m == nil {
		t.Fatal("no htmx-config meta tag")
	}
	var cfg struct {
		ResponseHandling []struct {
			Code  string `json:"code"`
			Swap  bool   `json:"swap"`
			Error *bool  `json:"error"`
		} `json:"responseHandling"`
		IncludeIndicatorStyles *bool `json:"includeIndicatorStyles"`
		AllowEval              *bool `json:"allowEval"`
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &cfg); err != nil {
		t.Fatalf("htmx-config is not JSON: %v", err)
	}
	if cfg.AllowEval == nil || *cfg.AllowEval {
		t.Error("allowEval must be false (CSP)")
	}
	if cfg.IncludeIndicatorStyles == nil || *cfg.IncludeIndicatorStyles {
		t.Error("includeIndicatorStyles must be false (CSP)")
	}
	// htmx uses the first matching rule: 204 must not swap, 422 must swap
	// without being an error, other 4xx/5xx swap (the server retargets them
	// into #flash) and count as errors.
	first := func(status string) (swap bool, isErr bool) {
		for _, r := range cfg.ResponseHandling {
			if regexp.MustCompile("^" + r.Code + "$").MatchString(status) {
				return r.Swap, r.Error != nil && *r.Error
			}
		}
		t.Fatalf("no responseHandling rule for %s", status)
		return false, false
	}
	for _, tt := range []struct {
		status      string
		swap, isErr bool
	}{
		{"200", true, false},
		{"204", false, false},
		{"302", true, false},
		{"400", true, true},
		{"422", true, false},
		{"500", true, true},
	} {
		if swap, isErr := first(tt.status); swap != tt.swap || isErr != tt.isErr {
			t.Errorf("status %s: swap=%v error=%v, want swap=%v error=%v", tt.status, swap, isErr, tt.swap, tt.isErr)
		}
	}
}

func TestLayoutNav(t *testing.T) {
	t.Parallel()
	tests := []struct {
		active      string
		currentLink string
	}{
		{"workflows", "nav-workflows"},
		{"tokens", "nav-tokens"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run("active="+tt.active, func(t *testing.T) {
			t.Parallel()
			m := signedIn()
			m.Active = tt.active
			doc := render(t, Layout(m), nil)
			for id, href := range map[string]string{"nav-workflows": "/", "nav-tokens": "/tokens"} {
				tag := openTag(t, doc, id)
				if got, _ := attr(tag, "href"); got != href {
					t.Errorf("%s href = %q, want %q", id, got, href)
				}
				cur, ok := attr(tag, "aria-current")
				if id == tt.currentLink && cur != "page" {
					t.Errorf("%s lacks aria-current=page", id)
				}
				if id != tt.currentLink && ok {
					t.Errorf("%s has aria-current but is not active", id)
				}
			}
			if !strings.Contains(doc, `>admin@example.com</span>`) {
				t.Error("signed-in email not shown")
			}
			form := regexp.MustCompile(`<form[^>]*action="/signout"[^>]*>.*?</form>`).FindString(doc)
			if form == "" || !strings.Contains(form, `method="post"`) {
				t.Fatalf("no POST sign-out form: %q", form)
			}
			if !strings.Contains(form, `<input type="hidden" name="_csrf" value="tok&#34;&lt;&amp;&gt;">`) {
				t.Errorf("sign-out form lacks the _csrf input: %s", form)
			}
			if tag := openTag(t, form, "nav-signout"); !strings.Contains(tag, `type="submit"`) {
				t.Errorf("sign-out button is not a submit button: %s", tag)
			}
		})
	}
}

func TestLayoutSignedOutHasNoNav(t *testing.T) {
	t.Parallel()
	doc := render(t, Layout(PageMeta{Title: "Sign in"}), nil)
	for _, absent := range []string{"nav-workflows", "nav-tokens", "nav-signout", "/signout", "app-header"} {
		if strings.Contains(doc, absent) {
			t.Errorf("signed-out layout contains %q", absent)
		}
	}
}

func TestLayoutTitleDefault(t *testing.T) {
	t.Parallel()
	doc := render(t, Layout(PageMeta{}), nil)
	if !strings.Contains(doc, "<title>Hookflow</title>") {
		t.Error("empty title should give just Hookflow")
	}
}

func TestLayoutFlash(t *testing.T) {
	t.Parallel()
	m := signedIn()
	m.Flash = []Flash{
		{Kind: "success", Message: "Saved <b>it</b>"},
		{Kind: "error", Message: "Broken"},
		{Kind: "weird", Message: "Note"},
	}
	doc := render(t, Layout(m), nil)

	region := openTag(t, doc, "flash-region")
	for name, want := range map[string]string{"id": "flash", "role": "status", "aria-live": "polite"} {
		if got, _ := attr(region, name); got != want {
			t.Errorf("flash region %s = %q, want %q", name, got, want)
		}
	}
	success := openTag(t, doc, "flash-success")
	if _, ok := attr(success, "role"); ok {
		t.Errorf("success flash should not interrupt (no role): %s", success)
	}
	if got, _ := attr(success, "data-flash"); got != "success" {
		t.Errorf("success flash data-flash = %q", got)
	}
	if !strings.Contains(doc, "Saved &lt;b&gt;it&lt;/b&gt;") {
		t.Error("flash message is not escaped")
	}
	errTag := openTag(t, doc, "flash-error")
	if got, _ := attr(errTag, "role"); got != "alert" {
		t.Errorf("error flash role = %q, want alert", got)
	}
	info := openTag(t, doc, "flash-info")
	if got, _ := attr(info, "class"); got != "flash flash-info" {
		t.Errorf("unknown kind should render as info, class = %q", got)
	}
	if n := strings.Count(doc, "data-dismiss"); n != 3 {
		t.Errorf("want a dismiss button per flash, got %d", n)
	}
}

func TestFlashMessagesOOB(t *testing.T) {
	t.Parallel()
	doc := render(t, FlashMessages([]Flash{{Kind: "error", Message: "Nope"}}), nil)
	if !strings.HasPrefix(doc, `<div hx-swap-oob="innerHTML:#flash">`) {
		t.Errorf("not an out-of-band fragment for #flash: %.80s", doc)
	}
	if tag := openTag(t, doc, "flash-error"); !strings.Contains(tag, `role="alert"`) {
		t.Errorf("error flash lacks role=alert: %s", tag)
	}
	if strings.Contains(doc, `id="flash"`) {
		t.Error("the OOB wrapper must not duplicate the #flash id")
	}
	empty := render(t, FlashMessages(nil), nil)
	if empty != `<div hx-swap-oob="innerHTML:#flash"></div>` {
		t.Errorf("empty list should clear the region, got %q", empty)
	}
}

func TestErrorPage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		m         PageMeta
		status    int
		message   string
		title     string
		wantMsg   string
		linkLabel string
	}{
		{"not found default", signedIn(), 404, "", "Workflows · Hookflow", "does not exist", "Back to workflows"},
		{"server error signed out", PageMeta{}, 500, "", "Something went wrong · Hookflow", "could not complete", "Go to Hookflow"},
		{"custom message", PageMeta{}, 409, "Revision <2> conflicts", "Conflict · Hookflow", "Revision &lt;2&gt; conflicts", "Go to Hookflow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := render(t, ErrorPage(tt.m, tt.status, tt.message), nil)
			if !strings.Contains(doc, "<title>"+tt.title+"</title>") {
				t.Errorf("title: want %q", tt.title)
			}
			status := regexp.MustCompile(`data-testid="error-status">(\d+)<`).FindStringSubmatch(doc)
			if status == nil || status[1] != strconv.Itoa(tt.status) {
				t.Errorf("status shown = %v, want %d", status, tt.status)
			}
			msg := regexp.MustCompile(`data-testid="error-message">([^<]*)<`).FindStringSubmatch(doc)
			if msg == nil || !strings.Contains(msg[1], tt.wantMsg) {
				t.Errorf("message = %v, want it to contain %q", msg, tt.wantMsg)
			}
			home := openTag(t, doc, "error-home")
			if href, _ := attr(home, "href"); href != "/" {
				t.Errorf("home link href = %q", href)
			}
			if !strings.Contains(doc, tt.linkLabel) {
				t.Errorf("home link label %q missing", tt.linkLabel)
			}
			assertCSPSafe(t, doc)
		})
	}
}

func TestSignInPage(t *testing.T) {
	t.Parallel()
	const generated = `This is a new Hookflow. The admin password was generated and printed once to the server log at first start (look for "admin account created"). Set HOOKFLOW_ADMIN_EMAIL and HOOKFLOW_ADMIN_PASSWORD before the first start to choose your own.`
	const fromEnv = `Sign in with HOOKFLOW_ADMIN_EMAIL and HOOKFLOW_ADMIN_PASSWORD, set when Hookflow first started.`
	tests := []struct {
		name     string
		email    string
		errMsg   string
		firstRun FirstRunHint
		hint     string
	}{
		{"fresh", "", "", FirstRunHint{}, ""},
		{"failed attempt", `a"b@example.com`, "Wrong email or password.", FirstRunHint{}, ""},
		{"first run generated", "", "", FirstRunHint{Show: true}, generated},
		{"first run from env", "", "", FirstRunHint{Show: true, FromEnv: true}, fromEnv},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := render(t, SignInPage(PageMeta{CSRFToken: "tok-1"}, tt.email, tt.errMsg, tt.firstRun), nil)
			assertCSPSafe(t, doc)
			if !strings.Contains(doc, "<title>Sign in · Hookflow</title>") {
				t.Error("title is not Sign in")
			}
			form := openTag(t, doc, "signin-form")
			if got, _ := attr(form, "method"); got != "post" {
				t.Errorf("form method = %q", got)
			}
			// No action: the form posts to the page's own URL, /signin with
			// its ?next= (the handler reads next from the query).
			if got, ok := attr(form, "action"); ok {
				t.Errorf("form action = %q, want none", got)
			}
			if !strings.Contains(doc, `<input type="hidden" name="_csrf" value="tok-1">`) {
				t.Error("no hidden _csrf input")
			}
			email := openTag(t, doc, "signin-email")
			password := openTag(t, doc, "signin-password")
			for tag, want := range map[string]map[string]string{
				email:    {"type": "email", "name": "email", "autocomplete": "username", "id": "signin-email"},
				password: {"type": "password", "name": "password", "autocomplete": "current-password", "id": "signin-password"},
			} {
				for name, v := range want {
					if got, _ := attr(tag, name); got != v {
						t.Errorf("%s: %s = %q, want %q", tag, name, got, v)
					}
				}
				if _, ok := attr(tag, "required"); !ok {
					t.Errorf("%s is not required", tag)
				}
				id, _ := attr(tag, "id")
				if !strings.Contains(doc, `<label for="`+id+`">`) {
					t.Errorf("no label for %s", id)
				}
			}
			if got, _ := attr(email, "value"); got != tt.email {
				t.Errorf("email value = %q, want %q", got, tt.email)
			}
			// Focus goes where typing continues: email first, password after a failed attempt.
			_, emailFocus := attr(email, "autofocus")
			_, passwordFocus := attr(password, "autofocus")
			if emailFocus != (tt.email == "") || passwordFocus != (tt.email != "") {
				t.Errorf("autofocus email=%v password=%v for email %q", emailFocus, passwordFocus, tt.email)
			}
			if submit := openTag(t, doc, "signin-submit"); !strings.Contains(submit, `type="submit"`) {
				t.Errorf("submit button: %s", submit)
			}

			if tt.errMsg == "" {
				if strings.Contains(doc, "signin-error") || strings.Contains(doc, "aria-invalid") {
					t.Error("error markup without an error")
				}
			} else {
				errTag := openTag(t, doc, "signin-error")
				if got, _ := attr(errTag, "role"); got != "alert" {
					t.Errorf("error role = %q", got)
				}
				if !strings.Contains(doc, tt.errMsg) {
					t.Error("error message not shown")
				}
				for _, tag := range []string{email, password} {
					if got, _ := attr(tag, "aria-invalid"); got != "true" {
						t.Errorf("%s lacks aria-invalid", tag)
					}
					if got, _ := attr(tag, "aria-describedby"); got != "signin-error" {
						t.Errorf("%s aria-describedby = %q", tag, got)
					}
				}
			}

			if tt.hint == "" {
				if strings.Contains(doc, "firstrun-hint") {
					t.Error("first-run hint shown when not asked")
				}
				return
			}
			hint := regexp.MustCompile(`(?s)data-testid="firstrun-hint">(.*?)</aside>`).FindStringSubmatch(doc)
			if hint == nil || !strings.Contains(text(hint[1]), tt.hint) {
				t.Errorf("hint text = %q, want it to contain %q", hint, tt.hint)
			}
		})
	}
}
