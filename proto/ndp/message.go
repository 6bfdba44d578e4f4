// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package ndp

// Neighbor Discovery messages (RFC 4861 section 4) are ICMPv6 messages;
// after the common type, code and checksum:
//
//	Router Solicitation (133), 8 bytes then options:
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |          Checksum             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                            Reserved                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//	Router Advertisement (134), 16 bytes then options:
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |          Checksum             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Cur Hop Limit |M|O|  Reserved |       Router Lifetime         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                         Reachable Time                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                          Retrans Timer                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//	Neighbor Solicitation (135) and Advertisement (136), 24 bytes then
//	options (the flags are the NA's; an NS has Reserved there):
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |          Checksum             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|R|S|O|                     Reserved                            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                       Target Address (16)                     +
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	msgType     = 0
	msgCode     = 1
	msgChecksum = 2

	rsLen = 8

	raCurHopLimit = 4
	raFlags       = 5
	raLifetime    = 6
	raReachable   = 8
	raRetrans     = 12
	raLen         = 16

	naFlags  = 4
	nsTarget = 8
	nsLen    = 24

	raFlagManaged = 0x80
	raFlagOther   = 0x40

	naFlagRouter    = 0x80
	naFlagSolicited = 0x40
	naFlagOverride  = 0x20
)

// Options (RFC 4861 section 4.6) are type, length in units of 8 bytes
// (never 0), then the value:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |    Length     |              ...              |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Source and target link-layer address (types 1, 2): the 6-byte MAC
// follows, 8 bytes in all. Prefix information (type 3, 32 bytes): prefix
// length, flags (L, A), valid and preferred lifetimes, 4 reserved bytes,
// the 16-byte prefix. MTU (type 5, 8 bytes): 2 reserved bytes, the MTU.
// RDNSS (RFC 8106 type 25): 2 reserved bytes, lifetime, addresses.
// DNSSL (RFC 8106 type 31): 2 reserved bytes, lifetime, domain names in
// DNS wire form, zero-padded to a multiple of 8 bytes.
const (
	optSourceLL = 1
	optTargetLL = 2
	optPrefix   = 3
	optMTU      = 5
	optRDNSS    = 25
	optDNSSL    = 31

	optUnit    = 8
	optLLLen   = 8
	optLenMax  = 255 * optUnit
	prefixLen  = 32
	mtuLen     = 8
	rdnssFixed = 8
	dnsslFixed = 8

	prefixFlagOnLink     = 0x80
	prefixFlagAutonomous = 0x40

	// infinite is the lifetime that never expires (RFC 4861 4.6.2,
	// RFC 8106 5.1).
	infinite = 0xffffffff
	// routerLifetime is the longest router lifetime RFC 8319 allows.
	routerLifetime = 0xffff
	// hopLimit is the only hop limit ND messages may carry (RFC 4861).
	hopLimit = 255
)

// scanOptions walks ND options and reports whether they are well formed
// (each complete, none of length 0, nothing left over) and whether a source
// link-layer address option is among them. It never reads outside b and
// loops at most len(b)/8 times.
func scanOptions(b []byte) (sourceLL, ok bool) {
	for len(b) > 0 {
		if len(b) < 2 || b[1] == 0 || int(b[1])*optUnit > len(b) {
			return sourceLL, false
		}
		if b[0] == optSourceLL {
			sourceLL = true
		}
		b = b[int(b[1])*optUnit:]
	}
	return sourceLL, true
}
