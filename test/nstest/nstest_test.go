// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package nstest

import (
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestNSLifecycle(t *testing.T) {
	NeedRoot(t)
	var name string
	t.Run("create", func(t *testing.T) {
		ns := NewNS(t)
		name = ns.Name
		if !strings.HasPrefix(name, NamePrefix) {
			t.Errorf("name: got %q, want prefix %q", name, NamePrefix)
		}
		if _, err := os.Stat(ns.Path()); err != nil {
			t.Fatalf("namespace file: got %v, want it to exist", err)
		}
		if lo := ns.Link(t, "lo"); lo.Flags&net.FlagUp == 0 {
			t.Errorf("lo flags: got %v, want up", lo.Flags)
		}
		// The namespace really is another one.
		own, err := os.Readlink("/proc/thread-self/ns/net")
		if err != nil {
			t.Fatal(err)
		}
		var inside string
		if err := ns.Do(func() error {
			inside, err = os.Readlink("/proc/thread-self/ns/net")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if inside == own {
			t.Errorf("Do ran in %s, the test's own namespace, want another", inside)
		}
		ns.SetResolvConf(t, "nameserver 192.0.2.53\n")
	})
	if _, err := os.Stat(NetNSPath(name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("namespace file after clean-up: got %v, want it gone", err)
	}
	if _, err := os.Stat("/etc/netns/" + name); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("/etc/netns entry after clean-up: got %v, want it gone", err)
	}
}

func TestSysctlAndResolvConf(t *testing.T) {
	ns := NewNS(t)
	own, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range")
	if err != nil {
		t.Fatal(err)
	}
	ns.Sysctl(t, "net.ipv4.ping_group_range", "0 2147483647")
	if got := ns.GetSysctl(t, "net/ipv4/ping_group_range"); got != "0\t2147483647" {
		t.Errorf("ping_group_range in %s: got %q, want %q", ns, got, "0\t2147483647")
	}
	if after, _ := os.ReadFile("/proc/sys/net/ipv4/ping_group_range"); string(after) != string(own) {
		t.Errorf("test process's ping_group_range: got %q, want it unchanged %q", after, own)
	}

	const conf = "nameserver 192.0.2.53\nsearch example.test\n"
	ns.SetResolvConf(t, conf)
	if got := Run(t, ns, "cat", "/etc/resolv.conf"); got != conf {
		t.Errorf("resolv.conf inside %s: got %q, want %q", ns, got, conf)
	}
}

func TestVethAddrRoute(t *testing.T) {
	a, b := NewNS(t), NewNS(t)
	Veth(t, a, "left0", b, "right0")
	a.SetMTU(t, "left0", 9000)
	a.AddAddr(t, "left0", "198.51.100.1/24")
	b.AddAddr(t, "right0", "198.51.100.2/24")
	b.AddAddr(t, "lo", "203.0.113.7/32")
	a.AddRoute(t, "203.0.113.0/24", "198.51.100.2", "left0")
	a.AddAddr(t, "left0", "2001:db8:5::1/64")
	b.AddAddr(t, "right0", "2001:db8:5::2/64")
	if got := a.Link(t, "left0").MTU; got != 9000 {
		t.Errorf("MTU: got %d, want 9000", got)
	}
	Ping(t, a, "203.0.113.7", 1)
	// nodad: usable without waiting for duplicate address detection.
	Ping(t, a, "2001:db8:5::2", 1)
}

func TestListening(t *testing.T) {
	ns, other := NewNS(t), NewNS(t)
	var tcpFD, udpFD int
	var port int
	err := ns.Do(func() error {
		var err error
		if tcpFD, err = unix.Socket(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err != nil {
			return err
		}
		if err := unix.Bind(tcpFD, &unix.SockaddrInet6{}); err != nil {
			return err
		}
		sa, err := unix.Getsockname(tcpFD)
		if err != nil {
			return err
		}
		port = sa.(*unix.SockaddrInet6).Port
		if udpFD, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0); err != nil {
			return err
		}
		return unix.Bind(udpFD, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(tcpFD)
	defer unix.Close(udpFD)

	tests := []struct {
		name  string
		ns    *NS
		proto string
		want  bool
	}{
		{"bound, not yet listening", ns, "tcp", false},
		{"udp bound", ns, "udp", true},
		{"udp4 bound", ns, "udp4", true},
		{"udp6 not bound", ns, "udp6", false},
		{"other namespace", other, "udp", false},
	}
	for _, tc := range tests {
		if got := Listening(tc.ns, tc.proto, port); got != tc.want {
			t.Errorf("%s: Listening(%s, %s, %d): got %v, want %v", tc.name, tc.ns, tc.proto, port, got, tc.want)
		}
	}
	if err := unix.Listen(tcpFD, 1); err != nil {
		t.Fatal(err)
	}
	WaitFor(t, 5*time.Second, func() bool { return Listening(ns, "tcp6", port) }, "the listener to show")
	if Listening(ns, "tcp4", port) {
		t.Errorf("Listening(tcp4): got true for an IPv6 socket, want false")
	}
	if _, err := ListeningErr(ns, "sctp", port); err == nil {
		t.Errorf("ListeningErr(sctp): got nil error, want one")
	}
}

func TestPortInTable(t *testing.T) {
	const table = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:0050 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0
`
	tests := []struct {
		port   int
		listen bool
		want   bool
	}{
		{8080, true, true},
		{80, true, false}, // established, not listening
		{80, false, true},
		{40000, false, false}, // remote port only
	}
	for _, tc := range tests {
		got, err := portInTable([]byte(table), tc.port, tc.listen)
		if err != nil || got != tc.want {
			t.Errorf("port %d listen %v: got %v, %v; want %v, nil", tc.port, tc.listen, got, err, tc.want)
		}
	}
	if _, err := portInTable([]byte("hdr\n 0: 0100007F 0 0A\n"), 1, true); err == nil {
		t.Errorf("malformed table: got nil error, want one")
	}
}

func TestProcStartStop(t *testing.T) {
	ns := NewNS(t)
	p := Start(t, ns, "sh", "-c", "echo started; exec sleep 60")
	WaitFor(t, 10*time.Second, func() bool { return strings.Contains(p.Output(), "started") }, "the process to start")
	if err := p.Wait(10 * time.Millisecond); err != ErrTimeout {
		t.Errorf("Wait on a running process: got %v, want %v", err, ErrTimeout)
	}
	// It runs inside the namespace.
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	inside, err := os.Readlink("/proc/" + strconv.Itoa(p.PID()) + "/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	if inside == self {
		t.Errorf("process namespace: got %s (the test's own), want another", inside)
	}
	if err := p.Stop(5 * time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !p.Exited() {
		t.Errorf("Exited after Stop: got false, want true")
	}

	q := Start(t, ns, "sh", "-c", "exit 3")
	var ee interface{ ExitCode() int }
	if err := q.Wait(10 * time.Second); !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("Wait: got %v, want exit status 3", err)
	}
	if _, err := RunErr(t, ns, "false"); err == nil {
		t.Errorf("RunErr(false): got nil error, want one")
	}
}
