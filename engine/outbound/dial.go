package outbound

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// minDialTimeout is the least time one address of several gets before the
// next is tried, like net.Dialer does.
const minDialTimeout = 2 * time.Second

// fallbackDelay is how long the first address family gets before the other
// one is tried in parallel (Happy Eyeballs, RFC 8305), net.Dialer's default.
const fallbackDelay = 300 * time.Millisecond

// dial is the Transport's DialContext: it resolves the host itself, checks
// every address against the policy and dials only the allowed ones, like
// net.Dialer would (addresses in turn, the second address family raced after
// fallbackDelay). Resolving here rather than in net.Dialer is what lets the
// check run before anything is dialled, and the address checked is the one
// dialled, so a DNS answer cannot change between check and connect.
func (c *Client) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("outbound: dial: %w", err)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
		host = ""
	} else {
		ips, err = c.resolver.LookupNetIP(ctx, lookupNetwork(network), host)
		if err != nil {
			return nil, resolveError(host, err)
		}
		if len(ips) == 0 {
			return nil, engine.Errorf(engine.OutboundConnect, "host %q has no address", host)
		}
	}
	allowed := make([]netip.Addr, 0, len(ips))
	var refused netip.Addr
	for _, ip := range ips {
		if !c.deny.Refuses(ip) {
			allowed = append(allowed, ip)
		} else if !refused.IsValid() {
			refused = ip
		}
	}
	if len(allowed) == 0 {
		return nil, c.deny.refusedError(refused, host)
	}
	// Primaries are the family of the first address, fallbacks the other.
	first := allowed[0].Unmap().Is4()
	var primaries, fallbacks []netip.Addr
	for _, ip := range allowed {
		if ip.Unmap().Is4() == first {
			primaries = append(primaries, ip)
		} else {
			fallbacks = append(fallbacks, ip)
		}
	}
	if len(fallbacks) == 0 {
		return c.dialSerial(ctx, network, port, primaries)
	}
	return c.dialParallel(ctx, network, port, primaries, fallbacks)
}

// dialParallel races the fallbacks against the primaries once the
// primaries have had fallbackDelay or failed; the first connection wins.
func (c *Client) dialParallel(ctx context.Context, network, port string, primaries, fallbacks []netip.Addr) (net.Conn, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		conn    net.Conn
		err     error
		primary bool
	}
	results := make(chan result, 2) // both senders finish even when no one reads
	race := func(ips []netip.Addr, primary bool) {
		conn, err := c.dialSerial(ctx, network, port, ips)
		results <- result{conn, err, primary}
	}
	go race(primaries, true)
	pending, fallbackStarted := 1, false
	timer := time.NewTimer(fallbackDelay)
	defer timer.Stop()
	var primaryErr, fallbackErr error
	for {
		select {
		case <-timer.C:
		case res := <-results:
			pending--
			if res.err == nil {
				if pending > 0 {
					// The loser may still connect: close it.
					go func() {
						if late := <-results; late.conn != nil {
							late.conn.Close()
						}
					}()
				}
				return res.conn, nil
			}
			if res.primary {
				primaryErr = res.err
			} else {
				fallbackErr = res.err
			}
			if pending == 0 && fallbackStarted {
				return nil, cmp.Or(primaryErr, fallbackErr)
			}
		}
		if !fallbackStarted {
			fallbackStarted = true
			pending++
			go race(fallbacks, false)
		}
	}
}

// dialSerial dials the addresses in turn until one connects.
func (c *Client) dialSerial(ctx context.Context, network, port string, ips []netip.Addr) (net.Conn, error) {
	var firstErr error
	for i, ip := range ips {
		dctx, cancel := partialDeadline(ctx, len(ips)-i)
		conn, err := c.dialIP(dctx, network, net.JoinHostPort(ip.String(), port))
		cancel()
		if err == nil {
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}

// partialDeadline gives one of n remaining addresses its share of the time
// left, at least minDialTimeout, so that an address that does not answer
// leaves time for the next.
func partialDeadline(ctx context.Context, n int) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok || n <= 1 {
		return ctx, func() {}
	}
	left := time.Until(deadline)
	share := max(left/time.Duration(n), min(minDialTimeout, left))
	return context.WithTimeout(ctx, share)
}

func lookupNetwork(network string) string {
	switch network {
	case "tcp4":
		return "ip4"
	case "tcp6":
		return "ip6"
	}
	return "ip"
}

// resolveError turns a lookup failure into a message naming only the host.
func resolveError(host string, err error) error {
	var de *net.DNSError
	if errors.As(err, &de) {
		switch {
		case de.IsNotFound:
			return engine.Errorf(engine.OutboundConnect, "host %q not found", host)
		case de.IsTimeout:
			return engine.Errorf(engine.OutboundTimeout, "looking up host %q timed out", host)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err // classify reports the call's timeout
	}
	return engine.Errorf(engine.OutboundConnect, "could not resolve host %q", host)
}
