package engine

import (
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/hookflow/hookflow/engine/verify"
)

// The trigger settings of product.md §11 and §12: who may call a workflow
// (allowIPs, verify) and which requests are retries of one already received
// (dedupe). They are checked on the public endpoint before anything is
// parsed (allowIPs, verify) or stored (dedupe).

// Limits of the trust settings.
const (
	// MaxAllowIPs bounds trigger.allowIPs.
	MaxAllowIPs = 500
	// MaxToleranceSeconds bounds trigger.verify.toleranceSeconds: a day.
	// A longer window would let a captured request be replayed for longer
	// than any sender retries.
	MaxToleranceSeconds = 86400
	// DefaultDedupeWindow is trigger.dedupe.windowSeconds when absent.
	DefaultDedupeWindow = 86400 * time.Second
	// MaxDedupeWindowSeconds bounds trigger.dedupe.windowSeconds: 30 days.
	MaxDedupeWindowSeconds = 2592000
	// MaxDedupeKeyTemplate bounds the length of trigger.dedupe.key.
	MaxDedupeKeyTemplate = 1024
)

// Verify is the trigger's signature check (product.md §11): the sender's
// scheme and the secrets it signs with. Secret and Secrets are taken out of
// the stored document and kept encrypted (see Secrets).
type Verify struct {
	// Type is github, shopify, stripe, slack, standard, hmac or token.
	Type string `json:"type"`
	// Secret is the one secret; Secrets a list, any of which may match
	// (rotation). A document gives one of the two.
	Secret  string   `json:"secret,omitempty"`
	Secrets []string `json:"secrets,omitempty"`
	// Header, Algorithm, Encoding and Prefix configure the hmac type
	// (Header the token type too).
	Header    string `json:"header,omitempty"`
	Algorithm string `json:"algorithm,omitempty"`
	Encoding  string `json:"encoding,omitempty"`
	Prefix    string `json:"prefix,omitempty"`
	// ToleranceSeconds bounds the age of a signed timestamp (stripe,
	// slack, standard); 0 means verify.DefaultTolerance.
	ToleranceSeconds int `json:"toleranceSeconds,omitempty"`
}

// secretList is the secrets a verification tries: Secret, or Secrets.
func (v *Verify) secretList() []string {
	if v.Secret != "" {
		return []string{v.Secret}
	}
	return v.Secrets
}

// Dedupe is the trigger's idempotent receive (product.md §12): requests
// whose rendered Key was already received within the window create no
// execution.
type Dedupe struct {
	// Key is a template rendered from $context; an empty result means no
	// deduplication for that request.
	Key string `json:"key"`
	// WindowSeconds is how long a key is remembered (nil: 86,400).
	WindowSeconds *int `json:"windowSeconds,omitempty"`
}

// Window is how long a key is remembered.
func (d *Dedupe) Window() time.Duration {
	if d.WindowSeconds == nil {
		return DefaultDedupeWindow
	}
	return time.Duration(*d.WindowSeconds) * time.Second
}

// trust is a revision's trust settings compiled once, for the hot path.
type trust struct {
	allow    []netip.Prefix // nil: every address
	verifier *verify.Verifier
	// tokenHeader is the header a token verification reads: its value is
	// the secret itself and is redacted before the request is stored.
	tokenHeader string
	dedupe      *Template
	window      time.Duration
}

// validateTrust checks the trust settings of the trigger.
func (d *Document) validateTrust() error {
	_, err := compileTrust(d)
	return err
}

// compileTrust checks and compiles the trigger's allowIPs, verify and
// dedupe. Errors are EINVALID and name the field.
func compileTrust(d *Document) (*trust, error) {
	t := &d.Trigger
	tr := &trust{}
	if len(t.AllowIPs) > MaxAllowIPs {
		return nil, Errorf(EINVALID, "trigger.allowIPs: more than %d entries", MaxAllowIPs)
	}
	for i, s := range t.AllowIPs {
		p, err := ParsePrefix(s)
		if err != nil {
			return nil, Errorf(EINVALID, "trigger.allowIPs[%d]: %s", i, ErrorMessage(err))
		}
		tr.allow = append(tr.allow, p)
	}
	if v := t.Verify; v != nil {
		verifier, err := compileVerify(v)
		if err != nil {
			return nil, err
		}
		tr.verifier = verifier
		if v.Type == verify.TypeToken {
			tr.tokenHeader = v.Header
		}
	}
	if dd := t.Dedupe; dd != nil {
		key := strings.TrimSpace(dd.Key)
		switch {
		case key == "":
			return nil, Errorf(EINVALID, "trigger.dedupe.key: required, such as {{$context.headers.x-github-delivery}}")
		case len(dd.Key) > MaxDedupeKeyTemplate:
			return nil, Errorf(EINVALID, "trigger.dedupe.key: longer than %d characters", MaxDedupeKeyTemplate)
		}
		tmpl, err := CompileTemplate(dd.Key)
		if err != nil {
			return nil, Errorf(EINVALID, "trigger.dedupe.key: %s", ErrorMessage(err))
		}
		if tmpl.IsStatic() {
			// A key without a placeholder makes every request a duplicate
			// of the first: most likely the braces were forgotten.
			return nil, Errorf(EINVALID, "trigger.dedupe.key: must hold a placeholder such as {{$context.headers.x-github-delivery}}; a fixed key would make every request a duplicate")
		}
		for _, p := range tmpl.Paths() {
			if p[0].Key != RootContext {
				return nil, Errorf(EINVALID, "trigger.dedupe.key: only $context paths can be used: the key is rendered before the flow runs")
			}
		}
		if w := dd.WindowSeconds; w != nil && (*w < 1 || *w > MaxDedupeWindowSeconds) {
			return nil, Errorf(EINVALID, "trigger.dedupe.windowSeconds: must be between 1 and %d, got %d", MaxDedupeWindowSeconds, *w)
		}
		tr.dedupe, tr.window = tmpl, dd.Window()
	}
	return tr, nil
}

