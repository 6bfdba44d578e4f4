// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package fwd

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

var (
	dual   = Context{Proto: TCP, Dir: HostToGuest, Pasta: true, IPv4: true, IPv6: true}
	only4  = Context{Proto: TCP, Dir: HostToGuest, Pasta: true, IPv4: true}
	only6  = Context{Proto: TCP, Dir: HostToGuest, Pasta: true, IPv6: true}
	passt  = Context{Proto: TCP, Dir: HostToGuest, IPv4: true, IPv6: true}
	nsTCP  = Context{Proto: TCP, Dir: GuestToHost, Pasta: true, IPv4: true, IPv6: true}
	udp    = Context{Proto: UDP, Dir: HostToGuest, Pasta: true, IPv4: true, IPv6: true}
	nsUDP4 = Context{Proto: UDP, Dir: GuestToHost, Pasta: true, IPv4: true}
)

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// r builds a rule mapping first..last to the same ports.
func r(first, last uint16) Rule { return Rule{First: first, Last: last, ToFirst: first} }

func (x Rule) on(a string) Rule              { x.Listen = ip(a); return x }
func (x Rule) dev(n string) Rule             { x.Ifname = n; return x }
func (x Rule) to(a string) Rule              { x.To = ip(a); return x }
func (x Rule) toPort(p uint16) Rule          { x.ToFirst = p; return x }
func (x Rule) weak() Rule                    { x.Weak = true; return x }
func (x Rule) auto() Rule                    { x.Auto = true; return x }
func rules(rs ...Rule) []Rule                { return rs }
func ctxWith(c Context, e [2]uint16) Context { c.Ephemeral = e; return c }

