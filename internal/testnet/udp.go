// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package testnet

import (
	"net/netip"
	"testing"

	"passt-go/proto/header"
)

// UDPFrame returns an Ethernet frame from srcMAC to dstMAC carrying
// payload in a UDP datagram from src to dst, over IPv4 or IPv6 as src is,
// with the TTL or hop limit hops (0: the header package's default) and
// valid checksums.
func UDPFrame(dstMAC, srcMAC header.MAC, src, dst netip.AddrPort, hops uint8, payload []byte) []byte {
	v4 := src.Addr().Is4()
	ipLen, et := header.IPv6Len, header.EtherTypeIPv6
	if v4 {
		ipLen, et = header.IPv4MinLen, header.EtherTypeIPv4
	}
	b := make([]byte, header.EthernetLen+ipLen+header.UDPLen+len(payload))
	header.PutEthernet(b, dstMAC, srcMAC, et)
	seg := b[header.EthernetLen+ipLen:]
	header.PutUDP(seg, src.Port(), dst.Port(), len(payload))
	copy(seg[header.UDPLen:], payload)
	if v4 {
		header.PutIPv4(b[header.EthernetLen:], len(seg), header.IPv4Fields{Src: src.Addr(), Dst: dst.Addr(), Protocol: header.ProtocolUDP, TTL: hops})
		header.SetTransportChecksum4(seg, header.ProtocolUDP, src.Addr(), dst.Addr())
	} else {
		header.PutIPv6(b[header.EthernetLen:], len(seg), header.IPv6Fields{Src: src.Addr(), Dst: dst.Addr(), NextHeader: header.ProtocolUDP, HopLimit: hops})
		header.SetTransportChecksum6(seg, header.ProtocolUDP, src.Addr(), dst.Addr())
	}
	return b
}

// DecodeUDP decodes frame, sent to the guest, and checks that it carries
// a UDP datagram from port src to port dst with a valid checksum.
func DecodeUDP(t testing.TB, frame []byte, src, dst uint16) header.Frame {
	t.Helper()
	f := Decode(t, frame)
	if f.Proto != header.ProtocolUDP || f.SrcPort != src || f.DstPort != dst {
		t.Fatalf("got proto %v ports %v->%v, want UDP %v->%v", f.Proto, f.SrcPort, f.DstPort, src, dst)
	}
	seg := f.Transport(frame)
	valid := header.TransportChecksumValid6(seg, header.ProtocolUDP, f.Src, f.Dst)
	if f.Src.Is4() {
		valid = header.TransportChecksumValid4(seg, header.ProtocolUDP, f.Src, f.Dst)
	}
	if !valid {
		t.Fatalf("got invalid UDP checksum, want valid")
	}
	return f
}
