package engine

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// readOnlyFields are added to exported documents and dropped from incoming
// ones, so that an exported document can be sent back unchanged.
var readOnlyFields = map[string]bool{"id": true, "key": true, "url": true, "revision": true, "createdAt": true, "updatedAt": true}

// PrepareDocument validates an incoming document and returns the form to
// store: compact JSON in the order given, extra fields kept, read-only
// fields (id, key, url, revision, ...) dropped and every secret (see
// Secrets) taken out, to be stored encrypted apart from the document. A
// secret's member stays in place with an empty value ("" or []), so that
// InjectSecrets puts it back where it was. Keys are matched without regard
// to case, as encoding/json matches them: a "Password" key sets the
// password too and must not stay in plain text.
func PrepareDocument(raw []byte) (stored []byte, secrets Secrets, doc *Document, err error) {
	doc, err = ParseDocument(raw)
	if err != nil {
		return nil, Secrets{}, nil, err
	}
	root := gjson.ParseBytes(raw)
	if !root.IsObject() {
		return nil, Secrets{}, nil, Errorf(EINVALID, "document: must be a JSON object")
	}
	stored = rewriteObject(nil, root, func(key string, v gjson.Result, dst []byte) ([]byte, bool) {
		if readOnlyFields[key] {
			return dst, false
		}
		return append(dst, v.Raw...), true
	})
	stored = rewriteSecrets(stored, func(name string, _ gjson.Result, dst []byte) ([]byte, bool) {
		if name == "secrets" {
			return append(dst, "[]"...), true
		}
		return append(dst, `""`...), true
	})
	var buf bytes.Buffer
	if err := json.Compact(&buf, stored); err != nil {
		return nil, Secrets{}, nil, Errorf(EINVALID, "document: %s", err.Error())
	}
	return buf.Bytes(), secretsOf(doc), doc, nil
}

// rewriteObject re-emits a JSON object in order, letting fn rewrite or drop
// each member (fn appends the value to dst and says whether to keep it).
func rewriteObject(dst []byte, obj gjson.Result, fn func(key string, v gjson.Result, dst []byte) ([]byte, bool)) []byte {
	dst = append(dst, '{')
	first := true
	obj.ForEach(func(k, v gjson.Result) bool {
		mark := len(dst)
		if !first {
			dst = append(dst, ',')
		}
		dst = append(dst, k.Raw...)
		dst = append(dst, ':')
		var keep bool
		dst, keep = fn(k.Str, v, dst)
		if !keep {
			dst = dst[:mark]
		} else {
			first = false
		}
		return true
	})
	return append(dst, '}')
}

// InjectSecrets puts the secrets back into a stored document, in the
// members PrepareDocument emptied.
func InjectSecrets(stored []byte, s Secrets) []byte {
	if s.IsZero() {
		return stored
	}
	return rewriteSecrets(stored, func(name string, v gjson.Result, dst []byte) ([]byte, bool) {
		switch {
		case name == "password" && s.BasicAuthPassword != "":
			return AppendJSONString(dst, s.BasicAuthPassword), true
		case name == "secret" && s.VerifySecret != "":
			return AppendJSONString(dst, s.VerifySecret), true
		case name == "secrets" && s.VerifySecrets != nil:
			return appendStrings(dst, s.VerifySecrets), true
		}
		return append(dst, v.Raw...), true
	})
}

// DropSecrets returns doc without any secret member (Basic Auth password,
// verify secret and secrets): the form of an export without secrets, which
// a PUT accepts back, keeping the stored secrets (see KeepSecrets).
func DropSecrets(doc []byte) []byte {
	if !gjson.ValidBytes(doc) || !gjson.ParseBytes(doc).IsObject() {
		return doc
	}
	return rewriteSecrets(doc, func(_ string, _ gjson.Result, dst []byte) ([]byte, bool) { return dst, false })
}

// KeepSecrets returns an incoming document with the stored secrets added
// where it has none (product.md §11: a document sent without a secret value
// keeps the stored one): a trigger.basicAuth without "password" gets the
// stored password; a trigger.verify with neither "secret" nor "secrets"
// gets the stored one, in the member it was stored in. A document that
// gives a secret (even an empty one) replaces it; one without basicAuth or
// verify has nothing to keep. Documents that are not JSON objects come back
// as they are, for ParseDocument to refuse.
func KeepSecrets(raw []byte, stored Secrets) []byte {
	if stored.IsZero() || !gjson.ValidBytes(raw) {
		return raw
	}
	root := gjson.ParseBytes(raw)
	if !root.IsObject() {
		return raw
	}
	return rewriteObject(nil, root, func(key string, v gjson.Result, dst []byte) ([]byte, bool) {
		if !strings.EqualFold(key, "trigger") || !v.IsObject() {
			return append(dst, v.Raw...), true
		}
		return rewriteObject(dst, v, func(key string, v gjson.Result, dst []byte) ([]byte, bool) {
			if !v.IsObject() {
				return append(dst, v.Raw...), true
			}
			switch secretSection(key) {
			case "basicAuth":
				if stored.BasicAuthPassword != "" && !hasMemberFold(v, "password") {
					return appendMember(dst, v, "password", AppendJSONString(nil, stored.BasicAuthPassword)), true
				}
			case "verify":
				if hasMemberFold(v, "secret") || hasMemberFold(v, "secrets") {
					break
				}
				if stored.VerifySecret != "" {
					return appendMember(dst, v, "secret", AppendJSONString(nil, stored.VerifySecret)), true
				}
				if stored.VerifySecrets != nil {
					return appendMember(dst, v, "secrets", appendStrings(nil, stored.VerifySecrets)), true
				}
			}
			return append(dst, v.Raw...), true
		}), true
	})
}

