// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package ipc

import (
	"net/netip"
	"reflect"
	"sync"
	"testing"
)

func ports(list ...uint16) PortSet {
	var s PortSet
	for _, p := range list {
		s.Add(p)
	}
	return s
}

func portRange(first, last uint16) PortSet {
	var s PortSet
	s.AddRange(first, last)
	return s
}

// pastaAllowance is the allowance of
//
//	pasta -t 22,80-81 -t 192.0.2.1%eth0/443 -t 8080:9090 -t 5000-5010,auto
//	      -u ::1/53 -T 6000
//
// in a namespace whose own addresses are 192.0.2.10 and 2001:db8::10. Each
// call builds a new one.
func pastaAllowance() *Allowance {
	return &Allowance{
		IPv4: true, IPv6: true,
		NSSockets: true,
		NSAddrs:   []netip.Addr{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("2001:db8::10")},
		TCP: Forwarding{
			HostToGuest: []Rule{
				{Ports: ports(22, 80, 81), Targets: ports(22, 80, 81), Splice: true},
				{Ports: ports(443), Targets: ports(443), Addr: netip.MustParseAddr("192.0.2.1"), Ifname: "eth0"},
				{Ports: ports(8080), Targets: ports(9090), Splice: true},
				{Ports: portRange(5000, 5010), Targets: portRange(5000, 5010), Splice: true, Auto: true},
			},
			GuestToHost: []Rule{
				{Ports: ports(6000), Targets: ports(6000)},
			},
		},
		UDP: Forwarding{
			HostToGuest: []Rule{
				{Ports: ports(53), Targets: ports(53), Addr: netip.MustParseAddr("::1"), Splice: true},
			},
		},
	}
}

// passtAllowance is the same forwarding in passt mode: no namespace.
func passtAllowance() *Allowance {
	a := pastaAllowance()
	a.NSSockets = false
	a.NSAddrs = nil
	a.TCP.GuestToHost = nil
	return a
}

func v4only() *Allowance {
	a := pastaAllowance()
	a.IPv6 = false
	return a
}

var (
	lo4    = netip.MustParseAddr("127.0.0.1")
	lo6    = netip.MustParseAddr("::1")
	any4   = netip.IPv4Unspecified()
	any6   = netip.IPv6Unspecified()
	own4   = netip.MustParseAddr("192.0.2.10")
	own6   = netip.MustParseAddr("2001:db8::10")
	rule4  = netip.MustParseAddr("192.0.2.1")
	other4 = netip.MustParseAddr("10.0.0.1")
)

type decideCase struct {
	name  string
	allow func() *Allowance
	req   BrokerRequest
	want  Decision
}

