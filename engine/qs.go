package engine

import (
	"hash/maphash"
	"strings"
	"unicode/utf8"
)

// QSOptions bounds ParseQS. A zero or negative field takes the default value
// (that of DefaultQSOptions), so that no limit can be switched off by
// accident.
type QSOptions struct {
	// Depth is how many bracket groups of one key become nested levels, as
	// qs's depth option. The groups beyond it stay together as one literal
	// key at the last level: with depth 5, a[b][c][d][e][f][g][h]=i gives
	// {"a":{"b":{"c":{"d":{"e":{"f":{"[g][h]":"i"}}}}}}}. Values above
	// maxQSDepth (32) count as maxQSDepth.
	Depth int
	// ArrayLimit bounds arrays, as qs's arrayLimit option: an array holds
	// indexes 0 to ArrayLimit-1. A bracket index at or above it (a[100]=x
	// with the default) makes that level an object keyed by the index text
	// ({"a":{"100":"x"}}), and an array that would grow past ArrayLimit
	// items (a[]=… or a=… repeated) becomes an object keyed "0", "1", ….
	ArrayLimit int
	// ParameterLimit is the most non-empty &-separated pairs accepted. Where
	// qs silently drops the pairs past its limit, ParseQS returns an
	// EINVALID error: a webhook whose fields vanish without a trace is
	// worse than one that is refused and shows up in the execution log.
	ParameterLimit int
}

// DefaultQSOptions are the limits of qs's parse with arrayLimit 100: depth
// 5, arrays of at most 100 items, at most 1000 parameters.
var DefaultQSOptions = QSOptions{Depth: qsDepth, ArrayLimit: qsArrayLimit, ParameterLimit: qsParameterLimit}

// The defaults, which also stand in for zero fields of QSOptions.
const (
	qsDepth          = 5
	qsArrayLimit     = 100
	qsParameterLimit = 1000
)

// maxQSDepth caps QSOptions.Depth.
const maxQSDepth = 32

// maxQSNesting bounds how deeply the output of ParseQS nests. One key gives
// at most Depth+2 levels of containers, but qs's merge wraps a value in an
// array each time a key that is an object meets a string (a[b]=1&a=2 gives
// {"a":[{"b":"1"},"2"]}), and keys that keep fighting over one field
// (a[b]=1&[a]x=2&a[c]=3&[a]y=4&…) push the first value one level down each
// round, without end. Such input is refused rather than producing JSON that
// nests past what the rest of Hookflow accepts (MaxJSONDepth) or what a path
// can address (MaxPathSegments).
const maxQSNesting = 64

// maxQSIndex is the longest bracket index, in digits, that counts as an
// array index; longer digit runs are plain keys. (qs accepts any integer
// that survives a round trip through a JavaScript number; past 15 digits
// that stops being exact, and such an index is past any array limit.)
const maxQSIndex = 15

