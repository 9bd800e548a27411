package engine

import (
	"os"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func TestExportWithoutSecrets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"basic auth", `{"title":"a","trigger":{"basicAuth":{"enabled":true,"username":"hook","password":"s3cret"},"body":[]},"nodes":[]}`,
			`{"title":"a","trigger":{"basicAuth":{"enabled":true,"username":"hook"},"body":[]},"nodes":[]}`},
		{"verify secrets", `{"trigger":{"verify":{"type":"stripe","secrets":["whsec_a","whsec_b"],"toleranceSeconds":300}}}`,
			`{"trigger":{"verify":{"type":"stripe","toleranceSeconds":300}}}`},
		{"verify secret, keys in any case", `{"Trigger":{"Verify":{"type":"github","Secret":"x"},"BasicAuth":{"PASSWORD":"p"}}}`,
			`{"Trigger":{"Verify":{"type":"github"},"BasicAuth":{}}}`},
		{"nothing secret", `{"title":"a","trigger":{},"nodes":[{"key":"k","type":"end","config":{"password":"not a trigger secret"}}]}`,
			`{"title":"a","trigger":{},"nodes":[{"key":"k","type":"end","config":{"password":"not a trigger secret"}}]}`},
	} {
		if got := string(ExportWithoutSecrets([]byte(tc.in))); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestKeepSecrets(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/section9.json")
	if err != nil {
		t.Fatal(err)
	}
	stored, secret, _, err := PrepareDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	cur := &Workflow{ID: 1, Key: "k", Revision: 3, Stored: stored, Secret: secret}
	exported := ExportDocument(cur, "https://hooks.example.com/api/webhook:trigger/k")
	bare := ExportWithoutSecrets(exported)
	if gjson.GetBytes(bare, "trigger.basicAuth.password").Exists() {
		t.Fatalf("password left in %s", bare)
	}

	// Imported back over its workflow, the document keeps the password.
	kept := KeepSecrets(bare, cur)
	if got := gjson.GetBytes(kept, "trigger.basicAuth.password").String(); got != "s3cret" {
		t.Errorf("password %q after KeepSecrets, want s3cret (%s)", got, kept)
	}
	_, gotSecret, doc, err := PrepareDocument(kept)
	if err != nil || gotSecret != "s3cret" || !doc.Trigger.BasicAuth.Enabled {
		t.Errorf("PrepareDocument: secret %q, %v", gotSecret, err)
	}
	// The rest of the document is untouched.
	if string(ExportWithoutSecrets(kept)) != string(bare) {
		t.Errorf("KeepSecrets changed more than the secret:\n%s\n%s", kept, bare)
	}

	// A password the document sets, even empty, is the document's.
	set := strings.Replace(string(exported), `"password":"s3cret"`, `"password":"new"`, 1)
	if got := gjson.Get(string(KeepSecrets([]byte(set), cur)), "trigger.basicAuth.password").String(); got != "new" {
		t.Errorf("password %q, want the document's", got)
	}
	empty := strings.Replace(string(exported), `"password":"s3cret"`, `"password":""`, 1)
	if string(KeepSecrets([]byte(empty), cur)) != empty {
		t.Error("an empty password was replaced")
	}

	// Verify secrets (§11) are kept as one setting.
	withVerify := &Workflow{Stored: []byte(`{"title":"v","mode":"async","trigger":{"verify":{"type":"stripe","secrets":["whsec_a","whsec_b"]}},"nodes":[]}`)}
	in := `{"title":"v","mode":"async","trigger":{"verify":{"type":"stripe","toleranceSeconds":60}},"nodes":[]}`
	out := KeepSecrets([]byte(in), withVerify)
	if got := gjson.GetBytes(out, "trigger.verify.secrets").Raw; got != `["whsec_a","whsec_b"]` {
		t.Errorf("verify secrets %s in %s", got, out)
	}
	if gjson.GetBytes(out, "trigger.verify.toleranceSeconds").Int() != 60 {
		t.Errorf("toleranceSeconds lost: %s", out)
	}
	in = `{"title":"v","mode":"async","trigger":{"verify":{"type":"stripe","secret":"whsec_new"}},"nodes":[]}`
	if out := KeepSecrets([]byte(in), withVerify); string(out) != in {
		t.Errorf("a document with its own secret was changed: %s", out)
	}

	// Without basicAuth or trigger, or not an object: unchanged.
	for _, in := range []string{`{"title":"x","mode":"sync","nodes":[]}`, `{"trigger":{}}`, `[1]`, `"x"`} {
		if out := KeepSecrets([]byte(in), cur); string(out) != in {
			t.Errorf("KeepSecrets(%s) = %s", in, out)
		}
	}
}
