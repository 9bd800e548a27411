package engine

import (
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// Typed comparison for conditions (§6). It is deliberately not
// JavaScript-loose, and it never goes through float64, so that ids above
// 2^53 (Shopify, Twitter) compare exactly:
//
//   - null and missing values are equal to each other and to nothing else,
//     and are not ordered;
//   - two numbers, or numeric strings (JSON number syntax, as "12.50"),
//     compare as exact decimals;
//   - two RFC 3339 timestamps compare as instants, so different offsets of
//     the same instant are equal;
//   - other scalars compare by their text, byte-wise and case-sensitively:
//     a boolean's text is "true" or "false", so the string "true" equals
//     true, and false sorts before true;
//   - objects and arrays are equal when their members are equal by these
//     rules (objects regardless of key order) and are not ordered.

// compareValues orders a and b. ok is false when they are not ordered: one
// is null or missing, or an object or array.
func compareValues(a, b gjson.Result) (c int, ok bool) {
	if a.Type == gjson.Null || b.Type == gjson.Null || a.Type == gjson.JSON || b.Type == gjson.JSON {
		return 0, false
	}
	if da, ok := valueDecimal(a); ok {
		if db, ok := valueDecimal(b); ok {
			return da.cmp(db), true
		}
	}
	if a.Type == gjson.String && b.Type == gjson.String {
		if ta, ok := parseTimestamp(a.Str); ok {
			if tb, ok := parseTimestamp(b.Str); ok {
				return ta.Compare(tb), true
			}
		}
		return strings.Compare(a.Str, b.Str), true
	}
	at, _ := scalarText(a)
	bt, _ := scalarText(b)
	return strings.Compare(at, bt), true
}

// equalValues reports whether a and b are equal by the rules above.
func equalValues(a, b gjson.Result) bool { return equalAt(a, b, 0) }

func equalAt(a, b gjson.Result, depth int) bool {
	an, bn := a.Type == gjson.Null, b.Type == gjson.Null
	if an || bn {
		return an && bn
	}
	if a.Type == gjson.JSON || b.Type == gjson.JSON {
		if a.Type != b.Type || a.IsArray() != b.IsArray() {
			return false
		}
		if depth >= MaxJSONDepth {
			// Deeper than any checked body: fall back to the text rather
			// than recurse without bound.
			return string(appendCompactJSON(nil, a.Raw)) == string(appendCompactJSON(nil, b.Raw))
		}
		if a.IsArray() {
			bs := b.Array()
			i, eq := 0, true
			a.ForEach(func(_, x gjson.Result) bool {
				eq = i < len(bs) && equalAt(x, bs[i], depth+1)
				i++
				return eq
			})
			return eq && i == len(bs)
		}
		am, bm := a.Map(), b.Map()
		if len(am) != len(bm) {
			return false
		}
		for k, x := range am {
			y, ok := bm[k]
			if !ok || !equalAt(x, y, depth+1) {
				return false
			}
		}
		return true
	}
	c, ok := compareValues(a, b)
	return ok && c == 0
}

// scalarText is the text of a string, number or boolean; ok is false for
// null, missing values, objects and arrays.
func scalarText(r gjson.Result) (string, bool) {
	switch r.Type {
	case gjson.String:
		return r.Str, true
	case gjson.Number:
		if r.Raw != "" {
			return r.Raw, true
		}
		return string(appendNumberText(nil, r)), true
	case gjson.True:
		return "true", true
	case gjson.False:
		return "false", true
	}
	return "", false
}

// parseTimestamp parses an RFC 3339 timestamp. The cheap shape check first
// keeps ordinary strings away from time.Parse.
func parseTimestamp(s string) (time.Time, bool) {
	if len(s) < len("2006-01-02T15:04:05Z") || s[4] != '-' || s[7] != '-' || s[13] != ':' {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// exactDecimal is an exact number: 0.digits × 10^exp, negated when neg, where
// digits is hi followed by lo with no leading or trailing zeros (empty for
// zero). hi and lo are substrings of the number's text, so parsing does not
// allocate.
type exactDecimal struct {
	neg    bool
	hi, lo string
	exp    int64
}

// valueDecimal reads a number, or a string in JSON number syntax.
func valueDecimal(r gjson.Result) (exactDecimal, bool) {
	switch r.Type {
	case gjson.Number:
		if r.Raw == "" {
			return parseDecimal(string(appendNumberText(nil, r)))
		}
		return parseDecimal(r.Raw)
	case gjson.String:
		return parseDecimal(r.Str)
	}
	return exactDecimal{}, false
}

// maxDecimalExp clamps exponents; any two clamped numbers still order
// correctly, since their digit counts are far smaller.
const maxDecimalExp = 1 << 40

// parseDecimal parses s strictly as a JSON number: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
func parseDecimal(s string) (exactDecimal, bool) {
	var d exactDecimal
	i := 0
	if i < len(s) && s[i] == '-' {
		d.neg = true
		i++
	}
	intStart := i
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && decIsDigit(s[i]) {
			i++
		}
	default:
		return d, false
	}
	intPart := s[intStart:i]
	frac := ""
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && decIsDigit(s[i]) {
			i++
		}
		if i == start {
			return d, false
		}
		frac = s[start:i]
	}
	var exp int64
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		negExp := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			negExp = s[i] == '-'
			i++
		}
		start := i
		for i < len(s) && decIsDigit(s[i]) {
			if exp < maxDecimalExp {
				exp = exp*10 + int64(s[i]-'0')
			}
			i++
		}
		if i == start {
			return d, false
		}
		if negExp {
			exp = -exp
		}
	}
	if i != len(s) {
		return d, false
	}
	// Normalise to 0.digits × 10^exp.
	intPart = strings.TrimLeft(intPart, "0")
	point := int64(len(intPart))
	if intPart == "" {
		trimmed := strings.TrimLeft(frac, "0")
		point = -int64(len(frac) - len(trimmed))
		frac = trimmed
	}
	frac = strings.TrimRight(frac, "0")
	if frac == "" {
		intPart = strings.TrimRight(intPart, "0")
	}
	d.hi, d.lo, d.exp = intPart, frac, point+exp
	if d.isZero() {
		d.neg, d.exp = false, 0
	}
	return d, true
}

func decIsDigit(c byte) bool { return c >= '0' && c <= '9' }

func (d exactDecimal) isZero() bool { return d.hi == "" && d.lo == "" }

func (d exactDecimal) sign() int {
	switch {
	case d.isZero():
		return 0
	case d.neg:
		return -1
	}
	return 1
}

func (d exactDecimal) digit(i int) (byte, bool) {
	if i < len(d.hi) {
		return d.hi[i], true
	}
	if i -= len(d.hi); i < len(d.lo) {
		return d.lo[i], true
	}
	return 0, false
}

// cmp returns -1, 0 or +1 as d is less than, equal to or greater than e.
func (d exactDecimal) cmp(e exactDecimal) int {
	ds, es := d.sign(), e.sign()
	if ds != es || ds == 0 {
		return cmpInt64(int64(ds), int64(es))
	}
	mag := 0 // magnitude comparison
	if d.exp != e.exp {
		mag = cmpInt64(d.exp, e.exp)
	} else {
		for i := 0; mag == 0; i++ {
			a, aok := d.digit(i)
			b, bok := e.digit(i)
			switch {
			case !aok && !bok:
				return 0
			case !aok: // no trailing zeros: the longer one is larger
				mag = -1
			case !bok:
				mag = 1
			case a != b:
				mag = cmpInt64(int64(a), int64(b))
			}
		}
	}
	return ds * mag
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
