// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package fwd

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func mustParse(t testing.TB, ctx Context, specs ...string) *Table {
	t.Helper()
	tab, err := ParseAll(specs, ctx)
	if err != nil {
		t.Fatalf("ParseAll(%q): %v", specs, err)
	}
	return tab
}

func TestLookup(t *testing.T) {
	tab := mustParse(t, dual,
		"22",                                   // rule 0: dual-stack wildcard
		"192.0.2.1/80:8080",                    // rule 1
		"0.0.0.0/443",                          // rule 2: every IPv4 address
		"[2001:db8::1]/443:[2001:db8::9]/8443", // rule 3
		"3000-3009:4000-4009",                  // rule 4
	)
	tests := []struct {
		name     string
		addr     string
		port     uint16
		want     int // rule index, -1 for none
		wantPort uint16
	}{
		{name: "wildcard IPv4", addr: "198.51.100.7", port: 22, want: 0, wantPort: 22},
		{name: "wildcard IPv6", addr: "2001:db8::7", port: 22, want: 0, wantPort: 22},
		{name: "address match", addr: "192.0.2.1", port: 80, want: 1, wantPort: 8080},
		{name: "IPv4-mapped address", addr: "::ffff:192.0.2.1", port: 80, want: 1, wantPort: 8080},
		{name: "other address", addr: "192.0.2.2", port: 80, want: -1},
		{name: "IPv4 wildcard", addr: "203.0.113.5", port: 443, want: 2, wantPort: 443},
		{name: "IPv6 address", addr: "2001:db8::1", port: 443, want: 3, wantPort: 8443},
		{name: "IPv6 with zone", addr: "2001:db8::1%eth0", port: 443, want: 3, wantPort: 8443},
		{name: "IPv6 not covered by IPv4 wildcard", addr: "2001:db8::2", port: 443, want: -1},
		{name: "range start", addr: "192.0.2.1", port: 3000, want: 4, wantPort: 4000},
		{name: "range end", addr: "192.0.2.1", port: 3009, want: 4, wantPort: 4009},
		{name: "past range", addr: "192.0.2.1", port: 3010, want: -1},
		{name: "port 0", addr: "192.0.2.1", port: 0, want: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := netip.MustParseAddr(tc.addr)
			i, ok := tab.Index(a, tc.port)
			if tc.want < 0 {
				if ok {
					t.Fatalf("got rule %d, want none", i)
				}
				if _, ok := tab.Lookup(a, tc.port); ok {
					t.Fatalf("Lookup found a rule, want none")
				}
				return
			}
			if !ok || i != tc.want {
				t.Fatalf("got rule %d (%v), want %d", i, ok, tc.want)
			}
			rule, ok := tab.Lookup(a, tc.port)
			if !ok || !reflect.DeepEqual(rule, tab.Rules[tc.want]) {
				t.Fatalf("got %v, want %v", rule, tab.Rules[tc.want])
			}
			if got := rule.Target(tc.port); got != tc.wantPort {
				t.Errorf("got target port %d, want %d", got, tc.wantPort)
			}
		})
	}
}

func TestLookupAllocs(t *testing.T) {
	tab := mustParse(t, dual, "192.0.2.1/80", "2000-5000,~3000-3010", "[2001:db8::1]/443")
	a := netip.MustParseAddr("2001:db8::1")
	var sink Rule
	allocs := testing.AllocsPerRun(1000, func() {
		sink, _ = tab.Lookup(a, 443)
	})
	if allocs != 0 {
		t.Errorf("got %v allocations per Lookup, want 0", allocs)
	}
	if sink.First != 443 {
		t.Errorf("got rule %v, want the one for port 443", sink)
	}
}

func collect(seq func(func(Listener) bool)) []Listener {
	var out []Listener
	for l := range seq {
		out = append(out, l)
	}
	return out
}

