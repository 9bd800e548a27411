package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/tidwall/gjson"
)

// cli runs one command and returns its standard output.
func cli(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), args, noEnv, &stdout, &stderr); err != nil {
		t.Fatalf("hookflow %s: %v (%s)", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// testDocuments returns every workflow document in engine's test data: the
// JSON files that are valid documents (the §9 example first) and the seeds
// of FuzzParseDocument that are.
func testDocuments(t *testing.T) map[string][]byte {
	t.Helper()
	docs := map[string][]byte{}
	root := filepath.Join("..", "..", "engine", "testdata")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(path, "FuzzParseDocument") {
			s := strings.TrimPrefix(string(raw), "go test fuzz v1\n")
			s = strings.TrimSuffix(strings.TrimSpace(s), ")")
			s = strings.TrimPrefix(strings.TrimPrefix(s, "[]byte("), "string(")
			u, err := strconv.Unquote(s)
			if err != nil {
				return nil
			}
			raw = []byte(u)
		} else if !strings.HasSuffix(path, ".json") {
			return nil
		}
		if _, _, _, err := engine.PrepareDocument(raw); err == nil {
			docs[filepath.ToSlash(strings.TrimPrefix(path, root+string(filepath.Separator)))] = raw
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := docs["section9.json"]; !ok || len(docs) < 4 {
		t.Fatalf("found only %d documents in the test data: %v", len(docs), keys(docs))
	}
	return docs
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// withoutReadOnly returns a document compacted, without the members that
// export adds and import ignores.
func withoutReadOnly(t *testing.T, doc []byte) string {
	t.Helper()
	if !gjson.ValidBytes(doc) {
		t.Fatalf("invalid JSON: %s", doc)
	}
	out := []byte{'{'}
	gjson.ParseBytes(doc).ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "id", "key", "url", "revision":
			return true
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(append(append(out, k.Raw...), ':'), v.Raw...)
		return true
	})
	out = append(out, '}')
	var b bytes.Buffer
	if err := json.Compact(&b, out); err != nil {
		t.Fatalf("%v in %s", err, doc)
	}
	return b.String()
}

// dropMember returns a JSON object without its top-level member key.
func dropMember(doc []byte, key string) []byte {
	out := []byte{'{'}
	gjson.ParseBytes(doc).ForEach(func(k, v gjson.Result) bool {
		if k.Str == key {
			return true
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(append(append(out, k.Raw...), ':'), v.Raw...)
		return true
	})
	return append(out, '}')
}

var importedRE = regexp.MustCompile(`^workflow ([0-9]+) (created|updated): revision ([0-9]+), key [a-z0-9]+\n$`)

func importDoc(t *testing.T, dir, file string, extra ...string) (id int64, rev int) {
	t.Helper()
	out := cli(t, append([]string{"workflow", "import", file, "--data-dir", dir}, extra...)...)
	m := importedRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("import printed %q", out)
	}
	id, _ = strconv.ParseInt(m[1], 10, 64)
	rev, _ = strconv.Atoi(m[3])
	return id, rev
}

// TestWorkflowExportImportRoundTrip: every document of the test data,
// imported, exported and imported again, comes back the same: with its
// secrets when asked, and over its own workflow without them (the stored
// ones are kept).
func TestWorkflowExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := t.TempDir()
	for name, raw := range testDocuments(t) {
		t.Run(name, func(t *testing.T) {
			src := filepath.Join(files, strings.ReplaceAll(name, "/", "_")+".src.json")
			if err := os.WriteFile(src, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			id, rev := importDoc(t, dir, src)
			if rev != 1 {
				t.Errorf("created at revision %d", rev)
			}
			idS := strconv.FormatInt(id, 10)
			full := cli(t, "workflow", "export", idS, "--secrets", "--data-dir", dir)
			if !json.Valid([]byte(full)) || gjson.Get(full, "id").Int() != id || gjson.Get(full, "revision").Int() != 1 {
				t.Fatalf("export printed %s", full)
			}
			// Exactly the document imported, read-only members aside. The
			// workflow's state is exported always: a document that did not
			// say is enabled.
			gotDoc := []byte(full)
			if !gjson.GetBytes(raw, "enabled").Exists() {
				if gjson.Get(full, "enabled").Raw != "true" {
					t.Errorf("a document without enabled exported enabled=%s", gjson.Get(full, "enabled").Raw)
				}
				gotDoc = dropMember(gotDoc, "enabled")
			}
			if got, want := withoutReadOnly(t, gotDoc), withoutReadOnly(t, raw); got != want {
				t.Fatalf("export differs from the imported document:\n got %s\nwant %s", got, want)
			}

			// The export, imported as a new workflow, exports the same.
			exported := filepath.Join(files, strings.ReplaceAll(name, "/", "_")+".export.json")
			if err := os.WriteFile(exported, []byte(full), 0o600); err != nil {
				t.Fatal(err)
			}
			id2, _ := importDoc(t, dir, exported)
			if id2 == id {
				t.Fatal("import without --id updated the workflow")
			}
			again := cli(t, "workflow", "export", strconv.FormatInt(id2, 10), "--data-dir", dir, "--secrets")
			if withoutReadOnly(t, []byte(again)) != withoutReadOnly(t, []byte(full)) {
				t.Errorf("second round differs:\n%s\n%s", again, full)
			}

			// Without --secrets: no password, and imported over the same
			// workflow, a new revision that keeps the stored one.
			bare := cli(t, "workflow", "export", "--data-dir", dir, idS)
			if p := gjson.Get(bare, "trigger.basicAuth.password"); p.Exists() {
				t.Errorf("export without --secrets has the password %s", p.Raw)
			}
			bareFile := filepath.Join(files, strings.ReplaceAll(name, "/", "_")+".bare.json")
			if err := os.WriteFile(bareFile, []byte(bare), 0o600); err != nil {
				t.Fatal(err)
			}
			uid, urev := importDoc(t, dir, bareFile, "--id", idS)
			if uid != id || urev != 2 {
				t.Errorf("import --id %d: workflow %d revision %d, want revision 2", id, uid, urev)
			}
			after := cli(t, "workflow", "export", "--secrets", idS, "--data-dir", dir)
			// The same document, and the same password: put back as the
			// member "password" (an empty one is not put back at all).
			if withoutReadOnly(t, engine.DropSecrets([]byte(after))) != withoutReadOnly(t, engine.DropSecrets([]byte(full))) {
				t.Errorf("after import --id without secrets:\n got %s\nwant %s", after, full)
			}
			da, erra := engine.ParseDocument([]byte(after))
			df, errf := engine.ParseDocument([]byte(full))
			if erra != nil || errf != nil || da.Trigger.BasicAuth != df.Trigger.BasicAuth {
				t.Errorf("Basic Auth after import --id without secrets: %+v (%v), want %+v (%v)", da.Trigger.BasicAuth, erra, df.Trigger.BasicAuth, errf)
			}
			if gjson.Get(after, "key").String() != gjson.Get(full, "key").String() {
				t.Error("the key changed")
			}
		})
	}
}

func TestWorkflowCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := filepath.Join("..", "..", "engine", "testdata", "section9.json")
	id, _ := importDoc(t, dir, src)
	idS := strconv.FormatInt(id, 10)

	list := cli(t, "workflow", "list", "--data-dir", dir)
	if !regexp.MustCompile(`(?m)^ID\s+MODE\s+ENABLED\s+REVISION\s+EXECUTIONS\s+KEY\s+TITLE\n` + idS + `\s+sync\s+true\s+1\s+0\s+[a-z0-9]{20}\s+Payment callback$`).MatchString(list) {
		t.Errorf("list printed:\n%s", list)
	}
	js := cli(t, "workflow", "list", "--json", "--data-dir", dir)
	if gjson.Get(js, "items.#").Int() != 1 || gjson.Get(js, "items.0.id").Int() != id || gjson.Get(js, "items.0.title").String() != "Payment callback" {
		t.Errorf("list --json printed %s", js)
	}
	exp := cli(t, "workflow", "export", idS, "--data-dir", dir, "--public-url", "https://hooks.example.com/")
	if u := gjson.Get(exp, "url").String(); u != "https://hooks.example.com/api/webhook:trigger/"+gjson.Get(exp, "key").String() {
		t.Errorf("url %q", u)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"workflow"}, "usage: hookflow workflow list|export|import"},
		{[]string{"workflow", "show"}, `unknown subcommand "show"`},
		{[]string{"workflow", "export"}, "usage: hookflow workflow export ID"},
		{[]string{"workflow", "export", "x1"}, `"x1" is not a workflow id`},
		{[]string{"workflow", "export", "999"}, "no workflow with id 999"},
		{[]string{"workflow", "export", idS, "2"}, "usage: hookflow workflow export ID"},
		{[]string{"workflow", "import", "/nonexistent/doc.json"}, "no such file"},
		{[]string{"workflow", "import", src, "--id", "999"}, "no workflow with id 999"},
		{[]string{"workflow", "import", src, "--id", "-3"}, `--id: "-3" is not a workflow id`},
		{[]string{"workflow", "list", "extra"}, `unexpected argument "extra"`},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append(tc.args, "--data-dir", dir), noEnv, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}

	// An invalid document names its file and the field.
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"title":"x","mode":"sometimes","nodes":[]}`), 0o600)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"workflow", "import", bad, "--data-dir", dir}, noEnv, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), bad+": mode:") {
		t.Errorf("invalid document: %v", err)
	}
	// Without --secrets a Basic Auth workflow cannot be created anew: the
	// password is required, and the error says so.
	bare := filepath.Join(t.TempDir(), "bare.json")
	os.WriteFile(bare, []byte(cli(t, "workflow", "export", idS, "--data-dir", dir)), 0o600)
	err = run(context.Background(), []string{"workflow", "import", bare, "--data-dir", dir}, noEnv, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "trigger.basicAuth.password: required") {
		t.Errorf("bare import as new: %v", err)
	}
}

// TestCommandHelp: every command prints its usage and flags with --help,
// on standard output, and exits 0; flags may follow arguments.
func TestCommandHelp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"Usage: hookflow [command]", "workflow export ID"}},
		{[]string{"-h"}, []string{"Usage: hookflow [command]"}},
		{[]string{"serve", "--help"}, []string{"Usage: hookflow [serve]", "--addr string", "--metrics-addr", "--data-dir"}},
		{[]string{"token", "create", "--help"}, []string{"Usage: hookflow token create", "--name string"}},
		{[]string{"token", "--help"}, []string{"Usage: hookflow token create"}},
		{[]string{"admin", "password", "-h"}, []string{"--email string"}},
		{[]string{"workflow", "--help"}, []string{"Usage: hookflow workflow list|export|import"}},
		{[]string{"workflow", "list", "--help"}, []string{"--json"}},
		{[]string{"workflow", "export", "--help"}, []string{"--secrets", "--public-url"}},
		{[]string{"workflow", "import", "--help"}, []string{"--id string"}},
		{[]string{"backup", "--help"}, []string{"Usage: hookflow backup", "--data-dir"}},
		{[]string{"migrate", "--help"}, []string{"Usage: hookflow migrate"}},
		{[]string{"version", "--help"}, []string{"Usage: hookflow version"}},
	} {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), tc.args, noEnv, &stdout, &stderr); err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(stdout.String(), w) {
				t.Errorf("%v printed:\n%s\nwant %q", tc.args, stdout.String(), w)
			}
		}
	}
	// Flags after the argument, and "--" before an argument that looks
	// like a flag.
	dir := t.TempDir()
	dest := filepath.Join(t.TempDir(), "copy.db")
	if out := cli(t, "backup", dest, "--data-dir", dir); !strings.HasPrefix(out, "backup written to "+dest) {
		t.Errorf("backup printed %q", out)
	}
	if _, err := os.Stat(dest); err != nil {
		t.Error(err)
	}
}

// TestParseFlags: flags and arguments in any order; "--" ends the flags.
func TestParseFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		pos  string
		on   bool
		err  string
	}{
		{[]string{"a", "--on", "b"}, "a b", true, ""},
		{[]string{"--on", "a", "b"}, "a b", true, ""},
		{[]string{"a", "b", "--on"}, "a b", true, ""},
		{[]string{"a", "--", "--on", "-x"}, "a --on -x", false, ""},
		{[]string{"a", "--nope"}, "", false, "flag provided but not defined: -nope"},
	} {
		fs := newCmdFlags("test", "", -1, io.Discard)
		on := fs.Bool("on", false, "")
		pos, err := parseFlags(fs, tc.args, io.Discard)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: error %v", tc.args, err)
			}
			continue
		}
		if err != nil || strings.Join(pos, " ") != tc.pos || *on != tc.on {
			t.Errorf("%v: %q on=%v %v; want %q on=%v", tc.args, pos, *on, err, tc.pos, tc.on)
		}
	}
}

// TestWorkflowImportWhileServing: a revision imported with the CLI while
// the server runs is live within about a second, without a restart.
func TestWorkflowImportWhileServing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	token := createToken(t, dir)
	srv := startServer(t, dir, token)
	id, key := srv.createWorkflow(t, `{"title":"v1","mode":"sync","trigger":{},"nodes":[{"key":"r","type":"response","config":{"status":200,"body":"one"}}]}`)
	fire := func() string {
		r := srv.do(t, http.MethodPost, "/api/webhook:trigger/"+key, []byte(`{}`), map[string]string{"Content-Type": "application/json"})
		return string(r.body)
	}
	if got := fire(); got != "one" {
		t.Fatalf("reply %q", got)
	}
	doc := filepath.Join(t.TempDir(), "v2.json")
	os.WriteFile(doc, []byte(`{"title":"v2","mode":"sync","trigger":{},"nodes":[{"key":"r","type":"response","config":{"status":200,"body":"two"}}]}`), 0o600)
	if _, rev := importDoc(t, dir, doc, "--id", strconv.FormatInt(id, 10)); rev != 2 {
		t.Fatalf("revision %d", rev)
	}
	deadline := time.Now().Add(5 * time.Second)
	for fire() != "two" {
		if time.Now().After(deadline) {
			t.Fatal("the server still runs revision 1 five seconds after the import")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestWorkflowImportTooLarge: a document over engine.MaxDocumentBytes is
// refused, naming the file and the limit, before the database is opened.
func TestWorkflowImportTooLarge(t *testing.T) {
	t.Parallel()
	big := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(big, bytes.Repeat([]byte(" "), engine.MaxDocumentBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "data")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"workflow", "import", big, "--data-dir", dir}, noEnv, &stdout, &stderr)
	if want := big + ": larger than " + strconv.Itoa(engine.MaxDocumentBytes) + " bytes"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the data directory was made for a refused document: %v", err)
	}
}
