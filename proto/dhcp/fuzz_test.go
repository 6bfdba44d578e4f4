// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package dhcp

import (
	"net/netip"
	"testing"

	"passt-go/internal/testnet"
	"passt-go/proto/dhcp/dnsname"
	"passt-go/proto/header"
)

// FuzzDHCPReply feeds Reply any request: the fuzzed bytes are the UDP
// payload of a frame to port 67, or, when raw is set, the whole frame. It
// checks that Reply never writes outside out, answers exactly the message
// types it should, and that every reply decodes, has a valid checksum,
// carries the request's xid and chaddr, and has options that parse again.
func FuzzDHCPReply(f *testing.F) {
	seeds := []clientMessage{
		{xid: 1, options: opts(opt(OptionMessageType, byte(TypeDiscover)))},
		{xid: 2, flags: FlagBroadcast, options: opts(opt(OptionMessageType, byte(TypeDiscover)), opt(OptionRapidCommit))},
		{xid: 3, options: opts(opt(OptionMessageType, byte(TypeRequest)), opt(OptionParameterList, 1, 3, 6, 12, 15, 119, 121))},
		{xid: 4, options: opts()},
		{xid: 5, noCookie: true},
		{xid: 6, options: opts(opt(OptionMessageType, byte(TypeInform)))},
		{xid: 7, options: []byte{OptionMessageType, 1, 1, OptionHostname, 10}},
		{xid: 8, options: opts(opt(OptionMessageType), opt(OptionClientFQDN, 1, 0, 0))},
	}
	for _, s := range seeds {
		f.Add(s.bytes(), false, uint8(24))
	}
	f.Add(udpFrame(seeds[0].bytes(), ServerPort), true, uint8(32))
	f.Add([]byte{}, true, uint8(0))

	f.Fuzz(func(t *testing.T, data []byte, raw bool, prefixLen uint8) {
		frame := data
		if !raw {
			if len(data) > 1400 {
				return
			}
			frame = udpFrame(data, ServerPort)
		}
		fr, drop := header.Decode(frame)
		if drop != header.DropNone {
			return
		}
		cfg := testConfig()
		cfg.PrefixLen = int(prefixLen % 33)
		if prefixLen%2 == 1 {
			cfg.Router = netip.MustParseAddr("10.0.0.1")
		}

		out := testnet.GuardedReply(t, Reply, &cfg, frame, fr, MaxReplyLen, NumIgnores)
		if out == nil {
			return
		}

		req, _ := ParseMessage(fr.Data(frame))
		r, ok := parseRequest(req)
		if !ok {
			t.Fatalf("replied to a request whose options do not parse")
		}
		if r.msgType != 0 && r.msgType != TypeDiscover && r.msgType != TypeRequest {
			t.Fatalf("replied to message type %v", r.msgType)
		}
		d := decodeReply(t, out)
		if d.msg.XID() != req.XID() {
			t.Fatalf("xid: got %#x, want %#x", d.msg.XID(), req.XID())
		}
		if d.msg.CHAddr() != req.CHAddr() {
			t.Fatalf("chaddr: got %x, want %x", d.msg.CHAddr(), req.CHAddr())
		}
		if d.msg.YIAddr() != cfg.GuestAddr {
			t.Fatalf("yiaddr: got %v, want %v", d.msg.YIAddr(), cfg.GuestAddr)
		}
		mt := d.opt[OptionMessageType]
		wantType := TypeAck
		if r.msgType == TypeDiscover && !r.rapid {
			wantType = TypeOffer
		}
		if len(mt) != 1 || MessageType(mt[0]) != wantType {
			t.Fatalf("message type: got %x, want %v", mt, wantType)
		}
		if _, ok := d.opt[OptionRapidCommit]; ok != (r.msgType == TypeDiscover && r.rapid) {
			t.Fatalf("rapid commit option: got %v, want %v", ok, !ok)
		}
		if s, ok := d.opt[OptionSearch]; ok {
			if _, ok := dnsname.ParseList(s); !ok {
				t.Fatalf("search list %x does not parse", s)
			}
		}
	})
}
