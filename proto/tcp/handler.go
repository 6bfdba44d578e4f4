// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tcp

import (
	"errors"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"passt-go/proto/engine"
	"passt-go/proto/flow"
	"passt-go/proto/header"
	"passt-go/proto/nat"
)

// Output is the guest side of the worker as the Handler sees it: a batch of
// frames sent with one write, each frame given as a header and a payload.
type Output interface {
	// Room returns how many more frames the batch can take now.
	Room() int
	// Queue adds a frame made of hdr and payload (which may be empty) to
	// the batch and returns its position in the batch. Both slices must
	// stay untouched until the batch is flushed. ok is false when the
	// frame was not queued (no room, or no guest).
	Queue(hdr, payload []byte) (pos int, ok bool)
	// Flush sends the batch now. The output calls Handler.Sent with the
	// number of frames, from the head of the batch, that went out.
	Flush()
	// Blocked reports that the guest side cannot take frames now (its
	// socket is full, or no guest is connected); the output calls
	// Handler.Writable when that ends.
	Blocked() bool
}

// Kinds are the epoll reference kinds of the Handler's descriptors.
type Kinds struct {
	Sock, Listen, Timer engine.Kind
}

// Config is what a Handler needs besides its collaborators.
type Config struct {
	// NAT maps destinations of outbound connections and sources of
	// inbound ones. Nil means no mapping (loopback still refused).
	NAT *nat.Config
	// OurMAC is the source MAC address of frames to the guest.
	OurMAC header.MAC
	// GuestMAC returns the guest's MAC address as learned; nil or a zero
	// result sends to the broadcast address.
	GuestMAC func() header.MAC
	// GuestAddr returns the address an inbound connection goes to when
	// its rule names none: the guest's IPv4 address, or (v6) its global or
	// (linkLocal) link-local IPv6 address, as seen in its traffic or as
	// assigned. An invalid result refuses the connection.
	GuestAddr func(v6, linkLocal bool) netip.Addr
	// MTU of the guest link; 0 means DefaultMTU.
	MTU int
	// Zone6 is the interface index for link-local IPv6 destinations.
	Zone6 uint32
	// Outbound4 and Outbound6, when valid, are bound as the source of
	// outbound connections (-o); OutboundIf4 and OutboundIf6, when set,
	// bind them to that interface (--outbound-if4, --outbound-if6).
	Outbound4, Outbound6     netip.Addr
	OutboundIf4, OutboundIf6 string
	// Now reads the clock; nil means flow.Now.
	Now func() flow.Time
	// Logf reports rare conditions (the flow table full, a listener
	// paused); it is called at most once per LogInterval for each kind of
	// condition. Nil drops them.
	Logf func(format string, args ...any)
	// Splice, if set, is offered each connection accepted on a listener
	// whose Forward has Splice, from a loopback client; if it takes the
	// socket (returns true) it owns it and the guest sees nothing.
	// pasta moves such connections without the tap (worker/splice.go).
	Splice func(fd int, fw Forward, v6 bool) bool
	// NoPeekOffset disables SO_PEEK_OFF even where the kernel has it
	// (tests of the fallback path).
	NoPeekOffset bool
}

// DefaultMTU is the MTU assumed when Config.MTU is 0.
const DefaultMTU = 65520

// LogInterval is the least time between two log lines of one kind.
const LogInterval = 10 * time.Second

// logKind is a kind of rate-limited log line. Each kind has its own limit,
// so that a frequent condition never hides another one.
type logKind uint8

const (
	logTableFull    logKind = iota // connections refused: flow table full
	logAcceptFailed                // accept failed, listener paused

	numLogKinds
)

// Drop is why a segment from the guest was not taken. Counts are kept in
// an array indexed by Drop.
type Drop uint8

