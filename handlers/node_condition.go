package handlers

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
)

func init() { registerNodeEditor(conditionEditor{}) }

// conditionEditor edits condition nodes: the mode and the rule builder's
// nested and/or groups (views/node_condition.templ).
type conditionEditor struct{}

func (conditionEditor) kind() views.NodeKind { return views.ConditionKind }

// newConfig is a condition in branch mode with an empty "and" group
// (always true).
func (conditionEditor) newConfig() json.RawMessage {
	return json.RawMessage(`{"mode":"branch","rules":{"and":[]}}`)
}

func (conditionEditor) fromNode(n *engine.Node) nodeSettings {
	var cfg struct {
		Mode  string          `json:"mode"`
		Rules json.RawMessage `json:"rules"`
	}
	_ = json.Unmarshal(n.Config, &cfg)
	return &conditionSettings{views.ConditionForm{Mode: cfg.Mode, Rules: groupFromJSON(cfg.Rules)}}
}

// rulePost is a rule group or a rule as the rule builder posts it.
type rulePost struct {
	Op        string     `json:"op"`
	Group     string     `json:"group"`
	Left      string     `json:"left"`
	Right     string     `json:"right"`
	LeftType  string     `json:"leftType"`
	RightType string     `json:"rightType"`
	Items     []rulePost `json:"items"`
}

func (conditionEditor) fromPost(form []byte) (nodeSettings, error) {
	var p struct {
		Mode  string   `json:"mode"`
		Rules rulePost `json:"rules"`
	}
	if err := decodeEditorForm(form, &p); err != nil {
		return nil, err
	}
	return &conditionSettings{views.ConditionForm{Mode: p.Mode, Rules: groupFromPost(p.Rules)}}, nil
}

func (conditionEditor) card(n *engine.Node, d *engine.Document) nodeCard {
	return nodeCard{summary: conditionSummary(n.Config, d)}
}

func (conditionEditor) vars(n *engine.Node) []resultVar {
	return []resultVar{{Hint: "true or false"}}
}

// conditionSettings is a condition panel's state.
type conditionSettings struct{ views.ConditionForm }

// conditionOwned are the config members the condition panel shows.
var conditionOwned = []string{"mode", "rules"}

func (s *conditionSettings) config(stored json.RawMessage, errs map[string]string) json.RawMessage {
	checkRules(&s.Rules, "rules", errs)
	mode := s.Mode
	if mode != "continue" {
		mode = "branch"
	}
	out := []byte(`{"mode":`)
	out = engine.AppendJSONString(out, mode)
	out = append(out, `,"rules":`...)
	out = groupJSON(out, s.Rules)
	return setConfig(stored, conditionOwned, append(out, '}'))
}

func (s *conditionSettings) inputs(in map[string]bool) {
	in["mode"], in["rules"] = true, true
	var walk func(g *views.RuleGroupForm, prefix string)
	walk = func(g *views.RuleGroupForm, prefix string) {
		for i, it := range g.Items {
			p := prefix + "[items][" + strconv.Itoa(i) + "]"
			if it.Group != nil {
				in[p] = true
				walk(it.Group, p)
				continue
			}
			in[p+"[left]"], in[p+"[op]"], in[p+"[right]"] = true, true, true
		}
	}
	walk(&s.Rules, "rules")
}

// act adds a rule or a group to the group at the rule path arg, or
// removes the item at arg.
func (s *conditionSettings) act(verb, arg string) string {
	switch verb {
	case "add-rule", "add-group":
		g := groupAt(&s.Rules, arg)
		if g == nil {
			return ""
		}
		item := views.RuleItemForm{Op: "equal"}
		if verb == "add-group" {
			// A new group usually mixes in the other connective.
			item = views.RuleItemForm{Group: &views.RuleGroupForm{Or: !g.Or, Items: []views.RuleItemForm{{Op: "equal"}}}}
		}
		g.Items = append(g.Items, item)
		p := rulePrefix(joinPath(arg, len(g.Items)-1))
		if verb == "add-group" {
			p += "[items][0]"
		}
		return strings.NewReplacer("[", "-", "]", "").Replace(p + "[left]")
	case "remove-rule":
		parentPath, idx, _ := editorCutLast(arg, ".")
		if !strings.Contains(arg, ".") {
			parentPath, idx = "", arg
		}
		g := groupAt(&s.Rules, parentPath)
		i, err := strconv.Atoi(idx)
		if g == nil || err != nil || i < 0 || i >= len(g.Items) {
			return ""
		}
		g.Items = slices.Delete(g.Items, i, i+1)
		return "add-rule-" + strings.NewReplacer("[", "-", "]", "").Replace(rulePrefix(parentPath))
	}
	return ""
}

