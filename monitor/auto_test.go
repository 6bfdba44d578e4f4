// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package monitor

import (
	"encoding/binary"
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
			parseProcNet([]byte(tc.text), tc.state, &s, nil)
			got := slices.Collect(s.All())
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// The host's -U scan counts sockets on loopback and wildcard addresses
// only. The text is as a little-endian host prints it.
func TestParseProcNetLocal(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("addresses below are as a little-endian host prints them")
	}
	const udp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
    1: 0100007F:0001 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0000000000000000 0
    2: 3500007F:0002 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 2 2 0000000000000000 0
    3: 00000000:0003 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 3 2 0000000000000000 0
    4: 0200000A:0004 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4 2 0000000000000000 0
    5: 0100007F:0005 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 5 2 0000000000000000 0
`
	const udp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
   1: 00000000000000000000000001000000:0006 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 6 2 0000000000000000 0
   2: 00000000000000000000000000000000:0007 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 7 2 0000000000000000 0
   3: 0000000000000000FFFF00000100007F:0008 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 8 2 0000000000000000 0
   4: B80D0120000000000000000001000000:0009 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 9 2 0000000000000000 0
   5: 0000000000000000FFFF00000200000A:000A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 10 2 0000000000000000 0
`
	var all, local ipc.PortSet
	parseProcNet([]byte(udp), stateClose, &all, &local)
	parseProcNet([]byte(udp6), stateClose, &all, &local)
	if got, want := slices.Collect(all.All()), []uint16{1, 2, 3, 4, 6, 7, 8, 9, 10}; !slices.Equal(got, want) {
		t.Errorf("all: got %v, want %v", got, want)
	}
	// 127.0.0.1, 127.0.0.53, 0.0.0.0, ::1, ::, ::ffff:127.0.0.1; not
	// 10.0.0.2, 2001:db8::1 or ::ffff:10.0.0.2.
	if got, want := slices.Collect(local.All()), []uint16{1, 2, 3, 6, 7, 8}; !slices.Equal(got, want) {
		t.Errorf("local: got %v, want %v", got, want)
	}
}
