// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package conf

import (
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"passt-go/proto/flow"
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		mode Mode
		args []string
		get  func(o *Options) any
		want any
	}{
		// Defaults.
		{name: "default MTU", mode: Passt, args: nil, get: func(o *Options) any { return o.MTU }, want: DefaultMTU},
		{name: "default MAC", mode: Passt, args: nil, get: func(o *Options) any { return o.MAC }, want: DefaultMAC},
		{name: "default FD", mode: Passt, args: nil, get: func(o *Options) any { return o.FD }, want: -1},
		{name: "default log size", mode: Passt, args: nil, get: func(o *Options) any { return o.LogSize }, want: int64(DefaultLogSize)},
		{name: "default prefix", mode: Passt, args: nil, get: func(o *Options) any { return o.Prefix4 }, want: -1},
		{name: "default max flows", mode: Pasta, args: nil, get: func(o *Options) any { return o.MaxFlows }, want: flow.DefaultCapacity},
		{name: "passt advertises DNS", mode: Passt, args: nil, get: func(o *Options) any { return o.AdvertiseDNS && o.AdvertiseSearch }, want: true},
		{name: "pasta doesn't advertise DNS", mode: Pasta, args: nil, get: func(o *Options) any { return o.AdvertiseDNS || o.AdvertiseSearch }, want: false},

		// Logging.
		{name: "debug", mode: Passt, args: []string{"-d"}, get: func(o *Options) any { return o.Debug }, want: true},
		{name: "quiet clears debug", mode: Passt, args: []string{"-d", "-q"}, get: func(o *Options) any { return [2]bool{o.Debug, o.Quiet} }, want: [2]bool{false, true}},
		{name: "debug clears quiet", mode: Passt, args: []string{"-q", "-d"}, get: func(o *Options) any { return [2]bool{o.Debug, o.Quiet} }, want: [2]bool{true, false}},
		{name: "trace implies debug", mode: Passt, args: []string{"-q", "--trace"}, get: func(o *Options) any { return [3]bool{o.Trace, o.Debug, o.Quiet} }, want: [3]bool{true, true, false}},
		{name: "quiet clears trace", mode: Passt, args: []string{"--trace", "-q"}, get: func(o *Options) any { return [3]bool{o.Trace, o.Debug, o.Quiet} }, want: [3]bool{false, false, true}},
		{name: "foreground", mode: Passt, args: []string{"--foreground"}, get: func(o *Options) any { return o.Foreground }, want: true},
		{name: "log file last wins", mode: Passt, args: []string{"-l", "/a", "--log-file=/b"}, get: func(o *Options) any { return o.LogFile }, want: "/b"},
		{name: "log size", mode: Passt, args: []string{"-l", "/a", "--log-size", "65536"}, get: func(o *Options) any { return o.LogSize }, want: int64(65536)},
		{name: "log size hexadecimal", mode: Passt, args: []string{"-l", "/a", "--log-size", "0x10000"}, get: func(o *Options) any { return o.LogSize }, want: int64(65536)},
		{name: "log size minimum", mode: Passt, args: []string{"-l", "/a", "--log-size", "40960"}, get: func(o *Options) any { return o.LogSize }, want: int64(MinLogSize)},
		{name: "runas uid", mode: Passt, args: []string{"--runas", "1000"}, get: func(o *Options) any { return o.RunAs }, want: "1000"},
		{name: "runas user:group", mode: Passt, args: []string{"--runas", "nobody:nogroup"}, get: func(o *Options) any { return o.RunAs }, want: "nobody:nogroup"},
		{name: "pcap", mode: Passt, args: []string{"-p", "/tmp/x.pcap"}, get: func(o *Options) any { return o.PcapFile }, want: "/tmp/x.pcap"},
		{name: "pid file", mode: Pasta, args: []string{"--pid", "/run/p.pid"}, get: func(o *Options) any { return o.PIDFile }, want: "/run/p.pid"},

		// passt.
		{name: "socket", mode: Passt, args: []string{"-s", "/tmp/s"}, get: func(o *Options) any { return o.SocketPath }, want: "/tmp/s"},
		{name: "socket-path alias", mode: Passt, args: []string{"--socket-path", "/tmp/s"}, get: func(o *Options) any { return o.SocketPath }, want: "/tmp/s"},
		{name: "one-off", mode: Passt, args: []string{"-1"}, get: func(o *Options) any { return o.OneOff }, want: true},
		{name: "fd", mode: Passt, args: []string{"-F", "5"}, get: func(o *Options) any { return o.FD }, want: 5},
		{name: "fd zero", mode: Passt, args: []string{"--fd", "0"}, get: func(o *Options) any { return o.FD }, want: 0},
		{name: "fd after socket wins", mode: Passt, args: []string{"-s", "/s", "-F", "7"}, get: func(o *Options) any { return [2]any{o.SocketPath, o.FD} }, want: [2]any{"", 7}},
		{name: "socket after fd wins", mode: Passt, args: []string{"-F", "7", "-s", "/s"}, get: func(o *Options) any { return [2]any{o.SocketPath, o.FD} }, want: [2]any{"/s", -1}},
		{name: "fd in pasta", mode: Pasta, args: []string{"-F", "9"}, get: func(o *Options) any { return o.FD }, want: 9},

		// Addressing.
		{name: "mtu", mode: Passt, args: []string{"-m", "1500"}, get: func(o *Options) any { return o.MTU }, want: 1500},
		{name: "mtu zero", mode: Passt, args: []string{"-m0"}, get: func(o *Options) any { return o.MTU }, want: 0},
		{name: "mtu maximum", mode: Passt, args: []string{"--mtu=65521"}, get: func(o *Options) any { return o.MTU }, want: MaxMTU},
		{name: "mtu last wins", mode: Passt, args: []string{"-m", "9000", "-m", "1400"}, get: func(o *Options) any { return o.MTU }, want: 1400},
		{name: "address v4 with prefix", mode: Passt, args: []string{"-a", "10.0.0.2/16"}, get: func(o *Options) any { return [2]any{o.Addr4, o.Prefix4} }, want: [2]any{addr("10.0.0.2"), 16}},
		{name: "address v4 class A", mode: Passt, args: []string{"-a", "10.0.0.2"}, get: func(o *Options) any { return o.Prefix4 }, want: 8},
		{name: "address v4 class B", mode: Passt, args: []string{"-a", "172.16.0.2"}, get: func(o *Options) any { return o.Prefix4 }, want: 16},
		{name: "address v4 class C", mode: Passt, args: []string{"-a", "192.0.2.2"}, get: func(o *Options) any { return o.Prefix4 }, want: 24},
		{name: "address v4 class E", mode: Passt, args: []string{"-a", "240.0.0.2"}, get: func(o *Options) any { return o.Prefix4 }, want: 32},
		{name: "address v4-mapped is v4", mode: Passt, args: []string{"-a", "::ffff:10.0.0.2"}, get: func(o *Options) any { return [2]any{o.Addr4, o.Addr6} }, want: [2]any{addr("10.0.0.2"), netip.Addr{}}},
		{name: "address v4-mapped with v6 prefix", mode: Passt, args: []string{"-a", "::ffff:10.0.0.2/120"}, get: func(o *Options) any { return o.Prefix4 }, want: 24},
		{name: "address v6", mode: Passt, args: []string{"-a", "2001:db8::2"}, get: func(o *Options) any { return o.Addr6 }, want: addr("2001:db8::2")},
		{name: "address v6 prefix accepted", mode: Passt, args: []string{"-a", "2001:db8::2/48"}, get: func(o *Options) any { return o.Addr6 }, want: addr("2001:db8::2")},
		{name: "address both families", mode: Passt, args: []string{"-a", "10.0.0.2/24", "-a", "2001:db8::2"}, get: func(o *Options) any { return [3]any{o.Addr4, o.Prefix4, o.Addr6} }, want: [3]any{addr("10.0.0.2"), 24, addr("2001:db8::2")}},
		{name: "address last wins per family", mode: Passt, args: []string{"-a", "10.0.0.2/24", "-a", "10.0.0.3/16"}, get: func(o *Options) any { return [2]any{o.Addr4, o.Prefix4} }, want: [2]any{addr("10.0.0.3"), 16}},
		{name: "netmask dotted", mode: Passt, args: []string{"-n", "255.255.240.0"}, get: func(o *Options) any { return o.Prefix4 }, want: 20},
		{name: "netmask bits", mode: Passt, args: []string{"-n", "24"}, get: func(o *Options) any { return o.Prefix4 }, want: 24},
		{name: "netmask after address", mode: Passt, args: []string{"-a", "10.0.0.2", "-n", "24"}, get: func(o *Options) any { return o.Prefix4 }, want: 24},
		{name: "netmask before address", mode: Passt, args: []string{"-n", "24", "-a", "10.0.0.2"}, get: func(o *Options) any { return o.Prefix4 }, want: 24},
		{name: "netmask with v6 prefix", mode: Passt, args: []string{"-a", "2001:db8::2/64", "-n", "24"}, get: func(o *Options) any { return o.Prefix4 }, want: 24},
		{name: "mac", mode: Passt, args: []string{"-M", "02:AB:cd:00:00:01"}, get: func(o *Options) any { return o.MAC }, want: MAC{2, 0xab, 0xcd, 0, 0, 1}},
		{name: "gateway v4", mode: Passt, args: []string{"-g", "10.0.0.1"}, get: func(o *Options) any { return o.Gateway4 }, want: addr("10.0.0.1")},
		{name: "gateway v6 link-local", mode: Passt, args: []string{"-g", "fe80::1"}, get: func(o *Options) any { return o.Gateway6 }, want: addr("fe80::1")},
		{name: "gateway both", mode: Passt, args: []string{"-g", "fe80::1", "--gateway", "10.0.0.1"}, get: func(o *Options) any { return [2]any{o.Gateway4, o.Gateway6} }, want: [2]any{addr("10.0.0.1"), addr("fe80::1")}},
		{name: "interface", mode: Passt, args: []string{"-i", "eth0"}, get: func(o *Options) any { return o.Interface }, want: "eth0"},
		{name: "outbound v4", mode: Passt, args: []string{"-o", "192.0.2.7"}, get: func(o *Options) any { return o.Outbound4 }, want: addr("192.0.2.7")},
		{name: "outbound v4 loopback", mode: Passt, args: []string{"-o", "127.0.0.1"}, get: func(o *Options) any { return o.Outbound4 }, want: addr("127.0.0.1")},
		{name: "outbound v6", mode: Passt, args: []string{"-o", "2001:db8::7"}, get: func(o *Options) any { return o.Outbound6 }, want: addr("2001:db8::7")},
		{name: "outbound-if4", mode: Passt, args: []string{"--outbound-if4", "eth1"}, get: func(o *Options) any { return o.OutboundIf4 }, want: "eth1"},
		{name: "outbound-if6", mode: Passt, args: []string{"--outbound-if6", "wlan0"}, get: func(o *Options) any { return o.OutboundIf6 }, want: "wlan0"},
		{name: "ipv4 only", mode: Passt, args: []string{"-4"}, get: func(o *Options) any { return [2]bool{o.IPv4Only, o.IPv6Only} }, want: [2]bool{true, false}},
		{name: "ipv6 overrides ipv4", mode: Passt, args: []string{"-4", "-6"}, get: func(o *Options) any { return [2]bool{o.IPv4Only, o.IPv6Only} }, want: [2]bool{false, true}},
		{name: "ipv4 overrides ipv6", mode: Passt, args: []string{"--ipv6-only", "--ipv4-only"}, get: func(o *Options) any { return [2]bool{o.IPv4Only, o.IPv6Only} }, want: [2]bool{true, false}},

		// Names.
		{name: "dns repeatable", mode: Passt, args: []string{"-D", "192.0.2.53", "-D", "2001:db8::53"}, get: func(o *Options) any { return o.DNS }, want: []netip.Addr{addr("192.0.2.53"), addr("2001:db8::53")}},
		{name: "dns loopback kept as given", mode: Passt, args: []string{"-D", "127.0.0.1"}, get: func(o *Options) any { return o.DNS }, want: []netip.Addr{addr("127.0.0.1")}},
		{name: "dns none", mode: Passt, args: []string{"-D", "192.0.2.53", "-D", "none"}, get: func(o *Options) any { return [2]any{o.DNS, o.NoDNS} }, want: [2]any{[]netip.Addr(nil), true}},
		{name: "dns after none", mode: Passt, args: []string{"-D", "none", "-D", "192.0.2.53"}, get: func(o *Options) any { return [2]any{o.DNS, o.NoDNS} }, want: [2]any{[]netip.Addr{addr("192.0.2.53")}, false}},
		{name: "dns none clears forwarding", mode: Passt, args: []string{"--dns-forward", "169.254.1.1", "-D", "none"}, get: func(o *Options) any { return o.DNSForward4 }, want: netip.Addr{}},
		{name: "dns-forward v4", mode: Passt, args: []string{"--dns-forward", "169.254.1.1"}, get: func(o *Options) any { return o.DNSForward4 }, want: addr("169.254.1.1")},
		{name: "dns-forward v6", mode: Passt, args: []string{"--dns-forward", "fd00::53"}, get: func(o *Options) any { return o.DNSForward6 }, want: addr("fd00::53")},
		{name: "dns-host loopback", mode: Passt, args: []string{"--dns-host", "127.0.0.53"}, get: func(o *Options) any { return o.DNSHost4 }, want: addr("127.0.0.53")},
		{name: "dns-host v6", mode: Passt, args: []string{"--dns-host", "::1"}, get: func(o *Options) any { return o.DNSHost6 }, want: addr("::1")},
		{name: "search split at spaces", mode: Passt, args: []string{"-S", "a.example  b.example"}, get: func(o *Options) any { return o.Search }, want: []string{"a.example", "b.example"}},
		{name: "search repeatable", mode: Passt, args: []string{"-S", "a.example", "-S", "b.example"}, get: func(o *Options) any { return o.Search }, want: []string{"a.example", "b.example"}},
		{name: "search none", mode: Passt, args: []string{"-S", "a.example", "-S", "none"}, get: func(o *Options) any { return [2]any{o.Search, o.NoSearch} }, want: [2]any{[]string(nil), true}},
		{name: "search none dot is a domain", mode: Passt, args: []string{"-S", "none."}, get: func(o *Options) any { return [2]any{o.Search, o.NoSearch} }, want: [2]any{[]string{"none."}, false}},
		{name: "hostname", mode: Passt, args: []string{"-H", "guest"}, get: func(o *Options) any { return o.Hostname }, want: "guest"},
		{name: "fqdn", mode: Passt, args: []string{"--fqdn", "guest.example.org"}, get: func(o *Options) any { return o.FQDN }, want: "guest.example.org"},
		{name: "no-dhcp-dns", mode: Passt, args: []string{"--no-dhcp-dns"}, get: func(o *Options) any { return o.AdvertiseDNS }, want: false},
		{name: "no-dhcp-search", mode: Passt, args: []string{"--no-dhcp-search"}, get: func(o *Options) any { return o.AdvertiseSearch }, want: false},
		{name: "dhcp-dns", mode: Pasta, args: []string{"--dhcp-dns"}, get: func(o *Options) any { return o.AdvertiseDNS }, want: true},
		{name: "dhcp-search", mode: Pasta, args: []string{"--dhcp-search"}, get: func(o *Options) any { return o.AdvertiseSearch }, want: true},

		// Translation.
		{name: "map-host-loopback", mode: Passt, args: []string{"--map-host-loopback", "10.0.2.2"}, get: func(o *Options) any { return o.MapHostLoopback4 }, want: addr("10.0.2.2")},
		{name: "map-host-loopback none", mode: Passt, args: []string{"--map-host-loopback", "10.0.2.2", "--map-host-loopback", "none"}, get: func(o *Options) any { return [2]any{o.MapHostLoopback4, o.NoMapGW} }, want: [2]any{netip.Addr{}, true}},
		{name: "map-host-loopback after none", mode: Passt, args: []string{"--map-host-loopback", "none", "--map-host-loopback", "fd00::2"}, get: func(o *Options) any { return [2]any{o.MapHostLoopback6, o.NoMapGW} }, want: [2]any{addr("fd00::2"), true}},
		{name: "map-guest-addr", mode: Pasta, args: []string{"--map-guest-addr", "169.254.1.2"}, get: func(o *Options) any { return o.MapGuestAddr4 }, want: addr("169.254.1.2")},
		{name: "map-guest-addr none", mode: Pasta, args: []string{"--map-guest-addr", "169.254.1.2", "--map-guest-addr", "none"}, get: func(o *Options) any { return o.MapGuestAddr4 }, want: netip.Addr{}},
		{name: "no-map-gw", mode: Passt, args: []string{"--no-map-gw"}, get: func(o *Options) any { return o.NoMapGW }, want: true},

		// Protocols.
		{name: "protocol switches", mode: Passt, args: []string{"--no-tcp", "--no-udp", "--no-icmp", "--no-dhcp", "--no-ndp", "--no-dhcpv6", "--no-ra", "--freebind"},
			get: func(o *Options) any {
				return [8]bool{o.NoTCP, o.NoUDP, o.NoICMP, o.NoDHCP, o.NoNDP, o.NoDHCPv6, o.NoRA, o.Freebind}
			}, want: [8]bool{true, true, true, true, true, true, true, true}},

		// Flow table.
		{name: "max flows", mode: Passt, args: []string{"--max-flows", "100000"}, get: func(o *Options) any { return o.MaxFlows }, want: 100000},
		{name: "max flows in pasta", mode: Pasta, args: []string{"--max-flows=1000"}, get: func(o *Options) any { return o.MaxFlows }, want: 1000},
		{name: "max flows one", mode: Passt, args: []string{"--max-flows", "1"}, get: func(o *Options) any { return o.MaxFlows }, want: 1},
		{name: "max flows largest", mode: Passt, args: []string{"--max-flows", "4194304"}, get: func(o *Options) any { return o.MaxFlows }, want: flow.MaxCapacity},
		{name: "max flows hexadecimal", mode: Passt, args: []string{"--max-flows", "0x10000"}, get: func(o *Options) any { return o.MaxFlows }, want: 65536},
		{name: "max flows last wins", mode: Passt, args: []string{"--max-flows", "10", "--max-flows", "20"}, get: func(o *Options) any { return o.MaxFlows }, want: 20},
		{name: "max flows abbreviated", mode: Passt, args: []string{"--max-f", "64"}, get: func(o *Options) any { return o.MaxFlows }, want: 64},

		// Ports.
		{name: "tcp ports repeatable", mode: Passt, args: []string{"-t", "22", "--tcp-ports=80", "-t443"}, get: func(o *Options) any { return o.TCPPorts }, want: []string{"22", "80", "443"}},
		{name: "udp ports", mode: Passt, args: []string{"-u", "53"}, get: func(o *Options) any { return o.UDPPorts }, want: []string{"53"}},
		{name: "tcp-ns", mode: Pasta, args: []string{"-T", "none"}, get: func(o *Options) any { return o.TCPNsPorts }, want: []string{"none"}},
		{name: "udp-ns", mode: Pasta, args: []string{"--udp-ns", "auto"}, get: func(o *Options) any { return o.UDPNsPorts }, want: []string{"auto"}},
		{name: "grouped with port argument", mode: Pasta, args: []string{"-4dt", "22"}, get: func(o *Options) any { return [3]any{o.IPv4Only, o.Debug, o.TCPPorts} }, want: [3]any{true, true, []string{"22"}}},
		{name: "port spec starting with tilde", mode: Passt, args: []string{"-t", "~22"}, get: func(o *Options) any { return o.TCPPorts }, want: []string{"~22"}},

		// pasta.
		{name: "ns-ifname", mode: Pasta, args: []string{"-I", "tap1"}, get: func(o *Options) any { return o.NsIfname }, want: "tap1"},
		{name: "ns-mac-addr", mode: Pasta, args: []string{"--ns-mac-addr", "02:00:00:00:00:02"}, get: func(o *Options) any { return o.NsMAC }, want: MAC{2, 0, 0, 0, 0, 2}},
		{name: "userns", mode: Pasta, args: []string{"--userns", "/proc/1/ns/user"}, get: func(o *Options) any { return o.Userns }, want: "/proc/1/ns/user"},
		{name: "netns name", mode: Pasta, args: []string{"--netns", "ns1"}, get: func(o *Options) any { return o.Netns }, want: "/run/netns/ns1"},
		{name: "netns path", mode: Pasta, args: []string{"--netns", "/var/run/netns/x"}, get: func(o *Options) any { return o.Netns }, want: "/var/run/netns/x"},
		{name: "netns relative path", mode: Pasta, args: []string{"--netns", "./x"}, get: func(o *Options) any { return o.Netns }, want: "./x"},
		{name: "netns-only clears userns", mode: Pasta, args: []string{"--userns", "/u", "--netns-only"}, get: func(o *Options) any { return [2]any{o.Userns, o.NetnsOnly} }, want: [2]any{"", true}},
		{name: "userns clears netns-only", mode: Pasta, args: []string{"--netns-only", "--userns", "/u"}, get: func(o *Options) any { return [2]any{o.Userns, o.NetnsOnly} }, want: [2]any{"/u", false}},
		{name: "no-netns-quit", mode: Pasta, args: []string{"--no-netns-quit"}, get: func(o *Options) any { return o.NoNetnsQuit }, want: true},
		{name: "config-net", mode: Pasta, args: []string{"--config-net"}, get: func(o *Options) any { return o.ConfigNet }, want: true},
		{name: "no-copy with config-net", mode: Pasta, args: []string{"--config-net", "--no-copy-routes", "--no-copy-addrs"}, get: func(o *Options) any { return [2]bool{o.NoCopyRoutes, o.NoCopyAddrs} }, want: [2]bool{true, true}},
		{name: "no-copy before config-net", mode: Pasta, args: []string{"--no-copy-routes", "--config-net"}, get: func(o *Options) any { return o.NoCopyRoutes }, want: true},
		{name: "no-splice", mode: Pasta, args: []string{"--no-splice"}, get: func(o *Options) any { return o.NoSplice }, want: true},
		{name: "host-lo-to-ns-lo", mode: Pasta, args: []string{"--host-lo-to-ns-lo"}, get: func(o *Options) any { return o.HostLoToNsLo }, want: true},

		// Positional arguments.
		{name: "pid", mode: Pasta, args: []string{"1234"}, get: func(o *Options) any { return [2]any{o.PID, o.Command} }, want: [2]any{1234, []string(nil)}},
		{name: "pid after options", mode: Pasta, args: []string{"-d", "--config-net", "42"}, get: func(o *Options) any { return o.PID }, want: 42},
		{name: "pid after double dash", mode: Pasta, args: []string{"--", "42"}, get: func(o *Options) any { return o.PID }, want: 42},
		{name: "command", mode: Pasta, args: []string{"--config-net", "ip", "-4", "addr"}, get: func(o *Options) any { return [2]any{o.PID, o.Command} }, want: [2]any{0, []string{"ip", "-4", "addr"}}},
		{name: "command after double dash", mode: Pasta, args: []string{"-d", "--", "-x"}, get: func(o *Options) any { return o.Command }, want: []string{"-x"}},
		{name: "number with arguments is a command", mode: Pasta, args: []string{"1234", "x"}, get: func(o *Options) any { return [2]any{o.PID, o.Command} }, want: [2]any{0, []string{"1234", "x"}}},
		{name: "non-numeric single argument is a command", mode: Pasta, args: []string{"12ab"}, get: func(o *Options) any { return o.Command }, want: []string{"12ab"}},
		{name: "options after command are its own", mode: Pasta, args: []string{"sh", "-s", "x"}, get: func(o *Options) any { return [2]any{o.SocketPath, o.Command} }, want: [2]any{"", []string{"sh", "-s", "x"}}},
		{name: "no command", mode: Pasta, args: []string{"-f"}, get: func(o *Options) any { return [2]any{o.PID, o.Command} }, want: [2]any{0, []string(nil)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, _, err := Parse(tc.mode, tc.args)
			if err != nil {
				t.Fatalf("Parse(%s, %q): got error %v, want none", tc.mode, tc.args, err)
			}
			if got := tc.get(o); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse(%s, %q): got %v, want %v", tc.mode, tc.args, got, tc.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name    string
		mode    Mode
		args    []string
		wantErr string
	}{
		// Port forwarding specifications, parsed with the command line.
		{name: "-t port out of range", mode: Passt, args: []string{"-t", "99999"}, wantErr: `-t "99999": port 99999 out of range in "99999"`},
		{name: "-u bad port", mode: Pasta, args: []string{"-u", "53x"}, wantErr: `-u "53x": bad port in "53x"`},
		{name: "-T range mismatch", mode: Pasta, args: []string{"-T", "1-2:3"}, wantErr: `-T "1-2:3": target range 3 has 1 port, listening range 1-2 has 2 ports`},
		{name: "-t IPv6 address with -4", mode: Passt, args: []string{"-4", "-t", "[::1]/22"}, wantErr: `-t "[::1]/22": listening address ::1 is IPv6, but IPv6 is disabled`},
		{name: "auto in passt", mode: Passt, args: []string{"-t", "auto"}, wantErr: `-t "auto": auto is only allowed in pasta mode`},
		// Mode restrictions.
		{name: "userns in passt", mode: Passt, args: []string{"--userns", "/u"}, wantErr: "--userns is for pasta mode only"},
		{name: "socket in pasta", mode: Pasta, args: []string{"-s", "/s"}, wantErr: "-s is for passt mode only"},
		{name: "socket-path in pasta", mode: Pasta, args: []string{"--socket-path", "/s"}, wantErr: "--socket-path is for passt mode only"},
		{name: "one-off in pasta", mode: Pasta, args: []string{"--one-off"}, wantErr: "--one-off is for passt mode only"},
		{name: "no-dhcp-dns in pasta", mode: Pasta, args: []string{"--no-dhcp-dns"}, wantErr: "--no-dhcp-dns is for passt mode only"},
		{name: "no-dhcp-search in pasta", mode: Pasta, args: []string{"--no-dhcp-search"}, wantErr: "--no-dhcp-search is for passt mode only"},
		{name: "dhcp-dns in passt", mode: Passt, args: []string{"--dhcp-dns"}, wantErr: "--dhcp-dns is for pasta mode only"},
		{name: "dhcp-search in passt", mode: Passt, args: []string{"--dhcp-search"}, wantErr: "--dhcp-search is for pasta mode only"},
		{name: "ns-ifname in passt", mode: Passt, args: []string{"-I", "tap0"}, wantErr: "-I is for pasta mode only"},
		{name: "tcp-ns in passt", mode: Passt, args: []string{"-T", "22"}, wantErr: "-T is for pasta mode only"},
		{name: "udp-ns in passt", mode: Passt, args: []string{"-U", "22"}, wantErr: "-U is for pasta mode only"},
		{name: "netns in passt", mode: Passt, args: []string{"--netns", "x"}, wantErr: "--netns is for pasta mode only"},
		{name: "config-net in passt", mode: Passt, args: []string{"--config-net"}, wantErr: "--config-net is for pasta mode only"},
		{name: "vhost-user in pasta", mode: Pasta, args: []string{"--vhost-user"}, wantErr: "--vhost-user is for passt mode only"},
		{name: "extra argument in passt", mode: Passt, args: []string{"-f", "extra"}, wantErr: "Extra non-option argument: extra"},
		{name: "no-copy-routes without config-net", mode: Pasta, args: []string{"--no-copy-routes"}, wantErr: "--no-copy-routes needs --config-net"},
		{name: "no-copy-addrs without config-net", mode: Pasta, args: []string{"--no-copy-addrs"}, wantErr: "--no-copy-addrs needs --config-net"},
		{name: "host-lo-to-ns-lo with no-splice", mode: Pasta, args: []string{"--host-lo-to-ns-lo", "--no-splice"}, wantErr: "--host-lo-to-ns-lo is incompatible with --no-splice"},
		{name: "stats without foreground", mode: Passt, args: []string{"--stats", "5"}, wantErr: "--stats requires -f: can't display statistics if not running in foreground"},

		// Positional.
		{name: "netns with pid", mode: Pasta, args: []string{"--netns", "x", "42"}, wantErr: "Both --netns and PID or command given"},
		{name: "netns with command", mode: Pasta, args: []string{"--netns", "x", "sh", "-c", ":"}, wantErr: "Both --netns and PID or command given"},
		{name: "pid zero", mode: Pasta, args: []string{"0"}, wantErr: "Invalid PID 0"},
		{name: "pid negative", mode: Pasta, args: []string{"--", "-5"}, wantErr: "Invalid PID -5"},
		{name: "pid too large", mode: Pasta, args: []string{"2147483648"}, wantErr: "Invalid PID 2147483648"},
		{name: "pid overflows", mode: Pasta, args: []string{"99999999999999999999"}, wantErr: "Invalid PID 99999999999999999999"},

		// Values.
		{name: "max flows zero", mode: Passt, args: []string{"--max-flows", "0"}, wantErr: "Invalid --max-flows: 0 (from 1 to 4194304)"},
		{name: "max flows too many", mode: Pasta, args: []string{"--max-flows", "4194305"}, wantErr: "Invalid --max-flows: 4194305 (from 1 to 4194304)"},
		{name: "max flows overflows", mode: Passt, args: []string{"--max-flows", "18446744073709551616"}, wantErr: "Invalid --max-flows: 18446744073709551616 (from 1 to 4194304)"},
		{name: "max flows negative", mode: Passt, args: []string{"--max-flows=-1"}, wantErr: "Invalid --max-flows: -1 (from 1 to 4194304)"},
		{name: "max flows not a number", mode: Passt, args: []string{"--max-flows", "lots"}, wantErr: "Invalid --max-flows: lots (from 1 to 4194304)"},
		{name: "max flows empty", mode: Passt, args: []string{"--max-flows="}, wantErr: `Invalid --max-flows: "" (from 1 to 4194304)`},
		{name: "max flows without value", mode: Passt, args: []string{"--max-flows"}, wantErr: "option '--max-flows' requires an argument"},
		{name: "max flows has no short form", mode: Passt, args: []string{"-N", "5"}, wantErr: "invalid option -- 'N'"},
		{name: "mtu too large", mode: Passt, args: []string{"-m", "65522"}, wantErr: "MTU 65522 too large (max 65521)"},
		{name: "mtu not a number", mode: Passt, args: []string{"-m", "15x"}, wantErr: "Invalid MTU: 15x"},
		{name: "mtu negative", mode: Passt, args: []string{"-m", "-1"}, wantErr: "Invalid MTU: -1"},
		{name: "mtu with sign", mode: Passt, args: []string{"-m", "+1500"}, wantErr: "Invalid MTU: +1500"},
		{name: "mtu with separator", mode: Passt, args: []string{"-m", "1_500"}, wantErr: "Invalid MTU: 1_500"},
		{name: "mtu empty", mode: Passt, args: []string{"--mtu="}, wantErr: `Invalid MTU: ""`},
		{name: "address unspecified", mode: Passt, args: []string{"-a", "0.0.0.0"}, wantErr: "Invalid address: 0.0.0.0"},
		{name: "address loopback", mode: Passt, args: []string{"-a", "127.0.0.2"}, wantErr: "Invalid address: 127.0.0.2"},
		{name: "address v6 loopback", mode: Passt, args: []string{"-a", "::1"}, wantErr: "Invalid address: ::1"},
		{name: "address multicast", mode: Passt, args: []string{"-a", "224.0.0.1"}, wantErr: "Invalid address: 224.0.0.1"},
		{name: "address v6 multicast", mode: Passt, args: []string{"-a", "ff02::1"}, wantErr: "Invalid address: ff02::1"},
		{name: "address broadcast", mode: Passt, args: []string{"-a", "255.255.255.255"}, wantErr: "Invalid address: 255.255.255.255"},
		{name: "address v4-compatible", mode: Passt, args: []string{"-a", "::10.0.0.1"}, wantErr: "Invalid address: ::10.0.0.1"},
		{name: "address mapped loopback", mode: Passt, args: []string{"-a", "::ffff:127.0.0.1"}, wantErr: "Invalid address: ::ffff:127.0.0.1"},
		{name: "address with zone", mode: Passt, args: []string{"-a", "fe80::2%eth0"}, wantErr: "Invalid address: fe80::2%eth0"},
		{name: "address prefix too long", mode: Passt, args: []string{"-a", "10.0.0.2/33"}, wantErr: "Invalid address: 10.0.0.2/33"},
		{name: "address prefix zero", mode: Passt, args: []string{"-a", "10.0.0.2/0"}, wantErr: "Invalid address: 10.0.0.2/0"},
		{name: "address prefix garbage", mode: Passt, args: []string{"-a", "10.0.0.2/2x"}, wantErr: "Invalid address: 10.0.0.2/2x"},
		{name: "address v6 prefix too long", mode: Passt, args: []string{"-a", "2001:db8::2/129"}, wantErr: "Invalid address: 2001:db8::2/129"},
		{name: "address hostname", mode: Passt, args: []string{"-a", "example.org"}, wantErr: "Invalid address: example.org"},
		{name: "prefix then netmask", mode: Passt, args: []string{"-a", "10.0.0.2/24", "-n", "16"}, wantErr: "Redundant prefix length specification"},
		{name: "netmask then prefix", mode: Passt, args: []string{"-n", "16", "-a", "10.0.0.2/24"}, wantErr: "Redundant prefix length specification"},
		{name: "netmask not contiguous", mode: Passt, args: []string{"-n", "255.0.255.0"}, wantErr: "Invalid prefix length: 255.0.255.0"},
		{name: "netmask too long", mode: Passt, args: []string{"-n", "33"}, wantErr: "Invalid prefix length: 33"},
		{name: "netmask zero", mode: Passt, args: []string{"-n", "0"}, wantErr: "Invalid prefix length: 0"},
		{name: "netmask v6", mode: Passt, args: []string{"-n", "ffff::"}, wantErr: "Invalid prefix length: ffff::"},
		{name: "mac short", mode: Passt, args: []string{"-M", "02:00:00:00:00"}, wantErr: "Invalid MAC address: 02:00:00:00:00"},
		{name: "mac bad digit", mode: Passt, args: []string{"-M", "02:00:00:00:00:0g"}, wantErr: "Invalid MAC address: 02:00:00:00:00:0g"},
		{name: "mac dashes", mode: Passt, args: []string{"-M", "02-00-00-00-00-01"}, wantErr: "Invalid MAC address: 02-00-00-00-00-01"},
		{name: "mac space padded", mode: Passt, args: []string{"-M", " 2:00:00:00:00:01"}, wantErr: `Invalid MAC address: " 2:00:00:00:00:01"`},
		{name: "mac multicast", mode: Passt, args: []string{"-M", "01:00:5e:00:00:01"}, wantErr: "Invalid MAC address: 01:00:5e:00:00:01"},
		{name: "mac zero", mode: Pasta, args: []string{"--ns-mac-addr", "00:00:00:00:00:00"}, wantErr: "Invalid MAC address: 00:00:00:00:00:00"},
		{name: "gateway unspecified", mode: Passt, args: []string{"-g", "0.0.0.0"}, wantErr: "Invalid gateway address: 0.0.0.0"},
		{name: "gateway loopback", mode: Passt, args: []string{"-g", "127.0.0.1"}, wantErr: "Invalid gateway address: 127.0.0.1"},
		{name: "gateway v6 loopback", mode: Passt, args: []string{"-g", "::1"}, wantErr: "Invalid gateway address: ::1"},
		{name: "gateway broadcast", mode: Passt, args: []string{"-g", "255.255.255.255"}, wantErr: "Invalid gateway address: 255.255.255.255"},
		{name: "gateway not an address", mode: Passt, args: []string{"-g", "gw"}, wantErr: "Invalid gateway address: gw"},
		{name: "outbound unspecified", mode: Passt, args: []string{"-o", "::"}, wantErr: "Invalid or redundant outbound address: ::"},
		{name: "outbound v6 loopback", mode: Passt, args: []string{"-o", "::1"}, wantErr: "Invalid or redundant outbound address: ::1"},
		{name: "outbound v4-mapped", mode: Passt, args: []string{"-o", "::ffff:192.0.2.1"}, wantErr: "Invalid or redundant outbound address: ::ffff:192.0.2.1"},
		{name: "outbound multicast", mode: Passt, args: []string{"-o", "239.0.0.1"}, wantErr: "Invalid or redundant outbound address: 239.0.0.1"},
		{name: "outbound broadcast", mode: Passt, args: []string{"-o", "255.255.255.255"}, wantErr: "Invalid or redundant outbound address: 255.255.255.255"},
		{name: "interface too long", mode: Passt, args: []string{"-i", "abcdefghijklmnop"}, wantErr: "Invalid interface name: abcdefghijklmnop"},
		{name: "interface with slash", mode: Passt, args: []string{"--outbound-if4", "a/b"}, wantErr: "Invalid interface name: a/b"},
		{name: "interface dot dot", mode: Pasta, args: []string{"-I", ".."}, wantErr: "Invalid interface name: .."},
		{name: "interface empty", mode: Passt, args: []string{"--outbound-if6="}, wantErr: `Invalid interface name: ""`},
		{name: "dns not an address", mode: Passt, args: []string{"-D", "dns.example"}, wantErr: "Cannot use DNS address dns.example"},
		{name: "dns-forward loopback", mode: Passt, args: []string{"--dns-forward", "127.0.0.1"}, wantErr: "Invalid DNS forwarding address: 127.0.0.1"},
		{name: "dns-forward v6 unspecified", mode: Passt, args: []string{"--dns-forward", "::"}, wantErr: "Invalid DNS forwarding address: ::"},
		{name: "dns-forward broadcast", mode: Passt, args: []string{"--dns-forward", "255.255.255.255"}, wantErr: "Invalid DNS forwarding address: 255.255.255.255"},
		{name: "dns-host unspecified", mode: Passt, args: []string{"--dns-host", "0.0.0.0"}, wantErr: "Invalid host nameserver address: 0.0.0.0"},
		{name: "search empty", mode: Passt, args: []string{"-S", " "}, wantErr: `Cannot use DNS search domain " "`},
		{name: "search too many", mode: Passt, args: []string{"-S", "a b c d e f g"}, wantErr: "Cannot use DNS search domain g"},
		{name: "search domain too long", mode: Passt, args: []string{"-S", strings.Repeat("a", 254)}, wantErr: "Cannot use DNS search domain " + strings.Repeat("a", 254)},
		{name: "hostname too long", mode: Passt, args: []string{"-H", strings.Repeat("h", 254)}, wantErr: "Invalid hostname: " + strings.Repeat("h", 254)},
		{name: "fqdn with newline", mode: Passt, args: []string{"--fqdn", "a\nb"}, wantErr: `Invalid FQDN: "a\nb"`},
		{name: "map-host-loopback loopback", mode: Passt, args: []string{"--map-host-loopback", "127.0.0.1"}, wantErr: "Invalid address to remap to host: 127.0.0.1"},
		{name: "map-host-loopback multicast", mode: Passt, args: []string{"--map-host-loopback", "ff02::1"}, wantErr: "Invalid address to remap to host: ff02::1"},
		{name: "map-guest-addr unspecified", mode: Passt, args: []string{"--map-guest-addr", "0.0.0.0"}, wantErr: "Invalid address to remap to host: 0.0.0.0"},
		{name: "fd stdout", mode: Passt, args: []string{"-F", "1"}, wantErr: "Invalid --fd: 1"},
		{name: "fd stderr", mode: Passt, args: []string{"-F", "2"}, wantErr: "Invalid --fd: 2"},
		{name: "fd negative", mode: Passt, args: []string{"-F", "-3"}, wantErr: "Invalid --fd: -3"},
		{name: "fd too large", mode: Passt, args: []string{"-F", "2147483648"}, wantErr: "Invalid --fd: 2147483648"},
		{name: "log size too small", mode: Passt, args: []string{"--log-size", "40959"}, wantErr: "Invalid --log-size: 40959 (minimum 40960)"},
		{name: "log size garbage", mode: Passt, args: []string{"--log-size", "1M"}, wantErr: "Invalid --log-size: 1M (minimum 40960)"},
		{name: "log file empty", mode: Passt, args: []string{"-l", ""}, wantErr: `Invalid log file: ""`},
		{name: "socket path too long", mode: Passt, args: []string{"-s", "/" + strings.Repeat("s", 107)}, wantErr: "Invalid socket path: /" + strings.Repeat("s", 107)},
		{name: "pcap path too long", mode: Passt, args: []string{"-p", strings.Repeat("p", 4096)}, wantErr: "Invalid pcap path: " + strings.Repeat("p", 4096)},
		{name: "pid file empty", mode: Passt, args: []string{"-P", ""}, wantErr: `Invalid PID file: ""`},
		{name: "runas empty", mode: Passt, args: []string{"--runas", ""}, wantErr: `Invalid --runas option: ""`},
		{name: "runas empty group", mode: Passt, args: []string{"--runas", "user:"}, wantErr: "Invalid --runas option: user:"},
		{name: "runas two colons", mode: Passt, args: []string{"--runas", "a:b:c"}, wantErr: "Invalid --runas option: a:b:c"},
		{name: "netns empty", mode: Pasta, args: []string{"--netns", ""}, wantErr: `Invalid network namespace name or path: ""`},
		{name: "userns empty", mode: Pasta, args: []string{"--userns", ""}, wantErr: `Invalid userns: ""`},

		// Syntax.
		{name: "command not UTF-8", mode: Pasta, args: []string{"cat", "\x93"}, wantErr: `Argument 2 is not valid UTF-8: "\x93"`},
		{name: "value not UTF-8", mode: Passt, args: []string{"-l", "/tmp/\xff"}, wantErr: `Argument 2 is not valid UTF-8: "/tmp/\xff"`},
		{name: "unknown option", mode: Passt, args: []string{"--no-such"}, wantErr: "unrecognized option '--no-such'"},
		{name: "ambiguous option", mode: Passt, args: []string{"--map"}, wantErr: "option '--map' is ambiguous; possibilities: '--map-host-loopback' '--map-guest-addr'"},
		{name: "missing argument", mode: Passt, args: []string{"-a"}, wantErr: "option requires an argument -- 'a'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, _, err := Parse(tc.mode, tc.args)
			if err == nil {
				t.Fatalf("Parse(%s, %q): got %+v, want error %q", tc.mode, tc.args, o, tc.wantErr)
			}
			if err.Error() != tc.wantErr {
				t.Errorf("Parse(%s, %q): got error %q, want %q", tc.mode, tc.args, err.Error(), tc.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err.Error())
			}
			if o != nil {
				t.Errorf("got options %+v with an error, want nil", o)
			}
		})
	}
}

