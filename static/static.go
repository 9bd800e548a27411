// Package static embeds the admin UI's assets (stylesheet, vendored htmx,
// app.js, the favicon) into the binary and gives each one a content hash.
//
// Pages link assets through URL, which appends the hash as a query string
// ("/static/app.css?v=3f2a9c1b0d4e"). The server can therefore send them with
// a long, immutable cache lifetime: a changed file gets a new URL. The htmx
// version is part of its file name so an upgrade is a visible, reviewed change.
//
// Text assets are also kept compressed, with brotli and gzip at their best
// levels (Variant): each once, the first time it is asked for, so that a
// process that serves no page (the CLI, most tests) pays nothing.
//
// The package is a leaf: it imports no package of Hookflow.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"sync"

	"github.com/andybalholm/brotli"
)

//go:embed *.css *.js *.svg
var files embed.FS

// asset is one embedded file with what the server needs to send it.
type asset struct {
	data        []byte
	contentType string
	hash        string
	// br and gz are the compressed variants of a text asset (nil for the
	// others), each made once.
	br, gz *variant
}

// variant is one compressed form of an asset, made on first use.
type variant struct {
	once sync.Once
	data []byte // nil when compressing does not pay
	make func() []byte
}

func (v *variant) bytes() []byte {
	v.once.Do(func() { v.data = v.make() })
	return v.data
}

// Encodings the assets are compressed in.
const (
	EncodingBrotli = "br"
	EncodingGzip   = "gzip"
)

// assets is filled once at init and read-only afterwards (the variants
// guard themselves), so it is safe for concurrent use without locking.
var assets = load()

// compressible lists the types worth compressing; images and fonts are
// compressed already.
var compressible = map[string]bool{".css": true, ".js": true, ".json": true, ".svg": true}

// paysOff keeps a compressed form only when it saves a tenth at least.
func paysOff(orig, packed []byte) []byte {
	if len(packed) > len(orig)*9/10 {
		return nil
	}
	return packed
}

func brotliBytes(data []byte) []byte {
	var b bytes.Buffer
	w := brotli.NewWriterLevel(&b, brotli.BestCompression)
	// Writes to a bytes.Buffer cannot fail.
	w.Write(data)
	w.Close()
	return paysOff(data, b.Bytes())
}

func gzipBytes(data []byte) []byte {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression) // a valid level
	w.Write(data)
	w.Close()
	return paysOff(data, b.Bytes())
}

// contentTypes lists the types of the files we ship. It is explicit rather
// than mime.TypeByExtension, whose answer depends on the host's mime tables.
var contentTypes = map[string]string{
	".css":   "text/css; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".json":  "application/json",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".ico":   "image/x-icon",
	".woff2": "font/woff2",
}

func load() map[string]asset {
	m := make(map[string]asset)
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			ct = "application/octet-stream"
		}
		a := asset{data: data, contentType: ct, hash: hex.EncodeToString(sum[:])[:12]}
		if compressible[path.Ext(name)] {
			a.br = &variant{make: func() []byte { return brotliBytes(data) }}
			a.gz = &variant{make: func() []byte { return gzipBytes(data) }}
		}
		m[name] = a
		return nil
	})
	if err != nil {
		// Reading an embed.FS cannot fail for files the compiler embedded.
		panic(fmt.Sprintf("static: load embedded assets: %v", err))
	}
	return m
}

// Asset returns an embedded file's bytes, its content type and a short content
// hash (first 12 hex of sha256), computed once at init. The returned slice is
// shared: callers must not modify it.
func Asset(name string) (data []byte, contentType, hash string, ok bool) {
	a, ok := assets[name]
	if !ok {
		return nil, "", "", false
	}
	return a.data, a.contentType, a.hash, true
}

// Compressible reports whether an asset has compressed variants.
func Compressible(name string) bool {
	a, ok := assets[name]
	return ok && a.br != nil
}

// Variant returns an asset's bytes in encoding (EncodingBrotli,
// EncodingGzip, or "" for the bytes as they are) and their entity tag,
// which differs per encoding ("3f2a9c1b0d4e", "3f2a9c1b0d4e-br"). ok is
// false for an unknown asset, or an encoding it is not kept in (not text,
// or compressing did not pay): serve it as it is then. The slice is
// shared: callers must not modify it.
func Variant(name, encoding string) (data []byte, etag string, ok bool) {
	a, found := assets[name]
	if !found {
		return nil, "", false
	}
	var v *variant
	switch encoding {
	case "":
		return a.data, a.hash, true
	case EncodingBrotli:
		v = a.br
	case EncodingGzip:
		v = a.gz
	}
	if v == nil {
		return nil, "", false
	}
	if data = v.bytes(); data == nil {
		return nil, "", false
	}
	return data, a.hash + "-" + encoding, true
}

// URL returns the cache-busting URL of an asset: "/static/" + name + "?v=" + hash.
// It panics on unknown names: a template linking a missing asset is a
// programming error that tests catch.
func URL(name string) string {
	a, ok := assets[name]
	if !ok {
		panic(fmt.Sprintf("static: unknown asset %q", name))
	}
	return "/static/" + name + "?v=" + a.hash
}
