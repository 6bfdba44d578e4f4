// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package flow is the one table of connection-like state that TCP, UDP and
// ICMP share: every flow between the guest and the outside world has one
// slot in it, whatever its protocol.
//
// # Slots and indices
//
// A Table has a fixed capacity, chosen at construction (DefaultCapacity
// unless told otherwise) and allocated once. A flow is named by its index,
// a uint32 below the capacity; the index travels in the epoll reference of
// the flow's sockets and timers, and each protocol keeps its own per-flow
// state in an array of Cap() elements indexed the same way. Insert always
// takes the lowest free slot, found through a two-level bitmap (one bit per
// slot, one summary bit per 64 slots), so that live flows stay packed at the
// start of the table and a scan touches few words. When every slot is taken,
// Insert fails with ErrFull: the caller refuses the new flow and existing
// flows are untouched.
//
// # Keys and the hash index
//
// A Key is comparable with == and names a flow from the guest's side:
// protocol, the guest's address and port (the echo identifier for ICMP), the
// remote address and port as the guest sees them (before NAT). A hash index
// maps keys to slots: open addressing with linear probing over a
// power-of-two array holding at least twice as many buckets as the
// capacity, each bucket holding a slot number and 32 bits of the key's
// hash. Deletion shifts the following run of buckets back (no tombstones),
// so probe sequences never degrade with churn. Insert, Lookup and Remove
// allocate nothing.
//
// The hash is SipHash-2-4, written here, keyed with 128 bits drawn from the
// kernel's random generator when the table is built. Bucket positions
// depend on that secret, so a guest that chooses its ports and addresses
// cannot aim many keys at one probe sequence and turn lookups into scans.
// SipHash was chosen over hash/maphash because it is a pseudo-random
// function designed for this threat, with published test vectors, and
// because the same keyed function gives TCP its initial sequence numbers
// (ISN), where unpredictability is the whole point; maphash promises
// neither. Table hashing and ISN generation hash different domain bytes, so
// one's outputs say nothing about the other's.
//
// # Activity and expiry
//
// Each flow has a Type (TCP, spliced TCP, UDP, UDP stream, ICMP) and the
// time of its last activity, which its owner refreshes with Touch. The
// worker's periodic tick calls Expire with a timeout per type; Expire visits,
// in index order, every flow idle for at least its type's timeout, and the
// visitor (the flow's owner) closes its sockets and calls Remove. A zero
// timeout means the type never expires this way: TCP connections run their
// own timers. DefaultTimeouts gives the values of the reference behaviour:
// 30 s for UDP, 120 s for UDP streams, 60 s for ICMP echo.
//
// An observer set with Observe hears of every flow inserted and removed,
// whatever its protocol; the worker's --trace uses it. Without one, the
// table pays a nil check.
//
// # Initial sequence numbers
//
// ISN follows RFC 6528: the keyed hash of the connection's addresses and
// ports, folded to 32 bits, plus a clock ticking every 32 ns. The secret is
// drawn once per table and is never all zero; an ISN of zero is never
// returned.
//
// Time is a monotonic clock in nanoseconds (Now). A Table is not safe for
// concurrent use: the worker's single event-loop thread owns it.
package flow
