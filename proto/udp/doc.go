// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package udp carries the guest's UDP datagrams over ordinary UDP sockets
// of the host, and datagrams arriving on forwarded host ports (-u) to the
// guest. There is no connection to track: a flow is a pair of endpoints
// that exchanged a datagram recently, and it lives as long as datagrams
// keep coming.
//
// # Flows from the guest
//
// A flow is named, in the shared flow table, by the guest's address and
// port and the remote address and port as the guest addressed them
// (flow.Key, type flow.TypeUDP). Its first datagram opens it: the
// destination goes through nat.Outbound (the gateway reaching the host's
// loopback, DNS to the forwarding address reaching the host's resolver,
// and so on; refused destinations are dropped), and the flow gets its own
// socket, bound to the guest's source port when the host lets it (the
// port taken by a socket without SO_REUSEADDR, or below 1024 without
// privilege, gives way to one the kernel picks), to the -o address unless
// the peer is loopback, and connected to the peer. Connected, the socket
// receives only the peer's datagrams, which go to the guest from the
// address and port the guest sent to (the flow key, so every mapping is
// undone exactly: a reply from the host's loopback comes from the gateway,
// a DNS answer from the forwarding address). The guest's TTL or hop limit
// is applied to the socket whenever it changes, so traceroute works.
//
// Broadcast and multicast from the guest are not forwarded, nor datagrams
// from an unspecified or multicast source, nor to port 0; each is counted.
//
// # Flows from forwarded ports
//
// The monitor binds the -u sockets and hands them over; AddListener
// registers each with its rule's target (Forward). A datagram from a peer
// opens a flow toward the guest: the source goes through nat.Inbound
// (127.0.0.1 and ::1 appear as the map-host-loopback address), the
// destination is the rule's target address, else the guest's address as
// seen in its frames or as assigned (Config.GuestAddr), at the rule's
// target port. The flow gets a socket bound to the address and port the
// peer sent to (known from IP_PKTINFO) and connected to the peer: Linux
// delivers a datagram to the connected socket that matches its source
// before a merely bound one, so the peer's later datagrams arrive there,
// and the guest's replies leave from the address the peer expects. Where
// the host refuses that socket (a privileged port), replies go out through
// the listening socket instead, and the peer's datagrams keep arriving on
// it, matched to their flow by source.
//
// # Batches
//
// Receiving, recvmmsg reads up to Batch datagrams at a time straight into
// buffers that keep room for the Ethernet, IP and UDP headers in front of
// the data (room for IPv6, so that both families of a dual-stack socket
// share one layout); the headers are written in place, with a computed
// UDP checksum, and each frame goes to the tap.Sink, which copies it. A socket
// is read at most maxRounds times per event, then epoll reports it again.
// Sending, FromGuest copies the data into an arena and queues it; Flush
// sends the queue with sendmmsg. The queue holds one flow's datagrams: a
// datagram of another flow, a full queue, or Flush from the caller (when
// it has no more frames at hand) sends it.
//
// # ICMP errors
//
// Flow sockets have IP_RECVERR or IPV6_RECVERR set. An ICMP error about a
// datagram the flow sent (port unreachable, fragmentation needed, time
// exceeded...) is read from the socket's error queue with the datagram's
// data, and becomes an ICMP or ICMPv6 error to the guest with the same
// type and code (and MTU or pointer), from the flow's remote address when
// the peer itself complained, else from the complaining router as
// nat.Inbound shows it, quoting the datagram as the guest sent it (its
// addresses and ports): the guest's stack finds its socket and reports,
// for instance, ECONNREFUSED. Listening sockets have the same options: an
// error about a reply a flow sent through one (a flow without its own
// socket) is matched to the flow by the reply's destination, and reported
// the same way. Errors raised locally are only counted.
//
// # Timeouts and limits
//
// A flow that has seen at most one datagram each way expires after
// Config.Timeout of silence, one with more after Config.StreamTimeout: the
// worker calls Expire from its periodic tick. The worker passes the host's
// nf_conntrack_udp_timeout and nf_conntrack_udp_timeout_stream, which the
// monitor reads at start; DefaultTimeout (30 s) and DefaultStreamTimeout
// (120 s), the kernel's defaults, apply otherwise. At most Config.MaxFlows flows
// (and so sockets) exist at once; beyond that, and when the shared table is
// full, new flows are refused and counted while existing ones keep
// working.
//
// Nothing on the per-datagram paths allocates once a flow exists: buffers,
// message headers and socket addresses are allocated by New, and the
// per-flow state is an array indexed like the flow table. A Handler is not
// safe for concurrent use; the event-loop thread owns it.
package udp
