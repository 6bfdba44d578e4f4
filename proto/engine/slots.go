// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package engine

// Slots is a table of values, such as the listening sockets of one Kind,
// addressed by the Index of their Refs. A value keeps its index from Put
// until Release, and a released index is used again by a later Put, so
// the table grows only to the most values held at once. The zero Slots is
// empty and ready for use.
type Slots[T any] struct {
	// At holds the values by index. A released slot holds the value
	// given to Release, by which the user tells it is free.
	At   []T
	free []uint32 // released indices, the last one released on top
}

// Next returns the index the next Put stores at: the index released last,
// else one past the end of At. Registering a descriptor under that index
// before calling Put lets a failed registration leave the table as it was.
func (s *Slots[T]) Next() uint32 {
	if k := len(s.free); k > 0 {
		return s.free[k-1]
	}
	return uint32(len(s.At))
}

// Put stores v at index i, which must be what Next returned, and counts
// i as used. At grows by one when i is its length, which may allocate.
func (s *Slots[T]) Put(i uint32, v T) {
	if i == uint32(len(s.At)) {
		s.At = append(s.At, v)
		return
	}
	s.free = s.free[:len(s.free)-1]
	s.At[i] = v
}

// Release stores empty, a value the user recognises as an unused slot,
// at index i, which must be in use, and leaves i to the next Put.
func (s *Slots[T]) Release(i uint32, empty T) {
	s.At[i] = empty
	s.free = append(s.free, i)
}

// Len returns the number of indices in use.
func (s *Slots[T]) Len() int { return len(s.At) - len(s.free) }
