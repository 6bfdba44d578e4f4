// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package icmp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"passt-go/proto/flow"
	"passt-go/proto/header"
	"passt-go/proto/nat"
	"passt-go/proto/tap"
)

// FuzzPutReply feeds putReply whatever a ping socket could return and
// checks that an accepted message becomes a frame that decodes, with a
// valid checksum, the requested identifier and the message's sequence
// number and data; anything but an echo reply of code 0 is refused.
func FuzzPutReply(f *testing.F) {
	f.Add(true, []byte{0, 0, 0, 0, 0x12, 0x34, 0, 1, 'h', 'i'}, uint16(7))
	f.Add(false, []byte{129, 0, 0, 0, 0x12, 0x34, 0, 2, 1, 2, 3}, uint16(0xffff))
	f.Add(true, []byte{8, 0, 0, 0, 0, 1, 0, 1}, uint16(1))
	f.Add(false, []byte{129, 1, 0, 0, 0, 1, 0, 1}, uint16(1))
	f.Add(true, []byte{0, 0, 0}, uint16(3))
	f.Fuzz(func(t *testing.T, v4 bool, msg []byte, id uint16) {
		buf := make([]byte, frameRoom)
		src, dst := gw4, guest4
		off := header.EthernetLen + header.IPv4MinLen
		wantType := uint8(header.ICMPv4EchoReply)
		if !v4 {
			src, dst = gw6, guest6
			off = header.EthernetLen + header.IPv6Len
			wantType = header.ICMPv6EchoReply
		}
		if len(msg) > len(buf)-off {
			return
		}
		copy(buf[off:], msg)
		n, d := putReply(buf, v4, len(msg), guestMAC, ourMAC, src, dst, id)
		accept := len(msg) >= header.ICMPLen && msg[0] == wantType && msg[1] == 0
		if v4 && len(msg) > 65535-header.IPv4MinLen {
			accept = false
		}
		if accept != (d == DropNone) {
			t.Fatalf("got drop %v, want accepted %v", d, accept)
		}
		if d != DropNone {
			return
		}
		if n != off+len(msg) {
			t.Fatalf("got length %v, want %v", n, off+len(msg))
		}
		frame := buf[:n]
		fr, dd := header.Decode(frame)
		if dd != header.DropNone {
			t.Fatalf("reply does not decode: %v", dd)
		}
		m := fr.Transport(frame)
		valid := header.TransportChecksumValid4(m, header.ProtocolICMP, src, dst)
		if !v4 {
			valid = header.TransportChecksumValid6(m, header.ProtocolICMPv6, src, dst)
		}
		if !valid || fr.SrcPort != id || fr.Src != src || fr.Dst != dst || fr.TTL != ReplyHopLimit || fr.DstMAC != guestMAC {
			t.Fatalf("got checksum %v id %v src %v dst %v ttl %v mac %v, want valid %v %v %v %v %v",
				valid, fr.SrcPort, fr.Src, fr.Dst, fr.TTL, fr.DstMAC, id, src, dst, ReplyHopLimit, guestMAC)
		}
		if !bytes.Equal(m[6:8], msg[6:8]) || !bytes.Equal(fr.Data(frame), msg[header.ICMPLen:]) {
			t.Fatalf("sequence or data changed")
		}
	})
}

// fuzzNATs are the address mappings FuzzFromGuest picks from: the
// gateways standing for the host's loopback (the default); no mapping at
// all; --map-host-loopback and --map-guest-addr with the guest's IPv4
// address known and its IPv6 address not; DNS forwarding to the gateway,
// which must not apply to ICMP.
func fuzzNATs() []nat.Config {
	mapped4, mapped6 := netip.MustParseAddr("192.0.2.99"), netip.MustParseAddr("2001:db8::99")
	return []nat.Config{
		*testNAT(),
		{Guest4: guest4, Gateway4: gw4, Guest6: guest6, Gateway6: gw6, NoMapGW: true},
		{Guest4: guest4, Gateway4: gw4, Gateway6: gw6, NoMapGW: true,
			MapHostLoopback4: netip.MustParseAddr("192.0.2.98"), MapGuestAddr4: mapped4, MapGuestAddr6: mapped6},
		{Guest4: guest4, Gateway4: gw4, Guest6: guest6, Gateway6: gw6,
			DNSForward4: gw4, DNSHost4: netip.MustParseAddr("198.51.100.53")},
	}
}

