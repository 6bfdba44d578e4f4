// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package arp

import (
	"bytes"
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
	otherMAC = header.MAC{0x02, 0x00, 0x00, 0x00, 0x00, 0x07}

	guestAddr = netip.MustParseAddr("192.0.2.10")
	gateway   = netip.MustParseAddr("192.0.2.1")
	remote    = netip.MustParseAddr("198.51.100.77")
	zero4     = netip.IPv4Unspecified()
)

func testConfig() *Config {
	return &Config{OurMAC: ourMAC, GuestAddr: guestAddr, OurAddr: gateway}
}

// arpFrame builds an ARP frame by hand from the guest: Ethernet source
// ethSrc, broadcast destination, padded to pad bytes when pad > 42.
func arpFrame(ethSrc header.MAC, op header.ARPOp, sha header.MAC, sip netip.Addr, tha header.MAC, tip netip.Addr, pad int) []byte {
	b := make([]byte, max(FrameLen, pad))
	header.PutEthernet(b, header.BroadcastMAC, ethSrc, header.EtherTypeARP)
	header.PutARP(b[header.EthernetLen:], op, sha, sip, tha, tip)
	return b
}

func request(sip, tip netip.Addr) []byte {
	return arpFrame(guestMAC, header.ARPRequest, guestMAC, sip, header.MAC{}, tip, 0)
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

// TestReplyGolden compares a reply with bytes written out from RFC 826's
// layout, independently of the header package's writers.
func TestReplyGolden(t *testing.T) {
	req := unhex(t, `
		ffffffffffff 525400123456 0806
		0001 0800 06 04 0001
		525400123456 c000020a
		000000000000 c0000201`)
	want := unhex(t, `
		525400123456 9a559a559a55 0806
		0001 0800 06 04 0002
		9a559a559a55 c0000201
		525400123456 c000020a`)
	out := make([]byte, 64)
	n, why := Reply(testConfig(), req, testnet.Decode(t, req), out)
	if why != IgnoreNone || n != len(want) {
		t.Fatalf("got (%d, %v), want (%d, %v)", n, why, len(want), IgnoreNone)
	}
	if !bytes.Equal(out[:n], want) {
		t.Errorf("got %x, want %x", out[:n], want)
	}
}

func TestReplyAnswers(t *testing.T) {
	tests := []struct {
		name    string
		frame   []byte
		wantDst header.MAC // Ethernet destination of the reply
		wantTHA header.MAC // ARP target hardware address of the reply
		wantSIP netip.Addr // address claimed
		wantTIP netip.Addr // requester's address
	}{
		{
			name:    "gateway",
			frame:   request(guestAddr, gateway),
			wantDst: guestMAC, wantTHA: guestMAC, wantSIP: gateway, wantTIP: guestAddr,
		},
		{
			name:    "remote address",
			frame:   request(guestAddr, remote),
			wantDst: guestMAC, wantTHA: guestMAC, wantSIP: remote, wantTIP: guestAddr,
		},
		{
			name:    "padded to 60 bytes",
			frame:   arpFrame(guestMAC, header.ARPRequest, guestMAC, guestAddr, header.MAC{}, remote, header.EthernetMinFrame),
			wantDst: guestMAC, wantTHA: guestMAC, wantSIP: remote, wantTIP: guestAddr,
		},
		{
			name:    "guest using another address",
			frame:   request(netip.MustParseAddr("10.1.2.3"), gateway),
			wantDst: guestMAC, wantTHA: guestMAC, wantSIP: gateway, wantTIP: netip.MustParseAddr("10.1.2.3"),
		},
		{
			name:    "probe for another address",
			frame:   request(zero4, remote),
			wantDst: guestMAC, wantTHA: guestMAC, wantSIP: remote, wantTIP: zero4,
		},
		{
			name:    "ARP sender differs from Ethernet source",
			frame:   arpFrame(otherMAC, header.ARPRequest, guestMAC, guestAddr, header.BroadcastMAC, gateway, 0),
			wantDst: otherMAC, wantTHA: guestMAC, wantSIP: gateway, wantTIP: guestAddr,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := make([]byte, 128)
			n, why := Reply(testConfig(), tc.frame, testnet.Decode(t, tc.frame), out)
			if n != FrameLen || why != IgnoreNone {
				t.Fatalf("got (%d, %v), want (%d, %v)", n, why, FrameLen, IgnoreNone)
			}
			f := testnet.Decode(t, out[:n])
			if f.EtherType != header.EtherTypeARP {
				t.Errorf("EtherType: got %#x, want %#x", f.EtherType, header.EtherTypeARP)
			}
			if f.DstMAC != tc.wantDst {
				t.Errorf("Ethernet destination: got %v, want %v", f.DstMAC, tc.wantDst)
			}
			if f.SrcMAC != ourMAC {
				t.Errorf("Ethernet source: got %v, want %v", f.SrcMAC, ourMAC)
			}
			a, ok := header.ParseARP(out[header.EthernetLen:n])
			if !ok {
				t.Fatalf("reply is not Ethernet/IPv4 ARP")
			}
			if a.Op() != header.ARPReply {
				t.Errorf("op: got %d, want %d", a.Op(), header.ARPReply)
			}
			if a.SenderMAC() != ourMAC {
				t.Errorf("sender MAC: got %v, want %v", a.SenderMAC(), ourMAC)
			}
			if a.SenderIP() != tc.wantSIP {
				t.Errorf("sender IP: got %v, want %v", a.SenderIP(), tc.wantSIP)
			}
			if a.TargetMAC() != tc.wantTHA {
				t.Errorf("target MAC: got %v, want %v", a.TargetMAC(), tc.wantTHA)
			}
			if a.TargetIP() != tc.wantTIP {
				t.Errorf("target IP: got %v, want %v", a.TargetIP(), tc.wantTIP)
			}
			for i, c := range out[n:] {
				if c != 0 {
					t.Fatalf("byte %d after the reply written: got %#x, want 0", n+i, c)
				}
			}
		})
	}
}

