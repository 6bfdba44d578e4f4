// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package conf

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"passt-go/proto/flow"
)

// FuzzParse feeds argument vectors (arguments separated by NUL) to Parse in
// either mode. Parsing must not panic, must give the same result twice,
// must speak in one-line messages, and a successful parse must hold the
// invariants the rest of the program relies on. Whatever parses is also
// resolved against a fixed host, and a resolved configuration must survive
// a JSON round trip.
func FuzzParse(f *testing.F) {
	seeds := []struct {
		pasta bool
		args  string
	}{
		{false, ""},
		{false, "-f\x00-t\x0022,80\x00-u\x0053"},
		{false, "-4dt\x0022\x00--fore\x00-s\x00/tmp/s\x00-1"},
		{false, "-a\x0010.0.0.2/24\x00-g\x0010.0.0.1\x00-a\x002001:db8::2\x00-D\x00none\x00-S\x00a b"},
		{false, "--mtu=1500\x00-M\x0002:00:00:00:00:01\x00--dns-forward\x00169.254.1.1\x00--map-host-loopback\x00none"},
		{false, "-n\x0024\x00-a\x0010.0.0.2\x00--no-dhcp-dns\x00-F\x005"},
		{false, "extra"},
		{false, "--vhost-user\x00--repair-path\x00none"},
		{false, "--max-flows\x000x400000\x00--max-f=1"},
		{true, "--max-flows\x004194305"},
		{true, "--config-net\x00-T\x00none\x00-U\x00none\x00--\x00sh\x00-c\x00true"},
		{true, "--netns\x00ns1\x00--no-netns-quit\x00--map-guest-addr\x00169.254.1.2"},
		{true, "--userns\x00/proc/1/ns/user\x001234"},
		{true, "-I\x00tap1\x00--ns-mac-addr\x0002:00:00:00:00:02\x00--dhcp-dns\x00-6"},
		{true, "--no-tcp\x00-t\x00none\x00--no-copy-routes"},
		{true, "--netns-only\x00--host-lo-to-ns-lo\x00-99"},
		{false, "--d\x00-x\x00--no-dhcp-\x00-a"},
		// Found by fuzzing: a command that is not UTF-8 must be refused,
		// not changed on its way through JSON.
		{true, "\x93"},
	}
	for _, s := range seeds {
		f.Add(s.pasta, s.args)
	}
	f.Fuzz(func(t *testing.T, pasta bool, joined string) {
		mode := Passt
		if pasta {
			mode = Pasta
		}
		var args []string
		if joined != "" {
			args = strings.Split(joined, "\x00")
		}
		if len(args) > 64 {
			args = args[:64]
		}

		o1, w1, err1 := Parse(mode, args)
		o2, w2, err2 := Parse(mode, args)
		if !reflect.DeepEqual(o1, o2) || !reflect.DeepEqual(w1, w2) || errText(err1) != errText(err2) {
			t.Fatalf("Parse(%s, %q) is not deterministic: %+v %q %v / %+v %q %v", mode, args, o1, w1, err1, o2, w2, err2)
		}
		for _, w := range w1 {
			if strings.Contains(w, "\n") {
				t.Errorf("warning spans lines: %q", w)
			}
		}
		if err1 != nil {
			if strings.Contains(err1.Error(), "\n") {
				t.Errorf("error spans lines: %q", err1.Error())
			}
			if o1 != nil {
				t.Errorf("got options with error %v", err1)
			}
			return
		}
		checkInvariants(t, o1)

		var ports fakePorts
		c, err := resolve(o1, hostInfo(), ports.parse)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("Resolve error spans lines: %q", err.Error())
			}
			return
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		var back Config
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		want := *c
		want.Warnings = nil
		if !reflect.DeepEqual(&back, &want) {
			t.Fatalf("JSON round trip changed the config:\n got %+v\nwant %+v", back, want)
		}
	})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// checkInvariants asserts what every successfully parsed Options holds.
