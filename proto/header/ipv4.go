// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package header

import (
	"encoding/binary"
	"net/netip"
)

// IPProtocol is an IPv4 protocol or IPv6 next header number (IANA
// "Assigned Internet Protocol Numbers").
type IPProtocol uint8

// Protocol numbers the data path recognises, extension headers included.
const (
	ProtocolHopByHop IPProtocol = 0
	ProtocolICMP     IPProtocol = 1
	ProtocolTCP      IPProtocol = 6
	ProtocolUDP      IPProtocol = 17
	ProtocolRouting  IPProtocol = 43
	ProtocolFragment IPProtocol = 44
	ProtocolESP      IPProtocol = 50
	ProtocolAH       IPProtocol = 51
	ProtocolICMPv6   IPProtocol = 58
	ProtocolNoNext   IPProtocol = 59
	ProtocolDestOpts IPProtocol = 60
)

// IPv4 header (RFC 791 section 3.1):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version|  IHL  |Type of Service|          Total Length         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Identification        |Flags|      Fragment Offset    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Time to Live |    Protocol   |         Header Checksum       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                       Source Address                          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Destination Address                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Options (IHL > 5)          |    Padding    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Flags, high bit first: reserved (0), DF (don't fragment), MF (more
// fragments). The fragment offset counts 8-byte units.
const (
	ipv4VersionIHL = 0
	ipv4TOS        = 1
	ipv4TotalLen   = 2
	ipv4ID         = 4
	ipv4FlagsFrag  = 6
	ipv4TTL        = 8
	ipv4Protocol   = 9
	ipv4Checksum   = 10
	ipv4Src        = 12
	ipv4Dst        = 16

	// IPv4MinLen is the length of an IPv4 header without options.
	IPv4MinLen = 20
	// IPv4MaxLen is the longest IPv4 header (IHL 15).
	IPv4MaxLen = 60

	ipv4FlagDF       = 0x4000
	ipv4FlagMF       = 0x2000
	ipv4FragOffMask  = 0x1fff
	ipv4DefaultTTL   = 64
	ipv4MaxTotalLen  = 0xffff
	ipv4VersionShift = 4
)

// IPv4 is a validated view of an IPv4 packet: its header, options and
// payload, trimmed to the total length (link-layer padding left out). It
// shares the caller's slice.
type IPv4 struct{ b []byte }

// ParseIPv4 validates the IPv4 header at the start of b: version 4, IHL at
// least 5, header within b, total length at least the header length and
// within b. Bytes of b beyond the total length (Ethernet padding) are left
// out of the view. Options are skipped, fragments accepted (IsFragment
// tells); the header checksum is not verified (ChecksumValid does).
func ParseIPv4(b []byte) (IPv4, bool) {
	h, d := parseIPv4(b)
	return h, d == DropNone
}

func parseIPv4(b []byte) (IPv4, Drop) {
	if len(b) < IPv4MinLen {
		return IPv4{}, DropTooShort
	}
	if b[ipv4VersionIHL]>>ipv4VersionShift != 4 {
		return IPv4{}, DropBadVersion
	}
	hl := int(b[ipv4VersionIHL]&0xf) * 4
	if hl < IPv4MinLen || hl > len(b) {
		return IPv4{}, DropBadHeaderLength
	}
	tl := int(binary.BigEndian.Uint16(b[ipv4TotalLen:]))
	if tl < hl || tl > len(b) {
		return IPv4{}, DropBadTotalLength
	}
	return IPv4{b[:tl]}, DropNone
}

// HeaderLen returns the header length in bytes, options included.
func (h IPv4) HeaderLen() int { return int(u8(h.b, ipv4VersionIHL)&0xf) * 4 }

// TOS returns the type of service byte (DSCP and ECN).
func (h IPv4) TOS() uint8 { return u8(h.b, ipv4TOS) }

// TotalLen returns the total length field, equal to len(h.Bytes()).
func (h IPv4) TotalLen() int { return int(be16(h.b, ipv4TotalLen)) }

// ID returns the identification field.
func (h IPv4) ID() uint16 { return be16(h.b, ipv4ID) }

