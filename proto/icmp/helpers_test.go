// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package icmp

import (
	"errors"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"passt-go/proto/engine"
	"passt-go/proto/flow"
	"passt-go/proto/header"
	"passt-go/proto/nat"
)

// netns is a network namespace owned by one goroutine locked to its
// thread; functions given to run execute on that thread, so the sockets
// they open belong to the namespace. The goroutine never unlocks: when it
// ends, its thread ends with it and the namespace goes away.
type netns struct {
	do  chan func()
	ack chan struct{}
}

// newNetns creates a network namespace with lo up and ping_group_range set
// to pingRange (the empty string leaves the namespace's default, "1 0").
// It skips the test when the kernel refuses to create the namespace.
func newNetns(t testing.TB, pingRange string) *netns {
	t.Helper()
	ns := &netns{do: make(chan func()), ack: make(chan struct{})}
	errc := make(chan error)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- &nsError{"unshare(CLONE_NEWNET)", err}
			return
		}
		if err := linkUp("lo"); err != nil {
			errc <- err
			return
		}
		if pingRange != "" {
			if err := writeSysctl("/proc/sys/net/ipv4/ping_group_range", pingRange); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
		for fn := range ns.do {
			fn()
			ns.ack <- struct{}{}
		}
	}()
	if err := <-errc; err != nil {
		var ne *nsError
		if errors.As(err, &ne) && (errors.Is(ne.err, unix.EPERM) || errors.Is(ne.err, unix.EINVAL) || errors.Is(ne.err, unix.ENOSPC)) {
			t.Skipf("the kernel refused a network namespace: %v", err)
		}
		t.Fatalf("namespace set-up: %v", err)
	}
	t.Cleanup(func() { close(ns.do) })
	return ns
}

type nsError struct {
	op  string
	err error
}

func (e *nsError) Error() string { return e.op + ": " + e.err.Error() }
func (e *nsError) Unwrap() error { return e.err }

// run executes fn on the namespace's thread and waits for it. fn must not
// call t.Fatal or t.FailNow (they would end the namespace's goroutine);
// it reports with t.Error and returns.
func (ns *netns) run(fn func()) {
	ns.do <- fn
	<-ns.ack
}

// linkUp sets IFF_UP on the named interface of the calling thread's
// namespace.
func linkUp(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return &nsError{"socket", err}
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return &nsError{"SIOCGIFFLAGS", err}
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return &nsError{"SIOCSIFFLAGS", err}
	}
	return nil
}

// writeSysctl writes value to a /proc/sys file, opened on the calling
// thread so that per-namespace settings land in its namespace.
func writeSysctl(path, value string) error {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &nsError{"open " + path, err}
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, []byte(value)); err != nil {
		return &nsError{"write " + path, err}
	}
	return nil
}

// countFDs returns the number of open descriptors of the process.
func countFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("reading /proc/self/fd: %v", err)
	}
	return len(ents)
}

// recorder is a tap.Sink keeping copies of the frames.
type recorder struct{ frames [][]byte }

func (r *recorder) Send(frame []byte) { r.frames = append(r.frames, append([]byte(nil), frame...)) }

// counter is a tap.Sink that only counts, for allocation tests.
type counter struct{ n int }

func (c *counter) Send([]byte) { c.n++ }

