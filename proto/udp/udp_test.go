// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package udp

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"passt-go/internal/testnet"
	"passt-go/proto/flow"
	"passt-go/proto/header"
)

func patterned(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i) + byte(i>>8)*7
	}
	return b
}

// TestEcho sends datagrams from the guest to the gateway (the host's
// loopback), to a remote address and to the DNS forwarding address, and
// the server's answers back: the server sees the guest's source port, the
// guest sees the answers come from the address and port it sent to.
func TestEcho(t *testing.T) {
	ns := newTestNS(t, remoteAddrs...)
	tests := []struct {
		name   string
		guest  netip.Addr
		dst    netip.Addr // as the guest addresses it
		bind   netip.AddrPort
		port   uint16 // the guest's destination port; 0: the server's
		sizes  []int
		wantIP netip.Addr // the server sees datagrams from this address
	}{
		{name: "ipv4 gateway", guest: guest4, dst: gw4, bind: netip.MustParseAddrPort("127.0.0.1:0"), sizes: []int{5, 0, 60000}, wantIP: netip.MustParseAddr("127.0.0.1")},
		{name: "ipv6 gateway", guest: guest6, dst: gw6, bind: netip.MustParseAddrPort("[::1]:0"), sizes: []int{1, 1400, 60000}, wantIP: netip.IPv6Loopback()},
		{name: "ipv4 remote", guest: guest4, dst: remote4, bind: netip.AddrPortFrom(remote4, 0), sizes: []int{100, 200}, wantIP: remote4},
		{name: "ipv6 remote", guest: guest6, dst: remote6, bind: netip.AddrPortFrom(remote6, 0), sizes: []int{100, 200}, wantIP: remote6},
		{name: "ipv4 dns", guest: guest4, dst: dns4, bind: netip.AddrPortFrom(resolver, 53), port: 53, sizes: []int{40}, wantIP: netip.MustParseAddr("127.0.0.1")},
		{name: "ipv6 dns", guest: guest6, dst: dns6, bind: netip.MustParseAddrPort("[::1]:53"), port: 53, sizes: []int{40}, wantIP: netip.IPv6Loopback()},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, 64, nil)
			srv := newServer(t, ns, tc.bind)
			port := tc.port
			if port == 0 {
				port = srv.addr.Port()
			}
			from := netip.AddrPortFrom(tc.guest, uint16(40000+i))
			to := netip.AddrPortFrom(tc.dst, port)
			for j, size := range tc.sizes {
				data := patterned(size, byte(j))
				frame, f := udpFrame(t, from, to, 64, data)
				ns.Run(func() {
					if d := r.h.FromGuest(frame, f); d != DropNone {
						t.Errorf("FromGuest: got %v, want none", d)
					}
					r.h.Flush()
				})
				got, src := srv.recv(t)
				if !bytes.Equal(got, data) {
					t.Fatalf("datagram %d: server got %d bytes, want %d bytes byte-exact", j, len(got), len(data))
				}
				if src != netip.AddrPortFrom(tc.wantIP, from.Port()) {
					t.Errorf("datagram %d: server saw source %v, want %v (the guest's port)", j, src, netip.AddrPortFrom(tc.wantIP, from.Port()))
				}
				reply := patterned(size, byte(j)+100)
				srv.send(t, src, reply)
				if !r.pump(j + 1) {
					t.Fatalf("got %d frames, want %d", len(r.Sink.Frames), j+1)
				}
				checkDatagram(t, r.Sink.Frames[j], to, from, reply)
			}
			c := r.h.Counters()
			n := uint64(len(tc.sizes))
			if c.FromGuest != n || c.ToGuest != n || c.Opened != 1 || r.h.Flows() != 1 {
				t.Errorf("got from guest %d, to guest %d, opened %d, flows %d; want %d %d 1 1", c.FromGuest, c.ToGuest, c.Opened, r.h.Flows(), n, n)
			}
			idx, ok := r.Flows.Lookup(flow.Key{Proto: header.ProtocolUDP, GuestAddr: from.Addr(), GuestPort: from.Port(), RemoteAddr: to.Addr(), RemotePort: to.Port()})
			wantType := flow.TypeUDP
			if n > 1 {
				wantType = flow.TypeUDPStream
			}
			if !ok || r.Flows.Type(idx) != wantType {
				t.Errorf("flow: got %v %v, want type %v", ok, r.Flows.Type(idx), wantType)
			}
		})
	}
}