// ParseQS parses a query string or form body (a leading '?' is ignored) and
// returns the result as a JSON object, keys in first-seen order.
//
// It follows Node's qs library parse with default options except arrayLimit
// 100: '&' separates pairs and empty pairs are skipped; a pair without '='
// has the value ""; a pair with an empty key (=x) is dropped; '+' is a space
// and percent-escapes are decoded, except that a key or value holding an
// invalid escape or escapes that are not UTF-8 is kept as written (with '+'
// still a space, and %5B and %5D still brackets); values are always strings;
// keys are decoded before they are split at brackets, and dots are not
// separators. a[b]=1 nests objects; a[]=1&a[]=2, a=1&a=2 and a[1]=2&a[0]=1
// give arrays (indexes sorted, gaps closed); an index at or above the array
// limit, or mixing a[]=x with a[k]=y, turns the array into an object keyed by
// index, as qs's merge does. See QSOptions for the depth, array and
// parameter limits; more than ParameterLimit pairs is an EINVALID *Error
// ("query: more than 1000 parameters") rather than qs's silent truncation.
// A result that would nest deeper than 64 levels, which only keys that fight
// over one field can produce (see maxQSNesting), is an EINVALID *Error too.
//
// Where qs's behaviour comes from JavaScript rather than from its rules,
// ParseQS differs: object keys keep their first-seen order, and keys are
// merged in that order (JavaScript puts integer-like keys first, ascending,
// which changes more than the order only when a bare integer key such as 0
// meets a key such as [0] or [] that names the same field); keys named
// after Object.prototype members (constructor, toString, __proto__, …) are
// kept rather than dropped; and invalid UTF-8 in the input becomes U+FFFD,
// one per run of bad bytes, so the output is always valid JSON (escaped as
// AppendJSONString does, so that it is also safe to embed in HTML).
func ParseQS(s string, opt QSOptions) ([]byte, error) {
	opt = opt.normalized()
	s = strings.TrimPrefix(s, "?")
	if s == "" {
		return []byte("{}"), nil // most webhooks have no query
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	p := qsParser{limit: opt.ArrayLimit, depth: opt.Depth}
	if err := p.readPairs(s, opt.ParameterLimit); err != nil {
		return nil, err
	}
	p.build(s)
	out, ok := p.appendNode(make([]byte, 0, len(s)+8*len(p.pairs)+2), &p.root, 1)
	if !ok {
		return nil, Errorf(EINVALID, "query: keys nest deeper than %d levels", maxQSNesting)
	}
	return out, nil
}

// FormField is one field of a multipart/form-data body for
// ParseFormFields: a text field's Value, or for a file part its metadata
// as a JSON object (JSON), which takes the place of a value.
type FormField struct {
	Name  string
	Value string
	JSON  []byte
}

// ParseFormFields builds $context.body from the fields of a multipart body,
// in order, with the bracket rules of ParseQS (a[b], a[], repeated names,
// the depth, array and parameter limits), so that a multipart form reads
// as the same form URL-encoded would. Names and values are taken as they
// are (multipart does not percent-encode) and must be valid UTF-8; a file's
// JSON is a leaf like a string. More than ParameterLimit fields is an
// EINVALID *Error.
func ParseFormFields(fields []FormField, opt QSOptions) ([]byte, error) {
	opt = opt.normalized()
	if len(fields) > opt.ParameterLimit {
		return nil, Errorf(EINVALID, "multipart body: more than %d fields", opt.ParameterLimit)
	}
	p := qsParser{limit: opt.ArrayLimit, depth: opt.Depth}
	p.pairs = make([]qsPair, 0, len(fields))
	size := 2
	for _, f := range fields {
		if f.Name == "" {
			continue // as qs drops pairs without a key
		}
		v := qsVal{s: f.Value, off: -1}
		if f.JSON != nil {
			v = qsVal{s: string(f.JSON), off: -1, raw: true}
		}
		size += len(f.Name) + len(v.s) + 8
		if strings.IndexByte(f.Name, '[') >= 0 {
			p.bracketed = true
		}
		if i := p.findPair(f.Name); i >= 0 {
			p.pairs[i].more = append(p.pairs[i].more, v)
			continue
		}
		p.pairs = append(p.pairs, qsPair{key: f.Name, val: v})
		if p.pairTab.slots != nil {
			p.pairTab.put(f.Name, len(p.pairs)-1)
		}
	}
	p.build("")
	out, ok := p.appendNode(make([]byte, 0, size), &p.root, 1)
	if !ok {
		return nil, Errorf(EINVALID, "multipart body: field names nest deeper than %d levels", maxQSNesting)
	}
	return out, nil
}

func (o QSOptions) normalized() QSOptions {
	if o.Depth <= 0 {
		o.Depth = qsDepth
	}
	o.Depth = min(o.Depth, maxQSDepth)
	if o.ArrayLimit <= 0 {
		o.ArrayLimit = qsArrayLimit
	}
	if o.ParameterLimit <= 0 {
		o.ParameterLimit = qsParameterLimit
	}
	return o
}

// The parse runs in qs's two stages. First the pairs are decoded and values
// of the same key gathered (qs's parseValues); then each distinct key, in
// first-seen order, is split at its brackets into a chain of nodes that is
// merged into the result (parseKeys and utils.merge). The tree is small and
// ordered: nodes come from a slab, objects keep their entries in insertion
// order (with a hash index once they grow), arrays keep theirs sorted by
// index and may have gaps, which the output skips (qs's compact).

type qsKind uint8

const (
	qsString qsKind = iota
	qsArray
	qsObject
)

type qsNode struct {
	kind qsKind
	// overflow marks an object made from an array that passed the array
	// limit; qs appends to it at maxIndex+1.
	overflow bool
	str      string // qsString
	raw      bool   // qsString: str is JSON, written as it is
	length   int    // qsArray: JavaScript length, one past the highest index
	maxIndex int    // qsObject with overflow
	ents     []qsEnt
	tab      *qsTable // qsObject with many entries: key → position in ents
	one      [1]qsEnt // storage for the first entry
}

// qsEnt is an object entry (key) or an array item (idx).
type qsEnt struct {
	key string
	idx int
	val *qsNode
}

// qsVal is a decoded value: s, or the bytes arena[off:end] until build.
// raw marks a value that is JSON already (a multipart file's metadata,
// see ParseFormFields), written as it is.
type qsVal struct {
	s        string
	off, end int
	raw      bool
}

// qsPair gathers the values given to one decoded key.
type qsPair struct {
	key  string
	val  qsVal
	more []qsVal
}

// qsSeg is one step of a split key: the part before the first bracket, a
// bracket group's content (bracketed), or "[]" (push).
type qsSeg struct {
	text      string
	bracketed bool
	push      bool
}

type qsParser struct {
	limit, depth int
	pairs        []qsPair
	pairTab      qsTable // built once pairs outgrow a linear search
	bracketed    bool    // some key holds a '['
	arena        []byte  // decoded values, and scratch space for keys
	slab         []qsNode
	segs         [maxQSDepth + 2]qsSeg
	root         qsNode
	rootTab      qsTable
}

// readPairs splits s into pairs, decodes them and gathers the values of each
// key.
func (p *qsParser) readPairs(s string, paramLimit int) error {
	n := strings.Count(s, "&") + 1
	p.pairs = make([]qsPair, 0, min(n, paramLimit))
	count := 0
	for start := 0; start <= len(s); {
		end := strings.IndexByte(s[start:], '&')
		if end < 0 {
			end = len(s)
		} else {
			end += start
		}
		part := s[start:end]
		if part != "" {
			if count++; count > paramLimit {
				return Errorf(EINVALID, "query: more than %d parameters", paramLimit)
			}
			p.addPart(part, len(s)-start)
		}
		start = end + 1
	}
	if p.arena != nil {
		all := string(p.arena)
		for i := range p.pairs {
			pr := &p.pairs[i]
			pr.val.resolve(all)
			for j := range pr.more {
				pr.more[j].resolve(all)
			}
		}
	}
	return nil
}

func (v *qsVal) resolve(all string) {
	if v.off >= 0 {
		v.s = all[v.off:v.end]
	}
}

// addPart decodes one pair; rest is how many input bytes remain from it on,
// which bounds the decoded size of everything left.
func (p *qsParser) addPart(part string, rest int) {
	rawKey, rawVal := part, ""
	if pos := qsSplitPos(part); pos >= 0 {
		rawKey, rawVal = part[:pos], part[pos+1:]
	}
	key := rawKey
	if qsNeedsDecoding(rawKey) {
		p.growArena(rest)
		off := len(p.arena)
		p.arena = qsAppendDecoded(p.arena, rawKey)
		key = string(p.arena[off:])
		p.arena = p.arena[:off]
	}
	if key == "" {
		return // qs ignores pairs whose key is empty
	}
	if strings.IndexByte(key, '[') >= 0 {
		p.bracketed = true
	}
	val := qsVal{s: rawVal, off: -1}
	if qsNeedsDecoding(rawVal) {
		p.growArena(rest)
		val.off = len(p.arena)
		p.arena = qsAppendDecoded(p.arena, rawVal)
		val.end = len(p.arena)
	}
	if i := p.findPair(key); i >= 0 {
		p.pairs[i].more = append(p.pairs[i].more, val)
		return
	}
	p.pairs = append(p.pairs, qsPair{key: key, val: val})
	if p.pairTab.slots != nil {
		p.pairTab.put(key, len(p.pairs)-1)
	}
}

// growArena makes room for decoding the rest of the input: decoding never
// makes text longer, so the arena never moves once it is allocated.
func (p *qsParser) growArena(rest int) {
	if p.arena == nil {
		p.arena = make([]byte, 0, rest)
	}
}

const qsLinearScan = 8 // entries searched one by one before a hash index is built

func (p *qsParser) findPair(key string) int {
	if p.pairTab.slots != nil {
		return p.pairTab.get(key)
	}
	for i := range p.pairs {
		if p.pairs[i].key == key {
			return i
		}
	}
	if len(p.pairs) >= qsLinearScan {
		p.pairTab.init(cap(p.pairs))
		for i := range p.pairs {
			p.pairTab.put(p.pairs[i].key, i)
		}
	}
	return -1
}

// qsSplitPos returns the position of the '=' that ends the key: the one of
// the first "]=" (']' possibly written %5D) if any, else the first '='. qs
// looks for "]=" first so that a key such as a[b=c] keeps its '='.
func qsSplitPos(part string) int {
	for k := 0; k+1 < len(part); k++ {
		switch part[k] {
		case ']':
			if part[k+1] == '=' {
				return k + 1
			}
		case '%':
			if k+3 < len(part) && part[k+1] == '5' && part[k+2]|0x20 == 'd' && part[k+3] == '=' {
				return k + 3
			}
		}
	}
	return strings.IndexByte(part, '=')
}

func qsNeedsDecoding(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' || s[i] == '+' {
			return true
		}
	}
	return false
}

