// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package nstest

import (
	"errors"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// StartBridge creates a tap device in ns as cfg describes (cfg.NetNS is
// replaced by ns) and bridges it to sock, a connected stream socket with
// qemu-stream framing, in the background. The bridge owns sock from then
// on. At clean-up the bridge is closed and the test fails if Run returned
// an error. The test is skipped if the kernel has no tun driver.
func StartBridge(t testing.TB, ns *NS, sock int, cfg TapConfig) (*Tap, *Bridge) {
	t.Helper()
	cfg.NetNS = ns.Path()
	tap, err := OpenTap(cfg)
	if err != nil {
		unix.Close(sock)
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENODEV) {
			if _, serr := os.Stat("/dev/net/tun"); serr != nil {
				t.Skipf("kernel refuses a tap device: %v", err)
			}
		}
		t.Fatalf("tap in %s: %v", ns, err)
	}
	b, err := NewBridge(sock, tap.FD)
	if err != nil {
		unix.Close(sock)
		unix.Close(tap.FD)
		t.Fatalf("bridge: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Run() }()
	t.Cleanup(func() {
		b.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("bridge to %s in %s: %v", tap.Name, ns, err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("bridge to %s in %s did not stop within 10s of Close", tap.Name, ns)
		}
	})
	return tap, b
}