// checkRules asks the engine about each rule on its own, so that every bad
// rule is marked at once (the engine's compile stops at the first): the
// rule is compiled alone in a probe condition and its error put on the
// rule's input.
func checkRules(g *views.RuleGroupForm, prefix string, errs map[string]string) {
	kind, ok := engine.NodeKindFor("condition")
	if !ok {
		return
	}
	for i, it := range g.Items {
		p := prefix + "[items][" + strconv.Itoa(i) + "]"
		if it.Group != nil {
			checkRules(it.Group, p, errs)
			continue
		}
		cfg := groupJSON([]byte(`{"mode":"branch","rules":`), views.RuleGroupForm{Items: []views.RuleItemForm{it}})
		_, err := kind.Compile(&engine.Node{Key: "probe", Type: "condition", Config: append(cfg, '}')}, engine.CompileEnv{Mode: engine.ModeSync})
		if err == nil {
			continue
		}
		field, rest, ok := editorSplitFieldError(engine.ErrorMessage(err))
		if !ok {
			continue
		}
		_, part, _ := editorCutLast(field, ".")
		if name := p + "[" + part + "]"; errs[name] == "" && (part == "left" || part == "op" || part == "right") {
			errs[name] = rest
		}
	}
}

func groupFromPost(p rulePost) views.RuleGroupForm {
	g := views.RuleGroupForm{Or: p.Op == "or"}
	for _, it := range p.Items {
		if it.Group != "" {
			sub := groupFromPost(it)
			g.Items = append(g.Items, views.RuleItemForm{Group: &sub})
			continue
		}
		g.Items = append(g.Items, views.RuleItemForm{Left: it.Left, Op: it.Op, Right: it.Right,
			LeftJSON: it.LeftType == "json", RightJSON: it.RightType == "json"})
	}
	return g
}

// operandForm shows a rule operand: a string as its text, another JSON
// literal as JSON (flagged so that it is saved back as JSON).
func operandForm(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, false
	}
	return string(raw), true
}

func operandJSON(text string, isJSON bool) json.RawMessage {
	if isJSON {
		t := strings.TrimSpace(text)
		if t != "" && json.Valid([]byte(t)) && t[0] != '"' {
			var buf bytes.Buffer
			if json.Compact(&buf, []byte(t)) == nil {
				return buf.Bytes()
			}
		}
	}
	return engine.AppendJSONString(nil, text)
}

// groupFromJSON reads a rule group of a stored condition.
func groupFromJSON(raw json.RawMessage) views.RuleGroupForm {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(raw, &m)
	var g views.RuleGroupForm
	list, ok := m["and"]
	if or, isOr := m["or"]; isOr && !ok {
		g.Or, list = true, or
	}
	var items []json.RawMessage
	_ = json.Unmarshal(list, &items)
	for _, it := range items {
		var im map[string]json.RawMessage
		_ = json.Unmarshal(it, &im)
		_, hasAnd := im["and"]
		_, hasOr := im["or"]
		if hasAnd || hasOr {
			sub := groupFromJSON(it)
			g.Items = append(g.Items, views.RuleItemForm{Group: &sub})
			continue
		}
		var op string
		_ = json.Unmarshal(im["op"], &op)
		r := views.RuleItemForm{Op: op}
		r.Left, r.LeftJSON = operandForm(im["left"])
		r.Right, r.RightJSON = operandForm(im["right"])
		g.Items = append(g.Items, r)
	}
	return g
}

