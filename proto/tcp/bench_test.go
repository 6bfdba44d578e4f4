// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tcp

import (
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"passt-go/proto/engine"
	"passt-go/proto/header"
)

// sinkOut is an output for benchmarks and allocation tests: it reads the
// frames where they are (no copy) and keeps what a guest would learn from
// them: the highest ACK and its window, and the data received in order.
type sinkOut struct {
	h       *Handler
	queued  int
	hdrs    [512][]byte
	pays    [512][]byte
	ack     uint32
	wnd     uint32
	rcvNxt  uint32
	bytes   int64
	frames  int
	synced  bool
	blocked bool
}

func (o *sinkOut) Room() int { return len(o.hdrs) - o.queued }

func (o *sinkOut) Queue(hdr, payload []byte) (int, bool) {
	if o.queued == len(o.hdrs) {
		return 0, false
	}
	o.hdrs[o.queued], o.pays[o.queued] = hdr, payload
	o.queued++
	return o.queued - 1, true
}

func (o *sinkOut) Flush() {
	for i := range o.queued {
		o.take(o.hdrs[i], o.pays[i])
	}
	n := o.queued
	o.queued = 0
	o.h.Sent(n)
}

func (o *sinkOut) Blocked() bool { return o.blocked }

// take reads a frame from the Handler: a header (Ethernet, IPv4, TCP
// without options) and its payload.
func (o *sinkOut) take(hdr, payload []byte) {
	o.frames++
	t := hdr[header.EthernetLen+header.IPv4MinLen:]
	fl := header.TCPFlags(t[13])
	seq := binary.BigEndian.Uint32(t[4:])
	if fl&header.TCPFlagSYN != 0 {
		o.rcvNxt = seq + 1
		o.synced = true
	}
	if fl&header.TCPFlagACK != 0 {
		a := binary.BigEndian.Uint32(t[8:])
		if int32(a-o.ack) >= 0 || o.ack == 0 {
			o.ack = a
			o.wnd = uint32(binary.BigEndian.Uint16(t[14:])) << 7
		}
	}
	if len(payload) > 0 && seq == o.rcvNxt {
		o.rcvNxt += uint32(len(payload))
		o.bytes += int64(len(payload))
	}
}

// benchConn connects a guest to a loopback server through a Handler whose
// output is a sinkOut, and returns the guest and the server's connection.
func benchConn(b testing.TB) (*env, *guest, *sinkOut, net.Conn) {
	b.Helper()
	e := newEnv(b, envOptions{})
	l, port := listenLoopback(b, false)
	g := newGuest(e, false, 42000, port)
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		acc <- c
	}()
	g.connect()
	e.pump(waitLong, func() bool { return g.established }, g)
	g.finishHandshake()
	e.h.InputDone()
	srv := <-acc
	b.Cleanup(func() { srv.Close() })
	e.deliver(g)
	o := &sinkOut{h: e.h, ack: g.sndNxt, wnd: g.sndWnd, rcvNxt: g.rcvNxt, synced: true}
	e.h.out = o
	return e, g, o, srv
}

// guestToSocket sends segments of seg bytes from the guest as the window
// allows, the way a bulk sender does: the Handler writes them to the
// socket and acknowledges them in batches.
type guestToSocket struct {
	e     *env
	g     *guest
	o     *sinkOut
	frame []byte
	f     *header.Frame
	seq   uint32
	size  int
}

func newGuestToSocket(b testing.TB, size int) *guestToSocket {
	e, g, o, srv := benchConn(b)
	go io.Copy(io.Discard, srv)
	frame, f := g.frame(header.TCPFlagACK, g.sndNxt, g.rcvNxt, make([]byte, size), nil)
	return &guestToSocket{e: e, g: g, o: o, frame: frame, f: f, seq: g.sndNxt, size: size}
}

