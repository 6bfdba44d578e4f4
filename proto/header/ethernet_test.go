// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package header

import (
	"bytes"
	"net/netip"
	"testing"
)

func TestParseEthernet(t *testing.T) {
	tests := []struct {
		name      string
		frame     []byte
		ok        bool
		dst, src  MAC
		etherType EtherType
		payload   int
	}{
		{name: "empty", frame: nil},
		{name: "13 bytes", frame: make([]byte, 13)},
		{name: "header only", frame: unhex(t, "525400123456 9a559a559a55 86dd"), ok: true,
			dst: guestMAC, src: ourMAC, etherType: EtherTypeIPv6},
		{name: "with payload", frame: unhex(t, "ffffffffffff 525400123456 0806 0102"), ok: true,
			dst: BroadcastMAC, src: guestMAC, etherType: EtherTypeARP, payload: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := ParseEthernet(tc.frame)
			if ok != tc.ok {
				t.Fatalf("ok: got %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if e.Dst() != tc.dst || e.Src() != tc.src || e.Type() != tc.etherType {
				t.Errorf("got %v %v %#04x, want %v %v %#04x", e.Dst(), e.Src(), e.Type(), tc.dst, tc.src, tc.etherType)
			}
			if got := len(e.Payload()); got != tc.payload {
				t.Errorf("payload length: got %d, want %d", got, tc.payload)
			}
		})
	}
}

func TestMAC(t *testing.T) {
	tests := []struct {
		name      string
		mac       MAC
		str       string
		multicast bool
		zero      bool
	}{
		{name: "unicast", mac: guestMAC, str: "52:54:00:12:34:56"},
		{name: "broadcast", mac: BroadcastMAC, str: "ff:ff:ff:ff:ff:ff", multicast: true},
		{name: "IPv6 multicast", mac: MAC{0x33, 0x33, 0, 0, 0, 1}, str: "33:33:00:00:00:01", multicast: true},
		{name: "zero", mac: MAC{}, str: "00:00:00:00:00:00", zero: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.mac.String(); got != tc.str {
				t.Errorf("String: got %q, want %q", got, tc.str)
			}
			if got := tc.mac.IsMulticast(); got != tc.multicast {
				t.Errorf("IsMulticast: got %v, want %v", got, tc.multicast)
			}
			if got := tc.mac.IsZero(); got != tc.zero {
				t.Errorf("IsZero: got %v, want %v", got, tc.zero)
			}
		})
	}
}

func TestPutEthernet(t *testing.T) {
	want := unhex(t, "525400123456 9a559a559a55 0800")
	b := make([]byte, 20)
	if n := PutEthernet(b, guestMAC, ourMAC, EtherTypeIPv4); n != EthernetLen {
		t.Fatalf("length: got %d, want %d", n, EthernetLen)
	}
	if !bytes.Equal(b[:EthernetLen], want) {
		t.Errorf("got % x, want % x", b[:EthernetLen], want)
	}
	short := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}
	if n := PutEthernet(short, guestMAC, ourMAC, EtherTypeIPv4); n != 0 || short[0] != 1 {
		t.Errorf("short buffer: got %d (first byte %d), want 0 and untouched", n, short[0])
	}
}

func TestParseARP(t *testing.T) {
	request := unhex(t, "0001 0800 06 04 0001 525400123456 0a00020f 000000000000 0a000202")
	tests := []struct {
		name     string
		b        []byte
		ok       bool
		op       ARPOp
		sender   netip.Addr
		target   netip.Addr
		senderHW MAC
	}{
		{name: "request", b: request, ok: true, op: ARPRequest, sender: netip.MustParseAddr("10.0.2.15"),
			target: netip.MustParseAddr("10.0.2.2"), senderHW: guestMAC},
		{name: "padded to 46 bytes", b: cat(request, make([]byte, 18)), ok: true, op: ARPRequest,
			sender: netip.MustParseAddr("10.0.2.15"), target: netip.MustParseAddr("10.0.2.2"), senderHW: guestMAC},
		{name: "truncated", b: request[:27]},
		{name: "hardware type 6", b: cat([]byte{0, 6}, request[2:])},
		{name: "protocol IPv6", b: cat(request[:2], []byte{0x86, 0xdd}, request[4:])},
		{name: "hardware length 8", b: cat(request[:4], []byte{8}, request[5:])},
		{name: "protocol length 16", b: cat(request[:5], []byte{16}, request[6:])},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, ok := ParseARP(tc.b)
			if ok != tc.ok {
				t.Fatalf("ok: got %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if a.Op() != tc.op || a.SenderIP() != tc.sender || a.TargetIP() != tc.target || a.SenderMAC() != tc.senderHW {
				t.Errorf("got op %d %v %v %v, want op %d %v %v %v", a.Op(), a.SenderIP(), a.TargetIP(), a.SenderMAC(),
					tc.op, tc.sender, tc.target, tc.senderHW)
			}
			if got := len(a.Bytes()); got != ARPLen {
				t.Errorf("view length: got %d, want %d", got, ARPLen)
			}
		})
	}
}

func TestPutARP(t *testing.T) {
	want := unhex(t, "0001 0800 06 04 0002 9a559a559a55 0a000202 525400123456 0a00020f")
	b := make([]byte, ARPLen)
	n := PutARP(b, ARPReply, ourMAC, netip.MustParseAddr("10.0.2.2"), guestMAC, netip.MustParseAddr("10.0.2.15"))
	if n != ARPLen || !bytes.Equal(b, want) {
		t.Fatalf("got %d % x, want %d % x", n, b, ARPLen, want)
	}
	a, ok := ParseARP(b)
	if !ok || a.Op() != ARPReply || a.TargetMAC() != guestMAC || a.SenderMAC() != ourMAC {
		t.Errorf("re-parse: got ok %v op %d target %v, want ok true op %d target %v", ok, a.Op(), a.TargetMAC(), ARPReply, guestMAC)
	}
	if n := PutARP(make([]byte, ARPLen-1), ARPReply, ourMAC, netip.Addr{}, guestMAC, netip.Addr{}); n != 0 {
		t.Errorf("short buffer: got %d, want 0", n)
	}
}
