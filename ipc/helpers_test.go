// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Test helpers: descriptor accounting, real descriptors to pass, raw
// datagrams, and the child process used by TestChildOverWorkerFD.

package ipc

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"passt-go/internal/testnet"
)

const childEnv = "PASST_GO_IPC_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := runChild(); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	// Start the runtime's netpoller now (os.Pipe registers with it), so
	// that its descriptors are not counted as leaks by the first test.
	r, w, err := os.Pipe()
	if err == nil {
		r.Close()
		w.Close()
	}
	os.Exit(m.Run())
}

// runChild plays the worker: Hello back with its PID, then reads the one
// descriptor of an FDs message and reports its content as a Log line, then
// waits for Shutdown.
func runChild() error {
	c := NewConn(WorkerFD)
	c.SetPeer(RoleMonitor)
	defer c.Close()
	m, err := c.Recv()
	if err != nil {
		return err
	}
	if _, ok := m.Body.(Hello); !ok {
		return fmt.Errorf("first message is %v", m.Kind())
	}
	if err := c.Send(Message{Body: Hello{Version: Version, Role: RoleWorker, PID: uint32(os.Getpid())}}); err != nil {
		return err
	}
	m, err = c.Recv()
	if err != nil {
		return err
	}
	if _, ok := m.Body.(FDs); !ok || len(m.FDs) != 1 {
		return fmt.Errorf("second message is %v with %d descriptors", m.Kind(), len(m.FDs))
	}
	buf := make([]byte, 64)
	n, err := unix.Pread(m.FDs[0], buf, 0)
	unix.Close(m.FDs[0])
	if err != nil {
		return err
	}
	if err := c.Send(Message{Body: Log{Level: LevelInfo, Text: string(buf[:n])}}); err != nil {
		return err
	}
	m, err = c.Recv()
	if err != nil {
		return err
	}
	if _, ok := m.Body.(Shutdown); !ok {
		return fmt.Errorf("third message is %v", m.Kind())
	}
	return nil
}

// checkLeaks fails the test if it ends with more or fewer descriptors open
// than it started with. Call it first, so that its cleanup runs last.
func checkLeaks(t testing.TB) {
	t.Helper()
	before := testnet.CountFDs(t)
	t.Cleanup(func() {
		if after := testnet.CountFDs(t); after != before {
			t.Errorf("open descriptors: got %d after the test, want %d as before", after, before)
		}
	})
}

// memFD returns a new memfd holding content, closed at cleanup.
func memFD(t testing.TB, content string) int {
	t.Helper()
	fd, err := unix.MemfdCreate("ipc-test", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatalf("memfd_create: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if _, err := unix.Write(fd, []byte(content)); err != nil {
		t.Fatalf("write memfd: %v", err)
	}
	return fd
}

// memFDs returns n new memfds, closed at cleanup.
func memFDs(t testing.TB, n int) []int {
	t.Helper()
	fds := make([]int, n)
	for i := range fds {
		fds[i] = memFD(t, fmt.Sprint(i))
	}
	return fds
}

// sameFile reports whether two descriptors refer to the same open file.
func sameFile(t testing.TB, a, b int) bool {
	t.Helper()
	var sa, sb unix.Stat_t
	if err := unix.Fstat(a, &sa); err != nil {
		t.Fatalf("fstat %d: %v", a, err)
	}
	if err := unix.Fstat(b, &sb); err != nil {
		t.Fatalf("fstat %d: %v", b, err)
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// isOpen reports whether fd is an open descriptor of this process.
func isOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return !errors.Is(err, unix.EBADF)
}

// nextFDs returns the n descriptor numbers the kernel will hand out next.
func nextFDs(t testing.TB, n int) []int {
	t.Helper()
	fds := make([]int, n)
	for i := range fds {
		fd, err := unix.Dup(0)
		if err != nil {
			t.Fatalf("dup: %v", err)
		}
		fds[i] = fd
	}
	for _, fd := range fds {
		unix.Close(fd)
	}
	return fds
}

// rawPair returns a raw socket (for hand-made datagrams) connected to a Conn
// that accepts messages from a peer in role peer, and a function that
// closes the raw socket once; both are closed at cleanup.
func rawPair(t testing.TB, peer Role) (int, *Conn, func()) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	c := NewConn(fds[1])
	c.SetPeer(peer)
	closeRaw := sync.OnceFunc(func() { unix.Close(fds[0]) })
	t.Cleanup(func() {
		closeRaw()
		c.Close()
	})
	return fds[0], c, closeRaw
}

// sendRaw sends datagram d with descriptors fds on raw socket fd.
func sendRaw(t testing.TB, fd int, d []byte, fds []int) {
	t.Helper()
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(fd, d, oob, nil, 0); err != nil {
		t.Fatalf("sendmsg: %v", err)
	}
}

// datagram builds a datagram with the given header fields and payload; the
// length field is len(payload).
func datagram(version uint16, kind Kind, id uint32, code ErrCode, flags, nfds uint8, payload []byte) []byte {
	d := make([]byte, HeaderLen, HeaderLen+len(payload))
	putHeader(d, header{version: version, kind: kind, id: id, code: code, flags: flags, nfds: nfds, length: uint32(len(payload))})
	return append(d, payload...)
}

// encode encodes m or fails the test.
func encode(t testing.TB, m Message) []byte {
	t.Helper()
	b, err := m.AppendBinary(nil)
	if err != nil {
		t.Fatalf("encode %v: %v", m.Kind(), err)
	}
	return b
}
