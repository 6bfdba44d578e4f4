// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package header

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
)

// wikiIPv4 is a well-known IPv4 header (UDP, 192.168.0.1 to
// 192.168.0.199, total length 115, DF) with its checksum 0xb861.
const wikiIPv4 = "4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7"

func TestParseIPv4(t *testing.T) {
	hdr := unhex(t, wikiIPv4)
	good := cat(hdr, make([]byte, 95))
	withTotal := func(b []byte, total uint16) []byte {
		b = cat(b)
		binary.BigEndian.PutUint16(b[2:], total)
		return b
	}
	withByte := func(b []byte, off int, v byte) []byte {
		b = cat(b)
		b[off] = v
		return b
	}
	tests := []struct {
		name     string
		b        []byte
		want     Drop
		length   int // len(Bytes()) when accepted
		hdrLen   int
		fragment bool
	}{
		{name: "good", b: good, length: 115, hdrLen: 20},
		{name: "padding trimmed", b: cat(good, make([]byte, 10)), length: 115, hdrLen: 20},
		{name: "header only", b: withTotal(hdr, 20), length: 20, hdrLen: 20},
		{name: "options skipped", b: cat(withByte(withTotal(hdr, 28), 0, 0x46), []byte{1, 1, 1, 0}, []byte("data")), length: 28, hdrLen: 24},
		{name: "too short", b: hdr[:19], want: DropTooShort},
		{name: "version 6", b: withByte(good, 0, 0x65), want: DropBadVersion},
		{name: "IHL 4", b: withByte(good, 0, 0x44), want: DropBadHeaderLength},
		{name: "IHL 15 beyond buffer", b: withByte(withTotal(hdr, 20), 0, 0x4f), want: DropBadHeaderLength},
		{name: "total below header", b: withTotal(good, 19), want: DropBadTotalLength},
		{name: "total below options", b: withByte(withTotal(good, 20), 0, 0x46), want: DropBadTotalLength},
		{name: "total beyond buffer", b: withTotal(good, 116), want: DropBadTotalLength},
		{name: "more fragments", b: withByte(good, 6, 0x20), length: 115, hdrLen: 20, fragment: true},
		{name: "last fragment", b: withByte(withByte(good, 6, 0x00), 7, 0x10), length: 115, hdrLen: 20, fragment: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, d := parseIPv4(tc.b)
			if d != tc.want {
				t.Fatalf("drop: got %v, want %v", d, tc.want)
			}
			if _, ok := ParseIPv4(tc.b); ok != (tc.want == DropNone) {
				t.Fatalf("ParseIPv4 ok: got %v, want %v", ok, tc.want == DropNone)
			}
			if d != DropNone {
				return
			}
			if got := len(h.Bytes()); got != tc.length || h.TotalLen() != tc.length {
				t.Errorf("length: got %d (field %d), want %d", got, h.TotalLen(), tc.length)
			}
			if got := h.HeaderLen(); got != tc.hdrLen {
				t.Errorf("header length: got %d, want %d", got, tc.hdrLen)
			}
			if got := len(h.Options()); got != tc.hdrLen-IPv4MinLen {
				t.Errorf("options: got %d bytes, want %d", got, tc.hdrLen-IPv4MinLen)
			}
			if got := len(h.Payload()); got != tc.length-tc.hdrLen {
				t.Errorf("payload: got %d bytes, want %d", got, tc.length-tc.hdrLen)
			}
			if got := h.IsFragment(); got != tc.fragment {
				t.Errorf("fragment: got %v, want %v", got, tc.fragment)
			}
		})
	}
}

func TestIPv4Accessors(t *testing.T) {
	h, ok := ParseIPv4(cat(unhex(t, wikiIPv4), make([]byte, 95)))
	if !ok {
		t.Fatal("parse failed")
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"TOS", h.TOS(), uint8(0)},
		{"ID", h.ID(), uint16(0)},
		{"DF", h.DontFragment(), true},
		{"MF", h.MoreFragments(), false},
		{"offset", h.FragmentOffset(), 0},
		{"TTL", h.TTL(), uint8(64)},
		{"protocol", h.Protocol(), ProtocolUDP},
		{"checksum", h.Checksum(), uint16(0xb861)},
		{"checksum valid", h.ChecksumValid(), true},
		{"src", h.Src(), netip.MustParseAddr("192.168.0.1")},
		{"dst", h.Dst(), netip.MustParseAddr("192.168.0.199")},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}
	h.Bytes()[ipv4TTL]--
	if h.ChecksumValid() {
		t.Errorf("checksum valid after TTL change: got true, want false")
	}
}