func TestParseAll(t *testing.T) {
	tests := []struct {
		name  string
		specs []string
		ctx   Context
		want  []Rule
		none  bool
	}{
		// The examples of the manual.
		{name: "all", specs: []string{"all"}, ctx: dual, want: rules(r(1, 49151).weak())},
		{name: "all on ::1", specs: []string{"::1/all"}, ctx: dual, want: rules(r(1, 49151).on("::1").weak())},
		{name: "one port", specs: []string{"22"}, ctx: dual, want: rules(r(22, 22))},
		{name: "port to port", specs: []string{"22:23"}, ctx: dual, want: rules(r(22, 22).toPort(23))},
		{name: "two ports", specs: []string{"22,25"}, ctx: dual, want: rules(r(22, 22), r(25, 25))},
		{name: "range", specs: []string{"22-80"}, ctx: dual, want: rules(r(22, 80))},
		{name: "range to range", specs: []string{"22-80:32-90"}, ctx: dual, want: rules(r(22, 80).toPort(32))},
		{name: "listen address", specs: []string{"192.0.2.1/22"}, ctx: dual, want: rules(r(22, 22).on("192.0.2.1"))},
		{name: "listen address and interface", specs: []string{"192.0.2.1%eth0/22"}, ctx: dual, want: rules(r(22, 22).on("192.0.2.1").dev("eth0"))},
		{name: "interface only", specs: []string{"%eth0/22"}, ctx: dual, want: rules(r(22, 22).dev("eth0"))},
		{name: "target address and port", specs: []string{"0.0.0.0/5000:192.0.2.5/6000"}, ctx: dual, want: rules(r(5000, 5000).on("0.0.0.0").to("192.0.2.5").toPort(6000))},
		{name: "all to address", specs: []string{"127.0.0.6/all:192.0.2.6"}, ctx: dual, want: rules(r(1, 49151).on("127.0.0.6").to("192.0.2.6").weak())},
		{name: "range minus range", specs: []string{"2000-5000,~3000-3010"}, ctx: dual, want: rules(r(2000, 2999), r(3011, 5000))},
		{name: "address range minus port", specs: []string{"192.0.2.1/20-30,~25"}, ctx: dual, want: rules(r(20, 24).on("192.0.2.1"), r(26, 30).on("192.0.2.1"))},
		{name: "exclude only", specs: []string{"~20000-20010"}, ctx: dual, want: rules(r(1, 19999).weak(), r(20011, 49151).weak())},
		{name: "auto", specs: []string{"auto"}, ctx: dual, want: rules(r(1, 49151).weak().auto())},
		{name: "auto on ::1", specs: []string{"::1/auto"}, ctx: dual, want: rules(r(1, 49151).on("::1").weak().auto())},
		{name: "range and auto", specs: []string{"8000-8010,auto"}, ctx: dual, want: rules(r(8000, 8010).auto())},

		// More of the grammar.
		{name: "none", specs: []string{"none"}, ctx: dual, none: true},
		{name: "none twice", specs: []string{"none", "none"}, ctx: dual, none: true},
		{name: "no specs", specs: nil, ctx: dual},
		{name: "explicit wildcard", specs: []string{"*/22"}, ctx: dual, want: rules(r(22, 22))},
		{name: "wildcard with interface", specs: []string{"*%eth0/22"}, ctx: dual, want: rules(r(22, 22).dev("eth0"))},
		{name: "bracketed IPv6 listen", specs: []string{"[2001:db8::1]/22"}, ctx: dual, want: rules(r(22, 22).on("2001:db8::1"))},
		{name: "bracketed IPv6 listen with interface", specs: []string{"[2001:db8::1]%eth0/22"}, ctx: dual, want: rules(r(22, 22).on("2001:db8::1").dev("eth0"))},
		{name: "bracketed IPv4 listen", specs: []string{"[192.0.2.1]/22"}, ctx: dual, want: rules(r(22, 22).on("192.0.2.1"))},
		{name: "IPv4-mapped listen is IPv4", specs: []string{"::ffff:192.0.2.1/22"}, ctx: dual, want: rules(r(22, 22).on("192.0.2.1"))},
		{name: "link-local listen with interface", specs: []string{"fe80::1%eth0/22"}, ctx: dual, want: rules(r(22, 22).on("fe80::1").dev("eth0"))},
		{name: "longest interface name", specs: []string{"%abcdefghijklmno/22"}, ctx: dual, want: rules(r(22, 22).dev("abcdefghijklmno"))},
		{name: "target address only", specs: []string{"22:192.0.2.5"}, ctx: dual, want: rules(r(22, 22).to("192.0.2.5"))},
		{name: "IPv6 listen, not a target", specs: []string{"22:2001:db8::5/23"}, ctx: dual, want: rules(r(23, 23).on("22:2001:db8::5"))},
		{name: "IPv6 listen starting with digits", specs: []string{"1:2::3/4"}, ctx: dual, want: rules(r(4, 4).on("1:2::3"))},
		{name: "bracketed IPv4 target with port", specs: []string{"22:[192.0.2.5]/23"}, ctx: dual, want: rules(r(22, 22).to("192.0.2.5").toPort(23))},
		{name: "bare IPv6 target", specs: []string{"22:2001:db8::5"}, ctx: dual, want: rules(r(22, 22).to("2001:db8::5"))},
		{name: "bracketed IPv6 target with port", specs: []string{"22:[2001:db8::5]/23"}, ctx: dual, want: rules(r(22, 22).to("2001:db8::5").toPort(23))},
		{name: "target range with address", specs: []string{"22-24:192.0.2.5/32-34"}, ctx: dual, want: rules(r(22, 24).to("192.0.2.5").toPort(32))},
		{name: "all to IPv6", specs: []string{"all:2001:db8::9"}, ctx: dual, want: rules(r(1, 49151).to("2001:db8::9").weak())},
		{name: "exclude before include", specs: []string{"~23,22-24"}, ctx: dual, want: rules(r(22, 22), r(24, 24))},
		{name: "exclude shifts target", specs: []string{"22-24:32-34,~23"}, ctx: dual, want: rules(r(22, 22).toPort(32), r(24, 24).toPort(34))},
		{name: "explicit ports in ephemeral range", specs: []string{"49000-50000"}, ctx: dual, want: rules(r(49000, 50000))},
		{name: "highest port", specs: []string{"65535:1"}, ctx: dual, want: rules(r(65535, 65535).toPort(1))},
		{name: "leading zeros", specs: []string{"022"}, ctx: dual, want: rules(r(22, 22))},
		{name: "host ephemeral range", specs: []string{"all"}, ctx: ctxWith(dual, [2]uint16{30000, 40000}), want: rules(r(1, 29999).weak(), r(40001, 65535).weak())},
		{name: "bad ephemeral range falls back", specs: []string{"all"}, ctx: ctxWith(dual, [2]uint16{40000, 30000}), want: rules(r(1, 49151).weak())},
		{name: "exclude and ephemeral", specs: []string{"~1-100,auto"}, ctx: dual, want: rules(r(101, 49151).weak().auto())},
		{name: "IPv4 only wildcard", specs: []string{"22"}, ctx: only4, want: rules(r(22, 22).on("0.0.0.0"))},
		{name: "IPv6 only wildcard", specs: []string{"22"}, ctx: only6, want: rules(r(22, 22).on("::"))},
		{name: "several specs", specs: []string{"22", "192.0.2.1/80", "2001:db8::1/80"}, ctx: dual, want: rules(r(22, 22), r(80, 80).on("192.0.2.1"), r(80, 80).on("2001:db8::1"))},
		{name: "family wildcards do not meet", specs: []string{"0.0.0.0/22", "::/22"}, ctx: dual, want: rules(r(22, 22).on("0.0.0.0"), r(22, 22).on("::"))},
		{name: "namespace to host", specs: []string{"22"}, ctx: nsTCP, want: rules(r(22, 22).dev("lo"))},
		{name: "namespace to host auto", specs: []string{"auto"}, ctx: nsTCP, want: rules(r(1, 49151).dev("lo").weak().auto())},
		{name: "namespace to host target", specs: []string{"5000:192.0.2.5/6000"}, ctx: nsTCP, want: rules(r(5000, 5000).dev("lo").to("192.0.2.5").toPort(6000))},
		{name: "UDP namespace to host, IPv4", specs: []string{"53"}, ctx: nsUDP4, want: rules(r(53, 53).on("0.0.0.0").dev("lo"))},
		{name: "UDP", specs: []string{"5353-5354"}, ctx: udp, want: rules(r(5353, 5354))},
		{name: "passt explicit ports", specs: []string{"22"}, ctx: passt, want: rules(r(22, 22))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAll(tc.specs, tc.ctx)
			if err != nil {
				t.Fatalf("ParseAll(%q): %v", tc.specs, err)
			}
			if got.Proto != tc.ctx.Proto || got.Dir != tc.ctx.Dir {
				t.Errorf("got proto %v dir %v, want %v %v", got.Proto, got.Dir, tc.ctx.Proto, tc.ctx.Dir)
			}
			if got.None != tc.none {
				t.Errorf("got None %v, want %v", got.None, tc.none)
			}
			if !reflect.DeepEqual(got.Rules, tc.want) {
				t.Errorf("got rules\n%v\nwant\n%v", got.Rules, tc.want)
			}
		})
	}
}

