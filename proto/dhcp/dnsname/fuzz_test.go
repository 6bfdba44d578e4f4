// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package dnsname

import (
	"slices"
	"strings"
	"testing"
)

// FuzzParseList checks that ParseList never panics on any input, and that
// whatever it accepts is made of names that encode again and read back to
// the same list.
func FuzzParseList(f *testing.F) {
	for _, seed := range [][]byte{
		{},
		{0},
		{1, 'a', 1, 'b', 0, 1, 'c', 0xc0, 2},
		{1, 'a', 0xc0, 0},
		{0xc0, 0xff},
		{3, 'a', '.', 'b', 0},
		{0x40, 0},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		names, ok := ParseList(b)
		if !ok {
			return
		}
		for _, name := range names {
			if name == "" {
				continue // the root alone is readable but never written
			}
			wl := WireLen(name)
			if wl == 0 {
				t.Fatalf("parsed name %q: got WireLen 0, want it encodable", name)
			}
			buf := make([]byte, wl)
			if n := Put(buf, name); n != wl {
				t.Fatalf("Put(%q): got %v, want %v", name, n, wl)
			}
			back, next, ok := Parse(buf, 0)
			if !ok || back != name || next != wl {
				t.Fatalf("re-read %q: got %q next %v ok %v", name, back, next, ok)
			}
		}
	})
}

// FuzzPutCompressed checks that any list of names (comma-separated in the
// input) written with PutCompressed into an area of any size stays inside
// the area and reads back as exactly the names that were accepted.
func FuzzPutCompressed(f *testing.F) {
	f.Add("eng.apple.com,marketing.apple.com", 255)
	f.Add("a.b,b,a.b,c.a.b", 20)
	f.Add("x..y,.,example.com.,EXAMPLE.com", 255)
	f.Add(strings.Repeat("abcdefgh.", 40), 255)
	f.Fuzz(func(t *testing.T, list string, room int) {
		if room < 0 || room > 1024 {
			return
		}
		guard := make([]byte, room+8)
		for i := range guard {
			guard[i] = 0xa5
		}
		area := guard[:room:room]
		used := 0
		var want []string
		for _, name := range strings.Split(list, ",") {
			n := PutCompressed(area, used, name)
			if n == 0 {
				continue
			}
			if n > WireLen(name) {
				t.Fatalf("PutCompressed(%q): got %v bytes, more than uncompressed %v", name, n, WireLen(name))
			}
			used += n
			want = append(want, trim(name))
		}
		for i := room; i < len(guard); i++ {
			if guard[i] != 0xa5 {
				t.Fatalf("byte %v beyond the area was written", i)
			}
		}
		got, ok := ParseList(area[:used])
		if !ok {
			t.Fatalf("ParseList(%x): got ok false, want true", area[:used])
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}
