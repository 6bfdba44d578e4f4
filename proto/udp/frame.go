// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package udp

import (
	"net/netip"

	"passt-go/proto/header"
	"passt-go/proto/tap"
)

// Layout of the receive buffers. Datagrams are read at hdrRoom, after room
// for the largest headers (Ethernet, IPv6, UDP), whatever their family:
// an IPv4 frame then starts 20 bytes into the buffer. A dual-stack socket
// can return both families in one recvmmsg batch, so the payload's place
// must not depend on the family.
const (
	hdrRoom4 = header.EthernetLen + header.IPv4MinLen + header.UDPLen
	hdrRoom  = header.EthernetLen + header.IPv6Len + header.UDPLen

	// slotSize is one receive buffer. Reads are given MaxPayload4 bytes
	// of room, the larger limit; an IPv6 datagram longer than MaxPayload6
	// is then refused.
	slotSize = hdrRoom + MaxPayload4
)

// MaxPayload4 and MaxPayload6 are the largest datagrams carried to the
// guest: what fits in a frame of tap.MaxFrame bytes. Longer ones are
// dropped as DropTooBig.
const (
	MaxPayload4 = tap.MaxFrame - hdrRoom4
	MaxPayload6 = tap.MaxFrame - hdrRoom
)

// ReplyHopLimit is the TTL or hop limit of frames sent to the guest.
const ReplyHopLimit = 255

// putDatagram turns the n bytes of data at b[hdrRoom:] into a frame for
// the guest, IPv4 when v4, else IPv6: from src port srcPort to dst port
// dstPort, Ethernet from ourMAC to guestMAC, with a computed UDP checksum.
// It returns the frame, a slice of b, or why it could not.
func putDatagram(b []byte, v4 bool, n int, guestMAC, ourMAC header.MAC, src netip.Addr, srcPort uint16, dst netip.Addr, dstPort uint16) ([]byte, Drop) {
	if n < 0 || len(b) < hdrRoom+n {
		return nil, DropTooBig
	}
	seg := b[hdrRoom-header.UDPLen : hdrRoom+n]
	if v4 {
		if n > MaxPayload4 || !src.Is4() || !dst.Is4() {
			return nil, DropTooBig
		}
		start := hdrRoom - hdrRoom4
		header.PutUDP(seg, srcPort, dstPort, n)
		header.SetTransportChecksum4(seg, header.ProtocolUDP, src, dst)
		header.PutIPv4(b[start+header.EthernetLen:], len(seg), header.IPv4Fields{
			Src: src, Dst: dst, Protocol: header.ProtocolUDP, TTL: ReplyHopLimit, DontFragment: true,
		})
		header.PutEthernet(b[start:], guestMAC, ourMAC, header.EtherTypeIPv4)
		return b[start : hdrRoom+n], DropNone
	}
	if !ofFamily(src, v4) || !ofFamily(dst, v4) {
		return nil, DropFamily
	}
	if n > MaxPayload6 {
		return nil, DropTooBig
	}
	header.PutUDP(seg, srcPort, dstPort, n)
	header.SetTransportChecksum6(seg, header.ProtocolUDP, src, dst)
	header.PutIPv6(b[header.EthernetLen:], len(seg), header.IPv6Fields{
		Src: src, Dst: dst, NextHeader: header.ProtocolUDP, HopLimit: ReplyHopLimit,
	})
	header.PutEthernet(b, guestMAC, ourMAC, header.EtherTypeIPv6)
	return b[:hdrRoom+n], DropNone
}

// errDataOff returns where putICMPError expects the data of the datagram
// it quotes: after Ethernet, the outer IP header, the ICMP fixed part, and
// the quoted IP and UDP headers.
func errDataOff(v4 bool) int {
	ipLen := header.IPv6Len
	if v4 {
		ipLen = header.IPv4MinLen
	}
	return header.EthernetLen + 2*ipLen + header.ICMPLen + header.UDPLen
}

// icmpError is an ICMP or ICMPv6 error to report to the guest about one of
// its datagrams.
type icmpError struct {
	typ, code uint8
	rest      uint32     // second word of the message (MTU, pointer)
	from      netip.Addr // source of the error as the guest sees it
}

