package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// qsTestCases were checked against Node's qs 6.15.3 with
// qs.parse(query, {arrayLimit: 100, ignoreQueryPrefix: true}); where ParseQS
// differs on purpose (see its doc comment) the qs result is in a comment.
var qsTestCases = []struct{ name, query, want string }{
	{"empty", ``, `{}`},
	{"lone question mark", `?`, `{}`},
	{"leading question mark", `?a=1`, `{"a":"1"}`},
	{"only one question mark stripped", `??a=1`, `{"?a":"1"}`},
	{"no equals sign", `a`, `{"a":""}`},
	{"empty values", `a&b=`, `{"a":"","b":""}`},
	{"empty key dropped", `=x`, `{}`},
	{"empty key among others", `=x&a=1`, `{"a":"1"}`},
	{"empty pairs skipped", `&&a=1&&b=2&`, `{"a":"1","b":"2"}`},
	{"equals in value", `a==b`, `{"a":"=b"}`},
	{"second equals in value", `a=b=c`, `{"a":"b=c"}`},
	{"equals inside brackets", `a[b=c]=d`, `{"a":{"b=c":"d"}}`},
	{"]= found before =", `a=b]=c`, `{"a=b]":"c"}`},
	{"%5D= found before =", `a=b%5D=c`, `{"a=b]":"c"}`},
	{"dots are not separators", `a.b=c&d[e.f]=g`, `{"a.b":"c","d":{"e.f":"g"}}`},
	{"plus is space, %2B is plus", `a=%2B1&b=+1&c=1+%2B+1`, `{"a":"+1","b":" 1","c":"1 + 1"}`},
	{"plus in key", `a+b=c+d`, `{"a b":"c d"}`},
	{"%20 in key and value", `a%20b=c%20d`, `{"a b":"c d"}`},
	{"lone percent", `a=%`, `{"a":"%"}`},
	{"short escape", `a=%2`, `{"a":"%2"}`},
	{"bad hex", `a=%zz+x`, `{"a":"%zz x"}`},
	{"percent then plus", `a=100%+sure`, `{"a":"100% sure"}`},
	{"invalid escape keeps whole value", `a=%41%`, `{"a":"%41%"}`},
	{"not UTF-8", `a=%FF`, `{"a":"%FF"}`},
	{"overlong", `a=%C0%80`, `{"a":"%C0%80"}`},
	{"surrogate", `a=%ED%A0%80`, `{"a":"%ED%A0%80"}`},
	{"past U+10FFFF", `a=%F4%90%80%80`, `{"a":"%F4%90%80%80"}`},
	{"truncated sequence", `a=%E4%BD`, `{"a":"%E4%BD"}`},
	{"truncated sequence before text", `a=%E4%BDx`, `{"a":"%E4%BDx"}`},
	{"two-byte", `a=caf%C3%A9`, `{"a":"café"}`},
	{"three-byte", `a=%E4%BD%A0%E5%A5%BD`, `{"a":"你好"}`},
	{"four-byte", `a=%F0%9F%98%80`, `{"a":"😀"}`},
	{"lowercase hex", `a=%e4%bd%a0`, `{"a":"你"}`},
	{"brackets stay decoded on failure", `a=%5B%&b=%5b%5d%`, `{"a":"[%","b":"[]%"}`},
	{"NUL", `a=%00`, `{"a":"\u0000"}`},
	{"newline and tab", `a=%0A%09`, `{"a":"\n\t"}`},
	{"quote and backslash", `a=%22%5C`, `{"a":"\"\\"}`},
	{"HTML characters", `a=<b>&c=%26&d=%3E`, `{"a":"<b>","c":"&","d":">"}`},
	{"line separator", `a=%E2%80%A8%E2%80%A9`, `{"a":"\u2028\u2029"}`},
	{"keys are decoded", `%61=b`, `{"a":"b"}`},
	{"encoded brackets", `a%5Bb%5D=c`, `{"a":{"b":"c"}}`},
	{"lowercase encoded brackets", `a%5bb%5d%5Bc%5d=d`, `{"a":{"b":{"c":"d"}}}`},
	{"double-encoded brackets are literal", `a%255Bb%255D=c`, `{"a%5Bb%5D":"c"}`},
	{"half-encoded brackets", `a[b%5D=c&d%5Be]=f`, `{"a":{"b":"c"},"d":{"e":"f"}}`},
	{"invalid key escape keeps brackets", `a%5Bb%5D%=c`, `{"a":{"b":"c"}}`},
	{"raw unicode", `%E5%90%8D=%E5%B1%B1&名前=山田`, `{"名":"山","名前":"山田"}`},
	{"nested object", `a[b]=c`, `{"a":{"b":"c"}}`},
	{"double nested", `a[b][c]=d`, `{"a":{"b":{"c":"d"}}}`},
	{"depth 5 exactly", `a[b][c][d][e][f]=g`, `{"a":{"b":{"c":{"d":{"e":{"f":"g"}}}}}}`},
	{"depth 6 keeps the rest", `a[b][c][d][e][f][g]=h`, `{"a":{"b":{"c":{"d":{"e":{"f":{"[g]":"h"}}}}}}}`},
	{"depth limit", `a[b][c][d][e][f][g][h]=i`, `{"a":{"b":{"c":{"d":{"e":{"f":{"[g][h]":"i"}}}}}}}`},
	{"depth limit, nested brackets in the rest", `a[b][c][d][e][f][g[h]]=i`, `{"a":{"b":{"c":{"d":{"e":{"f":{"[g[h]]":"i"}}}}}}}`},
	{"depth limit, unterminated rest", `a[b][c][d][e][f][g`, `{"a":{"b":{"c":{"d":{"e":{"f":{"[g":""}}}}}}}`},
	{"leading bracket group", `[a]=b`, `{"a":"b"}`},
	{"leading []", `[]=b`, `{"0":"b"}`},
	{"leading [] repeated", `[]=x&[]=y`, `{"0":"x","1":"y"}`},
	{"leading index", `[0]=b`, `{"0":"b"}`},
	{"leading [] then key", `[][a]=x`, `{"0":{"a":"x"}}`},
	{"encoded leading []", `%5B%5D=x`, `{"0":"x"}`},
	{"space key", `+=x`, `{" ":"x"}`},
	{"nested brackets", `a[[b]]=c`, `{"a":{"[b]":"c"}}`},
	{"unterminated bracket", `a[=1`, `{"a":{"[":"1"}}`},
	{"unterminated group", `a[b=1`, `{"a":{"[b":"1"}}`},
	{"stray closing bracket", `a]=1`, `{"a]":"1"}`},
	{"text between groups ignored", `a[b]c[d]=1`, `{"a":{"b":{"d":"1"}}}`},
	{"text after group ignored", `a[b]c=1`, `{"a":{"b":"1"}}`},
	{"spaces inside brackets", `a[ b ]=1`, `{"a":{" b ":"1"}}`},
	{"array with []", `a[]=b&a[]=c`, `{"a":["b","c"]}`},
	{"repeated key", `a=b&a=c&a=d`, `{"a":["b","c","d"]}`},
	{"repeated empty values", `a=&b=x&a=`, `{"a":["",""],"b":"x"}`},
	{"several repeated keys", `a=1&b=2&a=3&c=%41&b=4&a=%42`, `{"a":["1","3","B"],"b":["2","4"],"c":"A"}`},
	{"repeated key with decoded values", `b=%23%5Db[[&%3D%26&b=`, `{"b":["#]b[[",""],"=&":""}`},
	{"indexes sorted", `a[1]=b&a[0]=c`, `{"a":["c","b"]}`},
	{"sparse array compacted", `a[1]=c&a[15]=b`, `{"a":["c","b"]}`},
	{"lone high index", `a[5]=x`, `{"a":["x"]}`},
	{"index 99 is an array", `a[99]=x`, `{"a":["x"]}`},
	{"index 100 is past the limit", `a[100]=x`, `{"a":{"100":"x"}}`},
	{"index 101", `a[101]=x`, `{"a":{"101":"x"}}`},
	{"leading zero is a key", `a[01]=x`, `{"a":{"01":"x"}}`},
	{"negative is a key", `a[-1]=x`, `{"a":{"-1":"x"}}`},
	{"exponent is a key", `a[1e2]=x`, `{"a":{"1e2":"x"}}`},
	{"long number is a key", `a[1234567890123456789]=x`, `{"a":{"1234567890123456789":"x"}}`},
	{"mixed [] and key", `a[]=x&a[k]=y`, `{"a":{"0":"x","k":"y"}}`},
	{"mixed index and key", `a[0]=x&a[k]=y`, `{"a":{"0":"x","k":"y"}}`},
	{"repeated index", `a[0]=b&a[0]=c`, `{"a":[["b","c"]]}`},
	{"array of objects", `a[0][b]=1&a[0][c]=2&a[1][b]=3`, `{"a":[{"b":"1","c":"2"},{"b":"3"}]}`},
	{"[] objects merge", `a[][b]=1&a[][c]=2`, `{"a":[{"b":"1","c":"2"}]}`},
	{"object then string", `a[b]=1&a=2`, `{"a":[{"b":"1"},"2"]}`},
	{"string then object", `a=2&a[b]=1`, `{"a":["2",{"b":"1"}]}`},
	{"object, string, object", `a[b]=1&a=2&a[c]=3`, `{"a":{"0":{"b":"1"},"1":"2","c":"3"}}`},
	{"repeats, [] and key", `a=1&a=2&a[]=3&a[x]=4&a=5`, `{"a":{"0":"1","1":"2","2":"5","3":"3","x":"4"}}`},
	{"[] then empty plain value dropped", `a[]=x&a=`, `{"a":["x"]}`},
	{"empty then []", `a=&a[]=x`, `{"a":["","x"]}`},
	{"repeated with empty", `a=x&a=`, `{"a":["x",""]}`},
	{"string then overflow", `a=z&a[101]=x`, `{"a":{"0":"z","102":"x"}}`},
	{"overflow then string", `a[101]=x&a=y`, `{"a":{"101":"x","102":"y"}}`},
	// qs orders the integer keys first: {"a":{"0":"y","1":"z","101":"x"}}
	{"overflow then [] twice", `a[101]=x&a=y&a=z`, `{"a":{"101":"x","0":"y","1":"z"}}`},
	{"[][]", `a[][]=1`, `{"a":["1"]}`},
	{"[][1]", `a[][1]=x`, `{"a":["x"]}`},
	{"[] then index", `a[]=1&a[0]=2`, `{"a":["1","2"]}`},
	{"index then []", `a[0]=1&a[]=2`, `{"a":["1","2"]}`},
	{"high index then []", `a[1]=1&a[]=2`, `{"a":["2","1"]}`},
	{"index of [] object", `a[][0]=x&a[][1]=y`, `{"a":["x","y"]}`},
	{"deep array", `a[0][0][0]=x&a[0][0][1]=y`, `{"a":[[["x","y"]]]}`},
	// qs: {"a":{"b":{"0":"y","200":"x"}}}
	{"nested array index past limit", `a[b][200]=x&a[b][]=y`, `{"a":{"b":{"200":"x","0":"y"}}}`},
	// qs: {"a":{"0":"2","x":"1"}}
	{"object then array merge", `a[x]=1&a[0]=2`, `{"a":{"x":"1","0":"2"}}`},
	{"overflow object merge", `a[200][b]=1&a[200][c]=2`, `{"a":{"200":{"b":"1","c":"2"}}}`},
	{"webhook style", `event=order.paid&data[order][id]=42&data[order][items][0][sku]=A1&data[order][items][0][qty]=2&data[order][items][1][sku]=B2&data[order][items][1][qty]=1&data[customer][email]=x%40y.z&tags[]=new&tags[]=vip`, `{"event":"order.paid","data":{"order":{"id":"42","items":[{"sku":"A1","qty":"2"},{"sku":"B2","qty":"1"}]},"customer":{"email":"x@y.z"}},"tags":["new","vip"]}`},
	{"rails style", `user[name]=Ann&user[roles][]=admin&user[roles][]=dev&user[address][city]=Paris`, `{"user":{"name":"Ann","roles":["admin","dev"],"address":{"city":"Paris"}}}`},
	// Differences by design: keys named after Object.prototype members are
	// kept (qs drops every one of these pairs and returns {}).
	{"prototype names are plain keys", `constructor=1&toString=2&__proto__=3&a[__proto__]=4&hasOwnProperty=5`,
		`{"constructor":"1","toString":"2","__proto__":"3","a":{"__proto__":"4"},"hasOwnProperty":"5"}`},
	// ... and integer keys stay in first-seen order (qs: {"2":"x","b":"1","a":"3"}).
	{"integer keys keep their place", `b=1&2=x&a=3`, `{"b":"1","2":"x","a":"3"}`},
	// Invalid UTF-8 becomes U+FFFD, one per run of bad bytes.
	{"invalid UTF-8 value", "a=x\xffy%20z", `{"a":"x\ufffdy z"}`},
	{"invalid UTF-8 keys merge", "\xff\xfe=1&\xfd=2", `{"\ufffd":["1","2"]}`},
	{"invalid UTF-8 in a bracket", "a[\xc3]=1", `{"a":{"\ufffd":"1"}}`},
}

