// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package conf

//lint:file-ignore ST1005 messages keep upstream passt's wording, capitals included: each is shown to the user as a line of its own

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"passt-go/fwd"
	"passt-go/host"
)

// Addresses of local mode, used for a family without a template interface.
var (
	// LocalAddr4 and LocalGateway4 make the IPv4 link-local guest network
	// 169.254.2.0/16.
	LocalAddr4      = netip.AddrFrom4([4]byte{169, 254, 2, 1})
	LocalGateway4   = netip.AddrFrom4([4]byte{169, 254, 2, 2})
	LocalPrefixLen4 = 16
	// LocalGateway6 is the IPv6 gateway and our link-local address.
	LocalGateway6 = netip.MustParseAddr("fe80::1")
)

// DefaultNsIfname names the pasta tap device when no template interface
// lends its name.
const DefaultNsIfname = "tap0"

// Config is the resolved configuration: everything the data path and the
// set-up need, typed, and with every default filled in. It encodes to JSON
// and decodes back to an equal value.
type Config struct {
	Mode Mode
	// MAC is our address as the guest sees it.
	MAC MAC
	// MTU is advertised by DHCP and RA and set on the pasta tap device with
	// --config-net; 0 means don't advertise.
	MTU int

	IPv4, IPv6 Family

	// Search is the DNS search list.
	Search []string
	// AdvertiseDNS and AdvertiseSearch say whether the nameservers and the
	// search list go into DHCP, RA and DHCPv6.
	AdvertiseDNS, AdvertiseSearch bool
	// Hostname and FQDN are handed out by DHCP (options 12 and 81) and
	// DHCPv6 (option 39); pasta also sets Hostname in a namespace it
	// creates.
	Hostname, FQDN string

	// Enabled protocol handlers. DHCP is off without an IPv4 gateway,
	// DHCPv6 without an IPv6 address, NDP without ICMP; RA is sent only
	// with NDP and never with --config-net.
	TCP, UDP, ICMP, DHCP, NDP, DHCPv6, RA bool
	// Freebind lets forwarding listeners bind addresses the host lacks.
	Freebind bool
	// MaxFlows is the capacity of the worker's flow table (--max-flows),
	// shared by TCP, UDP and ICMP: 1 to flow.MaxCapacity.
	MaxFlows int
	// UDPTimeout and UDPStreamTimeout are the idle timeouts of UDP flows
	// with at most one datagram each way, and with more: the host's
	// nf_conntrack_udp_timeout and nf_conntrack_udp_timeout_stream. Zero
	// means the kernel's defaults.
	UDPTimeout, UDPStreamTimeout time.Duration

	Forward Forwarding

	// Namespace is pasta's side of things; nil in passt mode.
	Namespace *Namespace

	Log Log

	PcapFile string // "" for no capture
	PIDFile  string // "" for no PID file
	// SocketPath is passt's UNIX socket; "" to probe /tmp/passt_N.socket
	// (or when FD is set).
	SocketPath string
	// FD is an already connected socket (passt) or tap device (pasta) to
	// use; -1 for none.
	FD int
	// OneOff: exit when the client goes away; always set with FD.
	OneOff     bool
	Foreground bool
	// RunAs is --runas as given; "" for the default identity.
	RunAs string

	// Options of features that are refused for now (see NotSupported);
	// carried so that accepting them needs no change here.
	ConfPath          string
	ChrootFallback    bool
	VhostUser         bool
	RepairPath        string
	MigrateExit       bool
	MigrateNoLinger   bool
	PrintCapabilities bool

	// Warnings are for the monitor to log; they are not sent to the
	// worker.
	Warnings []string `json:"-"`
}

