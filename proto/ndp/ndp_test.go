// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package ndp

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"passt-go/internal/testnet"
	"passt-go/proto/header"
)

// equalMasked compares got with want, the two checksum bytes at off
// excepted (they are checked by checkFrame).
func equalMasked(got, want []byte, off int) bool {
	if len(got) != len(want) {
		return false
	}
	g, w := bytes.Clone(got), bytes.Clone(want)
	g[off], g[off+1], w[off], w[off+1] = 0, 0, 0, 0
	return bytes.Equal(g, w)
}

const checksumAt = header.EthernetLen + header.IPv6Len + 2

// TestNAGolden compares an NA with bytes written out from RFC 4861's
// layout, independently of the package's writers.
func TestNAGolden(t *testing.T) {
	req := ns(ourLL)
	want := unhex(t, `
		525400123456 9a559a559a55 86dd
		60000000 0020 3a ff
		fe800000000000000000000000000001
		fe80000000000000505400fffe123456
		88 00 0000 e0000000
		fe800000000000000000000000000001
		02 01 9a559a559a55`)
	out := make([]byte, MaxFrameLen)
	n, why := Reply(testConfig(), req, testnet.Decode(t, req), out)
	if why != IgnoreNone || n != len(want) {
		t.Fatalf("got (%d, %v), want (%d, %v)", n, why, len(want), IgnoreNone)
	}
	if !equalMasked(out[:n], want, checksumAt) {
		t.Errorf("got %x, want %x", out[:n], want)
	}
	checkFrame(t, out[:n], guestMAC, guestLL)
}

// TestRAGolden does the same for the RA answering an RS, with every option.
func TestRAGolden(t *testing.T) {
	req := rs()
	want := unhex(t, `
		525400123456 9a559a559a55 86dd
		60000000 0090 3a ff
		fe800000000000000000000000000001
		fe80000000000000505400fffe123456
		86 00 0000 ff 80 ffff 00000000 00000000
		03 04 40 c0 ffffffff ffffffff 00000000 20010db8000100000000000000000000
		01 01 9a559a559a55
		05 01 0000 0000fff0
		19 05 0000 ffffffff
		20010db8000100000000000000000053
		20010db8000200000000000000000053
		1f 05 0000 ffffffff
		07 6578616d706c65 03 636f6d 00
		04 636f7270 07 6578616d706c65 03 6f7267 00
		00`)
	out := make([]byte, MaxFrameLen)
	n, why := Reply(testConfig(), req, testnet.Decode(t, req), out)
	if why != IgnoreNone || n != len(want) {
		t.Fatalf("got (%d, %v), want (%d, %v)", n, why, len(want), IgnoreNone)
	}
	if !equalMasked(out[:n], want, checksumAt) {
		t.Errorf("got %x, want %x", out[:n], want)
	}
	checkFrame(t, out[:n], guestMAC, guestLL)
}

