// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package udp

import (
	"encoding/binary"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is struct mmsghdr of recvmmsg(2) and sendmmsg(2): a message
// header and the length the kernel transferred. Go pads the struct to the
// alignment of its largest field, as C does, so the array stride matches
// the kernel's on every architecture.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// The calls of the data path never block (MSG_DONTWAIT): they are made as
// raw system calls, without entering and leaving the Go scheduler's system
// call state, which costs more than a short call itself.

// recvmmsg reads up to len(msgs) datagrams without blocking. x/sys has no
// wrapper; the raw call allocates nothing.
func recvmmsg(fd int, msgs []mmsghdr, flags int) (int, unix.Errno) {
	n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])),
		uintptr(len(msgs)), uintptr(flags|unix.MSG_DONTWAIT), 0, 0)
	return int(n), e
}

// sendmmsg sends the datagrams of msgs without blocking and returns how
// many the kernel took.
func sendmmsg(fd int, msgs []mmsghdr) (int, unix.Errno) {
	n, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])),
		uintptr(len(msgs)), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, 0, 0)
	return int(n), e
}

// recvmsg is recvmsg(2) on a prepared header.
func recvmsg(fd int, msg *unix.Msghdr, flags int) (int, unix.Errno) {
	n, _, e := unix.RawSyscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(msg)), uintptr(flags|unix.MSG_DONTWAIT))
	return int(n), e
}

// htons and ntohs convert a port between its value and the kernel's
// in-memory form (network order).
func htons(p uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], p)
	return *(*uint16)(unsafe.Pointer(&b[0]))
}

func ntohs(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return binary.BigEndian.Uint16(b[:])
}

// sockaddr is room for a struct sockaddr_in or sockaddr_in6, whichever
// the kernel writes or reads. Both start with the family.
type sockaddr struct {
	raw unix.RawSockaddrInet6
}

// len returns the length of the address for the kernel.
func (s *sockaddr) len() uint32 {
	if s.raw.Family == unix.AF_INET {
		return unix.SizeofSockaddrInet4
	}
	return unix.SizeofSockaddrInet6
}

// set stores addr and port. With v6 an IPv4 address is written in its
// IPv4-mapped form, for a dual-stack socket; zone is the IPv6 scope.
func (s *sockaddr) set(addr netip.Addr, port uint16, v6 bool, zone uint32) {
	if addr.Is4() && !v6 {
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&s.raw))
		*sa = unix.RawSockaddrInet4{Family: unix.AF_INET, Port: htons(port), Addr: addr.As4()}
		return
	}
	s.raw = unix.RawSockaddrInet6{Family: unix.AF_INET6, Port: htons(port), Addr: addr.As16(), Scope_id: zone}
}

// get returns the address (IPv4-mapped IPv6 turned into IPv4, no zone)
// and port, or false for another family.
func (s *sockaddr) get() (netip.Addr, uint16, bool) {
	switch s.raw.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&s.raw))
		return netip.AddrFrom4(sa.Addr), ntohs(sa.Port), true
	case unix.AF_INET6:
		return netip.AddrFrom16(s.raw.Addr).Unmap(), ntohs(s.raw.Port), true
	}
	return netip.Addr{}, 0, false
}

// is reports whether s holds addr and port, without building an Addr.
func (s *sockaddr) is(addr netip.Addr, port uint16) bool {
	switch s.raw.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&s.raw))
		return addr.Is4() && sa.Port == htons(port) && sa.Addr == addr.As4()
	case unix.AF_INET6:
		return s.raw.Port == htons(port) && netip.AddrFrom16(s.raw.Addr).Unmap() == addr
	}
	return false
}

// Socket-level syscalls through the scratch address, so that nothing is
// boxed into a unix.Sockaddr.

func bindRaw(fd int, s *sockaddr) unix.Errno {
	_, _, e := unix.RawSyscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(&s.raw)), uintptr(s.len()))
	return e
}

func connectRaw(fd int, s *sockaddr) unix.Errno {
	_, _, e := unix.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&s.raw)), uintptr(s.len()))
	return e
}

// setInt is setsockopt(2) with an int value.
func setInt(fd, level, opt, v int) unix.Errno {
	val := int32(v)
	_, _, e := unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&val)), 4, 0)
	return e
}

