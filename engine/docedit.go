package engine

import (
	"encoding/json"
	"slices"
	"strconv"
)

// This file holds the edits the admin UI makes to a document's node tree.
// A place in the tree is addressed by (parent key, branch, index): parent
// "" is the main chain, otherwise the node whose branch holds the chain.
// The functions change the document in place and check only what the tree
// needs (keys, places, branches); Document.Validate checks the rest when
// the document is saved.

// MainBranch names the main chain where a branch name is expected.
const MainBranch = "main"

// RuleOperator describes a condition operator for the rule builder.
type RuleOperator struct {
	Op    string
	Label string
	// Unary operators ignore their right operand.
	Unary bool
}

// RuleOperators lists every condition operator in the order the rule
// builder offers them, with a readable label.
var RuleOperators = []RuleOperator{
	{Op: "equal", Label: "equals"},
	{Op: "notEqual", Label: "does not equal"},
	{Op: "gt", Label: "is greater than"},
	{Op: "gte", Label: "is greater than or equal to"},
	{Op: "lt", Label: "is less than"},
	{Op: "lte", Label: "is less than or equal to"},
	{Op: "includes", Label: "includes"},
	{Op: "notIncludes", Label: "does not include"},
	{Op: "startsWith", Label: "starts with"},
	{Op: "notStartsWith", Label: "does not start with"},
	{Op: "endsWith", Label: "ends with"},
	{Op: "notEndsWith", Label: "does not end with"},
	{Op: "empty", Label: "is empty", Unary: true},
	{Op: "notEmpty", Label: "is not empty", Unary: true},
	{Op: "exists", Label: "exists", Unary: true},
	{Op: "notExists", Label: "does not exist", Unary: true},
	{Op: "matches", Label: "matches the regular expression"},
}

// IsUnaryOperator reports whether op ignores its right operand.
func IsUnaryOperator(op string) bool {
	o, ok := ruleOps[op]
	return ok && o.unary()
}

// chainRef reads and writes one chain of the tree: the document's main
// chain or one branch of a node (map values are not addressable).
type chainRef struct {
	get func() []Node
	set func([]Node)
}

func mainChain(doc *Document) chainRef {
	return chainRef{get: func() []Node { return doc.Nodes }, set: func(s []Node) { doc.Nodes = s }}
}

func branchChain(n *Node, branch string) chainRef {
	return chainRef{
		get: func() []Node { return n.Branches[branch] },
		set: func(s []Node) {
			if n.Branches == nil {
				n.Branches = map[string][]Node{}
			}
			n.Branches[branch] = s
		},
	}
}

