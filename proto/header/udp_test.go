// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package header

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
)

func TestParseUDP(t *testing.T) {
	dgram := unhex(t, "0035 3039 000d 918f 68656c6c6f")
	tests := []struct {
		name    string
		b       []byte
		ok      bool
		length  int
		payload string
	}{
		{name: "good", b: dgram, ok: true, length: 13, payload: "hello"},
		{name: "trailing bytes trimmed", b: cat(dgram, []byte{0, 0, 0}), ok: true, length: 13, payload: "hello"},
		{name: "header only", b: unhex(t, "0035 3039 0008 0000"), ok: true, length: 8},
		{name: "too short", b: dgram[:7]},
		{name: "length below header", b: unhex(t, "0035 3039 0007 0000 00")},
		{name: "length beyond buffer", b: dgram[:12]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, ok := ParseUDP(tc.b)
			if ok != tc.ok {
				t.Fatalf("ok: got %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if u.Length() != tc.length || len(u.Bytes()) != tc.length || string(u.Payload()) != tc.payload {
				t.Errorf("got length %d (%d bytes) payload %q, want %d %q", u.Length(), len(u.Bytes()), u.Payload(), tc.length, tc.payload)
			}
			if u.SrcPort() != 53 || u.DstPort() != 12345 {
				t.Errorf("ports: got %d %d, want 53 12345", u.SrcPort(), u.DstPort())
			}
		})
	}
}

func TestPutUDP(t *testing.T) {
	src, dst := netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2")
	want := unhex(t, "0035 3039 000d 918f 68656c6c6f")
	if got := naiveChecksum(naivePseudo6(ProtocolUDP, src, dst, len(want)), want); got != 0 {
		t.Fatalf("golden bytes do not sum right: reference gives %#04x, want 0", got)
	}
	b := make([]byte, 13)
	copy(b[UDPLen:], "hello")
	if n := PutUDP(b, 53, 12345, 5); n != UDPLen {
		t.Fatalf("length: got %d, want %d", n, UDPLen)
	}
	SetTransportChecksum6(b, ProtocolUDP, src, dst)
	if !bytes.Equal(b, want) {
		t.Errorf("got % x, want % x", b, want)
	}
	if !TransportChecksumValid6(b, ProtocolUDP, src, dst) {
		t.Errorf("written datagram: checksum valid got false, want true")
	}
	for _, tc := range []struct {
		name       string
		size, plen int
	}{
		{name: "short buffer", size: 7, plen: 0},
		{name: "too long", size: 8, plen: 65528},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if n := PutUDP(make([]byte, tc.size), 1, 2, tc.plen); n != 0 {
				t.Errorf("got %d, want 0", n)
			}
		})
	}
}

// TestUDPZeroChecksum builds a datagram whose checksum computes to zero,
// which must go on the wire as 0xffff.
func TestUDPZeroChecksum(t *testing.T) {
	tests := []struct {
		name     string
		src, dst netip.Addr
	}{
		{name: "IPv4", src: netip.MustParseAddr("10.0.2.15"), dst: netip.MustParseAddr("10.0.2.2")},
		{name: "IPv6", src: netip.MustParseAddr("fd00::15"), dst: netip.MustParseAddr("fd00::2")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := make([]byte, UDPLen+2)
			PutUDP(b, 1000, 2000, 2)
			var ph []byte
			if tc.src.Is4() {
				ph = naivePseudo4(ProtocolUDP, tc.src, tc.dst, len(b))
			} else {
				ph = naivePseudo6(ProtocolUDP, tc.src, tc.dst, len(b))
			}
			// Make the data word the complement of everything else:
			// the sum is then 0xffff and its complement 0.
			binary.BigEndian.PutUint16(b[UDPLen:], ^uint16(naiveSum(cat(ph, b))))
			if tc.src.Is4() {
				SetTransportChecksum4(b, ProtocolUDP, tc.src, tc.dst)
			} else {
				SetTransportChecksum6(b, ProtocolUDP, tc.src, tc.dst)
			}
			if got := binary.BigEndian.Uint16(b[udpChecksum:]); got != 0xffff {
				t.Errorf("got %#04x, want 0xffff", got)
			}
		})
	}
}

func TestTransportChecksumValid(t *testing.T) {
	v4src, v4dst := netip.MustParseAddr("10.0.2.15"), netip.MustParseAddr("10.0.2.2")
	v6src, v6dst := netip.MustParseAddr("fd00::15"), netip.MustParseAddr("fd00::2")
	udp := unhex(t, "0035 3039 000d 0000 68656c6c6f")
	tests := []struct {
		name  string
		v6    bool
		seg   []byte
		proto IPProtocol
		set   bool // compute the checksum first
		want  bool
	}{
		{name: "UDPv4 computed", seg: cat(udp), proto: ProtocolUDP, set: true, want: true},
		{name: "UDPv4 zero means none", seg: cat(udp), proto: ProtocolUDP, want: true},
		{name: "UDPv6 zero refused", v6: true, seg: cat(udp), proto: ProtocolUDP, want: false},
		{name: "UDPv6 computed", v6: true, seg: cat(udp), proto: ProtocolUDP, set: true, want: true},
		{name: "ICMP over IPv6 refused", v6: true, seg: cat(udp), proto: ProtocolICMP, want: false},
		{name: "ICMPv6 over IPv4 refused", seg: cat(udp), proto: ProtocolICMPv6, want: false},
		{name: "unknown protocol", seg: cat(udp), proto: ProtocolESP, want: false},
		{name: "TCP too short", seg: make([]byte, 17), proto: ProtocolTCP, want: false},
		{name: "TCPv4 computed", seg: make([]byte, 21), proto: ProtocolTCP, set: true, want: true},
		{name: "TCPv4 zero field", seg: make([]byte, 21), proto: ProtocolTCP, want: false},
		{name: "ICMP computed", seg: cat(udp), proto: ProtocolICMP, set: true, want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got bool
			if tc.v6 {
				if tc.set && !SetTransportChecksum6(tc.seg, tc.proto, v6src, v6dst) {
					t.Fatal("SetTransportChecksum6 refused")
				}
				got = TransportChecksumValid6(tc.seg, tc.proto, v6src, v6dst)
			} else {
				if tc.set && !SetTransportChecksum4(tc.seg, tc.proto, v4src, v4dst) {
					t.Fatal("SetTransportChecksum4 refused")
				}
				got = TransportChecksumValid4(tc.seg, tc.proto, v4src, v4dst)
			}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	// A computed checksum goes stale when the addresses change.
	seg := cat(udp)
	SetTransportChecksum4(seg, ProtocolUDP, v4src, v4dst)
	if TransportChecksumValid4(seg, ProtocolUDP, v4src, netip.MustParseAddr("10.0.2.3")) {
		t.Errorf("checksum valid for another destination: got true, want false")
	}
}
