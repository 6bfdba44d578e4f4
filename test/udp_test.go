// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"passt-go/test/nstest"
)

// startUDPGuest is startGuest with a hook that runs once the topology
// exists, before passt starts (to give Host a resolver, say) and before
// the Guest's tap appears. Router advertisements are ignored in the
// Guest, so that its addresses are only those the test gives it.
func startUDPGuest(t *testing.T, prepare func(*nstest.Topology), args ...string) *guestSetup {
	t.Helper()
	return startGuestWith(t, prepare, true, args...)
}

// addressGuest gives the Guest the host's addresses, as DHCP and DHCPv6
// would, with default routes through the gateways.
func addressGuest(t *testing.T, g *guestSetup) {
	t.Helper()
	guest := g.topo.Guest
	guest.AddAddr(t, "eth0", nstest.HostAddr4+"/24")
	guest.AddAddr(t, "eth0", nstest.HostAddr6+"/64")
	guest.AddRoute(t, "default", nstest.RemoteAddr4, "eth0")
	guest.AddRoute(t, "default", nstest.RemoteAddr6, "eth0")
}

var (
	gateway4 = netip.MustParseAddr(nstest.RemoteAddr4) // stands for Host's loopback
	gateway6 = netip.MustParseAddr(nstest.RemoteAddr6)
	far4     = netip.MustParseAddr(nstest.FarAddr4)
	far6     = netip.MustParseAddr(nstest.FarAddr6)
	host4    = netip.MustParseAddr(nstest.HostAddr4)
	host6    = netip.MustParseAddr(nstest.HostAddr6)
	lo4      = netip.MustParseAddr("127.0.0.1")
	lo6      = netip.IPv6Loopback()
)

