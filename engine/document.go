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
// fields (id, key, url, revision, ...) dropped and the Basic Auth password
// taken out, to be stored encrypted apart from the document. Keys are
// matched without regard to case, as encoding/json matches them: a
// "Password" key sets the password too and must not stay in plain text.
func PrepareDocument(raw []byte) (stored []byte, secret string, doc *Document, err error) {
	doc, err = ParseDocument(raw)
	if err != nil {
		return nil, "", nil, err
	}
	root := gjson.ParseBytes(raw)
	if !root.IsObject() {
		return nil, "", nil, Errorf(EINVALID, "document: must be a JSON object")
	}
	stored = rewriteObject(nil, root, func(key string, v gjson.Result, dst []byte) ([]byte, bool) {
		if readOnlyFields[key] {
			return dst, false
		}
		if !strings.EqualFold(key, "trigger") || !v.IsObject() {
			return append(dst, v.Raw...), true
		}
		return rewriteObject(dst, v, func(key string, v gjson.Result, dst []byte) ([]byte, bool) {
			if !strings.EqualFold(key, "basicAuth") || !v.IsObject() {
				return append(dst, v.Raw...), true
			}
			return rewriteObject(dst, v, func(key string, v gjson.Result, dst []byte) ([]byte, bool) {
				if strings.EqualFold(key, "password") {
					return append(dst, `""`...), true
				}
				return append(dst, v.Raw...), true
			}), true
		}), true
	})
	var buf bytes.Buffer
	if err := json.Compact(&buf, stored); err != nil {
		return nil, "", nil, Errorf(EINVALID, "document: %s", err.Error())
	}
	return buf.Bytes(), doc.Trigger.BasicAuth.Password, doc, nil
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

// InjectSecret puts the Basic Auth password back into a stored document.
func InjectSecret(stored []byte, secret string) []byte {
	if secret == "" {
		return stored
	}
	root := gjson.ParseBytes(stored)
	return rewriteObject(nil, root, func(key string, v gjson.Result, dst []byte) ([]byte, bool) {
		if !strings.EqualFold(key, "trigger") || !v.IsObject() {
			return append(dst, v.Raw...), true
		}
		return rewriteObject(dst, v, func(key string, v gjson.Result, dst []byte) ([]byte, bool) {
			if !strings.EqualFold(key, "basicAuth") || !v.IsObject() {
				return append(dst, v.Raw...), true
			}
			return rewriteObject(dst, v, func(key string, v gjson.Result, dst []byte) ([]byte, bool) {
				if strings.EqualFold(key, "password") {
					return AppendJSONString(dst, secret), true
				}
				return append(dst, v.Raw...), true
			}), true
		}), true
	})
}

// ExportDocument returns the document as the admin API shows it: id, key,
// url and revision first, then the stored document with its secret, and
// "enabled" saying the workflow's state (not what the revision's document
// said when it was saved).
func ExportDocument(w *Workflow, url string) []byte {
	doc := InjectSecret(w.Stored, w.Secret)
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
