package engine

import (
	"strconv"
	"strings"
	"unicode/utf8"
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
// stay exact); an empty body or another content type gives {}.
// A JSON content type with a body that is not JSON is an EINVALID error.
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
