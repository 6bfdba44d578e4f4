// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package host

import "net/netip"

// Route is one route of a template interface, as the kernel reports it. A
// multipath route appears only when every next hop is on the interface,
// with Gateway set to the first next hop of the highest weight.
type Route struct {
	Dst      netip.Prefix // 0.0.0.0/0 or ::/0 for a default route
	Gateway  netip.Addr   // invalid for a directly connected route
	Priority int          // the route's metric
	Table    int
}

// Family is what one address family (IPv4 or IPv6) of the host looks like
// through its template interface.
type Family struct {
	Ifname  string
	Ifindex int
	MTU     int
	// Addrs are the interface's addresses with their prefix lengths, in the
	// kernel's order; for IPv6 only global (non link-local) ones.
	Addrs []netip.Prefix
	// LinkLocal is the interface's IPv6 link-local address (IPv6 only).
	LinkLocal netip.Addr
	// Gateway is the first hop of the first default route on the interface
	// (for a multipath route: the first next hop with the highest weight);
	// invalid when the interface has no default route.
	Gateway netip.Addr
	// Routes are the interface's routes in the main table, default first.
	Routes []Route
}

// Info is the host's configuration as detected at start.
type Info struct {
	V4, V6 *Family // nil when the family has no usable template interface

	Nameservers []netip.Addr // from resolv.conf, in order
	Search      []string     // the search (or domain) list of resolv.conf
	// ResolvConfErr says why resolv.conf could not be read (nil when it
	// was); a missing or unreadable file leaves Nameservers and Search
	// empty and is not an error of Detect.
	ResolvConfErr error
	Hostname      string

	// EphemeralPorts is the kernel's ip_local_port_range.
	EphemeralPorts [2]uint16
	// UDPTimeouts are the connection tracker's UDP timeouts (defaults
	// when it has none), and UDPTimeoutNotes say why a value that was
	// there could not be used (see ReadUDPTimeouts).
	UDPTimeouts     UDPTimeouts
	UDPTimeoutNotes []string
	// Looked lists the interfaces examined when no template was found, for
	// the error message.
	Looked []string
}

// Options select what Detect looks at; the zero value reads the host's
// defaults.
type Options struct {
	Ifname           string // -i: template interface for both families
	Ifname4, Ifname6 string // --outbound-if4, --outbound-if6
	ResolvConf       string // default /etc/resolv.conf
	NoV4, NoV6       bool   // -6 / -4: skip a family entirely
	// PortRangeFile is where the ephemeral port range is read; default
	// /proc/sys/net/ipv4/ip_local_port_range.
	PortRangeFile string
	// SysctlDir is where the connection tracker's UDP timeouts are read;
	// default DefaultSysctlDir.
	SysctlDir string
}
