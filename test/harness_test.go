// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"passt-go/test/nstest"
)

// Addresses and MACs of the bridge tests: the namespace behind the tap is
// the guest, the fake peer on the stream plays its gateway.
var (
	guestMAC = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
	peerMAC  = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	guest4   = netip.MustParseAddr("192.0.2.2")
	peer4    = netip.MustParseAddr("192.0.2.1")
	guest6   = netip.MustParseAddr("2001:db8:1::2")
	peer6    = netip.MustParseAddr("2001:db8:1::1")
)

func setNonblock(fd int) error {
	return unix.SetNonblock(fd, true)
}

// streamPair returns the two ends of a qemu stream: one for a bridge, one
// for the fake peer.
func streamPair(t *testing.T) (bridgeEnd, peerEnd int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	return fds[0], fds[1]
}

// addGuestAddrs gives the guest side of a tap its addresses.
func addGuestAddrs(t *testing.T, ns *nstest.NS, ifname string) {
	t.Helper()
	ns.AddAddr(t, ifname, guest4.String()+"/24")
	ns.AddAddr(t, ifname, guest6.String()+"/64")
}

// TestHarnessTopology checks the routed topology: the host reaches its
// gateway and the far addresses over IPv4 and IPv6, TCP works end to end,
// Listening sees the server, the host has its own resolv.conf, and the
// guest namespace is isolated.
func TestHarnessTopology(t *testing.T) {
	topo := nstest.NewTopology(t, nstest.TopologyOptions{Guest: true})
	for _, addr := range []string{nstest.RemoteAddr4, nstest.RemoteAddr6, nstest.FarAddr4, nstest.FarAddr6} {
		nstest.Ping(t, topo.Host, addr, 1)
	}

	const port = 8080
	nstest.NeedTool(t, "socat")
	nstest.Start(t, topo.Remote, "socat", fmt.Sprintf("TCP6-LISTEN:%d,ipv6only=0,reuseaddr", port), "EXEC:cat")
	nstest.WaitFor(t, 10*time.Second, func() bool { return nstest.Listening(topo.Remote, "tcp", port) }, "socat to listen in the remote")
	if nstest.Listening(topo.Host, "tcp", port) {
		t.Errorf("Listening in host: got true, want false (the server runs in the remote)")
	}
	out := nstest.Run(t, topo.Host, "sh", "-c", fmt.Sprintf("echo over-the-uplink | socat -t 5 - TCP:%s:%d", nstest.FarAddr4, port))
	if got, want := strings.TrimSpace(out), "over-the-uplink"; got != want {
		t.Errorf("echo through the topology: got %q, want %q", got, want)
	}

	if got := nstest.Run(t, topo.Host, "cat", "/etc/resolv.conf"); got != nstest.HostResolvConf {
		t.Errorf("host resolv.conf: got %q, want %q", got, nstest.HostResolvConf)
	}
	if got := topo.Host.GetSysctl(t, "net.ipv4.ping_group_range"); got != strings.ReplaceAll(nstest.PingGroupRange, " ", "\t") {
		t.Errorf("host ping_group_range: got %q, want %q", got, nstest.PingGroupRange)
	}
	if out, err := nstest.RunErr(t, topo.Guest, nstest.PingArgv(nstest.RemoteAddr4, 1, 1)...); err == nil {
		t.Errorf("ping from the unconnected guest: got success, want failure\n%s", out)
	}
}

// TestHarnessBridgePing makes a namespace's kernel the guest of a fake
// peer through the in-process bridge: ARP and NDP resolve, and ping gets
// every echo answered over IPv4 and IPv6.
func TestHarnessBridgePing(t *testing.T) {
	ns := nstest.NewNS(t)
	bridgeEnd, peerEnd := streamPair(t)
	tap, _ := nstest.StartBridge(t, ns, bridgeEnd, nstest.TapConfig{MAC: guestMAC})
	peer := startPeer(t, streamFile(t, peerEnd), peerMAC, peer4, peer6)
	addGuestAddrs(t, ns, tap.Name)

	if got := ns.Link(t, tap.Name); got.MTU != nstest.DefaultMTU || got.HardwareAddr.String() != guestMAC.String() || got.Flags&net.FlagUp == 0 {
		t.Errorf("tap link: got MTU %d, MAC %v, flags %v; want %d, %v, up", got.MTU, got.HardwareAddr, got.Flags, nstest.DefaultMTU, guestMAC)
	}
	nstest.Ping(t, ns, peer4.String(), 3)
	nstest.Ping(t, ns, peer6.String(), 3)
	if got4, got6 := peer.echo4.Load(), peer.echo6.Load(); got4 != 3 || got6 != 3 {
		t.Errorf("echo requests answered by the peer: got %d IPv4, %d IPv6; want 3, 3", got4, got6)
	}
}