func checkInvariants(t *testing.T, o *Options) {
	t.Helper()
	fail := func(format string, args ...any) { t.Errorf("invariant: "+format, args...) }
	if o.IPv4Only && o.IPv6Only {
		fail("both -4 and -6 in effect")
	}
	if o.Addr4.IsValid() && (!o.Addr4.Is4() || o.Addr4.IsLoopback() || o.Addr4.IsMulticast() || o.Addr4.IsUnspecified()) {
		fail("Addr4 %v is not an IPv4 unicast address", o.Addr4)
	}
	if o.Addr6.IsValid() && (!o.Addr6.Is6() || o.Addr6.Is4In6() || o.Addr6.IsLoopback() || o.Addr6.IsMulticast()) {
		fail("Addr6 %v is not an IPv6 unicast address", o.Addr6)
	}
	if o.Prefix4 != -1 && (o.Prefix4 < 1 || o.Prefix4 > 32) {
		fail("Prefix4 %d out of range", o.Prefix4)
	}
	if o.Addr4.IsValid() && o.Prefix4 == -1 {
		fail("Addr4 %v without a prefix length", o.Addr4)
	}
	if o.MTU < 0 || o.MTU > MaxMTU {
		fail("MTU %d out of range", o.MTU)
	}
	if o.FD != -1 && (o.FD == 1 || o.FD == 2 || o.FD < 0) {
		fail("FD %d", o.FD)
	}
	if o.FD >= 0 && o.SocketPath != "" {
		fail("both FD %d and socket %q", o.FD, o.SocketPath)
	}
	if o.LogSize < MinLogSize {
		fail("log size %d", o.LogSize)
	}
	if o.MaxFlows < 1 || o.MaxFlows > flow.MaxCapacity {
		fail("MaxFlows %d out of range", o.MaxFlows)
	}
	for name, a := range map[string]netip.Addr{
		"Gateway4": o.Gateway4, "Outbound4": o.Outbound4, "DNSForward4": o.DNSForward4, "DNSHost4": o.DNSHost4,
		"MapHostLoopback4": o.MapHostLoopback4, "MapGuestAddr4": o.MapGuestAddr4,
	} {
		if a.IsValid() && !a.Is4() {
			fail("%s %v is not IPv4", name, a)
		}
	}
	for name, a := range map[string]netip.Addr{
		"Gateway6": o.Gateway6, "Outbound6": o.Outbound6, "DNSForward6": o.DNSForward6, "DNSHost6": o.DNSHost6,
		"MapHostLoopback6": o.MapHostLoopback6, "MapGuestAddr6": o.MapGuestAddr6,
	} {
		if a.IsValid() && (!a.Is6() || a.Is4In6()) {
			fail("%s %v is not IPv6", name, a)
		}
	}
	n4, n6 := 0, 0
	for _, a := range o.DNS {
		if a.Is4() {
			n4++
		} else {
			n6++
		}
	}
	if n4 > MaxDNS || n6 > MaxDNS || (o.NoDNS && len(o.DNS) > 0) {
		fail("DNS %v with none=%v", o.DNS, o.NoDNS)
	}
	if len(o.Search) > MaxSearch || (o.NoSearch && len(o.Search) > 0) {
		fail("search %q with none=%v", o.Search, o.NoSearch)
	}
	switch o.Mode {
	case Passt:
		if o.PID != 0 || o.Command != nil || o.Netns != "" || o.Userns != "" || o.ConfigNet || len(o.TCPNsPorts) > 0 || len(o.UDPNsPorts) > 0 {
			fail("pasta settings in passt mode: %+v", o)
		}
	case Pasta:
		if o.SocketPath != "" || o.OneOff || o.VhostUser {
			fail("passt settings in pasta mode: %+v", o)
		}
		if o.PID < 0 || (o.PID > 0 && (o.Command != nil || o.Netns != "")) {
			fail("PID %d with command %q, netns %q", o.PID, o.Command, o.Netns)
		}
		if o.Netns != "" && o.Command != nil {
			fail("netns with command")
		}
		if (o.NoCopyAddrs || o.NoCopyRoutes) && !o.ConfigNet {
			fail("--no-copy-* without --config-net")
		}
	default:
		fail("mode %v", o.Mode)
	}
	for name := range NotSupported {
		if o.Given(name) {
			fail("--%s accepted although not supported", name)
		}
	}
}
