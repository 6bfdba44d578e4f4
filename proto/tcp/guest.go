// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tcp

import (
	"golang.org/x/sys/unix"

	"passt-go/proto/flow"
	"passt-go/proto/header"
)

// dupThresh is the number of duplicate ACKs from the guest that start a
// retransmission: the link to the guest does not reorder, so two are
// enough to tell a loss.
const dupThresh = 2

func (h *Handler) drop(d Drop) Drop {
	h.c.Drops[d]++
	return d
}

// FromGuest handles a TCP segment from the guest, f being what
// header.Decode returned for frame. Data in order is gathered for the
// host socket and written by InputDone (or earlier, when a segment of
// another connection comes); frame must stay valid until then. ACKs and
// window updates free the socket's data the guest has received and let
// more be sent. It returns why a segment was not taken (and counts it).
// FromGuest does not allocate once a connection exists.
func (h *Handler) FromGuest(frame []byte, f *header.Frame) Drop {
	if f.Proto != header.ProtocolTCP {
		return h.drop(DropMalformed)
	}
	seg, ok := header.ParseTCP(f.Transport(frame))
	if !ok {
		return h.drop(DropMalformed)
	}
	data := seg.Payload()
	key := flow.Key{GuestAddr: f.Src, GuestPort: f.SrcPort, RemoteAddr: f.Dst, RemotePort: f.DstPort, Proto: header.ProtocolTCP}
	now := h.now()
	idx, found := h.flows.Lookup(key)
	fl := seg.Flags()
	if !found {
		if fl&(header.TCPFlagSYN|header.TCPFlagACK|header.TCPFlagRST|header.TCPFlagFIN) == header.TCPFlagSYN &&
			f.Src.Is4() == f.Dst.Is4() && f.DstPort != 0 && f.SrcPort != 0 {
			return h.open(&key, f, seg, now)
		}
		h.resetUnknown(f, seg, len(data))
		return h.drop(DropNoFlow)
	}
	c := &h.conns[idx]
	if c.fd < 0 {
		return h.drop(DropState)
	}
	c.lastFromTap, c.lastActive = now, now
	return h.segment(idx, c, seg, data, now)
}

// segment handles a segment of an existing connection.
func (h *Handler) segment(idx uint32, c *conn, seg header.TCP, data []byte, now flow.Time) Drop {
	fl := seg.Flags()
	if fl&header.TCPFlagRST != 0 {
		return h.guestRST(idx, c, seg)
	}
	switch c.state {
	case StateConnecting:
		// A retransmitted SYN while the host connects: the SYN-ACK
		// follows the connection.
		return DropNone
	case StateSynSent:
		if fl&(header.TCPFlagSYN|header.TCPFlagACK) == header.TCPFlagSYN|header.TCPFlagACK && seg.Ack() == c.isnToTap+1 {
			h.synAck(idx, c, seg)
			return DropNone
		}
		return h.drop(DropState)
	case StateSynAckSent:
		if fl&header.TCPFlagSYN != 0 {
			h.sendFlags(idx, c, header.TCPFlagSYN|header.TCPFlagACK)
			return DropNone
		}
		if fl&header.TCPFlagACK == 0 || seg.Ack() != c.isnToTap+1 {
			return h.drop(DropState)
		}
		c.state = StateEstablished
		c.retries = 0
		c.rto = rtoInitial
		c.timerAt = 0
		c.wndFromTap = h.scaleWindow(c, seg.Window())
		// The host peer may have sent already.
		h.schedule(idx, fSendDue)
	case StateEstablished:
		if fl&header.TCPFlagSYN != 0 {
			// RFC 5961 section 4.2: a challenge ACK; a guest that
			// lost the connection answers it with an RST.
			h.sendFlags(idx, c, header.TCPFlagACK)
			return h.drop(DropState)
		}
	}
	if fl&header.TCPFlagACK != 0 {
		if d := h.ack(idx, c, seg, len(data), now); d != DropNone {
			return d
		}
		if c.fd < 0 {
			return DropNone
		}
	}
	if len(data) > 0 || fl&header.TCPFlagFIN != 0 {
		return h.data(idx, c, seg.Seq(), data, fl&header.TCPFlagFIN != 0)
	}
	if c.state == StateEstablished && seg.Seq() == c.seqFromTap+uint32(h.pendingLen(idx))-1 {
		// A keepalive, or a probe of a zero window: both want an ACK
		// with the current window.
		h.keepaliveFromGuest(idx, c)
	}
	return DropNone
}

