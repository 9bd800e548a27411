package outbound

import (
	"fmt"
	"net/netip"
	"syscall"

	"github.com/hookflow/hookflow/engine"
)

// Policy is the outbound address policy: which IP addresses a request node
// may connect to. It is set once, with the flag --outbound-deny (or
// HOOKFLOW_OUTBOUND_DENY), and applies to every request node.
//
// The policy is checked on the IP address actually dialled, right before
// the connection is opened: after DNS resolution, for every redirect hop and
// for every new connection (an idle keep-alive connection was checked when
// it was opened). A hostname that resolves to an allowed address first and
// to a refused one later (DNS rebinding) is refused the second time, and a
// redirect from an allowed server to a refused address is refused at that
// hop. When a hostname resolves to several addresses, only the allowed ones
// are tried; the call is refused when none is allowed.
//
// The three values:
//
//   - metadata (the default, the zero Policy): refuse the cloud metadata
//     endpoints, which hand out credentials to whoever asks from inside the
//     instance: all of link-local IPv4 169.254.0.0/16 (AWS, GCP, Azure,
//     Oracle, DigitalOcean all answer on 169.254.169.254) and AWS's IPv6
//     fd00:ec2::254. Also refused: 0.0.0.0/8 and the unspecified address ::,
//     which Linux connects to the local host.
//   - private: metadata, plus everything that is not the public internet:
//     loopback (127.0.0.0/8, ::1), private ranges (10.0.0.0/8,
//     172.16.0.0/12, 192.168.0.0/16, IPv6 unique local fc00::/7 and the
//     deprecated site-local fec0::/10), IPv6 link-local fe80::/10, carrier-
//     grade NAT 100.64.0.0/10 and multicast (224.0.0.0/4, ff00::/8). Use it
//     when the people who edit workflows must not reach the internal network.
//   - none: allow every address (a trusted, single-tenant setup that calls
//     internal services on purpose).
//
// An IPv4 address written in IPv6 form is judged as the IPv4 address it
// embeds: IPv4-mapped (::ffff:169.254.169.254), IPv4-compatible
// (::169.254.169.254) and the well-known NAT64 prefix 64:ff9b::/96, so that
// no spelling of a refused address gets through.
type Policy uint8

// The outbound policies; see Policy.
const (
	DenyMetadata Policy = iota // refuse cloud metadata addresses (default)
	DenyPrivate                // also refuse loopback, private and link-local ranges
	DenyNone                   // allow every address
)

var policyNames = [...]string{DenyMetadata: "metadata", DenyPrivate: "private", DenyNone: "none"}

// ParsePolicy parses the value of --outbound-deny: metadata, private or none.
// An empty string is the default, metadata.
func ParsePolicy(s string) (Policy, error) {
	if s == "" {
		return DenyMetadata, nil
	}
	for p, name := range policyNames {
		if s == name {
			return Policy(p), nil
		}
	}
	return 0, fmt.Errorf("outbound: parse policy: unknown value %q for --outbound-deny: use metadata, private or none", s)
}

// String returns the policy's flag value: metadata, private or none.
func (p Policy) String() string {
	if int(p) < len(policyNames) {
		return policyNames[p]
	}
	return fmt.Sprintf("Policy(%d)", uint8(p))
}

var (
	metadataPrefixes = []netip.Prefix{
		netip.MustParsePrefix("169.254.0.0/16"),
		netip.MustParsePrefix("fd00:ec2::254/128"),
		netip.MustParsePrefix("0.0.0.0/8"),
		netip.MustParsePrefix("::/128"),
	}
	privatePrefixes = []netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("fc00::/7"),
		netip.MustParsePrefix("fec0::/10"),
		netip.MustParsePrefix("fe80::/10"),
		netip.MustParsePrefix("100.64.0.0/10"),
		netip.MustParsePrefix("224.0.0.0/4"),
		netip.MustParsePrefix("ff00::/8"),
	}
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
)

// Refuses reports whether the policy refuses a connection to ip.
func (p Policy) Refuses(ip netip.Addr) bool {
	if p == DenyNone {
		return false
	}
	if !ip.IsValid() {
		return true
	}
	ip = ip.WithZone("")
	if p.refuses(ip) {
		return true
	}
	if v4, ok := embeddedIPv4(ip); ok {
		return p.refuses(v4)
	}
	return false
}

func (p Policy) refuses(ip netip.Addr) bool {
	for _, pre := range metadataPrefixes {
		if pre.Contains(ip) {
			return true
		}
	}
	if p != DenyPrivate {
		return false
	}
	for _, pre := range privatePrefixes {
		if pre.Contains(ip) {
			return true
		}
	}
	return false
}

// embeddedIPv4 returns the IPv4 address an IPv6 address stands for:
// IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d (deprecated, but a
// stack may still route it) and NAT64 64:ff9b::a.b.c.d, which a NAT64
// gateway forwards to a.b.c.d.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	if !ip.Is6() {
		return netip.Addr{}, false
	}
	if ip.Is4In6() {
		return ip.Unmap(), true
	}
	b := ip.As16()
	if nat64.Contains(ip) {
		return netip.AddrFrom4([4]byte(b[12:])), true
	}
	for _, x := range b[:12] {
		if x != 0 {
			return netip.Addr{}, false
		}
	}
	if ip == netip.IPv6Unspecified() || ip == netip.IPv6Loopback() {
		return netip.Addr{}, false // judged as themselves
	}
	return netip.AddrFrom4([4]byte(b[12:])), true
}

// refusedError is the error of a refused address. host is the name that
// resolved to it, "" when the URL held the address itself.
func (p Policy) refusedError(ip netip.Addr, host string) *engine.Error {
	if host != "" && host != ip.String() {
		return engine.Errorf(engine.OutboundRefused, "address %s (%s) refused by the outbound policy (--outbound-deny %s)", ip, host, p)
	}
	return engine.Errorf(engine.OutboundRefused, "address %s refused by the outbound policy (--outbound-deny %s)", ip, p)
}

// control is the net.Dialer Control hook of the default dialer: the last
// check, on the socket about to connect, so that an address can never be
// dialled without passing the policy, whatever resolved it.
func (p Policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return engine.Errorf(engine.OutboundRefused, "address %q refused by the outbound policy (--outbound-deny %s): not an IP address", address, p)
	}
	if p.Refuses(ap.Addr()) {
		return p.refusedError(ap.Addr(), "")
	}
	return nil
}
