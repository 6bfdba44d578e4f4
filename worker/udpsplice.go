// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package worker

import (
	"bytes"
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
// The other way, -u datagrams from a client on the host's loopback,
// which the UDP handler offers here (Config.Splice) for rules without a
// target address, get a flow whose socket is inside the namespace,
// connected to the namespace's own address of their family (its loopback
// with --host-lo-to-ns-lo) at the target port; answers go back to the
// client from the -u listener. The worker cannot make that socket: it
// asks the broker, as for -t (worker/splice.go), and the flow keeps the
// first datagrams until the answer.
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

// udpSpliceKey names a flow: the -U socket's index and the client, or
// inboundBit|the -u listener's descriptor and the client.
type udpSpliceKey struct {
	sock uint32
	peer netip.AddrPort
}

const inboundBit = 1 << 31

// fdWaiting marks the flow of a -u client waiting for its socket.
const fdWaiting = -2

// maxWaiting bounds the datagrams a waiting flow keeps.
const maxWaiting = 16

// udpSpliceIDBase starts the IDs of the broker requests of -u flows,
// after those of worker/splice.go.
const udpSpliceIDBase = 2 * spliceIDBase

type udpSpliceFlow struct {
	fd    int // -1: a free slot; fdWaiting: asked the broker for it
	reply int // the socket answers go out of, to name
	in    bool
	key   udpSpliceKey
	name  unix.RawSockaddrInet6 // the client, as a sockaddr for sendmmsg
	nlen  uint32
	last  time.Time
	queue [][]byte // datagrams of a waiting flow
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
	socks engine.Slots[nsUDPSock] // fd -1: a free slot
	flows []udpSpliceFlow
	byKey map[udpSpliceKey]uint32
	free  []uint32

	timeout, stream time.Duration

	bufs  [udpSpliceBatch][]byte
	iovs  [udpSpliceBatch]unix.Iovec
	names [udpSpliceBatch]unix.RawSockaddrInet6
	hdrs  [udpSpliceBatch]mmsghdr

	waiting map[uint32]uint32 // broker request ID: flow
	nextID  uint32

	datagrams, bytes [2]uint64 // ns to host, host to ns
	dropped          [2]uint64 // could not be sent on
	noFlow, opened   uint64
	expired          uint64
	noSocket         uint64 // -u flows the broker gave no socket
}

func (g *udpSpliceGlue) init(w *Worker, socks []handed) error {
	g.w = w
	return addNsSockets(socks, w.cfg.UDP, w.cfg.Forward.UDPNs.Table, "-U socket", g.add)
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
	g.waiting = make(map[uint32]uint32)
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
	n := g.socks.Next()
	if err := g.w.loop.Add(fd, engine.Ref{Kind: kindUDPSplice, Index: listenerBit | n}, unix.EPOLLIN); err != nil {
		closeFD(fd)
		return fmt.Errorf("-U socket for port %d: %w", e.Port, err)
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, udpSpliceBuf)
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, udpSpliceBuf)
	g.socks.Put(n, ns)
	return nil
}

// remove stops reading the -U socket fd, closes it, and ends its flows:
// their clients have nothing to send replies from.
func (g *udpSpliceGlue) remove(fd int) {
	for n := range g.socks.At {
		if g.socks.At[n].fd != fd {
			continue
		}
		for i := range g.flows {
			if f := &g.flows[i]; f.fd >= 0 && f.key.sock == uint32(n) {
				g.endFlow(uint32(i))
			}
		}
		g.w.loop.Del(fd)
		closeFD(fd)
		g.socks.Release(uint32(n), nsUDPSock{fd: -1})
		return
	}
}

// endFlow closes flow fi and frees its slot. A waiting flow's request
// stays in g.waiting; its answer finds the slot free, or taken by a flow
// that waits for nothing, and is dropped.
func (g *udpSpliceGlue) endFlow(fi uint32) {
	f := &g.flows[fi]
	if f.fd >= 0 {
		g.w.loop.Del(f.fd)
		unix.Close(f.fd)
	}
	delete(g.byKey, f.key)
	*f = udpSpliceFlow{fd: -1}
	g.free = append(g.free, fi)
}

// dropListener ends the -u flows answering through listener fd, which is
// being closed.
func (g *udpSpliceGlue) dropListener(fd int) {
	for i := range g.flows {
		if f := &g.flows[i]; f.fd != -1 && f.in && f.reply == fd {
			g.endFlow(uint32(i))
		}
	}
}

