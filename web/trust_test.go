package web_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/handlers"
	"github.com/hookflow/hookflow/web"
	"github.com/tidwall/gjson"
)

// Verifying the sender, allowed addresses, trusted proxies and the
// rejection log (product.md §11), through the real server assembly over a
// SQLite store.

func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func hmacB64(key []byte, msg string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// trustEnv is a test server whose handlers may trust proxies.
type trustEnv struct{ *apiEnv }

func trustSetup(t *testing.T, proxies ...string) *trustEnv {
	t.Helper()
	ps, err := engine.ParsePrefixes(proxies)
	if err != nil {
		t.Fatal(err)
	}
	return &trustEnv{&apiEnv{newTestServer(t, web.Config{}, apiPublicURL, func(h *handlers.Handlers) { h.TrustedProxies = ps })}}
}

// post sends body to the workflow with the given content type and headers
// (name, value pairs).
func (e *trustEnv) post(t *testing.T, key, ctype, body string, headers ...string) apiReply {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, handlers.TriggerPath(key), strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	return e.send(t, req)
}

func (e *trustEnv) count(t *testing.T, id int64) int {
	t.Helper()
	r := e.call(t, http.MethodGet, "/api/v1/workflows/"+strconv.FormatInt(id, 10)+"/executions?limit=500", "")
	if r.status != 200 {
		t.Fatalf("list executions: %d %s", r.status, r.body)
	}
	return len(r.json().Get("items").Array())
}

func (e *trustEnv) rejections(t *testing.T, id int64) []gjson.Result {
	t.Helper()
	r := e.call(t, http.MethodGet, "/api/v1/workflows/"+strconv.FormatInt(id, 10)+"/rejections", "")
	if r.status != 200 {
		t.Fatalf("rejections: %d %s", r.status, r.body)
	}
	return r.json().Get("items").Array()
}

func verifyDoc(mode, verify string) string {
	return `{"title":"verified","mode":"` + mode + `","trigger":{"verify":` + verify + `},"nodes":[]}`
}

// TestVerifyEveryType: each type of §11 accepts a request signed as its
// sender signs, and refuses, with the cause named and nothing stored, a
// missing header, a changed body and (for the timestamped types) a
// replayed or future timestamp.
func TestVerifyEveryType(t *testing.T) {
	t.Parallel()
	const stdKey = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // base64
	stdRaw, _ := base64.StdEncoding.DecodeString(stdKey)
	type signer func(body string, ts int64) []string
	for _, tc := range []struct {
		typ, verify string
		sign        signer
		missing     string // the message for a request without headers
		timestamped bool
		mismatch    string
	}{
		{"github", `{"type":"github","secret":"gh-secret"}`,
			func(b string, _ int64) []string {
				return []string{"X-Hub-Signature-256", "sha256=" + hmacHex("gh-secret", b)}
			},
			"missing X-Hub-Signature-256 header", false, "signature does not match"},
		{"shopify", `{"type":"shopify","secret":"shp-secret"}`,
			func(b string, _ int64) []string {
				return []string{"X-Shopify-Hmac-Sha256", hmacB64([]byte("shp-secret"), b)}
			},
			"missing X-Shopify-Hmac-Sha256 header", false, "signature does not match"},
		{"stripe", `{"type":"stripe","secret":"whsec_stripe"}`,
			func(b string, ts int64) []string {
				t := strconv.FormatInt(ts, 10)
				return []string{"Stripe-Signature", "t=" + t + ",v1=" + hmacHex("whsec_stripe", t+"."+b) + ",v0=abc"}
			},
			"missing Stripe-Signature header", true, "signature does not match"},
		{"slack", `{"type":"slack","secret":"slack-secret"}`,
			func(b string, ts int64) []string {
				t := strconv.FormatInt(ts, 10)
				return []string{"X-Slack-Signature", "v0=" + hmacHex("slack-secret", "v0:"+t+":"+b), "X-Slack-Request-Timestamp", t}
			},
			"missing X-Slack-Signature header", true, "signature does not match"},
		{"standard", `{"type":"standard","secret":"whsec_` + stdKey + `"}`,
			func(b string, ts int64) []string {
				t := strconv.FormatInt(ts, 10)
				return []string{"webhook-id", "msg_1", "webhook-timestamp", t, "webhook-signature", "v1," + hmacB64(stdRaw, "msg_1."+t+"."+b)}
			},
			"missing webhook-signature header", true, "signature does not match"},
		{"standard (svix names)", `{"type":"standard","secret":"whsec_` + stdKey + `"}`,
			func(b string, ts int64) []string {
				t := strconv.FormatInt(ts, 10)
				return []string{"svix-id", "msg_2", "svix-timestamp", t, "svix-signature", "v1,bm90IGl0 v1," + hmacB64(stdRaw, "msg_2."+t+"."+b)}
			},
			"missing webhook-signature header", true, "signature does not match"},
		{"hmac", `{"type":"hmac","header":"X-Signature","algorithm":"sha512","encoding":"base64","prefix":"sha512=","secret":"h-secret"}`,
			func(b string, _ int64) []string {
				m := hmac.New(sha512.New, []byte("h-secret"))
				m.Write([]byte(b))
				return []string{"X-Signature", "sha512=" + base64.StdEncoding.EncodeToString(m.Sum(nil))}
			},
			"missing X-Signature header", false, "signature does not match"},
		{"token", `{"type":"token","header":"X-Gitlab-Token","secret":"gl-token"}`,
			func(string, int64) []string { return []string{"X-Gitlab-Token", "gl-token"} },
			"missing X-Gitlab-Token header", false, "token does not match"},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			t.Parallel()
			e := trustSetup(t)
			w := e.create(t, verifyDoc("async", tc.verify))
			id, key := w.Get("id").Int(), w.Get("key").Str
			// The exact bytes: spacing, key order and a big number the
			// sender signed must not be touched before the check.
			body := "{ \"id\": 12345678901234567891,\n  \"b\": 1, \"a\": [ ] }"
			now := time.Now().Unix()
			r := e.post(t, key, "application/json", body, tc.sign(body, now)...)
			if r.status != 200 || string(r.body) != "ok" {
				t.Fatalf("signed request: %d %s", r.status, r.body)
			}
			// Refused, each with its cause, none stored.
			msg := apiError(t, e.post(t, key, "application/json", body), http.StatusUnauthorized)
			if msg != tc.missing {
				t.Errorf("no headers: %q, want %q", msg, tc.missing)
			}
			compact := `{"id":12345678901234567891,"b":1,"a":[]}`
			if tc.typ == "token" {
				// A token signs nothing: a wrong token instead.
				r = e.post(t, key, "application/json", body, "X-Gitlab-Token", "gl-token-old")
			} else {
				r = e.post(t, key, "application/json", compact, tc.sign(body, now)...)
			}
			if msg := apiError(t, r, http.StatusUnauthorized); msg != tc.mismatch {
				t.Errorf("changed body: %q, want %q", msg, tc.mismatch)
			}
			wantRejected := 2
			if tc.timestamped {
				for _, ts := range []int64{now - 330, now + 330} {
					msg := apiError(t, e.post(t, key, "application/json", body, tc.sign(body, ts)...), http.StatusUnauthorized)
					if msg != "timestamp outside the tolerance" {
						t.Errorf("timestamp %+d s: %q", ts-now, msg)
					}
				}
				wantRejected += 2
				// Within the tolerance either way.
				if r := e.post(t, key, "application/json", body, tc.sign(body, now-240)...); r.status != 200 {
					t.Errorf("timestamp 240 s old: %d %s", r.status, r.body)
				}
			}
			want := 1
			if tc.timestamped {
				want = 2
			}
			if n := e.count(t, id); n != want {
				t.Errorf("%d executions stored, want %d: refused requests are not executions", n, want)
			}
			rej := e.rejections(t, id)
			if len(rej) != wantRejected {
				t.Fatalf("%d rejections logged, want %d", len(rej), wantRejected)
			}
			for _, x := range rej {
				if x.Get("reason").Str != "signature" || x.Get("status").Int() != 401 || x.Get("message").Str == "" || x.Get("at").Str == "" {
					t.Errorf("rejection %s", x.Raw)
				}
			}
			if rej[len(rej)-1].Get("message").Str != tc.missing {
				t.Errorf("oldest rejection %s, want the missing header first", rej[len(rej)-1].Raw)
			}
		})
	}
}

