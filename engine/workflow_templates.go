package engine

import (
	"embed"
	"encoding/json"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/tidwall/gjson"
)

// Workflow templates (§17) are plain workflow documents in templates/, one
// file each: adding a template is adding a file. Each holds its samples
// (trigger.samples), so that a workflow created from it can be test-run at
// once, and a "description" beside the title.
//
//go:embed templates/*.json
var templateFiles embed.FS

// WorkflowTemplate is a workflow to start from.
type WorkflowTemplate struct {
	// Name is the file's name without .json, stable for links.
	Name        string
	Title       string
	Description string
	// Document is the complete workflow document.
	Document json.RawMessage
}

var templates = loadTemplates()

func loadTemplates() []WorkflowTemplate {
	names, err := fs.Glob(templateFiles, "templates/*.json")
	if err != nil {
		panic("engine: templates: " + err.Error())
	}
	sort.Strings(names)
	out := make([]WorkflowTemplate, 0, len(names))
	for _, n := range names {
		b, err := templateFiles.ReadFile(n)
		if err != nil {
			panic("engine: templates: " + err.Error())
		}
		doc := gjson.ParseBytes(b)
		out = append(out, WorkflowTemplate{
			Name: strings.TrimSuffix(path.Base(n), ".json"), Title: doc.Get("title").Str, Description: doc.Get("description").Str,
			Document: json.RawMessage(b),
		})
	}
	return out
}

// Templates returns the workflow templates, by name.
func Templates() []WorkflowTemplate { return templates }

// TemplateByName returns one template.
func TemplateByName(name string) (WorkflowTemplate, bool) {
	for _, t := range templates {
		if t.Name == name {
			return t, true
		}
	}
	return WorkflowTemplate{}, false
}
