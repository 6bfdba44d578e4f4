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

	"passt-go/internal/testnet"
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

			testnet.CheckFields(t, testnet.Fields{
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
			})
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
	testnet.CheckIgnored(t, Reply, &cfg, MaxReplyLen, []testnet.IgnoreCase[Config, Ignore]{
		{Name: "INFORM", Frame: withType(TypeInform), Want: IgnoreMessageType},
		{Name: "DECLINE", Frame: withType(TypeDecline), Want: IgnoreMessageType},
		{Name: "RELEASE", Frame: withType(TypeRelease), Want: IgnoreMessageType},
		{Name: "OFFER from another server", Frame: withType(TypeOffer), Want: IgnoreMessageType},
		{Name: "unknown type", Frame: withType(200), Want: IgnoreMessageType},
		{Name: "to port 68", Frame: udpFrame(clientMessage{}.bytes(), ClientPort), Want: IgnoreNotDHCP},
		{Name: "IPv6", Frame: v6(), Want: IgnoreNotDHCP},
		{Name: "BOOTREPLY", Frame: udpFrame(clientMessage{op: BootReply, options: opts()}.bytes(), ServerPort), Want: IgnoreNotRequest},
		{Name: "short message", Frame: udpFrame(clientMessage{}.bytes()[:FixedLen-1], ServerPort), Want: IgnoreTooShort},
		{Name: "empty message", Frame: udpFrame(nil, ServerPort), Want: IgnoreTooShort},
		{Name: "option past the end", Frame: udpFrame(clientMessage{options: []byte{OptionMessageType, 1, 1, OptionHostname, 10, 'a'}}.bytes(), ServerPort), Want: IgnoreBadOptions},
		{Name: "length byte missing", Frame: udpFrame(clientMessage{options: []byte{OptionMessageType, 1, 1, OptionHostname}}.bytes(), ServerPort), Want: IgnoreBadOptions},
		{Name: "short output buffer", Frame: withType(TypeDiscover), Size: MaxReplyLen - 1, Want: IgnoreShortBuffer},
		{Name: "no address", Cfg: &unconfigured, Frame: withType(TypeDiscover), Want: IgnoreNotConfigured},
	})
}

func TestIgnoreString(t *testing.T) {
	testnet.CheckNames(t, NumIgnores, "unknown")
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
	testnet.CheckReplyAllocs(t, Reply, &cfg, frame, MaxReplyLen)
}

func TestOptionsIterator(t *testing.T) {
	testnet.CheckOptions(t, NewOptions, []testnet.OptionsCase[uint8]{
		{Name: "empty", Area: nil},
		{Name: "pads only", Area: []byte{0, 0, 0}},
		{Name: "end stops", Area: []byte{1, 1, 9, 255, 2, 9}, WantCodes: []uint8{1}},
		{Name: "no end", Area: []byte{1, 0, 2, 1, 7}, WantCodes: []uint8{1, 2}},
		{Name: "zero length", Area: []byte{80, 0, 255}, WantCodes: []uint8{80}},
		{Name: "data past end", Area: []byte{1, 0, 2, 5, 7}, WantCodes: []uint8{1}, WantTruncated: true},
		{Name: "code alone", Area: []byte{0, 12}, WantTruncated: true},
	})
}

func TestMessageTypeString(t *testing.T) {
	testnet.CheckStrings(t, map[MessageType]string{
		TypeDiscover: "DISCOVER", TypeAck: "ACK", TypeInform: "INFORM", 0: "unknown", 9: "unknown",
	})
}