// patterned returns n bytes whose content depends on seed and position.
func patterned(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i) + byte(i>>8)*3
	}
	return b
}

// udpSocket opens a UDP socket inside ns, bound to addr, with a large
// receive buffer and a receive timeout.
func udpSocket(t *testing.T, ns *nstest.NS, addr netip.AddrPort) int {
	t.Helper()
	family := unix.AF_INET
	if addr.Addr().Is6() {
		family = unix.AF_INET6
	}
	sa := sockaddr(addr)
	var fd int
	err := ns.Do(func() error {
		var err error
		if fd, err = unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0); err != nil {
			return err
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20); err != nil {
			return err
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 8<<20); err != nil {
			return err
		}
		tv := unix.NsecToTimeval((10 * time.Second).Nanoseconds())
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			return err
		}
		return unix.Bind(fd, sa)
	})
	if err != nil {
		t.Fatalf("UDP socket on %v in %s: %v", addr, ns, err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func sockaddr(a netip.AddrPort) unix.Sockaddr {
	if a.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(a.Port()), Addr: a.Addr().As4()}
	}
	return &unix.SockaddrInet6{Port: int(a.Port()), Addr: a.Addr().As16()}
}

// nextUDP returns the next UDP datagram the peer received for port,
// skipping others, or fails the test after 10 s.
func nextUDP(t *testing.T, peer *fakePeer, port uint16) (udpDatagram, []byte) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f := <-peer.udp:
			d, err := parseUDP(f)
			if err != nil {
				t.Fatalf("frame of %d bytes from the namespace: %v", len(f), err)
			}
			if d.dst.Port() == port {
				return d, f
			}
		case <-timeout:
			t.Fatalf("no UDP datagram for port %d reached the peer within 10s", port)
		}
	}
}

