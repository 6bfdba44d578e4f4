// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package udp

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// Removing a listener closes the inbound flows it opened, so that the
// port is free on the host again, and frees its slot for the next one.
func TestRemoveListener(t *testing.T) {
	ns := newTestNS(t)
	r := newRig(t, 16, nil)
	const port = 5300
	lfd := listenerSocket(t, ns, port, true)
	if err := r.h.AddListener(lfd, Forward{Port: port, ToPort: port}); err != nil {
		t.Fatal(err)
	}
	client := newServer(t, ns, netip.MustParseAddrPort("127.0.0.1:0"))
	client.send(t, netip.MustParseAddrPort("127.0.0.1:5300"), []byte("x"))
	ns.Run(func() {
		if !r.pump(1) {
			t.Fatalf("got %d frames, want 1", len(r.Sink.Frames))
		}
	})
	if got := r.h.Flows(); got != 1 {
		t.Fatalf("flows: got %d, want 1", got)
	}
	if r.h.RemoveListener(lfd + 1000) {
		t.Error("RemoveListener of an unknown descriptor: got true, want false")
	}
	if !r.h.RemoveListener(lfd) {
		t.Fatal("RemoveListener: got false, want true")
	}
	if got := r.h.Flows(); got != 0 {
		t.Errorf("flows after removal: got %d, want 0", got)
	}
	if got := r.h.Listeners(); got != 0 {
		t.Errorf("listeners after removal: got %d, want 0", got)
	}
	// Without SO_REUSEADDR, a bind succeeds only if nothing holds the port.
	ns.Run(func() {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		if err := unix.Bind(fd, &unix.SockaddrInet4{Port: port}); err != nil {
			t.Errorf("bind port %d after removal: got %v, want success", port, err)
		}
	})
	again := listenerSocket(t, ns, port+1, true)
	if err := r.h.AddListener(again, Forward{Port: port + 1, ToPort: port + 1}); err != nil {
		t.Fatal(err)
	}
	if got := len(r.h.listeners.At); got != 1 {
		t.Errorf("slots: got %d, want 1 (the freed slot reused)", got)
	}
}
