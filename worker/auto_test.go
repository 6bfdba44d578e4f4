// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package worker

import (
	"testing"

	"golang.org/x/sys/unix"

	"passt-go/fwd"
	"passt-go/ipc"
	"passt-go/proto/engine"
)

// tcpListener opens a listening TCP socket on a free loopback port.
func tcpListener(t *testing.T) (int, uint16) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 8); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fd, uint16(sa.(*unix.SockaddrInet4).Port)
}

func isOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil
}

// Listeners handed over at run time are taken for ports of auto rules
// only, checked against their entries, and closed on Unlisten.
func TestAutoListeners(t *testing.T) {
	w, _ := testWorker(t)
	w.cfg.Forward.TCP.Table = &fwd.Table{Proto: fwd.TCP, Rules: []fwd.Rule{
		{First: 1, Last: 1023, ToFirst: 1},
		{First: 1024, Last: 65535, ToFirst: 1024, Auto: true, Weak: true},
	}}
	fd, port := tcpListener(t)
	entry := ipc.FDEntry{Role: ipc.FDTCPListener, Proto: ipc.TCP, Family: ipc.IPv4, Side: ipc.SideHost, Port: port, Rule: 1}

	refused := []struct {
		name  string
		entry ipc.FDEntry
	}{
		{name: "not an auto rule", entry: ipc.FDEntry{Role: ipc.FDTCPListener, Proto: ipc.TCP, Side: ipc.SideHost, Port: port, Rule: 0}},
		{name: "unknown rule", entry: ipc.FDEntry{Role: ipc.FDTCPListener, Proto: ipc.TCP, Side: ipc.SideHost, Port: port, Rule: 9}},
		{name: "wrong port", entry: ipc.FDEntry{Role: ipc.FDTCPListener, Proto: ipc.TCP, Side: ipc.SideHost, Port: port ^ 1, Rule: 1}},
		{name: "namespace side", entry: ipc.FDEntry{Role: ipc.FDTCPListener, Proto: ipc.TCP, Side: ipc.SideNamespace, Port: port, Rule: 1}},
		{name: "UDP role", entry: ipc.FDEntry{Role: ipc.FDUDPListener, Proto: ipc.UDP, Side: ipc.SideHost, Port: port, Rule: 1}},
		{name: "tap role", entry: ipc.FDEntry{Role: ipc.FDTap}},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			dup, err := unix.Dup(fd)
			if err != nil {
				t.Fatal(err)
			}
			if !w.autoMessage(ipc.Message{Body: ipc.FDs{Entries: []ipc.FDEntry{tc.entry}}, FDs: []int{dup}}) {
				t.Fatal("FDs message not taken")
			}
			if isOpen(dup) {
				unix.Close(dup)
				t.Error("refused descriptor left open")
			}
			if got := w.tcp.h.Listeners(); got != 0 {
				t.Errorf("listeners: got %d, want 0", got)
			}
		})
	}

	if !w.autoMessage(ipc.Message{Body: ipc.FDs{Entries: []ipc.FDEntry{entry}}, FDs: []int{fd}}) {
		t.Fatal("FDs message not taken")
	}
	if got := w.tcp.h.Listeners(); got != 1 {
		t.Fatalf("listeners after the hand-over: got %d, want 1", got)
	}
	other := ipc.Unlisten{Role: entry.Role, Family: entry.Family, Side: entry.Side, Port: entry.Port, Rule: 0}
	w.autoMessage(ipc.Message{Body: other})
	if got := w.tcp.h.Listeners(); got != 1 {
		t.Errorf("listeners after Unlisten of another listener: got %d, want 1", got)
	}
	w.autoMessage(ipc.Message{Body: keyOf(entry)})
	if got := w.tcp.h.Listeners(); got != 0 {
		t.Errorf("listeners after Unlisten: got %d, want 0", got)
	}
	if isOpen(fd) {
		t.Error("listener still open after Unlisten")
	}
	if w.autoMessage(ipc.Message{Body: ipc.Shutdown{}}) {
		t.Error("Shutdown taken as an auto forwarding message")
	}
}

