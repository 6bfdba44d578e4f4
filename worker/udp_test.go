// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package worker

import (
	"testing"
	"time"

	"passt-go/conf"
	"passt-go/proto/udp"
)

// TestUDPTimeoutsFromConfig: the UDP handler runs with the connection
// tracker's timeouts that the monitor read and put in the configuration,
// and with the kernel's defaults when the configuration has none.
func TestUDPTimeoutsFromConfig(t *testing.T) {
	tests := []struct {
		name                    string
		timeout, stream         time.Duration
		wantTimeout, wantStream time.Duration
	}{
		{"from the host", 7 * time.Second, 77 * time.Second, 7 * time.Second, 77 * time.Second},
		{"defaults", 0, 0, udp.DefaultTimeout, udp.DefaultStreamTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := testWorkerWith(t, func(c *conf.Config) {
				c.UDPTimeout, c.UDPStreamTimeout = tc.timeout, tc.stream
			})
			if w.udp.h == nil {
				t.Fatal("UDP is not enabled in the test configuration")
			}
			timeout, stream := w.udp.h.Timeouts()
			if timeout != tc.wantTimeout || stream != tc.wantStream {
				t.Errorf("got %v, %v (stream), want %v, %v", timeout, stream, tc.wantTimeout, tc.wantStream)
			}
		})
	}
}
