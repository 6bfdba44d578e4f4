// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package dhcpv6

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"passt-go/internal/testnet"
	"passt-go/proto/dhcp/dnsname"
	"passt-go/proto/header"
)

const (
	elapsedTime = 8 // option code, sent by real clients
	oro         = 6 // option request option
)

// commonOptions are what a client like dhclient or systemd-networkd adds
// to every message.
func commonOptions() [][]byte {
	return [][]byte{
		option(elapsedTime, []byte{0, 0}),
		option(oro, []byte{0, 23, 0, 24, 0, 39}),
	}
}

func TestExchanges(t *testing.T) {
	cfg := testConfig()
	ours := cfg.DUID
	other := NewDUID(header.MAC{2, 0, 0, 0, 0, 1}, startTime)
	ia := iaNAOption(0x0a0b0c0d, 0, 0)
	iaOurs := iaNAOption(0x0a0b0c0d, 3600, 5400, iaAddrOption("2001:db8::10", 7200, 7500))
	fqdnS := option(OptionClientFQDN, []byte{fqdnS, 5, 'g', 'u', 'e', 's', 't', 0})
	fqdnNone := option(OptionClientFQDN, []byte{0, 0})
	withCommon := func(opts ...[]byte) [][]byte { return append(commonOptions(), opts...) }

	full := []uint16{OptionServerID, OptionIANA, OptionClientID, OptionDNSServers, OptionDomainList, OptionClientFQDN}
	noIA := []uint16{OptionServerID, OptionClientID, OptionDNSServers, OptionDomainList, OptionClientFQDN}
	tests := []struct {
		name      string
		typ       MessageType
		options   [][]byte
		wantType  MessageType
		wantCodes []uint16
		wantFlags byte
	}{
		{name: "SOLICIT gets ADVERTISE", typ: TypeSolicit,
			options:  withCommon(clientIDOption(), ia, fqdnNone),
			wantType: TypeAdvertise, wantCodes: full},
		{name: "SOLICIT with rapid commit still gets ADVERTISE", typ: TypeSolicit,
			options:  withCommon(clientIDOption(), ia, option(OptionRapidCommit)),
			wantType: TypeAdvertise, wantCodes: full},
		{name: "SOLICIT without IA_NA gets no IA", typ: TypeSolicit,
			options:  withCommon(clientIDOption()),
			wantType: TypeAdvertise, wantCodes: noIA},
		{name: "REQUEST with our server ID", typ: TypeRequest,
			options:  withCommon(clientIDOption(), serverIDOption(ours), iaOurs, fqdnS),
			wantType: TypeReply, wantCodes: full, wantFlags: fqdnO},
		{name: "REQUEST with an empty IA_NA", typ: TypeRequest,
			options:  withCommon(clientIDOption(), serverIDOption(ours), ia),
			wantType: TypeReply, wantCodes: full},
		{name: "RENEW with our server ID", typ: TypeRenew,
			options:  withCommon(serverIDOption(ours), clientIDOption(), iaOurs),
			wantType: TypeReply, wantCodes: full},
		{name: "CONFIRM of our address", typ: TypeConfirm,
			options:  withCommon(clientIDOption(), iaOurs),
			wantType: TypeReply, wantCodes: full},
		{name: "REBIND without server ID", typ: TypeRebind,
			options:  withCommon(clientIDOption(), iaOurs),
			wantType: TypeReply, wantCodes: full},
		{name: "REBIND naming us", typ: TypeRebind,
			options:  withCommon(clientIDOption(), serverIDOption(ours), iaOurs),
			wantType: TypeReply, wantCodes: full},
		{name: "INFORMATION-REQUEST", typ: TypeInformationRequest,
			options:  withCommon(clientIDOption()),
			wantType: TypeReply, wantCodes: noIA},
		{name: "INFORMATION-REQUEST naming us", typ: TypeInformationRequest,
			options:  withCommon(clientIDOption(), serverIDOption(ours)),
			wantType: TypeReply, wantCodes: noIA},
		{name: "repeated options: the first counts", typ: TypeRequest,
			options: withCommon(clientIDOption(), option(OptionClientID, []byte{0, 4, 9, 9}),
				serverIDOption(ours), serverIDOption(other), iaOurs, iaNAOption(1, 0, 0)),
			wantType: TypeReply, wantCodes: full},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const xid = 0x00abcdef
			d := reply(t, &cfg, toServers(message(tc.typ, xid, tc.options...)))
			testnet.CheckFields(t, testnet.Fields{
				{"type", d.msg.Type(), tc.wantType},
				{"xid", d.msg.XID(), uint32(xid)},
				{"IP source", d.frame.Src, cfg.OurLL},
				{"IP destination", d.frame.Dst, clientLL},
				{"hop limit", d.frame.TTL, uint8(255)},
				{"MAC source", d.frame.SrcMAC, ourMAC},
				{"MAC destination", d.frame.DstMAC, clientMAC},
			})
			if got := d.codes(); !slices.Equal(got, tc.wantCodes) {
				t.Errorf("options: got %v, want %v", got, tc.wantCodes)
			}
			if got, _ := d.find(OptionServerID); !bytes.Equal(got, ours[:]) {
				t.Errorf("server ID: got %x, want %x", got, ours)
			}
			if got, _ := d.find(OptionClientID); !bytes.Equal(got, clientDUID) {
				t.Errorf("client ID: got %x, want %x", got, clientDUID)
			}
			if iaData, ok := d.find(OptionIANA); ok {
				checkIANA(t, iaData, 0x0a0b0c0d, cfg.GuestAddr)
			}
			wantDNS := append(netip.MustParseAddr("2001:db8::53").AsSlice(), netip.MustParseAddr("2001:db8:1::53").AsSlice()...)
			if got, _ := d.find(OptionDNSServers); !bytes.Equal(got, wantDNS) {
				t.Errorf("DNS servers: got %x, want %x", got, wantDNS)
			}
			list, _ := d.find(OptionDomainList)
			names, ok := dnsname.ParseList(list)
			if want := []string{"corp.example.com", "example.com"}; !ok || !slices.Equal(names, want) {
				t.Errorf("domain list: got %q (ok %v), want %q", names, ok, want)
			}
			wantFQDN := []byte{tc.wantFlags, 5, 'g', 'u', 'e', 's', 't', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0}
			if got, _ := d.find(OptionClientFQDN); !bytes.Equal(got, wantFQDN) {
				t.Errorf("client FQDN: got %x, want %x", got, wantFQDN)
			}
		})
	}
}