// qsAppendDecoded appends the decoding of s as qs's default decoder does it:
// '+' becomes a space, then JavaScript's decodeURIComponent; if that fails
// (a '%' without two hex digits, or escapes that do not form UTF-8), s is
// kept with only '+' turned into spaces and %5B/%5D into brackets (qs turns
// those into brackets before decoding anything).
func qsAppendDecoded(dst []byte, s string) []byte {
	start := len(dst)
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '+':
			dst = append(dst, ' ')
			i++
			continue
		case '%':
		default:
			dst = append(dst, c)
			i++
			continue
		}
		b, ok := qsHexByte(s, i)
		if !ok {
			return qsAppendUndecoded(dst[:start], s)
		}
		if b < utf8.RuneSelf {
			dst = append(dst, b)
			i += 3
			continue
		}
		var n int
		switch {
		case b&0xE0 == 0xC0:
			n = 2
		case b&0xF0 == 0xE0:
			n = 3
		case b&0xF8 == 0xF0:
			n = 4
		default:
			return qsAppendUndecoded(dst[:start], s)
		}
		var seq [4]byte
		seq[0] = b
		for k := 1; k < n; k++ {
			cb, ok := qsHexByte(s, i+3*k)
			if !ok || cb&0xC0 != 0x80 {
				return qsAppendUndecoded(dst[:start], s)
			}
			seq[k] = cb
		}
		// Overlong forms, surrogates and code points past U+10FFFF are
		// errors for decodeURIComponent, as for utf8.Valid.
		if !utf8.Valid(seq[:n]) {
			return qsAppendUndecoded(dst[:start], s)
		}
		dst = append(dst, seq[:n]...)
		i += 3 * n
	}
	return dst
}