// nsSocket opens a UDP socket in ns bound to local (unspecified address
// and port 0 when local is the zero value of its family), with a receive
// timeout; a dual-stack socket when local is [::] and dual is set.
func nsSocket(t *testing.T, ns *nstest.NS, local netip.AddrPort, dual bool, timeout time.Duration) int {
	t.Helper()
	domain := unix.AF_INET
	if local.Addr().Is6() {
		domain = unix.AF_INET6
	}
	fd := -1
	err := ns.Do(func() error {
		var err error
		if fd, err = unix.Socket(domain, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0); err != nil {
			return err
		}
		if domain == unix.AF_INET6 {
			v6only := 1
			if dual {
				v6only = 0
			}
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v6only); err != nil {
				return err
			}
		}
		tv := unix.NsecToTimeval(timeout.Nanoseconds())
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			return err
		}
		return unix.Bind(fd, sockaddr(local))
	})
	if err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		t.Fatalf("UDP socket on %v in %s: %v", local, ns, err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func localPort(t *testing.T, fd int) uint16 {
	t.Helper()
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return addrPort(sa).Port()
}

func addrPort(sa unix.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

// echoServer answers every datagram with the same bytes and remembers
// whom it heard from.
type echoServer struct {
	fd   int
	port uint16
	stop atomic.Bool
	done chan struct{}

	mu    sync.Mutex
	peers []netip.AddrPort
}

// startEcho runs an echo server in ns on addr (dual-stack for [::]) until
// clean-up.
func startEcho(t *testing.T, ns *nstest.NS, addr netip.AddrPort) *echoServer {
	t.Helper()
	// The socket's own clean-up (registered first) runs after the stop.
	fd := nsSocket(t, ns, addr, addr.Addr() == netip.IPv6Unspecified(), 100*time.Millisecond)
	s := &echoServer{fd: fd, port: localPort(t, fd), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 65536)
		for !s.stop.Load() {
			n, from, err := unix.Recvfrom(fd, buf, 0)
			if err != nil {
				continue
			}
			s.mu.Lock()
			s.peers = append(s.peers, addrPort(from))
			s.mu.Unlock()
			unix.Sendto(fd, buf[:n], 0, from)
		}
	}()
	t.Cleanup(func() {
		s.stop.Store(true)
		<-s.done
	})
	return s
}

// heard reports whether the server received a datagram from peer's
// address.
func (s *echoServer) heard(a netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.peers {
		if p.Addr() == a {
			return true
		}
	}
	return false
}

// exchange sends each payload from fd to dst and waits for the same bytes
// back from dst, retrying a lost datagram twice; replies to earlier
// attempts are skipped.
func exchange(t *testing.T, fd int, dst netip.AddrPort, payloads ...[]byte) {
	t.Helper()
	buf := make([]byte, 65536)
	for i, p := range payloads {
		ok := false
		for attempt := 0; attempt < 3 && !ok; attempt++ {
			if err := unix.Sendto(fd, p, 0, sockaddr(dst)); err != nil {
				t.Fatalf("payload %d to %v: send: %v", i, dst, err)
			}
			for !ok {
				n, from, err := unix.Recvfrom(fd, buf, 0)
				if err != nil {
					break // timeout: send again
				}
				if bytes.Equal(buf[:n], p) {
					if got := addrPort(from); got != dst {
						t.Errorf("payload %d: reply from %v, want %v", i, got, dst)
					}
					ok = true
				}
			}
		}
		if !ok {
			t.Fatalf("payload %d (%d bytes) to %v: no echo", i, len(p), dst)
		}
	}
}

func payloads(seed byte, sizes ...int) [][]byte {
	var out [][]byte
	for i, n := range sizes {
		out = append(out, patterned(n, seed+byte(i)*17))
	}
	return out
}

// TestGuestUDP runs one passt with -u forwards and a resolver on Host's
// loopback, and its Guest: UDP echo both ways, DNS, ICMP errors.
func TestGuestUDP(t *testing.T) {
	nstest.NeedTool(t, "dnsmasq")
	var resolver *nstest.Proc
	g := startUDPGuest(t, func(topo *nstest.Topology) {
		// A resolver on Host's loopback only, as systemd-resolved or a
		// local dnsmasq would be; resolv.conf names it.
		work := sharedDir(t)
		resolver = nstest.Start(t, topo.Host, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
			"--no-resolv", "--no-hosts", "--bind-interfaces", "--listen-address=127.0.0.1", "--listen-address=::1",
			"--port=53", "--pid-file="+filepath.Join(work, "dnsmasq.pid"), "--log-facility=-",
			"--host-record=www.passt.test,192.0.2.77,2001:db8::77")
		nstest.WaitFor(t, 10*time.Second, func() bool {
			if resolver.Exited() {
				t.Fatalf("dnsmasq exited:\n%s", resolver.Output())
			}
			return nstest.Listening(topo.Host, "udp4", 53) && nstest.Listening(topo.Host, "udp6", 53)
		}, "dnsmasq to listen")
		topo.Host.SetResolvConf(t, "nameserver 127.0.0.1\nnameserver ::1\n")
	}, "-u", "5300,5301:6301")
	lease := g.dhcp4(t)
	addressGuest(t, g)
	host, remote, guest := g.topo.Host, g.topo.Remote, g.topo.Guest
	waitDelivered(t, remote, far4)
	waitDelivered(t, remote, far6)

	t.Run("echo", func(t *testing.T) {
		tests := []struct {
			name   string
			server *nstest.NS
			listen netip.AddrPort // where the server listens
			dst    netip.Addr     // where the guest sends
			sizes  []int
		}{
			{"ipv4 gateway to host loopback", host, netip.AddrPortFrom(lo4, 0), gateway4, []int{1, 1400, 30000}},
			{"ipv6 gateway to host loopback", host, netip.AddrPortFrom(lo6, 0), gateway6, []int{1, 1400, 30000}},
			{"ipv4 remote", remote, netip.AddrPortFrom(far4, 0), far4, []int{1, 1400, 30000}},
			{"ipv6 remote", remote, netip.AddrPortFrom(far6, 0), far6, []int{1, 1400, 30000}},
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				srv := startEcho(t, tc.server, tc.listen)
				local := netip.AddrPortFrom(host4, uint16(42000+i))
				if tc.dst.Is6() {
					local = netip.AddrPortFrom(host6, uint16(42000+i))
				}
				fd := nsSocket(t, guest, local, false, 3*time.Second)
				exchange(t, fd, netip.AddrPortFrom(tc.dst, srv.port), payloads(byte(i), tc.sizes...)...)
				// The guest's source port is kept on the host side.
				srv.mu.Lock()
				defer srv.mu.Unlock()
				if len(srv.peers) == 0 || srv.peers[0].Port() != local.Port() {
					t.Errorf("server heard %v, want the guest's port %d", srv.peers, local.Port())
				}
			})
		}
	})

	t.Run("inbound", func(t *testing.T) {
		// The Guest serves on the forwarded ports, dual-stack.
		echo5300 := startEcho(t, guest, netip.AddrPortFrom(netip.IPv6Unspecified(), 5300))
		echo6301 := startEcho(t, guest, netip.AddrPortFrom(netip.IPv6Unspecified(), 6301))
		tests := []struct {
			name   string
			client *nstest.NS
			bind   netip.Addr // the client's address
			dst    netip.AddrPort
			echo   *echoServer
			seen   netip.Addr // the client as the guest sees it
		}{
			{"ipv4 from remote", remote, far4, netip.AddrPortFrom(host4, 5300), echo5300, far4},
			{"ipv6 from remote", remote, far6, netip.AddrPortFrom(host6, 5300), echo5300, far6},
			{"ipv4 from host loopback", host, lo4, netip.AddrPortFrom(lo4, 5300), echo5300, gateway4},
			{"ipv6 from host loopback", host, lo6, netip.AddrPortFrom(lo6, 5300), echo5300, gateway6},
			{"ipv4 mapped port", host, lo4, netip.AddrPortFrom(lo4, 5301), echo6301, gateway4},
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				fd := nsSocket(t, tc.client, netip.AddrPortFrom(tc.bind, 0), false, 3*time.Second)
				exchange(t, fd, tc.dst, payloads(byte(50+i), 3, 1400, 20000)...)
				if !tc.echo.heard(tc.seen) {
					tc.echo.mu.Lock()
					t.Errorf("the guest's server heard %v, want %v", tc.echo.peers, tc.seen)
					tc.echo.mu.Unlock()
				}
			})
		}
	})

	t.Run("dns", func(t *testing.T) {
		dns4 := strings.TrimSpace(lease["dns"])
		if dns4 != nstest.RemoteAddr4 {
			t.Errorf("DHCP gave the resolver %q, want the gateway %s standing for Host's loopback", dns4, nstest.RemoteAddr4)
		}
		dns6 := dhcp6Resolver(t, g)
		tests := []struct {
			name, server, qtype, want string
		}{
			{"ipv4", dns4, "A", "192.0.2.77"},
			{"ipv6", dns6, "AAAA", "2001:db8::77"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				out, err := nstest.RunErr(t, guest, "busybox", "nslookup", "-type="+tc.qtype, "www.passt.test", tc.server)
				if err != nil || !strings.Contains(out, tc.want) {
					t.Errorf("nslookup %s at %s: %v\n%s\nwant %s", tc.qtype, tc.server, err, out, tc.want)
				}
			})
		}
	})

	t.Run("port unreachable", func(t *testing.T) {
		tests := []struct {
			name string
			dst  netip.AddrPort
		}{
			{"ipv4 host loopback", netip.AddrPortFrom(gateway4, 9)},
			{"ipv6 host loopback", netip.AddrPortFrom(gateway6, 9)},
			{"ipv4 remote", netip.AddrPortFrom(far4, 9)},
			{"ipv6 remote", netip.AddrPortFrom(far6, 9)},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				local := netip.AddrPortFrom(host4, 0)
				if tc.dst.Addr().Is6() {
					local = netip.AddrPortFrom(host6, 0)
				}
				fd := nsSocket(t, guest, local, false, 5*time.Second)
				if err := unix.Connect(fd, sockaddr(tc.dst)); err != nil {
					t.Fatal(err)
				}
				if _, err := unix.Write(fd, []byte("anyone?")); err != nil {
					t.Fatal(err)
				}
				_, err := unix.Read(fd, make([]byte, 64))
				if !errors.Is(err, unix.ECONNREFUSED) {
					t.Errorf("got %v, want ECONNREFUSED from an ICMP port unreachable", err)
				}
			})
		}
	})
	// Last: it stops passt to read its counters.
	t.Run("burst", func(t *testing.T) { burst(t, g) })
}