// branchOrder lists a node's branches: yes and no first, then the others
// sorted, so that walks are deterministic.
func branchOrder(n *Node) []string {
	out := make([]string, 0, len(n.Branches))
	for _, b := range []string{"yes", "no"} {
		if _, ok := n.Branches[b]; ok {
			out = append(out, b)
		}
	}
	var rest []string
	for b := range n.Branches {
		if b != "yes" && b != "no" {
			rest = append(rest, b)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// locate finds the chain holding key and its index there.
func locate(doc *Document, key string) (chainRef, int, bool) {
	var walk func(ref chainRef) (chainRef, int, bool)
	walk = func(ref chainRef) (chainRef, int, bool) {
		nodes := ref.get()
		for i := range nodes {
			if nodes[i].Key == key {
				return ref, i, true
			}
			n := &nodes[i]
			for _, b := range branchOrder(n) {
				if r, j, ok := walk(branchChain(n, b)); ok {
					return r, j, true
				}
			}
		}
		return chainRef{}, 0, false
	}
	return walk(mainChain(doc))
}

// FindNode returns the node with key, anywhere in the tree. The pointer
// stays valid until the chain holding the node changes.
func FindNode(doc *Document, key string) (*Node, bool) {
	ref, i, ok := locate(doc, key)
	if !ok {
		return nil, false
	}
	return &ref.get()[i], true
}

// NodeBranchNames lists the branches a node may hold as its kind compiles
// it (yes and no for a condition in branch mode), or nil.
func NodeBranchNames(n *Node, mode Mode) []string {
	b, _ := nodeBranchNames(n, mode)
	return b
}

// nodeBranchNames is NodeBranchNames with the error of a config that does
// not compile.
func nodeBranchNames(n *Node, mode Mode) ([]string, error) {
	kind, ok := NodeKindFor(n.Type)
	if !ok {
		return nil, Errorf(EINVALID, "type: unknown node type %q", n.Type)
	}
	probe := *n
	probe.Branches = nil
	step, err := kind.Compile(&probe, CompileEnv{Mode: mode})
	if err != nil {
		return nil, err
	}
	return step.Branches(), nil
}

// InsertNode inserts node at index of the chain (parent, branch); parent ""
// is the main chain. The key must be new in the document.
func InsertNode(doc *Document, parent, branch string, index int, node Node) error {
	if node.Key == "" {
		return Errorf(EINVALID, "key: required")
	}
	if _, dup := FindNode(doc, node.Key); dup {
		return Errorf(EINVALID, "key: duplicate node key %q", node.Key)
	}
	if _, ok := NodeKindFor(node.Type); !ok {
		return Errorf(EINVALID, "type: unknown node type %q", node.Type)
	}
	var ref chainRef
	if parent == "" {
		if branch != "" && branch != MainBranch {
			return Errorf(EINVALID, "branch: the main chain has no branch %q", branch)
		}
		ref = mainChain(doc)
	} else {
		p, ok := FindNode(doc, parent)
		if !ok {
			return Errorf(ENOTFOUND, "parent: no node %q", parent)
		}
		allowed := NodeBranchNames(p, doc.Mode)
		if !slices.Contains(allowed, branch) {
			if len(allowed) == 0 {
				return Errorf(EINVALID, "branch: node %q has no branches", parent)
			}
			return Errorf(EINVALID, "branch: node %q has no branch %q (expected one of %v)", parent, branch, allowed)
		}
		ref = branchChain(p, branch)
	}
	nodes := ref.get()
	if index < 0 || index > len(nodes) {
		return Errorf(EINVALID, "index: %d is outside 0..%d", index, len(nodes))
	}
	ref.set(slices.Insert(slices.Clone(nodes), index, node))
	return nil
}

// ReplaceNodeConfig sets a node's title and config. When the new config
// leaves the node without branches (a condition switched to continue
// mode), its empty branches are dropped; branches that still hold nodes
// make it an EINVALID error, so that no step is lost by a mode switch. A
// config that does not compile leaves the branches alone (Validate names
// the problem).
func ReplaceNodeConfig(doc *Document, key, title string, config json.RawMessage) error {
	n, ok := FindNode(doc, key)
	if !ok {
		return Errorf(ENOTFOUND, "no node %q", key)
	}
	probe := Node{Key: n.Key, Type: n.Type, Title: title, Config: config}
	allowed, err := nodeBranchNames(&probe, doc.Mode)
	if err != nil {
		// The config does not compile: which branches it allows is
		// unknown, so they stay; saving reports the real error.
		n.Title, n.Config = title, config
		return nil
	}
	for _, b := range branchOrder(n) {
		if slices.Contains(allowed, b) {
			continue
		}
		if len(n.Branches[b]) > 0 {
			return Errorf(EINVALID, "config.mode: the %s branch still holds %s: delete them first, or keep branch mode", b, plural(countNodes(n.Branches[b]), "step"))
		}
	}
	for _, b := range branchOrder(n) {
		if !slices.Contains(allowed, b) {
			delete(n.Branches, b)
		}
	}
	if len(n.Branches) == 0 {
		n.Branches = nil
	}
	n.Title = title
	n.Config = config
	return nil
}

// DeleteNode removes a node; its branches go with it.
func DeleteNode(doc *Document, key string) error {
	ref, i, ok := locate(doc, key)
	if !ok {
		return Errorf(ENOTFOUND, "no node %q", key)
	}
	ref.set(slices.Delete(slices.Clone(ref.get()), i, i+1))
	return nil
}

// MoveNode moves a node delta places within its chain (negative: up). A
// move past either end is an EINVALID error.
func MoveNode(doc *Document, key string, delta int) error {
	ref, i, ok := locate(doc, key)
	if !ok {
		return Errorf(ENOTFOUND, "no node %q", key)
	}
	nodes := slices.Clone(ref.get())
	j := i + delta
	switch {
	case delta == 0:
		return nil
	case j < 0:
		return Errorf(EINVALID, "node %q is already the first step of its chain", key)
	case j >= len(nodes):
		return Errorf(EINVALID, "node %q is already the last step of its chain", key)
	}
	n := nodes[i]
	nodes = slices.Delete(nodes, i, i+1)
	ref.set(slices.Insert(nodes, j, n))
	return nil
}

// NewNodeKey returns a key for a new node of type typ that no node of the
// document has: condition_1, condition_2, response_1 ...
func NewNodeKey(doc *Document, typ string) string {
	if !nodeKeyRE.MatchString(typ) || len(typ) > MaxNodeKeyLength-8 {
		typ = "node"
	}
	for n := 1; ; n++ {
		k := typ + "_" + strconv.Itoa(n)
		if _, taken := FindNode(doc, k); !taken {
			return k
		}
	}
}

// UpstreamNodes lists the nodes that may run before the node with key, in
// flow order: the steps before it in its chain and in every enclosing
// chain, their branches included, and the nodes whose branches enclose it.
// Their results are what $jobsMapByNodeKey offers. The nodes are returned
// without their branches.
func UpstreamNodes(doc *Document, key string) []Node {
	var walk func(nodes []Node, acc []Node) ([]Node, bool)
	walk = func(nodes []Node, acc []Node) ([]Node, bool) {
		for i := range nodes {
			n := &nodes[i]
			if n.Key == key {
				return acc, true
			}
			for _, b := range branchOrder(n) {
				if res, ok := walk(n.Branches[b], append(slices.Clip(acc), flat(*n))); ok {
					return res, true
				}
			}
			acc = appendTree(acc, n)
		}
		return acc, false
	}
	res, ok := walk(doc.Nodes, nil)
	if !ok {
		return nil
	}
	return res
}

func flat(n Node) Node {
	n.Branches = nil
	return n
}

// appendTree appends a node and its branches' nodes, in flow order.
func appendTree(acc []Node, n *Node) []Node {
	acc = append(acc, flat(*n))
	for _, b := range branchOrder(n) {
		for i := range n.Branches[b] {
			acc = appendTree(acc, &n.Branches[b][i])
		}
	}
	return acc
}

func countNodes(nodes []Node) int {
	c := 0
	for i := range nodes {
		c++
		for _, b := range nodes[i].Branches {
			c += countNodes(b)
		}
	}
	return c
}

// CountNodes counts a node and every node in its branches.
func CountNodes(n *Node) int { return countNodes([]Node{*n}) }

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