func TestListeners(t *testing.T) {
	tab := mustParse(t, dual, "192.0.2.1%eth0/22-23", "8000-8001,auto", "~1-49149")
	got := collect(tab.Listeners())
	want := []Listener{
		{Rule: 0, Addr: ip("192.0.2.1"), Ifname: "eth0", Port: 22},
		{Rule: 0, Addr: ip("192.0.2.1"), Ifname: "eth0", Port: 23},
		{Rule: 2, Port: 49150, Weak: true},
		{Rule: 2, Port: 49151, Weak: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got listeners\n%v\nwant\n%v", got, want)
	}
	if n := tab.NumListeners(); n != len(want) {
		t.Errorf("got NumListeners %d, want %d", n, len(want))
	}
	if !tab.HasAuto() {
		t.Errorf("got HasAuto false, want true")
	}
	auto := collect(tab.AutoListeners(8001))
	wantAuto := []Listener{{Rule: 1, Port: 8001}}
	if !reflect.DeepEqual(auto, wantAuto) {
		t.Errorf("got auto listeners %v, want %v", auto, wantAuto)
	}
	if got := collect(tab.AutoListeners(8002)); len(got) != 0 {
		t.Errorf("got auto listeners %v for an uncovered port, want none", got)
	}
	// Stopping early stops the iteration.
	n := 0
	for range tab.Listeners() {
		n++
		break
	}
	if n != 1 {
		t.Errorf("got %d listeners before break, want 1", n)
	}
	if mustParse(t, dual, "22").HasAuto() {
		t.Errorf("got HasAuto true for a static table, want false")
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		name  string
		ctx   Context
		specs []string
		want  string
	}{
		{
			name:  "rules",
			ctx:   dual,
			specs: []string{"22", "192.0.2.1%eth0/20-21:[2001:db8::9]/30-31", "[2001:db8::1]/80:192.0.2.9", "auto,~1-49000"},
			want: "TCP host to guest (-t):\n" +
				"    *:22 => 22\n" +
				"    192.0.2.1%eth0:20-21 => [2001:db8::9]:30-31\n" +
				"    [2001:db8::1]:80 => 192.0.2.9:80\n" +
				"    *:49001-49151 => 49001-49151 (weak) (auto)",
		},
		{name: "none", ctx: udp, specs: []string{"none"}, want: "UDP host to guest (-u): none"},
		{name: "empty", ctx: nsTCP, specs: nil, want: "TCP namespace to host (-T): no rules"},
		{name: "namespace", ctx: nsUDP4, specs: []string{"53"}, want: "UDP namespace to host (-U):\n    0.0.0.0%lo:53 => 53"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustParse(t, tc.ctx, tc.specs...).String(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestRuleArithmetic(t *testing.T) {
	rule := Rule{First: 65530, Last: 65535, ToFirst: 1}
	if got := rule.ToLast(); got != 6 {
		t.Errorf("got ToLast %d, want 6", got)
	}
	if got := rule.Target(65535); got != 6 {
		t.Errorf("got Target(65535) %d, want 6", got)
	}
	for _, p := range []uint16{65529, 0} {
		if rule.Contains(p) {
			t.Errorf("got Contains(%d) true, want false", p)
		}
	}
}

// FuzzParseAll checks that whatever parses gives a well-formed table:
// ordered ranges of equal length without port 0, families as enabled, no
// two rules answering for the same address and port, and the same table
// (and rendering) when parsed again.
func FuzzParseAll(f *testing.F) {
	seeds := []string{
		"all", "::1/all", "22", "22:23", "22,25", "22-80", "22-80:32-90",
		"192.0.2.1/22", "192.0.2.1%eth0/22", "%eth0/22", "0.0.0.0/5000:192.0.2.5/6000",
		"127.0.0.6/all:192.0.2.6", "2000-5000,~3000-3010", "192.0.2.1/20-30,~25",
		"~20000-20010", "auto", "::1/auto", "8000-8010,auto", "none", "none 22",
		"22 22", "22:[2001:db8::5]/23", "all:2001:db8::9", "*%lo/1-65535", "~0", "30-20",
		"22-80:32-91", "1:2::3/4", "%../22", "22,", "0.0.0.0/22 ::/22",
	}
	for i, s := range seeds {
		// Both families on, with protocol, direction and mode varying;
		// then each seed again with IPv4 only.
		f.Add(s, uint8(i%8)|8|16)
		f.Add(s, uint8(i%8)|8|32)
	}
	f.Fuzz(func(t *testing.T, in string, flags uint8) {
		if len(in) > 4096 {
			return
		}
		ctx := Context{
			Proto: Proto(flags & 1), Dir: Dir(flags >> 1 & 1), Pasta: flags&4 != 0,
			IPv4: flags&8 != 0, IPv6: flags&16 != 0,
		}
		if flags&32 != 0 {
			ctx.Ephemeral = [2]uint16{32768, 60999}
		}
		specs := strings.Split(in, " ")
		tab, err := ParseAll(specs, ctx)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) || fe.Option != Option(ctx.Proto, ctx.Dir) {
				t.Fatalf("got error %#v, want *Error for %s", err, Option(ctx.Proto, ctx.Dir))
			}
			if strings.ContainsRune(fe.Reason, '\n') || fe.Reason == "" {
				t.Fatalf("got reason %q, want one non-empty line", fe.Reason)
			}
			return
		}
		if tab.None && len(tab.Rules) != 0 {
			t.Fatalf("got None with %d rules", len(tab.Rules))
		}
		if len(tab.Rules) > MaxRules {
			t.Fatalf("got %d rules, more than %d", len(tab.Rules), MaxRules)
		}
		for i, r := range tab.Rules {
			if r.First == 0 || r.First > r.Last {
				t.Fatalf("rule %v: bad range", r)
			}
			if r.ToFirst == 0 || int(r.ToFirst)+int(r.Last-r.First) > 65535 {
				t.Fatalf("rule %v: bad target range", r)
			}
			if r.Listen.IsValid() && (r.Listen.Is4() && !ctx.IPv4 || r.Listen.Is6() && !ctx.IPv6 || r.Listen.Is4In6() || r.Listen.Zone() != "") {
				t.Fatalf("rule %v: listening address not allowed with %+v", r, ctx)
			}
			if !r.Listen.IsValid() && !(ctx.IPv4 && ctx.IPv6) {
				t.Fatalf("rule %v: dual-stack with one family", r)
			}
			if r.To.IsValid() && (r.To.IsUnspecified() || r.To.Is4() && !ctx.IPv4 || r.To.Is6() && !ctx.IPv6) {
				t.Fatalf("rule %v: target address not allowed with %+v", r, ctx)
			}
			if len(r.Ifname) >= ifNameSize || r.Ifname == "." || r.Ifname == ".." {
				t.Fatalf("rule %v: bad interface name", r)
			}
			if ctx.Dir == GuestToHost && r.Ifname != "lo" {
				t.Fatalf("rule %v: namespace rule not on lo", r)
			}
			if r.Auto && !ctx.Pasta {
				t.Fatalf("rule %v: auto outside pasta", r)
			}
			for _, s := range tab.Rules[:i] {
				if r.Last >= s.First && s.Last >= r.First && addrsMeet(r.Listen, s.Listen) {
					t.Fatalf("rules %v and %v overlap", s, r)
				}
			}
			// Each rule answers for its own ports.
			a := r.Listen
			if !a.IsValid() {
				a = netip.MustParseAddr("192.0.2.1")
			}
			for _, p := range []uint16{r.First, r.Last} {
				if j, ok := tab.Index(a, p); !ok || j != i {
					t.Fatalf("Index(%v, %d) = %d, %v; want %d", a, p, j, ok, i)
				}
			}
		}
		again, err := ParseAll(specs, ctx)
		if err != nil {
			t.Fatalf("second parse failed: %v", err)
		}
		if !reflect.DeepEqual(tab, again) || tab.String() != again.String() {
			t.Fatalf("parsing twice gave\n%v\nand\n%v", tab, again)
		}
	})
}

func BenchmarkLookup(b *testing.B) {
	tab := mustParse(b, dual, "192.0.2.1/80", "2000-5000,~3000-3010,~4000", "[2001:db8::1]/443", "22")
	a := netip.MustParseAddr("2001:db8::1")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := tab.Lookup(a, 443); !ok {
			b.Fatal("no rule")
		}
	}
}

func BenchmarkParseAll(b *testing.B) {
	specs := []string{"192.0.2.1%eth0/20-30,~25", "192.0.2.1/5000:192.0.2.5/6000", "127.0.0.1/~20000-20010"}
	n := 0
	for _, s := range specs {
		n += len(s)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseAll(specs, only4); err != nil {
			b.Fatal(err)
		}
	}
}
