// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package dhcpv6

import (
	"bytes"
	"testing"

	"passt-go/internal/testnet"
	"passt-go/proto/dhcp/dnsname"
	"passt-go/proto/header"
)

// FuzzDHCPv6Reply feeds Reply any message: the fuzzed bytes are the UDP
// payload of a frame to ff02::1:2 port 547, or, when raw is set, the whole
// frame. It checks that Reply never writes outside out and that every
// reply decodes, has a valid checksum, answers with the right type, and
// carries the request's transaction ID, its client ID, our server ID and
// options that parse again at every level.
func FuzzDHCPv6Reply(f *testing.F) {
	cfg := testConfig()
	ours := cfg.DUID
	seeds := [][]byte{
		message(TypeSolicit, 1, clientIDOption(), iaNAOption(1, 0, 0)),
		message(TypeRequest, 2, clientIDOption(), serverIDOption(ours), iaNAOption(1, 0, 0, iaAddrOption("2001:db8::10", 0, 0))),
		message(TypeConfirm, 3, clientIDOption(), iaNAOption(1, 0, 0, iaAddrOption("2001:db8::99", 0, 0))),
		message(TypeRenew, 4, clientIDOption(), serverIDOption(ours), option(OptionIATA, u32(5), iaAddrOption("2001:db8::99", 0, 0))),
		message(TypeRebind, 5, clientIDOption(), option(OptionClientFQDN, []byte{fqdnS, 0})),
		message(TypeInformationRequest, 6, clientIDOption(), option(oro, []byte{0, 23})),
		message(TypeRelease, 7, clientIDOption(), serverIDOption(ours)),
		message(TypeSolicit, 8, clientIDOption(), []byte{0, 3, 0, 40, 0}),
	}
	for _, s := range seeds {
		f.Add(s, false)
	}
	f.Add(toServers(seeds[0]), true)
	f.Add([]byte{}, true)

	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		frame := data
		if !raw {
			if len(data) > 1400 {
				return
			}
			frame = toServers(data)
		}
		fr, drop := header.Decode(frame)
		if drop != header.DropNone {
			return
		}

		out := testnet.GuardedReply(t, Reply, &cfg, frame, fr, MaxReplyLen, NumIgnores)
		if out == nil {
			return
		}

		req, _ := ParseMessage(fr.Data(frame))
		d := decodeReply(t, out)
		wantType := TypeReply
		if req.Type() == TypeSolicit {
			wantType = TypeAdvertise
		}
		if d.msg.Type() != wantType {
			t.Fatalf("type: got %v for %v, want %v", d.msg.Type(), req.Type(), wantType)
		}
		if d.msg.XID() != req.XID() {
			t.Fatalf("xid: got %#x, want %#x", d.msg.XID(), req.XID())
		}
		reqOpts := walk(t, req.Options())
		wantClient, _ := findIn(reqOpts, OptionClientID)
		if got, ok := d.find(OptionClientID); !ok || !bytes.Equal(got, wantClient) {
			t.Fatalf("client ID: got %x, want %x", got, wantClient)
		}
		if got, ok := d.find(OptionServerID); !ok || !bytes.Equal(got, ours[:]) {
			t.Fatalf("server ID: got %x, want %x", got, ours)
		}
		if list, ok := d.find(OptionDomainList); ok {
			if _, ok := dnsname.ParseList(list); !ok {
				t.Fatalf("domain list %x does not parse", list)
			}
		}
	})
}
