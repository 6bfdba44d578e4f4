// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package pasta

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"passt-go/conf"
	"passt-go/host"
)

// The keeper configures its own network namespace: every thread of the
// keeper is inside it, so the package-level netlink functions, which open
// a socket per call on the calling thread, talk to the right kernel tables.

// linkLocalWait bounds the wait for the kernel to give the tap its IPv6
// link-local address after the link comes up.
const linkLocalWait = time.Second

// loopbackUp brings lo up, as every namespace pasta serves needs it.
func loopbackUp() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("loopback interface: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("bring loopback up: %w", err)
	}
	return nil
}

// prepareLink sets the tap's address and MTU, and with ConfigNet its
// addresses and routes. warn collects what is worth saying but not fatal.
func prepareLink(link netlink.Link, s *Setup, warn func(string)) error {
	name := link.Attrs().Name
	if !s.MAC.IsZero() {
		if err := netlink.LinkSetHardwareAddr(link, net.HardwareAddr(s.MAC[:])); err != nil {
			return fmt.Errorf("set MAC address %s on %s: %w", s.MAC, name, err)
		}
	}
	if s.MTU > 0 {
		if err := netlink.LinkSetMTU(link, s.MTU); err != nil {
			return fmt.Errorf("set MTU %d on %s: %w", s.MTU, name, err)
		}
	}
	if !s.ConfigNet {
		return nil
	}
	// With IPv6, the link comes up with NOARP, which skips duplicate
	// address detection of the link-local address; the address is then
	// marked nodad and neighbour discovery is turned back on.
	if s.IPv6.Enabled {
		if err := netlink.LinkSetARPOff(link); err != nil {
			return fmt.Errorf("set NOARP on %s: %w", name, err)
		}
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("bring %s up: %w", name, err)
	}
	if s.IPv4.Enabled {
		if err := addAddrs(link, s.IPv4.Addrs, "IPv4"); err != nil {
			return err
		}
		if err := addRoutes(link, s.IPv4.Routes, "IPv4"); err != nil {
			return err
		}
	}
	if s.IPv6.Enabled {
		if ll, ok := waitLinkLocal(link); ok {
			ll.Flags |= unix.IFA_F_NODAD
			if err := netlink.AddrReplace(link, &ll); err != nil {
				warn(fmt.Sprintf("set nodad on the link-local address of %s: %v", name, err))
			}
		} else {
			warn(fmt.Sprintf("no IPv6 link-local address on %s", name))
		}
		if err := netlink.LinkSetARPOn(link); err != nil {
			return fmt.Errorf("clear NOARP on %s: %w", name, err)
		}
		if err := addAddrs(link, s.IPv6.Addrs, "IPv6"); err != nil {
			return err
		}
		if err := addRoutes(link, s.IPv6.Routes, "IPv6"); err != nil {
			return err
		}
	}
	return nil
}

// waitLinkLocal returns the link's IPv6 link-local address, waiting a
// little for the kernel to add it.
func waitLinkLocal(link netlink.Link) (netlink.Addr, bool) {
	deadline := time.Now().Add(linkLocalWait)
	for delay := time.Millisecond; ; delay *= 2 {
		addrs, err := netlink.AddrList(link, netlink.FAMILY_V6)
		if err == nil {
			for _, a := range addrs {
				if a.IP.IsLinkLocalUnicast() {
					return a, true
				}
			}
		}
		if time.Now().After(deadline) {
			return netlink.Addr{}, false
		}
		time.Sleep(min(delay, 50*time.Millisecond))
	}
}

// addAddrs adds the addresses to the link; IPv6 ones skip duplicate
// address detection, so that they are usable at once. An address already
// there is not an error.
func addAddrs(link netlink.Link, addrs []netip.Prefix, family string) error {
	for _, p := range addrs {
		a := &netlink.Addr{IPNet: ipNet(p)}
		if p.Addr().Is6() {
			a.Flags = unix.IFA_F_NODAD
		}
		if err := netlink.AddrAdd(link, a); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("add %s address %s to %s: %w", family, p, link.Attrs().Name, err)
		}
	}
	return nil
}

// addRoutes adds the routes through the link. A route whose gateway is
// not reachable yet may need another route first, whatever the order the
// host listed them in: routes that fail are tried again while each round
// adds at least one. A route that exists already is not an error.
func addRoutes(link netlink.Link, routes []host.Route, family string) error {
	pending := routes
	for len(pending) > 0 {
		var again []host.Route
		var firstErr error
		for _, r := range pending {
			err := netlink.RouteAdd(netlinkRoute(link.Attrs().Index, r))
			if err == nil || errors.Is(err, unix.EEXIST) {
				continue
			}
			if firstErr == nil {
				firstErr = fmt.Errorf("add %s route %s on %s: %w", family, describeRoute(r), link.Attrs().Name, err)
			}
			again = append(again, r)
		}
		if len(again) == len(pending) {
			return firstErr
		}
		pending = again
	}
	return nil
}

func netlinkRoute(ifindex int, r host.Route) *netlink.Route {
	nr := &netlink.Route{
		LinkIndex: ifindex,
		Dst:       ipNet(r.Dst),
		Priority:  r.Priority,
		Table:     r.Table,
	}
	if r.Table == 0 {
		nr.Table = unix.RT_TABLE_MAIN
	}
	if r.Gateway.IsValid() {
		nr.Gw = net.IP(r.Gateway.AsSlice())
	} else if r.Dst.Addr().Is4() {
		nr.Scope = netlink.SCOPE_LINK
	}
	return nr
}

func describeRoute(r host.Route) string {
	dst := r.Dst.String()
	if r.Dst.Bits() == 0 {
		dst = "default"
	}
	if r.Gateway.IsValid() {
		return dst + " via " + r.Gateway.String()
	}
	return dst
}

func ipNet(p netip.Prefix) *net.IPNet {
	bits := 32
	if p.Addr().Is6() {
		bits = 128
	}
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), bits)}
}

// linkOf describes the link as it is now.
func linkOf(link netlink.Link) (Link, error) {
	fresh, err := netlink.LinkByIndex(link.Attrs().Index)
	if err != nil {
		return Link{}, fmt.Errorf("read back %s: %w", link.Attrs().Name, err)
	}
	a := fresh.Attrs()
	l := Link{Name: a.Name, Index: a.Index, MTU: a.MTU}
	if len(a.HardwareAddr) == len(conf.MAC{}) {
		copy(l.MAC[:], a.HardwareAddr)
	}
	return l, nil
}
