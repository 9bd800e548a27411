package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/hookflow/hookflow/static"
	"github.com/hookflow/hookflow/web"
)

// decode undoes a reply's Content-Encoding.
func decode(t *testing.T, enc string, body []byte) []byte {
	t.Helper()
	var r io.Reader
	switch enc {
	case "":
		return body
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		r = zr
	default:
		t.Fatalf("unexpected Content-Encoding %q", enc)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", enc, err)
	}
	return out
}

func get(t *testing.T, s *testServer, path string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := s.app.Test(req, -1)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// TestStaticCompressed is issue 15's point 8 for the assets: each text
// asset goes out in the best encoding the client accepts, compressed once,
// with Vary: Accept-Encoding and an entity tag per encoding that
// revalidates only its own encoding.
func TestStaticCompressed(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, web.Config{}, "")
	for _, name := range []string{"app.css", "htmx-2.0.11.min.js", "app.js", "editor.js", "list.js"} {
		orig, _, hash, _ := static.Asset(name)
		url := static.URL(name)
		for _, tc := range []struct{ accept, enc string }{
			{"gzip, deflate, br, zstd", "br"},
			{"gzip", "gzip"},
			{"br;q=0, gzip;q=0.5", "gzip"},
			{"", ""},
			{"identity", ""},
		} {
			res, body := get(t, s, url, "Accept-Encoding", tc.accept)
			what := name + " for Accept-Encoding " + tc.accept
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s: status %d", what, res.StatusCode)
			}
			if got := res.Header.Get("Content-Encoding"); got != tc.enc {
				t.Errorf("%s: Content-Encoding %q, want %q", what, got, tc.enc)
				continue
			}
			if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("%s: Vary %q", what, res.Header.Get("Vary"))
			}
			wantTag := `"` + hash + `"`
			if tc.enc != "" {
				wantTag = `"` + hash + "-" + tc.enc + `"`
				if len(body) >= len(orig)*9/10 {
					t.Errorf("%s: %d bytes for %d", what, len(body), len(orig))
				}
			}
			if got := res.Header.Get("ETag"); got != wantTag {
				t.Errorf("%s: ETag %s, want %s", what, got, wantTag)
			}
			if !bytes.Equal(decode(t, tc.enc, body), orig) {
				t.Errorf("%s: the body is not the asset", what)
			}
			if !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
				t.Errorf("%s: Cache-Control %q", what, res.Header.Get("Cache-Control"))
			}
			// Its own tag revalidates; another encoding's does not.
			if res, _ := get(t, s, url, "Accept-Encoding", tc.accept, "If-None-Match", wantTag); res.StatusCode != http.StatusNotModified {
				t.Errorf("%s: If-None-Match %s answered %d, want 304", what, wantTag, res.StatusCode)
			}
			if res, _ := get(t, s, url, "Accept-Encoding", tc.accept, "If-None-Match", `"`+hash+`-other"`); res.StatusCode != http.StatusOK {
				t.Errorf("%s: another encoding's tag answered %d, want 200", what, res.StatusCode)
			}
		}
	}
}

// htmlFlow answers every request with an HTML page of its own making,
// over a kilobyte: what the flow sends must go out as it is.
const htmlFlow = `{"title":"Page","mode":"sync","nodes":[{"key":"page","type":"response","config":{"status":200,
 "headers":[{"name":"Content-Type","value":"text/html; charset=utf-8"}],"body":"<!DOCTYPE html><title>x</title>` + "{{$context.body.pad}}" + `"}}]}`

// TestHTMLCompressed is issue 15's point 8 for pages: HTML pages (and the
// sign-in page before any session) are compressed as the client accepts,
// with Vary; the webhook's replies and the API's JSON are not, whatever
// the client accepts.
func TestHTMLCompressed(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, web.Config{}, "")
	for _, tc := range []struct{ accept, enc string }{{"gzip, deflate, br", "gzip"}, {"br", "br"}, {"", ""}, {"gzip;q=0", ""}} {
		res, body := get(t, s, "/signin", "Accept-Encoding", tc.accept)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != tc.enc {
			t.Errorf("sign-in for %q: %d, Content-Encoding %q, want %q", tc.accept, res.StatusCode, res.Header.Get("Content-Encoding"), tc.enc)
			continue
		}
		if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
			t.Errorf("sign-in for %q: Vary %q", tc.accept, res.Header.Get("Vary"))
		}
		page := decode(t, tc.enc, body)
		if !bytes.HasPrefix(page, []byte("<!doctype html>")) || !bytes.Contains(page, []byte(`name="password"`)) {
			t.Errorf("sign-in for %q: %.60q", tc.accept, page)
		}
		if tc.enc != "" && len(body) >= len(page)/2 {
			t.Errorf("sign-in for %q: %d bytes for %d", tc.accept, len(body), len(page))
		}
	}

	// The webhook's HTML reply, as the flow made it.
	e := &apiEnv{s}
	w := e.create(t, htmlFlow)
	pad := strings.Repeat("hello ", 500)
	r := e.trigger(t, w.Get("key").String(), "", `{"pad":"`+pad+`"}`, "Accept-Encoding", "gzip, br")
	if r.status != http.StatusOK || r.header.Get("Content-Encoding") != "" || !strings.Contains(string(r.body), pad) {
		t.Errorf("webhook reply: %d, Content-Encoding %q, %d bytes", r.status, r.header.Get("Content-Encoding"), len(r.body))
	}
	if v := r.header.Get("Vary"); strings.Contains(v, "Accept-Encoding") {
		t.Errorf("webhook reply varies on Accept-Encoding: %q", v)
	}
	// The API's JSON.
	req := httptest.NewRequest(http.MethodGet, "/api/v1/workflows/"+w.Get("id").String(), nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Accept-Encoding", "gzip, br")
	if r := e.send(t, req); r.status != http.StatusOK || r.header.Get("Content-Encoding") != "" || !strings.HasPrefix(string(r.body), "{") {
		t.Errorf("API: %d, Content-Encoding %q", r.status, r.header.Get("Content-Encoding"))
	}
}
