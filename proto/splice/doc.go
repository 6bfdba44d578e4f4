// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package splice joins two connected TCP sockets of the same machine (one
// in pasta's namespace, one on the host, both on loopback) so that the
// bytes of each direction go from one socket to the other through a pipe,
// with splice(2), and never enter user space.
//
// Theory of operation. A Conn holds the two sockets, A (index 0) and B
// (index 1), and one pipe per direction: pipe 0 carries A to B, pipe 1
// carries B to A. Moving one direction d is two steps repeated until
// neither makes progress: empty the pipe into the destination socket,
// then fill the pipe from the source socket. A full destination
// (EAGAIN with bytes left in the pipe) stops reading the source, and the
// destination is watched for EPOLLOUT instead; that is the only back
// pressure there is, so memory held per connection is bounded by the two
// pipes' sizes.
//
// End of stream: when the source of a direction reads 0 bytes, and the
// pipe of that direction is empty, the destination is shut down for
// writing (a FIN), so half-closed connections stay half-open in the
// other direction. The Conn is done once both directions have ended
// this way. A reset, or any error other than EAGAIN, ends both
// directions at once: Close then closes both sockets with SO_LINGER 0,
// so that each peer sees a reset.
//
// B may still be connecting (a non-blocking connect): nothing moves until
// it reports writable, and a failed connect resets A.
//
// The caller owns the event loop: Conn.Want says which events to watch
// on each socket after every call, and the caller registers the
// sockets, calls Event when one is ready, and Close when Done reports
// true. Nothing here allocates after Open.
//
// Limits: the pipes are made as large as the system allows up to
// MaxPipeSize (F_SETPIPE_SZ; an unprivileged process is bounded by
// /proc/sys/fs/pipe-max-size and pipe-user-pages-soft), and fall back to
// the default size silently.
//
// Socket buffers: both sockets get a fixed SocketBuffer in each direction
// instead of autotuning. Both peers are on this machine, so the round
// trip is microseconds and 1 MiB is many times the bandwidth-delay
// product. What the fixed size buys is less data in flight: measured
// with iperf3 on two CPUs, a spliced connection moved about 6% more for
// about 8% less CPU in the three processes together (the worker spends
// more, the receiving peer about a third less: likely, fewer of the pages
// it copies out have left the cache). It also bounds the kernel memory
// that one spliced connection can hold.
//
// What bounds throughput on a small machine: the bytes cross the kernel's
// TCP stack twice, once per connection, and three processes (the two
// peers and the worker) each need a large share of a CPU. On two CPUs the
// spliced paths reach about 0.7 of one plain loopback connection, as
// Debian's pasta does. Measured no better: SO_RCVLOWAT, pipes of 64 and
// 256 KiB, TCP_QUICKACK, reading the source on into the pipe while the
// destination is full, shorter scheduler slices for the worker, and
// every placement of the three processes on the two CPUs.
package splice
