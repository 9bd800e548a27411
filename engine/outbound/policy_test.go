package outbound

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

func TestParsePolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Policy
	}{{"", DenyMetadata}, {"metadata", DenyMetadata}, {"private", DenyPrivate}, {"none", DenyNone}} {
		got, err := ParsePolicy(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParsePolicy(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if tc.in != "" && got.String() != tc.in {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
	for _, bad := range []string{"Private", "all", "metadata,private", " none"} {
		_, err := ParsePolicy(bad)
		if err == nil {
			t.Errorf("ParsePolicy(%q) accepted", bad)
			continue
		}
		for _, want := range []string{"--outbound-deny", "metadata, private or none"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("ParsePolicy(%q) error %q lacks %q", bad, err, want)
			}
		}
	}
	if s := Policy(9).String(); s != "Policy(9)" {
		t.Errorf("Policy(9).String() = %q", s)
	}
}

func TestPolicyRefuses(t *testing.T) {
	t.Parallel()
	// m: refused by metadata (and so by private); p: refused by private
	// only; -: allowed by both. none allows everything.
	cases := map[string]string{
		"169.254.169.254":          "m",
		"169.254.0.1":              "m",
		"169.254.255.255":          "m",
		"fd00:ec2::254":            "m",
		"0.0.0.0":                  "m",
		"0.1.2.3":                  "m",
		"::":                       "m",
		"::ffff:169.254.169.254":   "m",
		"::ffff:a9fe:a9fe":         "m",
		"::169.254.169.254":        "m",
		"64:ff9b::169.254.169.254": "m",
		"::ffff:0.0.0.0":           "m",
		"fe80::a9fe:a9fe%eth0":     "p", // link-local IPv6, not the embedded IPv4
		"127.0.0.1":                "p",
		"127.255.0.9":              "p",
		"::1":                      "p",
		"::ffff:127.0.0.1":         "p",
		"::127.0.0.1":              "p",
		"64:ff9b::10.0.0.5":        "p",
		"10.0.0.5":                 "p",
		"172.16.0.1":               "p",
		"172.31.255.255":           "p",
		"192.168.1.1":              "p",
		"::ffff:192.168.1.1":       "p",
		"fc00::1":                  "p",
		"fd12:3456::1":             "p",
		"fec0::1":                  "p",
		"fe80::1":                  "p",
		"100.64.0.1":               "p",
		"100.127.255.255":          "p",
		"224.0.0.1":                "p",
		"239.255.255.250":          "p",
		"ff02::1":                  "p",
		"fd00:ec2::253":            "p",
		"8.8.8.8":                  "-",
		"93.184.216.34":            "-",
		"172.32.0.1":               "-",
		"100.128.0.1":              "-",
		"169.253.255.255":          "-",
		"::ffff:8.8.8.8":           "-",
		"64:ff9b::8.8.8.8":         "-",
		"2606:4700::1111":          "-",
		"2001:db8::1":              "-",
	}
	for s, want := range cases {
		ip := netip.MustParseAddr(s)
		got := ""
		switch {
		case DenyMetadata.Refuses(ip) && DenyPrivate.Refuses(ip):
			got = "m"
		case DenyPrivate.Refuses(ip) && !DenyMetadata.Refuses(ip):
			got = "p"
		case !DenyPrivate.Refuses(ip) && !DenyMetadata.Refuses(ip):
			got = "-"
		default:
			got = "metadata refuses what private allows"
		}
		if got != want {
			t.Errorf("%s: got %s, want %s", s, got, want)
		}
		if DenyNone.Refuses(ip) {
			t.Errorf("none refuses %s", s)
		}
	}
	if !DenyMetadata.Refuses(netip.Addr{}) || DenyNone.Refuses(netip.Addr{}) {
		t.Error("an invalid address must be refused unless the policy is none")
	}
}

// TestPolicyControl checks the last line of defence, the dialer's Control
// hook, on its own and inside a real net.Dialer: the socket is refused
// before it connects, so the loopback listener never sees a connection.
func TestPolicyControl(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p       Policy
		address string
		refused bool
	}{
		{DenyMetadata, "169.254.169.254:80", true},
		{DenyMetadata, "[::ffff:169.254.169.254]:80", true},
		{DenyMetadata, "[fd00:ec2::254]:80", true},
		{DenyMetadata, "127.0.0.1:80", false},
		{DenyPrivate, "127.0.0.1:80", true},
		{DenyPrivate, "[::1]:443", true},
		{DenyPrivate, "8.8.8.8:443", false},
		{DenyNone, "169.254.169.254:80", false},
		{DenyMetadata, "not-an-address:80", true},
	} {
		err := tc.p.control("tcp", tc.address, nil)
		if (err != nil) != tc.refused || err != nil && engine.ErrorCode(err) != engine.OutboundRefused {
			t.Errorf("%v.control(%s) = %v, want refused %v", tc.p, tc.address, err, tc.refused)
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	d := net.Dialer{Control: DenyPrivate.control}
	_, err = d.DialContext(context.Background(), "tcp", ln.Addr().String())
	var e *engine.Error
	if !errors.As(err, &e) || e.Code != engine.OutboundRefused ||
		e.Message != "address 127.0.0.1 refused by the outbound policy (--outbound-deny private)" {
		t.Fatalf("dial under private = %v", err)
	}
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(50 * time.Millisecond))
	if c, err := ln.Accept(); err == nil {
		c.Close()
		t.Fatal("the refused dial reached the listener")
	}
}

// FuzzPolicyForms: an IPv4 address written in IPv6 form (mapped, NAT64,
// compatible) is judged exactly as the IPv4 address.
func FuzzPolicyForms(f *testing.F) {
	for _, s := range []string{"169.254.169.254", "127.0.0.1", "10.0.0.5", "100.64.0.1", "0.0.0.0", "8.8.8.8", "224.0.0.1"} {
		b := netip.MustParseAddr(s).As4()
		f.Add(b[0], b[1], b[2], b[3])
	}
	f.Fuzz(func(t *testing.T, a, b, c, d byte) {
		v4 := netip.AddrFrom4([4]byte{a, b, c, d})
		forms := []netip.Addr{
			netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff, 12: a, 13: b, 14: c, 15: d}),
			netip.AddrFrom16([16]byte{0: 0x00, 1: 0x64, 2: 0xff, 3: 0x9b, 12: a, 13: b, 14: c, 15: d}),
		}
		if a|b|c != 0 || d > 1 { // ::0.0.0.0 and ::0.0.0.1 are :: and ::1
			forms = append(forms, netip.AddrFrom16([16]byte{12: a, 13: b, 14: c, 15: d}))
		}
		for _, p := range []Policy{DenyMetadata, DenyPrivate, DenyNone} {
			for _, form := range forms {
				if p.Refuses(form) != p.Refuses(v4) {
					t.Errorf("%v: %s refused %v, %s refused %v", p, form, p.Refuses(form), v4, p.Refuses(v4))
				}
			}
		}
	})
}
