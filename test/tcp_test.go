// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"passt-go/test/nstest"
)

// Addresses of the topology as the TCP tests use them.
var (
	tcpGateway4 = netip.MustParseAddr(nstest.RemoteAddr4) // Host's loopback, through passt
	tcpGateway6 = netip.MustParseAddr(nstest.RemoteAddr6)
	tcpFar4     = netip.MustParseAddr(nstest.FarAddr4) // Remote
	tcpFar6     = netip.MustParseAddr(nstest.FarAddr6)
	tcpHost4    = netip.MustParseAddr(nstest.HostAddr4)
	tcpHost6    = netip.MustParseAddr(nstest.HostAddr6)
)

// tcpTimeout bounds a transfer of these tests made outside tcpExchange,
// whose bound grows with the size.
const tcpTimeout = 60 * time.Second

// startTCPGuest starts passt in Host with args and attaches the Guest,
// which gets the host's addresses and default routes through the
// gateways (no router advertisements, no DAD: usable at once).
func startTCPGuest(t testing.TB, args ...string) *guestSetup {
	t.Helper()
	g := startGuestWith(t, nil, true, args...)
	guest := g.topo.Guest
	guest.AddAddr(t, "eth0", nstest.HostAddr4+"/24")
	guest.AddAddr(t, "eth0", nstest.HostAddr6+"/64")
	guest.AddRoute(t, "default", nstest.RemoteAddr4, "eth0")
	guest.AddRoute(t, "default", nstest.RemoteAddr6, "eth0")
	// passt learns the guest's MAC address from its first frame; until
	// then frames to the guest go to the broadcast address, where a SYN
	// is not taken.
	nstest.Ping(t, guest, nstest.RemoteAddr4, 1)
	return g
}

// tcpListen opens a listener on addr inside ns.
func tcpListen(t testing.TB, ns *nstest.NS, addr netip.AddrPort) *net.TCPListener {
	t.Helper()
	var l net.Listener
	err := ns.Do(func() error {
		var err error
		l, err = net.Listen("tcp", addr.String())
		return err
	})
	if err != nil {
		t.Fatalf("listen on %v in %s: %v", addr, ns, err)
	}
	t.Cleanup(func() { l.Close() })
	return l.(*net.TCPListener)
}

// tcpDial connects from inside ns to addr.
func tcpDial(ns *nstest.NS, addr netip.AddrPort) (*net.TCPConn, error) {
	return tcpDialFrom(ns, netip.Addr{}, addr)
}

// tcpDialFrom connects from src (any port; the kernel's choice of address
// when src is the zero Addr) inside ns to addr.
func tcpDialFrom(ns *nstest.NS, src netip.Addr, addr netip.AddrPort) (*net.TCPConn, error) {
	var c net.Conn
	err := ns.Do(func() error {
		var err error
		d := net.Dialer{Timeout: 10 * time.Second}
		if src.IsValid() {
			d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, 0))
		}
		c, err = d.Dial("tcp", addr.String())
		return err
	})
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// tcpBlock is the unit of the streams these tests send: 64 KiB of a
// pattern, the first 8 bytes of each block replaced by the block's number,
// so that a lost, repeated or misplaced block shows.
const tcpBlock = 64 << 10

var tcpBase = func() []byte {
	b := make([]byte, tcpBlock)
	for i := range b {
		b[i] = byte(i*7) ^ byte(i>>8)
	}
	return b
}()

// tcpSend writes n bytes of the stream with the given seed.
func tcpSend(w io.Writer, n int64, seed uint64) error {
	buf := make([]byte, tcpBlock)
	for off := int64(0); off < n; off += tcpBlock {
		copy(buf, tcpBase)
		binary.BigEndian.PutUint64(buf, uint64(off/tcpBlock)^seed)
		l := min(int64(tcpBlock), n-off)
		if _, err := w.Write(buf[:l]); err != nil {
			return fmt.Errorf("write at %d: %w", off, err)
		}
	}
	return nil
}

