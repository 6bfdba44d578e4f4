// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package icmp

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"passt-go/internal/testnet"
	"passt-go/proto/flow"
	"passt-go/proto/header"
)

// TestEchoThroughHostLoopback pings the gateway, which stands for the
// host's loopback, from the guest: the request must reach 127.0.0.1 or ::1
// in the namespace and the reply come back addressed to the guest, from the
// gateway, with the guest's identifier, sequence and data.
func TestEchoThroughHostLoopback(t *testing.T) {
	ns := newNetns(t, "0 2147483647")
	tests := []struct {
		name       string
		guest, dst netip.Addr
		request    uint8
		id         uint16
		data       []byte
	}{
		{name: "ipv4", guest: guest4, dst: gw4, request: header.ICMPv4EchoRequest, id: 0x4242, data: []byte("ping over the map-host-loopback address")},
		{name: "ipv6", guest: guest6, dst: gw6, request: header.ICMPv6EchoRequest, id: 0x0607, data: []byte("ipv6 echo data, odd length.")},
		{name: "ipv4 empty data", guest: guest4, dst: gw4, request: header.ICMPv4EchoRequest, id: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, 64)
			var frames [4][]byte
			var decoded [4]header.Frame
			for seq := 1; seq <= 3; seq++ {
				frames[seq], decoded[seq] = echoFrame(t, tc.guest, tc.dst, tc.request, 0, tc.id, uint16(seq), tc.data)
			}
			ns.Run(func() {
				for seq := uint16(1); seq <= 3; seq++ {
					if d := r.h.FromGuest(frames[seq], decoded[seq]); d != DropNone {
						t.Errorf("seq %v: got drop %v, want none", seq, d)
						return
					}
					if !r.waitFrames(int(seq)) {
						t.Errorf("seq %v: got %v replies, want %v", seq, len(r.Sink.Frames), seq)
						return
					}
				}
			})
			if len(r.Sink.Frames) != 3 {
				t.Fatalf("got %v frames, want 3", len(r.Sink.Frames))
			}
			for i, fr := range r.Sink.Frames {
				checkReply(t, fr, tc.dst, tc.guest, tc.id, uint16(i+1), tc.data)
			}
			c := r.h.Counters()
			if c.Requests != 3 || c.Replies != 3 || c.Opened != 1 || r.Flows.Len() != 1 {
				t.Errorf("got requests %v replies %v opened %v flows %v, want 3 3 1 1", c.Requests, c.Replies, c.Opened, r.Flows.Len())
			}
			idx, ok := r.Flows.Lookup(flow.Key{Proto: map[bool]header.IPProtocol{true: header.ProtocolICMP, false: header.ProtocolICMPv6}[tc.guest.Is4()], GuestAddr: tc.guest, GuestPort: tc.id, RemoteAddr: tc.dst, RemotePort: tc.id})
			if !ok || r.Flows.Type(idx) != flow.TypeICMP {
				t.Errorf("flow lookup: got %v %v type %v, want an ICMP flow", idx, ok, r.Flows.Type(idx))
			}
			if id, _ := r.h.SocketID(idx); id != tc.id {
				t.Errorf("socket identifier: got %v, want the guest's %v", id, tc.id)
			}
		})
	}
}

