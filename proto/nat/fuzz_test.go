// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package nat

import (
	"net/netip"
	"testing"

	"passt-go/proto/header"
)

// Configured addresses come from small pools (3-bit indices, 0 is
// "none"), so that fuzzed configurations often give two fields the same
// address. The loopback entry passes Validate only as a DNS host.
var (
	cfg4 = []netip.Addr{{}, a("10.0.0.1"), a("10.0.0.2"), a("10.0.0.3"), a("169.254.1.1"),
		a("169.254.1.2"), a("198.51.100.7"), a("127.0.0.1")}
	cfg6 = []netip.Addr{{}, a("2001:db8::1"), a("fe80::1"), a("fe80::2"), a("fd00::53"),
		a("fd00::2"), a("2001:db8::7"), a("::1")}
)

// Destinations and sources come from wider pools (4-bit indices) that add
// the addresses no rule may let through, unless the input gives raw bytes.
var (
	pool4 = append(append([]netip.Addr{}, cfg4...), a("127.0.0.53"), a("0.0.0.0"), a("224.0.0.1"),
		a("127.1.2.3"), a("10.0.0.4"), a("192.0.2.1"), a("255.255.255.255"), a("10.0.0.5"))
	pool6 = append(append([]netip.Addr{}, cfg6...), a("::"), a("ff02::1"), a("::ffff:10.0.0.1"),
		a("::ffff:127.0.0.1"), a("2001:db8::3"), a("fe80::3"), a("2001:db8::4"), a("2001:db8::5"))
)

// fuzzConfig builds a Config from 3-bit pool indices in sel.
func fuzzConfig(sel uint64) *Config {
	pick4 := func(i int) netip.Addr { return cfg4[sel>>(3*i)&7] }
	pick6 := func(i int) netip.Addr { return cfg6[sel>>(3*i)&7] }
	return &Config{
		Guest4: pick4(0), Gateway4: pick4(1), MapHostLoopback4: pick4(2), MapGuestAddr4: pick4(3),
		DNSForward4: pick4(4), DNSHost4: pick4(5),
		Guest6: pick6(6), Gateway6: pick6(7), OurLL6: pick6(8), MapHostLoopback6: pick6(9),
		MapGuestAddr6: pick6(10), DNSForward6: pick6(11), DNSHost6: pick6(12),
		NoMapGW: sel>>39&1 == 1,
	}
}

func fuzzAddr(b []byte, sel uint8) netip.Addr {
	switch {
	case len(b) == 4:
		return netip.AddrFrom4([4]byte(b))
	case len(b) == 16:
		return netip.AddrFrom16([16]byte(b))
	case sel&16 != 0:
		return pool6[sel&15]
	default:
		return pool4[sel&15]
	}
}

// FuzzTranslate checks, for configurations that pass Validate:
//   - Outbound refuses loopback, unspecified and IPv4-mapped destinations,
//     keeps the family, and yields loopback only through the host-loopback
//     or DNS rule;
//   - Inbound and Reverse never yield loopback or unspecified addresses
//     and keep the (unmapped) family;
//   - Reverse(Outbound(x)) is x whenever a rule rewrote x, except that a
//     reply from the DNS host on a DNS port always reads as the DNS
//     forwarding address, and is x for untouched addresses other than the
//     DNS host and the guest's own address.
func FuzzTranslate(f *testing.F) {
	// Seeds: passt defaults, podman's options, and loopback resolvers.
	seed := func(idx ...uint64) uint64 {
		var s uint64
		for i, v := range idx {
			s |= v << (3 * i)
		}
		return s
	}
	defaults := seed(1, 2, 0, 0, 2, 7, 1, 2, 3, 0, 0, 0, 0)
	podman := seed(1, 2, 0, 5, 4, 6, 1, 2, 3, 0, 5, 4, 7) | 1<<39
	f.Add(defaults|4<<40, uint8(17), []byte{10, 0, 0, 2}, uint16(53), []byte{127, 0, 0, 1})
	f.Add(podman, uint8(17), []byte{169, 254, 1, 1}, uint16(53), []byte{198, 51, 100, 7})
	f.Add(podman|5<<40|19<<48, uint8(6), []byte(nil), uint16(80), []byte(nil))
	f.Add(defaults|18<<40|23<<48, uint8(58), []byte(nil), uint16(0), []byte(nil))
	f.Add(podman|uint64(20)<<40, uint8(17), []byte(nil), uint16(853), []byte{0, 0, 0, 0})
	// Found by fuzzing.
	f.Add(uint64(4398101536836), uint8(0x11), []byte("0"), uint16(44), []byte("0"))
	f.Add(uint64(4398101536772), uint8(0x11), []byte("0"), uint16(53), []byte{0x7f, 0, 0, 1})
	f.Fuzz(func(t *testing.T, sel uint64, proto uint8, dstB []byte, port uint16, srcB []byte) {
		c := fuzzConfig(sel)
		if c.Validate() != nil {
			return
		}
		p := header.IPProtocol(proto)
		x := fuzzAddr(dstB, uint8(sel>>40))
		src := fuzzAddr(srcB, uint8(sel>>48))

		var f family
		if x.Is4() {
			f = c.v4()
		} else {
			f = c.v6()
		}
		host, ok := c.Outbound(p, x, port)
		if (x.IsLoopback() || x.IsUnspecified() || x.Is4In6() || !x.IsValid()) && ok {
			t.Fatalf("Outbound(%v) = %v, want refused", x, host)
		}
		if ok {
			if host.Is4() != x.Is4() || host.IsUnspecified() || !host.IsValid() {
				t.Fatalf("Outbound(%v) = %v: family changed or unusable", x, host)
			}
			dnsRule := isDNS(p, port) && x == f.dnsFwd && host == f.dnsHost
			if host.IsLoopback() && x != f.hostLo && !dnsRule {
				t.Fatalf("Outbound(%v) = loopback %v outside the loopback and DNS rules", x, host)
			}
			back, rok := c.Reverse(p, host, port)
			want, wantOK := netip.Addr{}, true
			switch {
			case isDNS(p, port) && f.dnsFwd.IsValid() && f.dnsHost.IsValid() && host == f.dnsHost:
				want = f.dnsFwd
			case host != x:
				want = x
			case x == f.guest:
				want, wantOK = c.Inbound(x)
			default:
				want = x
			}
			if rok != wantOK || back != want {
				t.Fatalf("Reverse(Outbound(%v) = %v) = %v %v, want %v %v", x, host, back, rok, want, wantOK)
			}
		}
		for _, fn := range []struct {
			name string
			got  func() (netip.Addr, bool)
		}{
			{"Inbound", func() (netip.Addr, bool) { return c.Inbound(src) }},
			{"Reverse", func() (netip.Addr, bool) { return c.Reverse(p, src, port) }},
		} {
			g, ok := fn.got()
			if !ok {
				continue
			}
			if g.IsLoopback() || g.IsUnspecified() || !g.IsValid() || g.Is4() != src.Unmap().Is4() {
				t.Fatalf("%s(%v) = %v: loopback, unspecified or family changed", fn.name, src, g)
			}
		}
	})
}
