// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package worker

import (
	"net"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"passt-go/conf"
)

// dialHost reaches a listener of either family, at its address or, given
// none, at the loopback of the family asked for.
func TestDialHost(t *testing.T) {
	for _, tc := range []struct {
		network, listen string
		to              netip.Addr
		v6              bool
	}{
		{"tcp4", "127.0.0.1:0", netip.Addr{}, false},
		{"tcp6", "[::1]:0", netip.Addr{}, true},
		{"tcp6", "[::1]:0", netip.IPv6Loopback(), true},
		{"tcp4", "127.0.0.1:0", netip.MustParseAddr("::ffff:127.0.0.1"), false},
	} {
		l, err := net.Listen(tc.network, tc.listen)
		if err != nil {
			t.Skipf("listen %s: %v", tc.listen, err)
		}
		port := uint16(l.Addr().(*net.TCPAddr).Port)
		fd, _, err := dialHost(unix.SOCK_STREAM, tc.to, tc.v6, port)
		if err != nil {
			t.Errorf("%s to %v: %v", tc.listen, tc.to, err)
			l.Close()
			continue
		}
		c, err := l.Accept()
		if err != nil {
			t.Errorf("%s: accept: %v", tc.listen, err)
		} else {
			c.Close()
		}
		unix.Close(fd)
		l.Close()
	}
}

// nsTarget: the namespace's own address of the family, its loopback with
// --host-lo-to-ns-lo, or when the family has no usable address.
func TestNsTarget(t *testing.T) {
	c := &conf.Config{Namespace: &conf.Namespace{}}
	c.IPv4.Addr = netip.MustParseAddr("192.0.2.2")
	c.IPv6.Addr = netip.MustParseAddr("2001:db8::2")
	check := func(v6 bool, want string) {
		t.Helper()
		if got, _ := nsTarget(c, v6); got != netip.MustParseAddr(want) {
			t.Errorf("v6 %v, host-lo-to-ns-lo %v: got %v, want %s", v6, c.Namespace.HostLoToNsLo, got, want)
		}
	}
	check(false, "192.0.2.2")
	check(true, "2001:db8::2")
	c.IPv6.Addr = netip.MustParseAddr("fe80::2")
	check(true, "::1")
	c.IPv6.Addr = netip.Addr{}
	check(true, "::1")
	c.Namespace.HostLoToNsLo = true
	check(false, "127.0.0.1")
}
