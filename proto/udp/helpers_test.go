// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package udp

import (
	"errors"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"passt-go/proto/engine"
	"passt-go/proto/flow"
	"passt-go/proto/header"
	"passt-go/proto/nat"
)

// testNS is a private network namespace held by one goroutine locked to
// its thread: functions passed to do run there, so the sockets they open
// belong to the namespace. When the goroutine ends, its thread (and with
// it the namespace) goes away.
type testNS struct {
	fns  chan func()
	done chan struct{}
}

// newTestNS creates a network namespace with lo up and the addresses
// extra (CIDR strings) on lo. It skips the test when the kernel refuses.
func newTestNS(t testing.TB, extra ...string) *testNS {
	t.Helper()
	ns := &testNS{fns: make(chan func()), done: make(chan struct{})}
	errc := make(chan error)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- &setupError{"unshare", err}
			return
		}
		if err := setLoUp(); err != nil {
			errc <- err
			return
		}
		for _, a := range extra {
			p := netip.MustParsePrefix(a)
			if err := addLoAddr(p); err != nil {
				errc <- err
				return
			}
			if err := waitRoutable(p.Addr()); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
		for fn := range ns.fns {
			fn()
			ns.done <- struct{}{}
		}
	}()
	if err := <-errc; err != nil {
		var se *setupError
		if errors.As(err, &se) && se.op == "unshare" && (errors.Is(se.err, unix.EPERM) || errors.Is(se.err, unix.EINVAL) || errors.Is(se.err, unix.ENOSPC)) {
			t.Skipf("the kernel refused a network namespace: %v", err)
		}
		t.Fatalf("namespace: %v", err)
	}
	t.Cleanup(func() { close(ns.fns) })
	return ns
}

type setupError struct {
	op  string
	err error
}

func (e *setupError) Error() string { return e.op + ": " + e.err.Error() }
func (e *setupError) Unwrap() error { return e.err }

// do runs fn inside the namespace and waits for it. fn reports failures
// with t.Error, never t.Fatal.
func (ns *testNS) do(fn func()) {
	ns.fns <- fn
	<-ns.done
}

func setLoUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return &setupError{"socket", err}
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return &setupError{"SIOCGIFFLAGS", err}
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return &setupError{"SIOCSIFFLAGS", err}
	}
	return nil
}

// addLoAddr adds p to lo with an RTM_NEWADDR netlink request.
func addLoAddr(p netip.Prefix) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return &setupError{"netlink socket", err}
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
		return &setupError{"netlink send", err}
	}
	buf := make([]byte, 4096)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return &setupError{"netlink receive", err}
	}
	if n >= unix.SizeofNlMsghdr+4 {
		rh := (*unix.NlMsghdr)(ptr(buf))
		if rh.Type == unix.NLMSG_ERROR {
			if code := *(*int32)(ptr(buf[unix.SizeofNlMsghdr:])); code != 0 {
				return &setupError{"add address " + p.String(), unix.Errno(-code)}
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
		return &setupError{"socket", err}
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(int64(10 * time.Millisecond))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return &setupError{"SO_RCVTIMEO", err}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return &setupError{"bind " + a.String(), err}
	}
	self, err := unix.Getsockname(fd)
	if err != nil {
		return &setupError{"getsockname", err}
	}
	buf := make([]byte, 8)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		unix.Sendto(fd, []byte("probe"), 0, self)
		if _, _, err := unix.Recvfrom(fd, buf, 0); err == nil {
			return nil
		}
	}
	return &setupError{"route to " + a.String(), unix.ENETUNREACH}
}

// countFDs returns the number of descriptors the process has open.
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

// rig is a Handler with its table, loop and sink.
type rig struct {
	h     *Handler
	flows *flow.Table
	loop  *engine.Loop
	sink  *recorder
	now   flow.Time
}

const (
	sockKind   engine.Kind = 5
	listenKind engine.Kind = 6
)

