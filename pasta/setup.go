// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package pasta

import (
	"net/netip"
	"slices"

	"passt-go/conf"
	"passt-go/host"
)

// Setup is what the keeper does inside the namespace, as plain data: the
// monitor builds it from the configuration and sends it over.
type Setup struct {
	// Spawn: the namespaces were created for the keeper, which is the
	// first process of the new PID namespace. It mounts /proc, sets the
	// hostname and ping_group_range, and later runs Command.
	Spawn bool
	// Hostname is set in a spawned namespace; "" for "pasta-" and the
	// host's name.
	Hostname string
	// Command is what a spawned namespace runs, argv[0] first; NewSetup
	// leaves it empty for the user's login shell, and Open fills it in.
	Command []string
	// Path is the program Command runs, found by Open in $PATH.
	Path string

	// Ifname is the tap device's name.
	Ifname string
	// MAC is set on the tap device; zero keeps the kernel's random one.
	MAC conf.MAC
	// MTU is set on the tap device; 0 leaves the kernel's default.
	MTU int
	// ConfigNet: bring the tap up and give it IPv4 and IPv6 below.
	// Without it the tap stays down, for the namespace to configure it
	// (DHCP, NDP, DHCPv6).
	ConfigNet  bool
	IPv4, IPv6 NetFamily

	// TCPNs are the -T ports the keeper listens on inside the namespace,
	// on the loopback address of each family ListenV4 and ListenV6 enable.
	TCPNs              []NsPort
	ListenV4, ListenV6 bool

	// Shed: the keeper joins a network namespace without its user
	// namespace; if it runs as root, it takes the identity of UID and
	// GID (the monitor's after its switch) when the monitor says the
	// set-up is over (Namespace.Settle). A keeper that joined a user
	// namespace has privileges only there, and keeps them.
	Shed     bool
	UID, GID uint32
}

// NetFamily is what --config-net gives the tap in one address family.
type NetFamily struct {
	Enabled bool
	// Addrs are added to the tap (IPv6 ones without duplicate address
	// detection).
	Addrs []netip.Prefix
	// Routes are added through the tap, their gateways unchanged.
	Routes []host.Route
}

// NewSetup derives the keeper's set-up from a resolved pasta
// configuration. With --config-net, each enabled family gets either all
// of the template interface's addresses and routes (the default), or the
// one address (-a, or the host's) and a default route through the
// gateway (-g, --no-copy-addrs, --no-copy-routes, local mode).
func NewSetup(cfg *conf.Config) Setup {
	ns := cfg.Namespace
	s := Setup{
		Spawn:     ns.Spawn(),
		Hostname:  cfg.Hostname,
		Command:   slices.Clone(ns.Command),
		Ifname:    ns.Ifname,
		MAC:       ns.MAC,
		MTU:       cfg.MTU,
		ConfigNet: ns.ConfigNet,
		TCPNs:     nsPorts(cfg),
		ListenV4:  cfg.IPv4.Enabled,
		ListenV6:  cfg.IPv6.Enabled,
	}
	if ns.ConfigNet {
		s.IPv4 = netFamily(&cfg.IPv4, 0)
		s.IPv6 = netFamily(&cfg.IPv6, 64)
	}
	return s
}

// netFamily picks the addresses and routes of one family. prefix6 is the
// prefix length of a single IPv6 address (0 for IPv4, which has its own).
func netFamily(f *conf.Family, prefix6 int) NetFamily {
	if !f.Enabled {
		return NetFamily{}
	}
	n := NetFamily{Enabled: true}
	if f.CopyAddrs {
		n.Addrs = slices.Clone(f.HostAddrs)
	} else if f.Addr.IsValid() && !f.Addr.IsUnspecified() {
		bits := f.PrefixLen
		if f.Addr.Is6() {
			bits = prefix6
		}
		n.Addrs = []netip.Prefix{netip.PrefixFrom(f.Addr, bits)}
	}
	if f.CopyRoutes {
		n.Routes = slices.Clone(f.HostRoutes)
	} else if f.Gateway.IsValid() {
		dst := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		if f.Gateway.Is6() {
			dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		}
		n.Routes = []host.Route{{Dst: dst, Gateway: f.Gateway}}
	}
	return n
}

// Link describes the tap device as the keeper left it.
type Link struct {
	Name  string
	Index int
	MAC   conf.MAC
	MTU   int
}
