package engine

import (
	"context"
	"time"
)

// OutboundRequest is one HTTP call of a request node (product.md §13), fully
// rendered: templates are resolved before it reaches the Outbound port.
type OutboundRequest struct {
	Method string
	URL    string
	// Headers are sent as given, in order; the port adds nothing but what
	// HTTP itself needs (Host, Content-Length). The caller sets User-Agent,
	// Idempotency-Key and Content-Type.
	Headers []HeaderValue
	Body    []byte
	// Timeout bounds the whole call: connection, redirects, reading the
	// reply. Zero means the context's deadline only.
	Timeout time.Duration
	// MaxBody is how many bytes of the reply body are kept; the rest is
	// read and discarded (up to a bound) or the connection is dropped, and
	// Truncated is set. Zero means DefaultOutboundMaxBody.
	MaxBody int64
}

// OutboundResponse is the reply to an OutboundRequest.
type OutboundResponse struct {
	Status int
	// Headers are the reply headers with names lower-cased, sorted by name
	// (HTTP gives no meaning to the order of different names); a header
	// sent several times appears several times, in the order received.
	Headers []HeaderValue
	// Body is the reply body, at most MaxBody bytes.
	Body      []byte
	Truncated bool
	// URL is the URL that answered, after redirects.
	URL string
}

// Outbound failure kinds, in the Code of the *Error an Outbound returns.
// Retryable failures (a request node tries again) are connection errors and
// timeouts; a refused address, a bad URL and too many redirects fail at once.
const (
	// OutboundRefused: the address dialled is denied by the outbound policy
	// (cloud metadata, or private ranges with --outbound-deny private).
	OutboundRefused = "outbound_refused"
	// OutboundInvalid: the URL or method cannot be sent (scheme other than
	// http/https, no host, bad header), or more than 5 redirects.
	OutboundInvalid = "outbound_invalid"
	// OutboundTimeout: the call did not complete within its timeout.
	OutboundTimeout = "outbound_timeout"
	// OutboundConnect: the connection failed or broke (DNS, refused, reset,
	// TLS) before a complete reply was read.
	OutboundConnect = "outbound_connect"
)

// DefaultOutboundMaxBody is how much of a reply body a request node keeps
// (product.md §13: stored up to 1 MiB).
const DefaultOutboundMaxBody = 1 << 20

// Outbound is the port through which request nodes call other systems.
// engine/outbound implements it with net/http and a dialer that checks
// every address actually dialled against the outbound policy.
//
// Do returns a response for every HTTP reply, whatever its status; it
// returns an *Error whose Code is one of the Outbound* kinds when no reply
// was received. Error messages are safe to store and show: they never
// contain the URL's query string, credentials or header values.
type Outbound interface {
	Do(ctx context.Context, r *OutboundRequest) (*OutboundResponse, error)
}
