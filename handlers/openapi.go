package handlers

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"sort"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/views"
	"github.com/tidwall/gjson"
)

// openAPIDoc is the OpenAPI 3.1 description of the admin API (product.md
// §15), kept by hand beside the handlers it describes. A route added to
// web/routes.go under /api/v1 must be described here too: web's
// TestOpenAPIRoutes fails until it is, and the API tests validate every
// request and reply against it.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPIDocument returns the embedded OpenAPI description.
func OpenAPIDocument() []byte { return openAPIDoc }

// OpenAPI is GET /api/v1/openapi.json, without authentication: a client
// generator needs no token.
func (h *Handlers) OpenAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.Send(openAPIDoc)
}

// APIDocsPage is GET /api-docs: the description as a readable page of the
// admin UI (routes, parameters, bodies, replies, examples and schemas),
// rendered on the server: no script, nothing the UI's CSP would refuse.
func (h *Handlers) APIDocsPage(c *fiber.Ctx) error {
	return render(c, fiber.StatusOK, views.APIDocsPage(h.meta(c, "API reference", "api"), apiDocsView()))
}

var (
	apiDocsOnce sync.Once
	apiDocs     views.APIDocsView
)

// apiDocsView reads the embedded description once.
func apiDocsView() views.APIDocsView {
	apiDocsOnce.Do(func() { apiDocs = buildAPIDocs(openAPIDoc) })
	return apiDocs
}

var apiMethods = []string{"get", "put", "post", "delete", "patch"}

// buildAPIDocs turns an OpenAPI document into the page's view: operations
// grouped by their first tag, in the document's order, then the schemas.
func buildAPIDocs(doc []byte) views.APIDocsView {
	root := gjson.ParseBytes(doc)
	v := views.APIDocsView{
		Title:       root.Get("info.title").String(),
		Version:     root.Get("info.version").String(),
		Description: root.Get("info.description").String(),
		SpecURL:     "/api/v1/openapi.json",
	}
	defaultAuth := len(root.Get("security").Array()) > 0
	groups := map[string]*views.APIGroup{}
	var order []string
	root.Get("paths").ForEach(func(path, item gjson.Result) bool {
		shared := item.Get("parameters").Array()
		for _, m := range apiMethods {
			op := item.Get(m)
			if !op.Exists() {
				continue
			}
			o := views.APIOperation{
				ID:     op.Get("operationId").String(),
				Method: strings.ToUpper(m), Path: path.String(),
				Summary: op.Get("summary").String(), Description: op.Get("description").String(),
				Auth: defaultAuth,
			}
			if sec := op.Get("security"); sec.Exists() {
				o.Auth = false
				for _, s := range sec.Array() {
					if s.Get("bearerAuth").Exists() {
						o.Auth = true
					}
				}
			}
			for _, p := range append(append([]gjson.Result{}, shared...), op.Get("parameters").Array()...) {
				p = resolve(root, p)
				o.Params = append(o.Params, views.APIParam{
					Name: p.Get("name").String(), In: p.Get("in").String(), Required: p.Get("required").Bool(),
					Type: schemaLabel(p.Get("schema")), Description: p.Get("description").String(),
				})
			}
			if rb := resolve(root, op.Get("requestBody")); rb.Exists() {
				o.Body = &views.APIBody{Required: rb.Get("required").Bool(), Description: rb.Get("description").String()}
				rb.Get("content").ForEach(func(ct, media gjson.Result) bool {
					o.Body.ContentType, o.Body.Schema, o.Body.SchemaRef = ct.String(), schemaLabel(media.Get("schema")), refName(media.Get("schema"))
					o.Body.Example = example(root, media)
					return false // the first, JSON, is the one shown
				})
			}
			op.Get("responses").ForEach(func(code, r gjson.Result) bool {
				r = resolve(root, r)
				resp := views.APIResponse{Code: code.String(), Description: r.Get("description").String()}
				r.Get("headers").ForEach(func(name, _ gjson.Result) bool {
					resp.Headers = append(resp.Headers, name.String())
					return true
				})
				r.Get("content").ForEach(func(ct, media gjson.Result) bool {
					resp.ContentType, resp.Schema, resp.SchemaRef = ct.String(), schemaLabel(media.Get("schema")), refName(media.Get("schema"))
					resp.Example = example(root, media)
					return false
				})
				o.Responses = append(o.Responses, resp)
				return true
			})
			tag := op.Get("tags.0").String()
			if groups[tag] == nil {
				groups[tag] = &views.APIGroup{Name: tag}
				order = append(order, tag)
			}
			groups[tag].Operations = append(groups[tag].Operations, o)
		}
		return true
	})
	for _, t := range order {
		v.Groups = append(v.Groups, *groups[t])
	}
	root.Get("components.schemas").ForEach(func(name, s gjson.Result) bool {
		sc := views.APISchema{Name: name.String(), Description: s.Get("description").String(), Type: schemaLabel(s)}
		props := map[string]gjson.Result{}
		var names []string
		required := map[string]bool{}
		collect := func(s gjson.Result) {
			for _, r := range s.Get("required").Array() {
				required[r.String()] = true
			}
			s.Get("properties").ForEach(func(k, p gjson.Result) bool {
				if _, ok := props[k.String()]; !ok {
					names = append(names, k.String())
				}
				props[k.String()] = p
				return true
			})
		}
		collect(s)
		for _, part := range s.Get("allOf").Array() {
			if !part.Get("$ref").Exists() {
				collect(part)
			}
		}
		for _, n := range names {
			p := props[n]
			sc.Properties = append(sc.Properties, views.APIProperty{Name: n, Type: schemaLabel(p), Ref: refName(p), Required: required[n],
				Description: p.Get("description").String(), Enum: enumText(p)})
		}
		sc.Example = pretty(s.Get("example"))
		v.Schemas = append(v.Schemas, sc)
		return true
	})
	sort.SliceStable(v.Schemas, func(i, j int) bool { return v.Schemas[i].Name < v.Schemas[j].Name })
	return v
}

