// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package nsinit

import (
	"os"
	"testing"
)

// TestWithoutMarker: this test binary links the constructor, which ran
// before main and, without the marker, left the process alone.
func TestWithoutMarker(t *testing.T) {
	if v := os.Getenv("PASST_GO_NSINIT"); v != "" {
		t.Skipf("PASST_GO_NSINIT=%s is set in the test's environment", v)
	}
	if got, want := state(), stateSkipped; got != want {
		t.Errorf("got state %d, want %d (skipped)", got, want)
	}
	// Still the host's root, with /proc in it.
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Errorf("got %v, want the host's /proc", err)
	}
}
