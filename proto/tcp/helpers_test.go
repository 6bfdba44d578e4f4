// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tcp

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"passt-go/proto/engine"
	"passt-go/proto/flow"
	"passt-go/proto/header"
	"passt-go/proto/nat"
)

var (
	ourMAC    = header.MAC{0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55}
	guestMAC  = header.MAC{0x02, 0, 0, 0, 0, 0x42}
	guest4    = netip.MustParseAddr("192.0.2.2")
	gateway4  = netip.MustParseAddr("192.0.2.1")
	guest6    = netip.MustParseAddr("2001:db8:1::2")
	gateway6  = netip.MustParseAddr("2001:db8:1::1")
	ourLL     = netip.MustParseAddr("fe80::1")
	testKinds = Kinds{Sock: 1, Listen: 2, Timer: 3}
)

// fakeOut is the guest side of a test: it keeps queued frames by
// reference until Flush, like the worker's writers, and can refuse them.
type fakeOut struct {
	h       *Handler
	cap     int
	queued  [][2][]byte
	frames  [][]byte // copies of frames delivered, for the guest to read
	blocked bool
	// refuse, when > 0, makes the next Flush of at least refuse frames
	// deliver only the first refuse-1 and block.
	refuse int
	// lossy makes every Flush deliver only the first half of the batch,
	// without blocking, as a tap device that refuses frames does.
	lossy bool
	sent  int
}

func (o *fakeOut) Room() int {
	if o.blocked {
		return 0
	}
	return o.cap - len(o.queued)
}

func (o *fakeOut) Queue(hdr, payload []byte) (int, bool) {
	if o.blocked || len(o.queued) >= o.cap {
		return 0, false
	}
	o.queued = append(o.queued, [2][]byte{hdr, payload})
	return len(o.queued) - 1, true
}

func (o *fakeOut) Flush() {
	n := len(o.queued)
	if o.lossy && n > 1 {
		n = (n + 1) / 2
	}
	if o.refuse > 0 && n >= o.refuse {
		n = min(n, o.refuse-1)
		o.refuse = 0
		o.blocked = true
	}
	for _, q := range o.queued[:n] {
		f := make([]byte, 0, len(q[0])+len(q[1]))
		f = append(append(f, q[0]...), q[1]...)
		o.frames = append(o.frames, f)
	}
	o.sent += n
	o.queued = o.queued[:0]
	if o.h != nil {
		o.h.Sent(n)
	}
}

func (o *fakeOut) Blocked() bool { return o.blocked }

// unblock ends a blocked period as the worker does on EPOLLOUT.
func (o *fakeOut) unblock() {
	o.blocked = false
	o.h.Writable()
}

// env is a Handler on a real event loop, stepped by the test.
type env struct {
	t     testing.TB
	loop  *engine.Loop
	h     *Handler
	out   *fakeOut
	flows *flow.Table
}

type envOptions struct {
	capacity     int
	noPeekOffset bool
	mtu          int
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	loop, err := engine.New()
	if err != nil {
		t.Fatal(err)
	}
	flows, err := flow.New(o.capacity)
	if err != nil {
		t.Fatal(err)
	}
	out := &fakeOut{cap: 256}
	n := &nat.Config{Guest4: guest4, Guest6: guest6, Gateway4: gateway4, Gateway6: gateway6, OurLL6: ourLL,
		MapHostLoopback4: gateway4, MapHostLoopback6: gateway6, NoMapGW: true}
	cfg := Config{
		NAT: n, OurMAC: ourMAC, GuestMAC: func() header.MAC { return guestMAC },
		GuestAddr: func(v6, ll bool) netip.Addr {
			if v6 {
				return guest6
			}
			return guest4
		},
		MTU: o.mtu, NoPeekOffset: o.noPeekOffset,
	}
	h, err := New(cfg, flows, loop, testKinds, out)
	if err != nil {
		t.Fatal(err)
	}
	out.h = h
	e := &env{t: t, loop: loop, h: h, out: out, flows: flows}
	t.Cleanup(func() {
		h.Close()
		loop.Close()
	})
	return e
}

// adapter runs one batch of the loop.
type adapter struct{ e *env }

