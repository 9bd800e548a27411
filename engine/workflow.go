package engine

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Mode says whether a workflow runs inside the request (sync) or in the
// background after the request was stored (async).
type Mode string

// Workflow modes.
const (
	ModeSync  Mode = "sync"
	ModeAsync Mode = "async"
)

// Limits on workflow documents.
const (
	MaxDocumentBytes     = 1 << 20 // 1 MiB of JSON
	MaxNodes             = 200     // nodes in a workflow, branches included
	MaxNodeDepth         = 16      // nesting of branches
	MaxRuleDepth         = 16      // nesting of and/or groups
	MaxTitleLength       = 200     // characters
	MaxFields            = 500     // declared fields per trigger part
	MaxTimeoutSeconds    = 300
	DefaultTimeout       = 30 * time.Second
	DefaultReplyStatus   = 200
	DefaultReplyBody     = "ok"
	MaxNodeKeyLength     = 64
	MaxReplyHeaders      = 50
	MaxHeaderValueLength = 8 << 10
)

// Document is the workflow document of product.md §9: what the admin API
// accepts and returns, and what export and import use.
type Document struct {
	Title          string  `json:"title"`
	Mode           Mode    `json:"mode"`
	Enabled        *bool   `json:"enabled,omitempty"`
	TimeoutSeconds int     `json:"timeoutSeconds,omitempty"`
	Trigger        Trigger `json:"trigger"`
	Nodes          []Node  `json:"nodes"`
}

// IsEnabled reports whether the workflow answers its URL. A document that
// does not say is enabled.
func (d *Document) IsEnabled() bool { return d.Enabled == nil || *d.Enabled }

// Timeout is the sync execution budget.
func (d *Document) Timeout() time.Duration {
	if d.TimeoutSeconds <= 0 {
		return DefaultTimeout
	}
	return time.Duration(d.TimeoutSeconds) * time.Second
}

// Trigger is the webhook: authentication, the declared fields and the async
// reply; who may call it (AllowIPs, Verify) and which requests are retries
// (Dedupe), see trust.go.
type Trigger struct {
	BasicAuth BasicAuth `json:"basicAuth"`
	// Verify checks the sender's signature (product.md §11); nil: off.
	Verify *Verify `json:"verify,omitempty"`
	// AllowIPs lists the address ranges that may call the workflow (§11);
	// empty: any address.
	AllowIPs []string `json:"allowIPs,omitempty"`
	// Dedupe makes a retried request harmless (§12); nil: off.
	Dedupe   *Dedupe `json:"dedupe,omitempty"`
	Headers  []Field `json:"headers"`
	Query    []Field `json:"query"`
	Body     []Field `json:"body"`
	Response *Reply  `json:"response,omitempty"`
	// Samples is a request to try the workflow on (test runs, §17): what
	// the admin pasted to parse, or a captured request.
	Samples *Samples `json:"samples,omitempty"`
}

// Samples is a sample request of the trigger: its headers, its raw query
// string and its raw body (as text).
type Samples struct {
	Headers map[string]string `json:"headers,omitempty"`
	Query   string            `json:"query,omitempty"`
	Body    string            `json:"body,omitempty"`
}

