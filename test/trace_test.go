// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"passt-go/test/nstest"
)

// traceRun starts passt with args in a namespace built like TestHostConf's
// host, sends it, as its qemu client, an ARP request for the gateway and a
// UDP datagram to the gateway's port 9, waits for the ARP reply, stops
// passt and returns all it logged.
func traceRun(t *testing.T, args ...string) string {
	t.Helper()
	p, sock := startHostConfPasst(t, args...)

	c := dialQemu(t, sock)
	mac := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x42}
	guest := netip.MustParseAddr("192.0.2.2")
	gw := netip.MustParseAddr("192.0.2.1")
	arp := ethHeader(net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, mac, etherTypeARP)
	arp = append(arp, 0, 1, 0x08, 0, 6, 4, 0, 1) // Ethernet, IPv4, request
	arp = append(arp, mac...)
	arp = append(arp, guest.AsSlice()...)
	arp = append(arp, make([]byte, 6)...)
	arp = append(arp, gw.AsSlice()...)
	udp := udp4Frame(net.HardwareAddr{0x02, 0, 0, 0, 0, 1}, mac,
		netip.AddrPortFrom(guest, 40000), netip.AddrPortFrom(gw, 9), []byte("trace"))
	for _, f := range [][]byte{arp, udp} {
		if err := nstest.WriteFrame(c, f); err != nil {
			t.Fatal(err)
		}
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 65536)
	for {
		f, err := nstest.ReadFrame(c, buf)
		if err != nil {
			t.Fatalf("waiting for the ARP reply: %v", err)
		}
		if len(f) >= 42 && binary.BigEndian.Uint16(f[12:]) == etherTypeARP && bytes.Equal(f[0:6], mac) {
			break
		}
	}
	// The monitor logs what the worker said before it stopped.
	if err := p.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	return p.Output()
}

// --trace logs every frame each way and every flow; without it, not one
// frame is logged, even with --debug.
func TestPasstTrace(t *testing.T) {
	t.Run("--trace", func(t *testing.T) {
		out := traceRun(t, "--trace")
		for _, want := range []string{
			": from guest: ARP request 192.0.2.2 > 192.0.2.1, 42 bytes\n",
			": to guest: ARP reply 192.0.2.1 > 192.0.2.2, 42 bytes\n",
			": from guest: IPv4 UDP 192.0.2.2:40000 > 192.0.2.1:9, 47 bytes\n",
			": flow 0 opened: udp, guest 192.0.2.2:40000, remote 192.0.2.1:9\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("no line %q in the output:\n%s", strings.TrimSpace(want), out)
			}
		}
	})
	t.Run("--debug", func(t *testing.T) {
		out := traceRun(t, "--debug")
		for _, not := range []string{"from guest:", "to guest:", "flow 0 opened"} {
			if strings.Contains(out, not) {
				t.Errorf("got %q without --trace:\n%s", not, out)
			}
		}
	})
}

// startHostConfPasst starts passt -f -s SOCK with args in a namespace
// built like TestHostConf's host, waits until its socket is bound, and
// returns it and SOCK.
func startHostConfPasst(t *testing.T, args ...string) (*nstest.Proc, string) {
	t.Helper()
	dir, _ := binaries(t)
	ns := nstest.NewNS(t)
	ns.SetResolvConf(t, hcResolvConf)
	if err := ns.Do(hcHost); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(sharedDir(t), "passt.socket")
	argv := append([]string{filepath.Join(dir, "passt"), "-f", "-s", sock}, args...)
	p := nstest.Start(t, ns, argv...)
	nstest.WaitFor(t, 10*time.Second, func() bool {
		if p.Exited() {
			t.Fatalf("passt exited:\n%s", p.Output())
		}
		return strings.Contains(p.Output(), "socket bound at")
	}, "passt to be ready")
	return p, sock
}
