package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strconv"
	"strings"
	"time"
)

// Header names of the fixed-header types, spelled as the providers document
// them (lookups are case-insensitive; the spelling shows in messages).
const (
	headerGitHub         = "X-Hub-Signature-256"
	headerShopify        = "X-Shopify-Hmac-Sha256"
	headerStripe         = "Stripe-Signature"
	headerSlackSignature = "X-Slack-Signature"
	headerSlackTimestamp = "X-Slack-Request-Timestamp"
)

// maxSignatures bounds the signatures one header may list (Stripe's v1=...,
// Standard Webhooks' v1,...): each costs one comparison per secret.
const maxSignatures = 32

// Reason classifies a failed verification, for metrics and the rejection
// log.
type Reason string

// The reasons a verification fails.
const (
	ReasonMissingHeader Reason = "missing_header" // a required header is absent or empty
	ReasonMalformed     Reason = "malformed"      // a header is there but cannot be read
	ReasonTimestamp     Reason = "timestamp"      // the signed timestamp is outside the tolerance
	ReasonMismatch      Reason = "mismatch"       // no secret produces the signature sent
)

// Error is a failed verification. Message is safe to send back to the caller
// (product.md §11: a 401 naming the cause); it never contains a secret or an
// expected signature.
type Error struct {
	Reason  Reason
	Message string
}

func (e *Error) Error() string { return e.Message }

func errMissing(header string) *Error {
	return &Error{Reason: ReasonMissingHeader, Message: "missing " + header + " header"}
}

func errMalformed(header, detail string) *Error {
	return &Error{Reason: ReasonMalformed, Message: "malformed " + header + " header: " + detail}
}

func errTimestamp() *Error {
	return &Error{Reason: ReasonTimestamp, Message: "timestamp outside the tolerance"}
}

func errMismatch() *Error {
	return &Error{Reason: ReasonMismatch, Message: "signature does not match"}
}

// Headers gives the value of a request header by name, case-insensitively;
// "" when it is absent. http.Header satisfies it. A header sent several
// times should come as its values joined with ", " (as in $context.headers);
// senders send each signature header once.
type Headers interface {
	Get(name string) string
}

// HeaderFunc adapts a lookup function to Headers.
type HeaderFunc func(name string) string

// Get calls f(name).
func (f HeaderFunc) Get(name string) string { return f(name) }

// Verifier checks requests against one Config. It is immutable and safe for
// concurrent use.
type Verifier struct {
	typ       string
	header    string // hmac and token: the configured header
	hash      func() hash.Hash
	size      int    // the digest size of hash
	encoding  string // hmac: hex or base64
	prefix    string // hmac: text before the signature
	tolerance time.Duration
	// keys are the HMAC keys, one per secret (standard: base64-decoded);
	// for token, the SHA-256 of each secret.
	keys [][]byte
}

// Verify checks c against one request. It compiles c on every call; keep the
// Verifier from New when checking many requests with one Config.
func Verify(c *Config, h Headers, body []byte, now time.Time) error {
	v, err := New(c)
	if err != nil {
		return err
	}
	return v.Verify(h, body, now)
}

// Verify checks the signature of one request: h its headers, body the exact
// raw bytes received, now the server's clock. It returns nil or an *Error.
func (v *Verifier) Verify(h Headers, body []byte, now time.Time) error {
	if h == nil {
		h = HeaderFunc(func(string) string { return "" })
	}
	switch v.typ {
	case TypeGitHub:
		return v.verifyGitHub(h, body)
	case TypeShopify:
		return v.verifyShopify(h, body)
	case TypeStripe:
		return v.verifyStripe(h, body, now)
	case TypeSlack:
		return v.verifySlack(h, body, now)
	case TypeStandard:
		return v.verifyStandard(h, body, now)
	case TypeHMAC:
		return v.verifyHMAC(h, body)
	case TypeToken:
		return v.verifyToken(h)
	}
	// Unreachable through New; a zero Verifier accepts nothing.
	return errMismatch()
}

func get(h Headers, name string) string { return strings.Trim(h.Get(name), " \t") }

