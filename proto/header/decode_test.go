// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package header

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
)

var (
	guest4, gw4 = netip.MustParseAddr("10.0.2.15"), netip.MustParseAddr("10.0.2.2")
	guest6, gw6 = netip.MustParseAddr("fd00::15"), netip.MustParseAddr("fd00::2")
)

// tcpSeg returns a TCP segment from port 40000 to 80 with the given flags
// and data, checksum zero.
func tcpSeg(flags TCPFlags, opts TCPOptions, data string) []byte {
	b := make([]byte, TCPMinLen+opts.Len()+len(data))
	n := PutTCP(b, TCPFields{SrcPort: 40000, DstPort: 80, Seq: 1, Ack: 2, Flags: flags, Window: 1000, Options: opts})
	copy(b[n:], data)
	return b
}

func udpDgram(data string) []byte {
	b := make([]byte, UDPLen+len(data))
	copy(b[PutUDP(b, 5353, 53, len(data)):], data)
	return b
}

// buildFrame wraps a transport message in IP and Ethernet headers from
// the guest, filling every checksum with the package's writers.
func buildFrame(src, dst netip.Addr, proto IPProtocol, l4 []byte) []byte {
	if src.Is4() {
		b := make([]byte, EthernetLen+IPv4MinLen+len(l4))
		seg := b[EthernetLen+IPv4MinLen:]
		copy(seg, l4)
		SetTransportChecksum4(seg, proto, src, dst)
		PutIPv4(b[EthernetLen:], len(l4), IPv4Fields{Src: src, Dst: dst, Protocol: proto, TTL: 63, TOS: 0x10, ID: 7})
		PutEthernet(b, ourMAC, guestMAC, EtherTypeIPv4)
		return b
	}
	b := make([]byte, EthernetLen+IPv6Len+len(l4))
	seg := b[EthernetLen+IPv6Len:]
	copy(seg, l4)
	SetTransportChecksum6(seg, proto, src, dst)
	PutIPv6(b[EthernetLen:], len(l4), IPv6Fields{Src: src, Dst: dst, NextHeader: proto, HopLimit: 255, FlowLabel: 0xabcde})
	PutEthernet(b, ourMAC, guestMAC, EtherTypeIPv6)
	return b
}

func arpFrame(op ARPOp) []byte {
	b := make([]byte, EthernetMinFrame)
	PutEthernet(b, BroadcastMAC, guestMAC, EtherTypeARP)
	PutARP(b[EthernetLen:], op, guestMAC, guest4, MAC{}, gw4)
	return b
}

func edit(b []byte, f func(b []byte)) []byte {
	b = cat(b)
	f(b)
	return b
}

// setIPv4Byte changes one byte of an IPv4 header and fixes its checksum
// incrementally.
func setIPv4Byte(ip []byte, off int, v byte) {
	w := off &^ 1
	old := binary.BigEndian.Uint16(ip[w:])
	ip[off] = v
	c := Update16(binary.BigEndian.Uint16(ip[ipv4Checksum:]), old, binary.BigEndian.Uint16(ip[w:]))
	binary.BigEndian.PutUint16(ip[ipv4Checksum:], c)
}

