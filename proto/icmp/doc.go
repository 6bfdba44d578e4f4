// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package icmp carries the guest's ICMP and ICMPv6 echo requests ("ping")
// to the host through unprivileged ping sockets, and the replies back.
//
// # Flows and sockets
//
// An echo flow is the triple (guest address, remote address, echo
// identifier), stored in the shared flow table under a flow.Key whose
// ports both hold the identifier, with type flow.TypeICMP. Each flow owns
// one ping socket: socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP) or its IPv6
// twin, non-blocking, registered with the event loop under the flow's
// index. The socket is bound with the guest's identifier as its port, so
// the kernel sends the requests with that identifier. SO_REUSEADDR is
// cleared first: ping sockets start with it set, and two sockets that both
// have it may share an identifier, after which the kernel delivers the
// replies to only one of them. When the identifier is taken (by another
// ping socket in the namespace, or by a second guest flow with the same
// identifier to another address), the socket is bound to port zero and the
// kernel picks a free one; it is recorded in the flow (SocketID), and
// replies are rewritten back to the guest's identifier in either case.
//
// The remote address goes through nat.Outbound (the gateway reaching the
// host's loopback, and so on); a refused destination drops the request.
// Replies are read from the socket until it has no more, and each becomes a
// frame to the guest: Ethernet from our MAC address to the guest's learned
// one (broadcast until it is known), IPv4 with TTL 255 or IPv6 with hop
// limit 255, from the remote address the guest pinged (the flow's key, so
// the mapping is undone exactly) to the guest's address, and an echo reply
// with the guest's identifier, the sequence number and data as received,
// and a computed checksum. A reply whose source is not the address the
// request went to is dropped. The frame is handed to a tap.Sink and is valid
// only during that call.
//
// Only echo requests are translated; every other ICMP or ICMPv6 message
// from the guest is dropped and counted. Neighbour Discovery belongs to
// another package and never reaches this one.
//
// # Timeouts and limits
//
// A flow without requests or replies for Config.Timeout (60 s by default)
// is closed by Expire, which the worker calls from its periodic tick. New
// flows are refused, and counted, when the flow table is full.
//
// # Permission
//
// The kernel lets a process open ping sockets only when its group is in
// net.ipv4.ping_group_range (a per-namespace sysctl, which covers IPv6 as
// well); otherwise socket() fails with EACCES. The Handler then reports
// ConditionPingGroupRange once through Config.Warn, so the worker logs one
// clear warning naming the sysctl, and counts each refused request as
// DropPermission. It keeps trying for later flows, so that fixing the
// sysctl needs no restart.
//
// Nothing on the per-request and per-reply paths allocates: frames are
// built in one buffer allocated by New, the per-flow state is an array
// indexed like the flow table, and socket addresses are scratch fields.
// A Handler is not safe for concurrent use; the event-loop thread owns it.
package icmp