func TestParseAllErrors(t *testing.T) {
	tests := []struct {
		name   string
		specs  []string
		ctx    Context
		spec   string // the spec the error names
		reason string // a piece of the reason
	}{
		{name: "empty", specs: []string{""}, ctx: dual, spec: "", reason: "empty specification"},
		{name: "none then ports", specs: []string{"none", "22"}, ctx: dual, spec: "none", reason: "cannot be combined"},
		{name: "ports then none", specs: []string{"22", "none"}, ctx: dual, spec: "none", reason: "cannot be combined"},
		{name: "none as a chunk", specs: []string{"22,none"}, ctx: dual, spec: "22,none", reason: "bad port"},
		{name: "port 0", specs: []string{"0"}, ctx: dual, spec: "0", reason: "port 0"},
		{name: "range from 0", specs: []string{"0-5"}, ctx: dual, spec: "0-5", reason: "port 0"},
		{name: "target port 0", specs: []string{"5:0"}, ctx: dual, spec: "5:0", reason: "port 0"},
		{name: "exclude 0", specs: []string{"~0"}, ctx: dual, spec: "~0", reason: "port 0"},
		{name: "reversed range", specs: []string{"30-20"}, ctx: dual, spec: "30-20", reason: "runs backwards"},
		{name: "reversed exclude", specs: []string{"~30-20"}, ctx: dual, spec: "~30-20", reason: "runs backwards"},
		{name: "reversed target", specs: []string{"20-30:40-30"}, ctx: dual, spec: "20-30:40-30", reason: "runs backwards"},
		{name: "unequal ranges", specs: []string{"22-80:32-91"}, ctx: dual, spec: "22-80:32-91", reason: "target range 32-91 has 60 ports, listening range 22-80 has 59"},
		{name: "unequal range and port", specs: []string{"22:32-33"}, ctx: dual, spec: "22:32-33", reason: "target range 32-33 has 2 ports, listening range 22 has 1 port"},
		{name: "missing last", specs: []string{"22-"}, ctx: dual, spec: "22-", reason: "bad port"},
		{name: "missing first", specs: []string{"-22"}, ctx: dual, spec: "-22", reason: "bad port"},
		{name: "three part range", specs: []string{"22-80-90"}, ctx: dual, spec: "22-80-90", reason: "bad port"},
		{name: "trailing letters", specs: []string{"22a"}, ctx: dual, spec: "22a", reason: "bad port"},
		{name: "trailing space", specs: []string{"22 "}, ctx: dual, spec: "22 ", reason: "bad port"},
		{name: "leading space", specs: []string{" 22"}, ctx: dual, spec: " 22", reason: "bad port"},
		{name: "plus sign", specs: []string{"+22"}, ctx: dual, spec: "+22", reason: "bad port"},
		{name: "trailing comma", specs: []string{"22,"}, ctx: dual, spec: "22,", reason: "empty port chunk"},
		{name: "leading comma", specs: []string{",22"}, ctx: dual, spec: ",22", reason: "empty port chunk"},
		{name: "empty chunk", specs: []string{"22,,23"}, ctx: dual, spec: "22,,23", reason: "empty port chunk"},
		{name: "port too large", specs: []string{"65536"}, ctx: dual, spec: "65536", reason: "out of range"},
		{name: "huge port", specs: []string{"99999999999999999999"}, ctx: dual, spec: "99999999999999999999", reason: "out of range"},
		{name: "bare exclude", specs: []string{"~"}, ctx: dual, spec: "~", reason: "bad port"},
		{name: "exclude with target", specs: []string{"~22:23"}, ctx: dual, spec: "~22:23", reason: "bad port"},
		{name: "auto with garbage", specs: []string{"auto:22"}, ctx: dual, spec: "auto:22", reason: "bad port"},
		{name: "all with garbage", specs: []string{"allx"}, ctx: dual, spec: "allx", reason: "bad port"},
		{name: "two targets", specs: []string{"22:23:24"}, ctx: dual, spec: "22:23:24", reason: "bad target address"},
		{name: "empty target", specs: []string{"22:"}, ctx: dual, spec: "22:", reason: "bad target address"},
		{name: "empty all target", specs: []string{"all:"}, ctx: dual, spec: "all:", reason: "bad target address"},
		{name: "target port without address", specs: []string{"22:/6000"}, ctx: dual, spec: "22:/6000", reason: "bad target address"},
		{name: "target address without port", specs: []string{"22:192.0.2.5/"}, ctx: dual, spec: "22:192.0.2.5/", reason: "bad port"},
		{name: "bad target address", specs: []string{"22:192.0.2.300"}, ctx: dual, spec: "22:192.0.2.300", reason: "bad target address"},
		{name: "target with zone", specs: []string{"22:fe80::1%eth0"}, ctx: dual, spec: "22:fe80::1%eth0", reason: "bad target address"},
		{name: "bad target before port", specs: []string{"5000:192.0.2.300/6000"}, ctx: dual, spec: "5000:192.0.2.300/6000", reason: "bad target address"},
		{name: "unspecified target", specs: []string{"22:0.0.0.0"}, ctx: dual, spec: "22:0.0.0.0", reason: "unspecified"},
		{name: "unspecified IPv6 target", specs: []string{"22:[::]/23"}, ctx: dual, spec: "22:[::]/23", reason: "unspecified"},
		{name: "unspecified all target", specs: []string{"all:0.0.0.0"}, ctx: dual, spec: "all:0.0.0.0", reason: "unspecified"},
		{name: "auto in passt", specs: []string{"auto"}, ctx: passt, spec: "auto", reason: "only allowed in pasta"},
		{name: "auto in passt with ports", specs: []string{"22,auto"}, ctx: passt, spec: "22,auto", reason: "only allowed in pasta"},
		{name: "all with ports", specs: []string{"all,22"}, ctx: dual, spec: "all,22", reason: "cannot be combined with port ranges"},
		{name: "all twice", specs: []string{"all,all"}, ctx: dual, spec: "all,all", reason: "all given twice"},
		{name: "namespace listen address", specs: []string{"192.0.2.1/22"}, ctx: nsTCP, spec: "192.0.2.1/22", reason: "listening address not allowed"},
		{name: "namespace interface", specs: []string{"%eth0/22"}, ctx: nsTCP, spec: "%eth0/22", reason: "listening address not allowed"},
		{name: "namespace wildcard", specs: []string{"*/22"}, ctx: nsTCP, spec: "*/22", reason: "listening address not allowed"},
		{name: "namespace bad listen", specs: []string{"192.0.2.300/22"}, ctx: nsTCP, spec: "192.0.2.300/22", reason: "listening address not allowed"},
		{name: "dot interface", specs: []string{"%./22"}, ctx: dual, spec: "%./22", reason: "not a valid interface name"},
		{name: "dot dot interface", specs: []string{"192.0.2.1%../22"}, ctx: dual, spec: "192.0.2.1%../22", reason: "not a valid interface name"},
		{name: "empty interface", specs: []string{"%/22"}, ctx: dual, spec: "%/22", reason: "empty interface name"},
		{name: "interface too long", specs: []string{"%abcdefghijklmnop/22"}, ctx: dual, spec: "%abcdefghijklmnop/22", reason: "too long"},
		{name: "interface with colon", specs: []string{"*%eth0:1/22"}, ctx: dual, spec: "*%eth0:1/22", reason: "forbidden character"},
		{name: "interface with space", specs: []string{"%eth 0/22"}, ctx: dual, spec: "%eth 0/22", reason: "forbidden character"},
		{name: "empty listen", specs: []string{"/22"}, ctx: dual, spec: "/22", reason: "empty listening address"},
		{name: "bad listen", specs: []string{"192.0.2.300/22"}, ctx: dual, spec: "192.0.2.300/22", reason: "bad listening address"},
		{name: "listen with zone in brackets", specs: []string{"[fe80::1%eth0]/22"}, ctx: dual, spec: "[fe80::1%eth0]/22", reason: "bad listening address"},
		{name: "bare IPv6 target before port", specs: []string{"22,24:2001:db8::1/6"}, ctx: dual, spec: "22,24:2001:db8::1/6", reason: "needs brackets"},
		{name: "IPv6 listen, IPv6 disabled", specs: []string{"2001:db8::1/22"}, ctx: only4, spec: "2001:db8::1/22", reason: "IPv6 is disabled"},
		{name: "IPv4 listen, IPv4 disabled", specs: []string{"192.0.2.1/22"}, ctx: only6, spec: "192.0.2.1/22", reason: "IPv4 is disabled"},
		{name: "IPv4 target, IPv4 disabled", specs: []string{"22:192.0.2.5"}, ctx: only6, spec: "22:192.0.2.5", reason: "IPv4 is disabled"},
		{name: "IPv6 target, IPv6 disabled", specs: []string{"all:2001:db8::5"}, ctx: only4, spec: "all:2001:db8::5", reason: "IPv6 is disabled"},
		{name: "no family", specs: []string{"22"}, ctx: Context{Pasta: true}, spec: "22", reason: "no address family"},
		{name: "overlap in one spec", specs: []string{"20-30,22"}, ctx: dual, spec: "20-30,22", reason: "overlaps"},
		{name: "same port twice", specs: []string{"22", "22"}, ctx: dual, spec: "22", reason: "overlaps"},
		{name: "wildcard covers address", specs: []string{"22", "192.0.2.1/20-25"}, ctx: dual, spec: "192.0.2.1/20-25", reason: "overlaps"},
		{name: "family wildcard covers address", specs: []string{"0.0.0.0/22", "192.0.2.1/22"}, ctx: dual, spec: "192.0.2.1/22", reason: "overlaps"},
		{name: "all and port", specs: []string{"all", "22"}, ctx: dual, spec: "22", reason: "overlaps"},
		{name: "everything excluded", specs: []string{"~1-65535"}, ctx: dual, spec: "~1-65535", reason: "every port is excluded"},
		{name: "range excluded", specs: []string{"22,~22"}, ctx: dual, spec: "22,~22", reason: "every port of 22 is excluded"},
		{name: "too many rules", specs: []string{manyExcludes(1100)}, ctx: dual, spec: manyExcludes(1100), reason: "too many forwarding rules"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAll(tc.specs, tc.ctx)
			if err == nil {
				t.Fatalf("ParseAll(%q) = %v, want an error", tc.specs, got)
			}
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("got error %T %v, want *Error", err, err)
			}
			if want := Option(tc.ctx.Proto, tc.ctx.Dir); fe.Option != want {
				t.Errorf("got option %q, want %q", fe.Option, want)
			}
			if fe.Spec != tc.spec {
				t.Errorf("got spec %q, want %q", fe.Spec, tc.spec)
			}
			if !strings.Contains(fe.Reason, tc.reason) {
				t.Errorf("got reason %q, want it to contain %q", fe.Reason, tc.reason)
			}
			if strings.ContainsRune(err.Error(), '\n') {
				t.Errorf("got a message of several lines: %q", err.Error())
			}
		})
	}
}

