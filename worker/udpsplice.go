// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package worker

import (
	"fmt"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"passt-go/ipc"
	"passt-go/proto/engine"
	"passt-go/proto/udp"
)

// The spliced UDP path of pasta (-U): sockets the keeper bound on the
// namespace's loopback (or on a rule's address) receive datagrams from
// clients inside; each client gets a flow, a socket on the host connected
// to the host's loopback at the rule's target port (or to its target
// address), and what comes back on that socket goes to the client from
// the bound socket. Datagrams move in batches, recvmmsg(2) on one side
// and sendmmsg(2) on the other, and never become frames: nothing here
// parses guest input beyond the kernel's source addresses.
//
// Events have kind kindUDPSplice; the index is listenerBit|socket for a
// bound socket, else the flow. With -U auto, the monitor hands over bound
// sockets and takes them back at run time (worker/auto.go): a socket
// keeps its index until removed, a removed one's slot (fd -1) is used
// again, and its flows end with it.

// udpSpliceBatch is how many datagrams one system call moves.
const udpSpliceBatch = 32

// udpSpliceRounds bounds the batches read for one event, so that one busy
// socket does not hold the loop; a level-triggered descriptor with more
// to read comes back at once.
const udpSpliceRounds = 8

// maxUDPSpliceFlows bounds the flows; a datagram from a new client past
// it is dropped and counted.
const maxUDPSpliceFlows = 1024

// udpSpliceBuf sizes the socket buffers of flows, as far as the limits
// allow, so that bursts at line rate are not lost in the kernel.
const udpSpliceBuf = 4 << 20

type nsUDPSock struct {
	fd     int
	v6     bool
	port   uint16
	to     netip.Addr // zero: the loopback address of the socket's family
	toPort uint16
}

type udpSpliceKey struct {
	sock uint32
	peer netip.AddrPort
}

type udpSpliceFlow struct {
	fd   int // -1: a free slot
	key  udpSpliceKey
	name unix.RawSockaddrInet6 // the client, as a sockaddr for sendmmsg
	nlen uint32
	last time.Time
	// seen counts datagrams each way, up to 2: a flow with more than
	// one datagram in some direction is a stream, with the longer
	// timeout.
	seen [2]uint8
}

type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

type udpSpliceGlue struct {
	w     *Worker
	socks []nsUDPSock // fd -1: a free slot
	freeS []uint32
	flows []udpSpliceFlow
	byKey map[udpSpliceKey]uint32
	free  []uint32

	timeout, stream time.Duration

	bufs  [udpSpliceBatch][]byte
	iovs  [udpSpliceBatch]unix.Iovec
	names [udpSpliceBatch]unix.RawSockaddrInet6
	hdrs  [udpSpliceBatch]mmsghdr

	datagrams, bytes [2]uint64 // ns to host, host to ns
	dropped          [2]uint64 // could not be sent on
	noFlow, opened   uint64
	expired          uint64
}

func (g *udpSpliceGlue) init(w *Worker, socks []handed) error {
	g.w = w
	if len(socks) == 0 {
		return nil
	}
	table := w.cfg.Forward.UDPNs.Table
	if !w.cfg.UDP || table == nil {
		closeHanded(socks)
		return nil
	}
	for i, s := range socks {
		e := s.entry
		if int(e.Rule) >= len(table.Rules) || !table.Rules[e.Rule].Contains(e.Port) {
			closeHanded(socks[i:])
			return fmt.Errorf("-U socket for port %d: no forwarding rule has it", e.Port)
		}
		if err := g.add(e, s.fd); err != nil {
			closeHanded(socks[i+1:])
			return err
		}
	}
	return nil
}

// ready allocates what the flows need, once.
func (g *udpSpliceGlue) ready() {
	if g.byKey != nil {
		return
	}
	// The host's connection tracker timeouts, as for the tap's flows.
	g.timeout, g.stream = g.w.cfg.UDPTimeout, g.w.cfg.UDPStreamTimeout
	if g.timeout <= 0 {
		g.timeout = udp.DefaultTimeout
	}
	if g.stream <= 0 {
		g.stream = udp.DefaultStreamTimeout
	}
	g.byKey = make(map[udpSpliceKey]uint32)
	for i := range g.bufs {
		g.bufs[i] = make([]byte, 1<<16)
	}
}

// add starts reading fd, a -U socket described by e, whose rule the
// caller checked; it closes fd if it cannot.
func (g *udpSpliceGlue) add(e ipc.FDEntry, fd int) error {
	g.ready()
	r := g.w.cfg.Forward.UDPNs.Table.Rules[e.Rule]
	ns := nsUDPSock{fd: fd, v6: e.Family == ipc.IPv6, port: e.Port, to: r.To.Unmap(), toPort: r.Target(e.Port)}
	n := uint32(len(g.socks))
	if k := len(g.freeS); k > 0 {
		n = g.freeS[k-1]
	}
	if err := g.w.loop.Add(fd, engine.Ref{Kind: kindUDPSplice, Index: listenerBit | n}, unix.EPOLLIN); err != nil {
		closeFD(fd)
		return fmt.Errorf("-U socket for port %d: %w", e.Port, err)
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, udpSpliceBuf)
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, udpSpliceBuf)
	if n == uint32(len(g.socks)) {
		g.socks = append(g.socks, ns)
	} else {
		g.freeS = g.freeS[:len(g.freeS)-1]
		g.socks[n] = ns
	}
	return nil
}