func TestReplyNS(t *testing.T) {
	other := header.MAC{0x02, 0, 0, 0, 0, 9}
	tests := []struct {
		name    string
		frame   []byte
		wantDst netip.Addr
		wantMAC header.MAC
		target  netip.Addr
	}{
		{name: "our link-local", frame: ns(ourLL), wantDst: guestLL, wantMAC: guestMAC, target: ourLL},
		{name: "remote global", frame: ns(remote), wantDst: guestLL, wantMAC: guestMAC, target: remote},
		{
			name:    "another link-local",
			frame:   ns(netip.MustParseAddr("fe80::abcd")),
			wantDst: guestLL, wantMAC: guestMAC, target: netip.MustParseAddr("fe80::abcd"),
		},
		{
			name:    "unicast reachability probe without options",
			frame:   ndFrame(guestMAC, guestLL, ourLL, 255, nsMsg(ourLL)),
			wantDst: guestLL, wantMAC: guestMAC, target: ourLL,
		},
		{
			name:    "from the guest's global address",
			frame:   ndFrame(guestMAC, guestAddr, solicitedNode(remote), 255, nsMsg(remote, llOpt(1, guestMAC))),
			wantDst: guestAddr, wantMAC: guestMAC, target: remote,
		},
		{
			name:    "unknown option skipped",
			frame:   ndFrame(guestMAC, guestLL, solicitedNode(remote), 255, nsMsg(remote, []byte{200, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}, llOpt(1, guestMAC))),
			wantDst: guestLL, wantMAC: guestMAC, target: remote,
		},
		{
			name:    "Ethernet source other than the option's",
			frame:   ndFrame(other, guestLL, solicitedNode(remote), 255, nsMsg(remote, llOpt(1, guestMAC))),
			wantDst: guestLL, wantMAC: other, target: remote,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := make([]byte, MaxFrameLen)
			n, why := Reply(testConfig(), tc.frame, testnet.Decode(t, tc.frame), out)
			if n == 0 || why != IgnoreNone {
				t.Fatalf("got (%d, %v), want a reply and %v", n, why, IgnoreNone)
			}
			r := checkFrame(t, out[:n], tc.wantMAC, tc.wantDst)
			if r.msg[0] != header.ICMPv6NeighborAdvertisement {
				t.Errorf("type: got %d, want %d", r.msg[0], header.ICMPv6NeighborAdvertisement)
			}
			if got := binary.BigEndian.Uint32(r.msg[4:]); got != 0xe0000000 {
				t.Errorf("flags and reserved: got %#08x, want %#08x (R, S, O)", got, 0xe0000000)
			}
			if got := netip.AddrFrom16([16]byte(r.msg[8:24])); got != tc.target {
				t.Errorf("target: got %v, want %v", got, tc.target)
			}
			opts := parseOptions(t, r.msg[24:])
			if len(opts) != 1 || opts[0].typ != optTargetLL || !bytes.Equal(opts[0].body, ourMAC[:]) {
				t.Errorf("options: got %v, want one target link-layer address %v", opts, ourMAC)
			}
			for i, c := range out[n:] {
				if c != 0 {
					t.Fatalf("byte %d after the reply written: got %#x, want 0", n+i, c)
				}
			}
		})
	}
}

// wantRA describes the options an RA must carry, in order.
type wantRA struct {
	prefix string // hex of the 16-byte prefix and its length byte first; "" for none
	mtu    uint32 // 0 for none
	dns    []netip.Addr
	search [][]byte // expected wire-form names, in order
}

// checkRA checks an RA message: fixed part and every option.
func checkRA(t *testing.T, msg []byte, want wantRA) {
	t.Helper()
	if msg[0] != header.ICMPv6RouterAdvertisement {
		t.Fatalf("type: got %d, want %d", msg[0], header.ICMPv6RouterAdvertisement)
	}
	if msg[4] != 255 {
		t.Errorf("cur hop limit: got %d, want 255", msg[4])
	}
	if msg[5] != raFlagManaged || msg[5]&raFlagOther != 0 {
		t.Errorf("flags: got %#02x, want %#02x (M set, O clear)", msg[5], raFlagManaged)
	}
	if got := binary.BigEndian.Uint16(msg[6:]); got != 65535 {
		t.Errorf("router lifetime: got %d, want 65535", got)
	}
	if got := binary.BigEndian.Uint64(msg[8:]); got != 0 {
		t.Errorf("reachable time and retrans timer: got %#x, want 0", got)
	}
	opts := parseOptions(t, msg[16:])
	i := 0
	next := func(typ byte) []byte {
		t.Helper()
		if i >= len(opts) || opts[i].typ != typ {
			t.Fatalf("option %d: got %v, want type %d", i, opts, typ)
		}
		i++
		return opts[i-1].body
	}
	if want.prefix != "" {
		b := next(optPrefix)
		wantBody := unhex(t, want.prefix[:2]+"c0 ffffffff ffffffff 00000000"+want.prefix[2:])
		if !bytes.Equal(b, wantBody) {
			t.Errorf("prefix information: got %x, want %x", b, wantBody)
		}
	}
	if b := next(optSourceLL); !bytes.Equal(b, ourMAC[:]) {
		t.Errorf("source link-layer address: got %x, want %x", b, ourMAC[:])
	}
	if want.mtu != 0 {
		b := next(optMTU)
		if got := binary.BigEndian.Uint32(b[2:]); got != want.mtu || b[0] != 0 || b[1] != 0 {
			t.Errorf("MTU option: got %x, want MTU %d", b, want.mtu)
		}
	}
	if len(want.dns) > 0 {
		b := next(optRDNSS)
		if len(b) != 6+16*len(want.dns) {
			t.Fatalf("RDNSS length: got %d, want %d", len(b)+2, 8+16*len(want.dns))
		}
		if got := binary.BigEndian.Uint32(b[2:]); got != 0xffffffff || b[0] != 0 || b[1] != 0 {
			t.Errorf("RDNSS reserved and lifetime: got %x, want 0000ffffffff", b[:6])
		}
		for k, a := range want.dns {
			if got := netip.AddrFrom16([16]byte(b[6+16*k:])); got != a {
				t.Errorf("RDNSS address %d: got %v, want %v", k, got, a)
			}
		}
	}
	if len(want.search) > 0 {
		b := next(optDNSSL)
		if got := binary.BigEndian.Uint32(b[2:]); got != 0xffffffff || b[0] != 0 || b[1] != 0 {
			t.Errorf("DNSSL reserved and lifetime: got %x, want 0000ffffffff", b[:6])
		}
		wantNames := bytes.Join(want.search, nil)
		names := b[6:]
		if len(names) < len(wantNames) || len(names)-len(wantNames) >= 8 || !bytes.Equal(names[:len(wantNames)], wantNames) {
			t.Errorf("DNSSL names: got %x, want %x and fewer than 8 bytes of padding", names, wantNames)
		} else if pad := names[len(wantNames):]; !bytes.Equal(pad, make([]byte, len(pad))) {
			t.Errorf("DNSSL padding: got %x, want zeros", pad)
		}
	}
	if i != len(opts) {
		t.Errorf("options: got %d, want %d: %v", len(opts), i, opts)
	}
}