func TestParseSentinels(t *testing.T) {
	tests := []struct {
		name    string
		mode    Mode
		args    []string
		wantErr error
		wantMsg string
	}{
		{name: "short help", mode: Passt, args: []string{"-h"}, wantErr: ErrHelp},
		{name: "long help", mode: Pasta, args: []string{"--help"}, wantErr: ErrHelp},
		{name: "help abbreviated", mode: Pasta, args: []string{"--he"}, wantErr: ErrHelp},
		{name: "help grouped", mode: Passt, args: []string{"-dh"}, wantErr: ErrHelp},
		{name: "version", mode: Passt, args: []string{"--version"}, wantErr: ErrVersion},
		{name: "help stops before a later bad option", mode: Passt, args: []string{"-h", "--bogus"}, wantErr: ErrHelp},
		{name: "help stops before a mode error", mode: Passt, args: []string{"--help", "--userns", "x"}, wantErr: ErrHelp},
		{name: "help before unsupported option", mode: Passt, args: []string{"--vhost-user", "-h"}, wantErr: ErrHelp},
		{name: "earlier bad option wins over help", mode: Passt, args: []string{"--bogus", "-h"}, wantMsg: "unrecognized option '--bogus'"},
		{name: "earlier mode error wins over version", mode: Pasta, args: []string{"-s", "x", "--version"}, wantMsg: "-s is for passt mode only"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, _, err := Parse(tc.mode, tc.args)
			if o != nil {
				t.Errorf("got options %+v, want nil", o)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("got error %v, want %v", err, tc.wantErr)
			}
			if tc.wantMsg != "" && (err == nil || err.Error() != tc.wantMsg) {
				t.Errorf("got error %v, want %q", err, tc.wantMsg)
			}
		})
	}
}

