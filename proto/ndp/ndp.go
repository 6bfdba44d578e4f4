// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package ndp

import (
	"encoding/binary"
	"math"
	"net/netip"

	"passt-go/proto/header"
)

const (
	// frameHeaders is the Ethernet and IPv6 header before every message.
	frameHeaders = header.EthernetLen + header.IPv6Len

	// maxPacket is the IPv6 minimum MTU (RFC 8200 section 5). No message
	// written here is longer, whatever the guest's link MTU: an RA leaves
	// out the nameservers and search domains that would not fit.
	maxPacket = 1280

	// MaxFrameLen is the longest frame Reply, RA and Solicit write. An out
	// buffer of this length is always long enough.
	MaxFrameLen = header.EthernetLen + maxPacket

	// naFrameLen and nsFrameLen are the lengths of an NA or NS frame with
	// one link-layer address option.
	naFrameLen = frameHeaders + nsLen + optLLLen
	nsFrameLen = naFrameLen
)

// allNodes is ff02::1, the link-local all-nodes group (RFC 4291 2.7.1).
var allNodes = netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 15: 0x01})

// Config is what the NDP responder needs from the configuration. The worker
// fills it once; Reply, RA and Solicit only read it.
type Config struct {
	// OurMAC is the link-layer address of every answer and the source of
	// every frame written.
	OurMAC header.MAC
	// OurLL is our link-local address: the source of every message, and so
	// the router the guest sees (the host's gateway when that is
	// link-local, else fe80::1).
	OurLL netip.Addr
	// GuestAddr is the IPv6 address assigned to the guest, without a zone.
	// Solicitations for it are never answered. Invalid when the guest has
	// none and uses its link-local address only.
	GuestAddr netip.Addr
	// Prefix is the on-link prefix an RA advertises for address
	// autoconfiguration. When it is not a valid IPv6 prefix, GuestAddr's
	// /64 is advertised; without either, no prefix is.
	Prefix netip.Prefix
	// MTU goes into an RA's MTU option; 0 (or less) leaves the option out.
	MTU int
	// DNS are the nameservers an RA's RDNSS option names; entries that are
	// not IPv6 addresses (IPv4, IPv4-mapped, unspecified) are skipped.
	// Empty: no RDNSS option.
	DNS []netip.Addr
	// Search is the DNS search list an RA's DNSSL option carries, as
	// dotted names; a name that is not a valid domain name is skipped.
	// Empty: no DNSSL option.
	Search []string
	// NoRA turns router advertisements off: RS are not answered and RA
	// writes nothing.
	NoRA bool
}

// Reply answers the Neighbor or Router Solicitation in frame, whose
// decoding f is what header.Decode returned for it, by writing a complete
// Ethernet frame at the start of out. It returns the frame's length and
// IgnoreNone, or 0 and the reason the message is not answered. frame is
// only read; out is written only within the returned length, and not at
// all when nothing is answered. MaxFrameLen bytes are always enough.
// Nothing is kept and nothing is allocated.
//
// An NS is answered with a solicited NA from OurLL to the soliciting
// address, an RS with an RA (see RA) to the soliciting address, or to
// all-nodes when the RS came from ::. Both go to the Ethernet source of
// the request.
func Reply(cfg *Config, frame []byte, f header.Frame, out []byte) (n int, why Ignore) {
	if f.EtherType != header.EtherTypeIPv6 || f.Proto != header.ProtocolICMPv6 {
		return 0, IgnoreNotICMPv6
	}
	m := f.Transport(frame)
	if len(m) < header.ICMPLen {
		return 0, IgnoreTooShort
	}
	var fixed int
	switch m[msgType] {
	case header.ICMPv6RouterSolicitation:
		fixed = rsLen
	case header.ICMPv6NeighborSolicitation:
		fixed = nsLen
	default:
		return 0, IgnoreNotSolicitation
	}
	switch {
	case f.TTL != hopLimit:
		return 0, IgnoreBadHopLimit
	case m[msgCode] != 0:
		return 0, IgnoreBadCode
	case len(m) < fixed:
		return 0, IgnoreTooShort
	case !header.TransportChecksumValid6(m, header.ProtocolICMPv6, f.Src, f.Dst):
		return 0, IgnoreBadChecksum
	}
	sourceLL, ok := scanOptions(m[fixed:])
	unspecified := f.Src.IsUnspecified()
	switch {
	case !ok, unspecified && sourceLL:
		return 0, IgnoreBadOption
	case f.Src.IsMulticast():
		return 0, IgnoreBadSource
	}

	if m[msgType] == header.ICMPv6RouterSolicitation {
		if cfg.NoRA {
			return 0, IgnoreNoRA
		}
		dst, dstMAC := f.Src, f.SrcMAC
		if unspecified {
			dst, dstMAC = allNodes, multicastMAC(allNodes)
		}
		if n = putRA(cfg, dst, dstMAC, out); n == 0 {
			return 0, IgnoreShortBuffer
		}
		return n, IgnoreNone
	}

	target := netip.AddrFrom16([16]byte(m[nsTarget:nsLen]))
	switch {
	case target.IsMulticast(), target.IsUnspecified(), target.IsLoopback():
		return 0, IgnoreBadTarget
	case unspecified:
		return 0, IgnoreDAD
	case target == cfg.GuestAddr:
		return 0, IgnoreGuestAddr
	case len(out) < naFrameLen:
		return 0, IgnoreShortBuffer
	}
	na := out[frameHeaders:naFrameLen]
	clear(na)
	na[msgType] = header.ICMPv6NeighborAdvertisement
	na[naFlags] = naFlagRouter | naFlagSolicited | naFlagOverride
	copy(na[nsTarget:], m[nsTarget:nsLen])
	putLLOption(na[nsLen:], optTargetLL, cfg.OurMAC)
	finish(cfg, out, f.SrcMAC, f.Src, len(na))
	return naFrameLen, IgnoreNone
}