func TestPutIPv4(t *testing.T) {
	want := unhex(t, wikiIPv4)
	b := make([]byte, 115)
	n := PutIPv4(b, 95, IPv4Fields{
		Src: netip.MustParseAddr("192.168.0.1"), Dst: netip.MustParseAddr("192.168.0.199"),
		Protocol: ProtocolUDP, DontFragment: true,
	})
	if n != IPv4MinLen || !bytes.Equal(b[:n], want) {
		t.Fatalf("got %d % x, want %d % x", n, b[:n], IPv4MinLen, want)
	}
	if got := naiveChecksum(b[:n]); got != 0 {
		t.Errorf("reference sum over written header: got %#04x, want 0", got)
	}
	h, ok := ParseIPv4(b)
	if !ok || !h.ChecksumValid() || h.TTL() != 64 {
		t.Errorf("re-parse: got ok %v checksum valid %v TTL %d, want true true 64", ok, h.ChecksumValid(), h.TTL())
	}
	for _, tc := range []struct {
		name       string
		size, plen int
	}{
		{name: "short buffer", size: 19, plen: 0},
		{name: "total too long", size: 20, plen: 65516},
		{name: "negative payload", size: 20, plen: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if n := PutIPv4(make([]byte, tc.size), tc.plen, IPv4Fields{}); n != 0 {
				t.Errorf("got %d, want 0", n)
			}
		})
	}
}

// ipv6Packet builds an IPv6 packet with the given next header and payload
// (extension headers included), payload length taken from payload.
func ipv6Packet(next IPProtocol, payload []byte) []byte {
	b := make([]byte, IPv6Len, IPv6Len+len(payload))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[ipv6PayloadLen:], uint16(len(payload)))
	b[ipv6NextHeader] = byte(next)
	b[ipv6HopLimit] = 64
	src, dst := netip.MustParseAddr("fd00::15").As16(), netip.MustParseAddr("fd00::2").As16()
	copy(b[ipv6Src:ipv6Src+16], src[:])
	copy(b[ipv6Dst:ipv6Dst+16], dst[:])
	return append(b, payload...)
}

// ext returns an 8-byte-unit extension header with the given next header.
func ext(next IPProtocol, units int) []byte {
	b := make([]byte, 8*(units+1))
	b[0], b[1] = byte(next), byte(units)
	return b
}