// TestPortTaken: when the guest's source port is held on the host by a
// socket without SO_REUSEADDR, the flow's socket takes another port, and
// replies still reach the guest's port.
func TestPortTaken(t *testing.T) {
	ns := newTestNS(t)
	r := newRig(t, 16, nil)
	srv := newServer(t, ns, netip.MustParseAddrPort("127.0.0.1:0"))
	holder := newServer(t, ns, netip.MustParseAddrPort("0.0.0.0:40100"))
	_ = holder
	from := netip.AddrPortFrom(guest4, 40100)
	to := netip.AddrPortFrom(gw4, srv.addr.Port())
	frame, f := udpFrame(t, from, to, 64, []byte("hello"))
	ns.Run(func() {
		if d := r.h.FromGuest(frame, f); d != DropNone {
			t.Errorf("FromGuest: got %v", d)
		}
		r.h.Flush()
	})
	_, src := srv.recv(t)
	if src.Port() == from.Port() || src.Port() == 0 {
		t.Errorf("server saw port %d, want one the kernel picked", src.Port())
	}
	srv.send(t, src, []byte("back"))
	if !r.pump(1) {
		t.Fatal("no reply")
	}
	checkDatagram(t, r.Sink.Frames[0], to, from, []byte("back"))
}

// listenerSocket opens a bound UDP socket in ns the way the monitor does
// for -u: dual-stack [::]:port with SO_REUSEADDR (unless reuse is false),
// non-blocking.
func listenerSocket(t testing.TB, ns *testnet.NetNS, port uint16, reuse bool) int {
	t.Helper()
	fd := -1
	var err error
	ns.Run(func() {
		if fd, err = unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0); err != nil {
			return
		}
		if reuse {
			if err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
				return
			}
		}
		if err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0); err != nil {
			return
		}
		err = unix.Bind(fd, &unix.SockaddrInet6{Port: int(port)})
	})
	if err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		t.Fatalf("listener on port %d: %v", port, err)
	}
	return fd
}

// TestInbound sends datagrams from clients to a forwarded port: each
// reaches the guest's target port from the client's address as the
// guest sees it (loopback as the gateway), the guest's reply reaches the
// client from the address and port it sent to, and the client's next
// datagram follows the same flow.
func TestInbound(t *testing.T) {
	ns := newTestNS(t, remoteAddrs...)
	tests := []struct {
		name     string
		client   netip.AddrPort // bound here
		to       netip.Addr     // the client sends to this address, at the forwarded port
		seen     netip.Addr     // the guest sees the client as this address
		guest    netip.Addr
		reuse    bool
		shared   uint64
		listenAt uint16
	}{
		{name: "ipv4 loopback", client: netip.MustParseAddrPort("127.0.0.1:0"), to: netip.MustParseAddr("127.0.0.1"), seen: gw4, guest: guest4, reuse: true, listenAt: 5001},
		{name: "ipv6 loopback", client: netip.MustParseAddrPort("[::1]:0"), to: netip.IPv6Loopback(), seen: gw6, guest: guest6, reuse: true, listenAt: 5002},
		{name: "ipv4 remote", client: netip.AddrPortFrom(remote4, 0), to: remote4, seen: remote4, guest: guest4, reuse: true, listenAt: 5003},
		{name: "ipv6 remote", client: netip.AddrPortFrom(remote6, 0), to: remote6, seen: remote6, guest: guest6, reuse: true, listenAt: 5004},
		{name: "listener without SO_REUSEADDR", client: netip.MustParseAddrPort("127.0.0.1:0"), to: netip.MustParseAddr("127.0.0.1"), seen: gw4, guest: guest4, reuse: false, shared: 1, listenAt: 5005},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, 64, nil)
			lfd := listenerSocket(t, ns, tc.listenAt, tc.reuse)
			const guestPort = 7000
			if err := r.h.AddListener(lfd, Forward{Port: tc.listenAt, ToPort: guestPort}); err != nil {
				t.Fatal(err)
			}
			client := newServer(t, ns, tc.client)
			fwd := netip.AddrPortFrom(tc.to, tc.listenAt)
			seen := netip.AddrPortFrom(tc.seen, client.addr.Port())
			guest := netip.AddrPortFrom(tc.guest, guestPort)
			for j := 0; j < 3; j++ {
				data := patterned(100+j*1000, byte(j))
				client.send(t, fwd, data)
				ns.Run(func() {
					if !r.pump(j + 1) {
						t.Errorf("datagram %d: got %d frames, want %d", j, len(r.Sink.Frames), j+1)
					}
				})
				if len(r.Sink.Frames) <= j {
					t.FailNow()
				}
				checkDatagram(t, r.Sink.Frames[j], seen, guest, data)
				reply := patterned(50+j, byte(j)+50)
				frame, f := udpFrame(t, guest, seen, 64, reply)
				ns.Run(func() {
					if d := r.h.FromGuest(frame, f); d != DropNone {
						t.Errorf("reply: got %v, want none", d)
					}
					r.h.Flush()
				})
				got, src := client.recv(t)
				if !bytes.Equal(got, reply) || src != fwd {
					t.Errorf("client got %q from %v, want %q from %v", got, src, reply, fwd)
				}
			}
			c := r.h.Counters()
			if c.Inbound != 1 || c.Opened != 1 || c.Shared != tc.shared || c.ToGuest != 3 || c.FromGuest != 3 {
				t.Errorf("got inbound %d opened %d shared %d to guest %d from guest %d; want 1 1 %d 3 3", c.Inbound, c.Opened, c.Shared, c.ToGuest, c.FromGuest, tc.shared)
			}
		})
	}
}

