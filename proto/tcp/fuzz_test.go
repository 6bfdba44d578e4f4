// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tcp

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"passt-go/proto/flow"
	"passt-go/proto/header"
)

// streamByte is the byte the fuzzed guest sends at sequence number seq:
// whatever the segments, what reaches the server must be the stream's
// bytes in order.
func streamByte(seq uint32) byte { return byte(seq*131) ^ byte(seq>>8) }

// FuzzGuestSegments feeds an established connection arbitrary segments
// from the guest (any flags, sequence and acknowledgment numbers around
// the expected ones, windows, options, data) and checks what must hold
// whatever the guest sends:
//   - every frame sent to the guest decodes, with valid checksums;
//   - the Handler never acknowledges data the socket did not take: the
//     ACK number given is the ISN plus the bytes written (plus a FIN);
//   - the server receives exactly the stream's bytes, in order;
//   - sequence state stays ordered (acknowledged <= next <= highest sent)
//     and the flow table matches the open connections.
func FuzzGuestSegments(f *testing.F) {
	seg := func(fl header.TCPFlags, dseq, dack int16, wnd uint16, n uint8) []byte {
		b := make([]byte, 8)
		b[0] = uint8(fl)
		binary.BigEndian.PutUint16(b[1:], uint16(dseq))
		binary.BigEndian.PutUint16(b[3:], uint16(dack))
		binary.BigEndian.PutUint16(b[5:], wnd)
		b[7] = n
		return b
	}
	cat := func(s ...[]byte) []byte {
		var b []byte
		for _, x := range s {
			b = append(b, x...)
		}
		return b
	}
	ack := header.TCPFlagACK
	f.Add(cat(seg(ack, 0, 0, 1000, 200), seg(ack, 0, 0, 1000, 100)))
	f.Add(cat(seg(ack, 100, 0, 1000, 50), seg(ack, 0, 0, 1000, 100), seg(ack, 0, 0, 1000, 100)))
	f.Add(cat(seg(ack, -10, 0, 0, 30), seg(ack|header.TCPFlagFIN, 0, 0, 10, 0)))
	f.Add(cat(seg(header.TCPFlagSYN, 0, 0, 100, 0), seg(ack, -1, 0, 5, 0)))
	f.Add(cat(seg(ack, 0, 5, 100, 0), seg(header.TCPFlagRST, 0, 0, 0, 0)))
	f.Add(cat(seg(ack|header.TCPFlagPSH, 0, 0, 65535, 255), seg(ack|header.TCPFlagFIN, 0, 0, 1, 255)))

	f.Fuzz(func(t *testing.T, in []byte) {
		e, g, srv := connected(t, envOptions{}, false, 43000, 0)
		var mu sync.Mutex
		var got []byte
		done := make(chan struct{})
		go func() {
			defer close(done)
			buf := make([]byte, 64<<10)
			for {
				n, err := srv.Read(buf)
				mu.Lock()
				got = append(got, buf[:n]...)
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
		base := g.sndNxt // the first data byte's sequence number
		idx, ok := e.flows.Lookup(flowKey(g))
		if !ok {
			t.Fatal("no flow after the handshake")
		}
		c := &e.h.conns[idx]
		data := make([]byte, 255)
		for len(in) >= 8 {
			fl := header.TCPFlags(in[0])
			dseq := int16(binary.BigEndian.Uint16(in[1:]))
			dack := int16(binary.BigEndian.Uint16(in[3:]))
			wnd := binary.BigEndian.Uint16(in[5:])
			n := int(in[7])
			in = in[8:]
			var opts *header.TCPOptions
			if fl&header.TCPFlagSYN != 0 && len(in) > 0 {
				opts = &header.TCPOptions{HasMSS: true, MSS: uint16(in[0]) << 4, HasWindowScale: true, WindowScale: in[0] & 15}
			}
			seq := c.seqFromTap + uint32(int32(dseq))
			if c.fd < 0 {
				seq = g.sndNxt + uint32(int32(dseq))
			}
			for i := range n {
				data[i] = streamByte(seq + uint32(i) - base)
			}
			g.rcvWnd = uint32(wnd) << g.ws
			frame, ff := g.frame(fl, seq, g.rcvNxt+uint32(int32(dack)), data[:n], opts)
			e.h.FromGuest(frame, ff)
			e.h.InputDone()
			e.deliver(g)
			checkInvariants(t, e, c, idx)
		}
		e.h.InputDone()
		e.deliver(g)
		if c.fd >= 0 && c.state == StateEstablished {
			written := c.seqFromTap - base
			if c.has(fTapFin) {
				written--
			}
			if uint64(written) != e.h.c.BytesFromGuest {
				t.Fatalf("ACK number covers %d bytes, the socket took %d", written, e.h.c.BytesFromGuest)
			}
		}
		// What the server has is the stream, in order.
		want := int(e.h.c.BytesFromGuest)
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			n := len(got)
			mu.Unlock()
			if n >= want || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		e.h.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		if len(got) != want {
			t.Fatalf("server got %d bytes, the socket took %d", len(got), want)
		}
		for i, b := range got {
			if b != streamByte(uint32(i)) {
				t.Fatalf("server byte %d is %#x, want %#x", i, b, streamByte(uint32(i)))
			}
		}
	})
}

func flowKey(g *guest) (k flow.Key) {
	k.GuestAddr, k.GuestPort, k.RemoteAddr, k.RemotePort, k.Proto = g.addr, g.port, g.remote, g.rport, header.ProtocolTCP
	return k
}

// checkInvariants checks the Handler's state after a segment.
func checkInvariants(t *testing.T, e *env, c *conn, idx uint32) {
	t.Helper()
	if e.flows.Len() != e.h.Len() {
		t.Fatalf("flow table holds %d flows, %d connections open", e.flows.Len(), e.h.Len())
	}
	if c.fd < 0 {
		if e.flows.InUse(idx) {
			t.Fatal("closed connection still in the flow table")
		}
		return
	}
	if seqGT(c.seqAckFromTap, c.seqToTap) || seqGT(c.seqToTap, c.seqMaxToTap) {
		t.Fatalf("sequence state out of order: acked %d, next %d, max %d", c.seqAckFromTap, c.seqToTap, c.seqMaxToTap)
	}
	if e.h.wIdx >= 0 {
		t.Fatal("guest data still pending after InputDone")
	}
}
