package engine

import "testing"

func TestSecretHelpers(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in, with string
		given    bool
	}{
		{`{"trigger":{"basicAuth":{"enabled":true,"username":"u"}}}`, `{"trigger":{"basicAuth":{"enabled":true,"username":"u","password":"s"}}}`, false},
		{`{"trigger":{"basicAuth":{}}}`, `{"trigger":{"basicAuth":{"password":"s"}}}`, false},
		{`{"Trigger":{"BasicAuth":{"Password":""}}}`, `{"Trigger":{"BasicAuth":{"Password":""}}}`, true},
		{`{"trigger":{}}`, `{"trigger":{}}`, true},
		{`{"title":"x"}`, `{"title":"x"}`, true},
	} {
		if got := secretGiven([]byte(tt.in)); got != tt.given {
			t.Errorf("secretGiven(%s) = %v", tt.in, got)
		}
		if got := string(withSecret([]byte(tt.in), "s")); got != tt.with {
			t.Errorf("withSecret(%s) = %s, want %s", tt.in, got, tt.with)
		}
	}
	if got := string(DropBasicAuthPassword([]byte(`{"a":1,"trigger":{"x":2,"basicAuth":{"enabled":true,"PASSWORD":"p","username":"u"}}}`))); got != `{"a":1,"trigger":{"x":2,"basicAuth":{"enabled":true,"username":"u"}}}` {
		t.Errorf("DropBasicAuthPassword = %s", got)
	}
	if got := string(DropTopLevel([]byte(`{"title":"t","Enabled":false,"nodes":[]}`), "enabled")); got != `{"title":"t","nodes":[]}` {
		t.Errorf("DropTopLevel = %s", got)
	}
}
