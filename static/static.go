// Package static embeds the admin UI's assets (stylesheet, vendored htmx,
// app.js, the favicon) into the binary and gives each one a content hash.
//
// Pages link assets through URL, which appends the hash as a query string
// ("/static/app.css?v=3f2a9c1b0d4e"). The server can therefore send them with
// a long, immutable cache lifetime: a changed file gets a new URL. The htmx
// version is part of its file name so an upgrade is a visible, reviewed change.
//
// The package is a leaf: it imports only the standard library.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
)

//go:embed *.css *.js *.svg
var files embed.FS

// asset is one embedded file with what the server needs to send it.
type asset struct {
	data        []byte
	contentType string
	hash        string
}

// assets is filled once at init and read-only afterwards, so it is safe for
// concurrent use without locking.
var assets = load()

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
		m[name] = asset{data: data, contentType: ct, hash: hex.EncodeToString(sum[:])[:12]}
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