// TestVerifyGitHubDocumentedExample: the example of GitHub's "Validating
// webhook deliveries" page, through the whole endpoint.
func TestVerifyGitHubDocumentedExample(t *testing.T) {
	t.Parallel()
	e := trustSetup(t)
	w := e.create(t, `{"title":"gh","mode":"sync","trigger":{"verify":{"type":"github","secret":"It's a Secret to Everybody"}},
		"nodes":[{"key":"r","type":"response","config":{"status":200,"body":"{{$context.rawBody}}"}}]}`)
	key := w.Get("key").Str
	const sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	r := e.post(t, key, "text/plain", "Hello, World!", "X-Hub-Signature-256", sig)
	if r.status != 200 || string(r.body) != "Hello, World!" {
		t.Fatalf("documented example: %d %s", r.status, r.body)
	}
	if msg := apiError(t, e.post(t, key, "text/plain", "Hello, World?", "X-Hub-Signature-256", sig), 401); msg != "signature does not match" {
		t.Errorf("changed body: %q", msg)
	}
	if msg := apiError(t, e.post(t, key, "text/plain", "Hello, World!", "X-Hub-Signature-256", "sha1=abc"), 401); !strings.HasPrefix(msg, "malformed X-Hub-Signature-256 header") {
		t.Errorf("malformed: %q", msg)
	}
}