// tcpCheck reads the stream until end of file and checks it is exactly n
// bytes of the stream with the given seed.
func tcpCheck(r io.Reader, n int64, seed uint64) error {
	want := make([]byte, tcpBlock)
	got := make([]byte, tcpBlock)
	var off int64
	for {
		l := int64(tcpBlock)
		if off < n {
			l = min(l, n-off)
		} else {
			l = 1
		}
		m, err := io.ReadFull(r, got[:l])
		if off >= n {
			if m == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("after %d bytes: %w", off, err)
			}
			return fmt.Errorf("more than %d bytes", n)
		}
		if err != nil {
			return fmt.Errorf("read at %d of %d: %w", off, n, err)
		}
		copy(want, tcpBase)
		binary.BigEndian.PutUint64(want, uint64(off/tcpBlock)^seed)
		if !bytes.Equal(got[:l], want[:l]) {
			return fmt.Errorf("data differs in the block at %d", off)
		}
		off += l
	}
}

// tcpExchange runs one connection's transfer with both half-closes, in
// the order given: the side that goes first (the client when clientFirst,
// else the server) sends n bytes and shuts its write side; the other side
// checks them and end of file, then sends n bytes of another stream and
// closes, which the first side, half-closed but still reading, checks to
// end of file.
func tcpExchange(client, server *net.TCPConn, n int64, clientFirst bool, seed uint64) error {
	// 10 s, and a second more per 10 MiB: at least 80 Mbit/s each way.
	deadline := time.Now().Add(10*time.Second + time.Duration(n/(10<<20))*time.Second)
	client.SetDeadline(deadline)
	server.SetDeadline(deadline)
	first, second := server, client
	names := [2]string{"server", "client"}
	if clientFirst {
		first, second = client, server
		names = [2]string{"client", "server"}
	}
	errc := make(chan error, 2)
	go func() {
		err := tcpSend(first, n, seed)
		if err == nil {
			err = first.CloseWrite()
		}
		if err != nil {
			errc <- fmt.Errorf("%s sending: %w", names[0], err)
			return
		}
		// Half-closed: the other side's data still arrives, then its FIN.
		if err := tcpCheck(first, n, ^seed); err != nil {
			errc <- fmt.Errorf("%s receiving after its half-close: %w", names[0], err)
			return
		}
		errc <- nil
	}()
	go func() {
		if err := tcpCheck(second, n, seed); err != nil {
			errc <- fmt.Errorf("%s receiving: %w", names[1], err)
			return
		}
		err := tcpSend(second, n, ^seed)
		if err == nil {
			err = second.CloseWrite()
		}
		if err != nil {
			err = fmt.Errorf("%s sending after the other's half-close: %w", names[1], err)
		}
		errc <- err
	}()
	err := <-errc
	if err != nil {
		// The other side would wait for its deadline.
		client.Close()
		server.Close()
		<-errc
		return err
	}
	return <-errc
}

// tcpPair connects from inside ns to dst, where l (in its namespace)
// accepts, and returns both ends.
func tcpPair(t testing.TB, ns *nstest.NS, l *net.TCPListener, dst netip.AddrPort) (client, server *net.TCPConn) {
	t.Helper()
	return tcpPairFrom(t, ns, netip.Addr{}, l, dst)
}