// TestIdentifierTaken makes the guest's identifier unavailable to a
// flow's socket, held by another socket in the namespace or by an earlier
// flow: the kernel picks another one, and replies still carry the guest's.
func TestIdentifierTaken(t *testing.T) {
	ns := newNetns(t, "0 2147483647")
	const id = 777
	other := netip.MustParseAddr("192.0.2.11")
	data := []byte("identifier collision")
	tests := []struct {
		name      string
		hold      bool // another ping socket binds the identifier first
		wantFirst bool // the first flow gets the guest's identifier
	}{
		{name: "held by another socket", hold: true, wantFirst: false},
		{name: "held by another flow", hold: false, wantFirst: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, 64)
			guests := []netip.Addr{guest4, other}
			var frames [2][]byte
			var decoded [2]header.Frame
			for i, g := range guests {
				frames[i], decoded[i] = echoFrame(t, g, gw4, header.ICMPv4EchoRequest, 0, id, 9, data)
			}
			ns.Run(func() {
				if tc.hold {
					fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMP)
					if err != nil {
						t.Errorf("ping socket: %v", err)
						return
					}
					defer unix.Close(fd)
					if err := unix.Bind(fd, &unix.SockaddrInet4{Port: id}); err != nil {
						t.Errorf("bind: %v", err)
						return
					}
				}
				for i, g := range guests {
					if d := r.h.FromGuest(frames[i], decoded[i]); d != DropNone {
						t.Errorf("guest %v: got drop %v, want none", g, d)
						return
					}
					if !r.waitFrames(i + 1) {
						t.Errorf("guest %v: got %v replies, want %v", g, len(r.Sink.Frames), i+1)
						return
					}
				}
			})
			if len(r.Sink.Frames) != 2 {
				t.Fatalf("got %v frames, want 2", len(r.Sink.Frames))
			}
			checkReply(t, r.Sink.Frames[0], gw4, guest4, id, 9, data)
			checkReply(t, r.Sink.Frames[1], gw4, other, id, 9, data)
			first, _ := r.h.SocketID(0)
			second, _ := r.h.SocketID(1)
			if (first == id) != tc.wantFirst || second == id || first == second {
				t.Errorf("got socket identifiers %v and %v, want the first equal to %v: %v, the second different",
					first, second, id, tc.wantFirst)
			}
		})
	}
}

func TestDropsFromGuest(t *testing.T) {
	ns := newNetns(t, "0 2147483647")
	data := []byte("x")
	udp := func(t *testing.T) ([]byte, header.Frame) {
		b := make([]byte, 64)
		l4 := b[header.EthernetLen+header.IPv4MinLen:]
		header.PutUDP(l4, 1000, 53, 0)
		header.PutIPv4(b[header.EthernetLen:], header.UDPLen, header.IPv4Fields{Src: guest4, Dst: gw4, Protocol: header.ProtocolUDP})
		header.PutEthernet(b, ourMAC, guestMAC, header.EtherTypeIPv4)
		b = b[:header.EthernetLen+header.IPv4MinLen+header.UDPLen]
		f, d := header.Decode(b)
		if d != header.DropNone {
			t.Fatalf("udp frame: %v", d)
		}
		return b, f
	}
	tests := []struct {
		name  string
		frame func(t *testing.T) ([]byte, header.Frame)
		want  Drop
	}{
		{name: "echo reply from guest", want: DropNotEcho, frame: func(t *testing.T) ([]byte, header.Frame) {
			return echoFrame(t, guest4, gw4, header.ICMPv4EchoReply, 0, 5, 1, data)
		}},
		{name: "destination unreachable", want: DropNotEcho, frame: func(t *testing.T) ([]byte, header.Frame) {
			return echoFrame(t, guest4, gw4, header.ICMPv4DestUnreachable, 3, 5, 1, data)
		}},
		{name: "timestamp request", want: DropNotEcho, frame: func(t *testing.T) ([]byte, header.Frame) {
			return echoFrame(t, guest4, gw4, 13, 0, 5, 1, data)
		}},
		{name: "echo request with non-zero code", want: DropNotEcho, frame: func(t *testing.T) ([]byte, header.Frame) {
			return echoFrame(t, guest4, gw4, header.ICMPv4EchoRequest, 1, 5, 1, data)
		}},
		{name: "icmpv6 echo reply", want: DropNotEcho, frame: func(t *testing.T) ([]byte, header.Frame) {
			return echoFrame(t, guest6, gw6, header.ICMPv6EchoReply, 0, 5, 1, data)
		}},
		{name: "icmpv6 neighbour solicitation", want: DropNotEcho, frame: func(t *testing.T) ([]byte, header.Frame) {
			return echoFrame(t, guest6, gw6, header.ICMPv6NeighborSolicitation, 0, 0, 0, make([]byte, 16))
		}},
		{name: "icmpv4 type number in icmpv6", want: DropNotEcho, frame: func(t *testing.T) ([]byte, header.Frame) {
			return echoFrame(t, guest6, gw6, header.ICMPv4EchoRequest, 0, 5, 1, data)
		}},
		{name: "udp", want: DropNotICMP, frame: udp},
		{name: "unspecified destination", want: DropRefused, frame: func(t *testing.T) ([]byte, header.Frame) {
			return echoFrame(t, guest4, netip.IPv4Unspecified(), header.ICMPv4EchoRequest, 0, 5, 1, data)
		}},
		{name: "truncated message", want: DropTooShort, frame: func(t *testing.T) ([]byte, header.Frame) {
			b, f := echoFrame(t, guest4, gw4, header.ICMPv4EchoRequest, 0, 5, 1, data)
			f.L4 = f.End - 4
			return b, f
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, 16)
			b, f := tc.frame(t)
			var got Drop
			ns.Run(func() { got = r.h.FromGuest(b, f) })
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			c := r.h.Counters()
			if c.Drops[tc.want] != 1 || c.Requests != 0 || c.Opened != 0 || r.Flows.Len() != 0 {
				t.Errorf("got drops %v requests %v opened %v flows %v, want 1 0 0 0", c.Drops[tc.want], c.Requests, c.Opened, r.Flows.Len())
			}
		})
	}
}

