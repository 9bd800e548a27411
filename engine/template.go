package engine

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// MaxTemplateOutput bounds what one rendering may produce, so that a
// template that repeats a large value many times cannot exhaust memory.
const MaxTemplateOutput = 1 << 20

// Template is a compiled string with `{{ path }}` placeholders (§4). It is
// compiled once per workflow revision and rendered per request, so all the
// parsing happens in CompileTemplate and rendering only resolves paths and
// copies bytes. A Template is immutable and safe for concurrent use.
//
// There is no escape for a literal "{{": every "{{" opens a placeholder.
type Template struct {
	src   string
	parts []templatePart
	// single is set when the template is exactly one placeholder, which
	// keeps the JSON type of the value it resolves to.
	single bool
	// static is the text as a JSON string Result, set when there are no
	// placeholders, so rendering a literal costs nothing.
	static gjson.Result
}

// templatePart is literal text (path == nil) or a placeholder.
type templatePart struct {
	text   string // the literal text
	quoted string // text escaped for use inside a JSON string
	path   Path
}

// CompileTemplate parses s. Every placeholder must hold a path whose first
// key is a root ($context, $jobsMapByNodeKey or $system); a bad path, an
// unknown root or an unterminated "{{" is an EINVALID error whose message
// callers prefix with the field it came from.
func CompileTemplate(s string) (*Template, error) {
	t := &Template{src: s}
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "{{")
		if j < 0 {
			t.addText(s[i:])
			break
		}
		t.addText(s[i : i+j])
		open := i + j
		end := placeholderEnd(s, open+2)
		if end < 0 {
			return nil, Errorf(EINVALID, "unterminated {{")
		}
		p, err := parsePlaceholder(s[open+2 : end])
		if err != nil {
			return nil, err
		}
		t.parts = append(t.parts, templatePart{path: p})
		i = end + 2
	}
	t.single = len(t.parts) == 1 && t.parts[0].path != nil
	if !t.hasPlaceholders() {
		t.static = newStringResult(s)
	}
	return t, nil
}

func (t *Template) addText(s string) {
	if s == "" {
		return
	}
	t.parts = append(t.parts, templatePart{text: s, quoted: string(appendQuotedText(nil, s))})
}

func (t *Template) hasPlaceholders() bool {
	for _, p := range t.parts {
		if p.path != nil {
			return true
		}
	}
	return false
}

// placeholderEnd returns the index of the "}}" that closes the placeholder
// whose content starts at i, or -1. A quoted key (`["a}}b"]`) may hold
// braces, so "}}" inside one does not close the placeholder.
func placeholderEnd(s string, i int) int {
	for ; i < len(s); i++ {
		switch {
		case s[i] == '"' && i > 0 && s[i-1] == '[':
			// Skip the quoted key, honouring backslash escapes.
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
			if i >= len(s) {
				return -1
			}
		case s[i] == '}' && i+1 < len(s) && s[i+1] == '}':
			return i
		}
	}
	return -1
}

// parsePlaceholder parses the text between "{{" and "}}".
func parsePlaceholder(inner string) (Path, error) {
	shown := "{{" + inner + "}}"
	p, err := ParsePath(inner)
	if err != nil {
		return nil, Errorf(EINVALID, "invalid placeholder %s: %s", shown, ErrorMessage(err))
	}
	if p[0].IsIndex || !IsValidRoot(p[0].Key) {
		return nil, Errorf(EINVALID, "invalid placeholder %s: a path must start with %s, %s or %s",
			shown, RootContext, RootJobs, RootSystem)
	}
	// Scope.Resolve reads $jobsMapByNodeKey.<nodeKey>...; anything else
	// would always be missing, which is a mistake worth reporting at save.
	if p[0].Key == RootJobs && (len(p) < 2 || p[1].IsIndex) {
		return nil, Errorf(EINVALID, "invalid placeholder %s: %s must be followed by a node key, as in %s.paid",
			shown, RootJobs, RootJobs)
	}
	return p, nil
}

