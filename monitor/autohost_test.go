// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package monitor

import (
	"errors"
	"net/netip"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"passt-go/conf"
	"passt-go/fwd"
	"passt-go/ipc"
)

func portSet(ports ...uint16) *ipc.PortSet {
	var s ipc.PortSet
	for _, p := range ports {
		s.Add(p)
	}
	return &s
}

// hostTableOf returns the host scan of protocol p with ns as the rules of
// -T or -U and other as those of -t or -u.
func hostTableOf(t *testing.T, p fwd.Proto, ns, other *fwd.Table, v4, v6 bool) *hostTable {
	t.Helper()
	cfg := &conf.Config{TCP: true, UDP: true}
	cfg.IPv4.Enabled, cfg.IPv6.Enabled = v4, v6
	if p == fwd.UDP {
		cfg.Forward.UDPNs.Table, cfg.Forward.UDP.Table = ns, other
	} else {
		cfg.Forward.TCPNs.Table, cfg.Forward.TCP.Table = ns, other
	}
	h := newHostTable(cfg, p)
	if h == nil {
		t.Fatalf("no host scan for %v", p)
	}
	return h
}

// The -T auto bookkeeping: which listeners to open and close inside the
// namespace, given the host's listening ports, the rules, the ports of
// -t, and what is open already.
func TestHostTableChanges(t *testing.T) {
	// -T 1000-2000,~1500,auto: two auto rules around the exclusion;
	// -t 3000 is a fixed port on the host.
	tns := &fwd.Table{Proto: fwd.TCP, Dir: fwd.GuestToHost, Rules: []fwd.Rule{
		{First: 1000, Last: 1499, ToFirst: 1000, Auto: true},
		{First: 1501, Last: 3000, ToFirst: 1501, Auto: true},
	}}
	tcp := &fwd.Table{Proto: fwd.TCP, Rules: []fwd.Rule{
		{First: 3000, Last: 3000, ToFirst: 3000},
		{First: 1, Last: 65535, ToFirst: 1, Auto: true},
	}}
	k := func(port, rule uint16, v6 bool) hostKey { return hostKey{port: port, rule: rule, v6: v6} }

	h := hostTableOf(t, fwd.TCP, tns, tcp, true, true)
	var asked []netip.AddrPort
	h.listen = func(a netip.Addr, p uint16) (int, error) {
		asked = append(asked, netip.AddrPortFrom(a, p))
		if p == 1200 && a.Is6() {
			return -1, errors.New("already in use")
		}
		return unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}

	// The host listens on 22 (no rule), 1200, 1500 (excluded), 2500,
	// 2600 (a -t auto listener of ours), 3000 (-t, fixed).
	closing, opening := h.changes(portSet(22, 1200, 1500, 2500, 2600, 3000), portSet(2600))
	if len(closing) != 0 {
		t.Errorf("closing at first: %v", closing)
	}
	want := []hostKey{k(1200, 0, false), k(1200, 0, true), k(2500, 1, false), k(2500, 1, true)}
	if !slices.Equal(opening, want) {
		t.Fatalf("opening: got %v, want %v", opening, want)
	}
	entries, fds := h.openListeners(opening, t.Logf)
	closeFDs(fds)
	wantAsked := []netip.AddrPort{
		netip.MustParseAddrPort("127.0.0.1:1200"), netip.MustParseAddrPort("[::1]:1200"),
		netip.MustParseAddrPort("127.0.0.1:2500"), netip.MustParseAddrPort("[::1]:2500"),
	}
	if !slices.Equal(asked, wantAsked) {
		t.Errorf("asked the keeper for %v, want %v", asked, wantAsked)
	}
	if len(entries) != 3 || len(fds) != 3 {
		t.Fatalf("got %d entries and %d descriptors, want 3: the one in use skipped", len(entries), len(fds))
	}
	for _, e := range entries {
		if e.Role != ipc.FDTCPListener || e.Proto != ipc.TCP || e.Side != ipc.SideNamespace {
			t.Errorf("entry %+v: want a TCP listener inside the namespace", e)
		}
	}
	if e := entries[2]; e.Port != 2500 || e.Rule != 1 || e.Family != ipc.IPv6 {
		t.Errorf("last entry %+v: want port 2500, rule 1, IPv6", e)
	}
	if !h.failed[k(1200, 0, true)] || len(h.open) != 3 {
		t.Errorf("after opening: open %v, failed %v", h.open, h.failed)
	}

	// Same scan again: only the one in use is tried again.
	asked = nil
	closing, opening = h.changes(portSet(22, 1200, 1500, 2500, 2600, 3000), portSet(2600))
	if len(closing) != 0 || !slices.Equal(opening, []hostKey{k(1200, 0, true)}) {
		t.Errorf("second scan: closing %v, opening %v", closing, opening)
	}

	// 1200 stops listening on the host; 2500 becomes one of our -t
	// listeners (it must never be forwarded back).
	closing, opening = h.changes(portSet(22, 2500, 3000), portSet(2500))
	want = []hostKey{k(1200, 0, false), k(2500, 1, false), k(2500, 1, true)}
	if !slices.Equal(closing, want) || len(opening) != 0 {
		t.Errorf("after the ports went: closing %v (want %v), opening %v", closing, want, opening)
	}
	if len(h.failed) != 0 {
		t.Errorf("failure of a port no longer listening kept: %v", h.failed)
	}
	u := h.open[k(2500, 1, true)]
	if u != (ipc.Unlisten{Role: ipc.FDTCPListener, Family: ipc.IPv6, Side: ipc.SideNamespace, Port: 2500, Rule: 1}) {
		t.Errorf("Unlisten %+v", u)
	}
}

