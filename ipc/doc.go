// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package ipc is the protocol between the monitor and the worker: typed,
// versioned messages with file descriptors attached, over one AF_UNIX
// SOCK_SEQPACKET socket pair, and the broker policy that decides what the
// worker may ask the monitor for.
//
// # Transport
//
// Pair creates the socket pair; the worker gets its end as descriptor 3
// (WorkerFD) and wraps it with NewConn. SOCK_SEQPACKET keeps message
// boundaries and ties passed descriptors to exactly one datagram. A Conn
// works on the raw descriptor with sendmsg, recvmsg and ppoll only, so the
// worker never starts the Go netpoller. It is blocking by default (the
// monitor's way); the worker polls the descriptor with epoll and switches
// to SetNonblocking, where Recv answers ErrWouldBlock. EINTR is retried.
//
// # Framing
//
// Every datagram starts with a 20-byte header, integers little-endian:
// magic "PGWM", protocol version, kind, request ID, status code, flags,
// number of descriptors attached, payload length (layout in wire.go). The
// header alone makes every datagram at least 20 bytes, so a datagram is
// never empty and an empty read means end of stream. A header with another
// version is refused with a *VersionError before anything else of it is
// read; the magic and the version keep their offsets in every version.
//
// One SOCK_SEQPACKET datagram can be no larger than the sender's socket
// buffer (net.core.wmem_default; raising it past wmem_max needs privilege),
// so instead of raising buffers a message with a payload over MaxChunk
// bytes travels as fragments: every datagram but the last carries exactly
// MaxChunk payload bytes and the "more" flag, all carry the same kind, ID
// and code, and descriptors may come only with the first. The receiver
// reassembles up to the kind's payload limit and refuses anything else
// (interleaved messages, short fragments, fragments of kinds that always
// fit one datagram). Only Config (up to MaxConfig, 1 MiB) and a large Stats
// are ever fragmented.
//
// # Messages
//
//	kind           from     payload                                          fds
//	1 Hello        both     version u16, role u8, 0, pid u32                 0
//	2 Config       monitor  configuration blob (JSON), up to 1 MiB           0
//	3 FDs          monitor  more u8, 0, count u16, count entries of          count
//	                        role, proto, family, side u8; port, rule u16
//	4 Ready        worker   empty: sandboxed and serving                     0
//	5 BrokerReq.   worker   op, proto, family, action, side, addrlen u8;     0
//	                        port u16; address; ifnamelen u8; ifname
//	6 BrokerReply  monitor  op, reason, hasports u8, 0; 8 KiB port bitmap    1 if OK and
//	                                                                         op gives a socket
//	7 Shutdown     both     empty; the status code says why                  0
//	8 Stats        worker   count u16, count × (namelen u8, name, value u64) 0
//	9 Log          worker   level u8, text (UTF-8, no control characters)    0
//	10 Unlisten    monitor  role, family, side, 0 u8; port, rule u16         0
//
// A conversation: the monitor sends Hello, Config and one or more FDs
// messages (More set on all but the last: SCM_MAX_FD allows MaxFDs per
// message; see Conn.SendFDs); the worker answers Hello, verifies each
// descriptor against its entry (VerifyFD), sandboxes itself and sends
// Ready. From then on the worker sends Log, Stats and BrokerRequest, and
// the monitor answers each request with a BrokerReply of the same ID.
// With auto forwarding the monitor also sends, at any time after Ready,
// FDs messages with listeners to add, and Unlisten for those to close.
// Either side may send Shutdown. Closing a Conn shows end of stream to the
// peer.
//
// Decoding is strict, so that every accepted message has one encoding:
// lengths must match exactly, reserved bytes are zero, enumerations are
// known (except in a BrokerRequest: Decide judges those, so that a bad
// request gets a typed denial rather than a broken connection), the status
// code is OK except on BrokerReply and Shutdown, and the number of
// descriptors must be what the kind and payload declare. A decoder never
// panics and never reads out of bounds (FuzzDecode). Every
// descriptor that arrives with a refused datagram, or that the kernel had
// to truncate (MSG_CTRUNC, MSG_TRUNC), is closed before Recv returns.
// Failures cross the boundary as an ErrCode, never as text: the text stays
// in the log of the side where it happened.
//
// # Broker policy
//
// The worker may ask for three things (BrokerOp): a socket inside pasta's
// target namespace, connected to or bound to a port on the namespace's
// loopback or own address (splice targets, -T/-U listeners); a listening
// socket on the host for a forwarded port, which the worker cannot bind
// itself below 1024 or on a given interface; the listening ports of one
// side, for "auto" forwarding. The monitor derives an Allowance from the
// forwarding tables (ports per protocol and direction, each rule's listen
// address and interface, whether namespace sockets exist at all), and
// Decide, a pure function, grants a request only when a rule covers it:
// the right protocol, an enabled family, an address of that family that
// the rule allows, a port other than 0 in the rule's set, the rule's
// interface. Anything else, including fields the op does not use, is
// denied with a Decision that names the reason.
//
// # Threat model
//
// The worker parses everything the guest sends, so the monitor treats it
// as compromised. A Conn made by Pair for the monitor accepts only the
// kinds a worker may send; no worker message carries descriptors, so any
// that arrive are closed at once; reassembly is bounded by the kind's
// limit; log text cannot forge lines or terminal sequences. A compromised
// worker can obtain only what the configuration already allows: the
// monitor carries out the connect or bind itself before it hands a
// namespace socket over, so the worker never holds an unbound socket in
// the namespace it could point elsewhere. What it can still do is ask
// often, which the monitor's serving loop has to bound. The worker trusts the
// monitor, but VerifyFD checks each descriptor's type against its entry,
// so a monitor bug shows as a clear error rather than as misuse of a file.
package ipc
