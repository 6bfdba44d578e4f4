// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package arp

// Ignore is why Reply wrote nothing. The caller counts them in an array
// indexed by reason: var ignored [NumIgnores]uint64; ignored[why]++.
type Ignore uint8

// Ignore reasons. IgnoreNone means a reply was written.
const (
	IgnoreNone              Ignore = iota
	IgnoreNotARP                   // EtherType is not ARP
	IgnoreMalformed                // not a complete Ethernet/IPv4 ARP packet
	IgnoreNotRequest               // operation other than request
	IgnoreAnnouncement             // sender and target address equal and non-zero
	IgnoreProbe                    // 0.0.0.0 probe for the guest's address (RFC 5227)
	IgnoreGuestAddr                // request for the guest's own address
	IgnoreUnspecifiedTarget        // request for 0.0.0.0
	IgnoreShortBuffer              // out shorter than FrameLen

	// NumIgnores is the number of Ignore values, IgnoreNone included.
	NumIgnores
)

var ignoreNames = [NumIgnores]string{
	IgnoreNone:              "none",
	IgnoreNotARP:            "not ARP",
	IgnoreMalformed:         "malformed",
	IgnoreNotRequest:        "not a request",
	IgnoreAnnouncement:      "announcement",
	IgnoreProbe:             "probe for guest address",
	IgnoreGuestAddr:         "guest address",
	IgnoreUnspecifiedTarget: "unspecified target",
	IgnoreShortBuffer:       "short buffer",
}

// String returns a short lower-case description of i, for logs and
// counter names.
func (i Ignore) String() string {
	if i < NumIgnores {
		return ignoreNames[i]
	}
	return "unknown"
}