// BasicAuth is the trigger's HTTP Basic Auth setting.
type BasicAuth struct {
	Enabled  bool   `json:"enabled"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// Field is a declared trigger variable: a path in one part of the request and
// the label the variable picker shows.
type Field struct {
	Path  string `json:"path"`
	Alias string `json:"alias,omitempty"`
}

// Label is what the variable picker shows: the alias, else the path.
func (f Field) Label() string {
	if f.Alias != "" {
		return f.Alias
	}
	return f.Path
}

// Reply is a configured HTTP reply: the async trigger's answer, or a
// response node's config. Body is any JSON value: a string is sent as
// text/plain, anything else as application/json.
type Reply struct {
	Status  int             `json:"status"`
	Headers []ReplyHeader   `json:"headers"`
	Body    json.RawMessage `json:"body,omitempty"`
}

// ReplyHeader is one configured reply header; Value may hold templates.
type ReplyHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

var headerNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// ValidHeaderName reports whether name is allowed as a reply header name.
func ValidHeaderName(name string) bool { return headerNameRE.MatchString(name) }

// forbiddenReplyHeaders are the reply headers a flow must not set, by
// lower-cased name, with the spelling error messages use. Webhook replies
// come from the admin UI's own site: a cookie set there reaches the admin's
// browser (and a templated one lets any caller plant one); the framing and
// hop-by-hop headers (RFC 9110 §7.6.1) are the server's to set, and a wrong
// one desynchronises the connection; the security headers the server puts
// on every webhook reply, and those acting on the whole site (HSTS,
// Clear-Site-Data), cannot be replaced by a flow.
var forbiddenReplyHeaders = map[string]string{
	"set-cookie":                "Set-Cookie",
	"set-cookie2":               "Set-Cookie2",
	"content-length":            "Content-Length",
	"transfer-encoding":         "Transfer-Encoding",
	"connection":                "Connection",
	"keep-alive":                "Keep-Alive",
	"proxy-connection":          "Proxy-Connection",
	"te":                        "TE",
	"trailer":                   "Trailer",
	"upgrade":                   "Upgrade",
	"content-security-policy":   "Content-Security-Policy",
	"x-content-type-options":    "X-Content-Type-Options",
	"strict-transport-security": "Strict-Transport-Security",
	"clear-site-data":           "Clear-Site-Data",
}

// ForbiddenReplyHeader reports whether a flow may not set the reply header
// name, and the name as error messages spell it.
func ForbiddenReplyHeader(name string) (string, bool) {
	canonical, bad := forbiddenReplyHeaders[strings.ToLower(name)]
	return canonical, bad
}

// ParseDocument decodes and validates a workflow document. Unknown fields
// are accepted (extensions may add them). The error names the bad field.
func ParseDocument(raw []byte) (*Document, error) {
	if len(raw) > MaxDocumentBytes {
		return nil, Errorf(ETOOLARGE, "document: larger than %d bytes", MaxDocumentBytes)
	}
	if err := CheckJSON(raw, MaxJSONDepth); err != nil {
		return nil, Errorf(EINVALID, "document: %s", ErrorMessage(err))
	}
	d, err := decodeDocument(raw)
	if err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if err := d.checkSpelling(); err != nil {
		return nil, err
	}
	return d, nil
}

// DecodeDocument decodes a stored document (see PrepareDocument) and puts
// its secrets back. Stored documents were validated when they were saved,
// and Compile checks them again before they run, so reading one costs a
// decode only.
func DecodeDocument(stored []byte, secrets Secrets) (*Document, error) {
	d, err := decodeDocument(stored)
	if err != nil {
		return nil, err
	}
	secrets.putInto(d)
	return d, nil
}

func decodeDocument(raw []byte) (*Document, error) {
	var d Document
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&d); err != nil {
		return nil, Errorf(EINVALID, "document: %s", jsonErrorMessage(err))
	}
	return &d, nil
}

// jsonErrorMessage turns an encoding/json error into a message that names
// the field when it can.
func jsonErrorMessage(err error) string {
	var te *json.UnmarshalTypeError
	if ok := asError(err, &te); ok && te.Field != "" {
		return te.Field + ": expected " + jsonKind(te.Type.Kind().String()) + ", got " + te.Value
	}
	var se *json.SyntaxError
	if asError(err, &se) {
		return "invalid JSON at offset " + itoa(int(se.Offset)) + ": " + se.Error()
	}
	return err.Error()
}

func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "a number"
	case k == "string":
		return "a string"
	case k == "bool":
		return "a boolean"
	case k == "slice", k == "array":
		return "an array"
	case k == "struct", k == "map", k == "ptr":
		return "an object"
	}
	return k
}

// Validate checks the document without compiling its nodes' templates
// beyond what their kinds check; Compile runs it too.
func (d *Document) Validate() error {
	_, err := Compile(d)
	return err
}

func (d *Document) validateTop() error {
	var first error
	d.checkTop(false, func(err error) bool { first = err; return false })
	return first
}

// Problems lists every problem of the document's top level and trigger
// (title, mode, timeout, Basic Auth, each declared field, the async reply),
// each an EINVALID *Error naming its field, with the spelling rules a save
// applies (see ParseDocument). Node settings are not included: Validate
// reports the first of those. Forms use it to show every error at once.
func (d *Document) Problems() []error {
	var all []error
	d.checkTop(true, func(err error) bool { all = append(all, err); return true })
	return all
}

// checkSpelling is the first problem of the rules a save applies on top of
// what a stored document must meet to run (header names, spaces in
// paths): stored documents saved before a rule existed still run.
func (d *Document) checkSpelling() error {
	var first error
	d.checkFields(true, true, func(err error) bool { first = err; return false })
	return first
}

var (
	// fieldHeaderRE is an HTTP header name (RFC 9110 token).
	fieldHeaderRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	// quotedKeyRE matches the quoted keys of a path (["first name"]), where
	// spaces are allowed.
	quotedKeyRE = regexp.MustCompile(`\["(?:[^"\\]|\\.)*"\]`)
)