// tcpPairFrom is tcpPair with the client bound to src (see tcpDialFrom).
func tcpPairFrom(t testing.TB, ns *nstest.NS, src netip.Addr, l *net.TCPListener, dst netip.AddrPort) (client, server *net.TCPConn) {
	t.Helper()
	acc := make(chan *net.TCPConn, 1)
	go func() {
		l.SetDeadline(time.Now().Add(15 * time.Second))
		c, err := l.AcceptTCP()
		if err != nil {
			acc <- nil
			return
		}
		acc <- c
	}()
	c, err := tcpDialFrom(ns, src, dst)
	if err != nil {
		t.Fatalf("connect to %v from %s: %v", dst, ns, err)
	}
	s := <-acc
	if s == nil {
		c.Close()
		t.Fatalf("no connection accepted for %v", dst)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

// tcpTarget is a server for the guest: it listens on bind inside ns, and
// the guest connects to dst.
type tcpTarget struct {
	name      string
	ns        *nstest.NS
	bind, dst netip.Addr
}

// tcpTargets are the gateway, which is Host's loopback, and a remote
// server, over IPv4 and IPv6.
func tcpTargets(topo *nstest.Topology) []tcpTarget {
	return []tcpTarget{
		{"gateway4", topo.Host, netip.MustParseAddr("127.0.0.1"), tcpGateway4},
		{"gateway6", topo.Host, netip.IPv6Loopback(), tcpGateway6},
		{"remote4", topo.Remote, tcpFar4, tcpFar4},
		{"remote6", topo.Remote, tcpFar6, tcpFar6},
	}
}

// tcpTransfers runs byte-exact transfers from topo.Guest to every target,
// small and 100 MiB each way, with the half-closes in both orders (see
// tcpExchange): "guest-first" sends up and then receives on a half-closed
// socket, "host-first" the reverse. The servers listen on ports from port
// up.
func tcpTransfers(t *testing.T, topo *nstest.Topology, port uint16) {
	for i, tg := range tcpTargets(topo) {
		p := port + uint16(i)
		l := tcpListen(t, tg.ns, netip.AddrPortFrom(tg.bind, p))
		for _, size := range []int64{1000, 100 << 20} {
			for _, guestFirst := range []bool{true, false} {
				order := "host-first"
				if guestFirst {
					order = "guest-first"
				}
				t.Run(fmt.Sprintf("%s/%d/%s", tg.name, size, order), func(t *testing.T) {
					c, s := tcpPair(t, topo.Guest, l, netip.AddrPortFrom(tg.dst, p))
					start := time.Now()
					if err := tcpExchange(c, s, size, guestFirst, uint64(i)); err != nil {
						t.Fatal(err)
					}
					if size > 1<<20 {
						t.Logf("%d MiB each way in %v", size>>20, time.Since(start).Round(time.Millisecond))
					}
				})
			}
		}
	}
}

// Byte-exact transfers from the guest, small and 100 MiB, both ways, over
// IPv4 and IPv6, to the gateway (a server on Host's loopback) and to a
// remote server, each with both half-closes, in either order.
func TestTCPTransfer(t *testing.T) {
	g := startTCPGuest(t)
	tcpTransfers(t, g.topo, 7000)
}

// The server sees the guest's connection to the gateway coming from its
// own loopback, and the guest sees the server's answer from the address
// it connected to.
func TestTCPGatewayIsHostLoopback(t *testing.T) {
	g := startTCPGuest(t)
	l := tcpListen(t, g.topo.Host, netip.MustParseAddrPort("127.0.0.1:7100"))
	c, s := tcpPair(t, g.topo.Guest, l, netip.AddrPortFrom(tcpGateway4, 7100))
	if got := s.RemoteAddr().(*net.TCPAddr).IP.String(); got != "127.0.0.1" {
		t.Errorf("server sees the client at %s, want 127.0.0.1", got)
	}
	if got := c.RemoteAddr().(*net.TCPAddr).IP.String(); got != nstest.RemoteAddr4 {
		t.Errorf("guest is connected to %s, want %s", got, nstest.RemoteAddr4)
	}
}

// linkLocal returns the IPv6 link-local address of ifname in ns.
func linkLocal(t testing.TB, ns *nstest.NS, ifname string) netip.Addr {
	t.Helper()
	var ll netip.Addr
	err := ns.Do(func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		addrs, err := ifi.Addrs()
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is6() && p.Addr().IsLinkLocalUnicast() {
				ll = p.Addr()
			}
		}
		return nil
	})
	if err != nil || !ll.IsValid() {
		t.Fatalf("link-local address of %s in %s: none (%v)", ifname, ns, err)
	}
	return ll
}