// secretSection names the trigger member key when it holds secrets.
func secretSection(key string) string {
	switch {
	case strings.EqualFold(key, "basicAuth"):
		return "basicAuth"
	case strings.EqualFold(key, "verify"):
		return "verify"
	}
	return ""
}

// secretName names the member key of a section when it holds a secret.
func secretName(section, key string) string {
	switch {
	case section == "basicAuth" && strings.EqualFold(key, "password"):
		return "password"
	case section == "verify" && strings.EqualFold(key, "secret"):
		return "secret"
	case section == "verify" && strings.EqualFold(key, "secrets"):
		return "secrets"
	}
	return ""
}

// rewriteSecrets re-emits doc with fn deciding each secret member:
// trigger.basicAuth.password, trigger.verify.secret, trigger.verify.secrets
// (keys matched without regard to case).
func rewriteSecrets(doc []byte, fn func(name string, v gjson.Result, dst []byte) ([]byte, bool)) []byte {
	return rewriteObject(nil, gjson.ParseBytes(doc), func(key string, v gjson.Result, dst []byte) ([]byte, bool) {
		if !strings.EqualFold(key, "trigger") || !v.IsObject() {
			return append(dst, v.Raw...), true
		}
		return rewriteObject(dst, v, func(key string, v gjson.Result, dst []byte) ([]byte, bool) {
			section := secretSection(key)
			if section == "" || !v.IsObject() {
				return append(dst, v.Raw...), true
			}
			return rewriteObject(dst, v, func(key string, v gjson.Result, dst []byte) ([]byte, bool) {
				if name := secretName(section, key); name != "" {
					return fn(name, v, dst)
				}
				return append(dst, v.Raw...), true
			}), true
		}), true
	})
}

// hasMemberFold reports whether the object has a member named key, matched
// without regard to case.
func hasMemberFold(obj gjson.Result, key string) bool {
	found := false
	obj.ForEach(func(k, _ gjson.Result) bool {
		found = strings.EqualFold(k.Str, key)
		return !found
	})
	return found
}

// appendMember appends the object with one more member, name: value.
func appendMember(dst []byte, obj gjson.Result, name string, value []byte) []byte {
	dst = rewriteObject(dst, obj, func(_ string, v gjson.Result, dst []byte) ([]byte, bool) {
		return append(dst, v.Raw...), true
	})
	dst = dst[:len(dst)-1] // reopen the object
	if dst[len(dst)-1] != '{' {
		dst = append(dst, ',')
	}
	dst = AppendJSONString(dst, name)
	dst = append(dst, ':')
	dst = append(dst, value...)
	return append(dst, '}')
}

// appendStrings appends a JSON array of strings.
func appendStrings(dst []byte, list []string) []byte {
	dst = append(dst, '[')
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, s)
	}
	return append(dst, ']')
}

// ExportDocument returns the document as the admin API shows it: id, key,
// url and revision first, then the stored document with its secrets, and
// "enabled" saying the workflow's state (not what the revision's document
// said when it was saved).
func ExportDocument(w *Workflow, url string) []byte {
	return exportDocument(w, url, InjectSecrets(w.Stored, w.Secrets))
}

// ExportDocumentWithoutSecrets returns the document as ExportDocument does,
// without any secret member: what the UI's export and the CLI give unless
// asked for the secrets. A PUT of it keeps the stored secrets.
func ExportDocumentWithoutSecrets(w *Workflow, url string) []byte {
	return exportDocument(w, url, DropSecrets(w.Stored))
}

func exportDocument(w *Workflow, url string, doc []byte) []byte {
	if w.Doc != nil {
		doc = SetTopLevel(doc, "enabled", strconv.AppendBool(nil, w.Doc.IsEnabled()))
	}
	out := make([]byte, 0, len(doc)+len(url)+96)
	out = append(out, `{"id":`...)
	out = strconv.AppendInt(out, w.ID, 10)
	out = append(out, `,"key":`...)
	out = AppendJSONString(out, w.Key)
	out = append(out, `,"url":`...)
	out = AppendJSONString(out, url)
	out = append(out, `,"revision":`...)
	out = strconv.AppendInt(out, int64(w.Revision), 10)
	if len(doc) > 2 {
		out = append(out, ',')
		out = append(out, doc[1:]...)
	} else {
		out = append(out, '}')
	}
	return out
}

// SetTopLevel returns doc with its top-level member key set to the JSON
// value raw, leaving every other member, their order and their bytes as
// they are. Keys match without regard to case, as encoding/json matches
// them; later duplicates are dropped and a missing key is appended.
func SetTopLevel(doc []byte, key string, raw []byte) []byte {
	done := false
	out := rewriteObject(nil, gjson.ParseBytes(doc), func(k string, v gjson.Result, dst []byte) ([]byte, bool) {
		if !strings.EqualFold(k, key) {
			return append(dst, v.Raw...), true
		}
		if done {
			return dst, false
		}
		done = true
		return append(dst, raw...), true
	})
	if done {
		return out
	}
	out = out[:len(out)-1] // reopen the object
	if len(out) > 1 {
		out = append(out, ',')
	}
	out = AppendJSONString(out, key)
	out = append(out, ':')
	out = append(out, raw...)
	return append(out, '}')
}
