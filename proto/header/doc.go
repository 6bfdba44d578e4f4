// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package header reads and writes the headers of the frames a guest
// exchanges with the translator: Ethernet, ARP, IPv4, IPv6 with its
// extension headers, TCP with its options, UDP, ICMP and ICMPv6, and the
// Internet checksum. It imports only the standard library and gVisor's
// checksum package.
//
// # Reading
//
// Every guest frame is untrusted. A ParseXxx function checks, once, every
// length the header's accessors will rely on and returns a view: a small
// struct holding a sub-slice of the caller's buffer (no copy). Accessors
// then read fixed offsets, named by constants beside an RFC diagram of
// the header. They never panic nor read out of bounds, even on a zero
// view, because each read is guarded; on a parsed view the guard never
// fires. Views that carry a length field (IPv4 total length, IPv6 payload
// length, UDP length) are trimmed to it, which drops the zero padding
// some guests add to reach the 60-byte Ethernet minimum.
//
// Decode strings the parsers together for the data path: one call per
// frame fills a Frame (MAC addresses, EtherType, offsets of the network
// header, upper-layer header, data and end, protocol, addresses as
// netip.Addr, ports or echo identifier, TCP flags, ICMP type) or returns
// a Drop naming the first check that failed. Drop reasons are small
// integers so that a caller counts them in a [NumDrops]uint64 array
// instead of formatting errors. Decode refuses, like passt: IPv4
// fragments and IPv6 Fragment headers, IPv6 jumbograms, loopback source
// or destination addresses, protocols other than TCP, UDP and ICMP of the
// packet's family, and inconsistent lengths. It checks the IPv4 header
// checksum, not transport checksums.
//
// The IPv6 extension header walk (Hop-by-Hop, Routing, Destination
// Options, Fragment) stops at the first other next header and is bounded
// by MaxIPv6ExtHeaders and by the payload length, so its cost is bounded
// whatever the guest sends.
//
// # Writing
//
// PutXxx functions write one header at the start of a caller-provided
// buffer and return the number of bytes written, or 0 (having written
// nothing) when the buffer is too short or a length does not fit its
// field; they never panic. Headers are written around data that is
// already in place: a frame toward the guest is built by reading the data
// into its final position, then writing the TCP or UDP header before it,
// filling the transport checksum with SetTransportChecksum4/6 and writing
// the IP and Ethernet headers. PutIPv4 computes the IPv4 header checksum;
// the ICMP writers compute theirs.
//
// # Checksums
//
// Checksum returns the folded one's complement sum (RFC 1071), not its
// complement; a checksum field holds ^sum, and a message with a correct
// checksum sums to 0xffff. The bulk summing is gVisor's, which moves
// tens of gigabytes per second. Pseudo-header sums for IPv4 and IPv6
// seed the transport checksum. Update16, Update32 and UpdateAddr adjust a
// checksum field for a rewritten port, sequence number or address
// (RFC 1624, equation 3) without touching the rest of the packet.
//
// Nothing in this package allocates on the data path: views, Frame and
// the field structs are values, and addresses are netip.Addr built with
// AddrFrom4 and AddrFrom16.
package header