// segment sends one segment, waiting for window first.
func (s *guestToSocket) segment() {
	for s.seq+uint32(s.size)-s.o.ack > s.o.wnd {
		s.e.h.InputDone()
		s.o.Flush()
		if s.seq+uint32(s.size)-s.o.ack <= s.o.wnd {
			break
		}
		s.e.loop.Run(benchAdapter{s}, time.Millisecond)
	}
	binary.BigEndian.PutUint32(s.frame[s.f.L4+4:], s.seq)
	s.e.h.FromGuest(s.frame, s.f)
	s.seq += uint32(s.size)
	// A batch is a few segments, as a stream read brings them.
	if (s.seq/uint32(s.size))%8 == 0 {
		s.e.h.InputDone()
		s.o.Flush()
	}
}

type benchAdapter struct{ s *guestToSocket }

func (a benchAdapter) Handle(ev engine.Event) { a.s.e.h.Event(ev) }
func (a benchAdapter) BatchDone() {
	a.s.e.h.Flush()
	a.s.o.Flush()
	a.s.e.loop.Stop()
}

// BenchmarkGuestToSocket measures the guest-to-host data path: segments
// from the guest written to a loopback socket and acknowledged.
func BenchmarkGuestToSocket(b *testing.B) {
	for _, size := range []int{1460, 65000} {
		b.Run(sizeName(size), func(b *testing.B) {
			s := newGuestToSocket(b, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				s.segment()
			}
		})
	}
}

// socketToGuest receives what a loopback server writes as frames, and
// acknowledges it the way a guest does.
type socketToGuest struct {
	e   *env
	g   *guest
	o   *sinkOut
	ack []byte
	f   *header.Frame
}

func newSocketToGuest(b testing.TB) *socketToGuest {
	e, g, o, srv := benchConn(b)
	go func() {
		buf := make([]byte, 1<<20)
		for {
			if _, err := srv.Write(buf); err != nil {
				return
			}
		}
	}()
	ack, f := g.frame(header.TCPFlagACK, g.sndNxt, g.rcvNxt, nil, nil)
	return &socketToGuest{e: e, g: g, o: o, ack: ack, f: f}
}

// round waits for data, lets the Handler send it, and acknowledges it.
func (s *socketToGuest) round() {
	s.e.loop.Run(recvAdapter{s}, time.Millisecond)
}

type recvAdapter struct{ s *socketToGuest }

func (a recvAdapter) Handle(ev engine.Event) { a.s.e.h.Event(ev) }
func (a recvAdapter) BatchDone() {
	s := a.s
	s.e.h.Flush()
	s.o.Flush()
	binary.BigEndian.PutUint32(s.ack[s.f.L4+8:], s.o.rcvNxt)
	s.e.h.FromGuest(s.ack, s.f)
	s.e.h.InputDone()
	s.o.Flush()
	s.e.loop.Stop()
}

// BenchmarkSocketToGuest measures the host-to-guest data path: data
// peeked from a loopback socket into frames, discarded when acknowledged.
func BenchmarkSocketToGuest(b *testing.B) {
	s := newSocketToGuest(b)
	const unit = 64 << 10
	b.SetBytes(unit)
	b.ReportAllocs()
	b.ResetTimer()
	want := int64(b.N) * unit
	for s.o.bytes < want {
		s.round()
	}
}

// The data paths allocate nothing per segment, in either direction.
func TestDataPathAllocations(t *testing.T) {
	t.Run("guest to socket", func(t *testing.T) {
		s := newGuestToSocket(t, 65000)
		for range 100 {
			s.segment()
		}
		if a := testing.AllocsPerRun(500, s.segment); a != 0 {
			t.Errorf("got %v allocations per segment, want 0", a)
		}
	})
	t.Run("socket to guest", func(t *testing.T) {
		s := newSocketToGuest(t)
		for range 50 {
			s.round()
		}
		before := s.o.bytes
		if a := testing.AllocsPerRun(200, s.round); a != 0 {
			t.Errorf("got %v allocations per round, want 0", a)
		}
		if s.o.bytes == before {
			t.Errorf("no data moved while measuring")
		}
	})
}

func sizeName(n int) string { return strconv.Itoa(n) + "B" }