// Inbound connections through -t, from Host's 127.0.0.1 and ::1, from
// Host's own addresses and from Remote's far addresses: small transfers,
// and from Remote 100 MiB, each way, with the half-closes in both orders.
// The guest sees a loopback client at the gateway (the address that
// stands for the host's loopback); a client at Host's own address, which
// is the guest's too, at the gateway (IPv4) or at passt's link-local
// address, Host's own (IPv6); any other client at its real address. The
// client's port is always kept.
func TestTCPInbound(t *testing.T) {
	const port = 7200
	g := startTCPGuest(t, "-t", strconv.Itoa(port))
	topo := g.topo
	hostLL := linkLocal(t, topo.Host, nstest.HostIf)
	l := tcpListen(t, topo.Guest, netip.AddrPortFrom(netip.IPv6Unspecified(), port))
	for i, tc := range []struct {
		name     string
		from     *nstest.NS
		src      netip.Addr // the client's address, when it picks one
		dst      netip.Addr
		wantPeer netip.Addr // the client's address as the guest sees it
		big      bool       // also 100 MiB each way
	}{
		{"host loopback v4", topo.Host, netip.Addr{}, netip.MustParseAddr("127.0.0.1"), tcpGateway4, false},
		{"host loopback v6", topo.Host, netip.Addr{}, netip.IPv6Loopback(), tcpGateway6, false},
		{"host address v4", topo.Host, netip.Addr{}, tcpHost4, tcpGateway4, false},
		{"host address v6", topo.Host, netip.Addr{}, tcpHost6, hostLL, false},
		{"remote v4", topo.Remote, tcpFar4, tcpHost4, tcpFar4, true},
		{"remote v6", topo.Remote, tcpFar6, tcpHost6, tcpFar6, true},
	} {
		sizes := []int64{1000}
		if tc.big {
			sizes = append(sizes, 100<<20)
		}
		for _, size := range sizes {
			for _, clientFirst := range []bool{true, false} {
				order := "guest-first"
				if clientFirst {
					order = "client-first"
				}
				t.Run(fmt.Sprintf("%s/%d/%s", tc.name, size, order), func(t *testing.T) {
					c, s := tcpPairFrom(t, tc.from, tc.src, l, netip.AddrPortFrom(tc.dst, port))
					peer := s.RemoteAddr().(*net.TCPAddr).AddrPort()
					if got := peer.Addr().Unmap().WithZone(""); got != tc.wantPeer {
						t.Errorf("guest sees the client at %v, want %v", got, tc.wantPeer)
					}
					if lp := c.LocalAddr().(*net.TCPAddr).Port; int(peer.Port()) != lp {
						t.Errorf("guest sees client port %d, want %d (preserved)", peer.Port(), lp)
					}
					start := time.Now()
					if err := tcpExchange(c, s, size, clientFirst, uint64(i)); err != nil {
						t.Fatal(err)
					}
					if size > 1<<20 {
						t.Logf("%d MiB each way in %v", size>>20, time.Since(start).Round(time.Millisecond))
					}
				})
			}
		}
	}
}