// TestExpiryClosesSocket checks that a flow lives for the timeout after its
// last activity and that expiry closes its socket.
func TestExpiryClosesSocket(t *testing.T) {
	ns := newNetns(t, "0 2147483647")
	r := newRig(t, 16)
	before := testnet.CountFDs(t)
	frame, f := echoFrame(t, guest4, gw4, header.ICMPv4EchoRequest, 0, 99, 1, []byte("expire me"))
	ns.Run(func() {
		if d := r.h.FromGuest(frame, f); d != DropNone {
			t.Errorf("got drop %v, want none", d)
			return
		}
		if !r.waitFrames(1) {
			t.Errorf("no reply")
		}
	})
	if got := testnet.CountFDs(t); got != before+1 {
		t.Errorf("descriptors with a flow: got %v, want %v", got, before+1)
	}
	start := r.Now
	tests := []struct {
		name      string
		at        time.Duration
		wantN     int
		wantFlows int
	}{
		{name: "idle just under the timeout", at: DefaultTimeout - time.Nanosecond, wantN: 0, wantFlows: 1},
		{name: "idle for the timeout", at: DefaultTimeout, wantN: 1, wantFlows: 0},
		{name: "nothing left", at: 2 * DefaultTimeout, wantN: 0, wantFlows: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.h.Expire(start.Add(tc.at)); got != tc.wantN {
				t.Errorf("got %v expired, want %v", got, tc.wantN)
			}
			if got := r.Flows.Len(); got != tc.wantFlows {
				t.Errorf("got %v flows, want %v", got, tc.wantFlows)
			}
		})
	}
	if got := testnet.CountFDs(t); got != before {
		t.Errorf("descriptors after expiry: got %v, want %v", got, before)
	}
	if c := r.h.Counters(); c.Closed != 1 {
		t.Errorf("got %v closed, want 1", c.Closed)
	}
	if _, ok := r.h.SocketID(0); ok {
		t.Errorf("expired flow still has a socket")
	}
}

// TestPingGroupRangeRefused leaves the namespace's ping_group_range at its
// default "1 0", which admits no group: every new flow is refused with
// EACCES, counted, and the condition reported once.
func TestPingGroupRangeRefused(t *testing.T) {
	ns := newNetns(t, "1 0")
	r := newRig(t, 16)
	var frames [3][]byte
	var decoded [3]header.Frame
	for i, g := range []netip.Addr{guest4, guest6, guest4} {
		dst := gw4
		typ := uint8(header.ICMPv4EchoRequest)
		if g.Is6() {
			dst, typ = gw6, header.ICMPv6EchoRequest
		}
		frames[i], decoded[i] = echoFrame(t, g, dst, typ, 0, uint16(10+i), 1, nil)
	}
	var drops []Drop
	ns.Run(func() {
		for i := range frames {
			drops = append(drops, r.h.FromGuest(frames[i], decoded[i]))
		}
	})
	for i, d := range drops {
		if d != DropPermission {
			t.Errorf("request %v: got %v, want %v", i, d, DropPermission)
		}
	}
	if len(r.warns) != 1 || r.warns[0] != ConditionPingGroupRange {
		t.Errorf("got conditions %v, want exactly one %v", r.warns, ConditionPingGroupRange)
	}
	if c := r.h.Counters(); c.Drops[DropPermission] != 3 || c.Opened != 0 || r.Flows.Len() != 0 {
		t.Errorf("got %v permission drops, %v opened, %v flows, want 3 0 0", c.Drops[DropPermission], c.Opened, r.Flows.Len())
	}
	if msg := ConditionPingGroupRange.String(); !strings.Contains(msg, "net.ipv4.ping_group_range") {
		t.Errorf("got warning %q, want it to name net.ipv4.ping_group_range", msg)
	}
}