// Family is the configuration of one address family.
type Family struct {
	// Enabled is false when the family is turned off (-4, -6).
	Enabled bool
	// Local is set when no template interface was found: addresses come
	// from the options or from local mode's link-local defaults.
	Local bool
	// Ifname and Ifindex name the template interface; empty in local mode.
	Ifname  string
	Ifindex int
	// HostAddrs and HostRoutes are the template interface's addresses and
	// routes, for pasta --config-net to copy.
	HostAddrs  []netip.Prefix
	HostRoutes []host.Route
	// CopyAddrs and CopyRoutes: pasta --config-net copies all of the
	// template's addresses and routes rather than one address and a
	// default route.
	CopyAddrs, CopyRoutes bool

	// Addr is the guest's address (DHCP yiaddr, DHCPv6 IA_NA); for IPv6 it
	// may be invalid, and the guest uses its link-local address.
	Addr netip.Addr
	// PrefixLen is Addr's prefix length; always 64 for IPv6.
	PrefixLen int
	// AddrFixed: Addr came from -a, so the address the guest uses is not
	// tracked from its packets.
	AddrFixed bool
	// Gateway is the guest's router: DHCP option 3 for IPv4; for IPv6 the
	// address RAs name. Invalid for IPv4 without a default route.
	Gateway netip.Addr
	// LinkLocal is our IPv6 link-local address, source of NDP, RA and
	// DHCPv6 (IPv6 only).
	LinkLocal netip.Addr

	// DNS are the nameservers for the guest, already remapped.
	DNS []netip.Addr
	// DNSForward is the guest-side address whose TCP and UDP traffic to
	// ports 53 and 853 goes to DNSHost instead; set by --dns-forward or,
	// for a loopback resolver in resolv.conf, to the mapped host loopback
	// address. Invalid for no forwarding.
	DNSForward netip.Addr
	// DNSHost is the real resolver behind DNSForward.
	DNSHost netip.Addr
	// MapHostLoopback is the guest-side address that reaches the host's
	// loopback (127.0.0.1 or ::1); invalid for none.
	MapHostLoopback netip.Addr
	// MapGuestAddr is the guest-side address that reaches the host's own
	// copy of Addr; invalid for none.
	MapGuestAddr netip.Addr
	// Outbound and OutboundIf bind outbound sockets; zero for no binding.
	Outbound   netip.Addr
	OutboundIf string
}

// Forwarding holds the port forwarding tables.
type Forwarding struct {
	// TCP and UDP forward ports of the host to the guest (-t, -u).
	TCP, UDP Forward
	// TCPNs and UDPNs forward ports of the namespace to the host (-T, -U,
	// pasta only).
	TCPNs, UDPNs Forward
}

// Forward is one forwarding table and the specifications it came from.
type Forward struct {
	// Specs are the specifications as given, or the mode's default.
	Specs []string
	// Table is nil when the protocol is disabled or the direction does
	// not exist in this mode.
	Table *fwd.Table
}

// Namespace is the network namespace pasta serves.
type Namespace struct {
	// Ifname is the tap device's name in the namespace.
	Ifname string
	// MAC is the tap device's address; zero to keep the kernel's.
	MAC MAC
	// Netns is the network namespace to join; "" to create one and run
	// Command in it.
	Netns string
	// Userns is the user namespace to join; "" for none (NetnsOnly) or,
	// when creating namespaces, a new one.
	Userns string
	// NetnsOnly: join only the network namespace.
	NetnsOnly bool
	// PID is the process whose namespaces are joined; 0 for none.
	PID int
	// Command runs in the new namespaces; empty for the user's shell.
	Command     []string
	NoNetnsQuit bool
	ConfigNet   bool
	// Splice moves loopback traffic with splice() instead of the tap.
	Splice       bool
	SpliceOnly   bool
	HostLoToNsLo bool
}

// Spawn reports whether pasta creates the namespaces and runs a command.
func (p *Namespace) Spawn() bool { return p.Netns == "" }

// Log is where messages go and how many.
type Log struct {
	Debug, Trace, Quiet bool
	// File is the log file; "" for the system log.
	File string
	// Size caps the log file, in bytes.
	Size int64
	// StatsDelay is the interval of event statistics, in seconds; 0 for
	// none.
	StatsDelay int
}

// portParser builds one forwarding table; it is fwd.ParseAll outside tests.
type portParser func(specs []string, ctx fwd.Context) (*fwd.Table, error)

