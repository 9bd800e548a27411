package engine

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

func compileConditionNode(tb testing.TB, config string) (Step, error) {
	tb.Helper()
	kind, ok := NodeKindFor("condition")
	if !ok {
		tb.Fatal("condition kind not registered")
	}
	return kind.Compile(&Node{Key: "c", Type: "condition", Config: []byte(config)}, CompileEnv{Mode: ModeSync})
}

// evalRule compiles one rule in branch mode and reports which branch the
// scope takes.
func evalRule(tb testing.TB, s *Scope, left, op, right string) bool {
	tb.Helper()
	r := `{"left":` + left + `,"op":"` + op + `"`
	if right != "" {
		r += `,"right":` + right
	}
	r += "}"
	step, err := compileConditionNode(tb, `{"mode":"branch","rules":{"and":[`+r+`]}}`)
	if err != nil {
		tb.Fatalf("compile %s: %v", r, err)
	}
	out, err := step.Run(context.Background(), s)
	if err != nil {
		tb.Fatalf("run %s: %v", r, err)
	}
	return out.Branch == "yes"
}

type opCase struct {
	left, right string // JSON values as written in the rule
	want        bool
}

// Paths into tplTestContext used by the operator tables.
const (
	pID       = `"{{$context.body.order.id}}"`        // 5678901234567890123
	pBig      = `"{{$context.body.big}}"`             // 12345678901234567891
	pTotal    = `"{{$context.body.order.total}}"`     // "12.50"
	pAmount   = `"{{$context.body.order.amount}}"`    // 12.5
	pQAmount  = `"{{$context.query.amount}}"`         // "12.50"
	pStatus   = `"{{$context.body.order.status}}"`    // "paid"
	pEvent    = `"{{$context.body.event}}"`           // "order.created"
	pPaid     = `"{{$context.body.order.paid}}"`      // true
	pRefunded = `"{{$context.body.order.refunded}}"`  // false
	pNote     = `"{{$context.body.order.note}}"`      // null
	pMissing  = `"{{$context.body.nope}}"`            // missing
	pCreated  = `"{{$context.body.order.created}}"`   // "2024-05-01T10:00:00Z"
	pTags     = `"{{$context.body.order.tags}}"`      // ["vip","new"]
	pSkus     = `"{{$context.body.order.items.sku}}"` // ["A1","B2"] (mapped)
	pQtys     = `"{{$context.body.order.items.qty}}"` // [2,1,3] (mapped)
	pCustomer = `"{{$context.body.order.customer}}"`  // object
	pEmpty    = `"{{$context.body.order.empty}}"`     // ""
	pEmptyArr = `"{{$context.body.order.emptyArr}}"`  // []
	pEmptyObj = `"{{$context.body.order.emptyObj}}"`  // {}
	pJobPaid  = `"{{$jobsMapByNodeKey.paid}}"`        // true
	pJobBig   = `"{{$jobsMapByNodeKey.lookup.big}}"`  // 9007199254740993
	pExecID   = `"{{$system.executionId}}"`           // 42
)

