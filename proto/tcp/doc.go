// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package tcp translates the guest's TCP connections to host sockets and
// back, without a TCP stack of its own: each guest connection is one
// kernel socket on the host, and the Handler keeps the two sequence
// spaces in step. No data is buffered in user space in either direction.
//
// # Connections
//
// A connection is a flow of type flow.TypeTCP in the shared flow table,
// keyed from the guest's side; its state lives in an array indexed like
// the table, its socket is registered with the event loop under the flow's
// index. States (State) cover the handshake; each direction's closing is a
// set of flags, since the directions close independently.
//
// Outbound: a SYN from the guest for an unknown key creates a non-blocking
// socket (TCP_NODELAY, large buffers where the system allows, TCP_MAXSEG
// from the guest's MSS) and connects it to the destination nat.Outbound
// gives. The SYN-ACK goes to the guest only when the connection completes;
// a failure (ECONNREFUSED, a timeout) becomes an RST, so the guest's
// connect fails the same way. Inbound: a connection accepted on a -t
// listener becomes a SYN to the guest, from the client's address as
// nat.Inbound shows it, to the rule's target (by default the guest's
// address as seen in its traffic). If the guest resets it or never
// answers, the accepted socket is closed with SO_LINGER 0: the client sees
// a reset.
//
// Our MSS toward the guest is what its MTU allows, rounded down to whole
// pages; our window scale is 8 (16 MiB windows) when the guest offers
// scaling. Initial sequence numbers come from flow.Table.ISN: a keyed hash
// of the connection's addresses and ports plus a clock (RFC 6528), never
// zero, with a fresh key each time the worker starts. Segments for no
// connection get an RST as RFC 9293 section 3.10.7.1 says, never an RST in
// reply to an RST.
//
// # Host to guest
//
// Data is read from the socket with MSG_PEEK straight into the payload
// arena of the output batch, and each piece of up to the guest's MSS goes
// out as a frame behind a header copied from the connection's template
// (Ethernet, IP, TCP: addresses and ports filled at open; lengths,
// sequence numbers, window and checksums patched per frame). Where the
// kernel has SO_PEEK_OFF (probed at start) the peek continues after the
// bytes in flight; elsewhere those are peeked again into a scratch buffer.
// Data leaves the socket (recv with MSG_TRUNC) only when the guest
// acknowledges it, so a retransmission re-reads the socket: two duplicate
// ACKs, or a timeout, move seqToTap back to the last ACK and sending
// starts again from there. A frame the guest side could not take (its
// socket full: the output reports it through Handler.Sent) is rewound the
// same way and sent when the output is writable again. How much is in flight is bounded by the
// guest's window; when it is full the socket's input stays queued in the
// kernel (edge-triggered epoll, so queued data does not wake the loop) and
// the guest's next ACK sends more. End of file, once all data is sent,
// becomes a FIN.
//
// # Guest to host
//
// Data segments in order are gathered, in the guest's own frame buffers,
// into one sendmsg per connection per input batch (InputDone). The ACK
// number given to the guest is what the socket took: what it did not take
// is not acknowledged, and the guest sends it again. The window given to
// the guest is the free space of the socket's send buffer, from SO_MEMINFO
// (buffer size and what its queued data is charged, converted to bytes
// of data for the worst case of one kernel buffer per guest segment),
// bounded by the host peer's window from TCP_INFO but never below a
// quarter of the buffer. So the guest can never have more in flight than
// the socket will take: a slow host peer fills the socket, the window
// shrinks to zero, and the guest waits instead of losing data. When the
// window is small the socket is watched for EPOLLOUT, which the kernel
// reports once a third of the buffer is free, and a window update goes
// out. Should the socket still refuse data the guest had sent, the update
// is followed by three duplicate ACKs so that the guest retransmits at
// once rather than after its timeout. A segment beyond the next expected
// byte is dropped with a duplicate ACK (there is no reassembly); a FIN in
// order shuts the socket down for writing. ACKs to the guest are deferred
// to the end of each batch and carry a fresh window.
//
// # Closing
//
// Each direction closes on its own: the guest's FIN shuts the socket's
// write side; the socket's end of file becomes our FIN. A connection is
// released when both FINs are through and ours is acknowledged. An RST
// from the guest (in the window) closes the socket with SO_LINGER 0; an
// error on the socket (a reset from the host peer) sends an RST to the
// guest.
//
// # Timers
//
// One timerfd serves all connections, armed for the earliest deadline of
// a heap. Moving a deadline later, as each ACK does, costs nothing: the
// entry is re-queued when its old deadline comes. Handshake segments are
// sent again after 1 s, four times at that interval and six more with the
// interval doubling, then the connection is reset. Data and FIN are sent
// again after the retransmission timeout (1 s before a round trip is
// measured, then RFC 6298's estimate, at least 200 ms), doubling each time
// up to 120 s, and after seven tries without progress the connection is
// reset both ways. A zero window from the guest with data waiting is
// probed at the same intervals. Every KeepaliveInterval a connection that
// heard nothing from the guest gets a keepalive probe toward it (a guest
// that rebooted answers with an RST); one idle both ways for
// ActivityTimeout is reset. A keepalive from the guest is answered and
// turns SO_KEEPALIVE on for the socket.
//
// # Limits
//
// A connection per flow-table slot (32768 by default, --max-flows). When
// the table is full, new connections get an RST (accepted ones a reset and
// Counters.AcceptedTableFull) and a log line at most every LogInterval;
// existing connections are not touched. Each kind of log line has its own
// limit, so that one condition never hides another.
// Not implemented, as upstream: SACK, timestamps, urgent data, TCP Fast
// Open.
//
// Nothing on the per-segment path allocates: frame headers, payload arena,
// iovecs, socket addresses and option buffers are allocated by New, and
// the system calls are made directly. A Handler is not safe for concurrent
// use: the event-loop thread owns it.
package tcp
