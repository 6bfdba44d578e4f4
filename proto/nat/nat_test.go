// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package nat

import (
	"errors"
	"net/netip"
	"testing"

	"passt-go/proto/header"
)

const (
	tcp    = header.ProtocolTCP
	udp    = header.ProtocolUDP
	icmp   = header.ProtocolICMP
	icmpv6 = header.ProtocolICMPv6
)

var a = netip.MustParseAddr

// podman is the configuration Podman gives pasta: DNS forwarding to a
// resolver, the host reachable at a map-guest-addr, no gateway mapping.
func podman() *Config {
	return &Config{
		Guest4: a("203.0.113.5"), Gateway4: a("203.0.113.1"),
		Guest6: a("2001:db8::5"), Gateway6: a("fe80::1"), OurLL6: a("fe80::2"),
		DNSForward4: a("169.254.1.1"), DNSHost4: a("198.51.100.53"),
		DNSForward6: a("fd00::53"), DNSHost6: a("::1"),
		MapGuestAddr4: a("169.254.1.2"), MapGuestAddr6: a("fd00::2"),
		NoMapGW: true,
	}
}

// defaults is passt's default: the gateway stands for the host, and a
// loopback resolver is reached through the gateway.
func defaults() *Config {
	return &Config{
		Guest4: a("203.0.113.5"), Gateway4: a("203.0.113.1"),
		Guest6: a("2001:db8::5"), Gateway6: a("fe80::1"), OurLL6: a("fe80::2"),
		DNSForward4: a("203.0.113.1"), DNSHost4: a("127.0.0.53"),
	}
}