var operatorCases = map[string][]opCase{
	"equal": {
		{pStatus, `"paid"`, true},
		{pStatus, `"Paid"`, false},
		{`"Order {{$context.body.order.id}}"`, `"Order 5678901234567890123"`, true},
		{pAmount, `12.50`, true},
		{pTotal, `12.5`, true},
		{pTotal, pAmount, true},
		{pQAmount, `"12.5"`, true},
		{pID, `5678901234567890123`, true},
		{pID, `5678901234567890124`, false}, // equal as float64
		{pID, `"5678901234567890123"`, true},
		{pBig, `12345678901234567890`, false},
		{pJobBig, `9007199254740992`, false},
		{pJobBig, `9007199254740993`, true},
		{pCreated, `"2024-05-01T12:00:00+02:00"`, true},
		{pCreated, `"2024-05-01T10:00:00.000Z"`, true},
		{pCreated, `"2024-05-01T10:00:01Z"`, false},
		{pPaid, `true`, true},
		{pPaid, `"true"`, true}, // booleans compare by their text
		{pPaid, `false`, false},
		{pRefunded, `false`, true},
		{pJobPaid, `true`, true},
		{pNote, `null`, true},
		{pMissing, `null`, true},
		{pMissing, pNote, true},
		{pNote, `""`, false},
		{pMissing, `0`, false},
		{pMissing, `false`, false},
		{pEmpty, `""`, true},
		{pTags, `["vip","new"]`, true},
		{pTags, `["new","vip"]`, false},
		{pSkus, `["A1","B2"]`, true},
		{pQtys, `["2","1","3"]`, true},
		{pCustomer, `{"email":"z@example.com","name":"Zoë \"Z\" O'Neil"}`, true},
		{pCustomer, `{"name":"Zoë \"Z\" O'Neil"}`, false},
		{pExecID, `42`, true},
		{`1`, `"abc"`, false},
		{`"x"`, `"x"`, true},
	},
	"notEqual": {
		{pStatus, `"paid"`, false},
		{pStatus, `"refunded"`, true},
		{pID, `5678901234567890124`, true},
		{pMissing, `null`, false},
		{pMissing, `"x"`, true},
		{pNote, `0`, true},
		{pTags, `["vip"]`, true},
	},
	"gt": {
		{`10`, `9`, true},
		{`"10"`, `"9"`, true}, // as text "10" < "9"
		{pBig, `12345678901234567890`, true},
		{pID, `5678901234567890122`, true},
		{pID, `5678901234567890123`, false},
		{pTotal, `12.49`, true},
		{pTotal, `12.5`, false},
		{`"1e3"`, `999`, true},
		{pCreated, `"2024-05-01T11:00:00+02:00"`, true}, // as text it is smaller
		{pCreated, `"2024-05-01T10:00:00Z"`, false},
		{`"b"`, `"a"`, true},
		{`"B"`, `"a"`, false},
		{`true`, `false`, true},
		{pNote, `0`, false},
		{pMissing, `0`, false},
		{`0`, pMissing, false},
		{pMissing, pMissing, false},
		{pTags, `1`, false},
		{pCustomer, `{}`, false},
	},
	"gte": {
		{pID, `5678901234567890123`, true},
		{pID, `5678901234567890124`, false},
		{pTotal, `12.5`, true},
		{pCreated, `"2024-05-01T12:00:00+02:00"`, true},
		{`"a"`, `"a"`, true},
		{pMissing, `null`, false},
		{pNote, pNote, false},
	},
	"lt": {
		{`9`, `10`, true},
		{`-1e400`, `-1e399`, true},
		{`0.1`, `0.10000000000000001`, true},
		{pBig, `12345678901234567892`, true},
		{pID, `5678901234567890123`, false},
		{pCreated, `"2024-05-01T10:00:00.001Z"`, true},
		{`"a"`, `"b"`, true},
		{pMissing, `1`, false},
		{`1`, pNote, false},
	},
	"lte": {
		{pID, `5678901234567890123`, true},
		{pID, `"5678901234567890122"`, false},
		{`"12.50"`, `12.5`, true},
		{pMissing, `1`, false},
		{pSkus, `"B2"`, false},
	},
	"includes": {
		{pEvent, `"created"`, true},
		{pEvent, `"Created"`, false},
		{pEvent, `""`, true},
		{pTags, `"vip"`, true},
		{pTags, `"VIP"`, false},
		{pTags, `"vi"`, false}, // members, not substrings
		{pSkus, `"B2"`, true},
		{pQtys, `"2"`, true}, // typed equality
		{pQtys, `2.0`, true},
		{pQtys, `5`, false},
		{`[12345678901234567891]`, `12345678901234567890`, false},
		{`[12345678901234567891]`, pBig, true},
		{`[[1,2],{"a":1}]`, `{"a":1.0}`, true},
		{pID, `"90123"`, true}, // a number's text
		{pPaid, `"ru"`, true},
		{pCustomer, `"name"`, false},
		{pMissing, `"x"`, false},
		{pNote, `"x"`, false},
		{pEvent, pMissing, false},
		{`[null]`, `null`, false},
	},
	"notIncludes": {
		{pEvent, `"created"`, false},
		{pEvent, `"paid"`, true},
		{pTags, `"vip"`, false},
		{pTags, `"old"`, true},
		{pMissing, `"x"`, true},
		{pNote, `"x"`, true},
		{pEvent, pMissing, true},
		{pCustomer, `"name"`, true},
	},
	"startsWith": {
		{pEvent, `"order."`, true},
		{pEvent, `"Order."`, false},
		{pEvent, `"created"`, false},
		{pID, `5678`, true},
		{pID, `"5678"`, true},
		{pMissing, `"x"`, false},
		{pEvent, pMissing, false},
		{pTags, `"vip"`, false},
		{pEvent, `["order."]`, false},
	},
	"notStartsWith": {
		{pEvent, `"order."`, false},
		{pEvent, `"refund."`, true},
		{pMissing, `"x"`, true},
		{pNote, `"x"`, true},
		{pTags, `"vip"`, true},
	},
	"endsWith": {
		{pEvent, `".created"`, true},
		{pEvent, `".paid"`, false},
		{pID, `123`, true},
		{pPaid, `"ue"`, true},
		{pMissing, `""`, false},
		{pCustomer, `"}"`, false},
	},
	"notEndsWith": {
		{pEvent, `".created"`, false},
		{pEvent, `".paid"`, true},
		{pMissing, `""`, true},
		{pCustomer, `"}"`, true},
	},
	"empty": {
		{pMissing, ``, true},
		{pNote, ``, true},
		{pEmpty, ``, true},
		{pEmptyArr, ``, true},
		{pEmptyObj, ``, true},
		{`""`, ``, true},
		{`null`, ``, true},
		{`[]`, ``, true},
		{`{ }`, ``, true},
		{`" "`, ``, false},
		{`0`, ``, false},
		{`false`, ``, false},
		{`[null]`, ``, false},
		{pStatus, ``, false},
		{pTags, ``, false},
		{pRefunded, `"ignored"`, false},
	},
	"notEmpty": {
		{pMissing, ``, false},
		{pEmptyArr, ``, false},
		{pStatus, ``, true},
		{`0`, ``, true},
	},
	"exists": {
		{pMissing, ``, false},
		{pNote, ``, false},
		{pEmpty, ``, true},
		{pEmptyArr, ``, true},
		{pRefunded, ``, true},
		{`0`, ``, true},
		{`"{{$jobsMapByNodeKey.nope}}"`, ``, false},
		{pJobPaid, ``, true},
		{`"{{$system.now}}"`, ``, true},
		{pStatus, `{"ignored": true}`, true},
	},
	"notExists": {
		{pMissing, ``, true},
		{pNote, ``, true},
		{pEmpty, ``, false},
		{pStatus, ``, false},
	},
	"matches": {
		{pEvent, `"^order\\.(created|paid)$"`, true},
		{pEvent, `"^Order"`, false},
		{pEvent, `"(?i)^ORDER"`, true},
		{pID, `"^\\d{19}$"`, true},
		{pPaid, `"^t"`, true},
		{pMissing, `".*"`, false},
		{pNote, `".*"`, false},
		{pTags, `"vip"`, false},
		{`"aa"`, `"a{{2}}"`, false}, // not a placeholder: a pattern
		{`"aaa"`, `"a{2}"`, true},
	},
}

