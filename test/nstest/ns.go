// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package nstest

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// NamePrefix starts the name of every namespace this package creates:
// NamePrefix + "<pid>-<n>".
const NamePrefix = "pgo-"

var (
	nsSeq   atomic.Uint64
	ipMu    sync.Mutex // serialises ip netns add/del within the process
	sweeper sync.Once
)

// NS is a named network namespace created by NewNS or NewBareNS. A nil *NS
// stands for the namespace the test process runs in, where the methods
// that only read (Do, Listening) are allowed.
type NS struct {
	Name string
}

// NewNS creates a network namespace with a unique name, brings its
// loopback interface up, and deletes it (and its /etc/netns directory) in
// t.Cleanup. Processes still inside the namespace at clean-up keep it
// alive without its name; Start's clean-up, registered later, runs first
// and stops them.
func NewNS(t testing.TB) *NS {
	t.Helper()
	ns := NewBareNS(t)
	ns.LinkUp(t, "lo")
	return ns
}

// NewBareNS is NewNS without bringing loopback up: the namespace is as the
// kernel creates it.
func NewBareNS(t testing.TB) *NS {
	t.Helper()
	NeedRoot(t)
	NeedTool(t, "ip")
	sweeper.Do(sweepStale)
	ns := &NS{Name: fmt.Sprintf("%s%d-%d", NamePrefix, os.Getpid(), nsSeq.Add(1))}
	ipMu.Lock()
	out, err := exec.Command("ip", "netns", "add", ns.Name).CombinedOutput()
	ipMu.Unlock()
	if err != nil {
		t.Fatalf("ip netns add %s: %v: %s", ns.Name, err, out)
	}
	t.Cleanup(func() {
		if err := deleteNS(ns.Name); err != nil {
			t.Errorf("delete namespace %s: %v", ns.Name, err)
		}
	})
	return ns
}

// deleteNS removes a namespace's name and its /etc/netns directory.
func deleteNS(name string) error {
	ipMu.Lock()
	out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput()
	ipMu.Unlock()
	rerr := os.RemoveAll("/etc/netns/" + name)
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return rerr
}

// sweepStale deletes namespaces left behind by test processes of this
// package that died before their clean-up ran: names NamePrefix<pid>-<n>
// whose pid no longer exists.
func sweepStale() {
	entries, err := os.ReadDir(NetNSDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), NamePrefix)
		if !ok {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if unix.Kill(pid, 0) == unix.ESRCH {
			_ = deleteNS(e.Name())
		}
	}
}

// Path returns the namespace's file (under NetNSDir), or "" for nil.
func (ns *NS) Path() string {
	if ns == nil {
		return ""
	}
	return NetNSPath(ns.Name)
}

// String returns the name, or "(test process)" for nil.
func (ns *NS) String() string {
	if ns == nil {
		return "(test process)"
	}
	return ns.Name
}

// Do runs fn on a thread inside the namespace (see InNetNS).
func (ns *NS) Do(fn func() error) error {
	return InNetNS(ns.Path(), fn)
}

// netlink runs fn with a netlink handle bound to the namespace and fails
// the test with what's error if fn fails.
func (ns *NS) netlink(t testing.TB, what string, fn func(h *netlink.Handle) error) {
	t.Helper()
	if ns == nil {
		t.Fatalf("%s: refusing to change the test process's own namespace", what)
	}
	nsh, err := netns.GetFromPath(ns.Path())
	if err != nil {
		t.Fatalf("%s: %s: %v", what, ns, err)
	}
	defer nsh.Close()
	h, err := netlink.NewHandleAt(nsh, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatalf("%s: netlink in %s: %v", what, ns, err)
	}
	defer h.Close()
	if err := fn(h); err != nil {
		t.Fatalf("%s in %s: %v", what, ns, err)
	}
}

// Link returns the attributes of the link ifname.
func (ns *NS) Link(t testing.TB, ifname string) netlink.LinkAttrs {
	t.Helper()
	var attrs netlink.LinkAttrs
	ns.netlink(t, "link "+ifname, func(h *netlink.Handle) error {
		l, err := h.LinkByName(ifname)
		if err != nil {
			return err
		}
		attrs = *l.Attrs()
		return nil
	})
	return attrs
}

// LinkUp sets the link ifname up.
func (ns *NS) LinkUp(t testing.TB, ifname string) {
	t.Helper()
	ns.netlink(t, "set "+ifname+" up", func(h *netlink.Handle) error {
		l, err := h.LinkByName(ifname)
		if err != nil {
			return err
		}
		return h.LinkSetUp(l)
	})
}

// SetMTU sets the MTU of the link ifname.
func (ns *NS) SetMTU(t testing.TB, ifname string, mtu int) {
	t.Helper()
	ns.netlink(t, fmt.Sprintf("set %s mtu %d", ifname, mtu), func(h *netlink.Handle) error {
		l, err := h.LinkByName(ifname)
		if err != nil {
			return err
		}
		return h.LinkSetMTU(l, mtu)
	})
}

// AddAddr adds an address with its prefix length ("192.0.2.2/24",
// "2001:db8:1::2/64") to ifname. IPv6 addresses are added with nodad, so
// they are usable at once.
func (ns *NS) AddAddr(t testing.TB, ifname, cidr string) {
	t.Helper()
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		t.Fatalf("address %q: %v", cidr, err)
	}
	a := &netlink.Addr{IPNet: &net.IPNet{
		IP:   p.Addr().AsSlice(),
		Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen()),
	}}
	if p.Addr().Is6() {
		a.Flags = unix.IFA_F_NODAD
	}
	ns.netlink(t, "add address "+cidr+" to "+ifname, func(h *netlink.Handle) error {
		l, err := h.LinkByName(ifname)
		if err != nil {
			return err
		}
		return h.AddrAdd(l, a)
	})
}

