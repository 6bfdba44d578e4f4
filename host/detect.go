// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package host

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

const (
	defaultResolvConf = "/etc/resolv.conf"
	defaultPortRange  = "/proc/sys/net/ipv4/ip_local_port_range"
	// dumpRetries bounds how often an interrupted netlink dump is redone.
	dumpRetries = 10
)

// DefaultEphemeral is the ephemeral port range assumed when the kernel's
// cannot be read (RFC 6335).
var DefaultEphemeral = [2]uint16{49152, 65535}

// ErrNoSuchInterface is wrapped by the error of Detect when a named
// template interface does not exist.
var ErrNoSuchInterface = errors.New("no such interface")

// Primary returns the address passt takes from the interface: the one with
// the longest prefix, the first among equals.
func (f *Family) Primary() (netip.Prefix, bool) {
	var best netip.Prefix
	for _, p := range f.Addrs {
		if !best.IsValid() || p.Bits() > best.Bits() {
			best = p
		}
	}
	return best, best.IsValid()
}

// Detect reads the host's configuration in the network namespace of the
// calling thread (see the package documentation for the rules). It fails
// only when netlink cannot be read or when a named interface does not
// exist; an unreadable resolv.conf or port range falls back to defaults.
func Detect(opts Options) (*Info, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	defer h.Close()
	d := detector{h: h}
	if err := d.loadLinks(); err != nil {
		return nil, err
	}

	info := &Info{}
	missing := false
	fams := []struct {
		skip   bool
		family int
		name   string
		opt    string
		out    **Family
	}{
		{opts.NoV4, netlink.FAMILY_V4, opts.Ifname4, "--outbound-if4", &info.V4},
		{opts.NoV6, netlink.FAMILY_V6, opts.Ifname6, "--outbound-if6", &info.V6},
	}
	for _, f := range fams {
		if f.skip {
			continue
		}
		name, opt := f.name, f.opt
		if opts.Ifname != "" {
			name, opt = opts.Ifname, "-i"
		}
		fam, err := d.family(f.family, name, opt)
		if err != nil {
			return nil, err
		}
		*f.out = fam
		if fam == nil {
			missing = true
		}
	}
	if missing {
		for _, l := range d.links {
			info.Looked = append(info.Looked, l.Attrs().Name)
		}
	}

	path := opts.ResolvConf
	if path == "" {
		path = defaultResolvConf
	}
	if rc, err := readResolvConf(path); err != nil {
		info.ResolvConfErr = err
	} else {
		info.Nameservers, info.Search = rc.Nameservers, rc.Search
	}

	var uts unix.Utsname
	if err := unix.Uname(&uts); err == nil {
		info.Hostname = string(bytes.TrimRight(uts.Nodename[:], "\x00"))
	}

	path = opts.PortRangeFile
	if path == "" {
		path = defaultPortRange
	}
	info.EphemeralPorts = DefaultEphemeral
	if data, err := os.ReadFile(path); err == nil {
		if r, ok := parsePortRange(string(data)); ok {
			info.EphemeralPorts = r
		}
	}
	info.UDPTimeouts, info.UDPTimeoutNotes = ReadUDPTimeouts(opts.SysctlDir)
	return info, nil
}

// detector holds the netlink handle and what was read through it.
type detector struct {
	h     *netlink.Handle
	links []netlink.Link // in ifindex order, as the kernel lists them
}

// retry runs a netlink dump again while the kernel reports it interrupted.
func retry(f func() error) error {
	var err error
	for range dumpRetries {
		if err = f(); !errors.Is(err, netlink.ErrDumpInterrupted) {
			return err
		}
	}
	return err
}

func (d *detector) loadLinks() error {
	err := retry(func() (err error) {
		d.links, err = d.h.LinkList()
		return err
	})
	if err != nil {
		return fmt.Errorf("netlink: listing interfaces: %w", err)
	}
	return nil
}

func (d *detector) linkByIndex(i int) netlink.Link {
	for _, l := range d.links {
		if l.Attrs().Index == i {
			return l
		}
	}
	return nil
}

func (d *detector) linkByName(n string) netlink.Link {
	for _, l := range d.links {
		if l.Attrs().Name == n {
			return l
		}
	}
	return nil
}

// routes lists the unicast routes of one family in the main table. A
// family the kernel does not support has no routes.
func (d *detector) routes(family int) ([]netlink.Route, error) {
	var rs []netlink.Route
	err := retry(func() (err error) {
		rs, err = d.h.RouteListFiltered(family, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
		return err
	})
	if errors.Is(err, unix.EAFNOSUPPORT) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("netlink: listing routes: %w", err)
	}
	out := rs[:0]
	for _, r := range rs {
		if r.Type == unix.RTN_UNICAST {
			out = append(out, r)
		}
	}
	return out, nil
}