// keepaliveFromGuest answers a segment one below the next sequence number
// expected, with at most one byte: the guest checks that the connection
// lives, so the host socket starts doing the same with its peer.
func (h *Handler) keepaliveFromGuest(idx uint32, c *conn) {
	if !c.has(fKeepalive) {
		setsockoptInt(int(c.fd), solSocket, unix.SO_KEEPALIVE, 1)
		c.flags |= fKeepalive
	}
	h.schedule(idx, fAckDue)
}

// scaleWindow returns the guest's window field in bytes.
func (h *Handler) scaleWindow(c *conn, w uint16) uint32 {
	if c.has(fWS) {
		return uint32(w) << c.wsFromTap
	}
	return uint32(w)
}

// synAck completes an inbound connection: the guest accepted it.
func (h *Handler) synAck(idx uint32, c *conn, seg header.TCP) {
	opts, _ := seg.Options()
	c.isnFromTap = seg.Seq()
	c.seqFromTap = seg.Seq() + 1
	c.mssToTap = h.guestMSS(&opts, c.v6)
	if opts.HasWindowScale {
		c.flags |= fWS
		c.wsFromTap = opts.WindowScale
	} else {
		c.wsToTap = 0
	}
	// The window of a SYN is never scaled.
	c.wndFromTap = uint32(seg.Window())
	c.state = StateEstablished
	c.retries = 0
	c.rto = rtoInitial
	c.timerAt = 0
	h.updateWindow(c)
	h.setEvents(idx, c)
	h.sendFlags(idx, c, header.TCPFlagACK)
	h.schedule(idx, fSendDue)
}

// guestRST closes the connection on an RST in the window, with a reset
// for the host peer too (SO_LINGER 0).
func (h *Handler) guestRST(idx uint32, c *conn, seg header.TCP) Drop {
	switch c.state {
	case StateSynSent:
		if seg.Flags()&header.TCPFlagACK == 0 || seg.Ack() != c.isnToTap+1 {
			return h.drop(DropOutOfWindow)
		}
	case StateConnecting:
	default:
		seq := seg.Seq()
		if seqLT(seq, c.seqFromTap) || seqGT(seq, c.seqFromTap+max(c.wndToTap, 1)+uint32(h.pendingLen(idx))) {
			return h.drop(DropOutOfWindow)
		}
	}
	h.c.ResetsFromGuest++
	h.closeConn(idx, true)
	return DropNone
}

// pendingLen is how much guest data of connection idx waits for the
// socket write.
func (h *Handler) pendingLen(idx uint32) int {
	if h.wIdx == int32(idx) {
		return h.wLen
	}
	return 0
}

