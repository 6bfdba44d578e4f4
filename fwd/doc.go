// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package fwd parses and represents port forwarding specifications, the
// arguments of -t and -u (host to guest) and of -T and -U (namespace to host,
// pasta only), and answers the questions the data path asks of them: which
// sockets to open, and where a connection accepted on one of them goes.
//
// # Grammar
//
//	SPEC   := "none" | [ LISTEN "/" ] PORTS
//	LISTEN := ADDR [ "%" IFNAME ] | "%" IFNAME | "*" [ "%" IFNAME ]
//	PORTS  := CHUNK { "," CHUNK }
//	CHUNK  := "all" [ ":" TOADDR ]
//	        | "auto"
//	        | "~" FIRST [ "-" LAST ]
//	        | FIRST [ "-" LAST ] [ ":" TARGET ]
//	TARGET := TOADDR "/" TOFIRST [ "-" TOLAST ] | TOADDR | TOFIRST [ "-" TOLAST ]
//
// ADDR and TOADDR are IPv4 or IPv6 addresses, optionally in square brackets;
// an IPv4-mapped IPv6 address stands for the IPv4 address. Ports are decimal,
// 1 to 65535; a range never runs backwards. Nothing else may appear: no
// spaces, no empty chunk, no trailing comma.
//
// Text before the first "/" that reads as LISTEN is LISTEN. PORTS can never
// start that way, because an IPv6 TOADDR followed by "/" must be written in
// brackets: "22:[2001:db8::5]/23" forwards port 22 to port 23 of 2001:db8::5,
// while "2001:db8::5/23" listens on 2001:db8::5, port 23.
//
// # Meaning
//
//   - "none" forwards nothing, and cannot be combined with any other
//     specification of the same option.
//   - LISTEN chooses where the listening sockets are bound: an address, or
//     every address ("*", or nothing at all), optionally restricted to one
//     interface with SO_BINDTODEVICE. With both address families enabled,
//     the wildcard is one dual-stack socket per port; with one family, it is
//     that family's unspecified address. An address of a disabled family is
//     an error. -T and -U take no LISTEN: they always listen on the
//     namespace's loopback interface "lo".
//   - An include chunk maps FIRST..LAST to TOFIRST..TOLAST (the same ports
//     when no target range is given); both ranges have the same length. A
//     target address, when given, replaces the guest's address as the
//     destination; it may not be unspecified and must belong to an enabled
//     family.
//   - Exclude chunks ("~") remove ports from every include chunk of the same
//     specification, wherever they appear in it. An include chunk left with
//     no port at all is an error.
//   - A specification with no include chunk ("all", excludes only, or just
//     "auto") covers 1..65535 minus its excludes minus the host's ephemeral
//     port range (Context.Ephemeral), and its rules are weak: a port that
//     cannot be bound is skipped quietly, and only a table where no port at
//     all could be bound is a failure. "all" cannot be mixed with include
//     chunks.
//   - "auto" (pasta only) marks every rule of its specification: such a port
//     is forwarded only while something listens on it on the target side;
//     the rule's ports and address act as a filter for what is detected.
//   - Two rules of one table whose listening addresses can meet (equal, or
//     one a wildcard covering the other's family) may not share a port.
//     Hence at most one rule answers for any local address and port, which
//     is what Table.Lookup relies on.
//
// # Examples
//
//	22                            host port 22 to guest port 22
//	22-80:32-90                   ports 22..80 to 32..90
//	192.0.2.1%eth0/22             listen on 192.0.2.1 bound to eth0
//	0.0.0.0/5000:192.0.2.5/6000   IPv4 port 5000 to 192.0.2.5 port 6000
//	127.0.0.6/all:192.0.2.6       every non-ephemeral port of 127.0.0.6 to 192.0.2.6
//	2000-5000,~3000-3010          2000..2999 and 3011..5000
//	~20000-20010                  every non-ephemeral port but 20000..20010 (weak)
//	8000-8010,auto                8000..8010 while the guest listens on them
package fwd
