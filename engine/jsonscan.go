package engine

import (
	"strings"

	"github.com/tidwall/gjson"
)

// Member and item lookups for Path.Lookup, on the raw JSON that a gjson
// Result holds. gjson's own Get would do, but it parses the path for every
// step and converts each number it returns to a float64; a lookup runs for
// every placeholder of every request, and the engine reads numbers from
// their text only (so that ids above 2^53 stay exact). These scanners skip
// values without building them and return the one they find with its Raw
// text and type; Num is left zero for numbers.
//
// The input is JSON the engine made or checked (a trigger context, a job
// result, the system values); on malformed input they report "missing"
// rather than read out of bounds.

// objectMember returns the value of the first member named key in the
// object raw (whose first byte is '{').
func objectMember(raw, key string) gjson.Result {
	i := 1
	for {
		i = skipSpace(raw, i)
		if i >= len(raw) || raw[i] != '"' {
			return gjson.Result{} // '}' or malformed
		}
		kEnd, escaped := stringEnd(raw, i)
		if kEnd < 0 {
			return gjson.Result{}
		}
		match := false
		if escaped {
			match = gjson.Parse(raw[i:kEnd]).Str == key
		} else {
			match = raw[i+1:kEnd-1] == key
		}
		i = skipSpace(raw, kEnd)
		if i >= len(raw) || raw[i] != ':' {
			return gjson.Result{}
		}
		i = skipSpace(raw, i+1)
		end := valueEnd(raw, i)
		if end < 0 {
			return gjson.Result{}
		}
		if match {
			return resultOf(raw[i:end])
		}
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ',' {
			return gjson.Result{}
		}
		i++
	}
}

// arrayElement returns item idx of the array raw (whose first byte is '[').
func arrayElement(raw string, idx int) gjson.Result {
	i := 1
	for n := 0; ; n++ {
		i = skipSpace(raw, i)
		if i >= len(raw) || raw[i] == ']' {
			return gjson.Result{}
		}
		end := valueEnd(raw, i)
		if end < 0 {
			return gjson.Result{}
		}
		if n == idx {
			return resultOf(raw[i:end])
		}
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ',' {
			return gjson.Result{}
		}
		i++
	}
}

// resultOf describes one JSON value. Strings with escapes are decoded by
// gjson; others are sliced.
func resultOf(v string) gjson.Result {
	switch v[0] {
	case '"':
		if strings.IndexByte(v, '\\') >= 0 {
			return gjson.Parse(v)
		}
		return gjson.Result{Type: gjson.String, Raw: v, Str: v[1 : len(v)-1]}
	case '{', '[':
		return gjson.Result{Type: gjson.JSON, Raw: v}
	case 't':
		return gjson.Result{Type: gjson.True, Raw: v}
	case 'f':
		return gjson.Result{Type: gjson.False, Raw: v}
	case 'n':
		return gjson.Result{Type: gjson.Null, Raw: v}
	}
	return gjson.Result{Type: gjson.Number, Raw: v}
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string that starts at s[i]
// (a quote), and whether it holds escapes; -1 when it is not terminated.
func stringEnd(s string, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped
		}
	}
	return -1, escaped
}

// valueEnd returns the index just past the value that starts at s[i], or
// -1 when there is none.
func valueEnd(s string, i int) int {
	if i >= len(s) {
		return -1
	}
	switch s[i] {
	case '"':
		end, _ := stringEnd(s, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; j < len(s); j++ {
			switch s[j] {
			case '"':
				end, _ := stringEnd(s, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	case ',', '}', ']', ':':
		return -1
	}
	j := i
	for j < len(s) && s[j] != ',' && s[j] != '}' && s[j] != ']' && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' && s[j] != '\r' {
		j++
	}
	return j
}
