// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package ndp

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// wireName encodes name in DNS wire form the slow and obvious way, for
// comparison: ok is false for a name that cannot be encoded.
func wireName(name string) (w []byte, ok bool) {
	name = strings.TrimSuffix(name, ".")
	if name == "" {
		return nil, false
	}
	for _, l := range strings.Split(name, ".") {
		if len(l) == 0 || len(l) > 63 {
			return nil, false
		}
		w = append(w, byte(len(l)))
		w = append(w, l...)
	}
	w = append(w, 0)
	return w, len(w) <= 255
}

// readNames decodes the names of a DNSSL option body (after the lifetime):
// labels until a zero byte, names until the zero padding.
func readNames(t testing.TB, b []byte) []string {
	t.Helper()
	var names []string
	for len(b) > 0 && b[0] != 0 {
		var labels []string
		for {
			if len(b) == 0 {
				t.Fatalf("name runs past the option")
			}
			n := int(b[0])
			if n == 0 {
				b = b[1:]
				break
			}
			if n > 63 || 1+n > len(b) {
				t.Fatalf("bad label length %d with %d bytes left", n, len(b))
			}
			labels = append(labels, string(b[1:1+n]))
			b = b[1+n:]
		}
		names = append(names, strings.Join(labels, "."))
	}
	if !bytes.Equal(b, make([]byte, len(b))) {
		t.Fatalf("padding not zero: %x", b)
	}
	return names
}

// raSearch builds an RA with only a search list and returns the names its
// DNSSL option carries (nil without the option) and the option's length
// field.
func raSearch(t testing.TB, search []string) ([]string, int) {
	t.Helper()
	cfg := &Config{OurMAC: ourMAC, OurLL: ourLL, Search: search}
	out := make([]byte, MaxFrameLen)
	n := RA(cfg, out)
	if n == 0 {
		t.Fatalf("no RA written")
	}
	r := checkFrame(t, out[:n], multicastMAC(allNodes6), allNodes6)
	for _, o := range parseOptions(t, r.msg[16:]) {
		if o.typ == optDNSSL {
			return readNames(t, o.body[6:]), (len(o.body) + 2) / 8
		}
	}
	return nil, 0
}

func TestSearchListRoundTrip(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	name255 := label63 + "." + label63 + "." + label63 + "." + strings.Repeat("b", 61)
	tests := []struct {
		name    string
		search  []string
		want    []string
		wantLen int // option length field, in units of 8 bytes
	}{
		{name: "one name", search: []string{"example.com"}, want: []string{"example.com"}, wantLen: 3},
		{name: "fully qualified", search: []string{"example.com."}, want: []string{"example.com"}, wantLen: 3},
		{name: "single label", search: []string{"lan"}, want: []string{"lan"}, wantLen: 2},
		{name: "exact multiple of 8", search: []string{"abcdef"}, want: []string{"abcdef"}, wantLen: 2},
		{name: "one byte over a multiple of 8", search: []string{"abcdefg"}, want: []string{"abcdefg"}, wantLen: 3},
		{name: "order kept", search: []string{"b.example", "a.example", "c"}, want: []string{"b.example", "a.example", "c"}, wantLen: 5},
		{name: "63-byte label", search: []string{label63 + ".com"}, want: []string{label63 + ".com"}, wantLen: 10},
		{name: "255 bytes in wire form", search: []string{name255}, want: []string{name255}, wantLen: 33},
		{
			name:   "invalid names skipped",
			search: []string{"", ".", "a..b", ".lead", "trail..", label63 + "x.com", name255 + "c", "ok.example"},
			want:   []string{"ok.example"}, wantLen: 3,
		},
		{name: "nothing valid", search: []string{"", "..", "x..y"}},
		{name: "bytes taken as they are", search: []string{"under_score.xn--bcher-kva.example"}, want: []string{"under_score.xn--bcher-kva.example"}, wantLen: 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, l := raSearch(t, tc.search)
			if !slices.Equal(got, tc.want) {
				t.Errorf("names: got %q, want %q", got, tc.want)
			}
			if l != tc.wantLen {
				t.Errorf("option length: got %d, want %d", l, tc.wantLen)
			}
		})
	}
}

func TestPutName(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{name: "two labels", in: "example.com"},
		{name: "root dot", in: "a.b.c."},
		{name: "single byte", in: "x"},
		{name: "long label", in: strings.Repeat("z", 63) + ".org"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, ok := wireName(tc.in)
			if !ok {
				t.Fatalf("test name %q not valid", tc.in)
			}
			if got := nameLen(tc.in); got != len(want) {
				t.Fatalf("nameLen: got %d, want %d", got, len(want))
			}
			b := make([]byte, len(want)+4)
			if n := putName(b, tc.in); n != len(want) || !bytes.Equal(b[:n], want) {
				t.Errorf("putName: got %x, want %x", b[:n], want)
			}
			if !bytes.Equal(b[len(want):], make([]byte, 4)) {
				t.Errorf("putName wrote past the name: %x", b[len(want):])
			}
		})
	}
}

// FuzzSearchList encodes arbitrary search lists (names separated by
// commas) and checks that the DNSSL option decodes to the valid names, in
// order, as many as fit, with nothing invented.
func FuzzSearchList(f *testing.F) {
	f.Add("example.com,corp.example.org.")
	f.Add(",.,a..b,ok")
	f.Add(strings.Repeat("a", 63) + "." + strings.Repeat("b", 64))
	f.Add(strings.Repeat("abcdefgh.", 28) + "," + strings.Repeat("x.", 120))
	f.Fuzz(func(t *testing.T, list string) {
		search := strings.Split(list, ",")
		// Room for names: 1280 - 40 (IPv6) - 16 (RA) - 8 (source
		// link-layer option) - 8 (DNSSL header).
		room := 1280 - 40 - 16 - 8 - 8
		var want []string
		size := 0
		for _, s := range search {
			w, ok := wireName(s)
			if !ok {
				continue
			}
			if (size+len(w)+7)/8*8 > room {
				break
			}
			size += len(w)
			want = append(want, strings.TrimSuffix(s, "."))
		}
		got, _ := raSearch(t, search)
		if !slices.Equal(got, want) {
			t.Errorf("names: got %q, want %q", got, want)
		}
	})
}
