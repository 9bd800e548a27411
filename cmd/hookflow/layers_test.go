package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLayers keeps the import direction of architecture.md true:
// cmd → web → handlers → engine; handlers → views; views → engine, static;
// db → engine; engine and static are leaves; nothing imports cmd. The engine
// also stays free of HTTP, SQL and UI packages.
func TestLayers(t *testing.T) {
	const module = "github.com/hookflow/hookflow/"
	allowed := map[string][]string{
		"engine":   {},
		"static":   {},
		"db":       {"engine"},
		"views":    {"engine", "static"},
		"handlers": {"engine", "views"},
		"web":      {"handlers", "engine", "static", "views"},
	}
	forbiddenInEngine := []string{"net/http", "database/sql", "github.com/gofiber/", "github.com/a-h/templ", "github.com/valyala/"}
	root := filepath.Join("..", "..")
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
		layer := strings.Split(filepath.ToSlash(rel), "/")[0]
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if layer == "engine" {
				for _, bad := range forbiddenInEngine {
					if strings.HasPrefix(p, bad) {
						t.Errorf("%s imports %s: the engine stays free of HTTP, SQL and UI packages", rel, p)
					}
				}
			}
			if !strings.HasPrefix(p, module) {
				continue
			}
			target := strings.Split(strings.TrimPrefix(p, module), "/")[0]
			if target == "cmd" {
				t.Errorf("%s imports %s: nothing imports cmd", rel, p)
				continue
			}
			ok, known := allowed[layer]
			if !known {
				continue // cmd may wire anything
			}
			if target != layer && !containsLayer(ok, target) {
				t.Errorf("%s (layer %s) imports %s: allowed are %v", rel, layer, p, ok)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
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
