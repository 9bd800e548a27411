// Package verify checks the signature a webhook sender puts on its requests
// (product.md §11), over the exact raw bytes received, before anything is
// parsed or stored.
//
// A Config names the scheme (github, shopify, stripe, slack, standard, hmac,
// token) and its secrets; New checks it once and returns a Verifier, whose
// Verify is safe for concurrent use. Every comparison is constant-time, and
// with several secrets (rotation) every secret is tried, so that the time
// taken does not tell which one matched.
//
// The package is a leaf: it imports only the standard library.
package verify

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// The verification types of product.md §11 (Config.Type).
const (
	TypeGitHub   = "github"
	TypeShopify  = "shopify"
	TypeStripe   = "stripe"
	TypeSlack    = "slack"
	TypeStandard = "standard"
	TypeHMAC     = "hmac"
	TypeToken    = "token"
)

// Algorithms and encodings of the hmac type.
const (
	AlgorithmSHA1   = "sha1"
	AlgorithmSHA256 = "sha256"
	AlgorithmSHA512 = "sha512"
	EncodingHex     = "hex"
	EncodingBase64  = "base64"
)

// DefaultTolerance is how far a signed timestamp may be from the server's
// clock, in either direction, when Config.Tolerance is zero.
const DefaultTolerance = 300 * time.Second

// MaxSecrets bounds Config.Secrets: each secret costs one HMAC over the whole
// body on every request, and rotation needs two or three.
const MaxSecrets = 10

const (
	maxHeaderName = 128
	maxPrefix     = 64
)

var typeNames = []string{TypeGitHub, TypeShopify, TypeStripe, TypeSlack, TypeStandard, TypeHMAC, TypeToken}

// Config is the trigger's verify setting (product.md §11).
type Config struct {
	// Type is one of the Type constants.
	Type string
	// Secrets holds one or more secrets; a signature made with any of them is
	// accepted. For type standard each is "whsec_" followed by base64 (the
	// prefix may be left out, as the Standard Webhooks libraries allow); for
	// every other type the secret is used as written.
	Secrets []string
	// Header is the header carrying the signature (hmac) or the token
	// (token); required for those two types and refused for the others,
	// whose header names are fixed.
	Header string
	// Algorithm is sha1, sha256 (the default) or sha512; hmac only.
	Algorithm string
	// Encoding is hex (the default) or base64; hmac only.
	Encoding string
	// Prefix is text before the encoded signature in the header, such as
	// "sha256="; matched case-insensitively; hmac only.
	Prefix string
	// Tolerance is how far the signed timestamp may be from the server's
	// clock (zero: DefaultTolerance); stripe, slack and standard only.
	Tolerance time.Duration
}

// ConfigError is a problem with one field of a Config. Its message names the
// field and never contains a secret.
type ConfigError struct {
	Field   string // "type", "secrets[1]", "header", ...
	Problem string
}

func (e *ConfigError) Error() string { return e.Field + ": " + e.Problem }

