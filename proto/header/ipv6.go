// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package header

import (
	"encoding/binary"
	"net/netip"
)

// IPv6 fixed header (RFC 8200 section 3):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version| Traffic Class |           Flow Label                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Payload Length        |  Next Header  |   Hop Limit   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                                                               +
//	|                                                               |
//	+                         Source Address                        +
//	|                                                               |
//	+                                                               +
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                                                               +
//	|                                                               |
//	+                      Destination Address                      +
//	|                                                               |
//	+                                                               +
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	ipv6VersionTCFlow = 0
	ipv6PayloadLen    = 4
	ipv6NextHeader    = 6
	ipv6HopLimit      = 7
	ipv6Src           = 8
	ipv6Dst           = 24

	// IPv6Len is the length of the IPv6 fixed header.
	IPv6Len = 40

	ipv6DefaultHopLimit = 64
	ipv6FlowLabelMask   = 0xfffff
)

// Extension headers walked to find the upper-layer protocol (RFC 8200
// section 4). Hop-by-Hop Options, Routing and Destination Options share a
// prefix; their length counts 8-octet units beyond the first:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Next Header  |  Hdr Ext Len  |                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//	.                 options or routing data                       .
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The Fragment header is always 8 octets:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                         Identification                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	extNextHeader = 0
	extLen        = 1
	extUnit       = 8

	// IPv6FragmentLen is the length of the Fragment extension header.
	IPv6FragmentLen = 8

	// MaxIPv6ExtHeaders bounds the extension header walk: a packet with
	// more extension headers than this is rejected.
	MaxIPv6ExtHeaders = 8
)

// IPv6 is a validated view of an IPv6 packet, trimmed to its payload
// length, with the position of its upper-layer header found by walking the
// extension headers. It shares the caller's slice.
type IPv6 struct {
	b        []byte
	proto    IPProtocol // upper-layer protocol after extension headers
	l4       uint32     // offset of the upper-layer header in b
	fragment bool       // a Fragment header was walked
}

// ParseIPv6 validates the IPv6 packet at the start of b: version 6, a
// non-zero payload length within b (a zero payload length, as a jumbogram
// has, is rejected), and extension headers (Hop-by-Hop first only, Routing,
// Destination Options, Fragment) each complete within the payload, at most
// MaxIPv6ExtHeaders of them. Bytes beyond the payload length (Ethernet
// padding) are left out of the view. A Fragment header is accepted and
// reported by IsFragment; any other next header ends the walk and becomes
// Protocol, including ones this package has no parser for (ESP, AH, No Next
// Header).
func ParseIPv6(b []byte) (IPv6, bool) {
	h, d := parseIPv6(b)
	return h, d == DropNone
}

func parseIPv6(b []byte) (IPv6, Drop) {
	if len(b) < IPv6Len {
		return IPv6{}, DropTooShort
	}
	if b[ipv6VersionTCFlow]>>4 != 6 {
		return IPv6{}, DropBadVersion
	}
	next := IPProtocol(b[ipv6NextHeader])
	pl := int(binary.BigEndian.Uint16(b[ipv6PayloadLen:]))
	if pl == 0 {
		if next == ProtocolHopByHop {
			return IPv6{}, DropJumbogram
		}
		return IPv6{}, DropBadTotalLength
	}
	if IPv6Len+pl > len(b) {
		return IPv6{}, DropBadTotalLength
	}
	b = b[:IPv6Len+pl]
	off := IPv6Len
	fragment := false
	for n := 0; ; n++ {
		var l int
		switch next {
		case ProtocolHopByHop, ProtocolRouting, ProtocolDestOpts:
			if next == ProtocolHopByHop && n > 0 {
				return IPv6{}, DropBadExtensionHeader
			}
			if off+2 > len(b) {
				return IPv6{}, DropBadExtensionHeader
			}
			l = (int(b[off+extLen]) + 1) * extUnit
		case ProtocolFragment:
			l = IPv6FragmentLen
			fragment = true
		default:
			return IPv6{b: b, proto: next, l4: uint32(off), fragment: fragment}, DropNone
		}
		if n >= MaxIPv6ExtHeaders || off+l > len(b) {
			return IPv6{}, DropBadExtensionHeader
		}
		next = IPProtocol(b[off+extNextHeader])
		off += l
	}
}

