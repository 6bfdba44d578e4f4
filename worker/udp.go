// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package worker

import (
	"fmt"
	"math"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"passt-go/ipc"
	"passt-go/proto/engine"
	"passt-go/proto/flow"
	"passt-go/proto/header"
	"passt-go/proto/udp"
)

// udpRefusedLogEvery is the least time between two log lines about flows
// refused at the limit.
const udpRefusedLogEvery = 10 * time.Second

// udpFlushIndex is the reference index of the timer that sends datagrams
// queued from the guest after the frames at hand are handled.
const udpFlushIndex = math.MaxUint32

// udpGlue connects the UDP translation to the worker: frames from the
// guest, events of its descriptors (kinds kindUDP...), periodic work and
// counters.
type udpGlue struct {
	w *Worker
	h *udp.Handler

	// flush fires right after the current batch of events when datagrams
	// wait for sendmmsg while more frames are being read.
	flush *engine.Timer
	armed bool

	refused    uint64 // refused flows already logged
	lastLogged time.Time
}

func (g *udpGlue) init(w *Worker, listeners []handed) error {
	g.w = w
	c := w.cfg
	if !c.UDP {
		closeHanded(listeners)
		return nil
	}
	s := &w.l2
	// Each flow holds a socket: keep a margin of descriptors for TCP,
	// ICMP and the rest.
	maxFlows := udp.DefaultMaxFlows
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil && lim.Cur/4 < uint64(maxFlows) {
		maxFlows = max(int(lim.Cur/4), 16)
	}
	// Datagrams from the host's loopback to -u ports are spliced into
	// the namespace in pasta, unless splicing is off.
	var splice func(int, udp.Forward, netip.AddrPort, []byte) bool
	if c.Namespace != nil && c.Namespace.Splice {
		splice = w.udpSplice.inbound
	}
	g.h = udp.New(udp.Config{
		Splice:   splice,
		NAT:      &s.nat,
		OurMAC:   header.MAC(c.MAC),
		GuestMAC: func() header.MAC { return s.guestMAC },
		GuestAddr: func(v4, linkLocal bool) netip.Addr {
			if v4 {
				if s.seen4.IsValid() {
					return s.seen4
				}
				return c.IPv4.Addr
			}
			switch {
			case linkLocal && s.seenLL.IsValid():
				return s.seenLL
			case s.seen6.IsValid():
				return s.seen6
			case c.IPv6.Addr.IsValid():
				return c.IPv6.Addr
			}
			return s.seenLL
		},
		// The monitor read the host's connection tracker timeouts: the
		// worker cannot read /proc. Zero gives the defaults.
		Timeout:       c.UDPTimeout,
		StreamTimeout: c.UDPStreamTimeout,
		MaxFlows:      maxFlows,
		Outbound4:     c.IPv4.Outbound,
		Outbound6:     c.IPv6.Outbound,
		OutboundIf4:   c.IPv4.OutboundIf,
		OutboundIf6:   c.IPv6.OutboundIf,
		Zone6:         uint32(c.IPv6.Ifindex),
		Now:           w.batchNow,
	}, s.flows, w.loop, kindUDPSock, kindUDPListen, (*guestSink)(w))

	for i, l := range listeners {
		if err := g.add(l); err != nil {
			closeHanded(listeners[i+1:])
			return err
		}
	}
	t, err := w.loop.NewTimer(engine.Ref{Kind: kindUDPSock, Index: udpFlushIndex})
	if err != nil {
		return err
	}
	g.flush = t
	timeout, stream := g.h.Timeouts()
	w.logf(ipc.LevelDebug, "UDP: at most %d flows, timeouts %v and %v (stream)", g.h.MaxFlows(), timeout, stream)
	return nil
}

// add registers a bound socket of a -u rule; the handler owns its
// descriptor from then on, and it is closed on error.
func (g *udpGlue) add(l handed) error {
	table := g.w.cfg.Forward.UDP.Table
	if table == nil || int(l.entry.Rule) >= len(table.Rules) || !table.Rules[l.entry.Rule].Contains(l.entry.Port) {
		closeFD(l.fd)
		return fmt.Errorf("UDP listener for port %d: no matching forwarding rule", l.entry.Port)
	}
	r := table.Rules[l.entry.Rule]
	// A rule with a target address never splices, as upstream.
	fw := udp.Forward{Port: l.entry.Port, To: r.To, ToPort: r.Target(l.entry.Port), Ifname: r.Ifname, Splice: !r.To.IsValid()}
	return g.h.AddListener(l.fd, fw)
}

// fromGuest queues a UDP datagram from the guest; afterFrame decides when
// the queue goes out. The handler counts its drops.
func (g *udpGlue) fromGuest(frame []byte, f *header.Frame) (drop, bool) {
	if g.h == nil {
		return dropDisabled, true
	}
	g.h.FromGuest(frame, *f)
	return 0, false
}

// afterFrame runs after each frame from the guest, whichever handler took
// it. Datagrams queued from the guest wait (to be sent in one sendmmsg
// with the next datagrams of their flow) while the reader holds more
// frames, and go out after the last one. The tap reader holds whole
// frames, so its last frame always comes; the qemu stream may hold part
// of one, and the flush timer is the backstop there. Not waiting for the
// timer where it is not needed saves a timerfd_settime per batch.
func (g *udpGlue) afterFrame() {
	if g.h == nil || !g.h.Pending() {
		return
	}
	switch {
	case g.w.tr != nil && g.w.tr.Buffered() > 0:
	case g.w.sr != nil && g.w.sr.Buffered() > 0:
		if !g.armed {
			g.armed = g.flush.Set(time.Nanosecond, 0) == nil
		}
		if !g.armed {
			g.h.Flush()
		}
	default:
		g.h.Flush()
	}
}

func (g *udpGlue) event(ev engine.Event) {
	if g.h == nil {
		return
	}
	if ev.Ref.Kind == kindUDPSock && ev.Ref.Index == udpFlushIndex {
		g.flush.Ack()
		g.armed = false
		g.h.Flush()
		return
	}
	g.h.Event(ev.Ref, ev.Events)
}

// periodic expires idle flows and logs, at a limited rate, flows refused
// at the limit.
func (g *udpGlue) periodic(now time.Time) {
	if g.h == nil {
		return
	}
	g.h.Flush()
	g.h.Expire(flow.Now())
	c := g.h.Counters()
	refused := c.Drops[udp.DropFlowLimit] + c.Drops[udp.DropTableFull]
	if refused != g.refused && now.Sub(g.lastLogged) >= udpRefusedLogEvery {
		g.w.logf(ipc.LevelWarning, "UDP: %d new flows refused: limit of %d flows (or the flow table) full",
			refused-g.refused, g.h.MaxFlows())
		g.refused = refused
		g.lastLogged = now
	}
}

func (g *udpGlue) counters(add func(string, uint64)) {
	if g.h == nil {
		return
	}
	c := g.h.Counters()
	add("udp_from_guest", c.FromGuest)
	add("udp_to_guest", c.ToGuest)
	add("udp_spliced", c.Spliced)
	add("udp_icmp_errors", c.Errors)
	add("udp_flows_opened", c.Opened)
	add("udp_flows_inbound", c.Inbound)
	add("udp_flows_shared", c.Shared)
	add("udp_flows_closed", c.Closed)
	add("udp_flows_open", uint64(g.h.Flows()))
	add("udp_sendmmsg_calls", c.SendCalls)
	for i, v := range c.Drops {
		if udp.Drop(i) != udp.DropNone {
			add("udp_drop_"+udp.Drop(i).String(), v)
		}
	}
}
