package handlers_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/db"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/handlers"
	"github.com/hookflow/hookflow/web"
	"golang.org/x/crypto/bcrypt"
)

// The admin account every UI test server has.
const (
	testEmail    = "admin@example.com"
	testPassword = "correct-horse-battery"
)

// testPasswordHash is the admin's password hashed at bcrypt's lowest cost:
// the hash carries its cost, so engine.CheckPassword verifies it through
// the real sign-in path in a millisecond instead of a quarter second (many
// times more under -race). The production cost is engine.HashPassword's.
var testPasswordHash = sync.OnceValue(func() string {
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
})

// uiServer is a UI test bundle: the app with the real routes over a real
// SQLite database in t.TempDir().
type uiServer struct {
	app   *fiber.App
	store *db.DB
	svc   *engine.Service
	h     *handlers.Handlers
}

// newUITestServer returns the app, its store and service, with the admin
// account testEmail / testPassword created.
func newUITestServer(t *testing.T) (*fiber.App, *db.DB, *engine.Service) {
	s := newUIServer(t)
	return s.app, s.store, s.svc
}

// newUIServer is newUITestServer returning the handlers too, for tests
// that change their settings (throttle, public URL).
func newUIServer(t *testing.T) *uiServer {
	t.Helper()
	ctx := context.Background()
	box, err := db.NewSecretBox([]byte("0123456789abcdef0123"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := db.Open(ctx, filepath.Join(t.TempDir(), "hookflow.db"), box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.CreateUser(ctx, &engine.User{Email: testEmail, PasswordHash: testPasswordHash()}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	svc := engine.NewService(store, store, log)
	h := &handlers.Handlers{
		Svc: svc, Auth: store, Log: log, Ping: store.Ping,
		Throttle:     handlers.NewThrottle(),
		AdminFromEnv: true,
		FirstRun: func(c *fiber.Ctx) bool {
			any, err := store.AnySignIn(c.UserContext())
			return err == nil && !any
		},
	}
	app := web.New(web.Config{}, h, log)
	return &uiServer{app: app, store: store, svc: svc, h: h}
}

// uiSession is a signed-in browser: its session cookie and the page's
// CSRF token.
type uiSession struct {
	Cookie string // "hookflow_session=…"
	CSRF   string
}

var (
	csrfInputRE = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)
	csrfMetaRE  = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)"`)
)

// signIn signs in through the real form (GET /signin for the pre-session
// CSRF cookie and field, then POST /signin) and returns the session cookie
// and the CSRF token of the pages behind it.
func signIn(t *testing.T, app *fiber.App) uiSession {
	t.Helper()
	res, body := send(t, app, httptest.NewRequest(http.MethodGet, "/signin", nil))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /signin: %d", res.StatusCode)
	}
	pre := cookieValue(res, "hookflow_csrf")
	m := csrfInputRE.FindStringSubmatch(body)
	if pre == "" || m == nil {
		t.Fatalf("GET /signin: no CSRF cookie or field")
	}
	form := url.Values{"email": {testEmail}, "password": {testPassword}, "_csrf": {html.UnescapeString(m[1])}}
	req := httptest.NewRequest(http.MethodPost, "/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "hookflow_csrf="+pre)
	res, _ = send(t, app, req)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /signin: %d, want 303", res.StatusCode)
	}
	sess := cookieValue(res, handlers.SessionCookie)
	if sess == "" {
		t.Fatal("POST /signin: no session cookie")
	}
	s := uiSession{Cookie: handlers.SessionCookie + "=" + sess}
	_, body = s.get(t, app, "/")
	mm := csrfMetaRE.FindStringSubmatch(body)
	if mm == nil || mm[1] == "" {
		t.Fatal("GET /: no csrf-token meta tag")
	}
	s.CSRF = html.UnescapeString(mm[1])
	return s
}

// get loads a page with the session.
func (s uiSession) get(t *testing.T, app *fiber.App, path string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Cookie", s.Cookie)
	return send(t, app, req)
}

// getHTMX loads a path as htmx does (HX-Request: true).
func (s uiSession) getHTMX(t *testing.T, app *fiber.App, path string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Cookie", s.Cookie)
	req.Header.Set("HX-Request", "true")
	return send(t, app, req)
}

// formOpts says how doForm sends a form.
type formOpts struct {
	HTMX   bool // send HX-Request and the X-CSRF-Token header instead of _csrf
	NoCSRF bool // send no CSRF token at all
}

// doForm posts a form with the session; the _csrf field is added unless
// opts says otherwise.
func doForm(t *testing.T, app *fiber.App, s uiSession, path string, form url.Values, opts formOpts) (*http.Response, string) {
	t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	if !opts.NoCSRF && !opts.HTMX {
		f.Set("_csrf", s.CSRF)
	}
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if s.Cookie != "" {
		req.Header.Set("Cookie", s.Cookie)
	}
	if opts.HTMX {
		req.Header.Set("HX-Request", "true")
		if !opts.NoCSRF {
			req.Header.Set("X-CSRF-Token", s.CSRF)
		}
	}
	return send(t, app, req)
}

// send runs a request through the app and reads the whole reply.
func send(t *testing.T, app *fiber.App, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// cookieValue returns the value of a cookie the reply sets ("" if none or
// if it is being deleted).
func cookieValue(res *http.Response, name string) string {
	for _, c := range res.Cookies() {
		if c.Name == name && c.MaxAge >= 0 && c.Value != "" {
			return c.Value
		}
	}
	return ""
}

// hasTestID reports whether the page has an element with the data-testid.
func hasTestID(body, id string) bool {
	return strings.Contains(body, `data-testid="`+id+`"`)
}

// mustTestID fails the test when the element is missing.
func mustTestID(t *testing.T, body string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if !hasTestID(body, id) {
			t.Errorf("no element with data-testid=%q", id)
		}
	}
}

// element returns the outer HTML of the first element with the
// data-testid, up to its matching closing tag (good enough for the
// well-formed markup templ writes).
func element(t *testing.T, body, testid string) string {
	t.Helper()
	i := strings.Index(body, `data-testid="`+testid+`"`)
	if i < 0 {
		t.Fatalf("no element with data-testid=%q", testid)
	}
	start := strings.LastIndex(body[:i], "<")
	name := body[start+1:]
	name = name[:strings.IndexAny(name, " \t\n>")]
	openRE := regexp.MustCompile(`<` + name + `[\s>]`)
	depth := 0
	for j := start; j < len(body); {
		open := -1
		if loc := openRE.FindStringIndex(body[j:]); loc != nil {
			open = loc[0]
		}
		end := strings.Index(body[j:], "</"+name+">")
		if end < 0 {
			break
		}
		if open >= 0 && open < end {
			depth++
			j += open + len(name) + 1
			continue
		}
		depth--
		j += end + len(name) + 3
		if depth == 0 {
			return body[start:j]
		}
	}
	return body[start:]
}

var (
	tagRE = regexp.MustCompile(`<[^>]*>`)
	wbrRE = regexp.MustCompile(`<wbr\s*/?>`)
)

// textOf approximates textContent: tags removed, entities decoded,
// whitespace collapsed.
func textOf(fragment string) string {
	// A line-break opportunity is no space.
	fragment = wbrRE.ReplaceAllString(fragment, "")
	return strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(fragment, " "))), " ")
}

