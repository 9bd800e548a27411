package engine

import (
	"reflect"
	"strings"
	"sync"

	"github.com/tidwall/gjson"
)

// KeepUnknownFields returns edited, a document encoded from a Document
// (which knows only the fields Hookflow reads), with the members of stored
// that Document does not know put back: extensions an API client wrote,
// fields of a newer version, a node's "test" settings. The admin UI edits a
// decoded Document; without this, every save from the browser would drop
// what it does not show.
//
// Objects are matched by their place in the document; nodes by key
// (anywhere in the tree, so that a moved node keeps its fields), trigger
// fields by path and reply headers by name. A known member is taken from
// edited alone, so that clearing or removing it in the editor sticks. Node
// configs are taken from edited as they are: each node kind's editor keeps
// what its form does not show.
func KeepUnknownFields(stored, edited []byte) []byte {
	old := gjson.ParseBytes(stored)
	if !old.IsObject() {
		return edited
	}
	nodes := map[string]gjson.Result{}
	indexNodes(member(old, "nodes"), nodes)
	return mergeKnown(nil, old, gjson.ParseBytes(edited), documentType, nodes)
}

var (
	documentType = reflect.TypeFor[Document]()
	nodeType     = reflect.TypeFor[Node]()
)

// matchKeys names the member that identifies an element of a list, per
// element type.
var matchKeys = map[reflect.Type]string{
	nodeType:                       "key",
	reflect.TypeFor[Field]():       "path",
	reflect.TypeFor[ReplyHeader](): "name",
}

// indexNodes maps every node of a stored tree by key.
func indexNodes(list gjson.Result, into map[string]gjson.Result) {
	list.ForEach(func(_, n gjson.Result) bool {
		if k := member(n, "key"); k.Type == gjson.String {
			if _, dup := into[k.Str]; !dup {
				into[k.Str] = n
			}
		}
		member(n, "branches").ForEach(func(_, b gjson.Result) bool {
			indexNodes(b, into)
			return true
		})
		return true
	})
}

// member returns an object's member by key, matched without regard to case
// as encoding/json matches them (an exact match first).
func member(obj gjson.Result, key string) gjson.Result {
	if !obj.IsObject() {
		return gjson.Result{}
	}
	var exact, folded gjson.Result
	obj.ForEach(func(k, v gjson.Result) bool {
		switch {
		case k.Str == key:
			exact = v
			return false
		case !folded.Exists() && strings.EqualFold(k.Str, key):
			folded = v
		}
		return true
	})
	if exact.Exists() {
		return exact
	}
	return folded
}

// mergeKnown appends cur, the edited value of Go type t, with the unknown
// members of old, its stored counterpart, put back.
func mergeKnown(dst []byte, old, cur gjson.Result, t reflect.Type, nodes map[string]gjson.Result) []byte {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct && cur.IsObject():
		if t == nodeType {
			if k := member(cur, "key"); k.Type == gjson.String {
				if n, ok := nodes[k.Str]; ok {
					old = n
				}
			}
		}
		if !old.IsObject() {
			return append(dst, cur.Raw...)
		}
		known := jsonFields(t)
		dst = append(dst, '{')
		first := true
		sep := func() {
			if !first {
				dst = append(dst, ',')
			}
			first = false
		}
		cur.ForEach(func(k, v gjson.Result) bool {
			sep()
			dst = append(dst, k.Raw...)
			dst = append(dst, ':')
			if ft, ok := known[strings.ToLower(k.Str)]; ok {
				dst = mergeKnown(dst, member(old, k.Str), v, ft, nodes)
			} else {
				dst = append(dst, v.Raw...)
			}
			return true
		})
		old.ForEach(func(k, v gjson.Result) bool {
			if _, ok := known[strings.ToLower(k.Str)]; ok || member(cur, k.Str).Exists() {
				return true
			}
			sep()
			dst = append(dst, k.Raw...)
			dst = append(dst, ':')
			dst = append(dst, v.Raw...)
			return true
		})
		return append(dst, '}')
	case t.Kind() == reflect.Slice && cur.IsArray():
		id, ok := matchKeys[t.Elem()]
		if !ok {
			return append(dst, cur.Raw...)
		}
		byID := map[string]gjson.Result{}
		old.ForEach(func(_, v gjson.Result) bool {
			if k := member(v, id); k.Type == gjson.String {
				if _, dup := byID[k.Str]; !dup {
					byID[k.Str] = v
				}
			}
			return true
		})
		return appendEach(dst, '[', ']', cur, func(dst []byte, _, v gjson.Result) []byte {
			return mergeKnown(dst, byID[member(v, id).Str], v, t.Elem(), nodes)
		})
	case t.Kind() == reflect.Map && cur.IsObject():
		return appendEach(dst, '{', '}', cur, func(dst []byte, k, v gjson.Result) []byte {
			dst = append(dst, k.Raw...)
			dst = append(dst, ':')
			return mergeKnown(dst, member(old, k.Str), v, t.Elem(), nodes)
		})
	}
	return append(dst, cur.Raw...)
}

// appendEach appends the array or object cur between start and end, each
// of its elements (or members) written by elem and separated by commas.
func appendEach(dst []byte, start, end byte, cur gjson.Result, elem func(dst []byte, k, v gjson.Result) []byte) []byte {
	dst = append(dst, start)
	first := true
	cur.ForEach(func(k, v gjson.Result) bool {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = elem(dst, k, v)
		return true
	})
	return append(dst, end)
}

var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// jsonFields maps the lower-cased JSON names of a struct's fields to their
// types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[strings.ToLower(name)] = f.Type
	}
	fieldCache.Store(t, m)
	return m
}