// datagram names a datagram the guest sent: from guest:guestPort to
// remote:remotePort, as the guest addressed it.
type datagram struct {
	guest, remote         netip.Addr
	guestPort, remotePort uint16
}

// putICMPError builds in b a frame with the error e for the guest, quoting
// the datagram d, whose n bytes of data the caller has put at
// b[errDataOff(v4):]: the quoted IP and UDP headers are rebuilt as the
// guest sent them, so that its stack finds the socket concerned. The quote
// is cut to the longest error message allowed (header.MaxICMPv4Error,
// header.MaxICMPv6Error). It returns the frame length.
func putICMPError(b []byte, v4 bool, n int, guestMAC, ourMAC header.MAC, e icmpError, d datagram) (int, Drop) {
	ipLen, maxQuote := header.IPv6Len, header.MaxICMPv6Error-header.ICMPLen
	if v4 {
		ipLen, maxQuote = header.IPv4MinLen, header.MaxICMPv4Error-header.ICMPLen
	}
	dataOff := errDataOff(v4)
	if n < 0 || n > 0xffff-ipLen-header.UDPLen || len(b) < dataOff+n {
		return 0, DropTooBig
	}
	if !ofFamily(e.from, v4) || !ofFamily(d.guest, v4) || !ofFamily(d.remote, v4) {
		return 0, DropFamily
	}
	icmpOff := header.EthernetLen + ipLen
	qOff := icmpOff + header.ICMPLen
	udpOff := qOff + ipLen
	seg := b[udpOff : dataOff+n]
	header.PutUDP(seg, d.guestPort, d.remotePort, n)
	var msgLen int
	if v4 {
		header.SetTransportChecksum4(seg, header.ProtocolUDP, d.guest, d.remote)
		header.PutIPv4(b[qOff:], len(seg), header.IPv4Fields{Src: d.guest, Dst: d.remote, Protocol: header.ProtocolUDP})
		quote := b[qOff : qOff+min(ipLen+len(seg), maxQuote)]
		msgLen = header.PutICMPv4Error(b[icmpOff:], e.typ, e.code, e.rest, quote)
		header.PutIPv4(b[header.EthernetLen:], msgLen, header.IPv4Fields{
			Src: e.from, Dst: d.guest, Protocol: header.ProtocolICMP, TTL: ReplyHopLimit,
		})
		header.PutEthernet(b, guestMAC, ourMAC, header.EtherTypeIPv4)
	} else {
		header.SetTransportChecksum6(seg, header.ProtocolUDP, d.guest, d.remote)
		header.PutIPv6(b[qOff:], len(seg), header.IPv6Fields{Src: d.guest, Dst: d.remote, NextHeader: header.ProtocolUDP})
		quote := b[qOff : qOff+min(ipLen+len(seg), maxQuote)]
		msgLen = header.PutICMPv6Error(b[icmpOff:], e.typ, e.code, e.rest, quote, e.from, d.guest)
		header.PutIPv6(b[header.EthernetLen:], msgLen, header.IPv6Fields{
			Src: e.from, Dst: d.guest, NextHeader: header.ProtocolICMPv6, HopLimit: ReplyHopLimit,
		})
		header.PutEthernet(b, guestMAC, ourMAC, header.EtherTypeIPv6)
	}
	if msgLen == 0 {
		return 0, DropTooBig
	}
	return icmpOff + msgLen, DropNone
}

// errorRest returns the second word of an ICMP error message of the given
// type and code from the kernel's ee_info: the next-hop MTU of
// "fragmentation needed" (low 16 bits) and of ICMPv6 "packet too big",
// the pointer of a parameter problem, zero otherwise.
func errorRest(v4 bool, typ, code uint8, info uint32) uint32 {
	if v4 {
		switch {
		case typ == header.ICMPv4DestUnreachable && code == header.ICMPv4FragmentationNeeded:
			return info & 0xffff
		case typ == header.ICMPv4ParameterProblem:
			return info << 24
		}
		return 0
	}
	switch typ {
	case header.ICMPv6PacketTooBig, header.ICMPv6ParameterProblem:
		return info
	}
	return 0
}

// ofFamily reports whether a is an IPv4 address (v4) or a plain IPv6 one.
func ofFamily(a netip.Addr, v4 bool) bool {
	if v4 {
		return a.Is4()
	}
	return a.Is6() && !a.Is4In6()
}