// remove stops reading the -U socket fd, closes it, and ends its flows:
// their clients have nothing to send replies from.
func (g *udpSpliceGlue) remove(fd int) {
	for n := range g.socks {
		s := &g.socks[n]
		if s.fd != fd {
			continue
		}
		for i := range g.flows {
			if f := &g.flows[i]; f.fd >= 0 && f.key.sock == uint32(n) {
				g.endFlow(uint32(i))
			}
		}
		g.w.loop.Del(fd)
		closeFD(fd)
		*s = nsUDPSock{fd: -1}
		g.freeS = append(g.freeS, uint32(n))
		return
	}
}

// endFlow closes flow fi and frees its slot.
func (g *udpSpliceGlue) endFlow(fi uint32) {
	f := &g.flows[fi]
	g.w.loop.Del(f.fd)
	unix.Close(f.fd)
	delete(g.byKey, f.key)
	f.fd = -1
	g.free = append(g.free, fi)
}

func (g *udpSpliceGlue) event(ev engine.Event) {
	i := ev.Ref.Index
	if i&listenerBit != 0 {
		if n := i &^ listenerBit; int(n) < len(g.socks) && g.socks[n].fd >= 0 {
			g.fromNs(n)
		}
		return
	}
	if int(i) < len(g.flows) && g.flows[i].fd >= 0 {
		g.fromHost(i)
	}
}

// fromNs moves datagrams from clients inside the namespace to their
// flows' sockets: runs of datagrams of one flow go out in one sendmmsg.
func (g *udpSpliceGlue) fromNs(si uint32) {
	s := &g.socks[si]
	now := time.Now()
	for range udpSpliceRounds {
		n := g.recv(s.fd, true)
		if n <= 0 {
			return
		}
		for start := 0; start < n; {
			peer, ok := peerOf(&g.names[start])
			fi, found := uint32(0), false
			if ok {
				fi, found = g.flow(si, s, peer, now)
			}
			// The run of datagrams from the same client.
			end := start + 1
			for end < n && ok {
				if p, ok2 := peerOf(&g.names[end]); !ok2 || p != peer {
					break
				}
				end++
			}
			if !found {
				g.noFlow += uint64(end - start)
				start = end
				continue
			}
			f := &g.flows[fi]
			f.last = now
			f.seen[0] = min(f.seen[0]+uint8(min(end-start, 2)), 2)
			g.send(f.fd, start, end, nil, 0, 0)
			start = end
		}
		if n < udpSpliceBatch {
			return
		}
	}
}

// fromHost moves what came back on a flow's socket to its client.
func (g *udpSpliceGlue) fromHost(fi uint32) {
	f := &g.flows[fi]
	s := &g.socks[f.key.sock]
	for range udpSpliceRounds {
		n := g.recv(f.fd, false)
		if n <= 0 {
			return
		}
		f.last = time.Now()
		f.seen[1] = min(f.seen[1]+uint8(min(n, 2)), 2)
		g.send(s.fd, 0, n, &f.name, f.nlen, 1)
		if n < udpSpliceBatch {
			return
		}
	}
}

// recv reads up to a batch into the buffers; named keeps the senders'
// addresses. It returns the number of datagrams, 0 for none.
func (g *udpSpliceGlue) recv(fd int, named bool) int {
	for i := range g.hdrs {
		g.iovs[i] = unix.Iovec{Base: &g.bufs[i][0], Len: uint64(len(g.bufs[i]))}
		g.hdrs[i] = mmsghdr{hdr: unix.Msghdr{Iov: &g.iovs[i], Iovlen: 1}}
		if named {
			g.hdrs[i].hdr.Name = (*byte)(unsafe.Pointer(&g.names[i]))
			g.hdrs[i].hdr.Namelen = unix.SizeofSockaddrInet6
		}
	}
	for {
		r, _, e := syscall.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&g.hdrs[0])),
			udpSpliceBatch, unix.MSG_DONTWAIT, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0
		}
		return int(r)
	}
}

