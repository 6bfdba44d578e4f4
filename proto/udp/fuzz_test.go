// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package udp

import (
	"bytes"
	"net/netip"
	"testing"

	"passt-go/proto/header"
	"passt-go/proto/tap"
)

// FuzzPutDatagram builds frames around arbitrary data and checks that each
// decodes again as the datagram it should be, with a valid checksum and
// within the frame limit, and that only data too long is refused.
func FuzzPutDatagram(f *testing.F) {
	f.Add(true, []byte("hello"), uint16(53), uint16(40000))
	f.Add(false, []byte{}, uint16(1), uint16(65535))
	f.Add(true, make([]byte, MaxPayload4), uint16(9), uint16(9))
	f.Add(false, make([]byte, MaxPayload6+1), uint16(9), uint16(9))
	f.Fuzz(func(t *testing.T, v4 bool, data []byte, sport, dport uint16) {
		if len(data) > MaxPayload4+16 {
			return
		}
		buf := make([]byte, slotSize+16)
		copy(buf[hdrRoom:], data)
		src, dst := gw6, guest6
		limit := MaxPayload6
		if v4 {
			src, dst, limit = gw4, guest4, MaxPayload4
		}
		frame, d := putDatagram(buf, v4, len(data), guestMAC, ourMAC, src, sport, dst, dport)
		if (len(data) <= limit) != (d == DropNone) {
			t.Fatalf("%d bytes: got %v, want accepted %v", len(data), d, len(data) <= limit)
		}
		if d != DropNone {
			return
		}
		if len(frame) > tap.MaxFrame {
			t.Fatalf("frame of %d bytes exceeds %d", len(frame), tap.MaxFrame)
		}
		fr, dd := header.Decode(frame)
		if dd != header.DropNone {
			t.Fatalf("frame does not decode: %v", dd)
		}
		seg := fr.Transport(frame)
		valid := header.TransportChecksumValid6(seg, header.ProtocolUDP, src, dst)
		if v4 {
			valid = header.TransportChecksumValid4(seg, header.ProtocolUDP, src, dst)
		}
		if !valid || fr.Src != src || fr.Dst != dst || fr.SrcPort != sport || fr.DstPort != dport || fr.DstMAC != guestMAC {
			t.Fatalf("got checksum %v %v:%d -> %v:%d mac %v", valid, fr.Src, fr.SrcPort, fr.Dst, fr.DstPort, fr.DstMAC)
		}
		if !bytes.Equal(fr.Data(frame), data) {
			t.Fatalf("data changed")
		}
	})
}