// -T auto: listeners inside the namespace handed over at run time are
// taken for ports of auto -T rules, accept and connect to the rule's
// target, keep their index while others come and go, and are closed on
// Unlisten.
func TestAutoNsListeners(t *testing.T) {
	w, _ := testWorker(t)
	target, tport := tcpListener(t)
	defer unix.Close(target)
	fd1, p1 := tcpListener(t)
	fd2, p2 := tcpListener(t)
	w.cfg.Forward.TCPNs.Table = &fwd.Table{Proto: fwd.TCP, Dir: fwd.GuestToHost, Rules: []fwd.Rule{
		{First: p1, Last: p1, ToFirst: tport, Auto: true},
		{First: p2, Last: p2, ToFirst: p2},
	}}
	e1 := ipc.FDEntry{Role: ipc.FDTCPListener, Proto: ipc.TCP, Family: ipc.IPv4, Side: ipc.SideNamespace, Port: p1, Rule: 0}
	e2 := e1
	e2.Port, e2.Rule = p2, 1

	// Not an auto rule: refused.
	w.autoMessage(ipc.Message{Body: ipc.FDs{Entries: []ipc.FDEntry{e2}}, FDs: []int{fd2}})
	if isOpen(fd2) {
		unix.Close(fd2)
		t.Error("listener of a rule that is not auto left open")
	}
	if len(w.splice.listeners.At) != 0 {
		t.Fatalf("listeners: got %d, want 0", len(w.splice.listeners.At))
	}

	unix.SetNonblock(fd1, true) // as the keeper's
	w.autoMessage(ipc.Message{Body: ipc.FDs{Entries: []ipc.FDEntry{e1}}, FDs: []int{fd1}})
	if len(w.splice.listeners.At) != 1 || w.splice.listeners.At[0].fd != fd1 {
		t.Fatalf("listeners after the hand-over: %+v", w.splice.listeners.At)
	}

	// A connection to it is accepted and connected to the target.
	c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(c)
	if err := unix.Connect(c, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: int(p1)}); err != nil {
		t.Fatal(err)
	}
	w.splice.event(engine.Event{Ref: engine.Ref{Kind: kindTCPSplice, Index: listenerBit}, Events: unix.EPOLLIN})
	if w.splice.accepted != 1 || w.splice.connectFailed != 0 {
		t.Fatalf("accepted %d, connect failed %d: want 1, 0", w.splice.accepted, w.splice.connectFailed)
	}
	pfd := []unix.PollFd{{Fd: int32(target), Events: unix.POLLIN}}
	if n, _ := unix.Poll(pfd, 2000); n != 1 {
		t.Error("no connection reached the target")
	}

	w.autoMessage(ipc.Message{Body: keyOf(e1)})
	if isOpen(fd1) {
		t.Error("listener still open after Unlisten")
	}
	if w.splice.listeners.Len() != 0 || w.splice.listeners.At[0].fd != -1 {
		t.Errorf("slot not freed: listeners %+v, %d in use", w.splice.listeners.At, w.splice.listeners.Len())
	}
	// An event for the freed slot is ignored.
	w.splice.event(engine.Event{Ref: engine.Ref{Kind: kindTCPSplice, Index: listenerBit}, Events: unix.EPOLLIN})

	// The next listener takes the free slot.
	fd3, p3 := tcpListener(t)
	w.cfg.Forward.TCPNs.Table.Rules[0] = fwd.Rule{First: p3, Last: p3, ToFirst: tport, Auto: true}
	e3 := e1
	e3.Port = p3
	w.autoMessage(ipc.Message{Body: ipc.FDs{Entries: []ipc.FDEntry{e3}}, FDs: []int{fd3}})
	if len(w.splice.listeners.At) != 1 || w.splice.listeners.At[0].fd != fd3 || w.splice.listeners.Len() != 1 {
		t.Errorf("slot not reused: listeners %+v, %d in use", w.splice.listeners.At, w.splice.listeners.Len())
	}
	w.autoMessage(ipc.Message{Body: keyOf(e3)})
	if isOpen(fd3) {
		t.Error("second listener still open after Unlisten")
	}
}

// udpSocket opens a non-blocking UDP socket bound to a free loopback
// port, as the keeper's -U sockets are.
func udpSocket(t *testing.T) (int, uint16) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fd, uint16(sa.(*unix.SockaddrInet4).Port)
}

// recvWait waits up to two seconds for a datagram on fd and returns it
// with its sender.
func recvWait(t *testing.T, fd int, what string) ([]byte, unix.Sockaddr) {
	t.Helper()
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	if n, _ := unix.Poll(pfd, 2000); n != 1 {
		t.Fatalf("no datagram reached %s", what)
	}
	buf := make([]byte, 2048)
	n, from, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return buf[:n], from
}

