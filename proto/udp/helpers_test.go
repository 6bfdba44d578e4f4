// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package udp

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"passt-go/internal/testnet"
	"passt-go/proto/engine"
	"passt-go/proto/header"
	"passt-go/proto/nat"
)

// newTestNS creates a network namespace with lo up and the addresses
// extra (CIDR strings) on lo. It skips the test when the kernel refuses.
func newTestNS(t testing.TB, extra ...string) *testnet.NetNS {
	t.Helper()
	return testnet.NewNetNS(t, func() error {
		for _, a := range extra {
			p := netip.MustParsePrefix(a)
			if err := addLoAddr(p); err != nil {
				return err
			}
			if err := waitRoutable(p.Addr()); err != nil {
				return err
			}
		}
		return nil
	})
}

// addLoAddr adds p to lo with an RTM_NEWADDR netlink request.
func addLoAddr(p netip.Prefix) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink socket: %w", err)
	}
	defer unix.Close(fd)
	family, alen := unix.AF_INET, 4
	if p.Addr().Is6() {
		family, alen = unix.AF_INET6, 16
	}
	addr := p.Addr().AsSlice()
	attr := make([]byte, 4+alen)
	*(*uint16)(ptr(attr)) = uint16(4 + alen)
	*(*uint16)(ptr(attr[2:])) = unix.IFA_LOCAL
	copy(attr[4:], addr)
	attr2 := append([]byte(nil), attr...)
	*(*uint16)(ptr(attr2[2:])) = unix.IFA_ADDRESS
	msg := make([]byte, unix.SizeofNlMsghdr+unix.SizeofIfAddrmsg)
	msg = append(msg, attr...)
	msg = append(msg, attr2...)
	nh := (*unix.NlMsghdr)(ptr(msg))
	nh.Len = uint32(len(msg))
	nh.Type = unix.RTM_NEWADDR
	nh.Flags = unix.NLM_F_REQUEST | unix.NLM_F_ACK | unix.NLM_F_CREATE | unix.NLM_F_EXCL
	nh.Seq = 1
	ifa := (*unix.IfAddrmsg)(ptr(msg[unix.SizeofNlMsghdr:]))
	ifa.Family = uint8(family)
	ifa.Prefixlen = uint8(p.Bits())
	ifa.Flags = unix.IFA_F_NODAD
	ifa.Index = 1 // lo
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink send: %w", err)
	}
	buf := make([]byte, 4096)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return fmt.Errorf("netlink receive: %w", err)
	}
	if n >= unix.SizeofNlMsghdr+4 {
		rh := (*unix.NlMsghdr)(ptr(buf))
		if rh.Type == unix.NLMSG_ERROR {
			if code := *(*int32)(ptr(buf[unix.SizeofNlMsghdr:])); code != 0 {
				return fmt.Errorf("add address %v: %w", p, unix.Errno(-code))
			}
		}
	}
	return nil
}

func engineRef(k engine.Kind, i uint32) engine.Ref { return engine.Ref{Kind: k, Index: i} }

func ptr(b []byte) unsafe.Pointer { return unsafe.Pointer(&b[0]) }

// waitRoutable waits until a datagram to a, just added, is delivered:
// IPv6 installs the local route of a new address from a work queue that
// needs the RTNL lock, even without duplicate address detection, and
// that lock is busy while other tests tear namespaces down.
func waitRoutable(a netip.Addr) error {
	domain := unix.AF_INET6
	var sa unix.Sockaddr = &unix.SockaddrInet6{Addr: a.As16()}
	if a.Is4() {
		domain = unix.AF_INET
		sa = &unix.SockaddrInet4{Addr: a.As4()}
	}
	fd, err := unix.Socket(domain, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(int64(10 * time.Millisecond))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fmt.Errorf("SO_RCVTIMEO: %w", err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fmt.Errorf("bind %v: %w", a, err)
	}
	self, err := unix.Getsockname(fd)
	if err != nil {
		return fmt.Errorf("getsockname: %w", err)
	}
	buf := make([]byte, 8)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		unix.Sendto(fd, []byte("probe"), 0, self)
		if _, _, err := unix.Recvfrom(fd, buf, 0); err == nil {
			return nil
		}
	}
	return fmt.Errorf("route to %v: %w", a, unix.ENETUNREACH)
}

// counter is a tap.Sink that only counts, for allocation tests and benchmarks.
type counter struct{ n, bytes int }

func (c *counter) Send(f []byte) { c.n++; c.bytes += len(f) }

