// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package header

import (
	"encoding/binary"
	"net/netip"
)

// ICMP (RFC 792) and ICMPv6 (RFC 4443) messages share their first eight
// bytes' layout:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |          Checksum             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   Identifier (echo)           |   Sequence Number (echo)      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Data ...  (errors: as much of the offending packet as fits)
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-
//
// In errors the second word is unused, or a pointer (parameter problem),
// or the next-hop MTU (ICMP "fragmentation needed", low 16 bits; ICMPv6
// "packet too big", 32 bits). The ICMP checksum covers the message only;
// the ICMPv6 checksum also covers the IPv6 pseudo-header.
const (
	icmpType     = 0
	icmpCode     = 1
	icmpChecksum = 2
	icmpID       = 4
	icmpSeq      = 6
	icmpRest     = 4

	// ICMPLen is the length of the fixed part of an ICMP or ICMPv6 message.
	ICMPLen = 8

	// MaxICMPv4Error is the longest ICMP error message written: with a
	// 20-byte IPv4 header it makes the 576-byte datagram every host must
	// accept (RFC 1812 section 4.3.2.3).
	MaxICMPv4Error = 576 - IPv4MinLen
	// MaxICMPv6Error is the longest ICMPv6 error message written: with the
	// IPv6 header it fills the minimum IPv6 MTU of 1280 (RFC 4443 section
	// 2.4 (c)).
	MaxICMPv6Error = 1280 - IPv6Len
)

// ICMP message types.
const (
	ICMPv4EchoReply        = 0
	ICMPv4DestUnreachable  = 3
	ICMPv4EchoRequest      = 8
	ICMPv4TimeExceeded     = 11
	ICMPv4ParameterProblem = 12

	ICMPv6DestUnreachable       = 1
	ICMPv6PacketTooBig          = 2
	ICMPv6TimeExceeded          = 3
	ICMPv6ParameterProblem      = 4
	ICMPv6EchoRequest           = 128
	ICMPv6EchoReply             = 129
	ICMPv6RouterSolicitation    = 133
	ICMPv6RouterAdvertisement   = 134
	ICMPv6NeighborSolicitation  = 135
	ICMPv6NeighborAdvertisement = 136
)

// ICMP destination unreachable codes.
const (
	ICMPv4NetUnreachable      = 0
	ICMPv4HostUnreachable     = 1
	ICMPv4ProtocolUnreachable = 2
	ICMPv4PortUnreachable     = 3
	ICMPv4FragmentationNeeded = 4

	ICMPv6NoRoute            = 0
	ICMPv6AdminProhibited    = 1
	ICMPv6AddressUnreachable = 3
	ICMPv6PortUnreachable    = 4
)

// ICMPv4 is a validated view of an ICMP message (the IPv4 payload). It
// shares the caller's slice.
type ICMPv4 struct{ b []byte }

// ParseICMPv4 accepts b, an IPv4 payload, when it holds at least the
// 8-byte fixed part. Type and checksum are not examined.
func ParseICMPv4(b []byte) (ICMPv4, bool) {
	if len(b) < ICMPLen {
		return ICMPv4{}, false
	}
	return ICMPv4{b}, true
}

// Type returns the message type.
func (m ICMPv4) Type() uint8 { return u8(m.b, icmpType) }

// Code returns the message code.
func (m ICMPv4) Code() uint8 { return u8(m.b, icmpCode) }

// Checksum returns the checksum field.
func (m ICMPv4) Checksum() uint16 { return be16(m.b, icmpChecksum) }

// IsEcho reports whether the message is an echo request or reply.
func (m ICMPv4) IsEcho() bool {
	t := m.Type()
	return t == ICMPv4EchoRequest || t == ICMPv4EchoReply
}

// ID returns the echo identifier (meaningful for echo messages).
func (m ICMPv4) ID() uint16 { return be16(m.b, icmpID) }

// Seq returns the echo sequence number (meaningful for echo messages).
func (m ICMPv4) Seq() uint16 { return be16(m.b, icmpSeq) }

// Rest returns the second word of the message.
func (m ICMPv4) Rest() uint32 { return be32(m.b, icmpRest) }

// Payload returns what follows the fixed part: echo data, or the quoted
// packet of an error.
func (m ICMPv4) Payload() []byte { return tail(m.b, ICMPLen) }

// ChecksumValid reports whether the message checksum is right.
func (m ICMPv4) ChecksumValid() bool {
	return len(m.b) >= ICMPLen && Checksum(m.b, 0) == 0xffff
}

// Bytes returns the message the view covers.
func (m ICMPv4) Bytes() []byte { return m.b }

// ICMPv6 is a validated view of an ICMPv6 message (the upper-layer part of
// an IPv6 packet). It shares the caller's slice.
type ICMPv6 struct{ b []byte }

