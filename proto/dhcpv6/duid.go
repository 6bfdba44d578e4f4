// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package dhcpv6

import (
	"encoding/binary"
	"time"

	"passt-go/proto/header"
)

// DUID-LLT for Ethernet (RFC 8415 section 11.2), 14 bytes:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         DUID-Type (1)         |    hardware type (1)          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                 time (seconds since 2000-01-01 UTC)           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                 link-layer address (6 bytes)                  |
//	+                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	// DUIDLen is the length of a DUID-LLT for an Ethernet address.
	DUIDLen = 14

	duidTypeLLT  = 1
	hwTypeEther  = 1
	duidEpochSec = 946684800 // 2000-01-01T00:00:00Z in Unix time
)

// DUID is the server's DHCP unique identifier, sent in the server
// identifier option. It is an array: it compares with == and copies
// without allocating.
type DUID [DUIDLen]byte

// NewDUID returns the DUID-LLT of the Ethernet address mac at time t, in
// whole seconds since 2000-01-01 UTC modulo 2^32 (0 for earlier times).
// The worker builds it once, at start, from our MAC; replies then carry
// the same server identifier for the life of the process.
func NewDUID(mac header.MAC, t time.Time) DUID {
	var d DUID
	binary.BigEndian.PutUint16(d[0:], duidTypeLLT)
	binary.BigEndian.PutUint16(d[2:], hwTypeEther)
	secs := max(t.Unix()-duidEpochSec, 0)
	binary.BigEndian.PutUint32(d[4:], uint32(secs))
	copy(d[8:], mac[:])
	return d
}