// TestInboundNoGuestAddr: without an address for the guest, datagrams on a
// forwarded port are dropped and counted.
func TestInboundNoGuestAddr(t *testing.T) {
	ns := newTestNS(t)
	r := newRig(t, 16, func(c *Config) { c.GuestAddr = nil })
	lfd := listenerSocket(t, ns, 5100, true)
	if err := r.h.AddListener(lfd, Forward{Port: 5100, ToPort: 5100}); err != nil {
		t.Fatal(err)
	}
	client := newServer(t, ns, netip.MustParseAddrPort("127.0.0.1:0"))
	client.send(t, netip.MustParseAddrPort("127.0.0.1:5100"), []byte("x"))
	fds := []unix.PollFd{{Fd: int32(lfd), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, 5000); n != 1 || err != nil {
		t.Fatalf("listener not readable: %v", err)
	}
	ns.Run(func() { r.h.Event(engineRef(listenKind, 0), unix.EPOLLIN) })
	if got := r.h.Counters().Drops[DropNoGuestAddr]; got != 1 {
		t.Errorf("got %d drops for no guest address, want 1", got)
	}
}

// TestICMPErrors sends to a closed port: the port unreachable comes back
// to the guest as an ICMP or ICMPv6 error from the address it sent to,
// quoting its datagram, and the flow keeps working.
func TestICMPErrors(t *testing.T) {
	ns := newTestNS(t, remoteAddrs...)
	tests := []struct {
		name            string
		guest, dst      netip.Addr
		bind            string
		wantType, wantC uint8
	}{
		{name: "ipv4 gateway", guest: guest4, dst: gw4, bind: "127.0.0.1:0", wantType: header.ICMPv4DestUnreachable, wantC: header.ICMPv4PortUnreachable},
		{name: "ipv6 gateway", guest: guest6, dst: gw6, bind: "[::1]:0", wantType: header.ICMPv6DestUnreachable, wantC: header.ICMPv6PortUnreachable},
		{name: "ipv4 remote", guest: guest4, dst: remote4, bind: "203.0.113.1:0", wantType: header.ICMPv4DestUnreachable, wantC: header.ICMPv4PortUnreachable},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, 16, nil)
			// A port that was just free: bind, note, close.
			tmp := newServer(t, ns, netip.MustParseAddrPort(tc.bind))
			closed := tmp.addr.Port()
			unix.Close(tmp.fd)
			tmp.fd = -1
			from := netip.AddrPortFrom(tc.guest, uint16(41000+i))
			to := netip.AddrPortFrom(tc.dst, closed)
			data := []byte("is anybody there?")
			frame, f := udpFrame(t, from, to, 64, data)
			ns.Run(func() {
				r.h.FromGuest(frame, f)
				r.h.Flush()
				if !r.pump(1) {
					t.Error("no ICMP error reached the guest")
				}
			})
			if len(r.Sink.Frames) == 0 {
				t.FailNow()
			}
			checkICMPError(t, r.Sink.Frames[0], tc.dst, tc.guest, tc.wantType, tc.wantC, from, to, data)
			// The error does not break the flow: the next send goes out.
			ns.Run(func() {
				r.h.FromGuest(frame, f)
				r.h.Flush()
			})
			if c := r.h.Counters(); c.FromGuest != 2 || c.Errors < 1 {
				t.Errorf("got from guest %d errors %d, want 2 and at least 1 (drops %v)", c.FromGuest, c.Errors, c.Drops)
			}
		})
	}
}

