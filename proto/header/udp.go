// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package header

import "encoding/binary"

// UDP header (RFC 768):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          Source Port          |       Destination Port        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|            Length             |           Checksum            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                             data                              |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The length covers header and data. Over IPv4 a zero checksum means none
// was computed; a computed zero is sent as 0xffff.
const (
	udpSrcPort  = 0
	udpDstPort  = 2
	udpLength   = 4
	udpChecksum = 6

	// UDPLen is the length of a UDP header.
	UDPLen = 8
)

// UDP is a validated view of a UDP datagram, trimmed to its length field.
// It shares the caller's slice.
type UDP struct{ b []byte }

// ParseUDP validates the UDP header at the start of b, the IP payload: the
// length field is at least 8 and within b. Bytes beyond the length are left
// out of the view, as Linux trims them; callers that want the length to
// match the IP payload exactly compare len(u.Bytes()) with len(b). The
// checksum is not verified (TransportChecksumValid4/6 do).
func ParseUDP(b []byte) (UDP, bool) {
	if len(b) < UDPLen {
		return UDP{}, false
	}
	l := int(binary.BigEndian.Uint16(b[udpLength:]))
	if l < UDPLen || l > len(b) {
		return UDP{}, false
	}
	return UDP{b[:l]}, true
}

// SrcPort returns the source port.
func (u UDP) SrcPort() uint16 { return be16(u.b, udpSrcPort) }

// DstPort returns the destination port.
func (u UDP) DstPort() uint16 { return be16(u.b, udpDstPort) }

// Length returns the length field, equal to len(u.Bytes()).
func (u UDP) Length() int { return int(be16(u.b, udpLength)) }

// Checksum returns the checksum field.
func (u UDP) Checksum() uint16 { return be16(u.b, udpChecksum) }

// Payload returns the datagram's data.
func (u UDP) Payload() []byte { return tail(u.b, UDPLen) }

// Bytes returns the datagram the view covers.
func (u UDP) Bytes() []byte { return u.b }

// PutUDP writes a UDP header at the start of b for payloadLen bytes of data,
// checksum field zero, and returns UDPLen. It returns 0 and writes nothing
// when b is shorter than the header or the length would not fit in 16 bits.
// The data is neither read nor written; SetTransportChecksum4/6 fill the
// checksum once it is in place.
func PutUDP(b []byte, srcPort, dstPort uint16, payloadLen int) int {
	if len(b) < UDPLen || payloadLen < 0 || payloadLen > 0xffff-UDPLen {
		return 0
	}
	binary.BigEndian.PutUint16(b[udpSrcPort:], srcPort)
	binary.BigEndian.PutUint16(b[udpDstPort:], dstPort)
	binary.BigEndian.PutUint16(b[udpLength:], uint16(UDPLen+payloadLen))
	binary.BigEndian.PutUint16(b[udpChecksum:], 0)
	return UDPLen
}
