package engine

import (
	"strings"
	"testing"
)

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
		if got := string(KeepSecrets([]byte(tt.in), Secrets{BasicAuthPassword: "s"})); got != tt.with {
			t.Errorf("KeepSecrets(%s) = %s, want %s", tt.in, got, tt.with)
		}
	}
	if got := string(DropSecrets([]byte(`{"a":1,"trigger":{"x":2,"basicAuth":{"enabled":true,"PASSWORD":"p","username":"u"}}}`))); got != `{"a":1,"trigger":{"x":2,"basicAuth":{"enabled":true,"username":"u"}}}` {
		t.Errorf("DropSecrets = %s", got)
	}
	if got := string(DropTopLevel([]byte(`{"title":"t","Enabled":false,"nodes":[]}`), "enabled")); got != `{"title":"t","nodes":[]}` {
		t.Errorf("DropTopLevel = %s", got)
	}
}

// A save refuses header names and paths with spaces (issue 12, point 15),
// stored documents that have them still compile, and Problems lists every
// problem of the trigger at once.
func TestFieldSpellingAndProblems(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{
		`{"title":"t","mode":"async","trigger":{"headers":[{"path":"X Request"}]},"nodes":[]}`,
		`{"title":"t","mode":"async","trigger":{"body":[{"path":"order. id"}]},"nodes":[]}`,
		`{"title":"t","mode":"async","trigger":{"query":[{"path":"a b"}]},"nodes":[]}`,
	} {
		_, err := ParseDocument([]byte(doc))
		if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), "trigger.") {
			t.Errorf("ParseDocument(%s) = %v", doc, err)
		}
		d, err := DecodeDocument([]byte(doc), Secrets{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Compile(d); err != nil {
			t.Errorf("a stored document no longer compiles: %v", err)
		}
	}
	if _, err := ParseDocument([]byte(`{"title":"t","mode":"async","trigger":{"body":[{"path":"[\"first name\"].x"}],"headers":[{"path":"X-Request-Id"}]},"nodes":[]}`)); err != nil {
		t.Errorf("quoted key with a space refused: %v", err)
	}
	d := &Document{Title: " ", Mode: ModeAsync, TimeoutSeconds: 999, Trigger: Trigger{
		BasicAuth: BasicAuth{Enabled: true},
		Headers:   []Field{{Path: "bad name"}},
		Body:      []Field{{Path: "a"}, {Path: "a"}, {Path: ""}},
		Response:  &Reply{Status: 42},
	}}
	var got []string
	for _, p := range d.Problems() {
		f, _, _ := strings.Cut(ErrorMessage(p), ":")
		got = append(got, f)
	}
	want := "title timeoutSeconds trigger.basicAuth.username trigger.basicAuth.password trigger.headers[0].path trigger.body[1].path trigger.body[2].path trigger.response.status"
	if strings.Join(got, " ") != want {
		t.Errorf("Problems fields:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}