var (
	guestMAC = header.MAC{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	ourMAC   = header.MAC{0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55}
	guest4   = netip.MustParseAddr("192.0.2.10")
	gw4      = netip.MustParseAddr("192.0.2.1")
	dns4     = netip.MustParseAddr("192.0.2.53")
	remote4  = netip.MustParseAddr("203.0.113.1") // on the namespace's lo
	guest6   = netip.MustParseAddr("2001:db8::10")
	gw6      = netip.MustParseAddr("2001:db8::1")
	dns6     = netip.MustParseAddr("2001:db8::53")
	remote6  = netip.MustParseAddr("2001:db8:2::1") // on the namespace's lo
	ourLL    = netip.MustParseAddr("fe80::2")
	resolver = netip.MustParseAddr("127.0.0.53")
)

// remoteAddrs are the addresses newTestNS puts on lo to stand for remote
// peers.
var remoteAddrs = []string{"203.0.113.1/32", "2001:db8:2::1/128"}

// testNAT makes the gateways stand for the host's loopback and forwards
// DNS at dns4 and dns6 to a resolver on loopback, as the configuration does
// for a resolv.conf naming 127.0.0.53 and ::1.
func testNAT() *nat.Config {
	return &nat.Config{
		Guest4: guest4, Gateway4: gw4, Guest6: guest6, Gateway6: gw6, OurLL6: ourLL,
		DNSForward4: dns4, DNSHost4: resolver, DNSForward6: dns6, DNSHost6: netip.IPv6Loopback(),
	}
}

// rig is a Handler with its table, loop, sink and clock.
type rig struct {
	*testnet.Rig
	h *Handler
}

const (
	sockKind   engine.Kind = 5
	listenKind engine.Kind = 6
)

func newRig(t testing.TB, capacity int, tweak func(*Config)) *rig {
	t.Helper()
	r := &rig{Rig: testnet.NewRig(t, capacity)}
	cfg := Config{
		NAT:      testNAT(),
		OurMAC:   ourMAC,
		GuestMAC: func() header.MAC { return guestMAC },
		GuestAddr: func(v4, _ bool) netip.Addr {
			if v4 {
				return guest4
			}
			return guest6
		},
		Now: r.Clock,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	r.h = New(cfg, r.Flows, r.Loop, sockKind, listenKind, r.Sink)
	t.Cleanup(r.h.Close)
	return r
}

// pump dispatches the loop's events to the Handler until the sink holds
// want frames or five seconds pass, and reports whether it got them.
func (r *rig) pump(want int) bool {
	return r.Pump(want, func(ev engine.Event) { r.h.Event(ev.Ref, ev.Events) })
}

// udpFrame builds a guest frame carrying a UDP datagram and decodes it.
func udpFrame(t testing.TB, src netip.AddrPort, dst netip.AddrPort, ttl uint8, data []byte) ([]byte, header.Frame) {
	t.Helper()
	b := testnet.UDPFrame(ourMAC, guestMAC, src, dst, ttl, data)
	return b, testnet.Decode(t, b)
}

// server is a UDP socket in a test namespace.
type server struct {
	fd   int
	addr netip.AddrPort
}

// newServer opens a blocking UDP socket bound to addr (port 0: any) inside
// ns, with a receive timeout, and closes it at clean-up.
func newServer(t testing.TB, ns *testnet.NetNS, addr netip.AddrPort) *server {
	t.Helper()
	s := &server{fd: -1}
	var err error
	ns.Run(func() {
		domain := unix.AF_INET
		if addr.Addr().Is6() {
			domain = unix.AF_INET6
		}
		s.fd, err = unix.Socket(domain, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return
		}
		tv := unix.NsecToTimeval(int64(5 * time.Second))
		if err = unix.SetsockoptTimeval(s.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			return
		}
		if err = unix.Bind(s.fd, toSockaddr(addr)); err != nil {
			return
		}
		var sa unix.Sockaddr
		if sa, err = unix.Getsockname(s.fd); err == nil {
			s.addr = fromSockaddr(sa)
		}
	})
	if s.fd >= 0 {
		t.Cleanup(func() { unix.Close(s.fd) })
	}
	if err != nil {
		t.Fatalf("server on %v: %v", addr, err)
	}
	return s
}

// recv returns the next datagram and its source.
func (s *server) recv(t testing.TB) ([]byte, netip.AddrPort) {
	t.Helper()
	buf := make([]byte, 70000)
	n, from, err := unix.Recvfrom(s.fd, buf, 0)
	if err != nil {
		t.Fatalf("server %v: %v", s.addr, err)
	}
	return buf[:n], fromSockaddr(from)
}

func (s *server) send(t testing.TB, to netip.AddrPort, data []byte) {
	t.Helper()
	if err := unix.Sendto(s.fd, data, 0, toSockaddr(to)); err != nil {
		t.Fatalf("server %v sending to %v: %v", s.addr, to, err)
	}
}

func toSockaddr(a netip.AddrPort) unix.Sockaddr {
	if a.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(a.Port()), Addr: a.Addr().As4()}
	}
	return &unix.SockaddrInet6{Port: int(a.Port()), Addr: a.Addr().As16()}
}

func fromSockaddr(sa unix.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

// checkDatagram checks that frame carries data in a UDP datagram from src
// to dst, to the guest's MAC, with hop limit ReplyHopLimit and a valid
// checksum.
func checkDatagram(t testing.TB, frame []byte, src, dst netip.AddrPort, data []byte) {
	t.Helper()
	f, d := header.Decode(frame)
	if d != header.DropNone {
		t.Fatalf("frame does not decode: %v", d)
	}
	seg := f.Transport(frame)
	valid := header.TransportChecksumValid6(seg, header.ProtocolUDP, f.Src, f.Dst)
	if f.Src.Is4() {
		valid = header.TransportChecksumValid4(seg, header.ProtocolUDP, f.Src, f.Dst) && seg[6]|seg[7] != 0
	}
	testnet.CheckFields(t, testnet.Fields{
		{"protocol", f.Proto, header.ProtocolUDP},
		{"destination MAC", f.DstMAC, guestMAC},
		{"source MAC", f.SrcMAC, ourMAC},
		{"source", netip.AddrPortFrom(f.Src, f.SrcPort), src},
		{"destination", netip.AddrPortFrom(f.Dst, f.DstPort), dst},
		{"hop limit", f.TTL, uint8(ReplyHopLimit)},
		{"checksum valid", valid, true},
		{"data", string(f.Data(frame)), string(data)},
	})
}
