// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package worker

import (
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"os"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"

	"passt-go/conf"
	"passt-go/host"
	"passt-go/internal/testnet"
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
	w, peer, _ := testWorkerIPC(t, nil, change)
	return w, peer
}

// testWorkerArgs is testWorkerWith for the passt command line args.
func testWorkerArgs(t testing.TB, args []string, change func(*conf.Config)) (*Worker, int) {
	t.Helper()
	w, peer, _ := testWorkerIPC(t, args, change)
	return w, peer
}

// testWorkerIPC is testWorkerArgs that also returns the monitor's end of
// the worker's IPC connection. The configuration reaches the worker as
// the monitor sends it: encoded, through that connection, and read back
// by readConfig.
func testWorkerIPC(t testing.TB, args []string, change func(*conf.Config)) (*Worker, int, *ipc.Conn) {
	t.Helper()
	opts, _, err := conf.Parse(conf.Passt, args)
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
	blob, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := mon.Send(ipc.Message{Body: ipc.Config{Blob: blob}}); err != nil {
		t.Fatal(err)
	}
	got, err := readConfig(wrk)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Warnings = nil // not sent
	if !reflect.DeepEqual(got, cfg) {
		t.Fatalf("configuration changed on its way to the worker:\n got %+v\nwant %+v", got, cfg)
	}
	cfg = got
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
	return w, fds[1], mon
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

// pingNetns is a network namespace with lo up where any group may open
// ping sockets, for the sockets the worker's flows open.
func pingNetns(t testing.TB) *testnet.NetNS {
	t.Helper()
	return testnet.NewNetNS(t, func() error {
		return os.WriteFile("/proc/sys/net/ipv4/ping_group_range", []byte("0 2147483647"), 0)
	})
}

// checkForwardAllocs sends frame through w's dispatch, in ns, once to open
// its flow and again under testing.AllocsPerRun: once the flow exists,
// taking a frame and sending it on through the flow's socket allocates
// nothing. sent counts what the flow's handler sent on; every frame must
// have been sent, on the one flow opened.
func checkForwardAllocs(t *testing.T, w *Worker, ns *testnet.NetNS, frame []byte, sent func() uint64) {
	t.Helper()
	const runs = 200
	flows := w.l2.flows.Len()
	before := sent()
	var allocs float64
	ns.Run(func() {
		w.fromGuest(frame)
		allocs = testing.AllocsPerRun(runs, func() { w.fromGuest(frame) })
	})
	if got := sent() - before; got != runs+2 {
		t.Errorf("sent %d frames on, want %d (drops %v, decode drops %v)", got, runs+2, w.drops, w.decodeDrops)
	}
	if got := w.l2.flows.Len() - flows; got != 1 {
		t.Errorf("%d flows opened, want 1", got)
	}
	if allocs != 0 {
		t.Errorf("got %v allocations per frame, want 0", allocs)
	}
}

// A UDP datagram from the guest to the gateway goes through the worker's
// dispatch to the host's loopback on its flow's socket without allocating.
func TestDispatchUDPAllocatesNothing(t *testing.T) {
	ns := pingNetns(t)
	w, _ := testWorker(t)
	if w.udp.h == nil {
		t.Fatal("UDP is not enabled in the test configuration")
	}
	// A server on the namespace's loopback, so that no port unreachable
	// error comes back; it never reads, and what overflows its buffer is
	// dropped.
	var port int
	var err error
	ns.Run(func() {
		var fd int
		if fd, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0); err != nil {
			return
		}
		t.Cleanup(func() { unix.Close(fd) })
		if err = unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			return
		}
		var sa unix.Sockaddr
		if sa, err = unix.Getsockname(fd); err == nil {
			port = sa.(*unix.SockaddrInet4).Port
		}
	})
	if err != nil {
		t.Fatalf("UDP server: %v", err)
	}
	frame := testnet.UDPFrame(header.MAC(w.cfg.MAC), guestMAC,
		netip.MustParseAddrPort("192.0.2.2:40000"), netip.AddrPortFrom(w.cfg.IPv4.Gateway, uint16(port)), 64, []byte("allocation-free datagram"))
	checkForwardAllocs(t, w, ns, frame, func() uint64 { return w.udp.h.Counters().FromGuest })
}

// An ICMP echo request from the guest to the gateway goes through the
// worker's dispatch to the host's loopback on its flow's ping socket
// without allocating.
func TestDispatchICMPAllocatesNothing(t *testing.T) {
	ns := pingNetns(t)
	w, _ := testWorker(t)
	if w.l2.icmp == nil {
		t.Fatal("ICMP is not enabled in the test configuration")
	}
	msg := make([]byte, header.ICMPLen+32)
	header.PutICMPv4Echo(msg, header.ICMPv4EchoRequest, 0x4242, 1, msg[header.ICMPLen:])
	frame := make([]byte, header.EthernetLen+header.IPv4MinLen+len(msg))
	header.PutEthernet(frame, header.MAC(w.cfg.MAC), guestMAC, header.EtherTypeIPv4)
	header.PutIPv4(frame[header.EthernetLen:], len(msg), header.IPv4Fields{
		Src: netip.MustParseAddr("192.0.2.2"), Dst: w.cfg.IPv4.Gateway, Protocol: header.ProtocolICMP, TTL: 64,
	})
	copy(frame[header.EthernetLen+header.IPv4MinLen:], msg)
	checkForwardAllocs(t, w, ns, frame, func() uint64 { return w.l2.icmp.Counters().Requests })
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
