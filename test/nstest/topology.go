// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package nstest

import "testing"

// Addresses of the topology built by NewTopology. The host reaches
// everything through its default routes via the remote; the far addresses
// live on the remote's loopback and stand for "the Internet", one routing
// hop away from the host.
const (
	HostAddr4   = "192.0.2.2"
	RemoteAddr4 = "192.0.2.1" // the host's IPv4 gateway
	PrefixLen4  = 24
	FarAddr4    = "203.0.113.1"

	HostAddr6   = "2001:db8:1::2"
	RemoteAddr6 = "2001:db8:1::1" // the host's IPv6 gateway
	PrefixLen6  = 64
	FarAddr6    = "2001:db8:2::1"

	// HostIf and RemoteIf are the two ends of the uplink veth.
	HostIf   = "eth0"
	RemoteIf = "uplink0"

	// HostResolvConf is the host's /etc/resolv.conf inside ip netns exec:
	// the resolvers are the remote's addresses.
	HostResolvConf = "nameserver " + RemoteAddr4 + "\nnameserver " + RemoteAddr6 + "\nsearch example.test\n"

	// PingGroupRange lets every group (root included) open ICMP echo
	// sockets, as passt needs for ICMP.
	PingGroupRange = "0 2147483647"
)

// TopologyOptions selects the optional parts of a Topology.
type TopologyOptions struct {
	// Guest adds a third, empty namespace (loopback up, no other link)
	// for pasta to configure or for a tap bridge.
	Guest bool
	// UplinkMTU, if non-zero, is set on both ends of the uplink.
	UplinkMTU int
}

// Topology is a small routed network that never leaves the machine:
//
//	Host (eth0: 192.0.2.2/24, 2001:db8:1::2/64, default via .1 / ::1)
//	  |  veth
//	Remote (uplink0: 192.0.2.1/24, 2001:db8:1::1/64;
//	        lo: 203.0.113.1/32, 2001:db8:2::1/128)
//
//	Guest (optional, unconnected)
//
// Host plays the machine passt or pasta runs on; Remote is its gateway and
// every server the tests talk to. DAD is off in Host and Remote, so IPv6
// works at once; ICMP echo sockets are allowed for every group in Host and
// Guest; Host has HostResolvConf.
type Topology struct {
	Host, Remote *NS
	Guest        *NS // nil unless TopologyOptions.Guest
}

// NewTopology builds the topology; everything is removed at clean-up.
func NewTopology(t testing.TB, opts TopologyOptions) *Topology {
	t.Helper()
	topo := &Topology{Host: NewNS(t), Remote: NewNS(t)}
	for _, ns := range []*NS{topo.Host, topo.Remote} {
		ns.Sysctl(t, "net/ipv6/conf/all/accept_dad", "0")
		ns.Sysctl(t, "net/ipv6/conf/default/accept_dad", "0")
	}
	Veth(t, topo.Host, HostIf, topo.Remote, RemoteIf)
	if opts.UplinkMTU != 0 {
		topo.Host.SetMTU(t, HostIf, opts.UplinkMTU)
		topo.Remote.SetMTU(t, RemoteIf, opts.UplinkMTU)
	}

	topo.Remote.AddAddr(t, RemoteIf, RemoteAddr4+"/24")
	topo.Remote.AddAddr(t, RemoteIf, RemoteAddr6+"/64")
	topo.Remote.AddAddr(t, "lo", FarAddr4+"/32")
	topo.Remote.AddAddr(t, "lo", FarAddr6+"/128")

	topo.Host.AddAddr(t, HostIf, HostAddr4+"/24")
	topo.Host.AddAddr(t, HostIf, HostAddr6+"/64")
	topo.Host.AddRoute(t, "default", RemoteAddr4, HostIf)
	topo.Host.AddRoute(t, "default", RemoteAddr6, HostIf)
	topo.Host.Sysctl(t, "net/ipv4/ping_group_range", PingGroupRange)
	topo.Host.SetResolvConf(t, HostResolvConf)

	if opts.Guest {
		topo.Guest = NewNS(t)
		topo.Guest.Sysctl(t, "net/ipv4/ping_group_range", PingGroupRange)
	}
	return topo
}