func (a adapter) Handle(ev engine.Event) { a.e.h.Event(ev) }
func (a adapter) BatchDone() {
	a.e.h.Flush()
	a.e.out.Flush()
	a.e.loop.Stop()
}

// step waits up to d for events and handles one batch.
func (e *env) step(d time.Duration) {
	if err := e.loop.Run(adapter{e}, d); err != nil {
		e.t.Fatal(err)
	}
}

// pump steps the loop and lets the guests handle their frames until cond
// holds; it fails the test after timeout.
func (e *env) pump(timeout time.Duration, cond func() bool, guests ...*guest) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for i := 0; ; i++ {
		e.deliver(guests...)
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("condition not reached after %v", timeout)
		}
		e.step(2 * time.Millisecond)
	}
}

// deliver hands the frames the output took to the guests, until none is
// left (their answers may produce more).
func (e *env) deliver(guests ...*guest) {
	for range 1000 {
		e.h.Flush()
		e.out.Flush()
		if len(e.out.frames) == 0 {
			return
		}
		frames := e.out.frames
		e.out.frames = nil
		for _, f := range frames {
			for _, g := range guests {
				g.receive(f)
			}
		}
		for _, g := range guests {
			g.afterBatch()
		}
		e.h.InputDone()
	}
}

// guest is a small TCP endpoint standing for the guest's kernel: it
// sends segments as frames to the Handler and reads the frames the Handler
// sends, checking every one.
type guest struct {
	e            *env
	t            testing.TB
	addr, remote netip.Addr
	port, rport  uint16

	isn, sndNxt, sndUna uint32
	sndWnd              uint32 // the Handler's window, scaled
	wsFromPeer          uint8
	peerMSS             int

	rcvNxt  uint32
	rcvWnd  uint32 // our window
	ws      uint8
	noWS    bool
	mss     uint16
	gotData []byte
	limit   int // stop acknowledging after this many bytes (0: no limit)

	established, gotFin, gotRst, gotSyn bool
	synAckSeq                           uint32
	synOpts                             header.TCPOptions // of the SYN or SYN-ACK received
	lastWnd                             uint16            // window field of the last segment received
	ackNeeded                           bool
	dupAcks                             int
	oldSegs                             int // bare segments below rcvNxt, ignored
	lastAck                             uint32
	// dropNextData drops the next n data frames received (a lossy link).
	dropNextData int
	frames       int
}

func newGuest(e *env, v6 bool, port uint16, rport uint16) *guest {
	g := &guest{e: e, t: e.t, port: port, rport: rport, addr: guest4, remote: gateway4,
		isn: 1000, rcvWnd: 4 << 20, ws: 7, mss: 65000}
	if v6 {
		g.addr, g.remote = guest6, gateway6
	}
	g.sndNxt, g.sndUna = g.isn, g.isn
	return g
}

// send builds a segment and hands it to the Handler.
func (g *guest) send(fl header.TCPFlags, seq, ack uint32, data []byte, opts *header.TCPOptions) Drop {
	return g.e.h.FromGuest(g.frame(fl, seq, ack, data, opts))
}

// frame builds a frame from the guest; the caller keeps it valid until
// InputDone.
func (g *guest) frame(fl header.TCPFlags, seq, ack uint32, data []byte, opts *header.TCPOptions) ([]byte, *header.Frame) {
	var o header.TCPOptions
	if opts != nil {
		o = *opts
	}
	ipLen := header.IPv4MinLen
	et := header.EtherTypeIPv4
	if g.addr.Is6() {
		ipLen, et = header.IPv6Len, header.EtherTypeIPv6
	}
	tl := header.TCPMinLen + o.Len() + len(data)
	b := make([]byte, header.EthernetLen+ipLen+tl)
	header.PutEthernet(b, ourMAC, guestMAC, et)
	seg := b[header.EthernetLen+ipLen:]
	wnd := g.rcvWnd >> g.ws
	if fl&header.TCPFlagSYN != 0 {
		wnd = min(g.rcvWnd, 65535)
	}
	header.PutTCP(seg, header.TCPFields{SrcPort: g.port, DstPort: g.rport, Seq: seq, Ack: ack, Flags: fl, Window: uint16(min(wnd, 65535)), Options: o})
	copy(seg[header.TCPMinLen+o.Len():], data)
	if g.addr.Is4() {
		header.PutIPv4(b[header.EthernetLen:], tl, header.IPv4Fields{Src: g.addr, Dst: g.remote, Protocol: header.ProtocolTCP})
		header.SetTransportChecksum4(seg, header.ProtocolTCP, g.addr, g.remote)
	} else {
		header.PutIPv6(b[header.EthernetLen:], tl, header.IPv6Fields{Src: g.addr, Dst: g.remote, NextHeader: header.ProtocolTCP})
		header.SetTransportChecksum6(seg, header.ProtocolTCP, g.addr, g.remote)
	}
	f, d := header.Decode(b)
	if d != header.DropNone {
		g.t.Fatalf("test frame does not decode: %v", d)
	}
	return b, &f
}