func TestDecode(t *testing.T) {
	syn := buildFrame(guest4, gw4, ProtocolTCP, tcpSeg(TCPFlagSYN, TCPOptions{MSS: 1460, HasMSS: true}, ""))
	data6 := buildFrame(guest6, gw6, ProtocolTCP, tcpSeg(TCPFlagACK|TCPFlagPSH, TCPOptions{}, "hello"))
	udp4 := buildFrame(guest4, gw4, ProtocolUDP, udpDgram("query"))
	ping := make([]byte, 12)
	PutICMPv4Echo(ping, ICMPv4EchoRequest, 0x4242, 1, []byte("ping"))
	ping6 := make([]byte, 12)
	PutICMPv6Echo(ping6, ICMPv6EchoRequest, 0x4343, 1, []byte("ping"), guest6, gw6)
	ns := make([]byte, 24)
	ns[0] = ICMPv6NeighborSolicitation
	nsFrame := buildFrame(guest6, netip.MustParseAddr("ff02::1:ff00:2"), ProtocolICMPv6, ns)

	// ipv6Ext inserts a Destination Options header before the upper layer.
	ipv6Ext := func(f []byte, units int) []byte {
		ip := f[EthernetLen:]
		next := IPProtocol(ip[ipv6NextHeader])
		e := ext(next, units)
		out := cat(f[:EthernetLen+IPv6Len], e, f[EthernetLen+IPv6Len:])
		out[EthernetLen+ipv6NextHeader] = byte(ProtocolDestOpts)
		binary.BigEndian.PutUint16(out[EthernetLen+ipv6PayloadLen:], uint16(len(out)-EthernetLen-IPv6Len))
		return out
	}

	tests := []struct {
		name  string
		frame []byte
		drop  Drop
		want  Frame // checked in full when drop is DropNone
	}{
		{name: "TCP SYN over IPv4", frame: syn, want: Frame{
			DstMAC: ourMAC, SrcMAC: guestMAC, EtherType: EtherTypeIPv4,
			L3: 14, L4: 34, Payload: 58, End: 58, Src: guest4, Dst: gw4, Proto: ProtocolTCP, TTL: 63, TOS: 0x10,
			SrcPort: 40000, DstPort: 80, TCPFlags: TCPFlagSYN,
		}},
		{name: "TCP SYN padded to 60 bytes", frame: cat(syn, make([]byte, 2)), want: Frame{
			DstMAC: ourMAC, SrcMAC: guestMAC, EtherType: EtherTypeIPv4,
			L3: 14, L4: 34, Payload: 58, End: 58, Src: guest4, Dst: gw4, Proto: ProtocolTCP, TTL: 63, TOS: 0x10,
			SrcPort: 40000, DstPort: 80, TCPFlags: TCPFlagSYN,
		}},
		{name: "TCP data over IPv6", frame: data6, want: Frame{
			DstMAC: ourMAC, SrcMAC: guestMAC, EtherType: EtherTypeIPv6,
			L3: 14, L4: 54, Payload: 74, End: 79, Src: guest6, Dst: gw6, Proto: ProtocolTCP, TTL: 255, FlowLabel: 0xabcde,
			SrcPort: 40000, DstPort: 80, TCPFlags: TCPFlagACK | TCPFlagPSH,
		}},
		{name: "TCP over IPv6 with extension header", frame: ipv6Ext(data6, 1), want: Frame{
			DstMAC: ourMAC, SrcMAC: guestMAC, EtherType: EtherTypeIPv6,
			L3: 14, L4: 70, Payload: 90, End: 95, Src: guest6, Dst: gw6, Proto: ProtocolTCP, TTL: 255, FlowLabel: 0xabcde,
			SrcPort: 40000, DstPort: 80, TCPFlags: TCPFlagACK | TCPFlagPSH,
		}},
		{name: "UDP over IPv4", frame: udp4, want: Frame{
			DstMAC: ourMAC, SrcMAC: guestMAC, EtherType: EtherTypeIPv4,
			L3: 14, L4: 34, Payload: 42, End: 47, Src: guest4, Dst: gw4, Proto: ProtocolUDP, TTL: 63, TOS: 0x10,
			SrcPort: 5353, DstPort: 53,
		}},
		{name: "ICMP echo", frame: buildFrame(guest4, gw4, ProtocolICMP, ping), want: Frame{
			DstMAC: ourMAC, SrcMAC: guestMAC, EtherType: EtherTypeIPv4,
			L3: 14, L4: 34, Payload: 42, End: 46, Src: guest4, Dst: gw4, Proto: ProtocolICMP, TTL: 63, TOS: 0x10,
			SrcPort: 0x4242, DstPort: 0x4242, ICMPType: ICMPv4EchoRequest,
		}},
		{name: "ICMPv6 echo", frame: buildFrame(guest6, gw6, ProtocolICMPv6, ping6), want: Frame{
			DstMAC: ourMAC, SrcMAC: guestMAC, EtherType: EtherTypeIPv6,
			L3: 14, L4: 54, Payload: 62, End: 66, Src: guest6, Dst: gw6, Proto: ProtocolICMPv6, TTL: 255, FlowLabel: 0xabcde,
			SrcPort: 0x4343, DstPort: 0x4343, ICMPType: ICMPv6EchoRequest,
		}},
		{name: "ICMPv6 neighbour solicitation", frame: nsFrame, want: Frame{
			DstMAC: ourMAC, SrcMAC: guestMAC, EtherType: EtherTypeIPv6,
			L3: 14, L4: 54, Payload: 62, End: 78, Src: guest6, Dst: netip.MustParseAddr("ff02::1:ff00:2"),
			Proto: ProtocolICMPv6, TTL: 255, FlowLabel: 0xabcde, ICMPType: ICMPv6NeighborSolicitation,
		}},
		{name: "ARP request", frame: arpFrame(ARPRequest), want: Frame{
			DstMAC: BroadcastMAC, SrcMAC: guestMAC, EtherType: EtherTypeARP,
			L3: 14, L4: 42, Payload: 42, End: 42, Src: guest4, Dst: gw4,
		}},

		{name: "empty", frame: nil, drop: DropTooShort},
		{name: "Ethernet header only", frame: syn[:14], drop: DropTooShort},
		{name: "VLAN tag", frame: edit(syn, func(b []byte) { b[12], b[13] = 0x81, 0x00 }), drop: DropBadEtherType},
		{name: "ARP truncated", frame: arpFrame(ARPRequest)[:41], drop: DropTooShort},
		{name: "ARP for IPv6", frame: edit(arpFrame(ARPRequest), func(b []byte) { b[16], b[17] = 0x86, 0xdd }), drop: DropBadARP},
		{name: "IPv4 truncated", frame: syn[:33], drop: DropTooShort},
		{name: "IPv6 in IPv4 EtherType", frame: edit(data6, func(b []byte) { b[12], b[13] = 0x08, 0x00 }), drop: DropBadVersion},
		{name: "IPv4 in IPv6 EtherType", frame: edit(syn, func(b []byte) { b[12], b[13] = 0x86, 0xdd }), drop: DropBadVersion},
		{name: "IHL 3", frame: edit(syn, func(b []byte) { b[14] = 0x43 }), drop: DropBadHeaderLength},
		{name: "IPv4 total beyond frame", frame: syn[:57], drop: DropBadTotalLength},
		{name: "IPv4 bad header checksum", frame: edit(syn, func(b []byte) { b[14+ipv4Checksum] ^= 1 }), drop: DropBadChecksum},
		{name: "IPv4 fragment", frame: edit(syn, func(b []byte) { setIPv4Byte(b[EthernetLen:], ipv4FlagsFrag, 0x20) }), drop: DropFragment},
		{name: "IPv6 fragment", frame: func() []byte {
			f := ipv6Ext(data6, 0)
			f[EthernetLen+ipv6NextHeader] = byte(ProtocolFragment)
			return f
		}(), drop: DropFragment},
		{name: "IPv6 jumbogram", frame: edit(ipv6Ext(data6, 0), func(b []byte) {
			b[EthernetLen+ipv6NextHeader] = byte(ProtocolHopByHop)
			b[EthernetLen+ipv6PayloadLen], b[EthernetLen+ipv6PayloadLen+1] = 0, 0
		}), drop: DropJumbogram},
		{name: "IPv6 extension header past payload", frame: edit(ipv6Ext(data6, 0), func(b []byte) {
			b[EthernetLen+IPv6Len+extLen] = 200
		}), drop: DropBadExtensionHeader},
		{name: "IPv4 loopback destination", frame: buildFrame(guest4, netip.MustParseAddr("127.0.0.1"), ProtocolTCP, tcpSeg(TCPFlagSYN, TCPOptions{}, "")), drop: DropLoopback},
		{name: "IPv4 loopback source", frame: buildFrame(netip.MustParseAddr("127.1.2.3"), gw4, ProtocolUDP, udpDgram("x")), drop: DropLoopback},
		{name: "IPv6 loopback", frame: buildFrame(guest6, netip.IPv6Loopback(), ProtocolUDP, udpDgram("x")), drop: DropLoopback},
		{name: "IPv4 carrying ICMPv6", frame: edit(buildFrame(guest4, gw4, ProtocolICMP, ping), func(b []byte) {
			setIPv4Byte(b[EthernetLen:], ipv4Protocol, byte(ProtocolICMPv6))
		}), drop: DropUnknownProtocol},
		{name: "SCTP", frame: edit(udp4, func(b []byte) { setIPv4Byte(b[EthernetLen:], ipv4Protocol, 132) }), drop: DropUnknownProtocol},
		{name: "ICMP over IPv6", frame: edit(buildFrame(guest6, gw6, ProtocolICMPv6, ping6), func(b []byte) {
			b[EthernetLen+ipv6NextHeader] = byte(ProtocolICMP)
		}), drop: DropUnknownProtocol},
		{name: "TCP data offset beyond segment", frame: edit(syn, func(b []byte) { b[34+tcpDataOffset] = 0xf0 }), drop: DropBadL4Length},
		{name: "UDP length above IP payload", frame: edit(udp4, func(b []byte) { b[34+udpLength+1]++ }), drop: DropBadL4Length},
		{name: "UDP length below IP payload", frame: edit(udp4, func(b []byte) { b[34+udpLength+1]-- }), drop: DropBadL4Length},
		{name: "ICMP truncated", frame: buildFrame(guest4, gw4, ProtocolICMP, ping[:7]), drop: DropBadL4Length},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, d := Decode(tc.frame)
			if d != tc.drop {
				t.Fatalf("drop: got %v, want %v", d, tc.drop)
			}
			if d == DropNone && f != tc.want {
				t.Errorf("got %+v, want %+v", f, tc.want)
			}
		})
	}
}

