// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package worker

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"

	"passt-go/conf"
	"passt-go/ipc"
	"passt-go/proto/engine"
	"passt-go/proto/splice"
	"passt-go/proto/tcp"
)

// The spliced loopback paths of pasta mode, moved with splice(2) (package
// splice), bytes never entering user space:
//
//   - -T: connections accepted on the listeners the keeper opened on the
//     namespace's loopback are connected to the host's loopback at the
//     rule's target port (or to the rule's target address);
//   - -t: connections from the host's loopback accepted on a listener of
//     a rule without target address are connected, inside the namespace,
//     to the namespace's own address of their family (its loopback with
//     --host-lo-to-ns-lo) at the target port. The worker cannot make a
//     socket there: it asks the broker, which has the keeper connect one
//     and hands it over; the accepted socket waits, parked, meanwhile.
//
// Events of these descriptors have kind kindTCPSplice; the index is
// listenerBit|listener for a listener, else conn*2+side, side 0 being
// the accepted socket.

// maxSplice is how many spliced connections may be open at once; more
// are reset as they are accepted.
const maxSplice = 1024

// maxParked is how many accepted connections may wait for their socket
// in the namespace; more are reset. The monitor makes as many at once.
const maxParked = 64

// spliceIDBase starts the IDs of the worker's broker requests, apart from
// the 0 of its other messages.
const spliceIDBase = 1 << 20

const listenerBit = 1 << 31

type spliceListener struct {
	fd     int
	v6     bool
	port   uint16
	to     netip.Addr // zero: loopback of the listener's family
	toPort uint16
}

// parked is an accepted connection waiting for the broker's answer.
type parked struct {
	fd   int
	port uint16 // the listener's, for messages
}

type spliceGlue struct {
	w         *Worker
	listeners engine.Slots[spliceListener] // fd -1: a free slot
	conns     []splice.Conn
	want      [][2]uint32
	in        []bool // the connection came in through -t
	free      []uint32
	parked    map[uint32]parked
	nextID    uint32

	accepted, connectFailed, resets, full uint64
	inAccepted, nsDenied, parkFull        uint64
	bytes                                 [2]uint64 // ns to host, host to ns
}

// ready allocates the connection slots on first use.
func (g *spliceGlue) ready() {
	if g.conns != nil {
		return
	}
	g.conns = make([]splice.Conn, maxSplice)
	g.want = make([][2]uint32, maxSplice)
	g.in = make([]bool, maxSplice)
	g.free = make([]uint32, maxSplice)
	for i := range g.free {
		g.free[i] = uint32(maxSplice - 1 - i)
	}
	g.parked = make(map[uint32]parked)
}

// spliceInbound reports whether connections from the host's loopback to
// -t ports are spliced: pasta, splicing not disabled, TCP on.
func spliceInbound(c *conf.Config) bool {
	return c.TCP && c.Namespace != nil && c.Namespace.Splice
}

func (g *spliceGlue) init(w *Worker, listeners []handed) error {
	g.w = w
	return addNsSockets(listeners, w.cfg.TCP, w.cfg.Forward.TCPNs.Table, "-T listener", g.add)
}

// add starts accepting on fd, a -T listener described by e, whose rule
// the caller checked; it closes fd if it cannot. Listeners keep their
// index, which their events carry, until removed; a removed listener's
// slot is used again.
func (g *spliceGlue) add(e ipc.FDEntry, fd int) error {
	g.ready()
	r := g.w.cfg.Forward.TCPNs.Table.Rules[e.Rule]
	sl := spliceListener{fd: fd, v6: e.Family == ipc.IPv6, port: e.Port, to: r.To, toPort: r.Target(e.Port)}
	n := g.listeners.Next()
	if err := g.w.loop.Add(fd, engine.Ref{Kind: kindTCPSplice, Index: listenerBit | n}, unix.EPOLLIN); err != nil {
		closeFD(fd)
		return fmt.Errorf("-T listener for port %d: %w", e.Port, err)
	}
	g.listeners.Put(n, sl)
	return nil
}

// remove stops accepting on the -T listener fd and closes it. The
// connections it accepted go on.
func (g *spliceGlue) remove(fd int) {
	for n := range g.listeners.At {
		if g.listeners.At[n].fd == fd {
			g.w.loop.Del(fd)
			closeFD(fd)
			g.listeners.Release(uint32(n), spliceListener{fd: -1})
			return
		}
	}
}

// inbound takes a connection from the host's loopback accepted on a -t
// listener (the TCP handler's Splice hook): it asks the broker for a
// socket connected to the forward's target inside the namespace and
// parks the connection until the answer. It reports false, leaving the
// connection to the tap path, when it cannot ask.
func (g *spliceGlue) inbound(fd int, fw tcp.Forward, v6 bool) bool {
	g.ready()
	if len(g.parked) >= maxParked {
		g.parkFull++
		return false
	}
	to, fam := nsTarget(g.w.cfg, v6)
	id := spliceIDBase + g.nextID%spliceIDBase
	g.nextID++
	req := ipc.BrokerRequest{Op: ipc.OpNSSocket, Proto: ipc.TCP, Family: fam, Action: ipc.NSConnect, Addr: to, Port: fw.ToPort}
	if err := g.w.conn.Send(ipc.Message{ID: id, Body: req}); err != nil {
		return false
	}
	g.inAccepted++
	g.parked[id] = parked{fd: fd, port: fw.Port}
	return true
}

