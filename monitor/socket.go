// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package monitor

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// SocketProbeMax is the highest N tried for /tmp/passt_N.socket.
const SocketProbeMax = 99

// DefaultSocketPath gives the path probed as number n.
func DefaultSocketPath(n int) string { return fmt.Sprintf("/tmp/passt_%d.socket", n) }

// ListenUnix opens the listening socket qemu connects to. With an explicit
// path, a socket that answers is an error; a stale file is replaced. With
// no path, the first /tmp/passt_N.socket that nothing answers on is taken.
// The socket is non-blocking and close-on-exec; backlog 0, as only one
// qemu connection is served at a time.
func ListenUnix(path string) (fd int, bound string, err error) {
	if path != "" {
		fd, err = listenAt(path)
		if err != nil {
			return -1, "", err
		}
		return fd, path, nil
	}
	for n := 1; n <= SocketProbeMax; n++ {
		p := DefaultSocketPath(n)
		fd, err = listenAt(p)
		if err == nil {
			return fd, p, nil
		}
		if !errors.Is(err, errInUse) && !errors.Is(err, unix.EACCES) && !errors.Is(err, unix.EPERM) {
			return -1, "", err
		}
	}
	return -1, "", fmt.Errorf("no free socket path: /tmp/passt_1.socket to %s are all in use (use -s PATH)", DefaultSocketPath(SocketProbeMax))
}

var errInUse = errors.New("in use")

// listenAt binds path, replacing a stale socket file whose listener is gone.
func listenAt(path string) (int, error) {
	sa := &unix.SockaddrUnix{Name: path}
	if len(path) >= len(unix.RawSockaddrUnix{}.Path) {
		return -1, fmt.Errorf("socket path %s: too long", path)
	}
	probe, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	err = unix.Connect(probe, sa)
	unix.Close(probe)
	switch {
	case err == nil:
		return -1, fmt.Errorf("socket path %s: %w: another passt is listening there", path, errInUse)
	case errors.Is(err, unix.ECONNREFUSED):
		if rerr := os.Remove(path); rerr != nil && !os.IsNotExist(rerr) {
			return -1, fmt.Errorf("remove stale socket %s: %w", path, rerr)
		}
	case errors.Is(err, unix.ENOENT):
	default:
		return -1, fmt.Errorf("socket path %s: %w", path, err)
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.EADDRINUSE) {
			return -1, fmt.Errorf("socket path %s: %w", path, errInUse)
		}
		return -1, fmt.Errorf("bind %s: %w", path, err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("listen on %s: %w", path, err)
	}
	return fd, nil
}
