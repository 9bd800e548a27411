package engine

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func trustDoc(trigger string) string {
	return `{"title":"T","mode":"async","trigger":` + trigger + `,"nodes":[]}`
}

// TestTrustValidation: every bad trust setting is refused with a message
// naming its field; good ones pass.
func TestTrustValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ trigger, want string }{
		// verify
		{`{"verify":{"type":"hmac","secret":"s"}}`, "trigger.verify.header: required for type hmac"},
		{`{"verify":{"type":"token","secret":"s"}}`, "trigger.verify.header: required for type token"},
		{`{"verify":{"type":"paypal","secret":"s"}}`, `trigger.verify.type: unknown type "paypal"`},
		{`{"verify":{"secret":"s"}}`, "trigger.verify.type: required"},
		{`{"verify":{"type":"github"}}`, "trigger.verify.secret: required for type github (or secrets, a list, to rotate)"},
		{`{"verify":{"type":"github","secrets":[]}}`, "trigger.verify.secrets: at least one secret is required"},
		{`{"verify":{"type":"github","secret":"a","secrets":["b"]}}`, "trigger.verify: give secret or secrets (a list, for rotation), not both"},
		{`{"verify":{"type":"stripe","secrets":["whsec_a",""]}}`, "trigger.verify.secrets[1]: empty"},
		{`{"verify":{"type":"standard","secret":"whsec_!!"}}`, "trigger.verify.secret: not a Standard Webhooks secret"},
		{`{"verify":{"type":"standard","secrets":["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw","nope!"]}}`, "trigger.verify.secrets[1]: not a Standard Webhooks secret"},
		{`{"verify":{"type":"github","secret":"s","toleranceSeconds":60}}`, "trigger.verify.toleranceSeconds: type github signs no timestamp"},
		{`{"verify":{"type":"stripe","secret":"s","toleranceSeconds":-1}}`, "trigger.verify.toleranceSeconds: must be between 1 and 86400"},
		{`{"verify":{"type":"stripe","secret":"s","toleranceSeconds":86401}}`, "trigger.verify.toleranceSeconds: must be between 1 and 86400"},
		{`{"verify":{"type":"hmac","header":"X Sig","secret":"s"}}`, `trigger.verify.header: "X Sig" is not a valid header name`},
		{`{"verify":{"type":"hmac","header":"X-Sig","secret":"s","algorithm":"md5"}}`, `trigger.verify.algorithm: unknown algorithm "md5"`},
		{`{"verify":{"type":"github","secret":"s","prefix":"sha256="}}`, "trigger.verify.prefix: only for type hmac"},
		{`{"verify":{"type":"token","header":"X-Gitlab-Token","secret":" padded"}}`, "trigger.verify.secret: starts or ends with white space"},
		// allowIPs
		{`{"allowIPs":["10.0.0.0/8","10.0.0.300/8"]}`, `trigger.allowIPs[1]: "10.0.0.300/8" is not an address range such as 192.30.252.0/22 or 2001:db8::/32`},
		{`{"allowIPs":["2001:db8::/129"]}`, `trigger.allowIPs[0]: "2001:db8::/129" is not an address range`},
		{`{"allowIPs":["example.com"]}`, `trigger.allowIPs[0]: "example.com" is not an address range`},
		{`{"allowIPs":["::ffff:10.0.0.0/104"]}`, `trigger.allowIPs[0]: "::ffff:10.0.0.0/104": write IPv4 ranges in IPv4 form`},
		// dedupe
		{`{"dedupe":{"key":"{{$context.headers.x-github-delivery}}","windowSeconds":0}}`, "trigger.dedupe.windowSeconds: must be between 1 and 2592000, got 0"},
		{`{"dedupe":{"key":"{{$context.headers.x-github-delivery}}","windowSeconds":2592001}}`, "trigger.dedupe.windowSeconds: must be between 1 and 2592000, got 2592001"},
		{`{"dedupe":{"key":"  "}}`, "trigger.dedupe.key: required"},
		{`{"dedupe":{"key":"x-github-delivery"}}`, "trigger.dedupe.key: must hold a placeholder"},
		{`{"dedupe":{"key":"{{$system.now}}"}}`, "trigger.dedupe.key: only $context paths can be used"},
		{`{"dedupe":{"key":"{{$context.body.id"}}`, "trigger.dedupe.key: unterminated {{"},
		{`{"dedupe":{"key":"{{$context.body.id}}","windowSeconds":"1"}}`, "document: trigger.dedupe.windowSeconds: expected a number"},
		// valid
		{`{"verify":{"type":"github","secret":"It's a Secret to Everybody"},"dedupe":{"key":"{{$context.headers.x-github-delivery}}"}}`, ""},
		{`{"verify":{"type":"stripe","secrets":["whsec_new","whsec_old"],"toleranceSeconds":300}}`, ""},
		{`{"verify":{"type":"hmac","header":"X-Sig","secret":"s","algorithm":"sha512","encoding":"base64","prefix":"v1="}}`, ""},
		{`{"verify":{"type":"standard","secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}`, ""},
		{`{"allowIPs":["192.30.252.0/22","2001:db8::/32","203.0.113.7"]}`, ""},
		{`{"allowIPs":[]}`, ""},
		{`{"dedupe":{"key":"{{$context.body.id}}-{{$context.query.n}}","windowSeconds":2592000}}`, ""},
		{`{"dedupe":{"key":"{{$context.body.id}}","windowSeconds":1}}`, ""},
	} {
		_, err := ParseDocument([]byte(trustDoc(tc.trigger)))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.trigger, err)
		case tc.want != "" && (ErrorCode(err) != EINVALID || !strings.HasPrefix(ErrorMessage(err), tc.want)):
			t.Errorf("%s:\n got %v\nwant %s…", tc.trigger, err, tc.want)
		}
		if err != nil && (strings.Contains(ErrorMessage(err), "It's a Secret") || strings.Contains(ErrorMessage(err), "whsec_a")) {
			t.Errorf("%s: the message shows a secret: %v", tc.trigger, err)
		}
	}
}