// -U auto: bound sockets inside the namespace handed over at run time are
// taken for ports of auto -U rules, move datagrams to the rule's target
// and back, keep their index while others come and go, and are closed on
// Unlisten with their flows.
func TestAutoNsUDP(t *testing.T) {
	w, _ := testWorker(t)
	target, tport := udpSocket(t)
	defer unix.Close(target)
	fd1, p1 := udpSocket(t)
	fd2, p2 := udpSocket(t)
	w.cfg.Forward.UDPNs.Table = &fwd.Table{Proto: fwd.UDP, Dir: fwd.GuestToHost, Rules: []fwd.Rule{
		{First: p1, Last: p1, ToFirst: tport, Auto: true},
		{First: p2, Last: p2, ToFirst: p2},
	}}
	e1 := ipc.FDEntry{Role: ipc.FDUDPListener, Proto: ipc.UDP, Family: ipc.IPv4, Side: ipc.SideNamespace, Port: p1, Rule: 0}
	e2 := e1
	e2.Port, e2.Rule = p2, 1
	g := &w.udpSplice
	listener := engine.Event{Ref: engine.Ref{Kind: kindUDPSplice, Index: listenerBit}, Events: unix.EPOLLIN}

	// Not an auto rule: refused.
	w.autoMessage(ipc.Message{Body: ipc.FDs{Entries: []ipc.FDEntry{e2}}, FDs: []int{fd2}})
	if isOpen(fd2) {
		unix.Close(fd2)
		t.Error("socket of a rule that is not auto left open")
	}
	if len(g.socks.At) != 0 {
		t.Fatalf("sockets: got %d, want 0", len(g.socks.At))
	}

	w.autoMessage(ipc.Message{Body: ipc.FDs{Entries: []ipc.FDEntry{e1}}, FDs: []int{fd1}})
	if len(g.socks.At) != 1 || g.socks.At[0].fd != fd1 {
		t.Fatalf("sockets after the hand-over: %+v", g.socks.At)
	}

	// A client's datagram reaches the target, and the answer the client.
	c, cport := udpSocket(t)
	defer unix.Close(c)
	if err := unix.Sendto(c, []byte("ping"), 0, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: int(p1)}); err != nil {
		t.Fatal(err)
	}
	g.event(listener)
	if g.opened != 1 || len(g.byKey) != 1 {
		t.Fatalf("flows opened %d, live %d: want 1, 1", g.opened, len(g.byKey))
	}
	got, from := recvWait(t, target, "the target")
	if string(got) != "ping" {
		t.Errorf("target got %q, want %q", got, "ping")
	}
	if err := unix.Sendto(target, []byte("pong"), 0, from); err != nil {
		t.Fatal(err)
	}
	flowFD := g.flows[0].fd
	pfd := []unix.PollFd{{Fd: int32(flowFD), Events: unix.POLLIN}}
	unix.Poll(pfd, 2000)
	g.event(engine.Event{Ref: engine.Ref{Kind: kindUDPSplice, Index: 0}, Events: unix.EPOLLIN})
	got, from = recvWait(t, c, "the client")
	if string(got) != "pong" || from.(*unix.SockaddrInet4).Port != int(p1) {
		t.Errorf("client %d got %q from %+v, want %q from port %d", cport, got, from, "pong", p1)
	}

	// Unlisten closes the socket and its flow, and frees both slots.
	w.autoMessage(ipc.Message{Body: keyOf(e1)})
	if isOpen(fd1) {
		t.Error("socket still open after Unlisten")
	}
	if isOpen(flowFD) {
		t.Error("flow of the removed socket still open")
	}
	if g.socks.At[0].fd != -1 || g.socks.Len() != 0 || len(g.byKey) != 0 || len(g.free) != 1 {
		t.Errorf("slots not freed: sockets %+v, %d in use, flows %d, free flows %v", g.socks.At, g.socks.Len(), len(g.byKey), g.free)
	}
	// An event for the freed slot is ignored.
	g.event(listener)
	if g.opened != 1 {
		t.Errorf("flows opened after an event of a freed slot: %d, want 1", g.opened)
	}

	// The next socket takes the free slot.
	fd3, p3 := udpSocket(t)
	w.cfg.Forward.UDPNs.Table.Rules[0] = fwd.Rule{First: p3, Last: p3, ToFirst: tport, Auto: true}
	e3 := e1
	e3.Port = p3
	w.autoMessage(ipc.Message{Body: ipc.FDs{Entries: []ipc.FDEntry{e3}}, FDs: []int{fd3}})
	if len(g.socks.At) != 1 || g.socks.At[0].fd != fd3 || g.socks.Len() != 1 {
		t.Errorf("slot not reused: sockets %+v, %d in use", g.socks.At, g.socks.Len())
	}
	w.autoMessage(ipc.Message{Body: keyOf(e3)})
	if isOpen(fd3) {
		t.Error("second socket still open after Unlisten")
	}
}