var (
	wireExample = []byte("\x07example\x03com\x00")
	wireCorp    = []byte("\x04corp\x07example\x03org\x00")
	prefix1     = "40 20010db8000100000000000000000000"
)

func TestReplyRS(t *testing.T) {
	v4 := netip.MustParseAddr("192.0.2.53")
	tests := []struct {
		name    string
		cfg     func(*Config)
		frame   []byte
		wantMAC header.MAC
		wantDst netip.Addr
		want    wantRA
	}{
		{
			name: "everything", frame: rs(), wantMAC: guestMAC, wantDst: guestLL,
			want: wantRA{prefix: prefix1, mtu: 65520, dns: []netip.Addr{dns1, dns2}, search: [][]byte{wireExample, wireCorp}},
		},
		{
			name: "from ::", frame: ndFrame(guestMAC, unspec, allRtrs, 255, rsMsg()),
			wantMAC: header.MAC{0x33, 0x33, 0, 0, 0, 1}, wantDst: allNodes6,
			want: wantRA{prefix: prefix1, mtu: 65520, dns: []netip.Addr{dns1, dns2}, search: [][]byte{wireExample, wireCorp}},
		},
		{
			name: "from a global address", frame: ndFrame(guestMAC, guestAddr, allRtrs, 255, rsMsg()),
			wantMAC: guestMAC, wantDst: guestAddr,
			want: wantRA{prefix: prefix1, mtu: 65520, dns: []netip.Addr{dns1, dns2}, search: [][]byte{wireExample, wireCorp}},
		},
		{
			name: "no MTU", cfg: func(c *Config) { c.MTU = 0 }, frame: rs(), wantMAC: guestMAC, wantDst: guestLL,
			want: wantRA{prefix: prefix1, dns: []netip.Addr{dns1, dns2}, search: [][]byte{wireExample, wireCorp}},
		},
		{
			name: "negative MTU", cfg: func(c *Config) { c.MTU = -1 }, frame: rs(), wantMAC: guestMAC, wantDst: guestLL,
			want: wantRA{prefix: prefix1, dns: []netip.Addr{dns1, dns2}, search: [][]byte{wireExample, wireCorp}},
		},
		{
			name: "minimum MTU", cfg: func(c *Config) { c.MTU = 1280 }, frame: rs(), wantMAC: guestMAC, wantDst: guestLL,
			want: wantRA{prefix: prefix1, mtu: 1280, dns: []netip.Addr{dns1, dns2}, search: [][]byte{wireExample, wireCorp}},
		},
		{
			name: "no DNS", cfg: func(c *Config) { c.DNS = nil }, frame: rs(), wantMAC: guestMAC, wantDst: guestLL,
			want: wantRA{prefix: prefix1, mtu: 65520, search: [][]byte{wireExample, wireCorp}},
		},
		{
			name: "no search list", cfg: func(c *Config) { c.Search = nil }, frame: rs(), wantMAC: guestMAC, wantDst: guestLL,
			want: wantRA{prefix: prefix1, mtu: 65520, dns: []netip.Addr{dns1, dns2}},
		},
		{
			name: "nameservers that are not IPv6 skipped",
			cfg: func(c *Config) {
				c.DNS = []netip.Addr{v4, dns2, netip.AddrFrom16(v4.As16()), unspec, {}, allNodes6, dns1}
			},
			frame: rs(), wantMAC: guestMAC, wantDst: guestLL,
			want: wantRA{prefix: prefix1, mtu: 65520, dns: []netip.Addr{dns2, dns1}, search: [][]byte{wireExample, wireCorp}},
		},
		{
			name: "only IPv4 nameservers", cfg: func(c *Config) { c.DNS = []netip.Addr{v4} }, frame: rs(), wantMAC: guestMAC, wantDst: guestLL,
			want: wantRA{prefix: prefix1, mtu: 65520, search: [][]byte{wireExample, wireCorp}},
		},
		{
			name: "only invalid search names", cfg: func(c *Config) { c.Search = []string{"", ".", "a..b"} }, frame: rs(), wantMAC: guestMAC, wantDst: guestLL,
			want: wantRA{prefix: prefix1, mtu: 65520, dns: []netip.Addr{dns1, dns2}},
		},
		{
			name: "no guest address: no prefix", cfg: func(c *Config) { c.GuestAddr = netip.Addr{} }, frame: rs(), wantMAC: guestMAC, wantDst: guestLL,
			want: wantRA{mtu: 65520, dns: []netip.Addr{dns1, dns2}, search: [][]byte{wireExample, wireCorp}},
		},
		{
			name: "IPv4 guest address: no prefix", cfg: func(c *Config) { c.GuestAddr = v4 }, frame: rs(), wantMAC: guestMAC, wantDst: guestLL,
			want: wantRA{mtu: 65520, dns: []netip.Addr{dns1, dns2}, search: [][]byte{wireExample, wireCorp}},
		},
		{
			name:  "explicit prefix, masked",
			cfg:   func(c *Config) { c.Prefix = netip.MustParsePrefix("2001:db8:aa:bb:cc::1/64") },
			frame: rs(), wantMAC: guestMAC, wantDst: guestLL,
			want: wantRA{prefix: "40 20010db800aa00bb0000000000000000", mtu: 65520, dns: []netip.Addr{dns1, dns2}, search: [][]byte{wireExample, wireCorp}},
		},
		{
			name: "explicit prefix without guest address",
			cfg: func(c *Config) {
				c.GuestAddr = netip.Addr{}
				c.Prefix = netip.MustParsePrefix("2001:db8:5::/64")
			},
			frame: rs(), wantMAC: guestMAC, wantDst: guestLL,
			want: wantRA{prefix: "40 20010db8000500000000000000000000", mtu: 65520, dns: []netip.Addr{dns1, dns2}, search: [][]byte{wireExample, wireCorp}},
		},
		{
			name:  "IPv4 prefix ignored",
			cfg:   func(c *Config) { c.Prefix = netip.MustParsePrefix("192.0.2.0/24") },
			frame: rs(), wantMAC: guestMAC, wantDst: guestLL,
			want: wantRA{prefix: prefix1, mtu: 65520, dns: []netip.Addr{dns1, dns2}, search: [][]byte{wireExample, wireCorp}},
		},
		{
			name: "bare minimum",
			cfg: func(c *Config) {
				*c = Config{OurMAC: ourMAC, OurLL: ourLL}
			},
			frame: rs(), wantMAC: guestMAC, wantDst: guestLL,
			want: wantRA{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			if tc.cfg != nil {
				tc.cfg(cfg)
			}
			out := make([]byte, MaxFrameLen)
			n, why := Reply(cfg, tc.frame, testnet.Decode(t, tc.frame), out)
			if n == 0 || why != IgnoreNone {
				t.Fatalf("got (%d, %v), want a reply and %v", n, why, IgnoreNone)
			}
			r := checkFrame(t, out[:n], tc.wantMAC, tc.wantDst)
			checkRA(t, r.msg, tc.want)

			// The unsolicited RA carries the same message, to all-nodes.
			ra := make([]byte, MaxFrameLen)
			m := RA(cfg, ra)
			if m != n {
				t.Fatalf("RA length: got %d, want %d", m, n)
			}
			u := checkFrame(t, ra[:m], header.MAC{0x33, 0x33, 0, 0, 0, 1}, allNodes6)
			checkRA(t, u.msg, tc.want)
		})
	}
}