// ParseICMPv6 accepts b when it holds at least the 8-byte fixed part every
// ICMPv6 message has. Type and checksum are not examined.
func ParseICMPv6(b []byte) (ICMPv6, bool) {
	if len(b) < ICMPLen {
		return ICMPv6{}, false
	}
	return ICMPv6{b}, true
}

// Type returns the message type.
func (m ICMPv6) Type() uint8 { return u8(m.b, icmpType) }

// Code returns the message code.
func (m ICMPv6) Code() uint8 { return u8(m.b, icmpCode) }

// Checksum returns the checksum field.
func (m ICMPv6) Checksum() uint16 { return be16(m.b, icmpChecksum) }

// IsEcho reports whether the message is an echo request or reply.
func (m ICMPv6) IsEcho() bool {
	t := m.Type()
	return t == ICMPv6EchoRequest || t == ICMPv6EchoReply
}

// ID returns the echo identifier (meaningful for echo messages).
func (m ICMPv6) ID() uint16 { return be16(m.b, icmpID) }

// Seq returns the echo sequence number (meaningful for echo messages).
func (m ICMPv6) Seq() uint16 { return be16(m.b, icmpSeq) }

// Rest returns the second word of the message.
func (m ICMPv6) Rest() uint32 { return be32(m.b, icmpRest) }

// Payload returns what follows the fixed part: echo data, NDP fields and
// options, or the quoted packet of an error.
func (m ICMPv6) Payload() []byte { return tail(m.b, ICMPLen) }

// Bytes returns the message the view covers.
func (m ICMPv6) Bytes() []byte { return m.b }

// putICMP writes the fixed part and data of an ICMP or ICMPv6 message,
// checksum zero. data may alias b.
func putICMP(b []byte, typ, code uint8, rest uint32, data []byte) int {
	n := ICMPLen + len(data)
	b[icmpType] = typ
	b[icmpCode] = code
	binary.BigEndian.PutUint16(b[icmpChecksum:], 0)
	binary.BigEndian.PutUint32(b[icmpRest:], rest)
	copy(b[ICMPLen:n], data)
	return n
}

// PutICMPv4Echo writes an echo message (typ ICMPv4EchoRequest or
// ICMPv4EchoReply) with data at the start of b, checksum included, and
// returns its length, or 0 writing nothing when b is too short. data may
// already be in place at b[ICMPLen:].
func PutICMPv4Echo(b []byte, typ uint8, id, seq uint16, data []byte) int {
	if len(b) < ICMPLen+len(data) {
		return 0
	}
	n := putICMP(b, typ, 0, uint32(id)<<16|uint32(seq), data)
	binary.BigEndian.PutUint16(b[icmpChecksum:], ^Checksum(b[:n], 0))
	return n
}

// PutICMPv4Error writes an error message at the start of b quoting the
// offending packet (its IP header first), checksum included, and returns
// its length, or 0 writing nothing when b cannot hold the fixed part. The
// quote is cut to what fits in b and in MaxICMPv4Error. rest is the second
// word: 0, or the next-hop MTU for ICMPv4FragmentationNeeded, or a pointer
// in its top byte for a parameter problem.
func PutICMPv4Error(b []byte, typ, code uint8, rest uint32, quote []byte) int {
	if len(b) < ICMPLen {
		return 0
	}
	quote = quote[:min(len(quote), len(b)-ICMPLen, MaxICMPv4Error-ICMPLen)]
	n := putICMP(b, typ, code, rest, quote)
	binary.BigEndian.PutUint16(b[icmpChecksum:], ^Checksum(b[:n], 0))
	return n
}

// PutICMPv6Echo writes an echo message (typ ICMPv6EchoRequest or
// ICMPv6EchoReply) with data at the start of b, with its checksum over the
// pseudo-header of src and dst, and returns its length, or 0 writing
// nothing when b is too short. data may already be in place at b[ICMPLen:].
func PutICMPv6Echo(b []byte, typ uint8, id, seq uint16, data []byte, src, dst netip.Addr) int {
	if len(b) < ICMPLen+len(data) {
		return 0
	}
	n := putICMP(b, typ, 0, uint32(id)<<16|uint32(seq), data)
	SetTransportChecksum6(b[:n], ProtocolICMPv6, src, dst)
	return n
}

// PutICMPv6Error writes an error message from src to dst at the start of b
// quoting the offending packet (its IPv6 header first), checksum included,
// and returns its length, or 0 writing nothing when b cannot hold the fixed
// part. The quote is cut to what fits in b and in MaxICMPv6Error. rest is
// the second word: 0, the MTU for ICMPv6PacketTooBig, or a pointer for a
// parameter problem.
func PutICMPv6Error(b []byte, typ, code uint8, rest uint32, quote []byte, src, dst netip.Addr) int {
	if len(b) < ICMPLen {
		return 0
	}
	quote = quote[:min(len(quote), len(b)-ICMPLen, MaxICMPv6Error-ICMPLen)]
	n := putICMP(b, typ, code, rest, quote)
	SetTransportChecksum6(b[:n], ProtocolICMPv6, src, dst)
	return n
}