// Drop reasons. DropNone means the segment was handled.
const (
	DropNone        Drop = iota
	DropMalformed        // not a parsable TCP segment of its family
	DropNoFlow           // no connection and not a SYN: answered with RST
	DropRefused          // the destination is refused by the address mapping
	DropTableFull        // no free flow: answered with RST
	DropSocket           // the host socket could not be opened
	DropOutOfOrder       // data after a hole: dropped, duplicate ACK sent
	DropOutOfWindow      // data or RST outside the window, or an ACK of unsent data
	DropState            // not valid in the connection's state
	DropNoRoom           // the host socket refused the data: not acknowledged

	// NumDrops is the number of Drop values, DropNone included.
	NumDrops
)

var dropNames = [NumDrops]string{
	"none", "malformed", "no connection", "destination refused", "flow table full",
	"socket error", "out of order", "out of window", "bad state", "socket full",
}

// String returns a short lower-case description of d.
func (d Drop) String() string {
	if d < NumDrops {
		return dropNames[d]
	}
	return "invalid"
}

// Counters are the Handler's totals.
type Counters struct {
	Opened            uint64 // connections the guest opened
	Accepted          uint64 // connections accepted on listeners
	Spliced           uint64 // accepted and handed to Config.Splice
	Closed            uint64 // connections closed, all ways
	ResetsToGuest     uint64 // RST segments sent to the guest
	ResetsFromGuest   uint64 // RST segments from the guest that closed a connection
	ConnectFailed     uint64 // host connect() failures (refused, unreachable)
	FastRetransmits   uint64 // retransmissions on duplicate ACKs
	Timeouts          uint64 // retransmissions on timeouts
	Rewinds           uint64 // frames the guest side dropped, sent again
	LostWrites        uint64 // guest data refused by a full socket after it was sent
	ZeroWindows       uint64 // times a zero window was advertised
	WindowUpdates     uint64 // window updates sent when a socket drained
	Keepalives        uint64 // keepalive probes sent to the guest
	AcceptedTableFull uint64 // accepted, then reset: the flow table was full
	BytesFromGuest    uint64 // data written to sockets
	BytesToGuest      uint64 // data sent to the guest (retransmissions included)
	Drops             [NumDrops]uint64
}

// Forward describes a listening socket of a -t rule: connections accepted
// on it go to ToPort of the guest, at To when To is valid, else at the
// guest's own address (Config.GuestAddr).
type Forward struct {
	Port   uint16 // the listening port, for log messages
	To     netip.Addr
	ToPort uint16
	// Splice: connections from the host's loopback go to Config.Splice.
	Splice bool
}

// listener is a listening socket of a -t rule.
type listener struct {
	fd int
	Forward
	// paused: accept failed for want of descriptors or memory; the
	// listener is not watched until the next Periodic.
	paused bool
}

// outFrame records a frame in the output batch, so that a frame the guest
// side dropped can be sent again.
type outFrame struct {
	idx  uint32
	gen  uint32
	seq  uint32
	kind frameKind
	pos  int32
}

type frameKind uint8

const (
	frameData frameKind = iota // data, possibly with FIN
	frameFin                   // FIN without data
	frameAck                   // ACK or window update
	frameSyn                   // SYN or SYN-ACK
)

// Sizes of the buffers for frames toward the guest.
const (
	// arenaSize holds the payloads of one output batch; when it runs out
	// the batch is flushed.
	arenaSize = 8 << 20
	// hdrSlot holds one frame header: Ethernet, IPv6 and TCP with options.
	hdrSlot = 14 + 40 + 60 + 2
	// maxBatch bounds the frames of one output batch.
	maxBatch = 512
	// maxWriteIOV bounds the segments gathered into one sendmsg.
	maxWriteIOV = 1024
)

