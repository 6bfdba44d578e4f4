// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package conf

import (
	"encoding/json"
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"passt-go/fwd"
	"passt-go/host"
	"passt-go/proto/flow"
)

// portCall is one call of the fake port parser.
type portCall struct {
	specs []string
	ctx   fwd.Context
}

// fakePorts records its calls and builds empty tables; a spec "bad" fails.
type fakePorts struct{ calls []portCall }

func (f *fakePorts) parse(specs []string, ctx fwd.Context) (*fwd.Table, error) {
	f.calls = append(f.calls, portCall{slices.Clone(specs), ctx})
	if slices.Contains(specs, "4444") { // a valid spec this parser refuses
		return nil, errors.New("Invalid port specifier 4444")
	}
	return &fwd.Table{}, nil
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// hostInfo is a dual-stack host: eth0 with 192.0.2.10/24 via 192.0.2.1 and
// 2001:db8::10/64 via the router fe80::ff, resolvers in both families.
func hostInfo() *host.Info {
	return &host.Info{
		V4: &host.Family{
			Ifname: "eth0", Ifindex: 2, MTU: 1500,
			Addrs:   []netip.Prefix{pfx("192.0.2.10/24"), pfx("198.51.100.10/24")},
			Gateway: addr("192.0.2.1"),
			Routes: []host.Route{
				{Dst: pfx("0.0.0.0/0"), Gateway: addr("192.0.2.1"), Priority: 100, Table: 254},
				{Dst: pfx("192.0.2.0/24"), Priority: 100, Table: 254},
			},
		},
		V6: &host.Family{
			Ifname: "eth0", Ifindex: 2, MTU: 1500,
			Addrs:     []netip.Prefix{pfx("2001:db8::10/64")},
			LinkLocal: addr("fe80::10"),
			Gateway:   addr("fe80::ff"),
			Routes:    []host.Route{{Dst: pfx("::/0"), Gateway: addr("fe80::ff"), Priority: 1024, Table: 254}},
		},
		Nameservers:    []netip.Addr{addr("192.0.2.53"), addr("2001:db8::53")},
		Search:         []string{"example.org", "example.net"},
		Hostname:       "host",
		EphemeralPorts: [2]uint16{32768, 60999},
		Looked:         []string{"eth0"},
	}
}

// withInfo returns hostInfo changed by f.
func withInfo(f func(*host.Info)) *host.Info {
	i := hostInfo()
	f(i)
	return i
}

func mustParse(t *testing.T, mode Mode, args ...string) *Options {
	t.Helper()
	o, _, err := Parse(mode, args)
	if err != nil {
		t.Fatalf("Parse(%s, %q): %v", mode, args, err)
	}
	return o
}

// mustResolve parses args for mode and resolves them against info, the
// port specifications with parse, failing the test on an error.
func mustResolve(t *testing.T, mode Mode, info *host.Info, parse portParser, args ...string) *Config {
	t.Helper()
	c, err := resolve(mustParse(t, mode, args...), info, parse)
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	return c
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name string
		mode Mode
		args []string
		info *host.Info
		get  func(c *Config) any
		want any
	}{
		// The guest gets the host's addressing.
		{name: "v4 address from template", mode: Passt, info: hostInfo(),
			get:  func(c *Config) any { return [3]any{c.IPv4.Addr, c.IPv4.PrefixLen, c.IPv4.Gateway} },
			want: [3]any{addr("192.0.2.10"), 24, addr("192.0.2.1")}},
		{name: "v4 address with the longest prefix", mode: Passt,
			info: withInfo(func(i *host.Info) { i.V4.Addrs = append(i.V4.Addrs, pfx("203.0.113.7/28")) }),
			get:  func(c *Config) any { return [2]any{c.IPv4.Addr, c.IPv4.PrefixLen} }, want: [2]any{addr("203.0.113.7"), 28}},
		{name: "v6 address with the longest prefix", mode: Passt,
			info: withInfo(func(i *host.Info) { i.V6.Addrs = []netip.Prefix{pfx("2001:db8::10/64"), pfx("2001:db8:1::5/128")} }),
			get:  func(c *Config) any { return [2]any{c.IPv6.Addr, c.IPv6.PrefixLen} }, want: [2]any{addr("2001:db8:1::5"), 64}},
		{name: "v4 template recorded", mode: Passt, info: hostInfo(),
			get:  func(c *Config) any { return [4]any{c.IPv4.Enabled, c.IPv4.Local, c.IPv4.Ifname, c.IPv4.Ifindex} },
			want: [4]any{true, false, "eth0", 2}},
		{name: "v4 address not fixed", mode: Passt, info: hostInfo(),
			get: func(c *Config) any { return c.IPv4.AddrFixed }, want: false},
		{name: "v6 address from template", mode: Passt, info: hostInfo(),
			get:  func(c *Config) any { return [4]any{c.IPv6.Addr, c.IPv6.PrefixLen, c.IPv6.Gateway, c.IPv6.LinkLocal} },
			want: [4]any{addr("2001:db8::10"), 64, addr("fe80::ff"), addr("fe80::ff")}},
		{name: "v6 global gateway keeps host link-local", mode: Passt,
			info: withInfo(func(i *host.Info) { i.V6.Gateway = addr("2001:db8::1") }),
			get:  func(c *Config) any { return [2]any{c.IPv6.Gateway, c.IPv6.LinkLocal} },
			want: [2]any{addr("2001:db8::1"), addr("fe80::10")}},
		{name: "gateway maps to host loopback", mode: Passt, info: hostInfo(),
			get:  func(c *Config) any { return [2]any{c.IPv4.MapHostLoopback, c.IPv6.MapHostLoopback} },
			want: [2]any{addr("192.0.2.1"), addr("fe80::ff")}},
		{name: "default flow table", mode: Passt, info: hostInfo(),
			get: func(c *Config) any { return c.MaxFlows }, want: flow.DefaultCapacity},
		{name: "--max-flows", mode: Pasta, args: []string{"--max-flows", "500"}, info: hostInfo(),
			get: func(c *Config) any { return c.MaxFlows }, want: 500},
		{name: "all handlers on", mode: Passt, info: hostInfo(),
			get:  func(c *Config) any { return [7]bool{c.TCP, c.UDP, c.ICMP, c.DHCP, c.NDP, c.DHCPv6, c.RA} },
			want: [7]bool{true, true, true, true, true, true, true}},
		{name: "defaults carried", mode: Passt, info: hostInfo(),
			get:  func(c *Config) any { return [4]any{c.MAC, c.MTU, c.FD, c.Log.Size} },
			want: [4]any{DefaultMAC, DefaultMTU, -1, int64(DefaultLogSize)}},
		{name: "passt has no namespace", mode: Passt, info: hostInfo(),
			get: func(c *Config) any { return c.Namespace == nil }, want: true},

		// Overrides.
		{name: "-a -g", mode: Passt, args: []string{"-a", "10.0.0.2/16", "-g", "10.0.0.1"}, info: hostInfo(),
			get:  func(c *Config) any { return [4]any{c.IPv4.Addr, c.IPv4.PrefixLen, c.IPv4.Gateway, c.IPv4.AddrFixed} },
			want: [4]any{addr("10.0.0.2"), 16, addr("10.0.0.1"), true}},
		{name: "-a keeps host gateway", mode: Passt, args: []string{"-a", "192.0.2.99"}, info: hostInfo(),
			get:  func(c *Config) any { return [3]any{c.IPv4.Addr, c.IPv4.PrefixLen, c.IPv4.Gateway} },
			want: [3]any{addr("192.0.2.99"), 24, addr("192.0.2.1")}},
		{name: "-n applies to host address", mode: Passt, args: []string{"-n", "255.255.0.0"}, info: hostInfo(),
			get:  func(c *Config) any { return [2]any{c.IPv4.Addr, c.IPv4.PrefixLen} },
			want: [2]any{addr("192.0.2.10"), 16}},
		{name: "-g overrides gateway and mapping", mode: Passt, args: []string{"-g", "192.0.2.254"}, info: hostInfo(),
			get:  func(c *Config) any { return [2]any{c.IPv4.Gateway, c.IPv4.MapHostLoopback} },
			want: [2]any{addr("192.0.2.254"), addr("192.0.2.254")}},
		{name: "-a v6", mode: Passt, args: []string{"-a", "2001:db8::99"}, info: hostInfo(),
			get:  func(c *Config) any { return [2]any{c.IPv6.Addr, c.IPv6.AddrFixed} },
			want: [2]any{addr("2001:db8::99"), true}},
		{name: "-m", mode: Passt, args: []string{"-m", "1400"}, info: hostInfo(),
			get: func(c *Config) any { return c.MTU }, want: 1400},
		{name: "-M", mode: Passt, args: []string{"-M", "02:00:00:00:00:01"}, info: hostInfo(),
			get: func(c *Config) any { return c.MAC }, want: MAC{2, 0, 0, 0, 0, 1}},
		{name: "-H --fqdn", mode: Passt, args: []string{"-H", "vm", "--fqdn", "vm.example.org"}, info: hostInfo(),
			get: func(c *Config) any { return [2]string{c.Hostname, c.FQDN} }, want: [2]string{"vm", "vm.example.org"}},
		{name: "-o --outbound-if4", mode: Passt, args: []string{"-o", "192.0.2.10", "--outbound-if4", "eth0"}, info: hostInfo(),
			get: func(c *Config) any { return [2]any{c.IPv4.Outbound, c.IPv4.OutboundIf} }, want: [2]any{addr("192.0.2.10"), "eth0"}},
		{name: "-i", mode: Passt, args: []string{"-i", "eth1"},
			info: withInfo(func(i *host.Info) { i.V4.Ifname, i.V6.Ifname = "eth1", "eth1" }),
			get:  func(c *Config) any { return [2]string{c.IPv4.Ifname, c.IPv6.Ifname} }, want: [2]string{"eth1", "eth1"}},
		{name: "-F implies one-off", mode: Passt, args: []string{"-F", "5"}, info: hostInfo(),
			get: func(c *Config) any { return [2]any{c.FD, c.OneOff} }, want: [2]any{5, true}},
		{name: "logging", mode: Passt, args: []string{"--trace", "-l", "/tmp/log", "--log-size", "65536", "-f"}, info: hostInfo(),
			get:  func(c *Config) any { return c.Log },
			want: Log{Debug: true, Trace: true, File: "/tmp/log", Size: 65536}},

		// Families.
		{name: "-4", mode: Passt, args: []string{"-4"}, info: hostInfo(),
			get:  func(c *Config) any { return [5]bool{c.IPv4.Enabled, c.IPv6.Enabled, c.NDP, c.DHCPv6, c.RA} },
			want: [5]bool{true, false, false, false, false}},
		{name: "-6", mode: Passt, args: []string{"-6"}, info: hostInfo(),
			get:  func(c *Config) any { return [3]bool{c.IPv4.Enabled, c.IPv6.Enabled, c.DHCP} },
			want: [3]bool{false, true, false}},
		{name: "-4 leaves no IPv6 DNS", mode: Passt, args: []string{"-4"}, info: hostInfo(),
			get: func(c *Config) any { return c.IPv6.DNS }, want: []netip.Addr(nil)},
		{name: "no IPv6 on host: local mode", mode: Passt, info: withInfo(func(i *host.Info) { i.V6 = nil }),
			get: func(c *Config) any {
				return [7]any{c.IPv6.Enabled, c.IPv6.Local, c.IPv6.Addr, c.IPv6.Gateway, c.IPv6.LinkLocal, c.NDP, c.DHCPv6}
			},
			want: [7]any{true, true, netip.Addr{}, LocalGateway6, LocalGateway6, true, false}},
		{name: "no IPv4 on host: local mode", mode: Passt, info: withInfo(func(i *host.Info) { i.V4 = nil }),
			get: func(c *Config) any {
				return [5]any{c.IPv4.Local, c.IPv4.Addr, c.IPv4.PrefixLen, c.IPv4.Gateway, c.DHCP}
			},
			want: [5]any{true, LocalAddr4, 16, LocalGateway4, true}},
		{name: "IPv4 template without addresses is local mode", mode: Passt,
			info: withInfo(func(i *host.Info) { i.V4.Addrs = nil }),
			get:  func(c *Config) any { return [2]any{c.IPv4.Local, c.IPv4.Addr} }, want: [2]any{true, LocalAddr4}},
		{name: "no template, built from -a -g", mode: Passt, args: []string{"-a", "10.0.0.2/24", "-g", "10.0.0.1"},
			info: withInfo(func(i *host.Info) { i.V4, i.V6 = nil, nil }),
			get: func(c *Config) any {
				return [5]any{c.IPv4.Local, c.IPv4.Addr, c.IPv4.PrefixLen, c.IPv4.Gateway, c.IPv6.Gateway}
			},
			want: [5]any{true, addr("10.0.0.2"), 24, addr("10.0.0.1"), LocalGateway6}},
		{name: "local mode with -a only keeps class prefix", mode: Passt, args: []string{"-a", "10.0.0.2"},
			info: withInfo(func(i *host.Info) { i.V4, i.V6 = nil, nil }),
			get:  func(c *Config) any { return [2]any{c.IPv4.PrefixLen, c.IPv4.Gateway} }, want: [2]any{8, LocalGateway4}},
		{name: "IPv4 without default route: no DHCP, no mapping", mode: Passt,
			info: withInfo(func(i *host.Info) { i.V4.Gateway = netip.Addr{} }),
			get: func(c *Config) any {
				return [3]any{c.DHCP, c.IPv4.Gateway, c.IPv4.MapHostLoopback}
			},
			want: [3]any{false, netip.Addr{}, netip.Addr{}}},
		{name: "IPv6 without address: no DHCPv6", mode: Passt, info: withInfo(func(i *host.Info) { i.V6.Addrs = nil }),
			get: func(c *Config) any { return [3]any{c.DHCPv6, c.NDP, c.IPv6.Local} }, want: [3]any{false, true, true}},
		{name: "IPv6 template without gateway uses our link-local", mode: Passt,
			info: withInfo(func(i *host.Info) { i.V6.Gateway = netip.Addr{} }),
			get:  func(c *Config) any { return [2]any{c.IPv6.Gateway, c.IPv6.LinkLocal} }, want: [2]any{addr("fe80::10"), addr("fe80::10")}},

		// Protocol switches.
		{name: "--no-icmp implies no NDP", mode: Passt, args: []string{"--no-icmp"}, info: hostInfo(),
			get: func(c *Config) any { return [3]bool{c.ICMP, c.NDP, c.RA} }, want: [3]bool{false, false, false}},
		{name: "--no-ra", mode: Passt, args: []string{"--no-ra"}, info: hostInfo(),
			get: func(c *Config) any { return [2]bool{c.NDP, c.RA} }, want: [2]bool{true, false}},
		{name: "--no-dhcp --no-dhcpv6", mode: Passt, args: []string{"--no-dhcp", "--no-dhcpv6"}, info: hostInfo(),
			get: func(c *Config) any { return [2]bool{c.DHCP, c.DHCPv6} }, want: [2]bool{false, false}},

		// Names.
		{name: "host nameservers", mode: Passt, info: hostInfo(),
			get:  func(c *Config) any { return [2][]netip.Addr{c.IPv4.DNS, c.IPv6.DNS} },
			want: [2][]netip.Addr{{addr("192.0.2.53")}, {addr("2001:db8::53")}}},
		{name: "DNS host defaults to first resolver", mode: Passt, info: hostInfo(),
			get:  func(c *Config) any { return [2]netip.Addr{c.IPv4.DNSHost, c.IPv6.DNSHost} },
			want: [2]netip.Addr{addr("192.0.2.53"), addr("2001:db8::53")}},
		{name: "no forwarding without loopback resolver", mode: Passt, info: hostInfo(),
			get: func(c *Config) any { return [2]netip.Addr{c.IPv4.DNSForward, c.IPv6.DNSForward} }, want: [2]netip.Addr{}},
		{name: "-D replaces one family", mode: Passt, args: []string{"-D", "9.9.9.9"}, info: hostInfo(),
			get:  func(c *Config) any { return [2][]netip.Addr{c.IPv4.DNS, c.IPv6.DNS} },
			want: [2][]netip.Addr{{addr("9.9.9.9")}, {addr("2001:db8::53")}}},
		{name: "-D loopback given without remapping", mode: Passt, args: []string{"-D", "127.0.0.1"}, info: hostInfo(),
			get: func(c *Config) any { return [2]any{c.IPv4.DNS, c.IPv4.DNSForward} }, want: [2]any{[]netip.Addr{addr("127.0.0.1")}, netip.Addr{}}},
		{name: "-D none", mode: Passt, args: []string{"-D", "none"}, info: hostInfo(),
			get: func(c *Config) any { return [2][]netip.Addr{c.IPv4.DNS, c.IPv6.DNS} }, want: [2][]netip.Addr{}},
		{name: "-S", mode: Passt, args: []string{"-S", "a.example b.example"}, info: hostInfo(),
			get: func(c *Config) any { return c.Search }, want: []string{"a.example", "b.example"}},
		{name: "search from host", mode: Passt, info: hostInfo(),
			get: func(c *Config) any { return c.Search }, want: []string{"example.org", "example.net"}},
		{name: "-S none", mode: Passt, args: []string{"-S", "none"}, info: hostInfo(),
			get: func(c *Config) any { return c.Search }, want: []string(nil)},
		{name: "--no-dhcp-dns", mode: Passt, args: []string{"--no-dhcp-dns", "--no-dhcp-search"}, info: hostInfo(),
			get: func(c *Config) any { return [2]bool{c.AdvertiseDNS, c.AdvertiseSearch} }, want: [2]bool{false, false}},
		{name: "loopback resolver advertised as gateway", mode: Passt,
			info: withInfo(func(i *host.Info) { i.Nameservers = []netip.Addr{addr("127.0.0.53"), addr("::1")} }),
			get: func(c *Config) any {
				return [6]any{c.IPv4.DNS, c.IPv4.DNSForward, c.IPv4.DNSHost, c.IPv6.DNS, c.IPv6.DNSForward, c.IPv6.DNSHost}
			},
			want: [6]any{[]netip.Addr{addr("192.0.2.1")}, addr("192.0.2.1"), addr("127.0.0.53"),
				[]netip.Addr{addr("fe80::ff")}, addr("fe80::ff"), addr("::1")}},
		{name: "two loopback resolvers advertised once", mode: Passt,
			info: withInfo(func(i *host.Info) {
				i.Nameservers = []netip.Addr{addr("127.0.0.53"), addr("127.0.0.1"), addr("192.0.2.53")}
			}),
			get:  func(c *Config) any { return [2]any{c.IPv4.DNS, c.IPv4.DNSHost} },
			want: [2]any{[]netip.Addr{addr("192.0.2.1"), addr("192.0.2.53")}, addr("127.0.0.53")}},
		{name: "resolver at the gateway address is forwarded", mode: Passt,
			info: withInfo(func(i *host.Info) { i.Nameservers = []netip.Addr{addr("192.0.2.1")} }),
			get:  func(c *Config) any { return [3]any{c.IPv4.DNS, c.IPv4.DNSForward, c.IPv4.DNSHost} },
			want: [3]any{[]netip.Addr{addr("192.0.2.1")}, addr("192.0.2.1"), addr("192.0.2.1")}},
		{name: "loopback resolver with --dns-forward", mode: Pasta, args: []string{"--dns-forward", "169.254.1.1"},
			info: withInfo(func(i *host.Info) { i.Nameservers = []netip.Addr{addr("127.0.0.53")} }),
			get:  func(c *Config) any { return [3]any{c.IPv4.DNS, c.IPv4.DNSForward, c.IPv4.DNSHost} },
			want: [3]any{[]netip.Addr{addr("169.254.1.1")}, addr("169.254.1.1"), addr("127.0.0.53")}},
		{name: "--dns-forward with ordinary resolver", mode: Pasta, args: []string{"--dns-forward", "169.254.1.1"}, info: hostInfo(),
			get:  func(c *Config) any { return [3]any{c.IPv4.DNS, c.IPv4.DNSForward, c.IPv4.DNSHost} },
			want: [3]any{[]netip.Addr{addr("192.0.2.53")}, addr("169.254.1.1"), addr("192.0.2.53")}},
		{name: "--dns-host", mode: Passt, args: []string{"--dns-forward", "10.0.2.3", "--dns-host", "192.0.2.54"}, info: hostInfo(),
			get: func(c *Config) any { return [2]any{c.IPv4.DNSForward, c.IPv4.DNSHost} }, want: [2]any{addr("10.0.2.3"), addr("192.0.2.54")}},
		{name: "loopback resolver unreachable with --no-map-gw", mode: Passt, args: []string{"--no-map-gw"},
			info: withInfo(func(i *host.Info) { i.Nameservers = []netip.Addr{addr("127.0.0.53")} }),
			get:  func(c *Config) any { return [3]any{c.IPv4.DNS, c.IPv4.DNSForward, c.IPv4.MapHostLoopback} },
			want: [3]any{[]netip.Addr(nil), netip.Addr{}, netip.Addr{}}},
		{name: "--map-host-loopback", mode: Passt, args: []string{"--map-host-loopback", "10.0.2.2"},
			info: withInfo(func(i *host.Info) { i.Nameservers = []netip.Addr{addr("127.0.0.53")} }),
			get:  func(c *Config) any { return [3]any{c.IPv4.MapHostLoopback, c.IPv4.DNS, c.IPv6.MapHostLoopback} },
			want: [3]any{addr("10.0.2.2"), []netip.Addr{addr("10.0.2.2")}, addr("fe80::ff")}},
		{name: "--map-host-loopback none", mode: Passt, args: []string{"--map-host-loopback", "none"}, info: hostInfo(),
			get: func(c *Config) any { return [2]netip.Addr{c.IPv4.MapHostLoopback, c.IPv6.MapHostLoopback} }, want: [2]netip.Addr{}},
		{name: "--map-guest-addr", mode: Pasta, args: []string{"--map-guest-addr", "169.254.1.2"}, info: hostInfo(),
			get:  func(c *Config) any { return [2]netip.Addr{c.IPv4.MapGuestAddr, c.IPv6.MapGuestAddr} },
			want: [2]netip.Addr{addr("169.254.1.2"), {}}},

		// pasta.
		{name: "pasta spawn", mode: Pasta, info: hostInfo(),
			get: func(c *Config) any {
				n := c.Namespace
				return [7]any{n.Ifname, n.Spawn(), n.Netns, n.Userns, n.Splice, c.Foreground, c.Log.Quiet}
			},
			want: [7]any{"eth0", true, "", "", true, true, true}},
		{name: "pasta spawn with debug is not quiet", mode: Pasta, args: []string{"-d"}, info: hostInfo(),
			get: func(c *Config) any { return [2]bool{c.Log.Debug, c.Log.Quiet} }, want: [2]bool{true, false}},
		{name: "pasta doesn't advertise DNS", mode: Pasta, info: hostInfo(),
			get:  func(c *Config) any { return [3]any{c.AdvertiseDNS, c.AdvertiseSearch, c.IPv4.DNS} },
			want: [3]any{false, false, []netip.Addr{addr("192.0.2.53")}}},
		{name: "pasta command", mode: Pasta, args: []string{"ip", "link"}, info: hostInfo(),
			get: func(c *Config) any { return c.Namespace.Command }, want: []string{"ip", "link"}},
		{name: "pasta PID", mode: Pasta, args: []string{"1234"}, info: hostInfo(),
			get: func(c *Config) any {
				n := c.Namespace
				return [5]any{n.Netns, n.Userns, n.NetnsOnly, n.Spawn(), c.Foreground}
			},
			want: [5]any{"/proc/1234/ns/net", "/proc/1234/ns/user", false, false, false}},
		{name: "pasta PID with --userns", mode: Pasta, args: []string{"--userns", "/u", "1234"}, info: hostInfo(),
			get: func(c *Config) any { return c.Namespace.Userns }, want: "/u"},
		{name: "pasta PID with --netns-only", mode: Pasta, args: []string{"--netns-only", "1234"}, info: hostInfo(),
			get: func(c *Config) any { return [2]any{c.Namespace.Userns, c.Namespace.NetnsOnly} }, want: [2]any{"", true}},
		{name: "pasta --netns implies netns-only", mode: Pasta, args: []string{"--netns", "ns1"}, info: hostInfo(),
			get:  func(c *Config) any { return [3]any{c.Namespace.Netns, c.Namespace.NetnsOnly, c.Log.Quiet} },
			want: [3]any{"/run/netns/ns1", true, false}},
		{name: "pasta --netns with --userns", mode: Pasta, args: []string{"--netns", "/n", "--userns", "/u"}, info: hostInfo(),
			get: func(c *Config) any { return [2]any{c.Namespace.Userns, c.Namespace.NetnsOnly} }, want: [2]any{"/u", false}},
		{name: "pasta -I", mode: Pasta, args: []string{"-I", "tap1"}, info: hostInfo(),
			get: func(c *Config) any { return c.Namespace.Ifname }, want: "tap1"},
		{name: "pasta IPv6 template name", mode: Pasta, info: withInfo(func(i *host.Info) { i.V4 = nil; i.V6.Ifname = "wg0" }),
			get: func(c *Config) any { return c.Namespace.Ifname }, want: "wg0"},
		{name: "pasta local mode uses tap0", mode: Pasta, args: []string{"-a", "10.0.0.2/24"},
			info: withInfo(func(i *host.Info) { i.V4, i.V6 = nil, nil }),
			get:  func(c *Config) any { return c.Namespace.Ifname }, want: DefaultNsIfname},
		{name: "pasta --config-net", mode: Pasta, args: []string{"--config-net"}, info: hostInfo(),
			get: func(c *Config) any {
				return [6]bool{c.Namespace.ConfigNet, c.RA, c.IPv4.CopyAddrs, c.IPv4.CopyRoutes, c.IPv6.CopyAddrs, c.IPv6.CopyRoutes}
			},
			want: [6]bool{true, false, true, true, true, true}},
		{name: "pasta --config-net with -a -g", mode: Pasta, args: []string{"--config-net", "-a", "10.0.0.2/24", "-g", "2001:db8::1"}, info: hostInfo(),
			get: func(c *Config) any {
				return [4]bool{c.IPv4.CopyAddrs, c.IPv4.CopyRoutes, c.IPv6.CopyAddrs, c.IPv6.CopyRoutes}
			},
			want: [4]bool{false, true, true, false}},
		{name: "pasta --config-net --no-copy-*", mode: Pasta, args: []string{"--config-net", "--no-copy-addrs", "--no-copy-routes"}, info: hostInfo(),
			get: func(c *Config) any { return [2]bool{c.IPv4.CopyAddrs, c.IPv6.CopyRoutes} }, want: [2]bool{false, false}},
		{name: "pasta template routes carried", mode: Pasta, info: hostInfo(),
			get: func(c *Config) any { return [2]int{len(c.IPv4.HostRoutes), len(c.IPv4.HostAddrs)} }, want: [2]int{2, 2}},
		{name: "pasta --no-splice", mode: Pasta, args: []string{"--no-splice"}, info: hostInfo(),
			get: func(c *Config) any { return c.Namespace.Splice }, want: false},
		{name: "pasta --ns-mac-addr", mode: Pasta, args: []string{"--ns-mac-addr", "02:00:00:00:00:07"}, info: hostInfo(),
			get: func(c *Config) any { return c.Namespace.MAC }, want: MAC{2, 0, 0, 0, 0, 7}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustResolve(t, tc.mode, tc.info, new(fakePorts).parse, tc.args...)
			if got := tc.get(c); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	noTemplate := func(i *host.Info) { i.V4, i.V6 = nil, nil; i.Looked = []string{"lo", "eth0", "wlan0"} }
	tests := []struct {
		name    string
		mode    Mode
		args    []string
		info    *host.Info
		want    []string // every one must appear in the message
		wantNot []string
	}{
		{name: "no interface", mode: Passt, info: withInfo(noTemplate),
			want: []string{"no interface with a default route", "lo, eth0, wlan0", "-i", "-4", "-6", "-a", "-g"}},
		{name: "no interface examined", mode: Pasta, info: withInfo(func(i *host.Info) { noTemplate(i); i.Looked = nil }),
			want: []string{"no interface with a default route", "examined: none"}},
		{name: "nil info", mode: Passt, info: nil,
			want: []string{"no interface with a default route"}},
		{name: "no interface with -4", mode: Passt, args: []string{"-4"}, info: withInfo(func(i *host.Info) { i.V4 = nil }),
			want: []string{"no interface with a default route", "eth0"}},
		{name: "-g of the disabled family doesn't help", mode: Passt, args: []string{"-4", "-g", "fe80::1"}, info: withInfo(noTemplate),
			want: []string{"no interface with a default route"}},
		{name: "-i names a useless interface", mode: Passt, args: []string{"-i", "dummy0"}, info: withInfo(noTemplate),
			want: []string{"dummy0", "not usable"}},
		{name: "-6 without IPv6", mode: Passt, args: []string{"-6"}, info: withInfo(func(i *host.Info) { i.V6 = nil }),
			want: []string{"-6", "IPv6 is not available"}},
		{name: "-6 without IPv6 in pasta", mode: Pasta, args: []string{"-6"}, info: withInfo(func(i *host.Info) { i.V6 = nil }),
			want: []string{"-6", "IPv6 is not available"}},
		{name: "--outbound-if4 unusable", mode: Passt, args: []string{"--outbound-if4", "eth9"}, info: withInfo(func(i *host.Info) { i.V4 = nil }),
			want: []string{"External interface not usable", "eth9"}},
		{name: "--outbound-if6 unusable", mode: Passt, args: []string{"--outbound-if6", "eth9"}, info: withInfo(func(i *host.Info) { i.V6 = nil }),
			want: []string{"External interface not usable", "eth9"}},
		{name: "TCP disabled but forwarded", mode: Passt, args: []string{"--no-tcp", "-t", "22"}, info: hostInfo(),
			want: []string{"TCP port forwarding requested but TCP is disabled"}},
		{name: "UDP disabled but forwarded", mode: Pasta, args: []string{"--no-udp", "-U", "53"}, info: hostInfo(),
			want: []string{"UDP port forwarding requested but UDP is disabled"}},
		{name: "port parser error names the option", mode: Pasta, args: []string{"-T", "4444"}, info: hostInfo(),
			want: []string{"-T: Invalid port specifier 4444"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := mustParse(t, tc.mode, tc.args...)
			var ports fakePorts
			c, err := resolve(o, tc.info, ports.parse)
			if err == nil {
				t.Fatalf("got %+v, want an error", c)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("got %q, want it to contain %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("got a message over several lines: %q", msg)
			}
		})
	}
}

func TestResolveWarnings(t *testing.T) {
	tests := []struct {
		name string
		mode Mode
		args []string
		info *host.Info
		want []string
	}{
		{name: "none", mode: Passt, info: hostInfo(), want: nil},
		{name: "small MTU for IPv6", mode: Passt, args: []string{"-m", "1000"}, info: hostInfo(),
			want: []string{"MTU 1000 is too small for IPv6 (minimum 1280)"}},
		{name: "small MTU for both", mode: Passt, args: []string{"-m", "500"}, info: hostInfo(),
			want: []string{"MTU 500 is too small for IPv4 (minimum 576)", "MTU 500 is too small for IPv6 (minimum 1280)"}},
		{name: "small MTU, IPv4 only", mode: Passt, args: []string{"-m", "1000", "-4"}, info: hostInfo(), want: nil},
		{name: "MTU 0 is no advertisement", mode: Passt, args: []string{"-m", "0"}, info: hostInfo(), want: nil},
		{name: "no nameservers", mode: Passt, info: withInfo(func(i *host.Info) { i.Nameservers = nil }),
			want: []string{"Couldn't get any nameserver address", "No IPv4 nameserver available for DHCP", "No IPv6 nameserver available for NDP/DHCPv6"}},
		{name: "no nameservers in pasta", mode: Pasta, info: withInfo(func(i *host.Info) { i.Nameservers = nil }),
			want: []string{"Couldn't get any nameserver address"}},
		{name: "unreadable resolv.conf", mode: Passt, args: []string{"-S", "none"},
			info: withInfo(func(i *host.Info) {
				i.Nameservers = nil
				i.ResolvConfErr = errors.New("open /etc/resolv.conf: permission denied")
			}),
			want: []string{"Couldn't read resolver configuration: open /etc/resolv.conf: permission denied",
				"Couldn't get any nameserver address", "No IPv4 nameserver available for DHCP", "No IPv6 nameserver available for NDP/DHCPv6"}},
		{name: "unreadable resolv.conf, -D given", mode: Passt, args: []string{"-D", "192.0.2.53", "-D", "2001:db8::53"},
			info: withInfo(func(i *host.Info) {
				i.Nameservers = nil
				i.ResolvConfErr = errors.New("open /etc/resolv.conf: permission denied")
			}),
			want: nil},
		{name: "no nameservers, -D none", mode: Passt, args: []string{"-D", "none"}, info: withInfo(func(i *host.Info) { i.Nameservers = nil }), want: nil},
		{name: "unusable conntrack timeout", mode: Passt,
			info: withInfo(func(i *host.Info) { i.UDPTimeoutNotes = []string{"Invalid value \"0\" in /proc/sys/x; using 30s"} }),
			want: []string{"Invalid value \"0\" in /proc/sys/x; using 30s"}},
		{name: "unusable conntrack timeout, no UDP", mode: Passt, args: []string{"--no-udp"},
			info: withInfo(func(i *host.Info) { i.UDPTimeoutNotes = []string{"Invalid value \"0\" in /proc/sys/x; using 30s"} }),
			want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustResolve(t, tc.mode, tc.info, new(fakePorts).parse, tc.args...)
			if !slices.Equal(c.Warnings, tc.want) {
				t.Errorf("got %q, want %q", c.Warnings, tc.want)
			}
		})
	}
}

// TestResolveUDPTimeouts: the connection tracker's timeouts read on the
// host go into the configuration the worker receives, as they are.
func TestResolveUDPTimeouts(t *testing.T) {
	tests := []struct {
		name          string
		in            host.UDPTimeouts
		timeout, strm time.Duration
	}{
		{"host values", host.UDPTimeouts{Timeout: 45 * time.Second, Stream: 200 * time.Second}, 45 * time.Second, 200 * time.Second},
		{"nothing detected", host.UDPTimeouts{}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustResolve(t, Passt, withInfo(func(i *host.Info) { i.UDPTimeouts = tc.in }), new(fakePorts).parse)
			if c.UDPTimeout != tc.timeout || c.UDPStreamTimeout != tc.strm {
				t.Errorf("got %v, %v, want %v, %v", c.UDPTimeout, c.UDPStreamTimeout, tc.timeout, tc.strm)
			}
		})
	}
}

func TestResolvePorts(t *testing.T) {
	eph := [2]uint16{32768, 60999}
	tests := []struct {
		name string
		mode Mode
		args []string
		info *host.Info
		want []portCall
	}{
		{name: "passt default", mode: Passt, info: hostInfo(), want: []portCall{
			{[]string{"none"}, fwd.Context{Proto: fwd.TCP, Dir: fwd.HostToGuest, IPv4: true, IPv6: true, Ephemeral: eph}},
			{[]string{"none"}, fwd.Context{Proto: fwd.UDP, Dir: fwd.HostToGuest, IPv4: true, IPv6: true, Ephemeral: eph}},
		}},
		{name: "passt specs in order", mode: Passt, args: []string{"-t", "22", "-u", "53", "-t", "80"}, info: hostInfo(), want: []portCall{
			{[]string{"22", "80"}, fwd.Context{Proto: fwd.TCP, Dir: fwd.HostToGuest, IPv4: true, IPv6: true, Ephemeral: eph}},
			{[]string{"53"}, fwd.Context{Proto: fwd.UDP, Dir: fwd.HostToGuest, IPv4: true, IPv6: true, Ephemeral: eph}},
		}},
		{name: "pasta default auto", mode: Pasta, info: hostInfo(), want: []portCall{
			{[]string{"auto"}, fwd.Context{Proto: fwd.TCP, Dir: fwd.HostToGuest, Pasta: true, IPv4: true, IPv6: true, Ephemeral: eph}},
			{[]string{"auto"}, fwd.Context{Proto: fwd.UDP, Dir: fwd.HostToGuest, Pasta: true, IPv4: true, IPv6: true, Ephemeral: eph}},
			{[]string{"auto"}, fwd.Context{Proto: fwd.TCP, Dir: fwd.GuestToHost, Pasta: true, IPv4: true, IPv6: true, Ephemeral: eph}},
			{[]string{"auto"}, fwd.Context{Proto: fwd.UDP, Dir: fwd.GuestToHost, Pasta: true, IPv4: true, IPv6: true, Ephemeral: eph}},
		}},
		{name: "pasta -4 and host ephemeral default", mode: Pasta, args: []string{"-4", "-T", "none"},
			info: withInfo(func(i *host.Info) { i.EphemeralPorts = [2]uint16{} }), want: []portCall{
				{[]string{"auto"}, fwd.Context{Proto: fwd.TCP, Dir: fwd.HostToGuest, Pasta: true, IPv4: true, Ephemeral: host.DefaultEphemeral}},
				{[]string{"auto"}, fwd.Context{Proto: fwd.UDP, Dir: fwd.HostToGuest, Pasta: true, IPv4: true, Ephemeral: host.DefaultEphemeral}},
				{[]string{"none"}, fwd.Context{Proto: fwd.TCP, Dir: fwd.GuestToHost, Pasta: true, IPv4: true, Ephemeral: host.DefaultEphemeral}},
				{[]string{"auto"}, fwd.Context{Proto: fwd.UDP, Dir: fwd.GuestToHost, Pasta: true, IPv4: true, Ephemeral: host.DefaultEphemeral}},
			}},
		{name: "pasta --no-tcp skips TCP", mode: Pasta, args: []string{"--no-tcp", "-t", "none"}, info: hostInfo(), want: []portCall{
			{[]string{"auto"}, fwd.Context{Proto: fwd.UDP, Dir: fwd.HostToGuest, Pasta: true, IPv4: true, IPv6: true, Ephemeral: eph}},
			{[]string{"auto"}, fwd.Context{Proto: fwd.UDP, Dir: fwd.GuestToHost, Pasta: true, IPv4: true, IPv6: true, Ephemeral: eph}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ports fakePorts
			c := mustResolve(t, tc.mode, tc.info, ports.parse, tc.args...)
			if !reflect.DeepEqual(ports.calls, tc.want) {
				t.Errorf("got calls %+v, want %+v", ports.calls, tc.want)
			}
			for _, f := range []Forward{c.Forward.TCP, c.Forward.UDP, c.Forward.TCPNs, c.Forward.UDPNs} {
				if (f.Table != nil) != (len(f.Specs) > 0 && slices.ContainsFunc(ports.calls, func(p portCall) bool { return slices.Equal(p.specs, f.Specs) })) {
					t.Errorf("got table %v for specs %q", f.Table, f.Specs)
				}
			}
		})
	}
}

func TestResolveDoesNotAliasInputs(t *testing.T) {
	info := hostInfo()
	o := mustParse(t, Pasta, "-S", "a.example", "sh", "-c", "true")
	var ports fakePorts
	c, err := resolve(o, info, ports.parse)
	if err != nil {
		t.Fatal(err)
	}
	c.IPv4.HostAddrs[0] = pfx("203.0.113.1/32")
	c.Search[0] = "changed"
	c.Namespace.Command[0] = "changed"
	if info.V4.Addrs[0] != pfx("192.0.2.10/24") {
		t.Errorf("host info changed through the config: got %v", info.V4.Addrs[0])
	}
	if o.Search[0] != "a.example" || o.Command[0] != "sh" {
		t.Errorf("options changed through the config: got %q, %q", o.Search, o.Command)
	}
}

func TestConfigJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		mode      Mode
		args      []string
		info      *host.Info
		realPorts bool // parse the specifications with package fwd
	}{
		{name: "passt defaults", mode: Passt, info: hostInfo()},
		{name: "passt everything", mode: Passt, info: hostInfo(), args: []string{
			"-a", "10.0.0.2/16", "-g", "10.0.0.1", "-a", "2001:db8::2", "-M", "02:00:00:00:00:01",
			"-m", "9000", "-D", "9.9.9.9", "-S", "a.example", "-H", "vm", "--fqdn", "vm.example",
			"-o", "192.0.2.10", "--outbound-if6", "eth0", "-t", "22", "-u", "53", "-s", "/tmp/s",
			"-1", "-p", "/tmp/p.pcap", "-P", "/tmp/p.pid", "--runas", "nobody", "--dns-forward",
			"10.0.0.3", "--map-guest-addr", "10.0.0.4", "--freebind", "--max-flows", "7", "-q"}},
		{name: "pasta PID", mode: Pasta, info: hostInfo(), args: []string{"--config-net", "--ns-mac-addr", "02:00:00:00:00:02", "1234"}},
		{name: "pasta command, local mode", mode: Pasta, args: []string{"-a", "10.0.0.2", "--", "sh", "-c", "true"},
			info: withInfo(func(i *host.Info) { i.V4, i.V6 = nil, nil })},
		{name: "loopback resolver", mode: Passt,
			info: withInfo(func(i *host.Info) { i.Nameservers = []netip.Addr{addr("127.0.0.53"), addr("::1")} })},
		{name: "conntrack timeouts", mode: Passt, info: withInfo(func(i *host.Info) {
			i.UDPTimeouts = host.UDPTimeouts{Timeout: 45 * time.Second, Stream: 200 * time.Second}
		})},
		{name: "largest flow table", mode: Passt, info: hostInfo(), args: []string{"--max-flows", "4194304"}},
		{name: "real forwarding tables", mode: Pasta, realPorts: true, info: hostInfo(),
			args: []string{"-t", "22,80:8080", "-t", "192.0.2.10/443", "-u", "~53", "-T", "none"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parse := new(fakePorts).parse
			if tc.realPorts {
				parse = fwd.ParseAll
			}
			c := mustResolve(t, tc.mode, tc.info, parse, tc.args...)
			b, err := json.Marshal(c)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			var back Config
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			want := *c
			want.Warnings = nil // not sent
			if !reflect.DeepEqual(&back, &want) {
				t.Errorf("round trip changed the config:\n got %+v\nwant %+v\njson %s", back, want, b)
			}
			for _, s := range []string{`"Mode":"` + tc.mode.String() + `"`, `"MAC":"` + c.MAC.String() + `"`} {
				if !strings.Contains(string(b), s) {
					t.Errorf("got JSON without %s: %s", s, b)
				}
			}
		})
	}
}

