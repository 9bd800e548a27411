package outbound

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/hookflow/hookflow/engine"
)

// sensitiveHeaders are the headers net/http drops when a redirect leaves the
// original host; checkRedirect drops them on a downgrade to http as well.
var sensitiveHeaders = []string{"Authorization", "Www-Authenticate", "Cookie", "Cookie2", "Proxy-Authorization", "Proxy-Authenticate"}

// bodyHeaders describe the request body; they go with it.
var bodyHeaders = []string{"Content-Encoding", "Content-Language", "Content-Location", "Content-Type"}

// checkRedirect is the http.Client's CheckRedirect. net/http builds the next
// hop (copying the first request's headers, dropping Authorization and
// cookies when the host changes); this adjusts it to what browsers do:
//
//   - at most maxRedirects redirects, then an error;
//   - only http and https, and no credentials in the Location;
//   - 303 turns any method but GET and HEAD into a GET without body, and
//     301 and 302 do so for POST only: net/http also turns PUT, PATCH and
//     DELETE into GET on 301/302, which would silently skip the change the
//     call was for, so their method and body are restored; 307 and 308 keep
//     method and body;
//   - no Referer unless the caller set one: net/http would send the previous
//     URL, query string and all, to the next host;
//   - Authorization and cookies are dropped too when a hop goes from https
//     to http, where they would travel in clear text, and every header that
//     carries a credential (engine.SecretHeaderName) when a hop goes to
//     another host.
//
// The address policy needs nothing here: every new connection, whatever hop
// it is for, is checked when dialled.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > c.maxRedirects {
		return engine.Errorf(engine.OutboundInvalid, "more than %d redirects", c.maxRedirects)
	}
	if err := checkURL(req.URL, true); err != nil {
		return err
	}
	first, prev := via[0], via[len(via)-1]
	if _, ok := first.Header["Referer"]; !ok {
		req.Header.Del("Referer")
	}

	status := req.Response.StatusCode
	toGET := status == http.StatusSeeOther && prev.Method != http.MethodGet && prev.Method != http.MethodHead ||
		(status == http.StatusMovedPermanently || status == http.StatusFound) && prev.Method == http.MethodPost
	if !toGET {
		req.Method = prev.Method
	}
	if keepBody(req, via, toGET) && req.Body == nil {
		body, err := first.GetBody()
		if err != nil {
			return fmt.Errorf("outbound: redirect: %w", err)
		}
		req.Body, req.GetBody, req.ContentLength = body, first.GetBody, first.ContentLength
		for _, k := range bodyHeaders {
			if v, ok := first.Header[k]; ok {
				req.Header[k] = slices.Clone(v)
			}
		}
	}

	if first.URL.Scheme == "https" && (req.URL.Scheme == "http" ||
		slices.ContainsFunc(via, func(r *http.Request) bool { return r.URL.Scheme == "http" })) {
		for _, k := range sensitiveHeaders {
			req.Header.Del(k)
		}
	}
	// Credentials in other headers (X-Api-Key, Private-Token, ...) are not
	// net/http's to know: like Authorization, they do not follow a redirect
	// to another host.
	if req.URL.Hostname() != first.URL.Hostname() {
		for k := range req.Header {
			if engine.SecretHeaderName(k) {
				req.Header.Del(k)
			}
		}
	}
	return nil
}

// keepBody reports whether the hop req still carries the first request's
// body: the method never changed on the way, and a GET or HEAD (whose body
// has no defined meaning) went only through 307 and 308, as net/http does.
func keepBody(req *http.Request, via []*http.Request, toGET bool) bool {
	first := via[0]
	if toGET || first.ContentLength <= 0 || first.GetBody == nil {
		return false
	}
	safe := first.Method == http.MethodGet || first.Method == http.MethodHead
	hops := append(via[1:len(via):len(via)], req)
	for _, r := range hops {
		if r.Method != first.Method {
			return false
		}
		if code := r.Response.StatusCode; safe && code != http.StatusTemporaryRedirect && code != http.StatusPermanentRedirect {
			return false
		}
	}
	return true
}
