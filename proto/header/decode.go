// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package header

import "net/netip"

// Drop is why Decode refused a frame. Callers count drops in an array
// indexed by reason: var drops [NumDrops]uint64; drops[d]++.
type Drop uint8

// Drop reasons. DropNone means the frame was accepted.
const (
	DropNone               Drop = iota
	DropTooShort                // shorter than the header it claims to carry
	DropBadEtherType            // neither IPv4, IPv6 nor ARP
	DropBadARP                  // not an Ethernet/IPv4 ARP packet
	DropBadVersion              // IP version does not match the EtherType
	DropBadHeaderLength         // IPv4 IHL below 5 or beyond the frame
	DropBadTotalLength          // IP length beyond the frame, below the header, or empty
	DropBadChecksum             // IPv4 header checksum wrong
	DropFragment                // IPv4 fragment or IPv6 Fragment header
	DropJumbogram               // IPv6 payload length 0 with Hop-by-Hop (RFC 2675)
	DropBadExtensionHeader      // IPv6 extension header truncated, misplaced or too many
	DropLoopback                // loopback source or destination address
	DropUnknownProtocol         // upper layer not TCP, UDP, ICMP (IPv4) or ICMPv6 (IPv6)
	DropBadL4Length             // TCP data offset, UDP length or ICMP length inconsistent

	// NumDrops is the number of Drop values, DropNone included.
	NumDrops
)

var dropNames = [NumDrops]string{
	DropNone:               "none",
	DropTooShort:           "too short",
	DropBadEtherType:       "bad ethertype",
	DropBadARP:             "bad ARP",
	DropBadVersion:         "bad IP version",
	DropBadHeaderLength:    "bad header length",
	DropBadTotalLength:     "bad total length",
	DropBadChecksum:        "bad checksum",
	DropFragment:           "fragment",
	DropJumbogram:          "jumbogram",
	DropBadExtensionHeader: "bad extension header",
	DropLoopback:           "loopback address",
	DropUnknownProtocol:    "unknown protocol",
	DropBadL4Length:        "bad L4 length",
}

// String returns a short lower-case description of d, for logs and
// counter names.
func (d Drop) String() string {
	if d < NumDrops {
		return dropNames[d]
	}
	return "unknown drop"
}

// Frame is what Decode learned about a frame. Offsets index the frame slice
// given to Decode and satisfy 0 <= L3 <= L4 <= Payload <= End <= len(frame)
// once set; the frame's bytes are not kept. Frame is comparable with ==.
type Frame struct {
	DstMAC, SrcMAC MAC
	EtherType      EtherType

	// L3 is where the ARP or IP header starts, L4 where the upper-layer
	// header starts (after IPv6 extension headers), Payload where its data
	// starts, and End where the IP packet ends as its length field says:
	// Ethernet padding lies after End. For ARP, L4, Payload and End all
	// mark the end of the 28-byte packet.
	L3, L4, Payload, End int

	// Src and Dst are the IP source and destination (ARP: sender and
	// target protocol addresses).
	Src, Dst netip.Addr
	// Proto is the upper-layer protocol; zero for ARP.
	Proto IPProtocol
	// TTL is the IPv4 time to live or the IPv6 hop limit.
	TTL uint8
	// TOS is the IPv4 type of service or the IPv6 traffic class.
	TOS uint8
	// FlowLabel is the IPv6 flow label (zero for IPv4).
	FlowLabel uint32

	// SrcPort and DstPort are the TCP or UDP ports. For ICMP and ICMPv6
	// echo messages both hold the echo identifier, which stands for the
	// port in a flow's key; for other ICMP messages they are zero.
	SrcPort, DstPort uint16
	// TCPFlags are the TCP control bits (TCP only).
	TCPFlags TCPFlags
	// ICMPType and ICMPCode are set for ICMP and ICMPv6.
	ICMPType, ICMPCode uint8
}

// Network returns the IP (or ARP) packet in frame, padding left out.
// frame must be the slice given to Decode; nil is returned when the
// offsets do not fit it.
func (f *Frame) Network(frame []byte) []byte { return span(frame, f.L3, f.End) }

// Transport returns the upper-layer header and data in frame. frame must be
// the slice given to Decode; nil is returned when the offsets do not fit
// it.
func (f *Frame) Transport(frame []byte) []byte { return span(frame, f.L4, f.End) }

// Data returns the upper-layer data (TCP or UDP payload, ICMP data after
// the 8-byte fixed part) in frame. frame must be the slice given to Decode;
// nil is returned when the offsets do not fit it.
func (f *Frame) Data(frame []byte) []byte { return span(frame, f.Payload, f.End) }