// checkIANA checks an IA_NA of a successful reply: the IAID, infinite T1
// and T2, and one IAADDR with addr and infinite lifetimes, nothing else.
func checkIANA(t *testing.T, data []byte, iaid uint32, addr netip.Addr) {
	t.Helper()
	if len(data) < IANALen {
		t.Fatalf("IA_NA: got %v bytes, want at least %v", len(data), IANALen)
	}
	fixed := []uint32{binary.BigEndian.Uint32(data), binary.BigEndian.Uint32(data[4:]), binary.BigEndian.Uint32(data[8:])}
	if want := []uint32{iaid, infinite, infinite}; !slices.Equal(fixed, want) {
		t.Errorf("IAID, T1, T2: got %#x, want %#x", fixed, want)
	}
	inner := nested(t, OptionIANA, data)
	if len(inner) != 1 || inner[0].code != OptionIAAddr {
		t.Fatalf("IA_NA options: got %v, want one IAADDR", inner)
	}
	a := inner[0].data
	if len(a) != IAAddrLen {
		t.Fatalf("IAADDR: got %v bytes, want %v", len(a), IAAddrLen)
	}
	if got := netip.AddrFrom16([16]byte(a[:16])); got != addr {
		t.Errorf("IAADDR address: got %v, want %v", got, addr)
	}
	if pref, valid := binary.BigEndian.Uint32(a[16:]), binary.BigEndian.Uint32(a[20:]); pref != infinite || valid != infinite {
		t.Errorf("lifetimes: got %#x %#x, want %#x %#x", pref, valid, uint32(infinite), uint32(infinite))
	}
}