// TestWritersDecode checks that every frame built with the writers decodes
// and carries valid checksums by both this package and the reference.
func TestWritersDecode(t *testing.T) {
	ping := make([]byte, 16)
	PutICMPv4Echo(ping, ICMPv4EchoReply, 9, 9, []byte("12345678"))
	ping6 := make([]byte, 16)
	PutICMPv6Echo(ping6, ICMPv6EchoReply, 9, 9, []byte("12345678"), gw6, guest6)
	unreach := make([]byte, 64)
	unreach = unreach[:PutICMPv4Error(unreach, ICMPv4DestUnreachable, ICMPv4FragmentationNeeded, 1400, unhex(t, wikiIPv4+"0000000000000000"))]
	tooBig := make([]byte, 128)
	tooBig = tooBig[:PutICMPv6Error(tooBig, ICMPv6PacketTooBig, 0, 1280, make([]byte, 48), gw6, guest6)]
	synAck := tcpSeg(TCPFlagSYN|TCPFlagACK, TCPOptions{MSS: 65480, HasMSS: true, WindowScale: 8, HasWindowScale: true}, "")
	tests := []struct {
		name     string
		src, dst netip.Addr
		proto    IPProtocol
		l4       []byte
	}{
		{name: "TCP SYN-ACK v4", src: gw4, dst: guest4, proto: ProtocolTCP, l4: synAck},
		{name: "TCP SYN-ACK v6", src: gw6, dst: guest6, proto: ProtocolTCP, l4: synAck},
		{name: "TCP odd data v4", src: gw4, dst: guest4, proto: ProtocolTCP, l4: tcpSeg(TCPFlagACK, TCPOptions{}, "odd")},
		{name: "UDP v4", src: gw4, dst: guest4, proto: ProtocolUDP, l4: udpDgram("reply")},
		{name: "UDP v6", src: gw6, dst: guest6, proto: ProtocolUDP, l4: udpDgram("reply")},
		{name: "ICMP echo reply", src: gw4, dst: guest4, proto: ProtocolICMP, l4: ping},
		{name: "ICMPv6 echo reply", src: gw6, dst: guest6, proto: ProtocolICMPv6, l4: ping6},
		{name: "ICMP fragmentation needed", src: gw4, dst: guest4, proto: ProtocolICMP, l4: unreach},
		{name: "ICMPv6 packet too big", src: gw6, dst: guest6, proto: ProtocolICMPv6, l4: tooBig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			frame := buildFrame(tc.src, tc.dst, tc.proto, tc.l4)
			f, d := Decode(frame)
			if d != DropNone {
				t.Fatalf("drop: got %v, want %v", d, DropNone)
			}
			if f.Src != tc.src || f.Dst != tc.dst || f.Proto != tc.proto || f.End != len(frame) {
				t.Errorf("got %v > %v proto %d end %d, want %v > %v proto %d end %d",
					f.Src, f.Dst, f.Proto, f.End, tc.src, tc.dst, tc.proto, len(frame))
			}
			seg := f.Transport(frame)
			var ok bool
			var ref uint16
			switch {
			case tc.proto == ProtocolICMP:
				ok, ref = TransportChecksumValid4(seg, tc.proto, tc.src, tc.dst), naiveChecksum(seg)
			case tc.src.Is4():
				ok, ref = TransportChecksumValid4(seg, tc.proto, tc.src, tc.dst), naiveChecksum(naivePseudo4(tc.proto, tc.src, tc.dst, len(seg)), seg)
			default:
				ok, ref = TransportChecksumValid6(seg, tc.proto, tc.src, tc.dst), naiveChecksum(naivePseudo6(tc.proto, tc.src, tc.dst, len(seg)), seg)
			}
			if !ok || ref != 0 {
				t.Errorf("transport checksum: valid %v, reference %#04x, want true and 0", ok, ref)
			}
			if tc.src.Is4() {
				if ref := naiveChecksum(frame[f.L3:f.L4]); ref != 0 {
					t.Errorf("IPv4 header checksum: reference %#04x, want 0", ref)
				}
			}
		})
	}
}