// Decode validates an Ethernet frame from the guest and returns what the
// data path dispatches on, or the reason to drop it. It accepts ARP for
// IPv4 over Ethernet, and IPv4 or IPv6 carrying TCP, UDP, ICMP (IPv4) or
// ICMPv6 (IPv6). Beyond the parsers' checks it drops IPv4 packets with a
// wrong header checksum, fragments of either family, packets with a
// loopback source or destination, and UDP datagrams whose length differs
// from the IP payload length. Transport checksums are not verified: a
// guest using checksum offload leaves them partial, and the host kernel
// computes its own for the socket the data goes to.
//
// When the frame is dropped, the returned Frame holds whatever was decoded
// before the failure (offsets not reached are zero). Decode keeps no
// reference to frame and does not allocate.
func Decode(frame []byte) (Frame, Drop) {
	var f Frame
	eth, ok := ParseEthernet(frame)
	if !ok {
		return f, DropTooShort
	}
	f.DstMAC, f.SrcMAC, f.EtherType = eth.Dst(), eth.Src(), eth.Type()
	f.L3 = EthernetLen
	l3 := frame[EthernetLen:]

	var l4 []byte
	switch f.EtherType {
	case EtherTypeARP:
		a, ok := ParseARP(l3)
		if !ok {
			if len(l3) < ARPLen {
				return f, DropTooShort
			}
			return f, DropBadARP
		}
		f.L4 = f.L3 + ARPLen
		f.Payload, f.End = f.L4, f.L4
		f.Src, f.Dst = a.SenderIP(), a.TargetIP()
		if f.Src.IsLoopback() || f.Dst.IsLoopback() {
			return f, DropLoopback
		}
		return f, DropNone
	case EtherTypeIPv4:
		ip, d := parseIPv4(l3)
		if d != DropNone {
			return f, d
		}
		f.End = f.L3 + len(ip.Bytes())
		f.Src, f.Dst = ip.Src(), ip.Dst()
		f.Proto, f.TTL, f.TOS = ip.Protocol(), ip.TTL(), ip.TOS()
		if !ip.ChecksumValid() {
			return f, DropBadChecksum
		}
		if ip.IsFragment() {
			return f, DropFragment
		}
		f.L4 = f.L3 + ip.HeaderLen()
		l4 = ip.Payload()
	case EtherTypeIPv6:
		ip, d := parseIPv6(l3)
		if d != DropNone {
			return f, d
		}
		f.End = f.L3 + len(ip.Bytes())
		f.Src, f.Dst = ip.Src(), ip.Dst()
		f.Proto, f.TTL, f.TOS, f.FlowLabel = ip.Protocol(), ip.HopLimit(), ip.TrafficClass(), ip.FlowLabel()
		if ip.IsFragment() {
			return f, DropFragment
		}
		f.L4 = f.L3 + ip.TransportOffset()
		l4 = ip.Transport()
	default:
		return f, DropBadEtherType
	}
	if f.Src.IsLoopback() || f.Dst.IsLoopback() {
		return f, DropLoopback
	}

	switch {
	case f.Proto == ProtocolTCP:
		t, ok := ParseTCP(l4)
		if !ok {
			return f, DropBadL4Length
		}
		f.SrcPort, f.DstPort, f.TCPFlags = t.SrcPort(), t.DstPort(), t.Flags()
		f.Payload = f.L4 + t.HeaderLen()
	case f.Proto == ProtocolUDP:
		u, ok := ParseUDP(l4)
		if !ok || len(u.Bytes()) != len(l4) {
			return f, DropBadL4Length
		}
		f.SrcPort, f.DstPort = u.SrcPort(), u.DstPort()
		f.Payload = f.L4 + UDPLen
	case f.Proto == ProtocolICMP && f.EtherType == EtherTypeIPv4:
		m, ok := ParseICMPv4(l4)
		if !ok {
			return f, DropBadL4Length
		}
		f.setICMP(m.Type(), m.Code(), m.IsEcho(), m.ID())
	case f.Proto == ProtocolICMPv6 && f.EtherType == EtherTypeIPv6:
		m, ok := ParseICMPv6(l4)
		if !ok {
			return f, DropBadL4Length
		}
		f.setICMP(m.Type(), m.Code(), m.IsEcho(), m.ID())
	default:
		return f, DropUnknownProtocol
	}
	return f, DropNone
}

// setICMP records the type and code of the ICMPv4 or ICMPv6 message at
// f.L4, where its data starts, and, for an echo message, its identifier
// id as both ports.
func (f *Frame) setICMP(typ, code uint8, echo bool, id uint16) {
	f.ICMPType, f.ICMPCode = typ, code
	if echo {
		f.SrcPort, f.DstPort = id, id
	}
	f.Payload = f.L4 + ICMPLen
}
