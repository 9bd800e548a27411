package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func TestListJSONPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"object", `{"a":1,"b":{"c":2}}`, []string{"a", "b", "b.c"}},
		{"top-level array", `[{"x":1}]`, []string{"[0]", "[0].x"}},
		{"array of scalars", `{"tags":["a","b"]}`, []string{"tags", "tags[0]", "tags[1]"}},
		{"nested arrays", `{"m":[[1,[2]],[]]}`, []string{"m", "m[0]", "m[0][0]", "m[0][1]", "m[0][1][0]", "m[1]"}},
		{"top-level nested arrays", `[[{"a":null}]]`, []string{"[0]", "[0][0]", "[0][0].a"}},
		{"document order, not sorted", `{"z":1,"a":{"y":2,"b":3},"m":4}`, []string{"z", "a", "a.y", "a.b", "m"}},
		{"empty containers are leaves", `{"o":{},"l":[],"n":null,"f":false}`, []string{"o", "l", "n", "f"}},
		{"keys needing quotes", `{"a.b":1,"c[0]":2,"":3,"q\"":4," s":5,"x":{"y.z":{"w":6}}}`,
			[]string{`["a.b"]`, `["c[0]"]`, `[""]`, `["q\""]`, `[" s"]`, "x", `x["y.z"]`, `x["y.z"].w`}},
		{"escaped keys are unescaped", `{"caf\u00e9":1,"tab\there":2}`, []string{"café", "tab\there"}},
		{"keys that need no quotes", `{"smtp-id":1,"with space":2,"0":3,"ünï":4}`,
			[]string{"smtp-id", "with space", "0", "ünï"}},
		{"repeated keys listed once", `{"a":{"x":1},"a":{"x":2,"y":3},"b":1,"b":2}`, []string{"a", "a.x", "a.y", "b"}},
		{"scalar document", `42`, nil},
		{"empty object", ` {} `, nil},
		{"big integers", `{"id":820982911946154508,"n":1e400}`, []string{"id", "n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, truncated, err := ListJSONPaths([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if truncated {
				t.Error("truncated")
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("ListJSONPaths(%s)\n got  %q\n want %q", tc.doc, got, tc.want)
			}
			checkListedPaths(t, got)
		})
	}
}

func TestListJSONPathsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, doc, want string }{
		{"empty", "", "the JSON sample is empty"},
		{"blank", " \n\t", "the JSON sample is empty"},
		{"trailing comma", `{"a":1,}`, "line 1, column 8: invalid character '}'"},
		{"position on a later line", "{\n  \"a\": 1\n  \"b\": 2\n}", "line 3, column 3: invalid character '\"' after object key:value pair"},
		{"cut off", `{"a":[1,2`, "it ends too early"},
		{"cut off string", `{"a":"x`, "it ends too early"},
		{"two values", `{} {}`, "line 1, column 4: invalid character '{' after top-level value"},
		{"single quotes", `{'a':1}`, "line 1, column 2: invalid character '\\''"},
		{"too deep", strings.Repeat("[", MaxJSONDepth+1) + strings.Repeat("]", MaxJSONDepth+1), "nested deeper than 128 levels"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			paths, _, err := ListJSONPaths([]byte(tc.doc))
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID {
				t.Fatalf("err = %v, want an EINVALID *Error", err)
			}
			if !strings.Contains(e.Message, tc.want) {
				t.Errorf("message %q does not contain %q", e.Message, tc.want)
			}
			if paths != nil {
				t.Errorf("paths %q along with the error", paths)
			}
		})
	}
}

func TestListJSONPathsLimits(t *testing.T) {
	t.Parallel()
	object := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`"k%d":%d`, i, i)
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	t.Run("exactly the limit", func(t *testing.T) {
		t.Parallel()
		paths, truncated, err := ListJSONPaths([]byte(object(MaxListedPaths)))
		if err != nil || truncated || len(paths) != MaxListedPaths {
			t.Fatalf("%d paths, truncated %v, err %v", len(paths), truncated, err)
		}
	})
	t.Run("past the limit", func(t *testing.T) {
		t.Parallel()
		paths, truncated, err := ListJSONPaths([]byte(object(MaxListedPaths + 500)))
		if err != nil || !truncated || len(paths) != MaxListedPaths {
			t.Fatalf("%d paths, truncated %v, err %v", len(paths), truncated, err)
		}
		if paths[0] != "k0" || paths[MaxListedPaths-1] != fmt.Sprintf("k%d", MaxListedPaths-1) {
			t.Errorf("not the first paths in document order: %q … %q", paths[0], paths[len(paths)-1])
		}
	})
	t.Run("past the limit inside nested values", func(t *testing.T) {
		t.Parallel()
		doc := `{"a":` + object(600) + `,"b":` + object(600) + `,"c":1}`
		paths, truncated, err := ListJSONPaths([]byte(doc))
		if err != nil || !truncated || len(paths) != MaxListedPaths {
			t.Fatalf("%d paths, truncated %v, err %v", len(paths), truncated, err)
		}
		if slices.Contains(paths, "c") {
			t.Error("listed a path after the limit")
		}
	})
	t.Run("deeper than a path can be", func(t *testing.T) {
		t.Parallel()
		const depth = MaxPathSegments + 10
		doc := strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
		paths, truncated, err := ListJSONPaths([]byte(doc))
		if err != nil || !truncated || len(paths) != MaxPathSegments {
			t.Fatalf("%d paths, truncated %v, err %v", len(paths), truncated, err)
		}
		checkListedPaths(t, paths)
	})
}

func TestListQueryPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     []string
	}{
		{"full URL with fragment", "https://h/p?query[0][a]=1#f", []string{"query", "query[0]", "query[0].a"}},
		{"query with ?", "?query[0][a]=1", []string{"query", "query[0]", "query[0].a"}},
		{"query without ?", "a=1&b[c]=2", []string{"a", "b", "b.c"}},
		{"path with query", "/hook/abc?event=paid&id=7", []string{"event", "id"}},
		{"host without scheme", "example.com/hook?x=1", []string{"x"}},
		{"URL without query", "https://example.com/hook", nil},
		{"URL with empty query", "https://example.com/hook?", nil},
		{"path without query", "/hook/abc", nil},
		{"fragment only", "https://example.com/hook#a=1", nil},
		{"? inside a value", "a=what?&b=1", []string{"a", "b"}},
		{"spaces around", "  ?a=1  ", []string{"a"}},
		{"lone key", "debug", []string{"debug"}},
		{"repeated keys", "?a=1&a=2", []string{"a", "a[0]", "a[1]"}},
		{"encoded brackets", "?a%5Bb%5D=1", []string{"a", "a.b"}},
		{"keys needing quotes", "?a.b=1&c[d.e]=2&e[]=x&f[g][h][i][j][k][l][m]=y", []string{
			`["a.b"]`, "c", `c["d.e"]`, "e", "e[0]", "f", "f.g", "f.g.h", "f.g.h.i", "f.g.h.i.j", "f.g.h.i.j.k", `f.g.h.i.j.k["[l][m]"]`}},
		{"array past the limit is an object", "?a[100]=x", []string{"a", "a.100"}},
		{"form body", "mc_gross=500.00&custom=&payer_email=tobi%40snowdevil.ca", []string{"mc_gross", "custom", "payer_email"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, truncated, err := ListQueryPaths(tc.in)
			if err != nil || truncated {
				t.Fatalf("truncated %v, err %v", truncated, err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("ListQueryPaths(%q)\n got  %q\n want %q", tc.in, got, tc.want)
			}
			checkListedPaths(t, got)
		})
	}
}

func TestListQueryPathsLimits(t *testing.T) {
	t.Parallel()
	pairs := func(n int, format string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(format, i)
		}
		return strings.Join(parts, "&")
	}
	paths, truncated, err := ListQueryPaths("?" + pairs(600, "k%d[x]=1"))
	if err != nil || !truncated || len(paths) != MaxListedPaths {
		t.Errorf("%d paths, truncated %v, err %v", len(paths), truncated, err)
	}
	_, _, err = ListQueryPaths("?" + pairs(1001, "k%d=1"))
	var e *Error
	if !errors.As(err, &e) || e.Code != EINVALID || !strings.Contains(e.Message, "more than 1000 parameters") {
		t.Errorf("err = %v, want the parameter limit error", err)
	}
}

func TestListSamplePaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, sample, kind string
		want               []string
		wantErr            string
	}{
		{"JSON object", ` {"a":1,"b":{"c":2}}`, "body", []string{"a", "b", "b.c"}, ""},
		{"JSON array", "\n[{\"x\":1}]\n", "body", []string{"[0]", "[0].x"}, ""},
		{"URL", "https://h/p?query[0][a]=1#f", "query", []string{"query", "query[0]", "query[0].a"}, ""},
		{"query string", "?a=1", "query", []string{"a"}, ""},
		{"bare query string", "a=1&b=2", "query", []string{"a", "b"}, ""},
		{"form body", "token=x&team_id=T1&text=", "query", []string{"token", "team_id", "text"}, ""},
		{"bad JSON array", "[1,", "body", nil, "ends too early"},
		{"bad JSON", `{"a":}`, "body", nil, "line 1, column 6"},
		{"empty", "  ", "", nil, "the sample is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			kind, got, truncated, err := ListSamplePaths(tc.sample)
			if kind != tc.kind {
				t.Errorf("kind %q, want %q", kind, tc.kind)
			}
			if k := SampleKind(tc.sample); k != tc.kind && (tc.kind != "" || k != SampleQuery) {
				t.Errorf("SampleKind = %q, want %q", k, tc.kind)
			}
			if tc.wantErr != "" {
				var e *Error
				if !errors.As(err, &e) || e.Code != EINVALID || !strings.Contains(e.Message, tc.wantErr) {
					t.Errorf("err = %v, want EINVALID containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || truncated {
				t.Fatalf("truncated %v, err %v", truncated, err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestListJSONPathsSamples lists the paths of every sample body: each path
// must parse back to itself and resolve in the document.
func TestListJSONPathsSamples(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/samples/*/body.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample bodies: %v", err)
	}
	// Paths each sample must list, in this relative order.
	expect := map[string][]string{
		"sendgrid-events":                   {"[0]", "[0].email", "[0].smtp-id", "[1]", "[1].response"},
		"shopify-orders-create":             {"id", "payment_gateway_names[0]", "line_items[0].id", "line_items[1].tax_lines", "customer.default_address.default"},
		"github-push":                       {"ref", "commits", "repository.owner.login", "sender.site_admin"},
		"gitlab-push":                       {"commits[0].author.email", "commits[1].added[0]", "total_commits_count"},
		"stripe-checkout-session-completed": {"data.object.id"},
		"slack-url-verification":            {"token", "challenge", "type"},
		"standard-webhooks":                 {"test"},
	}
	for _, file := range files {
		name := filepath.Base(filepath.Dir(file))
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			paths, truncated, err := ListJSONPaths(raw)
			if err != nil || truncated || len(paths) == 0 {
				t.Fatalf("%d paths, truncated %v, err %v", len(paths), truncated, err)
			}
			checkListedPaths(t, paths)
			doc := gjson.ParseBytes(raw)
			for _, s := range paths {
				p, _ := ParsePath(s)
				if !p.Lookup(doc).Exists() {
					t.Errorf("path %s does not resolve", s)
				}
			}
			last := -1
			for _, w := range expect[name] {
				i := slices.Index(paths, w)
				if i < 0 || i < last {
					t.Errorf("%s missing or out of order in %q", w, paths)
				}
				last = i
			}
			kind, again, _, err := ListSamplePaths(string(raw))
			if kind != "body" || err != nil || !slices.Equal(again, paths) {
				t.Errorf("ListSamplePaths: kind %q, err %v", kind, err)
			}
		})
	}
}

// checkListedPaths checks that paths are unique and each parses back to
// itself.
func checkListedPaths(t *testing.T, paths []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range paths {
		if seen[s] {
			t.Errorf("path %q listed twice", s)
		}
		seen[s] = true
		p, err := ParsePath(s)
		if err != nil {
			t.Errorf("ParsePath(%q): %v", s, err)
			continue
		}
		if p.String() != s {
			t.Errorf("ParsePath(%q).String() = %q", s, p.String())
		}
	}
}

func FuzzListSamplePaths(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":{"c":2}}`, `[{"x":1}]`, `{"a.b":{"":[1,{" x":2}]},"a.b":{"q\"":1}}`,
		"https://h/p?query[0][a]=1#f", "?a=1&a=2&b[c][]=3", "a%5Bb%5D=1&[]=x&=y",
		`{"a":}`, "[", "", "  ", `{"\u00e9\u2028":"x","\\":[[]]}`, "?%E4%BD%A0[.]=1",
		"?a[b][c][d][e][f][g][h]=i&x[ y ]=1&z[\t]=2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kind, paths, _, err := ListSamplePaths(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID {
				t.Fatalf("ListSamplePaths(%q): unexpected error %v", s, err)
			}
			return
		}
		if kind != "body" && kind != "query" {
			t.Fatalf("kind %q", kind)
		}
		if len(paths) > MaxListedPaths {
			t.Fatalf("%d paths", len(paths))
		}
		seen := map[string]bool{}
		for _, p := range paths {
			if seen[p] {
				t.Fatalf("ListSamplePaths(%q): %q listed twice", s, p)
			}
			seen[p] = true
			parsed, err := ParsePath(p)
			if err != nil {
				t.Fatalf("ListSamplePaths(%q): ParsePath(%q): %v", s, p, err)
			}
			if parsed.String() != p {
				t.Fatalf("ListSamplePaths(%q): %q prints back as %q", s, p, parsed.String())
			}
		}
	})
}

func BenchmarkListJSONPaths(b *testing.B) {
	raw, err := os.ReadFile("testdata/samples/shopify-orders-create/body.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, _, err := ListJSONPaths(raw); err != nil {
			b.Fatal(err)
		}
	}
}
