// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package monitor

import (
	"net/netip"
	"time"

	"passt-go/conf"
	"passt-go/fwd"
	"passt-go/ipc"
	"passt-go/pasta"
)

// The broker: what the worker may ask the monitor for after start-up. Every
// request first goes through ipc.Decide, a pure function of the request and
// of the Allowance built here once from the configuration; only then does
// the monitor act. A compromised worker can therefore obtain nothing the
// configuration did not already grant.

// brokerRate bounds how often the worker may ask: more requests than this
// in one second are refused (typed, as Invalid) until the next second.
// Namespace sockets, one for each spliced connection, have their own,
// higher bound, and at most nsInFlight of them are made at once.
const (
	brokerRate   = 200
	nsSocketRate = 20000
	nsInFlight   = 64
)

// allowance derives what the configuration permits.
func allowance(cfg *conf.Config) *ipc.Allowance {
	a := &ipc.Allowance{IPv4: cfg.IPv4.Enabled, IPv6: cfg.IPv6.Enabled}
	splice := false
	if ns := cfg.Namespace; ns != nil {
		splice = ns.Splice
		a.NSSockets = ns.Splice
		for _, f := range []conf.Family{cfg.IPv4, cfg.IPv6} {
			if f.Enabled && f.Addr.IsValid() {
				a.NSAddrs = append(a.NSAddrs, f.Addr)
			}
		}
	}
	a.TCP = forwarding(cfg.Forward.TCP.Table, cfg.Forward.TCPNs.Table, splice)
	a.UDP = forwarding(cfg.Forward.UDP.Table, cfg.Forward.UDPNs.Table, splice)
	return a
}

func forwarding(in, out *fwd.Table, splice bool) ipc.Forwarding {
	var f ipc.Forwarding
	if in != nil {
		for _, r := range in.Rules {
			f.HostToGuest = append(f.HostToGuest, rule(r, splice && !r.To.IsValid()))
		}
	}
	if out != nil {
		for _, r := range out.Rules {
			f.GuestToHost = append(f.GuestToHost, rule(r, false))
		}
	}
	return f
}

func rule(r fwd.Rule, splice bool) ipc.Rule {
	var ir ipc.Rule
	ir.Ports.AddRange(r.First, r.Last)
	ir.Targets.AddRange(r.ToFirst, r.ToLast())
	ir.Addr, ir.Ifname, ir.Splice, ir.Auto = r.Listen, r.Ifname, splice, r.Auto
	return ir
}

// broker answers the worker's requests; it is called for each
// BrokerRequest message, in order.
type broker struct {
	m       *monitor
	allow   *ipc.Allowance
	window  time.Time
	inRound int
	sockets int // namespace sockets asked for in this window
	// inFlight counts namespace sockets being made; one token each.
	inFlight chan struct{}
}

func (b *broker) serve(id uint32, req ipc.BrokerRequest) {
	now := time.Now()
	if now.Sub(b.window) >= time.Second {
		b.window, b.inRound, b.sockets = now, 0, 0
	}
	reply := ipc.BrokerReply{Op: req.Op}
	if req.Op == ipc.OpNSSocket {
		b.sockets++
		if b.sockets > nsSocketRate {
			b.send(id, ipc.Invalid, reply, nil)
			return
		}
	} else if b.inRound++; b.inRound > brokerRate {
		b.send(id, ipc.Invalid, reply, nil)
		return
	}
	d := ipc.Decide(b.allow, req)
	if !d.Allowed() {
		reply.Reason = d
		b.m.log.Debugf("broker: %v %v port %d denied: %v", req.Op, req.Proto, req.Port, d)
		b.send(id, d.Code(), reply, nil)
		return
	}
	switch req.Op {
	case ipc.OpHostListener:
		p := fwd.TCP
		if req.Proto == ipc.UDP {
			p = fwd.UDP
		}
		addr := req.Addr
		if addr.IsUnspecified() && b.allow.IPv4 && b.allow.IPv6 {
			addr = netip.Addr{} // dual-stack, as the rule says
		}
		fd, _, err := listenPort(p, fwd.Listener{Addr: addr, Ifname: req.Ifname, Port: req.Port},
			b.allow.IPv4, b.allow.IPv6, b.m.cfg.Freebind)
		if err != nil {
			b.m.log.Warnf("broker: %v", err)
			b.send(id, ipc.InUse, reply, nil)
			return
		}
		b.send(id, ipc.OK, reply, []int{fd})
		closeFDs([]int{fd})
	case ipc.OpNSSocket:
		b.nsSocket(id, req, reply)
	default:
		// Allowed by the policy but not carried out by this version.
		b.send(id, ipc.Unsupported, reply, nil)
	}
}

// nsSocket has the keeper make a socket inside the namespace and hands
// it over. The keeper answers within pasta.SocketTimeout; the answer is
// sent from a goroutine of its own so that the monitor's loop goes on
// meanwhile, and replies may come in another order than the requests.
func (b *broker) nsSocket(id uint32, req ipc.BrokerRequest, reply ipc.BrokerReply) {
	p := b.m.pasta
	if p == nil || p.ns == nil {
		b.send(id, ipc.Unsupported, reply, nil)
		return
	}
	if b.inFlight == nil {
		b.inFlight = make(chan struct{}, nsInFlight)
	}
	select {
	case b.inFlight <- struct{}{}:
	default:
		b.send(id, ipc.Invalid, reply, nil)
		return
	}
	r := pasta.SocketRequest{UDP: req.Proto == ipc.UDP, Bind: req.Action == ipc.NSBind, Addr: req.Addr, Port: req.Port}
	go func() {
		defer func() { <-b.inFlight }()
		fd, err := p.ns.Socket(r)
		if err != nil {
			b.m.log.Debugf("broker: %v", err)
			code := ipc.Refused
			if r.Bind {
				code = ipc.InUse
			}
			b.send(id, code, reply, nil)
			return
		}
		b.send(id, ipc.OK, reply, []int{fd})
		closeFDs([]int{fd})
	}()
}

func (b *broker) send(id uint32, code ipc.ErrCode, reply ipc.BrokerReply, fds []int) {
	if err := b.m.conn.Send(ipc.Message{ID: id, Code: code, Body: reply, FDs: fds}); err != nil {
		b.m.log.Warnf("broker reply: %v", err)
	}
}
