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
	if len(w.splice.listeners) != 0 {
		t.Fatalf("listeners: got %d, want 0", len(w.splice.listeners))
	}

	unix.SetNonblock(fd1, true) // as the keeper's
	w.autoMessage(ipc.Message{Body: ipc.FDs{Entries: []ipc.FDEntry{e1}}, FDs: []int{fd1}})
	if len(w.splice.listeners) != 1 || w.splice.listeners[0].fd != fd1 {
		t.Fatalf("listeners after the hand-over: %+v", w.splice.listeners)
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
	if len(w.splice.freeL) != 1 || w.splice.listeners[0].fd != -1 {
		t.Errorf("slot not freed: listeners %+v, free %v", w.splice.listeners, w.splice.freeL)
	}
	// An event for the freed slot is ignored.
	w.splice.event(engine.Event{Ref: engine.Ref{Kind: kindTCPSplice, Index: listenerBit}, Events: unix.EPOLLIN})

	// The next listener takes the free slot.
	fd3, p3 := tcpListener(t)
	w.cfg.Forward.TCPNs.Table.Rules[0] = fwd.Rule{First: p3, Last: p3, ToFirst: tport, Auto: true}
	e3 := e1
	e3.Port = p3
	w.autoMessage(ipc.Message{Body: ipc.FDs{Entries: []ipc.FDEntry{e3}}, FDs: []int{fd3}})
	if len(w.splice.listeners) != 1 || w.splice.listeners[0].fd != fd3 || len(w.splice.freeL) != 0 {
		t.Errorf("slot not reused: listeners %+v, free %v", w.splice.listeners, w.splice.freeL)
	}
	w.autoMessage(ipc.Message{Body: keyOf(e3)})
	if isOpen(fd3) {
		t.Error("second listener still open after Unlisten")
	}
}
