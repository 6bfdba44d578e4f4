// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package dhcpv6

// Ignore is why Reply wrote no reply. Callers count them in an array
// indexed by reason: var ignored [NumIgnores]uint64; ignored[why]++.
type Ignore uint8

// Ignore reasons. IgnoreNone means a reply was written.
const (
	IgnoreNone          Ignore = iota
	IgnoreNotDHCPv6            // not UDP over IPv6 to port 547
	IgnoreNotMulticast         // destination is not a DHCPv6 server multicast group
	IgnoreNotConfigured        // Config has no IPv6 address to give or to answer from
	IgnoreShortBuffer          // out is shorter than MaxReplyLen
	IgnoreBadSource            // unspecified or multicast source: no one to answer
	IgnoreTooShort             // UDP data shorter than the message header
	IgnoreBadOptions           // an option, or one nested in an IA, runs past its container
	IgnoreClientID             // client identifier missing, empty or longer than a DUID
	IgnoreServerID             // server identifier absent where required, present where not allowed, or not ours
	IgnoreBadIA                // IA_NA, IA_TA or IAADDR shorter than its fixed part
	IgnoreUnexpectedIA         // INFORMATION-REQUEST carrying an IA
	IgnoreMessageType          // RELEASE, DECLINE, relay messages or another type not answered

	// NumIgnores is the number of Ignore values, IgnoreNone included.
	NumIgnores
)

var ignoreNames = [NumIgnores]string{
	IgnoreNone:          "none",
	IgnoreNotDHCPv6:     "not DHCPv6",
	IgnoreNotMulticast:  "not to the servers' multicast group",
	IgnoreNotConfigured: "not configured",
	IgnoreShortBuffer:   "short buffer",
	IgnoreBadSource:     "bad source",
	IgnoreTooShort:      "too short",
	IgnoreBadOptions:    "bad options",
	IgnoreClientID:      "bad client ID",
	IgnoreServerID:      "server ID mismatch",
	IgnoreBadIA:         "bad IA",
	IgnoreUnexpectedIA:  "unexpected IA",
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