// connect sends a SYN.
func (g *guest) connect() {
	opts := &header.TCPOptions{HasMSS: true, MSS: g.mss, HasWindowScale: !g.noWS, WindowScale: g.ws}
	if g.noWS {
		g.ws = 0
	}
	g.send(header.TCPFlagSYN, g.isn, 0, nil, opts)
	g.sndNxt = g.isn + 1
}

// receive checks and takes one frame from the Handler.
func (g *guest) receive(frame []byte) {
	g.t.Helper()
	f, d := header.Decode(frame)
	if d != header.DropNone {
		g.t.Fatalf("frame to the guest does not decode: %v", d)
	}
	if f.Proto != header.ProtocolTCP || f.Dst != g.addr || f.DstPort != g.port {
		return
	}
	if f.Src != g.remote || f.SrcPort != g.rport {
		return
	}
	if f.DstMAC != guestMAC || f.SrcMAC != ourMAC {
		g.t.Errorf("frame MACs %v -> %v, want %v -> %v", f.SrcMAC, f.DstMAC, ourMAC, guestMAC)
	}
	seg := f.Transport(frame)
	ok := header.TransportChecksumValid4(seg, header.ProtocolTCP, f.Src, f.Dst)
	if f.Src.Is6() {
		ok = header.TransportChecksumValid6(seg, header.ProtocolTCP, f.Src, f.Dst)
	}
	if !ok {
		g.t.Fatalf("bad TCP checksum in a frame to the guest")
	}
	if f.Src.Is4() {
		ip, _ := header.ParseIPv4(f.Network(frame))
		if !ip.ChecksumValid() {
			g.t.Fatalf("bad IPv4 header checksum in a frame to the guest")
		}
	}
	g.frames++
	t, _ := header.ParseTCP(seg)
	fl := t.Flags()
	data := t.Payload()
	g.lastWnd = t.Window()
	if fl&header.TCPFlagRST != 0 {
		g.gotRst = true
		return
	}
	if fl&header.TCPFlagSYN != 0 {
		o, _ := t.Options()
		if t.Seq() == 0 {
			g.t.Errorf("ISN zero")
		}
		g.gotSyn = true
		g.synAckSeq = t.Seq()
		g.synOpts = o
		g.rcvNxt = t.Seq() + 1
		g.peerMSS = int(o.MSS)
		if o.HasWindowScale && !g.noWS {
			g.wsFromPeer = o.WindowScale
		} else {
			g.wsFromPeer, g.ws = 0, 0
		}
		g.sndWnd = uint32(t.Window())
		if fl&header.TCPFlagACK != 0 {
			if t.Ack() != g.isn+1 {
				g.t.Errorf("SYN-ACK acks %d, want %d", t.Ack(), g.isn+1)
			}
			g.sndUna = t.Ack()
			g.established = true
		}
		g.ackNeeded = true
		return
	}
	if len(data) == 0 && fl&header.TCPFlagFIN == 0 && int32(t.Seq()-g.rcvNxt) < 0 {
		// A bare segment from before what the guest expects next is an
		// old one: a kernel ignores its ACK and window.
		g.oldSegs++
		return
	}
	if fl&header.TCPFlagACK != 0 {
		a := t.Ack()
		if int32(a-g.sndUna) > 0 {
			g.sndUna = a
		}
		g.sndWnd = uint32(t.Window()) << g.wsFromPeer
		g.lastAck = a
	}
	if len(data) > 0 {
		if g.dropNextData > 0 {
			g.dropNextData--
			return
		}
		if t.Seq() == g.rcvNxt && (g.limit == 0 || len(g.gotData) < g.limit) {
			g.gotData = append(g.gotData, data...)
			g.rcvNxt += uint32(len(data))
		} else {
			g.dupAcks++
		}
		g.ackNeeded = true
	}
	if fl&header.TCPFlagFIN != 0 && t.Seq()+uint32(len(data)) == g.rcvNxt {
		g.gotFin = true
		g.rcvNxt++
		g.ackNeeded = true
	}
}

