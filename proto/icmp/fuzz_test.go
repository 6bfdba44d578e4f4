// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package icmp

import (
	"bytes"
	"testing"

	"passt-go/proto/header"
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