func TestDropString(t *testing.T) {
	seen := map[string]Drop{}
	for d := Drop(0); d < NumDrops; d++ {
		s := d.String()
		if s == "" || s == "unknown drop" {
			t.Errorf("Drop %d: got name %q, want a name of its own", d, s)
		}
		if prev, dup := seen[s]; dup {
			t.Errorf("Drop %d: got name %q, want one distinct from Drop %d", d, s, prev)
		}
		seen[s] = d
	}
	if got := NumDrops.String(); got != "unknown drop" {
		t.Errorf("NumDrops: got %q, want %q", got, "unknown drop")
	}
}

// TestZeroViews calls every accessor on zero values: nothing may panic.
func TestZeroViews(t *testing.T) {
	var (
		e  Ethernet
		a  ARP
		h4 IPv4
		h6 IPv6
		s  TCP
		u  UDP
		m4 ICMPv4
		m6 ICMPv6
		f  Frame
	)
	got := []any{
		e.Dst(), e.Src(), e.Type(), len(e.Payload()),
		a.Op(), a.SenderMAC(), a.SenderIP(), a.TargetMAC(), a.TargetIP(),
		h4.HeaderLen(), h4.TOS(), h4.TotalLen(), h4.ID(), h4.DontFragment(), h4.MoreFragments(), h4.FragmentOffset(),
		h4.IsFragment(), h4.TTL(), h4.Protocol(), h4.Checksum(), h4.ChecksumValid(), h4.Src(), h4.Dst(),
		len(h4.Options()), len(h4.Payload()),
		h6.TrafficClass(), h6.FlowLabel(), h6.PayloadLen(), h6.NextHeader(), h6.HopLimit(), h6.Src(), h6.Dst(),
		len(h6.Payload()), h6.Protocol(), h6.TransportOffset(), len(h6.Transport()), h6.IsFragment(),
		s.SrcPort(), s.DstPort(), s.Seq(), s.Ack(), s.HeaderLen(), s.Flags(), s.Window(), s.Checksum(), s.Urgent(),
		len(s.RawOptions()), len(s.Payload()),
		u.SrcPort(), u.DstPort(), u.Length(), u.Checksum(), len(u.Payload()),
		m4.Type(), m4.Code(), m4.Checksum(), m4.ID(), m4.Seq(), m4.Rest(), len(m4.Payload()), m4.ChecksumValid(),
		m6.Type(), m6.Code(), m6.Checksum(), m6.IsEcho(), m6.ID(), m6.Seq(), m6.Rest(), len(m6.Payload()),
		len(f.Network(nil)), len(f.Transport(nil)), len(f.Data(nil)),
	}
	_ = m4.IsEcho() // type 0 is an echo reply: true is right here
	for i, v := range got {
		switch v := v.(type) {
		case bool:
			if v {
				t.Errorf("value %d: got true, want false", i)
			}
		case netip.Addr:
			if v.IsValid() {
				t.Errorf("value %d: got %v, want the zero Addr", i, v)
			}
		}
	}
	if o, ok := s.Options(); !ok || o != (TCPOptions{}) {
		t.Errorf("options of zero TCP: got %+v %v, want zero true", o, ok)
	}
}