// Only the enabled families get listeners.
func TestHostTableFamilies(t *testing.T) {
	tns := &fwd.Table{Proto: fwd.TCP, Dir: fwd.GuestToHost, Rules: []fwd.Rule{{First: 1, Last: 65535, ToFirst: 1, Auto: true}}}
	for _, tc := range []struct {
		v4, v6 bool
		want   []hostKey
	}{
		{true, false, []hostKey{{port: 80}}},
		{false, true, []hostKey{{port: 80, v6: true}}},
		{true, true, []hostKey{{port: 80}, {port: 80, v6: true}}},
	} {
		h := hostTableOf(t, fwd.TCP, tns, nil, tc.v4, tc.v6)
		_, opening := h.changes(portSet(80), portSet())
		if !slices.Equal(opening, tc.want) {
			t.Errorf("v4 %v v6 %v: got %v, want %v", tc.v4, tc.v6, opening, tc.want)
		}
	}
}

// -t auto and -T auto together: a port our -T listener holds inside the
// namespace is not forwarded back to the host, nor a port our -t listener
// holds on the host back into the namespace; fixed rules of the other
// direction still count.
func TestAutoExclusions(t *testing.T) {
	if !forwards(&fwd.Table{Rules: []fwd.Rule{{First: 80, Last: 80}}}, 80) {
		t.Error("a fixed rule of the other direction does not exclude its port")
	}
	if forwards(&fwd.Table{Rules: []fwd.Rule{{First: 1, Last: 65535, Auto: true}}}, 80) {
		t.Error("an auto rule of the other direction excludes all its ports")
	}
}

