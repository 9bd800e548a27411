package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/hookflow/hookflow/handlers"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/tidwall/gjson"
)

// The admin API's OpenAPI description (handlers/openapi.json) is checked
// both ways against the router (TestOpenAPIRoutes), and every /api/v1
// request these tests send through apiEnv.send, with its reply, is
// validated against it (checkOpenAPI) with libopenapi-validator, which
// implements OpenAPI 3.1 and JSON Schema 2020-12.

var (
	openAPIOnce      sync.Once
	openAPIValidator validator.Validator
	openAPIErr       error
	// openAPIMu serialises validations: the tests run in parallel and the
	// validator's caches are not documented as safe for concurrent use.
	openAPIMu sync.Mutex
)

func openAPI(t testing.TB) validator.Validator {
	t.Helper()
	openAPIOnce.Do(func() {
		doc, err := libopenapi.NewDocument(handlers.OpenAPIDocument())
		if err != nil {
			openAPIErr = err
			return
		}
		v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
		if len(errs) > 0 {
			openAPIErr = fmt.Errorf("%v", errs)
			return
		}
		openAPIValidator = v
	})
	if openAPIErr != nil {
		t.Fatalf("OpenAPI description: %v", openAPIErr)
	}
	return openAPIValidator
}

// checkOpenAPI validates one exchange with the admin API against the
// description: the reply always (its status must be described, its body
// match the schema), the request when the server accepted it (2xx; the
// tests send invalid requests on purpose to get the 4xx replies).
func checkOpenAPI(t testing.TB, req *http.Request, reqBody []byte, status int, header http.Header, body []byte) {
	t.Helper()
	checkOpenAPIExchange(t, req, reqBody, status, header, body, true)
}

// checkOpenAPIExchange is checkOpenAPI, with the request checked or not.
func checkOpenAPIExchange(t testing.TB, req *http.Request, reqBody []byte, status int, header http.Header, body []byte, checkRequest bool) {
	t.Helper()
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") {
		return
	}
	v := openAPI(t)
	clone := func() *http.Request {
		r := req.Clone(req.Context())
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
		r.ContentLength = int64(len(reqBody))
		return r
	}
	resp := &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)), Request: req}
	openAPIMu.Lock()
	defer openAPIMu.Unlock()
	if ok, errs := v.ValidateHttpResponse(clone(), resp); !ok {
		if status == http.StatusNotFound && isUnknownPath(errs) {
			return // a request to a route that does not exist
		}
		t.Errorf("%s %s → %d does not match the OpenAPI description:%s\nbody: %.500s", req.Method, req.URL, status, validationText(errs), body)
	}
	if checkRequest && status >= 200 && status < 300 {
		if ok, errs := v.ValidateHttpRequest(clone()); !ok {
			t.Errorf("%s %s (accepted, %d) does not match the OpenAPI description:%s", req.Method, req.URL, status, validationText(errs))
		}
	}
}

type validatorError = verrors.ValidationError

func isUnknownPath(errs []*validatorError) bool {
	for _, e := range errs {
		if !strings.Contains(strings.ToLower(e.Message), "not found") && !strings.Contains(strings.ToLower(e.Message), "path") {
			return false
		}
	}
	return true
}

func validationText(errs []*validatorError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n  - %s", e.Message)
		if e.Reason != "" {
			fmt.Fprintf(&b, ": %s", e.Reason)
		}
		for _, s := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n      %s: %s", s.FieldPath, s.Reason)
		}
	}
	return b.String()
}

// TestOpenAPIDocument: the description is served without a token, as
// embedded, and is a valid OpenAPI 3.1 document; its examples match their
// schemas.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	e := apiSetup(t)
	r := e.send(t, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil))
	if r.status != 200 || !bytes.Equal(r.body, handlers.OpenAPIDocument()) {
		t.Fatalf("openapi.json: %d %.200s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	if v := gjson.GetBytes(r.body, "openapi").String(); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi %q, want 3.1.x", v)
	}
	openAPIMu.Lock()
	ok, errs := openAPI(t).ValidateDocument()
	openAPIMu.Unlock()
	if !ok {
		t.Errorf("not a valid OpenAPI 3.1 document:%s", validationText(errs))
	}
	// The §9 example is the request body example of create and replace,
	// exactly as product.md writes it.
	for _, op := range []string{"post", "put"} {
		path := map[string]string{"post": "/api/v1/workflows", "put": "/api/v1/workflows/{id}"}[op]
		ex := gjson.GetBytes(r.body, "paths."+gjsonEscape(path)+"."+op+".requestBody.content.application/json.example")
		if !jsonEqual(t, ex.Raw, apiExampleDoc) {
			t.Errorf("%s %s: the request example is not the §9 document", op, path)
		}
	}
}