// DontFragment reports whether the DF flag is set.
func (h IPv4) DontFragment() bool { return be16(h.b, ipv4FlagsFrag)&ipv4FlagDF != 0 }

// MoreFragments reports whether the MF flag is set.
func (h IPv4) MoreFragments() bool { return be16(h.b, ipv4FlagsFrag)&ipv4FlagMF != 0 }

// FragmentOffset returns the fragment offset in bytes.
func (h IPv4) FragmentOffset() int { return int(be16(h.b, ipv4FlagsFrag)&ipv4FragOffMask) * 8 }

// IsFragment reports whether the packet is a fragment: MF set or a non-zero
// offset.
func (h IPv4) IsFragment() bool {
	return be16(h.b, ipv4FlagsFrag)&(ipv4FlagMF|ipv4FragOffMask) != 0
}

// TTL returns the time to live.
func (h IPv4) TTL() uint8 { return u8(h.b, ipv4TTL) }

// Protocol returns the protocol of the payload.
func (h IPv4) Protocol() IPProtocol { return IPProtocol(u8(h.b, ipv4Protocol)) }

// Checksum returns the header checksum field.
func (h IPv4) Checksum() uint16 { return be16(h.b, ipv4Checksum) }

// ChecksumValid reports whether the header (options included) sums to
// 0xffff, that is whether the header checksum is right.
func (h IPv4) ChecksumValid() bool {
	hdr := span(h.b, 0, h.HeaderLen())
	return len(hdr) >= IPv4MinLen && Checksum(hdr, 0) == 0xffff
}

// Src returns the source address.
func (h IPv4) Src() netip.Addr { return addr4(h.b, ipv4Src) }

// Dst returns the destination address.
func (h IPv4) Dst() netip.Addr { return addr4(h.b, ipv4Dst) }

// Options returns the options (empty when IHL is 5).
func (h IPv4) Options() []byte { return span(h.b, IPv4MinLen, h.HeaderLen()) }

// Payload returns the bytes after the header, up to the total length.
func (h IPv4) Payload() []byte { return tail(h.b, h.HeaderLen()) }

// Bytes returns the packet the view covers, trimmed to the total length.
func (h IPv4) Bytes() []byte { return h.b }

// IPv4Fields are the values PutIPv4 writes.
type IPv4Fields struct {
	Src, Dst     netip.Addr // IPv4 addresses
	Protocol     IPProtocol
	TTL          uint8 // 0 means 64
	TOS          uint8
	ID           uint16
	DontFragment bool
}

// PutIPv4 writes a 20-byte IPv4 header (no options) at the start of b for a
// payload of payloadLen bytes, with its header checksum, and returns
// IPv4MinLen. It returns 0 and writes nothing when b is shorter than the
// header or the total length would not fit in 16 bits. The payload itself
// is neither read nor written.
func PutIPv4(b []byte, payloadLen int, f IPv4Fields) int {
	if len(b) < IPv4MinLen || payloadLen < 0 || payloadLen > ipv4MaxTotalLen-IPv4MinLen {
		return 0
	}
	b = b[:IPv4MinLen]
	b[ipv4VersionIHL] = 4<<ipv4VersionShift | IPv4MinLen/4
	b[ipv4TOS] = f.TOS
	binary.BigEndian.PutUint16(b[ipv4TotalLen:], uint16(IPv4MinLen+payloadLen))
	binary.BigEndian.PutUint16(b[ipv4ID:], f.ID)
	var flags uint16
	if f.DontFragment {
		flags = ipv4FlagDF
	}
	binary.BigEndian.PutUint16(b[ipv4FlagsFrag:], flags)
	ttl := f.TTL
	if ttl == 0 {
		ttl = ipv4DefaultTTL
	}
	b[ipv4TTL] = ttl
	b[ipv4Protocol] = uint8(f.Protocol)
	b[ipv4Checksum], b[ipv4Checksum+1] = 0, 0
	putAddr4(b[ipv4Src:], f.Src)
	putAddr4(b[ipv4Dst:], f.Dst)
	binary.BigEndian.PutUint16(b[ipv4Checksum:], ^Checksum(b, 0))
	return IPv4MinLen
}