// qsHexByte decodes the escape %XX at s[i:].
func qsHexByte(s string, i int) (byte, bool) {
	if i+2 >= len(s) || s[i] != '%' {
		return 0, false
	}
	h, ok1 := qsUnhex(s[i+1])
	l, ok2 := qsUnhex(s[i+2])
	return h<<4 | l, ok1 && ok2
}

func qsUnhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func qsAppendUndecoded(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(s) && s[i+1] == '5' && (s[i+2]|0x20 == 'b' || s[i+2]|0x20 == 'd'):
			c = '['
			if s[i+2]|0x20 == 'd' {
				c = ']'
			}
			i += 2
		}
		dst = append(dst, c)
	}
	return dst
}

// build merges every key's chain into the root object.
func (p *qsParser) build(s string) {
	p.root.kind = qsObject
	p.root.ents = make([]qsEnt, 0, len(p.pairs))
	if !p.bracketed {
		// Plain distinct keys: the root lists them as they are.
		leaves := make([]qsNode, len(p.pairs))
		for i := range p.pairs {
			n := &leaves[i]
			if len(p.pairs[i].more) == 0 {
				n.str, n.raw = p.pairs[i].val.s, p.pairs[i].val.raw
			} else {
				n = p.leaf(&p.pairs[i])
			}
			p.root.ents = append(p.root.ents, qsEnt{key: p.pairs[i].key, val: n})
		}
		return
	}
	if len(p.pairs) > qsLinearScan {
		p.rootTab.init(len(p.pairs))
		p.root.tab = &p.rootTab
	}
	// About one node per pair and one per bracket group.
	p.slab = make([]qsNode, 0, len(p.pairs)+strings.Count(s, "[")+8)
	for i := range p.pairs {
		pr := &p.pairs[i]
		segs := p.split(pr.key)
		leaf := p.leaf(pr)
		first := 0
		if !segs[0].bracketed {
			first = 1 // merged below by key, without a wrapper object
		}
		for j := len(segs) - 1; j >= first; j-- {
			leaf = p.wrap(segs[j], leaf)
		}
		if first == 1 {
			key := segs[0].text
			if k := p.root.find(key); k >= 0 {
				p.root.ents[k].val = p.merge(p.root.ents[k].val, leaf)
			} else {
				p.root.add(key, leaf)
			}
		} else {
			p.merge(&p.root, leaf) // the root is an object, so merges in place
		}
	}
}