// TestVerifyRotationAndBasicAuth: with several secrets any one may sign;
// with Basic Auth on as well, both must pass; the token header is not
// stored in clear.
func TestVerifyRotationAndBasicAuth(t *testing.T) {
	t.Parallel()
	e := trustSetup(t)
	w := e.create(t, `{"title":"rot","mode":"async","trigger":{"basicAuth":{"enabled":true,"username":"hook","password":"pw-123"},
		"verify":{"type":"stripe","secrets":["whsec_new","whsec_old"],"toleranceSeconds":60}},"nodes":[]}`)
	id, key := w.Get("id").Int(), w.Get("key").Str
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("hook:pw-123"))
	body := `{"id":"evt_1"}`
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	stripe := func(secret string) string { return "t=" + ts + ",v1=" + hmacHex(secret, ts+"."+body) }
	for _, secret := range []string{"whsec_new", "whsec_old"} {
		if r := e.post(t, key, "application/json", body, "Authorization", basic, "Stripe-Signature", stripe(secret)); r.status != 200 {
			t.Errorf("signed with %s: %d %s", secret, r.status, r.body)
		}
	}
	// Both signatures in one header (Stripe does that while rotating).
	both := "t=" + ts + ",v1=" + hmacHex("whsec_other", ts+"."+body) + ",v1=" + hmacHex("whsec_old", ts+"."+body)
	if r := e.post(t, key, "application/json", body, "Authorization", basic, "Stripe-Signature", both); r.status != 200 {
		t.Errorf("two v1 signatures, one good: %d %s", r.status, r.body)
	}
	if msg := apiError(t, e.post(t, key, "application/json", body, "Authorization", basic, "Stripe-Signature", stripe("whsec_retired")), 401); msg != "signature does not match" {
		t.Errorf("retired secret: %q", msg)
	}
	// A tolerance of 60 s.
	old := strconv.FormatInt(time.Now().Unix()-90, 10)
	if msg := apiError(t, e.post(t, key, "application/json", body, "Authorization", basic, "Stripe-Signature", "t="+old+",v1="+hmacHex("whsec_new", old+"."+body)), 401); msg != "timestamp outside the tolerance" {
		t.Errorf("90 s old with a 60 s tolerance: %q", msg)
	}
	// Good signature, bad credentials; good credentials, no signature.
	r := e.post(t, key, "application/json", body, "Stripe-Signature", stripe("whsec_new"))
	if msg := apiError(t, r, 401); msg != "valid Basic Auth credentials are required" || r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("no credentials: %q %q", msg, r.header.Get("WWW-Authenticate"))
	}
	if msg := apiError(t, e.post(t, key, "application/json", body, "Authorization", basic), 401); msg != "missing Stripe-Signature header" {
		t.Errorf("no signature: %q", msg)
	}
	if n := e.count(t, id); n != 3 {
		t.Errorf("%d executions, want 3", n)
	}
	reasons := []string{}
	for _, x := range e.rejections(t, id) {
		reasons = append(reasons, x.Get("reason").Str)
		if strings.Contains(x.Raw, "pw-123") || strings.Contains(x.Raw, "hook:") || strings.Contains(x.Raw, "evt_1") || strings.Contains(x.Raw, "whsec") {
			t.Errorf("the rejection log holds a credential or the body: %s", x.Raw)
		}
	}
	if strings.Join(reasons, ",") != "signature,auth,signature,signature" {
		t.Errorf("reasons newest first %v", reasons)
	}

	// A token is the secret itself: the stored request does not keep it.
	w = e.create(t, verifyDoc("async", `{"type":"token","header":"X-Gitlab-Token","secret":"gl-secret-token"}`))
	if r := e.post(t, w.Get("key").Str, "application/json", `{}`, "X-Gitlab-Token", "gl-secret-token"); r.status != 200 {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	list := e.call(t, http.MethodGet, "/api/v1/workflows/"+w.Get("id").String()+"/executions?limit=1", "").json()
	x := e.call(t, http.MethodGet, "/api/v1/executions/"+list.Get("items.0.id").String(), "")
	if strings.Contains(string(x.body), "gl-secret-token") || !strings.Contains(string(x.body), "[redacted]") {
		t.Errorf("the stored execution keeps the token: %s", x.body)
	}
}

