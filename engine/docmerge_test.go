package engine

import (
	"encoding/json"
	"testing"
)

func TestKeepUnknownFields(t *testing.T) {
	t.Parallel()
	stored := `{"title":"A","mode":"sync","x-top":{"a":[1,2]},"timeoutSeconds":30,` +
		`"trigger":{"xFuture":{"type":"github","secret":"s"},"basicAuth":{"enabled":false,"username":"","password":"","hint":"h"},` +
		`"headers":[],"query":[],"body":[{"path":"a","note":"n"},{"path":"gone","note":"g"}]},` +
		`"nodes":[{"key":"c","type":"condition","test":{"run":true},"config":{"mode":"branch","rules":{"and":[]}},` +
		`"branches":{"yes":[{"key":"r","type":"response","retry":3,"config":{"status":200}}],"no":[]}},` +
		`{"key":"e","type":"end","Title":"old"}]}`
	// What the editor encodes after a save: the title changed, the
	// timeout cleared, a field row removed, r moved to the main chain and a
	// node added.
	d, err := DecodeDocument([]byte(stored), Secrets{})
	if err != nil {
		t.Fatal(err)
	}
	d.Title = "B"
	d.TimeoutSeconds = 0
	d.Trigger.Body = d.Trigger.Body[:1]
	r := d.Nodes[0].Branches["yes"][0]
	d.Nodes[0].Branches["yes"] = nil
	d.Nodes = append(d.Nodes, r, Node{Key: "n", Type: "end"})
	d.Nodes[1].Title = ""
	edited, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	got := KeepUnknownFields([]byte(stored), edited)
	if !json.Valid(got) {
		t.Fatalf("invalid JSON: %s", got)
	}
	want := `{"title":"B","mode":"sync","trigger":{"basicAuth":{"enabled":false,"username":"","password":"","hint":"h"},` +
		`"headers":[],"query":[],"body":[{"path":"a","note":"n"}],"xFuture":{"type":"github","secret":"s"}},` +
		`"nodes":[{"key":"c","type":"condition","config":{"mode":"branch","rules":{"and":[]}},"branches":{"no":[],"yes":null},"test":{"run":true}},` +
		`{"key":"e","type":"end"},{"key":"r","type":"response","config":{"status":200},"retry":3},{"key":"n","type":"end"}],"x-top":{"a":[1,2]}}`
	if string(got) != want {
		t.Errorf("merged:\n got %s\nwant %s", got, want)
	}
	// Nothing stored (or not an object): the edit as it is.
	if got := KeepUnknownFields(nil, edited); string(got) != string(edited) {
		t.Errorf("without a stored document: %s", got)
	}
}