// leaf is a key's value: a string, or for a repeated key an array of them,
// or past the array limit an object keyed "0", "1", … (qs's combine).
func (p *qsParser) leaf(pr *qsPair) *qsNode {
	if len(pr.more) == 0 {
		return p.val(pr.val)
	}
	n := p.node(qsArray)
	n.ents = make([]qsEnt, 0, 1+len(pr.more))
	n.ents = append(n.ents, qsEnt{idx: 0, val: p.val(pr.val)})
	for i, v := range pr.more {
		n.ents = append(n.ents, qsEnt{idx: i + 1, val: p.val(v)})
	}
	n.length = len(n.ents)
	return p.limitArray(n)
}

// split cuts a key into segments as qs's splitKeyIntoSegments does: the text
// before the first '[', then up to depth balanced bracket groups (text
// between groups is ignored), then whatever follows as one more literal
// group. An unterminated group is also kept literally.
func (p *qsParser) split(key string) []qsSeg {
	segs := p.segs[: 0 : p.depth+2]
	open := strings.IndexByte(key, '[')
	if open != 0 {
		parent := key
		if open > 0 {
			parent = key[:open]
		}
		segs = append(segs, qsSeg{text: parent})
	}
	for collected := 0; open >= 0 && collected < p.depth; collected++ {
		level, closeAt := 1, -1
		for i := open + 1; i < len(key); i++ {
			if key[i] == '[' {
				level++
			} else if key[i] == ']' {
				if level--; level == 0 {
					closeAt = i
					break
				}
			}
		}
		if closeAt < 0 {
			// qs wraps the rest in brackets and strips them again.
			return append(segs, qsSeg{text: key[open:], bracketed: true})
		}
		content := key[open+1 : closeAt]
		segs = append(segs, qsSeg{text: content, bracketed: true, push: content == ""})
		open = strings.IndexByte(key[closeAt+1:], '[')
		if open >= 0 {
			open += closeAt + 1
		}
	}
	if open >= 0 {
		segs = append(segs, qsSeg{text: key[open:], bracketed: true})
	}
	return segs
}