func TestNotOnLink(t *testing.T) {
	cfg := testConfig()
	ours := cfg.DUID
	foreign := iaAddrOption("2001:db8:ffff::99", 0, 0)
	tests := []struct {
		name      string
		typ       MessageType
		options   [][]byte
		wantIA    uint16
		wantFixed []byte // fixed part of the IA echoed
		wantTop   bool   // status NotOnLink for the whole message too
	}{
		{name: "CONFIRM with a foreign address", typ: TypeConfirm,
			options:   [][]byte{clientIDOption(), iaNAOption(7, 0, 0, foreign)},
			wantIA:    OptionIANA,
			wantFixed: slices.Concat(u32(7), u32(0), u32(0)),
			wantTop:   true},
		{name: "REQUEST with a foreign address", typ: TypeRequest,
			options:   [][]byte{clientIDOption(), serverIDOption(ours), iaNAOption(8, 100, 200, foreign)},
			wantIA:    OptionIANA,
			wantFixed: slices.Concat(u32(8), u32(100), u32(200))},
		{name: "RENEW with ours then a foreign address", typ: TypeRenew,
			options: [][]byte{clientIDOption(), serverIDOption(ours),
				iaNAOption(9, 0, 0, iaAddrOption("2001:db8::10", 0, 0), foreign)},
			wantIA:    OptionIANA,
			wantFixed: slices.Concat(u32(9), u32(0), u32(0))},
		{name: "REQUEST with a foreign temporary address", typ: TypeRequest,
			options:   [][]byte{clientIDOption(), serverIDOption(ours), iaNAOption(1, 0, 0), option(OptionIATA, u32(10), foreign)},
			wantIA:    OptionIATA,
			wantFixed: u32(10)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := reply(t, &cfg, toServers(message(tc.typ, 0x123456, tc.options...)))
			if d.msg.Type() != TypeReply || d.msg.XID() != 0x123456 {
				t.Errorf("got type %v xid %#x, want %v %#x", d.msg.Type(), d.msg.XID(), TypeReply, 0x123456)
			}
			want := []uint16{OptionServerID, tc.wantIA, OptionClientID}
			if tc.wantTop {
				want = append(want, OptionStatusCode)
			}
			if got := d.codes(); !slices.Equal(got, want) {
				t.Fatalf("options: got %v, want %v", got, want)
			}
			iaData, _ := d.find(tc.wantIA)
			if got := iaData[:len(tc.wantFixed)]; !bytes.Equal(got, tc.wantFixed) {
				t.Errorf("IA fixed part: got %x, want %x", got, tc.wantFixed)
			}
			inner := nested(t, tc.wantIA, iaData)
			if len(inner) != 1 || inner[0].code != OptionStatusCode {
				t.Fatalf("IA options: got %v, want one status code", inner)
			}
			checkStatus(t, inner[0].data, StatusNotOnLink)
			if tc.wantTop {
				top, _ := d.find(OptionStatusCode)
				checkStatus(t, top, StatusNotOnLink)
			}
			if got, _ := d.find(OptionClientID); !bytes.Equal(got, clientDUID) {
				t.Errorf("client ID: got %x, want %x", got, clientDUID)
			}
		})
	}
}

func checkStatus(t *testing.T, data []byte, want uint16) {
	t.Helper()
	if len(data) < 2 {
		t.Fatalf("status code: got %v bytes, want at least 2", len(data))
	}
	if got := binary.BigEndian.Uint16(data); got != want {
		t.Errorf("status: got %v, want %v", got, want)
	}
	if len(data) == 2 {
		t.Errorf("status message: got none, want one")
	}
}

