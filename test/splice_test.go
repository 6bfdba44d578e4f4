// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"passt-go/test/nstest"
)

// The spliced loopback path of pasta: -T listens on the namespace's
// loopback, and what it accepts is spliced to a server on Host's
// loopback. The client inside the namespace is socat between its
// standard streams and the namespace's loopback, so the test feeds and
// reads the namespace's side through pasta's standard streams.

// spliceTransfer runs pasta -T port with a socat client to the
// namespace's loop address, sends up bytes from the namespace to a server
// on Host's loopback, which checks them and end of file (the client's
// half-close), then sends down bytes back and closes; the test checks
// them and end of file on socat's output.
func spliceTransfer(t *testing.T, topo *nstest.Topology, dir string, who runAs, loop netip.Addr, port uint16, up, down int64) {
	t.Helper()
	l := tcpListen(t, topo.Host, netip.AddrPortFrom(loop, port))
	srv := make(chan error, 1)
	go func() {
		l.SetDeadline(time.Now().Add(tcpTimeout))
		c, err := l.AcceptTCP()
		if err != nil {
			srv <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(tcpTimeout))
		if err := tcpCheck(c, up, 1); err != nil {
			srv <- fmt.Errorf("namespace to host: %w", err)
			return
		}
		// Half-closed by the namespace: the other direction still works.
		if err := tcpSend(c, down, 2); err != nil {
			srv <- fmt.Errorf("host to namespace: %w", err)
			return
		}
		srv <- c.CloseWrite()
	}()

	target := fmt.Sprintf("TCP4:%s:%d", loop, port)
	if loop.Is6() {
		target = fmt.Sprintf("TCP6:[%s]:%d", loop, port)
	}
	ctx, cancel := context.WithTimeout(context.Background(), tcpTimeout)
	defer cancel()
	argv := append([]string{"ip", "netns", "exec", topo.Host.Name},
		pastaArgv(who, dir, "--config-net", "-T", fmt.Sprint(port), "--", "socat", "-t", "60", "-b", "65536", "STDIO", target)...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sendErr := make(chan error, 1)
	go func() {
		err := tcpSend(stdin, up, 1)
		if cerr := stdin.Close(); err == nil {
			err = cerr
		}
		sendErr <- err
	}()
	recvErr := tcpCheck(stdout, down, 2)
	werr := cmd.Wait()
	if err := errors.Join(<-sendErr, recvErr, <-srv, werr); err != nil {
		t.Fatalf("through %v port %d: %v\npasta's stderr:\n%s", loop, port, err, stderr.String())
	}
}

func TestSpliceNsToHost(t *testing.T) {
	nstest.NeedRoot(t)
	if _, err := exec.LookPath("socat"); err != nil {
		t.Skip("socat is not installed")
	}
	dir, _ := binaries(t)
	topo := nstest.NewTopology(t, nstest.TopologyOptions{})
	for _, tc := range []struct {
		name     string
		loop     netip.Addr
		port     uint16
		up, down int64
		who      runAs // the zero value: root
	}{
		{name: "IPv4 small", loop: netip.MustParseAddr("127.0.0.1"), port: 9090, up: 1000, down: 3},
		{name: "IPv6 small", loop: netip.IPv6Loopback(), port: 9091, up: 5, down: 70000},
		{name: "IPv4 empty up", loop: netip.MustParseAddr("127.0.0.1"), port: 9092, up: 0, down: 10},
		{name: "IPv4 100 MiB each way", loop: netip.MustParseAddr("127.0.0.1"), port: 9093, up: 100 << 20, down: 100 << 20},
		{name: "IPv6 100 MiB each way", loop: netip.IPv6Loopback(), port: 9094, up: 100 << 20, down: 100 << 20},
		{name: "unprivileged IPv4 1 MiB each way", loop: netip.MustParseAddr("127.0.0.1"), port: 9095, up: 1 << 20, down: 1 << 20, who: runAs{"unprivileged", 65534}},
		{name: "unprivileged IPv6 1 MiB each way", loop: netip.IPv6Loopback(), port: 9096, up: 1 << 20, down: 1 << 20, who: runAs{"unprivileged", 65534}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			who := tc.who
			if who.name == "" {
				who = runAs{"root", -1}
			}
			spliceTransfer(t, topo, dir, who, tc.loop, tc.port, tc.up, tc.down)
		})
	}
}