// TestVerifySecretsAPI: validation errors name the field; GET returns the
// secrets, ?secrets=false leaves them out, and a PUT of that export keeps
// them.
func TestVerifySecretsAPI(t *testing.T) {
	t.Parallel()
	e := trustSetup(t)
	for _, tc := range []struct{ trigger, want string }{
		{`{"verify":{"type":"hmac","secret":"s"}}`, "trigger.verify.header: required for type hmac"},
		{`{"verify":{"type":"github"}}`, "trigger.verify.secret: required for type github"},
		{`{"allowIPs":["10.0.0.0/8","2001:db8::/33","bad"]}`, `trigger.allowIPs[2]: "bad" is not an address range`},
		{`{"dedupe":{"key":"{{$context.body.id}}","windowSeconds":0}}`, "trigger.dedupe.windowSeconds: must be between 1 and 2592000"},
		{`{"dedupe":{"key":"{{$context.body.id}}","windowSeconds":2592001}}`, "trigger.dedupe.windowSeconds: must be between 1 and 2592000"},
	} {
		r := e.call(t, http.MethodPost, "/api/v1/workflows", `{"title":"x","mode":"async","trigger":`+tc.trigger+`,"nodes":[]}`)
		if msg := apiError(t, r, 400); !strings.HasPrefix(msg, tc.want) {
			t.Errorf("%s: %q, want %q", tc.trigger, msg, tc.want)
		}
	}
	w := e.create(t, `{"title":"s","mode":"async","trigger":{"basicAuth":{"enabled":true,"username":"u","password":"pw-1"},
		"verify":{"type":"github","secrets":["gh-new","gh-old"]}},"nodes":[]}`)
	path := "/api/v1/workflows/" + w.Get("id").String()
	if got := w.Get("trigger.verify.secrets").Raw; got != `["gh-new","gh-old"]` {
		t.Errorf("created document shows secrets %s", got)
	}
	full := e.call(t, http.MethodGet, path, "").json()
	if full.Get("trigger.basicAuth.password").Str != "pw-1" || full.Get("trigger.verify.secrets").Raw != `["gh-new","gh-old"]` {
		t.Errorf("GET: %s", full.Raw)
	}
	bare := e.call(t, http.MethodGet, path+"?secrets=false", "")
	for _, s := range []string{"pw-1", "gh-new", "gh-old", `"password"`, `"secrets"`} {
		if strings.Contains(string(bare.body), s) {
			t.Errorf("?secrets=false shows %s: %s", s, bare.body)
		}
	}
	if msg := apiError(t, e.call(t, http.MethodGet, path+"?secrets=maybe", ""), 400); !strings.HasPrefix(msg, "secrets: must be true or false") {
		t.Errorf("bad secrets value: %q", msg)
	}
	// Import the export without secrets back: the secrets stay.
	put := e.call(t, http.MethodPut, path, strings.Replace(string(bare.body), `"title":"s"`, `"title":"s2"`, 1))
	if put.status != 200 {
		t.Fatalf("PUT without secrets: %d %s", put.status, put.body)
	}
	got := e.call(t, http.MethodGet, path, "").json()
	if got.Get("title").Str != "s2" || got.Get("trigger.basicAuth.password").Str != "pw-1" || got.Get("trigger.verify.secrets").Raw != `["gh-new","gh-old"]` {
		t.Errorf("after PUT without secrets: %s", got.Raw)
	}
	body := `{"a":1}`
	if r := e.post(t, w.Get("key").Str, "application/json", body, "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("u:pw-1")),
		"X-Hub-Signature-256", "sha256="+hmacHex("gh-old", body)); r.status != 200 {
		t.Errorf("kept secrets do not verify: %d %s", r.status, r.body)
	}
	// A new secret replaces the list.
	doc := strings.Replace(string(bare.body), `"type":"github"`, `"type":"github","secret":"gh-3"`, 1)
	if r := e.call(t, http.MethodPut, path, doc); r.status != 200 {
		t.Fatalf("PUT with a new secret: %d %s", r.status, r.body)
	}
	got = e.call(t, http.MethodGet, path, "").json()
	if got.Get("trigger.verify.secret").Str != "gh-3" || got.Get("trigger.verify.secrets").Exists() {
		t.Errorf("after PUT with a secret: %s", got.Get("trigger.verify").Raw)
	}
}

