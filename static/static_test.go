package static

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

func TestAsset(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		contentType string
		contains    string
	}{
		{"app.css", "text/css; charset=utf-8", "--color-primary"},
		{"app.js", "text/javascript; charset=utf-8", "X-CSRF-Token"},
		{"htmx-2.0.11.min.js", "text/javascript; charset=utf-8", `version:"2.0.11"`},
		{"favicon.svg", "image/svg+xml", `xmlns="http://www.w3.org/2000/svg"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data, ct, hash, ok := Asset(tt.name)
			if !ok {
				t.Fatalf("Asset(%q) not found", tt.name)
			}
			if ct != tt.contentType {
				t.Errorf("content type = %q, want %q", ct, tt.contentType)
			}
			onDisk, err := os.ReadFile(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, onDisk) {
				t.Errorf("embedded bytes differ from %s on disk", tt.name)
			}
			sum := sha256.Sum256(onDisk)
			if want := hex.EncodeToString(sum[:])[:12]; hash != want {
				t.Errorf("hash = %q, want %q", hash, want)
			}
			if !bytes.Contains(data, []byte(tt.contains)) {
				t.Errorf("%s does not contain %q", tt.name, tt.contains)
			}
		})
	}
}

func TestAssetUnknown(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "nope.css", "static.go", "/app.css", "../static/app.css"} {
		if data, ct, hash, ok := Asset(name); ok || data != nil || ct != "" || hash != "" {
			t.Errorf("Asset(%q) = %d bytes, %q, %q, %v; want nothing", name, len(data), ct, hash, ok)
		}
	}
}

func TestURL(t *testing.T) {
	t.Parallel()
	_, _, hash, _ := Asset("app.css")
	if got, want := URL("app.css"), "/static/app.css?v="+hash; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	if len(hash) != 12 || strings.Trim(hash, "0123456789abcdef") != "" {
		t.Errorf("hash %q is not 12 lowercase hex digits", hash)
	}
}

func TestURLPanicsOnUnknownAsset(t *testing.T) {
	t.Parallel()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("URL of an unknown asset did not panic")
		}
		if msg, _ := r.(string); !strings.Contains(msg, "missing.js") {
			t.Errorf("panic message %q does not name the asset", msg)
		}
	}()
	URL("missing.js")
}

// TestAppJSHasNoEval guards the CSP: app.js must not need 'unsafe-eval'.
func TestAppJSHasNoEval(t *testing.T) {
	t.Parallel()
	data, _, _, _ := Asset("app.js")
	for _, bad := range []string{"eval(", "new Function", "innerHTML ="} {
		if bytes.Contains(data, []byte(bad)) {
			t.Errorf("app.js contains %q", bad)
		}
	}
}

// TestVariant: text assets are kept brotli- and gzip-compressed, each
// with its own entity tag; unknown assets and encodings are refused.
func TestVariant(t *testing.T) {
	t.Parallel()
	_, _, hash, _ := Asset("app.css")
	for _, enc := range []string{EncodingBrotli, EncodingGzip} {
		data, etag, ok := Variant("app.css", enc)
		if !ok || etag != hash+"-"+enc || len(data) == 0 {
			t.Errorf("Variant(app.css, %s) = %d bytes, %q, %v", enc, len(data), etag, ok)
		}
	}
	if data, etag, ok := Variant("app.css", ""); !ok || etag != hash || !bytes.Equal(data, assets["app.css"].data) {
		t.Errorf("identity variant: %d bytes, %q, %v", len(data), etag, ok)
	}
	if _, _, ok := Variant("app.css", "zstd"); ok {
		t.Error("a zstd variant")
	}
	if _, _, ok := Variant("nope.css", EncodingGzip); ok || Compressible("nope.css") {
		t.Error("an unknown asset")
	}
	if !Compressible("app.js") {
		t.Error("app.js is not compressible")
	}
}
