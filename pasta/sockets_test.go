// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package pasta

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeKeeper serves socket requests on the far end of a channel, in the
// test's own network namespace, as the keeper does in its namespace; it
// answers nothing for port 9, so that a request can time out.
func fakeKeeper(t *testing.T) *Namespace {
	t.Helper()
	a, b, err := socketPair()
	if err != nil {
		t.Fatal(err)
	}
	k := &keeper{ch: newChannel(b)}
	go func() {
		for {
			m, fds, err := k.ch.recv()
			closeAll(fds)
			if err != nil {
				return
			}
			if m.Kind == kindSocket && m.Socket != nil && m.Socket.Port != 9 {
				k.serveSocket(m.Socket)
			}
		}
	}()
	ns := &Namespace{ch: newChannel(a), pending: make(map[uint64]chan socketAnswer)}
	go func() {
		for {
			m, fds, err := ns.ch.recv()
			if err != nil {
				ns.failSockets(err)
				return
			}
			ns.answerSocket(m, fds)
		}
	}()
	t.Cleanup(func() {
		unix.Shutdown(a, unix.SHUT_RDWR)
		unix.Close(a)
		unix.Close(b)
	})
	return ns
}

func TestSocketConnect(t *testing.T) {
	ns := fakeKeeper(t)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	fd, err := ns.Socket(SocketRequest{Addr: netip.MustParseAddr("127.0.0.1"), Port: port})
	if err != nil {
		t.Fatalf("Socket: %v", err)
	}
	defer unix.Close(fd)
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The descriptor is the client's end of the accepted connection.
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sa.(*unix.SockaddrInet4).Port, c.RemoteAddr().(*net.TCPAddr).Port; got != want {
		t.Errorf("socket bound to port %d, the server sees port %d", got, want)
	}
	if fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); fl&unix.O_NONBLOCK == 0 {
		t.Error("the socket is blocking, want non-blocking")
	}
}

func TestSocketBindUDP(t *testing.T) {
	ns := fakeKeeper(t)
	fd, err := ns.Socket(SocketRequest{UDP: true, Bind: true, Addr: netip.IPv6Loopback()})
	if err != nil {
		t.Fatalf("Socket: %v", err)
	}
	defer unix.Close(fd)
	if typ, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); typ != unix.SOCK_DGRAM {
		t.Errorf("socket type %d, want a datagram socket", typ)
	}
	sa, _ := unix.Getsockname(fd)
	if s6, ok := sa.(*unix.SockaddrInet6); !ok || s6.Addr != netip.IPv6Loopback().As16() {
		t.Errorf("bound to %v, want ::1", sa)
	}
	// The same port again: in use, and said so.
	port := sa.(*unix.SockaddrInet6).Port
	_, err = ns.Socket(SocketRequest{UDP: true, Bind: true, Addr: netip.IPv6Loopback(), Port: uint16(port)})
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second bind to port %d: %v, want in use", port, err)
	}
}

func TestSocketErrors(t *testing.T) {
	ns := fakeKeeper(t)
	if _, err := ns.Socket(SocketRequest{Port: 80}); err == nil || !strings.Contains(err.Error(), "no usable address") {
		t.Errorf("no address: %v, want no usable address", err)
	}
	if _, err := ns.Socket(SocketRequest{Addr: netip.MustParseAddr("127.0.0.1"), Port: 9}); err == nil || !strings.Contains(err.Error(), "no answer") {
		t.Errorf("unanswered request: %v, want no answer", err)
	}
	ns.failSockets(unix.EPIPE)
	if _, err := ns.Socket(SocketRequest{Addr: netip.MustParseAddr("127.0.0.1"), Port: 80}); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Errorf("keeper gone: %v, want an error saying so", err)
	}
}