const trustSecretsDoc = `{"title":"T","mode":"sync","trigger":{
	"basicAuth":{"enabled":true,"username":"u","password":"pw-1"},
	"verify":{"type":"stripe","secrets":["whsec_new-2","whsec_old-3"],"toleranceSeconds":60},
	"dedupe":{"key":"{{$context.body.id}}"}},"nodes":[]}`

// TestTrustSecrets: every secret is taken out of the stored document and
// comes back in place; an export without secrets has none, and a PUT of
// it keeps the stored ones.
func TestTrustSecrets(t *testing.T) {
	t.Parallel()
	stored, secrets, doc, err := PrepareDocument([]byte(trustSecretsDoc))
	if err != nil {
		t.Fatal(err)
	}
	want := Secrets{BasicAuthPassword: "pw-1", VerifySecrets: []string{"whsec_new-2", "whsec_old-3"}}
	if secrets.BasicAuthPassword != want.BasicAuthPassword || secrets.VerifySecret != "" || !slices.Equal(secrets.VerifySecrets, want.VerifySecrets) {
		t.Fatalf("secrets %+v", secrets)
	}
	for _, s := range []string{"pw-1", "whsec_new-2", "whsec_old-3"} {
		if bytes.Contains(stored, []byte(s)) {
			t.Errorf("stored document holds %s: %s", s, stored)
		}
	}
	if got := gjson.GetBytes(stored, "trigger.verify").Raw; got != `{"type":"stripe","secrets":[],"toleranceSeconds":60}` {
		t.Errorf("stored verify %s", got)
	}
	if doc.Trigger.Verify.ToleranceSeconds != 60 || len(doc.Trigger.Verify.Secrets) != 2 {
		t.Errorf("parsed verify %+v", doc.Trigger.Verify)
	}
	// Decoded from storage: the secrets are back in the document.
	d, err := DecodeDocument(stored, secrets)
	if err != nil || d.Trigger.BasicAuth.Password != "pw-1" || !slices.Equal(d.Trigger.Verify.Secrets, want.VerifySecrets) {
		t.Fatalf("decoded %+v, %v", d.Trigger, err)
	}
	// Exported with secrets: the document as sent.
	w := &Workflow{ID: 1, Key: "k", Revision: 1, Stored: stored, Secrets: secrets, Doc: d}
	full := ExportDocument(w, "u")
	if got, want := gjson.GetBytes(full, "trigger").Raw, docCompact(t, trustSecretsDoc); !strings.Contains(want, got) {
		t.Errorf("export with secrets: trigger %s not in %s", got, want)
	}
	// Without: no secret member at all.
	bare := ExportDocumentWithoutSecrets(w, "u")
	for _, path := range []string{"trigger.basicAuth.password", "trigger.verify.secrets", "trigger.verify.secret"} {
		if gjson.GetBytes(bare, path).Exists() {
			t.Errorf("export without secrets has %s: %s", path, bare)
		}
	}
	if !gjson.GetBytes(bare, "trigger.basicAuth.username").Exists() || gjson.GetBytes(bare, "trigger.verify.type").Str != "stripe" {
		t.Errorf("export without secrets lost settings: %s", bare)
	}
	// A PUT of it keeps the stored secrets, in the member they came in
	// (added at the end of its object).
	again, secrets2, _, err := PrepareDocument(KeepSecrets(bare, secrets))
	if err != nil {
		t.Fatal(err)
	}
	wantAgain := strings.Replace(string(stored), `"secrets":[],"toleranceSeconds":60`, `"toleranceSeconds":60,"secrets":[]`, 1)
	// (The export says the workflow's state, "enabled", at the end.)
	if string(DropTopLevel(again, "enabled")) != wantAgain || secrets2.BasicAuthPassword != "pw-1" || !slices.Equal(secrets2.VerifySecrets, want.VerifySecrets) {
		t.Errorf("kept: %s %+v, want %s %+v", again, secrets2, wantAgain, secrets)
	}
}

