package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/tidwall/gjson"
)

// MaxListedPaths bounds how many paths the sample parser lists; past it the
// listing stops and reports that it was truncated.
const MaxListedPaths = 1000

// ListJSONPaths lists every path in a JSON document, containers and leaves,
// in document order: {"a":1,"b":{"c":2}} → a, b, b.c; a top-level array
// [{"x":1}] → [0], [0].x. Paths are printed with Path.String, so keys that
// need it are quoted (["a.b"]). A path listed once is not listed again (a
// document may repeat a key). The listing stops after MaxListedPaths paths;
// paths longer than MaxPathSegments are left out, as no path may hold them;
// either sets truncated. The document is checked with CheckJSON (nesting at
// most MaxJSONDepth) first; bad JSON is an EINVALID *Error that says where.
func ListJSONPaths(raw []byte) (paths []string, truncated bool, err error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, false, Errorf(EINVALID, "the JSON sample is empty")
	}
	if err := CheckJSON(raw, MaxJSONDepth); err != nil {
		return nil, false, jsonSampleError(raw, err)
	}
	l := pathLister{seen: make(map[string]struct{})}
	l.walk(gjson.ParseBytes(raw))
	return l.paths, l.truncated, nil
}

type pathLister struct {
	path      Path
	paths     []string
	seen      map[string]struct{}
	truncated bool
}

// walk lists the children of v and their descendants; it returns false once
// the listing is full.
func (l *pathLister) walk(v gjson.Result) bool {
	if !v.IsObject() && !v.IsArray() {
		return true
	}
	isArray := v.IsArray()
	i, more := 0, true
	v.ForEach(func(k, item gjson.Result) bool {
		seg := Segment{Key: k.Str}
		if isArray {
			seg = Segment{Index: i, IsIndex: true}
			i++
		}
		if len(l.path) >= MaxPathSegments {
			l.truncated = true
			return true
		}
		l.path = append(l.path, seg)
		more = l.add() && l.walk(item)
		l.path = l.path[:len(l.path)-1]
		return more
	})
	return more
}

// add lists the current path unless it was listed before; it returns false
// if the listing is full.
func (l *pathLister) add() bool {
	s := l.path.String()
	if _, dup := l.seen[s]; dup {
		return true
	}
	if len(l.paths) == MaxListedPaths {
		l.truncated = true
		return false
	}
	l.seen[s] = struct{}{}
	l.paths = append(l.paths, s)
	return true
}

// jsonSampleError turns a CheckJSON failure into a message that says what is
// wrong and where, using encoding/json's position for syntax errors.
func jsonSampleError(raw []byte, err error) error {
	var syn *json.SyntaxError
	jerr := json.Unmarshal(raw, new(json.RawMessage))
	switch {
	case jerr == nil:
		// Valid for encoding/json but not for CheckJSON: nested too
		// deeply, or a difference between the two validators.
		return Errorf(EINVALID, "the JSON sample cannot be used: %s", ErrorMessage(err))
	case errors.As(jerr, &syn):
		if strings.Contains(syn.Error(), "unexpected end") {
			return Errorf(EINVALID, "the sample is not valid JSON: it ends too early (is it cut off?)")
		}
		line, col := sampleErrorPosition(raw, int(syn.Offset))
		return Errorf(EINVALID, "the sample is not valid JSON: line %d, column %d: %s", line, col, syn.Error())
	default:
		return Errorf(EINVALID, "the sample is not valid JSON: %s", jerr.Error())
	}
}

// sampleErrorPosition returns the 1-based line and column (in bytes) of the byte
// before offset, where encoding/json reports a syntax error.
func sampleErrorPosition(raw []byte, offset int) (line, col int) {
	offset = max(0, min(offset-1, len(raw)))
	line = 1 + bytes.Count(raw[:offset], []byte("\n"))
	col = offset - bytes.LastIndexByte(raw[:offset], '\n')
	return line, col
}

