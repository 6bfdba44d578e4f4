// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package engine

import (
	"slices"
	"testing"
)

// Values keep their index while in use; a released index goes to the
// next Put, the last one released first, and the table does not grow
// while an index is free.
func TestSlots(t *testing.T) {
	var s Slots[int]
	for v := 10; v < 13; v++ {
		i := s.Next()
		s.Put(i, v)
	}
	s.Release(0, -1)
	s.Release(2, -1)
	if got := s.Len(); got != 1 {
		t.Errorf("Len after two releases: got %d, want 1", got)
	}
	if got := s.Next(); got != 2 {
		t.Errorf("Next: got %d, want 2 (the last released)", got)
	}
	s.Put(s.Next(), 20)
	s.Put(s.Next(), 21)
	if want := []int{21, 11, 20}; !slices.Equal(s.At, want) {
		t.Errorf("At: got %v, want %v", s.At, want)
	}
	if got := s.Next(); got != 3 {
		t.Errorf("Next with no index free: got %d, want 3", got)
	}
	if got := s.Len(); got != 3 {
		t.Errorf("Len: got %d, want 3", got)
	}
}
