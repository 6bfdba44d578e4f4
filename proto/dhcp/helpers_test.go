// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package dhcp

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"passt-go/internal/testnet"
	"passt-go/proto/header"
)

var (
	clientMAC = header.MAC{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	ourMAC    = header.MAC{0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55}
)

// testConfig returns a configuration with every option present: the
// guest in 192.0.2.0/24 with its router on link.
func testConfig() Config {
	return Config{
		OurMAC:    ourMAC,
		ServerID:  netip.MustParseAddr("192.0.2.1"),
		GuestAddr: netip.MustParseAddr("192.0.2.10"),
		PrefixLen: 24,
		Router:    netip.MustParseAddr("192.0.2.1"),
		DNS: []netip.Addr{
			netip.MustParseAddr("192.0.2.53"),
			netip.MustParseAddr("2001:db8::53"), // not for option 6
			netip.MustParseAddr("198.51.100.53"),
		},
		Search:   []string{"corp.example.com", "example.com"},
		Hostname: "guest",
		FQDN:     "guest.example.com",
		MTU:      65520,
	}
}

// clientMessage is a request as a client builds it.
type clientMessage struct {
	op       uint8 // 0 means BootRequest
	xid      uint32
	flags    uint16
	ciaddr   netip.Addr
	giaddr   netip.Addr
	noCookie bool
	options  []byte // raw options area, end option included if wanted
}

// bytes encodes m.
func (m clientMessage) bytes() []byte {
	b := make([]byte, FixedLen, FixedLen+len(m.options))
	b[offOp] = m.op
	if m.op == 0 {
		b[offOp] = BootRequest
	}
	b[offHType] = 1
	b[offHLen] = 6
	binary.BigEndian.PutUint32(b[offXID:], m.xid)
	binary.BigEndian.PutUint16(b[offSecs:], 3)
	binary.BigEndian.PutUint16(b[offFlags:], m.flags)
	if m.ciaddr.Is4() {
		a := m.ciaddr.As4()
		copy(b[offCIAddr:], a[:])
	}
	if m.giaddr.Is4() {
		a := m.giaddr.As4()
		copy(b[offGIAddr:], a[:])
	}
	copy(b[offCHAddr:], clientMAC[:])
	if !m.noCookie {
		binary.BigEndian.PutUint32(b[offCookie:], Cookie)
	}
	return append(b, m.options...)
}

// opts concatenates options and closes them with the end option.
func opts(list ...[]byte) []byte {
	var b []byte
	for _, o := range list {
		b = append(b, o...)
	}
	return append(b, OptionEnd)
}

// opt encodes one option.
func opt(code uint8, data ...byte) []byte {
	return append([]byte{code, byte(len(data))}, data...)
}

// udpFrame wraps payload in Ethernet, IPv4 and UDP headers from a client
// without an address to the broadcast address, with a valid checksum.
func udpFrame(payload []byte, dstPort uint16) []byte {
	src := netip.AddrPortFrom(netip.IPv4Unspecified(), ClientPort)
	dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), dstPort)
	return testnet.UDPFrame(header.BroadcastMAC, clientMAC, src, dst, 0, payload)
}

// decoded is a reply taken apart.
type decoded struct {
	frame header.Frame
	msg   Message
	codes []uint8          // option codes in order
	opt   map[uint8][]byte // option data by code
	area  []byte           // the options area after the cookie
}

// decodeReply checks that b is a well-formed reply frame and takes it
// apart with this package's own parser.
func decodeReply(t testing.TB, b []byte) decoded {
	t.Helper()
	f := testnet.DecodeUDP(t, b, ServerPort, ClientPort)
	m, ok := ParseMessage(f.Data(b))
	if !ok {
		t.Fatalf("reply message does not parse (%v bytes)", len(f.Data(b)))
	}
	if !m.HasCookie() {
		t.Fatalf("reply has no magic cookie")
	}
	d := decoded{frame: f, msg: m, opt: map[uint8][]byte{}, area: m.Bytes()[FixedLen:]}
	it := m.Options()
	sawEnd := false
	for {
		code, data, ok := it.Next()
		if !ok {
			break
		}
		if _, dup := d.opt[code]; dup {
			t.Fatalf("option %v appears twice", code)
		}
		d.codes = append(d.codes, code)
		d.opt[code] = data
	}
	if it.Truncated() {
		t.Fatalf("reply options truncated")
	}
	// The area must close with the end option, followed only by padding.
	for off := 0; off < len(d.area); {
		switch d.area[off] {
		case OptionPad:
			off++
			continue
		case OptionEnd:
			sawEnd = true
			for _, c := range d.area[off+1:] {
				if c != 0 {
					t.Fatalf("got non-zero byte %#x after the end option, want padding", c)
				}
			}
		default:
			off += 2 + int(d.area[off+1])
			continue
		}
		break
	}
	if !sawEnd {
		t.Fatalf("reply has no end option")
	}
	if len(d.area) < MinOptionsLen || len(d.area) > OptionsLen {
		t.Fatalf("got options area of %v bytes, want %v..%v", len(d.area), MinOptionsLen, OptionsLen)
	}
	return d
}

// reply runs Reply on frame and fails the test on anything but a reply.
func reply(t testing.TB, cfg *Config, frame []byte) decoded {
	t.Helper()
	return decodeReply(t, testnet.MustReply(t, Reply, cfg, frame, MaxReplyLen))
}