func TestReplyIgnores(t *testing.T) {
	ipv4 := make([]byte, header.EthernetLen+header.IPv4MinLen+header.ICMPLen)
	header.PutEthernet(ipv4, ourMAC, guestMAC, header.EtherTypeIPv4)
	header.PutIPv4(ipv4[header.EthernetLen:], header.ICMPLen, header.IPv4Fields{
		Src: guestAddr, Dst: gateway, Protocol: header.ProtocolICMP,
	})
	header.PutICMPv4Echo(ipv4[header.EthernetLen+header.IPv4MinLen:], header.ICMPv4EchoRequest, 1, 1, nil)

	// Decode refuses ARP for other hardware, so the worker never passes
	// one; Reply must refuse it on its own all the same.
	tokenRing := request(guestAddr, gateway)
	tokenRing[header.EthernetLen+1] = 6
	arpView := header.Frame{
		SrcMAC: guestMAC, DstMAC: header.BroadcastMAC, EtherType: header.EtherTypeARP,
		L3: header.EthernetLen, L4: FrameLen, Payload: FrameLen, End: FrameLen,
	}
	truncated := request(guestAddr, gateway)[:FrameLen-1]
	ipv6Proto := request(guestAddr, gateway)
	ipv6Proto[header.EthernetLen+3] = 0xdd
	ipv6Proto[header.EthernetLen+2] = 0x86

	tests := []struct {
		name  string
		frame []byte
		f     *header.Frame // nil: header.Decode(frame)
		out   int
		want  Ignore
	}{
		{name: "IPv4 frame", frame: ipv4, want: IgnoreNotARP},
		{name: "hardware type not Ethernet", frame: tokenRing, f: &arpView, want: IgnoreMalformed},
		{name: "protocol type not IPv4", frame: ipv6Proto, f: &arpView, want: IgnoreMalformed},
		{name: "truncated", frame: truncated, f: &arpView, want: IgnoreMalformed},
		{name: "reply", frame: arpFrame(guestMAC, header.ARPReply, guestMAC, guestAddr, ourMAC, gateway, 0), want: IgnoreNotRequest},
		{name: "RARP request", frame: arpFrame(guestMAC, 3, guestMAC, guestAddr, ourMAC, gateway, 0), want: IgnoreNotRequest},
		{name: "announcement of the guest address", frame: request(guestAddr, guestAddr), want: IgnoreAnnouncement},
		{name: "announcement of another address", frame: request(remote, remote), want: IgnoreAnnouncement},
		{name: "probe for the guest address", frame: request(zero4, guestAddr), want: IgnoreProbe},
		{name: "request for the guest address", frame: request(remote, guestAddr), want: IgnoreGuestAddr},
		{name: "request for 0.0.0.0", frame: request(guestAddr, zero4), want: IgnoreUnspecifiedTarget},
		{name: "probe for 0.0.0.0", frame: request(zero4, zero4), want: IgnoreUnspecifiedTarget},
		{name: "short buffer", frame: request(guestAddr, gateway), out: FrameLen - 1, want: IgnoreShortBuffer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f header.Frame
			if tc.f != nil {
				f = *tc.f
			} else {
				f = testnet.Decode(t, tc.frame)
			}
			size := tc.out
			if size == 0 {
				size = 128
			}
			out := bytes.Repeat([]byte{0xa5}, size)
			n, why := Reply(testConfig(), tc.frame, f, out)
			if n != 0 || why != tc.want {
				t.Errorf("got (%d, %v), want (0, %v)", n, why, tc.want)
			}
			if !bytes.Equal(out, bytes.Repeat([]byte{0xa5}, size)) {
				t.Errorf("out written although ignored: %x", out)
			}
		})
	}
}

