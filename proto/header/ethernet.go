// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package header

import "encoding/binary"

// MAC is an IEEE 802 MAC-48 address. Unlike net.HardwareAddr it is an
// array: it compares with ==, copies without allocating and can be a map key.
type MAC [6]byte

// BroadcastMAC is ff:ff:ff:ff:ff:ff.
var BroadcastMAC = MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// IsMulticast reports whether the group bit of m is set (broadcast included).
func (m MAC) IsMulticast() bool { return m[0]&1 != 0 }

// IsZero reports whether m is 00:00:00:00:00:00.
func (m MAC) IsZero() bool { return m == MAC{} }

// String formats m as six colon-separated lower-case hex pairs. It allocates;
// keep it out of the data path.
func (m MAC) String() string {
	const hex = "0123456789abcdef"
	var s [17]byte
	for i, x := range m {
		if i > 0 {
			s[3*i-1] = ':'
		}
		s[3*i] = hex[x>>4]
		s[3*i+1] = hex[x&0xf]
	}
	return string(s[:])
}

// EtherType is the protocol of an Ethernet payload.
type EtherType uint16

// EtherTypes the data path handles.
const (
	EtherTypeIPv4 EtherType = 0x0800
	EtherTypeARP  EtherType = 0x0806
	EtherTypeIPv6 EtherType = 0x86dd
)

// Ethernet II header (IEEE 802.3, no 802.1Q tag, no FCS: neither a tap
// device nor qemu's stream socket carries one):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Destination MAC address                    |
//	+                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                               |                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//	|                      Source MAC address                       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           EtherType           |    Payload ...
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	ethDst  = 0
	ethSrc  = 6
	ethType = 12

	// EthernetLen is the length of an Ethernet II header.
	EthernetLen = 14
	// EthernetMinFrame is the shortest frame on the wire without FCS;
	// senders pad shorter frames with zeros up to it.
	EthernetMinFrame = 60
)

// Ethernet is a validated view of an Ethernet II frame: the header and
// everything after it. It shares the caller's slice.
type Ethernet struct{ b []byte }

// ParseEthernet returns a view of frame if it holds at least a complete
// header. The payload is not examined; padding (if any) stays in it until a
// network-layer parser trims it.
func ParseEthernet(frame []byte) (Ethernet, bool) {
	if len(frame) < EthernetLen {
		return Ethernet{}, false
	}
	return Ethernet{frame}, true
}

// Dst returns the destination MAC address.
func (e Ethernet) Dst() MAC { return mac(e.b, ethDst) }

// Src returns the source MAC address.
func (e Ethernet) Src() MAC { return mac(e.b, ethSrc) }

// Type returns the EtherType.
func (e Ethernet) Type() EtherType { return EtherType(be16(e.b, ethType)) }

// Payload returns what follows the header, padding included.
func (e Ethernet) Payload() []byte { return tail(e.b, EthernetLen) }

// Bytes returns the whole frame the view covers.
func (e Ethernet) Bytes() []byte { return e.b }

// PutEthernet writes an Ethernet II header at the start of b and returns
// EthernetLen, or 0 (writing nothing) when b is shorter than that.
func PutEthernet(b []byte, dst, src MAC, t EtherType) int {
	if len(b) < EthernetLen {
		return 0
	}
	copy(b[ethDst:], dst[:])
	copy(b[ethSrc:], src[:])
	binary.BigEndian.PutUint16(b[ethType:], uint16(t))
	return EthernetLen
}