func TestIgnored(t *testing.T) {
	cfg := testConfig()
	ours := cfg.DUID
	other := NewDUID(header.MAC{2, 0, 0, 0, 0, 1}, startTime)
	unconfigured := testConfig()
	unconfigured.GuestAddr = netip.Addr{}
	ia := iaNAOption(1, 0, 0)
	v4 := func() []byte {
		b := make([]byte, header.EthernetLen+header.IPv4MinLen+header.UDPLen+4)
		header.PutEthernet(b, header.BroadcastMAC, clientMAC, header.EtherTypeIPv4)
		header.PutIPv4(b[header.EthernetLen:], header.UDPLen+4, header.IPv4Fields{
			Src: netip.MustParseAddr("192.0.2.10"), Dst: netip.MustParseAddr("192.0.2.1"), Protocol: header.ProtocolUDP})
		header.PutUDP(b[header.EthernetLen+header.IPv4MinLen:], ClientPort, ServerPort, 4)
		return b
	}
	fromUnspecified := func() []byte {
		b := toServers(message(TypeSolicit, 1, clientIDOption()))
		copy(b[header.EthernetLen+8:], make([]byte, 16))
		return b
	}
	testnet.CheckIgnored(t, Reply, &cfg, MaxReplyLen, []testnet.IgnoreCase[Config, Ignore]{
		{Name: "RELEASE", Frame: toServers(message(TypeRelease, 1, clientIDOption(), serverIDOption(ours))), Want: IgnoreMessageType},
		{Name: "DECLINE", Frame: toServers(message(TypeDecline, 1, clientIDOption(), serverIDOption(ours))), Want: IgnoreMessageType},
		{Name: "ADVERTISE", Frame: toServers(message(TypeAdvertise, 1, clientIDOption())), Want: IgnoreMessageType},
		{Name: "RELAY-FORW", Frame: toServers(message(TypeRelayForward, 1, clientIDOption())), Want: IgnoreMessageType},
		{Name: "SOLICIT with server ID", Frame: toServers(message(TypeSolicit, 1, clientIDOption(), serverIDOption(ours))), Want: IgnoreServerID},
		{Name: "REQUEST without server ID", Frame: toServers(message(TypeRequest, 1, clientIDOption(), ia)), Want: IgnoreServerID},
		{Name: "REQUEST for another server", Frame: toServers(message(TypeRequest, 1, clientIDOption(), serverIDOption(other), ia)), Want: IgnoreServerID},
		{Name: "REQUEST with a short server ID", Frame: toServers(message(TypeRequest, 1, clientIDOption(), option(OptionServerID, ours[:13]), ia)), Want: IgnoreServerID},
		{Name: "RENEW for another server", Frame: toServers(message(TypeRenew, 1, clientIDOption(), serverIDOption(other), ia)), Want: IgnoreServerID},
		{Name: "CONFIRM with server ID", Frame: toServers(message(TypeConfirm, 1, clientIDOption(), serverIDOption(ours), ia)), Want: IgnoreServerID},
		{Name: "REBIND for another server", Frame: toServers(message(TypeRebind, 1, clientIDOption(), serverIDOption(other), ia)), Want: IgnoreServerID},
		{Name: "INFORMATION-REQUEST for another server", Frame: toServers(message(TypeInformationRequest, 1, clientIDOption(), serverIDOption(other))), Want: IgnoreServerID},
		{Name: "INFORMATION-REQUEST with IA_NA", Frame: toServers(message(TypeInformationRequest, 1, clientIDOption(), ia)), Want: IgnoreUnexpectedIA},
		{Name: "INFORMATION-REQUEST with IA_TA", Frame: toServers(message(TypeInformationRequest, 1, clientIDOption(), option(OptionIATA, u32(1)))), Want: IgnoreUnexpectedIA},
		{Name: "no client ID", Frame: toServers(message(TypeSolicit, 1, ia)), Want: IgnoreClientID},
		{Name: "empty client ID", Frame: toServers(message(TypeSolicit, 1, option(OptionClientID))), Want: IgnoreClientID},
		{Name: "client ID too long", Frame: toServers(message(TypeSolicit, 1, option(OptionClientID, make([]byte, MaxDUIDLen+1)))), Want: IgnoreClientID},
		{Name: "truncated option", Frame: toServers(message(TypeSolicit, 1, clientIDOption(), []byte{0, 8, 0, 2, 0})), Want: IgnoreBadOptions},
		{Name: "truncated option header", Frame: toServers(message(TypeSolicit, 1, clientIDOption(), []byte{0, 8, 0})), Want: IgnoreBadOptions},
		{Name: "IA_NA too short", Frame: toServers(message(TypeSolicit, 1, clientIDOption(), option(OptionIANA, u32(1), u32(0)))), Want: IgnoreBadIA},
		{Name: "IA_TA too short", Frame: toServers(message(TypeSolicit, 1, clientIDOption(), option(OptionIATA, []byte{1}))), Want: IgnoreBadIA},
		{Name: "IAADDR too short", Frame: toServers(message(TypeSolicit, 1, clientIDOption(),
			iaNAOption(1, 0, 0, option(OptionIAAddr, make([]byte, IAAddrLen-1))))), Want: IgnoreBadIA},
		{Name: "option truncated inside IA_NA", Frame: toServers(message(TypeSolicit, 1, clientIDOption(),
			iaNAOption(1, 0, 0, []byte{0, 5, 0, 30, 1, 2}))), Want: IgnoreBadOptions},
		{Name: "option truncated inside IAADDR", Frame: toServers(message(TypeSolicit, 1, clientIDOption(),
			iaNAOption(1, 0, 0, iaAddrOption("2001:db8::10", 0, 0, []byte{0, 13, 0, 9})))), Want: IgnoreBadOptions},
		{Name: "header only", Frame: toServers(message(TypeSolicit, 1)), Want: IgnoreClientID},
		{Name: "shorter than the header", Frame: toServers([]byte{1, 0, 0}), Want: IgnoreTooShort},
		{Name: "unicast destination", Frame: udpFrame(message(TypeSolicit, 1, clientIDOption()), netip.MustParseAddr("fe80::1"), ServerPort), Want: IgnoreNotMulticast},
		{Name: "all-nodes destination", Frame: udpFrame(message(TypeSolicit, 1, clientIDOption()), netip.MustParseAddr("ff02::1"), ServerPort), Want: IgnoreNotMulticast},
		{Name: "to port 546", Frame: udpFrame(message(TypeSolicit, 1, clientIDOption()), allRelayAgentsAndServers, ClientPort), Want: IgnoreNotDHCPv6},
		{Name: "IPv4", Frame: v4(), Want: IgnoreNotDHCPv6},
		{Name: "unspecified source", Frame: fromUnspecified(), Want: IgnoreBadSource},
		{Name: "short output buffer", Frame: toServers(message(TypeSolicit, 1, clientIDOption())), Size: MaxReplyLen - 1, Want: IgnoreShortBuffer},
		{Name: "no address", Cfg: &unconfigured, Frame: toServers(message(TypeSolicit, 1, clientIDOption())), Want: IgnoreNotConfigured},
	})
}