func TestAllocs(t *testing.T) {
	frame4 := buildFrame(guest4, gw4, ProtocolTCP, tcpSeg(TCPFlagSYN, TCPOptions{MSS: 1460, HasMSS: true}, "x"))
	frame6 := buildFrame(guest6, gw6, ProtocolUDP, udpDgram("y"))
	arp := arpFrame(ARPRequest)
	ip4, ip6 := frame4[EthernetLen:], frame6[EthernetLen:]
	tests := []struct {
		name string
		f    func()
	}{
		{name: "Decode IPv4 TCP", f: func() { Decode(frame4) }},
		{name: "Decode IPv6 UDP", f: func() { Decode(frame6) }},
		{name: "Decode ARP", f: func() { Decode(arp) }},
		{name: "ParseEthernet", f: func() { e, _ := ParseEthernet(frame4); _ = e.Src() }},
		{name: "ParseARP", f: func() { a, _ := ParseARP(arp[EthernetLen:]); _ = a.SenderIP() }},
		{name: "ParseIPv4", f: func() { h, _ := ParseIPv4(ip4); _, _ = h.Src(), h.ChecksumValid() }},
		{name: "ParseIPv6", f: func() { h, _ := ParseIPv6(ip6); _ = h.Dst() }},
		{name: "ParseTCP and options", f: func() { s, _ := ParseTCP(ip4[IPv4MinLen:]); _, _ = s.Options() }},
		{name: "ParseUDP", f: func() { u, _ := ParseUDP(ip6[IPv6Len:]); _ = u.DstPort() }},
		{name: "ParseICMPv4", f: func() { m, _ := ParseICMPv4(ip4[IPv4MinLen:]); _ = m.ChecksumValid() }},
		{name: "ParseICMPv6", f: func() { m, _ := ParseICMPv6(ip6[IPv6Len:]); _ = m.ID() }},
		{name: "writers and checksums", f: func() {
			b := frame4
			PutEthernet(b, ourMAC, guestMAC, EtherTypeIPv4)
			PutIPv4(b[EthernetLen:], len(b)-EthernetLen-IPv4MinLen, IPv4Fields{Src: gw4, Dst: guest4, Protocol: ProtocolTCP})
			PutTCP(b[EthernetLen+IPv4MinLen:], TCPFields{Options: TCPOptions{MSS: 1460, HasMSS: true}})
			SetTransportChecksum4(b[EthernetLen+IPv4MinLen:], ProtocolTCP, gw4, guest4)
			SetTransportChecksum6(ip6[IPv6Len:], ProtocolUDP, gw6, guest6)
			_ = UpdateAddr(0, gw6, guest6)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, tc.f); got != 0 {
				t.Errorf("got %v allocations, want 0", got)
			}
		})
	}
}