func TestRA(t *testing.T) {
	tests := []struct {
		name  string
		noRA  bool
		out   int
		wantN int
	}{
		{name: "sent", out: MaxFrameLen, wantN: 198},
		{name: "exact buffer", out: 198, wantN: 198},
		{name: "short buffer", out: 197},
		{name: "RA off", noRA: true, out: MaxFrameLen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.NoRA = tc.noRA
			out := bytes.Repeat([]byte{0xa5}, tc.out)
			n := RA(cfg, out)
			if n != tc.wantN {
				t.Fatalf("length: got %d, want %d", n, tc.wantN)
			}
			if n == 0 && !bytes.Equal(out, bytes.Repeat([]byte{0xa5}, tc.out)) {
				t.Errorf("out written although nothing was built")
			}
			if n != 0 {
				r := checkFrame(t, out[:n], header.MAC{0x33, 0x33, 0, 0, 0, 1}, allNodes6)
				checkRA(t, r.msg, wantRA{prefix: prefix1, mtu: 65520, dns: []netip.Addr{dns1, dns2}, search: [][]byte{wireExample, wireCorp}})
			}
		})
	}
}

// TestRALimit checks that an RA stays within the IPv6 minimum MTU, keeping
// as many nameservers, then search domains, as fit, in order.
func TestRALimit(t *testing.T) {
	many := make([]netip.Addr, 200)
	for i := range many {
		many[i] = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)})
	}
	label := "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk" // 63 bytes
	long := label + "." + label + "." + label + "." + label[:61]               // 253 bytes: 255 in wire form
	tests := []struct {
		name       string
		dns        int
		search     []string
		wantDNS    int
		wantSearch int // names of search kept
		wantLen    int // IPv6 packet length
	}{
		// 40 + 16 + 32 + 8 + 8 = 104 bytes without RDNSS and DNSSL leave
		// 1176: RDNSS takes 8 + 16 n.
		{name: "nameservers fill the packet", dns: 200, search: []string{"example.com"}, wantDNS: 73, wantLen: 1280},
		{name: "one nameserver less than fits", dns: 72, search: []string{"example.com"}, wantDNS: 72, wantSearch: 0, wantLen: 1264},
		{name: "70 nameservers and a search domain", dns: 70, search: []string{"example.com"}, wantDNS: 70, wantSearch: 1, wantLen: 1232 + 8 + 16},
		// Without nameservers, DNSSL may take 1176 bytes: 1168 of names,
		// four 255-byte names (1020) and not a fifth.
		{name: "long names", search: []string{long, long, long, long, long}, wantSearch: 4, wantLen: 104 + 8 + 1024},
		{name: "shorter name after one that does not fit is left out", search: []string{long, long, long, long, long, "a.b"}, wantSearch: 4, wantLen: 104 + 8 + 1024},
		{name: "name one byte too long skipped", search: []string{long + "x", "example.com"}, wantSearch: 1, wantLen: 104 + 8 + 16},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.DNS = many[:tc.dns]
			cfg.Search = tc.search
			out := make([]byte, MaxFrameLen)
			n := RA(cfg, out)
			if n-header.EthernetLen != tc.wantLen {
				t.Fatalf("packet length: got %d, want %d", n-header.EthernetLen, tc.wantLen)
			}
			r := checkFrame(t, out[:n], header.MAC{0x33, 0x33, 0, 0, 0, 1}, allNodes6)
			var search [][]byte
			for _, s := range tc.search {
				if len(search) == tc.wantSearch {
					break
				}
				if w, ok := wireName(s); ok {
					search = append(search, w)
				}
			}
			checkRA(t, r.msg, wantRA{prefix: prefix1, mtu: 65520, dns: many[:tc.wantDNS], search: search})
		})
	}
}

