package engine

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// A Path addresses a value inside a JSON document: keys joined by dots and
// array indexes in brackets, as in `order.items[0].sku` or `[0].event` for a
// top-level array. A key that holds a dot, a bracket, a quote or a brace, or
// that is empty, is written quoted: `headers["x.y"]`.
type Path []Segment

// Segment is one step of a Path: an object key, or an array index when
// IsIndex is set.
type Segment struct {
	Key     string
	Index   int
	IsIndex bool
}

// MaxPathSegments bounds the length of a path, so that hostile documents and
// templates cannot make lookups arbitrarily expensive.
const MaxPathSegments = 64

// maxArrayIndex bounds the index written in a path.
const maxArrayIndex = 1 << 20

// ParsePath parses the textual form of a path. Surrounding spaces are
// ignored; an empty string is an error.
func ParsePath(s string) (Path, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, Errorf(EINVALID, "empty path")
	}
	var p Path
	i := 0
	expectKey := true // at the start, or right after a dot
	for i < len(s) {
		if len(p) >= MaxPathSegments {
			return nil, Errorf(EINVALID, "path %q: more than %d segments", s, MaxPathSegments)
		}
		switch c := s[i]; {
		case c == '[':
			end := strings.IndexByte(s[i:], ']')
			if i+1 < len(s) && s[i+1] == '"' {
				key, n, err := unquotePrefix(s[i+1:])
				if err != nil || i+1+n >= len(s) || s[i+1+n] != ']' {
					return nil, Errorf(EINVALID, "path %q: bad quoted key at offset %d", s, i)
				}
				p = append(p, Segment{Key: key})
				i += n + 2
			} else {
				if end < 0 {
					return nil, Errorf(EINVALID, "path %q: missing ]", s)
				}
				num := s[i+1 : i+end]
				n, err := strconv.Atoi(num)
				if err != nil || n < 0 || n > maxArrayIndex || (len(num) > 1 && num[0] == '0') {
					return nil, Errorf(EINVALID, "path %q: bad array index %q", s, num)
				}
				p = append(p, Segment{Index: n, IsIndex: true})
				i += end + 1
			}
			expectKey = false
		case c == '.':
			if expectKey {
				return nil, Errorf(EINVALID, "path %q: empty key at offset %d", s, i)
			}
			i++
			expectKey = true
			if i == len(s) {
				return nil, Errorf(EINVALID, "path %q: ends with a dot", s)
			}
		default:
			if !expectKey {
				return nil, Errorf(EINVALID, "path %q: expected . or [ at offset %d", s, i)
			}
			j := i
			for j < len(s) && !strings.ContainsRune(".[]\"{}", rune(s[j])) {
				j++
			}
			if j == i {
				return nil, Errorf(EINVALID, "path %q: unexpected %q at offset %d", s, s[i], i)
			}
			p = append(p, Segment{Key: s[i:j]})
			i = j
			expectKey = false
		}
	}
	return p, nil
}

// unquotePrefix reads a JSON string literal at the start of s and returns its
// value and its length in bytes.
func unquotePrefix(s string) (string, int, error) {
	esc := false
	for i := 1; i < len(s); i++ {
		switch {
		case esc:
			esc = false
		case s[i] == '\\':
			esc = true
		case s[i] == '"':
			v, err := strconv.Unquote(s[:i+1])
			return v, i + 1, err
		}
	}
	return "", 0, Errorf(EINVALID, "unterminated quoted key")
}

// String returns the canonical text of the path; ParsePath(p.String())
// yields p again.
func (p Path) String() string {
	var b strings.Builder
	for i, seg := range p {
		switch {
		case seg.IsIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(seg.Index))
			b.WriteByte(']')
		case needsQuoting(seg.Key):
			b.WriteString(`[`)
			b.WriteString(strconv.Quote(seg.Key))
			b.WriteString(`]`)
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(seg.Key)
		}
	}
	return b.String()
}

func needsQuoting(key string) bool {
	return key == "" || key != strings.TrimSpace(key) || strings.ContainsAny(key, ".[]\"{}")
}

// Append returns a new path with seg appended; p is not modified.
func (p Path) Append(seg Segment) Path {
	out := make(Path, len(p), len(p)+1)
	copy(out, p)
	return append(out, seg)
}

// Lookup resolves the path in v. A missing value gives a Result whose Exists
// is false. A key applied to an array maps over its items: the result is an
// array of the items' values (missing ones left out; arrays produced by
// nested mapping are flattened), so `items.sku` lists every item's sku.
func (p Path) Lookup(v gjson.Result) gjson.Result {
	r, _ := lookup(v, p)
	return r
}

func lookup(v gjson.Result, p Path) (gjson.Result, bool) {
	for i, seg := range p {
		if !v.Exists() {
			return gjson.Result{}, false
		}
		if seg.IsIndex {
			v = arrayItem(v, seg.Index)
			continue
		}
		if v.IsArray() {
			return mapArray(v, p[i:]), true
		}
		v = objectField(v, seg.Key)
	}
	return v, false
}

func arrayItem(v gjson.Result, idx int) gjson.Result {
	if !v.IsArray() {
		return gjson.Result{}
	}
	return arrayElement(v.Raw, idx)
}

func objectField(v gjson.Result, key string) gjson.Result {
	if !v.IsObject() {
		return gjson.Result{}
	}
	return objectMember(v.Raw, key)
}

func mapArray(v gjson.Result, rest Path) gjson.Result {
	var b []byte
	b = append(b, '[')
	first := true
	add := func(r gjson.Result) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, r.Raw...)
	}
	v.ForEach(func(_, item gjson.Result) bool {
		r, mapped := lookup(item, rest)
		switch {
		case !r.Exists():
		case mapped:
			r.ForEach(func(_, x gjson.Result) bool { add(x); return true })
		default:
			add(r)
		}
		return true
	})
	b = append(b, ']')
	return gjson.ParseBytes(b)
}