// burst sends datagrams from the Guest to a sink on Host's loopback as
// fast as the Guest's stack takes them, then stops passt: every datagram
// the translation took from the guest reached the sink (none was left
// waiting for a batch that never left), and batches formed.
func burst(t *testing.T, g *guestSetup) {
	t.Helper()
	const datagrams = 2000
	sink := nsSocket(t, g.topo.Host, netip.AddrPortFrom(lo4, 0), false, 500*time.Millisecond)
	if err := unix.SetsockoptInt(sink, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 32<<20); err != nil {
		t.Fatal(err)
	}
	fd := nsSocket(t, g.topo.Guest, netip.AddrPortFrom(host4, 44000), false, time.Second)
	dst := sockaddr(netip.AddrPortFrom(gateway4, localPort(t, sink)))
	p := patterned(512, 3)
	for i := 0; i < datagrams; i++ {
		unix.Sendto(fd, p, 0, dst)
	}
	received := 0
	buf := make([]byte, 1024)
	for {
		n, _, err := unix.Recvfrom(sink, buf, 0)
		if err != nil {
			break
		}
		if !bytes.Equal(buf[:n], p) {
			t.Fatalf("the sink got %d bytes that differ from what the guest sent", n)
		}
		received++
	}
	if err := g.passt.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	nstest.WaitFor(t, 5*time.Second, func() bool { return strings.Contains(g.passt.Output(), "counters:") }, "passt's final counters")
	counter := func(name string) int {
		m := regexp.MustCompile(name + `=(\d+)`).FindStringSubmatch(g.passt.Output())
		if m == nil {
			return 0
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	// Only this flow carried more than a handful of datagrams.
	taken, calls := counter("udp_from_guest"), counter("udp_sendmmsg_calls")
	t.Logf("%d datagrams sent by the guest, %d taken by passt in %d sendmmsg calls, %d received", datagrams, taken, calls, received)
	if received < taken-100 || received > taken {
		t.Errorf("the sink received %d datagrams, passt sent %d (including at most 100 for other flows)", received, taken)
	}
	if received == 0 {
		t.Errorf("nothing received")
	}
}

// waitDelivered waits until a datagram from ns to its own address a
// arrives: the kernel installs the local route of a new IPv6 address
// asynchronously.
func waitDelivered(t *testing.T, ns *nstest.NS, a netip.Addr) {
	t.Helper()
	fd := nsSocket(t, ns, netip.AddrPortFrom(a, 0), false, 10*time.Millisecond)
	self := sockaddr(netip.AddrPortFrom(a, localPort(t, fd)))
	buf := make([]byte, 8)
	nstest.WaitFor(t, 10*time.Second, func() bool {
		unix.Sendto(fd, []byte("probe"), 0, self)
		_, _, err := unix.Recvfrom(fd, buf, 0)
		return err == nil
	}, "the local route to "+a.String())
}

// dhcp6Resolver asks for a DHCPv6 lease in the Guest and returns the
// resolver it names.
func dhcp6Resolver(t *testing.T, g *guestSetup) string {
	t.Helper()
	leases := filepath.Join(g.work, "dhclient6.leases")
	pidFile := filepath.Join(g.work, "dhclient6.pid")
	cmd := nstest.Command(g.topo.Guest, "dhclient", "-6", "-1", "-lf", leases, "-pf", pidFile, "-sf", "/bin/true", "eth0")
	out, err := cmd.CombinedOutput()
	t.Cleanup(func() {
		if b, err := os.ReadFile(pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
				unix.Kill(pid, unix.SIGTERM)
			}
		}
	})
	if err != nil {
		t.Fatalf("dhclient -6: %v\n%s", err, out)
	}
	b, err := os.ReadFile(leases)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`dhcp6\.name-servers ([0-9a-f:]+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no resolver in the DHCPv6 lease:\n%s", b)
	}
	return string(m[1])
}

// TestGuestUDPFlood sends 100000 datagrams from the Guest to random ports:
// passt opens flows up to its limit and refuses the rest (and says so),
// holds no more sockets than the limit allows, and a flow opened before
// keeps working, as does ICMP.
func TestGuestUDPFlood(t *testing.T) {
	g := startUDPGuest(t, nil)
	addressGuest(t, g)
	guest := g.topo.Guest
	worker := workerOf(t, g.passt.PID())

	m := regexp.MustCompile(`UDP: at most (\d+) flows`).FindStringSubmatch(g.passt.Output())
	if m == nil {
		t.Fatalf("passt did not log its UDP flow limit")
	}
	limit, _ := strconv.Atoi(m[1])

	srv := startEcho(t, g.topo.Host, netip.AddrPortFrom(lo4, 0))
	fd := nsSocket(t, guest, netip.AddrPortFrom(host4, 43000), false, 3*time.Second)
	echoDst := netip.AddrPortFrom(gateway4, srv.port)
	exchange(t, fd, echoDst, []byte("before"))

	const datagrams = 100000
	flood := nsSocket(t, guest, netip.AddrPortFrom(host4, 0), false, time.Second)
	rng := rand.New(rand.NewPCG(1, 2))
	sa := &unix.SockaddrInet4{Addr: far4.As4()}
	payload := []byte("flood")
	start := time.Now()
	sent := 0
	for i := 0; i < datagrams; i++ {
		sa.Port = 1024 + rng.IntN(65536-1024)
		if unix.Sendto(flood, payload, 0, sa) == nil {
			sent++
		}
	}
	t.Logf("%d datagrams to random ports sent in %v (%d refused by the guest's stack)", datagrams, time.Since(start), datagrams-sent)

	nstest.WaitFor(t, 10*time.Second, func() bool {
		return strings.Contains(g.passt.Output(), "new flows refused")
	}, "passt to report refused flows")
	if g.passt.Exited() {
		t.Fatalf("passt exited:\n%s", g.passt.Output())
	}
	sockets := countSockets(t, worker)
	if sockets > limit+32 {
		t.Errorf("the worker holds %d sockets, want at most the flow limit %d and a few", sockets, limit)
	}
	if sockets < limit {
		t.Errorf("the worker holds %d sockets, want the flow limit %d reached", sockets, limit)
	}
	exchange(t, fd, echoDst, []byte("after"), patterned(1400, 9))
	nstest.Ping(t, guest, nstest.RemoteAddr4, 1)
}

// countSockets counts the sockets a process holds.
func countSockets(t *testing.T, pid int) int {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}
