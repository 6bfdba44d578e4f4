// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package nat

import (
	"net/netip"

	"passt-go/proto/header"
)

// Config is the addressing the translation works from. The zero Addr means
// "none" for every field.
type Config struct {
	// Guest4 and Guest6 are the addresses assigned to the guest (the
	// host's own addresses, by default).
	Guest4, Guest6 netip.Addr
	// Gateway4 and Gateway6 are the guest's default gateways.
	Gateway4, Gateway6 netip.Addr
	// OurLL6 is the link-local address the translator uses towards the
	// guest.
	OurLL6 netip.Addr
	// MapHostLoopback4 and MapHostLoopback6 stand for the host's loopback
	// (--map-host-loopback). When none is given, the gateway stands for
	// it unless NoMapGW is set.
	MapHostLoopback4, MapHostLoopback6 netip.Addr
	// MapGuestAddr4 and MapGuestAddr6 stand for the guest's assigned
	// address as seen from the host (--map-guest-addr).
	MapGuestAddr4, MapGuestAddr6 netip.Addr
	// DNSForward4 and DNSForward6 are where the guest sends DNS queries
	// that go to DNSHost4 and DNSHost6 (--dns-forward, --dns-host).
	DNSForward4, DNSForward6 netip.Addr
	DNSHost4, DNSHost6       netip.Addr
	// NoMapGW stops the gateway from standing for the host's loopback
	// (--no-map-gw). An explicit MapHostLoopback address still applies.
	NoMapGW bool
}

var (
	loopback4 = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	loopback6 = netip.IPv6Loopback()
)

// HostLoopback4 returns the address that stands for the host's IPv4
// loopback: MapHostLoopback4, else Gateway4 unless NoMapGW, else none.
func (c *Config) HostLoopback4() netip.Addr {
	if c.MapHostLoopback4.IsValid() || c.NoMapGW {
		return c.MapHostLoopback4
	}
	return c.Gateway4
}

// HostLoopback6 is HostLoopback4 for IPv6.
func (c *Config) HostLoopback6() netip.Addr {
	if c.MapHostLoopback6.IsValid() || c.NoMapGW {
		return c.MapHostLoopback6
	}
	return c.Gateway6
}

// isDNS reports whether proto and port are those of a DNS query or reply
// (plain or over TLS).
func isDNS(proto header.IPProtocol, port uint16) bool {
	return (proto == header.ProtocolTCP || proto == header.ProtocolUDP) && (port == 53 || port == 853)
}

// family is one address family's view of a Config.
type family struct {
	guest, gateway, ourLL, hostLo, mapGuest, dnsFwd, dnsHost, loopback netip.Addr
}

func (c *Config) v4() family {
	return family{
		guest: c.Guest4, gateway: c.Gateway4, hostLo: c.HostLoopback4(),
		mapGuest: c.MapGuestAddr4, dnsFwd: c.DNSForward4, dnsHost: c.DNSHost4,
		loopback: loopback4,
	}
}

func (c *Config) v6() family {
	return family{
		guest: c.Guest6, gateway: c.Gateway6, ourLL: c.OurLL6, hostLo: c.HostLoopback6(),
		mapGuest: c.MapGuestAddr6, dnsFwd: c.DNSForward6, dnsHost: c.DNSHost6,
		loopback: loopback6,
	}
}

// familyOf returns c's view of a's family, an IPv4-mapped IPv6 address
// counting as IPv6, or false for the zero Addr.
func (c *Config) familyOf(a netip.Addr) (family, bool) {
	switch {
	case a.Is4():
		return c.v4(), true
	case a.Is6():
		return c.v6(), true
	}
	return family{}, false
}

// Outbound returns where a flow the guest opens towards dst (port dstPort;
// ignored unless proto is TCP or UDP) goes on the host side, applying the
// rules of the package documentation in order. It refuses (false) invalid,
// loopback, unspecified and IPv4-mapped IPv6 destinations, and a
// map-guest-addr destination while the guest's address is unknown. The
// result has dst's family.
func (c *Config) Outbound(proto header.IPProtocol, dst netip.Addr, dstPort uint16) (netip.Addr, bool) {
	f, ok := c.familyOf(dst)
	if !ok || dst.Is4In6() || dst.IsLoopback() || dst.IsUnspecified() {
		return netip.Addr{}, false
	}
	switch {
	case f.dnsFwd.IsValid() && f.dnsHost.IsValid() && dst == f.dnsFwd && isDNS(proto, dstPort):
		return f.dnsHost, true
	case f.hostLo.IsValid() && dst == f.hostLo:
		return f.loopback, true
	case f.mapGuest.IsValid() && dst == f.mapGuest:
		return f.guest, f.guest.IsValid()
	}
	return dst, true
}

// Inbound returns the source address the guest sees for a flow that starts
// on the host side from src, following the package documentation, or false
// when nothing usable is configured. The result is never loopback or
// unspecified (given a Config that passes Validate) and has src's family,
// an IPv4-mapped src counting as IPv4.
func (c *Config) Inbound(src netip.Addr) (netip.Addr, bool) {
	src = src.Unmap()
	f, ok := c.familyOf(src)
	if !ok {
		return netip.Addr{}, false
	}
	switch {
	case src == f.loopback && f.hostLo.IsValid():
		return f.hostLo, true
	case f.guest.IsValid() && src == f.guest && f.mapGuest.IsValid():
		return f.mapGuest, true
	case !src.IsLoopback() && !src.IsUnspecified() && src != f.guest:
		return src, true
	}
	if src.Is4() {
		return f.gateway, f.gateway.IsValid()
	}
	return f.ourLL, f.ourLL.IsValid()
}

// Reverse returns the source the guest expects on a reply that the host
// side received from src, port srcPort (meaningful for TCP and UDP), on a
// flow the guest opened: the DNS forwarding address for a DNS reply from
// the DNS host, otherwise Inbound(src). Flows that keep the guest's
// original destination should use it instead; see the package
// documentation for when the two agree.
func (c *Config) Reverse(proto header.IPProtocol, src netip.Addr, srcPort uint16) (netip.Addr, bool) {
	src = src.Unmap()
	f, ok := c.familyOf(src)
	if !ok {
		return netip.Addr{}, false
	}
	if f.dnsFwd.IsValid() && f.dnsHost.IsValid() && src == f.dnsHost && isDNS(proto, srcPort) {
		return f.dnsFwd, true
	}
	return c.Inbound(src)
}
