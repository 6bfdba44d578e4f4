// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package dhcpv6

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"passt-go/internal/testnet"
	"passt-go/proto/header"
)

var (
	clientMAC = header.MAC{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	ourMAC    = header.MAC{0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55}
	clientLL  = netip.MustParseAddr("fe80::5054:ff:fe12:3456")
	// clientDUID is a DUID-LL (type 3) of clientMAC.
	clientDUID = []byte{0, 3, 0, 1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	// startTime is when the server's DUID was made.
	startTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

// testConfig returns a configuration with every option present.
func testConfig() Config {
	return Config{
		OurMAC:    ourMAC,
		OurLL:     netip.MustParseAddr("fe80::1"),
		GuestAddr: netip.MustParseAddr("2001:db8::10"),
		DNS: []netip.Addr{
			netip.MustParseAddr("2001:db8::53"),
			netip.MustParseAddr("192.0.2.53"), // not for option 23
			netip.MustParseAddr("2001:db8:1::53"),
		},
		Search: []string{"corp.example.com", "example.com."},
		FQDN:   "guest.example.com",
		DUID:   NewDUID(ourMAC, startTime),
	}
}

// option encodes one option whose data is the concatenation of parts.
func option(code uint16, parts ...[]byte) []byte {
	var data []byte
	for _, p := range parts {
		data = append(data, p...)
	}
	b := binary.BigEndian.AppendUint16(nil, code)
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// iaNAOption encodes an IA_NA with nested options.
func iaNAOption(iaid, t1, t2 uint32, nested ...[]byte) []byte {
	parts := append([][]byte{u32(iaid), u32(t1), u32(t2)}, nested...)
	return option(OptionIANA, parts...)
}

// iaAddrOption encodes an IAADDR with nested options.
func iaAddrOption(addr string, pref, valid uint32, nested ...[]byte) []byte {
	a := netip.MustParseAddr(addr).As16()
	parts := append([][]byte{a[:], u32(pref), u32(valid)}, nested...)
	return option(OptionIAAddr, parts...)
}

func clientIDOption() []byte { return option(OptionClientID, clientDUID) }

func serverIDOption(d DUID) []byte { return option(OptionServerID, d[:]) }

// message encodes a client message.
func message(t MessageType, xid uint32, options ...[]byte) []byte {
	b := []byte{byte(t), byte(xid >> 16), byte(xid >> 8), byte(xid)}
	for _, o := range options {
		b = append(b, o...)
	}
	return b
}

// udpFrame wraps payload in Ethernet, IPv6 and UDP headers from the
// client's link-local address to dst, with a valid checksum.
func udpFrame(payload []byte, dst netip.Addr, dstPort uint16) []byte {
	dstMAC := header.MAC{0x33, 0x33, 0, 1, 0, 2}
	src := netip.AddrPortFrom(clientLL, ClientPort)
	return testnet.UDPFrame(dstMAC, clientMAC, src, netip.AddrPortFrom(dst, dstPort), 1, payload)
}

// toServers wraps a client message in a frame to ff02::1:2.
func toServers(msg []byte) []byte {
	return udpFrame(msg, allRelayAgentsAndServers, ServerPort)
}

// tlv is one option found in a reply.
type tlv struct {
	code uint16
	data []byte
}

// decoded is a reply taken apart.
type decoded struct {
	frame header.Frame
	msg   Message
	opts  []tlv // top-level options in order
}

// find returns the data of the first top-level option of the code.
func (d decoded) find(code uint16) ([]byte, bool) {
	return findIn(d.opts, code)
}

func findIn(list []tlv, code uint16) ([]byte, bool) {
	for _, o := range list {
		if o.code == code {
			return o.data, true
		}
	}
	return nil, false
}

func (d decoded) codes() []uint16 {
	var c []uint16
	for _, o := range d.opts {
		c = append(c, o.code)
	}
	return c
}

// walk collects the options of a sequence, failing on truncation.
func walk(t testing.TB, it Options) []tlv {
	t.Helper()
	var list []tlv
	for {
		code, data, ok := it.Next()
		if !ok {
			break
		}
		list = append(list, tlv{code, data})
	}
	if it.Truncated() {
		t.Fatalf("options truncated")
	}
	return list
}

// nested returns the options inside an IA_NA, IA_TA or IAADDR.
func nested(t testing.TB, code uint16, data []byte) []tlv {
	t.Helper()
	it, ok := nestedOptions(code, data)
	if !ok {
		t.Fatalf("option %v of %v bytes is shorter than its fixed part", code, len(data))
	}
	return walk(t, it)
}

// decodeReply checks that b is a well-formed reply frame and takes it
// apart with this package's own parser, nested options included.
func decodeReply(t testing.TB, b []byte) decoded {
	t.Helper()
	f := testnet.DecodeUDP(t, b, ServerPort, ClientPort)
	if len(b) > MaxReplyLen {
		t.Fatalf("got %v bytes, want at most %v", len(b), MaxReplyLen)
	}
	m, ok := ParseMessage(f.Data(b))
	if !ok {
		t.Fatalf("reply message does not parse")
	}
	d := decoded{frame: f, msg: m, opts: walk(t, m.Options())}
	for _, o := range d.opts {
		if o.code == OptionIANA || o.code == OptionIATA {
			for _, in := range nested(t, o.code, o.data) {
				if in.code == OptionIAAddr {
					nested(t, in.code, in.data)
				}
			}
		}
	}
	return d
}

// reply runs Reply on frame and fails the test on anything but a reply.
func reply(t testing.TB, cfg *Config, frame []byte) decoded {
	t.Helper()
	return decodeReply(t, testnet.MustReply(t, Reply, cfg, frame, MaxReplyLen))
}