// TrafficClass returns the traffic class byte.
func (h IPv6) TrafficClass() uint8 { return uint8(be16(h.b, ipv6VersionTCFlow) >> 4) }

// FlowLabel returns the 20-bit flow label.
func (h IPv6) FlowLabel() uint32 { return be32(h.b, ipv6VersionTCFlow) & ipv6FlowLabelMask }

// PayloadLen returns the payload length field, equal to len(h.Payload()).
func (h IPv6) PayloadLen() int { return int(be16(h.b, ipv6PayloadLen)) }

// NextHeader returns the next header field of the fixed header.
func (h IPv6) NextHeader() IPProtocol { return IPProtocol(u8(h.b, ipv6NextHeader)) }

// HopLimit returns the hop limit.
func (h IPv6) HopLimit() uint8 { return u8(h.b, ipv6HopLimit) }

// Src returns the source address.
func (h IPv6) Src() netip.Addr { return addr16(h.b, ipv6Src) }

// Dst returns the destination address.
func (h IPv6) Dst() netip.Addr { return addr16(h.b, ipv6Dst) }

// Payload returns the bytes after the fixed header (extension headers
// included), up to the payload length.
func (h IPv6) Payload() []byte { return tail(h.b, IPv6Len) }

// Protocol returns the upper-layer protocol: the next header value that
// ended the extension header walk.
func (h IPv6) Protocol() IPProtocol { return h.proto }

// TransportOffset returns the offset in h.Bytes() of the upper-layer header.
func (h IPv6) TransportOffset() int { return int(h.l4) }

// Transport returns the upper-layer header and its data.
func (h IPv6) Transport() []byte { return tail(h.b, int(h.l4)) }

// IsFragment reports whether the walk went through a Fragment header. The
// upper-layer header is then only present in the first fragment, and
// Transport is not a complete upper-layer packet.
func (h IPv6) IsFragment() bool { return h.fragment }

// Bytes returns the packet the view covers, trimmed to the payload length.
func (h IPv6) Bytes() []byte { return h.b }

// IPv6Fields are the values PutIPv6 writes.
type IPv6Fields struct {
	Src, Dst     netip.Addr // taken in 16-byte form
	NextHeader   IPProtocol
	HopLimit     uint8 // 0 means 64
	TrafficClass uint8
	FlowLabel    uint32 // low 20 bits
}

// PutIPv6 writes an IPv6 fixed header at the start of b for a payload of
// payloadLen bytes and returns IPv6Len. It returns 0 and writes nothing
// when b is shorter than the header or payloadLen is not in 1..65535. The
// payload itself is neither read nor written.
func PutIPv6(b []byte, payloadLen int, f IPv6Fields) int {
	if len(b) < IPv6Len || payloadLen < 1 || payloadLen > 0xffff {
		return 0
	}
	b = b[:IPv6Len]
	binary.BigEndian.PutUint32(b[ipv6VersionTCFlow:],
		6<<28|uint32(f.TrafficClass)<<20|f.FlowLabel&ipv6FlowLabelMask)
	binary.BigEndian.PutUint16(b[ipv6PayloadLen:], uint16(payloadLen))
	b[ipv6NextHeader] = uint8(f.NextHeader)
	hl := f.HopLimit
	if hl == 0 {
		hl = ipv6DefaultHopLimit
	}
	b[ipv6HopLimit] = hl
	putAddr16(b[ipv6Src:], f.Src)
	putAddr16(b[ipv6Dst:], f.Dst)
	return IPv6Len
}