func TestParseWarnings(t *testing.T) {
	tests := []struct {
		name string
		mode Mode
		args []string
		want []string
	}{
		{name: "none", mode: Passt, args: []string{"-d"}, want: nil},
		{name: "stderr is deprecated", mode: Passt, args: []string{"-e"}, want: []string{"--stderr has no effect and will be dropped soon"}},
		{name: "stderr long", mode: Pasta, args: []string{"--stderr"}, want: []string{"--stderr has no effect and will be dropped soon"}},
		{name: "no-copy options are deprecated", mode: Pasta, args: []string{"--config-net", "--no-copy-routes", "--no-copy-addrs"},
			want: []string{"--no-copy-routes will be dropped soon", "--no-copy-addrs will be dropped soon"}},
		{name: "log size without log file", mode: Passt, args: []string{"--log-size", "65536"}, want: []string{"--log-size has no effect without --log-file"}},
		{name: "too many nameservers", mode: Passt, args: []string{"-D", "192.0.2.1", "-D", "192.0.2.2", "-D", "2001:db8::1", "-D", "192.0.2.3", "-D", "192.0.2.4"},
			want: []string{"-D 192.0.2.4: only 3 nameservers per family are used, ignoring it"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, warnings, err := Parse(tc.mode, tc.args)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !slices.Equal(warnings, tc.want) {
				t.Errorf("got warnings %q, want %q", warnings, tc.want)
			}
		})
	}
}