func TestConditionOperators(t *testing.T) {
	s := newTplTestScope()
	for op := range ruleOps {
		if len(operatorCases[op]) == 0 {
			t.Errorf("no cases for operator %s", op)
		}
	}
	for op, cases := range operatorCases {
		for _, tc := range cases {
			name := fmt.Sprintf("%s %s %s", tc.left, op, tc.right)
			if got := evalRule(t, s, tc.left, op, tc.right); got != tc.want {
				t.Errorf("%s = %v, want %v", name, got, tc.want)
			}
		}
	}
}

func TestConditionGroups(t *testing.T) {
	s := newTplTestScope()
	yes := `{"left":"{{$context.body.order.status}}","op":"equal","right":"paid"}`
	no := `{"left":"{{$context.body.order.status}}","op":"equal","right":"refunded"}`
	for rules, want := range map[string]bool{
		`{"and":[]}`:                                            true,
		`{"or":[]}`:                                             false,
		`{"and":[` + yes + `,` + yes + `]}`:                     true,
		`{"and":[` + yes + `,` + no + `]}`:                      false,
		`{"or":[` + no + `,` + yes + `]}`:                       true,
		`{"or":[` + no + `,` + no + `]}`:                        false,
		`{"and":[` + yes + `,{"or":[` + no + `,` + yes + `]}]}`: true,
		`{"and":[` + yes + `,{"or":[` + no + `]}]}`:             false,
		`{"or":[{"and":[]},` + no + `]}`:                        true,
		`{"and":[{"or":[]}]}`:                                   false,
	} {
		step, err := compileConditionNode(t, `{"mode":"branch","rules":`+rules+`}`)
		if err != nil {
			t.Fatalf("%s: %v", rules, err)
		}
		out, err := step.Run(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		if got := out.Branch == "yes"; got != want {
			t.Errorf("%s = %v, want %v", rules, got, want)
		}
	}
}

// Groups stop at the first item that decides them: a rule reading $system
// placed after the deciding one must not run. Scope builds $system lazily,
// which makes its evaluation observable.
func TestConditionEarlyStop(t *testing.T) {
	sys := `{"left":"{{$system.now}}","op":"exists"}`
	for rules, want := range map[string]bool{
		`{"or":[{"left":1,"op":"equal","right":1},` + sys + `]}`:                     true,
		`{"and":[{"left":1,"op":"equal","right":2},` + sys + `]}`:                    false,
		`{"and":[{"or":[{"left":1,"op":"equal","right":2}]},{"and":[` + sys + `]}]}`: false,
	} {
		step, err := compileConditionNode(t, `{"mode":"branch","rules":`+rules+`}`)
		if err != nil {
			t.Fatal(err)
		}
		s := NewScope([]byte(`{"headers":{},"query":{},"body":{}}`))
		out, _ := step.Run(context.Background(), s)
		if got := out.Branch == "yes"; got != want {
			t.Errorf("%s = %v, want %v", rules, got, want)
		}
		if s.system.Exists() {
			t.Errorf("%s: evaluation did not stop early", rules)
		}
	}
	// And the observation works: without the deciding rule, $system is read.
	step, _ := compileConditionNode(t, `{"mode":"branch","rules":{"and":[`+sys+`]}}`)
	s := NewScope([]byte(`{}`))
	if _, _ = step.Run(context.Background(), s); !s.system.Exists() {
		t.Error("$system not read")
	}
}

func TestConditionOutcome(t *testing.T) {
	s := newTplTestScope()
	rule := func(right string) string {
		return `{"and":[{"left":"{{$context.body.order.status}}","op":"equal","right":"` + right + `"}]}`
	}
	for _, tc := range []struct {
		mode, right string
		branches    []string
		result      string
		branch      string
		end         ExecStatus
	}{
		{"branch", "paid", []string{"yes", "no"}, "true", "yes", ""},
		{"branch", "refunded", []string{"yes", "no"}, "false", "no", ""},
		{"continue", "paid", nil, "true", "", ""},
		{"continue", "refunded", nil, "false", "", StatusFailed},
	} {
		step, err := compileConditionNode(t, `{"mode":"`+tc.mode+`","rules":`+rule(tc.right)+`}`)
		if err != nil {
			t.Fatal(err)
		}
		if got := step.Branches(); fmt.Sprint(got) != fmt.Sprint(tc.branches) || (got == nil) != (tc.branches == nil) {
			t.Errorf("%s: Branches() = %#v, want %#v", tc.mode, got, tc.branches)
		}
		out, err := step.Run(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		if string(out.Result) != tc.result || out.Branch != tc.branch || out.End != tc.end || out.Response != nil {
			t.Errorf("%s/%s: outcome %+v (result %s)", tc.mode, tc.right, out, out.Result)
		}
	}
}

func TestConditionValidation(t *testing.T) {
	rule := func(r string) string { return `{"mode":"branch","rules":{"and":[` + r + `]}}` }
	ok := `{"left":"a","op":"equal","right":"a"}`
	deep := `{"and":[]}`
	for range MaxRuleDepth - 1 {
		deep = `{"or":[` + deep + `]}`
	}
	tooDeep := `{"and":[` + deep + `]}`
	many := strings.TrimSuffix(strings.Repeat(ok+",", MaxConditionRules), ",")
	for _, tc := range []struct{ config, want string }{
		{``, `config: required, with "mode" and "rules"`},
		{`[]`, `config: must be an object with "mode" and "rules"`},
		{`{"mode":`, `config: invalid JSON`},
		{`{"rules":{"and":[]}}`, `config.mode: must be "branch" or "continue"`},
		{`{"mode":"yes","rules":{"and":[]}}`, `config.mode: must be "branch" or "continue"`},
		{`{"mode":true,"rules":{"and":[]}}`, `config.mode: must be "branch" or "continue"`},
		{`{"mode":"branch"}`, `config.rules: must be an object with "and" or "or"`},
		{`{"mode":"branch","rules":[]}`, `config.rules: must be an object with "and" or "or"`},
		{`{"mode":"branch","rules":{}}`, `config.rules: must be an object with "and" or "or"`},
		{`{"mode":"branch","rules":{"left":"a","op":"equal","right":"a"}}`, `config.rules: must be an object with "and" or "or"`},
		{`{"mode":"branch","rules":{"and":[],"or":[]}}`, `config.rules: must have "and" or "or", not both`},
		{`{"mode":"branch","rules":{"and":{}}}`, `config.rules.and: must be an array`},
		{rule(ok + `,{"left":"a","op":"bogus","right":"b"}`), `config.rules.and[1].op: unknown operator "bogus"`},
		{rule(`{"or":[` + ok + `,` + ok + `,{"left":"a","op":"Equal","right":"b"}]}`), `config.rules.and[0].or[2].op: unknown operator "Equal"`},
		{rule(`{"left":"a","op":1,"right":"b"}`), `config.rules.and[0].op: must be a string`},
		{rule(`"rule"`), `config.rules.and[0]: must be a rule with "op" or a group with "and" or "or"`},
		{rule(`{}`), `config.rules.and[0]: must be a rule with "op" or a group with "and" or "or"`},
		{rule(`{"op":"equal","and":[]}`), `config.rules.and[0]: must be a rule or a group, not both`},
		{rule(`{"op":"equal","right":"a"}`), `config.rules.and[0].left: required`},
		{rule(`{"left":"a","op":"equal"}`), `config.rules.and[0].right: required`},
		{rule(`{"left":"{{$context.a","op":"equal","right":"a"}`), `config.rules.and[0].left: unterminated {{`},
		{rule(`{"left":"a","op":"equal","right":"{{body.x}}"}`), `config.rules.and[0].right: invalid placeholder {{body.x}}: a path must start with $context, $jobsMapByNodeKey or $system`},
		{rule(`{"left":"a","op":"matches","right":"(a"}`), "config.rules.and[0].right: invalid regular expression: error parsing regexp: missing closing ): `(a`"},
		{rule(`{"left":"a","op":"matches","right":"{{$context.body.re}}"}`), `config.rules.and[0].right: matches needs a fixed regular expression, without placeholders`},
		{rule(`{"left":"a","op":"matches","right":1}`), `config.rules.and[0].right: matches needs a regular expression string`},
		{rule(`{"left":"a","op":"matches"}`), `config.rules.and[0].right: matches needs a regular expression string`},
		{rule(`{"left":"a","op":"matches","right":"(.{1,100}){1,9}z"}`), `config.rules.and[0].right: regular expression too large: 1820 instructions once compiled, at most 1000 (make repetitions such as {1,100} smaller)`},
		{rule(`{"left":"a","op":"matches","right":"` + strings.Repeat("a", MaxMatchPattern+1) + `"}`), `config.rules.and[0].right: regular expression longer than 1024 bytes`},
		{`{"mode":"branch","rules":` + tooDeep + `}`, `config.rules.and[0]` + strings.Repeat(".or[0]", MaxRuleDepth-1) + `: groups nested deeper than 16 levels`},
		{rule(many + "," + ok), `config.rules: more than 1000 rules and groups`},
	} {
		_, err := compileConditionNode(t, tc.config)
		if err == nil {
			t.Errorf("%.80s: no error, want %q", tc.config, tc.want)
			continue
		}
		if ErrorCode(err) != EINVALID || err.Error() != tc.want {
			t.Errorf("%.80s:\n got %s %q\nwant %q", tc.config, ErrorCode(err), err.Error(), tc.want)
		}
	}
	// The limits themselves are allowed.
	for _, config := range []string{
		`{"mode":"branch","rules":` + deep + `}`,
		rule(many),
		rule(`{"left":"a","op":"exists","right":"{{not even checked"}`),
		rule(`{"left":"a","op":"matches","right":"(.{1,54}){1,9}z"}`), // 992 instructions
		rule(`{"left":"a","op":"matches","right":"[` + strings.Repeat("a", MaxMatchPattern-2) + `]"}`),
		`{"mode":"continue","rules":{"or":[]},"extra":1}`,
	} {
		if _, err := compileConditionNode(t, config); err != nil {
			t.Errorf("%.80s: %v", config, err)
		}
	}
}

func FuzzEvaluateRules(f *testing.F) {
	for _, seed := range []struct{ rules, ctx string }{
		{`{"mode":"branch","rules":{"and":[{"left":"{{$context.body.order.status}}","op":"equal","right":"paid"}]}}`, tplTestContext},
		{`{"mode":"continue","rules":{"or":[{"left":"{{$context.body.a}}","op":"gt","right":12.5},{"and":[{"left":"{{$context.body.t}}","op":"lt","right":"2024-01-01T00:00:00Z"}]}]}}`, `{"body":{"a":"12.50","t":"2023-12-31T23:59:59+01:00"}}`},
		{`{"mode":"branch","rules":{"and":[{"left":"{{$context.body.a}}","op":"includes","right":"{{$context.body.b}}"}]}}`, `{"body":{"a":[1,"x",{"k":[null]}],"b":{"k":[null]}}}`},
		{`{"mode":"branch","rules":{"and":[{"left":"x{{$context.query}}","op":"matches","right":"^x\\{"}]}}`, `{"query":{"a":["1","2"]}}`},
		{`{"mode":"branch","rules":{"or":[{"left":"{{$context.body}}","op":"empty"},{"left":123456789012345678901234567890,"op":"gte","right":"1e29"}]}}`, `{"body":[]}`},
		{`{"mode":"branch","rules":{"and":[{"left":"{{$context.body.x.y}}","op":"startsWith","right":"{{$jobsMapByNodeKey.k.v}}"},{"left":true,"op":"notEndsWith","right":"ue"}]}}`, `{"body":{"x":[{"y":"ab"},{"y":"ac"}]}}`},
		{`{"mode":"branch","rules":{"and":[{"left":"{{$context.body}}","op":"equal","right":{"a":[1,2,{"b":null}]}}]}}`, `{"body":{"a":[1.0,"2",{"b":null}]}}`},
	} {
		f.Add(seed.rules, seed.ctx)
	}
	f.Fuzz(func(t *testing.T, rules, ctx string) {
		step, err := compileCondition([]byte(rules))
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("error code %s: %v", ErrorCode(err), err)
			}
			return
		}
		// The trigger only ever builds contexts from valid JSON; anything
		// else becomes a string body here.
		if CheckJSON([]byte(ctx), MaxJSONDepth) != nil {
			ctx = `{"body":` + newStringResult(ctx).Raw + `}`
		}
		s := NewScope([]byte(ctx))
		s.Jobs["k"] = gjson.Parse(ctx)
		out, err := step.Run(context.Background(), s)
		if err != nil {
			if ErrorCode(err) == ETOOLARGE && strings.HasPrefix(ErrorMessage(err), "matches: ") {
				return // a value too long to match against
			}
			t.Fatal(err)
		}
		if r := string(out.Result); r != "true" && r != "false" {
			t.Fatalf("result %q", r)
		}
	})
}

