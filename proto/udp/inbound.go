// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package udp

import (
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"

	"passt-go/proto/engine"
	"passt-go/proto/flow"
	"passt-go/proto/header"
)

// AddListener takes over fd, a bound UDP socket of a forwarding rule (IPv4,
// or IPv6 possibly dual-stack, bound with SO_REUSEADDR as the monitor
// binds them): it asks for the destination address of each datagram
// (IP_PKTINFO, IPV6_RECVPKTINFO) and for ICMP errors (IP_RECVERR,
// IPV6_RECVERR), asks for large buffers, and registers the socket with the
// loop.
// The Handler closes fd at Close, and at once when it fails here.
func (h *Handler) AddListener(fd int, fw Forward) error {
	domain, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN)
	if err == nil && domain != unix.AF_INET && domain != unix.AF_INET6 {
		err = fmt.Errorf("socket family %d", domain)
	}
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err == nil {
		if domain == unix.AF_INET {
			err = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
		} else {
			err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
		}
	}
	if err == nil {
		setBuffers(fd)
		// ICMP errors about the replies of flows answering through
		// this socket; IP_RECVERR also covers IPv4 peers of a
		// dual-stack socket. Best effort: without them those errors
		// are lost, as they would be anyway.
		setInt(fd, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
		if domain == unix.AF_INET6 {
			setInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVERR, 1)
		}
	}
	if err == nil && (fw.Port == 0 || fw.ToPort == 0) {
		err = errors.New("port 0")
	}
	index := h.listeners.Next()
	if err == nil {
		err = h.loop.Add(fd, engine.Ref{Kind: h.listenKind, Index: index}, unix.EPOLLIN)
	}
	if err != nil {
		unix.Close(fd)
		return fmt.Errorf("UDP port %d: %w", fw.Port, err)
	}
	h.listeners.Put(index, listener{fd: fd, v6: domain == unix.AF_INET6, Forward: fw})
	return nil
}

// listenEvent reads the datagrams queued on a listening socket: each goes
// to the guest on its flow, which the first datagram from a peer opens.
func (h *Handler) listenEvent(li uint32) {
	if li >= uint32(len(h.listeners.At)) || h.listeners.At[li].fd < 0 {
		return
	}
	fd := h.listeners.At[li].fd
	for round := 0; round < maxRounds; round++ {
		h.prepareRecv(true)
		n, e := recvmmsg(fd, h.rxMsgs[:], 0)
		if e == unix.EINTR {
			continue
		}
		if e == unix.EAGAIN {
			break
		}
		if e != 0 {
			h.c.Drops[DropRead]++
			break
		}
		now := h.cfg.Now()
		for i := 0; i < n; i++ {
			if d := h.inbound(li, i, now); d != DropNone {
				h.c.Drops[d]++
			}
		}
		if n < Batch {
			break
		}
	}
}

// listenErrors reads the error queue of listening socket li: an ICMP
// error about a reply that a flow answering through the socket sent (see
// openInbound) goes to the guest, quoting the reply, as on a flow's own
// socket. The error names the reply's destination, the peer, which finds
// the flow.
func (h *Handler) listenErrors(li uint32) {
	if li >= uint32(len(h.listeners.At)) || h.listeners.At[li].fd < 0 {
		return
	}
	l := &h.listeners.At[li]
	// The data is read where an IPv6 quote starts, and moved for IPv4
	// once the family is known.
	off := errDataOff(false)
	for i := 0; i < maxErrors; i++ {
		n, ee, ok, e := h.readError(l.fd, off)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			break
		}
		peer, peerPort, named := h.errName.get()
		if !ok || !named || ee.origin != icmpOrigin(peer.Is4()) {
			h.c.Drops[DropLocalError]++
			continue
		}
		key, d := h.inboundKey(l, peer, peerPort)
		if d != DropNone {
			h.c.Drops[d]++
			continue
		}
		idx, found := h.flows.Lookup(key)
		if !found {
			h.c.Drops[DropPeer]++
			continue
		}
		st := &h.state[idx]
		if !st.live || st.fd >= 0 || st.listener != int32(li) || st.peer != peer || st.peerPort != peerPort {
			h.c.Drops[DropPeer]++
			continue
		}
		if v4 := peer.Is4(); v4 {
			copy(h.errBuf[errDataOff(v4):], h.errBuf[off:off+n])
		}
		h.reflectError(key, st, ee, n)
	}
	getInt(l.fd, unix.SOL_SOCKET, unix.SO_ERROR)
}