// Resolve combines the options with the detected host configuration into
// the configuration to run. info may be nil when nothing was detected.
func Resolve(o *Options, info *host.Info) (*Config, error) {
	return resolve(o, info, fwd.ParseAll)
}

func resolve(o *Options, info *host.Info, parsePorts portParser) (*Config, error) {
	if info == nil {
		info = &host.Info{}
	}
	c := &Config{
		Mode:              o.Mode,
		MAC:               o.MAC,
		MTU:               o.MTU,
		Hostname:          o.Hostname,
		FQDN:              o.FQDN,
		AdvertiseDNS:      o.AdvertiseDNS,
		AdvertiseSearch:   o.AdvertiseSearch,
		Freebind:          o.Freebind,
		MaxFlows:          o.MaxFlows,
		PcapFile:          o.PcapFile,
		PIDFile:           o.PIDFile,
		SocketPath:        o.SocketPath,
		FD:                o.FD,
		OneOff:            o.OneOff || o.FD >= 0,
		Foreground:        o.Foreground,
		RunAs:             o.RunAs,
		ConfPath:          o.ConfPath,
		ChrootFallback:    o.ChrootFallback,
		VhostUser:         o.VhostUser,
		RepairPath:        o.RepairPath,
		MigrateExit:       o.MigrateExit,
		MigrateNoLinger:   o.MigrateNoLinger,
		PrintCapabilities: o.PrintCapabilities,
		Log: Log{
			Debug:      o.Debug,
			Trace:      o.Trace,
			Quiet:      o.Quiet,
			File:       o.LogFile,
			Size:       o.LogSize,
			StatsDelay: o.StatsDelay,
		},
	}

	use4 := !o.IPv6Only && !o.SpliceOnly
	use6 := !o.IPv4Only && !o.SpliceOnly
	var t4, t6 *host.Family
	if use4 && info.V4 != nil && (len(info.V4.Addrs) > 0 || o.Addr4.IsValid()) {
		t4 = info.V4
	}
	if use6 && info.V6 != nil && (len(info.V6.Addrs) > 0 || o.Addr6.IsValid()) {
		t6 = info.V6
	}
	if err := checkTemplates(o, info, t4, t6); err != nil {
		return nil, err
	}
	if use4 {
		c.IPv4 = family4(o, t4)
	}
	if use6 {
		c.IPv6 = family6(o, t6)
	}

	c.TCP, c.UDP = !o.NoTCP, !o.NoUDP
	c.ICMP = !o.NoICMP && !o.SpliceOnly
	c.DHCP = !o.NoDHCP && c.IPv4.Enabled && c.IPv4.Gateway.IsValid()
	c.NDP = !o.NoNDP && c.ICMP && c.IPv6.Enabled
	c.DHCPv6 = !o.NoDHCPv6 && c.IPv6.Enabled && c.IPv6.Addr.IsValid()
	c.RA = !o.NoRA && c.NDP && !o.ConfigNet

	c.UDPTimeout, c.UDPStreamTimeout = info.UDPTimeouts.Timeout, info.UDPTimeouts.Stream
	if c.UDP {
		c.Warnings = append(c.Warnings, info.UDPTimeoutNotes...)
	}
	c.Warnings = append(c.Warnings, dns(o, info, c)...)
	if c.MTU != 0 && c.IPv4.Enabled && c.MTU < MinMTU4 {
		c.Warnings = append(c.Warnings, fmt.Sprintf("MTU %d is too small for IPv4 (minimum %d)", c.MTU, MinMTU4))
	}
	if c.MTU != 0 && c.IPv6.Enabled && c.MTU < MinMTU6 {
		c.Warnings = append(c.Warnings, fmt.Sprintf("MTU %d is too small for IPv6 (minimum %d)", c.MTU, MinMTU6))
	}

	if o.Mode == Pasta {
		c.Namespace = namespace(o, t4, t6)
		if c.Namespace.Spawn() {
			// The namespace's command owns the terminal: stay attached,
			// and talk only when asked to.
			c.Foreground = true
			if !c.Log.Debug {
				c.Log.Quiet = true
			}
		}
	}

	if err := forwarding(o, c, info, parsePorts); err != nil {
		return nil, err
	}
	return c, nil
}

