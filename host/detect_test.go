// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package host

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func addr(s string) netip.Addr  { return netip.MustParseAddr(s) }

// route builds an expected route of the main table; gw "" is none.
func route(dst, gw string, prio int) Route {
	r := Route{Dst: pfx(dst), Priority: prio, Table: unix.RT_TABLE_MAIN}
	if gw != "" {
		r.Gateway = addr(gw)
	}
	return r
}

// ids maps interface names to the indexes the kernel gave them.
type ids map[string]int

// add creates a link with addAddr and records its index.
func (m ids) add(name string, mtu int, addrs ...string) error {
	i, err := addLink(name, mtu, addrs...)
	m[name] = i
	return err
}

// basic builds eth0 (MTU 1400, default routes of both families and extra
// routes) and eth1 (MTU 9000, addresses of both families, no default).
func basic(m ids) error {
	if err := m.add("eth0", 1400, "192.0.2.2/24", "2001:db8:1::2/64", "fe80::2/64"); err != nil {
		return err
	}
	if err := m.add("eth1", 9000, "203.0.113.2/24", "2001:db8:3::2/64", "fe80::3/64"); err != nil {
		return err
	}
	for _, r := range []struct{ dst, gw string }{
		{"default", "192.0.2.1"},
		{"default", "2001:db8:1::1"},
		{"198.51.100.0/24", "192.0.2.254"},
		{"2001:db8:2::/48", "2001:db8:1::fe"},
	} {
		if err := addRoute(m["eth0"], r.dst, r.gw, 0); err != nil {
			return err
		}
	}
	return nil
}

// eth0v4 and the others are what basic gives, for the index in m.
func eth0v4(m ids) *Family {
	return &Family{
		Ifname: "eth0", Ifindex: m["eth0"], MTU: 1400,
		Addrs:   []netip.Prefix{pfx("192.0.2.2/24")},
		Gateway: addr("192.0.2.1"),
		Routes: []Route{
			route("0.0.0.0/0", "192.0.2.1", 0),
			route("192.0.2.0/24", "", 0),
			route("198.51.100.0/24", "192.0.2.254", 0),
		},
	}
}

func eth0v6(m ids) *Family {
	return &Family{
		Ifname: "eth0", Ifindex: m["eth0"], MTU: 1400,
		Addrs:     []netip.Prefix{pfx("2001:db8:1::2/64")},
		LinkLocal: addr("fe80::2"),
		Gateway:   addr("2001:db8:1::1"),
		Routes: []Route{
			route("::/0", "2001:db8:1::1", 1024),
			route("2001:db8:1::/64", "", 256),
			route("2001:db8:2::/48", "2001:db8:1::fe", 1024),
			route("fe80::/64", "", 256),
		},
	}
}

func eth1v4(m ids) *Family {
	return &Family{
		Ifname: "eth1", Ifindex: m["eth1"], MTU: 9000,
		Addrs:  []netip.Prefix{pfx("203.0.113.2/24")},
		Routes: []Route{route("203.0.113.0/24", "", 0)},
	}
}

func eth1v6(m ids) *Family {
	return &Family{
		Ifname: "eth1", Ifindex: m["eth1"], MTU: 9000,
		Addrs:     []netip.Prefix{pfx("2001:db8:3::2/64")},
		LinkLocal: addr("fe80::3"),
		Routes: []Route{
			route("2001:db8:3::/64", "", 256),
			route("fe80::/64", "", 256),
		},
	}
}

// allLinks is Info.Looked for the links of m and lo, sorted.
func allLinks(m ids) []string {
	out := []string{"lo"}
	for n := range m {
		out = append(out, n, n+"p")
	}
	slices.Sort(out)
	return out
}