func (v *Verifier) verifyGitHub(h Headers, body []byte) error {
	val := get(h, headerGitHub)
	if val == "" {
		return errMissing(headerGitHub)
	}
	rest, ok := cutPrefixFold(val, "sha256=")
	if !ok {
		return errMalformed(headerGitHub, "expected sha256=<hex>")
	}
	sig, ok := decodeHex(rest, sha256.Size)
	if !ok {
		return errMalformed(headerGitHub, "expected sha256= and 64 hex digits")
	}
	return v.check("", body, sig)
}

func (v *Verifier) verifyShopify(h Headers, body []byte) error {
	val := get(h, headerShopify)
	if val == "" {
		return errMissing(headerShopify)
	}
	sig, ok := decodeBase64(val, sha256.Size)
	if !ok {
		return errMalformed(headerShopify, "expected the base64 of a SHA-256 HMAC")
	}
	return v.check("", body, sig)
}

func (v *Verifier) verifyStripe(h Headers, body []byte, now time.Time) error {
	val := get(h, headerStripe)
	if val == "" {
		return errMissing(headerStripe)
	}
	var ts string
	var sigs [][]byte
	v1 := 0
	for _, item := range strings.Split(val, ",") {
		item = strings.Trim(item, " \t")
		if item == "" {
			continue
		}
		k, s, ok := strings.Cut(item, "=")
		if !ok {
			return errMalformed(headerStripe, "expected t=<unix>,v1=<hex>")
		}
		switch k {
		case "t":
			if ts != "" {
				return errMalformed(headerStripe, "more than one t=")
			}
			if ts = s; ts == "" {
				return errMalformed(headerStripe, "empty t=")
			}
		case "v1":
			if v1++; v1 > maxSignatures {
				return errMalformed(headerStripe, "more than "+strconv.Itoa(maxSignatures)+" signatures")
			}
			// Like Stripe's libraries, a v1 that is not hex is one
			// that does not match; another v1 may.
			if sig, ok := decodeHex(s, sha256.Size); ok {
				sigs = append(sigs, sig)
			}
		}
		// v0 (test-mode legacy) and unknown schemes are ignored.
	}
	if ts == "" {
		return errMalformed(headerStripe, "no t= timestamp")
	}
	if v1 == 0 {
		return errMalformed(headerStripe, "no v1 signature")
	}
	t, ok := parseUnix(ts)
	if !ok {
		return errMalformed(headerStripe, "t= is not a unix time")
	}
	if !v.fresh(t, now) {
		return errTimestamp()
	}
	return v.check(ts+".", body, sigs...)
}

func (v *Verifier) verifySlack(h Headers, body []byte, now time.Time) error {
	val := get(h, headerSlackSignature)
	if val == "" {
		return errMissing(headerSlackSignature)
	}
	ts := get(h, headerSlackTimestamp)
	if ts == "" {
		return errMissing(headerSlackTimestamp)
	}
	rest, ok := strings.CutPrefix(val, "v0=")
	if !ok {
		return errMalformed(headerSlackSignature, "expected v0=<hex>")
	}
	sig, ok := decodeHex(rest, sha256.Size)
	if !ok {
		return errMalformed(headerSlackSignature, "expected v0= and 64 hex digits")
	}
	t, ok := parseUnix(ts)
	if !ok {
		return errMalformed(headerSlackTimestamp, "not a unix time")
	}
	if !v.fresh(t, now) {
		return errTimestamp()
	}
	return v.check("v0:"+ts+":", body, sig)
}