func decideCases() []decideCase {
	ns := func(proto Proto, fam Family, act NSAction, addr netip.Addr, port uint16) BrokerRequest {
		return BrokerRequest{Op: OpNSSocket, Proto: proto, Family: fam, Action: act, Addr: addr, Port: port}
	}
	listen := func(proto Proto, fam Family, addr netip.Addr, port uint16, ifname string) BrokerRequest {
		return BrokerRequest{Op: OpHostListener, Proto: proto, Family: fam, Addr: addr, Port: port, Ifname: ifname}
	}
	rescan := func(proto Proto, side Side) BrokerRequest {
		return BrokerRequest{Op: OpRescan, Proto: proto, Side: side}
	}
	with := func(r BrokerRequest, f func(*BrokerRequest)) BrokerRequest { f(&r); return r }
	pasta, passt := pastaAllowance, passtAllowance
	return []decideCase{
		// Namespace sockets, connect: splice targets of -t/-u.
		{"ns connect loopback4", pasta, ns(TCP, IPv4, NSConnect, lo4, 22), Allow},
		{"ns connect loopback6", pasta, ns(TCP, IPv6, NSConnect, lo6, 81), Allow},
		{"ns connect own address to mapped port", pasta, ns(TCP, IPv4, NSConnect, own4, 9090), Allow},
		{"ns connect own6", pasta, ns(TCP, IPv6, NSConnect, own6, 5003), Allow},
		{"ns connect UDP", pasta, ns(UDP, IPv6, NSConnect, lo6, 53), Allow},
		{"ns connect listen-side port of a mapping", pasta, ns(TCP, IPv4, NSConnect, lo4, 8080), DenyPort},
		{"ns connect port of a rule without splice", pasta, ns(TCP, IPv4, NSConnect, lo4, 443), DenyPort},
		{"ns connect unforwarded port", pasta, ns(TCP, IPv4, NSConnect, lo4, 23), DenyPort},
		{"ns connect -T port", pasta, ns(TCP, IPv4, NSConnect, lo4, 6000), DenyPort},
		{"ns connect wrong proto", pasta, ns(UDP, IPv4, NSConnect, lo4, 22), DenyPort},
		{"ns connect port 0", pasta, ns(TCP, IPv4, NSConnect, lo4, 0), DenyPortZero},
		{"ns connect other address", pasta, ns(TCP, IPv4, NSConnect, other4, 22), DenyAddress},
		{"ns connect 127.0.0.2", pasta, ns(TCP, IPv4, NSConnect, netip.MustParseAddr("127.0.0.2"), 22), DenyAddress},
		{"ns connect unspecified", pasta, ns(TCP, IPv4, NSConnect, any4, 22), DenyAddress},
		{"ns connect mapped v4 in v6", pasta, ns(TCP, IPv6, NSConnect, netip.MustParseAddr("::ffff:127.0.0.1"), 22), DenyAddress},
		{"ns connect zoned", pasta, ns(TCP, IPv6, NSConnect, netip.MustParseAddr("::1%lo"), 22), DenyAddress},
		{"ns connect no address", pasta, ns(TCP, IPv4, NSConnect, netip.Addr{}, 22), DenyAddress},
		{"ns connect family of the other address", pasta, ns(TCP, IPv6, NSConnect, lo4, 22), DenyFamily},
		{"ns connect family disabled", v4only, ns(TCP, IPv6, NSConnect, lo6, 22), DenyFamily},
		{"ns connect family unknown", pasta, ns(TCP, 5, NSConnect, lo4, 22), DenyFamily},
		{"ns connect family unset", pasta, ns(TCP, 0, NSConnect, lo4, 22), DenyFamily},
		{"ns connect in passt mode", passt, ns(TCP, IPv4, NSConnect, lo4, 22), DenyNamespace},
		{"ns connect with interface", pasta, with(ns(TCP, IPv4, NSConnect, lo4, 22), func(r *BrokerRequest) { r.Ifname = "lo" }), DenyInterface},
		{"ns connect with side", pasta, with(ns(TCP, IPv4, NSConnect, lo4, 22), func(r *BrokerRequest) { r.Side = SideNamespace }), DenyMalformed},
		{"ns no action", pasta, ns(TCP, IPv4, 0, lo4, 22), DenyAction},
		{"ns unknown action", pasta, ns(TCP, IPv4, 3, lo4, 22), DenyAction},
		// Namespace sockets, bind: listeners of -T/-U.
		{"ns bind loopback4", pasta, ns(TCP, IPv4, NSBind, lo4, 6000), Allow},
		{"ns bind loopback6", pasta, ns(TCP, IPv6, NSBind, lo6, 6000), Allow},
		{"ns bind own address", pasta, ns(TCP, IPv4, NSBind, own4, 6000), Allow},
		{"ns bind -t port", pasta, ns(TCP, IPv4, NSBind, lo4, 22), DenyPort},
		{"ns bind wrong proto", pasta, ns(UDP, IPv4, NSBind, lo4, 6000), DenyPort},
		{"ns bind port 0", pasta, ns(TCP, IPv4, NSBind, lo4, 0), DenyPortZero},
		{"ns bind unspecified", pasta, ns(TCP, IPv4, NSBind, any4, 6000), DenyAddress},
		{"ns bind in passt mode", passt, ns(TCP, IPv4, NSBind, lo4, 6000), DenyNamespace},
		// Host listeners: ports of -t/-u with their address and interface.
		{"listen wildcard4", pasta, listen(TCP, IPv4, any4, 22, ""), Allow},
		{"listen wildcard6", pasta, listen(TCP, IPv6, any6, 80, ""), Allow},
		{"listen rule address and interface", pasta, listen(TCP, IPv4, rule4, 443, "eth0"), Allow},
		{"listen auto range", pasta, listen(TCP, IPv4, any4, 5005, ""), Allow},
		{"listen UDP on rule address", pasta, listen(UDP, IPv6, lo6, 53, ""), Allow},
		{"listen in passt mode", passt, listen(TCP, IPv4, any4, 80, ""), Allow},
		{"listen low port of passt", passt, listen(TCP, IPv6, any6, 22, ""), Allow},
		{"listen rule address without interface", pasta, listen(TCP, IPv4, rule4, 443, ""), DenyInterface},
		{"listen rule address other interface", pasta, listen(TCP, IPv4, rule4, 443, "eth1"), DenyInterface},
		{"listen interface on wildcard rule", pasta, listen(TCP, IPv4, any4, 22, "eth0"), DenyInterface},
		{"listen wildcard for address rule", pasta, listen(TCP, IPv4, any4, 443, "eth0"), DenyAddress},
		{"listen address for wildcard rule", pasta, listen(TCP, IPv4, rule4, 22, ""), DenyAddress},
		{"listen UDP wildcard for address rule", pasta, listen(UDP, IPv6, any6, 53, ""), DenyAddress},
		{"listen UDP family of no rule address", pasta, listen(UDP, IPv4, any4, 53, ""), DenyAddress},
		{"listen target-only port", pasta, listen(TCP, IPv4, any4, 9090, ""), DenyPort},
		{"listen -T port on host", pasta, listen(TCP, IPv4, any4, 6000, ""), DenyPort},
		{"listen unforwarded port", pasta, listen(TCP, IPv4, any4, 23, ""), DenyPort},
		{"listen wrong proto", pasta, listen(UDP, IPv4, any4, 22, ""), DenyPort},
		{"listen port 0", pasta, listen(TCP, IPv4, any4, 0, ""), DenyPortZero},
		{"listen family disabled", v4only, listen(TCP, IPv6, any6, 22, ""), DenyFamily},
		{"listen family of the other address", pasta, listen(TCP, IPv6, any4, 22, ""), DenyFamily},
		{"listen family unknown", pasta, listen(TCP, 255, any4, 22, ""), DenyFamily},
		{"listen no address", pasta, listen(TCP, IPv4, netip.Addr{}, 22, ""), DenyAddress},
		{"listen mapped v4 in v6", pasta, listen(TCP, IPv6, netip.MustParseAddr("::ffff:0.0.0.0"), 22, ""), DenyAddress},
		{"listen interface with slash", pasta, listen(TCP, IPv4, rule4, 443, "../e"), DenyInterface},
		{"listen interface dot", pasta, listen(TCP, IPv4, rule4, 443, "."), DenyInterface},
		{"listen interface with space", pasta, listen(TCP, IPv4, rule4, 443, "eth 0"), DenyInterface},
		{"listen interface too long", pasta, listen(TCP, IPv4, rule4, 443, "eth0123456789abc"), DenyInterface},
		{"listen with action", pasta, with(listen(TCP, IPv4, any4, 22, ""), func(r *BrokerRequest) { r.Action = NSBind }), DenyMalformed},
		{"listen with side", pasta, with(listen(TCP, IPv4, any4, 22, ""), func(r *BrokerRequest) { r.Side = SideHost }), DenyMalformed},
		// Rescans: only where a rule is "auto".
		{"rescan namespace for -t auto", pasta, rescan(TCP, SideNamespace), Allow},
		{"rescan host without -T auto", pasta, rescan(TCP, SideHost), DenyAuto},
		{"rescan UDP without auto", pasta, rescan(UDP, SideNamespace), DenyAuto},
		{"rescan in passt mode", func() *Allowance {
			a := passtAllowance()
			for i := range a.TCP.HostToGuest {
				a.TCP.HostToGuest[i].Auto = false
			}
			return a
		}, rescan(TCP, SideNamespace), DenyAuto},
		{"rescan no side", pasta, rescan(TCP, 0), DenyMalformed},
		{"rescan unknown side", pasta, rescan(TCP, 7), DenyMalformed},
		{"rescan with port", pasta, with(rescan(TCP, SideNamespace), func(r *BrokerRequest) { r.Port = 22 }), DenyMalformed},
		{"rescan with family", pasta, with(rescan(TCP, SideNamespace), func(r *BrokerRequest) { r.Family = IPv4 }), DenyMalformed},
		{"rescan with address", pasta, with(rescan(TCP, SideNamespace), func(r *BrokerRequest) { r.Addr = lo4 }), DenyMalformed},
		{"rescan with interface", pasta, with(rescan(TCP, SideNamespace), func(r *BrokerRequest) { r.Ifname = "lo" }), DenyMalformed},
		// Anything else.
		{"op 0", pasta, with(ns(TCP, IPv4, NSConnect, lo4, 22), func(r *BrokerRequest) { r.Op = 0 }), DenyOp},
		{"op out of range", pasta, with(ns(TCP, IPv4, NSConnect, lo4, 22), func(r *BrokerRequest) { r.Op = numOps }), DenyOp},
		{"op 255", pasta, with(listen(TCP, IPv4, any4, 22, ""), func(r *BrokerRequest) { r.Op = 255 }), DenyOp},
		{"proto 0", pasta, ns(0, IPv4, NSConnect, lo4, 22), DenyProto},
		{"proto ICMP", pasta, listen(1, IPv4, any4, 22, ""), DenyProto},
		{"proto 255", pasta, rescan(255, SideNamespace), DenyProto},
		{"nil allowance ns", func() *Allowance { return nil }, ns(TCP, IPv4, NSConnect, lo4, 22), DenyNamespace},
		{"nil allowance listen", func() *Allowance { return nil }, listen(TCP, IPv4, any4, 22, ""), DenyFamily},
		{"nil allowance rescan", func() *Allowance { return nil }, rescan(TCP, SideNamespace), DenyAuto},
		{"empty allowance listen", func() *Allowance { return &Allowance{IPv4: true} }, listen(TCP, IPv4, any4, 22, ""), DenyPort},
	}
}

