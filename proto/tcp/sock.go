// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tcp

import (
	"errors"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"

	"passt-go/proto/engine"
	"passt-go/proto/flow"
	"passt-go/proto/header"
)

const (
	solSocket = unix.SOL_SOCKET
	soPeekOff = unix.SO_PEEK_OFF

	// maxWS is the window scale we offer: windows up to 16 MiB.
	maxWS = 8
	// skbOverhead is what the kernel charges a socket's send buffer per
	// write beyond the data (sk_buff and shared info), in the worst case of
	// one buffer per guest segment.
	skbOverhead = 1024
	// acceptBatch bounds the connections accepted per listener event.
	acceptBatch = 64
)

// setupSocket sets the options every connection socket gets: no Nagle
// delay (the guest decides when to send), large buffers when the system
// allows, and a peek offset starting at zero.
func (h *Handler) setupSocket(fd int) {
	setsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if h.sndbuf > 0 {
		setsockoptInt(fd, solSocket, unix.SO_SNDBUF, h.sndbuf)
	}
	if h.rcvbuf > 0 {
		setsockoptInt(fd, solSocket, unix.SO_RCVBUF, h.rcvbuf)
	}
	if h.peekOffset {
		setsockoptInt(fd, solSocket, soPeekOff, 0)
	}
}

// ourMSS is the MSS we announce to the guest: what fits its MTU, rounded
// down to whole pages when larger than one.
func (h *Handler) ourMSS(v6 bool) uint16 {
	mss := h.mtu - header.TCPMinLen - header.IPv4MinLen
	if v6 {
		mss = h.mtu - header.TCPMinLen - header.IPv6Len
	}
	if mss > 4096 {
		mss &^= 4095
	}
	return uint16(max(mss, 64))
}

// guestMSS is the largest payload of a frame to the guest: its MSS option
// (RFC 9293 defaults without one), within our MTU.
func (h *Handler) guestMSS(o *header.TCPOptions, v6 bool) uint16 {
	mss := 536
	limit := h.mtu - header.TCPMinLen - header.IPv4MinLen
	if v6 {
		mss = 1220
		limit = h.mtu - header.TCPMinLen - header.IPv6Len
	}
	if o.HasMSS && o.MSS > 0 {
		mss = int(o.MSS)
	}
	return uint16(max(min(mss, limit), 64))
}

// take initialises the slot idx for a new connection on socket fd; the
// slot keeps its generation (advanced) and its place on the due list.
func (h *Handler) take(idx uint32, fd int, key *flow.Key, now flow.Time) *conn {
	h.used = flow.Claim(h.conns, h.used, idx, conn{fd: -1, heapIdx: -1})
	c := &h.conns[idx]
	gen, onDue := c.gen+1, c.onDue
	*c = conn{fd: int32(fd), gen: gen, onDue: onDue, heapIdx: -1, rto: rtoInitial,
		lastFromTap: now, lastActive: now}
	h.buildTemplate(c, key)
	c.isnToTap = h.flows.ISN(*key, now)
	c.seqToTap = c.isnToTap + 1
	c.seqAckFromTap, c.seqMaxToTap = c.seqToTap, c.seqToTap
	c.mssFromTap = h.ourMSS(c.v6)
	return c
}