// TestInboundICMPErrors: the guest answers a client on a forwarded port
// that has gone away; the port unreachable comes back to the guest,
// quoting its reply, both from a flow's own socket and through the
// listening socket a flow shares when it cannot have its own.
func TestInboundICMPErrors(t *testing.T) {
	ns := newTestNS(t, remoteAddrs...)
	tests := []struct {
		name            string
		client          netip.AddrPort
		to, seen, guest netip.Addr
		reuse           bool
		shared          uint64
		listenAt        uint16
		wantType, wantC uint8
	}{
		{name: "ipv4 own socket", client: netip.MustParseAddrPort("127.0.0.1:0"), to: netip.MustParseAddr("127.0.0.1"), seen: gw4, guest: guest4,
			reuse: true, listenAt: 5201, wantType: header.ICMPv4DestUnreachable, wantC: header.ICMPv4PortUnreachable},
		{name: "ipv6 own socket", client: netip.AddrPortFrom(remote6, 0), to: remote6, seen: remote6, guest: guest6,
			reuse: true, listenAt: 5202, wantType: header.ICMPv6DestUnreachable, wantC: header.ICMPv6PortUnreachable},
		{name: "ipv4 through the listener", client: netip.MustParseAddrPort("127.0.0.1:0"), to: netip.MustParseAddr("127.0.0.1"), seen: gw4, guest: guest4,
			shared: 1, listenAt: 5203, wantType: header.ICMPv4DestUnreachable, wantC: header.ICMPv4PortUnreachable},
		{name: "ipv6 through the listener", client: netip.MustParseAddrPort("[::1]:0"), to: netip.IPv6Loopback(), seen: gw6, guest: guest6,
			shared: 1, listenAt: 5204, wantType: header.ICMPv6DestUnreachable, wantC: header.ICMPv6PortUnreachable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, 64, nil)
			lfd := listenerSocket(t, ns, tc.listenAt, tc.reuse)
			const guestPort = 7001
			if err := r.h.AddListener(lfd, Forward{Port: tc.listenAt, ToPort: guestPort}); err != nil {
				t.Fatal(err)
			}
			client := newServer(t, ns, tc.client)
			client.send(t, netip.AddrPortFrom(tc.to, tc.listenAt), []byte("hello"))
			ns.Run(func() {
				if !r.pump(1) {
					t.Error("the client's datagram did not reach the guest")
				}
			})
			if len(r.Sink.Frames) == 0 {
				t.FailNow()
			}
			// The client goes away; the guest answers all the same.
			unix.Close(client.fd)
			client.fd = -1
			seen := netip.AddrPortFrom(tc.seen, client.addr.Port())
			guest := netip.AddrPortFrom(tc.guest, guestPort)
			reply := []byte("are you still there?")
			frame, f := udpFrame(t, guest, seen, 64, reply)
			ns.Run(func() {
				r.h.FromGuest(frame, f)
				r.h.Flush()
				if !r.pump(2) {
					t.Error("no ICMP error reached the guest")
				}
			})
			if len(r.Sink.Frames) < 2 {
				t.FailNow()
			}
			checkICMPError(t, r.Sink.Frames[1], tc.seen, tc.guest, tc.wantType, tc.wantC, guest, seen, reply)
			if c := r.h.Counters(); c.Shared != tc.shared || c.Errors != 1 {
				t.Errorf("got shared %d errors %d, want %d and 1 (drops %v)", c.Shared, c.Errors, tc.shared, c.Drops)
			}
		})
	}
}

// checkICMPError checks an ICMP error frame from src to dst, of type typ
// and code code, quoting a UDP datagram from qsrc to qdst with data.
func checkICMPError(t *testing.T, frame []byte, src, dst netip.Addr, typ, code uint8, qsrc, qdst netip.AddrPort, data []byte) {
	t.Helper()
	f, d := header.Decode(frame)
	if d != header.DropNone {
		t.Fatalf("error frame does not decode: %v", d)
	}
	msg := f.Transport(frame)
	v4 := src.Is4()
	var valid bool
	var quote []byte
	if v4 {
		m, _ := header.ParseICMPv4(msg)
		valid = m.ChecksumValid()
		quote = m.Payload()
	} else {
		valid = header.TransportChecksumValid6(msg, header.ProtocolICMPv6, f.Src, f.Dst)
		quote = msg[header.ICMPLen:]
	}
	testnet.CheckFields(t, testnet.Fields{
		{"source", f.Src, src},
		{"destination", f.Dst, dst},
		{"type", f.ICMPType, typ},
		{"code", f.ICMPCode, code},
		{"checksum valid", valid, true},
		{"destination MAC", f.DstMAC, guestMAC},
	})
	// The quote, decoded as a packet of its own.
	var qs, qd netip.Addr
	var l4 []byte
	if v4 {
		ip, ok := header.ParseIPv4(quote)
		if !ok {
			t.Fatalf("quoted IPv4 header does not parse")
		}
		qs, qd, l4 = ip.Src(), ip.Dst(), ip.Payload()
	} else {
		ip, ok := header.ParseIPv6(quote)
		if !ok {
			t.Fatalf("quoted IPv6 header does not parse")
		}
		qs, qd, l4 = ip.Src(), ip.Dst(), ip.Transport()
	}
	u, ok := header.ParseUDP(l4)
	if !ok {
		t.Fatalf("quoted UDP header does not parse")
	}
	if got := netip.AddrPortFrom(qs, u.SrcPort()); got != qsrc {
		t.Errorf("quoted source: got %v, want %v", got, qsrc)
	}
	if got := netip.AddrPortFrom(qd, u.DstPort()); got != qdst {
		t.Errorf("quoted destination: got %v, want %v", got, qdst)
	}
	if !bytes.Equal(u.Payload(), data) {
		t.Errorf("quoted data: got %q, want %q", u.Payload(), data)
	}
}

