// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package dnsname

import "strings"

const (
	// MaxLabelLen is the longest label (RFC 1035 section 2.3.4).
	MaxLabelLen = 63
	// MaxWireLen is the longest name in wire format, root byte included
	// (RFC 1035 section 2.3.4).
	MaxWireLen = 255

	// pointerTag marks a compression pointer in the two top bits of what
	// would otherwise be a label length byte.
	pointerTag = 0xc0
	// maxPointer is the largest offset a pointer's 14 bits can hold.
	maxPointer = 0x3fff
)

// trim returns name without one trailing dot.
func trim(name string) string {
	if strings.HasSuffix(name, ".") {
		return name[:len(name)-1]
	}
	return name
}

// WireLen returns the number of bytes Put writes for name: its length in
// uncompressed wire format. It returns 0 when name cannot be encoded: empty
// or the root alone, an empty label (two dots in a row, a leading dot, more
// than one trailing dot), a label longer than MaxLabelLen, or an encoding
// longer than MaxWireLen. It does not allocate.
func WireLen(name string) int {
	name = trim(name)
	if name == "" {
		return 0
	}
	n := 1 // the root byte
	for rest := name; ; {
		label, tail, more := strings.Cut(rest, ".")
		if len(label) == 0 || len(label) > MaxLabelLen {
			return 0
		}
		n += 1 + len(label)
		if !more {
			break
		}
		rest = tail
	}
	if n > MaxWireLen {
		return 0
	}
	return n
}

// Put writes name in uncompressed wire format at the start of b and returns
// the number of bytes written, WireLen(name). It returns 0, writing nothing,
// when name cannot be encoded or b is too short.
func Put(b []byte, name string) int {
	n := WireLen(name)
	if n == 0 || len(b) < n {
		return 0
	}
	putLabels(b, trim(name))
	b[n-1] = 0
	return n
}

// putLabels writes the labels of name, which WireLen accepted, without
// the closing root byte, and returns the number of bytes written. b must
// have room for them.
func putLabels(b []byte, name string) int {
	i := 0
	for rest := name; ; {
		label, tail, more := strings.Cut(rest, ".")
		b[i] = byte(len(label))
		copy(b[i+1:], label)
		i += 1 + len(label)
		if !more {
			return i
		}
		rest = tail
	}
}

// PutCompressed writes name in wire format into area at offset used,
// after the names area[:used] already holds, and returns the number of
// bytes written. area[:used] must hold only names written by Put or
// PutCompressed, back to back from area[0], as in a search list option
// whose data starts at area[0]; len(area) is the room the option may take.
//
// The longest suffix of name (the whole name included) that is already
// spelt out in area[:used] is replaced by a compression pointer to it
// (RFC 1035 section 4.1.4, RFC 3397 section 2), so a name repeated whole
// costs two bytes. Labels are compared byte for byte. PutCompressed
// returns 0, writing nothing, when name cannot be encoded (see WireLen),
// when used is outside area, or when the encoding does not fit in
// area[used:]. It does not allocate.
func PutCompressed(area []byte, used int, name string) int {
	if used < 0 || used > len(area) {
		return 0
	}
	full := WireLen(name)
	if full == 0 {
		return 0
	}
	name = trim(name)
	prev := area[:used]
	prefix := 0 // wire bytes of the labels before suffix
	for suffix := name; ; {
		if p := find(prev, suffix); p >= 0 && p <= maxPointer {
			n := prefix + 2
			if len(area)-used < n {
				return 0
			}
			if k := len(name) - len(suffix); k > 0 {
				putLabels(area[used:], name[:k-1])
			}
			area[used+prefix] = pointerTag | byte(p>>8)
			area[used+prefix+1] = byte(p)
			return n
		}
		label, tail, more := strings.Cut(suffix, ".")
		if !more {
			break
		}
		prefix += 1 + len(label)
		suffix = tail
	}
	if len(area)-used < full {
		return 0
	}
	return Put(area[used:], name)
}

// find returns the offset in prev of a label at which the name suffix is
// spelt out, following pointers, or -1. prev holds names written back to
// back; every label start in it is a candidate.
func find(prev []byte, suffix string) int {
	for p := 0; p < len(prev); {
		l := prev[p]
		switch {
		case l == 0:
			p++
		case l&pointerTag == pointerTag:
			p += 2
		case l&pointerTag != 0:
			return -1 // reserved label type: not written by this package
		default:
			if matchAt(prev, p, suffix) {
				return p
			}
			p += 1 + int(l)
		}
	}
	return -1
}

// matchAt reports whether the name starting at offset p of b, following
// backward pointers, is name (text form, at least one label). The walk is
// bounded by the labels of name: every step either consumes one of them or
// follows a pointer, and pointers are counted.
func matchAt(b []byte, p int, name string) bool {
	rest, done := name, false
	for hops := 0; hops <= len(b); {
		if p < 0 || p >= len(b) {
			return false
		}
		l := int(b[p])
		switch {
		case l&pointerTag == pointerTag:
			if p+1 >= len(b) {
				return false
			}
			q := (l&^pointerTag)<<8 | int(b[p+1])
			if q >= p {
				return false
			}
			p = q
			hops++
		case l&pointerTag != 0:
			return false
		case l == 0:
			return done
		default:
			if done || p+1+l > len(b) {
				return false
			}
			label, tail, more := strings.Cut(rest, ".")
			if string(b[p+1:p+1+l]) != label {
				return false
			}
			rest, done = tail, !more
			p += 1 + l
		}
	}
	return false
}
