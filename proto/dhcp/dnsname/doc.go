// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package dnsname writes and reads domain names in the wire format of RFC
// 1035 section 3.1, as the DHCP servers put them in options: the client
// FQDN (DHCPv4 option 81, DHCPv6 option 39), the DHCPv4 domain search list
// (option 119, RFC 3397) and the DHCPv6 domain list (option 24, RFC 3646).
//
// A name in wire format is a sequence of labels, each a length byte
// (1..63) and that many bytes, closed by a zero byte (the root):
//
//	"example.com" -> 07 'e' 'x' 'a' 'm' 'p' 'l' 'e' 03 'c' 'o' 'm' 00
//
// The whole encoding is at most 255 bytes. Text names are given with dots
// between labels; one trailing dot (the fully qualified form) is accepted
// and means the same name. The empty name and the root alone are not
// encoded: neither has a use in the options above.
//
// # Compression
//
// RFC 3397 lets a search list reuse, with a compression pointer (RFC 1035
// section 4.1.4), the tail of a name already written earlier in the same
// option: two bytes, the top two bits set, holding the offset of the
// earlier labels from the start of the option data. PutCompressed writes
// one name after the ones already in an area, replacing its longest suffix
// already present there by a pointer. It searches the area itself, label
// by label, so it needs no table and allocates nothing; areas are at most
// an option's 255 bytes, so the quadratic search costs little.
//
// # Reading
//
// Parse and ParseList read names back, for tests and for anything that
// inspects a reply. They never read outside the slice they are given,
// follow only pointers that go backwards (so a loop is impossible), and
// refuse labels longer than 63 bytes, names longer than 255 bytes and
// labels containing a dot, which the text form could not tell from a
// label boundary. They allocate the strings they return.
package dnsname