// getInt is getsockopt(2) with an int value.
func getInt(fd, level, opt int) (int, unix.Errno) {
	var val int32
	l := uint32(4)
	_, _, e := unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&val)), uintptr(unsafe.Pointer(&l)), 0)
	return int(val), e
}

// Control messages. cmsgAlign rounds a length to the kernel's alignment
// of control data (that of a long).
const cmsgAlignTo = unix.SizeofPtr

func cmsgAlign(n int) int { return (n + cmsgAlignTo - 1) &^ (cmsgAlignTo - 1) }

// cmsgHeader is the aligned length of struct cmsghdr.
var cmsgHeader = cmsgAlign(unix.SizeofCmsghdr)

// nextCmsg returns the first control message in b (level, type and data)
// and what follows it; ok is false when b holds no complete message. It
// reads lengths the kernel wrote, but checks them as untrusted.
func nextCmsg(b []byte) (level, typ int32, data, rest []byte, ok bool) {
	if len(b) < unix.SizeofCmsghdr {
		return 0, 0, nil, nil, false
	}
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	l := int(h.Len)
	if l < unix.SizeofCmsghdr || l > len(b) {
		return 0, 0, nil, nil, false
	}
	data = b[cmsgHeader:l]
	next := cmsgAlign(l)
	if next > len(b) {
		next = len(b)
	}
	return h.Level, h.Type, data, b[next:], true
}

// Lengths of the control data the handler reads.
const (
	sizeofInPktinfo    = 12 // struct in_pktinfo
	sizeofIn6Pktinfo   = 20 // struct in6_pktinfo
	sizeofExtendedErr  = 16 // struct sock_extended_err
	pktinfoControlRoom = 64 // one IP_PKTINFO or IPV6_PKTINFO, with room to spare
	errControlRoom     = 256
)

// pktinfoDst returns the destination address of a received datagram from
// its control messages (IP_PKTINFO or IPV6_PKTINFO), IPv4-mapped addresses
// turned into IPv4.
func pktinfoDst(control []byte) (netip.Addr, bool) {
	for {
		level, typ, data, rest, ok := nextCmsg(control)
		if !ok {
			return netip.Addr{}, false
		}
		switch {
		case level == unix.SOL_IP && typ == unix.IP_PKTINFO && len(data) >= sizeofInPktinfo:
			return netip.AddrFrom4([4]byte(data[8:12])), true
		case level == unix.SOL_IPV6 && typ == unix.IPV6_PKTINFO && len(data) >= sizeofIn6Pktinfo:
			return netip.AddrFrom16([16]byte(data[0:16])).Unmap(), true
		}
		control = rest
	}
}

// Origins of an extended socket error (linux/errqueue.h).
const (
	eeOriginICMP  = 2
	eeOriginICMP6 = 3
)

// extendedErr is what an IP_RECVERR or IPV6_RECVERR control message says.
type extendedErr struct {
	errno    uint32
	origin   uint8
	typ      uint8
	code     uint8
	info     uint32
	offender netip.Addr // invalid when the kernel gave none
}

// parseExtendedErr finds the extended error in the control messages read
// from an error queue.
func parseExtendedErr(control []byte) (extendedErr, bool) {
	for {
		level, typ, data, rest, ok := nextCmsg(control)
		if !ok {
			return extendedErr{}, false
		}
		if ((level == unix.SOL_IP && typ == unix.IP_RECVERR) || (level == unix.SOL_IPV6 && typ == unix.IPV6_RECVERR)) &&
			len(data) >= sizeofExtendedErr {
			ee := extendedErr{
				errno:  binary.NativeEndian.Uint32(data[0:4]),
				origin: data[4],
				typ:    data[5],
				code:   data[6],
				info:   binary.NativeEndian.Uint32(data[8:12]),
			}
			// SO_EE_OFFENDER: the sockaddr right after the structure.
			off := data[sizeofExtendedErr:]
			if len(off) >= 2 {
				switch binary.NativeEndian.Uint16(off[0:2]) {
				case unix.AF_INET:
					if len(off) >= 8 {
						ee.offender = netip.AddrFrom4([4]byte(off[4:8]))
					}
				case unix.AF_INET6:
					if len(off) >= 24 {
						ee.offender = netip.AddrFrom16([16]byte(off[8:24])).Unmap()
					}
				}
			}
			return ee, true
		}
		control = rest
	}
}