// groupJSON writes a rule group in the engine's {"and":[...]} form.
func groupJSON(dst []byte, g views.RuleGroupForm) []byte {
	key := `{"and":[`
	if g.Or {
		key = `{"or":[`
	}
	dst = append(dst, key...)
	for i, it := range g.Items {
		if i > 0 {
			dst = append(dst, ',')
		}
		if it.Group != nil {
			dst = groupJSON(dst, *it.Group)
			continue
		}
		dst = append(dst, `{"left":`...)
		dst = append(dst, operandJSON(it.Left, it.LeftJSON)...)
		dst = append(dst, `,"op":`...)
		dst = engine.AppendJSONString(dst, it.Op)
		if !engine.IsUnaryOperator(it.Op) || it.Right != "" {
			dst = append(dst, `,"right":`...)
			dst = append(dst, operandJSON(it.Right, it.RightJSON)...)
		}
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// groupAt returns the group at a rule path ("" the root, "1.0" the first
// item of the group that is item 1 of the root).
func groupAt(g *views.RuleGroupForm, path string) *views.RuleGroupForm {
	if path == "" {
		return g
	}
	for _, s := range strings.Split(path, ".") {
		i, err := strconv.Atoi(s)
		if err != nil || i < 0 || i >= len(g.Items) || g.Items[i].Group == nil {
			return nil
		}
		g = g.Items[i].Group
	}
	return g
}

// rulePrefix is the input name prefix of the item at path.
func rulePrefix(path string) string {
	p := "rules"
	if path == "" {
		return p
	}
	for _, s := range strings.Split(path, ".") {
		p += "[items][" + s + "]"
	}
	return p
}

func joinPath(path string, i int) string {
	if path == "" {
		return strconv.Itoa(i)
	}
	return path + "." + strconv.Itoa(i)
}

// ----- the canvas summary -----

var (
	contextPlaceholderRE = regexp.MustCompile(`^\{\{\s*\$context\.(headers|query|body)(?:\.)?(.+?)\s*\}\}$`)
	placeholderRE        = regexp.MustCompile(`^\{\{\s*(.+?)\s*\}\}$`)
	camelRE              = regexp.MustCompile(`([a-z0-9])([A-Z])`)
)

// operatorWords says each operator in words for the canvas: "is" rather
// than "equal". An operator without words shows the rule builder's label.
var operatorWords = map[string]string{
	"equal": "is", "notEqual": "is not",
	"gt": "is more than", "gte": "is at least", "lt": "is less than", "lte": "is at most",
	"includes": "includes", "notIncludes": "does not include",
	"startsWith": "starts with", "notStartsWith": "does not start with",
	"endsWith": "ends with", "notEndsWith": "does not end with",
	"empty": "is empty", "notEmpty": "is not empty",
	"exists": "exists", "notExists": "does not exist",
	"matches": "matches",
}

func opWords(op string) string {
	if w, ok := operatorWords[op]; ok {
		return w
	}
	for _, o := range engine.RuleOperators {
		if o.Op == op {
			return o.Label
		}
	}
	return op
}

// readablePath writes a path as words: "order.status" → "Order status",
// "customer.firstName" → "Customer first name"; indexes stay ("items[0]").
func readablePath(path string) string {
	p := strings.NewReplacer(".", " ", "_", " ").Replace(path)
	p = strings.ToLower(camelRE.ReplaceAllString(p, "$1 $2"))
	return upperFirst(strings.Join(strings.Fields(p), " "))
}

// operandWords shows a rule operand for the canvas: a declared trigger
// field by its alias, another request field as words, other placeholders
// without braces, a string as it is (quoted when empty or padded), other
// JSON as written.
func operandWords(raw json.RawMessage, d *engine.Document) string {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return string(bytes.TrimSpace(raw))
	}
	if m := contextPlaceholderRE.FindStringSubmatch(s); m != nil {
		part, path := m[1], strings.TrimSpace(m[2])
		if d != nil {
			for _, f := range triggerFields(d, part) {
				if f.Alias != "" && samePath(f.Path, path, part == "headers") {
					return f.Alias
				}
			}
		}
		if part == "headers" {
			return path + " header"
		}
		return readablePath(path)
	}
	if m := placeholderRE.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	if s == "" || strings.TrimSpace(s) != s {
		return strconv.Quote(s)
	}
	return s
}

func triggerFields(d *engine.Document, part string) []engine.Field {
	switch part {
	case "headers":
		return d.Trigger.Headers
	case "query":
		return d.Trigger.Query
	}
	return d.Trigger.Body
}

// samePath compares two paths as the engine reads them (header names
// without regard to case).
func samePath(a, b string, fold bool) bool {
	pa, ea := engine.ParsePath(a)
	pb, eb := engine.ParsePath(b)
	if ea != nil || eb != nil {
		return false
	}
	if fold {
		return strings.EqualFold(pa.String(), pb.String())
	}
	return pa.String() == pb.String()
}

type summaryRule struct {
	Left  json.RawMessage `json:"left"`
	Op    string          `json:"op"`
	Right json.RawMessage `json:"right"`
	And   []summaryRule   `json:"and"`
	Or    []summaryRule   `json:"or"`
}

// firstRule finds the first rule of a group, depth first, and counts all.
func firstRule(items []summaryRule, first **summaryRule, count *int) {
	for i := range items {
		it := &items[i]
		if it.Op != "" {
			*count++
			if *first == nil {
				*first = it
			}
			continue
		}
		firstRule(it.And, first, count)
		firstRule(it.Or, first, count)
	}
}

// conditionSummary is the card's line, in words: the first rule ("Order
// status is paid"), how many follow, and whether a false result stops the
// execution.
func conditionSummary(config json.RawMessage, d *engine.Document) string {
	var c struct {
		Mode  string      `json:"mode"`
		Rules summaryRule `json:"rules"`
	}
	if json.Unmarshal(config, &c) != nil {
		return "Invalid settings"
	}
	var first *summaryRule
	count := 0
	firstRule(c.Rules.And, &first, &count)
	firstRule(c.Rules.Or, &first, &count)
	var s string
	switch {
	case first == nil && c.Rules.Or != nil:
		s = "Never true (empty \"any\" group)"
	case first == nil:
		s = "Always true (no rules yet)"
	default:
		s = operandWords(first.Left, d) + " " + opWords(first.Op)
		if !engine.IsUnaryOperator(first.Op) {
			s += " " + operandWords(first.Right, d)
		}
		if count > 1 {
			s += " (+" + strconv.Itoa(count-1) + " more)"
		}
	}
	if c.Mode == "continue" {
		s += " · stops if false"
	}
	return s
}