// checkTemplates refuses configurations with nothing to build the guest's
// network from.
func checkTemplates(o *Options, info *host.Info, t4, t6 *host.Family) error {
	if o.SpliceOnly {
		return nil
	}
	if o.OutboundIf4 != "" && !o.IPv6Only && t4 == nil {
		return fmt.Errorf("External interface not usable: %s has no IPv4 address", o.OutboundIf4)
	}
	if o.OutboundIf6 != "" && !o.IPv4Only && t6 == nil {
		return fmt.Errorf("External interface not usable: %s has no IPv6 address", o.OutboundIf6)
	}
	if o.IPv6Only && t6 == nil && !o.Addr6.IsValid() && !o.Gateway6.IsValid() {
		return errors.New("-6 given but IPv6 is not available: no interface with an IPv6 default route (set one with -a and -g)")
	}
	if t4 != nil || t6 != nil {
		return nil
	}
	built := (!o.IPv6Only && (o.Addr4.IsValid() || o.Gateway4.IsValid())) ||
		(!o.IPv4Only && (o.Addr6.IsValid() || o.Gateway6.IsValid()))
	if built {
		return nil
	}
	if o.Interface != "" {
		return fmt.Errorf("Interface %s not usable: it has no address with a default route; "+
			"name another with -i, or give the guest an address and gateway with -a and -g", o.Interface)
	}
	looked := "none"
	if len(info.Looked) > 0 {
		looked = strings.Join(info.Looked, ", ")
	}
	return fmt.Errorf("No usable interface: no interface with a default route and an address (examined: %s); "+
		"name one with -i, choose a family with -4 or -6, or give the guest an address and gateway with -a and -g", looked)
}

func family4(o *Options, t *host.Family) Family {
	f := Family{
		Enabled:         true,
		Local:           t == nil,
		Addr:            o.Addr4,
		PrefixLen:       o.Prefix4,
		AddrFixed:       o.Addr4.IsValid(),
		Gateway:         o.Gateway4,
		MapGuestAddr:    o.MapGuestAddr4,
		DNSForward:      o.DNSForward4,
		DNSHost:         o.DNSHost4,
		Outbound:        o.Outbound4,
		OutboundIf:      o.OutboundIf4,
		MapHostLoopback: o.MapHostLoopback4,
	}
	if t != nil {
		if p, ok := f.useTemplate(t); ok && f.PrefixLen < 0 {
			f.PrefixLen = p.Bits()
		}
		if f.PrefixLen < 0 {
			// -a without a prefix keeps its class prefix from Parse;
			// this is only reached if Parse left it unset.
			f.PrefixLen = classfulPrefix(f.Addr)
		}
	} else {
		if !f.Addr.IsValid() {
			f.Addr = LocalAddr4
			if f.PrefixLen < 0 {
				f.PrefixLen = LocalPrefixLen4
			}
		}
		if f.PrefixLen < 0 {
			f.PrefixLen = classfulPrefix(f.Addr)
		}
		if !f.Gateway.IsValid() {
			f.Gateway = LocalGateway4
		}
	}
	f.finish(o, o.Gateway4.IsValid())
	return f
}

func family6(o *Options, t *host.Family) Family {
	f := Family{
		Enabled:         true,
		Local:           t == nil,
		Addr:            o.Addr6,
		PrefixLen:       64,
		AddrFixed:       o.Addr6.IsValid(),
		Gateway:         o.Gateway6,
		MapGuestAddr:    o.MapGuestAddr6,
		DNSForward:      o.DNSForward6,
		DNSHost:         o.DNSHost6,
		Outbound:        o.Outbound6,
		OutboundIf:      o.OutboundIf6,
		MapHostLoopback: o.MapHostLoopback6,
	}
	if t != nil {
		f.useTemplate(t)
		f.LinkLocal = t.LinkLocal
	}
	switch {
	case f.Gateway.IsLinkLocalUnicast():
		// We stand in for the router, with its own address.
		f.LinkLocal = f.Gateway
	case !f.LinkLocal.IsValid():
		f.LinkLocal = LocalGateway6
	}
	if !f.Gateway.IsValid() {
		f.Gateway = f.LinkLocal
	}
	f.finish(o, o.Gateway6.IsValid())
	return f
}

