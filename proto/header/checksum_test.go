// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package header

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
)

func TestChecksum(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		initial uint16
		want    uint16
	}{
		{name: "empty", data: nil, want: 0},
		{name: "empty keeps initial", data: nil, initial: 0x1234, want: 0x1234},
		// The worked example of RFC 1071 section 3.
		{name: "RFC 1071 example", data: []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, want: 0xddf2},
		{name: "odd byte padded", data: []byte{0x01}, want: 0x0100},
		{name: "odd tail", data: []byte{0x12, 0x34, 0x56}, want: 0x6834},
		{name: "end-around carry", data: []byte{0xff, 0xff, 0x00, 0x02}, want: 0x0002},
		{name: "initial added", data: []byte{0x00, 0x01}, initial: 0xfffe, want: 0xffff},
		{name: "IPv4 header sums to 0xffff", data: unhex(t, "4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7"), want: 0xffff},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Checksum(tc.data, tc.initial); got != tc.want {
				t.Errorf("got %#04x, want %#04x", got, tc.want)
			}
		})
	}
}

func TestChecksumMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 4096)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	// Every length up to 300 and a few large ones, at every alignment
	// modulo 8, since the fast path reads in wide words.
	lengths := []int{1000, 1499, 1500, 4000}
	for l := 0; l <= 300; l++ {
		lengths = append(lengths, l)
	}
	for _, l := range lengths {
		for a := 0; a < 8 && a+l <= len(buf); a++ {
			b := buf[a : a+l]
			got, want := Checksum(b, 0), uint16(naiveSum(b))
			if got != want {
				t.Fatalf("length %d alignment %d: got %#04x, want %#04x", l, a, got, want)
			}
		}
	}
}

func TestPseudoHeaderChecksum(t *testing.T) {
	tests := []struct {
		name     string
		proto    IPProtocol
		src, dst netip.Addr
		length   int
	}{
		{name: "TCP v4", proto: ProtocolTCP, src: netip.MustParseAddr("10.0.2.2"), dst: netip.MustParseAddr("10.0.2.15"), length: 40},
		{name: "UDP v4 max", proto: ProtocolUDP, src: netip.MustParseAddr("192.168.1.1"), dst: netip.MustParseAddr("255.255.255.255"), length: 0xffff},
		{name: "TCP v6", proto: ProtocolTCP, src: netip.MustParseAddr("fd00::1"), dst: netip.MustParseAddr("2001:db8::ffff:1"), length: 1460},
		{name: "ICMPv6 long", proto: ProtocolICMPv6, src: netip.MustParseAddr("fe80::1"), dst: netip.MustParseAddr("ff02::1"), length: 0x12345},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got, want uint16
			if tc.src.Is4() {
				got = PseudoHeaderChecksum4(tc.proto, tc.src, tc.dst, uint16(tc.length))
				want = uint16(naiveSum(naivePseudo4(tc.proto, tc.src, tc.dst, tc.length)))
			} else {
				got = PseudoHeaderChecksum6(tc.proto, tc.src, tc.dst, uint32(tc.length))
				want = uint16(naiveSum(naivePseudo6(tc.proto, tc.src, tc.dst, tc.length)))
			}
			if !sameSum(got, want) {
				t.Errorf("got %#04x, want %#04x", got, want)
			}
		})
	}
}

