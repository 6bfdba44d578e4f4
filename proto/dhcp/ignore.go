// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package dhcp

// Ignore is why Reply wrote no reply. Callers count them in an array
// indexed by reason: var ignored [NumIgnores]uint64; ignored[why]++.
type Ignore uint8

// Ignore reasons. IgnoreNone means a reply was written.
const (
	IgnoreNone          Ignore = iota
	IgnoreNotDHCP              // not UDP over IPv4 to port 67
	IgnoreNotConfigured        // Config has no IPv4 address to give or to answer from
	IgnoreShortBuffer          // out is shorter than MaxReplyLen
	IgnoreTooShort             // UDP data shorter than the fixed part and cookie
	IgnoreNotRequest           // op is not BOOTREQUEST
	IgnoreBadOptions           // an option runs past the end of the message
	IgnoreMessageType          // DECLINE, RELEASE, INFORM or another type not answered

	// NumIgnores is the number of Ignore values, IgnoreNone included.
	NumIgnores
)

var ignoreNames = [NumIgnores]string{
	IgnoreNone:          "none",
	IgnoreNotDHCP:       "not DHCP",
	IgnoreNotConfigured: "not configured",
	IgnoreShortBuffer:   "short buffer",
	IgnoreTooShort:      "too short",
	IgnoreNotRequest:    "not a request",
	IgnoreBadOptions:    "bad options",
	IgnoreMessageType:   "message type not answered",
}

// String returns a short lower-case description of i, for logs and
// counter names.
func (i Ignore) String() string {
	if i < NumIgnores {
		return ignoreNames[i]
	}
	return "unknown"
}