// manyExcludes returns an exclude-only specification splitting the port
// space into at least n rules.
func manyExcludes(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("~%d", 2*(i+1))
	}
	return strings.Join(parts, ",")
}

func TestMaxRulesAcrossSpecs(t *testing.T) {
	// 600 rules from each of two specs on distinct addresses: the second
	// one pushes the table past MaxRules.
	a := "192.0.2.1/" + manyExcludes(599)
	b := "192.0.2.2/" + manyExcludes(599)
	got, err := ParseAll([]string{a}, dual)
	if err != nil {
		t.Fatalf("one spec: %v", err)
	}
	if n := len(got.Rules); n != 600 {
		t.Fatalf("got %d rules, want 600", n)
	}
	if _, err := ParseAll([]string{a, b}, dual); err == nil || !strings.Contains(err.Error(), "too many") {
		t.Fatalf("got error %v, want too many rules", err)
	}
}

func TestOption(t *testing.T) {
	tests := []struct {
		name  string
		proto Proto
		dir   Dir
		want  string
	}{
		{name: "tcp in", proto: TCP, dir: HostToGuest, want: "-t"},
		{name: "udp in", proto: UDP, dir: HostToGuest, want: "-u"},
		{name: "tcp out", proto: TCP, dir: GuestToHost, want: "-T"},
		{name: "udp out", proto: UDP, dir: GuestToHost, want: "-U"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Option(tc.proto, tc.dir); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