// Handler translates TCP between the guest and host sockets. Build it with
// New. A Handler is not safe for concurrent use; the event-loop thread owns
// it.
type Handler struct {
	cfg   Config
	nat   *nat.Config
	flows *flow.Table
	loop  *engine.Loop
	kinds Kinds
	out   Output
	now   func() flow.Time
	mtu   int

	conns     []conn // conns[used:] never touched yet (flow.Claim)
	used      int
	listeners engine.Slots[listener] // fd -1: a free slot

	timer   *engine.Timer
	heap    []uint32
	armedAt flow.Time

	// due lists connections with deferred work (fAckDue, fSendDue).
	due []uint32

	// Output batch: headers, payload arena, records.
	hdrs      []byte
	arena     []byte
	arenaUsed int
	frames    []outFrame

	// Pending write of guest data: segments of connection wIdx, in order.
	wIdx int32
	wIOV []unix.Iovec
	wLen int
	wFin bool // the last segment carried FIN
	wMsg unix.Msghdr

	// Peeking.
	pIOV    []unix.Iovec
	pMsg    unix.Msghdr
	skipBuf []byte // fallback without SO_PEEK_OFF: already-sent data lands here

	peekOffset bool // SO_PEEK_OFF works on TCP sockets
	sndbuf     int  // SO_SNDBUF to set, 0 to leave autotuning alone
	rcvbuf     int  // SO_RCVBUF to set, 0 for the default

	info unix.TCPInfo
	mem  [memVars]uint32
	sa   sockaddr

	gone      bool // GuestGone was called
	lastKA    flow.Time
	lastLog   [numLogKinds]flow.Time // zero: never
	fullCount uint64                 // refusals not logged yet

	c Counters
}

// New returns a Handler that keeps its connections in flows, registers
// their sockets with loop under kinds, and sends frames for the guest to
// out. It probes the kernel (SO_PEEK_OFF, socket buffer limits) with a
// throwaway socket, so it must run before the seccomp filter is loaded if
// socket creation is restricted; it allocates everything the Handler will
// use: per-connection state for every slot of flows (written only as
// slots come into use), and about 9 MiB of frame buffers.
func New(cfg Config, flows *flow.Table, loop *engine.Loop, kinds Kinds, out Output) (*Handler, error) {
	if cfg.Now == nil {
		cfg.Now = flow.Now
	}
	if cfg.MTU <= 0 {
		cfg.MTU = DefaultMTU
	}
	h := &Handler{
		cfg:    cfg,
		nat:    cfg.NAT,
		flows:  flows,
		loop:   loop,
		kinds:  kinds,
		out:    out,
		now:    cfg.Now,
		mtu:    min(cfg.MTU, 65535),
		conns:  make([]conn, flows.Cap()),
		due:    make([]uint32, 0, flows.Cap()),
		hdrs:   make([]byte, maxBatch*hdrSlot),
		arena:  make([]byte, arenaSize),
		frames: make([]outFrame, 0, maxBatch),
		wIdx:   -1,
		wIOV:   make([]unix.Iovec, 0, maxWriteIOV),
		pIOV:   make([]unix.Iovec, 0, 2+maxSkipIOV),
	}
	if h.nat == nil {
		h.nat = &nat.Config{NoMapGW: true}
	}
	h.heap = make([]uint32, 0, flows.Cap())
	h.probe()
	if !h.peekOffset {
		h.skipBuf = make([]byte, skipBufSize)
	}
	if loop != nil {
		t, err := loop.NewTimer(engine.Ref{Kind: kinds.Timer})
		if err != nil {
			return nil, err
		}
		h.timer = t
	}
	return h, nil
}

// Without SO_PEEK_OFF, data already sent and not acknowledged is peeked
// again into a scratch buffer of skipBufSize bytes, repeated in up to
// maxSkipIOV iovecs: 16 MiB, the largest window we accept from a guest.
const (
	skipBufSize = 1 << 20
	maxSkipIOV  = 16
)