// -U auto: sockets inside the namespace for the UDP ports in use on the
// host, as UDP sockets of -U, ports of -u (fixed, and our auto listeners)
// left out, closed when the port goes.
func TestHostTableUDP(t *testing.T) {
	uns := &fwd.Table{Proto: fwd.UDP, Dir: fwd.GuestToHost, Rules: []fwd.Rule{{First: 1, Last: 49151, ToFirst: 1, Auto: true}}}
	udp := &fwd.Table{Proto: fwd.UDP, Rules: []fwd.Rule{
		{First: 7000, Last: 7000, ToFirst: 7000},
		{First: 1, Last: 65535, ToFirst: 1, Auto: true},
	}}
	h := hostTableOf(t, fwd.UDP, uns, udp, true, false)
	h.listen = func(netip.Addr, uint16) (int, error) {
		return unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	// In use on the host: 53, 6000 (our -u auto listener), 7000 (-u,
	// fixed), 60000 (no rule).
	_, opening := h.changes(portSet(53, 6000, 7000, 60000), portSet(6000))
	if want := []hostKey{{port: 53}}; !slices.Equal(opening, want) {
		t.Fatalf("opening: got %v, want %v", opening, want)
	}
	entries, fds := h.openListeners(opening, t.Logf)
	closeFDs(fds)
	want := ipc.FDEntry{Role: ipc.FDUDPListener, Proto: ipc.UDP, Family: ipc.IPv4, Side: ipc.SideNamespace, Port: 53}
	if len(entries) != 1 || entries[0] != want {
		t.Fatalf("entries: got %+v, want %+v", entries, want)
	}
	closing, _ := h.changes(portSet(7000), portSet())
	if !slices.Equal(closing, opening) {
		t.Errorf("closing once 53 went: got %v, want %v", closing, opening)
	}
	u := ipc.Unlisten{Role: ipc.FDUDPListener, Family: ipc.IPv4, Side: ipc.SideNamespace, Port: 53}
	if h.open[hostKey{port: 53}] != u {
		t.Errorf("Unlisten %+v, want %+v", h.open[hostKey{port: 53}], u)
	}
}

// What each direction of the scan takes for a port in use: never one of
// our own sockets of the other direction, fixed or auto.
func TestAutoInUse(t *testing.T) {
	var ns, host scanned
	// Inside: TCP 80 (a service), 8000 (our -T auto listener), 9000
	// (our fixed -T listener); UDP 53 (a service), 5353 (our -U auto
	// socket).
	for _, p := range []uint16{80, 8000, 9000} {
		ns.tcp.Add(p)
	}
	ns.udp.Add(53)
	ns.udp.Add(5353)
	// On the host: TCP 22 and 8080 (services on loopback or wildcard
	// addresses), 3000 (our fixed -t listener), 2600 (our -t auto
	// listener), 9999 (a service on another address only); UDP 123 (a
	// service), 6000 (our -u auto listener).
	for _, p := range []uint16{22, 8080, 3000, 2600} {
		host.tcp.Add(p)
		host.tcpLocal.Add(p)
	}
	host.tcp.Add(9999)
	host.udpLocal.Add(123)
	host.udpLocal.Add(6000)
	var ours autoOurs
	ours.tcpInNs.Add(8000)
	ours.udpInNs.Add(5353)
	ours.tcpOnHost.Add(2600)
	ours.udpOnHost.Add(6000)
	tcpFixed := &fwd.Table{Rules: []fwd.Rule{{First: 3000, Last: 3000}}}
	tnsFixed := &fwd.Table{Rules: []fwd.Rule{{First: 9000, Last: 9000}}}

	for _, tc := range []struct {
		name string
		got  ipc.PortSet
		want []uint16
	}{
		// 9000 is left out of -t by sync (a fixed rule of -T).
		{"-t", nsInUse(&autoTable{proto: ipc.TCP}, &ns, &ours, tnsFixed), []uint16{80, 9000}},
		{"-u", nsInUse(&autoTable{proto: ipc.UDP}, &ns, &ours, tnsFixed), []uint16{53, 80}},
		// 2600 and 3000 are left out of -T by changes.
		{"-T", hostInUse(&hostTable{proto: ipc.TCP}, &host, &ours, tcpFixed), []uint16{22, 2600, 3000, 8080, 9999}},
		// 6000 is left out of -U by changes.
		{"-U", hostInUse(&hostTable{proto: ipc.UDP}, &host, &ours, tcpFixed), []uint16{22, 123, 6000, 8080}},
	} {
		if got := slices.Collect(tc.got.All()); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