// open handles a SYN from the guest for a new connection: a host socket
// connects, without blocking, to where the address mapping sends the
// destination; the SYN-ACK waits for the connection to complete.
func (h *Handler) open(key *flow.Key, f *header.Frame, seg header.TCP, now flow.Time) Drop {
	dst, ok := h.nat.Outbound(header.ProtocolTCP, key.RemoteAddr, key.RemotePort)
	if !ok {
		h.resetUnknown(f, seg, 0)
		return h.drop(DropRefused)
	}
	idx, err := h.flows.Insert(*key, flow.TypeTCP, now)
	if err != nil {
		if errors.Is(err, flow.ErrFull) {
			h.tableFull(now)
			h.resetUnknown(f, seg, 0)
			return h.drop(DropTableFull)
		}
		return h.drop(DropState)
	}
	domain := unix.AF_INET
	if addrIs6(dst) {
		domain = unix.AF_INET6
	}
	fd, err := unix.Socket(domain, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		h.flows.Remove(idx)
		h.resetUnknown(f, seg, 0)
		return h.drop(DropSocket)
	}
	c := h.take(idx, fd, key, now)
	opts, _ := seg.Options()
	c.isnFromTap = seg.Seq()
	c.seqFromTap = seg.Seq() + 1
	c.seqAckToTap = c.seqFromTap
	c.mssToTap = h.guestMSS(&opts, c.v6)
	if opts.HasWindowScale {
		c.flags |= fWS
		c.wsFromTap, c.wsToTap = opts.WindowScale, maxWS
	}
	c.wndFromTap = uint32(seg.Window())
	c.state = StateConnecting

	h.setupSocket(fd)
	setsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_MAXSEG, int(c.mssToTap))
	src, ifname := h.cfg.Outbound4, h.cfg.OutboundIf4
	if domain == unix.AF_INET6 {
		src, ifname = h.cfg.Outbound6, h.cfg.OutboundIf6
	}
	if ifname != "" {
		unix.BindToDevice(fd, ifname)
	}
	if src.IsValid() {
		h.sa.set(src, 0, h.cfg.Zone6)
		bind(fd, &h.sa)
	}
	h.c.Opened++
	if h.loop != nil {
		if err := h.loop.Add(fd, engine.Ref{Kind: h.kinds.Sock, Index: idx}, unix.EPOLLOUT|unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLET); err != nil {
			h.sendFlags(idx, c, header.TCPFlagRST|header.TCPFlagACK)
			h.closeConn(idx, true)
			return h.drop(DropSocket)
		}
		c.events = unix.EPOLLOUT | unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET
	}
	h.sa.set(dst, key.RemotePort, h.cfg.Zone6)
	switch e := connect(fd, &h.sa); e {
	case 0:
		h.connectDone(idx, c)
	case unix.EINPROGRESS:
	default:
		h.c.ConnectFailed++
		h.sendFlags(idx, c, header.TCPFlagRST|header.TCPFlagACK)
		h.closeConn(idx, true)
	}
	return DropNone
}

// connectDone finishes an outbound connection once the socket is
// writable: a SYN-ACK to the guest, or an RST if the connection failed
// (the guest sees ECONNREFUSED, or a timeout's error).
func (h *Handler) connectDone(idx uint32, c *conn) {
	if e, _ := getsockoptInt(int(c.fd), solSocket, unix.SO_ERROR); e != 0 {
		h.c.ConnectFailed++
		h.sendFlags(idx, c, header.TCPFlagRST|header.TCPFlagACK)
		h.closeConn(idx, false)
		return
	}
	c.state = StateSynAckSent
	h.updateWindow(c)
	h.setEvents(idx, c)
	h.sendFlags(idx, c, header.TCPFlagSYN|header.TCPFlagACK)
	h.setTimer(idx, c, h.now().Add(rtoDuration(c.rto)))
}

// acceptEvent takes the connections waiting on listener li.
func (h *Handler) acceptEvent(li uint32) {
	if int(li) >= len(h.listeners.At) || h.listeners.At[li].fd < 0 {
		return
	}
	l := &h.listeners.At[li]
	for range acceptBatch {
		fd, e := accept(l.fd, &h.sa)
		switch e {
		case 0:
			h.inbound(l, fd)
			continue
		case unix.EAGAIN, unix.EINTR, unix.ECONNABORTED:
		default:
			// Out of descriptors (EMFILE) or memory: the
			// connection stays queued, and a level-triggered
			// listener would wake the loop at once, again and
			// again. Stop watching it until the next Periodic.
			if !l.paused && h.loop != nil {
				l.paused = true
				h.loop.Mod(l.fd, engine.Ref{Kind: h.kinds.Listen, Index: li}, 0)
				h.logf(logAcceptFailed, h.now(), "TCP: accept on port %d: %v; listener paused for a second", l.Port, e)
			}
		}
		return
	}
}

