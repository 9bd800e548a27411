package outbound

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// classify turns a failed call into an *engine.Error with a message safe to
// show. ctx is the call's context; reading tells whether the reply header
// had arrived and the body was being read.
func classify(ctx context.Context, err error, r *engine.OutboundRequest, start time.Time, reading bool) *engine.Error {
	if ctx.Err() != nil {
		switch {
		case context.Cause(ctx) == errCallTimeout:
			return engine.Errorf(engine.OutboundTimeout, "timed out after %s", r.Timeout)
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			return engine.Errorf(engine.OutboundTimeout, "timed out after %s", time.Since(start).Round(time.Millisecond))
		default:
			return engine.Errorf(engine.OutboundConnect, "call canceled before the reply was complete")
		}
	}
	var ee *engine.Error
	if errors.As(err, &ee) {
		return ee
	}
	// url.Error embeds the whole URL: look only at what it wraps.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}

	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return engine.Errorf(engine.OutboundConnect, "TLS handshake failed: the server answers plain HTTP (use http://)")
	}
	if tlsFailure(err) {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return engine.Errorf(engine.OutboundTimeout, "TLS handshake timed out")
		}
		return engine.Errorf(engine.OutboundConnect, "TLS handshake failed: %s", scrub(tlsMessage(err), r))
	}
	var oe *net.OpError
	addr := ""
	if errors.As(err, &oe) && oe.Addr != nil {
		addr = oe.Addr.String()
	}
	by := func(s string) string {
		if addr == "" {
			return s
		}
		return s + " by " + addr
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return engine.Errorf(engine.OutboundConnect, "%s", by("connection refused"))
	case errors.Is(err, syscall.ECONNRESET):
		return engine.Errorf(engine.OutboundConnect, "%s", by("connection reset"))
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return engine.Errorf(engine.OutboundConnect, "%s unreachable", cmp.Or(addr, "host"))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		if reading {
			return engine.Errorf(engine.OutboundConnect, "the server closed the connection before the reply body was complete")
		}
		return engine.Errorf(engine.OutboundConnect, "the server closed the connection without a reply")
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		if addr != "" {
			return engine.Errorf(engine.OutboundTimeout, "connection to %s timed out", addr)
		}
		return engine.Errorf(engine.OutboundTimeout, "timed out")
	}
	msg := strings.TrimPrefix(err.Error(), "net/http: ")
	if strings.Contains(msg, "server response headers exceeded") {
		return engine.Errorf(engine.OutboundConnect, "reply headers larger than %d KiB", maxHeaderBytes>>10)
	}
	if reading {
		return engine.Errorf(engine.OutboundConnect, "reading the reply failed: %s", scrub(msg, r))
	}
	return engine.Errorf(engine.OutboundConnect, "request failed: %s", scrub(msg, r))
}

// tlsFailure reports whether err comes from the TLS handshake.
func tlsFailure(err error) bool {
	var (
		cve *tls.CertificateVerificationError
		rhe tls.RecordHeaderError
		ae  tls.AlertError
		uae x509.UnknownAuthorityError
		he  x509.HostnameError
		cie x509.CertificateInvalidError
	)
	if errors.As(err, &cve) || errors.As(err, &rhe) || errors.As(err, &ae) ||
		errors.As(err, &uae) || errors.As(err, &he) || errors.As(err, &cie) {
		return true
	}
	msg := err.Error()
	return strings.HasPrefix(msg, "tls: ") || strings.Contains(msg, "remote error: tls:") ||
		strings.Contains(msg, "TLS handshake")
}

// tlsMessage is the TLS error without net/http's and crypto/tls's
// prefixes, which repeat what the message already says.
func tlsMessage(err error) string {
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) {
		return cve.Err.Error()
	}
	msg := err.Error()
	return strings.TrimPrefix(msg, "tls: ")
}

// scrub removes from a message anything of the request that must not be
// shown: the URL itself, its query string and credentials, and header
// values. net/http's messages do not include them (url.Error aside, which
// classify unwraps); this is the net under that rule for messages passed on
// as they are. The result is also kept short.
func scrub(msg string, r *engine.OutboundRequest) string {
	secrets := []string{r.URL}
	if u, err := url.Parse(r.URL); err == nil {
		secrets = append(secrets, u.RawQuery, u.User.String())
	}
	for _, h := range r.Headers {
		secrets = append(secrets, h.Value)
	}
	for _, s := range secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "…")
		}
	}
	const n = 200
	if len(msg) > n {
		msg = msg[:n] + "…"
	}
	return msg
}