// udpEchoServer echoes every datagram on addr inside ns, and reports the
// address of each sender on the channel, while there is room in it. It
// returns the server's socket too: closing it stops the server, as the
// test's end does.
func udpEchoServer(t *testing.T, ns *nstest.NS, addr netip.AddrPort) (*net.UDPConn, <-chan netip.AddrPort) {
	t.Helper()
	var c *net.UDPConn
	if err := ns.Do(func() error {
		var err error
		c, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
		return err
	}); err != nil {
		t.Fatalf("listen on UDP %v in %s: %v", addr, ns, err)
	}
	t.Cleanup(func() { c.Close() })
	from := make(chan netip.AddrPort, 64)
	go func() {
		buf := make([]byte, 65536)
		for {
			n, peer, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			c.WriteToUDPAddrPort(buf[:n], peer)
			select {
			case from <- peer:
			default:
			}
		}
	}()
	return c, from
}

// -U: datagrams from clients on the namespace's loopback reach a server
// on Host's loopback at the same port and its answers come back, each
// client its own flow, IPv4 and IPv6, small and near the largest size,
// as root and as an ordinary user.
func TestSpliceUDP(t *testing.T) {
	nstest.NeedRoot(t)
	nstest.NeedTool(t, "socat")
	dir, _ := binaries(t)
	topo := nstest.NewTopology(t, nstest.TopologyOptions{})
	for i, who := range []runAs{{"root", -1}, {"unprivileged", 65534}} {
		t.Run(who.name, func(t *testing.T) {
			spliceUDP(t, topo, dir, who, uint16(9190+i))
		})
	}
}

func spliceUDP(t *testing.T, topo *nstest.Topology, dir string, who runAs, port uint16) {
	work := sharedDir(t)
	big := patterned(60000, 5)
	if err := os.WriteFile(filepath.Join(work, "big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	froms := map[string]<-chan netip.AddrPort{}
	var script strings.Builder
	for _, fam := range []struct{ name, loop, socat string }{
		{"4", "127.0.0.1", "UDP4:127.0.0.1"},
		{"6", "::1", "UDP6:[::1]"},
	} {
		_, froms[fam.name] = udpEchoServer(t, topo.Host, netip.AddrPortFrom(netip.MustParseAddr(fam.loop), port))
		// The families run side by side, each client after the other.
		script.WriteString("( set -e\n")
		for i := range 3 {
			fmt.Fprintf(&script, "printf 'hello %s %d' | socat -T 1 - %s:%d >> %s/small%s\n", fam.name, i, fam.socat, port, work, fam.name)
		}
		fmt.Fprintf(&script, "socat -b 65536 -T 1 - %s:%d < %s/big > %s/big%s\n) &\n", fam.socat, port, work, work, fam.name)
	}
	script.WriteString("wait\n")
	stdout, stderr, code := runPasta(t, topo.Host, who, dir, "--config-net", "-U", strconv.Itoa(int(port)), "--", "sh", "-c", script.String())
	if code != 0 {
		t.Fatalf("pasta: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	for _, fam := range []string{"4", "6"} {
		got, _ := os.ReadFile(filepath.Join(work, "small"+fam))
		want := fmt.Sprintf("hello %[1]s 0hello %[1]s 1hello %[1]s 2", fam)
		if string(got) != want {
			t.Errorf("IPv%s: the clients got %q back, want %q", fam, got, want)
		}
		got, _ = os.ReadFile(filepath.Join(work, "big"+fam))
		if !bytes.Equal(got, big) {
			t.Errorf("IPv%s: a datagram of %d bytes came back as %d bytes", fam, len(big), len(got))
		}
		ports := map[uint16]bool{}
		for len(froms[fam]) > 0 {
			p := <-froms[fam]
			if !p.Addr().IsLoopback() {
				t.Errorf("IPv%s: the server saw a client at %v, want the host's loopback", fam, p)
			}
			ports[p.Port()] = true
		}
		if len(ports) != 4 {
			t.Errorf("IPv%s: the server saw clients at %d ports, want 4, one per flow", fam, len(ports))
		}
	}
}