// TestRDNSSCount checks the limit of the option's length field.
func TestRDNSSCount(t *testing.T) {
	many := make([]netip.Addr, 200)
	for i := range many {
		many[i] = netip.AddrFrom16([16]byte{0x20, 0x01, 14: byte(i >> 8), 15: byte(i)})
	}
	cfg := &Config{OurMAC: ourMAC, OurLL: ourLL, DNS: many}
	l := layout(cfg)
	// 1240 - 24 = 1216 bytes of room: 75 addresses, under the 127 the
	// length field allows.
	if l.dns != 75 {
		t.Errorf("nameservers: got %d, want 75", l.dns)
	}
	if l.length > maxPacket-header.IPv6Len {
		t.Errorf("message length: got %d, want at most %d", l.length, maxPacket-header.IPv6Len)
	}
}

func TestSolicit(t *testing.T) {
	tests := []struct {
		name    string
		target  netip.Addr
		out     int
		wantN   int
		wantDst string
	}{
		{name: "global", target: guestAddr, out: MaxFrameLen, wantN: 86, wantDst: "ff02::1:ff00:10"},
		{name: "link-local", target: guestLL, out: 86, wantN: 86, wantDst: "ff02::1:ff12:3456"},
		{name: "short buffer", target: guestAddr, out: 85},
		{name: "IPv4", target: netip.MustParseAddr("192.0.2.1"), out: MaxFrameLen},
		{name: "IPv4-mapped", target: netip.MustParseAddr("::ffff:192.0.2.1"), out: MaxFrameLen},
		{name: "multicast", target: allNodes6, out: MaxFrameLen},
		{name: "unspecified", target: unspec, out: MaxFrameLen},
		{name: "loopback", target: netip.IPv6Loopback(), out: MaxFrameLen},
		{name: "invalid", out: MaxFrameLen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := bytes.Repeat([]byte{0xa5}, tc.out)
			n := Solicit(testConfig(), tc.target, out)
			if n != tc.wantN {
				t.Fatalf("length: got %d, want %d", n, tc.wantN)
			}
			if n == 0 {
				if !bytes.Equal(out, bytes.Repeat([]byte{0xa5}, tc.out)) {
					t.Errorf("out written although nothing was built")
				}
				return
			}
			dst := netip.MustParseAddr(tc.wantDst)
			d := dst.As16()
			r := checkFrame(t, out[:n], header.MAC{0x33, 0x33, d[12], d[13], d[14], d[15]}, dst)
			if r.msg[0] != header.ICMPv6NeighborSolicitation {
				t.Errorf("type: got %d, want %d", r.msg[0], header.ICMPv6NeighborSolicitation)
			}
			if got := binary.BigEndian.Uint32(r.msg[4:]); got != 0 {
				t.Errorf("reserved: got %#x, want 0", got)
			}
			if got := netip.AddrFrom16([16]byte(r.msg[8:24])); got != tc.target {
				t.Errorf("target: got %v, want %v", got, tc.target)
			}
			opts := parseOptions(t, r.msg[24:])
			if len(opts) != 1 || opts[0].typ != optSourceLL || !bytes.Equal(opts[0].body, ourMAC[:]) {
				t.Errorf("options: got %v, want one source link-layer address %v", opts, ourMAC)
			}
		})
	}
}

