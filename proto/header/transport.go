// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package header

import (
	"encoding/binary"
	"net/netip"
)

// checksumOffset returns where proto keeps its checksum, or -1 when this
// package does not know the protocol.
func checksumOffset(proto IPProtocol) int {
	switch proto {
	case ProtocolTCP:
		return tcpChecksum
	case ProtocolUDP:
		return udpChecksum
	case ProtocolICMP, ProtocolICMPv6:
		return icmpChecksum
	}
	return -1
}

// SetTransportChecksum4 computes the checksum of seg, a complete TCP, UDP
// or ICMP message (header and data) carried in IPv4 from src to dst, and
// stores it in the message's checksum field (a UDP zero as 0xffff). ICMP
// has no pseudo-header. It returns false, writing nothing, for another
// protocol, a seg too short for its checksum field, or longer than 65535.
func SetTransportChecksum4(seg []byte, proto IPProtocol, src, dst netip.Addr) bool {
	off := checksumOffset(proto)
	if off < 0 || proto == ProtocolICMPv6 || len(seg) < off+2 || len(seg) > 0xffff {
		return false
	}
	seg[off], seg[off+1] = 0, 0
	var s uint16
	if proto != ProtocolICMP {
		s = PseudoHeaderChecksum4(proto, src, dst, uint16(len(seg)))
	}
	c := ^Checksum(seg, s)
	if c == 0 && proto == ProtocolUDP {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(seg[off:], c)
	return true
}

// SetTransportChecksum6 computes the checksum of seg, a complete TCP, UDP
// or ICMPv6 message (the upper-layer packet) carried in IPv6 from src to
// dst, over the IPv6 pseudo-header, and stores it in the message's checksum
// field (a UDP zero as 0xffff). It returns false, writing nothing, for
// another protocol or a seg too short for its checksum field.
func SetTransportChecksum6(seg []byte, proto IPProtocol, src, dst netip.Addr) bool {
	off := checksumOffset(proto)
	if off < 0 || proto == ProtocolICMP || len(seg) < off+2 {
		return false
	}
	seg[off], seg[off+1] = 0, 0
	c := ^Checksum(seg, PseudoHeaderChecksum6(proto, src, dst, uint32(len(seg))))
	if c == 0 && proto == ProtocolUDP {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(seg[off:], c)
	return true
}

// TransportChecksumValid4 reports whether seg, a complete TCP, UDP or ICMP
// message carried in IPv4 from src to dst, has a correct checksum. A UDP
// checksum of zero (none computed) is accepted. Unknown protocols and
// messages too short for their checksum field are not valid.
func TransportChecksumValid4(seg []byte, proto IPProtocol, src, dst netip.Addr) bool {
	off := checksumOffset(proto)
	if off < 0 || proto == ProtocolICMPv6 || len(seg) < off+2 || len(seg) > 0xffff {
		return false
	}
	if proto == ProtocolUDP && seg[off] == 0 && seg[off+1] == 0 {
		return true
	}
	var s uint16
	if proto != ProtocolICMP {
		s = PseudoHeaderChecksum4(proto, src, dst, uint16(len(seg)))
	}
	return Checksum(seg, s) == 0xffff
}

// TransportChecksumValid6 reports whether seg, a complete TCP, UDP or
// ICMPv6 message carried in IPv6 from src to dst, has a correct checksum.
// A zero UDP checksum is not valid over IPv6. Unknown protocols and
// messages too short for their checksum field are not valid.
func TransportChecksumValid6(seg []byte, proto IPProtocol, src, dst netip.Addr) bool {
	off := checksumOffset(proto)
	if off < 0 || proto == ProtocolICMP || len(seg) < off+2 {
		return false
	}
	if proto == ProtocolUDP && seg[off] == 0 && seg[off+1] == 0 {
		return false
	}
	return Checksum(seg, PseudoHeaderChecksum6(proto, src, dst, uint32(len(seg)))) == 0xffff
}
