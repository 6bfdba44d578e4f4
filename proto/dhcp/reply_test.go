// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package dhcp

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"passt-go/proto/dhcp/dnsname"
	"passt-go/proto/header"
)

func hexOf(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExchanges checks replies field by field for the requests a client
// sends.
func TestExchanges(t *testing.T) {
	cfg := testConfig()
	fqdnData := func(flags byte) []byte {
		b := []byte{flags, 255, 255}
		return append(b, 5, 'g', 'u', 'e', 's', 't', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0)
	}
	tests := []struct {
		name      string
		req       clientMessage
		wantType  MessageType
		wantCodes []uint8
		wantFQDN  []byte
	}{
		{
			name: "DISCOVER gets OFFER",
			req: clientMessage{xid: 0x11223344, options: opts(
				opt(OptionMessageType, byte(TypeDiscover)))},
			wantType:  TypeOffer,
			wantCodes: []uint8{53, 1, 3, 6, 12, 26, 51, 54, 81, 119},
			wantFQDN:  fqdnData(fqdnE),
		},
		{
			name: "DISCOVER with rapid commit gets ACK",
			req: clientMessage{xid: 0xdeadbeef, options: opts(
				opt(OptionMessageType, byte(TypeDiscover)), opt(OptionRapidCommit))},
			wantType:  TypeAck,
			wantCodes: []uint8{53, 1, 3, 6, 12, 26, 51, 54, 80, 81, 119},
			wantFQDN:  fqdnData(fqdnE),
		},
		{
			name: "REQUEST gets ACK",
			req: clientMessage{xid: 7, ciaddr: netip.MustParseAddr("192.0.2.10"), options: opts(
				opt(OptionMessageType, byte(TypeRequest)),
				opt(OptionServerID, 192, 0, 2, 1),
				opt(OptionRapidCommit))},
			wantType:  TypeAck,
			wantCodes: []uint8{53, 1, 3, 6, 12, 26, 51, 54, 81, 119},
			wantFQDN:  fqdnData(fqdnE),
		},
		{
			name: "REQUEST for another address still gets ACK",
			req: clientMessage{xid: 8, options: opts(
				opt(OptionMessageType, byte(TypeRequest)),
				opt(50, 10, 9, 8, 7))},
			wantType:  TypeAck,
			wantCodes: []uint8{53, 1, 3, 6, 12, 26, 51, 54, 81, 119},
			wantFQDN:  fqdnData(fqdnE),
		},
		{
			name:      "BOOTP request gets ACK",
			req:       clientMessage{xid: 9, options: opts()},
			wantType:  TypeAck,
			wantCodes: []uint8{53, 1, 3, 6, 12, 26, 51, 54, 81, 119},
			wantFQDN:  fqdnData(fqdnE),
		},
		{
			name:      "BOOTP request without cookie gets ACK",
			req:       clientMessage{xid: 10, noCookie: true, options: make([]byte, 64)},
			wantType:  TypeAck,
			wantCodes: []uint8{53, 1, 3, 6, 12, 26, 51, 54, 81, 119},
			wantFQDN:  fqdnData(fqdnE),
		},
		{
			name: "relayed REQUEST keeps giaddr and flags",
			req: clientMessage{xid: 11, flags: 0x0001, giaddr: netip.MustParseAddr("203.0.113.1"), options: opts(
				opt(OptionMessageType, byte(TypeRequest)))},
			wantType:  TypeAck,
			wantCodes: []uint8{53, 1, 3, 6, 12, 26, 51, 54, 81, 119},
			wantFQDN:  fqdnData(fqdnE),
		},
		{
			name: "client FQDN with S gets O",
			req: clientMessage{xid: 12, options: opts(
				opt(OptionMessageType, byte(TypeDiscover)),
				opt(OptionClientFQDN, fqdnS|fqdnE, 0, 0, 1, 'x', 0))},
			wantType:  TypeOffer,
			wantCodes: []uint8{53, 1, 3, 6, 12, 26, 51, 54, 81, 119},
			wantFQDN:  fqdnData(fqdnE | fqdnO),
		},
		{
			name: "client FQDN without S",
			req: clientMessage{xid: 13, options: opts(
				opt(OptionMessageType, byte(TypeDiscover)),
				opt(OptionClientFQDN, fqdnE, 0, 0, 1, 'x', 0))},
			wantType:  TypeOffer,
			wantCodes: []uint8{53, 1, 3, 6, 12, 26, 51, 54, 81, 119},
			wantFQDN:  fqdnData(fqdnE),
		},
		{
			name: "pads and garbage after the end option",
			req: clientMessage{xid: 14, options: append([]byte{0, 0,
				OptionMessageType, 1, byte(TypeRequest), 0, OptionEnd}, 77, 200, 1)},
			wantType:  TypeAck,
			wantCodes: []uint8{53, 1, 3, 6, 12, 26, 51, 54, 81, 119},
			wantFQDN:  fqdnData(fqdnE),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req.bytes()
			d := reply(t, &cfg, udpFrame(req, ServerPort))
			m := d.msg
			rq, _ := ParseMessage(req)

			checks := []struct {
				field     string
				got, want any
			}{
				{"op", m.Op(), uint8(BootReply)},
				{"htype", m.HType(), uint8(1)},
				{"hlen", m.HLen(), uint8(6)},
				{"hops", m.Hops(), uint8(0)},
				{"xid", m.XID(), tc.req.xid},
				{"secs", m.Secs(), uint16(0)},
				{"flags", m.Flags(), tc.req.flags},
				{"ciaddr", m.CIAddr(), rq.CIAddr()},
				{"yiaddr", m.YIAddr(), cfg.GuestAddr},
				{"siaddr", m.SIAddr(), netip.IPv4Unspecified()},
				{"giaddr", m.GIAddr(), rq.GIAddr()},
				{"chaddr", m.CHAddr(), rq.CHAddr()},
				{"sname zero", bytes.Count(m.SName(), []byte{0}), 64},
				{"file zero", bytes.Count(m.File(), []byte{0}), 128},
				{"IP source", d.frame.Src, cfg.ServerID},
				{"IP destination", d.frame.Dst, cfg.GuestAddr},
				{"TTL", d.frame.TTL, uint8(255)},
				{"MAC source", d.frame.SrcMAC, ourMAC},
				{"MAC destination", d.frame.DstMAC, clientMAC},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s: got %v, want %v", c.field, c.got, c.want)
				}
			}
			if !slices.Equal(d.codes, tc.wantCodes) {
				t.Errorf("option order: got %v, want %v", d.codes, tc.wantCodes)
			}
			wantOpts := map[uint8][]byte{
				OptionMessageType: {byte(tc.wantType)},
				OptionServerID:    {192, 0, 2, 1},
				OptionLeaseTime:   {0xff, 0xff, 0xff, 0xff},
				OptionSubnetMask:  {255, 255, 255, 0},
				OptionRouter:      {192, 0, 2, 1},
				OptionDNS:         {192, 0, 2, 53, 198, 51, 100, 53},
				OptionHostname:    []byte("guest"),
				OptionMTU:         {0xff, 0xf0},
				OptionClientFQDN:  tc.wantFQDN,
				OptionRapidCommit: {},
			}
			for code, want := range wantOpts {
				got, ok := d.opt[code]
				if !ok {
					continue // presence is checked by the order above
				}
				if !bytes.Equal(got, want) {
					t.Errorf("option %v: got %x, want %x", code, got, want)
				}
			}
			search, ok := dnsname.ParseList(d.opt[OptionSearch])
			if !ok || !slices.Equal(search, cfg.Search) {
				t.Errorf("search list: got %q (ok %v), want %q", search, ok, cfg.Search)
			}
		})
	}
}