var (
	guestMAC = header.MAC{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	ourMAC   = header.MAC{0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55}
	guest4   = netip.MustParseAddr("192.0.2.10")
	gw4      = netip.MustParseAddr("192.0.2.1")
	guest6   = netip.MustParseAddr("2001:db8::10")
	gw6      = netip.MustParseAddr("fe80::1")
)

// testNAT makes the gateways stand for the host's loopback, as by default.
func testNAT() *nat.Config {
	return &nat.Config{Guest4: guest4, Gateway4: gw4, Guest6: guest6, Gateway6: gw6, OurLL6: netip.MustParseAddr("fe80::2")}
}

// rig is a Handler with its table, loop and sink.
type rig struct {
	h     *Handler
	flows *flow.Table
	loop  *engine.Loop
	sink  *recorder
	now   flow.Time
	warns []Condition
}

const testKind engine.Kind = 3

func newRig(t testing.TB, capacity int) *rig {
	t.Helper()
	flows, err := flow.New(capacity)
	if err != nil {
		t.Fatal(err)
	}
	loop, err := engine.New()
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{flows: flows, loop: loop, sink: &recorder{}, now: flow.Time(time.Hour)}
	cfg := Config{
		NAT:      testNAT(),
		OurMAC:   ourMAC,
		GuestMAC: func() header.MAC { return guestMAC },
		Now:      func() flow.Time { return r.now },
		Warn:     func(c Condition) { r.warns = append(r.warns, c) },
	}
	r.h = New(cfg, flows, loop, testKind, r.sink)
	t.Cleanup(func() {
		r.h.Close()
		loop.Close()
	})
	return r
}

// waiter is the engine.Handler of a rig's loop: it dispatches events to
// the Handler and stops the loop once want frames have arrived or the
// deadline has passed.
type waiter struct {
	r        *rig
	want     int
	deadline time.Time
}

func (w *waiter) Handle(ev engine.Event) {
	if ev.Ref.Kind == testKind {
		w.r.h.Event(ev.Ref.Index, ev.Events)
	}
}

func (w *waiter) BatchDone() {
	if len(w.r.sink.frames) >= w.want || time.Now().After(w.deadline) {
		w.r.loop.Stop()
	}
}

// waitFrames runs the loop until the sink holds want frames, for at most
// five seconds, and reports whether it got them.
func (r *rig) waitFrames(want int) bool {
	w := &waiter{r: r, want: want, deadline: time.Now().Add(5 * time.Second)}
	if len(r.sink.frames) < want {
		if err := r.loop.Run(w, 20*time.Millisecond); err != nil {
			return false
		}
	}
	return len(r.sink.frames) >= want
}

// echoFrame builds a guest frame carrying an ICMP or ICMPv6 message of
// type typ and code code from src to dst, and decodes it.
func echoFrame(t testing.TB, src, dst netip.Addr, typ, code uint8, id, seq uint16, data []byte) ([]byte, header.Frame) {
	t.Helper()
	b := make([]byte, header.EthernetLen+header.IPv6Len+header.ICMPLen+len(data))
	var n int
	if src.Is4() {
		l4 := b[header.EthernetLen+header.IPv4MinLen:]
		m := header.PutICMPv4Echo(l4, typ, id, seq, data)
		l4[1] = code
		header.PutIPv4(b[header.EthernetLen:], m, header.IPv4Fields{Src: src, Dst: dst, Protocol: header.ProtocolICMP, TTL: 64})
		header.PutEthernet(b, ourMAC, guestMAC, header.EtherTypeIPv4)
		n = header.EthernetLen + header.IPv4MinLen + m
	} else {
		l4 := b[header.EthernetLen+header.IPv6Len:]
		m := header.PutICMPv6Echo(l4, typ, id, seq, data, src, dst)
		l4[1] = code
		header.PutIPv6(b[header.EthernetLen:], m, header.IPv6Fields{Src: src, Dst: dst, NextHeader: header.ProtocolICMPv6, HopLimit: 64})
		header.PutEthernet(b, ourMAC, guestMAC, header.EtherTypeIPv6)
		n = header.EthernetLen + header.IPv6Len + m
	}
	b = b[:n]
	f, d := header.Decode(b)
	if d != header.DropNone {
		t.Fatalf("test frame does not decode: %v", d)
	}
	return b, f
}

// checkReply checks that frame is an echo reply to the guest from src with
// identifier id, sequence seq and data, TTL or hop limit 255, valid
// checksums.
func checkReply(t testing.TB, frame []byte, src, dst netip.Addr, id, seq uint16, data []byte) {
	t.Helper()
	f, d := header.Decode(frame)
	if d != header.DropNone {
		t.Fatalf("reply does not decode: %v", d)
	}
	msg := f.Transport(frame)
	var valid bool
	wantType := uint8(header.ICMPv4EchoReply)
	if src.Is4() {
		valid = header.TransportChecksumValid4(msg, header.ProtocolICMP, f.Src, f.Dst)
	} else {
		wantType = header.ICMPv6EchoReply
		valid = header.TransportChecksumValid6(msg, header.ProtocolICMPv6, f.Src, f.Dst)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"destination MAC", f.DstMAC, guestMAC},
		{"source MAC", f.SrcMAC, ourMAC},
		{"source", f.Src, src},
		{"destination", f.Dst, dst},
		{"TTL", f.TTL, uint8(ReplyHopLimit)},
		{"type", f.ICMPType, wantType},
		{"code", f.ICMPCode, uint8(0)},
		{"identifier", f.SrcPort, id},
		{"sequence", uint16(msg[6])<<8 | uint16(msg[7]), seq},
		{"data", string(f.Data(frame)), string(data)},
		{"checksum valid", valid, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}