func TestDecide(t *testing.T) {
	for _, tc := range decideCases() {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decide(tc.allow(), tc.req); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestDecideCoverage checks that the table covers every op allowed and
// denied, and every reason.
func TestDecideCoverage(t *testing.T) {
	allowed := map[BrokerOp]bool{}
	denied := map[BrokerOp]bool{}
	reasons := map[Decision]bool{}
	for _, tc := range decideCases() {
		reasons[tc.want] = true
		if tc.want == Allow {
			allowed[tc.req.Op] = true
		} else {
			denied[tc.req.Op] = true
		}
	}
	for op := OpNSSocket; op < numOps; op++ {
		if !allowed[op] || !denied[op] {
			t.Errorf("%v: got allowed %v, denied %v, want both covered", op, allowed[op], denied[op])
		}
	}
	for d := Allow; d < numDecisions; d++ {
		if !reasons[d] {
			t.Errorf("decision %q: got no case, want at least one", d)
		}
	}
}

// TestDecidePure checks that Decide depends only on its inputs: it leaves
// them as they were, gives the same answer for equal inputs held in
// different memory, and the same answer when called concurrently.
func TestDecidePure(t *testing.T) {
	cases := decideCases()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, req := tc.allow(), tc.req
			first := Decide(a, req)
			if !reflect.DeepEqual(a, tc.allow()) || req != tc.req {
				t.Fatalf("inputs changed by Decide")
			}
			if again := Decide(tc.allow(), tc.req); again != first {
				t.Errorf("equal inputs: got %v, then %v, want the same", first, again)
			}
		})
	}
	// One allowance per case, shared by goroutines deciding at once.
	allowances := make([]*Allowance, len(cases))
	for i := range cases {
		allowances[i] = cases[i].allow()
	}
	const workers = 4
	var wg sync.WaitGroup
	wrong := make(chan string, workers*len(cases))
	for range workers {
		wg.Go(func() {
			for i, tc := range cases {
				if got := Decide(allowances[i], tc.req); got != tc.want {
					wrong <- tc.name
				}
			}
		})
	}
	wg.Wait()
	close(wrong)
	for name := range wrong {
		t.Errorf("concurrent %s: got another decision than alone", name)
	}
}

