// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package conf

import (
	"net/netip"
	"strings"
	"testing"

	"passt-go/fwd"
	"passt-go/host"
)

func TestDescribe(t *testing.T) {
	tests := []struct {
		name string
		mode Mode
		args []string
		info *host.Info
		want string
	}{
		{name: "passt, loopback resolver", mode: Passt,
			args: []string{"-t", "22", "--outbound-if4", "eth0", "-o", "2001:db8::10"},
			info: withInfo(func(i *host.Info) { i.Nameservers = []netip.Addr{addr("127.0.0.53"), addr("2001:db8::53")} }),
			want: `Template interface: eth0 (IPv4), eth0 (IPv6)
Outbound interface: eth0 (IPv4)
Outbound IPv6 address: 2001:db8::10
MAC:
    host: 9a:55:9a:55:9a:55
    NAT to host 127.0.0.1: 192.0.2.1
    NAT to host ::1: fe80::ff
DHCP:
    assign: 192.0.2.10
    mask: 255.255.255.0
    router: 192.0.2.1
DNS:
    192.0.2.1
DNS forwarding: 192.0.2.1 to 127.0.0.53
NDP/DHCPv6:
    assign: 2001:db8::10
    router: fe80::ff
    our link-local: fe80::ff
DNS:
    2001:db8::53
DNS search list:
    example.org
    example.net
TCP host to guest (-t):
    *:22 => 22
UDP host to guest (-u): none
`},
		{name: "pasta, local mode", mode: Pasta,
			args: []string{"-a", "10.0.0.2/24", "--map-guest-addr", "10.0.0.9", "-S", "none", "-D", "none", "-T", "none", "-U", "none", "-t", "none", "-u", "none"},
			info: withInfo(func(i *host.Info) { i.V4, i.V6 = nil, nil }),
			want: `IPv4: no template interface, local mode
IPv6: no template interface, local mode
Namespace interface: tap0
MAC:
    host: 9a:55:9a:55:9a:55
    NAT to host 127.0.0.1: 169.254.2.2
    NAT to host ::1: fe80::1
    NAT to guest's address on the host: 10.0.0.9
DHCP:
    assign: 10.0.0.2
    mask: 255.255.255.0
    router: 169.254.2.2
NDP:
    router: fe80::1
    our link-local: fe80::1
TCP host to guest (-t): none
UDP host to guest (-u): none
TCP namespace to host (-T): none
UDP namespace to host (-U): none
`},
		{name: "IPv4 only without DHCP", mode: Passt, args: []string{"-4", "--no-dhcp", "-D", "none", "-S", "none", "--no-udp", "-n", "17"},
			info: hostInfo(),
			want: `Template interface: eth0 (IPv4)
MAC:
    host: 9a:55:9a:55:9a:55
    NAT to host 127.0.0.1: 192.0.2.1
TCP host to guest (-t): none
`},
		{name: "IPv6 only, DHCPv6 alone", mode: Passt, args: []string{"-6", "--no-ndp", "--no-map-gw", "-D", "none", "-S", "none", "--no-tcp", "--no-udp"},
			info: hostInfo(),
			want: `Template interface: eth0 (IPv6)
MAC:
    host: 9a:55:9a:55:9a:55
DHCPv6:
    assign: 2001:db8::10
    router: fe80::ff
    our link-local: fe80::ff
`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustResolve(t, tc.mode, tc.info, fwd.ParseAll, tc.args...)
			var b strings.Builder
			c.Describe(&b)
			if got := b.String(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestNetmask4(t *testing.T) {
	tests := []struct {
		plen int
		want string
	}{
		{1, "128.0.0.0"}, {8, "255.0.0.0"}, {17, "255.255.128.0"}, {24, "255.255.255.0"}, {32, "255.255.255.255"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := netmask4(tc.plen).String(); got != tc.want {
				t.Errorf("netmask4(%d): got %s, want %s", tc.plen, got, tc.want)
			}
		})
	}
}
