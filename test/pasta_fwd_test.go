// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"passt-go/test/nstest"
)

// `pasta --config-net -t PORT -- SERVER`: the server inside is reachable
// from the host through its loopback, on the spliced path, and through
// the host's own address, on the tap path, IPv4 and IPv6, byte for byte.
// The server tells each client the address it sees it from, which shows
// the path taken: a spliced connection is made inside the namespace, to
// and from the namespace's own address (the host's, copied by
// --config-net); one through the tap comes from an address of the tap's
// link (the gateway's), never from the namespace's own address.

// peerEchoScript runs TCP servers on port, one per family, that send the
// client's address as socat saw it, a newline, then echo what it sends.
func peerEchoScript(dir string, port int) string {
	srv := `SYSTEM:'echo "$SOCAT_PEERADDR"; exec cat'`
	return fmt.Sprintf("socat TCP4-LISTEN:%d,reuseaddr,fork %s & "+
		"socat TCP6-LISTEN:%d,ipv6only=1,reuseaddr,fork %s & "+
		"touch %s; wait", port, srv, port, srv, filepath.Join(dir, "started"))
}

func TestPastaForwardTCP(t *testing.T) {
	nstest.NeedRoot(t)
	nstest.NeedTool(t, "socat")
	bin, _ := binaries(t)
	topo := nstest.NewTopology(t, nstest.TopologyOptions{})
	const port = 18090
	for _, who := range []runAs{{"root", -1}, {"unprivileged", 65534}} {
		t.Run(who.name, func(t *testing.T) {
			dir := sharedDir(t)
			p := nstest.Start(t, topo.Host, pastaArgv(who, bin, "--config-net", "-t", strconv.Itoa(port), "--",
				"sh", "-c", peerEchoScript(dir, port))...)
			waitStarted(t, p, dir, "the servers to start")

			data := patterned(1<<20, 3)
			for _, c := range forwardPaths {
				to := net.JoinHostPort(c.addr, strconv.Itoa(port))
				var got []byte
				var err error
				nstest.WaitFor(t, 5*time.Second, func() bool {
					got, err = tcpEcho(topo.Host, to, data)
					return err == nil && len(got) > 0
				}, "TCP "+to+" through pasta")
				peer, echoed, ok := bytes.Cut(got, []byte("\n"))
				if !ok {
					t.Errorf("%s: no peer line in %d bytes back (%v)", to, len(got), err)
					continue
				}
				if !bytes.Equal(echoed, data) {
					t.Errorf("%s: got %d bytes echoed, want the %d sent, byte for byte", to, len(echoed), len(data))
				}
				seen, ok := checkPath(t, to, strings.Trim(string(peer), "[]"), c.spliced)
				if !ok {
					continue
				}
				t.Logf("%s: seen from %v", to, seen)
			}
			if err := p.Stop(5 * time.Second); err != nil && !p.Exited() {
				t.Errorf("stop pasta: %v", err)
			}
		})
	}
}

// udpPeerEcho answers every datagram on c with the sender's address, a
// newline, and the datagram.
func udpPeerEcho(c *net.UDPConn) {
	buf := make([]byte, 65536)
	for {
		n, peer, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		reply := append([]byte(peer.Addr().Unmap().String()+"\n"), buf[:n]...)
		c.WriteToUDPAddrPort(reply, peer)
	}
}

// `pasta --config-net -u PORT`: a UDP server inside answers clients on
// the host's loopback through the spliced path, and clients of the host's
// own address through the tap, IPv4 and IPv6; the address it sees each
// client from shows the path, as in TestPastaForwardTCP.
func TestPastaForwardUDP(t *testing.T) {
	nstest.NeedRoot(t)
	bin, _ := binaries(t)
	topo := nstest.NewTopology(t, nstest.TopologyOptions{})
	for i, who := range []runAs{{"root", -1}, {"unprivileged", 65534}} {
		t.Run(who.name, func(t *testing.T) {
			forwardUDP(t, topo, bin, who, uint16(18091+i))
		})
	}
}

func forwardUDP(t *testing.T, topo *nstest.Topology, bin string, who runAs, port uint16) {
	p, _, inside := startPastaWaiting(t, topo, who, bin, "-u", strconv.Itoa(int(port)))
	for _, a := range []string{"0.0.0.0", "::"} {
		var c *net.UDPConn
		if err := nstest.InNetNS(inside, func() error {
			var err error
			network := "udp4"
			if a == "::" {
				network = "udp6"
			}
			c, err = net.ListenUDP(network, &net.UDPAddr{IP: net.ParseIP(a), Port: int(port)})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		go udpPeerEcho(c)
	}

	for _, c := range forwardPaths {
		to := net.JoinHostPort(c.addr, strconv.Itoa(int(port)))
		for i, size := range []int{10, 1400, 60000} {
			data := patterned(size, byte(i))
			var got []byte
			var err error
			nstest.WaitFor(t, 5*time.Second, func() bool {
				got, err = udpEcho(topo.Host, to, data)
				return err == nil
			}, "UDP "+to+" through pasta")
			peer, echoed, ok := bytes.Cut(got, []byte("\n"))
			if !ok || !bytes.Equal(echoed, data) {
				t.Errorf("%s: got %d bytes back, want the peer line and the %d sent", to, len(got), len(data))
				continue
			}
			seen, ok := checkPath(t, to, string(peer), c.spliced)
			if !ok {
				continue
			}
			if i == 0 {
				t.Logf("%s: seen from %v", to, seen)
			}
		}
	}
	if err := p.Stop(5 * time.Second); err != nil && !p.Exited() {
		t.Errorf("stop pasta: %v", err)
	}
}

// checkPath checks peer, the address a server inside the namespace saw a
// client to address to come from: the namespace's own address of its
// family when the connection was spliced, an address of the tap's link
// (neither that nor a loopback address) when it came through the tap. It
// returns the address, and false when peer is not one.
func checkPath(t *testing.T, to, peer string, spliced bool) (netip.Addr, bool) {
	t.Helper()
	seen, err := netip.ParseAddr(peer)
	if err != nil {
		t.Errorf("%s: the server saw the client from %q: %v", to, peer, err)
		return netip.Addr{}, false
	}
	own := netip.MustParseAddr(nstest.HostAddr4)
	if seen.Is6() {
		own = netip.MustParseAddr(nstest.HostAddr6)
	}
	if spliced && seen != own {
		t.Errorf("%s: the server saw the client from %v, want the namespace's own %v (spliced)", to, seen, own)
	}
	if !spliced && (seen == own || seen.IsLoopback()) {
		t.Errorf("%s: the server saw the client from %v, want an address of the tap's link", to, seen)
	}
	return seen, true
}

// forwardPaths are the host's addresses a client reaches a -t or -u port
// through, and whether pasta splices that path (the host's loopback) or
// takes it through the tap device.
var forwardPaths = []struct {
	addr    string
	spliced bool
}{
	{"127.0.0.1", true},
	{"::1", true},
	{nstest.HostAddr4, false},
	{nstest.HostAddr6, false},
}