// diffFamily describes how got differs from want, or returns "".
func diffFamily(got, want *Family) string {
	switch {
	case got == nil && want == nil:
		return ""
	case got == nil || want == nil:
		return fmt.Sprintf("got %+v, want %+v", got, want)
	}
	var d []string
	check := func(field string, g, w any) {
		if !reflect.DeepEqual(g, w) {
			d = append(d, fmt.Sprintf("%s: got %v, want %v", field, g, w))
		}
	}
	check("Ifname", got.Ifname, want.Ifname)
	check("Ifindex", got.Ifindex, want.Ifindex)
	check("MTU", got.MTU, want.MTU)
	check("Addrs", got.Addrs, want.Addrs)
	check("LinkLocal", got.LinkLocal, want.LinkLocal)
	check("Gateway", got.Gateway, want.Gateway)
	// Default routes come first, in the kernel's order; the order of the
	// others is the kernel's business.
	nd := 0
	for _, r := range want.Routes {
		if r.Dst.Bits() == 0 {
			nd++
		}
	}
	if len(got.Routes) != len(want.Routes) {
		check("Routes", got.Routes, want.Routes)
	} else {
		check("default Routes", got.Routes[:nd], want.Routes[:nd])
		sorted := func(rs []Route) []string {
			var s []string
			for _, r := range rs {
				s = append(s, fmt.Sprint(r))
			}
			slices.Sort(s)
			return s
		}
		check("other Routes", sorted(got.Routes[nd:]), sorted(want.Routes[nd:]))
	}
	return strings.Join(d, "; ")
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(ids) error // nil: only lo
		opts   Options
		v4, v6 func(ids) *Family // nil: want no family
		looked bool              // want Looked to list every interface
		err    string            // want an error containing this
	}{
		{name: "default routes", setup: basic, v4: eth0v4, v6: eth0v6},
		{name: "-i", setup: basic, opts: Options{Ifname: "eth1"}, v4: eth1v4, v6: eth1v6},
		{name: "--outbound-if4", setup: basic, opts: Options{Ifname4: "eth1"}, v4: eth1v4, v6: eth0v6},
		{name: "--outbound-if6", setup: basic, opts: Options{Ifname6: "eth1"}, v4: eth0v4, v6: eth1v6},
		{name: "-i wins over --outbound-if4", setup: basic, opts: Options{Ifname: "eth0", Ifname4: "eth1"}, v4: eth0v4, v6: eth0v6},
		{name: "-4", setup: basic, opts: Options{NoV6: true}, v4: eth0v4},
		{name: "-6", setup: basic, opts: Options{NoV4: true}, v6: eth0v6},
		{name: "missing -i", setup: basic, opts: Options{Ifname: "eth9"}, err: "-i eth9: no such interface"},
		{name: "missing --outbound-if4", setup: basic, opts: Options{Ifname4: "eth9"}, err: "--outbound-if4 eth9: no such interface"},
		{name: "missing --outbound-if6", setup: basic, opts: Options{Ifname6: "eth9"}, err: "--outbound-if6 eth9: no such interface"},
		{name: "only lo", looked: true},
		{name: "only lo, -i lo", opts: Options{Ifname: "lo"},
			v4: func(ids) *Family {
				return &Family{Ifname: "lo", Ifindex: 1, MTU: 65536, Addrs: []netip.Prefix{pfx("127.0.0.1/8")}}
			},
			v6: func(ids) *Family {
				return &Family{Ifname: "lo", Ifindex: 1, MTU: 65536, Addrs: []netip.Prefix{pfx("::1/128")}}
			},
		},
		{
			name: "only interface with routes",
			setup: func(m ids) error {
				return m.add("eth0", 1500, "192.0.2.2/24")
			},
			v4: func(m ids) *Family {
				return &Family{Ifname: "eth0", Ifindex: m["eth0"], MTU: 1500, Addrs: []netip.Prefix{pfx("192.0.2.2/24")},
					Routes: []Route{route("192.0.2.0/24", "", 0)}}
			},
			looked: true, // no IPv6 template
		},
		{
			name: "two interfaces with routes, no default",
			setup: func(m ids) error {
				if err := m.add("eth0", 1500, "192.0.2.2/24"); err != nil {
					return err
				}
				return m.add("eth1", 1500, "203.0.113.2/24")
			},
			looked: true,
		},
		{
			name: "link-local routes do not count",
			setup: func(m ids) error {
				return m.add("eth0", 1500, "169.254.1.2/16", "fe80::2/64")
			},
			looked: true,
		},
		{
			name: "first default route wins",
			setup: func(m ids) error {
				if err := m.add("eth0", 1500, "192.0.2.2/24"); err != nil {
					return err
				}
				if err := m.add("eth1", 1500, "203.0.113.2/24"); err != nil {
					return err
				}
				if err := addRoute(m["eth0"], "default", "192.0.2.1", 200); err != nil {
					return err
				}
				// The kernel lists the lower metric first.
				return addRoute(m["eth1"], "default", "203.0.113.1", 100)
			},
			v4: func(m ids) *Family {
				return &Family{Ifname: "eth1", Ifindex: m["eth1"], MTU: 1500, Addrs: []netip.Prefix{pfx("203.0.113.2/24")},
					Gateway: addr("203.0.113.1"),
					Routes:  []Route{route("0.0.0.0/0", "203.0.113.1", 100), route("203.0.113.0/24", "", 0)}}
			},
			looked: true,
		},
		{
			name: "gateway from the first default route that has one",
			setup: func(m ids) error {
				if err := m.add("eth0", 1500, "192.0.2.2/24"); err != nil {
					return err
				}
				if err := addRoute(m["eth0"], "default", "", 10); err != nil {
					return err
				}
				return addRoute(m["eth0"], "default", "192.0.2.1", 20)
			},
			v4: func(m ids) *Family {
				return &Family{Ifname: "eth0", Ifindex: m["eth0"], MTU: 1500, Addrs: []netip.Prefix{pfx("192.0.2.2/24")},
					Gateway: addr("192.0.2.1"),
					Routes: []Route{route("0.0.0.0/0", "", 10), route("0.0.0.0/0", "192.0.2.1", 20),
						route("192.0.2.0/24", "", 0)}}
			},
			looked: true,
		},
		{
			name: "multipath picks the heaviest next hop",
			setup: func(m ids) error {
				if err := m.add("eth0", 1500, "192.0.2.2/24"); err != nil {
					return err
				}
				if err := m.add("eth1", 1500, "203.0.113.2/24"); err != nil {
					return err
				}
				return addMultipath(hop{m["eth0"], "192.0.2.1", 1}, hop{m["eth1"], "203.0.113.1", 3})
			},
			v4: func(m ids) *Family {
				// The route spans two interfaces: it gives the gateway
				// but is not one of eth1's routes.
				f := eth1v4(m)
				f.MTU = 1500
				f.Gateway = addr("203.0.113.1")
				return f
			},
			looked: true,
		},
		{
			name: "multipath with equal weights picks the first",
			setup: func(m ids) error {
				if err := m.add("eth0", 1500, "192.0.2.2/24"); err != nil {
					return err
				}
				if err := m.add("eth1", 1500, "203.0.113.2/24"); err != nil {
					return err
				}
				return addMultipath(hop{m["eth0"], "192.0.2.1", 2}, hop{m["eth1"], "203.0.113.1", 2})
			},
			v4: func(m ids) *Family {
				return &Family{Ifname: "eth0", Ifindex: m["eth0"], MTU: 1500, Addrs: []netip.Prefix{pfx("192.0.2.2/24")},
					Gateway: addr("192.0.2.1"), Routes: []Route{route("192.0.2.0/24", "", 0)}}
			},
			looked: true,
		},
		{
			name: "multipath on one interface",
			setup: func(m ids) error {
				if err := m.add("eth0", 1500, "192.0.2.2/24"); err != nil {
					return err
				}
				return addMultipath(hop{m["eth0"], "192.0.2.1", 1}, hop{m["eth0"], "192.0.2.3", 5})
			},
			v4: func(m ids) *Family {
				return &Family{Ifname: "eth0", Ifindex: m["eth0"], MTU: 1500, Addrs: []netip.Prefix{pfx("192.0.2.2/24")},
					Gateway: addr("192.0.2.3"),
					Routes:  []Route{route("0.0.0.0/0", "192.0.2.3", 0), route("192.0.2.0/24", "", 0)}}
			},
			looked: true,
		},
		{
			name: "deprecated address left out",
			setup: func(m ids) error {
				if err := basic(m); err != nil {
					return err
				}
				link, err := netlink.LinkByIndex(m["eth0"])
				if err != nil {
					return err
				}
				a := &netlink.Addr{
					IPNet:       &net.IPNet{IP: addr("2001:db8:1::99").AsSlice(), Mask: net.CIDRMask(64, 128)},
					Flags:       unix.IFA_F_NODAD,
					PreferedLft: 0, ValidLft: 3600,
				}
				return netlink.AddrAdd(link, a)
			},
			v4: eth0v4, v6: eth0v6,
		},
		{
			name: "several addresses in kernel order",
			setup: func(m ids) error {
				return m.add("eth0", 1500, "192.0.2.2/24", "198.51.100.2/25")
			},
			v4: func(m ids) *Family {
				return &Family{Ifname: "eth0", Ifindex: m["eth0"], MTU: 1500,
					Addrs:  []netip.Prefix{pfx("192.0.2.2/24"), pfx("198.51.100.2/25")},
					Routes: []Route{route("192.0.2.0/24", "", 0), route("198.51.100.0/25", "", 0)}}
			},
			looked: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := ids{}
			var info *Info
			var err error
			inNetns(t, func() error {
				if err := prepare(); err != nil {
					return err
				}
				if tc.setup != nil {
					if err := tc.setup(m); err != nil {
						return err
					}
				}
				info, err = Detect(tc.opts)
				return nil
			})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrNoSuchInterface) {
					t.Fatalf("got error %v, want one containing %q wrapping ErrNoSuchInterface", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Detect: %v", err)
			}
			var want4, want6 *Family
			if tc.v4 != nil {
				want4 = tc.v4(m)
			}
			if tc.v6 != nil {
				want6 = tc.v6(m)
			}
			if d := diffFamily(info.V4, want4); d != "" {
				t.Errorf("V4: %s", d)
			}
			if d := diffFamily(info.V6, want6); d != "" {
				t.Errorf("V6: %s", d)
			}
			var wantLooked []string
			if tc.looked {
				wantLooked = allLinks(m)
			}
			gotLooked := slices.Sorted(slices.Values(info.Looked))
			if !reflect.DeepEqual(gotLooked, wantLooked) {
				t.Errorf("Looked: got %v, want %v", gotLooked, wantLooked)
			}
		})
	}
}