func TestIgnored(t *testing.T) {
	cfg := testConfig()
	withType := func(mt MessageType) []byte {
		return udpFrame(clientMessage{options: opts(opt(OptionMessageType, byte(mt)))}.bytes(), ServerPort)
	}
	v6 := func() []byte {
		src, dst := netip.MustParseAddr("fe80::1"), netip.MustParseAddr("ff02::1:2")
		b := make([]byte, header.EthernetLen+header.IPv6Len+header.UDPLen+4)
		header.PutEthernet(b, header.BroadcastMAC, clientMAC, header.EtherTypeIPv6)
		header.PutIPv6(b[header.EthernetLen:], header.UDPLen+4, header.IPv6Fields{Src: src, Dst: dst, NextHeader: header.ProtocolUDP})
		header.PutUDP(b[header.EthernetLen+header.IPv6Len:], 546, ServerPort, 4)
		return b
	}
	unconfigured := testConfig()
	unconfigured.GuestAddr = netip.Addr{}
	tests := []struct {
		name   string
		cfg    *Config
		frame  []byte
		outLen int
		want   Ignore
	}{
		{name: "INFORM", frame: withType(TypeInform), want: IgnoreMessageType},
		{name: "DECLINE", frame: withType(TypeDecline), want: IgnoreMessageType},
		{name: "RELEASE", frame: withType(TypeRelease), want: IgnoreMessageType},
		{name: "OFFER from another server", frame: withType(TypeOffer), want: IgnoreMessageType},
		{name: "unknown type", frame: withType(200), want: IgnoreMessageType},
		{name: "to port 68", frame: udpFrame(clientMessage{}.bytes(), ClientPort), want: IgnoreNotDHCP},
		{name: "IPv6", frame: v6(), want: IgnoreNotDHCP},
		{name: "BOOTREPLY", frame: udpFrame(clientMessage{op: BootReply, options: opts()}.bytes(), ServerPort), want: IgnoreNotRequest},
		{name: "short message", frame: udpFrame(clientMessage{}.bytes()[:FixedLen-1], ServerPort), want: IgnoreTooShort},
		{name: "empty message", frame: udpFrame(nil, ServerPort), want: IgnoreTooShort},
		{name: "option past the end", frame: udpFrame(clientMessage{options: []byte{OptionMessageType, 1, 1, OptionHostname, 10, 'a'}}.bytes(), ServerPort), want: IgnoreBadOptions},
		{name: "length byte missing", frame: udpFrame(clientMessage{options: []byte{OptionMessageType, 1, 1, OptionHostname}}.bytes(), ServerPort), want: IgnoreBadOptions},
		{name: "short output buffer", frame: withType(TypeDiscover), outLen: MaxReplyLen - 1, want: IgnoreShortBuffer},
		{name: "no address", cfg: &unconfigured, frame: withType(TypeDiscover), want: IgnoreNotConfigured},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cfg
			if c == nil {
				c = &cfg
			}
			f, drop := header.Decode(tc.frame)
			if drop != header.DropNone {
				t.Fatalf("request does not decode: %v", drop)
			}
			outLen := tc.outLen
			if outLen == 0 {
				outLen = MaxReplyLen
			}
			n, why := Reply(c, tc.frame, f, make([]byte, outLen))
			if why != tc.want || n != 0 {
				t.Errorf("got %v (n %v), want %v (n 0)", why, n, tc.want)
			}
		})
	}
}