func TestKeepSecrets(t *testing.T) {
	t.Parallel()
	stored := Secrets{BasicAuthPassword: "pw", VerifySecret: "vs"}
	list := Secrets{VerifySecrets: []string{"a", "b"}}
	for _, tc := range []struct {
		name   string
		s      Secrets
		in     string
		want   string
		parsed func(d *Document) bool
	}{
		{"every secret absent", stored,
			`{"trigger":{"basicAuth":{"enabled":true,"username":"u"},"verify":{"type":"github"}}}`,
			`{"trigger":{"basicAuth":{"enabled":true,"username":"u","password":"pw"},"verify":{"type":"github","secret":"vs"}}}`, nil},
		{"given values replace", stored,
			`{"trigger":{"basicAuth":{"password":"new"},"verify":{"type":"github","secret":"new2"}}}`,
			`{"trigger":{"basicAuth":{"password":"new"},"verify":{"type":"github","secret":"new2"}}}`, nil},
		{"an empty value is given, not absent", stored,
			`{"trigger":{"basicAuth":{"enabled":false,"password":""}}}`,
			`{"trigger":{"basicAuth":{"enabled":false,"password":""}}}`, nil},
		{"secrets given keeps no stored secret", stored,
			`{"trigger":{"verify":{"type":"github","secrets":["x"]}}}`,
			`{"trigger":{"verify":{"type":"github","secrets":["x"]}}}`, nil},
		{"a stored list comes back as a list", list,
			`{"trigger":{"verify":{"type":"stripe"}}}`,
			`{"trigger":{"verify":{"type":"stripe","secrets":["a","b"]}}}`, nil},
		{"keys in another case", stored,
			`{"Trigger":{"BasicAuth":{"PASSWORD":"given"},"VERIFY":{"type":"github"}}}`,
			`{"Trigger":{"BasicAuth":{"PASSWORD":"given"},"VERIFY":{"type":"github","secret":"vs"}}}`, nil},
		{"an empty object", stored,
			`{"trigger":{"basicAuth":{}}}`,
			`{"trigger":{"basicAuth":{"password":"pw"}}}`, nil},
		{"nothing to keep without basicAuth or verify", stored, `{"trigger":{"headers":[]}}`, `{"trigger":{"headers":[]}}`, nil},
		{"no stored secret", Secrets{}, `{"trigger":{"basicAuth":{}}}`, `{"trigger":{"basicAuth":{}}}`, nil},
		{"not an object", stored, `[1]`, `[1]`, nil},
		{"not JSON", stored, `{"trigger":`, `{"trigger":`, nil},
	} {
		if got := string(KeepSecrets([]byte(tc.in), tc.s)); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
	if got := string(DropSecrets([]byte(`{"Trigger":{"basicAuth":{"Password":"x","username":"u"},"verify":{"SECRET":"y","secrets":["z"],"type":"github"}}}`))); got != `{"Trigger":{"basicAuth":{"username":"u"},"verify":{"type":"github"}}}` {
		t.Errorf("DropSecrets: %s", got)
	}
}

// TestClientAddr: the socket's peer, or X-Forwarded-For read from the
// right when the peer is a trusted proxy, never otherwise.
func TestClientAddr(t *testing.T) {
	t.Parallel()
	proxies, err := ParsePrefixes([]string{"10.0.0.0/8", "fd00::/8", "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddr
	for _, tc := range []struct {
		name    string
		peer    string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxies: the peer", "203.0.113.9", []string{"1.2.3.4"}, nil, "203.0.113.9"},
		{"spoofed header from an untrusted peer", "203.0.113.9", []string{"1.2.3.4"}, proxies, "203.0.113.9"},
		{"trusted peer without header", "10.0.0.1", nil, proxies, "10.0.0.1"},
		{"trusted peer", "10.0.0.1", []string{"198.51.100.4"}, proxies, "198.51.100.4"},
		{"rightmost untrusted wins over a spoofed left part", "10.0.0.1", []string{"1.2.3.4, 198.51.100.4"}, proxies, "198.51.100.4"},
		{"trusted hops skipped", "10.0.0.1", []string{"1.2.3.4, 198.51.100.4, 10.0.0.7, 192.0.2.1"}, proxies, "198.51.100.4"},
		{"several headers read as one list", "10.0.0.1", []string{"1.2.3.4", "198.51.100.4, 10.0.0.2"}, proxies, "198.51.100.4"},
		{"only proxies: the leftmost", "10.0.0.1", []string{"10.0.0.3, 10.0.0.2"}, proxies, "10.0.0.3"},
		{"garbage stops at the last trusted hop", "10.0.0.1", []string{"198.51.100.4, not-an-ip, 10.0.0.2"}, proxies, "10.0.0.2"},
		{"ports and brackets", "10.0.0.1", []string{"[2001:db8::7]:443"}, proxies, "2001:db8::7"},
		{"IPv4 with port", "10.0.0.1", []string{"198.51.100.4:5000"}, proxies, "198.51.100.4"},
		{"IPv6 peer", "fd00::1", []string{"2001:db8::9"}, proxies, "2001:db8::9"},
		{"mapped peer", "::ffff:10.0.0.1", []string{"198.51.100.4"}, proxies, "198.51.100.4"},
		{"mapped entry", "10.0.0.1", []string{"::ffff:198.51.100.4"}, proxies, "198.51.100.4"},
		{"empty entries", "10.0.0.1", []string{" , ,198.51.100.4 , "}, proxies, "198.51.100.4"},
	} {
		if got := ClientAddr(addr(tc.peer), tc.xff, tc.trusted); got != addr(tc.want) {
			t.Errorf("%s: ClientAddr(%s, %q) = %s, want %s", tc.name, tc.peer, tc.xff, got, tc.want)
		}
	}
	// A list longer than any real chain stops at the bound.
	long := strings.Repeat("10.0.0.5, ", 100) + "10.0.0.6"
	if got := ClientAddr(addr("10.0.0.1"), []string{"198.51.100.4, " + long}, proxies); !proxies[0].Contains(got) {
		t.Errorf("long chain: %s, want a trusted hop (walk bounded)", got)
	}
	if _, err := ParsePrefixes([]string{"10.0.0.0/8", "nope"}); err == nil || !strings.Contains(ErrorMessage(err), `"nope"`) {
		t.Errorf("ParsePrefixes error %v", err)
	}
}

// TestScopeRawBody: $context.rawBody reads the raw body as text, invalid
// UTF-8 replaced, without being part of the stored context.
func TestScopeRawBody(t *testing.T) {
	t.Parallel()
	sc := NewScope([]byte(`{"headers":{},"query":{},"body":{}}`))
	sc.RawBody = []byte("a=1&b=\xff<tag>\n")
	p, _ := ParsePath("$context.rawBody")
	if got := sc.Resolve(p); got.Type != gjson.String || got.Str != "a=1&b=\uFFFD<tag>\n" {
		t.Errorf("rawBody = %#v", got)
	}
	tmpl, err := CompileTemplate(`raw: {{$context.rawBody}}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := tmpl.String(sc); got != "raw: a=1&b=\uFFFD<tag>\n" {
		t.Errorf("template %q", got)
	}
	if p, _ := ParsePath("$context.rawBody.x"); sc.Resolve(p).Exists() {
		t.Error("a member of rawBody exists")
	}
	if p, _ := ParsePath("$context.body"); sc.Resolve(p).Raw != "{}" {
		t.Error("body lost")
	}
	empty := NewScope([]byte(`{"headers":{},"query":{},"body":{}}`))
	if got := empty.Resolve(p); got.Type != gjson.String || got.Str != "" {
		t.Errorf("empty rawBody = %#v", got)
	}
}
