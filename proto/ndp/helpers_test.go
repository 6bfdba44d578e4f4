// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package ndp

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"

	"passt-go/internal/testnet"
	"passt-go/proto/header"
)

var (
	ourMAC   = header.MAC{0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55}
	guestMAC = header.MAC{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}

	ourLL     = netip.MustParseAddr("fe80::1")
	guestLL   = netip.MustParseAddr("fe80::5054:ff:fe12:3456")
	guestAddr = netip.MustParseAddr("2001:db8:1::10")
	remote    = netip.MustParseAddr("2001:db8:77::1")
	dns1      = netip.MustParseAddr("2001:db8:1::53")
	dns2      = netip.MustParseAddr("2001:db8:2::53")
	unspec    = netip.IPv6Unspecified()
	allNodes6 = netip.MustParseAddr("ff02::1")
	allRtrs   = netip.MustParseAddr("ff02::2")
)

// testConfig is a configuration with every option present.
func testConfig() *Config {
	return &Config{
		OurMAC:    ourMAC,
		OurLL:     ourLL,
		GuestAddr: guestAddr,
		MTU:       65520,
		DNS:       []netip.Addr{dns1, dns2},
		Search:    []string{"example.com", "corp.example.org."},
	}
}

// solicitedNode returns the solicited-node multicast address of a,
// computed from RFC 4291 2.7.1 independently of the package.
func solicitedNode(a netip.Addr) netip.Addr {
	b := a.As16()
	return netip.AddrFrom16([16]byte{0xff, 0x02, 11: 0x01, 12: 0xff, 13: b[13], 14: b[14], 15: b[15]})
}

// ndFrame wraps msg in IPv6 (hop limit hop) and Ethernet from the guest,
// and fills the ICMPv6 checksum.
func ndFrame(srcMAC header.MAC, src, dst netip.Addr, hop uint8, msg []byte) []byte {
	b := make([]byte, header.EthernetLen+header.IPv6Len+len(msg))
	dstMAC := ourMAC
	if dst.IsMulticast() {
		d := dst.As16()
		dstMAC = header.MAC{0x33, 0x33, d[12], d[13], d[14], d[15]}
	}
	header.PutEthernet(b, dstMAC, srcMAC, header.EtherTypeIPv6)
	header.PutIPv6(b[header.EthernetLen:], len(msg), header.IPv6Fields{
		Src: src, Dst: dst, NextHeader: header.ProtocolICMPv6, HopLimit: hop,
	})
	m := b[header.EthernetLen+header.IPv6Len:]
	copy(m, msg)
	header.SetTransportChecksum6(m, header.ProtocolICMPv6, src, dst)
	return b
}

// nsMsg builds an NS message for target followed by opts.
func nsMsg(target netip.Addr, opts ...[]byte) []byte {
	m := make([]byte, 24)
	m[0] = header.ICMPv6NeighborSolicitation
	t := target.As16()
	copy(m[8:], t[:])
	for _, o := range opts {
		m = append(m, o...)
	}
	return m
}

// rsMsg builds an RS message followed by opts.
func rsMsg(opts ...[]byte) []byte {
	m := make([]byte, 8)
	m[0] = header.ICMPv6RouterSolicitation
	for _, o := range opts {
		m = append(m, o...)
	}
	return m
}

// llOpt builds a link-layer address option.
func llOpt(typ byte, mac header.MAC) []byte {
	return append([]byte{typ, 1}, mac[:]...)
}

// ns is a well-formed NS from the guest's link-local address to the
// target's solicited-node group.
func ns(target netip.Addr) []byte {
	return ndFrame(guestMAC, guestLL, solicitedNode(target), 255, nsMsg(target, llOpt(1, guestMAC)))
}

// rs is a well-formed RS from the guest's link-local address.
func rs() []byte {
	return ndFrame(guestMAC, guestLL, allRtrs, 255, rsMsg(llOpt(1, guestMAC)))
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

// naiveChecksumOK recomputes the ICMPv6 checksum over the pseudo-header
// word by word, independently of the header package.
func naiveChecksumOK(src, dst netip.Addr, msg []byte) bool {
	s, d := src.As16(), dst.As16()
	var all []byte
	all = append(all, s[:]...)
	all = append(all, d[:]...)
	all = binary.BigEndian.AppendUint32(all, uint32(len(msg)))
	all = append(all, 0, 0, 0, 58)
	all = append(all, msg...)
	if len(all)%2 == 1 {
		all = append(all, 0)
	}
	var sum uint32
	for i := 0; i < len(all); i += 2 {
		sum += uint32(all[i])<<8 | uint32(all[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return sum == 0xffff
}

// option is one ND option as the tests read it.
type option struct {
	typ  byte
	body []byte // everything after type and length
}

// parseOptions splits ND options, failing the test on a malformed one.
func parseOptions(t testing.TB, b []byte) []option {
	t.Helper()
	var opts []option
	for len(b) > 0 {
		if len(b) < 2 || b[1] == 0 || int(b[1])*8 > len(b) {
			t.Fatalf("malformed options: %x", b)
		}
		n := int(b[1]) * 8
		opts = append(opts, option{typ: b[0], body: b[2:n]})
		b = b[n:]
	}
	return opts
}

// reply is a decoded ND message written by the package, checked for what
// every such frame must satisfy.
type reply struct {
	f   header.Frame
	msg []byte
}

// checkFrame decodes out as a frame written by the package and checks the
// common fields: Ethernet and IPv6 addresses, hop limit, protocol and
// checksum.
func checkFrame(t testing.TB, out []byte, dstMAC header.MAC, dst netip.Addr) reply {
	t.Helper()
	f := testnet.Decode(t, out)
	msg := f.Transport(out)
	if f.EtherType != header.EtherTypeIPv6 || f.Proto != header.ProtocolICMPv6 {
		t.Fatalf("got EtherType %#x protocol %d, want %#x %d", f.EtherType, f.Proto, header.EtherTypeIPv6, header.ProtocolICMPv6)
	}
	if f.End != len(out) {
		t.Errorf("IPv6 packet ends at %d, want %d", f.End, len(out))
	}
	if f.SrcMAC != ourMAC || f.DstMAC != dstMAC {
		t.Errorf("Ethernet: got %v -> %v, want %v -> %v", f.SrcMAC, f.DstMAC, ourMAC, dstMAC)
	}
	if f.Src != ourLL || f.Dst != dst {
		t.Errorf("IPv6: got %v -> %v, want %v -> %v", f.Src, f.Dst, ourLL, dst)
	}
	if f.TTL != 255 {
		t.Errorf("hop limit: got %d, want 255", f.TTL)
	}
	if f.L4 != header.EthernetLen+header.IPv6Len {
		t.Errorf("ICMPv6 at %d, want %d (no extension headers)", f.L4, header.EthernetLen+header.IPv6Len)
	}
	if !header.TransportChecksumValid6(msg, header.ProtocolICMPv6, f.Src, f.Dst) {
		t.Errorf("checksum %#04x not valid", binary.BigEndian.Uint16(msg[2:]))
	}
	if !naiveChecksumOK(f.Src, f.Dst, msg) {
		t.Errorf("checksum %#04x not valid by the word-by-word sum", binary.BigEndian.Uint16(msg[2:]))
	}
	if msg[1] != 0 {
		t.Errorf("code: got %d, want 0", msg[1])
	}
	if len(out) > MaxFrameLen {
		t.Errorf("frame length %d beyond MaxFrameLen %d", len(out), MaxFrameLen)
	}
	return reply{f: f, msg: msg}
}
