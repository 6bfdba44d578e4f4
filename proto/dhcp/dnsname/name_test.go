// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package dnsname

import (
	"bytes"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
)

func TestWireLen(t *testing.T) {
	long63 := strings.Repeat("a", 63)
	tests := []struct {
		name string
		in   string
		want int
	}{
		{name: "two labels", in: "example.com", want: 13},
		{name: "trailing dot", in: "example.com.", want: 13},
		{name: "one label", in: "localhost", want: 11},
		{name: "empty", in: "", want: 0},
		{name: "root", in: ".", want: 0},
		{name: "two trailing dots", in: "example.com..", want: 0},
		{name: "leading dot", in: ".example.com", want: 0},
		{name: "empty label", in: "a..b", want: 0},
		{name: "63-byte label", in: long63 + ".x", want: 1 + 64 + 2},
		{name: "64-byte label", in: long63 + "a.x", want: 0},
		// 4 labels of 63 bytes: 4*64+1 = 257 > 255.
		{name: "too long", in: strings.Join([]string{long63, long63, long63, long63}, "."), want: 0},
		// 3*64 + 62 ("61 a's" label) + 1 = 255 exactly.
		{name: "255 bytes", in: strings.Join([]string{long63, long63, long63, strings.Repeat("b", 61)}, "."), want: 255},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := WireLen(tc.in); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPut(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		bufLen int
		want   string // hex; empty: nothing written
	}{
		{name: "example.com", in: "example.com", bufLen: 64, want: "076578616d706c6503636f6d00"},
		{name: "fully qualified", in: "a.b.", bufLen: 64, want: "0161016200"},
		{name: "exact room", in: "a.b", bufLen: 5, want: "0161016200"},
		{name: "no room", in: "a.b", bufLen: 4, want: ""},
		{name: "invalid", in: "a..b", bufLen: 64, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Repeat([]byte{0xee}, tc.bufLen)
			n := Put(b, tc.in)
			if got := hex.EncodeToString(b[:n]); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if n == 0 && !bytes.Equal(b, bytes.Repeat([]byte{0xee}, tc.bufLen)) {
				t.Errorf("got buffer %x changed, want untouched", b)
			}
		})
	}
}

// putList writes names with PutCompressed into an area of size room and
// returns the bytes used and the names that were written.
func putList(names []string, room int) ([]byte, []string) {
	area := make([]byte, room)
	used := 0
	var written []string
	for _, name := range names {
		n := PutCompressed(area, used, name)
		if n == 0 {
			continue
		}
		used += n
		written = append(written, trim(name))
	}
	return area[:used], written
}

