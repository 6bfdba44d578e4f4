// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"passt-go/conf"
	"passt-go/host"
)

// hcInNetns runs fn on a thread of its own in a new network namespace;
// the thread stays locked, so the namespace ends with the goroutine.
func hcInNetns(t *testing.T, fn func() error) {
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

// hcLink makes a veth pair name/name+"p", both ends up, and gives name the
// addresses (IPv6 without duplicate address detection). It must run in
// the namespace's thread.
func hcLink(name string, addrs ...string) (int, error) {
	if err := os.WriteFile("/proc/sys/net/ipv6/conf/default/addr_gen_mode", []byte("1"), 0o644); err != nil {
		return 0, err
	}
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: name + "p"}); err != nil {
		return 0, fmt.Errorf("adding %s: %w", name, err)
	}
	var link netlink.Link
	for _, n := range []string{name + "p", name} {
		l, err := netlink.LinkByName(n)
		if err != nil {
			return 0, err
		}
		if err := netlink.LinkSetUp(l); err != nil {
			return 0, err
		}
		link = l
	}
	for _, a := range addrs {
		p := netip.MustParsePrefix(a)
		na := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
		if p.Addr().Is6() {
			na.Flags = unix.IFA_F_NODAD
		}
		if err := netlink.AddrAdd(link, na); err != nil {
			return 0, fmt.Errorf("adding %s to %s: %w", a, name, err)
		}
	}
	return link.Attrs().Index, nil
}

// hcDefault adds a default route via gw through interface ifindex.
func hcDefault(ifindex int, gw string) error {
	g := netip.MustParseAddr(gw)
	dst := &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}
	if g.Is6() {
		dst = &net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}
	}
	return netlink.RouteAdd(&netlink.Route{LinkIndex: ifindex, Dst: dst, Gw: g.AsSlice()})
}

// hcHost builds the host of the tests: eth0 with both families and the
// default routes, eth1 with both families and no default route.
func hcHost() error {
	eth0, err := hcLink("eth0", "192.0.2.2/24", "2001:db8:1::2/64", "fe80::2/64")
	if err != nil {
		return err
	}
	if _, err := hcLink("eth1", "203.0.113.2/24", "2001:db8:3::2/64", "fe80::3/64"); err != nil {
		return err
	}
	if err := hcDefault(eth0, "192.0.2.1"); err != nil {
		return err
	}
	return hcDefault(eth0, "2001:db8:1::1")
}

// hcResolve parses args in passt mode, detects the host in a new namespace
// built by setup (nil: only lo) with resolv.conf as given, and resolves.
func hcResolve(t *testing.T, setup func() error, resolv string, args ...string) (*conf.Config, error) {
	t.Helper()
	opts, _, err := conf.Parse(conf.Passt, args)
	if err != nil {
		t.Fatalf("conf.Parse(%q): %v", args, err)
	}
	path := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(path, []byte(resolv), 0o644); err != nil {
		t.Fatal(err)
	}
	hopts := opts.HostOptions()
	hopts.ResolvConf = path
	var info *host.Info
	hcInNetns(t, func() error {
		if setup != nil {
			if err := setup(); err != nil {
				return err
			}
		}
		var err error
		info, err = host.Detect(hopts)
		return err
	})
	return conf.Resolve(opts, info)
}

const hcResolvConf = "nameserver 192.0.2.53\nnameserver 2001:db8::53\nnameserver 127.0.0.53\nsearch example.com\n"

// hcWant is what a test checks of a resolved configuration.
type hcWant struct {
	ifname4, ifname6 string
	addr4            string
	prefix4          int
	gw4              string // "" for none
	dns4             []string
	addr6            string // "" for none
	gw6              string
	ll6              string
	dns6             []string
	no6              bool // IPv6 disabled
	mtu              int
	search           []string
}

