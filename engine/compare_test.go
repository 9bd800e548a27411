package engine

import (
	"testing"

	"github.com/tidwall/gjson"
)

// missingValue is what a path to nothing resolves to.
var missingValue = gjson.Result{}

func TestCompareValues(t *testing.T) {
	const (
		lt = -1
		eq = 0
		gt = 1
		no = 2 // not ordered
	)
	for _, tc := range []struct {
		a, b string // JSON; "" is a missing value
		want int
	}{
		// numbers
		{`1`, `2`, lt},
		{`12.5`, `12.50`, eq},
		{`-0`, `0`, eq},
		{`0.0`, `-0e5`, eq},
		{`1e3`, `999`, gt},
		{`1E+3`, `1000`, eq},
		{`-1`, `-2`, gt},
		{`-1.5`, `1`, lt},
		{`0.1`, `0.10000000000000001`, lt}, // equal as float64
		{`100`, `1e2`, eq},
		{`0.001`, `1e-3`, eq},
		{`123.456`, `123.4560`, eq},
		{`1e999999999999999999999`, `1e999999999999999999998`, eq}, // clamped exponents
		{`1e400`, `1e399`, gt},
		{`-1e400`, `-1e399`, lt},
		// big integers: above 2^53 float64 cannot tell these apart
		{`5678901234567890123`, `5678901234567890124`, lt},
		{`12345678901234567891`, `12345678901234567890`, gt},
		{`9007199254740993`, `9007199254740992`, gt},
		{`-9007199254740993`, `-9007199254740992`, lt},
		{`123456789012345678901234567890`, `123456789012345678901234567890.0`, eq},
		// numeric strings
		{`"12.50"`, `12.5`, eq},
		{`"10"`, `"9"`, gt}, // as strings "10" < "9"
		{`"5678901234567890123"`, `5678901234567890123`, eq},
		{`"5678901234567890123"`, `"5678901234567890124"`, lt},
		{`"-3"`, `-3.0`, eq},
		{`"007"`, `7`, lt},   // not JSON number syntax: compared as text
		{`" 7"`, `7`, lt},    // spaces make it text
		{`"1."`, `1`, gt},    // likewise
		{`"0x10"`, `16`, lt}, // likewise
		{`"abc"`, `5`, gt},   // text "abc" > "5"
		{`"1e3"`, `"1000"`, eq},
		// timestamps
		{`"2024-05-01T10:00:00Z"`, `"2024-05-01T12:00:00+02:00"`, eq},
		{`"2024-05-01T10:00:00Z"`, `"2024-05-01T11:00:00+02:00"`, gt}, // text order says lt
		{`"2024-05-01T10:00:00.5Z"`, `"2024-05-01T10:00:00.25Z"`, gt},
		{`"2024-05-01T10:00:00Z"`, `"2024-05-01"`, gt}, // a date alone is text
		{`"2024-13-01T10:00:00Z"`, `"2024-02-01T10:00:00Z"`, gt},
		// strings
		{`"a"`, `"b"`, lt},
		{`"B"`, `"a"`, lt}, // byte-wise, case-sensitive
		{`"paid"`, `"paid"`, eq},
		{`""`, `"a"`, lt},
		{`"é"`, `"\u00e9"`, eq},
		// booleans: compared by their text
		{`true`, `true`, eq},
		{`false`, `true`, lt},
		{`true`, `"true"`, eq},
		{`false`, `"false"`, eq},
		{`true`, `1`, gt},
		// null and missing: not ordered
		{`null`, `null`, no},
		{``, `null`, no},
		{`null`, `0`, no},
		{`5`, ``, no},
		// objects and arrays: not ordered
		{`[1]`, `[1]`, no},
		{`{}`, `1`, no},
		{`"x"`, `["x"]`, no},
	} {
		a, b := missingValue, missingValue
		if tc.a != "" {
			a = gjson.Parse(tc.a)
		}
		if tc.b != "" {
			b = gjson.Parse(tc.b)
		}
		c, ok := compareValues(a, b)
		got := c
		if !ok {
			got = no
		}
		if got != tc.want {
			t.Errorf("compareValues(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		// The order is antisymmetric.
		c2, ok2 := compareValues(b, a)
		if ok2 != ok || (ok && c2 != -c) {
			t.Errorf("compareValues(%s, %s) = %d, %v; reversed %d, %v", tc.a, tc.b, c, ok, c2, ok2)
		}
	}
}

func TestEqualValues(t *testing.T) {
	for _, tc := range []struct {
		a, b string // JSON; "" is a missing value
		want bool
	}{
		{``, ``, true},
		{`null`, ``, true},
		{`null`, `null`, true},
		{`null`, `""`, false},
		{`null`, `0`, false},
		{``, `false`, false},
		{``, `[]`, false},
		{`1`, `1.0`, true},
		{`"1"`, `1`, true},
		{`5678901234567890123`, `5678901234567890124`, false},
		{`true`, `"true"`, true},
		{`true`, `1`, false},
		{`[]`, `[]`, true},
		{`[]`, `{}`, false},
		{`["a","b"]`, `["a","b"]`, true},
		{`["a","b"]`, `["b","a"]`, false},
		{`["a","b"]`, `["a"]`, false},
		{`["a"]`, `["a","b"]`, false},
		{`[1,"2",null]`, `["1", 2.0, null]`, true},
		{`{"a":1,"b":[1,{"c":"x"}]}`, `{"b":[1.0,{"c":"x"}],"a":"1"}`, true},
		{`{"a":1}`, `{"a":1,"b":2}`, false},
		{`{"a":1,"b":2}`, `{"a":1}`, false},
		{`{"a":null}`, `{"b":null}`, false},
		{`[12345678901234567891]`, `[12345678901234567890]`, false},
		{`["x"]`, `"x"`, false},
		{`{}`, `"{}"`, false},
	} {
		a, b := missingValue, missingValue
		if tc.a != "" {
			a = gjson.Parse(tc.a)
		}
		if tc.b != "" {
			b = gjson.Parse(tc.b)
		}
		if got := equalValues(a, b); got != tc.want {
			t.Errorf("equalValues(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := equalValues(b, a); got != tc.want {
			t.Errorf("equalValues(%s, %s) = %v, want %v", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	for _, s := range []string{"", "-", "+1", "01", "1.", ".5", "1e", "1e+", "--1", "1x", "0x1", "NaN", "Infinity", " 1", "1 "} {
		if _, ok := parseDecimal(s); ok {
			t.Errorf("parseDecimal(%q) accepted", s)
		}
	}
	for s, want := range map[string]exactDecimal{
		"0":        {},
		"-0.000":   {},
		"120":      {hi: "12", exp: 3},
		"0.05":     {lo: "5", exp: -1},
		"-1.50":    {neg: true, hi: "1", lo: "5", exp: 1},
		"12.5e-1":  {hi: "12", lo: "5", exp: 1},
		"0.0012e4": {lo: "12", exp: 2},
	} {
		got, ok := parseDecimal(s)
		if !ok || got != want {
			t.Errorf("parseDecimal(%q) = %+v, %v; want %+v", s, got, ok, want)
		}
	}
}

// A number Result built without its text still compares by value.
func TestCompareConstructedNumber(t *testing.T) {
	n := gjson.Result{Type: gjson.Number, Num: 12.5}
	if c, ok := compareValues(n, gjson.Parse(`"12.50"`)); !ok || c != 0 {
		t.Errorf("constructed 12.5 vs \"12.50\": %d, %v", c, ok)
	}
}
