// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"passt-go/test/nstest"
)

// -T auto in pasta mode: a server started on Host's loopback after pasta
// becomes reachable from inside the namespace through the namespace's
// loopback, within about two scans; once the server stops, the
// namespace's port is free again.

// autoNsScript is the namespace's command: it says it started, then
// waits for the end.
func autoNsScript(dir string) string {
	return "touch " + filepath.Join(dir, "started") + "; read x < " + filepath.Join(dir, "end")
}

// startPastaWaiting starts pasta --config-net with args in Host, running
// autoNsScript, and waits for the command to start. It returns pasta, the
// directory of the script's files (signal "end" to stop it) and the
// namespace's network namespace file.
func startPastaWaiting(t *testing.T, topo *nstest.Topology, who runAs, bin string, args ...string) (*nstest.Proc, string, string) {
	t.Helper()
	dir := sharedDir(t)
	makeFIFOs(t, dir, "end")
	script := autoNsScript(dir)
	argv := append(append([]string{"--config-net"}, args...), "--", "sh", "-c", script)
	p := nstest.Start(t, topo.Host, pastaArgv(who, bin, argv...)...)
	waitStarted(t, p, dir, "the command to start")
	return p, dir, commandNetNS(t, script)
}

// commandNetNS returns the network namespace file of the process running
// script with sh -c, found by its command line: the test reaches inside
// pasta's namespace through it. The command's own idea of its PID is
// that of its PID namespace, of no use here.
func commandNetNS(t *testing.T, script string) string {
	t.Helper()
	want := "sh\x00-c\x00" + script + "\x00"
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && string(b) == want {
			return "/proc/" + e.Name() + "/ns/net"
		}
	}
	t.Fatalf("no process runs %q", script)
	return ""
}

// tcpEchoServe serves TCP echo on l until it is closed: each connection
// gets back what it sent, then end of file.
func tcpEchoServe(l *net.TCPListener) {
	for {
		c, err := l.AcceptTCP()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			io.Copy(c, c)
			c.CloseWrite()
		}()
	}
}

// tcpEchoIn sends data to addr from inside the network namespace at
// path and returns what came back once the server closed.
func tcpEchoIn(path, addr string, data []byte) ([]byte, error) {
	var got []byte
	err := nstest.InNetNS(path, func() error {
		c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		werr := make(chan error, 1)
		go func() {
			_, err := c.Write(data)
			if err == nil {
				err = c.(*net.TCPConn).CloseWrite()
			}
			werr <- err
		}()
		got, err = io.ReadAll(c)
		if e := <-werr; err == nil {
			err = e
		}
		return err
	})
	return got, err
}

// freeIn reports whether addr can be listened on inside the network
// namespace at path, that is whether nothing listens there.
func freeIn(path string, addr netip.AddrPort) bool {
	return listenInNs(path, addr) == nil
}

// listenInNs listens on addr inside the network namespace at path, and
// closes the listener.
func listenInNs(path string, addr netip.AddrPort) error {
	return nstest.InNetNS(path, func() error {
		l, err := net.Listen("tcp", addr.String())
		if err != nil {
			return err
		}
		return l.Close()
	})
}

