// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package host reads the host's network configuration the way passt does:
// the template interface for each address family (the one holding the
// default route, unless one is named), its addresses, gateway, routes and
// MTU, the resolvers and search list of resolv.conf, the hostname, the
// ephemeral port range and the connection tracker's UDP timeouts. It reads
// the kernel through netlink and never runs ip(8).
//
// # Namespace
//
// Detect looks at the network namespace of the calling thread: it opens
// its one netlink socket, and reads ip_local_port_range and the
// connection tracker's timeouts, on that thread.
// A caller that entered another namespace must have locked its goroutine
// to the thread (runtime.LockOSThread) first.
//
// # Template interface
//
// For each enabled family, in this order:
//
//  1. -i (Options.Ifname), for both families;
//  2. else --outbound-if4 or --outbound-if6 (Options.Ifname4, Ifname6);
//  3. else the interface of the first default route of the family in the
//     main routing table; for a multipath route, the interface of the
//     first next hop with the highest weight;
//  4. else the one interface holding any route of the family, when there
//     is exactly one;
//  5. else none: Family is nil, and Info.Looked lists every interface of
//     the namespace so that the caller can say what it examined.
//
// Only unicast routes of the main table count, and routes to link-local
// destinations (169.254.0.0/16, fe80::/10) are ignored in steps 3 and 4. A
// named interface that does not exist is an error naming the option and
// the interface; a named interface is used even without addresses or
// routes, and the caller decides whether it is usable.
//
// # What is read from the template interface
//
//   - Addrs: IPv4 addresses, and IPv6 addresses of global scope, with
//     their prefix lengths, in the kernel's order; deprecated addresses
//     and addresses that failed duplicate address detection are left out.
//     Family.Primary picks the one passt uses: the longest prefix, first
//     among equals.
//   - LinkLocal: the first IPv6 link-local address.
//   - Gateway: the gateway of the first default route through the
//     interface that has one (multipath: first next hop with the highest
//     weight among those on the interface).
//   - Routes: unicast routes of the main table through the interface,
//     default routes first, otherwise in the kernel's order.
//   - MTU: the link's.
//
// # resolv.conf
//
// ParseResolvConf reads what the C library's resolver reads, within the
// same limits: "nameserver ADDR" lines (at most MaxNameservers per family;
// an IPv6 zone such as %eth0 is dropped; unspecified and multicast
// addresses are skipped), and the search list of the last "search" or
// "domain" line (at most MaxSearch names, each at most 253 bytes of
// printable ASCII). Lines starting with '#' or ';' are comments; keywords
// must start the line and be followed by a space or tab.
//
// # Ephemeral ports
//
// The kernel's ip_local_port_range of the namespace, or 49152-65535 when
// it cannot be read or makes no sense.
//
// # UDP flow timeouts
//
// ReadUDPTimeouts, called by Detect, reads the connection tracker's
// nf_conntrack_udp_timeout and nf_conntrack_udp_timeout_stream (seconds)
// under /proc/sys (Options.SysctlDir): the idle timeouts of UDP flows
// with at most one datagram each way, and with more. Without the files (no
// nf_conntrack module) the kernel's defaults apply, 30 s and 120 s; a
// value that is zero or not a number gives the default and a note.
package host
