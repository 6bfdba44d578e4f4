// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// PortSet: a set of the 65536 port numbers as a bitmap.

package ipc

import (
	"encoding/binary"
	"iter"
	"math/bits"
)

// PortSetLen is the size of an encoded PortSet: one bit per port, port p
// in bit p%8 of byte p/8.
const PortSetLen = 65536 / 8

// PortSet is a set of port numbers. The zero value is empty and ready to
// use. A nil *PortSet reads as empty.
type PortSet struct {
	w [65536 / 64]uint64
}

// Add puts port p in the set.
func (s *PortSet) Add(p uint16) { s.w[p/64] |= 1 << (p % 64) }

// AddRange puts every port from first to last, both included, in the set;
// nothing when first > last.
func (s *PortSet) AddRange(first, last uint16) {
	for p := int(first); p <= int(last); p++ {
		s.Add(uint16(p))
	}
}

// Remove takes port p out of the set.
func (s *PortSet) Remove(p uint16) { s.w[p/64] &^= 1 << (p % 64) }

// Has reports whether port p is in the set.
func (s *PortSet) Has(p uint16) bool {
	return s != nil && s.w[p/64]&(1<<(p%64)) != 0
}

// Len returns the number of ports in the set.
func (s *PortSet) Len() int {
	if s == nil {
		return 0
	}
	n := 0
	for _, w := range s.w {
		n += bits.OnesCount64(w)
	}
	return n
}

// All yields the ports of the set in increasing order.
func (s *PortSet) All() iter.Seq[uint16] {
	return func(yield func(uint16) bool) {
		if s == nil {
			return
		}
		for i, w := range s.w {
			for w != 0 {
				b := bits.TrailingZeros64(w)
				if !yield(uint16(i*64 + b)) {
					return
				}
				w &= w - 1
			}
		}
	}
}

// AppendBinary appends the PortSetLen-byte bitmap of the set to b.
func (s *PortSet) AppendBinary(b []byte) ([]byte, error) {
	for _, w := range s.w {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return b, nil
}

// UnmarshalBinary replaces the set with the bitmap p, which must be
// exactly PortSetLen bytes.
func (s *PortSet) UnmarshalBinary(p []byte) error {
	if len(p) != PortSetLen {
		return malformed(KindBrokerReply, "port set of %d bytes, want %d", len(p), PortSetLen)
	}
	for i := range s.w {
		s.w[i] = binary.LittleEndian.Uint64(p[i*8:])
	}
	return nil
}