// resumeListeners watches paused listeners again.
func (h *Handler) resumeListeners() {
	for i := range h.listeners.At {
		if l := &h.listeners.At[i]; l.paused && l.fd >= 0 && h.loop != nil {
			l.paused = false
			h.loop.Mod(l.fd, engine.Ref{Kind: h.kinds.Listen, Index: uint32(i)}, unix.EPOLLIN)
		}
	}
}

// inbound opens the guest side of a connection accepted on l: a SYN to the
// guest, from the client's address and port as the address mapping shows
// them, to the listener's target. A connection that cannot be forwarded
// is reset.
func (h *Handler) inbound(l *listener, fd int) {
	peer, pport, ok := h.sa.addrPort()
	if !ok {
		closeReset(fd)
		return
	}
	if p := peer.Unmap(); l.Splice && h.cfg.Splice != nil && p.IsLoopback() && h.cfg.Splice(fd, l.Forward, p.Is6()) {
		h.c.Spliced++
		return
	}
	src, ok := h.nat.Inbound(peer)
	if !ok {
		closeReset(fd)
		return
	}
	v6 := addrIs6(src)
	var dst netip.Addr
	if l.To.IsValid() {
		dst = l.To.Unmap()
	} else if h.cfg.GuestAddr != nil {
		dst = h.cfg.GuestAddr(v6, src.IsLinkLocalUnicast())
	}
	if !dst.IsValid() || addrIs6(dst) != v6 {
		closeReset(fd)
		return
	}
	key := flow.Key{GuestAddr: dst, GuestPort: l.ToPort, RemoteAddr: src, RemotePort: pport, Proto: header.ProtocolTCP}
	now := h.now()
	idx, err := h.flows.Insert(key, flow.TypeTCP, now)
	if err != nil {
		if errors.Is(err, flow.ErrFull) {
			h.c.AcceptedTableFull++
			h.tableFull(now)
		}
		closeReset(fd)
		return
	}
	c := h.take(idx, fd, &key, now)
	c.flags |= fInbound
	c.wsToTap = maxWS
	c.state = StateSynSent
	h.setupSocket(fd)
	if h.loop != nil {
		if err := h.loop.Add(fd, engine.Ref{Kind: h.kinds.Sock, Index: idx}, unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLET); err != nil {
			h.closeConn(idx, true)
			return
		}
		c.events = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET
	}
	h.c.Accepted++
	h.updateWindow(c)
	h.sendFlags(idx, c, header.TCPFlagSYN)
	h.setTimer(idx, c, now.Add(rtoDuration(c.rto)))
}

// tableFull logs, at a limited rate, that connections are being refused.
func (h *Handler) tableFull(now flow.Time) {
	h.fullCount++
	if h.logf(logTableFull, now, "TCP: flow table full (%d flows): %d new connections refused", h.flows.Len(), h.fullCount) {
		h.fullCount = 0
	}
}

// setEvents registers the epoll interest c needs: input always (edge
// triggered, so that data the guest has no window for does not wake the
// loop again and again), output while connecting or while the socket's
// send buffer is too full for a useful window.
//
// While output is wanted the registration is renewed even when unchanged:
// the kernel then checks the socket at once and, finding it full, makes
// sure to report the moment it drains (an edge-triggered registration
// would otherwise miss a socket that filled up without a write failing).
func (h *Handler) setEvents(idx uint32, c *conn) {
	ev := uint32(unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET)
	if c.state == StateConnecting || c.has(fSockFull|fLowWnd) {
		ev |= unix.EPOLLOUT
	}
	if (ev == c.events && ev&unix.EPOLLOUT == 0) || h.loop == nil {
		return
	}
	c.events = ev
	h.loop.Mod(int(c.fd), engine.Ref{Kind: h.kinds.Sock, Index: idx}, ev)
}