func BenchmarkEvaluateRules(b *testing.B) {
	step, err := compileCondition([]byte(`{"mode": "branch", "rules": {"and": [
		{"left": "{{$context.body.order.status}}", "op": "equal", "right": "paid"}]}}`))
	if err != nil {
		b.Fatal(err)
	}
	s := NewScope([]byte(benchContext))
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := step.rules.eval(context.Background(), s); !ok {
			b.Fatal("rule is false")
		}
	}
}

// heavyPattern is close to MaxMatchProgram (920 instructions) and never
// matches a run of "a": the worst case of a pattern that may be saved.
const heavyPattern = `(.{1,50}){1,9}z`

func matchesStep(t *testing.T, pattern string) Step {
	t.Helper()
	step, err := compileConditionNode(t, `{"mode":"branch","rules":{"and":[{"left":"{{$context.body.s}}","op":"matches","right":`+newStringResult(pattern).Raw+`}]}}`)
	if err != nil {
		t.Fatal(err)
	}
	return step
}

func subjectScope(subject string) *Scope {
	return NewScope([]byte(`{"body":{"s":` + newStringResult(subject).Raw + `}}`))
}

// TestMatchesSubjectLimit: a value longer than MaxMatchSubject is an
// error of the node, which the execution shows, not a silent false.
func TestMatchesSubjectLimit(t *testing.T) {
	t.Parallel()
	step := matchesStep(t, `^a+$`)
	out, err := step.Run(context.Background(), subjectScope(strings.Repeat("a", MaxMatchSubject)))
	if err != nil || out.Branch != "yes" {
		t.Fatalf("a value of exactly the limit: %+v %v", out, err)
	}
	_, err = step.Run(context.Background(), subjectScope(strings.Repeat("a", MaxMatchSubject+1)))
	if ErrorCode(err) != ETOOLARGE || ErrorMessage(err) != "matches: the value is 65537 bytes long; a regular expression is matched against at most 65536" {
		t.Fatalf("a value over the limit: %v (%s)", err, ErrorCode(err))
	}
}