func TestParseIPv6(t *testing.T) {
	tcp := make([]byte, 20)
	frag := []byte{byte(ProtocolUDP), 0, 0, 1, 0, 0, 0, 1}
	many := func(n int) []byte {
		var b []byte
		for i := 0; i < n-1; i++ {
			b = append(b, ext(ProtocolDestOpts, 0)...)
		}
		return append(b, ext(ProtocolTCP, 0)...)
	}
	withPL := func(b []byte, pl uint16) []byte {
		b = cat(b)
		binary.BigEndian.PutUint16(b[ipv6PayloadLen:], pl)
		return b
	}
	tests := []struct {
		name     string
		b        []byte
		want     Drop
		proto    IPProtocol
		l4       int
		length   int
		fragment bool
	}{
		{name: "TCP", b: ipv6Packet(ProtocolTCP, tcp), proto: ProtocolTCP, l4: 40, length: 60},
		{name: "padding trimmed", b: cat(ipv6Packet(ProtocolTCP, tcp), make([]byte, 7)), proto: ProtocolTCP, l4: 40, length: 60},
		{name: "hop-by-hop", b: ipv6Packet(ProtocolHopByHop, cat(ext(ProtocolTCP, 0), tcp)), proto: ProtocolTCP, l4: 48, length: 68},
		{name: "hop-by-hop routing destination",
			b:     ipv6Packet(ProtocolHopByHop, cat(ext(ProtocolRouting, 1), ext(ProtocolDestOpts, 2), ext(ProtocolUDP, 0), make([]byte, 8))),
			proto: ProtocolUDP, l4: 40 + 16 + 24 + 8, length: 96},
		{name: "fragment", b: ipv6Packet(ProtocolFragment, cat(frag, make([]byte, 8))), proto: ProtocolUDP, l4: 48, length: 56, fragment: true},
		{name: "no next header", b: ipv6Packet(ProtocolDestOpts, ext(ProtocolNoNext, 0)), proto: ProtocolNoNext, l4: 48, length: 48},
		{name: "extension headers up to the limit", b: ipv6Packet(ProtocolDestOpts, many(MaxIPv6ExtHeaders)),
			proto: ProtocolTCP, l4: 40 + 8*MaxIPv6ExtHeaders, length: 40 + 8*MaxIPv6ExtHeaders},
		{name: "too many extension headers", b: ipv6Packet(ProtocolDestOpts, many(MaxIPv6ExtHeaders+1)), want: DropBadExtensionHeader},
		{name: "hop-by-hop not first", b: ipv6Packet(ProtocolDestOpts, cat(ext(ProtocolHopByHop, 0), ext(ProtocolTCP, 0))), want: DropBadExtensionHeader},
		{name: "extension header past payload", b: ipv6Packet(ProtocolRouting, ext(ProtocolTCP, 2)[:16]), want: DropBadExtensionHeader},
		{name: "extension header of one byte", b: ipv6Packet(ProtocolRouting, []byte{6}), want: DropBadExtensionHeader},
		{name: "fragment header truncated", b: ipv6Packet(ProtocolFragment, frag[:7]), want: DropBadExtensionHeader},
		{name: "too short", b: ipv6Packet(ProtocolTCP, nil)[:39], want: DropTooShort},
		{name: "version 4", b: cat([]byte{0x45}, ipv6Packet(ProtocolTCP, tcp)[1:]), want: DropBadVersion},
		{name: "jumbogram", b: withPL(ipv6Packet(ProtocolHopByHop, cat(ext(ProtocolTCP, 0), tcp)), 0), want: DropJumbogram},
		{name: "zero payload length", b: ipv6Packet(ProtocolNoNext, nil), want: DropBadTotalLength},
		{name: "payload beyond buffer", b: withPL(ipv6Packet(ProtocolTCP, tcp), 21), want: DropBadTotalLength},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, d := parseIPv6(tc.b)
			if d != tc.want {
				t.Fatalf("drop: got %v, want %v", d, tc.want)
			}
			if _, ok := ParseIPv6(tc.b); ok != (tc.want == DropNone) {
				t.Fatalf("ParseIPv6 ok: got %v, want %v", ok, tc.want == DropNone)
			}
			if d != DropNone {
				return
			}
			if h.Protocol() != tc.proto || h.TransportOffset() != tc.l4 || len(h.Bytes()) != tc.length || h.IsFragment() != tc.fragment {
				t.Errorf("got proto %d offset %d length %d fragment %v, want %d %d %d %v",
					h.Protocol(), h.TransportOffset(), len(h.Bytes()), h.IsFragment(), tc.proto, tc.l4, tc.length, tc.fragment)
			}
			if got := len(h.Transport()); got != tc.length-tc.l4 {
				t.Errorf("transport: got %d bytes, want %d", got, tc.length-tc.l4)
			}
		})
	}
}

func TestPutIPv6(t *testing.T) {
	want := unhex(t, `60012345 0014 06 40
		fd000000000000000000000000000001
		fd000000000000000000000000000002`)
	b := make([]byte, IPv6Len+20)
	n := PutIPv6(b, 20, IPv6Fields{
		Src: netip.MustParseAddr("fd00::1"), Dst: netip.MustParseAddr("fd00::2"),
		NextHeader: ProtocolTCP, FlowLabel: 0x12345,
	})
	if n != IPv6Len || !bytes.Equal(b[:n], want) {
		t.Fatalf("got %d % x, want %d % x", n, b[:n], IPv6Len, want)
	}
	h, ok := ParseIPv6(b)
	if !ok || h.FlowLabel() != 0x12345 || h.HopLimit() != 64 || h.TrafficClass() != 0 || h.PayloadLen() != 20 ||
		h.Src() != netip.MustParseAddr("fd00::1") || h.Dst() != netip.MustParseAddr("fd00::2") || h.NextHeader() != ProtocolTCP {
		t.Errorf("re-parse: got ok %v flow %#x hop %d tc %d plen %d %v %v, want the written fields",
			ok, h.FlowLabel(), h.HopLimit(), h.TrafficClass(), h.PayloadLen(), h.Src(), h.Dst())
	}
	n = PutIPv6(b, 20, IPv6Fields{TrafficClass: 0xb8, FlowLabel: 0xfffff, HopLimit: 255, NextHeader: ProtocolUDP})
	if h, _ := ParseIPv6(b); n != IPv6Len || h.TrafficClass() != 0xb8 || h.FlowLabel() != 0xfffff || h.HopLimit() != 255 {
		t.Errorf("traffic class %#x flow %#x hop %d, want 0xb8 0xfffff 255", h.TrafficClass(), h.FlowLabel(), h.HopLimit())
	}
	for _, tc := range []struct {
		name       string
		size, plen int
	}{
		{name: "short buffer", size: 39, plen: 1},
		{name: "empty payload", size: 40, plen: 0},
		{name: "payload too long", size: 40, plen: 65536},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if n := PutIPv6(make([]byte, tc.size), tc.plen, IPv6Fields{}); n != 0 {
				t.Errorf("got %d, want 0", n)
			}
		})
	}
}