// tcpResets checks from topo.Guest that a connection to a port nothing
// listens on is refused, at every target, and that resets cross both ways:
// the guest's reaches the server, the server's reaches the guest. Port
// stays closed; the servers listen on the ports above it.
func tcpResets(t *testing.T, topo *nstest.Topology, port uint16) {
	targets := tcpTargets(topo)
	t.Run("refused", func(t *testing.T) {
		for _, tg := range targets {
			dst := netip.AddrPortFrom(tg.dst, port)
			c, err := tcpDial(topo.Guest, dst)
			if err == nil {
				c.Close()
				t.Errorf("connect to %v succeeded, want ECONNREFUSED", dst)
				continue
			}
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("connect to %v: %v, want ECONNREFUSED", dst, err)
			}
		}
	})
	for i, tg := range targets {
		p := port + 1 + uint16(i)
		l := tcpListen(t, tg.ns, netip.AddrPortFrom(tg.bind, p))
		dst := netip.AddrPortFrom(tg.dst, p)
		t.Run(tg.name+"/guest resets", func(t *testing.T) {
			c, s := tcpPair(t, topo.Guest, l, dst)
			if _, err := c.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
			b := make([]byte, 1)
			s.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.ReadFull(s, b); err != nil {
				t.Fatal(err)
			}
			c.SetLinger(0)
			c.Close()
			_, err := s.Read(b)
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("server read after the guest's reset: %v, want ECONNRESET", err)
			}
		})
		t.Run(tg.name+"/host resets", func(t *testing.T) {
			c, s := tcpPair(t, topo.Guest, l, dst)
			s.SetLinger(0)
			s.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			_, err := c.Read(make([]byte, 1))
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("guest read after the server's reset: %v, want ECONNRESET", err)
			}
		})
	}
}

// Resets both ways, and refused connections.
func TestTCPResets(t *testing.T) {
	g := startTCPGuest(t)
	tcpResets(t, g.topo, 7300)
}

// tcpConcurrent opens a thousand connections from topo.Guest to an echo
// server on Host's loopback, through the gateway address at port, then
// has them all transfer at once, each 64 KiB up and echoed back; every one
// must arrive byte-exact.
func tcpConcurrent(t *testing.T, topo *nstest.Topology, port uint16) {
	const conns, size = 1000, 64 << 10
	l := tcpListen(t, topo.Host, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port))
	var wg sync.WaitGroup
	go func() {
		for {
			c, err := l.AcceptTCP()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(tcpTimeout))
				io.Copy(c, c)
				c.CloseWrite()
			}()
		}
	}()
	// The guest's sockets, opened from a thread in its namespace.
	clients := make([]*net.TCPConn, conns)
	dst := netip.AddrPortFrom(tcpGateway4, port)
	for i := range clients {
		c, err := tcpDial(topo.Guest, dst)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		clients[i] = c
		defer c.Close()
	}
	errs := make(chan error, conns)
	for i, c := range clients {
		go func() {
			c.SetDeadline(time.Now().Add(tcpTimeout))
			werr := make(chan error, 1)
			go func() {
				err := tcpSend(c, size, uint64(i))
				if err == nil {
					err = c.CloseWrite()
				}
				werr <- err
			}()
			err := tcpCheck(c, size, uint64(i))
			errs <- errors.Join(err, <-werr)
		}()
	}
	failed := 0
	for range conns {
		if err := <-errs; err != nil {
			failed++
			if failed <= 5 {
				t.Error(err)
			}
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d connections failed", failed, conns)
	}
	wg.Wait()
}

// A thousand connections transfer at once, all byte-exact.
func TestTCPConcurrent(t *testing.T) {
	g := startTCPGuest(t)
	tcpConcurrent(t, g.topo, 7400)
}

