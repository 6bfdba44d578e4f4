// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tcp

import (
	"encoding/binary"
	"net/netip"

	"passt-go/proto/flow"
	"passt-go/proto/header"
)

// Offsets inside the frame header template (see header's diagrams).
const (
	ethLen       = header.EthernetLen
	ip4TotalLen  = ethLen + 2
	ip4Checksum  = ethLen + 10
	ip6PayLen    = ethLen + 4
	tcpSeqOff    = 4
	tcpAckOff    = 8
	tcpOffOff    = 12
	tcpFlagsOff  = 13
	tcpWindowOff = 14
	tcpSumOff    = 16

	// templateTTL is the TTL or hop limit of frames to the guest.
	templateTTL = 64
)

// buildTemplate fills c's frame header template for the connection with
// key: from the remote address and port the guest sees to the guest's.
func (h *Handler) buildTemplate(c *conn, key *flow.Key) {
	b := c.tmpl[:]
	clear(b)
	if key.GuestAddr.Is4() {
		header.PutEthernet(b, header.BroadcastMAC, h.cfg.OurMAC, header.EtherTypeIPv4)
		header.PutIPv4(b[ethLen:], 0, header.IPv4Fields{
			Src: key.RemoteAddr, Dst: key.GuestAddr, Protocol: header.ProtocolTCP,
			TTL: templateTTL, DontFragment: true,
		})
		c.ph = header.PseudoHeaderChecksum4(header.ProtocolTCP, key.RemoteAddr, key.GuestAddr, 0)
		c.hl = ethLen + header.IPv4MinLen + header.TCPMinLen
		c.v6 = false
	} else {
		header.PutEthernet(b, header.BroadcastMAC, h.cfg.OurMAC, header.EtherTypeIPv6)
		// PutIPv6 refuses an empty payload: write it for one byte, the
		// length is set per frame.
		header.PutIPv6(b[ethLen:], 1, header.IPv6Fields{
			Src: key.RemoteAddr, Dst: key.GuestAddr, NextHeader: header.ProtocolTCP, HopLimit: templateTTL,
		})
		c.ph = header.PseudoHeaderChecksum6(header.ProtocolTCP, key.RemoteAddr, key.GuestAddr, 0)
		c.hl = ethLen + header.IPv6Len + header.TCPMinLen
		c.v6 = true
	}
	t := b[c.hl-header.TCPMinLen:]
	binary.BigEndian.PutUint16(t[0:], key.RemotePort)
	binary.BigEndian.PutUint16(t[2:], key.GuestPort)
	t[tcpOffOff] = 5 << 4
	c.tmplOK = true
}

// guestMAC returns the destination MAC address of frames to the guest.
func (h *Handler) guestMAC() header.MAC {
	if h.cfg.GuestMAC != nil {
		if m := h.cfg.GuestMAC(); !m.IsZero() {
			return m
		}
	}
	return header.BroadcastMAC
}

// putHeader writes into b the header of a segment of c with flags fl,
// sequence number seq, options opts (nil for none) and payload, which
// must already be where it will be sent from. The ACK number and window
// are c's current ones. It returns the header's length.
func (h *Handler) putHeader(b []byte, c *conn, mac header.MAC, fl header.TCPFlags, seq uint32, opts *header.TCPOptions, payload []byte) int {
	n := int(c.hl)
	copy(b[:n], c.tmpl[:n])
	copy(b[0:6], mac[:])
	optLen := 0
	if opts != nil {
		optLen = header.PutTCPOptions(b[n:], *opts)
	}
	thl := header.TCPMinLen + optLen
	tcpLen := thl + len(payload)
	if c.v6 {
		binary.BigEndian.PutUint16(b[ip6PayLen:], uint16(tcpLen))
	} else {
		total := uint16(header.IPv4MinLen + tcpLen)
		binary.BigEndian.PutUint16(b[ip4TotalLen:], total)
		sum := binary.BigEndian.Uint16(b[ip4Checksum:])
		binary.BigEndian.PutUint16(b[ip4Checksum:], header.Update16(sum, header.IPv4MinLen, total))
	}
	l4 := n - header.TCPMinLen
	t := b[l4 : l4+thl]
	binary.BigEndian.PutUint32(t[tcpSeqOff:], seq)
	var ack uint32
	if fl&header.TCPFlagACK != 0 {
		ack = c.seqFromTap
	}
	binary.BigEndian.PutUint32(t[tcpAckOff:], ack)
	t[tcpOffOff] = uint8(thl/4) << 4
	t[tcpFlagsOff] = uint8(fl)
	binary.BigEndian.PutUint16(t[tcpWindowOff:], c.windowField(fl))
	t[tcpSumOff], t[tcpSumOff+1] = 0, 0
	sum := header.Combine(c.ph, uint16(tcpLen))
	sum = header.Checksum(t, sum)
	if len(payload) > 0 {
		sum = header.Checksum(payload, sum)
	}
	binary.BigEndian.PutUint16(t[tcpSumOff:], ^sum)
	return l4 + thl
}