// TestTableFull fills a one-slot table: the second flow is refused and the
// first keeps working.
func TestTableFull(t *testing.T) {
	ns := newNetns(t, "0 2147483647")
	r := newRig(t, 1)
	frame, f := echoFrame(t, guest4, gw4, header.ICMPv4EchoRequest, 0, 1, 1, nil)
	frame2, f2 := echoFrame(t, guest4, gw4, header.ICMPv4EchoRequest, 0, 2, 1, nil)
	frame3, f3 := echoFrame(t, guest4, gw4, header.ICMPv4EchoRequest, 0, 1, 2, nil)
	var first, second, again Drop
	ns.Run(func() {
		first = r.h.FromGuest(frame, f)
		second = r.h.FromGuest(frame2, f2)
		again = r.h.FromGuest(frame3, f3)
		if !r.waitFrames(2) {
			t.Errorf("got %v replies, want 2", len(r.Sink.Frames))
		}
	})
	if first != DropNone || second != DropTableFull || again != DropNone {
		t.Errorf("got %v %v %v, want %v %v %v", first, second, again, DropNone, DropTableFull, DropNone)
	}
}

// TestZeroAllocs sends requests on an existing flow and handles the
// replies, allocating nothing.
func TestZeroAllocs(t *testing.T) {
	ns := newNetns(t, "0 2147483647")
	r := newRig(t, 16)
	sink := &counter{}
	r.h.out = sink
	frame, f := echoFrame(t, guest4, gw4, header.ICMPv4EchoRequest, 0, 4321, 1, []byte("allocation-free"))
	var allocs float64
	ns.Run(func() {
		if d := r.h.FromGuest(frame, f); d != DropNone {
			t.Errorf("got drop %v, want none", d)
			return
		}
		fds := []unix.PollFd{{Fd: r.h.state[0].fd, Events: unix.POLLIN}}
		roundTrip := func() {
			if _, err := unix.Poll(fds, 5000); err != nil {
				return
			}
			r.h.Event(0, unix.EPOLLIN)
			r.h.FromGuest(frame, f)
		}
		allocs = testing.AllocsPerRun(50, roundTrip)
	})
	if allocs != 0 {
		t.Errorf("got %v allocations per round trip, want 0", allocs)
	}
	if sink.n < 50 {
		t.Errorf("got %v replies, want at least 50", sink.n)
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "drop", got: DropPermission.String(), want: "ping sockets not permitted"},
		{name: "invalid drop", got: Drop(200).String(), want: "invalid"},
		{name: "unknown condition", got: Condition(0).String(), want: "unknown ICMP condition"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
	for d := Drop(0); d < NumDrops; d++ {
		if d.String() == "" || d.String() == "invalid" {
			t.Errorf("Drop %d has no name", d)
		}
	}
}

// BenchmarkEchoRoundTrip measures one request through the ping socket to
// the namespace's loopback and its reply back to a sink.
func BenchmarkEchoRoundTrip(b *testing.B) {
	ns := newNetns(b, "0 2147483647")
	r := newRig(b, 16)
	sink := &counter{}
	r.h.out = sink
	data := make([]byte, 56)
	frame, f := echoFrame(b, guest4, gw4, header.ICMPv4EchoRequest, 0, 4321, 1, data)
	b.SetBytes(int64(len(frame)))
	ns.Run(func() {
		if d := r.h.FromGuest(frame, f); d != DropNone {
			b.Errorf("got drop %v", d)
			return
		}
		fds := []unix.PollFd{{Fd: r.h.state[0].fd, Events: unix.POLLIN}}
		for b.Loop() {
			unix.Poll(fds, 5000)
			r.h.Event(0, unix.EPOLLIN)
			r.h.FromGuest(frame, f)
		}
	})
}
