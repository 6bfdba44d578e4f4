// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package ipc

import (
	"testing"

	"golang.org/x/sys/unix"
)

// closeLater returns a function that takes the results of an opening call,
// fails the test on error, and closes the descriptor at cleanup.
func closeLater(t *testing.T) func(int, error) int {
	return func(fd int, err error) int {
		t.Helper()
		if err != nil {
			t.Fatalf("open descriptor: %v", err)
		}
		t.Cleanup(func() { unix.Close(fd) })
		return fd
	}
}

// inetSocket returns a socket bound to port 0 on the loopback address of
// domain (listening for TCP) and the port the kernel chose.
func inetSocket(t *testing.T, domain, typ int) (int, uint16) {
	t.Helper()
	fd := closeLater(t)(unix.Socket(domain, typ|unix.SOCK_CLOEXEC, 0))
	var sa unix.Sockaddr = &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	if domain == unix.AF_INET6 {
		sa = &unix.SockaddrInet6{Addr: [16]byte{15: 1}}
	}
	if err := unix.Bind(fd, sa); err != nil {
		t.Skipf("bind on loopback refused: %v", err)
	}
	if typ == unix.SOCK_STREAM {
		if err := unix.Listen(fd, 1); err != nil {
			t.Fatalf("listen: %v", err)
		}
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatalf("getsockname: %v", err)
	}
	switch a := got.(type) {
	case *unix.SockaddrInet4:
		return fd, uint16(a.Port)
	case *unix.SockaddrInet6:
		return fd, uint16(a.Port)
	}
	t.Fatalf("getsockname: got %T", got)
	return 0, 0
}

func TestVerifyFD(t *testing.T) {
	checkLeaks(t)
	tcp4, tcpPort := inetSocket(t, unix.AF_INET, unix.SOCK_STREAM)
	udp4, udpPort := inetSocket(t, unix.AF_INET, unix.SOCK_DGRAM)
	unixListener := closeLater(t)(unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0))
	if err := unix.Bind(unixListener, &unix.SockaddrUnix{Name: "@passt-go-ipc-verify-test"}); err != nil {
		t.Fatalf("bind abstract unix socket: %v", err)
	}
	if err := unix.Listen(unixListener, 1); err != nil {
		t.Fatalf("listen: %v", err)
	}
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	closeLater(t)(sp[1], err)
	unixConn := closeLater(t)(sp[0], err)
	mem := memFD(t, "log")
	readOnly := closeLater(t)(unix.Open("/proc/self/exe", unix.O_RDONLY|unix.O_CLOEXEC, 0))
	procNet := closeLater(t)(unix.Open("/proc/net/tcp", unix.O_RDONLY|unix.O_CLOEXEC, 0))
	netns := closeLater(t)(unix.Open("/proc/self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0))
	devNull := closeLater(t)(unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0))
	tun := -1
	if fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0); err == nil {
		tun = closeLater(t)(fd, nil)
	}

	tests := []struct {
		name  string
		fd    int
		entry FDEntry
		ok    bool
	}{
		{name: "TCP listener", fd: tcp4, entry: FDEntry{Role: FDTCPListener, Proto: TCP, Family: IPv4, Port: tcpPort}, ok: true},
		{name: "TCP listener, any port", fd: tcp4, entry: FDEntry{Role: FDTCPListener}, ok: true},
		{name: "TCP listener, wrong port", fd: tcp4, entry: FDEntry{Role: FDTCPListener, Port: tcpPort + 1}},
		{name: "TCP listener, wrong family", fd: tcp4, entry: FDEntry{Role: FDTCPListener, Family: IPv6}},
		{name: "TCP listener as UDP", fd: tcp4, entry: FDEntry{Role: FDUDPListener}},
		{name: "UDP socket", fd: udp4, entry: FDEntry{Role: FDUDPListener, Family: IPv4, Port: udpPort}, ok: true},
		{name: "UDP socket as TCP listener", fd: udp4, entry: FDEntry{Role: FDTCPListener}},
		{name: "unix listener for qemu", fd: unixListener, entry: FDEntry{Role: FDQemuListener}, ok: true},
		{name: "unix listener as qemu connection", fd: unixListener, entry: FDEntry{Role: FDQemuConn}},
		{name: "unix connection for qemu", fd: unixConn, entry: FDEntry{Role: FDQemuConn}, ok: true},
		{name: "unix connection as TCP listener", fd: unixConn, entry: FDEntry{Role: FDTCPListener}},
		{name: "TCP listener as qemu listener", fd: tcp4, entry: FDEntry{Role: FDQemuListener}},
		{name: "log file", fd: mem, entry: FDEntry{Role: FDLog}, ok: true},
		{name: "pcap file", fd: mem, entry: FDEntry{Role: FDPcap}, ok: true},
		{name: "read-only log", fd: readOnly, entry: FDEntry{Role: FDLog}},
		{name: "socket as log", fd: udp4, entry: FDEntry{Role: FDLog}},
		{name: "proc net file", fd: procNet, entry: FDEntry{Role: FDProcNet, Proto: TCP, Family: IPv4}, ok: true},
		{name: "memfd as proc net", fd: mem, entry: FDEntry{Role: FDProcNet}},
		{name: "namespace handle", fd: netns, entry: FDEntry{Role: FDNSHandle}, ok: true},
		{name: "proc file as namespace handle", fd: procNet, entry: FDEntry{Role: FDNSHandle}},
		{name: "null device as tap", fd: devNull, entry: FDEntry{Role: FDTap}},
		{name: "memfd as tap", fd: mem, entry: FDEntry{Role: FDTap}},
		{name: "tun device", fd: tun, entry: FDEntry{Role: FDTap}, ok: true},
		{name: "unknown role", fd: mem, entry: FDEntry{Role: numFDRoles}},
		{name: "closed descriptor", fd: 1 << 20, entry: FDEntry{Role: FDLog}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fd < 0 {
				t.Skip("/dev/net/tun cannot be opened here")
			}
			err := VerifyFD(tc.fd, tc.entry)
			if (err == nil) != tc.ok {
				t.Errorf("got %v, want ok %v", err, tc.ok)
			}
		})
	}
}