// RA writes at the start of out an unsolicited Router Advertisement to
// all-nodes (ff02::1, MAC 33:33:00:00:00:01) and returns the frame's
// length, or 0 having written nothing when cfg.NoRA is set or out is too
// short (MaxFrameLen is always enough).
//
// The RA, from OurLL with hop limit 255, names us as default router for
// 65535 seconds (RFC 8319) with Cur Hop Limit 255, sets M so that the guest
// asks DHCPv6 for its address (O is redundant once M is set, RFC 4861
// 4.2), and carries in this order: prefix information for the on-link
// prefix with L and A set and infinite lifetimes; our MAC as source
// link-layer address; the MTU when cfg.MTU > 0; RDNSS and DNSSL with
// infinite lifetimes when there are nameservers or search domains. The
// whole packet stays within 1280 bytes: nameservers, then search domains,
// that would not fit are left out.
func RA(cfg *Config, out []byte) int {
	if cfg.NoRA {
		return 0
	}
	return putRA(cfg, allNodes, multicastMAC(allNodes), out)
}

// Solicit writes at the start of out a Neighbor Solicitation for target,
// from OurLL to target's solicited-node multicast group, with our MAC as
// source link-layer address, and returns the frame's length. The guest's
// answer tells the worker its MAC. It returns 0, having written nothing,
// when out is too short or target is not a unicast IPv6 address.
func Solicit(cfg *Config, target netip.Addr, out []byte) int {
	if !target.Is6() || target.Is4In6() || target.IsMulticast() ||
		target.IsUnspecified() || target.IsLoopback() || len(out) < nsFrameLen {
		return 0
	}
	t := target.As16()
	group := netip.AddrFrom16([16]byte{
		0: 0xff, 1: 0x02, 11: 0x01, 12: 0xff, 13: t[13], 14: t[14], 15: t[15],
	})
	ns := out[frameHeaders:nsFrameLen]
	clear(ns)
	ns[msgType] = header.ICMPv6NeighborSolicitation
	copy(ns[nsTarget:], t[:])
	putLLOption(ns[nsLen:], optSourceLL, cfg.OurMAC)
	finish(cfg, out, multicastMAC(group), group, len(ns))
	return nsFrameLen
}

// raLayout is what an RA carries for a configuration.
type raLayout struct {
	prefix      netip.Prefix // invalid: no prefix information
	mtu         bool
	dns         int // nameservers in the RDNSS option
	searchEnd   int // the DNSSL option carries the valid names of Search[:searchEnd]
	searchBytes int // their wire form, before padding
	length      int // the ICMPv6 message
}

// layout decides which options an RA carries within maxPacket.
func layout(cfg *Config) raLayout {
	var l raLayout
	l.length = raLen + optLLLen
	switch {
	case cfg.Prefix.IsValid() && cfg.Prefix.Addr().Is6() && !cfg.Prefix.Addr().Is4In6():
		l.prefix = cfg.Prefix.Masked()
	case cfg.GuestAddr.Is6() && !cfg.GuestAddr.Is4In6():
		l.prefix, _ = cfg.GuestAddr.Prefix(64)
	}
	if l.prefix.IsValid() {
		l.length += prefixLen
	}
	if cfg.MTU > 0 {
		l.mtu = true
		l.length += mtuLen
	}
	// The room left in a 1280-byte packet holds at most 75 nameservers,
	// below the 127 that the RDNSS length field can describe.
	room := maxPacket - header.IPv6Len - l.length
	for _, a := range cfg.DNS {
		if !nameserver(a) {
			continue
		}
		if rdnssFixed+(l.dns+1)*addrLen > room {
			break
		}
		l.dns++
	}
	if l.dns > 0 {
		room -= rdnssFixed + l.dns*addrLen
		l.length += rdnssFixed + l.dns*addrLen
	}
	l.searchEnd, l.searchBytes = searchFit(cfg.Search, room)
	if l.searchBytes > 0 {
		l.length += dnsslFixed + pad8(l.searchBytes)
	}
	return l
}