func inFrame(f Frame, n int) bool {
	for _, o := range []int{f.L3, f.L4, f.Payload, f.End} {
		if o < 0 || o > n {
			return false
		}
	}
	return true
}

// FuzzDecode feeds arbitrary frames. Decode must not panic; every offset
// it reports lies in the frame; an accepted frame has ordered offsets, a
// transport part its parser accepts, and decodes the same after copying
// and after its padding changes.
func FuzzDecode(f *testing.F) {
	f.Add(buildFrame(guest4, gw4, ProtocolTCP, tcpSeg(TCPFlagSYN, TCPOptions{MSS: 1460, HasMSS: true}, "")))
	f.Add(buildFrame(guest6, gw6, ProtocolUDP, udpDgram("hello")))
	ping := make([]byte, 12)
	PutICMPv4Echo(ping, ICMPv4EchoRequest, 1, 1, []byte("ping"))
	f.Add(buildFrame(guest4, gw4, ProtocolICMP, ping))
	f.Add(buildFrame(guest6, gw6, ProtocolICMPv6, ping))
	f.Add(arpFrame(ARPReply))
	f.Add(cat(buildFrame(guest4, gw4, ProtocolUDP, udpDgram("")), make([]byte, 14)))
	f.Add(make([]byte, 14))
	// Found by fuzzing: ARP with a loopback sender must be dropped.
	f.Add([]byte("000000000000\b\x06\x00\x01\b\x00\x06\x0400000000\x7f0000000000000"))
	f.Fuzz(func(t *testing.T, frame []byte) {
		fr, d := Decode(frame)
		if d >= NumDrops {
			t.Fatalf("drop %d out of range", d)
		}
		if !inFrame(fr, len(frame)) {
			t.Fatalf("offsets %d %d %d %d outside a frame of %d bytes", fr.L3, fr.L4, fr.Payload, fr.End, len(frame))
		}
		if d != DropNone {
			return
		}
		if !(EthernetLen == fr.L3 && fr.L3 <= fr.L4 && fr.L4 <= fr.Payload && fr.Payload <= fr.End) {
			t.Fatalf("offsets out of order: %d %d %d %d", fr.L3, fr.L4, fr.Payload, fr.End)
		}
		if fr.Src.IsLoopback() || fr.Dst.IsLoopback() {
			t.Fatalf("accepted loopback %v > %v", fr.Src, fr.Dst)
		}
		seg := fr.Transport(frame)
		var ok bool
		switch fr.Proto {
		case ProtocolTCP:
			var s TCP
			s, ok = ParseTCP(seg)
			ok = ok && fr.L4+s.HeaderLen() == fr.Payload && s.SrcPort() == fr.SrcPort
		case ProtocolUDP:
			var u UDP
			u, ok = ParseUDP(seg)
			ok = ok && len(u.Bytes()) == len(seg) && u.DstPort() == fr.DstPort
		case ProtocolICMP, ProtocolICMPv6:
			ok = len(seg) >= ICMPLen && seg[0] == fr.ICMPType
		case 0:
			ok = fr.EtherType == EtherTypeARP && fr.End-fr.L3 == ARPLen
		}
		if !ok {
			t.Fatalf("transport part of %+v does not parse back", fr)
		}
		if fr.EtherType == EtherTypeIPv4 && naiveChecksum(frame[fr.L3:fr.L4]) != 0 {
			t.Fatalf("accepted a bad IPv4 header checksum")
		}
		// Same bytes elsewhere, and other padding after End.
		again := cat(frame[:fr.End], []byte{0xde, 0xad})
		if fr2, d2 := Decode(again); d2 != DropNone || fr2 != fr {
			t.Fatalf("re-decode: got %+v %v, want %+v none", fr2, d2, fr)
		}
		if fr2, d2 := Decode(frame[:fr.End]); d2 != DropNone || fr2 != fr {
			t.Fatalf("re-decode trimmed: got %+v %v, want %+v none", fr2, d2, fr)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	payload := string(bytes.Repeat([]byte{'x'}, 1500-IPv4MinLen-TCPMinLen))
	frames := []struct {
		name  string
		frame []byte
	}{
		{name: "TCPv4-1500", frame: buildFrame(guest4, gw4, ProtocolTCP, tcpSeg(TCPFlagACK, TCPOptions{}, payload))},
		{name: "TCPv6", frame: buildFrame(guest6, gw6, ProtocolTCP, tcpSeg(TCPFlagACK, TCPOptions{}, "x"))},
		{name: "UDPv6", frame: buildFrame(guest6, gw6, ProtocolUDP, udpDgram("hello"))},
	}
	for _, fr := range frames {
		b.Run(fr.name, func(b *testing.B) {
			b.SetBytes(int64(len(fr.frame)))
			b.ReportAllocs()
			var n int
			for b.Loop() {
				f, _ := Decode(fr.frame)
				n += f.End
			}
			_ = n
		})
	}
}