func TestParseKeepsThreeNameserversPerFamily(t *testing.T) {
	o, _, err := Parse(Passt, []string{"-D", "192.0.2.1", "-D", "192.0.2.2", "-D", "2001:db8::1", "-D", "192.0.2.3", "-D", "192.0.2.4", "-D", "2001:db8::2"})
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Addr{addr("192.0.2.1"), addr("192.0.2.2"), addr("2001:db8::1"), addr("192.0.2.3"), addr("2001:db8::2")}
	if !slices.Equal(o.DNS, want) {
		t.Errorf("got %v, want %v", o.DNS, want)
	}
}

// companions are further arguments an option needs to be accepted.
var companions = map[string][]string{
	"stats":             {"-f"},
	"repair-path":       {"--vhost-user"},
	"migrate-exit":      {"--vhost-user"},
	"migrate-no-linger": {"--vhost-user"},
	"no-copy-routes":    {"--config-net"},
	"no-copy-addrs":     {"--config-net"},
}

// sampleValue is a valid argument for each kind of option value.
var sampleValue = map[string]string{
	"DELAY":                         "2",
	"PATH":                          "/tmp/conf-test/path",
	"BYTES":                         "65536",
	"UID|UID:GID|LOGIN|LOGIN:GROUP": "nobody:nogroup",
	"FILE":                          "/tmp/conf-test/file",
	"FD":                            "5",
	"MTU":                           "1500",
	"ADDR[/PLEN]":                   "192.0.2.2/24",
	"MASK":                          "24",
	"MAC":                           "02:00:00:00:00:09",
	"ADDR":                          "192.0.2.1",
	"NAME":                          "eth7",
	"LIST":                          "example.org",
	"SPEC":                          "22",
	"PATH|NAME":                     "/run/netns/x",
	"N":                             "1000",
}