// afterBatch acknowledges what was received, once per batch (or once per
// out-of-order frame, as a receiver would for duplicates).
func (g *guest) afterBatch() {
	for ; g.dupAcks > 0; g.dupAcks-- {
		g.send(header.TCPFlagACK, g.sndNxt, g.rcvNxt, nil, nil)
	}
	if g.ackNeeded && (g.established || g.gotSyn) {
		if !g.established && g.gotSyn {
			// Inbound: our SYN-ACK.
			return
		}
		g.send(header.TCPFlagACK, g.sndNxt, g.rcvNxt, nil, nil)
		g.ackNeeded = false
	}
}

// accept answers the Handler's SYN with a SYN-ACK (inbound connections).
func (g *guest) accept() {
	opts := &header.TCPOptions{HasMSS: true, MSS: g.mss, HasWindowScale: !g.noWS, WindowScale: g.ws}
	g.send(header.TCPFlagSYN|header.TCPFlagACK, g.isn, g.rcvNxt, nil, opts)
	g.sndNxt = g.isn + 1
	g.sndUna = g.sndNxt
	g.established = true
	g.ackNeeded = false
}

// finishHandshake acknowledges the SYN-ACK (outbound connections).
func (g *guest) finishHandshake() {
	g.send(header.TCPFlagACK, g.sndNxt, g.rcvNxt, nil, nil)
	g.ackNeeded = false
}

// write sends as much of data as the Handler's window allows, in
// segments of its MSS, and returns how much it sent.
func (g *guest) write(data []byte) int {
	sent := 0
	mss := min(g.peerMSS, 65000)
	if mss == 0 {
		mss = 536
	}
	for sent < len(data) {
		inflight := g.sndNxt - g.sndUna
		if inflight >= g.sndWnd {
			break
		}
		n := min(len(data)-sent, mss, int(g.sndWnd-inflight))
		frame, f := g.frame(header.TCPFlagACK|header.TCPFlagPSH, g.sndNxt, g.rcvNxt, data[sent:sent+n], nil)
		g.e.h.FromGuest(frame, f)
		g.sndNxt += uint32(n)
		sent += n
	}
	g.e.h.InputDone()
	return sent
}

// fin sends a FIN after the data.
func (g *guest) fin() {
	g.send(header.TCPFlagFIN|header.TCPFlagACK, g.sndNxt, g.rcvNxt, nil, nil)
	g.sndNxt++
	g.e.h.InputDone()
}

// listenLoopback opens a TCP listener on the loopback address of the
// family and returns it with its port.
func listenLoopback(t testing.TB, v6 bool) (net.Listener, uint16) {
	t.Helper()
	network, addr := "tcp4", "127.0.0.1:0"
	if v6 {
		network, addr = "tcp6", "[::1]:0"
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("no loopback for %s: %v", network, err)
	}
	t.Cleanup(func() { l.Close() })
	return l, uint16(l.Addr().(*net.TCPAddr).Port)
}

// pattern returns n bytes that differ from one offset to the next.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ byte(i>>9) ^ seed
	}
	return b
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t testing.TB, v6 bool) uint16 {
	l, p := listenLoopback(t, v6)
	l.Close()
	return p
}

func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

var _ = be32

// listenerFD returns a descriptor of its own for l's socket, for a
// Handler to own.
func listenerFD(t testing.TB, l net.Listener) int {
	t.Helper()
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// engineEvent is an event for the descriptor of kind and index.
func engineEvent(kind engine.Kind, index uint32) engine.Event {
	return engine.Event{Ref: engine.Ref{Kind: kind, Index: index}, Events: unix.EPOLLIN}
}