// ListQueryPaths lists the paths of a query string as ParseQS parses it, in
// the way of ListJSONPaths: "?query[0][a]=1" → query, query[0], query[0].a.
// s may be a full URL ("https://h/p?query[0][a]=1#f"), a path with a query
// ("/hook/x?a=1"), or a query string with or without its leading '?'. A
// fragment is ignored, and a URL without '?' has no paths.
func ListQueryPaths(s string) (paths []string, truncated bool, err error) {
	q := sampleQuery(s)
	if q == "" {
		return nil, false, nil
	}
	obj, err := ParseQS(q, DefaultQSOptions)
	if err != nil {
		return nil, false, err
	}
	return ListJSONPaths(obj)
}

// QueryOfSample returns the query string of a pasted URL, path or query
// string, without the '?': what a trigger's query sample stores.
func QueryOfSample(s string) string { return sampleQuery(s) }

// sampleQuery returns the query part of a pasted URL or query string.
func sampleQuery(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	before, after, found := strings.Cut(s, "?")
	switch {
	case found && !strings.ContainsAny(before, "=&"):
		// A URL, a path or a bare "?…": before ends at the query. (A '?'
		// after an '=' or '&' is inside a query string.)
		return after
	case found, strings.ContainsAny(s, "=&"):
		return s
	case strings.Contains(s, "/"):
		return "" // a URL or path without a query
	default:
		return s // a lone key: "a" is {"a":""}
	}
}

// Sample kinds, as SampleKind and ListSamplePaths report them.
const (
	SampleBody  = "body"  // a JSON or XML body: paths under $context.body
	SampleQuery = "query" // a URL or query string: paths under $context.query
)

// SampleKind tells what a sample pasted in the admin UI is: SampleBody when
// it starts with '{' or '[' (JSON) or '<' (XML) once surrounding spaces
// (and a byte order mark) are trimmed, else SampleQuery (a URL or a query
// string).
func SampleKind(sample string) string {
	t := trimSample(sample)
	if t != "" && (t[0] == '{' || t[0] == '[' || t[0] == '<') {
		return SampleBody
	}
	return SampleQuery
}

func trimSample(s string) string {
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "\uFEFF"))
}

// ListSamplePaths lists the paths of a sample pasted in the admin UI, by its
// SampleKind: a JSON body with ListJSONPaths, an XML body (starting with
// '<') as $context.body holds it (ListXMLPaths), a URL or query string with
// ListQueryPaths. An empty sample is an EINVALID error, with kind "".
func ListSamplePaths(sample string) (kind string, paths []string, truncated bool, err error) {
	t := trimSample(sample)
	if t == "" {
		return "", nil, false, Errorf(EINVALID, "the sample is empty: paste a JSON or XML body, a URL or a query string")
	}
	switch kind = SampleKind(sample); {
	case kind == SampleBody && t[0] == '<':
		paths, truncated, err = ListXMLPaths([]byte(t))
	case kind == SampleBody:
		paths, truncated, err = ListJSONPaths([]byte(sample))
	default:
		paths, truncated, err = ListQueryPaths(sample)
	}
	return kind, paths, truncated, err
}

// ListXMLPaths lists the paths of an XML body as $context.body holds it
// (product.md §3: the root element is the first key, attributes are "@name",
// text beside children "#text"), in the way of ListJSONPaths. A sample that
// is not well-formed XML is an EINVALID *Error saying where.
func ListXMLPaths(raw []byte) (paths []string, truncated bool, err error) {
	body, err := xmlBody(raw)
	var xe *xmlError
	switch {
	case errors.As(err, &xe):
		return nil, false, Errorf(EINVALID, "the sample is not valid XML: %s", strings.TrimPrefix(xe.detail, "invalid XML "))
	case err != nil:
		return nil, false, err
	}
	return ListJSONPaths(body)
}
