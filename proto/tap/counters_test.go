// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tap

import "testing"

func TestDropString(t *testing.T) {
	seen := map[string]Drop{}
	for d := Drop(0); d < NumDrops; d++ {
		name := d.String()
		if name == "" || name == "unknown" {
			t.Errorf("Drop(%d).String(): got %q, want a name", d, name)
		}
		if prev, dup := seen[name]; dup {
			t.Errorf("Drop(%d).String(): got %q, already the name of Drop(%d)", d, name, prev)
		}
		seen[name] = d
	}
	if got := NumDrops.String(); got != "unknown" {
		t.Errorf("NumDrops.String(): got %q, want %q", got, "unknown")
	}
}

func TestCountersAdd(t *testing.T) {
	a := Counters{Frames: 1, Bytes: 100, Completed: 2}
	a.Drops[DropAgain] = 3
	b := Counters{Frames: 10, Bytes: 1000, Completed: 20}
	b.Drops[DropAgain] = 30
	b.Drops[DropIO] = 4
	a.Add(&b)
	tests := []struct {
		name      string
		got, want uint64
	}{
		{name: "Frames", got: a.Frames, want: 11},
		{name: "Bytes", got: a.Bytes, want: 1100},
		{name: "Completed", got: a.Completed, want: 22},
		{name: "DropAgain", got: a.Drops[DropAgain], want: 33},
		{name: "DropIO", got: a.Drops[DropIO], want: 4},
		{name: "Dropped", got: a.Dropped(), want: 37},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %d, want %d", tc.got, tc.want)
			}
		})
	}
}