// TestRefused feeds frames the translation refuses.
func TestRefused(t *testing.T) {
	ns := newTestNS(t)
	g4 := netip.AddrPortFrom(guest4, 1000)
	g6 := netip.AddrPortFrom(guest6, 1000)
	tests := []struct {
		name   string
		src    netip.AddrPort
		dst    netip.AddrPort
		mutate func(*header.Frame)
		want   Drop
	}{
		{name: "multicast", src: g4, dst: netip.MustParseAddrPort("224.0.0.251:5353"), want: DropMulticast},
		{name: "broadcast", src: g4, dst: netip.MustParseAddrPort("255.255.255.255:9"), want: DropMulticast},
		{name: "subnet broadcast MAC", src: g4, dst: netip.MustParseAddrPort("192.0.2.255:9"), mutate: func(f *header.Frame) { f.DstMAC = header.BroadcastMAC }, want: DropMulticast},
		{name: "ipv6 multicast", src: g6, dst: netip.MustParseAddrPort("[ff02::fb]:5353"), want: DropMulticast},
		{name: "unspecified source", src: netip.MustParseAddrPort("0.0.0.0:68"), dst: netip.MustParseAddrPort("192.0.2.1:9"), want: DropSource},
		{name: "port zero", src: g4, dst: netip.MustParseAddrPort("192.0.2.1:0"), want: DropRefused},
		{name: "ipv4-mapped destination", src: g6, dst: netip.MustParseAddrPort("[::ffff:192.0.2.1]:9"), want: DropRefused},
		{name: "not udp", src: g4, dst: netip.MustParseAddrPort("192.0.2.1:9"), mutate: func(f *header.Frame) { f.Proto = header.ProtocolTCP }, want: DropNotUDP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, 16, nil)
			frame, f := udpFrame(t, tc.src, tc.dst, 64, []byte("x"))
			if tc.mutate != nil {
				tc.mutate(&f)
			}
			var got Drop
			ns.Run(func() { got = r.h.FromGuest(frame, f) })
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if c := r.h.Counters(); c.Drops[tc.want] != 1 || r.h.Flows() != 0 {
				t.Errorf("got %d drops counted and %d flows, want 1 and 0", c.Drops[tc.want], r.h.Flows())
			}
		})
	}
}

// TestFlowLimit: at the limit, new flows are refused and existing ones
// keep working; once idle flows expire, new ones are accepted again.
func TestFlowLimit(t *testing.T) {
	ns := newTestNS(t)
	r := newRig(t, 64, func(c *Config) { c.MaxFlows = 2 })
	srv := newServer(t, ns, netip.MustParseAddrPort("127.0.0.1:0"))
	send := func(port uint16) Drop {
		frame, f := udpFrame(t, netip.AddrPortFrom(guest4, port), netip.AddrPortFrom(gw4, srv.addr.Port()), 64, []byte{byte(port)})
		var d Drop
		ns.Run(func() {
			d = r.h.FromGuest(frame, f)
			r.h.Flush()
		})
		if d == DropNone {
			if got, _ := srv.recv(t); got[0] != byte(port) {
				t.Errorf("server got %v, want %v", got[0], byte(port))
			}
		}
		return d
	}
	steps := []struct {
		port uint16
		want Drop
	}{{1, DropNone}, {2, DropNone}, {3, DropFlowLimit}, {1, DropNone}, {2, DropNone}}
	for _, s := range steps {
		if got := send(s.port); got != s.want {
			t.Errorf("port %d: got %v, want %v", s.port, got, s.want)
		}
	}
	r.Now = r.Now.Add(DefaultStreamTimeout + time.Second)
	if n := r.h.Expire(r.Now); n != 2 {
		t.Errorf("expired %d flows, want 2", n)
	}
	if got := send(3); got != DropNone {
		t.Errorf("after expiry: got %v, want none", got)
	}
}