// TestDetectFiles checks what Detect reads besides netlink: resolv.conf,
// the hostname and the namespace's own ephemeral port range.
func TestDetectFiles(t *testing.T) {
	dir := t.TempDir()
	resolv := filepath.Join(dir, "resolv.conf")
	content := "# test\nnameserver 192.0.2.53\nnameserver fe80::53%eth0\nsearch example.com example.net\n"
	if err := os.WriteFile(resolv, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	badRange := filepath.Join(dir, "range")
	if err := os.WriteFile(badRange, []byte("60000 50000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hostRange, err := os.ReadFile(defaultPortRange)
	if err != nil {
		t.Fatal(err)
	}
	var info, missing, bad *Info
	var err1, err2, err3 error
	inNetns(t, func() error {
		// A range unlike any default, set in this namespace only.
		if err := sysctl("ipv4/ip_local_port_range", "40000 50000"); err != nil {
			return err
		}
		info, err1 = Detect(Options{ResolvConf: resolv})
		missing, err2 = Detect(Options{ResolvConf: filepath.Join(dir, "absent"), PortRangeFile: filepath.Join(dir, "absent")})
		bad, err3 = Detect(Options{ResolvConf: resolv, PortRangeFile: badRange})
		return nil
	})
	for i, err := range []error{err1, err2, err3} {
		if err != nil {
			t.Fatalf("Detect %d: %v", i, err)
		}
	}
	wantNS := []netip.Addr{addr("192.0.2.53"), addr("fe80::53")}
	if !reflect.DeepEqual(info.Nameservers, wantNS) {
		t.Errorf("Nameservers: got %v, want %v", info.Nameservers, wantNS)
	}
	if want := []string{"example.com", "example.net"}; !reflect.DeepEqual(info.Search, want) {
		t.Errorf("Search: got %v, want %v", info.Search, want)
	}
	if info.ResolvConfErr != nil {
		t.Errorf("ResolvConfErr: got %v, want nil", info.ResolvConfErr)
	}
	hostname, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	if info.Hostname != hostname {
		t.Errorf("Hostname: got %q, want %q", info.Hostname, hostname)
	}
	if want := [2]uint16{40000, 50000}; info.EphemeralPorts != want {
		t.Errorf("EphemeralPorts: got %v, want %v (the host has %q)", info.EphemeralPorts, want, strings.TrimSpace(string(hostRange)))
	}
	if !errors.Is(missing.ResolvConfErr, fs.ErrNotExist) || missing.Nameservers != nil || missing.Search != nil {
		t.Errorf("missing resolv.conf: got error %v, nameservers %v, search %v; want ErrNotExist and nothing", missing.ResolvConfErr, missing.Nameservers, missing.Search)
	}
	if missing.EphemeralPorts != DefaultEphemeral {
		t.Errorf("missing port range: got %v, want %v", missing.EphemeralPorts, DefaultEphemeral)
	}
	if bad.EphemeralPorts != DefaultEphemeral {
		t.Errorf("backwards port range: got %v, want %v", bad.EphemeralPorts, DefaultEphemeral)
	}
}

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want [2]uint16
		ok   bool
	}{
		{name: "kernel format", in: "32768\t60999\n", want: [2]uint16{32768, 60999}, ok: true},
		{name: "spaces", in: " 1024 65535 ", want: [2]uint16{1024, 65535}, ok: true},
		{name: "one port", in: "5000 5000", want: [2]uint16{5000, 5000}, ok: true},
		{name: "backwards", in: "60000 50000", ok: false},
		{name: "zero", in: "0 100", ok: false},
		{name: "too large", in: "1 65536", ok: false},
		{name: "one field", in: "32768", ok: false},
		{name: "three fields", in: "1 2 3", ok: false},
		{name: "negative", in: "-1 2", ok: false},
		{name: "empty", in: "", ok: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parsePortRange(tc.in)
			if ok != tc.ok || got != tc.want {
				t.Errorf("got %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestPrimary(t *testing.T) {
	tests := []struct {
		name  string
		addrs []netip.Prefix
		want  netip.Prefix
		ok    bool
	}{
		{name: "none", ok: false},
		{name: "one", addrs: []netip.Prefix{pfx("192.0.2.2/24")}, want: pfx("192.0.2.2/24"), ok: true},
		{name: "longest prefix", addrs: []netip.Prefix{pfx("192.0.2.2/24"), pfx("198.51.100.2/28"), pfx("203.0.113.2/26")}, want: pfx("198.51.100.2/28"), ok: true},
		{name: "first among equals", addrs: []netip.Prefix{pfx("2001:db8::2/64"), pfx("2001:db8:1::2/64")}, want: pfx("2001:db8::2/64"), ok: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := (&Family{Addrs: tc.addrs}).Primary()
			if got != tc.want || ok != tc.ok {
				t.Errorf("got %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