// iperf3Result is the part of iperf3's JSON output the benchmark reads.
type iperf3Result struct {
	Intervals []struct {
		Sum struct {
			BitsPerSecond float64 `json:"bits_per_second"`
			Retransmits   int     `json:"retransmits"`
			Seconds       float64 `json:"seconds"`
		} `json:"sum"`
	} `json:"intervals"`
	End struct {
		SumSent struct {
			BitsPerSecond float64 `json:"bits_per_second"`
			Retransmits   int     `json:"retransmits"`
		} `json:"sum_sent"`
		SumReceived struct {
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
	} `json:"end"`
	Error string `json:"error"`
}

// BenchmarkTCPIperf3 runs an unpaced iperf3 from the Guest to a server on
// Host's loopback (through the gateway address) for PASST_GO_IPERF_TIME
// seconds (default 30) with one-second intervals, and reports the median
// and the slowest interval, and the retransmissions. PASST_GO_IPERF_ARGS
// adds client options (-R for the other direction, -6 for IPv6 ...);
// PASST_GO_IPERF_DEBUG=1 prints Host's TCP statistics (nstat) afterwards.
func BenchmarkTCPIperf3(b *testing.B) {
	nstest.NeedTool(b, "iperf3")
	secs := 30
	if v, err := strconv.Atoi(os.Getenv("PASST_GO_IPERF_TIME")); err == nil && v > 0 {
		secs = v
	}
	extra := strings.Fields(os.Getenv("PASST_GO_IPERF_ARGS"))
	bind, gw, family := "127.0.0.1", nstest.RemoteAddr4, "tcp4"
	if slices.Contains(extra, "-6") {
		bind, gw, family = "::1", nstest.RemoteAddr6, "tcp6"
	}
	g := startTCPGuest(b)
	srv := nstest.Start(b, g.topo.Host, "iperf3", "-s", "-B", bind, "-p", "5201")
	nstest.WaitFor(b, 10*time.Second, func() bool { return nstest.Listening(g.topo.Host, family, 5201) }, "iperf3 server")
	defer srv.Stop(5 * time.Second)
	args := []string{"iperf3", "-c", gw, "-p", "5201", "-t", strconv.Itoa(secs), "-i", "1", "-J"}
	args = append(args, extra...)
	b.ResetTimer()
	for range b.N {
		cmd := nstest.Command(g.topo.Guest, args...)
		out, err := cmd.Output()
		var res iperf3Result
		if jerr := json.Unmarshal(out, &res); jerr != nil || res.Error != "" {
			b.Fatalf("iperf3: %v %v %s\n%s", err, jerr, res.Error, out)
		}
		var rates []float64
		var retr []int
		for _, iv := range res.Intervals {
			if iv.Sum.Seconds > 0.5 {
				rates = append(rates, iv.Sum.BitsPerSecond/1e9)
				retr = append(retr, iv.Sum.Retransmits)
			}
		}
		if len(rates) == 0 {
			b.Fatalf("no intervals:\n%s", out)
		}
		sorted := slices.Clone(rates)
		slices.Sort(sorted)
		median := sorted[len(sorted)/2]
		slowest := sorted[0]
		var lines []string
		for i, r := range rates {
			lines = append(lines, fmt.Sprintf("%2d-%2d s %6.2f Gbit/s, %d retr", i, i+1, r, retr[i]))
		}
		// Printed, not logged: benchmark logs are cut to a few lines.
		fmt.Printf("iperf3 %s\n%s\n", strings.Join(args[1:], " "), strings.Join(lines, "\n"))
		fmt.Printf("median %.2f Gbit/s, slowest %.2f Gbit/s (%.0f%% of the median), sender %.2f Gbit/s, receiver %.2f Gbit/s, %d retransmits\n",
			median, slowest, 100*slowest/median, res.End.SumSent.BitsPerSecond/1e9, res.End.SumReceived.BitsPerSecond/1e9, res.End.SumSent.Retransmits)
		b.ReportMetric(median, "median-Gbit/s")
		b.ReportMetric(slowest, "slowest-Gbit/s")
		b.ReportMetric(float64(res.End.SumSent.Retransmits), "retransmits")
		b.ReportMetric(math.Round(100*slowest/median), "slowest-%-of-median")
	}
	b.StopTimer()
	g.passt.Stop(5 * time.Second)
	fmt.Printf("passt counters:\n%s\n", tcpCounterLines(g.passt.Output()))
	if os.Getenv("PASST_GO_IPERF_DEBUG") != "" {
		out, _ := nstest.RunErr(b, g.topo.Host, "nstat", "-a")
		fmt.Println(out)
	}
}

// tcpCounterLines picks the TCP counters from passt's debug output.
func tcpCounterLines(out string) string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "tcp_") {
			lines = append(lines, l)
		}
	}
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}