// TestHarnessBridgeLargeFrames checks that the bridge is byte-exact for
// frames near the 65520 MTU in both directions, for single frames, for
// batches of frames in one stream write, and for a frame split over many
// writes.
func TestHarnessBridgeLargeFrames(t *testing.T) {
	ns := nstest.NewNS(t)
	bridgeEnd, peerEnd := streamPair(t)
	tap, b := nstest.StartBridge(t, ns, bridgeEnd, nstest.TapConfig{MAC: guestMAC, MTU: 65520})
	peer := startPeer(t, streamFile(t, peerEnd), peerMAC, peer4, peer6)
	addGuestAddrs(t, ns, tap.Name)
	ns.AddNeigh(t, tap.Name, peer4.String(), peerMAC)
	ns.AddNeigh(t, tap.Name, peer6.String(), peerMAC)

	t.Run("namespace to peer", func(t *testing.T) {
		for _, tc := range []struct {
			name      string
			src, dst  netip.AddrPort
			sizes     []int
			frameSize int // of the first datagram
		}{
			{"IPv4", netip.AddrPortFrom(guest4, 40001), netip.AddrPortFrom(peer4, 5001), []int{60000}, ethLen + ipv4Len + udpLen + 60000},
			{"IPv6", netip.AddrPortFrom(guest6, 40002), netip.AddrPortFrom(peer6, 5002), []int{60000}, ethLen + ipv6Len + udpLen + 60000},
			{"IPv4 burst", netip.AddrPortFrom(guest4, 40003), netip.AddrPortFrom(peer4, 5003),
				[]int{60000, 1, 1472, 65000, 9000, 32768, 100, 60000, 4096, 2}, ethLen + ipv4Len + udpLen + 60000},
		} {
			t.Run(tc.name, func(t *testing.T) {
				fd := udpSocket(t, ns, tc.src)
				for i, n := range tc.sizes {
					if err := unix.Sendto(fd, patterned(n, byte(i)), 0, sockaddr(tc.dst)); err != nil {
						t.Fatalf("send %d bytes: %v", n, err)
					}
				}
				for i, n := range tc.sizes {
					d, f := nextUDP(t, peer, tc.dst.Port())
					if i == 0 && len(f) != tc.frameSize {
						t.Errorf("frame size: got %d, want %d (one unfragmented frame)", len(f), tc.frameSize)
					}
					if d.src != tc.src || d.dst != tc.dst {
						t.Errorf("datagram %d: got %v -> %v, want %v -> %v", i, d.src, d.dst, tc.src, tc.dst)
					}
					if !bytes.Equal(d.payload, patterned(n, byte(i))) {
						t.Errorf("datagram %d: got %d bytes, want %d, byte-exact", i, len(d.payload), n)
					}
				}
			})
		}
	})

	t.Run("peer to namespace", func(t *testing.T) {
		dst := netip.AddrPortFrom(guest4, 6001)
		src := netip.AddrPortFrom(peer4, 7001)
		fd := udpSocket(t, ns, dst)
		sizes := []int{60000, 1, 1472, 65000 - 28 - 14, 32768}
		var stream []byte
		for i, n := range sizes {
			stream = nstest.AppendFrame(stream, udp4Frame(guestMAC, peerMAC, src, dst, patterned(n, byte(100+i))))
		}
		// All but the last in one write; the last one split across
		// writes of odd sizes, cutting its length prefix too.
		last := len(nstest.AppendFrame(nil, udp4Frame(guestMAC, peerMAC, src, dst, patterned(sizes[len(sizes)-1], 0))))
		if err := peer.sendRaw(stream[:len(stream)-last]); err != nil {
			t.Fatal(err)
		}
		for rest := stream[len(stream)-last:]; len(rest) > 0; {
			n := min(len(rest), 2+len(rest)%4093)
			if err := peer.sendRaw(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		buf := make([]byte, 70000)
		for i, n := range sizes {
			got, from, err := unix.Recvfrom(fd, buf, 0)
			if err != nil {
				t.Fatalf("datagram %d (%d bytes): %v; bridge stats %+v", i, n, err, b.Stats())
			}
			if sa, ok := from.(*unix.SockaddrInet4); !ok || sa.Port != int(src.Port()) || netip.AddrFrom4(sa.Addr) != src.Addr() {
				t.Errorf("datagram %d: got source %v, want %v", i, from, src)
			}
			if !bytes.Equal(buf[:got], patterned(n, byte(100+i))) {
				t.Errorf("datagram %d: got %d bytes, want %d, byte-exact", i, got, n)
			}
		}
	})
}

// buildTapbridge compiles the tapbridge program into a temporary
// directory.
func buildTapbridge(t *testing.T) string {
	t.Helper()
	nstest.NeedTool(t, "go")
	bin := filepath.Join(t.TempDir(), "tapbridge")
	cmd := exec.Command("go", "build", "-o", bin, "passt-go/test/cmd/tapbridge")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build tapbridge: %v\n%s", err, out)
	}
	return bin
}

// TestHarnessTapbridgeProgram runs the tapbridge program the way a passt
// test does, connecting to a unix socket, and with an inherited socket;
// each time the namespace pings the fake peer, and the program exits with
// status 0 when the stream closes.
func TestHarnessTapbridgeProgram(t *testing.T) {
	nstest.NeedRoot(t)
	bin := buildTapbridge(t)

	t.Run("socket", func(t *testing.T) {
		ns := nstest.NewNS(t)
		dir := t.TempDir()
		path := filepath.Join(dir, "passt.socket")
		l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ready := filepath.Join(dir, "ready")
		p := nstest.Start(t, nil, bin, "-socket", path, "-netns", ns.Name, "-ifname", "tap7",
			"-mac", guestMAC.String(), "-mtu", "9000", "-ready", ready)
		l.SetDeadline(time.Now().Add(10 * time.Second))
		conn, err := l.AcceptUnix()
		if err != nil {
			t.Fatalf("accept: %v\n%s", err, p.Output())
		}
		peer := startPeer(t, conn, peerMAC, peer4, peer6)
		nstest.WaitFor(t, 10*time.Second, func() bool { _, err := os.Stat(ready); return err == nil }, "the ready file")
		content, err := os.ReadFile(ready)
		if err != nil {
			t.Fatal(err)
		}
		link := ns.Link(t, "tap7")
		if want := fmt.Sprintf("tap7 %d %s\n", link.Index, guestMAC); string(content) != want {
			t.Errorf("ready file: got %q, want %q", content, want)
		}
		if link.MTU != 9000 {
			t.Errorf("MTU: got %d, want 9000", link.MTU)
		}
		addGuestAddrs(t, ns, "tap7")
		nstest.Ping(t, ns, peer4.String(), 2)
		nstest.Ping(t, ns, peer6.String(), 2)
		if got := peer.echo4.Load() + peer.echo6.Load(); got != 4 {
			t.Errorf("echo requests answered: got %d, want 4", got)
		}
		peer.Close()
		if err := p.Wait(10 * time.Second); err != nil {
			t.Errorf("tapbridge after the stream closed: got %v, want exit status 0\n%s", err, p.Output())
		}
	})

	t.Run("fd", func(t *testing.T) {
		ns := nstest.NewNS(t)
		bridgeEnd, peerEnd := streamPair(t)
		f := os.NewFile(uintptr(bridgeEnd), "bridge-stream")
		cmd := nstest.Command(nil, bin, "-fd", "3", "-netns", nstest.NetNSPath(ns.Name))
		cmd.ExtraFiles = []*os.File{f}
		p := nstest.StartCmd(t, cmd)
		f.Close()
		peer := startPeer(t, streamFile(t, peerEnd), peerMAC, peer4, peer6)
		nstest.WaitFor(t, 10*time.Second, func() bool {
			return !p.Exited() && linkUp(ns, nstest.DefaultTapName)
		}, "the tap to be up in the namespace")
		addGuestAddrs(t, ns, nstest.DefaultTapName)
		nstest.Ping(t, ns, peer4.String(), 1)
		if got := peer.echo4.Load(); got != 1 {
			t.Errorf("echo requests answered: got %d, want 1", got)
		}
		p.Signal(unix.SIGTERM)
		if err := p.Wait(10 * time.Second); err != nil {
			t.Errorf("tapbridge after SIGTERM: got %v, want exit status 0\n%s", err, p.Output())
		}
	})
}

// linkUp reports whether ifname exists in ns and is up.
func linkUp(ns *nstest.NS, ifname string) bool {
	up := false
	_ = ns.Do(func() error {
		ifi, err := net.InterfaceByName(ifname)
		up = err == nil && ifi.Flags&net.FlagUp != 0
		return nil
	})
	return up
}

// BenchmarkHarnessBridgeTCP measures TCP throughput between two
// namespaces at MTU 65520, linked by a veth pair (the baseline) or by two
// taps bridged back to back over one socketpair, where each byte crosses
// one bridge from tap to stream and the other from stream to tap.
func BenchmarkHarnessBridgeTCP(b *testing.B) {
	b.Run("veth", func(b *testing.B) {
		left, right := nstest.NewNS(b), nstest.NewNS(b)
		nstest.Veth(b, left, "veth0", right, "veth0")
		left.SetMTU(b, "veth0", nstest.DefaultMTU)
		right.SetMTU(b, "veth0", nstest.DefaultMTU)
		left.AddAddr(b, "veth0", "198.51.100.1/24")
		right.AddAddr(b, "veth0", "198.51.100.2/24")
		benchTCP(b, left, right)
	})
	b.Run("bridges", func(b *testing.B) {
		left, right := nstest.NewNS(b), nstest.NewNS(b)
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			b.Fatal(err)
		}
		nstest.StartBridge(b, left, fds[0], nstest.TapConfig{MAC: guestMAC})
		nstest.StartBridge(b, right, fds[1], nstest.TapConfig{MAC: peerMAC})
		left.AddAddr(b, nstest.DefaultTapName, "198.51.100.1/24")
		right.AddAddr(b, nstest.DefaultTapName, "198.51.100.2/24")
		benchTCP(b, left, right)
	})
}