// fixIPv4Checksum sets the header checksum of an IPv4 frame, so that
// mutations of the header reach the handler instead of stopping at
// header.Decode.
func fixIPv4Checksum(b []byte) {
	if len(b) < header.EthernetLen+header.IPv4MinLen || binary.BigEndian.Uint16(b[12:]) != uint16(header.EtherTypeIPv4) {
		return
	}
	ip := b[header.EthernetLen:]
	hl := int(ip[0]&0xf) * 4
	if hl < header.IPv4MinLen || hl > len(ip) {
		return
	}
	ip[10], ip[11] = 0, 0
	binary.BigEndian.PutUint16(ip[10:], ^header.Checksum(ip[:hl], 0))
}

// bufSink checks, as the guest side would, each frame the Handler sends:
// it must be the head of the Handler's own buffer and no longer than a
// frame may be. It keeps copies.
type bufSink struct {
	h      *Handler
	frames [][]byte
	bad    []string
}

func (s *bufSink) Send(frame []byte) {
	if len(frame) == 0 || len(frame) > len(s.h.buf) || &frame[0] != &s.h.buf[0] {
		s.bad = append(s.bad, fmt.Sprintf("frame of %d bytes outside the reply buffer", len(frame)))
	}
	if len(frame) > tap.MaxFrame {
		s.bad = append(s.bad, fmt.Sprintf("frame of %d bytes, more than %d", len(frame), tap.MaxFrame))
	}
	s.frames = append(s.frames, append([]byte(nil), frame...))
}

