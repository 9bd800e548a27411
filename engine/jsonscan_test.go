package engine

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tidwall/gjson"
)

// refLookup is the straightforward lookup with gjson's Get, step by step:
// the scanners of jsonscan.go must find exactly what it finds.
func refLookup(v gjson.Result, p Path) gjson.Result {
	for i, seg := range p {
		if !v.Exists() {
			return gjson.Result{}
		}
		if seg.IsIndex {
			if !v.IsArray() {
				return gjson.Result{}
			}
			v = v.Get(strconv.Itoa(seg.Index))
			continue
		}
		if v.IsArray() {
			return mapArray(v, p[i:])
		}
		if !v.IsObject() {
			return gjson.Result{}
		}
		if seg.Key == "" {
			var out gjson.Result
			v.ForEach(func(k, item gjson.Result) bool {
				if k.Str == "" {
					out = item
					return false
				}
				return true
			})
			v = out
			continue
		}
		v = v.Get(gjson.Escape(seg.Key))
	}
	return v
}

func sameResult(a, b gjson.Result) bool {
	return a.Type == b.Type && a.Raw == b.Raw && a.Str == b.Str
}

func checkLookup(t *testing.T, doc string, p Path) {
	t.Helper()
	v := gjson.Parse(doc)
	got, want := p.Lookup(v), refLookup(v, p)
	if !sameResult(got, want) {
		t.Errorf("path %s in %.200s:\n got %v %q %q\nwant %v %q %q", p, doc, got.Type, got.Raw, got.Str, want.Type, want.Raw, want.Str)
	}
}

// TestLookupMatchesGJSON looks up every path of every sample payload, plus
// missing members and items past the end, both ways.
func TestLookupMatchesGJSON(t *testing.T) {
	files, err := filepath.Glob("testdata/samples/*/body.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	n := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		paths, _, err := ListJSONPaths(raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range paths {
			p, err := ParsePath(s)
			if err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			for _, q := range []Path{p, p.Append(Segment{Key: "missing"}), p.Append(Segment{Index: 0, IsIndex: true}), p.Append(Segment{Index: 99, IsIndex: true})} {
				checkLookup(t, string(raw), q)
				n++
			}
		}
	}
	for _, tc := range []struct{ doc, path string }{
		{`{"a\"b":1,"a\u0022b":2}`, `["a\"b"]`},
		{`{"":{"x":"\u00e9t\u00e9"},"x":0}`, `[""].x`},
		{` { "a" : [ 1 , { "b" : "c" } , [ ] ] } `, `a[1].b`},
		{`{"a":[{"b":1},{"c":2},{"b":[3,4]}]}`, `a.b`},
		{`{"n":-1.5e+300,"t":true,"f":false,"z":null,"s":"x\\y"}`, `s`},
		{`{"n":-1.5e+300}`, `n`},
		{`{"z":null}`, `z`},
		{`{"a":{"b":{}}}`, `a.b.c`},
		{`{"a.b":{"c*":{"?":1}}}`, `["a.b"]["c*"]["?"]`},
		{`{"@this":1}`, `["@this"]`},
		{`{"#":[1]}`, `["#"][0]`},
		{`{"0":"zero"}`, `["0"]`},
	} {
		p, err := ParsePath(tc.path)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		checkLookup(t, tc.doc, p)
		n++
	}
	t.Logf("%d lookups compared", n)
}

// FuzzLookup compares the scanners with gjson on arbitrary valid JSON and
// paths; on malformed JSON they must only not panic.
func FuzzLookup(f *testing.F) {
	f.Add(`{"order":{"id":123,"items":[{"sku":"a"},{"sku":"b"}]}}`, "order.items.sku")
	f.Add(`[{"a":1},{"a":[2,3]}]`, "[1].a[0]")
	f.Add(`{"a\"":{"":[true,null]}}`, `["a\""][""][1]`)
	f.Add(`{"a":"\ud83d\ude00","b":{"c":"d"`, "b.c")
	f.Fuzz(func(t *testing.T, doc, path string) {
		p, err := ParsePath(path)
		if err != nil {
			return
		}
		v := gjson.Parse(doc)
		got := p.Lookup(v)
		if !gjson.Valid(doc) {
			return
		}
		if want := refLookup(v, p); !sameResult(got, want) {
			t.Errorf("path %s in %q:\n got %v %q %q\nwant %v %q %q", p, doc, got.Type, got.Raw, got.Str, want.Type, want.Raw, want.Str)
		}
	})
}
