package engine

import (
	"strings"

	"github.com/tidwall/gjson"
)

// secretGroups are the members of a document that hold secrets, by the
// trigger object they sit in: the Basic Auth password (§2) and the
// signature secrets of trigger.verify (§11; "secret" and "secrets" are one
// setting, so they are left out and kept together).
var secretGroups = []struct {
	object  string
	members []string
}{
	{"basicAuth", []string{"password"}},
	{"verify", []string{"secret", "secrets"}},
}

// ExportWithoutSecrets returns an exported document (ExportDocument) with
// every secret value left out, as `hookflow workflow export` writes it
// unless asked for the secrets (product.md §11): a document that can be
// kept in git. The members are removed rather than emptied, so that the
// document, imported back over its workflow, keeps the stored secrets
// (KeepSecrets).
func ExportWithoutSecrets(doc []byte) []byte {
	return rewriteObject(nil, gjson.ParseBytes(doc), func(key string, v gjson.Result, dst []byte) ([]byte, bool) {
		if !strings.EqualFold(key, "trigger") || !v.IsObject() {
			return append(dst, v.Raw...), true
		}
		return rewriteObject(dst, v, func(key string, v gjson.Result, dst []byte) ([]byte, bool) {
			for _, g := range secretGroups {
				if !strings.EqualFold(key, g.object) || !v.IsObject() {
					continue
				}
				return rewriteObject(dst, v, func(key string, v gjson.Result, dst []byte) ([]byte, bool) {
					if containsFold(g.members, key) {
						return dst, false
					}
					return append(dst, v.Raw...), true
				}), true
			}
			return append(dst, v.Raw...), true
		}), true
	})
}

// KeepSecrets returns an incoming document for workflow cur in which each
// secret setting the document leaves out (no password in basicAuth, neither
// secret nor secrets in verify) takes its value from cur, the current
// revision: a document exported without secrets (ExportWithoutSecrets)
// and imported back over its workflow keeps working (product.md §11). A
// secret the document sets, even to "", is the document's. A document that
// is not an object is returned as it is, for PrepareDocument to refuse.
func KeepSecrets(raw []byte, cur *Workflow) []byte {
	root := gjson.ParseBytes(raw)
	trigger, ok := memberFold(root, "trigger")
	if !root.IsObject() || !ok || !trigger.IsObject() {
		return raw
	}
	current, _ := memberFold(gjson.ParseBytes(InjectSecret(cur.Stored, cur.Secret)), "trigger")
	newTrigger := []byte(trigger.Raw)
	changed := false
	for _, g := range secretGroups {
		obj, ok := memberFold(trigger, g.object)
		if !ok || !obj.IsObject() {
			continue
		}
		if hasAnyFold(obj, g.members) {
			continue
		}
		old, ok := memberFold(current, g.object)
		if !ok || !old.IsObject() {
			continue
		}
		updated := []byte(obj.Raw)
		old.ForEach(func(k, v gjson.Result) bool {
			// The stored spelling of the key, which may be "Password".
			if containsFold(g.members, k.Str) {
				updated = SetTopLevel(updated, k.Str, []byte(v.Raw))
				changed = true
			}
			return true
		})
		newTrigger = SetTopLevel(newTrigger, g.object, updated)
	}
	if !changed {
		return raw
	}
	return SetTopLevel(raw, "trigger", newTrigger)
}

// memberFold returns the first member of obj named key, matched without
// regard to case as encoding/json matches keys.
func memberFold(obj gjson.Result, key string) (gjson.Result, bool) {
	var out gjson.Result
	found := false
	if !obj.IsObject() {
		return out, false
	}
	obj.ForEach(func(k, v gjson.Result) bool {
		if strings.EqualFold(k.Str, key) {
			out, found = v, true
			return false
		}
		return true
	})
	return out, found
}

func hasAnyFold(obj gjson.Result, keys []string) bool {
	for _, k := range keys {
		if _, ok := memberFold(obj, k); ok {
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
