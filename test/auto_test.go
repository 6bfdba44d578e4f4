// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"passt-go/test/nstest"
)

// Auto forwarding in pasta mode: a server started inside the namespace
// after pasta becomes reachable from Host, through Host's address and
// through its loopback, within about two scans; once the server stops,
// Host's port is free again.

// autoReach bounds the time from a server's start inside the namespace
// to the first exchange through Host: the scan runs once a second.
const autoReach = 2 * time.Second

// autoRelease bounds the time from a server's end to the release of
// Host's port.
const autoRelease = 5 * time.Second

// autoScript is the namespace's command: it says it started, then runs
// servers between steps the test gives through FIFOs in dir (go, stop,
// end), so that every server starts after pasta and stops when told.
func autoScript(dir string, tcpPort, udpPort int) string {
	fifo := func(name string) string { return "read x < " + filepath.Join(dir, name) }
	servers := fmt.Sprintf("socat TCP-LISTEN:%d,reuseaddr,fork EXEC:cat & t=$!; ", tcpPort)
	kill := "kill $t"
	if udpPort > 0 {
		servers += fmt.Sprintf("socat UDP-RECVFROM:%d,fork EXEC:cat & u=$!; ", udpPort)
		kill += " $u"
	}
	return "touch " + filepath.Join(dir, "started") + "; " +
		fifo("go") + "; " + servers +
		fifo("stop") + "; " + kill + "; wait; " +
		fifo("end")
}

// makeFIFOs creates the named pipes of autoScript, open to any user.
func makeFIFOs(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := unix.Mkfifo(p, 0o666); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o666); err != nil {
			t.Fatal(err)
		}
	}
}

// signalFIFO tells the command, blocked on the FIFO's read, to go on: it
// waits until the command has the FIFO open, then closes it.
func signalFIFO(t *testing.T, dir, name string, p *nstest.Proc) {
	t.Helper()
	path := filepath.Join(dir, name)
	nstest.WaitFor(t, 10*time.Second, func() bool {
		if p.Exited() {
			t.Fatalf("pasta exited before %s:\n%s", name, p.Output())
		}
		fd, err := unix.Open(path, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return false
		}
		unix.Write(fd, []byte("\n"))
		unix.Close(fd)
		return true
	}, "the command to read "+name)
}

// tcpEcho sends data to addr from inside ns and returns what came back
// once the server closed.
func tcpEcho(ns *nstest.NS, addr string, data []byte) ([]byte, error) {
	return tcpEchoIn(ns.Path(), addr, data)
}

// udpEcho sends data to addr from inside ns and returns the reply, if
// one came from addr in time.
func udpEcho(ns *nstest.NS, addr string, data []byte) ([]byte, error) {
	to, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, err
	}
	return udpEchoIn(ns.Path(), netip.AddrPort{}, to, data, 300*time.Millisecond)
}

// bindFree reports whether port can be bound in ns for proto ("tcp" with
// SO_REUSEADDR as servers do, "udp" without), that is whether nothing
// listens there.
func bindFree(ns *nstest.NS, proto string, port int) bool {
	err := ns.Do(func() error {
		addr := ":" + strconv.Itoa(port)
		if proto == "tcp" {
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			return l.Close()
		}
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	})
	return err == nil
}

func TestPastaAutoForwarding(t *testing.T) {
	nstest.NeedRoot(t)
	nstest.NeedTool(t, "socat")
	bin, _ := binaries(t)
	topo := nstest.NewTopology(t, nstest.TopologyOptions{})
	tests := []struct {
		name string
		who  runAs
		args []string
		tcp  int
		udp  int // 0: no UDP server
	}{
		{name: "root -t auto -u auto", who: runAs{"root", -1}, args: []string{"-t", "auto", "-u", "auto"}, tcp: 18080, udp: 18081},
		{name: "root default", who: runAs{"root", -1}, tcp: 18082, udp: 18083},
		{name: "unprivileged -t auto", who: runAs{"unprivileged", 65534}, args: []string{"-t", "auto"}, tcp: 18084},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := sharedDir(t)
			makeFIFOs(t, dir, "go", "stop", "end")
			args := append([]string{"--config-net"}, tc.args...)
			args = append(args, "--", "sh", "-c", autoScript(dir, tc.tcp, tc.udp))
			p := nstest.Start(t, topo.Host, pastaArgv(tc.who, bin, args...)...)
			waitStarted(t, p, dir, "the command to start")
			if nstest.Listening(topo.Host, "tcp", tc.tcp) {
				t.Fatalf("TCP port %d listens on Host before the server started", tc.tcp)
			}

			signalFIFO(t, dir, "go", p)
			start := time.Now()
			data := patterned(200000, 7)
			for _, addr := range []string{nstest.HostAddr4, "127.0.0.1"} {
				to := net.JoinHostPort(addr, strconv.Itoa(tc.tcp))
				var got []byte
				var err error
				nstest.WaitFor(t, autoReach-time.Since(start)+100*time.Millisecond, func() bool {
					got, err = tcpEcho(topo.Host, to, data)
					return err == nil && len(got) > 0
				}, "TCP "+to+" through pasta")
				if !bytes.Equal(got, data) {
					t.Errorf("TCP %s: got %d bytes back, want the %d sent, byte for byte", to, len(got), len(data))
				}
			}
			t.Logf("TCP reachable %v after the server's start", time.Since(start).Round(time.Millisecond))
			if tc.udp > 0 {
				for _, addr := range []string{nstest.HostAddr4, "127.0.0.1"} {
					to := net.JoinHostPort(addr, strconv.Itoa(tc.udp))
					msg := patterned(1200, 9)
					var got []byte
					nstest.WaitFor(t, autoReach, func() bool {
						var err error
						got, err = udpEcho(topo.Host, to, msg)
						return err == nil
					}, "UDP "+to+" through pasta")
					if !bytes.Equal(got, msg) {
						t.Errorf("UDP %s: got %q, want the %d bytes sent", to, got, len(msg))
					}
				}
			}
			if bindFree(topo.Host, "tcp", tc.tcp) {
				t.Errorf("TCP port %d free on Host while the server runs", tc.tcp)
			}

			signalFIFO(t, dir, "stop", p)
			nstest.WaitFor(t, autoRelease, func() bool { return bindFree(topo.Host, "tcp", tc.tcp) }, "Host's TCP port to be released")
			if tc.udp > 0 {
				nstest.WaitFor(t, autoRelease, func() bool { return bindFree(topo.Host, "udp", tc.udp) }, "Host's UDP port to be released")
			}

			signalFIFO(t, dir, "end", p)
			if err := p.Wait(10 * time.Second); err != nil {
				var ee interface{ ExitCode() int }
				if !errors.As(err, &ee) {
					t.Fatalf("pasta: %v", err)
				}
				t.Errorf("pasta: exit status %d, want 0", ee.ExitCode())
			}
		})
	}
}
