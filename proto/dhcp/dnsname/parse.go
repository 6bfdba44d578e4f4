// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package dnsname

import "bytes"

// Parse reads the name in wire format starting at msg[off] and returns it
// in text form (labels joined by dots, no trailing dot; "" for the root
// alone) with the offset just after it in msg: after its root byte, or
// after the first compression pointer met. Pointers are offsets into msg
// and must point before the start of the labels being read, so that every
// name ends. ok is false, and the other results meaningless, when the
// name runs past msg, uses a reserved label type (01 or 10 in the top
// bits), is longer than MaxWireLen, or has a label containing a dot.
// Parse never reads outside msg; it allocates the returned string.
func Parse(msg []byte, off int) (name string, next int, ok bool) {
	var text [MaxWireLen]byte
	n, wire := 0, 1
	next = -1
	start := off // labels read since the last jump start here
	for p := off; ; {
		if p < 0 || p >= len(msg) {
			return "", 0, false
		}
		l := int(msg[p])
		switch {
		case l&pointerTag == pointerTag:
			if p+1 >= len(msg) {
				return "", 0, false
			}
			q := (l&^pointerTag)<<8 | int(msg[p+1])
			if q >= start {
				return "", 0, false
			}
			if next < 0 {
				next = p + 2
			}
			p, start = q, q
		case l&pointerTag != 0:
			return "", 0, false
		case l == 0:
			if next < 0 {
				next = p + 1
			}
			return string(text[:n]), next, true
		default:
			wire += 1 + l
			if p+1+l > len(msg) || wire > MaxWireLen {
				return "", 0, false
			}
			label := msg[p+1 : p+1+l]
			if bytes.IndexByte(label, '.') >= 0 {
				return "", 0, false
			}
			if n > 0 {
				text[n] = '.'
				n++
			}
			n += copy(text[n:], label)
			p += 1 + l
		}
	}
}

// ParseList reads names written back to back filling b, as the data of a
// search list or domain list option carries them, with pointers counted
// from b[0]. It returns the names read and whether all of b was made of
// valid names (see Parse); on failure the names before the bad one are
// returned.
func ParseList(b []byte) ([]string, bool) {
	var names []string
	for off := 0; off < len(b); {
		name, next, ok := Parse(b, off)
		if !ok {
			return names, false
		}
		names = append(names, name)
		off = next
	}
	return names, true
}
