// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package header

import (
	"encoding/binary"
	"net/netip"
)

// The readers below return zero values instead of panicking when a field
// lies outside b. The parsers establish the lengths every accessor needs, so
// on a parsed view the check never fails; it is what makes the zero value of
// a view harmless too, and it costs no more than the bounds check the
// compiler would emit anyway.

func u8(b []byte, off int) uint8 {
	if uint(off) >= uint(len(b)) {
		return 0
	}
	return b[off]
}

func be16(b []byte, off int) uint16 {
	if uint(off)+2 > uint(len(b)) {
		return 0
	}
	return binary.BigEndian.Uint16(b[off:])
}

func be32(b []byte, off int) uint32 {
	if uint(off)+4 > uint(len(b)) {
		return 0
	}
	return binary.BigEndian.Uint32(b[off:])
}

func mac(b []byte, off int) MAC {
	if uint(off)+6 > uint(len(b)) {
		return MAC{}
	}
	return MAC(b[off : off+6])
}

func addr4(b []byte, off int) netip.Addr {
	if uint(off)+4 > uint(len(b)) {
		return netip.Addr{}
	}
	return netip.AddrFrom4([4]byte(b[off : off+4]))
}

func addr16(b []byte, off int) netip.Addr {
	if uint(off)+16 > uint(len(b)) {
		return netip.Addr{}
	}
	return netip.AddrFrom16([16]byte(b[off : off+16]))
}

// tail returns b[off:], or nil when off is beyond b.
func tail(b []byte, off int) []byte {
	if uint(off) > uint(len(b)) {
		return nil
	}
	return b[off:]
}

// span returns b[from:to], or nil when the range is not inside b.
func span(b []byte, from, to int) []byte {
	if from < 0 || from > to || to > len(b) {
		return nil
	}
	return b[from:to]
}

// putAddr4 writes the IPv4 form of a (zeros for anything else) at b[0:4].
func putAddr4(b []byte, a netip.Addr) {
	var a4 [4]byte
	if a.Is4() || a.Is4In6() {
		a4 = a.As4()
	}
	copy(b[:4], a4[:])
}

// putAddr16 writes the 16-byte form of a at b[0:16].
func putAddr16(b []byte, a netip.Addr) {
	a16 := a.As16()
	copy(b[:16], a16[:])
}