// FuzzPutICMPError quotes arbitrary datagrams in ICMP errors and checks
// that each frame decodes with a valid checksum, stays within the size an
// error may have, and quotes the datagram's headers as the guest sent it.
func FuzzPutICMPError(f *testing.F) {
	f.Add(true, []byte("payload"), uint8(3), uint8(3), uint32(0))
	f.Add(false, []byte("payload"), uint8(1), uint8(4), uint32(0))
	f.Add(true, make([]byte, 3000), uint8(3), uint8(4), uint32(1400))
	f.Add(false, make([]byte, 65527), uint8(2), uint8(0), uint32(1280))
	f.Fuzz(func(t *testing.T, v4 bool, data []byte, typ, code uint8, info uint32) {
		buf := make([]byte, errDataOff(false)+0xffff)
		off := errDataOff(v4)
		copy(buf[off:], data)
		e := icmpError{typ: typ, code: code, rest: errorRest(v4, typ, code, info), from: gw6}
		d := datagram{guest: guest6, guestPort: 1234, remote: remote6, remotePort: 53}
		ipLen, maxMsg, proto := header.IPv6Len, header.MaxICMPv6Error, header.ProtocolICMPv6
		if v4 {
			e.from = gw4
			d.guest, d.remote = guest4, remote4
			ipLen, maxMsg, proto = header.IPv4MinLen, header.MaxICMPv4Error, header.ProtocolICMP
		}
		n, dr := putICMPError(buf, v4, len(data), guestMAC, ourMAC, e, d)
		fits := len(data) <= 0xffff-ipLen-header.UDPLen
		if fits != (dr == DropNone) {
			t.Fatalf("%d bytes: got %v, want accepted %v", len(data), dr, fits)
		}
		if dr != DropNone {
			return
		}
		frame := buf[:n]
		fr, dd := header.Decode(frame)
		if dd != header.DropNone {
			t.Fatalf("frame does not decode: %v", dd)
		}
		msg := fr.Transport(frame)
		valid := header.TransportChecksumValid6(msg, proto, fr.Src, fr.Dst)
		if v4 {
			valid = header.TransportChecksumValid4(msg, proto, fr.Src, fr.Dst)
		}
		if !valid || fr.Proto != proto || fr.ICMPType != typ || fr.ICMPCode != code || fr.Src != e.from || fr.Dst != d.guest {
			t.Fatalf("got valid %v proto %v type %v code %v %v -> %v", valid, fr.Proto, fr.ICMPType, fr.ICMPCode, fr.Src, fr.Dst)
		}
		if len(msg) > maxMsg || len(msg) < header.ICMPLen+ipLen+header.UDPLen+min(len(data), 8) {
			t.Fatalf("message of %d bytes, want at most %d and the headers quoted", len(msg), maxMsg)
		}
		quote := msg[header.ICMPLen:]
		udp := quote[ipLen:]
		if got := netip.AddrPortFrom(netip.AddrFrom4([4]byte(quote[12:16])), 0); v4 && got.Addr() != d.guest {
			t.Fatalf("quoted source %v, want %v", got, d.guest)
		}
		if be16(udp[0:]) != d.guestPort || be16(udp[2:]) != d.remotePort || int(be16(udp[4:])) != header.UDPLen+len(data) {
			t.Fatalf("quoted UDP header %x", udp[:8])
		}
		if !bytes.HasPrefix(data, udp[header.UDPLen:]) {
			t.Fatalf("quoted data is not a prefix of the datagram")
		}
	})
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

// FuzzControl parses arbitrary control data: no panic, and whatever
// nextCmsg returns lies inside its input.
func FuzzControl(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 64))
	f.Add([]byte{20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		pktinfoDst(b)
		parseExtendedErr(b)
		rest := b
		for i := 0; i < len(b)+1; i++ {
			_, _, data, next, ok := nextCmsg(rest)
			if !ok {
				return
			}
			if len(next) >= len(rest) || len(data) > len(rest) {
				t.Fatalf("nextCmsg made no progress: %d -> %d", len(rest), len(next))
			}
			rest = next
		}
	})
}

// FuzzFromGuest hands arbitrary frames to a Handler in a private network
// namespace: whatever the guest sends, each frame is either queued or
// dropped with a counted reason, and the flows stay within the limit.
func FuzzFromGuest(f *testing.F) {
	ns := newTestNS(f)
	seeds := []struct{ src, dst string }{
		{"192.0.2.10:1000", "192.0.2.1:53"},
		{"[2001:db8::10]:1000", "[2001:db8::1]:9"},
		{"192.0.2.10:1000", "224.0.0.1:9"},
		{"192.0.2.10:0", "192.0.2.53:53"},
	}
	for _, s := range seeds {
		frame, _ := udpFrame(f, netip.MustParseAddrPort(s.src), netip.MustParseAddrPort(s.dst), 64, []byte("seed"))
		f.Add(frame)
	}
	r := newRig(f, 256, func(c *Config) { c.MaxFlows = 32 })
	f.Fuzz(func(t *testing.T, frame []byte) {
		fr, d := header.Decode(frame)
		if d != header.DropNone || fr.Proto != header.ProtocolUDP {
			return
		}
		before := r.h.Counters()
		var got Drop
		ns.Run(func() {
			got = r.h.FromGuest(frame, fr)
			r.h.Flush()
		})
		after := r.h.Counters()
		if got >= NumDrops {
			t.Fatalf("drop out of range: %d", got)
		}
		if got != DropNone && after.Drops[got] != before.Drops[got]+1 {
			t.Fatalf("drop %v not counted", got)
		}
		if got == DropNone && after.FromGuest+sum(after.Drops[DropSend:DropSend+1]) == before.FromGuest+sum(before.Drops[DropSend:DropSend+1]) {
			t.Fatalf("queued datagram neither sent nor counted as a send error")
		}
		if r.h.Flows() > r.h.MaxFlows() {
			t.Fatalf("%d flows, limit %d", r.h.Flows(), r.h.MaxFlows())
		}
		// Let every flow expire, so that later inputs open sockets too.
		r.Now = r.Now.Add(DefaultStreamTimeout)
		r.h.Expire(r.Now)
		if r.h.Flows() != 0 || r.Flows.Len() != 0 {
			t.Fatalf("%d flows (%d in the table) left after expiry", r.h.Flows(), r.Flows.Len())
		}
	})
}

func sum(v []uint64) uint64 {
	var s uint64
	for _, x := range v {
		s += x
	}
	return s
}