func gjsonEscape(path string) string {
	return strings.NewReplacer(".", `\.`, "{", `\{`, "}", `\}`).Replace(path)
}

func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	dx, dy := json.NewDecoder(strings.NewReader(a)), json.NewDecoder(strings.NewReader(b))
	dx.UseNumber()
	dy.UseNumber()
	if dx.Decode(&x) != nil || dy.Decode(&y) != nil {
		return false
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return bytes.Equal(xs, ys)
}

// TestOpenAPIExamples: every example of the description, sent as a reply
// of its operation, matches the schema (an example that drifted from the
// schema would mislead a client author).
func TestOpenAPIExamples(t *testing.T) {
	t.Parallel()
	doc := gjson.ParseBytes(handlers.OpenAPIDocument())
	n := 0
	doc.Get("paths").ForEach(func(path, item gjson.Result) bool {
		for _, m := range []string{"get", "put", "post", "delete", "patch"} {
			op := item.Get(m)
			if !op.Exists() || strings.Contains(path.String(), "webhook") {
				continue
			}
			op.Get("responses").ForEach(func(code, r gjson.Result) bool {
				if ref := r.Get("$ref").String(); ref != "" {
					r = doc.Get(strings.ReplaceAll(strings.TrimPrefix(ref, "#/"), "/", "."))
				}
				media := r.Get(`content.application/json`)
				ex := media.Get("example")
				if !ex.Exists() {
					if ref := media.Get("schema.$ref").String(); ref != "" {
						ex = doc.Get(strings.ReplaceAll(strings.TrimPrefix(ref, "#/"), "/", ".") + ".example")
					}
				}
				if !ex.Exists() {
					return true
				}
				target := strings.NewReplacer("{id}", "1").Replace(path.String())
				req := httptest.NewRequest(strings.ToUpper(m), target, nil)
				h := http.Header{"Content-Type": {"application/json"}}
				r.Get("headers").ForEach(func(name, hv gjson.Result) bool {
					h.Set(name.String(), hv.Get("example").String())
					return true
				})
				var status int
				fmt.Sscan(code.String(), &status)
				checkOpenAPIExchange(t, req, nil, status, h, []byte(ex.Raw), false)
				n++
				return true
			})
		}
		return true
	})
	if n < 15 {
		t.Errorf("only %d reply examples checked", n)
	}
}