func TestIgnoreString(t *testing.T) {
	testnet.CheckNames(t, NumIgnores, "unknown")
}

func TestAllServersGroup(t *testing.T) {
	cfg := testConfig()
	frame := udpFrame(message(TypeSolicit, 5, clientIDOption()), netip.MustParseAddr("ff05::1:3"), ServerPort)
	if d := reply(t, &cfg, frame); d.msg.Type() != TypeAdvertise {
		t.Errorf("got %v, want %v", d.msg.Type(), TypeAdvertise)
	}
}

func TestOmittedOptions(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		absent uint16
	}{
		{name: "no DNS", modify: func(c *Config) { c.DNS = nil }, absent: OptionDNSServers},
		{name: "only IPv4 DNS", modify: func(c *Config) { c.DNS = []netip.Addr{netip.MustParseAddr("192.0.2.1")} }, absent: OptionDNSServers},
		{name: "no search list", modify: func(c *Config) { c.Search = nil }, absent: OptionDomainList},
		{name: "only invalid names", modify: func(c *Config) { c.Search = []string{".", "a..b"} }, absent: OptionDomainList},
		{name: "no FQDN", modify: func(c *Config) { c.FQDN = "" }, absent: OptionClientFQDN},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			tc.modify(&cfg)
			d := reply(t, &cfg, toServers(message(TypeSolicit, 1, clientIDOption(), iaNAOption(1, 0, 0))))
			if got, ok := d.find(tc.absent); ok {
				t.Errorf("got option %v = %x, want it absent", tc.absent, got)
			}
			if _, ok := d.find(OptionIANA); !ok {
				t.Errorf("got no IA_NA, want one")
			}
		})
	}
}