// inbound forwards datagram i of the last recvmmsg on listener li.
func (h *Handler) inbound(li uint32, i int, now flow.Time) Drop {
	m := &h.rxMsgs[i]
	if m.hdr.Flags&unix.MSG_TRUNC != 0 {
		return DropTooBig
	}
	peer, peerPort, ok := h.rxName[i].get()
	if !ok || peerPort == 0 {
		return DropPeer
	}
	l := &h.listeners.At[li]
	if p := peer.Unmap(); l.Splice && h.cfg.Splice != nil && p.IsLoopback() &&
		h.cfg.Splice(l.fd, l.Forward, netip.AddrPortFrom(p, peerPort), h.rxBuf[i][hdrRoom:hdrRoom+int(m.n)]) {
		h.c.Spliced++
		return DropNone
	}
	key, d := h.inboundKey(l, peer, peerPort)
	if d != DropNone {
		return d
	}
	idx, found := h.flows.Lookup(key)
	if found {
		if st := &h.state[idx]; !st.live || st.peer != peer || st.peerPort != peerPort {
			return DropPeer
		}
	} else {
		local, _ := pktinfoDst(h.rxCtrl[i][:min(int(m.hdr.Controllen), pktinfoControlRoom)])
		if idx, d = h.openInbound(li, key, local, peer, peerPort, now); d != DropNone {
			return d
		}
	}
	st := &h.state[idx]
	frame, d := putDatagram(h.rxBuf[i], key.GuestAddr.Is4(), int(m.n), h.guestMAC(), h.cfg.OurMAC,
		key.RemoteAddr, key.RemotePort, key.GuestAddr, key.GuestPort)
	if d != DropNone {
		return d
	}
	h.out.Send(frame)
	h.c.ToGuest++
	h.flows.Touch(idx, now)
	h.note(idx, st, dirToGuest, 1)
	return DropNone
}

// inboundKey names the flow of a datagram from peer:peerPort on listener
// l, from the guest's side: the peer as the address mapping shows it, the
// rule's target address and port, or the guest's address.
func (h *Handler) inboundKey(l *listener, peer netip.Addr, peerPort uint16) (flow.Key, Drop) {
	v4 := peer.Is4()
	remote, ok := h.nat.Inbound(peer)
	if !ok {
		return flow.Key{}, DropRefused
	}
	guest := l.To
	if !guest.IsValid() && h.cfg.GuestAddr != nil {
		// The guest answers a link-local address (the host's own
		// address maps to the gateway's) from its own link-local one.
		guest = h.cfg.GuestAddr(v4, remote.IsLinkLocalUnicast())
	}
	if !guest.IsValid() {
		return flow.Key{}, DropNoGuestAddr
	}
	if !ofFamily(guest, v4) || !ofFamily(remote, v4) {
		return flow.Key{}, DropFamily
	}
	return flow.Key{Proto: header.ProtocolUDP, GuestAddr: guest, GuestPort: l.ToPort, RemoteAddr: remote, RemotePort: peerPort}, DropNone
}

// openInbound creates the flow for key, opened by a datagram from
// peer:peerPort to local on listener li. Its socket is bound to the same
// address and port as the datagram's destination and connected to the
// peer, so that replies leave from where the peer sent to and the peer's
// next datagrams come to it. When the host refuses that socket (a
// privileged port, for one), replies go out through the listening socket.
func (h *Handler) openInbound(li uint32, key flow.Key, local, peer netip.Addr, peerPort uint16, now flow.Time) (uint32, Drop) {
	if h.live >= h.max {
		return 0, DropFlowLimit
	}
	idx, err := h.flows.Insert(key, flow.TypeUDP, now)
	if err != nil {
		if errors.Is(err, flow.ErrFull) {
			return 0, DropTableFull
		}
		return 0, DropSocket
	}
	h.used = flow.Claim(h.state, h.used, idx, sock{fd: -1, listener: -1})
	l := &h.listeners.At[li]
	v4 := peer.Is4()
	if local.IsValid() && local.Is4() != v4 {
		local = netip.Addr{}
	}
	st := sock{fd: -1, listener: -1, origin: int32(li) + 1, peer: peer, peerPort: peerPort, live: true}
	fd, d := h.socket(v4, local, l.Port, false, l.Ifname)
	if d == DropNone {
		d = h.connect(fd, idx, peer, peerPort)
	}
	if d == DropNone {
		st.fd = int32(fd)
	} else {
		st.listener = int32(li)
		h.c.Shared++
	}
	h.state[idx] = st
	h.live++
	h.c.Opened++
	h.c.Inbound++
	return idx, DropNone
}
