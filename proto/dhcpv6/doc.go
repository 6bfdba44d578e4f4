// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package dhcpv6 is the stateful DHCPv6 server of the worker (RFC 8415):
// it gives the guest the one IPv6 address it may have, the host's own,
// with the name servers, domain list and FQDN. The router advertisements
// sent by the NDP code set the M flag, so guests ask here. Like package
// dhcp it is a pure function over frames, with no lease table: there is
// one client and one address.
//
// # Messages answered
//
// Clients send to the multicast group ff02::1:2 (or ff05::1:3), UDP port
// 547; anything sent elsewhere, unicast included, is not for us.
//
//   - SOLICIT, which must carry no server identifier, gets ADVERTISE;
//     there is no rapid commit.
//   - REQUEST and RENEW, whose server identifier must be ours, and
//     CONFIRM, which must carry none, get REPLY. If one of their IA_NA or
//     IA_TA options holds an address other than ours, the REPLY instead
//     carries that IA back with a Status Code NotOnLink inside it (and,
//     for CONFIRM, a NotOnLink status for the whole message as RFC 8415
//     section 18.3.3 asks), so the client starts over.
//   - REBIND gets REPLY unless it names another server.
//   - INFORMATION-REQUEST, which must carry no IA and no other server's
//     identifier, gets REPLY without an IA.
//   - Everything else (RELEASE, DECLINE, relay messages, our own types)
//     gets nothing.
//
// # The reply
//
// Options come in this order: server identifier (our DUID-LLT, built once
// by NewDUID from our MAC and the start time), the IA_NA with the client's
// IAID, T1 and T2 infinite, holding one IAADDR with our address and
// infinite preferred and valid lifetimes (only when the client sent an
// IA_NA); the client identifier echoed; DNS servers (23) and domain list
// (24, names uncompressed) when configured; the client FQDN (39), with no
// flag set but O when the client set S, since we never update DNS.
//
// A reply fits in the IPv6 minimum MTU. Name servers and domain names that
// would not fit are cut, and the FQDN is left out if it does not fit.
//
// The frame goes from our MAC and link-local address, UDP port 547, to the
// client's MAC and source address (its link-local address), port 546, with
// hop limit 255 and the UDP checksum computed.
//
// # Reading requests
//
// Requests are untrusted. The Options iterator walks type-length-value
// options and reports one that runs past its container; Reply checks the
// top level and the options nested in every IA_NA, IA_TA and their
// IAADDRs (two levels, so the work is linear in the message), and ignores
// the whole message on any truncation or on an IA shorter than its fixed
// part. A client identifier must be present and no longer than a DUID.
// Reply returns an Ignore reason rather than an error, for callers to
// count, and allocates nothing.
package dhcpv6
