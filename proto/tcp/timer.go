// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tcp

import (
	"time"

	"passt-go/proto/flow"
	"passt-go/proto/header"
)

// Timeouts, as the reference behaviour has them.
const (
	// rtoInitial is the first retransmission timeout, in microseconds,
	// before any round trip was measured (and for handshakes).
	rtoInitial = 1_000_000
	// rtoMin and rtoMax bound the retransmission timeout (RFC 6298;
	// Linux's minimum and tcp_rto_max_ms's default).
	rtoMin = 200_000
	rtoMax = 120_000_000
	// synLinear SYN or SYN-ACK retransmissions go out at the initial
	// timeout, then synRetries more with the timeout doubling
	// (tcp_syn_linear_timeouts and tcp_syn_retries defaults).
	synLinear  = 4
	synRetries = 6
	// maxRetrans is how many times data or a FIN is sent again without
	// progress before the connection is reset.
	maxRetrans = 7

	// KeepaliveInterval: a connection that had no segment from the guest
	// for this long gets a keepalive probe toward the guest (a guest that
	// forgot it answers with an RST).
	KeepaliveInterval = 30 * time.Second
	// ActivityTimeout: a connection with no activity either way for this
	// long is reset.
	ActivityTimeout = 7200 * time.Second
)

func rtoDuration(us int32) time.Duration { return time.Duration(us) * time.Microsecond }

// sample takes a round-trip time measurement (RFC 6298 section 2).
func (c *conn) sample(us int64) {
	r := int32(min(max(us, 1), rtoMax))
	if c.srtt == 0 {
		c.srtt, c.rttvar = r, r/2
	} else {
		d := c.srtt - r
		if d < 0 {
			d = -d
		}
		c.rttvar = (3*c.rttvar + d) / 4
		c.srtt = (7*c.srtt + r) / 8
	}
	c.rto = min(max(c.srtt+4*c.rttvar, rtoMin), rtoMax)
}

// The timer heap orders connections by heapAt, the key they were inserted
// with; timerAt is when the timer really fires. Moving a deadline later,
// which every ACK of new data does, only changes timerAt: the entry meets
// its key first and is put back with the new deadline. Moving it earlier
// sifts the entry up. One timerfd is armed for the earliest key.

// setTimer arms c's timer for at (0 disarms it).
func (h *Handler) setTimer(idx uint32, c *conn, at flow.Time) {
	c.timerAt = at
	if at == 0 {
		return
	}
	switch {
	case c.heapIdx < 0:
		c.heapAt = at
		c.heapIdx = int32(len(h.heap))
		h.heap = append(h.heap, idx)
		h.siftUp(int(c.heapIdx))
	case at < c.heapAt:
		c.heapAt = at
		h.siftUp(int(c.heapIdx))
	default:
		return
	}
	if h.armedAt == 0 || at < h.armedAt {
		h.arm(at)
	}
}

// arm sets the timerfd for at.
func (h *Handler) arm(at flow.Time) {
	h.armedAt = at
	if h.timer == nil {
		return
	}
	d := at.Sub(h.now())
	if d < time.Microsecond {
		d = time.Microsecond
	}
	h.timer.Set(d, 0)
}

func (h *Handler) less(i, j int) bool {
	return h.conns[h.heap[i]].heapAt < h.conns[h.heap[j]].heapAt
}

func (h *Handler) swap(i, j int) {
	h.heap[i], h.heap[j] = h.heap[j], h.heap[i]
	h.conns[h.heap[i]].heapIdx = int32(i)
	h.conns[h.heap[j]].heapIdx = int32(j)
}

func (h *Handler) siftUp(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h *Handler) siftDown(i int) {
	n := len(h.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h.swap(i, m)
		i = m
	}
}

// heapRemove takes c out of the heap.
func (h *Handler) heapRemove(c *conn) {
	i := int(c.heapIdx)
	if i < 0 {
		return
	}
	last := len(h.heap) - 1
	if i != last {
		h.swap(i, last)
	}
	h.heap = h.heap[:last]
	c.heapIdx = -1
	if i < last {
		h.siftDown(i)
		h.siftUp(i)
	}
}

