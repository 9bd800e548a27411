package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/static"
	"github.com/hookflow/hookflow/web"
)

// Browsers ask for /favicon.ico whatever the page links: it redirects,
// without a session, to the SVG icon, which is served as an image.
func TestFavicon(t *testing.T) {
	t.Parallel()
	app := newTestServer(t, web.Config{}, "").app

	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		res, err := app.Test(httptest.NewRequest(http.MethodGet, path, nil), -1)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, b
	}

	res, _ := get("/favicon.ico")
	if res.StatusCode != http.StatusMovedPermanently {
		t.Fatalf("GET /favicon.ico: status %d, want 301", res.StatusCode)
	}
	loc := res.Header.Get("Location")
	if want := static.URL("favicon.svg"); loc != want {
		t.Fatalf("Location = %q, want %q", loc, want)
	}

	res, body := get(loc)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", loc, res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); ct != "image/svg+xml" {
		t.Errorf("Content-Type = %q, want image/svg+xml", ct)
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control = %q, want an immutable asset", cc)
	}
	if !strings.HasPrefix(string(body), "<svg") {
		t.Errorf("body = %.40q, want an SVG", body)
	}
}