// ack takes the acknowledgment and window of a segment: acknowledged data
// is discarded from the socket (later, in one call), a window that opens
// lets more be sent, and duplicate ACKs start a retransmission from the
// socket.
func (h *Handler) ack(idx uint32, c *conn, seg header.TCP, dataLen int, now flow.Time) Drop {
	ack := seg.Ack()
	wnd := h.scaleWindow(c, seg.Window())
	maxAck := c.seqMaxToTap
	if c.finSentOnce {
		maxAck++
	}
	if seqGT(ack, maxAck) {
		// An ACK of data never sent: answer with our state, drop it.
		h.sendFlags(idx, c, header.TCPFlagACK)
		return h.drop(DropOutOfWindow)
	}
	if seqLT(ack, c.seqAckFromTap) {
		// An old ACK: nothing in it is news but perhaps the window,
		// which belongs to a later segment; leave both.
		return DropNone
	}
	finAcked := c.finSentOnce && ack == c.seqMaxToTap+1
	dataAck := ack
	if finAcked {
		dataAck--
	}
	fl := seg.Flags()
	switch {
	case seqGT(dataAck, c.seqAckFromTap):
		n := dataAck - c.seqAckFromTap
		c.seqAckFromTap = dataAck
		c.toDiscard += n
		if seqLT(c.seqToTap, dataAck) {
			// Acknowledged past a rewind point: the guest had it.
			c.seqToTap = dataAck
			c.flags &^= fTapFinSent
		}
		c.retries = 0
		c.dupAcks = 0
		if c.rttSeq != 0 && seqGE(dataAck, c.rttSeq) {
			c.sample(now.Sub(c.rttAt).Microseconds())
			c.rttSeq = 0
		}
		if c.has(fRecovering) && seqGE(dataAck, c.recover) {
			c.flags &^= fRecovering
		}
		if c.inFlight() > 0 || (c.has(fTapFinSent) && !finAcked) {
			c.timerAt = now.Add(rtoDuration(c.rto))
			h.setTimer(idx, c, c.timerAt)
		} else {
			c.timerAt = 0
		}
		h.schedule(idx, fSendDue)
	case dataAck == c.seqAckFromTap && dataLen == 0 && fl&(header.TCPFlagSYN|header.TCPFlagFIN) == 0 &&
		wnd == c.wndFromTap && c.inFlight() > 0 && !finAcked:
		c.dupAcks++
		if c.dupAcks == dupThresh && (!c.has(fRecovering) || seqGE(dataAck, c.recover)) {
			h.c.FastRetransmits++
			c.recover = c.seqMaxToTap
			c.flags |= fRecovering
			h.rewind(c, c.seqAckFromTap)
			h.schedule(idx, fSendDue)
		}
	}
	if finAcked && !c.has(fTapFinAcked) {
		c.flags |= fTapFinAcked
		if c.inFlight() == 0 {
			c.timerAt = 0
		}
	}
	if wnd != c.wndFromTap {
		if wnd > c.wndFromTap {
			h.schedule(idx, fSendDue)
		}
		c.wndFromTap = wnd
	}
	if c.has(fTapFinAcked) {
		h.checkClose(idx, c)
	}
	return DropNone
}

// data takes the data (and FIN) of a segment starting at seq: what
// continues the stream joins the pending write, what repeats old data is
// answered with an ACK, and what leaves a hole is dropped with a duplicate
// ACK, for the guest to send again. Nothing is reassembled.
func (h *Handler) data(idx uint32, c *conn, seq uint32, data []byte, fin bool) Drop {
	if c.state != StateEstablished {
		return h.drop(DropState)
	}
	if c.has(fTapFin) {
		// Everything up to the FIN was taken: a retransmission.
		h.schedule(idx, fAckDue)
		return DropNone
	}
	next := c.seqFromTap + uint32(h.pendingLen(idx))
	if seqLT(seq, next) {
		skip := next - seq
		if skip >= uint32(len(data)) {
			if fin && seq+uint32(len(data)) == next {
				data = nil
			} else {
				// Old data: a retransmission, or a keepalive (one
				// byte below, at most one byte).
				if skip == 1 && len(data) <= 1 {
					h.keepaliveFromGuest(idx, c)
					return DropNone
				}
				h.flushWrite()
				if c.fd >= 0 {
					h.sendFlags(idx, c, header.TCPFlagACK)
				}
				return DropNone
			}
		} else {
			data = data[skip:]
		}
		seq = next
	}
	if seqGT(seq, next) {
		h.flushWrite()
		if c.fd >= 0 {
			h.sendFlags(idx, c, header.TCPFlagACK)
		}
		return h.drop(DropOutOfOrder)
	}
	if len(data) > 0 {
		if h.wIdx != int32(idx) {
			h.flushWrite()
			h.wIdx = int32(idx)
		}
		h.wIOV = append(h.wIOV, iov(data))
		h.wLen += len(data)
		if fin {
			h.wFin = true
		}
		if len(h.wIOV) == cap(h.wIOV) || fin {
			h.flushWrite()
		}
		return DropNone
	}
	if fin {
		if h.wIdx == int32(idx) {
			h.wFin = true
			h.flushWrite()
		} else {
			h.finFromGuest(idx, c)
		}
	}
	return DropNone
}