// TestSolicitAnsweredByReply checks that the two halves agree: an NS such
// as Solicit builds, coming from a guest, is answered.
func TestSolicitAnsweredByReply(t *testing.T) {
	guestSide := &Config{OurMAC: guestMAC, OurLL: guestLL}
	req := make([]byte, MaxFrameLen)
	n := Solicit(guestSide, ourLL, req)
	out := make([]byte, MaxFrameLen)
	m, why := Reply(testConfig(), req[:n], testnet.Decode(t, req[:n]), out)
	if m == 0 || why != IgnoreNone {
		t.Fatalf("got (%d, %v), want a reply and %v", m, why, IgnoreNone)
	}
	checkFrame(t, out[:m], guestMAC, guestLL)
}

func TestReplyIgnores(t *testing.T) {
	// withChecksum recomputes the checksum after a test changed a frame.
	withChecksum := func(b []byte) []byte {
		f := testnet.Decode(t, b)
		header.SetTransportChecksum6(f.Transport(b), header.ProtocolICMPv6, f.Src, f.Dst)
		return b
	}
	udp := make([]byte, header.EthernetLen+header.IPv6Len+header.UDPLen+4)
	header.PutEthernet(udp, ourMAC, guestMAC, header.EtherTypeIPv6)
	header.PutIPv6(udp[header.EthernetLen:], header.UDPLen+4, header.IPv6Fields{Src: guestLL, Dst: ourLL, NextHeader: header.ProtocolUDP, HopLimit: 255})
	header.PutUDP(udp[header.EthernetLen+header.IPv6Len:], 546, 547, 4)
	header.SetTransportChecksum6(udp[header.EthernetLen+header.IPv6Len:], header.ProtocolUDP, guestLL, ourLL)

	arp := make([]byte, header.EthernetLen+header.ARPLen)
	header.PutEthernet(arp, header.BroadcastMAC, guestMAC, header.EtherTypeARP)
	header.PutARP(arp[header.EthernetLen:], header.ARPRequest, guestMAC, netip.MustParseAddr("192.0.2.10"), header.MAC{}, netip.MustParseAddr("192.0.2.1"))

	echo := ndFrame(guestMAC, guestLL, ourLL, 64, []byte{header.ICMPv6EchoRequest, 0, 0, 0, 0, 1, 0, 1})
	raFromGuest := ndFrame(guestMAC, guestLL, allNodes6, 255, append([]byte{header.ICMPv6RouterAdvertisement, 0, 0, 0, 64, 0, 0, 0}, make([]byte, 8)...))
	naFromGuest := ndFrame(guestMAC, guestLL, ourLL, 255, append([]byte{header.ICMPv6NeighborAdvertisement, 0, 0, 0, 0x40, 0, 0, 0}, nsMsg(guestLL)[8:]...))
	redirect := ndFrame(guestMAC, guestLL, ourLL, 255, append([]byte{137, 0, 0, 0, 0, 0, 0, 0}, make([]byte, 32)...))

	badChecksum := ns(remote)
	badChecksum[checksumAt] ^= 0x01
	badCode := ns(remote)
	badCode[checksumAt-1] = 1
	withChecksum(badCode)
	badCodeRS := rs()
	badCodeRS[checksumAt-1] = 1
	withChecksum(badCodeRS)

	tests := []struct {
		name  string
		cfg   func(*Config)
		frame []byte
		out   int // 0: MaxFrameLen
		want  Ignore
	}{
		{name: "UDP", frame: udp, want: IgnoreNotICMPv6},
		{name: "ARP", frame: arp, want: IgnoreNotICMPv6},
		{name: "echo request", frame: echo, want: IgnoreNotSolicitation},
		{name: "RA from the guest", frame: raFromGuest, want: IgnoreNotSolicitation},
		{name: "NA from the guest", frame: naFromGuest, want: IgnoreNotSolicitation},
		{name: "redirect", frame: redirect, want: IgnoreNotSolicitation},
		{name: "NS hop limit 64", frame: ndFrame(guestMAC, guestLL, solicitedNode(remote), 64, nsMsg(remote)), want: IgnoreBadHopLimit},
		{name: "RS hop limit 254", frame: ndFrame(guestMAC, guestLL, allRtrs, 254, rsMsg()), want: IgnoreBadHopLimit},
		{name: "NS code 1", frame: badCode, want: IgnoreBadCode},
		{name: "RS code 1", frame: badCodeRS, want: IgnoreBadCode},
		{name: "NS without its target", frame: ndFrame(guestMAC, guestLL, solicitedNode(remote), 255, nsMsg(remote)[:23]), want: IgnoreTooShort},
		{name: "NS of 8 bytes", frame: ndFrame(guestMAC, guestLL, solicitedNode(remote), 255, nsMsg(remote)[:8]), want: IgnoreTooShort},
		{name: "bad checksum", frame: badChecksum, want: IgnoreBadChecksum},
		{name: "NS option of length 0", frame: ndFrame(guestMAC, guestLL, solicitedNode(remote), 255, nsMsg(remote, []byte{1, 0, 0, 0, 0, 0, 0, 0})), want: IgnoreBadOption},
		{name: "NS option past the end", frame: ndFrame(guestMAC, guestLL, solicitedNode(remote), 255, nsMsg(remote, []byte{1, 2, 0, 0, 0, 0, 0, 0})), want: IgnoreBadOption},
		{name: "NS trailing byte", frame: ndFrame(guestMAC, guestLL, solicitedNode(remote), 255, nsMsg(remote, llOpt(1, guestMAC), []byte{1})), want: IgnoreBadOption},
		{name: "RS option of length 0", frame: ndFrame(guestMAC, guestLL, allRtrs, 255, rsMsg([]byte{1, 0, 0, 0, 0, 0, 0, 0})), want: IgnoreBadOption},
		{name: "RS from :: with a source link-layer option", frame: ndFrame(guestMAC, unspec, allRtrs, 255, rsMsg(llOpt(1, guestMAC))), want: IgnoreBadOption},
		{name: "DAD NS with a source link-layer option", frame: ndFrame(guestMAC, unspec, solicitedNode(guestAddr), 255, nsMsg(guestAddr, llOpt(1, guestMAC))), want: IgnoreBadOption},
		{name: "NS from a multicast source", frame: ndFrame(guestMAC, allNodes6, solicitedNode(remote), 255, nsMsg(remote)), want: IgnoreBadSource},
		{name: "RS from a multicast source", frame: ndFrame(guestMAC, allNodes6, allRtrs, 255, rsMsg()), want: IgnoreBadSource},
		{name: "NS for a multicast target", frame: ns(allNodes6), want: IgnoreBadTarget},
		{name: "NS for ::", frame: ns(unspec), want: IgnoreBadTarget},
		{name: "NS for ::1", frame: ns(netip.IPv6Loopback()), want: IgnoreBadTarget},
		{name: "DAD for the guest address", frame: ndFrame(guestMAC, unspec, solicitedNode(guestAddr), 255, nsMsg(guestAddr)), want: IgnoreDAD},
		{name: "DAD for the guest link-local", frame: ndFrame(guestMAC, unspec, solicitedNode(guestLL), 255, nsMsg(guestLL)), want: IgnoreDAD},
		{name: "DAD for our link-local", frame: ndFrame(guestMAC, unspec, solicitedNode(ourLL), 255, nsMsg(ourLL)), want: IgnoreDAD},
		{name: "NS for the guest address", frame: ns(guestAddr), want: IgnoreGuestAddr},
		{name: "RS with RA off", cfg: func(c *Config) { c.NoRA = true }, frame: rs(), want: IgnoreNoRA},
		{name: "NS short buffer", frame: ns(remote), out: naFrameLen - 1, want: IgnoreShortBuffer},
		{name: "RS short buffer", frame: rs(), out: 197, want: IgnoreShortBuffer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			if tc.cfg != nil {
				tc.cfg(cfg)
			}
			size := tc.out
			if size == 0 {
				size = MaxFrameLen
			}
			out := bytes.Repeat([]byte{0xa5}, size)
			n, why := Reply(cfg, tc.frame, testnet.Decode(t, tc.frame), out)
			if n != 0 || why != tc.want {
				t.Errorf("got (%d, %v), want (0, %v)", n, why, tc.want)
			}
			if !bytes.Equal(out, bytes.Repeat([]byte{0xa5}, size)) {
				t.Errorf("out written although ignored")
			}
		})
	}
}

