// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"bytes"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"passt-go/test/nstest"
)

// TCP through pasta's tap device: pasta --config-net runs in Host and
// gives the topology's Guest namespace Host's addresses and routes, so the
// Guest's own kernel is pasta's guest. The checks are those passt passes
// with its guest (TestTCPTransfer, TestTCPResets, TestTCPConcurrent):
// byte-exact transfers, small and 100 MiB, both ways, IPv4 and IPv6, to
// the gateway (Host's loopback) and to Remote, with the half-closes in
// either order; refused connections and resets both ways; a thousand
// connections transferring at once.
func TestPastaTCP(t *testing.T) {
	nstest.NeedRoot(t)
	dir, _ := binaries(t)
	topo := nstest.NewTopology(t, nstest.TopologyOptions{Guest: true})
	pidFile := filepath.Join(sharedDir(t), "pasta.pid")
	p := nstest.Start(t, topo.Host, pastaArgv(runAs{"root", -1}, dir,
		"-f", "-P", pidFile, "--config-net", "--netns", topo.Guest.Name)...)
	waitPIDFile(t, pidFile, p)

	t.Run("transfer", func(t *testing.T) { tcpTransfers(t, topo, 7000) })
	t.Run("resets", func(t *testing.T) { tcpResets(t, topo, 7300) })
	t.Run("concurrent", func(t *testing.T) { tcpConcurrent(t, topo, 7400) })
	if p.Exited() {
		t.Errorf("pasta exited during the test:\n%s", p.Output())
	}
}

// pasta's --pcap shows the namespace's TCP and UDP frames with complete
// checksums, although the namespace's stack leaves them to the tap device
// (checksum offload), and pasta completes them only for the capture.
func TestPastaPcap(t *testing.T) {
	nstest.NeedRoot(t)
	nstest.NeedTool(t, "tcpdump")
	dir, _ := binaries(t)
	topo := nstest.NewTopology(t, nstest.TopologyOptions{Guest: true})
	work := sharedDir(t)
	pidFile, pcapFile := filepath.Join(work, "pasta.pid"), filepath.Join(work, "capture.pcap")
	p := nstest.Start(t, topo.Host, pastaArgv(runAs{"root", -1}, dir,
		"-f", "-P", pidFile, "--pcap", pcapFile, "--config-net", "--netns", topo.Guest.Name)...)
	waitPIDFile(t, pidFile, p)

	var l *net.TCPListener
	if err := topo.Remote.Do(func() error {
		var err error
		l, err = net.ListenTCP("tcp", net.TCPAddrFromAddrPort(netip.MustParseAddrPort(nstest.FarAddr4+":7501")))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go tcpEchoServe(l)
	udpEchoServer(t, topo.Remote, netip.MustParseAddrPort(nstest.FarAddr4+":7502"))
	msg := bytes.Repeat([]byte("summed by the device "), 200)
	if got, err := tcpEcho(topo.Guest, nstest.FarAddr4+":7501", msg); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("TCP echo through pasta: %d bytes back, %v", len(got), err)
	}
	if got, err := udpEcho(topo.Guest, nstest.FarAddr4+":7502", msg); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("UDP echo through pasta: %d bytes back, %v", len(got), err)
	}
	p.Stop(5 * time.Second)

	out, err := exec.Command("tcpdump", "-nn", "-vv", "-r", pcapFile).CombinedOutput()
	if err != nil {
		t.Fatalf("tcpdump -r: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"> " + nstest.FarAddr4 + ".7501: Flags [P.]", "> " + nstest.FarAddr4 + ".7502: [udp sum ok] UDP"} {
		if !strings.Contains(text, want) {
			t.Errorf("capture lacks %q:\n%s", want, text)
		}
	}
	for _, bad := range []string{"incorrect", "bad udp cksum", "bad cksum"} {
		if strings.Contains(text, bad) {
			t.Errorf("capture has %q:\n%s", bad, text)
		}
	}
}
