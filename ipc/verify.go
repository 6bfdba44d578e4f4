// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// VerifyFD: the receiver's check that a descriptor is what its entry says.

package ipc

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// The tun character device, /dev/net/tun.
const (
	tunMajor = 10
	tunMinor = 200
)

// VerifyFD checks that fd is what entry e says, before the worker relies on
// it: the socket domain, type, protocol and listening state of a socket
// (and its family and port when e gives them), the tun device behind a
// Tap, a regular file open for writing for Log and Pcap, a procfs file for
// ProcNet, an nsfs file for NSHandle. It uses only fstat, fstatfs, fcntl,
// getsockopt and getsockname.
func VerifyFD(fd int, e FDEntry) error {
	var err error
	switch e.Role {
	case FDQemuListener:
		err = checkSocket(fd, unix.AF_UNIX, unix.SOCK_STREAM, 0, true)
	case FDQemuConn:
		err = checkSocket(fd, unix.AF_UNIX, unix.SOCK_STREAM, 0, false)
	case FDTCPListener:
		err = checkInet(fd, e, unix.SOCK_STREAM, unix.IPPROTO_TCP, true)
	case FDUDPListener:
		err = checkInet(fd, e, unix.SOCK_DGRAM, unix.IPPROTO_UDP, false)
	case FDTap:
		var st unix.Stat_t
		if err = fstat(fd, &st); err == nil && (st.Mode&unix.S_IFMT != unix.S_IFCHR ||
			unix.Major(st.Rdev) != tunMajor || unix.Minor(st.Rdev) != tunMinor) {
			err = fmt.Errorf("not the tun device")
		}
	case FDLog, FDPcap:
		var st unix.Stat_t
		if err = fstat(fd, &st); err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG {
			err = fmt.Errorf("not a regular file")
		}
		if err == nil {
			err = checkAccess(fd, unix.O_WRONLY)
		}
	case FDProcNet:
		if err = checkFS(fd, unix.PROC_SUPER_MAGIC, "procfs"); err == nil {
			err = checkAccess(fd, unix.O_RDONLY)
		}
	case FDNSHandle:
		err = checkFS(fd, unix.NSFS_MAGIC, "nsfs")
	default:
		err = fmt.Errorf("unknown role")
	}
	if err != nil {
		return fmt.Errorf("ipc: descriptor %d for %v: %w", fd, e.Role, err)
	}
	return nil
}

func fstat(fd int, st *unix.Stat_t) error {
	for {
		err := unix.Fstat(fd, st)
		if err != unix.EINTR {
			return err
		}
	}
}

// checkAccess checks that fd is open for reading (want O_RDONLY) or for
// writing (want O_WRONLY); O_RDWR passes both.
func checkAccess(fd, want int) error {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	if acc := fl & unix.O_ACCMODE; acc != want && acc != unix.O_RDWR {
		return fmt.Errorf("open with access mode %#o", acc)
	}
	return nil
}

func checkFS(fd int, magic int64, name string) error {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return err
	}
	if int64(st.Type) != magic {
		return fmt.Errorf("not on %s", name)
	}
	return nil
}

// checkSocket checks domain, type, protocol (unless 0) and whether the
// socket is listening.
func checkSocket(fd, domain, typ, proto int, listening bool) error {
	for _, o := range [...]struct {
		opt  int
		want int
		name string
	}{
		{unix.SO_DOMAIN, domain, "domain"},
		{unix.SO_TYPE, typ, "type"},
		{unix.SO_PROTOCOL, proto, "protocol"},
		{unix.SO_ACCEPTCONN, boolInt(listening), "listening state"},
	} {
		if o.opt == unix.SO_PROTOCOL && proto == 0 {
			continue
		}
		v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, o.opt)
		if err != nil {
			return err
		}
		if v != o.want {
			return fmt.Errorf("socket %s is %d, want %d", o.name, v, o.want)
		}
	}
	return nil
}

func checkInet(fd int, e FDEntry, typ, proto int, listening bool) error {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN)
	if err != nil {
		return err
	}
	if v != unix.AF_INET && v != unix.AF_INET6 {
		return fmt.Errorf("socket domain %d is not an IP family", v)
	}
	if e.Family != 0 && v != e.Family.AF() {
		return fmt.Errorf("socket domain %d, entry says %v", v, e.Family)
	}
	if err := checkSocket(fd, v, typ, proto, listening); err != nil {
		return err
	}
	if e.Port == 0 {
		return nil
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return err
	}
	var port int
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		port = a.Port
	case *unix.SockaddrInet6:
		port = a.Port
	}
	if port != int(e.Port) {
		return fmt.Errorf("bound to port %d, entry says %d", port, e.Port)
	}
	return nil
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}