func TestReplyNoGuestAddr(t *testing.T) {
	cfg := &Config{OurMAC: ourMAC}
	req := request(zero4, guestAddr)
	out := make([]byte, FrameLen)
	n, why := Reply(cfg, req, testnet.Decode(t, req), out)
	if n != FrameLen || why != IgnoreNone {
		t.Fatalf("got (%d, %v), want (%d, %v)", n, why, FrameLen, IgnoreNone)
	}
}

func TestRequest(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		target  netip.Addr
		out     int
		wantN   int
		wantSIP netip.Addr
	}{
		{name: "guest address", cfg: *testConfig(), target: guestAddr, out: 64, wantN: FrameLen, wantSIP: gateway},
		{name: "exact buffer", cfg: *testConfig(), target: guestAddr, out: FrameLen, wantN: FrameLen, wantSIP: gateway},
		{name: "no address of ours", cfg: Config{OurMAC: ourMAC}, target: guestAddr, out: 64, wantN: FrameLen, wantSIP: zero4},
		{name: "short buffer", cfg: *testConfig(), target: guestAddr, out: FrameLen - 1},
		{name: "IPv6 target", cfg: *testConfig(), target: netip.MustParseAddr("2001:db8::1"), out: 64},
		{name: "invalid target", cfg: *testConfig(), out: 64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := make([]byte, tc.out)
			n := Request(&tc.cfg, tc.target, out)
			if n != tc.wantN {
				t.Fatalf("length: got %d, want %d", n, tc.wantN)
			}
			if n == 0 {
				if !bytes.Equal(out, make([]byte, tc.out)) {
					t.Errorf("out written although nothing was built: %x", out)
				}
				return
			}
			f := testnet.Decode(t, out[:n])
			if f.DstMAC != header.BroadcastMAC || f.SrcMAC != ourMAC {
				t.Errorf("Ethernet addresses: got %v -> %v, want %v -> %v", f.SrcMAC, f.DstMAC, ourMAC, header.BroadcastMAC)
			}
			a, ok := header.ParseARP(out[header.EthernetLen:n])
			if !ok {
				t.Fatalf("request is not Ethernet/IPv4 ARP")
			}
			if a.Op() != header.ARPRequest {
				t.Errorf("op: got %d, want %d", a.Op(), header.ARPRequest)
			}
			if a.SenderMAC() != ourMAC || a.SenderIP() != tc.wantSIP {
				t.Errorf("sender: got %v %v, want %v %v", a.SenderMAC(), a.SenderIP(), ourMAC, tc.wantSIP)
			}
			if a.TargetMAC() != (header.MAC{}) || a.TargetIP() != tc.target {
				t.Errorf("target: got %v %v, want %v %v", a.TargetMAC(), a.TargetIP(), header.MAC{}, tc.target)
			}
		})
	}
}

// TestRequestAnsweredByReply checks that the two halves agree: a request
// such as Request builds, coming from a guest, is answered.
func TestRequestAnsweredByReply(t *testing.T) {
	guestSide := &Config{OurMAC: guestMAC, OurAddr: guestAddr}
	req := make([]byte, FrameLen)
	Request(guestSide, remote, req)
	out := make([]byte, FrameLen)
	n, why := Reply(testConfig(), req, testnet.Decode(t, req), out)
	if n != FrameLen || why != IgnoreNone {
		t.Fatalf("got (%d, %v), want (%d, %v)", n, why, FrameLen, IgnoreNone)
	}
}

func TestReplyAllocs(t *testing.T) {
	cfg := testConfig()
	req := request(guestAddr, remote)
	f := testnet.Decode(t, req)
	out := make([]byte, FrameLen)
	if got := testing.AllocsPerRun(100, func() { Reply(cfg, req, f, out) }); got != 0 {
		t.Errorf("Reply allocations: got %v, want 0", got)
	}
	if got := testing.AllocsPerRun(100, func() { Request(cfg, guestAddr, out) }); got != 0 {
		t.Errorf("Request allocations: got %v, want 0", got)
	}
}

func TestIgnoreString(t *testing.T) {
	testnet.CheckNames(t, NumIgnores, "unknown")
}
