// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package ipc

import (
	"errors"
	"slices"
	"testing"
)

func TestPortSet(t *testing.T) {
	tests := []struct {
		name  string
		build func(*PortSet)
		want  []uint16
	}{
		{name: "empty", build: func(*PortSet) {}, want: nil},
		{name: "edges", build: func(s *PortSet) { s.Add(0); s.Add(63); s.Add(64); s.Add(65535) }, want: []uint16{0, 63, 64, 65535}},
		{name: "range to the top", build: func(s *PortSet) { s.AddRange(65533, 65535) }, want: []uint16{65533, 65534, 65535}},
		{name: "range of one", build: func(s *PortSet) { s.AddRange(80, 80) }, want: []uint16{80}},
		{name: "reversed range", build: func(s *PortSet) { s.AddRange(90, 80) }, want: nil},
		{name: "exclude from range", build: func(s *PortSet) { s.AddRange(20, 25); s.Remove(22); s.Remove(30) }, want: []uint16{20, 21, 23, 24, 25}},
		{name: "add twice", build: func(s *PortSet) { s.Add(7); s.Add(7) }, want: []uint16{7}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s PortSet
			tc.build(&s)
			if got := slices.Collect(s.All()); !slices.Equal(got, tc.want) {
				t.Errorf("All: got %v, want %v", got, tc.want)
			}
			if got := s.Len(); got != len(tc.want) {
				t.Errorf("Len: got %d, want %d", got, len(tc.want))
			}
			for p := 0; p <= 65535; p++ {
				if got, want := s.Has(uint16(p)), slices.Contains(tc.want, uint16(p)); got != want {
					t.Fatalf("Has(%d): got %v, want %v", p, got, want)
				}
			}
			b, err := s.AppendBinary(nil)
			if err != nil || len(b) != PortSetLen {
				t.Fatalf("AppendBinary: got %d bytes, %v, want %d", len(b), err, PortSetLen)
			}
			for _, p := range tc.want {
				if b[p/8]&(1<<(p%8)) == 0 {
					t.Errorf("encoding: port %d: got bit %d of byte %d clear, want set", p, p%8, p/8)
				}
			}
			var back PortSet
			if err := back.UnmarshalBinary(b); err != nil || back != s {
				t.Errorf("UnmarshalBinary: got %v, %v, want the set back", slices.Collect(back.All()), err)
			}
		})
	}
}

func TestPortSetEdges(t *testing.T) {
	var nilSet *PortSet
	if nilSet.Has(1) || nilSet.Len() != 0 || len(slices.Collect(nilSet.All())) != 0 {
		t.Errorf("nil set: got non-empty, want empty")
	}
	var s PortSet
	s.AddRange(1, 10)
	var first []uint16
	for p := range s.All() {
		first = append(first, p)
		if len(first) == 3 {
			break
		}
	}
	if !slices.Equal(first, []uint16{1, 2, 3}) {
		t.Errorf("All with break: got %v, want [1 2 3]", first)
	}
	for _, n := range []int{0, PortSetLen - 1, PortSetLen + 1} {
		if err := s.UnmarshalBinary(make([]byte, n)); !errors.Is(err, ErrMalformed) {
			t.Errorf("UnmarshalBinary of %d bytes: got %v, want %v", n, err, ErrMalformed)
		}
	}
	if s.Len() != 10 {
		t.Errorf("set after failed UnmarshalBinary: got %d ports, want 10 as before", s.Len())
	}
}