// IsStatic reports whether the template has no placeholders.
func (t *Template) IsStatic() bool { return !t.hasPlaceholders() }

// Paths returns the paths the placeholders reference, root included, in
// order of appearance. The paths are shared and must not be modified.
func (t *Template) Paths() []Path {
	var out []Path
	for _, p := range t.parts {
		if p.path != nil {
			out = append(out, p.path)
		}
	}
	return out
}

// Render evaluates the template. A template that is exactly one placeholder
// (no text around it, not even spaces) gives the value with its JSON type,
// or a Result whose Exists is false when the value is missing. Any other
// template gives a JSON string: the text with each placeholder replaced by
// the text of its value (see String). Output beyond MaxTemplateOutput is
// dropped, from the first part that would cross the limit.
func (t *Template) Render(s *Scope) gjson.Result {
	if t.single {
		return s.Resolve(t.parts[0].path)
	}
	if t.static.Type == gjson.String {
		return t.static
	}
	// A stack buffer covers most renderings; the one allocation left is
	// the string the Result holds.
	var arr [256]byte
	b := append(arr[:0], '"')
	b, _ = t.appendText(b, s, true, MaxTemplateOutput)
	b = append(b, '"')
	return quotedStringResult(string(b))
}

// String renders the template as text: strings as their text, numbers and
// booleans as their JSON text, null and missing values as "", objects and
// arrays as compact JSON. Output beyond MaxTemplateOutput is dropped as in
// Render.
func (t *Template) String(s *Scope) string {
	if t.single {
		return valueText(s.Resolve(t.parts[0].path))
	}
	if t.static.Type == gjson.String {
		return t.static.Str
	}
	var arr [256]byte
	b, _ := t.appendText(arr[:0], s, false, MaxTemplateOutput)
	return string(b)
}

// appendText appends the text of the template to dst, escaped for the inside
// of a JSON string when quoted is set. It stops before the first part that
// would make the appended output longer than limit and then reports false.
// Cutting at a part boundary keeps quoted output valid.
func (t *Template) appendText(dst []byte, s *Scope, quoted bool, limit int) ([]byte, bool) {
	start := len(dst)
	for i := range t.parts {
		p := &t.parts[i]
		mark := len(dst)
		switch {
		case p.path != nil:
			dst = appendValueText(dst, s.Resolve(p.path), quoted)
		case quoted:
			dst = append(dst, p.quoted...)
		default:
			dst = append(dst, p.text...)
		}
		if len(dst)-start > limit {
			return dst[:mark], false
		}
	}
	return dst, true
}

// valueText is the text form of a value (see Template.String).
func valueText(r gjson.Result) string {
	switch r.Type {
	case gjson.String:
		return r.Str
	case gjson.JSON:
		if isCompactJSON(r.Raw) {
			return r.Raw
		}
	case gjson.Null:
		return ""
	case gjson.True:
		return "true"
	case gjson.False:
		return "false"
	case gjson.Number:
		if r.Raw != "" {
			return r.Raw
		}
	}
	return string(appendValueText(nil, r, false))
}

// appendValueText appends the text form of r, escaped for the inside of a
// JSON string when quoted is set.
func appendValueText(dst []byte, r gjson.Result, quoted bool) []byte {
	switch r.Type {
	case gjson.String:
		if quoted {
			return appendQuotedText(dst, r.Str)
		}
		return append(dst, r.Str...)
	case gjson.Number:
		// Number text never needs escaping.
		return appendNumberText(dst, r)
	case gjson.True:
		return append(dst, "true"...)
	case gjson.False:
		return append(dst, "false"...)
	case gjson.JSON:
		if !quoted {
			return appendCompactJSON(dst, r.Raw)
		}
		return appendQuotedText(dst, string(appendCompactJSON(nil, r.Raw)))
	}
	return dst // null and missing values render as nothing
}