// addrLen is the length of an IPv6 address.
const addrLen = 16

// nameserver reports whether a can go into an RDNSS option.
func nameserver(a netip.Addr) bool {
	return a.Is6() && !a.Is4In6() && !a.IsUnspecified() && !a.IsMulticast()
}

// putRA writes an RA frame to dst at dstMAC at the start of out and returns
// its length, or 0 having written nothing when out is too short.
func putRA(cfg *Config, dst netip.Addr, dstMAC header.MAC, out []byte) int {
	l := layout(cfg)
	if len(out) < frameHeaders+l.length {
		return 0
	}
	ra := out[frameHeaders : frameHeaders+l.length]
	clear(ra)
	ra[msgType] = header.ICMPv6RouterAdvertisement
	ra[raCurHopLimit] = hopLimit
	ra[raFlags] = raFlagManaged
	binary.BigEndian.PutUint16(ra[raLifetime:], routerLifetime)
	// Reachable Time and Retrans Timer stay 0: unspecified by this router.
	o := ra[raLen:]

	if l.prefix.IsValid() {
		o[0], o[1] = optPrefix, prefixLen/optUnit
		o[2] = byte(l.prefix.Bits())
		o[3] = prefixFlagOnLink | prefixFlagAutonomous
		binary.BigEndian.PutUint32(o[4:], infinite) // valid lifetime
		binary.BigEndian.PutUint32(o[8:], infinite) // preferred lifetime
		// Bytes 12 to 15 are reserved.
		p := l.prefix.Addr().As16()
		copy(o[16:prefixLen], p[:])
		o = o[prefixLen:]
	}

	putLLOption(o, optSourceLL, cfg.OurMAC)
	o = o[optLLLen:]

	if l.mtu {
		o[0], o[1] = optMTU, mtuLen/optUnit
		mtu := uint32(cfg.MTU)
		if uint64(cfg.MTU) > math.MaxUint32 {
			mtu = math.MaxUint32
		}
		binary.BigEndian.PutUint32(o[4:], mtu)
		o = o[mtuLen:]
	}

	if l.dns > 0 {
		size := rdnssFixed + l.dns*addrLen
		o[0], o[1] = optRDNSS, byte(size/optUnit)
		binary.BigEndian.PutUint32(o[4:], infinite)
		w := rdnssFixed
		for _, a := range cfg.DNS {
			if w == size {
				break
			}
			if nameserver(a) {
				b := a.As16()
				w += copy(o[w:size], b[:])
			}
		}
		o = o[size:]
	}

	if l.searchBytes > 0 {
		size := dnsslFixed + pad8(l.searchBytes)
		o[0], o[1] = optDNSSL, byte(size/optUnit)
		binary.BigEndian.PutUint32(o[4:], infinite)
		w := dnsslFixed
		for _, name := range cfg.Search[:l.searchEnd] {
			if nameLen(name) != 0 {
				w += putName(o[w:size], name)
			}
		}
		// The padding after the names is already zero.
	}

	finish(cfg, out, dstMAC, dst, len(ra))
	return frameHeaders + len(ra)
}

// putLLOption writes a link-layer address option of type typ for mac at
// the start of b, which holds at least optLLLen bytes.
func putLLOption(b []byte, typ uint8, mac header.MAC) {
	b[0], b[1] = typ, optLLLen/optUnit
	copy(b[2:optLLLen], mac[:])
}

// finish completes the frame at the start of out whose ICMPv6 message of
// msgLen bytes is in place after the Ethernet and IPv6 headers: it fills
// the checksum and writes both headers, from OurLL and OurMAC to dst and
// dstMAC, with hop limit 255.
func finish(cfg *Config, out []byte, dstMAC header.MAC, dst netip.Addr, msgLen int) {
	msg := out[frameHeaders : frameHeaders+msgLen]
	header.SetTransportChecksum6(msg, header.ProtocolICMPv6, cfg.OurLL, dst)
	header.PutIPv6(out[header.EthernetLen:], msgLen, header.IPv6Fields{
		Src: cfg.OurLL, Dst: dst, NextHeader: header.ProtocolICMPv6, HopLimit: hopLimit,
	})
	header.PutEthernet(out, dstMAC, cfg.OurMAC, header.EtherTypeIPv6)
}

// multicastMAC returns the Ethernet group address of the IPv6 multicast
// address a: 33:33 and the low 32 bits of a (RFC 2464 section 7).
func multicastMAC(a netip.Addr) header.MAC {
	b := a.As16()
	return header.MAC{0x33, 0x33, b[12], b[13], b[14], b[15]}
}
