// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package ndp

// Ignore is why Reply wrote nothing. The caller counts them in an array
// indexed by reason: var ignored [NumIgnores]uint64; ignored[why]++.
type Ignore uint8

// Ignore reasons. IgnoreNone means a reply was written.
const (
	IgnoreNone            Ignore = iota
	IgnoreNotICMPv6              // not an IPv6 frame carrying ICMPv6
	IgnoreNotSolicitation        // ICMPv6 type other than RS and NS
	IgnoreBadHopLimit            // IPv6 hop limit not 255 (RFC 4861 6.1.1, 7.1.1)
	IgnoreBadCode                // ICMPv6 code not 0
	IgnoreTooShort               // message shorter than its fixed part
	IgnoreBadChecksum            // ICMPv6 checksum wrong
	IgnoreBadOption              // option of length 0 or past the end, or a source link-layer option from ::
	IgnoreBadSource              // multicast IPv6 source
	IgnoreBadTarget              // NS target multicast, unspecified or loopback
	IgnoreDAD                    // NS from :: (duplicate address detection)
	IgnoreGuestAddr              // NS for the guest's own address
	IgnoreNoRA                   // RS while router advertisements are off
	IgnoreShortBuffer            // out too short for the answer

	// NumIgnores is the number of Ignore values, IgnoreNone included.
	NumIgnores
)

var ignoreNames = [NumIgnores]string{
	IgnoreNone:            "none",
	IgnoreNotICMPv6:       "not ICMPv6",
	IgnoreNotSolicitation: "not a solicitation",
	IgnoreBadHopLimit:     "bad hop limit",
	IgnoreBadCode:         "bad code",
	IgnoreTooShort:        "too short",
	IgnoreBadChecksum:     "bad checksum",
	IgnoreBadOption:       "bad option",
	IgnoreBadSource:       "bad source",
	IgnoreBadTarget:       "bad target",
	IgnoreDAD:             "duplicate address detection",
	IgnoreGuestAddr:       "guest address",
	IgnoreNoRA:            "router advertisements off",
	IgnoreShortBuffer:     "short buffer",
}

// String returns a short lower-case description of i, for logs and
// counter names.
func (i Ignore) String() string {
	if i < NumIgnores {
		return ignoreNames[i]
	}
	return "unknown"
}