// appendNumberText copies a number's JSON text; the text, not the float64,
// is what keeps ids above 2^53 exact.
func appendNumberText(dst []byte, r gjson.Result) []byte {
	if r.Raw != "" {
		return append(dst, r.Raw...)
	}
	return strconv.AppendFloat(dst, r.Num, 'g', -1, 64)
}

// appendValueJSON appends r as JSON; a missing value becomes null.
func appendValueJSON(dst []byte, r gjson.Result) []byte {
	switch {
	case !r.Exists():
		return append(dst, "null"...)
	case r.Type == gjson.JSON:
		return appendCompactJSON(dst, r.Raw)
	case r.Raw != "":
		return append(dst, r.Raw...)
	case r.Type == gjson.String:
		dst = append(dst, '"')
		dst = appendQuotedText(dst, r.Str)
		return append(dst, '"')
	}
	return appendValueText(dst, r, false)
}

// isCompactJSON reports whether raw has no whitespace outside strings.
func isCompactJSON(raw string) bool {
	inString, escaped := false, false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			return false
		}
	}
	return true
}

// appendCompactJSON appends raw JSON without the whitespace outside strings.
func appendCompactJSON(dst []byte, raw string) []byte {
	inString, escaped := false, false
	start := 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			dst = append(dst, raw[start:i]...)
			start = i + 1
		}
	}
	return append(dst, raw[start:]...)
}

