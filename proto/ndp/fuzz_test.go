// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package ndp

import (
	"testing"

	"passt-go/proto/header"
)

const guard = 0x5a

// FuzzNDPReply feeds arbitrary frames to Reply, with their ICMPv6 checksum
// made right when fixChecksum is set so that the fuzzer reaches past that
// check. It asserts that Reply never writes outside out, writes exactly
// when it reports IgnoreNone, and that each reply decodes again with a
// valid checksum, hop limit 255, from our addresses, to the sender of the
// solicitation, and never claims the guest's address or answers DAD.
func FuzzNDPReply(f *testing.F) {
	f.Add(ns(ourLL), false, uint16(MaxFrameLen))
	f.Add(ns(remote), false, uint16(naFrameLen))
	f.Add(ns(guestAddr), false, uint16(MaxFrameLen))
	f.Add(rs(), false, uint16(MaxFrameLen))
	f.Add(rs(), false, uint16(100))
	f.Add(ndFrame(guestMAC, unspec, allRtrs, 255, rsMsg()), false, uint16(MaxFrameLen))
	f.Add(ndFrame(guestMAC, unspec, solicitedNode(guestAddr), 255, nsMsg(guestAddr)), false, uint16(MaxFrameLen))
	f.Add(ndFrame(guestMAC, guestLL, ourLL, 255, nsMsg(ourLL, []byte{1, 0, 0, 0, 0, 0, 0, 0})), true, uint16(MaxFrameLen))
	f.Add(ndFrame(guestMAC, guestLL, ourLL, 64, []byte{header.ICMPv6EchoRequest, 0, 0, 0, 0, 1, 0, 1}), false, uint16(MaxFrameLen))
	f.Add([]byte{}, false, uint16(0))
	f.Fuzz(func(t *testing.T, frame []byte, fixChecksum bool, outLen uint16) {
		req, d := header.Decode(frame)
		if d != header.DropNone {
			return
		}
		if fixChecksum && req.Proto == header.ProtocolICMPv6 {
			header.SetTransportChecksum6(req.Transport(frame), header.ProtocolICMPv6, req.Src, req.Dst)
		}
		size := int(outLen) % (MaxFrameLen + 1)
		buf := make([]byte, 8+size+8)
		for i := range buf {
			buf[i] = guard
		}
		out := buf[8 : 8+size]
		n, why := Reply(testConfig(), frame, req, out)
		for i, c := range buf {
			if (i < 8 || i >= 8+n) && c != guard {
				t.Fatalf("byte %d outside the reply written (n %d, out %d)", i-8, n, size)
			}
		}
		if (n != 0) != (why == IgnoreNone) || why >= NumIgnores {
			t.Fatalf("got (%d, %v), want a length exactly with IgnoreNone", n, why)
		}
		if n == 0 {
			return
		}
		msg := req.Transport(frame)
		wantMAC, wantDst := req.SrcMAC, req.Src
		switch msg[0] {
		case header.ICMPv6NeighborSolicitation:
			if req.Src.IsUnspecified() {
				t.Fatalf("DAD from :: answered")
			}
		case header.ICMPv6RouterSolicitation:
			if req.Src.IsUnspecified() {
				wantMAC, wantDst = header.MAC{0x33, 0x33, 0, 0, 0, 1}, allNodes6
			}
		default:
			t.Fatalf("ICMPv6 type %d answered", msg[0])
		}
		if req.TTL != 255 {
			t.Fatalf("hop limit %d answered", req.TTL)
		}
		r := checkFrame(t, out[:n], wantMAC, wantDst)
		switch {
		case msg[0] == header.ICMPv6NeighborSolicitation && r.msg[0] != header.ICMPv6NeighborAdvertisement:
			t.Errorf("NS answered with type %d, want %d", r.msg[0], header.ICMPv6NeighborAdvertisement)
		case msg[0] == header.ICMPv6RouterSolicitation && r.msg[0] != header.ICMPv6RouterAdvertisement:
			t.Errorf("RS answered with type %d, want %d", r.msg[0], header.ICMPv6RouterAdvertisement)
		}
		opts := raLen
		if r.msg[0] == header.ICMPv6NeighborAdvertisement {
			target := [16]byte(r.msg[8:24])
			if target != [16]byte(msg[8:24]) || target == guestAddr.As16() {
				t.Errorf("NA target %x for NS target %x", target, msg[8:24])
			}
			opts = nsLen
		}
		parseOptions(t, r.msg[opts:])
	})
}
