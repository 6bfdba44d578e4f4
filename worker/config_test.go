// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package worker

import (
	"strconv"
	"testing"

	"passt-go/proto/flow"
)

// TestMaxFlows: --max-flows travels from the command line through the
// monitor's encoding of the configuration to the worker, whose flow table
// (shared by TCP, UDP and ICMP) has that capacity.
func TestMaxFlows(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{name: "default", want: flow.DefaultCapacity},
		{name: "one", args: []string{"--max-flows", "1"}, want: 1},
		{name: "more than the default", args: []string{"--max-flows=100000"}, want: 100000},
		{name: "largest", args: []string{"--max-flows", strconv.Itoa(flow.MaxCapacity)}, want: flow.MaxCapacity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := testWorkerArgs(t, tc.args, nil)
			if got := w.cfg.MaxFlows; got != tc.want {
				t.Errorf("configuration: got %d flows, want %d", got, tc.want)
			}
			if got := w.l2.flows.Cap(); got != tc.want {
				t.Errorf("flow table: got capacity %d, want %d", got, tc.want)
			}
		})
	}
}
