// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package header

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
)

// naiveSum is the reference one's complement sum: big-endian 16-bit words
// added into a wide accumulator, an odd byte padded with zero, folded at
// the end. It is slow and obviously right.
func naiveSum(b []byte) uint32 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return s
}

// naiveChecksum returns the checksum field value for data b.
func naiveChecksum(parts ...[]byte) uint16 {
	var all []byte
	for _, p := range parts {
		all = append(all, p...)
	}
	return ^uint16(naiveSum(all))
}

// sameSum reports whether two folded sums are equal in one's complement
// arithmetic, where 0x0000 and 0xffff both stand for zero.
func sameSum(a, b uint16) bool {
	return a == b || (a == 0 && b == 0xffff) || (a == 0xffff && b == 0)
}

func naivePseudo4(proto IPProtocol, src, dst netip.Addr, length int) []byte {
	s, d := src.As4(), dst.As4()
	b := append(s[:], d[:]...)
	return append(b, 0, byte(proto), byte(length>>8), byte(length))
}

func naivePseudo6(proto IPProtocol, src, dst netip.Addr, length int) []byte {
	s, d := src.As16(), dst.As16()
	b := append(s[:], d[:]...)
	return append(b, byte(length>>24), byte(length>>16), byte(length>>8), byte(length), 0, 0, 0, byte(proto))
}

// unhex decodes hex with spaces and newlines allowed.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

var (
	guestMAC = MAC{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	ourMAC   = MAC{0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55}
)

func hexBytes(s string) ([]byte, error) {
	return hex.DecodeString(strings.Join(strings.Fields(s), ""))
}
