package engine

import (
	"strconv"
	"unicode/utf8"

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
	// JSON text is UTF-8 (RFC 8259 §8.1), but gjson, like encoding/json,
	// lets any byte through inside strings. Such a body or document would
	// be stored as received and later served, byte for byte, as invalid
	// JSON; it is refused instead (outside strings gjson refuses them).
	if !utf8.Valid(b) {
		return Errorf(EINVALID, "invalid UTF-8 at byte %d: JSON text must be UTF-8", invalidUTF8At(b))
	}
	return nil
}

// invalidUTF8At returns the offset of the first byte of b that does not
// start a valid UTF-8 sequence.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(b)
}