// TestDecideGrantsOnlyConfigured checks, for every port, that a host
// listener is allowed exactly for the ports of a -t rule.
func TestDecideGrantsOnlyConfigured(t *testing.T) {
	a := pastaAllowance()
	want := ports(22, 80, 81, 8080) // 443 is only on 192.0.2.1%eth0
	want.AddRange(5000, 5010)
	for p := 0; p <= 65535; p++ {
		got := Decide(a, BrokerRequest{Op: OpHostListener, Proto: TCP, Family: IPv4, Addr: any4, Port: uint16(p)}).Allowed()
		if got != want.Has(uint16(p)) {
			t.Errorf("port %d: got allowed %v, want %v", p, got, want.Has(uint16(p)))
		}
	}
}

func TestDecideAllocs(t *testing.T) {
	a := pastaAllowance()
	req := BrokerRequest{Op: OpHostListener, Proto: TCP, Family: IPv4, Addr: rule4, Port: 443, Ifname: "eth0"}
	if n := testing.AllocsPerRun(100, func() { Decide(a, req) }); n != 0 {
		t.Errorf("allocations per Decide: got %v, want 0", n)
	}
}

func TestDecisionCode(t *testing.T) {
	for d := Allow; d < numDecisions; d++ {
		want := Denied
		if d == Allow {
			want = OK
		}
		if got := d.Code(); got != want {
			t.Errorf("%v: got %v, want %v", d, got, want)
		}
		// Every decision fits a reply that decodes.
		op := OpNSSocket
		m := Message{Code: d.Code(), Body: BrokerReply{Op: op, Reason: d}}
		if d == Allow {
			m.FDs = []int{0}
		}
		if _, err := m.AppendBinary(nil); err != nil {
			t.Errorf("%v: reply does not encode: %v", d, err)
		}
	}
}