// flushWrite writes the pending guest data to its socket with one
// sendmsg. What the socket takes is acknowledged (by the due pass); what
// it refuses is not, and the window closes until the socket drains.
func (h *Handler) flushWrite() {
	if h.wIdx < 0 {
		return
	}
	idx := uint32(h.wIdx)
	c := &h.conns[idx]
	total, fin := h.wLen, h.wFin
	n, e := 0, unix.Errno(0)
	if total > 0 {
		n, e = sendmsg(int(c.fd), &h.wMsg, h.wIOV)
	}
	h.wIdx, h.wIOV, h.wLen, h.wFin = -1, h.wIOV[:0], 0, false
	if e != 0 && e != unix.EAGAIN {
		h.abort(idx, c)
		return
	}
	c.seqFromTap += uint32(n)
	h.c.BytesFromGuest += uint64(n)
	h.schedule(idx, fAckDue)
	if n < total {
		h.c.LostWrites++
		h.c.Drops[DropNoRoom]++
		c.flags |= fSockFull | fLost
		c.wndToTap = 0
		h.setEvents(idx, c)
		return
	}
	if fin {
		h.finFromGuest(idx, c)
	}
}

// finFromGuest takes the guest's FIN, in order after all its data: the
// socket is shut down for writing, so that the host peer reads end of file.
func (h *Handler) finFromGuest(idx uint32, c *conn) {
	if c.has(fTapFin) {
		return
	}
	c.seqFromTap++
	c.flags |= fTapFin
	unix.Shutdown(int(c.fd), unix.SHUT_WR)
	h.schedule(idx, fAckDue)
}

// schedule marks deferred work for connection idx and puts it on the due
// list.
func (h *Handler) schedule(idx uint32, f flags) {
	c := &h.conns[idx]
	c.flags |= f
	if !c.onDue {
		c.onDue = true
		h.due = append(h.due, idx)
	}
}

// InputDone ends a run of frames from the guest: pending data is written
// to its socket, then the deferred work is done. It must be called before
// the frames given to FromGuest become invalid.
func (h *Handler) InputDone() {
	h.flushWrite()
	h.runDue()
}

// resetIfGone resets every connection once the guest went away.
func (h *Handler) resetIfGone() {
	if h.gone {
		h.Reset()
	}
}

// Flush does the deferred work: the end of an event batch calls it before
// the output batch goes out.
func (h *Handler) Flush() {
	h.resetIfGone()
	h.flushWrite()
	h.runDue()
}

// Writable is told by the output that the guest side takes frames again:
// connections that waited for it send now.
func (h *Handler) Writable() { h.runDue() }

// runDue does the deferred work of the connections on the due list: data
// to send (which carries the ACK), then an ACK with a fresh window where
// one is still owed. While the guest side is blocked the list is kept.
//
// Only the connections on the list when it starts are served: one that
// is scheduled again meanwhile (its frames were refused by the output)
// waits for the next pass, so a pass always ends.
func (h *Handler) runDue() {
	n := len(h.due)
	i := 0
	for ; i < n; i++ {
		if h.out.Blocked() {
			break
		}
		idx := h.due[i]
		c := &h.conns[idx]
		c.onDue = false
		if c.fd < 0 {
			continue
		}
		fl := c.flags & (fAckDue | fSendDue)
		c.flags &^= fAckDue | fSendDue
		switch c.state {
		case StateSynSent:
			if fl&fAckDue != 0 {
				h.sendFlags(idx, c, header.TCPFlagSYN)
			}
			continue
		case StateSynAckSent:
			if fl&fAckDue != 0 {
				h.sendFlags(idx, c, header.TCPFlagSYN|header.TCPFlagACK)
			}
			continue
		case StateConnecting:
			continue
		}
		if fl&fSendDue != 0 {
			h.sendToGuest(idx, c)
			if c.fd < 0 {
				continue
			}
		}
		if fl&fAckDue != 0 || c.seqAckToTap != c.seqFromTap {
			if !c.has(fTapFin) {
				h.updateWindow(c)
				h.setEvents(idx, c)
			}
			h.sendFlags(idx, c, header.TCPFlagACK)
		}
		h.checkClose(idx, c)
	}
	rest := copy(h.due, h.due[i:])
	h.due = h.due[:rest]
}
