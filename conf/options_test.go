// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package conf

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// upstreamShortOptions is upstream's getopt option string, without the
// leading '+'.
const upstreamShortOptions = "dqfel:hs:c:F:I:p:P:m:a:n:M:g:i:o:D:S:H:461t:u:T:U:"

func TestShortOptionsMatchUpstream(t *testing.T) {
	want := map[rune]ArgKind{}
	for i, r := range upstreamShortOptions {
		if r == ':' {
			continue
		}
		kind := NoArgument
		if i+1 < len(upstreamShortOptions) && upstreamShortOptions[i+1] == ':' {
			kind = RequiredArgument
		}
		want[r] = kind
	}
	got := map[rune]ArgKind{}
	for _, o := range OptionTable() {
		if o.Short == 0 {
			continue
		}
		if _, dup := got[o.Short]; dup {
			t.Errorf("short option -%c appears twice", o.Short)
		}
		got[o.Short] = o.Arg
	}
	for r, kind := range want {
		if g, ok := got[r]; !ok || g != kind {
			t.Errorf("-%c: got present %v kind %v, want kind %v", r, ok, g, kind)
		}
	}
	for r := range got {
		if _, ok := want[r]; !ok {
			t.Errorf("-%c: got an option upstream doesn't have", r)
		}
	}
}

func TestOptionTableIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, o := range OptionTable() {
		for _, n := range o.Names() {
			if seen[n] {
				t.Errorf("--%s appears twice", n)
			}
			seen[n] = true
			if !regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`).MatchString(n) {
				t.Errorf("--%s: not a well-formed long name", n)
			}
		}
		if o.Modes == 0 || o.Modes&^BothModes != 0 {
			t.Errorf("--%s: got modes %b, want a subset of %b", o.Long, o.Modes, BothModes)
		}
		if (o.Arg == RequiredArgument) != (o.ArgName != "") {
			t.Errorf("--%s: argument kind %v with name %q", o.Long, o.Arg, o.ArgName)
		}
	}
	// Every option upstream has, by long name (passt.1, conf.c, 2026).
	for _, n := range []string{
		"debug", "quiet", "foreground", "stderr", "log-file", "help", "socket", "socket-path",
		"fd", "ns-ifname", "pcap", "pid", "mtu", "address", "netmask", "mac-addr", "gateway",
		"interface", "outbound", "dns", "search", "hostname", "no-tcp", "no-udp", "no-icmp",
		"no-dhcp", "no-dhcpv6", "no-ndp", "no-ra", "no-splice", "splice-only", "freebind",
		"no-map-gw", "ipv4-only", "ipv6-only", "one-off", "tcp-ports", "udp-ports", "tcp-ns",
		"udp-ns", "userns", "netns", "ns-mac-addr", "dhcp-dns", "no-dhcp-dns", "dhcp-search",
		"no-dhcp-search", "dns-forward", "no-netns-quit", "trace", "runas", "log-size",
		"version", "outbound-if4", "outbound-if6", "config-net", "no-copy-routes",
		"no-copy-addrs", "netns-only", "map-host-loopback", "map-guest-addr",
		"host-lo-to-ns-lo", "dns-host", "vhost-user", "print-capabilities", "fqdn",
		"repair-path", "migrate-exit", "migrate-no-linger", "stats", "conf-path",
		"chroot-fallback",
	} {
		if !seen[n] {
			t.Errorf("--%s is missing from the table", n)
		}
	}
}

func TestOptionTableIsACopy(t *testing.T) {
	a := OptionTable()
	a[0].Long = "changed"
	for i := range a {
		if len(a[i].Aliases) > 0 {
			a[i].Aliases[0] = "changed"
		}
	}
	for _, o := range OptionTable() {
		for _, n := range o.Names() {
			if n == "changed" {
				t.Fatalf("got the package's table changed through a copy")
			}
		}
	}
}

// mentions reports whether usage names the long option n as a word of its
// own (so that --dhcp-dns does not match inside --no-dhcp-dns).
func mentions(usage, n string) bool {
	return regexp.MustCompile(`(^|[\s,])--` + regexp.QuoteMeta(n) + `([\s,=]|$)`).MatchString(usage)
}

func TestEveryOptionIsInUsage(t *testing.T) {
	usage := map[Mode]string{Passt: Usage(Passt), Pasta: Usage(Pasta)}
	for _, o := range OptionTable() {
		if strings.TrimSpace(o.Help) == "" {
			t.Errorf("--%s has no help text", o.Long)
		}
		for _, m := range []Mode{Passt, Pasta} {
			for _, n := range o.Names() {
				if got := mentions(usage[m], n); got != o.Modes.Has(m) {
					t.Errorf("%s usage mentions --%s: got %v, want %v", m, n, got, o.Modes.Has(m))
				}
			}
			if o.Short != 0 {
				short := regexp.MustCompile(`(?m)^  -` + regexp.QuoteMeta(string(o.Short)) + `, `)
				if got := short.MatchString(usage[m]); got != o.Modes.Has(m) {
					t.Errorf("%s usage lists -%c: got %v, want %v", m, o.Short, got, o.Modes.Has(m))
				}
			}
			flat := strings.Join(strings.Fields(usage[m]), " ") + " "
			if d := o.DefaultFor(m); d != "" && o.Modes.Has(m) && !strings.Contains(flat, "default: "+d+" ") {
				t.Errorf("%s usage lacks the default of --%s: %q", m, o.Long, d)
			}
		}
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name    string
		mode    Mode
		want    []string
		notWant []string
	}{
		{name: "passt", mode: Passt,
			want:    []string{"Usage: passt [OPTION]...\n", "  -s, --socket, --socket-path PATH", "default: none\n", "passt(1)"},
			notWant: []string{"COMMAND", "auto"}},
		{name: "pasta", mode: Pasta,
			want:    []string{"Usage: pasta [OPTION]... [COMMAND [ARGS]...]\n", "pasta [OPTION]... PID\n", "--netns PATH|NAME\n", "default: auto\n", "pasta(1)"},
			notWant: []string{"--socket", "qemu"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := Usage(tc.mode)
			for _, w := range tc.want {
				if !strings.Contains(u, w) {
					t.Errorf("got usage without %q", w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(u, w) {
					t.Errorf("got usage with %q", w)
				}
			}
			for i, line := range strings.Split(u, "\n") {
				if n := len([]rune(line)); n > 80 {
					t.Errorf("line %d is %d columns wide: %q", i+1, n, line)
				}
				if strings.TrimRight(line, " ") != line {
					t.Errorf("line %d ends in spaces: %q", i+1, line)
				}
			}
		})
	}
}

func TestModeFromArgv0(t *testing.T) {
	tests := []struct {
		argv0 string
		want  Mode
	}{
		{"passt", Passt},
		{"pasta", Pasta},
		{"/usr/bin/pasta", Pasta},
		{"/usr/bin/passt", Passt},
		{"pasta.avx2", Pasta},
		{"/usr/local/bin/passt.avx2", Passt},
		{"passt4netns", Pasta},
		{"/opt/bin/passt4netns", Pasta},
		{"/pasta/bin/passt", Passt},
		{"passt-monitor", Passt},
		{"qemu", Passt},
		{"", Passt},
	}
	for _, tc := range tests {
		t.Run(tc.argv0, func(t *testing.T) {
			if got := ModeFromArgv0(tc.argv0); got != tc.want {
				t.Errorf("ModeFromArgv0(%q): got %v, want %v", tc.argv0, got, tc.want)
			}
		})
	}
}

func TestVersionString(t *testing.T) {
	tests := []struct {
		mode    Mode
		version string
		want    string
	}{
		{Passt, "2026_07_16.090d739", "passt 2026_07_16.090d739"},
		{Pasta, "0.1.0", "pasta 0.1.0"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := VersionString(tc.mode, tc.version); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestModeText(t *testing.T) {
	for _, m := range []Mode{Passt, Pasta} {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var back Mode
		if err := json.Unmarshal(b, &back); err != nil || back != m {
			t.Errorf("round trip of %v through %s: got %v, %v", m, b, back, err)
		}
	}
	if _, err := json.Marshal(Mode(7)); err == nil {
		t.Errorf("got no error marshalling an invalid mode, want one")
	}
	var m Mode
	if err := json.Unmarshal([]byte(`"slirp"`), &m); err == nil {
		t.Errorf("got no error for an unknown mode name, want one")
	}
}

func TestParseMAC(t *testing.T) {
	tests := []struct {
		in   string
		want MAC
		ok   bool
	}{
		{"9a:55:9a:55:9a:55", DefaultMAC, true},
		{"02:AB:cd:EF:00:ff", MAC{2, 0xab, 0xcd, 0xef, 0, 0xff}, true},
		{"2:ab:cd:ef:00:ff", MAC{}, false},
		{"02:ab:cd:ef:00", MAC{}, false},
		{"02:ab:cd:ef:00:ff:", MAC{}, false},
		{"02.ab.cd.ef.00.ff", MAC{}, false},
		{"02:ab:cd:ef:00:fg", MAC{}, false},
		{"+2:ab:cd:ef:00:ff", MAC{}, false},
		{"", MAC{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseMAC(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("ParseMAC(%q): got %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

func FuzzParseMAC(f *testing.F) {
	for _, s := range []string{"9a:55:9a:55:9a:55", "00:00:00:00:00:00", "ff:FF:ff:FF:ff:FF", "0:0:0:0:0:0", "zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMAC(s)
		if err != nil {
			if m != (MAC{}) {
				t.Errorf("ParseMAC(%q) failed but returned %v", s, m)
			}
			return
		}
		if len(s) != 17 {
			t.Errorf("ParseMAC(%q) accepted %d bytes, want 17", s, len(s))
		}
		if !strings.EqualFold(m.String(), s) {
			t.Errorf("ParseMAC(%q).String() = %q, want the input up to case", s, m.String())
		}
		back, err := ParseMAC(m.String())
		if err != nil || back != m {
			t.Errorf("re-parse of %q: got %v, %v; want %v", m.String(), back, err, m)
		}
	})
}
