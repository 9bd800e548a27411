package handlers

import (
	"net/netip"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
)

// ClientAddr is the client address of a request, by the one rule of
// engine.ClientAddr: the socket's peer, or X-Forwarded-For when the peer is
// one of the trusted proxies (--trusted-proxies). Every use of the client
// address goes through it (the webhook's allowIPs and rejection log, the
// sign-in throttle, the logs), so that behind a proxy one attacker cannot
// lock every admin out, and without one nobody can pick an address by
// sending the header. Fiber's c.IP() is not used: it trusts the header
// from any peer unless configured, and is not the same rule.
func (h *Handlers) ClientAddr(c *fiber.Ctx) netip.Addr {
	if a, ok := c.Locals(clientAddrKey).(netip.Addr); ok {
		return a
	}
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	var forwarded []string
	if len(h.TrustedProxies) > 0 {
		for _, v := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
			forwarded = append(forwarded, string(v))
		}
	}
	a := engine.ClientAddr(peer, forwarded, h.TrustedProxies)
	c.Locals(clientAddrKey, a)
	return a
}

// clientIP is the client address as text, for the throttle and the logs.
func (h *Handlers) clientIP(c *fiber.Ctx) string {
	a := h.ClientAddr(c)
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

const clientAddrKey = "client_addr"