// windowField is the window field for a segment with flags fl: scaled,
// except in a SYN.
func (c *conn) windowField(fl header.TCPFlags) uint16 {
	w := c.wndToTap
	if fl&header.TCPFlagSYN == 0 && c.has(fWS) {
		w >>= c.wsToTap
	}
	return uint16(min(w, 0xffff))
}

// room makes sure the output batch can take n more frames with payload
// bytes of data, flushing it if needed, and reports whether it can.
func (h *Handler) room(frames, payload int) bool {
	if len(h.frames)+frames <= maxBatch && h.arenaUsed+payload <= len(h.arena) && h.out.Room() >= frames {
		return true
	}
	if len(h.frames) > 0 || h.out.Room() < frames {
		h.out.Flush()
	}
	if h.out.Blocked() {
		return false
	}
	return len(h.frames)+frames <= maxBatch && h.arenaUsed+payload <= len(h.arena) && h.out.Room() >= frames
}

// hdr returns the header slot of the next frame.
func (h *Handler) hdr() []byte {
	i := len(h.frames)
	return h.hdrs[i*hdrSlot : (i+1)*hdrSlot : (i+1)*hdrSlot]
}

// queue hands a frame to the output and records it.
func (h *Handler) queue(idx uint32, c *conn, hdr, payload []byte, seq uint32, kind frameKind) bool {
	pos, ok := h.out.Queue(hdr, payload)
	if !ok {
		return false
	}
	h.frames = append(h.frames, outFrame{idx: idx, gen: c.gen, seq: seq, kind: kind, pos: int32(pos)})
	return true
}

// sendFlags sends a segment without data: an ACK, a window update, a
// SYN, SYN-ACK or FIN, or an RST. A control segment that cannot be queued
// now is left to the due pass (ACKs) or to the timers.
func (h *Handler) sendFlags(idx uint32, c *conn, fl header.TCPFlags) bool {
	if !h.room(1, 0) {
		if fl&(header.TCPFlagSYN|header.TCPFlagFIN|header.TCPFlagRST) == 0 {
			h.schedule(idx, fAckDue)
		}
		return false
	}
	b := h.hdr()
	seq := c.seqToTap
	var opts *header.TCPOptions
	var o header.TCPOptions
	kind := frameAck
	switch {
	case fl&header.TCPFlagSYN != 0:
		seq = c.isnToTap
		o = header.TCPOptions{HasMSS: true, MSS: c.mssFromTap}
		if c.has(fWS) || c.state == StateSynSent {
			o.HasWindowScale, o.WindowScale = true, c.wsToTap
		}
		opts = &o
		kind = frameSyn
	case fl&header.TCPFlagFIN != 0:
		kind = frameFin
	case c.has(fTapFinSent):
		// Our FIN took seqToTap: what follows it has the next number.
		// Below that, the guest would take the segment for an old
		// one and ignore its ACK and window.
		seq++
	}
	n := h.putHeader(b, c, h.guestMAC(), fl, seq, opts, nil)
	if !h.queue(idx, c, b[:n], nil, seq, kind) {
		return false
	}
	if fl&header.TCPFlagACK != 0 {
		c.seqAckToTap = c.seqFromTap
	}
	if fl&header.TCPFlagRST != 0 {
		h.c.ResetsToGuest++
	}
	return true
}