// TestAllowIPsAndTrustedProxies: other clients get 403 in the §2 format;
// X-Forwarded-For counts only from a trusted proxy.
func TestAllowIPsAndTrustedProxies(t *testing.T) {
	t.Parallel()
	// app.Test's connections come from 0.0.0.0.
	const doc = `{"title":"ips","mode":"async","trigger":{"allowIPs":["192.30.252.0/22","2001:db8::/32"]},"nodes":[]}`
	t.Run("no proxy", func(t *testing.T) {
		t.Parallel()
		e := trustSetup(t)
		w := e.create(t, doc)
		id, key := w.Get("id").Int(), w.Get("key").Str
		// A spoofed header from a peer that is not a proxy changes nothing.
		r := e.post(t, key, "application/json", `{}`, "X-Forwarded-For", "192.30.252.1")
		if msg := apiError(t, r, http.StatusForbidden); msg != "requests from 0.0.0.0 are not allowed for this workflow" {
			t.Errorf("403 message %q", msg)
		}
		if n := e.count(t, id); n != 0 {
			t.Errorf("%d executions stored", n)
		}
		rej := e.rejections(t, id)
		if len(rej) != 1 || rej[0].Get("reason").Str != "address" || rej[0].Get("status").Int() != 403 || rej[0].Get("clientAddress").Str != "0.0.0.0" {
			t.Errorf("rejections %v", rej)
		}
	})
	t.Run("behind a trusted proxy", func(t *testing.T) {
		t.Parallel()
		e := trustSetup(t, "0.0.0.0/32", "10.0.0.0/8")
		w := e.create(t, doc)
		id, key := w.Get("id").Int(), w.Get("key").Str
		for _, xff := range []string{"192.30.252.1", "6.6.6.6, 192.30.253.9, 10.1.2.3", "2001:db8::5"} {
			if r := e.post(t, key, "application/json", `{}`, "X-Forwarded-For", xff); r.status != 200 {
				t.Errorf("X-Forwarded-For %s: %d %s", xff, r.status, r.body)
			}
		}
		// The client spoofs an allowed address on the left; the proxy
		// appended the real one.
		r := e.post(t, key, "application/json", `{}`, "X-Forwarded-For", "192.30.252.1, 203.0.113.50")
		if msg := apiError(t, r, http.StatusForbidden); !strings.Contains(msg, "203.0.113.50") {
			t.Errorf("spoofed left entry: %q", msg)
		}
		if r := e.post(t, key, "application/json", `{}`); r.status != 403 {
			t.Errorf("the proxy itself: %d", r.status)
		}
		if n := e.count(t, id); n != 3 {
			t.Errorf("%d executions, want 3", n)
		}
		rej := e.rejections(t, id)
		if len(rej) != 2 || rej[0].Get("clientAddress").Str != "0.0.0.0" || rej[1].Get("clientAddress").Str != "203.0.113.50" {
			t.Errorf("rejections %v", rej)
		}
	})
}

