// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"passt-go/test/nstest"
)

// guestSetup is passt running in the Host namespace of a topology, and a
// Guest namespace whose tap device is bridged to passt's socket: the
// Guest's kernel is passt's guest.
type guestSetup struct {
	topo  *nstest.Topology
	passt *nstest.Proc
	sock  string
	work  string
}

// startGuest builds the topology, starts passt in Host with args and
// attaches the Guest.
func startGuest(t testing.TB, args ...string) *guestSetup {
	t.Helper()
	return startGuestWith(t, nil, false, args...)
}

// startGuestWith is startGuest with a hook that runs once the topology
// exists, before passt starts and before the Guest's tap appears (to give
// Host a resolver, say). With static, the Guest ignores router
// advertisements and skips DAD, so that its addresses are only those the
// test gives it, usable at once.
func startGuestWith(t testing.TB, prepare func(*nstest.Topology), static bool, args ...string) *guestSetup {
	t.Helper()
	nstest.NeedRoot(t)
	dir, _ := binaries(t)
	topo := nstest.NewTopology(t, nstest.TopologyOptions{Guest: true})
	if static {
		topo.Guest.Sysctl(t, "net/ipv6/conf/default/accept_ra", "0")
		topo.Guest.Sysctl(t, "net/ipv6/conf/default/accept_dad", "0")
	}
	if prepare != nil {
		prepare(topo)
	}
	work := sharedDir(t)
	sock := filepath.Join(work, "passt.socket")
	argv := append([]string{filepath.Join(dir, "passt"), "-f", "-d", "-s", sock}, args...)
	p := nstest.Start(t, topo.Host, argv...)
	nstest.WaitFor(t, 10*time.Second, func() bool {
		if p.Exited() {
			t.Fatalf("passt exited at start:\n%s", p.Output())
		}
		return strings.Contains(p.Output(), "socket bound at")
	}, "passt to be ready")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("passt output:\n%s", p.Output())
		}
	})

	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: sock}); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	nstest.StartBridge(t, topo.Guest, fd, nstest.TapConfig{Name: "eth0"})
	return &guestSetup{topo: topo, passt: p, sock: sock, work: work}
}

// dhcp4 runs busybox udhcpc in the Guest and returns what the lease said,
// as udhcpc hands it to its script (ip, subnet, router, dns, mtu, ...).
func (g *guestSetup) dhcp4(t *testing.T) map[string]string {
	t.Helper()
	out := filepath.Join(g.work, "lease.env")
	script := filepath.Join(g.work, "udhcpc.sh")
	body := fmt.Sprintf("#!/bin/sh\n[ \"$1\" = bound ] && env > %s\nexit 0\n", out)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	nstest.Run(t, g.topo.Guest, "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", "5", "-T", "1",
		"-O", "mtu", "-O", "search", "-O", "hostname", "-s", script)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("no lease: %v", err)
	}
	lease := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			lease[k] = v
		}
	}
	return lease
}

// The guest gets by DHCP the host's own address, prefix and gateway,
// passt's MTU and the host's resolvers and search list; configured that
// way it resolves the gateway's MAC address and pings the gateway (the
// host's loopback behind it) and a remote address.
func TestGuestDHCPv4AndPing(t *testing.T) {
	g := startGuest(t)
	lease := g.dhcp4(t)
	want := map[string]string{
		"ip":     nstest.HostAddr4,
		"subnet": "255.255.255.0",
		"router": nstest.RemoteAddr4,
		"mtu":    "65520",
		"dns":    nstest.RemoteAddr4,
		"search": "example.test",
		"lease":  "4294967295",
	}
	for k, v := range want {
		if got := strings.TrimSpace(lease[k]); got != v {
			t.Errorf("lease %s: got %q, want %q", k, got, v)
		}
	}

	guest := g.topo.Guest
	nstest.Run(t, guest, "ip", "addr", "add", lease["ip"]+"/24", "dev", "eth0")
	nstest.Run(t, guest, "ip", "route", "add", "default", "via", lease["router"])
	nstest.Ping(t, guest, nstest.RemoteAddr4, 2) // the gateway: host loopback
	neigh := nstest.Run(t, guest, "ip", "neigh", "show", nstest.RemoteAddr4)
	if !strings.Contains(neigh, "9a:55:9a:55:9a:55") {
		t.Errorf("gateway's neighbour entry: got %q, want passt's MAC 9a:55:9a:55:9a:55", neigh)
	}
	nstest.Ping(t, guest, nstest.FarAddr4, 2) // behind the host's own route
}