// resolve follows a local $ref (#/components/...).
func resolve(root, r gjson.Result) gjson.Result {
	ref := r.Get("$ref").String()
	if !strings.HasPrefix(ref, "#/") {
		return r
	}
	path := strings.ReplaceAll(strings.TrimPrefix(ref, "#/"), "/", ".")
	return root.Get(path)
}

// refName is the schema name a $ref points to, for a link ("" if none).
func refName(s gjson.Result) string {
	if ref := s.Get("$ref").String(); strings.HasPrefix(ref, "#/components/schemas/") {
		return strings.TrimPrefix(ref, "#/components/schemas/")
	}
	if items := s.Get("items"); items.Exists() {
		return refName(items)
	}
	return ""
}

// schemaLabel is a short type for a schema: "string (date-time)",
// "array of Job", "Workflow".
func schemaLabel(s gjson.Result) string {
	switch {
	case !s.Exists():
		return ""
	case s.Get("$ref").Exists():
		return refName(s)
	case s.Get("allOf").Exists():
		var parts []string
		for _, p := range s.Get("allOf").Array() {
			if l := schemaLabel(p); l != "" {
				parts = append(parts, l)
			}
		}
		return strings.Join(parts, " + ")
	case s.Get("oneOf").Exists():
		var parts []string
		for _, p := range s.Get("oneOf").Array() {
			parts = append(parts, schemaLabel(p))
		}
		return strings.Join(parts, " or ")
	}
	t := s.Get("type").String()
	switch t {
	case "":
		return "any JSON value"
	case "array":
		return "array of " + schemaLabel(s.Get("items"))
	}
	if f := s.Get("format").String(); f != "" {
		t += " (" + f + ")"
	}
	return t
}

func enumText(s gjson.Result) string {
	var vals []string
	for _, e := range s.Get("enum").Array() {
		vals = append(vals, e.String())
	}
	return strings.Join(vals, ", ")
}

// example returns a media type's example, else its schema's, indented.
func example(root, media gjson.Result) string {
	if e := media.Get("example"); e.Exists() {
		return pretty(e)
	}
	return pretty(resolve(root, media.Get("schema")).Get("example"))
}

// pretty indents a JSON value, keeping its members' order and its
// numbers' digits.
func pretty(v gjson.Result) string {
	if !v.Exists() {
		return ""
	}
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(v.Raw), "", "  "); err != nil {
		return v.Raw
	}
	return b.String()
}