// TestReplyMismatchedFrame checks that a Frame whose offsets do not fit the
// frame (a caller's mistake) is refused rather than read out of bounds.
func TestReplyMismatchedFrame(t *testing.T) {
	req := ns(remote)
	f := testnet.Decode(t, req)
	n, why := Reply(testConfig(), req[:f.L4+4], f, make([]byte, MaxFrameLen))
	if n != 0 || why != IgnoreTooShort {
		t.Errorf("got (%d, %v), want (0, %v)", n, why, IgnoreTooShort)
	}
}

func TestAllocs(t *testing.T) {
	cfg := testConfig()
	nsReq, rsReq := ns(remote), rs()
	nsF, rsF := testnet.Decode(t, nsReq), testnet.Decode(t, rsReq)
	out := make([]byte, MaxFrameLen)
	tests := []struct {
		name string
		fn   func()
	}{
		{name: "Reply NS", fn: func() { Reply(cfg, nsReq, nsF, out) }},
		{name: "Reply RS", fn: func() { Reply(cfg, rsReq, rsF, out) }},
		{name: "RA", fn: func() { RA(cfg, out) }},
		{name: "Solicit", fn: func() { Solicit(cfg, guestAddr, out) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, tc.fn); got != 0 {
				t.Errorf("allocations: got %v, want 0", got)
			}
		})
	}
}

func TestIgnoreString(t *testing.T) {
	testnet.CheckNames(t, NumIgnores, "unknown")
}