// brokerReply takes the broker's answer for a parked connection; it
// reports false for a message that is not one.
func (g *spliceGlue) brokerReply(m ipc.Message) bool {
	r, ok := m.Body.(ipc.BrokerReply)
	if !ok || r.Op != ipc.OpNSSocket || m.ID < spliceIDBase || m.ID >= 2*spliceIDBase {
		return false
	}
	p, ok := g.parked[m.ID]
	if !ok {
		closeFDs(m.FDs)
		return true
	}
	delete(g.parked, m.ID)
	if m.Code != ipc.OK || len(m.FDs) != 1 {
		closeFDs(m.FDs)
		g.nsDenied++
		if m.Code == ipc.Denied {
			g.w.logf(ipc.LevelDebug, "-t port %d: no socket in the namespace: %v", p.port, r.Reason)
		}
		resetClose(p.fd)
		return true
	}
	g.open(p.fd, m.FDs[0], true, true)
	return true
}

// open splices a (the accepted socket) and b, a socket whose connection
// may still be in progress.
func (g *spliceGlue) open(a, b int, connecting, in bool) {
	if len(g.free) == 0 {
		g.full++
		resetClose(a)
		resetClose(b)
		return
	}
	ci := g.free[len(g.free)-1]
	c := &g.conns[ci]
	if err := c.Open(a, b, connecting); err != nil {
		resetClose(a)
		resetClose(b)
		return
	}
	g.free = g.free[:len(g.free)-1]
	g.in[ci] = in
	for s := range 2 {
		g.want[ci][s] = c.Want(s)
		if err := g.w.loop.Add(c.FD(s), engine.Ref{Kind: kindTCPSplice, Index: ci*2 + uint32(s)}, g.want[ci][s]); err != nil {
			if s == 1 {
				g.w.loop.Del(c.FD(0))
			}
			c.Close()
			g.free = append(g.free, ci)
			return
		}
	}
}

func (g *spliceGlue) event(ev engine.Event) {
	i := ev.Ref.Index
	if i&listenerBit != 0 {
		if n := int(i &^ listenerBit); n < len(g.listeners.At) && g.listeners.At[n].fd >= 0 {
			g.accept(&g.listeners.At[n])
		}
		return
	}
	ci, side := i/2, int(i%2)
	if int(ci) >= len(g.conns) {
		return
	}
	c := &g.conns[ci]
	c.Event(side, ev.Events)
	g.update(ci)
}

// accept takes the connections waiting on a -T listener.
func (g *spliceGlue) accept(l *spliceListener) {
	for {
		a, _, err := unix.Accept4(l.fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != nil {
			return
		}
		g.accepted++
		if len(g.free) == 0 {
			g.full++
			resetClose(a)
			continue
		}
		b, connecting, err := connectLocal(l)
		if err != nil {
			g.connectFailed++
			resetClose(a)
			continue
		}
		g.open(a, b, connecting, false)
	}
}

// update follows a connection's wishes after an event, and ends it when
// it is done.
func (g *spliceGlue) update(ci uint32) {
	c := &g.conns[ci]
	if !c.IsOpen() {
		return
	}
	if c.Done() {
		g.w.loop.Del(c.FD(0))
		g.w.loop.Del(c.FD(1))
		if c.Failed() {
			g.resets++
		}
		if g.in[ci] {
			g.bytes[0] += c.Moved[1]
			g.bytes[1] += c.Moved[0]
		} else {
			g.bytes[0] += c.Moved[0]
			g.bytes[1] += c.Moved[1]
		}
		c.Close()
		g.free = append(g.free, ci)
		return
	}
	for s := range 2 {
		if w := c.Want(s); w != g.want[ci][s] {
			g.want[ci][s] = w
			g.w.loop.Mod(c.FD(s), engine.Ref{Kind: kindTCPSplice, Index: ci*2 + uint32(s)}, w)
		}
	}
}

// connectLocal starts a connection from the host to the listener's
// target: the rule's address, else the loopback address of its family.
func connectLocal(l *spliceListener) (int, bool, error) {
	return dialHost(unix.SOCK_STREAM, l.to, l.v6, l.toPort)
}

// resetClose closes a connected socket with a reset.
func resetClose(fd int) {
	unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	unix.Close(fd)
}

func (g *spliceGlue) counters(add func(string, uint64)) {
	add("splice_accepted", g.accepted)
	add("splice_connect_failed", g.connectFailed)
	add("splice_resets", g.resets)
	add("splice_full", g.full)
	add("splice_inbound", g.inAccepted)
	add("splice_inbound_no_socket", g.nsDenied)
	add("splice_inbound_park_full", g.parkFull)
	add("splice_bytes_ns_to_host", g.bytes[0])
	add("splice_bytes_host_to_ns", g.bytes[1])
}