// firstMode is a mode in which o is accepted.
func firstMode(o *Option) Mode {
	if o.Modes.Has(Passt) {
		return Passt
	}
	return Pasta
}

// TestEveryOptionHasAnEffect applies each option of the table to the
// defaults and checks that it changes the options, returns a warning or a
// sentinel: nothing is accepted and then ignored.
func TestEveryOptionHasAnEffect(t *testing.T) {
	for _, opt := range OptionTable() {
		t.Run(opt.Long, func(t *testing.T) {
			value := ""
			if opt.Arg == RequiredArgument {
				var ok bool
				if value, ok = sampleValue[opt.ArgName]; !ok {
					t.Fatalf("no sample value for %s", opt.ArgName)
				}
			}
			before := defaults(firstMode(&opt))
			after := defaults(firstMode(&opt))
			warnings, err := after.apply(occurrence{opt: &opt, name: "--" + opt.Long, value: value})
			switch {
			case errors.Is(err, ErrHelp) || errors.Is(err, ErrVersion):
				return
			case err != nil:
				t.Fatalf("got error %v, want none", err)
			case len(warnings) > 0:
				return
			}
			if reflect.DeepEqual(before, after) {
				t.Errorf("--%s %s changed nothing", opt.Long, value)
			}
		})
	}
}

