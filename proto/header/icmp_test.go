// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package header

import (
	"bytes"
	"net/netip"
	"testing"
)

func TestParseICMP(t *testing.T) {
	echo := unhex(t, "0800 0000 1234 0001 61626364")
	tests := []struct {
		name     string
		b        []byte
		ok       bool
		echo     bool
		typ      uint8
		id, seq  uint16
		dataSize int
	}{
		{name: "echo request", b: echo, ok: true, echo: true, typ: ICMPv4EchoRequest, id: 0x1234, seq: 1, dataSize: 4},
		{name: "no data", b: echo[:8], ok: true, echo: true, typ: ICMPv4EchoRequest, id: 0x1234, seq: 1},
		{name: "unreachable", b: unhex(t, "0303 0000 0000 0000"), ok: true, typ: ICMPv4DestUnreachable},
		{name: "too short", b: echo[:7]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := ParseICMPv4(tc.b)
			m6, ok6 := ParseICMPv6(tc.b)
			if ok != tc.ok || ok6 != tc.ok {
				t.Fatalf("ok: got %v and %v, want %v", ok, ok6, tc.ok)
			}
			if !ok {
				return
			}
			if m.IsEcho() != tc.echo || m.Type() != tc.typ || m.ID() != tc.id || m.Seq() != tc.seq || len(m.Payload()) != tc.dataSize {
				t.Errorf("got echo %v type %d id %#x seq %d data %d, want %v %d %#x %d %d",
					m.IsEcho(), m.Type(), m.ID(), m.Seq(), len(m.Payload()), tc.echo, tc.typ, tc.id, tc.seq, tc.dataSize)
			}
			if m6.Type() != tc.typ || m6.ID() != tc.id || m6.Seq() != tc.seq || len(m6.Payload()) != tc.dataSize || m6.IsEcho() {
				t.Errorf("ICMPv6 view: got type %d id %#x seq %d data %d echo %v, want %d %#x %d %d false",
					m6.Type(), m6.ID(), m6.Seq(), len(m6.Payload()), m6.IsEcho(), tc.typ, tc.id, tc.seq, tc.dataSize)
			}
		})
	}
}

func TestPutICMP(t *testing.T) {
	v6src, v6dst := netip.MustParseAddr("fe80::1"), netip.MustParseAddr("fe80::2")
	e6src, e6dst := netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2")
	quote4 := unhex(t, wikiIPv4+"a0a0 0035 005f 0000")
	quote6 := cat(unhex(t, "6000000000081140"), make([]byte, 32))
	tests := []struct {
		name     string
		v6       bool
		src, dst netip.Addr
		put      func(b []byte) int
		want     string
	}{
		{name: "ICMPv4 echo reply", put: func(b []byte) int {
			return PutICMPv4Echo(b, ICMPv4EchoReply, 0x1234, 1, []byte("abcd"))
		}, want: "0000 2904 1234 0001 61626364"},
		{name: "ICMPv6 echo request", v6: true, src: v6src, dst: v6dst, put: func(b []byte) int {
			return PutICMPv6Echo(b, ICMPv6EchoRequest, 0x1234, 1, []byte("abcd"), v6src, v6dst)
		}, want: "8000 abb8 1234 0001 61626364"},
		{name: "ICMPv4 port unreachable", put: func(b []byte) int {
			return PutICMPv4Error(b, ICMPv4DestUnreachable, ICMPv4PortUnreachable, 0, quote4)
		}, want: "0303 5bc8 00000000" + wikiIPv4 + "a0a0 0035 005f 0000"},
		{name: "ICMPv6 packet too big", v6: true, src: e6src, dst: e6dst, put: func(b []byte) int {
			return PutICMPv6Error(b, ICMPv6PacketTooBig, 0, 1500, quote6, e6src, e6dst)
		}, want: "0200 8c6c 000005dc 6000000000081140" + "00000000000000000000000000000000 00000000000000000000000000000000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := unhex(t, tc.want)
			var ref uint16
			if tc.v6 {
				ref = naiveChecksum(naivePseudo6(ProtocolICMPv6, tc.src, tc.dst, len(want)), want)
			} else {
				ref = naiveChecksum(want)
			}
			if ref != 0 {
				t.Fatalf("golden bytes do not sum right: reference gives %#04x, want 0", ref)
			}
			b := make([]byte, 128)
			n := tc.put(b)
			if !bytes.Equal(b[:n], want) {
				t.Errorf("got % x, want % x", b[:n], want)
			}
			if tc.v6 {
				if !TransportChecksumValid6(b[:n], ProtocolICMPv6, tc.src, tc.dst) {
					t.Errorf("checksum valid: got false, want true")
				}
			} else if m, _ := ParseICMPv4(b[:n]); !m.ChecksumValid() {
				t.Errorf("checksum valid: got false, want true")
			}
		})
	}
}

func TestPutICMPEchoInPlace(t *testing.T) {
	b := make([]byte, 12)
	copy(b[ICMPLen:], "abcd")
	if n := PutICMPv4Echo(b, ICMPv4EchoReply, 0x1234, 1, b[ICMPLen:]); n != 12 || !bytes.Equal(b, unhex(t, "0000 2904 1234 0001 61626364")) {
		t.Errorf("got %d % x, want 12 and the echo reply", n, b)
	}
}

func TestPutICMPErrorTruncation(t *testing.T) {
	src, dst := netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2")
	quote := make([]byte, 3000)
	for i := range quote {
		quote[i] = byte(i)
	}
	tests := []struct {
		name string
		size int
		v6   bool
		want int
	}{
		{name: "ICMPv4 cut to 576-byte datagram", size: 4000, want: MaxICMPv4Error},
		{name: "ICMPv6 cut to minimum MTU", size: 4000, v6: true, want: MaxICMPv6Error},
		{name: "ICMPv4 cut to buffer", size: 100, want: 100},
		{name: "ICMPv6 cut to buffer", size: 100, v6: true, want: 100},
		{name: "ICMPv4 no room", size: 7, want: 0},
		{name: "ICMPv6 no room", size: 7, v6: true, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := make([]byte, tc.size)
			var n int
			var valid bool
			if tc.v6 {
				n = PutICMPv6Error(b, ICMPv6DestUnreachable, ICMPv6PortUnreachable, 0, quote, src, dst)
				valid = TransportChecksumValid6(b[:n], ProtocolICMPv6, src, dst)
			} else {
				n = PutICMPv4Error(b, ICMPv4DestUnreachable, ICMPv4PortUnreachable, 0, quote)
				m, _ := ParseICMPv4(b[:n])
				valid = m.ChecksumValid()
			}
			if n != tc.want {
				t.Fatalf("length: got %d, want %d", n, tc.want)
			}
			if n > 0 && (!valid || !bytes.Equal(b[ICMPLen:n], quote[:n-ICMPLen])) {
				t.Errorf("checksum valid %v, quote intact %v: want true true", valid, bytes.Equal(b[ICMPLen:n], quote[:n-ICMPLen]))
			}
		})
	}
}