// TestClientAddressOverSocket: on a real connection the peer is
// 127.0.0.1; X-Forwarded-For counts only when 127.0.0.1 is a trusted
// proxy.
func TestClientAddressOverSocket(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		proxies []string
		want    string
	}{
		{nil, "127.0.0.1"},
		{[]string{"10.0.0.0/8"}, "127.0.0.1"},
		{[]string{"127.0.0.0/8"}, "198.51.100.7"},
	} {
		e := trustSetup(t, tc.proxies...)
		w := e.create(t, `{"title":"ips","mode":"async","trigger":{"allowIPs":["192.0.2.0/24"]},"nodes":[]}`)
		addr := (&limitsEnv{e.testServer}).listen(t)
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+handlers.TriggerPath(w.Get("key").Str), strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", "192.0.2.1, 198.51.100.7")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("%v: status %d", tc.proxies, resp.StatusCode)
		}
		rej := e.rejections(t, w.Get("id").Int())
		if len(rej) != 1 || rej[0].Get("clientAddress").Str != tc.want {
			t.Errorf("proxies %v: rejections %v, want client %s", tc.proxies, rej, tc.want)
		}
	}
}

// TestRejectionLog: every kind of refusal of an existing workflow is
// logged with its reason, newest first, without body or credentials;
// unknown keys are not; a flood is recorded within a budget.
func TestRejectionLog(t *testing.T) {
	t.Parallel()
	e := &trustEnv{&apiEnv{newTestServer(t, web.Config{BodyLimit: 2048}, apiPublicURL)}}
	w := e.create(t, `{"title":"log","mode":"sync","trigger":{"basicAuth":{"enabled":true,"username":"u","password":"secret-pw"}},"nodes":[]}`)
	id, key := w.Get("id").Int(), w.Get("key").Str
	good := "Basic " + base64.StdEncoding.EncodeToString([]byte("u:secret-pw"))
	apiError(t, e.post(t, key, "application/json", `{"card":"4111"}`, "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("u:guess-1"))), 401)
	apiError(t, e.post(t, key, "application/json", `{"card":"4111"`, "Authorization", good), 400)
	apiError(t, e.post(t, key, "application/xml", `<a><b></a>`, "Authorization", good), 400)
	// 413 is refused before routing: over a socket.
	addr := (&limitsEnv{e.testServer}).listen(t)
	resp, _, _ := limitsExchange(t, addr, limitsRawRequest(handlers.TriggerPath(key),
		[]string{"Content-Type: application/json", "Authorization: " + good, "Content-Length: 4096"}, []byte(strings.Repeat("x", 4096))), true)
	if resp.StatusCode != 413 {
		t.Fatalf("oversized body: %d", resp.StatusCode)
	}
	// Unknown keys and other paths log nothing.
	apiError(t, e.post(t, "nosuchkey0000000000", "application/json", `{}`), 404)
	rej := e.rejections(t, id)
	want := []struct {
		status int
		reason string
		prefix string
	}{
		{413, "size", "request body larger than 2 KiB"},
		{400, "parse", "the body is not valid XML"},
		{400, "parse", "the body is not valid JSON"},
		{401, "auth", "valid Basic Auth credentials are required"},
	}
	if len(rej) != len(want) {
		t.Fatalf("rejections %v", rej)
	}
	for i, x := range rej {
		if int(x.Get("status").Int()) != want[i].status || x.Get("reason").Str != want[i].reason || !strings.HasPrefix(x.Get("message").Str, want[i].prefix) {
			t.Errorf("rejection %d: %s, want %+v", i, x.Raw, want[i])
		}
		if _, err := netip.ParseAddr(x.Get("clientAddress").Str); err != nil {
			t.Errorf("client address %q", x.Get("clientAddress").Str)
		}
		if at, err := time.Parse(time.RFC3339, x.Get("at").Str); err != nil || time.Since(at) > time.Minute {
			t.Errorf("at %q", x.Get("at").Str)
		}
		for _, leak := range []string{"4111", "secret-pw", "guess-1", good} {
			if strings.Contains(x.Raw, leak) {
				t.Errorf("rejection %d holds %q: %s", i, leak, x.Raw)
			}
		}
	}
	if r := e.call(t, http.MethodGet, "/api/v1/workflows/999999/rejections", ""); r.status != 404 {
		t.Errorf("rejections of an unknown workflow: %d", r.status)
	}

	// A flood of bad requests is refused in full but recorded within the
	// budget: the log cannot be used to load the database.
	flood := e.create(t, `{"title":"flood","mode":"async","trigger":{"allowIPs":["10.0.0.0/8"]},"nodes":[]}`)
	for range 200 {
		if r := e.post(t, flood.Get("key").Str, "application/json", `{}`); r.status != 403 {
			t.Fatalf("flood: %d", r.status)
		}
	}
	if n := len(e.rejections(t, flood.Get("id").Int())); n < 10 || n > 15 {
		t.Errorf("a flood of 200 rejections recorded %d, want the burst of about 10", n)
	}
}

// TestRawBodyAndBodyTypes: $context.rawBody is the body as text for every
// content type, without being stored in the context; XML and multipart
// bodies are parsed into $context.body.
func TestRawBodyAndBodyTypes(t *testing.T) {
	t.Parallel()
	e := trustSetup(t)
	w := e.create(t, `{"title":"raw","mode":"sync","nodes":[{"key":"r","type":"response","config":{"status":200,
		"headers":[{"name":"X-Id","value":"{{$context.body.order.@id}}{{$context.body.file.filename}}"}],"body":"{{$context.rawBody}}"}}]}`)
	id, key := w.Get("id").Int(), w.Get("key").Str
	for _, tc := range []struct{ ctype, body, wantBody, wantID string }{
		{"text/plain", "plain \xff text", "plain \ufffd text", ""},
		{"application/json", `{"n":12345678901234567891}`, `{"n":12345678901234567891}`, ""},
		{"application/xml", `<order id="o-7"><item>a</item></order>`, `<order id="o-7"><item>a</item></order>`, "o-7"},
		{"multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhello\r\n--b--\r\n",
			"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhello\r\n--b--\r\n", "a.txt"},
	} {
		r := e.post(t, key, tc.ctype, tc.body)
		if r.status != 200 || string(r.body) != tc.wantBody || r.header.Get("X-Id") != tc.wantID {
			t.Errorf("%s: %d %q X-Id %q", tc.ctype, r.status, r.body, r.header.Get("X-Id"))
		}
	}
	list := e.call(t, http.MethodGet, "/api/v1/workflows/"+strconv.FormatInt(id, 10)+"/executions", "").json()
	for _, item := range list.Get("items").Array() {
		x := e.call(t, http.MethodGet, "/api/v1/executions/"+item.Get("id").String(), "").json()
		if x.Get("context.rawBody").Exists() {
			t.Errorf("execution %s stores rawBody in its context", item.Get("id"))
		}
		if x.Get("request.body").Str == "" {
			t.Errorf("execution %s without its raw body", item.Get("id"))
		}
	}
	x := e.call(t, http.MethodGet, "/api/v1/executions/"+list.Get("items.0.id").String(), "").json()
	if got := x.Get("context.body.file").Raw; got != `{"filename":"a.txt","contentType":"","size":5}` {
		t.Errorf("multipart file in the context: %s", got)
	}
	if got := x.Get("context.body").Raw; strings.Contains(got, "hello") {
		t.Errorf("the file's bytes are in the context: %s", got)
	}
}

// sendConcurrently sends n copies of one request at once and returns the
// replies.
func sendConcurrently(t *testing.T, e *trustEnv, n int, mk func() *http.Request) []apiReply {
	t.Helper()
	out := make([]apiReply, n)
	done := make(chan struct{})
	start := make(chan struct{})
	for i := range n {
		go func() {
			defer func() { done <- struct{}{} }()
			<-start
			resp, err := e.app.Test(mk(), -1)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Error(err)
			}
			out[i] = apiReply{resp.StatusCode, resp.Header, b}
		}()
	}
	close(start)
	for range n {
		<-done
	}
	return out
}