func TestResolveUsesFwd(t *testing.T) {
	tests := []struct {
		name    string
		mode    Mode
		args    []string
		wantErr string
		check   func(c *Config) bool
	}{
		{name: "passt default none", mode: Passt,
			check: func(c *Config) bool {
				return c.Forward.TCP.Table.None && c.Forward.UDP.Table.None && c.Forward.TCPNs.Table == nil
			}},
		{name: "passt -t 22", mode: Passt, args: []string{"-t", "22"},
			check: func(c *Config) bool {
				return len(c.Forward.TCP.Table.Rules) == 1 && c.Forward.TCP.Table.Rules[0].First == 22
			}},
		{name: "pasta default auto", mode: Pasta,
			check: func(c *Config) bool { return c.Forward.TCP.Table.HasAuto() && c.Forward.UDPNs.Table.HasAuto() }},
		{name: "error names the option once", mode: Passt, args: []string{"-t", "22x"}, wantErr: `-t "22x": `},
		{name: "auto refused in passt", mode: Passt, args: []string{"-u", "auto"}, wantErr: `-u "auto": `},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A malformed specification is an error of the command line
			// already; Resolve would name the option the same way.
			o, _, err := Parse(tc.mode, tc.args)
			var c *Config
			if err == nil {
				c, err = Resolve(o, hostInfo())
			}
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) || strings.Count(err.Error(), tc.args[0]) != 1 {
					t.Fatalf("got error %v, want one starting %q naming %s once", err, tc.wantErr, tc.args[0])
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !tc.check(c) {
				t.Errorf("got forwarding %+v, not what was asked", c.Forward)
			}
		})
	}
}
