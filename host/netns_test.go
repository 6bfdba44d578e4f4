// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package host

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// inNetns runs fn on a thread of its own in a new network namespace. The
// thread stays locked, so it ends with its goroutine and the namespace,
// with every interface made in it, goes away with the thread.
func inNetns(t *testing.T, fn func() error) {
	t.Helper()
	type result struct {
		err  error
		skip string
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			done <- result{skip: fmt.Sprintf("kernel refused a network namespace: unshare(CLONE_NEWNET): %v", err)}
			return
		}
		var res result
		func() {
			defer func() {
				if p := recover(); p != nil {
					res.err = fmt.Errorf("panic: %v", p)
				}
			}()
			res.err = fn()
		}()
		done <- res
	}()
	select {
	case res := <-done:
		if res.skip != "" {
			t.Skip(res.skip)
		}
		if res.err != nil {
			t.Fatal(res.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("work in the namespace did not finish in 20s")
	}
}

// sysctl writes a value under /proc/sys/net of the calling thread's
// namespace.
func sysctl(path, value string) error {
	return os.WriteFile("/proc/sys/net/"+path, []byte(value), 0o644)
}

// prepare sets the namespace up for predictable IPv6 addresses: no
// automatic link-local addresses, and lo up.
func prepare() error {
	if err := sysctl("ipv6/conf/default/addr_gen_mode", "1"); err != nil {
		return err
	}
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return err
	}
	return netlink.LinkSetUp(lo)
}

// addLink creates a veth pair, name and name+"p", with an MTU, brings both
// ends up (so that the link has a carrier) and gives name addresses (IPv6
// ones without duplicate address detection). It returns name's index.
func addLink(name string, mtu int, addrs ...string) (int, error) {
	l := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name, MTU: mtu}, PeerName: name + "p"}
	if err := netlink.LinkAdd(l); err != nil {
		return 0, fmt.Errorf("adding %s: %w", name, err)
	}
	for _, n := range []string{name + "p", name} {
		link, err := netlink.LinkByName(n)
		if err != nil {
			return 0, err
		}
		if err := netlink.LinkSetUp(link); err != nil {
			return 0, err
		}
	}
	link, err := netlink.LinkByName(name)
	if err != nil {
		return 0, err
	}
	for _, a := range addrs {
		p := netip.MustParsePrefix(a)
		addr := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
		if p.Addr().Is6() {
			addr.Flags = unix.IFA_F_NODAD
		}
		if err := netlink.AddrAdd(link, addr); err != nil {
			return 0, fmt.Errorf("adding %s to %s: %w", a, name, err)
		}
	}
	return link.Attrs().Index, nil
}

// addRoute adds a route through ifindex: dst "default" or a prefix, gw
// empty for a directly connected route, metric 0 for the kernel's default.
// A default route without a gateway is an IPv4 one.
func addRoute(ifindex int, dst, gw string, metric int) error {
	r := &netlink.Route{LinkIndex: ifindex, Priority: metric}
	if dst == "default" {
		dst = "0.0.0.0/0"
		if strings.Contains(gw, ":") {
			dst = "::/0"
		}
	}
	p := netip.MustParsePrefix(dst)
	r.Dst = &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
	if gw != "" {
		r.Gw = netip.MustParseAddr(gw).AsSlice()
	}
	if err := netlink.RouteAdd(r); err != nil {
		return fmt.Errorf("adding route %s via %q: %w", dst, gw, err)
	}
	return nil
}

// hop is one next hop of a multipath route for addMultipath.
type hop struct {
	ifindex int
	gw      string
	weight  int
}

// addMultipath adds an IPv4 multipath default route.
func addMultipath(hops ...hop) error {
	r := &netlink.Route{Dst: &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}}
	for _, h := range hops {
		r.MultiPath = append(r.MultiPath, &netlink.NexthopInfo{
			LinkIndex: h.ifindex, Gw: netip.MustParseAddr(h.gw).AsSlice(), Hops: h.weight - 1,
		})
	}
	if err := netlink.RouteAdd(r); err != nil {
		return fmt.Errorf("adding multipath route: %w", err)
	}
	return nil
}

// TestInNetnsIsolated checks the helper itself: a namespace made by it
// starts with lo only, whatever the host has.
func TestInNetnsIsolated(t *testing.T) {
	var names []string
	inNetns(t, func() error {
		links, err := netlink.LinkList()
		for _, l := range links {
			names = append(names, l.Attrs().Name)
		}
		return err
	})
	if len(names) != 1 || names[0] != "lo" {
		t.Fatalf("got interfaces %v, want [lo]", names)
	}
}