// AddRoute adds a route to dst ("default" or a prefix) via gw (an address,
// or "" for a directly connected route) through ifname (may be "" when gw
// is set). A "default" route takes its family from gw.
func (ns *NS) AddRoute(t testing.TB, dst, gw, ifname string) {
	t.Helper()
	what := fmt.Sprintf("add route %s via %q dev %q", dst, gw, ifname)
	r := &netlink.Route{}
	var family int
	if gw != "" {
		a, err := netip.ParseAddr(gw)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		r.Gw = a.AsSlice()
		family = unix.AF_INET
		if a.Is6() {
			family = unix.AF_INET6
		}
	}
	if dst != "default" {
		p, err := netip.ParsePrefix(dst)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		r.Dst = &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
	} else if family == 0 {
		t.Fatalf("%s: a default route needs a gateway to give its family", what)
	}
	r.Family = family
	ns.netlink(t, what, func(h *netlink.Handle) error {
		if ifname != "" {
			l, err := h.LinkByName(ifname)
			if err != nil {
				return err
			}
			r.LinkIndex = l.Attrs().Index
		}
		return h.RouteAdd(r)
	})
}

// AddNeigh adds a permanent neighbour entry (ARP or NDP) on ifname.
func (ns *NS) AddNeigh(t testing.TB, ifname, ip string, mac net.HardwareAddr) {
	t.Helper()
	a, err := netip.ParseAddr(ip)
	if err != nil {
		t.Fatalf("neighbour %q: %v", ip, err)
	}
	family := unix.AF_INET
	if a.Is6() {
		family = unix.AF_INET6
	}
	ns.netlink(t, "add neighbour "+ip+" on "+ifname, func(h *netlink.Handle) error {
		l, err := h.LinkByName(ifname)
		if err != nil {
			return err
		}
		return h.NeighAdd(&netlink.Neigh{
			LinkIndex:    l.Attrs().Index,
			Family:       family,
			State:        netlink.NUD_PERMANENT,
			IP:           a.AsSlice(),
			HardwareAddr: mac,
		})
	})
}

// Veth creates a veth pair with end aName in a and end bName in b, and
// brings both ends up. Both namespaces must have been created by this
// package; interface names have at most 15 bytes.
func Veth(t testing.TB, a *NS, aName string, b *NS, bName string) {
	t.Helper()
	if b == nil {
		t.Fatalf("veth %s-%s: refusing to change the test process's own namespace", aName, bName)
	}
	peer, err := unix.Open(b.Path(), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("veth %s-%s: %v", aName, bName, err)
	}
	defer unix.Close(peer)
	a.netlink(t, fmt.Sprintf("add veth %s (peer %s in %s)", aName, bName, b), func(h *netlink.Handle) error {
		return h.LinkAdd(&netlink.Veth{
			LinkAttrs:     netlink.LinkAttrs{Name: aName},
			PeerName:      bName,
			PeerNamespace: netlink.NsFd(peer),
		})
	})
	a.LinkUp(t, aName)
	b.LinkUp(t, bName)
}

// sysctlPath maps "net.ipv4.ip_forward" or "net/ipv4/ip_forward" to its
// file under /proc/sys. Use the slash form for keys with a dot in a
// component (interface names).
func sysctlPath(key string) string {
	if !strings.Contains(key, "/") {
		key = strings.ReplaceAll(key, ".", "/")
	}
	return "/proc/sys/" + strings.TrimPrefix(key, "/")
}

// Sysctl writes value to the namespace's copy of key (for example
// "net.ipv4.ping_group_range", "net/ipv6/conf/all/forwarding"). Only keys
// under net/ are per namespace; others are refused.
func (ns *NS) Sysctl(t testing.TB, key, value string) {
	t.Helper()
	path := sysctlPath(key)
	if ns == nil || !strings.HasPrefix(path, "/proc/sys/net/") {
		t.Fatalf("sysctl %s in %s: only net/ keys of a created namespace may be changed", key, ns)
	}
	err := ns.Do(func() error {
		return os.WriteFile(path, []byte(value+"\n"), 0)
	})
	if err != nil {
		t.Fatalf("sysctl %s=%q in %s: %v", key, value, ns, err)
	}
}

// GetSysctl returns the namespace's value of key, without the trailing
// newline.
func (ns *NS) GetSysctl(t testing.TB, key string) string {
	t.Helper()
	var b []byte
	err := ns.Do(func() error {
		var err error
		b, err = os.ReadFile(sysctlPath(key))
		return err
	})
	if err != nil {
		t.Fatalf("sysctl %s in %s: %v", key, ns, err)
	}
	return strings.TrimSuffix(string(b), "\n")
}

// SetResolvConf writes the namespace's resolv.conf: ip netns exec (and so
// Run and Start) bind-mounts /etc/netns/NAME/resolv.conf over
// /etc/resolv.conf. The directory goes with the namespace at clean-up.
func (ns *NS) SetResolvConf(t testing.TB, content string) {
	t.Helper()
	if ns == nil {
		t.Fatal("SetResolvConf: refusing to change the test process's own resolv.conf")
	}
	dir := "/etc/netns/" + ns.Name
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("resolv.conf for %s: %v", ns, err)
	}
	if err := os.WriteFile(dir+"/resolv.conf", []byte(content), 0o644); err != nil {
		t.Fatalf("resolv.conf for %s: %v", ns, err)
	}
	if _, err := os.Stat("/etc/resolv.conf"); errors.Is(err, os.ErrNotExist) {
		t.Logf("no /etc/resolv.conf to bind-mount over: ip netns exec in %s will not show %s", ns, dir+"/resolv.conf")
	}
}