func newRig(t testing.TB, capacity int, tweak func(*Config)) *rig {
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
		GuestAddr: func(v4, _ bool) netip.Addr {
			if v4 {
				return guest4
			}
			return guest6
		},
		Now: func() flow.Time { return r.now },
	}
	if tweak != nil {
		tweak(&cfg)
	}
	r.h = New(cfg, flows, loop, sockKind, listenKind, r.sink)
	t.Cleanup(func() {
		r.h.Close()
		loop.Close()
	})
	return r
}

// pump dispatches the loop's events to the Handler until the sink holds
// want frames or five seconds pass, and reports whether it got them.
func (r *rig) pump(want int) bool {
	p := &pumper{r: r, want: want, deadline: time.Now().Add(5 * time.Second)}
	if len(r.sink.frames) < want {
		if err := r.loop.Run(p, 20*time.Millisecond); err != nil {
			return false
		}
	}
	return len(r.sink.frames) >= want
}

type pumper struct {
	r        *rig
	want     int
	deadline time.Time
}

func (p *pumper) Handle(ev engine.Event) { p.r.h.Event(ev.Ref, ev.Events) }

func (p *pumper) BatchDone() {
	if len(p.r.sink.frames) >= p.want || time.Now().After(p.deadline) {
		p.r.loop.Stop()
	}
}

// udpFrame builds a guest frame carrying a UDP datagram and decodes it.
func udpFrame(t testing.TB, src netip.AddrPort, dst netip.AddrPort, ttl uint8, data []byte) ([]byte, header.Frame) {
	t.Helper()
	v4 := src.Addr().Is4()
	ipLen := header.IPv6Len
	if v4 {
		ipLen = header.IPv4MinLen
	}
	b := make([]byte, header.EthernetLen+ipLen+header.UDPLen+len(data))
	seg := b[header.EthernetLen+ipLen:]
	header.PutUDP(seg, src.Port(), dst.Port(), len(data))
	copy(seg[header.UDPLen:], data)
	if v4 {
		header.SetTransportChecksum4(seg, header.ProtocolUDP, src.Addr(), dst.Addr())
		header.PutIPv4(b[header.EthernetLen:], len(seg), header.IPv4Fields{Src: src.Addr(), Dst: dst.Addr(), Protocol: header.ProtocolUDP, TTL: ttl})
		header.PutEthernet(b, ourMAC, guestMAC, header.EtherTypeIPv4)
	} else {
		header.SetTransportChecksum6(seg, header.ProtocolUDP, src.Addr(), dst.Addr())
		header.PutIPv6(b[header.EthernetLen:], len(seg), header.IPv6Fields{Src: src.Addr(), Dst: dst.Addr(), NextHeader: header.ProtocolUDP, HopLimit: ttl})
		header.PutEthernet(b, ourMAC, guestMAC, header.EtherTypeIPv6)
	}
	f, d := header.Decode(b)
	if d != header.DropNone {
		t.Fatalf("test frame does not decode: %v", d)
	}
	return b, f
}

// server is a UDP socket in a test namespace.
type server struct {
	fd   int
	addr netip.AddrPort
}

// newServer opens a blocking UDP socket bound to addr (port 0: any) inside
// ns, with a receive timeout, and closes it at clean-up.
func newServer(t testing.TB, ns *testNS, addr netip.AddrPort) *server {
	t.Helper()
	s := &server{fd: -1}
	var err error
	ns.do(func() {
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
	checks := []struct {
		name      string
		got, want any
	}{
		{"protocol", f.Proto, header.ProtocolUDP},
		{"destination MAC", f.DstMAC, guestMAC},
		{"source MAC", f.SrcMAC, ourMAC},
		{"source", netip.AddrPortFrom(f.Src, f.SrcPort), src},
		{"destination", netip.AddrPortFrom(f.Dst, f.DstPort), dst},
		{"hop limit", f.TTL, uint8(ReplyHopLimit)},
		{"checksum valid", valid, true},
		{"data", string(f.Data(frame)), string(data)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}