// The guest configures IPv6 by SLAAC from passt's router advertisement
// and by DHCPv6, gets the host's address, and pings the gateway and a
// remote address.
func TestGuestIPv6(t *testing.T) {
	g := startGuest(t)
	guest := g.topo.Guest
	guest.Sysctl(t, "net.ipv6.conf.eth0.accept_dad", "0")
	nstest.Run(t, guest, "ip", "link", "set", "eth0", "down")
	nstest.Run(t, guest, "ip", "link", "set", "eth0", "up")

	// SLAAC: an address in the host's /64 and a default route from the RA.
	var addrs string
	nstest.WaitFor(t, 10*time.Second, func() bool {
		addrs = nstest.Run(t, guest, "ip", "-6", "addr", "show", "dev", "eth0", "scope", "global")
		return strings.Contains(addrs, "2001:db8:1:0:")
	}, "a SLAAC address in 2001:db8:1::/64")
	route := nstest.Run(t, guest, "ip", "-6", "route", "show", "default")
	if !strings.Contains(route, "proto ra") {
		t.Errorf("default route: got %q, want one learned from an RA", route)
	}

	// DHCPv6: the host's own address.
	lease := filepath.Join(g.work, "dhclient6.leases")
	cmd := nstest.Command(guest, "dhclient", "-6", "-1", "-v", "-lf", lease, "-pf", filepath.Join(g.work, "dhclient6.pid"),
		"-sf", "/bin/true", "eth0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("dhclient -6: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if b, err := os.ReadFile(filepath.Join(g.work, "dhclient6.pid")); err == nil {
			var pid int
			if _, err := fmt.Sscan(string(b), &pid); err == nil && pid > 1 {
				unix.Kill(pid, unix.SIGTERM)
			}
		}
	})
	b, err := os.ReadFile(lease)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "iaaddr "+nstest.HostAddr6) {
		t.Errorf("DHCPv6 lease does not hold %s:\n%s", nstest.HostAddr6, b)
	}
	if !strings.Contains(string(b), nstest.RemoteAddr6) {
		t.Errorf("DHCPv6 lease does not name the resolver %s:\n%s", nstest.RemoteAddr6, b)
	}

	nstest.Run(t, guest, "ip", "addr", "add", nstest.HostAddr6+"/64", "dev", "eth0", "nodad")
	gw := strings.Fields(route)
	if len(gw) < 3 {
		t.Fatalf("no IPv6 default route: %q", route)
	}
	nstest.Ping(t, guest, gw[2]+"%eth0", 2)      // our link-local: the router
	nstest.Ping(t, guest, nstest.RemoteAddr6, 2) // the gateway: host loopback
	nstest.Ping(t, guest, nstest.FarAddr6, 2)    // remote
}

// --pcap writes every frame both ways; tcpdump reads the file back.
func TestGuestPcap(t *testing.T) {
	nstest.NeedTool(t, "tcpdump")
	work := sharedDir(t)
	pcapFile := filepath.Join(work, "capture.pcap")
	// Created by the test so that nobody may write it after the switch.
	g := startGuest(t, "--pcap", pcapFile)
	g.dhcp4(t)
	g.passt.Stop(5 * time.Second)
	out, err := exec.Command("tcpdump", "-nn", "-r", pcapFile).CombinedOutput()
	if err != nil {
		t.Fatalf("tcpdump -r: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"BOOTP/DHCP, Request", "BOOTP/DHCP, Reply"} {
		if !strings.Contains(text, want) {
			t.Errorf("capture lacks %q:\n%s", want, text)
		}
	}
}
