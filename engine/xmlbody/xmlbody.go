// Package xmlbody turns an XML request body into the JSON of $context.body
// (product.md §3), with the convention of xml2js and fast-xml-parser:
//
//   - the root element is the one top-level key;
//   - an element is a key of its parent; an element repeated under one
//     parent becomes an array, at the place of its first appearance;
//   - attributes are "@name" keys, before the children, in document order;
//   - an element with only text is that string; an empty element (<a/> or
//     <a></a>) is "";
//   - an element with attributes or children keeps its text under "#text",
//     at the place of the first non-blank text; text that is only white space
//     (indentation) is dropped there;
//   - text is kept as written (no trimming; CDATA is text); the text of an
//     element split by children is joined;
//   - every value is a string; names keep their namespace prefix as written
//     (soap:Envelope, @xmlns:soap); comments and processing instructions are
//     dropped.
//
// No DTD or external entity is ever read: a DOCTYPE is skipped, and only the
// five predefined entities and character references are expanded, so
// "billion laughs" cannot expand. Nesting is bounded (MaxDepth) and so is
// the output (Parse's maxOutput). Invalid UTF-8 becomes U+FFFD; a body that
// declares ISO-8859-1, US-ASCII or windows-1252 is decoded as windows-1252
// (as browsers do).
//
// The package is a leaf: it imports only the standard library.
package xmlbody

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxDepth is the deepest element nesting Parse accepts.
const MaxDepth = 128

// DefaultMaxOutput bounds the JSON when Parse is given no bound.
const DefaultMaxOutput = 64 << 20

// ErrTooLarge is returned when the JSON would exceed Parse's maxOutput.
var ErrTooLarge = errors.New("xmlbody: the XML body is too large once converted to JSON")

// Error is an XML body that cannot be read: not well-formed, too deep, or
// in an unsupported encoding. Its message names the place (line and column
// of the UTF-8 text, 1-based, column in bytes) and is safe to show.
type Error struct {
	Line, Column int
	Offset       int64 // byte offset in the UTF-8 text
	Msg          string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return "invalid XML: " + e.Msg
	}
	return fmt.Sprintf("invalid XML at line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// group is the children of one name under one element: their JSON values,
// comma-separated, in document order.
type group struct {
	name  string
	count int
	buf   []byte
}

// frame is an open element.
type frame struct {
	name   string
	attrs  []byte // `"@k":"v"` members, comma-separated
	groups []group
	index  map[string]int // name → groups index, once there are many groups
	text   []byte         // all character data, joined
	textAt int            // groups before the first non-blank text; -1: none yet
}

// parser holds the state of one Parse.
type parser struct {
	d       *xml.Decoder
	stack   []*frame
	free    []*frame // popped frames, reused
	root    []byte
	size    int // bytes of JSON produced so far
	max     int
	sawRoot bool
	// where the current token starts, for errors about it
	line, col int
	offset    int64
}

// Parse converts body to JSON bytes: an object with the root element as its
// one key, or {} for a body that is empty or only white space. maxOutput
// bounds the JSON (<= 0: DefaultMaxOutput); over it, Parse returns
// ErrTooLarge. Other failures are *Error.
func Parse(body []byte, maxOutput int) ([]byte, error) {
	if maxOutput <= 0 {
		maxOutput = DefaultMaxOutput
	}
	body, label, err := toUTF8(body)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimLeft(body, " \t\r\n")) == 0 {
		if maxOutput < len("{}") {
			return nil, ErrTooLarge
		}
		return []byte("{}"), nil
	}
	p := &parser{max: maxOutput}
	p.d = xml.NewDecoder(bytes.NewReader(body))
	p.d.Strict = true
	p.d.CharsetReader = func(charset string, input io.Reader) (io.Reader, error) {
		// toUTF8 has decoded the body already; the label must be the
		// one it read, or the body is not what we decoded.
		if normalizeLabel(charset) != label {
			return nil, fmt.Errorf("unsupported encoding %q (use UTF-8)", charset)
		}
		return input, nil
	}
	for {
		p.line, p.col = p.d.InputPos()
		p.offset = p.d.InputOffset()
		tok, err := p.d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, p.decodeError(err)
		}
		if err := p.token(tok); err != nil {
			return nil, err
		}
	}
	p.line, p.col = p.d.InputPos()
	p.offset = p.d.InputOffset()
	if len(p.stack) > 0 {
		return nil, p.errorf("unexpected end of the body: <%s> is not closed", p.stack[len(p.stack)-1].name)
	}
	if !p.sawRoot {
		return nil, p.errorf("no root element")
	}
	return p.root, nil
}

// errorf reports a problem with the token that starts at p.line, p.col.
func (p *parser) errorf(format string, args ...any) *Error {
	return &Error{Line: p.line, Column: p.col, Offset: p.offset, Msg: fmt.Sprintf(format, args...)}
}