func TestParameterRequestOrder(t *testing.T) {
	cfg := testConfig()
	cfg.Router = netip.MustParseAddr("10.0.0.1") // off link: option 121 too
	tests := []struct {
		name   string
		params []byte
		want   []uint8
	}{
		{
			name:   "typical client",
			params: []byte{1, 121, 3, 6, 15, 119, 12, 26},
			want:   []uint8{53, 1, 121, 3, 6, 119, 12, 26, 51, 54, 81},
		},
		{
			name:   "message type requested in the middle",
			params: []byte{1, 53, 3},
			want:   []uint8{1, 53, 3, 6, 12, 26, 51, 54, 81, 119, 121},
		},
		{
			name:   "duplicates and unknown codes",
			params: []byte{0, 255, 6, 6, 44, 6, 1},
			want:   []uint8{53, 6, 1, 3, 12, 26, 51, 54, 81, 119, 121},
		},
		{
			name:   "empty list",
			params: []byte{},
			want:   []uint8{53, 1, 3, 6, 12, 26, 51, 54, 81, 119, 121},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := clientMessage{options: opts(
				opt(OptionMessageType, byte(TypeDiscover)),
				opt(OptionParameterList, tc.params...))}
			d := reply(t, &cfg, udpFrame(req.bytes(), ServerPort))
			if !slices.Equal(d.codes, tc.want) {
				t.Errorf("got %v, want %v", d.codes, tc.want)
			}
		})
	}
}

