package outbound

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/hookflow/hookflow/engine"
)

// TestDenyPrivateLoopback: under private, a call to a loopback server is
// refused before anything reaches it. The default dialer is used, with its
// Control hook; the server counts requests and connections.
func TestDenyPrivateLoopback(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {})
	c := newClient(t, Config{Deny: DenyPrivate})
	for _, u := range []string{srv.URL + "/hook", "http://[::ffff:127.0.0.1]:" + srv.port() + "/hook"} {
		_, err := c.Do(context.Background(), &engine.OutboundRequest{Method: "POST", URL: u, Body: []byte("x")})
		wantErr(t, err, engine.OutboundRefused, "refused by the outbound policy (--outbound-deny private)")
	}
	_, err := c.Do(context.Background(), &engine.OutboundRequest{Method: "GET", URL: srv.URL})
	e := wantErr(t, err, engine.OutboundRefused, "")
	if e.Message != "address 127.0.0.1 refused by the outbound policy (--outbound-deny private)" {
		t.Errorf("message %q", e.Message)
	}
	if h, n := srv.hits.Load(), srv.conns.Load(); h != 0 || n != 0 {
		t.Errorf("the loopback server saw %d requests on %d connections, want none", h, n)
	}

	// Under metadata (the default) and none, loopback is fine.
	for _, p := range []Policy{DenyMetadata, DenyNone} {
		resp := do(t, newClient(t, Config{Deny: p}), &engine.OutboundRequest{Method: "GET", URL: srv.URL})
		if resp.Status != 200 {
			t.Errorf("%v: status %d", p, resp.Status)
		}
	}
}

// TestDenyMetadata: the metadata address, in every spelling and behind a
// host name, is refused before any dial. The resolver and the dialer are
// stubs: nothing leaves the machine.
func TestDenyMetadata(t *testing.T) {
	t.Parallel()
	res := newResolver(map[string][]string{
		"metadata.test": {"169.254.169.254"},
		"mapped.test":   {"::ffff:169.254.169.254"},
		"aws6.test":     {"fd00:ec2::254"},
		"mixed.test":    {"169.254.169.254,127.0.0.1"},
	})
	dl := &dialLog{t: t}
	c := newClient(t, Config{Resolver: res, Dial: dl.dial})
	for u, msg := range map[string]string{
		"http://169.254.169.254/latest/meta-data/":          "address 169.254.169.254 refused by the outbound policy (--outbound-deny metadata)",
		"http://169.254.1.1:8080/":                          "address 169.254.1.1 refused",
		"http://[::ffff:169.254.169.254]/latest/meta-data/": "address ::ffff:169.254.169.254 refused",
		"http://[::ffff:a9fe:a9fe]/":                        "address ::ffff:169.254.169.254 refused",
		"http://[fd00:ec2::254]/latest/meta-data/":          "address fd00:ec2::254 refused",
		"http://0.0.0.0:80/":                                "address 0.0.0.0 refused",
		"http://[::]:80/":                                   "address :: refused",
		"http://metadata.test/latest/meta-data/?k=SECRET":   "address 169.254.169.254 (metadata.test) refused by the outbound policy (--outbound-deny metadata)",
		"http://mapped.test/":                               "address ::ffff:169.254.169.254 (mapped.test) refused",
		"https://aws6.test/":                                "address fd00:ec2::254 (aws6.test) refused",
	} {
		_, err := c.Do(context.Background(), &engine.OutboundRequest{Method: "GET", URL: u})
		wantErr(t, err, engine.OutboundRefused, msg)
	}
	if d := dl.dialled(); len(d) != 0 {
		t.Fatalf("dialled %v, want nothing", d)
	}

	// A name with a refused and an allowed address: only the allowed one
	// is dialled (and here nothing listens on port 1 of loopback).
	_, err := c.Do(context.Background(), &engine.OutboundRequest{Method: "GET", URL: "http://mixed.test:1/"})
	wantErr(t, err, engine.OutboundConnect, "connection refused by 127.0.0.1:1")
	if d := dl.dialled(); !slices.Equal(d, []string{"127.0.0.1:1"}) {
		t.Errorf("dialled %v, want only 127.0.0.1:1", d)
	}
}

// TestDenyOnRedirect: the policy is checked on every hop; a loopback server
// that redirects to the metadata address gets the call, the metadata
// address does not.
func TestDenyOnRedirect(t *testing.T) {
	t.Parallel()
	srv := newServer(t, redirector)
	res := newResolver(map[string][]string{"metadata.test": {"169.254.169.254"}})
	dl := &dialLog{t: t}
	c := newClient(t, Config{Resolver: res, Dial: dl.dial})
	for to, msg := range map[string]string{
		"http://169.254.169.254/latest/meta-data/iam/": "address 169.254.169.254 refused",
		"http://metadata.test/latest/meta-data/":       "address 169.254.169.254 (metadata.test) refused",
		"http://[::ffff:169.254.169.254]:80/":          "address ::ffff:169.254.169.254 refused",
	} {
		hits := srv.hits.Load()
		_, err := c.Do(context.Background(), &engine.OutboundRequest{Method: "GET",
			URL: fmt.Sprintf("%s/from?code=307&to=%s", srv.URL, url.QueryEscape(to))})
		wantErr(t, err, engine.OutboundRefused, msg)
		if srv.hits.Load() != hits+1 {
			t.Errorf("%s: the first hop was not served", to)
		}
	}
	for _, a := range dl.dialled() {
		if a != srv.Listener.Addr().String() {
			t.Errorf("dialled %s", a)
		}
	}
}

// TestDenyRebinding: a name that resolves to loopback first and to the
// metadata address next is refused on the new connection that follows,
// both between calls and between the hops of one call.
func TestDenyRebinding(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		// Closing the connection makes the next request dial again.
		w.Header().Set("Connection", "close")
		if r.URL.Path == "/again" {
			http.Redirect(w, r, "/done", http.StatusFound)
			return
		}
		io.WriteString(w, "ok")
	})
	res := newResolver(map[string][]string{
		"rebind.test": {"127.0.0.1", "169.254.169.254"},
		"hop.test":    {"127.0.0.1", "169.254.169.254"},
	})
	dl := &dialLog{t: t}
	c := newClient(t, Config{Resolver: res, Dial: dl.dial})
	base := "http://rebind.test:" + srv.port()
	if resp := do(t, c, &engine.OutboundRequest{Method: "GET", URL: base + "/"}); string(resp.Body) != "ok" {
		t.Fatalf("first call: %q", resp.Body)
	}
	_, err := c.Do(context.Background(), &engine.OutboundRequest{Method: "GET", URL: base + "/"})
	wantErr(t, err, engine.OutboundRefused, "address 169.254.169.254 (rebind.test) refused")

	_, err = c.Do(context.Background(), &engine.OutboundRequest{Method: "GET", URL: "http://hop.test:" + srv.port() + "/again"})
	wantErr(t, err, engine.OutboundRefused, "address 169.254.169.254 (hop.test) refused")

	if d := dl.dialled(); len(d) != 2 || d[0] != "127.0.0.1:"+srv.port() || d[1] != d[0] {
		t.Errorf("dialled %v, want loopback twice and nothing else", d)
	}
	if n := srv.hits.Load(); n != 2 {
		t.Errorf("server hits %d, want 2", n)
	}
}
