package engine

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func docCompact(tb testing.TB, s string) string {
	tb.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(s)); err != nil {
		tb.Fatalf("compact: %v", err)
	}
	return buf.String()
}

// docKeys lists the keys of a JSON object in document order.
func docKeys(raw []byte) []string {
	var keys []string
	gjson.ParseBytes(raw).ForEach(func(k, _ gjson.Result) bool {
		keys = append(keys, k.Str)
		return true
	})
	return keys
}

func TestPrepareDocument(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		in         string
		wantStored string
		wantSecret string
		// leaked must not appear in the stored document.
		leaked []string
	}{
		{
			name: "read-only fields and password",
			in: `{"id": 7, "key": "abc", "url": "https://x/api/webhook:trigger/abc", "revision": 3, "createdAt": "2024-01-01", "updatedAt": "x",
			      "title": "T", "mode": "async",
			      "trigger": {"basicAuth": {"enabled": true, "username": "u", "password": "topsecret-1"}},
			      "nodes": []}`,
			wantStored: `{"title":"T","mode":"async","trigger":{"basicAuth":{"enabled":true,"username":"u","password":""}},"nodes":[]}`,
			wantSecret: "topsecret-1",
			leaked:     []string{"topsecret-1", `"id"`, `"key"`, `"url"`, `"revision"`},
		},
		{
			name: "extra fields and key order kept",
			in: `{"zeta": {"b": 1, "a": [1, 2.50, 12345678901234567891]}, "mode": "sync", "title": "T", "x-ui": {"pos": [10, 20]},
			      "nodes": [{"type": "end", "key": "e", "extra": "kept"}], "trigger": {"custom": true}}`,
			wantStored: `{"zeta":{"b":1,"a":[1,2.50,12345678901234567891]},"mode":"sync","title":"T","x-ui":{"pos":[10,20]},` +
				`"nodes":[{"type":"end","key":"e","extra":"kept"}],"trigger":{"custom":true}}`,
		},
		{
			name:       "no basic auth",
			in:         `{"title":"T","mode":"sync","trigger":{"basicAuth":{"enabled":false}},"nodes":[]}`,
			wantStored: `{"title":"T","mode":"sync","trigger":{"basicAuth":{"enabled":false}},"nodes":[]}`,
		},
		{
			name:       "disabled basic auth keeps no password either",
			in:         `{"title":"T","mode":"sync","trigger":{"basicAuth":{"enabled":false,"username":"u","password":"old-secret-2"}},"nodes":[]}`,
			wantStored: `{"title":"T","mode":"sync","trigger":{"basicAuth":{"enabled":false,"username":"u","password":""}},"nodes":[]}`,
			wantSecret: "old-secret-2",
			leaked:     []string{"old-secret-2"},
		},
		{
			name:       "duplicate password keys",
			in:         `{"title":"T","mode":"sync","trigger":{"basicAuth":{"enabled":true,"username":"u","password":"first-secret-3","password":"second-secret-3"}},"nodes":[]}`,
			wantStored: `{"title":"T","mode":"sync","trigger":{"basicAuth":{"enabled":true,"username":"u","password":"","password":""}},"nodes":[]}`,
			// encoding/json keeps the last value.
			wantSecret: "second-secret-3",
			leaked:     []string{"first-secret-3", "second-secret-3"},
		},
		{
			name:       "duplicate basicAuth objects",
			in:         `{"title":"T","mode":"sync","trigger":{"basicAuth":{"password":"first-secret-4"},"basicAuth":{"enabled":true,"username":"u","password":"second-secret-4"}},"nodes":[]}`,
			wantStored: `{"title":"T","mode":"sync","trigger":{"basicAuth":{"password":""},"basicAuth":{"enabled":true,"username":"u","password":""}},"nodes":[]}`,
			wantSecret: "second-secret-4",
			leaked:     []string{"first-secret-4", "second-secret-4"},
		},
		{
			name:       "escaped password key",
			in:         `{"title":"T","mode":"sync","trigger":{"basicAuth":{"enabled":true,"username":"u","pass\u0077ord":"escaped-secret-5"}},"nodes":[]}`,
			wantStored: `{"title":"T","mode":"sync","trigger":{"basicAuth":{"enabled":true,"username":"u","pass\u0077ord":""}},"nodes":[]}`,
			wantSecret: "escaped-secret-5",
			leaked:     []string{"escaped-secret-5"},
		},
		{
			// encoding/json matches field names without regard to case, so
			// these keys set the password too: they must not stay in the
			// stored document in plain text.
			name:       "password key in another case",
			in:         `{"title":"T","mode":"sync","trigger":{"basicAuth":{"enabled":true,"username":"u","Password":"cased-secret-6"}},"nodes":[]}`,
			wantStored: `{"title":"T","mode":"sync","trigger":{"basicAuth":{"enabled":true,"username":"u","Password":""}},"nodes":[]}`,
			wantSecret: "cased-secret-6",
			leaked:     []string{"cased-secret-6"},
		},
		{
			name:       "trigger and basicAuth keys in another case",
			in:         `{"title":"T","mode":"sync","Trigger":{"BASICAUTH":{"enabled":true,"username":"u","PASSWORD":"cased-secret-7"}},"nodes":[]}`,
			wantStored: `{"title":"T","mode":"sync","Trigger":{"BASICAUTH":{"enabled":true,"username":"u","PASSWORD":""}},"nodes":[]}`,
			wantSecret: "cased-secret-7",
			leaked:     []string{"cased-secret-7"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stored, secret, doc, err := PrepareDocument([]byte(tc.in))
			if err != nil {
				t.Fatalf("PrepareDocument: %v", err)
			}
			if string(stored) != tc.wantStored {
				t.Errorf("stored\n got %s\nwant %s", stored, tc.wantStored)
			}
			if secret.BasicAuthPassword != tc.wantSecret {
				t.Errorf("secret %q, want %q", secret.BasicAuthPassword, tc.wantSecret)
			}
			for _, s := range tc.leaked {
				if bytes.Contains(stored, []byte(s)) {
					t.Errorf("stored document holds %s: %s", s, stored)
				}
			}
			if doc == nil || doc.Title != "T" {
				t.Errorf("doc %+v", doc)
			}
			// The stored form with its secret back is a valid document that
			// prepares to the same stored form.
			again, secret2, _, err := PrepareDocument(InjectSecrets(stored, secret))
			if err != nil {
				t.Fatalf("PrepareDocument(InjectSecrets(stored)): %v", err)
			}
			if string(again) != string(stored) || secret2.BasicAuthPassword != secret.BasicAuthPassword {
				t.Errorf("re-prepared %s %q, want %s %q", again, secret2, stored, secret)
			}
		})
	}
}

func TestPrepareDocumentErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, code, want string
	}{
		{"not JSON", `{"title":`, EINVALID, "document: "},
		{"array", `[1]`, EINVALID, "document: "},
		{"wrong type", `{"title":1,"mode":"sync"}`, EINVALID, "document: title: expected a string, got number"},
		{"nodes not an array", `{"title":"t","mode":"sync","nodes":{}}`, EINVALID, "document: nodes: expected an array"},
		{"too deep", `{"title":"t","mode":"sync","x":` + strings.Repeat("[", MaxJSONDepth+1) + strings.Repeat("]", MaxJSONDepth+1) + `}`, EINVALID, "document: JSON nested deeper"},
		{"too large", `{"title":"t","mode":"sync","x":"` + strings.Repeat("a", MaxDocumentBytes) + `"}`, ETOOLARGE, "document: larger than"},
		{"invalid", `{"title":"t","mode":"batch"}`, EINVALID, `mode: must be "sync" or "async"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, _, err := PrepareDocument([]byte(tc.in))
			if ErrorCode(err) != tc.code || !strings.HasPrefix(ErrorMessage(err), tc.want) {
				t.Errorf("got %q %q, want %q %q...", ErrorCode(err), ErrorMessage(err), tc.code, tc.want)
			}
		})
	}
}

func TestExportDocumentRoundTrip(t *testing.T) {
	t.Parallel()
	stored, secret, doc, err := PrepareDocument([]byte(example9Doc))
	if err != nil {
		t.Fatalf("PrepareDocument: %v", err)
	}
	if secret.BasicAuthPassword != "s3cret" || doc.Trigger.BasicAuth.Password != "s3cret" {
		t.Fatalf("secret %q", secret)
	}
	want := docCompact(t, example9Doc)
	if got := string(InjectSecrets(stored, secret)); got != want {
		t.Errorf("InjectSecrets\n got %s\nwant %s", got, want)
	}
	w := &Workflow{ID: 42, Key: "k0abc", Revision: 3, Stored: stored, Secrets: secret}
	url := "https://hooks.example.com/api/webhook:trigger/k0abc"
	exported := ExportDocument(w, url)
	wantExport := `{"id":42,"key":"k0abc","url":"https://hooks.example.com/api/webhook:trigger/k0abc","revision":3,` + want[1:]
	if string(exported) != wantExport {
		t.Errorf("ExportDocument\n got %s\nwant %s", exported, wantExport)
	}
	// Importing the export gives the same stored document: read-only
	// fields are dropped, the password goes to the secret again.
	again, secret2, _, err := PrepareDocument(exported)
	if err != nil {
		t.Fatalf("PrepareDocument(export): %v", err)
	}
	if string(again) != string(stored) || secret2.BasicAuthPassword != secret.BasicAuthPassword {
		t.Errorf("import of export: %s %q, want %s %q", again, secret2, stored, secret)
	}
	if got := docKeys(exported); strings.Join(got, ",") != "id,key,url,revision,title,mode,enabled,timeoutSeconds,trigger,nodes" {
		t.Errorf("exported keys %v", got)
	}

	// Secrets with characters that need escaping survive.
	w.Secrets.BasicAuthPassword = `p"a\ss<>&ü`
	got := gjson.GetBytes(ExportDocument(w, url), "trigger.basicAuth.password").String()
	if got != w.Secrets.BasicAuthPassword {
		t.Errorf("password %q, want %q", got, w.Secrets.BasicAuthPassword)
	}
	// An empty document exports the read-only fields alone.
	if got := string(ExportDocument(&Workflow{ID: 1, Key: "k", Revision: 1, Stored: []byte(`{}`)}, "u")); got != `{"id":1,"key":"k","url":"u","revision":1}` {
		t.Errorf("empty export %s", got)
	}
	// No secret: InjectSecrets leaves the stored document alone.
	if got := InjectSecrets([]byte(`{"trigger":{"basicAuth":{"password":""}}}`), Secrets{}); string(got) != `{"trigger":{"basicAuth":{"password":""}}}` {
		t.Errorf("InjectSecrets without secret: %s", got)
	}
}

func FuzzParseDocument(f *testing.F) {
	for _, seed := range []string{
		example9Doc,
		`{}`,
		`{"title":"t","mode":"async","nodes":[]}`,
		`{"title":"t","mode":"sync","trigger":{"basicAuth":{"enabled":true,"username":"u","Password":"p"}},"nodes":[]}`,
		`{"title":"t","mode":"sync","Trigger":{"basicauth":{"enabled":true,"username":"u","pa\u017Fsword":"p","password":"q"}},"nodes":[]}`,
		`{"title":"t","mode":"sync","nodes":[{"key":"c","type":"condition","config":{"mode":"branch","rules":{"or":[{"left":"{{$context.body.a}}","op":"matches","right":"^a+$"}]}},"branches":{"yes":[{"key":"e","type":"end","config":{"status":"failed"}}]}}]}`,
		`{"title":"t","mode":"sync","nodes":[{"key":"r","type":"response","config":{"status":201,"headers":[{"name":"X","value":"{{$context.query.a}}"}],"body":{"a":"{{$context.body}}"}}}]}`,
		`{"title":"t","mode":"async","trigger":{"response":{"status":202,"body":"{{$system.executionId}}"}}}`,
		`{"title":"t","mode":"sync","id":1,"key":"k","url":"u","revision":2,"nodes":null}`,
		`{"title":"t","mode":"async","trigger":{"verify":{"type":"stripe","secrets":["whsec_a","whsec_b"],"toleranceSeconds":60},"allowIPs":["10.0.0.0/8","::1"],"dedupe":{"key":"{{$context.body.id}}","windowSeconds":60}}}`,
		`{"title":"t","mode":"async","trigger":{"Verify":{"type":"hmac","header":"X-Sig","SECRET":"s","prefix":"sha256="}}}`,
		`{"title":"t","mode":"async","trigger":{"verify":{"type":"token","header":"X-Gitlab-Token","secret":"tok"},"basicAuth":{"enabled":true,"username":"u","password":"p"}}}`,
		`[`, `null`, `"x"`, `{"title":1}`, "\xff",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := ParseDocument(raw)
		if err != nil {
			if ErrorCode(err) == EINTERNAL || ErrorMessage(err) == "" {
				t.Fatalf("error without a safe message: %v", err)
			}
			return
		}
		if _, err := Compile(d); err != nil {
			t.Fatalf("ParseDocument accepted a document that does not compile: %v", err)
		}
		stored, secret, _, err := PrepareDocument(raw)
		if err != nil {
			t.Fatalf("PrepareDocument refused a valid document: %v", err)
		}
		if !json.Valid(stored) {
			t.Fatalf("stored document is not JSON: %s", stored)
		}
		// No secret stays in the stored document, whatever the case or
		// escaping of its keys.
		var plain Document
		if err := json.Unmarshal(stored, &plain); err != nil || plain.Trigger.BasicAuth.Password != "" {
			t.Fatalf("stored document %s keeps the password (%v)", stored, err)
		}
		if v := plain.Trigger.Verify; v != nil && (v.Secret != "" || len(v.Secrets) > 0) {
			t.Fatalf("stored document %s keeps a verify secret", stored)
		}
		// What is stored comes back as a valid document.
		back, err := ParseDocument(InjectSecrets(stored, secret))
		if err != nil {
			t.Fatalf("stored document %s does not parse back: %v", stored, err)
		}
		if back.Title != d.Title || back.Mode != d.Mode || back.Trigger.BasicAuth != d.Trigger.BasicAuth || len(back.Nodes) != len(d.Nodes) {
			t.Fatalf("round trip changed the document: %+v vs %+v", back, d)
		}
		if _, err := Compile(back); err != nil {
			t.Fatalf("round trip does not compile: %v", err)
		}
		w := &Workflow{ID: 1, Key: "k", Revision: 1, Stored: stored, Secrets: secret}
		exported := ExportDocument(w, "u")
		if !json.Valid(exported) {
			t.Fatalf("export is not JSON: %s", exported)
		}
		// An export without secrets parses back into the same document
		// once the stored secrets are kept.
		bare := ExportDocumentWithoutSecrets(w, "u")
		if !json.Valid(bare) {
			t.Fatalf("export without secrets is not JSON: %s", bare)
		}
		kept, err := ParseDocument(KeepSecrets(bare, secret))
		if err != nil {
			t.Fatalf("export without secrets %s does not parse back with the stored ones: %v", bare, err)
		}
		if kept.Trigger.BasicAuth != d.Trigger.BasicAuth {
			t.Fatalf("export without secrets lost the password: %+v vs %+v", kept.Trigger.BasicAuth, d.Trigger.BasicAuth)
		}
	})
}

func TestSetTopLevel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ doc, key, raw, want string }{
		{`{"title":"a","enabled":true,"x":1}`, "enabled", `false`, `{"title":"a","enabled":false,"x":1}`},
		{`{"title":"a","Enabled":true,"enabled":true}`, "enabled", `false`, `{"title":"a","Enabled":false}`},
		{`{"title":"a"}`, "enabled", `false`, `{"title":"a","enabled":false}`},
		{`{}`, "title", `"b"`, `{"title":"b"}`},
		{`{"n":820982911946154508,"title":"a"}`, "title", `"b"`, `{"n":820982911946154508,"title":"b"}`},
	} {
		if got := string(SetTopLevel([]byte(tc.doc), tc.key, []byte(tc.raw))); got != tc.want {
			t.Errorf("SetTopLevel(%s, %s, %s) = %s, want %s", tc.doc, tc.key, tc.raw, got, tc.want)
		}
	}
}

func TestDecodeDocument(t *testing.T) {
	t.Parallel()
	stored, secret, _, err := PrepareDocument([]byte(example9Doc))
	if err != nil {
		t.Fatal(err)
	}
	d, err := DecodeDocument(stored, secret)
	if err != nil {
		t.Fatal(err)
	}
	if d.Trigger.BasicAuth.Password != "s3cret" || d.Title != "Payment callback" || len(d.Nodes) != 1 {
		t.Errorf("decoded %+v", d)
	}
	if _, err := DecodeDocument([]byte(`{"title":`), Secrets{}); ErrorCode(err) != EINVALID {
		t.Errorf("truncated document: %v, want EINVALID", err)
	}
}