// FuzzFromGuest hands the Handler any frame that decodes, under one of
// several address mappings, in a namespace of its own where only the
// loopback interface exists. Whatever the frame:
//   - FromGuest does not panic, and returns a known reason, counted once;
//   - a destination the address mapping refuses opens no socket and sends
//     nothing; otherwise the flow's socket sends to the mapped address, and
//     only the address that stands for the host's loopback reaches it;
//   - an echo request sent to the loopback is answered, and every frame
//     sent to the guest lies in the Handler's buffer, within the largest
//     frame, and decodes as an echo reply with a valid checksum, from the
//     address the guest pinged to the guest, with its identifier,
//     sequence number and data.
func FuzzFromGuest(f *testing.F) {
	data := []byte("fuzzing echo requests")
	seed := func(src, dst netip.Addr, typ, code uint8, id uint16, nat uint8) {
		b, _ := echoFrame(f, src, dst, typ, code, id, 7, data)
		f.Add(b, nat, false)
	}
	seed(guest4, gw4, header.ICMPv4EchoRequest, 0, 0x1234, 0)
	seed(guest6, gw6, header.ICMPv6EchoRequest, 0, 0x5678, 0)
	seed(guest4, netip.MustParseAddr("198.51.100.1"), header.ICMPv4EchoRequest, 0, 1, 0)
	seed(guest4, gw4, header.ICMPv4EchoRequest, 0, 2, 1)
	seed(guest4, netip.MustParseAddr("192.0.2.98"), header.ICMPv4EchoRequest, 0, 3, 2)
	seed(guest4, netip.MustParseAddr("192.0.2.99"), header.ICMPv4EchoRequest, 0, 4, 2)
	seed(guest6, netip.MustParseAddr("2001:db8::99"), header.ICMPv6EchoRequest, 0, 5, 2)
	seed(guest4, gw4, header.ICMPv4EchoRequest, 0, 53, 3)
	seed(guest4, netip.IPv4Unspecified(), header.ICMPv4EchoRequest, 0, 6, 0)
	seed(guest6, netip.MustParseAddr("::ffff:192.0.2.1"), header.ICMPv6EchoRequest, 0, 7, 0)
	seed(guest6, netip.MustParseAddr("ff02::1"), header.ICMPv6EchoRequest, 0, 8, 0)
	seed(guest4, gw4, header.ICMPv4EchoReply, 0, 9, 0)
	seed(guest4, gw4, header.ICMPv4EchoRequest, 1, 10, 0)
	// A header changed without its checksum: fixSum repairs it.
	b, _ := echoFrame(f, guest4, gw4, header.ICMPv4EchoRequest, 0, 11, 7, nil)
	b[header.EthernetLen+8] = 1 // TTL
	f.Add(b, uint8(0), true)

	ns := newNetns(f, "0 2147483647")
	r := newRig(f, 4)
	sink := &bufSink{h: r.h}
	r.h.out = sink
	nats := fuzzNATs()

	f.Fuzz(func(t *testing.T, in []byte, natSel uint8, fixSum bool) {
		if len(in) > tap.MaxFrame {
			return
		}
		frame := append([]byte(nil), in...)
		if fixSum {
			fixIPv4Checksum(frame)
		}
		fr, dd := header.Decode(frame)
		if dd != header.DropNone {
			return
		}
		*r.h.nat = nats[int(natSel)%len(nats)]
		sink.frames, sink.bad = nil, nil
		defer r.h.Close()

		before := r.h.Counters()
		var d Drop
		var panicked any
		ns.Run(func() {
			defer func() { panicked = recover() }()
			d = r.h.FromGuest(frame, fr)
		})
		if panicked != nil {
			t.Fatalf("FromGuest panicked: %v", panicked)
		}
		if d >= NumDrops {
			t.Fatalf("got drop %d, beyond the last reason", d)
		}
		after := r.h.Counters()
		switch {
		case d == DropNone && (after.Requests != before.Requests+1 || after.Drops != before.Drops):
			t.Fatalf("request sent, counted as %d requests and drops %v (before %d, %v)", after.Requests, after.Drops, before.Requests, before.Drops)
		case d != DropNone && (after.Requests != before.Requests || after.Drops[d] != before.Drops[d]+1):
			t.Fatalf("%v: counted as %d requests and %d drops of it (before %d, %d)", d, after.Requests, after.Drops[d], before.Requests, before.Drops[d])
		}

		// Where the request went, if anywhere.
		dst, allowed := r.h.nat.Outbound(fr.Proto, fr.Dst, 0)
		hostLo := r.h.nat.HostLoopback4()
		if fr.Dst.Is6() {
			hostLo = r.h.nat.HostLoopback6()
		}
		opened := after.Opened - before.Opened
		if !allowed && (d == DropNone || opened != 0 || r.Flows.Len() != 0) {
			t.Fatalf("destination %v refused by the mapping: got %v, %d sockets opened, %d flows", fr.Dst, d, opened, r.Flows.Len())
		}
		var st ping
		var idx uint32
		if opened > 0 {
			id := binary.BigEndian.Uint16(fr.Transport(frame)[4:])
			key := flow.Key{Proto: fr.Proto, GuestAddr: fr.Src, GuestPort: id, RemoteAddr: fr.Dst, RemotePort: id}
			var ok bool
			if idx, ok = r.Flows.Lookup(key); !ok {
				t.Fatalf("socket opened, but no flow for %v", key)
			}
			st = r.h.state[idx]
			if st.fd < 0 || st.dst != dst {
				t.Fatalf("flow to %v sends to %v (socket %d), want %v", fr.Dst, st.dst, st.fd, dst)
			}
			if st.dst.IsLoopback() && fr.Dst != hostLo {
				t.Fatalf("request to %v reaches the host's loopback, but only %v stands for it", fr.Dst, hostLo)
			}
		}
		if d != DropNone {
			return
		}

		// The reply.
		loopback := st.dst.IsLoopback()
		fds := []unix.PollFd{{Fd: st.fd, Events: unix.POLLIN}}
		timeout := 0
		if loopback {
			timeout = 2000
		}
		for {
			n, err := unix.Poll(fds, timeout)
			if err == unix.EINTR {
				continue
			}
			if err != nil || n == 0 {
				break
			}
			r.h.Event(idx, unix.EPOLLIN)
			break
		}
		for _, b := range sink.bad {
			t.Error(b)
		}
		if loopback && len(sink.frames) == 0 {
			t.Fatalf("no reply to an echo request to %v through %v", fr.Dst, st.dst)
		}
		req := fr.Transport(frame)
		for _, reply := range sink.frames {
			checkReply(t, reply, fr.Dst, fr.Src, binary.BigEndian.Uint16(req[4:]), binary.BigEndian.Uint16(req[6:]), req[header.ICMPLen:])
		}
	})
}
