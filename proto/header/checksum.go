// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package header

import (
	"encoding/binary"
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip/checksum"
)

// Checksum returns the Internet checksum sum (RFC 1071) of b added to
// initial: the 16-bit one's complement sum of b read as big-endian words,
// an odd trailing byte padded with a zero byte, folded to 16 bits. It is the
// sum, not its complement; a checksum field holds ^sum. initial must be a
// sum over an even number of bytes (a pseudo-header sum, or a previous
// Checksum of an even-length slice), or 0.
func Checksum(b []byte, initial uint16) uint16 {
	return checksum.Checksum(b, initial)
}

// Combine adds two partial sums in one's complement arithmetic. a must have
// been computed over an even number of bytes.
func Combine(a, b uint16) uint16 {
	return checksum.Combine(a, b)
}

// PseudoHeaderChecksum4 returns the sum of the IPv4 pseudo-header (RFC 793
// section 3.1, RFC 768): source and destination addresses, zero, protocol
// and the length of the transport segment (header and data). src and dst
// must be IPv4 (or IPv4-mapped IPv6) addresses; anything else counts as
// 0.0.0.0.
//
// The sum is made on integers, without laying the pseudo-header out in
// memory: it is taken for every frame, and costs a few instructions so.
func PseudoHeaderChecksum4(proto IPProtocol, src, dst netip.Addr, length uint16) uint16 {
	s := addr4Sum(src) + addr4Sum(dst) + uint32(proto) + uint32(length)
	s = s&0xffff + s>>16
	s = s&0xffff + s>>16
	return uint16(s)
}

// addr4Sum returns the sum of the two 16-bit words of an IPv4 (or
// IPv4-mapped IPv6) address, 0 for anything else, not folded.
func addr4Sum(a netip.Addr) uint32 {
	if !a.Is4() && !a.Is4In6() {
		return 0
	}
	b := a.As4()
	return uint32(b[0])<<8 | uint32(b[1]) + (uint32(b[2])<<8 | uint32(b[3]))
}

// PseudoHeaderChecksum6 returns the sum of the IPv6 pseudo-header (RFC 8200
// section 8.1): source and destination addresses, the 32-bit upper-layer
// packet length, three zero bytes and the next header value. Addresses are
// taken in their 16-byte form (IPv4 as IPv4-mapped).
func PseudoHeaderChecksum6(proto IPProtocol, src, dst netip.Addr, length uint32) uint16 {
	var ph [40]byte
	putAddr16(ph[0:], src)
	putAddr16(ph[16:], dst)
	binary.BigEndian.PutUint32(ph[32:], length)
	ph[39] = uint8(proto)
	return checksum.Checksum(ph[:], 0)
}

// Update16 returns the checksum field check updated for one 16-bit word of
// the covered data changing from old to new (RFC 1624, equation 3:
// HC' = ~(~HC + ~m + m')). check and the result are field values, that is
// complemented sums. The word must sit at an even offset of the covered data.
// The result equals a recomputation except when the covered data becomes
// all zeros (0x0000 comes out instead of 0xffff), which cannot happen to an
// IP header or to a transport message with its pseudo-header. A UDP
// checksum that comes out as 0 must be sent as 0xffff by the caller.
func Update16(check, old, new uint16) uint16 {
	s := uint32(^check) + uint32(^old) + uint32(new)
	s = (s & 0xffff) + s>>16
	s = (s & 0xffff) + s>>16
	return ^uint16(s)
}

// Update32 is Update16 for a 32-bit value (two adjacent words) such as an
// IPv4 address or a sequence number, at an even offset.
func Update32(check uint16, old, new uint32) uint16 {
	s := uint64(^check) +
		uint64(^uint16(old>>16)) + uint64(^uint16(old)) +
		uint64(new>>16) + uint64(uint16(new))
	s = (s & 0xffff) + s>>16
	s = (s & 0xffff) + s>>16
	return ^uint16(s)
}

// UpdateAddr returns check updated for an address in the covered data
// changing from old to new: four bytes when both are IPv4, sixteen (the
// 16-byte forms) otherwise. It covers the pseudo-header of a transport
// checksum after a NAT rewrite as well as the IPv4 header checksum.
func UpdateAddr(check uint16, old, new netip.Addr) uint16 {
	if old.Is4() && new.Is4() {
		o, n := old.As4(), new.As4()
		return Update32(check, binary.BigEndian.Uint32(o[:]), binary.BigEndian.Uint32(n[:]))
	}
	o, n := old.As16(), new.As16()
	for i := 0; i < 16; i += 4 {
		check = Update32(check, binary.BigEndian.Uint32(o[i:]), binary.BigEndian.Uint32(n[i:]))
	}
	return check
}
