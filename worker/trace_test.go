// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package worker

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"passt-go/conf"
	"passt-go/ipc"
	"passt-go/proto/flow"
	"passt-go/proto/header"
)

// logLines reads what the worker has sent to the monitor so far and
// returns its log lines by level.
func logLines(t *testing.T, mon *ipc.Conn) map[ipc.Level][]string {
	t.Helper()
	mon.SetNonblocking(true)
	got := map[ipc.Level][]string{}
	for {
		m, err := mon.Recv()
		if errors.Is(err, ipc.ErrWouldBlock) {
			return got
		}
		if err != nil {
			t.Fatalf("IPC: %v", err)
		}
		if l, ok := m.Body.(ipc.Log); ok {
			got[l.Level] = append(got[l.Level], l.Text)
		}
	}
}

// udpFrame is a UDP datagram from the guest.
func udpFrame(src, dst netip.AddrPort, payload []byte) []byte {
	f := make([]byte, header.EthernetLen+header.IPv4MinLen+header.UDPLen+len(payload))
	n := header.PutEthernet(f, header.MAC{0x02, 0, 0, 0, 0, 1}, guestMAC, header.EtherTypeIPv4)
	n += header.PutIPv4(f[n:], header.UDPLen+len(payload), header.IPv4Fields{Src: src.Addr(), Dst: dst.Addr(), Protocol: header.ProtocolUDP})
	header.PutUDP(f[n:], src.Port(), dst.Port(), len(payload))
	copy(f[n+header.UDPLen:], payload)
	header.SetTransportChecksum4(f[n:], header.ProtocolUDP, src.Addr(), dst.Addr())
	return f
}

// With --trace every frame, each way, and every flow opened and closed
// gives one trace line; without it there is none.
func TestTrace(t *testing.T) {
	gw := netip.MustParseAddr("192.0.2.1")
	guest := netip.AddrPortFrom(netip.MustParseAddr("192.0.2.2"), 40000)
	// The gateway stands for the host's loopback: port 9 there (discard)
	// gets the datagram, or nothing listens and the kernel drops it.
	remote := netip.AddrPortFrom(gw, 9)
	push := func(w *Worker, peer int) {
		w.fromGuest(arpRequest(gw))
		w.fromGuest(make([]byte, 10))
		w.fromGuest(udpFrame(guest, remote, []byte("trace me")))
		w.udp.h.Flush()
		w.flush()
		drain(t, peer)
		// Idle far beyond any timeout: the UDP flow closes.
		w.udp.h.Expire(flow.Now().Add(time.Hour))
	}
	want := []string{
		"from guest: ARP request 192.0.2.2 > 192.0.2.1, 42 bytes",
		"to guest: ARP reply 192.0.2.1 > 192.0.2.2, 42 bytes",
		"from guest: Ethernet, 10 bytes, dropped: too short",
		"from guest: IPv4 UDP 192.0.2.2:40000 > 192.0.2.1:9, 50 bytes",
		"flow 0 opened: udp, guest 192.0.2.2:40000, remote 192.0.2.1:9",
		"flow 0 closed: udp, guest 192.0.2.2:40000, remote 192.0.2.1:9",
	}

	t.Run("on", func(t *testing.T) {
		w, peer, mon := testWorkerIPC(t, nil, func(c *conf.Config) { c.Log.Trace = true })
		logLines(t, mon)
		push(w, peer)
		got := logLines(t, mon)[ipc.LevelTrace]
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("got trace lines\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
	t.Run("off", func(t *testing.T) {
		w, peer, mon := testWorkerIPC(t, nil, nil)
		logLines(t, mon)
		push(w, peer)
		if got := logLines(t, mon)[ipc.LevelTrace]; len(got) != 0 {
			t.Errorf("got trace lines without --trace:\n%s", strings.Join(got, "\n"))
		}
	})
}

var lostLine = regexp.MustCompile(`^(\d+) trace lines lost: `)

// When the monitor does not read, the worker goes on: trace lines that do
// not fit are counted, and the count arrives once there is room. Every
// line is either delivered or counted.
func TestTraceMonitorBehind(t *testing.T) {
	w, peer, mon := testWorkerIPC(t, nil, func(c *conf.Config) { c.Log.Trace = true })
	logLines(t, mon)
	// The smallest send buffer the kernel allows: full after a few lines
	// whatever the machine's defaults.
	if err := unix.SetsockoptInt(w.conn.FD(), unix.SOL_SOCKET, unix.SO_SNDBUF, 0); err != nil {
		t.Fatal(err)
	}
	req := arpRequest(netip.MustParseAddr("192.0.2.1"))
	const frames = 1000
	var delivered, lost int
	count := func() {
		got := logLines(t, mon)
		delivered += len(got[ipc.LevelTrace])
		for _, l := range got[ipc.LevelWarning] {
			m := lostLine.FindStringSubmatch(l)
			if m == nil {
				t.Errorf("unexpected warning %q", l)
				continue
			}
			n, _ := strconv.Atoi(m[1])
			lost += n
		}
	}
	for i := 0; i < frames; i++ {
		w.fromGuest(req)
		if w.outUsed == len(w.out) {
			w.flush()
			drain(t, peer)
		}
	}
	w.flush()
	drain(t, peer)
	if w.traceLost == 0 {
		t.Fatalf("the IPC socket took %d trace lines unread: make the test send more", 2*frames)
	}
	count()
	// Room again: the next line brings the count.
	w.fromGuest(req)
	w.flush()
	drain(t, peer)
	count()
	if want := 2 * (frames + 1); delivered+lost != want || lost == 0 {
		t.Errorf("got %d lines delivered and %d counted as lost, want %d in all, some lost", delivered, lost, want)
	}
}

// describeFrame covers the frames the data path sees.
func TestDescribeFrame(t *testing.T) {
	bad := udpFrame(netip.MustParseAddrPort("192.0.2.2:1"), netip.MustParseAddrPort("192.0.2.1:2"), nil)
	bad[header.EthernetLen+10] ^= 0xff // IPv4 header checksum
	other := make([]byte, 60)
	header.PutEthernet(other, header.BroadcastMAC, guestMAC, 0x88b5)
	tests := []struct {
		name  string
		frame []byte
		want  string
	}{
		{"ARP", arpRequest(netip.MustParseAddr("192.0.2.1")), "ARP request 192.0.2.2 > 192.0.2.1, 42 bytes"},
		{"UDP", udpFrame(netip.MustParseAddrPort("192.0.2.2:53000"), netip.MustParseAddrPort("192.0.2.1:53"), []byte("x")),
			"IPv4 UDP 192.0.2.2:53000 > 192.0.2.1:53, 43 bytes"},
		{"bad checksum", bad, "IPv4 proto 17 192.0.2.2 > 192.0.2.1, 42 bytes, dropped: bad checksum"},
		{"other ethertype", other, fmt.Sprintf("ethertype 0x88b5 %s > ff:ff:ff:ff:ff:ff, 60 bytes, dropped: bad ethertype", guestMAC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, d := header.Decode(tc.frame)
			if got := describeFrame(tc.frame, &f, d); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
