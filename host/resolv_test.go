// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package host

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"unicode"
)

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func TestParseResolvConf(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		ns     []netip.Addr
		search []string
	}{
		{name: "empty"},
		{name: "typical",
			in: "# Generated\nnameserver 192.0.2.53\nnameserver 2001:db8::53\nsearch example.com example.net\noptions edns0\n",
			ns: addrs("192.0.2.53", "2001:db8::53"), search: []string{"example.com", "example.net"}},
		{name: "tab separators", in: "nameserver\t192.0.2.53\nsearch\texample.com\texample.net",
			ns: addrs("192.0.2.53"), search: []string{"example.com", "example.net"}},
		{name: "CRLF line ends", in: "nameserver 192.0.2.53\r\nsearch example.com\r\n",
			ns: addrs("192.0.2.53"), search: []string{"example.com"}},
		{name: "zone stripped", in: "nameserver fe80::53%eth0\n", ns: addrs("fe80::53")},
		{name: "IPv4-mapped is IPv4", in: "nameserver ::ffff:192.0.2.53\n", ns: addrs("192.0.2.53")},
		{name: "loopback kept", in: "nameserver 127.0.0.53\nnameserver ::1\n", ns: addrs("127.0.0.53", "::1")},
		{name: "unspecified and multicast skipped", in: "nameserver 0.0.0.0\nnameserver ::\nnameserver 224.0.0.251\nnameserver ff02::fb\nnameserver 192.0.2.1\n",
			ns: addrs("192.0.2.1")},
		{name: "garbage address skipped", in: "nameserver example.com\nnameserver 192.0.2.300\nnameserver 192.0.2.1\n",
			ns: addrs("192.0.2.1")},
		{name: "trailing text after address", in: "nameserver 192.0.2.1 # office\n", ns: addrs("192.0.2.1")},
		{name: "keyword alone", in: "nameserver\nnameserver \nsearch\n"},
		{name: "comments", in: "#nameserver 192.0.2.1\n;nameserver 192.0.2.2\n # nameserver 192.0.2.3\nnameserver 192.0.2.4\n",
			ns: addrs("192.0.2.4")},
		{name: "keyword must start the line", in: " nameserver 192.0.2.1\n\tsearch example.com\n"},
		{name: "keyword must be whole", in: "nameservers 192.0.2.1\nnameserver192.0.2.2\nsearching example.com\n"},
		{name: "three per family",
			in: "nameserver 192.0.2.1\nnameserver 2001:db8::1\nnameserver 192.0.2.2\nnameserver 192.0.2.3\nnameserver 192.0.2.4\n" +
				"nameserver 2001:db8::2\nnameserver 2001:db8::3\nnameserver 2001:db8::4\n",
			ns: addrs("192.0.2.1", "2001:db8::1", "192.0.2.2", "192.0.2.3", "2001:db8::2", "2001:db8::3")},
		{name: "last search line wins", in: "search a.example b.example\nsearch c.example\n", search: []string{"c.example"}},
		{name: "domain replaces search", in: "search a.example b.example\ndomain d.example\n", search: []string{"d.example"}},
		{name: "search replaces domain", in: "domain d.example\nsearch a.example b.example\n", search: []string{"a.example", "b.example"}},
		{name: "domain takes one name", in: "domain d.example e.example\n", search: []string{"d.example"}},
		{name: "at most six search names", in: "search a b c d e f g h\n", search: []string{"a", "b", "c", "d", "e", "f"}},
		{name: "overlong name skipped", in: "search " + strings.Repeat("a", 254) + " ok.example\n", search: []string{"ok.example"}},
		{name: "longest name kept", in: "search " + strings.Repeat("a", 253) + "\n", search: []string{strings.Repeat("a", 253)}},
		{name: "non-ASCII name skipped", in: "search ex\u00e4mple.com ok.example\n", search: []string{"ok.example"}},
		{name: "empty search clears", in: "search a.example\nsearch\t \n", search: nil},
		{name: "no final newline", in: "nameserver 192.0.2.1", ns: addrs("192.0.2.1")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseResolvConf([]byte(tc.in))
			if !reflect.DeepEqual(got.Nameservers, tc.ns) {
				t.Errorf("Nameservers: got %v, want %v", got.Nameservers, tc.ns)
			}
			if !reflect.DeepEqual(got.Search, tc.search) {
				t.Errorf("Search: got %q, want %q", got.Search, tc.search)
			}
		})
	}
}

// FuzzResolvConf checks that any input gives usable results: valid,
// zoneless, non-multicast, non-unspecified nameservers within the limits,
// and search names without whitespace within theirs.
func FuzzResolvConf(f *testing.F) {
	for _, s := range []string{
		"", "nameserver 192.0.2.53\nsearch example.com\n", "nameserver fe80::1%eth0\n",
		"domain example.com\n", "search a b c d e f g h\n", "nameserver ::ffff:192.0.2.1\r\n",
		"#x\n;y\nnameserver\t2001:db8::53 junk\n", "search \u00a0a\u2028b\n", "nameserver 0.0.0.0\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rc := ParseResolvConf(data)
		var n4, n6 int
		for _, a := range rc.Nameservers {
			if !a.IsValid() || a.Zone() != "" || a.Is4In6() || a.IsUnspecified() || a.IsMulticast() {
				t.Fatalf("bad nameserver %v", a)
			}
			if a.Is4() {
				n4++
			} else {
				n6++
			}
		}
		if n4 > MaxNameservers || n6 > MaxNameservers {
			t.Fatalf("got %d IPv4 and %d IPv6 nameservers, limit %d each", n4, n6, MaxNameservers)
		}
		if len(rc.Search) > MaxSearch {
			t.Fatalf("got %d search names, limit %d", len(rc.Search), MaxSearch)
		}
		for _, s := range rc.Search {
			if s == "" || len(s) > maxDomain || strings.ContainsFunc(s, unicode.IsSpace) {
				t.Fatalf("bad search name %q", s)
			}
			if !strings.Contains(string(data), s) {
				t.Fatalf("search name %q is not in the input", s)
			}
		}
		// Parsing is deterministic.
		if again := ParseResolvConf(data); !reflect.DeepEqual(again, rc) {
			t.Fatalf("second parse gave %v, first %v", again, rc)
		}
	})
}