var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// TestOpenAPIRoutes walks the router: every /api/v1 route must be
// described, and every described /api/v1 operation must be a route. A new
// route fails here until it is added to handlers/openapi.json (one place:
// the path, its operations, their replies).
func TestOpenAPIRoutes(t *testing.T) {
	t.Parallel()
	e := apiSetup(t)
	routes := map[string]bool{}
	for _, r := range e.app.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Method == http.MethodHead || r.Method == http.MethodConnect || r.Method == http.MethodTrace {
			continue
		}
		routes[r.Method+" "+fiberParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	described := map[string]bool{}
	gjson.GetBytes(handlers.OpenAPIDocument(), "paths").ForEach(func(path, item gjson.Result) bool {
		if !strings.HasPrefix(path.String(), "/api/v1/") {
			return true
		}
		item.ForEach(func(m, _ gjson.Result) bool {
			switch m.String() {
			case "get", "put", "post", "delete", "patch", "options":
				described[strings.ToUpper(m.String())+" "+path.String()] = true
			}
			return true
		})
		return true
	})
	var missing, absent []string
	for r := range routes {
		if !described[r] {
			missing = append(missing, r)
		}
	}
	for d := range described {
		if !routes[d] {
			absent = append(absent, d)
		}
	}
	sort.Strings(missing)
	sort.Strings(absent)
	for _, r := range missing {
		t.Errorf("route %s is not in handlers/openapi.json: describe it (path, parameters, request body, replies with their schemas)", r)
	}
	for _, d := range absent {
		t.Errorf("handlers/openapi.json describes %s, which is no route", d)
	}
	if len(routes) < 12 {
		t.Errorf("only %d /api/v1 routes found: %v", len(routes), routes)
	}
}

// TestOpenAPIEveryRoute calls every /api/v1 operation once with the real
// server, in its success and its usual failures, so that each reply is
// validated against the description (apiEnv.send does it), whatever the
// other tests cover.
func TestOpenAPIEveryRoute(t *testing.T) {
	t.Parallel()
	e := apiSetup(t)
	w := e.create(t, apiExampleDoc)
	id := w.Get("id").String()
	key := w.Get("key").String()
	want := func(r apiReply, status int) {
		t.Helper()
		if r.status != status {
			t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
		}
	}
	want(e.call(t, http.MethodGet, "/api/v1/workflows", ""), 200)
	want(e.call(t, http.MethodGet, "/api/v1/workflows/"+id, ""), 200)
	want(e.call(t, http.MethodPut, "/api/v1/workflows/"+id, apiExampleDoc), 200)
	want(e.call(t, http.MethodPut, "/api/v1/workflows/"+id, `{"title":"x","mode":"sometimes"}`), 400)
	want(e.call(t, http.MethodGet, "/api/v1/workflows/999", ""), 404)

	for _, order := range []string{`{"order":{"id":1,"status":"paid"}}`, `{"order":{"id":2,"status":"open"}}`} {
		e.trigger(t, key, "?source=test", order, "Authorization", "Basic aG9vazpzM2NyZXQ=", "X-Request-Id", "r-1")
	}
	e.trigger(t, key, "", "\xff\xfe", "Authorization", "Basic aG9vazpzM2NyZXQ=", "Content-Type", "application/octet-stream")
	list := e.call(t, http.MethodGet, "/api/v1/workflows/"+id+"/executions?limit=2", "")
	want(list, 200)
	next := list.json().Get("next").String()
	want(e.call(t, http.MethodGet, "/api/v1/workflows/"+id+"/executions?status=resolved&before="+next, ""), 200)
	want(e.call(t, http.MethodGet, "/api/v1/workflows/"+id+"/executions?limit=0", ""), 400)
	for _, it := range list.json().Get("items").Array() {
		want(e.call(t, http.MethodGet, "/api/v1/executions/"+it.Get("id").String(), ""), 200)
	}
	exec := list.json().Get("items.0.id").String()
	want(e.call(t, http.MethodPost, "/api/v1/executions/"+exec+"/replay", ""), 201)
	want(e.call(t, http.MethodPost, "/api/v1/executions/"+exec+"/retry", ""), 409)
	want(e.call(t, http.MethodPost, "/api/v1/executions/"+exec+"/cancel", ""), 409)
	want(e.call(t, http.MethodGet, "/api/v1/executions/1", ""), 404)
	want(e.call(t, http.MethodPost, "/api/v1/workflows/"+id+"/replay", `{"status":"resolved","since":"2000-01-01T00:00:00Z"}`), 202)
	want(e.call(t, http.MethodPost, "/api/v1/workflows/"+id+"/replay", ""), 202)
	want(e.call(t, http.MethodPost, "/api/v1/workflows/"+id+"/replay", `{"status":"sometimes"}`), 400)

	// Without a token.
	want(e.send(t, httptest.NewRequest(http.MethodGet, "/api/v1/workflows", nil)), 401)
	want(e.call(t, http.MethodDelete, "/api/v1/workflows/"+id, ""), 204)
	want(e.call(t, http.MethodDelete, "/api/v1/workflows/"+id, ""), 404)
	// A create that is not JSON.
	req := httptest.NewRequest(http.MethodPost, "/api/v1/workflows", strings.NewReader(apiExampleDoc))
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "text/plain")
	want(e.send(t, req), 415)
}
