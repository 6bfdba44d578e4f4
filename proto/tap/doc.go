// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package tap moves Ethernet frames between the worker and the guest, over
// either of the two links the guest can have: the qemu stream socket of
// passt mode, or the tap device of pasta mode. It only frames and unframes;
// it never looks inside a frame beyond its length.
//
// # The qemu stream
//
// qemu's "-netdev stream" and "-netdev socket" backends, and qrap, carry
// frames over a unix stream socket. Each frame is preceded by its length as
// a 4-byte big-endian number: the bare Layer-2 frame, without FCS and
// without a virtio-net header.
//
//	+--------+------------------+--------+------------------+---
//	| length | Ethernet frame   | length | Ethernet frame   | ...
//	+--------+------------------+--------+------------------+---
//	 4 bytes   length bytes
//
// A length below MinFrame (an Ethernet header) or above MaxFrame cannot
// come from a well-behaved peer: the stream has lost its framing and cannot
// be resynchronised. StreamReader then reports ErrOutOfSync, and the caller
// closes the connection and accepts the next one.
//
// StreamReader owns one buffer, allocated at construction. Fill moves the
// unparsed tail (a frame or a length header cut by the previous read) to
// the front of the buffer and reads whatever the socket has ready, until
// EAGAIN or until the buffer is full; Next then walks the buffer and yields
// complete frames as slices of it. Nothing is copied or allocated per frame,
// and a frame stays valid until the next Fill.
//
// StreamWriter gathers a batch of frames, each given as a few slices (a
// header template and a payload, say), builds their length prefixes in a
// preallocated array and sends the whole batch with one writev. A stream
// socket may accept only part of a batch. Frames that had not started are
// dropped and counted, and Flush reports how many frames at the head of the
// batch were sent, so that a caller (TCP) can send the others again later.
// A frame cut in the middle cannot be dropped, because the peer would read
// the next frame's bytes as the rest of it; the writer completes that frame
// at once, waiting for the socket with poll for at most StallTimeout. If the
// peer does not take the rest in time, Flush returns ErrStalled and the
// connection has to be closed.
//
// # The tap device
//
// In pasta mode the guest is the kernel of a network namespace, reached
// through a tap device created with IFF_TAP|IFF_NO_PI (OpenTap). A tap
// device keeps frame boundaries itself: every read returns one frame and
// every write sends one. TapReader drains up to a batch of frames per Fill
// into preallocated slots; TapWriter writes a batch with one writev per
// frame. The kernel drops a frame it cannot queue (EAGAIN, ENOBUFS, ENOSPC,
// EIO while the link is down); these drops are counted, never fatal. A tap
// that reports EBADFD or end of file has lost its device: ErrEOF.
//
// The device is opened with IFF_VNET_HDR and checksum offload (TUN_F_CSUM):
// each frame comes and goes behind a 10-byte struct virtio_net_hdr, and
// the namespace's stack may leave the TCP or UDP checksum of a frame it
// sends partial, with the header saying so. Nothing in the worker checks
// those checksums (the host's sockets carry only the payload on), so the
// sender in the namespace is spared a pass over every byte: about 15% more
// throughput from the namespace to the host on two CPUs. TapReader.Checksums
// completes them for a capture. Segmentation offload is not offered, so no
// frame is larger than the MTU; a frame that still asks for segmentation
// is dropped (DropSegmented). Frames we write carry a header with no flags:
// their checksums are complete, as the namespace checks them.
//
// # Ownership and limits
//
// Readers and writers do not own their file descriptors: they neither
// set them non-blocking nor close them. The descriptors must be
// non-blocking. All buffers are allocated by the constructors; Fill, Next,
// Queue and Flush do not allocate. Drops and totals are kept in a Counters
// value per reader or writer. None of the types is safe for concurrent
// use: the event loop that owns them is single-threaded.
//
// The data path uses read, writev and, only to finish a cut frame, ppoll.
// A write to a stream whose peer has gone returns EPIPE: the Go runtime
// ignores SIGPIPE for descriptors other than 1 and 2.
package tap