// TestCrowded gives more name servers and names than a reply can hold:
// the reply stays within the minimum MTU and the lists are cut.
func TestCrowded(t *testing.T) {
	cfg := testConfig()
	cfg.DNS = nil
	for i := range 50 {
		cfg.DNS = append(cfg.DNS, netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i)}))
	}
	cfg.Search = nil
	for i := range 40 {
		cfg.Search = append(cfg.Search, strings.Repeat(string(rune('a'+i%26)), 40)+".example.org")
	}
	cfg.FQDN = strings.Repeat("f", 63) + "." + strings.Repeat("g", 63) + ".example"
	d := reply(t, &cfg, toServers(message(TypeSolicit, 1, clientIDOption(), iaNAOption(1, 0, 0))))
	dns, _ := d.find(OptionDNSServers)
	if len(dns) != 50*16 {
		t.Errorf("DNS servers: got %v bytes, want %v", len(dns), 50*16)
	}
	list, _ := d.find(OptionDomainList)
	names, ok := dnsname.ParseList(list)
	if !ok || len(names) == 0 || len(names) >= len(cfg.Search) || !slices.Equal(names, cfg.Search[:len(names)]) {
		t.Errorf("domain list: got %v names (ok %v), want a strict prefix of %v", len(names), ok, len(cfg.Search))
	}
	if _, ok := d.find(OptionClientFQDN); ok {
		t.Errorf("got client FQDN, want it left out for lack of room")
	}
}

func TestNewDUID(t *testing.T) {
	mac := header.MAC{1, 2, 3, 4, 5, 6}
	tests := []struct {
		name string
		t    time.Time
		want uint32
	}{
		{name: "epoch", t: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), want: 0},
		{name: "1000 s later", t: time.Date(2000, 1, 1, 0, 16, 40, 0, time.UTC), want: 1000},
		{name: "before 2000", t: time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), want: 0},
		{name: "2026", t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), want: 820540800},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDUID(mac, tc.t)
			want := slices.Concat([]byte{0, 1, 0, 1}, u32(tc.want), mac[:])
			if !bytes.Equal(d[:], want) {
				t.Errorf("got %x, want %x", d[:], want)
			}
		})
	}
}

func TestReplyAllocs(t *testing.T) {
	cfg := testConfig()
	frame := toServers(message(TypeRequest, 1, clientIDOption(), serverIDOption(cfg.DUID),
		iaNAOption(1, 0, 0, iaAddrOption("2001:db8::10", 0, 0))))
	testnet.CheckReplyAllocs(t, Reply, &cfg, frame, MaxReplyLen)
}

func TestOptionsIterator(t *testing.T) {
	testnet.CheckOptions(t, NewOptions, []testnet.OptionsCase[uint16]{
		{Name: "empty", Area: nil},
		{Name: "two options", Area: []byte{0, 1, 0, 1, 9, 0, 2, 0, 0}, WantCodes: []uint16{1, 2}},
		{Name: "header cut", Area: []byte{0, 1, 0, 0, 0, 2, 0}, WantCodes: []uint16{1}, WantTruncated: true},
		{Name: "data cut", Area: []byte{0, 1, 0, 3, 1, 2}, WantTruncated: true},
		{Name: "maximal length", Area: []byte{0, 1, 0xff, 0xff}, WantTruncated: true},
	})
}

func TestMessageTypeString(t *testing.T) {
	testnet.CheckStrings(t, map[MessageType]string{
		TypeSolicit: "SOLICIT", TypeReply: "REPLY", TypeInformationRequest: "INFORMATION-REQUEST", 0: "unknown", 14: "unknown",
	})
}