// sockEvent handles readiness of a connection's socket.
func (h *Handler) sockEvent(idx uint32, events uint32) {
	if int(idx) >= len(h.conns) {
		return
	}
	c := &h.conns[idx]
	if c.fd < 0 {
		return
	}
	if c.state == StateConnecting {
		if events&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			h.connectDone(idx, c)
		}
		return
	}
	if events&unix.EPOLLERR != 0 {
		h.sockError(idx, c)
		return
	}
	c.lastActive = h.now()
	if events&(unix.EPOLLRDHUP|unix.EPOLLHUP) != 0 {
		c.flags |= fPeerHup
	}
	if events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP) != 0 {
		h.sendToGuest(idx, c)
	}
	if c.fd >= 0 && events&unix.EPOLLOUT != 0 && c.has(fSockFull|fLowWnd) {
		h.sockWritable(idx, c)
	}
}

// sockError handles an error on the socket (a reset from the host peer,
// a timeout): the guest gets an RST.
func (h *Handler) sockError(idx uint32, c *conn) {
	getsockoptInt(int(c.fd), solSocket, unix.SO_ERROR)
	h.abort(idx, c)
}

// abort resets both sides of a connection.
func (h *Handler) abort(idx uint32, c *conn) {
	fl := header.TCPFlagRST | header.TCPFlagACK
	if c.state == StateSynSent {
		fl = header.TCPFlagRST
	}
	h.sendFlags(idx, c, fl)
	h.closeConn(idx, true)
}

// sockWritable handles room in the send buffer of a socket that had too
// little for a useful window: the guest gets a window update, and if data
// it had already sent was refused, three duplicate ACKs so that it
// retransmits at once instead of waiting for its timer.
func (h *Handler) sockWritable(idx uint32, c *conn) {
	old := c.wndToTap
	c.flags &^= fSockFull
	h.updateWindow(c)
	h.setEvents(idx, c)
	if c.wndToTap <= old || c.has(fTapFin) {
		return
	}
	h.c.WindowUpdates++
	h.sendFlags(idx, c, header.TCPFlagACK)
	if c.has(fLost) {
		c.flags &^= fLost
		for range 3 {
			h.sendFlags(idx, c, header.TCPFlagACK)
		}
	}
}

// updateWindow computes the window to advertise to the guest from the
// socket's send buffer: the free space (SO_MEMINFO: the buffer size less
// what its queued data is charged), converted from the kernel's memory
// accounting to bytes of data, and bounded by the host peer's receive
// window (TCP_INFO) but never below a quarter of the buffer. The guest can
// then never send more than the socket takes: a full socket means a
// window of zero, and EPOLLOUT (fLowWnd) brings the update when it
// drains.
func (h *Handler) updateWindow(c *conn) {
	c.flags &^= fLowWnd
	if c.has(fSockFull) {
		if c.wndToTap != 0 {
			h.c.ZeroWindows++
		}
		c.wndToTap = 0
		return
	}
	fd := int(c.fd)
	var sndbuf, queued int
	if n, e := getsockopt(fd, solSocket, unix.SO_MEMINFO, unsafe.Pointer(&h.mem), uint32(unsafe.Sizeof(h.mem))); e == 0 && n >= (memWmemQueued+1)*4 {
		sndbuf, queued = int(h.mem[memSndbuf]), int(h.mem[memWmemQueued])
	} else {
		sndbuf, _ = getsockoptInt(fd, solSocket, unix.SO_SNDBUF)
		q, _ := outq(fd)
		queued = q + q/int(max(c.mssToTap, 536))*skbOverhead
	}
	// The guest's segments are at most its own MSS (its MTU) and ours.
	mss := int(min(c.mssFromTap, max(c.mssToTap, 536)))
	toBytes := func(mem int) int { return int(int64(mem) * int64(mss) / int64(mss+skbOverhead)) }
	full := toBytes(sndbuf)
	w := toBytes(max(sndbuf-queued, 0))
	limit := full / 4
	if n, e := getsockopt(fd, unix.IPPROTO_TCP, unix.TCP_INFO, unsafe.Pointer(&h.info), uint32(unsafe.Sizeof(h.info))); e == 0 &&
		uintptr(n) >= unsafe.Offsetof(h.info.Snd_wnd)+4 {
		limit = max(limit, int(h.info.Snd_wnd))
	} else {
		limit = full
	}
	w = min(w, limit)
	maxw := 0xffff
	if c.has(fWS) {
		maxw <<= c.wsToTap
	}
	w = min(w, maxw)
	if w < min(full/4, maxw/2) {
		c.flags |= fLowWnd
	}
	if w < mss {
		w = 0
	}
	if w == 0 && c.wndToTap != 0 {
		h.c.ZeroWindows++
	}
	c.wndToTap = uint32(w)
}

