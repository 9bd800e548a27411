package verify

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// headers is a case-insensitive header set for tests.
type headers map[string]string

func (h headers) Get(name string) string { return h[strings.ToLower(name)] }

func hdr(kv ...string) headers {
	h := headers{}
	for i := 0; i+1 < len(kv); i += 2 {
		h[strings.ToLower(kv[i])] = kv[i+1]
	}
	return h
}

func (h headers) with(kv ...string) headers {
	c := headers{}
	for k, v := range h {
		c[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(c, strings.ToLower(kv[i]))
		} else {
			c[strings.ToLower(kv[i])] = kv[i+1]
		}
	}
	return c
}

func mac(h func() hash.Hash, key []byte, parts ...string) []byte {
	m := hmac.New(h, key)
	for _, p := range parts {
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

func hexMAC(key string, parts ...string) string {
	return hex.EncodeToString(mac(sha256.New, []byte(key), parts...))
}

func b64MAC(key []byte, parts ...string) string {
	return base64.StdEncoding.EncodeToString(mac(sha256.New, key, parts...))
}

func mustNew(t testing.TB, c Config) *Verifier {
	t.Helper()
	v, err := New(&c)
	if err != nil {
		t.Fatalf("New(%+v): %v", c, err)
	}
	return v
}

// wantErr checks that err is an *Error with the reason and message given; an
// empty message means "nil error".
func wantErr(t *testing.T, err error, reason Reason, msg string) {
	t.Helper()
	if msg == "" {
		if err != nil {
			t.Fatalf("Verify = %v, want nil", err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Verify = %v (%T), want *Error %q", err, err, msg)
	}
	if e.Reason != reason || e.Message != msg {
		t.Fatalf("Verify = {%s %q}, want {%s %q}", e.Reason, e.Message, reason, msg)
	}
}

var (
	// Unix time of the signed samples below; tests pass it as now.
	t2021 = time.Unix(1614265330, 0)
)

// TestProviderVectors checks each type against a signature published by the
// provider or by the scheme's reference libraries, not computed here.
func TestProviderVectors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
		h    headers
		body string
		now  time.Time
	}{
		{
			// docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries,
			// "Testing the webhook payload validation".
			name: "github docs",
			cfg:  Config{Type: TypeGitHub, Secrets: []string{"It's a Secret to Everybody"}},
			h:    hdr("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
			body: "Hello, World!",
		},
		{
			// The same GitHub vector through the generic type.
			name: "hmac as github",
			cfg:  Config{Type: TypeHMAC, Secrets: []string{"It's a Secret to Everybody"}, Header: "X-Hub-Signature-256", Prefix: "sha256="},
			h:    hdr("x-hub-signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
			body: "Hello, World!",
		},
		{
			// github.com/standard-webhooks/standard-webhooks
			// libraries/go/webhook_test.go TestWebhookSign (the same vector is in
			// libraries/python/tests/test_webhooks.py test_sign_function and
			// libraries/javascript/src/webhook.test.ts "sign function works").
			name: "standard webhooks sign vector",
			cfg:  Config{Type: TypeStandard, Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
			h: hdr("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp", "1614265330",
				"webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
			body: `{"test": 2432232314}`,
			now:  t2021,
		},
		{
			// Same vector; the libraries accept the secret without its
			// whsec_ prefix ("verification works with and without
			// signature prefix" in libraries/javascript/src/webhook.test.ts).
			name: "standard webhooks secret without prefix",
			cfg:  Config{Type: TypeStandard, Secrets: []string{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
			h: hdr("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp", "1614265330",
				"webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
			body: `{"test": 2432232314}`,
			now:  t2021,
		},
		{
			// The multi-signature list of the libraries' "valid multi sig is
			// valid" tests (libraries/go/webhook_test.go): two bogus v1, one
			// v2, and the valid signature.
			name: "standard webhooks multi signature",
			cfg:  Config{Type: TypeStandard, Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
			h: hdr("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp", "1614265330",
				"webhook-signature", "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= "+
					"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="),
			body: `{"test": 2432232314}`,
			now:  t2021,
		},
		{
			// Svix sends the same scheme under svix- header names.
			name: "standard webhooks as svix",
			cfg:  Config{Type: TypeStandard, Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
			h: hdr("Svix-Id", "msg_p5jXN8AQM9LWM0D4loKWxJek", "Svix-Timestamp", "1614265330",
				"Svix-Signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
			body: `{"test": 2432232314}`,
			now:  t2021,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := tc.now
			if now.IsZero() {
				now = time.Now()
			}
			if err := mustNew(t, tc.cfg).Verify(tc.h, []byte(tc.body), now); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			// The package-level Verify, which compiles each time, agrees.
			if err := Verify(&tc.cfg, tc.h, []byte(tc.body), now); err != nil {
				t.Fatalf("Verify (package): %v", err)
			}
			// And one byte changed in the body breaks it.
			changed := []byte(tc.body)
			changed[len(changed)-1] ^= 1
			wantErr(t, mustNew(t, tc.cfg).Verify(tc.h, changed, now), ReasonMismatch, "signature does not match")
		})
	}
}

// sampleMeta is the part of a sample's meta.json the tests read.
type sampleMeta struct {
	Headers  map[string]string `json:"headers"`
	BodyFile string            `json:"bodyFile"`
	Signing  struct {
		Secret    string `json:"secret"`
		Timestamp int64  `json:"timestamp"`
	} `json:"signing"`
}

func loadSample(t *testing.T, name string) (sampleMeta, headers, []byte) {
	t.Helper()
	dir := filepath.Join("..", "testdata", "samples", name)
	raw, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m sampleMeta
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(filepath.Join(dir, m.BodyFile))
	if err != nil {
		t.Fatal(err)
	}
	h := headers{}
	for k, v := range m.Headers {
		h[strings.ToLower(k)] = v
	}
	return m, h, body
}

// TestSamples verifies the signed requests in engine/testdata/samples (copies
// of /work/shared/samples) with the secrets their meta.json states. The Slack
// slash command and the Standard Webhooks sample carry the providers' own
// published vectors; Shopify's is the one asserted in laravel-shopify's
// tests; the others were signed by the samples' authors over these bytes.
func TestSamples(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sample string
		cfg    Config
	}{
		{"github-push", Config{Type: TypeGitHub}},
		{"github-push", Config{Type: TypeHMAC, Header: "X-Hub-Signature", Algorithm: "sha1", Prefix: "sha1="}},
		{"shopify-orders-create", Config{Type: TypeShopify}},
		{"shopify-orders-create", Config{Type: TypeHMAC, Header: "X-Shopify-Hmac-Sha256", Encoding: "base64"}},
		{"stripe-checkout-session-completed", Config{Type: TypeStripe}},
		{"slack-slash-command", Config{Type: TypeSlack}},
		{"slack-url-verification", Config{Type: TypeSlack}},
		{"standard-webhooks", Config{Type: TypeStandard}},
		{"gitlab-push", Config{Type: TypeToken, Header: "X-Gitlab-Token"}},
	} {
		t.Run(tc.sample+"/"+tc.cfg.Type, func(t *testing.T) {
			t.Parallel()
			m, h, body := loadSample(t, tc.sample)
			cfg := tc.cfg
			cfg.Secrets = []string{m.Signing.Secret}
			now := time.Unix(m.Signing.Timestamp, 0)
			if ts, err := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64); err == nil {
				now = time.Unix(ts, 0)
			}
			v := mustNew(t, cfg)
			if err := v.Verify(h, body, now); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			// Rotation: the sample's secret second, behind a new one.
			cfg.Secrets = []string{rotatedSecret(cfg.Type), m.Signing.Secret}
			if err := mustNew(t, cfg).Verify(h, body, now); err != nil {
				t.Fatalf("Verify with the secret second: %v", err)
			}
			if cfg.Type == TypeToken {
				return
			}
			// One byte more (a trailing newline added by a proxy) breaks it.
			wantErr(t, v.Verify(h, append(body[:len(body):len(body)], '\n'), now), ReasonMismatch, "signature does not match")
			if timestamped(cfg.Type) {
				// The samples are years old: with the real clock, a replay.
				wantErr(t, v.Verify(h, body, time.Now()), ReasonTimestamp, "timestamp outside the tolerance")
			}
		})
	}
}

func rotatedSecret(typ string) string {
	if typ == TypeStandard {
		return "whsec_" + base64.StdEncoding.EncodeToString([]byte("a newer secret, 32 bytes long..."))
	}
	return "a-newer-secret"
}

// TestFailures covers each type's refusals with their exact messages.
func TestFailures(t *testing.T) {
	t.Parallel()
	body := `{"id":"evt_1","amount":1999}`
	now := time.Unix(1700000000, 0)
	ts := "1700000000"
	const secret, other = "s3cr3t-value", "not-the-secret"

	stdKey := []byte("0123456789abcdef0123456789abcdef")
	stdSecret := "whsec_" + base64.StdEncoding.EncodeToString(stdKey)
	stdOther := "whsec_" + base64.StdEncoding.EncodeToString([]byte("another key of thirty-two bytes!"))

	github := hdr("X-Hub-Signature-256", "sha256="+hexMAC(secret, body))
	shopify := hdr("X-Shopify-Hmac-Sha256", b64MAC([]byte(secret), body))
	stripe := hdr("Stripe-Signature", "t="+ts+",v1="+hexMAC(secret, ts, ".", body))
	slack := hdr("X-Slack-Signature", "v0="+hexMAC(secret, "v0:", ts, ":", body), "X-Slack-Request-Timestamp", ts)
	standard := hdr("webhook-id", "msg_1", "webhook-timestamp", ts, "webhook-signature", "v1,"+b64MAC(stdKey, "msg_1.", ts, ".", body))
	sha512sig := hex.EncodeToString(mac(sha512.New, []byte(secret), body))
	sha1sig := base64.StdEncoding.EncodeToString(mac(sha1.New, []byte(secret), body))

	cfgs := map[string]Config{
		"github":   {Type: TypeGitHub, Secrets: []string{secret}},
		"shopify":  {Type: TypeShopify, Secrets: []string{secret}},
		"stripe":   {Type: TypeStripe, Secrets: []string{secret}},
		"slack":    {Type: TypeSlack, Secrets: []string{secret}},
		"standard": {Type: TypeStandard, Secrets: []string{stdSecret}},
		"hmac512":  {Type: TypeHMAC, Secrets: []string{secret}, Header: "X-Signature", Algorithm: "sha512", Prefix: "sha512="},
		"hmac1b64": {Type: TypeHMAC, Secrets: []string{secret}, Header: "X-Signature", Algorithm: "SHA1", Encoding: "base64"},
		"token":    {Type: TypeToken, Secrets: []string{secret}, Header: "X-Gitlab-Token"},
		"rotation": {Type: TypeGitHub, Secrets: []string{other, secret}},
		"rotated":  {Type: TypeGitHub, Secrets: []string{secret, other}},
		"wrong":    {Type: TypeGitHub, Secrets: []string{other}},
		"stripe10": {Type: TypeStripe, Secrets: []string{secret}, Tolerance: 10 * time.Second},
		"stdwrong": {Type: TypeStandard, Secrets: []string{stdOther}},
		"stdrot":   {Type: TypeStandard, Secrets: []string{stdOther, stdSecret}},
	}
	const (
		ok       = ""
		mismatch = "signature does not match"
		stale    = "timestamp outside the tolerance"
	)
	for _, tc := range []struct {
		name, cfg string
		h         headers
		body      string
		now       time.Time
		reason    Reason
		msg       string
	}{
		{"github ok", "github", github, body, now, "", ok},
		{"github uppercase hex and prefix", "github", hdr("X-Hub-Signature-256", "SHA256="+strings.ToUpper(hexMAC(secret, body))), body, now, "", ok},
		{"github surrounding space", "github", hdr("X-Hub-Signature-256", " sha256="+hexMAC(secret, body)+"\t"), body, now, "", ok},
		{"github missing", "github", hdr("X-Hub-Signature", "sha1=00"), body, now, ReasonMissingHeader, "missing X-Hub-Signature-256 header"},
		{"github empty", "github", hdr("X-Hub-Signature-256", "  "), body, now, ReasonMissingHeader, "missing X-Hub-Signature-256 header"},
		{"github no prefix", "github", hdr("X-Hub-Signature-256", hexMAC(secret, body)), body, now, ReasonMalformed, "malformed X-Hub-Signature-256 header: expected sha256=<hex>"},
		{"github short hex", "github", hdr("X-Hub-Signature-256", "sha256=abcd"), body, now, ReasonMalformed, "malformed X-Hub-Signature-256 header: expected sha256= and 64 hex digits"},
		{"github not hex", "github", hdr("X-Hub-Signature-256", "sha256="+strings.Repeat("zz", 32)), body, now, ReasonMalformed, "malformed X-Hub-Signature-256 header: expected sha256= and 64 hex digits"},
		{"github body changed", "github", github, body[:len(body)-1] + "0}", now, ReasonMismatch, mismatch},
		{"github empty body", "github", github, "", now, ReasonMismatch, mismatch},
		{"wrong secret", "wrong", github, body, now, ReasonMismatch, mismatch},
		{"rotation second secret", "rotation", github, body, now, "", ok},
		{"rotation first secret", "rotated", github, body, now, "", ok},

		{"shopify ok", "shopify", shopify, body, now, "", ok},
		{"shopify missing", "shopify", hdr(), body, now, ReasonMissingHeader, "missing X-Shopify-Hmac-Sha256 header"},
		{"shopify hex instead of base64", "shopify", hdr("X-Shopify-Hmac-Sha256", hexMAC(secret, body)), body, now, ReasonMalformed, "malformed X-Shopify-Hmac-Sha256 header: expected the base64 of a SHA-256 HMAC"},
		{"shopify body changed", "shopify", shopify, body + " ", now, ReasonMismatch, mismatch},

		{"stripe ok", "stripe", stripe, body, now, "", ok},
		{"stripe several v1, v0 and unknown schemes", "stripe", hdr("Stripe-Signature",
			"t="+ts+",v1="+strings.Repeat("0", 64)+",v0="+hexMAC("x", body)+",v1=nothex,v9=1,v1="+hexMAC(secret, ts, ".", body)), body, now, "", ok},
		{"stripe space after comma", "stripe", hdr("Stripe-Signature", "t="+ts+", v1="+hexMAC(secret, ts, ".", body)), body, now, "", ok},
		{"stripe at the tolerance", "stripe", stripe, body, now.Add(300 * time.Second), "", ok},
		{"stripe replayed", "stripe", stripe, body, now.Add(301 * time.Second), ReasonTimestamp, stale},
		{"stripe from the future", "stripe", stripe, body, now.Add(-301 * time.Second), ReasonTimestamp, stale},
		{"stripe own tolerance", "stripe10", stripe, body, now.Add(11 * time.Second), ReasonTimestamp, stale},
		{"stripe timestamp not signed", "stripe", hdr("Stripe-Signature", "t=1700000001,v1="+hexMAC(secret, ts, ".", body)), body, now, ReasonMismatch, mismatch},
		{"stripe signed without timestamp", "stripe", hdr("Stripe-Signature", "t="+ts+",v1="+hexMAC(secret, body)), body, now, ReasonMismatch, mismatch},
		{"stripe missing", "stripe", hdr("X-Stripe-Signature", "x"), body, now, ReasonMissingHeader, "missing Stripe-Signature header"},
		{"stripe no t", "stripe", hdr("Stripe-Signature", "v1="+hexMAC(secret, body)), body, now, ReasonMalformed, "malformed Stripe-Signature header: no t= timestamp"},
		{"stripe two t", "stripe", hdr("Stripe-Signature", "t=1,t=2,v1=00"), body, now, ReasonMalformed, "malformed Stripe-Signature header: more than one t="},
		{"stripe no v1", "stripe", hdr("Stripe-Signature", "t="+ts+",v0="+hexMAC(secret, ts, ".", body)), body, now, ReasonMalformed, "malformed Stripe-Signature header: no v1 signature"},
		{"stripe not key=value", "stripe", hdr("Stripe-Signature", "garbage"), body, now, ReasonMalformed, "malformed Stripe-Signature header: expected t=<unix>,v1=<hex>"},
		{"stripe t not a number", "stripe", hdr("Stripe-Signature", "t=-5,v1=00"), body, now, ReasonMalformed, "malformed Stripe-Signature header: t= is not a unix time"},
		{"stripe only bad v1", "stripe", hdr("Stripe-Signature", "t="+ts+",v1=xyz"), body, now, ReasonMismatch, mismatch},
		{"stripe too many v1", "stripe", hdr("Stripe-Signature", "t="+ts+strings.Repeat(",v1=00", 33)), body, now, ReasonMalformed, "malformed Stripe-Signature header: more than 32 signatures"},

		{"slack ok", "slack", slack, body, now, "", ok},
		{"slack missing signature", "slack", slack.with("X-Slack-Signature", ""), body, now, ReasonMissingHeader, "missing X-Slack-Signature header"},
		{"slack missing timestamp", "slack", slack.with("X-Slack-Request-Timestamp", ""), body, now, ReasonMissingHeader, "missing X-Slack-Request-Timestamp header"},
		{"slack bad timestamp", "slack", slack.with("X-Slack-Request-Timestamp", "17e8"), body, now, ReasonMalformed, "malformed X-Slack-Request-Timestamp header: not a unix time"},
		{"slack wrong version", "slack", slack.with("X-Slack-Signature", "v1="+hexMAC(secret, body)), body, now, ReasonMalformed, "malformed X-Slack-Signature header: expected v0=<hex>"},
		{"slack replayed", "slack", slack, body, now.Add(time.Hour), ReasonTimestamp, stale},
		{"slack future", "slack", slack, body, now.Add(-time.Hour), ReasonTimestamp, stale},
		{"slack timestamp swapped", "slack", slack.with("X-Slack-Request-Timestamp", "1700000001"), body, now, ReasonMismatch, mismatch},

		{"standard ok", "standard", standard, body, now, "", ok},
		{"standard rotation", "stdrot", standard, body, now, "", ok},
		{"standard wrong secret", "stdwrong", standard, body, now, ReasonMismatch, mismatch},
		{"standard missing signature", "standard", standard.with("webhook-signature", ""), body, now, ReasonMissingHeader, "missing webhook-signature header"},
		{"standard missing id", "standard", standard.with("webhook-id", ""), body, now, ReasonMissingHeader, "missing webhook-id header"},
		{"standard missing timestamp", "standard", standard.with("webhook-timestamp", ""), body, now, ReasonMissingHeader, "missing webhook-timestamp header"},
		{"standard svix missing id", "standard", hdr("svix-signature", "v1,AAAA", "webhook-id", "msg_1"), body, now, ReasonMissingHeader, "missing svix-id header"},
		{"standard bad timestamp", "standard", standard.with("webhook-timestamp", "hello"), body, now, ReasonMalformed, "malformed webhook-timestamp header: not a unix time"},
		{"standard only v1a", "standard", standard.with("webhook-signature", "v1a,"+b64MAC(stdKey, "x")), body, now, ReasonMalformed, "malformed webhook-signature header: no v1,<base64> signature"},
		// libraries/python/tests/test_webhooks.py test_invalid_signature_raises_error:
		// the sign vector with its last base64 digit changed.
		{"standard invalid signature", "standard", standard.with("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="), body, now, ReasonMismatch, mismatch},
		// libraries/javascript/src/webhook.test.ts "partial signature throws error".
		{"standard partial signature", "standard", standard.with("webhook-signature", "v1,"), body, now, ReasonMismatch, mismatch},
		{"standard replayed", "standard", standard, body, now.Add(5*time.Minute + time.Second), ReasonTimestamp, stale},
		{"standard future", "standard", standard, body, now.Add(-5*time.Minute - time.Second), ReasonTimestamp, stale},
		{"standard id not signed", "standard", standard.with("webhook-id", "msg_2"), body, now, ReasonMismatch, mismatch},

		{"hmac sha512 hex", "hmac512", hdr("X-Signature", "sha512="+sha512sig), body, now, "", ok},
		{"hmac sha512 wrong prefix", "hmac512", hdr("X-Signature", "sha256="+sha512sig), body, now, ReasonMalformed, `malformed X-Signature header: expected the prefix "sha512="`},
		{"hmac sha512 sha256 length", "hmac512", hdr("X-Signature", "sha512="+hexMAC(secret, body)), body, now, ReasonMalformed, "malformed X-Signature header: expected 128 hex digits"},
		{"hmac sha1 base64", "hmac1b64", hdr("x-signature", sha1sig), body, now, "", ok},
		{"hmac sha1 base64 unpadded", "hmac1b64", hdr("x-signature", strings.TrimRight(sha1sig, "=")), body, now, "", ok},
		{"hmac sha1 base64 changed body", "hmac1b64", hdr("x-signature", sha1sig), "{}", now, ReasonMismatch, mismatch},
		{"hmac sha1 not base64", "hmac1b64", hdr("x-signature", "!!!"), body, now, ReasonMalformed, "malformed X-Signature header: expected the base64 of a 20-byte HMAC"},
		{"hmac missing", "hmac1b64", hdr(), body, now, ReasonMissingHeader, "missing X-Signature header"},

		{"token ok", "token", hdr("X-Gitlab-Token", secret), "anything", now, "", ok},
		{"token wrong", "token", hdr("X-Gitlab-Token", other), body, now, ReasonMismatch, "token does not match"},
		{"token prefix of secret", "token", hdr("X-Gitlab-Token", secret[:4]), body, now, ReasonMismatch, "token does not match"},
		{"token missing", "token", hdr(), body, now, ReasonMissingHeader, "missing X-Gitlab-Token header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := mustNew(t, cfgs[tc.cfg]).Verify(tc.h, []byte(tc.body), tc.now)
			wantErr(t, err, tc.reason, tc.msg)
			if err != nil {
				// Neither a secret nor the signature we expected may leak.
				for _, s := range append(cfgs[tc.cfg].Secrets, hexMAC(secret, body), hexMAC(secret, ts, ".", body), b64MAC(stdKey, "msg_1.", ts, ".", body)) {
					if strings.Contains(err.Error(), s) {
						t.Fatalf("message %q leaks %q", err, s)
					}
				}
			}
		})
	}
}

func TestNilHeaders(t *testing.T) {
	t.Parallel()
	v := mustNew(t, Config{Type: TypeGitHub, Secrets: []string{"x"}})
	wantErr(t, v.Verify(nil, []byte("{}"), time.Now()), ReasonMissingHeader, "missing X-Hub-Signature-256 header")
	// HeaderFunc adapts a lookup function.
	h := HeaderFunc(func(name string) string {
		if strings.EqualFold(name, "x-hub-signature-256") {
			return "sha256=" + hexMAC("x", "{}")
		}
		return ""
	})
	if err := v.Verify(h, []byte("{}"), time.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	std := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Type: TypeGitHub, Secrets: []string{"s"}}, ""},
		{Config{Type: TypeStripe, Secrets: []string{"whsec_a", "whsec_b"}, Tolerance: time.Minute}, ""},
		{Config{Type: TypeStandard, Secrets: []string{std, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}, ""},
		{Config{Type: TypeHMAC, Secrets: []string{"s"}, Header: "X-Sig", Algorithm: "sha512", Encoding: "BASE64", Prefix: "v1="}, ""},
		{Config{Type: TypeToken, Secrets: []string{"tok en"}, Header: "X-Gitlab-Token"}, ""},
		{Config{}, "type: required (one of github, shopify, stripe, slack, standard, hmac, token)"},
		{Config{Type: "GitHub", Secrets: []string{"s"}}, `type: unknown type "GitHub" (known: github, shopify, stripe, slack, standard, hmac, token)`},
		{Config{Type: TypeGitHub}, "secrets: at least one secret is required"},
		{Config{Type: TypeGitHub, Secrets: make([]string, 11)}, "secrets: at most 10 secrets"},
		{Config{Type: TypeGitHub, Secrets: []string{"a", ""}}, "secrets[1]: empty"},
		{Config{Type: TypeStandard, Secrets: []string{"whsec_not base64!"}}, "secrets[0]: not a Standard Webhooks secret (whsec_ followed by base64)"},
		{Config{Type: TypeStandard, Secrets: []string{"whsec_"}}, "secrets[0]: not a Standard Webhooks secret (whsec_ followed by base64)"},
		{Config{Type: TypeToken, Secrets: []string{"tok "}, Header: "X-T"}, "secrets[0]: starts or ends with white space, which HTTP strips from header values"},
		{Config{Type: TypeToken, Secrets: []string{"a\nb"}, Header: "X-T"}, "secrets[0]: contains characters a header value cannot carry"},
		{Config{Type: TypeHMAC, Secrets: []string{"s"}}, "header: required for type hmac"},
		{Config{Type: TypeToken, Secrets: []string{"s"}}, "header: required for type token"},
		{Config{Type: TypeHMAC, Secrets: []string{"s"}, Header: "X Sig"}, `header: "X Sig" is not a valid header name`},
		{Config{Type: TypeGitHub, Secrets: []string{"s"}, Header: "X-Hub-Signature"}, "header: only for types hmac and token (type github has a fixed header)"},
		{Config{Type: TypeHMAC, Secrets: []string{"s"}, Header: "X", Algorithm: "md5"}, `algorithm: unknown algorithm "md5" (known: sha1, sha256, sha512)`},
		{Config{Type: TypeHMAC, Secrets: []string{"s"}, Header: "X", Encoding: "base32"}, `encoding: unknown encoding "base32" (known: hex, base64)`},
		{Config{Type: TypeHMAC, Secrets: []string{"s"}, Header: "X", Prefix: "a\r\n"}, "prefix: contains characters a header value cannot carry"},
		{Config{Type: TypeHMAC, Secrets: []string{"s"}, Header: "X", Prefix: strings.Repeat("p", 65)}, "prefix: longer than 64 characters"},
		{Config{Type: TypeShopify, Secrets: []string{"s"}, Algorithm: "sha256"}, "algorithm: only for type hmac"},
		{Config{Type: TypeSlack, Secrets: []string{"s"}, Prefix: "v0="}, "prefix: only for type hmac"},
		{Config{Type: TypeToken, Secrets: []string{"s"}, Header: "X", Encoding: "hex"}, "encoding: only for type hmac"},
		{Config{Type: TypeStripe, Secrets: []string{"s"}, Tolerance: -time.Second}, "tolerance: must not be negative"},
		{Config{Type: TypeGitHub, Secrets: []string{"s"}, Tolerance: time.Minute}, "tolerance: type github signs no timestamp (only stripe, slack and standard do)"},
	} {
		err := tc.cfg.Validate()
		if tc.want == "" {
			if err != nil {
				t.Errorf("Validate(%+v) = %v, want nil", tc.cfg, err)
			}
			continue
		}
		var ce *ConfigError
		if !errors.As(err, &ce) || err.Error() != tc.want {
			t.Errorf("Validate(%+v) = %v (%T), want %q", tc.cfg, err, err, tc.want)
		}
		if _, err := New(&tc.cfg); err == nil {
			t.Errorf("New(%+v) accepted what Validate refused", tc.cfg)
		}
	}
	if err := (*Config)(nil).Validate(); err == nil {
		t.Error("nil Config validated")
	}
}

// TestVerifierKeepsItsConfig: a Verifier does not see later changes to the
// Config it was made from (the lead caches Verifiers per revision).
func TestVerifierKeepsItsConfig(t *testing.T) {
	t.Parallel()
	c := &Config{Type: TypeGitHub, Secrets: []string{"one"}}
	v, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	c.Secrets[0] = "two"
	h := hdr("X-Hub-Signature-256", "sha256="+hexMAC("one", "{}"))
	if err := v.Verify(h, []byte("{}"), time.Now()); err != nil {
		t.Fatal(err)
	}
}

// TestTimestampBoundaries pins the tolerance to whole seconds on both sides:
// exactly Tolerance away passes, one second more fails.
func TestTimestampBoundaries(t *testing.T) {
	t.Parallel()
	key := []byte("0123456789abcdef0123456789abcdef")
	v := mustNew(t, Config{Type: TypeStandard, Secrets: []string{"whsec_" + base64.StdEncoding.EncodeToString(key)}, Tolerance: time.Minute})
	ts := int64(1700000000)
	s := strconv.FormatInt(ts, 10)
	h := hdr("webhook-id", "m", "webhook-timestamp", s, "webhook-signature", "v1,"+b64MAC(key, "m.", s, ".", "x"))
	for _, tc := range []struct {
		offset time.Duration
		ok     bool
	}{
		{0, true}, {time.Minute, true}, {-time.Minute, true},
		{time.Minute + time.Second, false}, {-time.Minute - time.Second, false},
		{time.Minute + time.Nanosecond, false},
		{100 * 365 * 24 * time.Hour, false},
	} {
		err := v.Verify(h, []byte("x"), time.Unix(ts, 0).Add(tc.offset))
		if (err == nil) != tc.ok {
			t.Errorf("offset %v: Verify = %v, want ok=%v", tc.offset, err, tc.ok)
		}
	}
	// A timestamp far beyond the clock's range is a timestamp error, not
	// an overflow that lands inside the window.
	h = h.with("webhook-timestamp", "999999999999999999")
	wantErr(t, v.Verify(h, []byte("x"), time.Unix(ts, 0)), ReasonTimestamp, "timestamp outside the tolerance")
	h = h.with("webhook-timestamp", "9999999999999999999")
	wantErr(t, v.Verify(h, []byte("x"), time.Unix(ts, 0)), ReasonMalformed, "malformed webhook-timestamp header: not a unix time")
}

func BenchmarkVerifyGitHub(b *testing.B) {
	body := []byte(strings.Repeat(`{"ref":"refs/heads/main","n":12345},`, 57)[:2048])
	v := mustNew(b, Config{Type: TypeGitHub, Secrets: []string{"It's a Secret to Everybody"}})
	h := hdr("X-Hub-Signature-256", "sha256="+hexMAC("It's a Secret to Everybody", string(body)))
	now := time.Now()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(h, body, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyStripeRotation is the costlier common case: a timestamped
// scheme with two secrets during a rotation.
func BenchmarkVerifyStripeRotation(b *testing.B) {
	body := []byte(strings.Repeat(`{"id":"evt_1","amount":1999},`, 71)[:2048])
	v := mustNew(b, Config{Type: TypeStripe, Secrets: []string{"whsec_new", "whsec_old"}})
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	h := hdr("Stripe-Signature", "t="+ts+",v1="+hexMAC("whsec_old", ts, ".", string(body)))
	now := time.Now()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(h, body, now); err != nil {
			b.Fatal(err)
		}
	}
}