// useTemplate takes the name, index, addresses and routes of t, the
// template interface, and its primary address and its gateway where the
// options gave none. It returns the primary address with its prefix, and
// reports whether it took it as f.Addr.
func (f *Family) useTemplate(t *host.Family) (netip.Prefix, bool) {
	f.Ifname, f.Ifindex = t.Ifname, t.Ifindex
	f.HostAddrs = slices.Clone(t.Addrs)
	f.HostRoutes = slices.Clone(t.Routes)
	if !f.Gateway.IsValid() {
		f.Gateway = t.Gateway
	}
	p, ok := t.Primary()
	if !ok || f.Addr.IsValid() {
		return p, false
	}
	f.Addr = p.Addr()
	return p, true
}

// finish sets what follows from the rest of f: the gateway stands for the
// host's loopback unless --map-host-loopback named an address or
// --no-map-gw is set, and pasta --config-net copies the template's
// addresses unless -a gave one (f.AddrFixed), and its routes unless -g
// gave a gateway (gatewayGiven).
func (f *Family) finish(o *Options, gatewayGiven bool) {
	if !f.MapHostLoopback.IsValid() && !o.NoMapGW {
		f.MapHostLoopback = f.Gateway
	}
	if o.Mode == Pasta && o.ConfigNet && !f.Local {
		f.CopyAddrs = !o.NoCopyAddrs && !f.AddrFixed
		f.CopyRoutes = !o.NoCopyRoutes && !gatewayGiven
	}
}

// dns fills in the nameservers and the search list: -D as given, else the
// host's resolvers, where a loopback resolver (or one at the address that
// maps to the host's loopback) is advertised as the mapped address and DNS
// to that address is forwarded to it.
func dns(o *Options, info *host.Info, c *Config) (warnings []string) {
	var given4, given6 []netip.Addr
	for _, a := range o.DNS {
		if a.Is4() {
			given4 = append(given4, a)
		} else {
			given6 = append(given6, a)
		}
	}
	fams := []struct {
		f     *Family
		given []netip.Addr
		is4   bool
	}{{&c.IPv4, given4, true}, {&c.IPv6, given6, false}}

	for _, x := range fams {
		f := x.f
		if !f.Enabled || o.NoDNS {
			continue
		}
		if len(x.given) > 0 {
			f.DNS = x.given
			continue
		}
		for _, ns := range info.Nameservers {
			ns = ns.Unmap().WithZone("")
			if ns.Is4() != x.is4 || !ns.IsValid() {
				continue
			}
			if !f.DNSHost.IsValid() {
				f.DNSHost = ns
			}
			if ns.IsLoopback() || ns == f.MapHostLoopback {
				switch {
				case f.DNSForward.IsValid():
					ns = f.DNSForward
				case f.MapHostLoopback.IsValid():
					ns = f.MapHostLoopback
					f.DNSForward = f.MapHostLoopback
				default:
					continue // the guest has no way to reach it
				}
			}
			if len(f.DNS) < MaxDNS && !slices.Contains(f.DNS, ns) {
				f.DNS = append(f.DNS, ns)
			}
		}
	}
	if info.ResolvConfErr != nil && !o.NoDNS && len(o.DNS) == 0 {
		warnings = append(warnings, fmt.Sprintf("Couldn't read resolver configuration: %v", info.ResolvConfErr))
	}
	if !o.NoDNS && len(c.IPv4.DNS)+len(c.IPv6.DNS) == 0 && (c.IPv4.Enabled || c.IPv6.Enabled) {
		warnings = append(warnings, "Couldn't get any nameserver address")
	}
	if c.AdvertiseDNS && !o.NoDNS {
		if c.DHCP && len(c.IPv4.DNS) == 0 {
			warnings = append(warnings, "No IPv4 nameserver available for DHCP")
		}
		if (c.RA || c.DHCPv6) && len(c.IPv6.DNS) == 0 {
			warnings = append(warnings, "No IPv6 nameserver available for NDP/DHCPv6")
		}
	}

	switch {
	case o.NoSearch:
	case len(o.Search) > 0:
		c.Search = slices.Clone(o.Search)
	default:
		for _, d := range info.Search {
			if len(c.Search) < MaxSearch && d != "" && len(d) <= maxDomain {
				c.Search = append(c.Search, d)
			}
		}
	}
	return warnings
}