// wrap puts v one level down under seg, as qs's parseObject does for one
// step of the chain.
func (p *qsParser) wrap(seg qsSeg, v *qsNode) *qsNode {
	if seg.push {
		switch {
		case v.kind == qsObject && v.overflow:
			return v
		case v.kind == qsArray:
			return v // [].concat(array) flattens it
		}
		n := p.node(qsArray)
		n.add1(qsEnt{idx: 0, val: v})
		n.length = 1
		return p.limitArray(n)
	}
	if seg.bracketed {
		if idx, ok := qsIndex(seg.text); ok {
			if idx < p.limit {
				n := p.node(qsArray)
				n.add1(qsEnt{idx: idx, val: v})
				n.length = idx + 1
				return n
			}
			n := p.node(qsObject)
			n.add1(qsEnt{key: seg.text, val: v})
			n.overflow, n.maxIndex = true, idx
			return n
		}
	}
	n := p.node(qsObject)
	n.add1(qsEnt{key: seg.text, val: v})
	return n
}

// qsIndex reports whether s is a canonical non-negative integer (no sign, no
// leading zero) of at most maxQSIndex digits.
func qsIndex(s string) (int, bool) {
	if s == "" || len(s) > maxQSIndex || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// merge merges source s into target t and returns the merged value, as qs's
// utils.merge (with its default strictMerge). t may be changed in place.
func (p *qsParser) merge(t, s *qsNode) *qsNode {
	if s.kind == qsString {
		if s.str == "" {
			return t // qs: if (!source) return target
		}
		switch {
		case t.kind == qsArray:
			if t.length >= p.limit {
				o := p.arrayToObject(t)
				o.add(itoa(t.length), s)
				o.overflow, o.maxIndex = true, t.length
				return o
			}
			t.push(s)
			return t
		case t.kind == qsObject && t.overflow:
			t.maxIndex++
			t.set(itoa(t.maxIndex), s)
			return t
		}
		return p.pair(t, s)
	}
	if t.kind == qsString {
		if s.overflow {
			// qs: {0: target} plus the source's entries one index up.
			o := p.node(qsObject)
			o.ents = make([]qsEnt, 0, 1+len(s.ents))
			o.add(itoa(0), t)
			for _, e := range s.ents {
				if i, ok := qsIndex(e.key); ok {
					o.set(itoa(i+1), e.val)
				}
			}
			o.overflow, o.maxIndex = true, s.maxIndex+1
			return o
		}
		if s.kind == qsObject {
			return p.limitArray(p.pair(t, s))
		}
		// [target].concat(sourceArray)
		n := p.node(qsArray)
		n.ents = make([]qsEnt, 0, 1+len(s.ents))
		n.ents = append(n.ents, qsEnt{idx: 0, val: t})
		for _, e := range s.ents {
			n.ents = append(n.ents, qsEnt{idx: e.idx + 1, val: e.val})
		}
		n.length = s.length + 1
		return p.limitArray(n)
	}
	if t.kind == qsArray && s.kind == qsArray {
		for _, e := range s.ents {
			k := t.findIdx(e.idx)
			switch {
			case k < 0:
				t.setIdx(e.idx, e.val)
			case t.ents[k].val.kind != qsString && e.val.kind != qsString:
				t.ents[k].val = p.merge(t.ents[k].val, e.val)
			default:
				t.push(e.val)
			}
		}
		return p.limitArray(t)
	}
	acc := t
	if t.kind == qsArray {
		acc = p.arrayToObject(t)
	}
	for _, e := range s.ents {
		key := e.key
		if s.kind == qsArray {
			key = itoa(e.idx)
		}
		if k := acc.find(key); k >= 0 {
			acc.ents[k].val = p.merge(acc.ents[k].val, e.val)
		} else {
			acc.add(key, e.val)
		}
		if s.overflow && !acc.overflow {
			acc.overflow, acc.maxIndex = true, s.maxIndex
		}
		if acc.overflow {
			if i, ok := qsIndex(key); ok && i > acc.maxIndex {
				acc.maxIndex = i
			}
		}
	}
	return acc
}

// pair returns the array [a, b].
func (p *qsParser) pair(a, b *qsNode) *qsNode {
	n := p.node(qsArray)
	n.ents = make([]qsEnt, 2)
	n.ents[0] = qsEnt{idx: 0, val: a}
	n.ents[1] = qsEnt{idx: 1, val: b}
	n.length = 2
	return n
}

// limitArray turns an array longer than the array limit into an object keyed
// by index, marked so that later items go after the last one.
func (p *qsParser) limitArray(n *qsNode) *qsNode {
	if n.kind != qsArray || n.length <= p.limit {
		return n
	}
	o := p.arrayToObject(n)
	o.overflow, o.maxIndex = true, n.length-1
	return o
}

// arrayToObject returns a new object with the array's items keyed by index.
func (p *qsParser) arrayToObject(a *qsNode) *qsNode {
	o := p.node(qsObject)
	o.ents = make([]qsEnt, 0, len(a.ents)+1)
	for _, e := range a.ents {
		o.add(itoa(e.idx), e.val)
	}
	return o
}

func (p *qsParser) str(s string) *qsNode {
	n := p.node(qsString)
	n.str = s
	return n
}

// val is the leaf of a decoded value.
func (p *qsParser) val(v qsVal) *qsNode {
	n := p.str(v.s)
	n.raw = v.raw
	return n
}

func (p *qsParser) node(kind qsKind) *qsNode {
	if len(p.slab) == cap(p.slab) {
		p.slab = make([]qsNode, 0, max(16, 2*cap(p.slab)))
	}
	p.slab = p.slab[:len(p.slab)+1]
	n := &p.slab[len(p.slab)-1]
	n.kind = kind
	return n
}

// add1 gives an empty node its first entry without allocating.
func (n *qsNode) add1(e qsEnt) {
	n.one[0] = e
	n.ents = n.one[:]
}

// find returns the position of key in an object, or -1.
func (n *qsNode) find(key string) int {
	if n.tab != nil {
		return n.tab.get(key)
	}
	for i := range n.ents {
		if n.ents[i].key == key {
			return i
		}
	}
	return -1
}

// add appends a key known to be absent.
func (n *qsNode) add(key string, v *qsNode) {
	n.ents = append(n.ents, qsEnt{key: key, val: v})
	switch {
	case n.tab != nil:
		n.tab.put(key, len(n.ents)-1)
	case len(n.ents) > qsLinearScan:
		n.tab = new(qsTable)
		n.tab.init(2 * len(n.ents))
		for i := range n.ents {
			n.tab.put(n.ents[i].key, i)
		}
	}
}

// set assigns a key of an object, keeping an existing key's position.
func (n *qsNode) set(key string, v *qsNode) {
	if k := n.find(key); k >= 0 {
		n.ents[k].val = v
		return
	}
	n.add(key, v)
}

// findIdx returns the position of index i in an array, or -1.
func (n *qsNode) findIdx(i int) int {
	lo, hi := 0, len(n.ents)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if n.ents[m].idx < i {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(n.ents) && n.ents[lo].idx == i {
		return lo
	}
	return -1
}

// setIdx stores v at an absent index i, keeping the items sorted.
func (n *qsNode) setIdx(i int, v *qsNode) {
	k := len(n.ents)
	for k > 0 && n.ents[k-1].idx > i {
		k--
	}
	n.ents = append(n.ents, qsEnt{})
	copy(n.ents[k+1:], n.ents[k:])
	n.ents[k] = qsEnt{idx: i, val: v}
	n.length = max(n.length, i+1)
}

// push stores v at index length, as JavaScript's a[a.length] = v.
func (n *qsNode) push(v *qsNode) {
	n.ents = append(n.ents, qsEnt{idx: n.length, val: v})
	n.length++
}

// appendNode writes the tree as JSON, n being at the given nesting level;
// arrays lose their gaps. It reports false if containers nest deeper than
// maxQSNesting.
func (p *qsParser) appendNode(dst []byte, n *qsNode, level int) ([]byte, bool) {
	if n.kind == qsString {
		if n.raw {
			return append(dst, n.str...), true
		}
		return qsAppendString(dst, n.str), true
	}
	if level > maxQSNesting {
		return dst, false
	}
	open, closing := byte('{'), byte('}')
	if n.kind == qsArray {
		open, closing = '[', ']'
	}
	dst = append(dst, open)
	for i, e := range n.ents {
		if i > 0 {
			dst = append(dst, ',')
		}
		if n.kind == qsObject {
			dst = qsAppendString(dst, e.key)
			dst = append(dst, ':')
		}
		var ok bool
		if dst, ok = p.appendNode(dst, e.val, level+1); !ok {
			return dst, false
		}
	}
	return append(dst, closing), true
}

// qsAppendString appends s, which is valid UTF-8, as a JSON string, escaping
// like AppendJSONString (<, >, & and U+2028/U+2029 too, so that the JSON is
// safe to embed in HTML).
func qsAppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		var esc string
		switch {
		case c == '"':
			esc = `\"`
		case c == '\\':
			esc = `\\`
		case c == '\n':
			esc = `\n`
		case c == '\r':
			esc = `\r`
		case c == '\t':
			esc = `\t`
		case c < 0x20 || c == '<' || c == '>' || c == '&':
		case c == 0xE2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xA8 || s[i+2] == 0xA9):
		default:
			continue
		}
		dst = append(dst, s[last:i]...)
		switch {
		case esc != "":
			dst = append(dst, esc...)
		case c == 0xE2:
			dst = append(dst, `\u202`...)
			dst = append(dst, hex[s[i+2]&0xF])
			i += 2
		default:
			dst = append(dst, `\u00`...)
			dst = append(dst, hex[c>>4], hex[c&0xF])
		}
		last = i + 1
	}
	dst = append(dst, s[last:]...)
	return append(dst, '"')
}