// probe learns what the kernel offers, with one unconnected socket.
func (h *Handler) probe() {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	if !h.cfg.NoPeekOffset && setsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PEEK_OFF, 0) == 0 {
		h.peekOffset = true
	}
	// Large buffers when the limits allow them (net.core.wmem_max,
	// rmem_max): setting SO_SNDBUF turns autotuning off, so it is worth
	// it only when the result is larger than what autotuning reaches
	// quickly.
	if setsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, bigBuffer) == 0 {
		if v, e := getsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF); e == 0 && v >= bigBufferMin {
			h.sndbuf = bigBuffer
		}
	}
	if setsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, bigBuffer) == 0 {
		if v, e := getsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF); e == 0 && v >= bigBufferMin {
			h.rcvbuf = bigBuffer
		}
	}
}

// Socket buffer sizes: bigBuffer is asked for (the kernel caps it at the
// sysctl maximum and doubles it), bigBufferMin is the least result worth
// turning autotuning off for.
const (
	bigBuffer    = 1 << 30
	bigBufferMin = 4 << 20
)

// PeekOffset reports whether SO_PEEK_OFF is in use.
func (h *Handler) PeekOffset() bool { return h.peekOffset }

// Counters returns a copy of the totals.
func (h *Handler) Counters() Counters { return h.c }

// Len returns the number of open connections.
func (h *Handler) Len() int {
	n := 0
	for i := range h.conns[:h.used] {
		if h.conns[i].fd >= 0 {
			n++
		}
	}
	return n
}

// AddListener registers fd, a listening TCP socket, with the loop;
// connections accepted on it go where fw says. The Handler owns fd from
// then on, even on error.
func (h *Handler) AddListener(fd int, fw Forward) error {
	if fw.ToPort == 0 {
		unix.Close(fd)
		return errors.New("tcp: listener without a target port")
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return err
	}
	i := h.listeners.Next()
	if h.loop != nil {
		if err := h.loop.Add(fd, engine.Ref{Kind: h.kinds.Listen, Index: i}, unix.EPOLLIN); err != nil {
			unix.Close(fd)
			return err
		}
	}
	h.listeners.Put(i, listener{fd: fd, Forward: fw})
	return nil
}

// Event handles readiness of one of the Handler's descriptors.
func (h *Handler) Event(ev engine.Event) {
	switch ev.Ref.Kind {
	case h.kinds.Sock:
		h.sockEvent(ev.Ref.Index, ev.Events)
	case h.kinds.Listen:
		h.acceptEvent(ev.Ref.Index)
	case h.kinds.Timer:
		if h.timer != nil {
			h.timer.Ack()
		}
		h.armedAt = 0
		h.runTimers(h.now())
	}
}

// Close resets every connection and closes the listeners, for shutdown.
func (h *Handler) Close() {
	h.Reset()
	for _, l := range h.listeners.At {
		if l.fd >= 0 {
			unix.Close(l.fd)
		}
	}
	h.listeners = engine.Slots[listener]{}
	if h.timer != nil {
		h.timer.Close()
	}
}

// GuestGone is told that the guest went away: its TCP state is gone with
// it, so every connection is reset on the host side at the next Flush (not
// at once: the output may call this from inside a flush the Handler
// started).
func (h *Handler) GuestGone() { h.gone = true }

// Reset closes every connection with a reset on the host side.
func (h *Handler) Reset() {
	h.gone = false
	h.wIdx, h.wIOV, h.wLen, h.wFin = -1, h.wIOV[:0], 0, false
	for i := range h.conns[:h.used] {
		if h.conns[i].fd >= 0 {
			h.closeConn(uint32(i), true)
		}
	}
	h.frames = h.frames[:0]
	h.arenaUsed = 0
}

// logf reports a rare condition of kind k, at most once per LogInterval
// for each kind, and reports whether it did.
func (h *Handler) logf(k logKind, now flow.Time, format string, args ...any) bool {
	last := &h.lastLog[k]
	if h.cfg.Logf == nil || (*last != 0 && now.Sub(*last) < LogInterval) {
		return false
	}
	*last = now
	h.cfg.Logf(format, args...)
	return true
}
