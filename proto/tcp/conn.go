// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tcp

import (
	"passt-go/proto/flow"
)

// State is how far a connection's handshake has come. Closing is not a
// state of its own: each direction's FIN is a flag (see flags), because
// the two directions close independently.
type State uint8

// Connection states.
const (
	StateFree        State = iota // slot unused
	StateConnecting               // guest SYN seen, host connect() in progress
	StateSynAckSent               // host connected, SYN-ACK sent, guest ACK awaited
	StateSynSent                  // host connection accepted, SYN sent, guest SYN-ACK awaited
	StateEstablished              // both handshakes done: data flows

	numStates
)

var stateNames = [numStates]string{"free", "connecting", "syn-ack-sent", "syn-sent", "established"}

// String returns the state's name.
func (s State) String() string {
	if s < numStates {
		return stateNames[s]
	}
	return "invalid"
}

// flags are the conditions of a connection beyond its State.
type flags uint16

const (
	// Closing, one bit per event, in each direction.
	fSockEOF     flags = 1 << iota // the socket returned end of file: the host peer sent FIN
	fTapFinSent                    // a FIN is queued or sent to the guest at seqToTap
	fTapFinAcked                   // the guest acknowledged our FIN
	fTapFin                        // the guest's FIN was taken: socket shut down for writing

	fPeerHup    // the socket reported EPOLLRDHUP: EOF will follow the data
	fSockFull   // the socket refused guest data: window closed until EPOLLOUT
	fLost       // guest data was refused after it was sent: ask for a retransmission
	fWS         // window scaling in use (both SYNs carried the option)
	fKeepalive  // SO_KEEPALIVE set on the socket
	fInbound    // opened from a listener (host side initiated)
	fRecovering // a fast retransmission is under way: until ack passes recover
	fProbe      // the guest's window is zero and data waits: probing
	fLowWnd     // the window is small for want of buffer space: EPOLLOUT wanted

	// Deferred work, done by the due pass at the end of a batch.
	fAckDue  // send an ACK (with the current window) to the guest
	fSendDue // try to send data from the socket to the guest
)

// conn is the state of one connection. conns is indexed like the flow
// table; fd < 0 marks a free slot.
type conn struct {
	fd    int32
	state State
	flags flags
	v6    bool

	// gen changes each time the slot is taken, so that records of frames
	// in the output batch can tell a reused slot from their connection.
	gen uint32

	// Sequence space toward the guest. seqToTap is the next data byte to
	// send (a FIN, when sent, has this number); seqAckFromTap the first
	// data byte not acknowledged; seqMaxToTap the highest seqToTap ever
	// (a retransmission rewinds seqToTap, an ACK may jump it forward again).
	seqToTap, seqAckFromTap, seqMaxToTap uint32
	isnToTap                             uint32

	// Sequence space from the guest. seqFromTap is the next byte expected,
	// the ACK number we give; seqAckToTap the last ACK number sent.
	seqFromTap, seqAckToTap uint32
	isnFromTap              uint32

	// Windows in bytes, and the scale shifts each way.
	wndFromTap uint32 // the guest's receive window
	wndToTap   uint32 // the window last advertised to the guest
	wsFromTap  uint8
	wsToTap    uint8

	dupAcks uint8
	retries uint8

	// finSentOnce: a FIN went to the guest at seqMaxToTap at least once,
	// so an ACK of seqMaxToTap+1 acknowledges it even after a rewind.
	finSentOnce bool

	mssToTap   uint16 // largest payload of a frame to the guest
	mssFromTap uint16 // largest payload the guest may send (our MSS option)

	// recover is the sequence a fast retransmission must see acknowledged
	// before another may start.
	recover uint32

	// peekOff is the socket's SO_PEEK_OFF as the kernel holds it.
	peekOff uint32
	// toDiscard counts acknowledged bytes still at the head of the
	// socket's receive queue.
	toDiscard uint32

	// Round-trip time estimate (RFC 6298) in microseconds, and the sample
	// being timed: the ACK of rttSeq, sent at rttAt.
	srtt, rttvar int32
	rto          int32 // microseconds
	rttSeq       uint32
	rttAt        flow.Time

	// timerAt is when the connection's timer fires (0: not armed);
	// heapAt the key it holds in the timer heap (heapIdx, or -1).
	timerAt flow.Time
	heapAt  flow.Time
	heapIdx int32

	// lastFromTap is the time of the last segment from the guest,
	// lastActive of the last activity either way.
	lastFromTap, lastActive flow.Time

	events uint32 // the epoll interest registered

	// onDue: the connection is on the due list (kept across close, see
	// Handler.due).
	onDue bool

	// ph is the sum of the TCP pseudo-header with a zero length.
	ph uint16
	// tmpl is the frame header toward the guest: Ethernet, IP and a
	// 20-byte TCP header with ports, filled at open; hl its length.
	tmpl   [tmplRoom]byte
	hl     uint8
	tmplOK bool
}

// tmplRoom holds Ethernet, IPv6 and a TCP header without options.
const tmplRoom = 14 + 40 + 20

func (c *conn) has(f flags) bool { return c.flags&f != 0 }

// inFlight returns the data bytes sent to the guest and not acknowledged.
func (c *conn) inFlight() uint32 { return c.seqToTap - c.seqAckFromTap }

// sndNxt is the sequence number after the last one sent to the guest,
// FIN included.
func (c *conn) sndNxt() uint32 {
	if c.has(fTapFinSent) {
		return c.seqToTap + 1
	}
	return c.seqToTap
}

// Sequence number comparisons modulo 2^32 (RFC 9293 section 3.4).
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }
func seqGT(a, b uint32) bool { return int32(a-b) > 0 }
func seqGE(a, b uint32) bool { return int32(a-b) >= 0 }