// decodeError turns an encoding/xml error into an *Error.
func (p *parser) decodeError(err error) *Error {
	msg := err.Error()
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		msg = se.Msg
		if strings.HasPrefix(msg, "invalid character entity") {
			msg += " (only &lt; &gt; &amp; &apos; &quot; and character references are expanded; entities declared in a DOCTYPE are not)"
		}
	}
	// encoding/xml stops where it found the problem: report that place.
	line, col := p.d.InputPos()
	return &Error{Line: line, Column: col, Offset: p.d.InputOffset(), Msg: strings.TrimPrefix(msg, "xml: ")}
}

func (p *parser) token(tok xml.Token) error {
	switch t := tok.(type) {
	case xml.StartElement:
		return p.start(t)
	case xml.EndElement:
		return p.end(t)
	case xml.CharData:
		if len(p.stack) == 0 {
			if !blank(t) {
				return p.errorf("text outside the root element")
			}
			return nil
		}
		f := p.stack[len(p.stack)-1]
		if f.textAt < 0 && !blank(t) {
			f.textAt = len(f.groups)
		}
		f.text = append(f.text, t...)
	}
	// Comments, processing instructions and directives (DOCTYPE) are
	// skipped: a DTD is never read.
	return nil
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func (p *parser) start(t xml.StartElement) error {
	name := qname(t.Name)
	if len(p.stack) == 0 && p.sawRoot {
		return p.errorf("more than one root element (<%s> after the root)", name)
	}
	if len(p.stack) == MaxDepth {
		return p.errorf("elements nested deeper than %d", MaxDepth)
	}
	var f *frame
	if n := len(p.free); n > 0 {
		f, p.free = p.free[n-1], p.free[:n-1]
	} else {
		f = &frame{}
	}
	clear(f.groups) // drop the last use's child values
	*f = frame{name: name, attrs: f.attrs[:0], groups: f.groups[:0], text: f.text[:0], textAt: -1}
	var seen map[string]bool
	for i, a := range t.Attr {
		an := qname(a.Name)
		// Well-formed XML has no duplicate attribute, and a JSON object
		// no duplicate key; encoding/xml leaves the check to us.
		if len(t.Attr) <= 8 {
			for _, b := range t.Attr[:i] {
				if qname(b.Name) == an {
					return p.errorf("attribute %s repeated in <%s>", an, name)
				}
			}
		} else {
			if seen == nil {
				seen = make(map[string]bool, len(t.Attr))
			}
			if seen[an] {
				return p.errorf("attribute %s repeated in <%s>", an, name)
			}
			seen[an] = true
		}
		if i > 0 {
			f.attrs = append(f.attrs, ',')
		}
		f.attrs = appendString(f.attrs, "@"+an)
		f.attrs = append(f.attrs, ':')
		f.attrs = appendString(f.attrs, a.Value)
	}
	p.stack = append(p.stack, f)
	return nil
}

func (p *parser) end(t xml.EndElement) error {
	name := qname(t.Name)
	if len(p.stack) == 0 {
		return p.errorf("</%s> closes nothing", name)
	}
	f := p.stack[len(p.stack)-1]
	if f.name != name {
		return p.errorf("<%s> closed by </%s>", f.name, name)
	}
	p.stack = p.stack[:len(p.stack)-1]
	v, children := f.value()
	p.size += len(v) - children
	if len(p.stack) == 0 {
		p.sawRoot = true
		out := make([]byte, 0, len(v)+len(name)+8)
		out = append(out, '{')
		out = appendString(out, name)
		out = append(out, ':')
		out = append(append(out, v...), '}')
		p.size += len(out) - len(v)
		p.root = out
	} else {
		p.size += p.stack[len(p.stack)-1].add(name, v)
	}
	p.free = append(p.free, f)
	if p.size > p.max {
		return ErrTooLarge
	}
	return nil
}

// value serializes a closed element. children is how many of its bytes are
// the children's values, produced (and counted) before.
func (f *frame) value() (v []byte, children int) {
	hasText := !blank(f.text)
	if len(f.attrs) == 0 && len(f.groups) == 0 {
		// Text only, or empty; text-only white space is kept as written.
		return appendString(nil, string(f.text)), 0
	}
	n := len(f.attrs) + len(f.text) + 16
	for _, g := range f.groups {
		n += len(g.name) + len(g.buf) + 8
		children += len(g.buf)
	}
	v = make([]byte, 0, n)
	v = append(v, '{')
	v = append(v, f.attrs...)
	comma := len(f.attrs) > 0
	member := func() {
		if comma {
			v = append(v, ',')
		}
		comma = true
	}
	for i, g := range f.groups {
		if hasText && f.textAt == i {
			member()
			v = append(v, `"#text":`...)
			v = appendString(v, string(f.text))
		}
		member()
		v = appendString(v, g.name)
		v = append(v, ':')
		if g.count > 1 {
			v = append(v, '[')
		}
		v = append(v, g.buf...)
		if g.count > 1 {
			v = append(v, ']')
		}
	}
	if hasText && f.textAt >= len(f.groups) {
		member()
		v = append(v, `"#text":`...)
		v = appendString(v, string(f.text))
	}
	v = append(v, '}')
	return v, children
}

// add records a closed child's value under its name and returns the bytes
// of JSON it adds beyond v (the comma between repeated values).
func (f *frame) add(name string, v []byte) int {
	i, ok := -1, false
	if f.index != nil {
		i, ok = f.index[name]
	} else {
		for j := range f.groups {
			if f.groups[j].name == name {
				i, ok = j, true
				break
			}
		}
	}
	if !ok {
		// The first value becomes the group's buffer: no copy.
		f.groups = append(f.groups, group{name: name, count: 1, buf: v})
		if f.index != nil {
			f.index[name] = len(f.groups) - 1
		} else if len(f.groups) > 16 {
			// Many distinct children: a linear search would be
			// quadratic.
			f.index = make(map[string]int, 2*len(f.groups))
			for j, g := range f.groups {
				f.index[g.name] = j
			}
		}
		return 0
	}
	g := &f.groups[i]
	g.count++
	g.buf = append(append(g.buf, ','), v...)
	return 1
}

func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD;
// U+2028 and U+2029 are escaped so the JSON is also valid JavaScript.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
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
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

var (
	bomUTF8    = []byte{0xef, 0xbb, 0xbf}
	bomUTF16BE = []byte{0xfe, 0xff}
	bomUTF16LE = []byte{0xff, 0xfe}
)

// toUTF8 returns body as valid UTF-8 and the normalized encoding label it
// declares ("" for none or UTF-8).
func toUTF8(body []byte) ([]byte, string, error) {
	if bytes.HasPrefix(body, bomUTF16BE) || bytes.HasPrefix(body, bomUTF16LE) {
		return nil, "", &Error{Msg: "UTF-16 is not supported (use UTF-8)"}
	}
	body = bytes.TrimPrefix(body, bomUTF8)
	label := normalizeLabel(declaredEncoding(body))
	switch label {
	case "", "utf-8":
		if !utf8.Valid(body) {
			body = bytes.ToValidUTF8(body, []byte("\ufffd"))
		}
	case "windows-1252":
		body = decodeWindows1252(body)
	default:
		return nil, "", &Error{Line: 1, Column: 1, Msg: "unsupported encoding " + strconv.Quote(declaredEncoding(body)) + " (use UTF-8)"}
	}
	return body, label, nil
}

// normalizeLabel maps an encoding label to "utf-8", "windows-1252" (the
// WHATWG mapping of the Latin-1 and ASCII labels) or itself, lower-cased.
func normalizeLabel(label string) string {
	l := strings.ToLower(strings.TrimSpace(label))
	switch l {
	case "utf-8", "utf8":
		return "utf-8"
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "l1", "us-ascii", "ascii",
		"windows-1252", "cp1252", "x-cp1252":
		return "windows-1252"
	}
	return l
}

// declaredEncoding reads the encoding pseudo-attribute of an XML declaration
// at the start of body, or "".
func declaredEncoding(body []byte) string {
	if !bytes.HasPrefix(body, []byte("<?xml")) || len(body) < 6 || !isSpace(body[5]) {
		return ""
	}
	end := bytes.Index(body, []byte("?>"))
	if end < 0 {
		return ""
	}
	decl := body[5:end]
	i := bytes.Index(decl, []byte("encoding"))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(decl[i+len("encoding"):], " \t\r\n")
	if len(rest) == 0 || rest[0] != '=' {
		return ""
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || (rest[0] != '"' && rest[0] != '\'') {
		return ""
	}
	q := rest[0]
	rest = rest[1:]
	j := bytes.IndexByte(rest, q)
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// windows1252 maps bytes 0x80–0x9F; the other bytes are their own code
// points (Latin-1). Unassigned bytes map to the C1 control of the same
// value, as WHATWG's decoder does.
var windows1252 = [32]rune{
	'\u20ac', '\u0081', '\u201a', '\u0192', '\u201e', '\u2026', '\u2020', '\u2021',
	'\u02c6', '\u2030', '\u0160', '\u2039', '\u0152', '\u008d', '\u017d', '\u008f',
	'\u0090', '\u2018', '\u2019', '\u201c', '\u201d', '\u2022', '\u2013', '\u2014',
	'\u02dc', '\u2122', '\u0161', '\u203a', '\u0153', '\u009d', '\u017e', '\u0178',
}

func decodeWindows1252(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/4)
	for _, c := range b {
		switch {
		case c < 0x80:
			out = append(out, c)
		case c < 0xa0:
			out = utf8.AppendRune(out, windows1252[c-0x80])
		default:
			out = utf8.AppendRune(out, rune(c))
		}
	}
	return out
}
