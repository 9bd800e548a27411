package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/engine"
)

func trust(pool *x509.CertPool) Config {
	return Config{TLSConfig: &tls.Config{RootCAs: pool}}
}

// echo is what /to answers: the request as the server saw it.
type echo struct {
	Method, Body, ContentType, Authorization, Cookie, Referer, Keep, APIKey string
}

// redirector answers /from?code=C&to=URL with a redirect and /to with an
// echo; /chain/N redirects N more times before answering.
func redirector(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/from":
		var code int
		fmt.Sscan(r.URL.Query().Get("code"), &code)
		w.Header().Set("Location", r.URL.Query().Get("to"))
		w.WriteHeader(code)
	case r.URL.Path == "/to":
		b, _ := io.ReadAll(r.Body)
		json.NewEncoder(w).Encode(echo{r.Method, string(b), r.Header.Get("Content-Type"),
			r.Header.Get("Authorization"), r.Header.Get("Cookie"), r.Header.Get("Referer"), r.Header.Get("X-Keep"), r.Header.Get("X-Api-Key")})
	case strings.HasPrefix(r.URL.Path, "/chain/"):
		var n int
		fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/chain/"), &n)
		if n == 0 {
			io.WriteString(w, "end")
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/chain/%d", n-1), http.StatusFound)
	}
}

func echoOf(t *testing.T, resp *engine.OutboundResponse) echo {
	t.Helper()
	var e echo
	if err := json.Unmarshal(resp.Body, &e); err != nil {
		t.Fatalf("status %d body %q: %v", resp.Status, resp.Body, err)
	}
	return e
}

func TestRedirectLimit(t *testing.T) {
	t.Parallel()
	srv := newServer(t, redirector)
	c := newClient(t, Config{})
	resp := do(t, c, &engine.OutboundRequest{Method: "GET", URL: srv.URL + "/chain/5"})
	if resp.Status != 200 || string(resp.Body) != "end" || resp.URL != srv.URL+"/chain/0" {
		t.Errorf("5 redirects: %d %q at %s", resp.Status, resp.Body, resp.URL)
	}
	hits := srv.hits.Load()
	_, err := c.Do(context.Background(), &engine.OutboundRequest{Method: "GET", URL: srv.URL + "/chain/6?token=SECRET"})
	e := wantErr(t, err, engine.OutboundInvalid, "more than 5 redirects")
	if e.Message != "more than 5 redirects" {
		t.Errorf("message %q", e.Message)
	}
	if n := srv.hits.Load() - hits; n != 6 {
		t.Errorf("6 redirects: %d requests, want 6 (the 6th redirect not followed)", n)
	}

	c2 := newClient(t, Config{MaxRedirects: 2})
	_, err = c2.Do(context.Background(), &engine.OutboundRequest{Method: "GET", URL: srv.URL + "/chain/3"})
	wantErr(t, err, engine.OutboundInvalid, "more than 2 redirects")
}

func TestRedirectMethod(t *testing.T) {
	t.Parallel()
	srv := newServer(t, redirector)
	c := newClient(t, Config{})
	for _, tc := range []struct {
		method string
		code   int
		want   string // method at /to; the body and Content-Type follow unless it became GET
	}{
		{"POST", 301, "GET"},
		{"POST", 302, "GET"},
		{"POST", 303, "GET"},
		{"PUT", 303, "GET"},
		{"DELETE", 303, "GET"},
		{"HEAD", 303, "HEAD"},
		{"GET", 303, "GET"},
		{"PUT", 301, "PUT"},
		{"PATCH", 302, "PATCH"},
		{"DELETE", 301, "DELETE"},
		{"POST", 307, "POST"},
		{"PUT", 307, "PUT"},
		{"POST", 308, "POST"},
		{"PATCH", 308, "PATCH"},
	} {
		name := fmt.Sprintf("%s %d", tc.method, tc.code)
		u := fmt.Sprintf("%s/from?code=%d&to=%s", srv.URL, tc.code, url.QueryEscape(srv.URL+"/to"))
		resp := do(t, c, &engine.OutboundRequest{Method: tc.method, URL: u, Body: []byte(`{"a":1}`),
			Headers: []engine.HeaderValue{{Name: "Content-Type", Value: "application/json"}}})
		if tc.method == "HEAD" {
			if resp.Status != 200 || resp.URL != srv.URL+"/to" {
				t.Errorf("%s: %d at %s", name, resp.Status, resp.URL)
			}
			continue
		}
		e := echoOf(t, resp)
		if e.Method != tc.want {
			t.Errorf("%s: arrived as %s, want %s", name, e.Method, tc.want)
		}
		body, ct := `{"a":1}`, "application/json"
		if tc.want == "GET" {
			body, ct = "", ""
		}
		if e.Body != body || e.ContentType != ct {
			t.Errorf("%s: body %q content-type %q, want %q %q", name, e.Body, e.ContentType, body, ct)
		}
	}

	// PUT through 301 then 307 keeps method and body all the way.
	next := fmt.Sprintf("%s/from?code=307&to=%s", srv.URL, url.QueryEscape(srv.URL+"/to"))
	u := fmt.Sprintf("%s/from?code=301&to=%s", srv.URL, url.QueryEscape(next))
	e := echoOf(t, do(t, c, &engine.OutboundRequest{Method: "PUT", URL: u, Body: []byte("v"),
		Headers: []engine.HeaderValue{{Name: "Content-Type", Value: "text/plain"}}}))
	if e.Method != "PUT" || e.Body != "v" || e.ContentType != "text/plain" {
		t.Errorf("PUT 301, 307: %+v", e)
	}
	// POST through 302 then 307: a GET without body from the 302 on.
	u = fmt.Sprintf("%s/from?code=302&to=%s", srv.URL, url.QueryEscape(next))
	e = echoOf(t, do(t, c, &engine.OutboundRequest{Method: "POST", URL: u, Body: []byte("v")}))
	if e.Method != "GET" || e.Body != "" {
		t.Errorf("POST 302, 307: %+v", e)
	}
}