func hcAddrs(ss []string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func hcAddr(s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	return netip.MustParseAddr(s)
}

func TestHostConf(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want hcWant
	}{
		{
			name: "from the host",
			want: hcWant{
				ifname4: "eth0", addr4: "192.0.2.2", prefix4: 24, gw4: "192.0.2.1",
				// The loopback resolver is reached through the gateway
				// address, which maps to the host's loopback.
				dns4:    []string{"192.0.2.53", "192.0.2.1"},
				ifname6: "eth0", addr6: "2001:db8:1::2", gw6: "2001:db8:1::1", ll6: "fe80::2",
				dns6: []string{"2001:db8::53"}, mtu: conf.DefaultMTU, search: []string{"example.com"},
			},
		},
		{
			name: "-a -g -D -m",
			args: []string{"-a", "198.51.100.7/25", "-a", "2001:db8:9::7", "-g", "192.0.2.254", "-g", "2001:db8:1::fe",
				"-D", "203.0.113.53", "-m", "1400", "-S", "example.org"},
			want: hcWant{
				ifname4: "eth0", addr4: "198.51.100.7", prefix4: 25, gw4: "192.0.2.254", dns4: []string{"203.0.113.53"},
				ifname6: "eth0", addr6: "2001:db8:9::7", gw6: "2001:db8:1::fe", ll6: "fe80::2",
				dns6: []string{"2001:db8::53"}, mtu: 1400, search: []string{"example.org"},
			},
		},
		{
			name: "-i",
			args: []string{"-i", "eth1"},
			want: hcWant{
				// eth1 has no default route: no IPv4 gateway, and the
				// IPv6 gateway is our link-local address.
				ifname4: "eth1", addr4: "203.0.113.2", prefix4: 24, dns4: []string{"192.0.2.53"},
				ifname6: "eth1", addr6: "2001:db8:3::2", gw6: "fe80::3", ll6: "fe80::3",
				dns6: []string{"2001:db8::53"}, mtu: conf.DefaultMTU, search: []string{"example.com"},
			},
		},
		{
			name: "--outbound-if4",
			args: []string{"--outbound-if4", "eth1"},
			want: hcWant{
				ifname4: "eth1", addr4: "203.0.113.2", prefix4: 24, dns4: []string{"192.0.2.53"},
				ifname6: "eth0", addr6: "2001:db8:1::2", gw6: "2001:db8:1::1", ll6: "fe80::2",
				dns6: []string{"2001:db8::53"}, mtu: conf.DefaultMTU, search: []string{"example.com"},
			},
		},
		{
			name: "-4",
			args: []string{"-4"},
			want: hcWant{
				ifname4: "eth0", addr4: "192.0.2.2", prefix4: 24, gw4: "192.0.2.1", dns4: []string{"192.0.2.53", "192.0.2.1"},
				no6: true, mtu: conf.DefaultMTU, search: []string{"example.com"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := hcResolve(t, hcHost, hcResolvConf, tc.args...)
			if err != nil {
				t.Fatalf("conf.Resolve: %v", err)
			}
			w := tc.want
			check := func(field string, got, want any) {
				t.Helper()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: got %v, want %v", field, got, want)
				}
			}
			check("MTU", c.MTU, w.mtu)
			check("Search", c.Search, w.search)
			check("IPv4.Enabled", c.IPv4.Enabled, true)
			check("IPv4.Ifname", c.IPv4.Ifname, w.ifname4)
			check("IPv4.Addr", c.IPv4.Addr, hcAddr(w.addr4))
			check("IPv4.PrefixLen", c.IPv4.PrefixLen, w.prefix4)
			check("IPv4.Gateway", c.IPv4.Gateway, hcAddr(w.gw4))
			check("IPv4.DNS", c.IPv4.DNS, hcAddrs(w.dns4))
			check("IPv6.Enabled", c.IPv6.Enabled, !w.no6)
			if w.no6 {
				return
			}
			check("IPv6.Ifname", c.IPv6.Ifname, w.ifname6)
			check("IPv6.Addr", c.IPv6.Addr, hcAddr(w.addr6))
			check("IPv6.PrefixLen", c.IPv6.PrefixLen, 64)
			check("IPv6.Gateway", c.IPv6.Gateway, hcAddr(w.gw6))
			check("IPv6.LinkLocal", c.IPv6.LinkLocal, hcAddr(w.ll6))
			check("IPv6.DNS", c.IPv6.DNS, hcAddrs(w.dns6))
		})
	}
}

// TestHostConfNoInterface checks that a host where nothing routes gives
// the no-interface error naming what was examined.
func TestHostConfNoInterface(t *testing.T) {
	tests := []struct {
		name   string
		setup  func() error
		looked []string
	}{
		{name: "only lo", looked: []string{"lo"}},
		{
			name: "interface without addresses",
			setup: func() error {
				_, err := hcLink("eth0")
				return err
			},
			looked: []string{"lo", "eth0", "eth0p"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := hcResolve(t, tc.setup, hcResolvConf)
			if err == nil {
				t.Fatalf("got configuration %+v, want the no-interface error", c)
			}
			msg := err.Error()
			if !strings.Contains(msg, "No usable interface") || strings.ContainsRune(msg, '\n') {
				t.Errorf("got error %q, want one line saying no interface is usable", msg)
			}
			for _, n := range tc.looked {
				if !strings.Contains(msg, n) {
					t.Errorf("got error %q, want it to name %s", msg, n)
				}
			}
		})
	}
}