// TestNotSupported checks that each listed option is refused with the
// agreed wording, and is accepted once its entry is removed.
func TestNotSupported(t *testing.T) {
	table := OptionTable()
	byName := map[string]Option{}
	for _, o := range table {
		byName[o.Long] = o
	}
	want := []string{"vhost-user", "print-capabilities", "repair-path", "migrate-exit",
		"migrate-no-linger", "conf-path", "splice-only", "stats", "chroot-fallback"}
	for _, name := range want {
		if _, ok := NotSupported[name]; !ok {
			t.Errorf("NotSupported lacks %q", name)
		}
	}
	for name := range NotSupported {
		opt, ok := byName[name]
		if !ok {
			t.Errorf("NotSupported names %q, which is not an option", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			args := append([]string{}, companions[name]...)
			args = append(args, "--"+name)
			if opt.Arg == RequiredArgument {
				args = append(args, sampleValue[opt.ArgName])
			}
			mode := firstMode(&opt)

			// Options the tested one needs are allowed throughout.
			saved := NotSupported
			t.Cleanup(func() { NotSupported = saved })
			NotSupported = map[string]string{}
			for k, v := range saved {
				NotSupported[k] = v
			}
			for _, c := range companions[name] {
				delete(NotSupported, strings.TrimPrefix(c, "--"))
			}

			_, _, err := Parse(mode, args)
			if err == nil || !strings.HasPrefix(err.Error(), "--"+name+": not supported yet") {
				t.Fatalf("Parse(%s, %q): got error %v, want %q", mode, args, err, "--"+name+": not supported yet")
			}
			if err.Error() != "--"+name+": not supported yet ("+saved[name]+")" {
				t.Errorf("got %q, want the reason %q in parentheses", err.Error(), saved[name])
			}

			delete(NotSupported, name)
			o, _, err := Parse(mode, args)
			if err != nil {
				t.Fatalf("with the entry removed, Parse(%s, %q): got error %v, want none", mode, args, err)
			}
			if !o.Given(name) {
				t.Errorf("Given(%q): got false, want true", name)
			}
		})
	}
}