// TestRedirectHeaders: Authorization and cookies go along on the same host
// and are dropped for another host or a downgrade to http; no Referer is
// added.
func TestRedirectHeaders(t *testing.T) {
	t.Parallel()
	srv := newServer(t, redirector)
	res := newResolver(map[string][]string{"api.test": {"127.0.0.1"}, "other.test": {"127.0.0.1"}})
	dl := &dialLog{t: t}
	c := newClient(t, Config{Resolver: res, Dial: dl.dial})
	hdrs := []engine.HeaderValue{
		{Name: "authorization", Value: "Bearer SECRET"}, // any case: dropped all the same
		{Name: "Cookie", Value: "s=SECRET"},
		{Name: "X-Keep", Value: "kept"},
		{Name: "X-Api-Key", Value: "SECRET"},
	}
	api, other := "http://api.test:"+srv.port(), "http://other.test:"+srv.port()
	from := func(base, to string) string {
		return fmt.Sprintf("%s/from?code=302&token=SECRET&to=%s", base, url.QueryEscape(to))
	}

	e := echoOf(t, do(t, c, &engine.OutboundRequest{Method: "GET", URL: from(api, api+"/to"), Headers: hdrs}))
	if e.Authorization != "Bearer SECRET" || e.Cookie != "s=SECRET" || e.Keep != "kept" || e.Referer != "" || e.APIKey != "SECRET" {
		t.Errorf("same host: %+v", e)
	}
	e = echoOf(t, do(t, c, &engine.OutboundRequest{Method: "GET", URL: from(api, other+"/to"), Headers: hdrs}))
	if e.Authorization != "" || e.Cookie != "" || e.Keep != "kept" || e.Referer != "" || e.APIKey != "" {
		t.Errorf("other host: %+v", e)
	}
	// Back to the first host after a detour: still dropped.
	e = echoOf(t, do(t, c, &engine.OutboundRequest{Method: "GET", URL: from(api, from(other, api+"/to")), Headers: hdrs}))
	if e.Authorization != "" || e.Cookie != "" {
		t.Errorf("api, other, api: %+v", e)
	}
	// A Referer the caller set is kept.
	e = echoOf(t, do(t, c, &engine.OutboundRequest{Method: "GET", URL: from(api, other+"/to"),
		Headers: []engine.HeaderValue{{Name: "Referer", Value: "https://hookflow.example/"}}}))
	if e.Referer != "https://hookflow.example/" {
		t.Errorf("caller's Referer: %q", e.Referer)
	}

	// https to http on the same host name (another port): net/http would
	// keep Authorization; it must not travel in clear text.
	tlsSrv := newTLSServer(t, redirector)
	pool := x509.NewCertPool()
	pool.AddCert(tlsSrv.Certificate())
	c = newClient(t, trust(pool))
	e = echoOf(t, do(t, c, &engine.OutboundRequest{Method: "GET", URL: from(tlsSrv.URL, srv.URL+"/to"), Headers: hdrs}))
	if e.Authorization != "" || e.Cookie != "" || e.Keep != "kept" {
		t.Errorf("https to http: %+v", e)
	}
	e = echoOf(t, do(t, c, &engine.OutboundRequest{Method: "GET", URL: from(tlsSrv.URL, tlsSrv.URL+"/to"), Headers: hdrs}))
	if e.Authorization != "Bearer SECRET" {
		t.Errorf("https to https, same host: %+v", e)
	}
}

func TestRedirectInvalidTarget(t *testing.T) {
	t.Parallel()
	srv := newServer(t, redirector)
	c := newClient(t, Config{})
	for to, msg := range map[string]string{
		"ftp://example.com/f":               `redirect to unsupported URL scheme "ftp"`,
		"http://user:SECRET@127.0.0.1:1/to": "redirect to a URL with credentials",
	} {
		_, err := c.Do(context.Background(), &engine.OutboundRequest{Method: "GET",
			URL: fmt.Sprintf("%s/from?code=302&to=%s", srv.URL, url.QueryEscape(to))})
		e := wantErr(t, err, engine.OutboundInvalid, msg)
		if strings.Contains(e.Message, "SECRET") {
			t.Errorf("message %q leaks a secret", e.Message)
		}
	}
}