func TestPastaAutoNsForwarding(t *testing.T) {
	nstest.NeedRoot(t)
	bin, _ := binaries(t)
	topo := nstest.NewTopology(t, nstest.TopologyOptions{})
	tests := []struct {
		name string
		who  runAs
		args []string
		port uint16
	}{
		{name: "root -T auto", who: runAs{"root", -1}, args: []string{"-T", "auto"}, port: 18090},
		{name: "root default", who: runAs{"root", -1}, port: 18091},
		{name: "root -T range", who: runAs{"root", -1}, args: []string{"-T", "18000-18100,~18050,auto"}, port: 18092},
		{name: "unprivileged -T auto", who: runAs{"unprivileged", 65534}, args: []string{"-T", "auto"}, port: 18093},
	}
	loops := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, dir, ns := startPastaWaiting(t, topo, tc.who, bin, tc.args...)
			for _, a := range loops {
				if err := listenInNs(ns, netip.AddrPortFrom(a, tc.port)); err != nil {
					t.Fatalf("%v port %d in the namespace before the server started: %v", a, tc.port, err)
				}
			}

			// The excluded port of the range is never forwarded.
			var excluded []*net.TCPListener
			if strings.Contains(strings.Join(tc.args, ","), "~18050") {
				excluded = append(excluded, tcpListen(t, topo.Host, netip.MustParseAddrPort("127.0.0.1:18050")))
			}
			var servers []*net.TCPListener
			for _, a := range loops {
				l := tcpListen(t, topo.Host, netip.AddrPortFrom(a, tc.port))
				go tcpEchoServe(l)
				servers = append(servers, l)
			}
			start := time.Now()
			data := patterned(200000, 5)
			for _, a := range loops {
				to := netip.AddrPortFrom(a, tc.port).String()
				var got []byte
				var err error
				nstest.WaitFor(t, autoReach-time.Since(start)+100*time.Millisecond, func() bool {
					got, err = tcpEchoIn(ns, to, data)
					return err == nil && len(got) > 0
				}, "TCP "+to+" inside the namespace through pasta")
				if !bytes.Equal(got, data) {
					t.Errorf("TCP %s: got %d bytes back, want the %d sent, byte for byte", to, len(got), len(data))
				}
			}
			t.Logf("TCP reachable %v after the server's start", time.Since(start).Round(time.Millisecond))
			for _, l := range excluded {
				if !freeIn(ns, netip.MustParseAddrPort("127.0.0.1:18050")) {
					t.Error("excluded port 18050 forwarded into the namespace")
				}
				l.Close()
			}

			for _, l := range servers {
				l.Close()
			}
			for _, a := range loops {
				nstest.WaitFor(t, autoRelease, func() bool {
					return freeIn(ns, netip.AddrPortFrom(a, tc.port))
				}, a.String()+" port "+strconv.Itoa(int(tc.port))+" to be released in the namespace")
			}

			signalFIFO(t, dir, "end", p)
			if err := p.Wait(10 * time.Second); err != nil {
				var ee interface{ ExitCode() int }
				if !errors.As(err, &ee) {
					t.Fatalf("pasta: %v", err)
				}
				t.Errorf("pasta: exit status %d, want 0\n%s", ee.ExitCode(), p.Output())
			}
		})
	}
}

// -U auto in pasta mode: a UDP server started on Host's loopback after
// pasta becomes reachable from inside the namespace through the
// namespace's loopback, within about two scans; once the server stops,
// the namespace's port is free again. -U auto is pasta's default.

// udpEchoIn sends data to addr from local (any port when invalid) inside
// the network namespace at path, and returns the reply, if one came from
// addr within wait.
func udpEchoIn(path string, local, addr netip.AddrPort, data []byte, wait time.Duration) ([]byte, error) {
	var got []byte
	err := nstest.InNetNS(path, func() error {
		var la *net.UDPAddr
		if local.IsValid() {
			la = net.UDPAddrFromAddrPort(local)
		}
		c, err := net.ListenUDP("udp", la)
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := c.WriteToUDPAddrPort(data, addr); err != nil {
			return err
		}
		c.SetReadDeadline(time.Now().Add(wait))
		buf := make([]byte, 65536)
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return err
		}
		if from.Addr().Unmap() != addr.Addr() || from.Port() != addr.Port() {
			return fmt.Errorf("reply from %v, want %v", from, addr)
		}
		got = buf[:n]
		return nil
	})
	return got, err
}

// udpFreeIn reports whether a UDP socket can be bound to addr inside the
// network namespace at path.
func udpFreeIn(path string, addr netip.AddrPort) bool {
	return nstest.InNetNS(path, func() error {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
		if err != nil {
			return err
		}
		return c.Close()
	}) == nil
}