// qsTable is an open-addressing hash index from keys to positions in a slice
// that its owner keeps; it replaces a map to keep allocations down.
type qsTable struct {
	slots []qsSlot
	n     int
}

type qsSlot struct {
	key string
	pos int32 // position+1; 0 marks an empty slot
}

var qsSeed = maphash.MakeSeed()

// init sizes an empty table for about hint keys.
func (t *qsTable) init(hint int) {
	size := 16
	for size < 2*hint {
		size *= 2
	}
	t.slots = make([]qsSlot, size)
}

func (t *qsTable) get(key string) int {
	mask := uint64(len(t.slots) - 1)
	for i := maphash.String(qsSeed, key) & mask; ; i = (i + 1) & mask {
		sl := &t.slots[i]
		if sl.pos == 0 {
			return -1
		}
		if sl.key == key {
			return int(sl.pos) - 1
		}
	}
}

func (t *qsTable) put(key string, pos int) {
	if 2*(t.n+1) > len(t.slots) {
		old := t.slots
		t.slots, t.n = make([]qsSlot, 2*len(old)), 0
		for _, sl := range old {
			if sl.pos != 0 {
				t.put(sl.key, int(sl.pos)-1)
			}
		}
	}
	mask := uint64(len(t.slots) - 1)
	i := maphash.String(qsSeed, key) & mask
	for t.slots[i].pos != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = qsSlot{key: key, pos: int32(pos) + 1}
	t.n++
}