// send writes datagrams [start, end) of the last read to fd, to name if
// given, and counts them in direction dir.
func (g *udpSpliceGlue) send(fd, start, end int, name *unix.RawSockaddrInet6, nlen uint32, dir int) {
	for i := start; i < end; i++ {
		l := g.hdrs[i].len
		g.iovs[i].Len = uint64(l)
		g.bytes[dir] += uint64(l)
		g.hdrs[i].hdr = unix.Msghdr{Iov: &g.iovs[i], Iovlen: 1}
		if name != nil {
			g.hdrs[i].hdr.Name = (*byte)(unsafe.Pointer(name))
			g.hdrs[i].hdr.Namelen = nlen
		}
	}
	for start < end {
		r, _, e := syscall.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&g.hdrs[start])),
			uintptr(end-start), unix.MSG_DONTWAIT, 0, 0)
		switch {
		case e == unix.EINTR:
			continue
		case e != 0:
			// Full, or refused (nothing listens at the target): the
			// datagram at start is lost, as on a network; go on
			// with the rest.
			g.dropped[dir]++
			g.bytes[dir] -= uint64(g.hdrs[start].len)
			start++
			continue
		}
		g.datagrams[dir] += uint64(r)
		start += int(r)
	}
}

// peerOf reads a sender's address.
func peerOf(sa *unix.RawSockaddrInet6) (netip.AddrPort, bool) {
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), ntohs(sa4.Port)), true
	case unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), ntohs(sa.Port)), true
	}
	return netip.AddrPort{}, false
}

func ntohs(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// flow finds the flow of a client of socket si, or opens one: a socket
// connected to the socket's target on the host.
func (g *udpSpliceGlue) flow(si uint32, s *nsUDPSock, peer netip.AddrPort, now time.Time) (uint32, bool) {
	k := udpSpliceKey{sock: si, peer: peer}
	if fi, ok := g.byKey[k]; ok {
		return fi, true
	}
	if len(g.byKey) >= maxUDPSpliceFlows {
		return 0, false
	}
	to := s.to
	if !to.IsValid() {
		to = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		if s.v6 {
			to = netip.IPv6Loopback()
		}
	}
	domain := unix.AF_INET6
	var sa unix.Sockaddr = &unix.SockaddrInet6{Port: int(s.toPort), Addr: to.As16()}
	if to.Is4() {
		domain = unix.AF_INET
		sa = &unix.SockaddrInet4{Port: int(s.toPort), Addr: to.As4()}
	}
	fd, err := unix.Socket(domain, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, false
	}
	if err := unix.Connect(fd, sa); err != nil {
		unix.Close(fd)
		return 0, false
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, udpSpliceBuf)
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, udpSpliceBuf)
	var fi uint32
	if n := len(g.free); n > 0 {
		fi, g.free = g.free[n-1], g.free[:n-1]
	} else {
		fi = uint32(len(g.flows))
		g.flows = append(g.flows, udpSpliceFlow{})
	}
	if err := g.w.loop.Add(fd, engine.Ref{Kind: kindUDPSplice, Index: fi}, unix.EPOLLIN); err != nil {
		unix.Close(fd)
		g.flows[fi].fd = -1
		g.free = append(g.free, fi)
		return 0, false
	}
	f := &g.flows[fi]
	*f = udpSpliceFlow{fd: fd, key: k, last: now}
	f.name, f.nlen = rawName(peer)
	g.byKey[k] = fi
	g.opened++
	return fi, true
}

// rawName is the sockaddr of a client, in its own family.
func rawName(p netip.AddrPort) (unix.RawSockaddrInet6, uint32) {
	var sa unix.RawSockaddrInet6
	port := p.Port()
	be := [2]byte{byte(port >> 8), byte(port)}
	if p.Addr().Is4() {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(&sa))
		sa4.Family = unix.AF_INET
		sa4.Port = *(*uint16)(unsafe.Pointer(&be[0]))
		sa4.Addr = p.Addr().As4()
		return sa, unix.SizeofSockaddrInet4
	}
	sa.Family = unix.AF_INET6
	sa.Port = *(*uint16)(unsafe.Pointer(&be[0]))
	sa.Addr = p.Addr().As16()
	return sa, unix.SizeofSockaddrInet6
}

// periodic ends the flows that have been idle for their timeout.
func (g *udpSpliceGlue) periodic(now time.Time) {
	for i := range g.flows {
		f := &g.flows[i]
		if f.fd < 0 {
			continue
		}
		limit := g.timeout
		if f.seen[0] > 1 || f.seen[1] > 1 {
			limit = g.stream
		}
		if now.Sub(f.last) < limit {
			continue
		}
		g.endFlow(uint32(i))
		g.expired++
	}
}

func (g *udpSpliceGlue) counters(add func(string, uint64)) {
	add("udp_splice_flows_opened", g.opened)
	add("udp_splice_flows_expired", g.expired)
	add("udp_splice_no_flow", g.noFlow)
	add("udp_splice_datagrams_ns_to_host", g.datagrams[0])
	add("udp_splice_datagrams_host_to_ns", g.datagrams[1])
	add("udp_splice_bytes_ns_to_host", g.bytes[0])
	add("udp_splice_bytes_host_to_ns", g.bytes[1])
	add("udp_splice_dropped_ns_to_host", g.dropped[0])
	add("udp_splice_dropped_host_to_ns", g.dropped[1])
}
