package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/hookflow/hookflow/"

// allowedLayers lists, per layer, the layers of ours it may import (its own
// is always allowed). A layer not listed (cmd) may wire anything.
//
// engine/outbound is a layer of its own: the adapter of the engine's
// Outbound port, as db is the adapter of its stores. It imports engine and
// nothing else of ours, and nothing but cmd imports it.
//
// engine/metrics is the same kind of adapter, of the engine's Observer and
// StoreObserver ports, with the Prometheus client library: the engine and
// db report through ports they declare (engine/observe.go), cmd hands them
// the adapter and hands its registry to web as a plain http.Handler. So
// neither the engine nor db nor web imports Prometheus' types, and the
// adapter needs no net/http (promhttp is wired in cmd).
var allowedLayers = map[string][]string{
	"engine":          {},
	"engine/outbound": {"engine"},
	"engine/metrics":  {"engine"},
	"static":          {},
	"db":              {"engine", "engine/secretbox"},
	"db/postgres":     {"engine", "engine/secretbox"},
	"views":           {"engine", "static"},
	"handlers":        {"engine", "views"},
	"web":             {"handlers", "engine", "static", "views"},
}

// forbiddenInEngine are the packages engine and its sub-packages do without.
// engine/outbound alone may use net/http: it is the HTTP client adapter.
var forbiddenInEngine = []string{"net/http", "database/sql", "github.com/gofiber/", "github.com/a-h/templ", "github.com/valyala/"}

// TestLayers keeps the import direction of architecture.md true:
// cmd → web → handlers → engine; handlers → views; views → engine, static;
// db and db/postgres → engine (never each other); engine/outbound → engine; engine and static are leaves;
// nothing imports cmd. The engine also stays free of HTTP, SQL and UI
// packages, except engine/outbound, which may use net/http.
func TestLayers(t *testing.T) {
	root := filepath.Join("..", "..")
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		layer := layerOf(rel)
		seen[layer] = true
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			if msg := importViolation(layer, strings.Trim(imp.Path.Value, `"`)); msg != "" {
				t.Errorf("%s: %s", rel, msg)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A renamed or moved package would make its rules silently unused.
	for layer := range allowedLayers {
		if !seen[layer] {
			t.Errorf("no Go files in layer %s: update allowedLayers", layer)
		}
	}
}

// layerOf returns the layer of a path inside the module (a file or a
// package): its first directory, or engine/outbound or engine/metrics for
// those adapters.
func layerOf(path string) string {
	for _, sub := range leafParsers {
		if path == sub || strings.HasPrefix(path, sub+"/") {
			return sub
		}
	}
	for _, sub := range []string{"engine/outbound", "engine/metrics", "db/postgres"} {
		if path == sub || strings.HasPrefix(path, sub+"/") {
			return sub
		}
	}
	return strings.Split(path, "/")[0]
}

// leafParsers are engine's self-contained sub-packages (architecture.md):
// they import nothing of ours, so that each is tested and fuzzed alone.
var leafParsers = []string{"engine/verify", "engine/xmlbody", "engine/multipartbody", "engine/secretbox"}

func init() {
	for _, p := range leafParsers {
		allowedLayers[p] = []string{}
		allowedLayers["engine"] = append(allowedLayers["engine"], p)
	}
}

// importViolation returns why a file in layer may not import imp, or "".
func importViolation(layer, imp string) string {
	if layer == "engine" || strings.HasPrefix(layer, "engine/") {
		for _, bad := range forbiddenInEngine {
			if layer == "engine/outbound" && bad == "net/http" {
				continue
			}
			if imp == strings.TrimSuffix(bad, "/") || strings.HasPrefix(imp, strings.TrimSuffix(bad, "/")+"/") {
				if layer == "engine" && bad == "net/http" {
					return "imports " + imp + ": only engine/outbound may use net/http"
				}
				return "imports " + imp + ": the engine stays free of HTTP, SQL and UI packages"
			}
		}
	}
	if !strings.HasPrefix(imp, module) {
		return ""
	}
	target := layerOf(strings.TrimPrefix(imp, module))
	if target == "cmd" {
		return "imports " + imp + ": nothing imports cmd"
	}
	ok, known := allowedLayers[layer]
	if !known || target == layer || containsLayer(ok, target) {
		return ""
	}
	return "layer " + layer + " imports " + imp + ": allowed are " + strings.Join(ok, ", ")
}

// TestImportViolation checks the rules themselves, on imports that do not
// exist (yet) in the tree.
func TestImportViolation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		layer, imp string
		bad        bool
	}{
		{"engine/outbound", "net/http", false},
		{"engine/outbound", "net/http/httptrace", false},
		{"engine/outbound", module + "engine", false},
		{"engine/outbound", "database/sql", true},
		{"engine/outbound", module + "handlers", true},
		{"engine/outbound", module + "db", true},
		{"engine", "net/http", true},
		{"engine", "net/http/httptrace", true},
		{"engine", "net", false},
		{"engine", "net/netip", false},
		{"engine", module + "engine/outbound", true},
		{"engine", module + "engine/qs", false},
		{"engine", "github.com/gofiber/fiber/v2", true},
		{layerOf("engine/qs/qs.go"), "net/http", true},
		{layerOf("engine/qs/qs.go"), module + "engine/outbound", true},
		{layerOf("engine/outbound/outbound.go"), "net/http", false},
		{"handlers", module + "engine/outbound", true},
		{"web", module + "engine/outbound", true},
		{"db", module + "engine/outbound", true},
		{"db", module + "engine", false},
		{"db", module + "engine/secretbox", false},
		{layerOf("db/postgres/store.go"), module + "db", true},
		{layerOf("db/postgres/store.go"), module + "engine/secretbox", false},
		{"handlers", module + "db/postgres", true},
		{"cmd", module + "engine/outbound", false},
		{layerOf("engine/verify/verify.go"), module + "engine", true},
		{layerOf("engine/xmlbody/xmlbody.go"), "net/http", true},
		{"engine", module + "engine/xmlbody", false},
		{"web", module + "cmd/hookflow", true},
		{"engine/metrics", module + "engine", false},
		{"engine/metrics", "github.com/prometheus/client_golang/prometheus", false},
		{"engine/metrics", "net/http", true},
		{"engine/metrics", module + "db", true},
		{"engine", module + "engine/metrics", true},
		{"web", module + "engine/metrics", true},
		{"handlers", module + "engine/metrics", true},
		{"db", module + "engine/metrics", true},
		{"cmd", module + "engine/metrics", false},
		{layerOf("engine/metrics/metrics.go"), "database/sql", true},
	} {
		if got := importViolation(tc.layer, tc.imp); (got != "") != tc.bad {
			t.Errorf("%s importing %s: violation %q, want bad=%v", tc.layer, tc.imp, got, tc.bad)
		}
	}
}

func containsLayer(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
