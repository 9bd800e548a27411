package engine

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// editDoc is a sync document with a condition in branch mode:
//
//	a, paid{yes: [ok], no: [inner{yes: [deep], no: []}, bad]}, z
func editDoc(t *testing.T) *Document {
	t.Helper()
	raw := `{"title":"t","mode":"sync","trigger":{},"nodes":[
	 {"key":"a","type":"end","config":{"status":"resolved"}},
	 {"key":"paid","type":"condition","config":{"mode":"branch","rules":{"and":[]}},"branches":{
	   "yes":[{"key":"ok","type":"response","config":{"status":200}}],
	   "no":[{"key":"inner","type":"condition","config":{"mode":"branch","rules":{"and":[]}},"branches":{
	      "yes":[{"key":"deep","type":"end"}],"no":[]}},
	     {"key":"bad","type":"response","config":{"status":422}}]}},
	 {"key":"z","type":"end"}]}`
	d, err := ParseDocument([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// shape prints the tree compactly: a paid(yes:ok no:inner(yes:deep) bad) z.
func shape(nodes []Node) string {
	var parts []string
	for i := range nodes {
		n := &nodes[i]
		s := n.Key
		var bs []string
		for _, b := range branchOrder(n) {
			if len(n.Branches[b]) > 0 {
				bs = append(bs, b+":"+shape(n.Branches[b]))
			}
		}
		if len(bs) > 0 {
			s += "(" + strings.Join(bs, " ") + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestEditDocShape(t *testing.T) {
	if got, want := shape(editDoc(t).Nodes), "a paid(yes:ok no:inner(yes:deep) bad) z"; got != want {
		t.Fatalf("shape = %q, want %q", got, want)
	}
}

func TestFindNode(t *testing.T) {
	d := editDoc(t)
	for _, key := range []string{"a", "paid", "ok", "inner", "deep", "bad", "z"} {
		n, ok := FindNode(d, key)
		if !ok || n.Key != key {
			t.Errorf("FindNode(%q) = %v, %v", key, n, ok)
		}
	}
	if _, ok := FindNode(d, "nope"); ok {
		t.Error("FindNode(nope) found something")
	}
	// The pointer edits the document.
	n, _ := FindNode(d, "deep")
	n.Title = "Deep"
	if n2, _ := FindNode(d, "deep"); n2.Title != "Deep" {
		t.Error("FindNode returned a copy")
	}
}

func TestInsertNode(t *testing.T) {
	end := func(key string) Node {
		return Node{Key: key, Type: "end", Config: json.RawMessage(`{"status":"resolved"}`)}
	}
	cond := Node{Key: "c", Type: "condition", Config: json.RawMessage(`{"mode":"branch","rules":{"and":[]}}`)}
	tests := []struct {
		name          string
		parent, brnch string
		index         int
		node          Node
		want          string // shape after, or error code
		code          string
	}{
		{"main start", "", "", 0, end("n"), "n a paid(yes:ok no:inner(yes:deep) bad) z", ""},
		{"main start named branch", "", "main", 0, end("n"), "n a paid(yes:ok no:inner(yes:deep) bad) z", ""},
		{"main end", "", "main", 3, end("n"), "a paid(yes:ok no:inner(yes:deep) bad) z n", ""},
		{"main middle", "", "main", 1, end("n"), "a n paid(yes:ok no:inner(yes:deep) bad) z", ""},
		{"yes start", "paid", "yes", 0, end("n"), "a paid(yes:n ok no:inner(yes:deep) bad) z", ""},
		{"yes end", "paid", "yes", 1, end("n"), "a paid(yes:ok n no:inner(yes:deep) bad) z", ""},
		{"empty branch", "inner", "no", 0, end("n"), "a paid(yes:ok no:inner(yes:deep no:n) bad) z", ""},
		{"nested condition", "paid", "no", 2, cond, "a paid(yes:ok no:inner(yes:deep) bad c) z", ""},
		{"index too big", "", "main", 4, end("n"), "", EINVALID},
		{"negative index", "paid", "yes", -1, end("n"), "", EINVALID},
		{"duplicate key", "", "main", 0, end("deep"), "", EINVALID},
		{"empty key", "", "main", 0, end(""), "", EINVALID},
		{"unknown type", "", "main", 0, Node{Key: "n", Type: "bogus"}, "", EINVALID},
		{"unknown parent", "nope", "yes", 0, end("n"), "", ENOTFOUND},
		{"parent without branches", "a", "yes", 0, end("n"), "", EINVALID},
		{"unknown branch", "paid", "maybe", 0, end("n"), "", EINVALID},
		{"main with a branch name", "", "yes", 0, end("n"), "", EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := editDoc(t)
			err := InsertNode(d, tt.parent, tt.brnch, tt.index, tt.node)
			if tt.code != "" {
				if ErrorCode(err) != tt.code {
					t.Fatalf("err = %v (%s), want code %s", err, ErrorCode(err), tt.code)
				}
				if got := shape(d.Nodes); got != "a paid(yes:ok no:inner(yes:deep) bad) z" {
					t.Fatalf("document changed on error: %s", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := shape(d.Nodes); got != tt.want {
				t.Fatalf("shape = %q, want %q", got, tt.want)
			}
			if err := d.Validate(); err != nil {
				t.Fatalf("document no longer valid: %v", err)
			}
		})
	}
}

func TestInsertNodeDoesNotAliasOtherChains(t *testing.T) {
	// A chain sliced from a bigger backing array must not overwrite its
	// neighbour when it grows.
	d := &Document{Title: "t", Mode: ModeSync}
	d.Nodes = make([]Node, 0, 10)
	for _, k := range []string{"x", "y"} {
		if err := InsertNode(d, "", "", len(d.Nodes), Node{Key: k, Type: "end"}); err != nil {
			t.Fatal(err)
		}
	}
	before := d.Nodes
	if err := InsertNode(d, "", "", 0, Node{Key: "w", Type: "end"}); err != nil {
		t.Fatal(err)
	}
	if shape(before) != "x y" || shape(d.Nodes) != "w x y" {
		t.Fatalf("before %q, after %q", shape(before), shape(d.Nodes))
	}
}

func TestDeleteNode(t *testing.T) {
	tests := []struct {
		key, want, code string
	}{
		{"a", "paid(yes:ok no:inner(yes:deep) bad) z", ""},
		{"z", "a paid(yes:ok no:inner(yes:deep) bad)", ""},
		{"paid", "a z", ""},
		{"inner", "a paid(yes:ok no:bad) z", ""},
		{"deep", "a paid(yes:ok no:inner bad) z", ""},
		{"ok", "a paid(no:inner(yes:deep) bad) z", ""},
		{"nope", "", ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			d := editDoc(t)
			err := DeleteNode(d, tt.key)
			if tt.code != "" {
				if ErrorCode(err) != tt.code {
					t.Fatalf("err = %v, want %s", err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := shape(d.Nodes); got != tt.want {
				t.Fatalf("shape = %q, want %q", got, tt.want)
			}
			if _, ok := FindNode(d, tt.key); ok {
				t.Fatal("node still there")
			}
			if err := d.Validate(); err != nil {
				t.Fatalf("document no longer valid: %v", err)
			}
		})
	}
}

func TestMoveNode(t *testing.T) {
	tests := []struct {
		key   string
		delta int
		want  string
		code  string
	}{
		{"a", 1, "paid(yes:ok no:inner(yes:deep) bad) a z", ""},
		{"z", -1, "a z paid(yes:ok no:inner(yes:deep) bad)", ""},
		{"z", -2, "z a paid(yes:ok no:inner(yes:deep) bad)", ""},
		{"paid", 0, "a paid(yes:ok no:inner(yes:deep) bad) z", ""},
		{"bad", -1, "a paid(yes:ok no:bad inner(yes:deep)) z", ""},
		{"inner", 1, "a paid(yes:ok no:bad inner(yes:deep)) z", ""},
		{"a", -1, "", EINVALID},
		{"z", 1, "", EINVALID},
		{"ok", 1, "", EINVALID},
		{"deep", -1, "", EINVALID},
		{"nope", 1, "", ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			d := editDoc(t)
			err := MoveNode(d, tt.key, tt.delta)
			if tt.code != "" {
				if ErrorCode(err) != tt.code {
					t.Fatalf("err = %v, want %s", err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := shape(d.Nodes); got != tt.want {
				t.Fatalf("shape = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReplaceNodeConfig(t *testing.T) {
	tests := []struct {
		name, key, title, config string
		want                     string // shape after
		code                     string
	}{
		{"response", "ok", "OK", `{"status":201}`, "a paid(yes:ok no:inner(yes:deep) bad) z", ""},
		{"condition keeps branches", "paid", "Paid?", `{"mode":"branch","rules":{"or":[]}}`, "a paid(yes:ok no:inner(yes:deep) bad) z", ""},
		{"continue with steps in branches", "paid", "", `{"mode":"continue","rules":{"and":[]}}`, "", EINVALID},
		{"invalid config keeps branches", "paid", "", `{"mode":"branch","rules":{"and":[{"left":"x","op":"matches","right":"("}]}}`, "a paid(yes:ok no:inner(yes:deep) bad) z", ""},
		{"unknown", "nope", "", `{}`, "", ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := editDoc(t)
			err := ReplaceNodeConfig(d, tt.key, tt.title, json.RawMessage(tt.config))
			if tt.code != "" {
				if ErrorCode(err) != tt.code {
					t.Fatalf("err = %v, want %s", err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			n, _ := FindNode(d, tt.key)
			if n.Title != tt.title || string(n.Config) != tt.config {
				t.Fatalf("node = %+v", n)
			}
			if got := shape(d.Nodes); got != tt.want {
				t.Fatalf("shape = %q, want %q", got, tt.want)
			}
		})
	}

	// A condition whose branches are empty may switch to continue mode:
	// the empty branches go, and the document stays valid.
	d := editDoc(t)
	if err := DeleteNode(d, "deep"); err != nil {
		t.Fatal(err)
	}
	if err := ReplaceNodeConfig(d, "inner", "", json.RawMessage(`{"mode":"continue","rules":{"and":[]}}`)); err != nil {
		t.Fatal(err)
	}
	n, _ := FindNode(d, "inner")
	if n.Branches != nil {
		t.Fatalf("branches = %v, want none", n.Branches)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestNewNodeKey(t *testing.T) {
	d := editDoc(t)
	tests := []struct {
		typ, want string
	}{
		{"condition", "condition_1"},
		{"response", "response_1"},
		{"bad type!", "node_1"},
	}
	for _, tt := range tests {
		if got := NewNodeKey(d, tt.typ); got != tt.want {
			t.Errorf("NewNodeKey(%q) = %q, want %q", tt.typ, got, tt.want)
		}
	}
	// Keys taken anywhere in the tree are skipped.
	for i, k := range []string{"end_1", "end_2"} {
		if err := InsertNode(d, "inner", "no", i, Node{Key: k, Type: "end"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := NewNodeKey(d, "end"); got != "end_3" {
		t.Errorf("NewNodeKey(end) = %q, want end_3", got)
	}
}

func TestNodeBranchNamesOfCondition(t *testing.T) {
	if got := NodeBranchNames(&Node{Type: "condition", Config: json.RawMessage(`{"mode":"branch","rules":{"and":[]}}`)}, ModeSync); !slices.Equal(got, []string{"yes", "no"}) {
		t.Errorf("branch-mode condition branches = %v", got)
	}
}

func TestUpstreamNodes(t *testing.T) {
	d := editDoc(t)
	tests := []struct {
		key  string
		want []string
	}{
		{"a", nil},
		{"paid", []string{"a"}},
		{"ok", []string{"a", "paid"}},
		{"inner", []string{"a", "paid"}},
		{"deep", []string{"a", "paid", "inner"}},
		{"bad", []string{"a", "paid", "inner", "deep"}},
		{"z", []string{"a", "paid", "ok", "inner", "deep", "bad"}},
		{"nope", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, n := range UpstreamNodes(d, tt.key) {
			got = append(got, n.Key)
			if n.Branches != nil {
				t.Errorf("%s: upstream %s keeps its branches", tt.key, n.Key)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("UpstreamNodes(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

func TestRuleOperatorsCoverEngine(t *testing.T) {
	seen := map[string]bool{}
	for _, o := range RuleOperators {
		op, ok := ruleOps[o.Op]
		if !ok {
			t.Errorf("RuleOperators lists unknown %q", o.Op)
			continue
		}
		if seen[o.Op] {
			t.Errorf("%q listed twice", o.Op)
		}
		seen[o.Op] = true
		if o.Unary != op.unary() || IsUnaryOperator(o.Op) != o.Unary {
			t.Errorf("%q: Unary = %v, engine says %v", o.Op, o.Unary, op.unary())
		}
		if o.Label == "" {
			t.Errorf("%q has no label", o.Op)
		}
	}
	if len(seen) != len(ruleOps) {
		t.Errorf("RuleOperators has %d operators, the engine %d", len(seen), len(ruleOps))
	}
}