func isWalked(p IPProtocol) bool {
	return p == ProtocolHopByHop || p == ProtocolRouting || p == ProtocolDestOpts || p == ProtocolFragment
}

// FuzzParseIPv6ExtHeaders feeds arbitrary extension header chains. An
// accepted packet's upper layer must lie inside the view, not be a walked
// extension header, sit at the end of a chain of well-formed headers, and
// parse again identically with or without trailing bytes.
func FuzzParseIPv6ExtHeaders(f *testing.F) {
	f.Add(uint8(ProtocolHopByHop), cat(ext(ProtocolRouting, 1), ext(ProtocolDestOpts, 0), ext(ProtocolTCP, 0)), uint8(3))
	f.Add(uint8(ProtocolFragment), cat([]byte{17, 0, 0, 0, 0, 0, 0, 1}, make([]byte, 8)), uint8(0))
	f.Add(uint8(ProtocolDestOpts), cat(ext(ProtocolHopByHop, 0), ext(ProtocolTCP, 0)), uint8(0))
	f.Add(uint8(ProtocolRouting), []byte{6, 255}, uint8(1))
	f.Add(uint8(ProtocolTCP), []byte{}, uint8(0))
	f.Fuzz(func(t *testing.T, next uint8, payload []byte, extra uint8) {
		if len(payload) > 0xffff {
			return
		}
		pkt := ipv6Packet(IPProtocol(next), payload)
		h, ok := ParseIPv6(pkt)
		if !ok {
			return
		}
		if got, want := len(h.Bytes()), IPv6Len+len(payload); got != want {
			t.Fatalf("view length: got %d, want %d", got, want)
		}
		off := h.TransportOffset()
		if off < IPv6Len || off > len(h.Bytes()) || len(h.Transport()) != len(h.Bytes())-off {
			t.Fatalf("transport offset %d outside view of %d bytes", off, len(h.Bytes()))
		}
		if isWalked(h.Protocol()) {
			t.Fatalf("protocol %d is an extension header that should have been walked", h.Protocol())
		}
		// Walk the chain again from the outside: each header's length
		// must land exactly on the reported offset.
		p, o, n, frag := IPProtocol(next), IPv6Len, 0, false
		for isWalked(p) {
			l := IPv6FragmentLen
			if p != ProtocolFragment {
				l = (int(pkt[o+1]) + 1) * 8
			} else {
				frag = true
			}
			p, o, n = IPProtocol(pkt[o]), o+l, n+1
		}
		if o != off || p != h.Protocol() || frag != h.IsFragment() || n > MaxIPv6ExtHeaders {
			t.Fatalf("re-walk: got offset %d proto %d fragment %v after %d headers, want %d %d %v",
				o, p, frag, n, off, h.Protocol(), h.IsFragment())
		}
		h2, ok := ParseIPv6(append(cat(pkt), make([]byte, extra)...))
		if !ok || h2.TransportOffset() != off || h2.Protocol() != h.Protocol() || !bytes.Equal(h2.Bytes(), h.Bytes()) {
			t.Fatalf("padded re-parse: got ok %v offset %d, want true %d", ok, h2.TransportOffset(), off)
		}
	})
}