// compileVerify checks a verify setting with engine/verify and returns its
// Verifier. Field errors are reported under trigger.verify, named as the
// document names them (secret or secrets[i]); they never hold a secret.
func compileVerify(v *Verify) (*verify.Verifier, error) {
	const field = "trigger.verify."
	switch {
	case v.Secret != "" && len(v.Secrets) > 0:
		return nil, Errorf(EINVALID, "trigger.verify: give secret or secrets (a list, for rotation), not both")
	case v.ToleranceSeconds < 0 || v.ToleranceSeconds > MaxToleranceSeconds:
		return nil, Errorf(EINVALID, "trigger.verify.toleranceSeconds: must be between 1 and %d", MaxToleranceSeconds)
	}
	cfg := &verify.Config{
		Type: v.Type, Secrets: v.secretList(), Header: v.Header,
		Algorithm: v.Algorithm, Encoding: v.Encoding, Prefix: v.Prefix,
		Tolerance: time.Duration(v.ToleranceSeconds) * time.Second,
	}
	verifier, err := verify.New(cfg)
	var ce *verify.ConfigError
	switch {
	case err == nil:
		return verifier, nil
	case !errors.As(err, &ce):
		return nil, Errorf(EINVALID, "trigger.verify: %s", err.Error())
	}
	name := ce.Field
	switch {
	case name == "secrets" && v.Secret == "" && v.Secrets == nil:
		return nil, Errorf(EINVALID, "trigger.verify.secret: required for type %s (or secrets, a list, to rotate)", v.Type)
	case strings.HasPrefix(name, "secrets[") && v.Secret != "":
		name = "secret"
	case name == "tolerance":
		name = "toleranceSeconds"
	}
	return nil, Errorf(EINVALID, "%s%s: %s", field, name, ce.Problem)
}

// ParsePrefix parses an address range as CIDR notation (192.30.252.0/22,
// 2001:db8::/32) or a single address (a /32 or /128). An IPv4 range
// written in IPv6 form (::ffff:10.0.0.0/104) is refused: client addresses
// are compared in their plain form.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	var p netip.Prefix
	var err error
	if strings.Contains(s, "/") {
		p, err = netip.ParsePrefix(s)
	} else {
		var a netip.Addr
		if a, err = netip.ParseAddr(s); err == nil {
			p = netip.PrefixFrom(a, a.BitLen())
		}
	}
	if err != nil || p.Addr().Zone() != "" {
		return netip.Prefix{}, Errorf(EINVALID, "%q is not an address range such as 192.30.252.0/22 or 2001:db8::/32", s)
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, Errorf(EINVALID, "%q: write IPv4 ranges in IPv4 form, such as 10.0.0.0/8", s)
	}
	return p.Masked(), nil
}

// ParsePrefixes parses a list of address ranges (see ParsePrefix); the
// error names the bad entry.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		p, err := ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// containsAddr reports whether a is in one of the ranges.
func containsAddr(ranges []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ranges {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// maxForwardedHops bounds how many X-Forwarded-For entries ClientAddr
// reads: every trusted proxy adds one, and real chains are short.
const maxForwardedHops = 32

// ClientAddr is the one rule for the client address of a request
// (product.md §11): the socket's peer, or, when the peer is one of the
// trusted proxies, the address X-Forwarded-For gives. forwardedFor holds
// the values of every X-Forwarded-For header, in order. The list is walked
// from the right (the entry the nearest proxy added), skipping trusted
// proxies; the first address that is not one is the client. An entry that
// is not an address ends the walk at the last trusted hop, and a list of
// trusted proxies only gives its leftmost entry. X-Forwarded-For from a
// peer that is not trusted is never read: anyone can send one.
func ClientAddr(peer netip.Addr, forwardedFor []string, trusted []netip.Prefix) netip.Addr {
	peer = peer.Unmap()
	if len(trusted) == 0 || !containsAddr(trusted, peer) {
		return peer
	}
	last := peer
	hops := 0
	for i := len(forwardedFor) - 1; i >= 0; i-- {
		list := forwardedFor[i]
		for list != "" {
			entry := list
			if j := strings.LastIndexByte(list, ','); j >= 0 {
				entry, list = list[j+1:], list[:j]
			} else {
				list = ""
			}
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			if hops++; hops > maxForwardedHops {
				return last
			}
			a, ok := parseForwarded(entry)
			if !ok {
				return last
			}
			if !containsAddr(trusted, a) {
				return a
			}
			last = a
		}
	}
	return last
}

// parseForwarded reads one X-Forwarded-For entry: an address, possibly
// with a port (1.2.3.4:80, [2001:db8::1]:80) as some proxies write it.
func parseForwarded(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Zone() == "" {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}
