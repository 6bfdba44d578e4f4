// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package ipc

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

var benchLog = Message{Body: Log{Level: LevelInfo, Text: "tcp: 192.0.2.1:40000 -> 198.51.100.7:443: connection reset by peer"}}

// TestSendAllocs proves that sending a single-datagram message the caller
// has already built allocates nothing: the worker sends logs, stats and
// broker requests from its event loop.
func TestSendAllocs(t *testing.T) {
	checkLeaks(t)
	mon, wrk := pair(t)
	buf := make([]byte, MaxDatagram)
	req := Message{ID: 3, Body: BrokerRequest{Op: OpHostListener, Proto: TCP, Family: IPv4, Port: 80}}
	for _, m := range []Message{benchLog, req} {
		// Draining with read(2) keeps the receiver's allocations out.
		n := testing.AllocsPerRun(200, func() {
			if err := wrk.Send(m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if _, err := unix.Read(mon.FD(), buf); err != nil {
				t.Fatalf("read: %v", err)
			}
		})
		if n != 0 {
			t.Errorf("%v: allocations per Send: got %v, want 0", m.Kind(), n)
		}
	}
	// A non-blocking Recv with nothing queued allocates nothing either.
	wrk.SetNonblocking(true)
	n := testing.AllocsPerRun(200, func() {
		if _, err := wrk.Recv(); !errors.Is(err, ErrWouldBlock) {
			t.Fatalf("Recv: got %v, want %v", err, ErrWouldBlock)
		}
	})
	if n != 0 {
		t.Errorf("allocations per empty Recv: got %v, want 0", n)
	}
}

func BenchmarkSendRecvLog(b *testing.B) {
	mon, wrk := pair(b)
	b.SetBytes(int64(len(encode(b, benchLog))))
	b.ReportAllocs()
	for b.Loop() {
		if err := wrk.Send(benchLog); err != nil {
			b.Fatal(err)
		}
		if _, err := mon.Recv(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSendRecvBrokerReplyFD(b *testing.B) {
	mon, wrk := pair(b)
	fd := memFD(b, "socket")
	m := Message{ID: 1, Body: BrokerReply{Op: OpNSSocket}, FDs: []int{fd}}
	b.SetBytes(int64(len(encode(b, m))))
	b.ReportAllocs()
	for b.Loop() {
		if err := mon.Send(m); err != nil {
			b.Fatal(err)
		}
		got, err := wrk.Recv()
		if err != nil {
			b.Fatal(err)
		}
		unix.Close(got.FDs[0])
	}
}

func BenchmarkSendRecvConfig1MiB(b *testing.B) {
	mon, wrk := pair(b)
	m := Message{Body: Config{Blob: make([]byte, MaxConfig)}}
	b.SetBytes(MaxConfig)
	b.ReportAllocs()
	errc := make(chan error, 1)
	for b.Loop() {
		go func() { errc <- mon.Send(m) }()
		if _, err := wrk.Recv(); err != nil {
			b.Fatal(err)
		}
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeLog(b *testing.B) {
	buf := make([]byte, 0, MaxDatagram)
	b.SetBytes(int64(len(encode(b, benchLog))))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = benchLog.AppendBinary(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeLog(b *testing.B) {
	enc := encode(b, benchLog)
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(enc, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecide(b *testing.B) {
	a := pastaAllowance()
	req := BrokerRequest{Op: OpNSSocket, Proto: TCP, Family: IPv6, Action: NSConnect, Addr: own6, Port: 5010}
	b.ReportAllocs()
	for b.Loop() {
		if Decide(a, req) != Allow {
			b.Fatal("denied")
		}
	}
}