// TestMatchesInterrupted: the deadline of the flow (its timeout, or the
// 20 ms inline budget of an async request) stops a long match within
// milliseconds, instead of after the whole match (issue 12, point 5).
func TestMatchesInterrupted(t *testing.T) {
	t.Parallel()
	step := matchesStep(t, heavyPattern)
	subject := strings.Repeat("a", MaxMatchSubject)
	s := subjectScope(subject)
	// What the whole match costs on this machine, in this build (-race
	// makes it far slower): measured on a sixteenth of the subject, as the
	// cost grows linearly with it. About 0.3 s here without -race.
	start := time.Now()
	regexp.MustCompile(heavyPattern).MatchString(subject[:len(subject)/16])
	whole := 16 * time.Since(start)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err := step.Run(ctx, s)
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the deadline's", err)
	}
	// Stopped, it takes the 20 ms budget and a step of at most 256 runes.
	if elapsed > whole/2 {
		t.Errorf("the match stopped %v after it began (the whole match takes %v), want about 20ms", elapsed, whole)
	}

	// The same through a flow: the run is aborted at the condition.
	d, err := ParseDocument([]byte(`{"title":"t","mode":"sync","nodes":[{"key":"c","type":"condition","config":{"mode":"continue","rules":{"and":[
		{"left":"{{$context.body.s}}","op":"matches","right":"` + strings.ReplaceAll(heavyPattern, `\`, `\\`) + `"}]}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start = time.Now()
	r := f.Run(ctx, s)
	if r.Status != StatusAborted || len(r.Jobs) != 1 || r.Jobs[0].Status != JobAborted {
		t.Fatalf("run: %+v, want aborted at the condition", r)
	}
	if elapsed := time.Since(start); elapsed > whole/2 {
		t.Errorf("the flow stopped %v after it began (the whole match takes %v), want about 20ms", elapsed, whole)
	}
}

// TestMatchesLongSubjects: matches read through the interruptible reader
// answer as MatchString does, for ASCII, multi-byte and invalid UTF-8.
func TestMatchesLongSubjects(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("ab", 2048) // 4 KiB: past matchDirectSteps with these patterns
	for _, tc := range []struct {
		pattern, subject string
		want             bool
	}{
		{heavyPattern, long + "z", true},
		{heavyPattern, long, false},
		{`(?i)(x|y){1,40}Ü$`, strings.Repeat("é", 4000) + "xyü", true},
		{`(x|y){1,40}\x{FFFD}$`, strings.Repeat("é", 4000) + "xy\xff", true},
		{`^(a|b){1,40}c`, long + long, false},
	} {
		re := regexp.MustCompile(tc.pattern)
		if insts := programSize(tc.pattern); len(tc.subject)*insts <= matchDirectSteps {
			t.Fatalf("%s over %d bytes (%d instructions) does not take the interruptible path", tc.pattern, len(tc.subject), insts)
		}
		if want := re.MatchString(tc.subject); want != tc.want {
			t.Fatalf("%s: MatchString %v, test expects %v", tc.pattern, want, tc.want)
		}
		out, err := matchesStep(t, tc.pattern).Run(context.Background(), subjectScope(tc.subject))
		if err != nil || (out.Branch == "yes") != tc.want {
			t.Errorf("%s over %d bytes: %+v %v, want %v", tc.pattern, len(tc.subject), out, err, tc.want)
		}
	}
}