// TestExpiry: a flow with one datagram expires after Timeout, one with
// more after StreamTimeout, and each expiry closes the flow's socket.
func TestExpiry(t *testing.T) {
	ns := newTestNS(t)
	r := newRig(t, 16, nil)
	srv := newServer(t, ns, netip.MustParseAddrPort("127.0.0.1:0"))
	base := testnet.CountFDs(t)
	to := netip.AddrPortFrom(gw4, srv.addr.Port())
	for _, s := range []struct {
		port  uint16
		count int
	}{{2001, 1}, {2002, 2}} {
		frame, f := udpFrame(t, netip.AddrPortFrom(guest4, s.port), to, 64, []byte("x"))
		for range s.count {
			ns.Run(func() {
				r.h.FromGuest(frame, f)
				r.h.Flush()
			})
			srv.recv(t)
		}
	}
	if got := testnet.CountFDs(t); got != base+2 {
		t.Errorf("got %d descriptors, want %d", got, base+2)
	}
	steps := []struct {
		after       time.Duration
		wantExpired int
		wantFlows   int
	}{
		{DefaultTimeout - time.Second, 0, 2},
		{DefaultTimeout, 1, 1},
		{DefaultStreamTimeout - time.Second, 0, 1},
		{DefaultStreamTimeout, 1, 0},
	}
	start := r.Now
	for _, s := range steps {
		r.Now = start.Add(s.after)
		if got := r.h.Expire(r.Now); got != s.wantExpired || r.h.Flows() != s.wantFlows {
			t.Errorf("after %v: expired %d, flows %d; want %d %d", s.after, got, r.h.Flows(), s.wantExpired, s.wantFlows)
		}
	}
	if got := testnet.CountFDs(t); got != base {
		t.Errorf("got %d descriptors after expiry, want %d", got, base)
	}
	if r.Flows.Len() != 0 {
		t.Errorf("flow table holds %d flows, want 0", r.Flows.Len())
	}
}

// TestBatching: datagrams of one flow queued together leave in one
// sendmmsg, in order; a datagram of another flow sends the queue first.
func TestBatching(t *testing.T) {
	ns := newTestNS(t)
	r := newRig(t, 16, nil)
	srv := newServer(t, ns, netip.MustParseAddrPort("127.0.0.1:0"))
	to := netip.AddrPortFrom(gw4, srv.addr.Port())
	a := netip.AddrPortFrom(guest4, 3001)
	b := netip.AddrPortFrom(guest4, 3002)
	type step struct {
		from netip.AddrPort
		seq  byte
	}
	var steps []step
	for i := range 20 {
		steps = append(steps, step{a, byte(i)})
	}
	steps = append(steps, step{b, 100}, step{b, 101})
	ns.Run(func() {
		for _, s := range steps {
			frame, f := udpFrame(t, s.from, to, 64, []byte{s.seq})
			if d := r.h.FromGuest(frame, f); d != DropNone {
				t.Errorf("got %v", d)
			}
		}
		r.h.Flush()
	})
	for _, s := range steps {
		got, src := srv.recv(t)
		if got[0] != s.seq || src.Port() != s.from.Port() {
			t.Fatalf("got %d from port %d, want %d from port %d", got[0], src.Port(), s.seq, s.from.Port())
		}
	}
	if c := r.h.Counters(); c.SendCalls != 2 || c.FromGuest != uint64(len(steps)) {
		t.Errorf("got %d sendmmsg calls for %d datagrams, want 2 for %d", c.SendCalls, c.FromGuest, len(steps))
	}
}

// TestTTL: the guest's TTL or hop limit is applied to the flow's socket.
func TestTTL(t *testing.T) {
	ns := newTestNS(t)
	tests := []struct {
		name       string
		guest, dst netip.Addr
		level, opt int
	}{
		{name: "ipv4", guest: guest4, dst: gw4, level: unix.IPPROTO_IP, opt: unix.IP_TTL},
		{name: "ipv6", guest: guest6, dst: gw6, level: unix.IPPROTO_IPV6, opt: unix.IPV6_UNICAST_HOPS},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, 16, nil)
			for _, ttl := range []uint8{7, 7, 64, 1} {
				frame, f := udpFrame(t, netip.AddrPortFrom(tc.guest, 4000), netip.AddrPortFrom(tc.dst, 9), ttl, []byte("t"))
				ns.Run(func() {
					r.h.FromGuest(frame, f)
					r.h.Flush()
				})
				got, err := unix.GetsockoptInt(int(r.h.state[0].fd), tc.level, tc.opt)
				if err != nil || got != int(ttl) {
					t.Errorf("socket TTL: got %d (%v), want %d", got, err, ttl)
				}
			}
		})
	}
}