// TestUpdate rewrites fields of a real TCP/IPv4 segment's covered data and
// compares the incrementally updated checksum with a recomputation.
func TestUpdate(t *testing.T) {
	src, dst := netip.MustParseAddr("10.0.2.15"), netip.MustParseAddr("10.0.2.2")
	newDst := netip.MustParseAddr("127.0.0.1")
	seg := unhex(t, "9c40 0050 01020304 0a0b0c0d 5018 ffff 0000 0000 68656c6c6f")
	tests := []struct {
		name   string
		update func(check uint16, seg []byte) (uint16, netip.Addr)
	}{
		{name: "port", update: func(c uint16, seg []byte) (uint16, netip.Addr) {
			c = Update16(c, binary.BigEndian.Uint16(seg[0:]), 1234)
			binary.BigEndian.PutUint16(seg[0:], 1234)
			return c, dst
		}},
		{name: "sequence", update: func(c uint16, seg []byte) (uint16, netip.Addr) {
			c = Update32(c, binary.BigEndian.Uint32(seg[4:]), 0xfffffff0)
			binary.BigEndian.PutUint32(seg[4:], 0xfffffff0)
			return c, dst
		}},
		{name: "address in pseudo-header", update: func(c uint16, seg []byte) (uint16, netip.Addr) {
			return UpdateAddr(c, dst, newDst), newDst
		}},
		{name: "unchanged", update: func(c uint16, seg []byte) (uint16, netip.Addr) {
			return Update16(c, 0x5018, 0x5018), dst
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := append([]byte(nil), seg...)
			SetTransportChecksum4(s, ProtocolTCP, src, dst)
			c := binary.BigEndian.Uint16(s[tcpChecksum:])
			got, d := tc.update(c, s)
			binary.BigEndian.PutUint16(s[tcpChecksum:], 0)
			want := naiveChecksum(naivePseudo4(ProtocolTCP, src, d, len(s)), s)
			if got != want {
				t.Errorf("got %#04x, want %#04x", got, want)
			}
		})
	}
}

func TestUpdateAddr6(t *testing.T) {
	src := netip.MustParseAddr("fd00::15")
	oldDst, newDst := netip.MustParseAddr("fd00::2"), netip.MustParseAddr("::1")
	seg := unhex(t, "9c40 0035 000d 0000 68656c6c6f")
	SetTransportChecksum6(seg, ProtocolUDP, src, oldDst)
	got := UpdateAddr(binary.BigEndian.Uint16(seg[udpChecksum:]), oldDst, newDst)
	binary.BigEndian.PutUint16(seg[udpChecksum:], 0)
	if want := naiveChecksum(naivePseudo6(ProtocolUDP, src, newDst, len(seg)), seg); got != want {
		t.Errorf("got %#04x, want %#04x", got, want)
	}
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// FuzzChecksum compares Checksum with the reference on arbitrary data and
// checks that Update16 and Update32 agree with recomputing after a word
// (or two) of the data changes. The results must be identical, except
// that when the data becomes all zeros the update may give the other
// representation of zero.
func FuzzChecksum(f *testing.F) {
	f.Add([]byte{}, uint16(0), uint32(0))
	f.Add([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, uint16(3), uint32(0xffffffff))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff}, uint16(0), uint32(0))
	f.Add(make([]byte, 101), uint16(50), uint32(0x80000001))
	f.Fuzz(func(t *testing.T, data []byte, pos uint16, v uint32) {
		got, want := Checksum(data, 0), uint16(naiveSum(data))
		if got != want {
			t.Fatalf("Checksum: got %#04x, want %#04x", got, want)
		}
		if len(data) >= 2 {
			d := append([]byte(nil), data...)
			off := int(pos) % (len(d) - 1) &^ 1
			check := ^Checksum(d, 0)
			old := binary.BigEndian.Uint16(d[off:])
			binary.BigEndian.PutUint16(d[off:], uint16(v))
			got, want := Update16(check, old, uint16(v)), ^Checksum(d, 0)
			if got != want && !(allZero(d) && sameSum(got, want)) {
				t.Fatalf("Update16 at %d: got %#04x, want %#04x", off, got, want)
			}
		}
		if len(data) >= 4 {
			d := append([]byte(nil), data...)
			off := int(pos) % (len(d) - 3) &^ 1
			check := ^Checksum(d, 0)
			old := binary.BigEndian.Uint32(d[off:])
			binary.BigEndian.PutUint32(d[off:], v)
			got, want := Update32(check, old, v), ^Checksum(d, 0)
			if got != want && !(allZero(d) && sameSum(got, want)) {
				t.Fatalf("Update32 at %d: got %#04x, want %#04x", off, got, want)
			}
		}
	})
}

func BenchmarkChecksum(b *testing.B) {
	for _, n := range []int{64, 1500, 65535} {
		buf := make([]byte, n)
		for i := range buf {
			buf[i] = byte(i * 7)
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			var s uint16
			for b.Loop() {
				s = Checksum(buf, s)
			}
			_ = s
		})
	}
}