func TestOutbound(t *testing.T) {
	explicit := defaults()
	explicit.MapHostLoopback4 = a("192.0.2.99")
	explicit.NoMapGW = true
	noGuest := podman()
	noGuest.Guest4 = netip.Addr{}
	tests := []struct {
		name   string
		cfg    *Config
		proto  header.IPProtocol
		dst    netip.Addr
		port   uint16
		want   netip.Addr
		wantOK bool
	}{
		{name: "dns udp 53 forwarded", cfg: podman(), proto: udp, dst: a("169.254.1.1"), port: 53, want: a("198.51.100.53"), wantOK: true},
		{name: "dns tcp 53 forwarded", cfg: podman(), proto: tcp, dst: a("169.254.1.1"), port: 53, want: a("198.51.100.53"), wantOK: true},
		{name: "dns over tls 853 forwarded", cfg: podman(), proto: tcp, dst: a("169.254.1.1"), port: 853, want: a("198.51.100.53"), wantOK: true},
		{name: "dns v6 to loopback resolver", cfg: podman(), proto: udp, dst: a("fd00::53"), port: 53, want: a("::1"), wantOK: true},
		{name: "other port at dns address unchanged", cfg: podman(), proto: tcp, dst: a("169.254.1.1"), port: 80, want: a("169.254.1.1"), wantOK: true},
		{name: "icmp at dns address unchanged", cfg: podman(), proto: icmp, dst: a("169.254.1.1"), port: 53, want: a("169.254.1.1"), wantOK: true},
		{name: "dns rule before host loopback", cfg: defaults(), proto: udp, dst: a("203.0.113.1"), port: 53, want: a("127.0.0.53"), wantOK: true},
		{name: "gateway is host loopback by default", cfg: defaults(), proto: tcp, dst: a("203.0.113.1"), port: 22, want: a("127.0.0.1"), wantOK: true},
		{name: "icmp to gateway reaches host loopback", cfg: defaults(), proto: icmp, dst: a("203.0.113.1"), want: a("127.0.0.1"), wantOK: true},
		{name: "v6 gateway is host loopback", cfg: defaults(), proto: icmpv6, dst: a("fe80::1"), want: a("::1"), wantOK: true},
		{name: "no-map-gw keeps gateway", cfg: podman(), proto: tcp, dst: a("203.0.113.1"), port: 22, want: a("203.0.113.1"), wantOK: true},
		{name: "explicit map-host-loopback wins over no-map-gw", cfg: explicit, proto: tcp, dst: a("192.0.2.99"), port: 22, want: a("127.0.0.1"), wantOK: true},
		{name: "explicit map-host-loopback replaces gateway", cfg: explicit, proto: tcp, dst: a("203.0.113.1"), port: 22, want: a("203.0.113.1"), wantOK: true},
		{name: "map-guest-addr to guest address", cfg: podman(), proto: tcp, dst: a("169.254.1.2"), port: 8080, want: a("203.0.113.5"), wantOK: true},
		{name: "map-guest-addr v6", cfg: podman(), proto: icmpv6, dst: a("fd00::2"), want: a("2001:db8::5"), wantOK: true},
		{name: "map-guest-addr without guest address refused", cfg: noGuest, proto: tcp, dst: a("169.254.1.2"), port: 1},
		{name: "ordinary address unchanged", cfg: podman(), proto: tcp, dst: a("198.51.100.7"), port: 443, want: a("198.51.100.7"), wantOK: true},
		{name: "ordinary v6 unchanged", cfg: podman(), proto: udp, dst: a("2001:db8:1::7"), port: 123, want: a("2001:db8:1::7"), wantOK: true},
		{name: "loopback refused", cfg: podman(), proto: tcp, dst: a("127.0.0.1"), port: 22},
		{name: "all of 127/8 refused", cfg: podman(), proto: udp, dst: a("127.1.2.3"), port: 53},
		{name: "v6 loopback refused", cfg: podman(), proto: tcp, dst: a("::1"), port: 22},
		{name: "unspecified refused", cfg: podman(), proto: tcp, dst: a("0.0.0.0"), port: 22},
		{name: "v6 unspecified refused", cfg: podman(), proto: icmpv6, dst: a("::")},
		{name: "v4-mapped loopback refused", cfg: podman(), proto: tcp, dst: a("::ffff:127.0.0.1"), port: 22},
		{name: "v4-mapped refused", cfg: podman(), proto: tcp, dst: a("::ffff:198.51.100.7"), port: 22},
		{name: "invalid refused", cfg: podman(), proto: tcp, dst: netip.Addr{}, port: 22},
		{name: "empty config unchanged", cfg: &Config{}, proto: tcp, dst: a("198.51.100.7"), port: 53, want: a("198.51.100.7"), wantOK: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.cfg.Outbound(tc.proto, tc.dst, tc.port)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("got %v %v, want %v %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestInbound(t *testing.T) {
	noMapGuest := defaults()
	noLL := defaults()
	noLL.OurLL6 = netip.Addr{}
	noGW := defaults()
	noGW.Gateway4 = netip.Addr{}
	tests := []struct {
		name   string
		cfg    *Config
		src    netip.Addr
		want   netip.Addr
		wantOK bool
	}{
		{name: "loopback to gateway by default", cfg: defaults(), src: a("127.0.0.1"), want: a("203.0.113.1"), wantOK: true},
		{name: "v6 loopback to gateway", cfg: defaults(), src: a("::1"), want: a("fe80::1"), wantOK: true},
		{name: "v4-mapped loopback as v4", cfg: defaults(), src: a("::ffff:127.0.0.1"), want: a("203.0.113.1"), wantOK: true},
		{name: "other 127/8 not mapped, gateway", cfg: podman(), src: a("127.0.0.2"), want: a("203.0.113.1"), wantOK: true},
		{name: "loopback without map becomes gateway", cfg: podman(), src: a("127.0.0.1"), want: a("203.0.113.1"), wantOK: true},
		{name: "v6 loopback without map becomes our LL", cfg: podman(), src: a("::1"), want: a("fe80::2"), wantOK: true},
		{name: "guest address to map-guest-addr", cfg: podman(), src: a("203.0.113.5"), want: a("169.254.1.2"), wantOK: true},
		{name: "guest v6 address to map-guest-addr", cfg: podman(), src: a("2001:db8::5"), want: a("fd00::2"), wantOK: true},
		{name: "guest address without map becomes gateway", cfg: noMapGuest, src: a("203.0.113.5"), want: a("203.0.113.1"), wantOK: true},
		{name: "guest v6 address without map becomes our LL", cfg: noMapGuest, src: a("2001:db8::5"), want: a("fe80::2"), wantOK: true},
		{name: "remote kept", cfg: podman(), src: a("198.51.100.7"), want: a("198.51.100.7"), wantOK: true},
		{name: "remote v6 kept", cfg: podman(), src: a("2001:db8:1::7"), want: a("2001:db8:1::7"), wantOK: true},
		{name: "v4-mapped remote as v4", cfg: podman(), src: a("::ffff:198.51.100.7"), want: a("198.51.100.7"), wantOK: true},
		{name: "dns host is just another source", cfg: podman(), src: a("198.51.100.53"), want: a("198.51.100.53"), wantOK: true},
		{name: "unspecified becomes gateway", cfg: podman(), src: a("0.0.0.0"), want: a("203.0.113.1"), wantOK: true},
		{name: "nothing usable v6 dropped", cfg: noLL, src: a("::"), wantOK: false},
		{name: "nothing usable v4 dropped", cfg: noGW, src: a("127.0.0.9"), wantOK: false},
		{name: "invalid dropped", cfg: podman(), src: netip.Addr{}, wantOK: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.cfg.Inbound(tc.src)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("got %v %v, want %v %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestReverse(t *testing.T) {
	tests := []struct {
		name   string
		cfg    *Config
		proto  header.IPProtocol
		src    netip.Addr
		port   uint16
		want   netip.Addr
		wantOK bool
	}{
		{name: "dns reply to forwarding address", cfg: podman(), proto: udp, src: a("198.51.100.53"), port: 53, want: a("169.254.1.1"), wantOK: true},
		{name: "dns over tls reply", cfg: podman(), proto: tcp, src: a("198.51.100.53"), port: 853, want: a("169.254.1.1"), wantOK: true},
		{name: "v6 loopback resolver reply", cfg: podman(), proto: udp, src: a("::1"), port: 53, want: a("fd00::53"), wantOK: true},
		{name: "loopback resolver via gateway", cfg: defaults(), proto: udp, src: a("127.0.0.53"), port: 53, want: a("203.0.113.1"), wantOK: true},
		{name: "dns host other port kept", cfg: podman(), proto: tcp, src: a("198.51.100.53"), port: 80, want: a("198.51.100.53"), wantOK: true},
		{name: "icmp from dns host kept", cfg: podman(), proto: icmp, src: a("198.51.100.53"), port: 53, want: a("198.51.100.53"), wantOK: true},
		{name: "host loopback reply", cfg: defaults(), proto: tcp, src: a("127.0.0.1"), port: 22, want: a("203.0.113.1"), wantOK: true},
		{name: "guest address reply", cfg: podman(), proto: tcp, src: a("203.0.113.5"), port: 8080, want: a("169.254.1.2"), wantOK: true},
		{name: "remote reply kept", cfg: podman(), proto: udp, src: a("198.51.100.9"), port: 53, want: a("198.51.100.9"), wantOK: true},
		{name: "invalid", cfg: podman(), proto: udp, src: netip.Addr{}, port: 53},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.cfg.Reverse(tc.proto, tc.src, tc.port)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("got %v %v, want %v %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(c *Config)
		wantField string
	}{
		{name: "podman config valid", edit: func(*Config) {}},
		{name: "empty config valid", edit: func(c *Config) { *c = Config{} }},
		{name: "loopback dns host allowed", edit: func(c *Config) { c.DNSHost4 = a("127.0.0.53") }},
		{name: "v6 in v4 field", edit: func(c *Config) { c.Guest4 = a("2001:db8::1") }, wantField: "Guest4"},
		{name: "v4 in v6 field", edit: func(c *Config) { c.Gateway6 = a("192.0.2.1") }, wantField: "Gateway6"},
		{name: "v4-mapped in v6 field", edit: func(c *Config) { c.MapGuestAddr6 = a("::ffff:192.0.2.1") }, wantField: "MapGuestAddr6"},
		{name: "loopback map-host-loopback", edit: func(c *Config) { c.MapHostLoopback4 = a("127.0.0.1") }, wantField: "MapHostLoopback4"},
		{name: "loopback gateway", edit: func(c *Config) { c.Gateway6 = a("::1") }, wantField: "Gateway6"},
		{name: "unspecified guest", edit: func(c *Config) { c.Guest4 = a("0.0.0.0") }, wantField: "Guest4"},
		{name: "multicast forward", edit: func(c *Config) { c.DNSForward6 = a("ff02::1") }, wantField: "DNSForward6"},
		{name: "unspecified dns host", edit: func(c *Config) { c.DNSHost6 = a("::") }, wantField: "DNSHost6"},
		{name: "zone", edit: func(c *Config) { c.OurLL6 = a("fe80::2%eth0") }, wantField: "OurLL6"},
		{name: "our LL not link-local", edit: func(c *Config) { c.OurLL6 = a("2001:db8::2") }, wantField: "OurLL6"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := podman()
			tc.edit(c)
			err := c.Validate()
			var ce *ConfigError
			got := ""
			if errors.As(err, &ce) {
				got = ce.Field
			} else if err != nil {
				t.Fatalf("got %T error, want *ConfigError", err)
			}
			if got != tc.wantField {
				t.Errorf("got field %q (%v), want %q", got, err, tc.wantField)
			}
		})
	}
}

func TestZeroAllocs(t *testing.T) {
	c := podman()
	dst, src := a("169.254.1.1"), a("::ffff:127.0.0.1")
	var sink netip.Addr
	tests := []struct {
		name string
		fn   func()
	}{
		{name: "outbound", fn: func() { sink, _ = c.Outbound(udp, dst, 53) }},
		{name: "inbound", fn: func() { sink, _ = c.Inbound(src) }},
		{name: "reverse", fn: func() { sink, _ = c.Reverse(udp, src, 53) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, tc.fn); got != 0 {
				t.Errorf("got %v allocations, want 0", got)
			}
		})
	}
	_ = sink
}

func BenchmarkOutbound(b *testing.B) {
	c := podman()
	dst := a("198.51.100.7")
	for b.Loop() {
		if _, ok := c.Outbound(tcp, dst, 443); !ok {
			b.Fatal("refused")
		}
	}
}

func BenchmarkInbound(b *testing.B) {
	c := defaults()
	src := a("127.0.0.1")
	for b.Loop() {
		if _, ok := c.Inbound(src); !ok {
			b.Fatal("refused")
		}
	}
}