// TestZeroAllocs: datagrams both ways on an existing flow allocate
// nothing, whether the flow has its own socket (opened by the guest) or
// answers through a listening socket (opened from a forwarded port).
func TestZeroAllocs(t *testing.T) {
	ns := newTestNS(t)
	t.Run("outbound", func(t *testing.T) {
		r := newRig(t, 16, nil)
		sink := &counter{}
		r.h.out = sink
		srv := newServer(t, ns, netip.MustParseAddrPort("127.0.0.1:0"))
		from := netip.AddrPortFrom(guest4, 4321)
		frame, f := udpFrame(t, from, netip.AddrPortFrom(gw4, srv.addr.Port()), 64, []byte("allocation-free"))
		ns.Run(func() {
			r.h.FromGuest(frame, f)
			r.h.Flush()
		})
		_, peer := srv.recv(t)
		if err := unix.Connect(srv.fd, toSockaddr(peer)); err != nil {
			t.Fatal(err)
		}
		reply := []byte("reply")
		fds := []unix.PollFd{{Fd: r.h.state[0].fd, Events: unix.POLLIN}}
		buf := make([]byte, 100)
		allocs := testing.AllocsPerRun(100, func() {
			r.h.FromGuest(frame, f)
			r.h.Flush()
			unix.Read(srv.fd, buf)
			unix.Write(srv.fd, reply)
			unix.Poll(fds, 5000)
			r.h.Event(engineRef(sockKind, 0), unix.EPOLLIN)
		})
		if allocs != 0 {
			t.Errorf("got %v allocations per round trip, want 0", allocs)
		}
		if sink.n < 100 {
			t.Errorf("got %d datagrams to the guest, want at least 100", sink.n)
		}
	})
	t.Run("inbound through the listener", func(t *testing.T) {
		r := newRig(t, 16, nil)
		sink := &counter{}
		r.h.out = sink
		lfd := listenerSocket(t, ns, 5200, false)
		if err := r.h.AddListener(lfd, Forward{Port: 5200, ToPort: 5200}); err != nil {
			t.Fatal(err)
		}
		client := newServer(t, ns, netip.MustParseAddrPort("127.0.0.1:0"))
		if err := unix.Connect(client.fd, toSockaddr(netip.MustParseAddrPort("127.0.0.1:5200"))); err != nil {
			t.Fatal(err)
		}
		frame, f := udpFrame(t, netip.AddrPortFrom(guest4, 5200), netip.AddrPortFrom(gw4, client.addr.Port()), 64, []byte("reply"))
		fds := []unix.PollFd{{Fd: int32(lfd), Events: unix.POLLIN}}
		buf := make([]byte, 100)
		query := []byte("query")
		roundTrip := func() {
			unix.Write(client.fd, query)
			unix.Poll(fds, 5000)
			r.h.Event(engineRef(listenKind, 0), unix.EPOLLIN)
			r.h.FromGuest(frame, f)
			r.h.Flush()
			unix.Read(client.fd, buf)
		}
		ns.Run(roundTrip) // opens the flow
		allocs := testing.AllocsPerRun(100, roundTrip)
		if allocs != 0 {
			t.Errorf("got %v allocations per round trip, want 0", allocs)
		}
		if c := r.h.Counters(); c.Shared != 1 || c.FromGuest < 100 || sink.n < 100 {
			t.Errorf("got shared %d, from guest %d, to guest %d; want 1 and at least 100 each", c.Shared, c.FromGuest, sink.n)
		}
	})
}

func TestStrings(t *testing.T) {
	for d := Drop(0); d < NumDrops; d++ {
		if d.String() == "" || d.String() == "invalid" {
			t.Errorf("Drop %d has no name", d)
		}
	}
	if got := Drop(200).String(); got != "invalid" {
		t.Errorf("got %q, want %q", got, "invalid")
	}
}