// appendQuotedText appends s escaped for the inside of a JSON string (the
// quotes are not added). Invalid UTF-8 becomes U+FFFD, as encoding/json
// does, so that the output is always valid JSON.
func appendQuotedText(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// newStringResult builds the gjson Result of the JSON string holding text,
// with Type, Str and Raw as gjson.Parse would set them.
func newStringResult(text string) gjson.Result {
	b := make([]byte, 0, len(text)+2)
	b = append(b, '"')
	b = appendQuotedText(b, text)
	b = append(b, '"')
	return quotedStringResult(string(b))
}

// quotedStringResult builds the Result of raw, a JSON string literal. When
// raw holds no backslash nothing was escaped, so Str is raw without its
// quotes and costs no allocation; otherwise gjson unescapes it.
func quotedStringResult(raw string) gjson.Result {
	body := raw[1 : len(raw)-1]
	if strings.IndexByte(body, '\\') < 0 {
		return gjson.Result{Type: gjson.String, Raw: raw, Str: body}
	}
	return gjson.Parse(raw)
}

// JSONTemplate is a compiled JSON value whose string leaves (not object
// keys) may hold templates. The value is compacted at compile time into
// literal chunks around the templated strings, so rendering only copies the
// chunks and renders the strings. A JSONTemplate is immutable and safe for
// concurrent use.
type JSONTemplate struct {
	parts []jsonTemplatePart
	tail  string // literal JSON after the last templated string
}

// jsonTemplatePart is literal JSON followed by a templated string.
type jsonTemplatePart struct {
	lit string
	tpl *Template
}

// CompileJSONTemplate compiles raw, which must be one valid JSON value. An
// error names the location of the bad string, as in
// `items[0]: unterminated {{` (no location when the value itself is the
// string).
func CompileJSONTemplate(raw []byte) (*JSONTemplate, error) {
	return compileJSONTemplateAt(raw, "")
}

// compileJSONTemplateAt is CompileJSONTemplate with error locations
// prefixed by field, such as "trigger.response.body".
func compileJSONTemplateAt(raw []byte, field string) (*JSONTemplate, error) {
	if err := CheckJSON(raw, MaxJSONDepth); err != nil {
		return nil, Errorf(EINVALID, "%s", joinLocation(field, nil, ErrorMessage(err)))
	}
	c := jsonTemplateCompiler{field: field}
	if err := c.value(gjson.ParseBytes(raw)); err != nil {
		return nil, err
	}
	return &JSONTemplate{parts: c.parts, tail: string(c.buf)}, nil
}

type jsonTemplateCompiler struct {
	field string
	path  Path // location of the value being compiled
	buf   []byte
	parts []jsonTemplatePart
}

// value compiles v. The recursion is bounded by CheckJSON's depth limit.
func (c *jsonTemplateCompiler) value(v gjson.Result) error {
	switch v.Type {
	case gjson.String:
		tpl, err := CompileTemplate(v.Str)
		if err != nil {
			return Errorf(EINVALID, "%s", joinLocation(c.field, c.path, ErrorMessage(err)))
		}
		if tpl.IsStatic() {
			c.buf = append(c.buf, v.Raw...)
			return nil
		}
		c.parts = append(c.parts, jsonTemplatePart{lit: string(c.buf), tpl: tpl})
		c.buf = c.buf[:0]
		return nil
	case gjson.JSON:
		obj := v.IsObject()
		if obj {
			c.buf = append(c.buf, '{')
		} else {
			c.buf = append(c.buf, '[')
		}
		var err error
		n := 0
		v.ForEach(func(k, item gjson.Result) bool {
			if n > 0 {
				c.buf = append(c.buf, ',')
			}
			seg := Segment{Index: n, IsIndex: true}
			if obj {
				c.buf = append(c.buf, k.Raw...)
				c.buf = append(c.buf, ':')
				seg = Segment{Key: k.Str}
			}
			n++
			c.path = append(c.path, seg)
			err = c.value(item)
			c.path = c.path[:len(c.path)-1]
			return err == nil
		})
		if err != nil {
			return err
		}
		if obj {
			c.buf = append(c.buf, '}')
		} else {
			c.buf = append(c.buf, ']')
		}
		return nil
	}
	c.buf = append(c.buf, v.Raw...)
	return nil
}

// joinLocation prefixes msg with the location field+path, if any.
func joinLocation(field string, p Path, msg string) string {
	loc := field
	if len(p) > 0 {
		ps := p.String()
		switch {
		case loc == "":
			loc = ps
		case p[0].IsIndex:
			loc += ps
		default:
			loc += "." + ps
		}
	}
	if loc == "" {
		return msg
	}
	return loc + ": " + msg
}

// Paths returns the paths referenced by the templated strings, in order.
func (t *JSONTemplate) Paths() []Path {
	var out []Path
	for _, p := range t.parts {
		out = append(out, p.tpl.Paths()...)
	}
	return out
}

// Render appends the JSON value to dst. A string that is exactly one
// placeholder becomes the value with its JSON type (null when missing);
// other templated strings become JSON strings. Numbers are copied as text,
// never through float64. Output longer than MaxTemplateOutput is an
// ETOOLARGE error, and dst is then returned as it came.
func (t *JSONTemplate) Render(s *Scope, dst []byte) ([]byte, error) {
	start := len(dst)
	for i := range t.parts {
		p := &t.parts[i]
		dst = append(dst, p.lit...)
		if p.tpl.single {
			dst = appendValueJSON(dst, s.Resolve(p.tpl.parts[0].path))
		} else {
			dst = append(dst, '"')
			var ok bool
			dst, ok = p.tpl.appendText(dst, s, true, MaxTemplateOutput-(len(dst)-start))
			if !ok {
				return dst[:start], errTemplateTooLarge()
			}
			dst = append(dst, '"')
		}
		// Checked per string, so a body repeating a large value fails
		// after one copy of it, not after all of them.
		if len(dst)-start > MaxTemplateOutput {
			return dst[:start], errTemplateTooLarge()
		}
	}
	dst = append(dst, t.tail...)
	if len(dst)-start > MaxTemplateOutput {
		return dst[:start], errTemplateTooLarge()
	}
	return dst, nil
}

func errTemplateTooLarge() error {
	return Errorf(ETOOLARGE, "rendered JSON is larger than %d bytes", MaxTemplateOutput)
}
