// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package conf

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
)

// Describe writes the configuration as it is reported at start: template
// and outbound interfaces, our MAC, the address mappings, the DHCP and
// NDP/DHCPv6 assignments, the nameservers and search list, and the
// forwarding tables. Write errors are ignored: the output is informational.
func (c *Config) Describe(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }

	var tmpl, out []string
	for _, f := range []struct {
		fam  *Family
		name string
	}{{&c.IPv4, "IPv4"}, {&c.IPv6, "IPv6"}} {
		if f.fam.Enabled && !f.fam.Local {
			tmpl = append(tmpl, fmt.Sprintf("%s (%s)", f.fam.Ifname, f.name))
		}
		if f.fam.Enabled && f.fam.OutboundIf != "" {
			out = append(out, fmt.Sprintf("%s (%s)", f.fam.OutboundIf, f.name))
		}
	}
	if len(tmpl) > 0 {
		p("Template interface: %s", strings.Join(tmpl, ", "))
	}
	if len(out) > 0 {
		p("Outbound interface: %s", strings.Join(out, ", "))
	}
	if c.IPv4.Enabled && c.IPv4.Outbound.IsValid() {
		p("Outbound IPv4 address: %s", c.IPv4.Outbound)
	}
	if c.IPv6.Enabled && c.IPv6.Outbound.IsValid() {
		p("Outbound IPv6 address: %s", c.IPv6.Outbound)
	}
	if c.IPv4.Enabled && c.IPv4.Local {
		p("IPv4: no template interface, local mode")
	}
	if c.IPv6.Enabled && c.IPv6.Local {
		p("IPv6: no template interface, local mode")
	}
	if c.Namespace != nil && !c.Namespace.SpliceOnly {
		p("Namespace interface: %s", c.Namespace.Ifname)
	}

	p("MAC:")
	p("    host: %s", c.MAC)
	if c.IPv4.Enabled && c.IPv4.MapHostLoopback.IsValid() {
		p("    NAT to host 127.0.0.1: %s", c.IPv4.MapHostLoopback)
	}
	if c.IPv6.Enabled && c.IPv6.MapHostLoopback.IsValid() {
		p("    NAT to host ::1: %s", c.IPv6.MapHostLoopback)
	}
	for _, f := range []*Family{&c.IPv4, &c.IPv6} {
		if f.Enabled && f.MapGuestAddr.IsValid() {
			p("    NAT to guest's address on the host: %s", f.MapGuestAddr)
		}
	}

	if c.IPv4.Enabled {
		if c.DHCP {
			p("DHCP:")
			p("    assign: %s", c.IPv4.Addr)
			p("    mask: %s", netmask4(c.IPv4.PrefixLen))
			p("    router: %s", c.IPv4.Gateway)
		}
		describeDNS(p, &c.IPv4)
	}
	if c.IPv6.Enabled {
		heading := ""
		switch {
		case c.NDP && c.DHCPv6:
			heading = "NDP/DHCPv6:"
		case c.DHCPv6:
			heading = "DHCPv6:"
		case c.NDP:
			heading = "NDP:"
		}
		if heading != "" {
			p("%s", heading)
			if c.IPv6.Addr.IsValid() {
				p("    assign: %s", c.IPv6.Addr)
			}
			p("    router: %s", c.IPv6.Gateway)
			p("    our link-local: %s", c.IPv6.LinkLocal)
		}
		describeDNS(p, &c.IPv6)
	}
	if len(c.Search) > 0 {
		p("DNS search list:")
		for _, d := range c.Search {
			p("    %s", d)
		}
	}

	for _, f := range []*Forward{&c.Forward.TCP, &c.Forward.UDP, &c.Forward.TCPNs, &c.Forward.UDPNs} {
		if f.Table != nil {
			p("%s", f.Table)
		}
	}
}

func describeDNS(p func(string, ...any), f *Family) {
	if len(f.DNS) > 0 {
		p("DNS:")
		for _, a := range f.DNS {
			p("    %s", a)
		}
	}
	if f.DNSForward.IsValid() && f.DNSHost.IsValid() {
		p("DNS forwarding: %s to %s", f.DNSForward, f.DNSHost)
	}
}

// netmask4 is the dotted-quad netmask of an IPv4 prefix length.
func netmask4(plen int) netip.Addr {
	m := net.CIDRMask(plen, 32)
	if m == nil {
		return netip.Addr{}
	}
	return netip.AddrFrom4([4]byte(m))
}