// TestControlMessages parses control data as the kernel lays it out.
func TestControlMessages(t *testing.T) {
	cmsg := func(level, typ int32, data []byte) []byte {
		b := make([]byte, cmsgAlign(cmsgHeader+len(data)))
		h := (*unix.Cmsghdr)(ptr(b))
		h.Level, h.Type = level, typ
		h.SetLen(cmsgHeader + len(data))
		copy(b[cmsgHeader:], data)
		return b
	}
	in4 := make([]byte, sizeofInPktinfo)
	copy(in4[8:], []byte{192, 0, 2, 7})
	in6 := make([]byte, sizeofIn6Pktinfo)
	a6 := netip.MustParseAddr("2001:db8::7").As16()
	copy(in6, a6[:])
	mapped := make([]byte, sizeofIn6Pktinfo)
	m6 := netip.MustParseAddr("::ffff:192.0.2.8").As16()
	copy(mapped, m6[:])
	ee := make([]byte, sizeofExtendedErr+unix.SizeofSockaddrInet4)
	binary.NativeEndian.PutUint32(ee[0:], uint32(unix.ECONNREFUSED))
	ee[4], ee[5], ee[6] = eeOriginICMP, 3, 3
	binary.NativeEndian.PutUint32(ee[8:], 1280)
	binary.NativeEndian.PutUint16(ee[16:], unix.AF_INET)
	copy(ee[20:], []byte{198, 51, 100, 1})
	pktinfo := []struct {
		name string
		ctrl []byte
		want netip.Addr
		ok   bool
	}{
		{"ipv4", cmsg(unix.SOL_IP, unix.IP_PKTINFO, in4), netip.MustParseAddr("192.0.2.7"), true},
		{"ipv6", cmsg(unix.SOL_IPV6, unix.IPV6_PKTINFO, in6), netip.MustParseAddr("2001:db8::7"), true},
		{"ipv4-mapped", cmsg(unix.SOL_IPV6, unix.IPV6_PKTINFO, mapped), netip.MustParseAddr("192.0.2.8"), true},
		{"after another", append(cmsg(unix.SOL_SOCKET, unix.SO_TIMESTAMP, make([]byte, 16)), cmsg(unix.SOL_IP, unix.IP_PKTINFO, in4)...), netip.MustParseAddr("192.0.2.7"), true},
		{"short", cmsg(unix.SOL_IP, unix.IP_PKTINFO, in4[:8]), netip.Addr{}, false},
		{"empty", nil, netip.Addr{}, false},
		{"truncated header", cmsg(unix.SOL_IP, unix.IP_PKTINFO, in4)[:10], netip.Addr{}, false},
	}
	for _, tc := range pktinfo {
		t.Run("pktinfo "+tc.name, func(t *testing.T) {
			got, ok := pktinfoDst(tc.ctrl)
			if got != tc.want || ok != tc.ok {
				t.Errorf("got %v %v, want %v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
	got, ok := parseExtendedErr(cmsg(unix.SOL_IP, unix.IP_RECVERR, ee))
	want := extendedErr{errno: uint32(unix.ECONNREFUSED), origin: eeOriginICMP, typ: 3, code: 3, info: 1280, offender: netip.MustParseAddr("198.51.100.1")}
	if !ok || got != want {
		t.Errorf("extended error: got %+v %v, want %+v", got, ok, want)
	}
	if _, ok := parseExtendedErr(cmsg(unix.SOL_IP, unix.IP_RECVERR, ee[:10])); ok {
		t.Errorf("short extended error accepted")
	}
}

func TestErrorRest(t *testing.T) {
	tests := []struct {
		name      string
		v4        bool
		typ, code uint8
		info      uint32
		want      uint32
	}{
		{"fragmentation needed", true, header.ICMPv4DestUnreachable, header.ICMPv4FragmentationNeeded, 1400, 1400},
		{"port unreachable", true, header.ICMPv4DestUnreachable, header.ICMPv4PortUnreachable, 7, 0},
		{"parameter problem", true, header.ICMPv4ParameterProblem, 0, 9, 9 << 24},
		{"packet too big", false, header.ICMPv6PacketTooBig, 0, 1280, 1280},
		{"ipv6 parameter problem", false, header.ICMPv6ParameterProblem, 0, 40, 40},
		{"ipv6 port unreachable", false, header.ICMPv6DestUnreachable, header.ICMPv6PortUnreachable, 5, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := errorRest(tc.v4, tc.typ, tc.code, tc.info); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

// TestInboundSplice: datagrams from the host's loopback on a listener
// whose Forward has Splice go to Config.Splice, with their sender and
// payload, and never to the guest; those on other listeners, or from
// another address, still reach the guest.
func TestInboundSplice(t *testing.T) {
	ns := newTestNS(t, remoteAddrs...)
	type took struct {
		listener int
		fw       Forward
		peer     netip.AddrPort
		payload  []byte
	}
	var got []took
	r := newRig(t, 64, func(c *Config) {
		c.Splice = func(listener int, fw Forward, peer netip.AddrPort, payload []byte) bool {
			got = append(got, took{listener, fw, peer, bytes.Clone(payload)})
			return true
		}
	})
	spliced := listenerSocket(t, ns, 5101, true)
	plain := listenerSocket(t, ns, 5102, true)
	if err := r.h.AddListener(spliced, Forward{Port: 5101, ToPort: 7001, Splice: true}); err != nil {
		t.Fatal(err)
	}
	if err := r.h.AddListener(plain, Forward{Port: 5102, ToPort: 7002}); err != nil {
		t.Fatal(err)
	}
	lo := newServer(t, ns, netip.MustParseAddrPort("127.0.0.1:0"))
	far := newServer(t, ns, netip.AddrPortFrom(remote4, 0))
	data := patterned(1200, 3)
	lo.send(t, netip.MustParseAddrPort("127.0.0.1:5101"), data)
	lo.send(t, netip.MustParseAddrPort("127.0.0.1:5102"), data)
	far.send(t, netip.AddrPortFrom(remote4, 5101), data)
	ns.Run(func() {
		if !r.pump(2) {
			t.Errorf("got %d frames for the guest, want 2", len(r.Sink.Frames))
		}
	})
	if len(got) != 1 {
		t.Fatalf("Splice took %d datagrams, want 1", len(got))
	}
	g := got[0]
	if g.listener != spliced || g.fw.ToPort != 7001 || !g.fw.Splice || g.peer != lo.addr || !bytes.Equal(g.payload, data) {
		t.Errorf("Splice got listener %d %+v from %v, %d bytes; want listener %d, port 7001, from %v, the %d bytes sent",
			g.listener, g.fw, g.peer, len(g.payload), spliced, lo.addr, len(data))
	}
	if c := r.h.Counters(); c.Spliced != 1 || c.ToGuest != 2 {
		t.Errorf("counted %d spliced, %d to the guest; want 1 and 2", c.Spliced, c.ToGuest)
	}
}
