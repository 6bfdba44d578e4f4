// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tcp

import (
	"syscall"
	"testing"
)

// A removed listener is closed and its slot taken by the next one; an
// event for the empty slot is ignored.
func TestRemoveListener(t *testing.T) {
	e := newEnv(t, envOptions{})
	socket := func() int {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		return fd
	}
	a, b := socket(), socket()
	if err := e.h.AddListener(a, Forward{Port: 1, ToPort: 1}); err != nil {
		t.Fatal(err)
	}
	if err := e.h.AddListener(b, Forward{Port: 2, ToPort: 2}); err != nil {
		t.Fatal(err)
	}
	if !e.h.RemoveListener(a) {
		t.Fatal("RemoveListener of a listener: got false, want true")
	}
	if e.h.RemoveListener(a) {
		t.Error("second RemoveListener: got true, want false")
	}
	if _, err := syscall.GetsockoptInt(a, syscall.SOL_SOCKET, syscall.SO_TYPE); err == nil {
		t.Error("removed listener's descriptor still open")
	}
	if got := e.h.Listeners(); got != 1 {
		t.Errorf("listeners after removal: got %d, want 1", got)
	}
	e.h.Event(engineEvent(testKinds.Listen, 0)) // the empty slot
	c := socket()
	if err := e.h.AddListener(c, Forward{Port: 3, ToPort: 3}); err != nil {
		t.Fatal(err)
	}
	if e.h.listeners.At[0].fd != c || e.h.listeners.At[0].Port != 3 {
		t.Errorf("slot 0: got fd %d port %d, want fd %d port 3", e.h.listeners.At[0].fd, e.h.listeners.At[0].Port, c)
	}
	if got := len(e.h.listeners.At); got != 2 {
		t.Errorf("slots: got %d, want 2", got)
	}
}
