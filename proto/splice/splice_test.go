// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package splice

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// tcpPair returns the two ends of a loopback TCP connection: the accepted
// end as a raw non-blocking descriptor, and the dialling end as a
// net.Conn for the test to drive.
func tcpPair(t testing.TB) (int, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.(*net.TCPConn).File()
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	unix.SetNonblock(fd, true)
	return fd, c.(*net.TCPConn)
}

// pump drives c with its own epoll instance until it is done, then
// closes it and reports whether it failed.
func pump(c *Conn) <-chan bool {
	res := make(chan bool, 1)
	go func() {
		ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			c.Close()
			res <- true
			return
		}
		defer unix.Close(ep)
		var want [2]uint32
		for s := range 2 {
			want[s] = c.Want(s)
			unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, c.FD(s), &unix.EpollEvent{Events: want[s], Fd: int32(s)})
		}
		evs := make([]unix.EpollEvent, 4)
		for !c.Done() {
			n, err := unix.EpollWait(ep, evs, -1)
			if err == unix.EINTR {
				continue
			}
			for _, e := range evs[:n] {
				c.Event(int(e.Fd), e.Events)
			}
			for s := range 2 {
				if w := c.Want(s); w != want[s] {
					want[s] = w
					unix.EpollCtl(ep, unix.EPOLL_CTL_MOD, c.FD(s), &unix.EpollEvent{Events: w, Fd: int32(s)})
				}
			}
		}
		failed := c.Failed()
		c.Close()
		res <- failed
	}()
	return res
}

// spliced returns the outer ends of two loopback connections whose inner
// ends are spliced together, and the pump's result.
func spliced(t testing.TB) (*net.TCPConn, *net.TCPConn, <-chan bool) {
	a, ca := tcpPair(t)
	b, cb := tcpPair(t)
	var c Conn
	if err := c.Open(a, b, false); err != nil {
		t.Fatal(err)
	}
	return ca, cb, pump(&c)
}

func payload(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func wait(t *testing.T, res <-chan bool) bool {
	t.Helper()
	select {
	case f := <-res:
		return f
	case <-time.After(30 * time.Second):
		t.Fatal("the spliced connection did not end")
	}
	return false
}

func TestBothDirectionsAndHalfClose(t *testing.T) {
	for _, tc := range []struct {
		name       string
		aToB, bToA int
		firstClose int // side whose peer shuts down first
	}{
		{name: "empty", firstClose: A},
		{name: "small", aToB: 1, bToA: 3, firstClose: B},
		{name: "large", aToB: 16 << 20, bToA: 9 << 20, firstClose: A},
		{name: "one way", aToB: 0, bToA: 5 << 20, firstClose: B},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ca, cb, res := spliced(t)
			defer ca.Close()
			defer cb.Close()
			ab, ba := payload(tc.aToB, 1), payload(tc.bToA, 2)
			type got struct {
				b   []byte
				err error
			}
			gotB, gotA := make(chan got, 1), make(chan got, 1)
			go func() { b, err := io.ReadAll(cb); gotB <- got{b, err} }()
			go func() { b, err := io.ReadAll(ca); gotA <- got{b, err} }()
			send := func(c *net.TCPConn, p []byte) {
				if _, err := c.Write(p); err != nil {
					t.Errorf("write: %v", err)
				}
				if err := c.CloseWrite(); err != nil {
					t.Errorf("shutdown: %v", err)
				}
			}
			first, second := ca, cb
			fp, sp := ab, ba
			if tc.firstClose == B {
				first, second, fp, sp = cb, ca, ba, ab
			}
			send(first, fp)
			// The half-closed direction ends while the other is open.
			firstGot := gotB
			if tc.firstClose == B {
				firstGot = gotA
			}
			g := <-firstGot
			if g.err != nil || !bytes.Equal(g.b, fp) {
				t.Fatalf("first direction: got %d bytes (%v), want %d equal bytes", len(g.b), g.err, len(fp))
			}
			send(second, sp)
			secondGot := gotA
			if tc.firstClose == B {
				secondGot = gotB
			}
			g = <-secondGot
			if g.err != nil || !bytes.Equal(g.b, sp) {
				t.Fatalf("second direction: got %d bytes (%v), want %d equal bytes", len(g.b), g.err, len(sp))
			}
			if failed := wait(t, res); failed {
				t.Errorf("got failed, want a clean end")
			}
		})
	}
}