// benchTCP sends b.N MiB over one TCP connection from 198.51.100.1 in
// left to 198.51.100.2 in right.
func benchTCP(b *testing.B, left, right *nstest.NS) {
	var lfd, cfd int
	if err := right.Do(func() error {
		var err error
		if lfd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err != nil {
			return err
		}
		if err := unix.Bind(lfd, &unix.SockaddrInet4{Port: 5201, Addr: [4]byte{198, 51, 100, 2}}); err != nil {
			return err
		}
		return unix.Listen(lfd, 1)
	}); err != nil {
		b.Fatal(err)
	}
	defer unix.Close(lfd)
	if err := left.Do(func() error {
		var err error
		if cfd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err != nil {
			return err
		}
		return unix.Connect(cfd, &unix.SockaddrInet4{Port: 5201, Addr: [4]byte{198, 51, 100, 2}})
	}); err != nil {
		b.Fatal(err)
	}
	defer unix.Close(cfd)
	afd, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(afd)

	const chunk = 1 << 20
	total := int64(b.N) * chunk
	got := make(chan error, 1)
	go func() {
		buf := make([]byte, chunk)
		for n := int64(0); n < total; {
			k, err := unix.Read(afd, buf)
			if err != nil || k == 0 {
				got <- fmt.Errorf("read after %d of %d bytes: %d, %v", n, total, k, err)
				return
			}
			n += int64(k)
		}
		got <- nil
	}()
	buf := patterned(chunk, 0)
	b.SetBytes(chunk)
	b.ResetTimer()
	for range b.N {
		for p := buf; len(p) > 0; {
			k, err := unix.Write(cfd, p)
			if err != nil {
				b.Fatalf("write: %v", err)
			}
			p = p[k:]
		}
	}
	if err := <-got; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(total)*8/b.Elapsed().Seconds()/1e9, "Gbit/s")
}