func TestBroadcastFlag(t *testing.T) {
	cfg := testConfig()
	tests := []struct {
		name    string
		flags   uint16
		wantIP  netip.Addr
		wantMAC header.MAC
	}{
		{name: "unicast", flags: 0, wantIP: cfg.GuestAddr, wantMAC: clientMAC},
		{name: "broadcast", flags: FlagBroadcast, wantIP: netip.MustParseAddr("255.255.255.255"), wantMAC: header.BroadcastMAC},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := clientMessage{flags: tc.flags, options: opts(opt(OptionMessageType, byte(TypeDiscover)))}
			d := reply(t, &cfg, udpFrame(req.bytes(), ServerPort))
			if d.frame.Dst != tc.wantIP || d.frame.DstMAC != tc.wantMAC {
				t.Errorf("got %v at %v, want %v at %v", d.frame.Dst, d.frame.DstMAC, tc.wantIP, tc.wantMAC)
			}
			if d.msg.Flags() != tc.flags {
				t.Errorf("flags: got %#x, want %#x", d.msg.Flags(), tc.flags)
			}
		})
	}
}

func TestClasslessRoutes(t *testing.T) {
	tests := []struct {
		name      string
		guest     string
		prefixLen int
		router    string
		want      string // hex of option 121, empty: absent
	}{
		{name: "router on link", guest: "192.0.2.10", prefixLen: 24, router: "192.0.2.1", want: ""},
		{name: "router in a wide subnet", guest: "10.1.2.3", prefixLen: 8, router: "10.200.0.1", want: ""},
		{name: "router off link", guest: "192.0.2.10", prefixLen: 24, router: "10.0.0.1",
			want: "20 0a000001 00000000 00 0a000001"},
		{name: "single address", guest: "192.0.2.10", prefixLen: 32, router: "192.0.2.1",
			want: "20 c0000201 00000000 00 c0000201"},
		{name: "no router", guest: "192.0.2.10", prefixLen: 32, router: "", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.GuestAddr = netip.MustParseAddr(tc.guest)
			cfg.PrefixLen = tc.prefixLen
			cfg.Router = netip.Addr{}
			if tc.router != "" {
				cfg.Router = netip.MustParseAddr(tc.router)
			}
			req := clientMessage{options: opts(opt(OptionMessageType, byte(TypeRequest)))}
			d := reply(t, &cfg, udpFrame(req.bytes(), ServerPort))
			got, ok := d.opt[OptionClasslessRoutes]
			if tc.want == "" {
				if ok {
					t.Errorf("got option 121 %x, want none", got)
				}
				return
			}
			if want := hexOf(t, tc.want); !ok || !bytes.Equal(got, want) {
				t.Errorf("got %x (present %v), want %x", got, ok, want)
			}
			if r, ok := d.opt[OptionRouter]; !ok || !bytes.Equal(r, cfg.Router.AsSlice()) {
				t.Errorf("router: got %x, want %v", r, cfg.Router)
			}
		})
	}
}