func TestResetPropagates(t *testing.T) {
	ca, cb, res := spliced(t)
	defer ca.Close()
	if _, err := ca.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(cb, buf); err != nil {
		t.Fatal(err)
	}
	cb.SetLinger(0)
	cb.Close()
	if failed := wait(t, res); !failed {
		t.Errorf("got a clean end, want failed")
	}
	ca.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := ca.Read(buf)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("got %v on the other side, want a reset", err)
	}
}

func TestConnectFailureResets(t *testing.T) {
	a, ca := tcpPair(t)
	defer ca.Close()
	// A port with nothing listening: bind one, do not listen.
	probe, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(probe)
	if err := unix.Bind(probe, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, _ := unix.Getsockname(probe)
	b, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Connect(b, sa); err != nil && err != unix.EINPROGRESS && err != unix.ECONNREFUSED {
		t.Fatal(err)
	}
	var c Conn
	if err := c.Open(a, b, true); err != nil {
		t.Fatal(err)
	}
	if failed := wait(t, pump(&c)); !failed {
		t.Errorf("got a clean end, want failed")
	}
	ca.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = ca.Read(make([]byte, 1))
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("got %v, want a reset", err)
	}
}

// opened returns a Conn splicing two loopback connections, not pumped,
// and their outer ends; all are closed when the test ends.
func opened(t *testing.T) (*Conn, *net.TCPConn, *net.TCPConn) {
	a, ca := tcpPair(t)
	b, cb := tcpPair(t)
	t.Cleanup(func() { ca.Close(); cb.Close() })
	c := new(Conn)
	if err := c.Open(a, b, false); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, ca, cb
}

func TestPipeSize(t *testing.T) {
	c, _, _ := opened(t)
	for s := range 2 {
		if got := c.PipeSize(s); got < minPipeSize || got > MaxPipeSize {
			t.Errorf("pipe %d: got size %d, want %d to %d", s, got, minPipeSize, MaxPipeSize)
		}
	}
}

func TestMoveAllocatesNothing(t *testing.T) {
	c, ca, cb := opened(t)
	msg := make([]byte, 1000)
	buf := make([]byte, 1000)
	var want uint64
	allocs := testing.AllocsPerRun(100, func() {
		ca.Write(msg)
		want += uint64(len(msg))
		for c.Moved[A] < want {
			c.Event(A, unix.EPOLLIN)
		}
		io.ReadFull(cb, buf)
	})
	if allocs != 0 {
		t.Errorf("got %v allocations per move, want 0", allocs)
	}
}

func BenchmarkSplice(b *testing.B) {
	ca, cb, res := spliced(b)
	defer ca.Close()
	defer cb.Close()
	chunk := make([]byte, 256<<10)
	b.SetBytes(int64(len(chunk)))
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, cb)
		done <- err
	}()
	b.ResetTimer()
	for range b.N {
		if _, err := ca.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	ca.CloseWrite()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	cb.CloseWrite()
	<-res
}

// sysctlInt reads an integer from /proc/sys.
func sysctlInt(t *testing.T, name string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/" + name)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSocketBuffers(t *testing.T) {
	c, _, _ := opened(t)
	// The kernel doubles what it is given, after capping it at the
	// sysctl maximum.
	want := map[int]int{
		unix.SO_RCVBUF: 2 * min(SocketBuffer, sysctlInt(t, "net/core/rmem_max")),
		unix.SO_SNDBUF: 2 * min(SocketBuffer, sysctlInt(t, "net/core/wmem_max")),
	}
	for s := range 2 {
		for opt, w := range want {
			got, err := unix.GetsockoptInt(c.FD(s), unix.SOL_SOCKET, opt)
			if err != nil {
				t.Fatal(err)
			}
			if got != w {
				t.Errorf("side %d option %d: got %d, want %d", s, opt, got, w)
			}
		}
	}
}
