// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package icmp

import (
	"fmt"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"passt-go/internal/testnet"
	"passt-go/proto/engine"
	"passt-go/proto/header"
	"passt-go/proto/nat"
)

// newNetns creates a network namespace with lo up and ping_group_range set
// to pingRange (the empty string leaves the namespace's default, "1 0").
// It skips the test when the kernel refuses to create the namespace.
func newNetns(t testing.TB, pingRange string) *testnet.NetNS {
	t.Helper()
	return testnet.NewNetNS(t, func() error {
		if pingRange == "" {
			return nil
		}
		return writeSysctl("/proc/sys/net/ipv4/ping_group_range", pingRange)
	})
}

// writeSysctl writes value to a /proc/sys file, opened on the calling
// thread so that per-namespace settings land in its namespace.
func writeSysctl(path, value string) error {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, []byte(value)); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// counter is a tap.Sink that only counts, for allocation tests.
type counter struct{ n int }

func (c *counter) Send([]byte) { c.n++ }

var (
	guestMAC = header.MAC{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	ourMAC   = header.MAC{0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55}
	guest4   = netip.MustParseAddr("192.0.2.10")
	gw4      = netip.MustParseAddr("192.0.2.1")
	guest6   = netip.MustParseAddr("2001:db8::10")
	gw6      = netip.MustParseAddr("fe80::1")
)

// testNAT makes the gateways stand for the host's loopback, as by default.
func testNAT() *nat.Config {
	return &nat.Config{Guest4: guest4, Gateway4: gw4, Guest6: guest6, Gateway6: gw6, OurLL6: netip.MustParseAddr("fe80::2")}
}

// rig is a Handler with its table, loop, sink and clock.
type rig struct {
	*testnet.Rig
	h     *Handler
	warns []Condition
}

const testKind engine.Kind = 3

func newRig(t testing.TB, capacity int) *rig {
	t.Helper()
	r := &rig{Rig: testnet.NewRig(t, capacity)}
	r.h = New(Config{
		NAT:      testNAT(),
		OurMAC:   ourMAC,
		GuestMAC: func() header.MAC { return guestMAC },
		Now:      r.Clock,
		Warn:     func(c Condition) { r.warns = append(r.warns, c) },
	}, r.Flows, r.Loop, testKind, r.Sink)
	t.Cleanup(r.h.Close)
	return r
}

// waitFrames runs the loop, dispatching events to the Handler, until the
// sink holds want frames, for at most five seconds, and reports whether
// it got them.
func (r *rig) waitFrames(want int) bool {
	return r.Pump(want, func(ev engine.Event) {
		if ev.Ref.Kind == testKind {
			r.h.Event(ev.Ref.Index, ev.Events)
		}
	})
}

// echoFrame builds a guest frame carrying an ICMP or ICMPv6 message of
// type typ and code code from src to dst, and decodes it.
func echoFrame(t testing.TB, src, dst netip.Addr, typ, code uint8, id, seq uint16, data []byte) ([]byte, header.Frame) {
	t.Helper()
	b := make([]byte, header.EthernetLen+header.IPv6Len+header.ICMPLen+len(data))
	var n int
	if src.Is4() {
		l4 := b[header.EthernetLen+header.IPv4MinLen:]
		m := header.PutICMPv4Echo(l4, typ, id, seq, data)
		l4[1] = code
		header.PutIPv4(b[header.EthernetLen:], m, header.IPv4Fields{Src: src, Dst: dst, Protocol: header.ProtocolICMP, TTL: 64})
		header.PutEthernet(b, ourMAC, guestMAC, header.EtherTypeIPv4)
		n = header.EthernetLen + header.IPv4MinLen + m
	} else {
		l4 := b[header.EthernetLen+header.IPv6Len:]
		m := header.PutICMPv6Echo(l4, typ, id, seq, data, src, dst)
		l4[1] = code
		header.PutIPv6(b[header.EthernetLen:], m, header.IPv6Fields{Src: src, Dst: dst, NextHeader: header.ProtocolICMPv6, HopLimit: 64})
		header.PutEthernet(b, ourMAC, guestMAC, header.EtherTypeIPv6)
		n = header.EthernetLen + header.IPv6Len + m
	}
	b = b[:n]
	f, d := header.Decode(b)
	if d != header.DropNone {
		t.Fatalf("test frame does not decode: %v", d)
	}
	return b, f
}

// checkReply checks that frame is an echo reply to the guest from src with
// identifier id, sequence seq and data, TTL or hop limit 255, valid
// checksums.
func checkReply(t testing.TB, frame []byte, src, dst netip.Addr, id, seq uint16, data []byte) {
	t.Helper()
	f, d := header.Decode(frame)
	if d != header.DropNone {
		t.Fatalf("reply does not decode: %v", d)
	}
	msg := f.Transport(frame)
	var valid bool
	wantType := uint8(header.ICMPv4EchoReply)
	if src.Is4() {
		valid = header.TransportChecksumValid4(msg, header.ProtocolICMP, f.Src, f.Dst)
	} else {
		wantType = header.ICMPv6EchoReply
		valid = header.TransportChecksumValid6(msg, header.ProtocolICMPv6, f.Src, f.Dst)
	}
	testnet.CheckFields(t, testnet.Fields{
		{"destination MAC", f.DstMAC, guestMAC},
		{"source MAC", f.SrcMAC, ourMAC},
		{"source", f.Src, src},
		{"destination", f.Dst, dst},
		{"TTL", f.TTL, uint8(ReplyHopLimit)},
		{"type", f.ICMPType, wantType},
		{"code", f.ICMPCode, uint8(0)},
		{"identifier", f.SrcPort, id},
		{"sequence", uint16(msg[6])<<8 | uint16(msg[7]), seq},
		{"data", string(f.Data(frame)), string(data)},
		{"checksum valid", valid, true},
	})
}
