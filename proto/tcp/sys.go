// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tcp

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// System calls of the data path, made directly so that nothing allocates:
// x/sys wrappers build Sockaddr values and TCPInfo structs on the heap.
// Every buffer handed to the kernel is owned by the Handler and lives as
// long as it does (Go's heap does not move objects). The calls made for
// every segment never block (non-blocking sockets, MSG_DONTWAIT): they
// are raw system calls, without entering and leaving the Go scheduler's
// system call state, which costs more than a short call itself.

// sendmsg writes iov to fd without blocking and without SIGPIPE.
func sendmsg(fd int, msg *unix.Msghdr, iov []unix.Iovec) (int, unix.Errno) {
	msg.Iov = &iov[0]
	msg.SetIovlen(len(iov))
	n, _, e := unix.RawSyscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(msg)),
		unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
	if e != 0 {
		return 0, e
	}
	return int(n), 0
}

// peek copies queued data from fd into iov without removing it.
func peek(fd int, msg *unix.Msghdr, iov []unix.Iovec) (int, unix.Errno) {
	msg.Iov = &iov[0]
	msg.SetIovlen(len(iov))
	n, _, e := unix.RawSyscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(msg)),
		unix.MSG_PEEK|unix.MSG_DONTWAIT)
	if e != 0 {
		return 0, e
	}
	return int(n), 0
}

// discard removes n bytes from the head of fd's receive queue without
// copying them (MSG_TRUNC on a TCP socket).
func discard(fd int, n int) (int, unix.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), 0, uintptr(n),
		unix.MSG_TRUNC|unix.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}

// getsockopt reads an option of any size into p.
func getsockopt(fd, level, opt int, p unsafe.Pointer, size uint32) (uint32, unix.Errno) {
	l := size
	_, _, e := unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(p), uintptr(unsafe.Pointer(&l)), 0)
	return l, e
}

// setsockoptInt sets an integer option.
func setsockoptInt(fd, level, opt, v int) unix.Errno {
	val := int32(v)
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&val)), 4, 0)
	return e
}

// getsockoptInt reads an integer option.
func getsockoptInt(fd, level, opt int) (int, unix.Errno) {
	var v int32
	_, e := getsockopt(fd, level, opt, unsafe.Pointer(&v), 4)
	return int(v), e
}

// outq returns the bytes in fd's send queue: written and not yet
// acknowledged by the peer (SIOCOUTQ).
func outq(fd int) (int, unix.Errno) {
	var v int32
	_, _, e := unix.RawSyscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCOUTQ, uintptr(unsafe.Pointer(&v)))
	return int(v), e
}

// Indices of the values SO_MEMINFO returns (linux/sock_diag.h).
const (
	memRmemAlloc = iota
	memRcvbuf
	memWmemAlloc
	memSndbuf
	memFwdAlloc
	memWmemQueued
	memOptmem
	memBacklog
	memDrops
	memVars
)

// sockaddr holds a socket address in the kernel's layout.
type sockaddr struct {
	raw unix.RawSockaddrAny
	len uint32
}

// set fills s with addr and port; zone is the scope of a link-local IPv6
// address.
func (s *sockaddr) set(addr netip.Addr, port uint16, zone uint32) {
	s.raw = unix.RawSockaddrAny{}
	if addr.Is4() {
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&s.raw))
		sa.Family = unix.AF_INET
		sa.Port = htons(port)
		sa.Addr = addr.As4()
		s.len = unix.SizeofSockaddrInet4
		return
	}
	sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&s.raw))
	sa.Family = unix.AF_INET6
	sa.Port = htons(port)
	sa.Addr = addr.As16()
	if addr.IsLinkLocalUnicast() {
		sa.Scope_id = zone
	}
	s.len = unix.SizeofSockaddrInet6
}

// addrPort returns the address (IPv4-mapped IPv6 unmapped) and port in s.
func (s *sockaddr) addrPort() (netip.Addr, uint16, bool) {
	switch s.raw.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&s.raw))
		return netip.AddrFrom4(sa.Addr), ntohs(sa.Port), true
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&s.raw))
		return netip.AddrFrom16(sa.Addr).Unmap(), ntohs(sa.Port), true
	}
	return netip.Addr{}, 0, false
}

func connect(fd int, s *sockaddr) unix.Errno {
	_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&s.raw)), uintptr(s.len))
	return e
}

func bind(fd int, s *sockaddr) unix.Errno {
	_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(&s.raw)), uintptr(s.len))
	return e
}

// accept takes one connection from a listening socket, non-blocking and
// close-on-exec, and stores the peer's address in s.
func accept(fd int, s *sockaddr) (int, unix.Errno) {
	s.len = unix.SizeofSockaddrAny
	r, _, e := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(fd), uintptr(unsafe.Pointer(&s.raw)),
		uintptr(unsafe.Pointer(&s.len)), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(r), 0
}

// closeReset closes fd so that the peer sees a reset: SO_LINGER with a
// zero timeout.
func closeReset(fd int) {
	l := unix.Linger{Onoff: 1, Linger: 0}
	unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_LINGER,
		uintptr(unsafe.Pointer(&l)), unsafe.Sizeof(l), 0)
	unix.Close(fd)
}

func htons(v uint16) uint16 {
	var b [2]byte
	b[0], b[1] = byte(v>>8), byte(v)
	return *(*uint16)(unsafe.Pointer(&b))
}

func ntohs(v uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&v))
	return uint16(b[0])<<8 | uint16(b[1])
}

// iov points an iovec at b, which must not be empty.
func iov(b []byte) unix.Iovec {
	v := unix.Iovec{Base: &b[0]}
	v.SetLen(len(b))
	return v
}