// runTimers handles every timer due at now and arms the timerfd for the
// next one.
func (h *Handler) runTimers(now flow.Time) {
	for len(h.heap) > 0 {
		idx := h.heap[0]
		c := &h.conns[idx]
		if c.heapAt > now {
			break
		}
		switch {
		case c.timerAt == 0:
			h.heapRemove(c)
		case c.timerAt > now:
			c.heapAt = c.timerAt
			h.siftDown(0)
		default:
			h.heapRemove(c)
			c.timerAt = 0
			h.timeout(idx, c, now)
		}
	}
	if len(h.heap) > 0 {
		h.arm(h.conns[h.heap[0]].heapAt)
	} else {
		h.armedAt = 0
	}
}

// timeout handles a connection's timer: a handshake or data segment the
// guest did not acknowledge is sent again, with a doubled timeout, until
// too many tries reset the connection; a zero window is probed.
func (h *Handler) timeout(idx uint32, c *conn, now flow.Time) {
	switch c.state {
	case StateSynSent, StateSynAckSent:
		c.retries++
		if int(c.retries) > synLinear+synRetries {
			if c.state == StateSynAckSent {
				h.sendFlags(idx, c, header.TCPFlagRST|header.TCPFlagACK)
			}
			// An accepted connection the guest never took: the
			// client sees a reset, not a refusal.
			h.closeConn(idx, true)
			return
		}
		if c.retries > synLinear {
			c.rto = min(c.rto*2, rtoMax)
		}
		fl := header.TCPFlagSYN
		if c.state == StateSynAckSent {
			fl |= header.TCPFlagACK
		}
		h.sendFlags(idx, c, fl)
		h.setTimer(idx, c, now.Add(rtoDuration(c.rto)))
	case StateEstablished:
		switch {
		case c.inFlight() > 0 || (c.has(fTapFinSent) && !c.has(fTapFinAcked)):
			c.retries++
			if c.retries > maxRetrans {
				h.abort(idx, c)
				return
			}
			h.c.Timeouts++
			c.rto = min(c.rto*2, rtoMax)
			c.dupAcks = 0
			c.flags &^= fRecovering
			h.rewind(c, c.seqAckFromTap)
			h.sendToGuest(idx, c)
			if c.fd >= 0 && c.timerAt == 0 {
				h.setTimer(idx, c, now.Add(rtoDuration(c.rto)))
			}
		case c.wndFromTap == 0 && !c.has(fTapFinSent):
			// Zero window probe: a segment one below the next
			// sequence number makes the guest answer with its
			// window.
			c.flags |= fProbe
			h.sendSeq(idx, c, header.TCPFlagACK, c.seqToTap-1)
			c.rto = min(c.rto*2, rtoMax)
			h.setTimer(idx, c, now.Add(rtoDuration(c.rto)))
		}
	}
}

// sendSeq sends an ACK-only segment with sequence number seq (a probe).
func (h *Handler) sendSeq(idx uint32, c *conn, fl header.TCPFlags, seq uint32) {
	if !h.room(1, 0) {
		return
	}
	b := h.hdr()
	n := h.putHeader(b, c, h.guestMAC(), fl, seq, nil, nil)
	h.queue(idx, c, b[:n], nil, seq, frameAck)
}

// Periodic does the slow housekeeping; the worker calls it every second.
// Listeners paused for want of descriptors are watched again. Every
// KeepaliveInterval, connections quiet on the guest side get a
// keepalive probe, and connections idle for ActivityTimeout are reset.
func (h *Handler) Periodic(now flow.Time) {
	h.runDue()
	h.resumeListeners()
	if h.lastKA != 0 && now.Sub(h.lastKA) < KeepaliveInterval {
		return
	}
	h.lastKA = now
	for i := range h.conns[:h.used] {
		c := &h.conns[i]
		if c.fd < 0 || c.state != StateEstablished {
			continue
		}
		idx := uint32(i)
		switch {
		case now.Sub(c.lastActive) >= ActivityTimeout:
			h.abort(idx, c)
		case now.Sub(c.lastFromTap) >= KeepaliveInterval:
			h.c.Keepalives++
			h.sendSeq(idx, c, header.TCPFlagACK, c.sndNxt()-1)
		}
	}
}
