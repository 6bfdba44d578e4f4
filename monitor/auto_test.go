// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package monitor

import (
	"slices"
	"testing"

	"passt-go/ipc"
)

const procNetTCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0
   2: 0200000A:C350 0100000A:1F90 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 20 4 30 10 -1
   3: garbage
   4: 00000000:zzzz 00000000:0000 0A
`

const procNetUDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  10: 00000000000000000000000000000000:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4 2 0000000000000000 0
  11: 00000000000000000000000001000000:D431 00000000000000000000000001000000:0035 01 00000000:00000000 00:00000000 00000000     0        0 5 2 0000000000000000 0
`

func TestParseProcNet(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		state uint8
		want  []uint16
	}{
		{name: "tcp listening", text: procNetTCP, state: stateListen, want: []uint16{22, 8080}},
		{name: "udp6 unconnected", text: procNetUDP6, state: stateClose, want: []uint16{53}},
		{name: "heading only", text: "  sl  local_address\n", state: stateListen},
		{name: "empty", state: stateListen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s ipc.PortSet
			parseProcNet([]byte(tc.text), tc.state, &s)
			got := slices.Collect(s.All())
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