// checkTop reports each top-level problem to report until it returns
// false. strict adds the spelling rules of saves (checkSpelling).
func (d *Document) checkTop(strict bool, report func(error) bool) {
	title := strings.TrimSpace(d.Title)
	switch {
	case title == "":
		if !report(Errorf(EINVALID, "title: required")) {
			return
		}
	case utf8.RuneCountInString(d.Title) > MaxTitleLength:
		if !report(Errorf(EINVALID, "title: longer than %d characters", MaxTitleLength)) {
			return
		}
	}
	if d.Mode != ModeSync && d.Mode != ModeAsync {
		if !report(Errorf(EINVALID, `mode: must be "sync" or "async", got %q`, d.Mode)) {
			return
		}
	}
	if d.TimeoutSeconds < 0 || d.TimeoutSeconds > MaxTimeoutSeconds {
		if !report(Errorf(EINVALID, "timeoutSeconds: must be between 1 and %d", MaxTimeoutSeconds)) {
			return
		}
	}
	t := &d.Trigger
	if t.BasicAuth.Enabled {
		if t.BasicAuth.Username == "" {
			if !report(Errorf(EINVALID, "trigger.basicAuth.username: required when Basic Auth is enabled")) {
				return
			}
		} else if strings.Contains(t.BasicAuth.Username, ":") {
			if !report(Errorf(EINVALID, "trigger.basicAuth.username: must not contain a colon")) {
				return
			}
		}
		if t.BasicAuth.Password == "" {
			if !report(Errorf(EINVALID, "trigger.basicAuth.password: required when Basic Auth is enabled")) {
				return
			}
		}
	}
	if !d.checkFields(strict, false, report) {
		return
	}
	if t.Response != nil {
		if err := t.Response.validate("trigger.response", true); err != nil {
			if !report(err) {
				return
			}
		}
	}
	if err := d.validateTrust(); err != nil {
		report(err)
	}
}

// checkFields checks the declared fields of the trigger, reporting each
// problem; only the spelling rules of saves when onlySpelling is set. It
// returns false when report asked to stop.
func (d *Document) checkFields(strict, onlySpelling bool, report func(error) bool) bool {
	t := &d.Trigger
	for _, part := range []struct {
		name   string
		fields []Field
	}{{"headers", t.Headers}, {"query", t.Query}, {"body", t.Body}} {
		if len(part.fields) > MaxFields {
			if onlySpelling {
				continue
			}
			if !report(Errorf(EINVALID, "trigger.%s: more than %d fields", part.name, MaxFields)) {
				return false
			}
			continue
		}
		seen := make(map[string]bool, len(part.fields))
		for i, f := range part.fields {
			field := "trigger." + part.name + "[" + itoa(i) + "].path"
			var problem error
			path := strings.TrimSpace(f.Path)
			p, err := ParsePath(path)
			switch {
			case path == "":
				problem = Errorf(EINVALID, "%s: required", field)
			case strict && part.name == "headers" && !fieldHeaderRE.MatchString(path):
				problem = Errorf(EINVALID, "%s: %q is not a header name: use letters, digits and dashes, such as X-Request-Id", field, path)
			case strict && strings.ContainsAny(quotedKeyRE.ReplaceAllString(path, ""), " \t\r\n"):
				problem = Errorf(EINVALID, `%s: a path has no spaces, such as order.id or items[0].sku; quote a key that has some: ["first name"]`, field)
			case onlySpelling:
			case err != nil:
				problem = Errorf(EINVALID, "%s: %s", field, ErrorMessage(err))
			default:
				canon := p.String()
				if part.name == "headers" {
					canon = strings.ToLower(canon)
				}
				if seen[canon] {
					problem = Errorf(EINVALID, "%s: duplicate path %q", field, f.Path)
				}
				seen[canon] = true
			}
			if problem != nil && !report(problem) {
				return false
			}
			if !onlySpelling && utf8.RuneCountInString(f.Alias) > MaxTitleLength {
				if !report(Errorf(EINVALID, "trigger.%s[%d].alias: longer than %d characters", part.name, i, MaxTitleLength)) {
					return false
				}
			}
		}
	}
	return true
}

// validate checks a reply's status and headers. When allowDefault is set a
// zero status means the default.
func (r *Reply) validate(field string, allowDefault bool) error {
	if !(allowDefault && r.Status == 0) && (r.Status < 200 || r.Status > 599) {
		return Errorf(EINVALID, "%s.status: must be between 200 and 599, got %d", field, r.Status)
	}
	if len(r.Headers) > MaxReplyHeaders {
		return Errorf(EINVALID, "%s.headers: more than %d headers", field, MaxReplyHeaders)
	}
	for i, h := range r.Headers {
		if !ValidHeaderName(h.Name) {
			return Errorf(EINVALID, "%s.headers[%d].name: %q is not a valid header name", field, i, h.Name)
		}
		if canonical, bad := ForbiddenReplyHeader(h.Name); bad {
			return Errorf(EINVALID, "%s.headers[%d].name: %s is not allowed in webhook replies", field, i, canonical)
		}
		if len(h.Value) > MaxHeaderValueLength {
			return Errorf(EINVALID, "%s.headers[%d].value: longer than %d bytes", field, i, MaxHeaderValueLength)
		}
		if strings.ContainsAny(h.Value, "\r\n") {
			return Errorf(EINVALID, "%s.headers[%d].value: must not contain line breaks", field, i)
		}
	}
	if len(r.Body) > 0 && !json.Valid(r.Body) {
		return Errorf(EINVALID, "%s.body: invalid JSON", field)
	}
	return nil
}