func namespace(o *Options, t4, t6 *host.Family) *Namespace {
	p := &Namespace{
		Ifname:       o.NsIfname,
		MAC:          o.NsMAC,
		Netns:        o.Netns,
		Userns:       o.Userns,
		NetnsOnly:    o.NetnsOnly,
		PID:          o.PID,
		Command:      slices.Clone(o.Command),
		NoNetnsQuit:  o.NoNetnsQuit,
		ConfigNet:    o.ConfigNet,
		Splice:       !o.NoSplice,
		SpliceOnly:   o.SpliceOnly,
		HostLoToNsLo: o.HostLoToNsLo || o.SpliceOnly,
	}
	if p.Ifname == "" {
		switch {
		case t4 != nil:
			p.Ifname = t4.Ifname
		case t6 != nil:
			p.Ifname = t6.Ifname
		default:
			p.Ifname = DefaultNsIfname
		}
	}
	if o.PID != 0 {
		pid := strconv.Itoa(o.PID)
		p.Netns = "/proc/" + pid + "/ns/net"
		if p.Userns == "" && !o.NetnsOnly {
			p.Userns = "/proc/" + pid + "/ns/user"
		}
	}
	if p.Netns != "" && p.Userns == "" {
		p.NetnsOnly = true
	}
	return p
}

// forwarding parses the port specifications now that the enabled families
// and the ephemeral range are known.
func forwarding(o *Options, c *Config, info *host.Info, parsePorts portParser) error {
	ephemeral := info.EphemeralPorts
	if ephemeral == [2]uint16{} {
		ephemeral = host.DefaultEphemeral
	}
	dirs := []struct {
		name    string
		specs   []string
		proto   fwd.Proto
		dir     fwd.Dir
		enabled bool
		out     *Forward
	}{
		{"-t", o.TCPPorts, fwd.TCP, fwd.HostToGuest, c.TCP, &c.Forward.TCP},
		{"-u", o.UDPPorts, fwd.UDP, fwd.HostToGuest, c.UDP, &c.Forward.UDP},
		{"-T", o.TCPNsPorts, fwd.TCP, fwd.GuestToHost, c.TCP, &c.Forward.TCPNs},
		{"-U", o.UDPNsPorts, fwd.UDP, fwd.GuestToHost, c.UDP, &c.Forward.UDPNs},
	}
	for _, d := range dirs {
		if d.dir == fwd.GuestToHost && o.Mode != Pasta {
			continue
		}
		specs := slices.Clone(d.specs)
		if !d.enabled {
			for _, s := range specs {
				if s != "none" {
					proto := "TCP"
					if d.proto == fwd.UDP {
						proto = "UDP"
					}
					return fmt.Errorf("%s port forwarding requested but %s is disabled", proto, proto)
				}
			}
			d.out.Specs = specs
			continue
		}
		if len(specs) == 0 {
			specs = []string{"none"}
			if o.Mode == Pasta {
				specs = []string{"auto"}
			}
		}
		t, err := parsePorts(specs, fwd.Context{
			Proto: d.proto,
			Dir:   d.dir,
			Pasta: o.Mode == Pasta,
			// Without a tap device (--splice-only) the families still
			// exist on the loopback side.
			IPv4:      c.IPv4.Enabled || (o.SpliceOnly && !o.IPv6Only),
			IPv6:      c.IPv6.Enabled || (o.SpliceOnly && !o.IPv4Only),
			Ephemeral: ephemeral,
		})
		var named *fwd.Error
		if errors.As(err, &named) {
			return err // it names the option and the specification
		}
		if err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
		d.out.Specs, d.out.Table = specs, t
	}
	return nil
}