func TestPastaAutoNsUDP(t *testing.T) {
	nstest.NeedRoot(t)
	bin, _ := binaries(t)
	topo := nstest.NewTopology(t, nstest.TopologyOptions{})
	tests := []struct {
		name string
		who  runAs
		args []string
		port uint16
		// tapFlow also checks that the host's socket of a flow the
		// namespace opens through the tap, bound to the client's port,
		// is not taken for a service.
		tapFlow bool
	}{
		{name: "root -U auto", who: runAs{"root", -1}, args: []string{"-U", "auto"}, port: 18190, tapFlow: true},
		{name: "root default", who: runAs{"root", -1}, port: 18191},
		{name: "unprivileged -U auto", who: runAs{"unprivileged", 65534}, args: []string{"-U", "auto"}, port: 18192},
	}
	loops := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, dir, ns := startPastaWaiting(t, topo, tc.who, bin, tc.args...)
			for _, a := range loops {
				if !udpFreeIn(ns, netip.AddrPortFrom(a, tc.port)) {
					t.Fatalf("UDP %v port %d in the namespace in use before the server started", a, tc.port)
				}
			}

			var servers []*net.UDPConn
			for _, a := range loops {
				c, _ := udpEchoServer(t, topo.Host, netip.AddrPortFrom(a, tc.port))
				servers = append(servers, c)
			}
			start := time.Now()
			small, big := patterned(1000, 7), patterned(60000, 9)
			for _, a := range loops {
				to := netip.AddrPortFrom(a, tc.port)
				var got []byte
				var err error
				nstest.WaitFor(t, autoReach-time.Since(start)+100*time.Millisecond, func() bool {
					got, err = udpEchoIn(ns, netip.AddrPort{}, to, small, 200*time.Millisecond)
					return err == nil
				}, "UDP "+to.String()+" inside the namespace through pasta")
				if !bytes.Equal(got, small) {
					t.Errorf("UDP %s: got %d bytes back, want the %d sent, byte for byte", to, len(got), len(small))
				}
				got, err = udpEchoIn(ns, netip.AddrPort{}, to, big, 2*time.Second)
				if err != nil || !bytes.Equal(got, big) {
					t.Errorf("UDP %s: a datagram of %d bytes came back as %d bytes (%v)", to, len(big), len(got), err)
				}
			}
			t.Logf("UDP reachable %v after the server's start", time.Since(start).Round(time.Millisecond))

			if tc.tapFlow {
				// Through the tap to the gateway, which is the host's
				// loopback: the worker's socket on the host is bound to
				// the client's port, and connected.
				local := netip.MustParseAddrPort("0.0.0.0:18197")
				gw := netip.AddrPortFrom(netip.MustParseAddr(nstest.RemoteAddr4), tc.port)
				got, err := udpEchoIn(ns, local, gw, small, 2*time.Second)
				if err != nil || !bytes.Equal(got, small) {
					t.Fatalf("UDP %v through the tap: %d bytes back, want %d (%v)", gw, len(got), len(small), err)
				}
				held := netip.MustParseAddrPort("127.0.0.1:18197")
				for end := time.Now().Add(2500 * time.Millisecond); time.Now().Before(end); {
					if !udpFreeIn(ns, held) {
						t.Fatal("the port of a flow through the tap was forwarded back into the namespace")
					}
					time.Sleep(100 * time.Millisecond)
				}
			}

			for _, c := range servers {
				c.Close()
			}
			for _, a := range loops {
				nstest.WaitFor(t, autoRelease, func() bool {
					return udpFreeIn(ns, netip.AddrPortFrom(a, tc.port))
				}, "UDP "+a.String()+" port "+strconv.Itoa(int(tc.port))+" to be released in the namespace")
			}

			signalFIFO(t, dir, "end", p)
			if err := p.Wait(10 * time.Second); err != nil {
				var ee interface{ ExitCode() int }
				if !errors.As(err, &ee) {
					t.Fatalf("pasta: %v", err)
				}
				t.Errorf("pasta: exit status %d, want 0\n%s", ee.ExitCode(), p.Output())
			}
		})
	}
}