func TestPutCompressed(t *testing.T) {
	tests := []struct {
		name  string
		names []string
		want  string // hex of the whole area
	}{
		{
			// RFC 3397 section 2's example: eng.apple.com and marketing.apple.com.
			name:  "RFC 3397 example",
			names: []string{"eng.apple.com", "marketing.apple.com"},
			want: "03656e67056170706c6503636f6d00" +
				"096d61726b6574696e67" + "c004",
		},
		{
			name:  "whole name repeated",
			names: []string{"example.com", "example.com"},
			want:  "076578616d706c6503636f6d00" + "c000",
		},
		{
			name:  "shared top-level label only",
			names: []string{"a.com", "b.org", "c.com"},
			want:  "016103636f6d00" + "0162036f726700" + "0163c002",
		},
		{
			name:  "pointer to a name that itself ends in a pointer",
			names: []string{"x.example.com", "y.x.example.com"},
			want:  "0178076578616d706c6503636f6d00" + "0179c000",
		},
		{
			name:  "suffix reached through a pointer",
			names: []string{"example.com", "x.example.com", "y.x.example.com"},
			want:  "076578616d706c6503636f6d00" + "0178c000" + "0179c00d",
		},
		{
			name:  "labels compared byte for byte",
			names: []string{"Example.com", "example.com"},
			want:  "074578616d706c6503636f6d00" + "076578616d706c65c008",
		},
		{
			name:  "invalid name skipped",
			names: []string{"a..b", "c.d"},
			want:  "0163016400",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			area, _ := putList(tc.names, 255)
			if got := hex.EncodeToString(area); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPutCompressedRoom(t *testing.T) {
	area := make([]byte, 16)
	n := PutCompressed(area, 0, "example.com") // 13 bytes
	if n != 13 {
		t.Fatalf("got %v, want %v", n, 13)
	}
	if got := PutCompressed(area, n, "other.org"); got != 0 {
		t.Errorf("name that does not fit: got %v, want %v", got, 0)
	}
	if got := PutCompressed(area, n, "example.com"); got != 2 {
		t.Errorf("pointer that fits: got %v, want %v", got, 2)
	}
	if got := PutCompressed(area, 17, "a"); got != 0 {
		t.Errorf("used beyond area: got %v, want %v", got, 0)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		msg      string // hex
		off      int
		wantName string
		wantNext int
		wantOK   bool
	}{
		{name: "plain", msg: "0161016200", wantName: "a.b", wantNext: 5, wantOK: true},
		{name: "root", msg: "00", wantName: "", wantNext: 1, wantOK: true},
		{name: "pointer back", msg: "0161016200" + "0163c002", off: 5, wantName: "c.b", wantNext: 9, wantOK: true},
		{name: "pointer to itself", msg: "0161c000", wantOK: false},
		{name: "pointer forward", msg: "c0020161" + "00", wantOK: false},
		{name: "pointer loop", msg: "0161c004" + "0162c000", off: 4, wantOK: false},
		{name: "truncated label", msg: "0561", wantOK: false},
		{name: "missing root", msg: "016101", wantOK: false},
		{name: "truncated pointer", msg: "0161c0", wantOK: false},
		{name: "reserved label type", msg: "4161", wantOK: false},
		{name: "dot in label", msg: "03612e6200", wantOK: false},
		{name: "offset outside", msg: "00", off: 1, wantOK: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := hex.DecodeString(tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			name, next, ok := Parse(msg, tc.off)
			if ok != tc.wantOK {
				t.Fatalf("got ok %v, want %v", ok, tc.wantOK)
			}
			if !ok {
				return
			}
			if name != tc.wantName || next != tc.wantNext {
				t.Errorf("got %q next %v, want %q next %v", name, next, tc.wantName, tc.wantNext)
			}
		})
	}
}

func TestParseTooLong(t *testing.T) {
	// Labels spread over pointers still count toward the 255-byte limit.
	label := append([]byte{63}, bytes.Repeat([]byte{'a'}, 63)...)
	var msg []byte
	msg = append(msg, label...)
	msg = append(msg, label...)
	msg = append(msg, 0) // name 1: 129 bytes, at 0
	second := len(msg)
	msg = append(msg, label...)
	msg = append(msg, label...)
	msg = append(msg, 0xc0, 0) // 128 + 129 = 257 bytes
	if _, _, ok := Parse(msg, second); ok {
		t.Errorf("got ok true, want false for a 257-byte name")
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		names []string
	}{
		{name: "typical", names: []string{"corp.example.com", "example.com", "lab.corp.example.com", "example.org"}},
		{name: "fully qualified input", names: []string{"a.example.", "b.example."}},
		{name: "duplicates", names: []string{"x.y", "x.y", "y"}},
		{name: "single label names", names: []string{"lan", "home", "lan"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			area, written := putList(tc.names, 255)
			got, ok := ParseList(area)
			if !ok {
				t.Fatalf("got ok false parsing %x, want true", area)
			}
			if !slices.Equal(got, written) {
				t.Errorf("got %q, want %q", got, written)
			}
			if len(written) != len(tc.names) {
				t.Errorf("got %v names written, want %v", len(written), len(tc.names))
			}
		})
	}
}

func TestPutCompressedAllocs(t *testing.T) {
	area := make([]byte, 255)
	names := []string{"corp.example.com", "example.com", "lab.corp.example.com"}
	allocs := testing.AllocsPerRun(100, func() {
		used := 0
		for _, n := range names {
			used += PutCompressed(area, used, n)
		}
	})
	if allocs != 0 {
		t.Errorf("got %v allocations, want 0", allocs)
	}
}