func (v *Verifier) verifyStandard(h Headers, body []byte, now time.Time) error {
	// The svix- names are the same scheme under the brand that started
	// it; the set the signature comes in is the set read.
	names := [3]string{"webhook-signature", "webhook-id", "webhook-timestamp"}
	val := get(h, names[0])
	if val == "" {
		if s := get(h, "svix-signature"); s != "" {
			val, names = s, [3]string{"svix-signature", "svix-id", "svix-timestamp"}
		} else {
			return errMissing(names[0])
		}
	}
	id := get(h, names[1])
	if id == "" {
		return errMissing(names[1])
	}
	ts := get(h, names[2])
	if ts == "" {
		return errMissing(names[2])
	}
	var sigs [][]byte
	v1 := 0
	for _, entry := range strings.Fields(val) {
		version, s, _ := strings.Cut(entry, ",")
		if version != "v1" {
			continue // v1a (asymmetric) and later versions are not ours to check
		}
		if v1++; v1 > maxSignatures {
			return errMalformed(names[0], "more than "+strconv.Itoa(maxSignatures)+" signatures")
		}
		if sig, ok := decodeBase64(s, sha256.Size); ok {
			sigs = append(sigs, sig)
		}
	}
	if v1 == 0 {
		return errMalformed(names[0], "no v1,<base64> signature")
	}
	t, ok := parseUnix(ts)
	if !ok {
		return errMalformed(names[2], "not a unix time")
	}
	if !v.fresh(t, now) {
		return errTimestamp()
	}
	return v.check(id+"."+ts+".", body, sigs...)
}

func (v *Verifier) verifyHMAC(h Headers, body []byte) error {
	val := get(h, v.header)
	if val == "" {
		return errMissing(v.header)
	}
	rest, ok := cutPrefixFold(val, v.prefix)
	if !ok {
		return errMalformed(v.header, "expected the prefix "+strconv.Quote(v.prefix))
	}
	var sig []byte
	if v.encoding == EncodingBase64 {
		if sig, ok = decodeBase64(rest, v.size); !ok {
			return errMalformed(v.header, "expected the base64 of a "+strconv.Itoa(v.size)+"-byte HMAC")
		}
	} else if sig, ok = decodeHex(rest, v.size); !ok {
		return errMalformed(v.header, "expected "+strconv.Itoa(2*v.size)+" hex digits")
	}
	return v.check("", body, sig)
}

func (v *Verifier) verifyToken(h Headers) error {
	val := get(h, v.header)
	if val == "" {
		return errMissing(v.header)
	}
	// Comparing digests keeps the comparison constant-time in the length
	// of the secret too, which ConstantTimeCompare on the raw strings would
	// reveal.
	sum := sha256.Sum256([]byte(val))
	match := 0
	for _, key := range v.keys {
		match |= subtle.ConstantTimeCompare(sum[:], key)
	}
	if match != 1 {
		return &Error{Reason: ReasonMismatch, Message: "token does not match"}
	}
	return nil
}

// check computes the HMAC of signed || body with every secret and compares
// it with every signature sent. It never stops early, so its time depends on
// the number of secrets and signatures, not on which one matched.
func (v *Verifier) check(signed string, body []byte, sigs ...[]byte) error {
	var buf [64]byte // the largest digest, SHA-512
	match := 0
	for _, key := range v.keys {
		mac := hmac.New(v.hash, key)
		if signed != "" {
			mac.Write([]byte(signed))
		}
		mac.Write(body)
		sum := mac.Sum(buf[:0])
		for _, sig := range sigs {
			match |= subtle.ConstantTimeCompare(sum, sig)
		}
	}
	if match != 1 {
		return errMismatch()
	}
	return nil
}

// fresh reports whether the unix time t is within the tolerance of now, in
// either direction: an old timestamp is a replay, a future one is a
// signature made to be replayed later.
func (v *Verifier) fresh(t int64, now time.Time) bool {
	d := now.Sub(time.Unix(t, 0))
	return -v.tolerance <= d && d <= v.tolerance
}

// parseUnix reads unix seconds written as plain decimal digits: the text is
// part of the signed content, so no sign, space or fraction is accepted.
func parseUnix(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// cutPrefixFold removes prefix from s, ignoring ASCII case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// decodeHex decodes s (either case) when it is exactly size bytes of hex.
func decodeHex(s string, size int) ([]byte, bool) {
	if len(s) != 2*size {
		return nil, false
	}
	b, err := hex.DecodeString(s)
	return b, err == nil
}

// decodeBase64 decodes s when it is exactly size bytes in base64, standard or
// URL alphabet, padded or not: the decoded bytes are what is compared, so
// accepting each spelling costs nothing in safety.
func decodeBase64(s string, size int) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, len(b) == size
		}
	}
	return nil, false
}