// resetUnknown answers a segment that belongs to no connection with an
// RST as RFC 9293 section 3.10.7.1 says, unless it is an RST itself.
func (h *Handler) resetUnknown(f *header.Frame, seg header.TCP, dataLen int) {
	fl := seg.Flags()
	if fl&header.TCPFlagRST != 0 {
		return
	}
	var c conn
	key := flow.Key{GuestAddr: f.Src, GuestPort: f.SrcPort, RemoteAddr: f.Dst, RemotePort: f.DstPort, Proto: header.ProtocolTCP}
	h.buildTemplate(&c, &key)
	var seq uint32
	rfl := header.TCPFlagRST
	if fl&header.TCPFlagACK != 0 {
		seq = seg.Ack()
	} else {
		end := seg.Seq() + uint32(dataLen)
		if fl&header.TCPFlagSYN != 0 {
			end++
		}
		if fl&header.TCPFlagFIN != 0 {
			end++
		}
		c.seqFromTap = end
		rfl |= header.TCPFlagACK
	}
	if !h.room(1, 0) {
		return
	}
	// Not recorded: a lost reply costs nothing, the guest tries again.
	b := h.ctlSlot()
	n := h.putHeader(b, &c, f.SrcMAC, rfl, seq, nil, nil)
	if _, ok := h.out.Queue(b[:n], nil); ok {
		h.c.ResetsToGuest++
	}
}

// ctlSlot returns a header slot for a frame not tied to a connection:
// the next slot, which is then taken by a record with no connection.
func (h *Handler) ctlSlot() []byte {
	b := h.hdr()
	h.frames = append(h.frames, outFrame{idx: ^uint32(0), kind: frameAck, pos: -1})
	return b
}

// Sent is told by the output how many frames of the batch, from its head,
// were sent. Data frames that were not are sent again later (the data is
// still in the socket), and so are FIN, ACK and SYN frames; the buffers
// of the batch are free again.
func (h *Handler) Sent(n int) {
	for _, f := range h.frames {
		if f.pos < 0 || int(f.pos) < n || int(f.idx) >= len(h.conns) {
			continue
		}
		c := &h.conns[f.idx]
		if c.fd < 0 || c.gen != f.gen {
			continue
		}
		h.c.Rewinds++
		switch f.kind {
		case frameData:
			if seqLT(f.seq, c.seqToTap) && seqGE(f.seq, c.seqAckFromTap) {
				h.rewind(c, f.seq)
			}
		case frameFin:
			if c.has(fTapFinSent) && c.seqToTap == f.seq && !c.has(fTapFinAcked) {
				c.flags &^= fTapFinSent
			}
		}
		h.schedule(f.idx, fAckDue|fSendDue)
	}
	h.frames = h.frames[:0]
	h.arenaUsed = 0
}

// rewind moves seqToTap back to seq, after which the data from there on
// is sent again from the socket: SO_PEEK_OFF is set to match.
func (h *Handler) rewind(c *conn, seq uint32) {
	c.flags &^= fTapFinSent
	c.seqToTap = seq
	c.rttSeq, c.rttAt = 0, 0
	h.syncPeekOff(c)
}

// syncPeekOff sets the socket's peek offset to where the next data for the
// guest starts: past acknowledged bytes not yet discarded and bytes in
// flight.
func (h *Handler) syncPeekOff(c *conn) {
	if !h.peekOffset {
		return
	}
	off := c.toDiscard + c.inFlight()
	if off != c.peekOff {
		setsockoptInt(int(c.fd), solSocket, soPeekOff, int(off))
		c.peekOff = off
	}
}

// addrIs6 reports whether a is an IPv6 address (not IPv4-mapped).
func addrIs6(a netip.Addr) bool { return a.Is6() && !a.Is4In6() }