// createWorkflow stores a workflow document through the service.
func createWorkflow(t *testing.T, svc *engine.Service, doc string) *engine.Workflow {
	t.Helper()
	w, err := svc.CreateWorkflow(context.Background(), []byte(doc))
	if err != nil {
		t.Fatalf("create workflow: %v", err)
	}
	return w
}

// wantStatus fails the test when the reply's status differs.
func wantStatus(t *testing.T, res *http.Response, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d", res.Request.Method, res.Request.URL, res.StatusCode, want)
	}
}

var (
	scriptTagRE    = regexp.MustCompile(`<script\b[^>]*>`)
	inlineScriptRE = regexp.MustCompile(`<script\b[^>]*>[^<]+</script>`)
	idAttrRE       = regexp.MustCompile(`\sid="([^"]+)"`)
)

// cspSafe fails the test when a page has what the Content-Security-Policy
// blocks (inline scripts, styles, event handlers) or repeats an id.
func cspSafe(t *testing.T, body string) {
	t.Helper()
	for _, tag := range scriptTagRE.FindAllString(body, -1) {
		if !strings.Contains(tag, " src=") {
			t.Errorf("inline script: %s", tag)
		}
	}
	if inlineScriptRE.MatchString(body) {
		t.Error("script element with inline content")
	}
	for _, bad := range []string{" style=", "<style", " onclick=", " onchange=", " onload=", " onsubmit=", "javascript:", " hx-on"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %q, which the CSP forbids", bad)
		}
	}
	seen := map[string]bool{}
	for _, m := range idAttrRE.FindAllStringSubmatch(body, -1) {
		if seen[m[1]] {
			t.Errorf("duplicate id %q", m[1])
		}
		seen[m[1]] = true
	}
}