// discardAcked removes from the socket the data the guest acknowledged.
func (h *Handler) discardAcked(c *conn) {
	n, e := discard(int(c.fd), int(c.toDiscard))
	if e != 0 {
		return
	}
	c.toDiscard -= uint32(n)
	c.peekOff -= min(c.peekOff, uint32(n))
}

// sendToGuest sends the guest what the socket has beyond what is in
// flight, as far as the guest's window allows: the data is peeked straight
// into the payload arena and each MSS-sized piece becomes a frame behind a
// header from c's template. At end of file, once all data is sent, a FIN
// follows. Nothing is removed from the socket here: that waits for the
// guest's ACK.
func (h *Handler) sendToGuest(idx uint32, c *conn) {
	if c.state != StateEstablished {
		return
	}
	if c.has(fTapFinSent) {
		// All is sent; what the guest acknowledged since still leaves
		// the socket rather than waiting there for the close.
		if c.toDiscard > 0 {
			h.discardAcked(c)
		}
		return
	}
	if h.out.Blocked() {
		h.schedule(idx, fSendDue)
		return
	}
	if c.toDiscard > 0 {
		h.discardAcked(c)
	}
	mss := int(c.mssToTap)
	for {
		wnd, inflight := c.wndFromTap, c.inFlight()
		if inflight >= wnd {
			if wnd == 0 && inflight == 0 && c.timerAt == 0 {
				c.flags |= fProbe
				h.setTimer(idx, c, h.now().Add(rtoDuration(c.rto)))
			}
			return
		}
		avail := int(wnd - inflight)
		if !h.peekOffset && int(inflight)+int(c.toDiscard) > maxSkipIOV*skipBufSize {
			return
		}
		maxFrames := min(h.out.Room(), maxBatch-len(h.frames))
		space := min(len(h.arena)-h.arenaUsed, maxFrames*mss, avail)
		if space < min(mss, avail) {
			if !h.room(1, min(mss, avail)) {
				h.schedule(idx, fSendDue)
				return
			}
			maxFrames = min(h.out.Room(), maxBatch-len(h.frames))
			space = min(len(h.arena)-h.arenaUsed, maxFrames*mss, avail)
		}
		buf := h.arena[h.arenaUsed : h.arenaUsed+space]
		h.pIOV = h.pIOV[:0]
		skip := 0
		if h.peekOffset {
			h.syncPeekOff(c)
		} else {
			skip = int(c.toDiscard + inflight)
			for left := skip; left > 0; {
				l := min(left, len(h.skipBuf))
				h.pIOV = append(h.pIOV, iov(h.skipBuf[:l]))
				left -= l
			}
		}
		h.pIOV = append(h.pIOV, iov(buf))
		n, e := peek(int(c.fd), &h.pMsg, h.pIOV)
		if e == unix.EAGAIN || e == unix.EINTR {
			return
		}
		if e != 0 {
			h.abort(idx, c)
			return
		}
		if !h.peekOffset {
			if n <= skip && skip > 0 {
				// Nothing beyond what was sent. After EPOLLRDHUP
				// everything the peer sent is queued: this is the
				// end of file.
				if c.has(fPeerHup) {
					h.sockEOF(idx, c)
				}
				return
			}
			n -= skip
		} else {
			c.peekOff += uint32(n)
		}
		if n == 0 {
			// A non-blocking peek returns 0 only at end of file.
			h.sockEOF(idx, c)
			return
		}
		h.dataFrames(idx, c, buf[:n])
		if n < space {
			if !c.has(fPeerHup) {
				return
			}
			// The peer closed: look again, for the end of file.
			continue
		}
	}
}