func TestParseQS(t *testing.T) {
	t.Parallel()
	for _, tc := range qsTestCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseQS(tc.query, DefaultQSOptions)
			if err != nil {
				t.Fatalf("ParseQS(%q): %v", tc.query, err)
			}
			assertSameQSJSON(t, tc.query, got, []byte(tc.want))
		})
	}
}

// TestParseQSSampleCases runs every case of testdata/samples/qs-cases.json,
// whose expectations come from qs itself.
func TestParseQSSampleCases(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/samples/qs-cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Query  string          `json:"query"`
		Expect json.RawMessage `json:"expect"`
		Case   string          `json:"case"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases in qs-cases.json")
	}
	for _, tc := range cases {
		t.Run(tc.Case, func(t *testing.T) {
			t.Parallel()
			got, err := ParseQS(tc.Query, DefaultQSOptions)
			if err != nil {
				t.Fatalf("ParseQS(%q): %v", tc.Query, err)
			}
			assertSameQSJSON(t, tc.Query, got, tc.Expect)
		})
	}
}

// TestParseQSFormSamples parses the form-encoded sample bodies, which must
// give their expect-body.json: same keys, same order, same values.
func TestParseQSFormSamples(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"paypal-ipn", "slack-slash-command", "twilio-sms"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join("testdata", "samples", name)
			body, err := os.ReadFile(filepath.Join(dir, "body.form"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(dir, "expect-body.json"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseQS(string(body), DefaultQSOptions)
			if err != nil {
				t.Fatal(err)
			}
			assertSameQSJSON(t, name, got, want)
		})
	}
}

func TestParseQSArrayLimit(t *testing.T) {
	t.Parallel()
	repeat := func(pair string, n int) string {
		return strings.TrimSuffix(strings.Repeat(pair+"&", n), "&")
	}
	indexed := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf("a[%d]=%d", i, i)
		}
		return strings.Join(parts, "&")
	}
	values := func(n int, v func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = v(i)
		}
		return out
	}
	objectOf := func(vals []string) string {
		var b strings.Builder
		b.WriteString(`{"a":{`)
		for i, v := range vals {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%q:%q", fmt.Sprint(i), v)
		}
		b.WriteString(`}}`)
		return b.String()
	}
	arrayOf := func(vals []string) string {
		b, _ := json.Marshal(map[string][]string{"a": vals})
		return string(b)
	}
	x := func(int) string { return "x" }
	num := func(i int) string { return fmt.Sprint(i) }
	tests := []struct {
		name, query, want string
		opt               QSOptions
	}{
		{"100 repeats are an array", repeat("a=x", 100), arrayOf(values(100, x)), DefaultQSOptions},
		{"101 repeats are an object", repeat("a=x", 101), objectOf(values(101, x)), DefaultQSOptions},
		{"100 [] are an array", repeat("a[]=x", 100), arrayOf(values(100, x)), DefaultQSOptions},
		{"101 [] are an object", repeat("a[]=x", 101), objectOf(values(101, x)), DefaultQSOptions},
		{"indexes 0 to 99 are an array", indexed(100), arrayOf(values(100, num)), DefaultQSOptions},
		{"index 100 turns the array into an object", indexed(101), objectOf(values(101, num)), DefaultQSOptions},
		{"small limit: index", "a[2]=x", `{"a":{"2":"x"}}`, QSOptions{ArrayLimit: 2}},
		{"small limit: index below", "a[1]=x", `{"a":["x"]}`, QSOptions{ArrayLimit: 2}},
		{"small limit: repeats", "a=1&a=2&a=3&a=4", `{"a":{"0":"1","1":"2","2":"3","3":"4"}}`, QSOptions{ArrayLimit: 2}},
		{"small limit: push past the limit", "a[0]=1&a[1]=2&a=3", `{"a":{"0":"1","1":"2","2":"3"}}`, QSOptions{ArrayLimit: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseQS(tc.query, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			assertSameQSJSON(t, tc.name, got, []byte(tc.want))
		})
	}
}

func TestParseQSOptions(t *testing.T) {
	t.Parallel()
	deepKey := "a" + strings.Repeat("[b]", 40)
	tests := []struct {
		name, query, want string
		opt               QSOptions
	}{
		{"zero options are the defaults", "a[b][c][d][e][f][g][h]=i&x[100]=y",
			`{"a":{"b":{"c":{"d":{"e":{"f":{"[g][h]":"i"}}}}}},"x":{"100":"y"}}`, QSOptions{}},
		{"depth 1", "a[b][c]=d", `{"a":{"b":{"[c]":"d"}}}`, QSOptions{Depth: 1}},
		{"depth 2", "a[b][c][d]=e", `{"a":{"b":{"c":{"[d]":"e"}}}}`, QSOptions{Depth: 2}},
		{"depth is capped", deepKey + "=x",
			`{"a":` + strings.Repeat(`{"b":`, 32) + `{"` + strings.Repeat("[b]", 8) + `":"x"}` + strings.Repeat("}", 32) + "}",
			QSOptions{Depth: 1000}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseQS(tc.query, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			assertSameQSJSON(t, tc.name, got, []byte(tc.want))
		})
	}
}

// fightingKeys returns a query whose keys alternately make a field a string
// and an object, which makes qs push the first value one level down per
// round.
func fightingKeys(rounds int) string {
	q := "a[b]=1"
	for i := range rounds {
		q += fmt.Sprintf("&[a]%d=s%d&a[c%d]=o%d", i, i, i, i)
	}
	return q
}

func TestParseQSNesting(t *testing.T) {
	t.Parallel()
	// As qs 6.15.3 parses it.
	got, err := ParseQS(fightingKeys(8), DefaultQSOptions)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a":{"0":{"0":{"0":{"0":{"0":{"0":{"0":{"0":{"b":"1"},"1":"s0","c0":"o0"},"1":"s1","c1":"o1"},` +
		`"1":"s2","c2":"o2"},"1":"s3","c3":"o3"},"1":"s4","c4":"o4"},"1":"s5","c5":"o5"},"1":"s6","c6":"o6"},"1":"s7","c7":"o7"}}`
	assertSameQSJSON(t, "8 rounds", got, []byte(want))

	// The deepest result accepted, and one more round.
	if out, err := ParseQS(fightingKeys(maxQSNesting-2), DefaultQSOptions); err != nil || qsJSONNesting(out) != maxQSNesting {
		t.Errorf("%d rounds: nesting %d, err %v", maxQSNesting-2, qsJSONNesting(out), err)
	}
	_, err = ParseQS(fightingKeys(maxQSNesting-1), DefaultQSOptions)
	var e *Error
	if !errors.As(err, &e) || e.Code != EINVALID || e.Message != "query: keys nest deeper than 64 levels" {
		t.Errorf("%d rounds: err = %v, want the nesting error", maxQSNesting-1, err)
	}
}

func TestParseQSParameterLimit(t *testing.T) {
	t.Parallel()
	pairs := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf("k%d=v", i)
		}
		return strings.Join(parts, "&")
	}
	tests := []struct {
		name, query string
		opt         QSOptions
		wantErr     string
	}{
		{"1000 pairs", pairs(1000), DefaultQSOptions, ""},
		{"1001 pairs", pairs(1001), DefaultQSOptions, "query: more than 1000 parameters"},
		{"empty pairs do not count", pairs(1000) + strings.Repeat("&", 5000), DefaultQSOptions, ""},
		{"pairs with an empty key count", pairs(1000) + "&=x", DefaultQSOptions, "query: more than 1000 parameters"},
		{"custom limit", "a=1&b=2&c=3", QSOptions{ParameterLimit: 2}, "query: more than 2 parameters"},
		{"custom limit met", "a=1&b=2", QSOptions{ParameterLimit: 2}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := ParseQS(tc.query, tc.opt)
			if tc.wantErr == "" {
				if err != nil || !json.Valid(out) {
					t.Fatalf("err = %v, valid = %v", err, json.Valid(out))
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID || e.Message != tc.wantErr {
				t.Fatalf("err = %#v, want EINVALID %q", err, tc.wantErr)
			}
			if out != nil {
				t.Errorf("output %q along with the error", out)
			}
		})
	}
}

// TestParseQSEscaping checks that the output is escaped as AppendJSONString
// does, so that it is safe to embed in HTML, and still decodes to the input.
func TestParseQSEscaping(t *testing.T) {
	t.Parallel()
	got, err := ParseQS("k%3C%3E=%3Cb%3E%26%E2%80%A8%22%5C%01", DefaultQSOptions)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"k\u003c\u003e":"\u003cb\u003e\u0026\u2028\"\\\u0001"}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// assertSameQSJSON compares two JSON texts as encoding/json decodes them,
// object key order included (qs keeps insertion order).
func assertSameQSJSON(t *testing.T, label string, got, want []byte) {
	t.Helper()
	if !json.Valid(got) {
		t.Fatalf("%s: output is not valid JSON: %q", label, got)
	}
	g, err := qsJSONTokens(got)
	if err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	w, err := qsJSONTokens(want)
	if err != nil {
		t.Fatalf("%s: bad expectation %s: %v", label, want, err)
	}
	same := len(g) == len(w)
	for i := 0; same && i < len(g); i++ {
		same = g[i] == w[i]
	}
	if !same {
		t.Errorf("%s:\n got  %s\n want %s", label, got, want)
	}
}

// qsJSONTokens decodes a JSON text into its token stream, in which object keys
// appear in order.
func qsJSONTokens(b []byte) ([]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var toks []any
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return toks, nil
		}
		if err != nil {
			return nil, err
		}
		toks = append(toks, tok)
	}
}

