// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package ndp

// maxNameLen is the longest domain name in wire form (RFC 1035 3.1).
const maxNameLen = 255

// maxLabelLen is the longest label (RFC 1035 2.3.4).
const maxLabelLen = 63

// trimRoot removes one trailing dot, the root of a fully qualified name.
func trimRoot(name string) string {
	if len(name) > 0 && name[len(name)-1] == '.' {
		return name[:len(name)-1]
	}
	return name
}

// nameLen returns the length of name, a dotted domain name with or
// without its final dot, in DNS wire form (RFC 1035 3.1: each label
// preceded by its length, the zero-length root label last), or 0 when name
// cannot be encoded: empty or the root alone, an empty label, a label
// longer than 63 bytes, or more than 255 bytes in wire form. Label bytes
// are taken as they are; no escapes are interpreted.
func nameLen(name string) int {
	name = trimRoot(name)
	if name == "" {
		return 0
	}
	label := 0
	for i := 0; i < len(name); i++ {
		if name[i] != '.' {
			label++
			continue
		}
		if label == 0 || label > maxLabelLen {
			return 0
		}
		label = 0
	}
	if label == 0 || label > maxLabelLen {
		return 0
	}
	// Every dot becomes a length byte; add the first length byte and the
	// root label.
	if n := len(name) + 2; n <= maxNameLen {
		return n
	}
	return 0
}

// putName writes name in DNS wire form at the start of b and returns
// nameLen(name). name must be valid (nameLen not 0) and b at least that
// long.
func putName(b []byte, name string) int {
	name = trimRoot(name)
	at := 0 // where the current label's length byte goes
	i := 1
	for j := 0; j < len(name); j++ {
		if name[j] == '.' {
			b[at] = byte(i - at - 1)
			at = i
		} else {
			b[i] = name[j]
		}
		i++
	}
	b[at] = byte(i - at - 1)
	b[i] = 0
	return i + 1
}

// searchFit chooses the search domains a DNSSL option of at most room
// bytes carries: the valid names of search[:end], whose wire forms take
// size bytes before padding. Invalid names are skipped; the first valid
// name that does not fit ends the list, so that the order of preference is
// kept. size is 0 when no name fits.
func searchFit(search []string, room int) (end, size int) {
	room = min(room, optLenMax) - dnsslFixed
	for end = 0; end < len(search); end++ {
		l := nameLen(search[end])
		if l == 0 {
			continue
		}
		if pad8(size+l) > room {
			break
		}
		size += l
	}
	return end, size
}

// pad8 rounds n up to a multiple of 8.
func pad8(n int) int { return (n + optUnit - 1) &^ (optUnit - 1) }
