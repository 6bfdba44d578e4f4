// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package qrap

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func fakePath(have ...string) func(string) (string, error) {
	return func(name string) (string, error) {
		for _, h := range have {
			if h == name {
				return "/usr/bin/" + filepath.Base(name), nil
			}
		}
		return "", errors.New("not found")
	}
}

func TestMakePlan(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		have    []string
		want    Plan
		wantErr string // in the error; "" for none
	}{
		{
			name: "explicit form",
			args: []string{"7", "qemu-system-x86_64", "-netdev", "socket,fd=7,id=n"},
			have: []string{"qemu-system-x86_64"},
			want: Plan{FD: 7, Path: "/usr/bin/qemu-system-x86_64", Args: []string{"qemu-system-x86_64", "-netdev", "socket,fd=7,id=n"}},
		},
		{
			name: "descriptor below 3 is not the explicit form",
			args: []string{"2", "qemu-system-x86_64"},
			have: []string{"qemu-system-x86_64"},
			want: Plan{FD: 5, Path: "/usr/bin/qemu-system-x86_64", Args: []string{"qemu-system-x86_64", "2", "qemu-system-x86_64",
				"-device", "virtio-net-pci,netdev=hostnet0,x-txburst=4096", "-netdev", "socket,fd=5,id=hostnet0"}},
		},
		{
			name: "patching form prefers kvm",
			args: []string{"-m", "512", "-netdev", "user,id=u", "-device", "virtio-net-pci,netdev=u", "-device", "virtio-blk-pci,drive=d"},
			have: []string{"kvm", "qemu-system-x86_64"},
			want: Plan{FD: 5, Path: "/usr/bin/kvm", Args: []string{"kvm", "-m", "512", "-device", "virtio-blk-pci,drive=d",
				"-device", "virtio-net-pci,netdev=hostnet0,x-txburst=4096", "-netdev", "socket,fd=5,id=hostnet0"}},
		},
		{
			name: "s390 gets the ccw model, old -net options go",
			args: []string{"-M", "s390-ccw-virtio", "-net", "nic,model=virtio", "-net", "user"},
			have: []string{"qemu-kvm"},
			want: Plan{FD: 5, Path: "/usr/bin/qemu-kvm", Args: []string{"qemu-kvm", "-M", "s390-ccw-virtio",
				"-device", "virtio-net-ccw,netdev=hostnet0,x-txburst=4096", "-netdev", "socket,fd=5,id=hostnet0"}},
		},
		{
			name: "JSON device form is a NIC too",
			args: []string{"-device", `{"driver":"e1000","netdev":"x"}`},
			have: []string{"kvm"},
			want: Plan{FD: 5, Path: "/usr/bin/kvm", Args: []string{"kvm",
				"-device", "virtio-net-pci,netdev=hostnet0,x-txburst=4096", "-netdev", "socket,fd=5,id=hostnet0"}},
		},
		{name: "no qemu at all", args: []string{"-m", "1G"}, wantErr: "no qemu found in PATH"},
		{
			// Not the patching form with "5" and "qemu-system-x86-64" as
			// qemu's arguments, although kvm is there.
			name:    "explicit form, QEMU_CMD not found",
			args:    []string{"5", "qemu-system-x86-64", "-m", "1G"},
			have:    []string{"kvm"},
			wantErr: `QEMU_CMD "qemu-system-x86-64" not found`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MakePlan(tc.args, fakePath(tc.have...))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("got %+v, error %v, want one line with %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// A qemu that cannot be executed is reported in one line that names it
// and the reason, and the connection is not left open.
func TestExecFails(t *testing.T) {
	dir := t.TempDir()
	notProgram := filepath.Join(dir, "qemu-system-x86_64")
	// Executable, but no format the kernel knows: execve fails with
	// ENOEXEC, and this test process goes on.
	if err := os.WriteFile(notProgram, []byte("not a program\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want string
	}{
		{"not a program", notProgram, "cannot start " + notProgram + ": exec format error"},
		{"gone since the plan", filepath.Join(dir, "gone"), "cannot start " + filepath.Join(dir, "gone") + ": no such file or directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fds[1])
			// The connection is already on its descriptor: no other
			// descriptor of the test process is touched.
			plan := Plan{FD: fds[0], Path: tc.path, Args: []string{"qemu-system-x86_64", "-m", "1G"}}
			err = Exec(plan, fds[0], nil)
			if err == nil || err.Error() != tc.want {
				t.Errorf("got %v, want %q", err, tc.want)
			}
			// The other end sees the connection closed.
			var b [1]byte
			unix.SetsockoptTimeval(fds[1], unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 5})
			if n, err := unix.Read(fds[1], b[:]); n != 0 || err != nil {
				t.Errorf("peer read: got %d, %v, want end of file", n, err)
			}
		})
	}
}

func TestProbeFramesAreFramed(t *testing.T) {
	b := probeFrames()
	var lens []int
	for len(b) > 0 {
		if len(b) < 4 {
			t.Fatalf("got %d stray bytes, want whole frames", len(b))
		}
		n := int(binary.BigEndian.Uint32(b))
		if n < 14 || 4+n > len(b) {
			t.Fatalf("got frame length %d with %d bytes left", n, len(b)-4)
		}
		lens = append(lens, n)
		b = b[4+n:]
	}
	if !reflect.DeepEqual(lens, []int{42, 78}) {
		t.Errorf("got frame lengths %v, want [42 78]", lens)
	}
}

// A listener that answers the probe is found; paths with nothing behind
// them are skipped; with no listener at all the error says so.
func TestConnect(t *testing.T) {
	dir := t.TempDir()
	dead := filepath.Join(dir, "dead.socket")
	live := filepath.Join(dir, "live.socket")
	lfd := listenUnix(t, live)
	done := make(chan []byte, 1)
	go func() {
		c, _, err := unix.Accept(lfd)
		if err != nil {
			done <- nil
			return
		}
		defer unix.Close(c)
		buf := make([]byte, 256)
		n, _ := unix.Read(c, buf)
		unix.Write(c, []byte{0, 0, 0, 42})
		done <- buf[:n]
		unix.Read(c, buf) // hold the connection until the client closes
	}()
	fd, path, err := Connect([]string{dead, live})
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	if path != live {
		t.Errorf("got %s, want %s", path, live)
	}
	if got := <-done; len(got) != 4+42+4+78 {
		t.Errorf("server got %d probe bytes, want %d", len(got), 4+42+4+78)
	}
	_, _, err = Connect([]string{dead})
	if err == nil {
		t.Fatal("got no error with nothing listening")
	}
	if _, statErr := os.Stat(dead); !os.IsNotExist(statErr) {
		t.Errorf("probe created %s", dead)
	}

	// A passt busy with another client closes a new connection at once;
	// qrap tries the same socket again, and is served once passt is free.
	busy := filepath.Join(dir, "busy.socket")
	bfd := listenUnix(t, busy)
	accepted := make(chan int, 1)
	go func() {
		n := 0
		defer func() { accepted <- n }()
		c, _, err := unix.Accept(bfd)
		if err != nil {
			return
		}
		n++
		unix.Close(c)
		if c, _, err = unix.Accept(bfd); err != nil {
			return
		}
		n++
		defer unix.Close(c)
		buf := make([]byte, 256)
		unix.Read(c, buf)
		unix.Write(c, []byte{0, 0, 0, 42})
		unix.Read(c, buf)
	}()
	fd, path, err = Connect([]string{busy, live})
	if err != nil {
		t.Fatalf("after a reset: %v", err)
	}
	unix.Close(fd)
	if path != busy {
		t.Errorf("after a reset: got %s, want %s again", path, busy)
	}
	if n := <-accepted; n != 2 {
		t.Errorf("busy socket: got %d connections, want 2", n)
	}
}

// listenUnix returns a stream socket listening at path, closed when the
// test ends.
func listenUnix(t *testing.T, path string) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	unix.Listen(fd, 1)
	return fd
}
