// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package udp

import (
	"fmt"
	"net/netip"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// drainer empties a non-blocking socket with recvmmsg.
type drainer struct {
	fd   int
	bufs [Batch][2048]byte
	iov  [Batch]unix.Iovec
	msgs [Batch]mmsghdr
}

func newDrainer(fd int) *drainer {
	d := &drainer{fd: fd}
	for i := range d.msgs {
		d.iov[i].Base = &d.bufs[i][0]
		d.iov[i].SetLen(len(d.bufs[i]))
		d.msgs[i].hdr.Iov = &d.iov[i]
		d.msgs[i].hdr.SetIovlen(1)
	}
	return d
}

func (d *drainer) drain() int {
	total := 0
	for {
		n, e := recvmmsg(d.fd, d.msgs[:], 0)
		if e != 0 || n <= 0 {
			return total
		}
		total += n
	}
}

// BenchmarkGuestToHost measures datagrams from the guest through FromGuest
// to a socket on the namespace's loopback: batched, as the worker does
// while more frames are at hand (one sendmmsg per Batch datagrams), and
// one at a time (a Flush per datagram).
func BenchmarkGuestToHost(b *testing.B) {
	ns := newTestNS(b)
	for _, size := range []int{64, 1400} {
		for _, every := range []int{Batch, 1} {
			b.Run(fmt.Sprintf("size=%d/flush-every=%d", size, every), func(b *testing.B) {
				r := newRig(b, 16, nil)
				srv := newServer(b, ns, netip.MustParseAddrPort("127.0.0.1:0"))
				unix.SetNonblock(srv.fd, true)
				unix.SetsockoptInt(srv.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 16<<20)
				d := newDrainer(srv.fd)
				frame, f := udpFrame(b, netip.AddrPortFrom(guest4, 5555), netip.AddrPortFrom(gw4, srv.addr.Port()), 64, make([]byte, size))
				ns.Run(func() {
					r.h.FromGuest(frame, f)
					r.h.Flush()
				})
				b.SetBytes(int64(size))
				i := 0
				for b.Loop() {
					r.h.FromGuest(frame, f)
					i++
					if i%every == 0 {
						r.h.Flush()
					}
					if i%Batch == 0 {
						d.drain()
					}
				}
				r.h.Flush()
				if drops := r.h.Counters().Drops; drops[DropSend] != 0 {
					b.Errorf("%d send errors", drops[DropSend])
				}
			})
		}
	}
}

// BenchmarkHostToGuest measures datagrams from a peer through the flow's
// socket to frames for the guest: recvmmsg, headers and checksum in place,
// the sink. One operation is one datagram.
func BenchmarkHostToGuest(b *testing.B) {
	ns := newTestNS(b)
	for _, size := range []int{64, 1400, 32000} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			r := newRig(b, 16, nil)
			sink := &counter{}
			r.h.out = sink
			srv := newServer(b, ns, netip.MustParseAddrPort("127.0.0.1:0"))
			frame, f := udpFrame(b, netip.AddrPortFrom(guest4, 5556), netip.AddrPortFrom(gw4, srv.addr.Port()), 64, []byte("x"))
			ns.Run(func() {
				r.h.FromGuest(frame, f)
				r.h.Flush()
			})
			_, peer := srv.recv(b)
			if err := unix.Connect(srv.fd, toSockaddr(peer)); err != nil {
				b.Fatal(err)
			}
			unix.SetsockoptInt(int(r.h.state[0].fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 16<<20)
			data := make([]byte, size)
			var iov [Batch]unix.Iovec
			var msgs [Batch]mmsghdr
			for i := range msgs {
				iov[i].Base = &data[0]
				iov[i].SetLen(size)
				msgs[i].hdr.Iov = &iov[i]
				msgs[i].hdr.SetIovlen(1)
			}
			b.SetBytes(int64(size))
			left := 0
			for b.Loop() {
				if left == 0 {
					n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(srv.fd), uintptr(unsafe.Pointer(&msgs[0])), Batch, 0, 0, 0)
					if e != 0 || int(n) != Batch {
						b.Fatalf("sendmmsg: %d %v", n, e)
					}
					before := sink.n
					r.h.Event(engineRef(sockKind, 0), unix.EPOLLIN)
					left = sink.n - before
					if left != Batch {
						b.Fatalf("got %d frames for %d datagrams", left, Batch)
					}
				}
				left--
			}
		})
	}
}

// BenchmarkPutDatagram measures building a frame around data already in
// place: headers and the UDP checksum.
func BenchmarkPutDatagram(b *testing.B) {
	for _, size := range []int{64, 1400, 65000} {
		for _, v4 := range []bool{true, false} {
			b.Run(fmt.Sprintf("size=%d/v4=%v", size, v4), func(b *testing.B) {
				buf := make([]byte, slotSize)
				src, dst := gw6, guest6
				if v4 {
					src, dst = gw4, guest4
				}
				b.SetBytes(int64(size))
				for b.Loop() {
					if _, d := putDatagram(buf, v4, size, guestMAC, ourMAC, src, 53, dst, 4000); d != DropNone {
						b.Fatal(d)
					}
				}
			})
		}
	}
}