// qsJSONNesting returns how deeply containers nest in a valid JSON text.
func qsJSONNesting(b []byte) int {
	depth, maxDepth, inString, escaped := 0, 0, false, false
	for _, c := range b {
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case inString && c == '"':
			inString = false
		case inString:
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			maxDepth = max(maxDepth, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return maxDepth
}

// qsHasDuplicateKeys reports whether some object in a valid JSON text repeats
// a key.
func qsHasDuplicateKeys(b []byte) bool {
	toks, err := qsJSONTokens(b)
	if err != nil {
		return true
	}
	type frame struct {
		object    bool
		keys      map[string]bool
		expectKey bool
	}
	var stack []*frame
	for _, tok := range toks {
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.expectKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			k := tok.(string)
			if top.keys[k] {
				return true
			}
			top.keys[k] = true
			top.expectKey = false
			continue
		}
		if top != nil && top.object {
			top.expectKey = true
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, keys: map[string]bool{}, expectKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
	return false
}

func FuzzParseQS(f *testing.F) {
	for _, tc := range qsTestCases {
		f.Add(tc.query, uint8(0), uint8(0))
	}
	for _, s := range []string{
		"a[b]=1&a=2&a[c]=3&a[0]=4&a[]=5",
		"a[0][0][0]=x&a[0][0]=y&a[0]=z&a=w&a[0][0][1][k]=v",
		"a=z&a[101]=x&a[101][b]=y&a[]=q",
		"[]=x&[0][]=y&[0][0][a]=z",
		"%E4%BD%A0[%5B%5D]=%F0%9F%98%80&%FF=%C0",
		fightingKeys(70),
	} {
		f.Add(s, uint8(0), uint8(0))
		f.Add(s, uint8(1), uint8(1))
		f.Add(s, uint8(2), uint8(3))
	}
	f.Fuzz(func(t *testing.T, s string, depth, arrayLimit uint8) {
		opt := QSOptions{Depth: int(depth % 40), ArrayLimit: int(arrayLimit)}
		out, err := ParseQS(s, opt)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID {
				t.Fatalf("ParseQS(%q): unexpected error %v", s, err)
			}
			return
		}
		if !json.Valid(out) || !utf8.Valid(out) || len(out) < 2 || out[0] != '{' {
			t.Fatalf("ParseQS(%q) = %q: not a valid JSON object", s, out)
		}
		if n := qsJSONNesting(out); n > maxQSNesting {
			t.Fatalf("ParseQS(%q) nests %d deep, more than %d", s, n, maxQSNesting)
		}
		if qsHasDuplicateKeys(out) {
			t.Fatalf("ParseQS(%q) = %s: duplicate keys", s, out)
		}
	})
}

func BenchmarkParseQS(b *testing.B) {
	form, err := os.ReadFile("testdata/samples/paypal-ipn/body.form")
	if err != nil {
		b.Fatal(err)
	}
	if n := strings.Count(string(form), "&") + 1; n != 35 {
		b.Fatalf("paypal form has %d pairs, want 35", n)
	}
	nested := "event=order.paid&data[order][id]=42&data[order][items][0][sku]=A1&data[order][items][0][qty]=2" +
		"&data[order][items][1][sku]=B2&data[order][items][1][qty]=1&data[customer][email]=x%40y.z" +
		"&data[customer][name]=Ann+Lee&tags[]=new&tags[]=vip&utm%5Bsource%5D=mail&utm%5Bmedium%5D=email"
	for _, bc := range []struct{ name, in string }{{"form35", string(form)}, {"nested", nested}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.in)))
			for b.Loop() {
				if _, err := ParseQS(bc.in, DefaultQSOptions); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