func TestHostOptions(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want struct {
			ifname, if4, if6 string
			noV4, noV6       bool
		}
	}{
		{name: "defaults", args: nil},
		{name: "interfaces", args: []string{"-i", "eth0", "--outbound-if4", "eth1", "--outbound-if6", "eth2"},
			want: struct {
				ifname, if4, if6 string
				noV4, noV6       bool
			}{ifname: "eth0", if4: "eth1", if6: "eth2"}},
		{name: "ipv4 only skips IPv6", args: []string{"-4"},
			want: struct {
				ifname, if4, if6 string
				noV4, noV6       bool
			}{noV6: true}},
		{name: "ipv6 only skips IPv4", args: []string{"-6"},
			want: struct {
				ifname, if4, if6 string
				noV4, noV6       bool
			}{noV4: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, _, err := Parse(Passt, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			h := o.HostOptions()
			got := struct {
				ifname, if4, if6 string
				noV4, noV6       bool
			}{h.Ifname, h.Ifname4, h.Ifname6, h.NoV4, h.NoV6}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if h.ResolvConf != "" {
				t.Errorf("ResolvConf: got %q, want the default", h.ResolvConf)
			}
		})
	}
}

func TestParseCUint(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"10", 10, true}, {"0x1f", 31, true}, {"0X1F", 31, true},
		{"017", 15, true}, {"08", 0, false}, {"", 0, false}, {"0x", 0, false},
		{"+1", 0, false}, {"-1", 0, false}, {" 1", 0, false}, {"1_0", 0, false}, {"0b1", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseCUint(tc.in, 32)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("parseCUint(%q): got %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

// otherValue is a second valid argument for each kind of option value,
// different from sampleValue's and of the same address family.
var otherValue = map[string]string{
	"DELAY":                         "7",
	"PATH":                          "/tmp/conf-test/other",
	"BYTES":                         "0x20000",
	"UID|UID:GID|LOGIN|LOGIN:GROUP": "1000",
	"FILE":                          "/tmp/conf-test/other-file",
	"FD":                            "0",
	"MTU":                           "9000",
	"ADDR[/PLEN]":                   "198.51.100.2",
	"MASK":                          "255.255.0.0",
	"MAC":                           "02:00:00:00:00:0a",
	"ADDR":                          "198.51.100.1",
	"NAME":                          "wlan0",
	"PATH|NAME":                     "ns2",
	"N":                             "0x100000",
}

// repeatable options collect every value instead of keeping the last.
var repeatable = map[string]bool{
	"tcp-ports": true, "udp-ports": true, "tcp-ns": true, "udp-ns": true, "dns": true, "search": true,
}

// TestLastOneWins checks, for every option with a value that is not
// repeatable, that giving it twice is the same as giving the second value
// alone.
func TestLastOneWins(t *testing.T) {
	saved := NotSupported
	t.Cleanup(func() { NotSupported = saved })
	NotSupported = map[string]string{}

	for _, opt := range OptionTable() {
		if opt.Arg != RequiredArgument || repeatable[opt.Long] {
			continue
		}
		t.Run(opt.Long, func(t *testing.T) {
			first, second := sampleValue[opt.ArgName], otherValue[opt.ArgName]
			if first == "" || second == "" || first == second {
				t.Fatalf("need two different sample values for %s", opt.ArgName)
			}
			mode := firstMode(&opt)
			pre := companions[opt.Long]
			if opt.Long == "log-size" {
				pre = []string{"-l", "/tmp/conf-test/log"}
			}
			both := append(append([]string{}, pre...), "--"+opt.Long, first, "--"+opt.Long, second)
			last := append(append([]string{}, pre...), "--"+opt.Long, second)
			onlyFirst := append(append([]string{}, pre...), "--"+opt.Long, first)
			ob, _, err := Parse(mode, both)
			if err != nil {
				t.Fatalf("Parse(%s, %q): %v", mode, both, err)
			}
			ol, _, err := Parse(mode, last)
			if err != nil {
				t.Fatalf("Parse(%s, %q): %v", mode, last, err)
			}
			of, _, err := Parse(mode, onlyFirst)
			if err != nil {
				t.Fatalf("Parse(%s, %q): %v", mode, onlyFirst, err)
			}
			if !reflect.DeepEqual(ob, ol) {
				t.Errorf("got %+v, want %+v", ob, ol)
			}
			if reflect.DeepEqual(of, ol) {
				t.Errorf("%q and %q parse the same: the test proves nothing", first, second)
			}
		})
	}
}