func (g *udpSpliceGlue) event(ev engine.Event) {
	i := ev.Ref.Index
	if i&listenerBit != 0 {
		if n := i &^ listenerBit; int(n) < len(g.socks.At) && g.socks.At[n].fd >= 0 {
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
	s := &g.socks.At[si]
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

// fromHost moves what came back on a flow's socket to its client: the
// answers of the host to a -U client, or of the namespace to a -u one.
func (g *udpSpliceGlue) fromHost(fi uint32) {
	f := &g.flows[fi]
	dir := 1
	if f.in {
		dir = 0
	}
	for range udpSpliceRounds {
		n := g.recv(f.fd, false)
		if n <= 0 {
			return
		}
		f.last = time.Now()
		f.seen[1] = min(f.seen[1]+uint8(min(n, 2)), 2)
		g.send(f.reply, 0, n, &f.name, f.nlen, dir)
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
	fd, _, err := dialHost(unix.SOCK_DGRAM, s.to, s.v6, s.toPort)
	if err != nil {
		return 0, false
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, udpSpliceBuf)
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, udpSpliceBuf)
	fi := g.slot()
	if err := g.w.loop.Add(fd, engine.Ref{Kind: kindUDPSplice, Index: fi}, unix.EPOLLIN); err != nil {
		unix.Close(fd)
		g.flows[fi].fd = -1
		g.free = append(g.free, fi)
		return 0, false
	}
	f := &g.flows[fi]
	*f = udpSpliceFlow{fd: fd, reply: s.fd, key: k, last: now}
	f.name, f.nlen = rawName(peer)
	g.byKey[k] = fi
	g.opened++
	return fi, true
}

// slot takes a free flow slot.
func (g *udpSpliceGlue) slot() uint32 {
	if n := len(g.free); n > 0 {
		fi := g.free[n-1]
		g.free = g.free[:n-1]
		return fi
	}
	g.flows = append(g.flows, udpSpliceFlow{fd: -1})
	return uint32(len(g.flows) - 1)
}

// inbound takes a datagram from a client on the host's loopback to a -u
// listener (the UDP handler's Splice hook) and sends it into the
// namespace on the client's flow, which it opens by asking the broker
// for a socket. It reports false, leaving the datagram to the tap path,
// only when it cannot ask.
func (g *udpSpliceGlue) inbound(listener int, fw udp.Forward, peer netip.AddrPort, payload []byte) bool {
	g.ready()
	now := time.Now()
	k := udpSpliceKey{sock: inboundBit | uint32(listener), peer: peer}
	if fi, ok := g.byKey[k]; ok {
		f := &g.flows[fi]
		f.last = now
		f.seen[0] = min(f.seen[0]+1, 2)
		if f.fd == fdWaiting {
			if len(f.queue) >= maxWaiting {
				g.dropped[1]++
				return true
			}
			f.queue = append(f.queue, bytes.Clone(payload))
			return true
		}
		g.write(f.fd, payload)
		return true
	}
	if len(g.byKey) >= maxUDPSpliceFlows {
		g.noFlow++
		return true
	}
	to, fam := nsTarget(g.w.cfg, peer.Addr().Is6())
	id := udpSpliceIDBase + g.nextID%spliceIDBase
	g.nextID++
	req := ipc.BrokerRequest{Op: ipc.OpNSSocket, Proto: ipc.UDP, Family: fam, Action: ipc.NSConnect, Addr: to, Port: fw.ToPort}
	if err := g.w.conn.Send(ipc.Message{ID: id, Body: req}); err != nil {
		return false
	}
	fi := g.slot()
	f := &g.flows[fi]
	*f = udpSpliceFlow{fd: fdWaiting, reply: listener, in: true, key: k, last: now, queue: [][]byte{bytes.Clone(payload)}}
	f.seen[0] = 1
	f.name, f.nlen = rawName(peer)
	g.byKey[k] = fi
	g.waiting[id] = fi
	g.opened++
	return true
}

// write sends one datagram into the namespace on a -u flow's socket.
func (g *udpSpliceGlue) write(fd int, p []byte) {
	for {
		_, err := unix.Write(fd, p)
		switch err {
		case unix.EINTR:
			continue
		case nil:
			g.datagrams[1]++
			g.bytes[1] += uint64(len(p))
		default:
			g.dropped[1]++
		}
		return
	}
}

// brokerReply takes the broker's answer for a waiting -u flow; it
// reports false for a message that is not one.
func (g *udpSpliceGlue) brokerReply(m ipc.Message) bool {
	r, ok := m.Body.(ipc.BrokerReply)
	if !ok || r.Op != ipc.OpNSSocket || m.ID < udpSpliceIDBase || m.ID >= udpSpliceIDBase+spliceIDBase {
		return false
	}
	fi, ok := g.waiting[m.ID]
	delete(g.waiting, m.ID)
	if !ok || g.flows[fi].fd != fdWaiting {
		closeFDs(m.FDs)
		return true
	}
	f := &g.flows[fi]
	if m.Code != ipc.OK || len(m.FDs) != 1 {
		closeFDs(m.FDs)
		g.noSocket++
		g.dropped[1] += uint64(len(f.queue))
		g.endFlow(fi)
		return true
	}
	fd := m.FDs[0]
	if err := g.w.loop.Add(fd, engine.Ref{Kind: kindUDPSplice, Index: fi}, unix.EPOLLIN); err != nil {
		closeFD(fd)
		g.dropped[1] += uint64(len(f.queue))
		g.endFlow(fi)
		return true
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, udpSpliceBuf)
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, udpSpliceBuf)
	f.fd = fd
	for _, p := range f.queue {
		g.write(fd, p)
	}
	f.queue = nil
	return true
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
		if f.fd == -1 {
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
	add("udp_splice_no_socket", g.noSocket)
	add("udp_splice_flows_expired", g.expired)
	add("udp_splice_no_flow", g.noFlow)
	add("udp_splice_datagrams_ns_to_host", g.datagrams[0])
	add("udp_splice_datagrams_host_to_ns", g.datagrams[1])
	add("udp_splice_bytes_ns_to_host", g.bytes[0])
	add("udp_splice_bytes_host_to_ns", g.bytes[1])
	add("udp_splice_dropped_ns_to_host", g.dropped[0])
	add("udp_splice_dropped_host_to_ns", g.dropped[1])
}