func TestOmittedOptions(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		absent uint8
	}{
		{name: "no DNS", modify: func(c *Config) { c.DNS = nil }, absent: OptionDNS},
		{name: "only IPv6 DNS", modify: func(c *Config) { c.DNS = []netip.Addr{netip.MustParseAddr("2001:db8::1")} }, absent: OptionDNS},
		{name: "no search list", modify: func(c *Config) { c.Search = nil }, absent: OptionSearch},
		{name: "only invalid search names", modify: func(c *Config) { c.Search = []string{"a..b", "."} }, absent: OptionSearch},
		{name: "no hostname", modify: func(c *Config) { c.Hostname = "" }, absent: OptionHostname},
		{name: "no FQDN", modify: func(c *Config) { c.FQDN = "" }, absent: OptionClientFQDN},
		{name: "MTU 0", modify: func(c *Config) { c.MTU = 0 }, absent: OptionMTU},
		{name: "no router", modify: func(c *Config) { c.Router = netip.Addr{} }, absent: OptionRouter},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			tc.modify(&cfg)
			req := clientMessage{options: opts(opt(OptionMessageType, byte(TypeDiscover)))}
			d := reply(t, &cfg, udpFrame(req.bytes(), ServerPort))
			if got, ok := d.opt[tc.absent]; ok {
				t.Errorf("got option %v = %x, want it absent", tc.absent, got)
			}
			if _, ok := d.opt[OptionMessageType]; !ok {
				t.Errorf("got no message type, want one")
			}
		})
	}
}

func TestMinimalReplyPadding(t *testing.T) {
	cfg := Config{
		OurMAC:    ourMAC,
		ServerID:  netip.MustParseAddr("169.254.2.2"),
		GuestAddr: netip.MustParseAddr("169.254.2.1"),
		PrefixLen: 16,
		Router:    netip.MustParseAddr("169.254.2.2"),
	}
	req := clientMessage{options: opts(opt(OptionMessageType, byte(TypeDiscover)))}
	d := reply(t, &cfg, udpFrame(req.bytes(), ServerPort))
	// 53 (3) + 1 (6) + 3 (6) + 51 (6) + 54 (6) + end = 28 bytes: padded.
	if got := len(d.area); got != MinOptionsLen {
		t.Errorf("options area: got %v bytes, want %v", got, MinOptionsLen)
	}
	if got := len(d.msg.Bytes()); got != 300 {
		t.Errorf("message: got %v bytes, want %v", got, 300)
	}
}

// TestCrowdedOptions fills the configuration beyond the options area: the
// reply stays within 576 bytes, keeps its mandatory options, and cuts the
// search list at a name boundary.
func TestCrowdedOptions(t *testing.T) {
	cfg := testConfig()
	cfg.Hostname = strings.Repeat("h", 100)
	for i := range 30 {
		cfg.Search = append(cfg.Search, strings.Repeat(string(rune('a'+i%26)), 20)+".example.org")
	}
	req := clientMessage{options: opts(
		opt(OptionMessageType, byte(TypeDiscover)),
		opt(OptionParameterList, 119, 12, 1, 3, 6, 121))}
	d := reply(t, &cfg, udpFrame(req.bytes(), ServerPort))
	if got := len(d.msg.Bytes()); got > 576-header.IPv4MinLen-header.UDPLen {
		t.Errorf("message: got %v bytes, want at most 548", got)
	}
	for _, code := range []uint8{53, 54, 51, 1, 3, 6, 12, 26, 81, 119} {
		if _, ok := d.opt[code]; !ok {
			t.Errorf("got no option %v, want it", code)
		}
	}
	search, ok := dnsname.ParseList(d.opt[OptionSearch])
	if !ok {
		t.Fatalf("search list does not parse")
	}
	if len(search) == 0 || len(search) >= len(cfg.Search) || !slices.Equal(search, cfg.Search[:len(search)]) {
		t.Errorf("got search list %q, want a strict prefix of %q", search, cfg.Search)
	}
}