// family finds and reads the template interface of one family; name, when
// set, was given by option opt.
func (d *detector) family(family int, name, opt string) (*Family, error) {
	routes, err := d.routes(family)
	if err != nil {
		return nil, err
	}
	var link netlink.Link
	if name != "" {
		if link = d.linkByName(name); link == nil {
			return nil, fmt.Errorf("%s %s: %w", opt, name, ErrNoSuchInterface)
		}
	} else if link = d.linkByIndex(pickInterface(routes)); link == nil {
		return nil, nil
	}
	attrs := link.Attrs()
	f := &Family{Ifname: attrs.Name, Ifindex: attrs.Index, MTU: attrs.MTU}

	var addrs []netlink.Addr
	err = retry(func() (err error) {
		addrs, err = d.h.AddrList(link, family)
		return err
	})
	if err != nil && !errors.Is(err, unix.EAFNOSUPPORT) {
		return nil, fmt.Errorf("netlink: listing addresses of %s: %w", attrs.Name, err)
	}
	for _, a := range addrs {
		if a.IPNet == nil || a.Flags&(unix.IFA_F_DEPRECATED|unix.IFA_F_DADFAILED) != 0 {
			continue
		}
		ip, ok := toAddr(a.IP)
		if !ok {
			continue
		}
		bits, _ := a.Mask.Size()
		if ip.Is6() && a.Scope == unix.RT_SCOPE_LINK {
			if !f.LinkLocal.IsValid() {
				f.LinkLocal = ip
			}
			continue
		}
		f.Addrs = append(f.Addrs, netip.PrefixFrom(ip, bits))
	}

	var defaults, others []Route
	for _, r := range routes {
		gw, ok := routeVia(r, attrs.Index)
		if !ok {
			continue
		}
		rt := Route{Dst: dst(r, family), Gateway: gw, Priority: r.Priority, Table: r.Table}
		if rt.Dst.Bits() == 0 {
			if !f.Gateway.IsValid() {
				f.Gateway = gw
			}
			defaults = append(defaults, rt)
		} else {
			others = append(others, rt)
		}
	}
	// A multipath default route through several interfaces still gives
	// the gateway, though it is not one of the interface's routes.
	if !f.Gateway.IsValid() {
		for _, r := range routes {
			if dst(r, family).Bits() != 0 || len(r.MultiPath) == 0 {
				continue
			}
			if hop := bestHop(r.MultiPath, attrs.Index); hop != nil {
				f.Gateway, _ = toAddr(hop.Gw)
				break
			}
		}
	}
	f.Routes = append(defaults, others...)
	return f, nil
}

// pickInterface applies steps 3 and 4 of the package documentation and
// returns an interface index, or 0.
func pickInterface(routes []netlink.Route) int {
	first, count := 0, 0
	for _, r := range routes {
		ifi := r.LinkIndex
		if len(r.MultiPath) > 0 {
			if hop := bestHop(r.MultiPath, 0); hop != nil {
				ifi = hop.LinkIndex
			}
		}
		if ifi == 0 {
			continue
		}
		d := dst(r, r.Family)
		if d.Bits() == 0 {
			return ifi
		}
		if linkLocal(d) {
			continue
		}
		if ifi != first {
			count++
			if first == 0 {
				first = ifi
			}
		}
	}
	if count == 1 {
		return first
	}
	return 0
}

// bestHop returns the first next hop with the highest weight, among those
// on interface ifi (any interface when ifi is 0).
func bestHop(hops []*netlink.NexthopInfo, ifi int) *netlink.NexthopInfo {
	var best *netlink.NexthopInfo
	for _, h := range hops {
		if ifi != 0 && h.LinkIndex != ifi {
			continue
		}
		if best == nil || h.Hops > best.Hops {
			best = h
		}
	}
	return best
}

// routeVia reports whether route r goes through interface ifi (for a
// multipath route: every next hop does), and its gateway.
func routeVia(r netlink.Route, ifi int) (netip.Addr, bool) {
	if len(r.MultiPath) == 0 {
		if r.LinkIndex != ifi {
			return netip.Addr{}, false
		}
		gw, _ := toAddr(r.Gw)
		return gw, true
	}
	for _, h := range r.MultiPath {
		if h.LinkIndex != ifi {
			return netip.Addr{}, false
		}
	}
	gw, _ := toAddr(bestHop(r.MultiPath, ifi).Gw)
	return gw, true
}

// dst returns the destination of a route; the kernel leaves it out for a
// default route.
func dst(r netlink.Route, family int) netip.Prefix {
	if r.Dst != nil {
		if a, ok := toAddr(r.Dst.IP); ok {
			bits, _ := r.Dst.Mask.Size()
			return netip.PrefixFrom(a, bits)
		}
	}
	if family == netlink.FAMILY_V6 {
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
}

// linkLocal reports whether a destination is link-local.
func linkLocal(p netip.Prefix) bool {
	a := p.Addr()
	return a.IsLinkLocalUnicast() && p.Bits() >= 10 && (a.Is6() || p.Bits() >= 16)
}

// toAddr converts a net.IP, unmapping IPv4.
func toAddr(ip net.IP) (netip.Addr, bool) {
	a, ok := netip.AddrFromSlice(ip)
	return a.Unmap(), ok
}

// parsePortRange parses ip_local_port_range: two port numbers, the first
// not zero and not above the second.
func parsePortRange(s string) ([2]uint16, bool) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return [2]uint16{}, false
	}
	lo, err1 := strconv.ParseUint(f[0], 10, 16)
	hi, err2 := strconv.ParseUint(f[1], 10, 16)
	if err1 != nil || err2 != nil || lo == 0 || lo > hi {
		return [2]uint16{}, false
	}
	return [2]uint16{uint16(lo), uint16(hi)}, true
}
