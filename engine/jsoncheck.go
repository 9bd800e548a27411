package engine

import (
	"strconv"

	"github.com/tidwall/gjson"
)

// MaxJSONDepth bounds the nesting of JSON bodies and documents, so that no
// recursive walk over them can exhaust the stack.
const MaxJSONDepth = 128

func itoa(i int) string { return strconv.Itoa(i) }

// CheckJSON reports whether b is one valid JSON value nested no deeper than
// maxDepth. The depth is measured first, without recursion, so that the
// validator that follows never sees deeper input.
func CheckJSON(b []byte, maxDepth int) error {
	depth, inString, escaped := 0, false, false
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			if depth > maxDepth {
				return Errorf(EINVALID, "JSON nested deeper than %d levels", maxDepth)
			}
		case ']', '}':
			depth--
		}
	}
	if !gjson.ValidBytes(b) {
		return Errorf(EINVALID, "invalid JSON")
	}
	return nil
}
