// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package worker

import (
	"testing"

	"golang.org/x/sys/unix"

	"passt-go/fwd"
	"passt-go/ipc"
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