func configErr(field, format string, args ...any) *ConfigError {
	return &ConfigError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// Validate reports the first problem of c as a *ConfigError, or nil.
func (c *Config) Validate() error {
	_, err := New(c)
	return err
}

// timestamped reports whether the type signs a timestamp.
func timestamped(typ string) bool {
	return typ == TypeStripe || typ == TypeSlack || typ == TypeStandard
}

// New checks c and prepares a Verifier: secrets decoded, hash chosen. The
// Verifier keeps its own copy of what it needs; c may change afterwards.
func New(c *Config) (*Verifier, error) {
	if c == nil {
		return nil, configErr("type", "required")
	}
	v := &Verifier{typ: c.Type, hash: sha256.New, size: sha256.Size, encoding: EncodingHex}
	switch c.Type {
	case "":
		return nil, configErr("type", "required (one of %s)", strings.Join(typeNames, ", "))
	case TypeGitHub, TypeShopify, TypeStripe, TypeSlack, TypeStandard, TypeHMAC, TypeToken:
	default:
		return nil, configErr("type", "unknown type %q (known: %s)", c.Type, strings.Join(typeNames, ", "))
	}

	if c.Type == TypeHMAC || c.Type == TypeToken {
		if c.Header == "" {
			return nil, configErr("header", "required for type %s", c.Type)
		}
		if !validHeaderName(c.Header) {
			return nil, configErr("header", "%q is not a valid header name", c.Header)
		}
		v.header = c.Header
	} else if c.Header != "" {
		return nil, configErr("header", "only for types hmac and token (type %s has a fixed header)", c.Type)
	}

	if c.Type == TypeHMAC {
		switch strings.ToLower(c.Algorithm) {
		case "", AlgorithmSHA256:
		case AlgorithmSHA1:
			v.hash, v.size = sha1.New, sha1.Size
		case AlgorithmSHA512:
			v.hash, v.size = sha512.New, sha512.Size
		default:
			return nil, configErr("algorithm", "unknown algorithm %q (known: sha1, sha256, sha512)", c.Algorithm)
		}
		switch strings.ToLower(c.Encoding) {
		case "", EncodingHex:
		case EncodingBase64:
			v.encoding = EncodingBase64
		default:
			return nil, configErr("encoding", "unknown encoding %q (known: hex, base64)", c.Encoding)
		}
		if len(c.Prefix) > maxPrefix {
			return nil, configErr("prefix", "longer than %d characters", maxPrefix)
		}
		if !validHeaderValue(c.Prefix) {
			return nil, configErr("prefix", "contains characters a header value cannot carry")
		}
		v.prefix = c.Prefix
	} else {
		for _, f := range []struct{ name, value string }{{"algorithm", c.Algorithm}, {"encoding", c.Encoding}, {"prefix", c.Prefix}} {
			if f.value != "" {
				return nil, configErr(f.name, "only for type hmac")
			}
		}
	}

	switch {
	case c.Tolerance < 0:
		return nil, configErr("tolerance", "must not be negative")
	case c.Tolerance > 0 && !timestamped(c.Type):
		// Refused rather than ignored: the user believes replays are
		// bounded, and this type signs no timestamp that could bound them.
		return nil, configErr("tolerance", "type %s signs no timestamp (only stripe, slack and standard do)", c.Type)
	case c.Tolerance > 0:
		v.tolerance = c.Tolerance
	default:
		v.tolerance = DefaultTolerance
	}

	if len(c.Secrets) == 0 {
		return nil, configErr("secrets", "at least one secret is required")
	}
	if len(c.Secrets) > MaxSecrets {
		return nil, configErr("secrets", "at most %d secrets", MaxSecrets)
	}
	for i, s := range c.Secrets {
		field := fmt.Sprintf("secrets[%d]", i)
		if s == "" {
			return nil, configErr(field, "empty")
		}
		switch c.Type {
		case TypeStandard:
			key, ok := standardKey(s)
			if !ok {
				return nil, configErr(field, "not a Standard Webhooks secret (whsec_ followed by base64)")
			}
			v.keys = append(v.keys, key)
		case TypeToken:
			if strings.TrimSpace(s) != s {
				return nil, configErr(field, "starts or ends with white space, which HTTP strips from header values")
			}
			if !validHeaderValue(s) {
				return nil, configErr(field, "contains characters a header value cannot carry")
			}
			sum := sha256.Sum256([]byte(s))
			v.keys = append(v.keys, sum[:])
		default:
			v.keys = append(v.keys, []byte(s))
		}
	}
	return v, nil
}

// standardKey decodes a Standard Webhooks secret: base64 after an optional
// "whsec_" prefix.
func standardKey(s string) ([]byte, bool) {
	s = strings.TrimPrefix(s, "whsec_")
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(key) == 0 {
		return nil, false
	}
	return key, true
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" || len(s) > maxHeaderName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue reports whether s can be sent in a header value: visible
// characters, spaces and tabs, no control characters.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