// TestTooLongOptionsSkipped gives a host name and FQDN that cannot both
// fit: the later one in order is skipped, the rest still sent.
func TestTooLongOptionsSkipped(t *testing.T) {
	cfg := testConfig()
	cfg.Hostname = strings.Repeat("h", 255)
	cfg.FQDN = strings.Repeat("f", 60) + "." + strings.Repeat("g", 60) + ".example"
	req := clientMessage{options: opts(opt(OptionMessageType, byte(TypeDiscover)))}
	d := reply(t, &cfg, udpFrame(req.bytes(), ServerPort))
	if _, ok := d.opt[OptionHostname]; !ok {
		t.Errorf("got no host name, want it (it comes first)")
	}
	if _, ok := d.opt[OptionClientFQDN]; ok {
		t.Errorf("got client FQDN, want it skipped")
	}
	for _, code := range []uint8{53, 54, 51} {
		if _, ok := d.opt[code]; !ok {
			t.Errorf("got no option %v, want it", code)
		}
	}
}

func TestReplyAllocs(t *testing.T) {
	cfg := testConfig()
	cfg.Router = netip.MustParseAddr("10.0.0.1")
	frame := udpFrame(clientMessage{options: opts(
		opt(OptionMessageType, byte(TypeDiscover)),
		opt(OptionParameterList, 1, 3, 6, 119, 121))}.bytes(), ServerPort)
	f, _ := header.Decode(frame)
	out := make([]byte, MaxReplyLen)
	allocs := testing.AllocsPerRun(100, func() {
		if _, why := Reply(&cfg, frame, f, out); why != IgnoreNone {
			t.Fatalf("got %v, want a reply", why)
		}
	})
	if allocs != 0 {
		t.Errorf("got %v allocations per reply, want 0", allocs)
	}
}

func TestIgnoreString(t *testing.T) {
	seen := map[string]bool{}
	for i := range NumIgnores {
		s := i.String()
		if s == "" || s == "unknown" || seen[s] {
			t.Errorf("Ignore(%d): got %q, want a distinct name", i, s)
		}
		seen[s] = true
	}
	if got := NumIgnores.String(); got != "unknown" {
		t.Errorf("got %q, want %q", got, "unknown")
	}
}

func TestOptionsIterator(t *testing.T) {
	tests := []struct {
		name          string
		area          []byte
		wantCodes     []uint8
		wantTruncated bool
	}{
		{name: "empty", area: nil},
		{name: "pads only", area: []byte{0, 0, 0}},
		{name: "end stops", area: []byte{1, 1, 9, 255, 2, 9}, wantCodes: []uint8{1}},
		{name: "no end", area: []byte{1, 0, 2, 1, 7}, wantCodes: []uint8{1, 2}},
		{name: "zero length", area: []byte{80, 0, 255}, wantCodes: []uint8{80}},
		{name: "data past end", area: []byte{1, 0, 2, 5, 7}, wantCodes: []uint8{1}, wantTruncated: true},
		{name: "code alone", area: []byte{0, 12}, wantTruncated: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it := NewOptions(tc.area)
			var codes []uint8
			for {
				code, _, ok := it.Next()
				if !ok {
					break
				}
				codes = append(codes, code)
			}
			if !slices.Equal(codes, tc.wantCodes) || it.Truncated() != tc.wantTruncated {
				t.Errorf("got %v truncated %v, want %v truncated %v", codes, it.Truncated(), tc.wantCodes, tc.wantTruncated)
			}
		})
	}
}

func TestMessageTypeString(t *testing.T) {
	tests := []struct {
		t    MessageType
		want string
	}{
		{t: TypeDiscover, want: "DISCOVER"},
		{t: TypeAck, want: "ACK"},
		{t: TypeInform, want: "INFORM"},
		{t: 0, want: "unknown"},
		{t: 9, want: "unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.t.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
