package engine

import (
	"context"
	"io"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// MaxConditionRules bounds the rules and groups of one condition, so that
// evaluating a condition stays cheap whatever the document holds.
const MaxConditionRules = 1000

// Bounds of the matches operator. Go's regexp runs in time linear in the
// subject's length times the compiled program's size: about 5 ns per byte
// per instruction on the reference machine, so `(.{1,100}){1,9}z` (1,820
// instructions) took 10-15 s over a 1 MiB body. A pattern is refused when
// saved above MaxMatchPattern bytes or MaxMatchProgram instructions, and a
// value longer than MaxMatchSubject is an error of the node (visible in
// the execution; a silent false would take the wrong branch): one match
// then costs at most about 64 Ki × 1,000 × 5 ns ≈ 0.35 s, and a long one
// is interrupted when the workflow's timeout or the inline budget ends.
const (
	MaxMatchSubject = 64 << 10
	MaxMatchPattern = 1024
	MaxMatchProgram = 1000
)

// matchDirectSteps is the work (subject bytes × program instructions,
// about 5 ms) under which a match runs uninterrupted, on regexp's fastest
// path; a longer one reads its subject through matchReader, which stops it
// when its context ends.
const matchDirectSteps = 1 << 20

func init() { RegisterNodeKind("condition", conditionKind{}) }

// conditionKind is the condition node (§6). Its config is
//
//	{"mode": "branch"|"continue", "rules": GROUP}
//
// where GROUP is {"and": [ITEM...]} or {"or": [ITEM...]} and ITEM is a
// GROUP or a rule {"left": V, "op": OP, "right": V}. A string V is a
// template; any other JSON value is a literal.
type conditionKind struct{}

// Pure implements PureKind: the node evaluates rules over the scope.
func (conditionKind) Pure() bool { return true }

func (conditionKind) Compile(n *Node, _ CompileEnv) (Step, error) {
	return compileCondition(n.Config)
}

// conditionStep is a compiled condition node.
type conditionStep struct {
	branch bool // mode "branch"; else "continue"
	rules  *ruleGroup
}

func (c *conditionStep) Branches() []string {
	if c.branch {
		return []string{"yes", "no"}
	}
	return nil
}

func (c *conditionStep) Run(ctx context.Context, s *Scope) (Outcome, error) {
	ok, err := c.rules.eval(ctx, s)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{Result: []byte("false")}
	if ok {
		out.Result = []byte("true")
	}
	switch {
	case c.branch && ok:
		out.Branch = "yes"
	case c.branch:
		out.Branch = "no"
	case !ok:
		out.End = StatusFailed
	}
	return out, nil
}

// compileCondition checks a condition's config and compiles its rules.
func compileCondition(raw []byte) (*conditionStep, error) {
	if len(raw) == 0 {
		return nil, Errorf(EINVALID, `config: required, with "mode" and "rules"`)
	}
	if err := CheckJSON(raw, MaxJSONDepth); err != nil {
		return nil, Errorf(EINVALID, "config: %s", ErrorMessage(err))
	}
	cfg := gjson.ParseBytes(raw)
	if !cfg.IsObject() {
		return nil, Errorf(EINVALID, `config: must be an object with "mode" and "rules"`)
	}
	step := &conditionStep{}
	switch mode := cfg.Get("mode"); {
	case mode.Type == gjson.String && mode.Str == "branch":
		step.branch = true
	case mode.Type == gjson.String && mode.Str == "continue":
	default:
		return nil, Errorf(EINVALID, `config.mode: must be "branch" or "continue"`)
	}
	rc := ruleCompiler{}
	g, err := rc.group(cfg.Get("rules"), "config.rules", 1)
	if err != nil {
		return nil, err
	}
	step.rules = g
	return step, nil
}

// ruleOp is a condition operator.
type ruleOp uint8

const (
	opEqual ruleOp = iota
	opNotEqual
	opGt
	opGte
	opLt
	opLte
	opIncludes
	opNotIncludes
	opStartsWith
	opNotStartsWith
	opEndsWith
	opNotEndsWith
	opEmpty
	opNotEmpty
	opExists
	opNotExists
	opMatches
)

var ruleOps = map[string]ruleOp{
	"equal": opEqual, "notEqual": opNotEqual,
	"gt": opGt, "gte": opGte, "lt": opLt, "lte": opLte,
	"includes": opIncludes, "notIncludes": opNotIncludes,
	"startsWith": opStartsWith, "notStartsWith": opNotStartsWith,
	"endsWith": opEndsWith, "notEndsWith": opNotEndsWith,
	"empty": opEmpty, "notEmpty": opNotEmpty,
	"exists": opExists, "notExists": opNotExists,
	"matches": opMatches,
}

// unary reports whether the operator ignores its right operand.
func (o ruleOp) unary() bool {
	return o == opEmpty || o == opNotEmpty || o == opExists || o == opNotExists
}

// negated reports whether the operator is the "not" form of another; for
// those a null or missing operand makes the rule true.
func (o ruleOp) negated() bool {
	switch o {
	case opNotIncludes, opNotStartsWith, opNotEndsWith:
		return true
	}
	return false
}

// ruleGroup is an and/or group; evaluation goes left to right and stops at
// the first item that decides the group.
type ruleGroup struct {
	or    bool
	items []ruleItem
}

// ruleItem is a nested group or a rule.
type ruleItem struct {
	group *ruleGroup
	rule  *rule
}

type rule struct {
	op          ruleOp
	left, right operand
	re          *regexp.Regexp // matches
	reInsts     int            // the size of re's program, in instructions
}

// operand is a rule side: a template, or a literal JSON value.
type operand struct {
	tpl *Template
	lit gjson.Result
}

func (o *operand) value(s *Scope) gjson.Result {
	if o.tpl != nil {
		return o.tpl.Render(s)
	}
	return o.lit
}

type ruleCompiler struct {
	count int
}

// group compiles a GROUP found at field. The recursion is bounded by
// MaxRuleDepth.
func (rc *ruleCompiler) group(v gjson.Result, field string, depth int) (*ruleGroup, error) {
	if depth > MaxRuleDepth {
		return nil, Errorf(EINVALID, "%s: groups nested deeper than %d levels", field, MaxRuleDepth)
	}
	if !v.IsObject() {
		return nil, Errorf(EINVALID, `%s: must be an object with "and" or "or"`, field)
	}
	and, or := v.Get("and"), v.Get("or")
	key, list := "and", and
	switch {
	case and.Exists() && or.Exists():
		return nil, Errorf(EINVALID, `%s: must have "and" or "or", not both`, field)
	case or.Exists():
		key, list = "or", or
	case !and.Exists():
		return nil, Errorf(EINVALID, `%s: must be an object with "and" or "or"`, field)
	}
	field += "." + key
	if !list.IsArray() {
		return nil, Errorf(EINVALID, "%s: must be an array", field)
	}
	g := &ruleGroup{or: key == "or"}
	var err error
	i := 0
	list.ForEach(func(_, item gjson.Result) bool {
		f := field + "[" + itoa(i) + "]"
		i++
		rc.count++
		if rc.count > MaxConditionRules {
			err = Errorf(EINVALID, "config.rules: more than %d rules and groups", MaxConditionRules)
			return false
		}
		var it ruleItem
		it, err = rc.item(item, f, depth)
		g.items = append(g.items, it)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// item compiles an ITEM: a group or a rule.
func (rc *ruleCompiler) item(v gjson.Result, field string, depth int) (ruleItem, error) {
	if !v.IsObject() {
		return ruleItem{}, Errorf(EINVALID, `%s: must be a rule with "op" or a group with "and" or "or"`, field)
	}
	isGroup := v.Get("and").Exists() || v.Get("or").Exists()
	isRule := v.Get("op").Exists()
	switch {
	case isGroup && isRule:
		return ruleItem{}, Errorf(EINVALID, `%s: must be a rule or a group, not both`, field)
	case isGroup:
		g, err := rc.group(v, field, depth+1)
		return ruleItem{group: g}, err
	case isRule:
		r, err := compileRule(v, field)
		return ruleItem{rule: r}, err
	}
	return ruleItem{}, Errorf(EINVALID, `%s: must be a rule with "op" or a group with "and" or "or"`, field)
}

func compileRule(v gjson.Result, field string) (*rule, error) {
	opv := v.Get("op")
	if opv.Type != gjson.String {
		return nil, Errorf(EINVALID, "%s.op: must be a string", field)
	}
	op, ok := ruleOps[opv.Str]
	if !ok {
		return nil, Errorf(EINVALID, "%s.op: unknown operator %q", field, opv.Str)
	}
	r := &rule{op: op}
	var err error
	if r.left, err = compileOperand(v.Get("left"), field+".left"); err != nil {
		return nil, err
	}
	right := v.Get("right")
	switch {
	case op.unary():
		// The right operand is ignored, not even checked, so that a UI
		// that keeps it when switching operators does not break saving.
	case op == opMatches:
		// The pattern is compiled here, once per revision, so that a bad
		// one is reported when the workflow is saved.
		if right.Type != gjson.String {
			return nil, Errorf(EINVALID, "%s.right: matches needs a regular expression string", field)
		}
		// A pattern such as `a{{2}}` is not a placeholder and stays a
		// pattern; only a real placeholder is refused.
		if t, err := CompileTemplate(right.Str); err == nil && !t.IsStatic() {
			return nil, Errorf(EINVALID, "%s.right: matches needs a fixed regular expression, without placeholders", field)
		}
		if len(right.Str) > MaxMatchPattern {
			return nil, Errorf(EINVALID, "%s.right: regular expression longer than %d bytes", field, MaxMatchPattern)
		}
		if r.re, err = regexp.Compile(right.Str); err != nil {
			return nil, Errorf(EINVALID, "%s.right: invalid regular expression: %s", field, err.Error())
		}
		if r.reInsts = programSize(right.Str); r.reInsts > MaxMatchProgram {
			return nil, Errorf(EINVALID, "%s.right: regular expression too large: %d instructions once compiled, at most %d (make repetitions such as {1,100} smaller)",
				field, r.reInsts, MaxMatchProgram)
		}
	default:
		if r.right, err = compileOperand(right, field+".right"); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func compileOperand(v gjson.Result, field string) (operand, error) {
	if !v.Exists() {
		return operand{}, Errorf(EINVALID, "%s: required", field)
	}
	if v.Type != gjson.String {
		return operand{lit: v}, nil
	}
	t, err := CompileTemplate(v.Str)
	if err != nil {
		return operand{}, Errorf(EINVALID, "%s: %s", field, ErrorMessage(err))
	}
	return operand{tpl: t}, nil
}

// eval evaluates the group; an empty "and" is true, an empty "or" false.
// eval evaluates the group left to right, stopping early. It checks ctx
// before each rule: up to 1,000 rules over a body of megabytes take long
// enough to matter to a flow run while its request waits (an inline async
// run) or against the workflow's timeout.
func (g *ruleGroup) eval(ctx context.Context, s *Scope) (bool, error) {
	for i := range g.items {
		it := &g.items[i]
		var v bool
		if it.group != nil {
			var err error
			if v, err = it.group.eval(ctx, s); err != nil {
				return false, err
			}
		} else {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			var err error
			if v, err = it.rule.eval(ctx, s); err != nil {
				return false, err
			}
		}
		if v == g.or {
			return v, nil
		}
	}
	return !g.or, nil
}

// eval evaluates the rule. Only matches can fail: with ETOOLARGE for a
// value longer than MaxMatchSubject, or with ctx's error when ctx ends
// during a long match.
func (r *rule) eval(ctx context.Context, s *Scope) (bool, error) {
	l := r.left.value(s)
	if r.op == opMatches {
		t, ok := scalarText(l)
		if !ok {
			return false, nil
		}
		if len(t) > MaxMatchSubject {
			return false, Errorf(ETOOLARGE, "matches: the value is %d bytes long; a regular expression is matched against at most %d", len(t), MaxMatchSubject)
		}
		return matchString(ctx, r.re, r.reInsts, t)
	}
	return r.evalPlain(l, s), nil
}

// evalPlain evaluates every operator but matches.
func (r *rule) evalPlain(l gjson.Result, s *Scope) bool {
	switch r.op {
	case opEmpty:
		return isEmptyValue(l)
	case opNotEmpty:
		return !isEmptyValue(l)
	case opExists:
		return l.Type != gjson.Null
	case opNotExists:
		return l.Type == gjson.Null
	}
	rv := r.right.value(s)
	switch r.op {
	case opEqual:
		return equalValues(l, rv)
	case opNotEqual:
		return !equalValues(l, rv)
	}
	// Every other operator is false on a null or missing operand, and its
	// "not" form true, so a missing field never errors.
	if l.Type == gjson.Null || rv.Type == gjson.Null {
		return r.op.negated()
	}
	switch r.op {
	case opGt, opGte, opLt, opLte:
		c, ok := compareValues(l, rv)
		if !ok {
			return false
		}
		switch r.op {
		case opGt:
			return c > 0
		case opGte:
			return c >= 0
		case opLt:
			return c < 0
		}
		return c <= 0
	case opIncludes:
		return includesValue(l, rv)
	case opNotIncludes:
		return !includesValue(l, rv)
	}
	lt, lok := scalarText(l)
	rt, rok := scalarText(rv)
	if !lok || !rok {
		return r.op.negated()
	}
	switch r.op {
	case opStartsWith:
		return strings.HasPrefix(lt, rt)
	case opNotStartsWith:
		return !strings.HasPrefix(lt, rt)
	case opEndsWith:
		return strings.HasSuffix(lt, rt)
	case opNotEndsWith:
		return !strings.HasSuffix(lt, rt)
	}
	return false
}

// includesValue: an array includes a member equal to v (typed equality); a
// scalar includes v's text as a substring. Objects include nothing.
func includesValue(l, v gjson.Result) bool {
	if l.IsArray() {
		found := false
		l.ForEach(func(_, item gjson.Result) bool {
			found = equalValues(item, v)
			return !found
		})
		return found
	}
	lt, lok := scalarText(l)
	vt, vok := scalarText(v)
	return lok && vok && strings.Contains(lt, vt)
}

// isEmptyValue: missing, null, "", [] and {} are empty; 0 and false are not.
func isEmptyValue(v gjson.Result) bool {
	switch v.Type {
	case gjson.Null:
		return true
	case gjson.String:
		return v.Str == ""
	case gjson.JSON:
		empty := true
		v.ForEach(func(_, _ gjson.Result) bool {
			empty = false
			return false
		})
		return empty
	}
	return false
}

// programSize is the number of instructions of pattern's compiled program,
// the factor of a match's cost besides the subject's length. pattern has
// been compiled by regexp already, so parsing it again cannot fail.
func programSize(pattern string) int {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return 0
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return 0
	}
	return len(prog.Inst)
}

// matchString reports whether re matches s. A short match runs directly;
// a longer one reads s through a matchReader, so that it stops, with ctx's
// error, soon after ctx ends: the workflow's timeout and the inline budget
// reach into the rule.
func matchString(ctx context.Context, re *regexp.Regexp, insts int, s string) (bool, error) {
	if len(s)*max(insts, 1) <= matchDirectSteps {
		return re.MatchString(s), nil
	}
	mr := &matchReader{ctx: ctx, s: s}
	ok := re.MatchReader(mr)
	if mr.err != nil {
		return false, mr.err
	}
	return ok, nil
}

// matchReader is an io.RuneReader over a string that checks its context
// every matchCheckEvery runes and, once the context has ended, reports the
// end of the input: the regexp engine then stops within one step, and the
// caller discards its answer for the context's error.
type matchReader struct {
	ctx context.Context
	s   string
	i   int
	n   int
	err error
}

// matchCheckEvery is how many runes a matchReader reads between two looks
// at its context: at most about 256 × 1,000 × 5 ns ≈ 1.3 ms of matching.
const matchCheckEvery = 256

func (m *matchReader) ReadRune() (rune, int, error) {
	if m.i >= len(m.s) || m.err != nil {
		return 0, 0, io.EOF
	}
	if m.n++; m.n%matchCheckEvery == 0 {
		if err := m.ctx.Err(); err != nil {
			m.err = err
			return 0, 0, io.EOF
		}
	}
	// Invalid UTF-8 reads as U+FFFD of width 1, as MatchString reads it.
	r, size := utf8.DecodeRuneInString(m.s[m.i:])
	m.i += size
	return r, size, nil
}
