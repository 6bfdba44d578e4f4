// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package header

import (
	"encoding/binary"
	"net/netip"
)

// ARP packet for Ethernet and IPv4 (RFC 826), 28 bytes:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Hardware Type (1)         |     Protocol Type (0x0800)    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  HW len (6)   | Proto len (4) |           Operation           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                     Sender MAC address                        |
//	+                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                               |   Sender IPv4 address         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//	|                               |                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//	|                     Target MAC address                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                     Target IPv4 address                       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	arpHType     = 0
	arpPType     = 2
	arpHLen      = 4
	arpPLen      = 5
	arpOp        = 6
	arpSenderMAC = 8
	arpSenderIP  = 14
	arpTargetMAC = 18
	arpTargetIP  = 24

	// ARPLen is the length of an Ethernet/IPv4 ARP packet.
	ARPLen = 28

	arpHTypeEthernet = 1
)

// ARPOp is an ARP operation code.
type ARPOp uint16

// ARP operations.
const (
	ARPRequest ARPOp = 1
	ARPReply   ARPOp = 2
)

// ARP is a validated view of an Ethernet/IPv4 ARP packet, trimmed to
// ARPLen. It shares the caller's slice.
type ARP struct{ b []byte }

// ParseARP accepts b, an Ethernet payload, when it holds a complete ARP
// packet for Ethernet (hardware type 1, length 6) and IPv4 (protocol type
// 0x0800, length 4). The operation is not examined. Padding after the 28
// bytes is left out of the view.
func ParseARP(b []byte) (ARP, bool) {
	if len(b) < ARPLen ||
		binary.BigEndian.Uint16(b[arpHType:]) != arpHTypeEthernet ||
		binary.BigEndian.Uint16(b[arpPType:]) != uint16(EtherTypeIPv4) ||
		b[arpHLen] != 6 || b[arpPLen] != 4 {
		return ARP{}, false
	}
	return ARP{b[:ARPLen]}, true
}

// Op returns the operation.
func (a ARP) Op() ARPOp { return ARPOp(be16(a.b, arpOp)) }

// SenderMAC returns the sender hardware address.
func (a ARP) SenderMAC() MAC { return mac(a.b, arpSenderMAC) }

// SenderIP returns the sender protocol address.
func (a ARP) SenderIP() netip.Addr { return addr4(a.b, arpSenderIP) }

// TargetMAC returns the target hardware address.
func (a ARP) TargetMAC() MAC { return mac(a.b, arpTargetMAC) }

// TargetIP returns the target protocol address.
func (a ARP) TargetIP() netip.Addr { return addr4(a.b, arpTargetIP) }

// Bytes returns the 28 bytes the view covers.
func (a ARP) Bytes() []byte { return a.b }

// PutARP writes an Ethernet/IPv4 ARP packet at the start of b and returns
// ARPLen, or 0 writing nothing when b is shorter. Addresses that are not
// IPv4 are written as 0.0.0.0. A reply to a request swaps the roles: the
// answer's sender is the address asked for, its target the requester.
func PutARP(b []byte, op ARPOp, senderMAC MAC, senderIP netip.Addr, targetMAC MAC, targetIP netip.Addr) int {
	if len(b) < ARPLen {
		return 0
	}
	binary.BigEndian.PutUint16(b[arpHType:], arpHTypeEthernet)
	binary.BigEndian.PutUint16(b[arpPType:], uint16(EtherTypeIPv4))
	b[arpHLen], b[arpPLen] = 6, 4
	binary.BigEndian.PutUint16(b[arpOp:], uint16(op))
	copy(b[arpSenderMAC:], senderMAC[:])
	putAddr4(b[arpSenderIP:], senderIP)
	copy(b[arpTargetMAC:], targetMAC[:])
	putAddr4(b[arpTargetIP:], targetIP)
	return ARPLen
}
