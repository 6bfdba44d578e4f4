// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package arp

import (
	"testing"

	"passt-go/proto/header"
)

const guard = 0x5a

// FuzzARPReply feeds arbitrary frames to Reply and checks that it never
// writes outside out, that it writes exactly when it reports IgnoreNone,
// and that each reply decodes again, answers the requester and never claims
// the guest's address.
func FuzzARPReply(f *testing.F) {
	f.Add(request(guestAddr, gateway), uint8(64))
	f.Add(request(zero4, guestAddr), uint8(64))
	f.Add(request(zero4, remote), uint8(64))
	f.Add(request(remote, remote), uint8(64))
	f.Add(request(guestAddr, remote), uint8(FrameLen-1))
	f.Add(arpFrame(otherMAC, header.ARPReply, guestMAC, guestAddr, ourMAC, gateway, 60), uint8(64))
	f.Add(arpFrame(guestMAC, header.ARPRequest, guestMAC, guestAddr, header.MAC{}, remote, 60), uint8(FrameLen))
	f.Add([]byte{}, uint8(0))
	f.Fuzz(func(t *testing.T, frame []byte, outLen uint8) {
		req, d := header.Decode(frame)
		if d != header.DropNone {
			return
		}
		buf := make([]byte, 8+int(outLen)+8)
		for i := range buf {
			buf[i] = guard
		}
		out := buf[8 : 8+int(outLen)]
		n, why := Reply(testConfig(), frame, req, out)
		for i, c := range buf {
			if (i < 8 || i >= 8+n) && c != guard {
				t.Fatalf("byte %d outside the reply written (n %d, out %d)", i-8, n, outLen)
			}
		}
		if (n != 0) != (why == IgnoreNone) || why >= NumIgnores {
			t.Fatalf("got (%d, %v), want a length exactly with IgnoreNone", n, why)
		}
		if n == 0 {
			return
		}
		rep, d := header.Decode(out[:n])
		if d != header.DropNone {
			t.Fatalf("reply does not decode: got %v, want %v", d, header.DropNone)
		}
		a, _ := header.ParseARP(rep.Network(out[:n]))
		q, _ := header.ParseARP(req.Network(frame))
		switch {
		case rep.DstMAC != req.SrcMAC:
			t.Errorf("Ethernet destination: got %v, want %v", rep.DstMAC, req.SrcMAC)
		case a.Op() != header.ARPReply:
			t.Errorf("op: got %d, want %d", a.Op(), header.ARPReply)
		case a.TargetMAC() != q.SenderMAC() || a.TargetIP() != q.SenderIP():
			t.Errorf("target: got %v %v, want %v %v", a.TargetMAC(), a.TargetIP(), q.SenderMAC(), q.SenderIP())
		case a.SenderMAC() != ourMAC || a.SenderIP() != q.TargetIP():
			t.Errorf("sender: got %v %v, want %v %v", a.SenderMAC(), a.SenderIP(), ourMAC, q.TargetIP())
		case a.SenderIP() == guestAddr:
			t.Errorf("reply claims the guest's address %v", guestAddr)
		case q.SenderIP() == q.TargetIP():
			t.Errorf("announcement of %v answered", q.SenderIP())
		}
	})
}
