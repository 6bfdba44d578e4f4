// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package worker

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"passt-go/conf"
	"passt-go/host"
	"passt-go/ipc"
	"passt-go/proto/header"
)

var guestMAC = header.MAC{0x02, 0, 0, 0, 0, 0x42}

// testWorker builds a passt-mode worker, outside any sandbox, serving one
// end of a socketpair as its qemu connection; the other end is returned.
func testWorker(t testing.TB) (*Worker, int) {
	t.Helper()
	return testWorkerWith(t, nil)
}

// testWorkerWith is testWorker with the resolved configuration changed
// by change, when not nil, before the worker is built.
func testWorkerWith(t testing.TB, change func(*conf.Config)) (*Worker, int) {
	t.Helper()
	opts, _, err := conf.Parse(conf.Passt, nil)
	if err != nil {
		t.Fatal(err)
	}
	info := &host.Info{
		V4: &host.Family{Ifname: "eth0", Ifindex: 2, MTU: 1500,
			Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}, Gateway: netip.MustParseAddr("192.0.2.1")},
		V6: &host.Family{Ifname: "eth0", Ifindex: 2, MTU: 1500,
			Addrs:     []netip.Prefix{netip.MustParsePrefix("2001:db8:1::2/64")},
			LinkLocal: netip.MustParseAddr("fe80::1:2"), Gateway: netip.MustParseAddr("fe80::1")},
		Nameservers:    []netip.Addr{netip.MustParseAddr("192.0.2.1")},
		EphemeralPorts: [2]uint16{49152, 65535},
	}
	cfg, err := conf.Resolve(opts, info)
	if err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(cfg)
	}
	mon, wrk, err := ipc.Pair()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mon.Close() })
	wrk.SetNonblocking(true)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[1]) })
	w, err := newWorker(cfg, wrk, []handed{{entry: ipc.FDEntry{Role: ipc.FDQemuConn}, fd: fds[0]}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.loop.Close(); wrk.Close() })
	w.serveConn(fds[0])
	w.flush()
	drain(t, fds[1])
	return w, fds[1]
}

// drain reads whatever the worker sent so far and returns the frames.
func drain(t testing.TB, fd int) [][]byte {
	t.Helper()
	var frames [][]byte
	buf := make([]byte, 1<<20)
	var stream []byte
	for {
		n, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
		if n <= 0 || err != nil {
			break
		}
		stream = append(stream, buf[:n]...)
	}
	for len(stream) >= 4 {
		n := int(binary.BigEndian.Uint32(stream))
		if len(stream) < 4+n {
			t.Fatalf("partial frame in the stream")
		}
		frames = append(frames, stream[4:4+n])
		stream = stream[4+n:]
	}
	return frames
}

func arpRequest(target netip.Addr) []byte {
	f := make([]byte, 42)
	header.PutEthernet(f, header.BroadcastMAC, guestMAC, header.EtherTypeARP)
	header.PutARP(f[14:], header.ARPRequest, guestMAC, netip.MustParseAddr("192.0.2.2"), header.MAC{}, target)
	return f
}

// A frame from the guest reaches its service and the answer goes back on
// the qemu stream.
func TestARPAnswered(t *testing.T) {
	w, peer := testWorker(t)
	w.fromGuest(arpRequest(netip.MustParseAddr("192.0.2.1")))
	w.flush()
	frames := drain(t, peer)
	if len(frames) != 1 {
		t.Fatalf("got %d frames, want 1 ARP reply", len(frames))
	}
	f, d := header.Decode(frames[0])
	if d != header.DropNone || f.EtherType != header.EtherTypeARP || f.DstMAC != guestMAC {
		t.Errorf("got %+v (%v), want an ARP reply to %v", f, d, guestMAC)
	}
	if w.l2.guestMAC != guestMAC {
		t.Errorf("guest MAC: got %v, want %v", w.l2.guestMAC, guestMAC)
	}
}

// Malformed frames are dropped and counted by reason; the next good frame
// is still answered.
func TestDropsCounted(t *testing.T) {
	w, peer := testWorker(t)
	short := make([]byte, 10)
	badType := make([]byte, 60)
	header.PutEthernet(badType, header.BroadcastMAC, guestMAC, 0x88b5)
	w.fromGuest(short)
	w.fromGuest(badType)
	w.fromGuest(arpRequest(netip.MustParseAddr("192.0.2.1")))
	w.flush()
	var dropped uint64
	for _, v := range w.decodeDrops {
		dropped += v
	}
	if dropped != 2 {
		t.Errorf("got %d decode drops, want 2 (%v)", dropped, w.decodeDrops)
	}
	if n := len(drain(t, peer)); n != 1 {
		t.Errorf("got %d frames after the bad ones, want 1 reply", n)
	}
}

// Dispatching a frame to a service and queueing the answer allocates
// nothing.
func TestDispatchAllocatesNothing(t *testing.T) {
	w, peer := testWorker(t)
	req := arpRequest(netip.MustParseAddr("192.0.2.1"))
	allocs := testing.AllocsPerRun(200, func() {
		w.fromGuest(req)
		if w.outUsed == len(w.out) {
			w.flush()
		}
	})
	w.flush()
	drain(t, peer)
	if allocs != 0 {
		t.Errorf("got %v allocations per frame, want 0", allocs)
	}
}

func BenchmarkDispatchARP(b *testing.B) {
	w, peer := testWorker(b)
	req := arpRequest(netip.MustParseAddr("192.0.2.1"))
	b.SetBytes(int64(len(req)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w.fromGuest(req)
		if w.outUsed == len(w.out) {
			w.flush()
			drain(b, peer)
		}
	}
}
