// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package dhcp is the DHCPv4 server of the worker: it answers the guest's
// DHCP and BOOTP requests with the one address the guest may have, the
// host's own, and with what the guest needs to use it (netmask, router,
// name servers, search list, MTU, host name). It is a pure function over
// frames: no socket, no state, no timer.
//
// # One client, one lease, no state
//
// There is a single client on the link and a single address to give, so
// the server keeps no lease table. Every request gets the same answer:
//
//   - DISCOVER gets an OFFER, or an ACK carrying the rapid commit option
//     (RFC 4039) when the DISCOVER asked for rapid commit;
//   - REQUEST gets an ACK, whatever address it asks for;
//   - a BOOTP request (no message type option) gets an ACK-like reply;
//   - DECLINE, RELEASE, INFORM and every other type get nothing. There is
//     no NAK: the address is always the client's.
//
// The lease is infinite (0xffffffff seconds), so a client never needs to
// renew.
//
// # The reply
//
// The fixed part echoes the client's hardware type and length, xid, flags,
// ciaddr, giaddr and chaddr; yiaddr is the address given; hops, secs and
// siaddr are zero. Options follow the magic cookie:
//
//	 1 netmask            26 interface MTU (unless 0)
//	 3 router             51 lease time, infinite
//	 6 name servers       53 message type
//	12 host name          54 server identifier: our address (the gateway)
//	80 rapid commit (when used)
//	81 client FQDN (RFC 4702): flags E, and O when the client set S,
//	   since we never update DNS; both RCODEs 255; the name in wire format
//	119 domain search list (RFC 3397), compressed with package dnsname
//	121 classless static routes (RFC 3442): the router as a /32 on link,
//	   then the default route through it, only when the router is outside
//	   the guest's subnet (a /32 address, say), so that the guest can
//	   reach it at all
//
// Options absent from Config (no name servers, no search list, no host
// name, MTU 0) are left out. The message type comes first unless the
// client's parameter request list (55) names it, because some small
// clients look for it there; then the options the list names, in its
// order; then the rest in ascending code order. The options area is
// 308 bytes, so that the message stays within the 576-byte datagram every
// host accepts; an option that does not fit is skipped, and the search
// list, the one option whose size we choose, is cut (at a name boundary)
// to leave room for the others. The area ends with the end option and is
// zero-padded to BOOTP's 60 bytes.
//
// The frame goes from our MAC and the server address, UDP port 67, to
// port 68 at the address given and the client's MAC; when the request
// has the broadcast flag set, to 255.255.255.255 and the broadcast MAC
// instead. TTL is 255, DF set, checksums computed.
//
// # Reading requests
//
// Requests are untrusted. ParseMessage checks the 240-byte fixed part;
// the Options iterator skips pads, stops at the end option, and reports a
// length that runs past the message, which makes Reply ignore the whole
// request. Option overload (52) is not honoured: sname and file are never
// read as options. A message without the magic cookie is read as plain
// BOOTP, without options. Reply returns an Ignore reason rather than an
// error, for callers to count, and allocates nothing: the search list is
// compressed in place inside the reply.
package dhcp