// dataFrames queues the frames carrying data, which was just peeked at
// seqToTap into the arena, and advances seqToTap.
func (h *Handler) dataFrames(idx uint32, c *conn, data []byte) {
	mss := int(c.mssToTap)
	mac := h.guestMAC()
	now := flow.Time(0)
	for off := 0; off < len(data); off += mss {
		p := data[off:min(off+mss, len(data))]
		fl := header.TCPFlagACK
		if off+mss >= len(data) {
			fl |= header.TCPFlagPSH
		}
		b := h.hdr()
		hl := h.putHeader(b, c, mac, fl, c.seqToTap, nil, p)
		if !h.queue(idx, c, b[:hl], p, c.seqToTap, frameData) {
			// The output refused it (the guest went away): the data
			// stays in the socket.
			h.rewind(c, c.seqToTap)
			break
		}
		if c.rttSeq == 0 && c.seqToTap == c.seqMaxToTap {
			if now == 0 {
				now = h.now()
			}
			c.rttSeq, c.rttAt = c.seqToTap+uint32(len(p)), now
		}
		c.seqToTap += uint32(len(p))
		if seqGT(c.seqToTap, c.seqMaxToTap) {
			c.seqMaxToTap = c.seqToTap
		}
		h.c.BytesToGuest += uint64(len(p))
	}
	h.arenaUsed += len(data)
	c.seqAckToTap = c.seqFromTap
	if c.timerAt == 0 || c.has(fProbe) {
		c.flags &^= fProbe
		if now == 0 {
			now = h.now()
		}
		h.setTimer(idx, c, now.Add(rtoDuration(c.rto)))
	}
}

// sockEOF handles the end of the socket's data: a FIN to the guest once
// everything before it was sent.
func (h *Handler) sockEOF(idx uint32, c *conn) {
	c.flags |= fSockEOF
	if c.has(fTapFinSent) {
		return
	}
	if !h.sendFlags(idx, c, header.TCPFlagFIN|header.TCPFlagACK) {
		h.schedule(idx, fSendDue)
		return
	}
	c.flags |= fTapFinSent
	c.finSentOnce = true
	if c.timerAt == 0 || c.has(fProbe) {
		c.flags &^= fProbe
		h.setTimer(idx, c, h.now().Add(rtoDuration(c.rto)))
	}
}

// closeConn releases a connection: its socket (with a reset for the host
// peer when reset is set), its timer and its flow.
func (h *Handler) closeConn(idx uint32, reset bool) {
	c := &h.conns[idx]
	if c.fd < 0 {
		return
	}
	if h.wIdx == int32(idx) {
		h.wIdx, h.wIOV, h.wLen, h.wFin = -1, h.wIOV[:0], 0, false
	}
	h.heapRemove(c)
	if reset {
		closeReset(int(c.fd))
	} else {
		// Data left unread would make close() send a reset: what is
		// left is what the guest acknowledged.
		if c.toDiscard > 0 {
			h.discardAcked(c)
		}
		unix.Close(int(c.fd))
	}
	c.fd = -1
	c.state = StateFree
	c.timerAt = 0
	h.flows.Remove(idx)
	h.c.Closed++
}

// checkClose closes a connection whose both directions are finished:
// the guest's FIN taken, the socket at end of file and our FIN
// acknowledged.
func (h *Handler) checkClose(idx uint32, c *conn) {
	if c.fd >= 0 && c.has(fTapFin) && c.has(fSockEOF) && c.has(fTapFinAcked) && c.seqAckToTap == c.seqFromTap {
		h.closeConn(idx, false)
	}
}
