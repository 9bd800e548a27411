package engine

import (
	"bytes"
	"strings"

	"github.com/tidwall/gjson"
)

// Content types of rendered replies.
const (
	replyTextPlain = "text/plain; charset=utf-8"
	replyJSON      = "application/json"
)

// CompiledReply is a Reply compiled once per revision: the response node's
// config and the async trigger reply share it. It is immutable and safe for
// concurrent use.
type CompiledReply struct {
	status  int
	headers []replyHeader
	body    replyBody
	// fixed is the reply rendered once, when nothing in it is templated
	// (the default "ok", most async replies).
	fixed *Response
}

type replyHeader struct {
	name  string
	value *Template
	// contentType marks a configured Content-Type header, which replaces
	// the content type derived from the body rather than adding a second one.
	contentType bool
}

// replyBody is the compiled body: none, fixed bytes, a templated string
// (text, or a typed value when it is a single placeholder) or templated JSON.
type replyBody struct {
	static      []byte
	contentType string
	text        *Template
	json        *JSONTemplate
}

// CompileReply checks and compiles r; field prefixes error messages, as in
// "trigger.response.headers[0].value: unterminated {{". A nil r is the
// default reply, 200 text/plain "ok"; a zero status means 200. An absent or
// null body is an empty text/plain body.
func CompileReply(r *Reply, field string) (*CompiledReply, error) {
	if r == nil {
		c := &CompiledReply{
			status: DefaultReplyStatus,
			body:   replyBody{static: []byte(DefaultReplyBody), contentType: replyTextPlain},
		}
		return c, c.fix()
	}
	if err := r.validate(field, true); err != nil {
		return nil, err
	}
	c := &CompiledReply{status: r.Status}
	if c.status == 0 {
		c.status = DefaultReplyStatus
	}
	for i, h := range r.Headers {
		t, err := CompileTemplate(h.Value)
		if err != nil {
			return nil, Errorf(EINVALID, "%s.headers[%d].value: %s", field, i, ErrorMessage(err))
		}
		c.headers = append(c.headers, replyHeader{name: h.Name, value: t, contentType: strings.EqualFold(h.Name, "Content-Type")})
	}
	body, err := compileReplyBody(r.Body, field+".body")
	if err != nil {
		return nil, err
	}
	c.body = body
	return c, c.fix()
}

// fix renders a reply without placeholders once, for every execution.
func (c *CompiledReply) fix() error {
	if c.body.json != nil || c.body.text != nil {
		return nil
	}
	for _, h := range c.headers {
		if !h.value.IsStatic() {
			return nil
		}
	}
	r, err := c.render(nil) // nothing in it reads the scope
	if err != nil {
		return Errorf(EINVALID, "%s", ErrorMessage(err))
	}
	// Shared by every execution: an append must copy, never write into
	// spare capacity.
	r.Headers = r.Headers[:len(r.Headers):len(r.Headers)]
	c.fixed = r
	return nil
}

func compileReplyBody(raw []byte, field string) (replyBody, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		// A UI clearing the body sends null: treat it as no body.
		return replyBody{static: []byte{}, contentType: replyTextPlain}, nil
	}
	if err := CheckJSON(trimmed, MaxJSONDepth); err != nil {
		return replyBody{}, Errorf(EINVALID, "%s: %s", field, ErrorMessage(err))
	}
	if root := gjson.ParseBytes(trimmed); root.Type == gjson.String {
		t, err := CompileTemplate(root.Str)
		if err != nil {
			return replyBody{}, Errorf(EINVALID, "%s: %s", field, ErrorMessage(err))
		}
		if t.IsStatic() {
			return replyBody{static: []byte(root.Str), contentType: replyTextPlain}, nil
		}
		return replyBody{text: t}, nil
	}
	jt, err := compileJSONTemplateAt(trimmed, field)
	if err != nil {
		return replyBody{}, err
	}
	if len(jt.parts) == 0 {
		return replyBody{static: []byte(jt.tail), contentType: replyJSON}, nil
	}
	return replyBody{json: jt}, nil
}

// Fixed returns the reply when nothing in it is templated, or nil: a caller
// may then skip building a scope. Like Render's, the Response is shared.
func (c *CompiledReply) Fixed() *Response { return c.fixed }

// Render renders the reply for one execution. A body that renders to a
// JSON string is sent as text/plain with the string's text; any other value
// as application/json. Header values are rendered as text with control
// characters (CR and LF included) removed, so a value from the request
// cannot split headers. A configured Content-Type header sets ContentType
// instead of being listed in Headers. Errors are ETOOLARGE, when the body
// or a header value renders too large.
//
// The Response and its Headers may be shared between executions: callers
// must not modify them.
func (c *CompiledReply) Render(s *Scope) (*Response, error) {
	if c.fixed != nil {
		return c.fixed, nil
	}
	return c.render(s)
}

func (c *CompiledReply) render(s *Scope) (*Response, error) {
	resp := &Response{Status: c.status, Headers: make([]HeaderValue, 0, len(c.headers))}
	contentType := ""
	for i := range c.headers {
		h := &c.headers[i]
		b, ok := h.value.appendText(nil, s, false, MaxHeaderValueLength)
		if !ok {
			return nil, Errorf(ETOOLARGE, "header %s: rendered value longer than %d bytes", h.name, MaxHeaderValueLength)
		}
		v := string(stripControl(b))
		if h.contentType {
			if v != "" {
				contentType = v
			}
			continue
		}
		resp.Headers = append(resp.Headers, HeaderValue{Name: h.name, Value: v})
	}
	if err := c.body.render(s, resp); err != nil {
		return nil, err
	}
	if contentType != "" {
		resp.ContentType = contentType
	}
	return resp, nil
}

func (b *replyBody) render(s *Scope, resp *Response) error {
	switch {
	case b.json != nil:
		out, err := b.json.Render(s, make([]byte, 0, 256))
		if err != nil {
			return err
		}
		resp.Body, resp.ContentType = out, replyJSON
	case b.text != nil && b.text.single:
		v := s.Resolve(b.text.parts[0].path)
		if v.Type == gjson.String {
			resp.Body, resp.ContentType = []byte(v.Str), replyTextPlain
		} else {
			resp.Body, resp.ContentType = appendValueJSON(nil, v), replyJSON
		}
		if len(resp.Body) > MaxTemplateOutput {
			return errTemplateTooLarge()
		}
	case b.text != nil:
		out, ok := b.text.appendText(nil, s, false, MaxTemplateOutput)
		if !ok {
			return errTemplateTooLarge()
		}
		resp.Body, resp.ContentType = out, replyTextPlain
	default:
		// Shared by every execution: the full slice expression makes any
		// append copy instead of writing into the shared array.
		resp.Body, resp.ContentType = b.static[:len(b.static):len(b.static)], b.contentType
	}
	return nil
}

// stripControl removes ASCII control characters but tab, in place.
func stripControl(b []byte) []byte {
	out := b[:0]
	for _, c := range b {
		if (c >= 0x20 && c != 0x7f) || c == '\t' {
			out = append(out, c)
		}
	}
	return out
}
