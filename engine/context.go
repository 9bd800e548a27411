package engine

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hookflow/hookflow/engine/multipartbody"
	"github.com/hookflow/hookflow/engine/xmlbody"
)

// Limits applied when a request becomes a trigger context.
const (
	MaxHeaderCount = 100
)

// IsJSONContentType reports whether a Content-Type names JSON:
// application/json or any */*+json type, parameters ignored.
func IsJSONContentType(ct string) bool {
	mt := mediaType(ct)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// IsFormContentType reports whether a Content-Type is a URL-encoded form.
func IsFormContentType(ct string) bool {
	return mediaType(ct) == "application/x-www-form-urlencoded"
}

// IsXMLContentType reports whether a Content-Type names XML:
// application/xml, text/xml or any */*+xml type, parameters ignored.
func IsXMLContentType(ct string) bool {
	mt := mediaType(ct)
	return mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml")
}

// IsMultipartContentType reports whether a Content-Type is
// multipart/form-data.
func IsMultipartContentType(ct string) bool {
	return mediaType(ct) == "multipart/form-data"
}

func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// BuildContext turns a request into the trigger context of product.md §3,
// as JSON: {"headers":{…},"query":{…},"body":…}. Header names are
// lower-cased and repeated headers joined with ", "; the query and form
// bodies go through ParseQS; JSON bodies are kept byte for byte (big numbers
// stay exact); XML bodies are converted by engine/xmlbody (no DTD or entity
// is ever read); multipart/form-data fields are parsed like a form, a file
// part giving {"filename","contentType","size"} (engine/multipartbody: the
// bytes stay in the raw body, nothing touches the disk); an empty body or
// another content type gives {}. $context.rawBody is not part of it: the
// scope reads it from the raw body (Scope.RawBody).
// A body that is not what its content type says is an EINVALID error.
func BuildContext(req *Request) ([]byte, error) {
	if len(req.Headers) > MaxHeaderCount {
		return nil, Errorf(EINVALID, "more than %d request headers", MaxHeaderCount)
	}
	query, err := ParseQS(req.Query, DefaultQSOptions)
	if err != nil {
		return nil, err
	}
	ct := req.ContentType()
	var body []byte
	switch {
	case len(req.Body) == 0 || isBlank(req.Body):
		body = emptyObject
	case IsJSONContentType(ct):
		if err := CheckJSON(req.Body, MaxJSONDepth); err != nil {
			return nil, Errorf(EINVALID, "the body is not valid JSON, but Content-Type says it is (%s)", ErrorMessage(err))
		}
		body = trimSpace(req.Body)
	case IsFormContentType(ct):
		if body, err = ParseQS(string(req.Body), DefaultQSOptions); err != nil {
			return nil, Errorf(EINVALID, "form body: %s", ErrorMessage(err))
		}
	case IsXMLContentType(ct):
		if body, err = xmlBody(req.Body); err != nil {
			return nil, err
		}
	case IsMultipartContentType(ct):
		if body, err = multipartBody(req.Body, ct); err != nil {
			return nil, err
		}
	default:
		body = emptyObject
	}
	out := make([]byte, 0, 64+len(req.Headers)*48+len(query)+len(body))
	out = append(out, `{"headers":`...)
	out = AppendHeadersJSON(out, req.Headers)
	out = append(out, `,"query":`...)
	out = append(out, query...)
	out = append(out, `,"body":`...)
	out = append(out, body...)
	out = append(out, '}')
	return out, nil
}

var emptyObject = []byte("{}")

// xmlBody converts an XML body to the JSON of $context.body. The JSON may
// be larger than the XML (escapes, "@" and "#text" keys), within a bound
// that grows with the body, which the body limit bounds in turn.
func xmlBody(raw []byte) ([]byte, error) {
	out, err := xmlbody.Parse(raw, 64<<10+8*len(raw))
	switch {
	case errors.Is(err, xmlbody.ErrTooLarge):
		return nil, Errorf(EINVALID, "the XML body is too large once converted to JSON")
	case err != nil:
		return nil, &xmlError{err: Errorf(EINVALID, "the body is not valid XML, but Content-Type says it is (%s)", err.Error()), detail: err.Error()}
	}
	// Elements repeated at every level nest twice as deep in JSON (an
	// array in each object): the context stays within what every later
	// walk over it accepts.
	if err := CheckJSON(out, MaxJSONDepth); err != nil {
		return nil, Errorf(EINVALID, "the XML body nests too deeply once converted to JSON (%s)", ErrorMessage(err))
	}
	return out, nil
}

// xmlError is a body that is not well-formed XML; detail is xmlbody's
// message alone ("invalid XML at line 2, column 5: ...").
type xmlError struct {
	err    *Error
	detail string
}

func (e *xmlError) Error() string { return e.err.Message }
func (e *xmlError) Unwrap() error { return e.err }

// multipartBody reads the fields of a multipart/form-data body into the
// JSON of $context.body.
func multipartBody(raw []byte, contentType string) ([]byte, error) {
	parts, err := multipartbody.Parse(raw, contentType, len(raw))
	switch {
	case errors.Is(err, multipartbody.ErrTooLarge):
		return nil, Errorf(EINVALID, "invalid multipart body: its parts are larger than the body")
	case err != nil:
		return nil, Errorf(EINVALID, "%s", err.Error())
	}
	fields := make([]FormField, len(parts))
	for i, p := range parts {
		fields[i] = FormField{Name: p.Name, Value: p.Value}
		if f := p.File; f != nil {
			b := make([]byte, 0, 48+len(f.Filename)+len(f.ContentType))
			b = append(b, `{"filename":`...)
			b = AppendJSONString(b, f.Filename)
			b = append(b, `,"contentType":`...)
			b = AppendJSONString(b, f.ContentType)
			b = append(b, `,"size":`...)
			b = strconv.AppendInt(b, f.Size, 10)
			fields[i].JSON = append(b, '}')
		}
	}
	return ParseFormFields(fields, DefaultQSOptions)
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	for len(b) > 0 {
		c := b[len(b)-1]
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			break
		}
		b = b[:len(b)-1]
	}
	return b
}

// AppendHeadersJSON appends headers as a JSON object: names lower-cased, in
// first-seen order, values of repeated names joined with ", ".
func AppendHeadersJSON(dst []byte, headers []HeaderValue) []byte {
	dst = append(dst, '{')
	for i, h := range headers {
		name := strings.ToLower(h.Name)
		dup := false
		for _, p := range headers[:i] {
			if strings.EqualFold(p.Name, name) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		if len(dst) > 1 && dst[len(dst)-1] != '{' {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, name)
		dst = append(dst, ':')
		value := h.Value
		for _, n := range headers[i+1:] {
			if strings.EqualFold(n.Name, name) {
				value += ", " + n.Value
			}
		}
		dst = AppendJSONString(dst, value)
	}
	return append(dst, '}')
}

// AppendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it (HTML-safe); invalid UTF-8 becomes U+FFFD.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				switch c {
				case '\n':
					dst = append(dst, '\\', 'n')
				case '\r':
					dst = append(dst, '\\', 'r')
				case '\t':
					dst = append(dst, '\\', 't')
				case '\b':
					dst = append(dst, '\\', 'b')
				case '\f':
					dst = append(dst, '\\', 'f')
				default:
					dst = append(dst, `\u00`...)
					dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
				}
			case c == '<' || c == '>' || c == '&':
				// Escaped so that stored JSON is safe to embed in HTML.
				dst = append(dst, `\u00`...)
				dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, `\u`...)
			dst = strconv.AppendInt(dst, int64(r), 16)
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"
