// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package worker

import (
	"fmt"
	"net/netip"
	"time"

	"passt-go/ipc"
	"passt-go/proto/engine"
	"passt-go/proto/flow"
	"passt-go/proto/header"
	"passt-go/proto/tcp"
)

// tcpGlue connects the TCP translation (package tcp) to the worker:
// frames from the guest, events of its descriptors (kinds kindTCP...),
// the end of each run of guest frames and of each event batch, the guest
// side's flushes, periodic work and counters.
type tcpGlue struct {
	w  *Worker
	h  *tcp.Handler
	on bool
}

// tcpOut is the worker's output as package tcp sees it.
type tcpOut Worker

func (o *tcpOut) Room() int { return (*Worker)(o).outRoom() }

func (o *tcpOut) Queue(hdr, payload []byte) (int, bool) { return (*Worker)(o).queueParts(hdr, payload) }

func (o *tcpOut) Flush() { (*Worker)(o).flush() }

func (o *tcpOut) Blocked() bool {
	w := (*Worker)(o)
	return w.outBlocked || (w.connFD < 0 && w.tw == nil)
}

func (g *tcpGlue) init(w *Worker, listeners []handed) error {
	g.w = w
	c := w.cfg
	g.on = c.TCP
	if !g.on {
		closeHanded(listeners)
		return nil
	}
	cfg := tcp.Config{
		NAT:       &w.l2.nat,
		OurMAC:    header.MAC(c.MAC),
		GuestMAC:  func() header.MAC { return w.l2.guestMAC },
		GuestAddr: g.guestAddr,
		MTU:       c.MTU,
		Zone6:     uint32(c.IPv6.Ifindex),
		Outbound4: c.IPv4.Outbound,
		Outbound6: c.IPv6.Outbound,
	}
	cfg.OutboundIf4, cfg.OutboundIf6 = c.IPv4.OutboundIf, c.IPv6.OutboundIf
	cfg.Logf = func(format string, args ...any) {
		w.logf(ipc.LevelWarning, format, args...)
	}
	if spliceInbound(w.cfg) {
		cfg.Splice = w.splice.inbound
	}
	h, err := tcp.New(cfg, w.l2.flows, w.loop, tcp.Kinds{Sock: kindTCPSock, Listen: kindTCPListen, Timer: kindTCPTimer}, (*tcpOut)(w))
	if err != nil {
		closeHanded(listeners)
		return fmt.Errorf("TCP: %w", err)
	}
	g.h = h
	for i, l := range listeners {
		if err := g.add(l); err != nil {
			closeHanded(listeners[i+1:])
			return err
		}
	}
	return nil
}

// add registers a listener of a -t rule; the handler owns its descriptor
// from then on, and it is closed on error.
func (g *tcpGlue) add(l handed) error {
	table := g.w.cfg.Forward.TCP.Table
	if table == nil || int(l.entry.Rule) >= len(table.Rules) || !table.Rules[l.entry.Rule].Contains(l.entry.Port) {
		closeFD(l.fd)
		return fmt.Errorf("TCP listener for port %d: no forwarding rule has it", l.entry.Port)
	}
	r := table.Rules[l.entry.Rule]
	// A rule with a target address never splices, as upstream.
	fw := tcp.Forward{Port: l.entry.Port, To: r.To, ToPort: r.Target(l.entry.Port), Splice: !r.To.IsValid()}
	if err := g.h.AddListener(l.fd, fw); err != nil {
		return fmt.Errorf("TCP listener for port %d: %w", l.entry.Port, err)
	}
	return nil
}

// guestAddr is where inbound connections go when the rule names no
// address: the guest's address as seen in its traffic, else as assigned.
func (g *tcpGlue) guestAddr(v6, linkLocal bool) netip.Addr {
	s := &g.w.l2
	c := g.w.cfg
	switch {
	case !v6:
		if s.seen4.IsValid() && !c.IPv4.AddrFixed {
			return s.seen4
		}
		return c.IPv4.Addr
	case linkLocal:
		return s.seenLL
	}
	switch {
	case s.seen6.IsValid() && !c.IPv6.AddrFixed:
		return s.seen6
	case c.IPv6.Addr.IsValid():
		return c.IPv6.Addr
	}
	return s.seenLL
}

func (g *tcpGlue) fromGuest(frame []byte, f *header.Frame) (drop, bool) {
	if !g.on {
		return dropDisabled, true
	}
	g.h.FromGuest(frame, f) // counted by the handler
	return 0, false
}

// inputDone: the frames read so far are about to be overwritten.
func (g *tcpGlue) inputDone() {
	if g.on {
		g.h.InputDone()
	}
}

// flush does the deferred work before the event batch's frames go out.
func (g *tcpGlue) flush() {
	if g.on {
		g.h.Flush()
	}
}

// sent tells which frames of the batch just flushed reached the guest.
func (g *tcpGlue) sent(n int) {
	if g.on {
		g.h.Sent(n)
	}
}

// writable: the guest side takes frames again.
func (g *tcpGlue) writable() {
	if g.on {
		g.h.Writable()
	}
}

// guestGone: the guest disconnected, and its connections with it.
func (g *tcpGlue) guestGone() {
	if g.on {
		g.h.GuestGone()
	}
}

func (g *tcpGlue) event(ev engine.Event) {
	if !g.on {
		return
	}
	switch ev.Ref.Kind {
	case kindTCPSock, kindTCPListen, kindTCPTimer:
		g.h.Event(ev)
	}
	// kindTCPSplice belongs to the spliced path of pasta mode.
}

func (g *tcpGlue) periodic(now time.Time) {
	if g.on {
		g.h.Periodic(flow.Now())
	}
}

func (g *tcpGlue) counters(add func(string, uint64)) {
	if !g.on {
		return
	}
	c := g.h.Counters()
	add("tcp_opened", c.Opened)
	add("tcp_accepted", c.Accepted)
	add("tcp_spliced", c.Spliced)
	add("tcp_closed", c.Closed)
	add("tcp_resets_to_guest", c.ResetsToGuest)
	add("tcp_resets_from_guest", c.ResetsFromGuest)
	add("tcp_connect_failed", c.ConnectFailed)
	add("tcp_fast_retransmits", c.FastRetransmits)
	add("tcp_timeouts", c.Timeouts)
	add("tcp_rewinds", c.Rewinds)
	add("tcp_lost_writes", c.LostWrites)
	add("tcp_zero_windows", c.ZeroWindows)
	add("tcp_window_updates", c.WindowUpdates)
	add("tcp_keepalives", c.Keepalives)
	add("tcp_accepted_table_full", c.AcceptedTableFull)
	add("tcp_bytes_from_guest", c.BytesFromGuest)
	add("tcp_bytes_to_guest", c.BytesToGuest)
	for i, v := range c.Drops {
		if i != int(tcp.DropNone) {
			add("tcp_drop_"+tcp.Drop(i).String(), v)
		}
	}
}
