// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package udp

import (
	"errors"
	"net/netip"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"passt-go/proto/engine"
	"passt-go/proto/flow"
	"passt-go/proto/header"
	"passt-go/proto/nat"
	"passt-go/proto/tap"
)

// Defaults and limits.
const (
	// DefaultTimeout is the idle timeout of a flow that has seen at most
	// one datagram each way: net.netfilter.nf_conntrack_udp_timeout's
	// default.
	DefaultTimeout = 30 * time.Second
	// DefaultStreamTimeout is the idle timeout of a flow with more than
	// one datagram in some direction:
	// net.netfilter.nf_conntrack_udp_timeout_stream's default.
	DefaultStreamTimeout = 120 * time.Second
	// DefaultMaxFlows bounds the UDP flows, and so the sockets they hold,
	// when Config.MaxFlows is zero.
	DefaultMaxFlows = 8192

	// Batch is the number of datagrams one recvmmsg or sendmmsg moves.
	Batch = 32
	// maxRounds bounds the recvmmsg calls made for one readiness event:
	// a busy socket does not starve the others, and epoll reports it
	// again.
	maxRounds = 8
	// arenaSize holds the data of the datagrams waiting for sendmmsg; it
	// always has room for the largest one.
	arenaSize = 256 << 10
	// maxErrors bounds the error-queue reads made for one event.
	maxErrors = 16
	// sockBuffer is the SO_RCVBUF and SO_SNDBUF asked for on flow and
	// listening sockets: the kernel caps it at net.core.rmem_max and
	// wmem_max (and doubles it). A burst arriving while the worker is busy
	// elsewhere waits in the socket rather than being dropped by the
	// kernel, and sendmmsg finds room for a whole batch.
	sockBuffer = 4 << 20
)

// Config is what a Handler needs besides its collaborators.
type Config struct {
	// NAT maps destinations of flows from the guest and sources of flows
	// from the host side. Nil means no mapping (loopback stays refused).
	NAT *nat.Config
	// OurMAC is the source MAC address of frames to the guest.
	OurMAC header.MAC
	// GuestMAC returns the guest's MAC address as learned from its frames;
	// nil, or a zero result, sends to the broadcast address.
	GuestMAC func() header.MAC
	// GuestAddr returns the address datagrams arriving on forwarded ports
	// go to, for IPv4 (v4) or IPv6, when the forwarding rule names none:
	// the address the guest is seen using, else its assigned one; for a
	// link-local source (linkLocal) the guest's link-local address. Nil,
	// or an invalid result, refuses such datagrams.
	GuestAddr func(v4, linkLocal bool) netip.Addr
	// Timeout and StreamTimeout are the idle timeouts of flows (see
	// DefaultTimeout, DefaultStreamTimeout); zero means the default.
	Timeout, StreamTimeout time.Duration
	// MaxFlows bounds the number of UDP flows; zero means DefaultMaxFlows.
	MaxFlows int
	// Outbound4 and Outbound6, when valid, are the source addresses of
	// sockets of flows from the guest (-o), and OutboundIf4 and
	// OutboundIf6 their interfaces (--outbound-if4/6); loopback
	// destinations ignore them.
	Outbound4, Outbound6     netip.Addr
	OutboundIf4, OutboundIf6 string
	// Zone6 is the interface index that link-local IPv6 peers are
	// reached through (the template interface); 0 leaves them unreachable.
	Zone6 uint32
	// Now reads the clock; nil means flow.Now.
	Now func() flow.Time
	// Splice, if set, is offered each datagram a listener whose Forward
	// has Splice receives from the host's loopback; if it takes the
	// datagram (returns true) the guest sees nothing of it. payload is
	// valid only during the call. pasta moves such datagrams between the
	// loopback interfaces without the tap (worker/udpsplice.go).
	Splice func(listener int, fw Forward, peer netip.AddrPort, payload []byte) bool
}

// Forward describes a listening socket of a -u rule: datagrams arriving on
// it open flows toward the guest.
type Forward struct {
	// Port is the host port the socket is bound to.
	Port uint16
	// To is the rule's target address; the zero Addr means the guest's
	// own (Config.GuestAddr).
	To netip.Addr
	// ToPort is the guest port datagrams to Port go to.
	ToPort uint16
	// Ifname is the interface the listening socket is bound to, if any;
	// sockets of its flows are bound to it too.
	Ifname string
	// Splice: datagrams from the host's loopback go to Config.Splice.
	Splice bool
}

// Drop is why a datagram (or an error about one) was not forwarded.
// Counts are kept in an array indexed by Drop.
type Drop uint8

// Drop reasons. DropNone means the datagram was forwarded or queued.
const (
	DropNone        Drop = iota
	DropNotUDP           // the frame does not carry UDP over IPv4 or IPv6
	DropMulticast        // broadcast or multicast from the guest: not forwarded
	DropSource           // the guest's source address is unusable (unspecified, multicast)
	DropRefused          // the address mapping refused the peer, or port 0
	DropFlowLimit        // the limit of UDP flows is reached
	DropTableFull        // the shared flow table is full
	DropSocket           // socket(), bind(), connect() or registration failed
	DropSend             // sendmmsg() failed
	DropTooBig           // the datagram does not fit a frame for the guest
	DropFamily           // addresses of different families (rule target and peer)
	DropNoGuestAddr      // a datagram for the guest while its address is unknown
	DropPeer             // a datagram from an unexpected source, or a flow key taken by another peer
	DropRead             // recvmmsg() failed with an error other than EAGAIN
	DropLocalError       // an error-queue entry that is not an ICMP error

	// NumDrops is the number of Drop values, DropNone included.
	NumDrops
)

var dropNames = [NumDrops]string{
	"none", "not udp", "multicast or broadcast", "bad source", "destination refused",
	"flow limit", "flow table full", "socket error", "send error", "too big",
	"address family mismatch", "guest address unknown", "unexpected peer", "read error",
	"local error",
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
	FromGuest uint64 // datagrams from the guest taken by a host socket
	ToGuest   uint64 // datagrams sent to the guest
	Spliced   uint64 // datagrams from listeners taken by Config.Splice
	Errors    uint64 // ICMP errors sent to the guest
	Opened    uint64 // flows opened
	Inbound   uint64 // of which by datagrams on forwarded ports
	Shared    uint64 // inbound flows answering through the listening socket
	Closed    uint64 // flows closed
	SendCalls uint64 // sendmmsg calls
	Drops     [NumDrops]uint64
}

// Directions, for counting datagrams per flow.
const (
	dirFromGuest = 0
	dirToGuest   = 1
)

// sock is the per-flow state, indexed like the flow table.
type sock struct {
	fd       int32 // the flow's own socket; -1 when it has none
	listener int32 // listener to answer through when fd < 0; -1 otherwise
	origin   int32 // 1 + the listener an inbound flow came from; 0 otherwise
	// peer and peerPort are the host-side peer: where datagrams from the
	// guest go, where replies come from.
	peer     netip.Addr
	peerPort uint16
	ttl      uint8    // TTL or hop limit last set on fd; 0: kernel default
	count    [2]uint8 // datagrams each way, saturating at 2
	live     bool
}

// listener is a bound socket of a -u rule.
type listener struct {
	fd int
	v6 bool // AF_INET6, maybe dual-stack
	Forward
}

// Handler translates UDP between the guest and host sockets. Build it
// with New; it is not safe for concurrent use: the event-loop thread owns
// it.
type Handler struct {
	cfg        Config
	nat        *nat.Config
	flows      *flow.Table
	loop       *engine.Loop
	sockKind   engine.Kind
	listenKind engine.Kind
	out        tap.Sink

	state     []sock // state[used:] never touched yet (flow.Claim)
	used      int
	listeners engine.Slots[listener] // fd -1: a free slot
	live      int
	max       int
	timeouts  flow.Timeouts
	expireFn  func(uint32, flow.Type)
	c         Counters

	// Receive side: Batch buffers with room for headers before the data,
	// read by one recvmmsg.
	rxBuf  [Batch][]byte
	rxIov  [Batch]unix.Iovec
	rxName [Batch]sockaddr
	rxCtrl [Batch][pktinfoControlRoom]byte
	rxMsgs [Batch]mmsghdr

	// Send side: datagrams of one flow waiting for sendmmsg, their data
	// copied into arena.
	arena  []byte
	txUsed int
	txN    int
	txFlow uint32
	txName sockaddr
	txIov  [Batch]unix.Iovec
	txMsgs [Batch]mmsghdr

	// Error queue: one message at a time, read straight into the frame
	// that quotes it.
	errBuf  []byte
	errIov  unix.Iovec
	errName sockaddr
	errCtrl [errControlRoom]byte
	errMsg  unix.Msghdr

	sa sockaddr // scratch address for bind and connect

	// lastFlow is the flow of the last datagram from the guest; it is
	// checked against the table before use, never trusted.
	lastFlow uint32
}

// New returns a Handler that keeps its flows in flows, registers flow
// sockets with loop under references of kind sockKind and listening
// sockets under listenKind (with the flow or listener index as Index), and
// sends frames for the guest to out. It allocates everything the data path
// uses: the per-flow state (one small entry per slot of flows, written
// only as slots come into use) and about
// 2.5 MiB of buffers.
func New(cfg Config, flows *flow.Table, loop *engine.Loop, sockKind, listenKind engine.Kind, out tap.Sink) *Handler {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.StreamTimeout <= 0 {
		cfg.StreamTimeout = DefaultStreamTimeout
	}
	if cfg.MaxFlows <= 0 {
		cfg.MaxFlows = DefaultMaxFlows
	}
	if cfg.Now == nil {
		cfg.Now = flow.Now
	}
	h := &Handler{
		cfg:        cfg,
		nat:        cfg.NAT,
		flows:      flows,
		loop:       loop,
		sockKind:   sockKind,
		listenKind: listenKind,
		out:        out,
		state:      make([]sock, flows.Cap()),
		max:        min(cfg.MaxFlows, flows.Cap()),
		arena:      make([]byte, arenaSize),
		errBuf:     make([]byte, errDataOff(false)+0xffff),
	}
	if h.nat == nil {
		h.nat = &nat.Config{NoMapGW: true}
	}
	backing := make([]byte, Batch*slotSize)
	for i := range h.rxBuf {
		h.rxBuf[i] = backing[i*slotSize : (i+1)*slotSize : (i+1)*slotSize]
		h.rxIov[i].Base = &h.rxBuf[i][hdrRoom]
		h.rxIov[i].SetLen(MaxPayload4)
		h.rxMsgs[i].hdr.Iov = &h.rxIov[i]
		h.rxMsgs[i].hdr.SetIovlen(1)
		h.txMsgs[i].hdr.Iov = &h.txIov[i]
		h.txMsgs[i].hdr.SetIovlen(1)
	}
	h.errMsg.Iov = &h.errIov
	h.errMsg.SetIovlen(1)
	h.timeouts[flow.TypeUDP] = cfg.Timeout
	h.timeouts[flow.TypeUDPStream] = cfg.StreamTimeout
	h.expireFn = h.expire
	return h
}

// Counters returns a copy of the totals.
func (h *Handler) Counters() Counters { return h.c }

// Flows returns the number of UDP flows open.
func (h *Handler) Flows() int { return h.live }

// Timeouts returns the idle timeouts in use: of flows with at most one
// datagram each way, and of streams.
func (h *Handler) Timeouts() (timeout, stream time.Duration) {
	return h.cfg.Timeout, h.cfg.StreamTimeout
}

// MaxFlows returns the limit of UDP flows.
func (h *Handler) MaxFlows() int { return h.max }

func (h *Handler) drop(d Drop) Drop {
	h.c.Drops[d]++
	return d
}

func (h *Handler) guestMAC() header.MAC {
	if h.cfg.GuestMAC != nil {
		if m := h.cfg.GuestMAC(); !m.IsZero() {
			return m
		}
	}
	return header.BroadcastMAC
}

var broadcast4 = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// FromGuest handles a UDP frame from the guest, f being what
// header.Decode returned for frame. The datagram's data is copied into the
// batch waiting for sendmmsg, which is sent by Flush, or before the data
// of another flow is queued, or when the batch is full: the caller calls
// Flush once it has no more frames at hand. The flow, with its socket, is
// opened on its first datagram. The result says why a datagram was not
// queued (it is counted); send errors are counted by Flush. frame is not
// kept and not modified. FromGuest does not allocate once the flow exists.
func (h *Handler) FromGuest(frame []byte, f header.Frame) Drop {
	if f.Proto != header.ProtocolUDP || !(f.Src.Is4() && f.Dst.Is4() || f.Src.Is6() && f.Dst.Is6()) {
		return h.drop(DropNotUDP)
	}
	if f.Dst.IsMulticast() || f.Dst == broadcast4 || f.DstMAC.IsMulticast() {
		return h.drop(DropMulticast)
	}
	if f.Src.IsMulticast() || f.Src.IsUnspecified() || f.Src == broadcast4 {
		return h.drop(DropSource)
	}
	if f.DstPort == 0 {
		return h.drop(DropRefused)
	}
	key := flow.Key{Proto: header.ProtocolUDP, GuestAddr: f.Src, GuestPort: f.SrcPort, RemoteAddr: f.Dst, RemotePort: f.DstPort}
	now := h.cfg.Now()
	// Datagrams come in runs of one flow: the previous one's slot, if it
	// still holds this key, spares the table's keyed hash.
	idx, ok := h.lastFlow, false
	if h.flows.InUse(idx) && h.flows.Key(idx) == key {
		ok = true
	} else {
		idx, ok = h.flows.Lookup(key)
	}
	if !ok {
		var d Drop
		if idx, d = h.openOutbound(key, now); d != DropNone {
			return h.drop(d)
		}
	}
	st := &h.state[idx]
	if !st.live {
		return h.drop(DropSocket)
	}
	if st.fd >= 0 && f.TTL != st.ttl {
		if h.txN > 0 && h.txFlow == idx {
			h.Flush()
		}
		h.setTTL(st, f.TTL)
	}
	h.lastFlow = idx
	h.queue(idx, st, f.Data(frame))
	h.flows.Touch(idx, now)
	h.note(idx, st, dirFromGuest, 1)
	return DropNone
}

// setTTL applies the guest's TTL or hop limit to the flow's socket, so
// that tools like traceroute work through the translation.
func (h *Handler) setTTL(st *sock, ttl uint8) {
	level, opt := unix.IPPROTO_IP, unix.IP_TTL
	if !st.peer.Is4() {
		level, opt = unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS
	}
	if setInt(int(st.fd), level, opt, int(ttl)) == 0 {
		st.ttl = ttl
	}
}

// queue adds data to the batch for the flow at idx, sending what waits
// first when the batch belongs to another flow or is full.
func (h *Handler) queue(idx uint32, st *sock, data []byte) {
	if h.txN > 0 && (h.txFlow != idx || h.txN == Batch || len(h.arena)-h.txUsed < len(data)) {
		h.Flush()
	}
	if h.txN == 0 {
		h.txFlow = idx
		if st.fd < 0 && st.listener >= 0 {
			h.txName.set(st.peer, st.peerPort, h.listeners.At[st.listener].v6, h.zone(st.peer))
		}
	}
	iov := &h.txIov[h.txN]
	iov.Base = nil
	if len(data) > 0 {
		copy(h.arena[h.txUsed:], data)
		iov.Base = &h.arena[h.txUsed]
	}
	iov.SetLen(len(data))
	m := &h.txMsgs[h.txN].hdr
	m.Name, m.Namelen = nil, 0
	if st.fd < 0 {
		m.Name = (*byte)(unsafe.Pointer(&h.txName.raw))
		m.Namelen = h.txName.len()
	}
	h.txUsed += len(data)
	h.txN++
}

// Pending reports whether datagrams wait for Flush.
func (h *Handler) Pending() bool { return h.txN > 0 }

// Flush sends the datagrams queued by FromGuest with as few sendmmsg calls
// as the kernel allows. A datagram the kernel refuses is dropped and
// counted; an error the kernel reports late for an earlier datagram
// (ECONNREFUSED after a port unreachable, for instance) is retried once.
// It does not allocate.
func (h *Handler) Flush() {
	n := h.txN
	if n == 0 {
		return
	}
	h.txN, h.txUsed = 0, 0
	st := &h.state[h.txFlow]
	fd := int(st.fd)
	if fd < 0 && st.listener >= 0 {
		fd = h.listeners.At[st.listener].fd
	}
	if !st.live || fd < 0 {
		h.c.Drops[DropSocket] += uint64(n)
		return
	}
	sent, retried := 0, false
	for tries := 0; sent < n && tries < 2*Batch+2; tries++ {
		k, e := sendmmsg(fd, h.txMsgs[sent:n])
		h.c.SendCalls++
		switch {
		case e == 0:
			sent += k
			h.c.FromGuest += uint64(k)
			retried = false
		case e == unix.EINTR:
		case e == unix.EAGAIN || e == unix.ENOBUFS:
			h.c.Drops[DropSend] += uint64(n - sent)
			sent = n
		case !retried && lateError(e):
			retried = true
		default:
			h.c.Drops[DropSend]++
			sent++
			retried = false
		}
	}
	if sent < n {
		h.c.Drops[DropSend] += uint64(n - sent)
	}
}

// lateError reports whether e may belong to an earlier datagram: the
// kernel keeps an ICMP error on a connected socket and returns it from the
// next call.
func lateError(e unix.Errno) bool {
	switch e {
	case unix.ECONNREFUSED, unix.EHOSTUNREACH, unix.ENETUNREACH, unix.EHOSTDOWN:
		return true
	}
	return false
}

// note counts n datagrams in direction dir on the flow at idx; the second
// datagram in one direction makes the flow a stream, with the longer
// timeout.
func (h *Handler) note(idx uint32, st *sock, dir, n int) {
	if st.count[dir] >= 2 {
		return
	}
	st.count[dir] = uint8(min(int(st.count[dir])+n, 2))
	if st.count[dir] >= 2 && h.flows.Type(idx) == flow.TypeUDP {
		h.flows.SetType(idx, flow.TypeUDPStream)
	}
}

// zone returns the scope of a link-local IPv6 peer.
func (h *Handler) zone(a netip.Addr) uint32 {
	if a.Is6() && a.IsLinkLocalUnicast() {
		return h.cfg.Zone6
	}
	return 0
}

// openOutbound creates the flow for key, a datagram from the guest: the
// address mapping, a table slot, a socket bound to the guest's source port
// where the host allows it and connected to the peer, registered with the
// loop.
func (h *Handler) openOutbound(key flow.Key, now flow.Time) (uint32, Drop) {
	if h.live >= h.max {
		return 0, DropFlowLimit
	}
	dst, ok := h.nat.Outbound(header.ProtocolUDP, key.RemoteAddr, key.RemotePort)
	if !ok {
		return 0, DropRefused
	}
	v4 := dst.Is4()
	var local netip.Addr
	ifname := ""
	if !dst.IsLoopback() {
		local, ifname = h.cfg.Outbound6, h.cfg.OutboundIf6
		if v4 {
			local, ifname = h.cfg.Outbound4, h.cfg.OutboundIf4
		}
	}
	idx, err := h.flows.Insert(key, flow.TypeUDP, now)
	if err != nil {
		if errors.Is(err, flow.ErrFull) {
			return 0, DropTableFull
		}
		return 0, DropSocket
	}
	h.used = flow.Claim(h.state, h.used, idx, sock{fd: -1, listener: -1})
	fd, d := h.socket(v4, local, key.GuestPort, true, ifname)
	if d == DropNone {
		d = h.connect(fd, idx, dst, key.RemotePort)
	}
	if d != DropNone {
		h.flows.Remove(idx)
		return 0, d
	}
	h.state[idx] = sock{fd: int32(fd), listener: -1, peer: dst, peerPort: key.RemotePort, live: true}
	h.live++
	h.c.Opened++
	return idx, DropNone
}

// socket opens a UDP socket of the family, with IP_RECVERR, bound to
// local (the unspecified address when invalid) and port. With anyPort, a
// port the host refuses (taken, or privileged) is replaced by one the
// kernel picks. SO_REUSEADDR lets flows of one guest port to several
// peers, and flows of a forwarded port, share the port: each socket is
// connected, and the kernel gives each datagram to the socket connected
// to its source.
func (h *Handler) socket(v4 bool, local netip.Addr, port uint16, anyPort bool, ifname string) (int, Drop) {
	domain := unix.AF_INET6
	if v4 {
		domain = unix.AF_INET
	}
	if !local.IsValid() {
		local = netip.IPv6Unspecified()
		if v4 {
			local = netip.IPv4Unspecified()
		}
	}
	fd, err := unix.Socket(domain, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, DropSocket
	}
	fail := func() (int, Drop) {
		unix.Close(fd)
		return -1, DropSocket
	}
	if setInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1) != 0 {
		return fail()
	}
	if v4 {
		if setInt(fd, unix.IPPROTO_IP, unix.IP_RECVERR, 1) != 0 {
			return fail()
		}
	} else if setInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1) != 0 || setInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVERR, 1) != 0 {
		return fail()
	}
	setBuffers(fd)
	if ifname != "" {
		unix.BindToDevice(fd, ifname) // best effort, as for -o
	}
	h.sa.set(local, port, !v4, 0)
	if bindRaw(fd, &h.sa) != 0 {
		if !anyPort || port == 0 {
			return fail()
		}
		h.sa.set(local, 0, !v4, 0)
		if bindRaw(fd, &h.sa) != 0 {
			return fail()
		}
	}
	return fd, DropNone
}

// setBuffers asks for large socket buffers on fd; where the host's limits
// are lower the kernel gives what they allow, which is not an error.
func setBuffers(fd int) {
	setInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, sockBuffer)
	setInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, sockBuffer)
}

// connect connects fd to the peer and registers it for the flow at idx;
// on failure fd is closed.
func (h *Handler) connect(fd int, idx uint32, peer netip.Addr, port uint16) Drop {
	h.sa.set(peer, port, !peer.Is4(), h.zone(peer))
	if connectRaw(fd, &h.sa) != 0 {
		unix.Close(fd)
		return DropSocket
	}
	if h.loop.Add(fd, engine.Ref{Kind: h.sockKind, Index: idx}, unix.EPOLLIN) != nil {
		unix.Close(fd)
		return DropSocket
	}
	return DropNone
}

// Event handles readiness of a descriptor registered by the Handler:
// a flow's socket (kind sockKind) or a listening socket (listenKind). It
// reads what is queued and sends it to the guest, as datagrams or as ICMP
// errors. It does not allocate for existing flows.
func (h *Handler) Event(ref engine.Ref, events uint32) {
	switch ref.Kind {
	case h.sockKind:
		h.sockEvent(ref.Index, events)
	case h.listenKind:
		if events&unix.EPOLLERR != 0 {
			h.listenErrors(ref.Index)
		}
		if events&unix.EPOLLIN != 0 {
			h.listenEvent(ref.Index)
		}
	}
}

func (h *Handler) sockEvent(idx uint32, events uint32) {
	if idx >= uint32(len(h.state)) {
		return
	}
	st := &h.state[idx]
	if !st.live || st.fd < 0 {
		return
	}
	if events&unix.EPOLLERR != 0 {
		h.recvErrors(idx, st)
	}
	if events&unix.EPOLLIN != 0 {
		h.recvFlow(idx, st)
	}
}

// prepareRecv sets the message headers for a recvmmsg, with room for the
// control data when control is set.
func (h *Handler) prepareRecv(control bool) {
	for i := range h.rxMsgs {
		m := &h.rxMsgs[i].hdr
		m.Name = (*byte)(unsafe.Pointer(&h.rxName[i].raw))
		m.Namelen = unix.SizeofSockaddrInet6
		m.Control = nil
		m.SetControllen(0)
		if control {
			m.Control = &h.rxCtrl[i][0]
			m.SetControllen(pktinfoControlRoom)
		}
		m.Flags = 0
	}
}

// recvFlow reads the datagrams queued on a flow's socket and sends them
// to the guest from the address and port the guest sent to.
func (h *Handler) recvFlow(idx uint32, st *sock) {
	key := h.flows.Key(idx)
	v4 := key.GuestAddr.Is4()
	mac := h.guestMAC()
	got := 0
	for round := 0; round < maxRounds; round++ {
		h.prepareRecv(false)
		n, e := recvmmsg(int(st.fd), h.rxMsgs[:], 0)
		if e == unix.EINTR || lateError(e) {
			continue
		}
		if e == unix.EAGAIN {
			break
		}
		if e != 0 {
			h.c.Drops[DropRead]++
			break
		}
		for i := 0; i < n; i++ {
			m := &h.rxMsgs[i]
			if m.hdr.Flags&unix.MSG_TRUNC != 0 {
				h.c.Drops[DropTooBig]++
				continue
			}
			if !h.rxName[i].is(st.peer, st.peerPort) {
				h.c.Drops[DropPeer]++
				continue
			}
			frame, d := putDatagram(h.rxBuf[i], v4, int(m.n), mac, h.cfg.OurMAC,
				key.RemoteAddr, key.RemotePort, key.GuestAddr, key.GuestPort)
			if d != DropNone {
				h.c.Drops[d]++
				continue
			}
			h.out.Send(frame)
			h.c.ToGuest++
			got++
		}
		if n < Batch {
			break
		}
	}
	if got > 0 {
		h.flows.Touch(idx, h.cfg.Now())
		h.note(idx, st, dirToGuest, got)
	}
}

// recvErrors reads the error queue of a flow's socket and sends each ICMP
// error to the guest, quoting the datagram as the guest sent it.
func (h *Handler) recvErrors(idx uint32, st *sock) {
	key := h.flows.Key(idx)
	v4 := key.GuestAddr.Is4()
	off := errDataOff(v4)
	for i := 0; i < maxErrors; i++ {
		n, ee, ok, e := h.readError(int(st.fd), off)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			break
		}
		if !ok || ee.origin != icmpOrigin(v4) {
			h.c.Drops[DropLocalError]++
			continue
		}
		h.reflectError(key, st, ee, n)
	}
	// Clear an error the queue did not account for, so that epoll stops
	// reporting it.
	getInt(int(st.fd), unix.SOL_SOCKET, unix.SO_ERROR)
}

// readError reads one message from the error queue of the socket fd
// without blocking: the start of the datagram the error concerns into
// h.errBuf[off:], and that datagram's destination into h.errName. It
// returns the length of the data read and the extended error of the
// message, ok false when it carries none, or the error number of
// recvmsg(2).
func (h *Handler) readError(fd, off int) (n int, ee extendedErr, ok bool, e unix.Errno) {
	h.errIov.Base = &h.errBuf[off]
	h.errIov.SetLen(len(h.errBuf) - off)
	h.errMsg.Name = (*byte)(unsafe.Pointer(&h.errName.raw))
	h.errMsg.Namelen = unix.SizeofSockaddrInet6
	h.errMsg.Control = &h.errCtrl[0]
	h.errMsg.SetControllen(errControlRoom)
	h.errMsg.Flags = 0
	n, e = recvmsg(fd, &h.errMsg, unix.MSG_ERRQUEUE)
	if e != 0 {
		return 0, extendedErr{}, false, e
	}
	ee, ok = parseExtendedErr(h.errCtrl[:min(int(h.errMsg.Controllen), errControlRoom)])
	return n, ee, ok, 0
}

// icmpOrigin is the error-queue origin of ICMP errors of the family.
func icmpOrigin(v4 bool) uint8 {
	if v4 {
		return eeOriginICMP
	}
	return eeOriginICMP6
}

// reflectError sends the guest the ICMP error ee about a datagram of the
// flow key, whose n bytes of data are at h.errBuf[errDataOff(v4):]: from
// the flow's remote address when the peer itself complained, else from
// the complaining router as the address mapping shows it.
func (h *Handler) reflectError(key flow.Key, st *sock, ee extendedErr, n int) {
	v4 := key.GuestAddr.Is4()
	from := key.RemoteAddr
	if ee.offender.IsValid() && ee.offender != st.peer {
		if a, ok := h.nat.Inbound(ee.offender); ok && ofFamily(a, v4) {
			from = a
		}
	}
	l, d := putICMPError(h.errBuf, v4, n, h.guestMAC(), h.cfg.OurMAC,
		icmpError{typ: ee.typ, code: ee.code, rest: errorRest(v4, ee.typ, ee.code, ee.info), from: from},
		datagram{guest: key.GuestAddr, guestPort: key.GuestPort, remote: key.RemoteAddr, remotePort: key.RemotePort})
	if d != DropNone {
		h.c.Drops[d]++
		return
	}
	h.out.Send(h.errBuf[:l])
	h.c.Errors++
}

// Expire closes every UDP flow idle for its timeout at time now: its
// socket is closed (which also unregisters it) and its slot freed. It
// returns how many flows it closed and does not allocate.
func (h *Handler) Expire(now flow.Time) int {
	return h.flows.Expire(now, &h.timeouts, h.expireFn)
}

func (h *Handler) expire(index uint32, _ flow.Type) { h.closeFlow(index) }

// closeFlow releases the flow at index, sending first what it has queued.
func (h *Handler) closeFlow(index uint32) {
	if h.txN > 0 && h.txFlow == index {
		h.Flush()
	}
	st := &h.state[index]
	if st.fd >= 0 {
		unix.Close(int(st.fd))
	}
	if st.live {
		h.live--
		h.c.Closed++
	}
	*st = sock{fd: -1, listener: -1}
	h.flows.Remove(index)
}

// Close closes every UDP flow and listening socket, for shutdown.
func (h *Handler) Close() {
	h.Flush()
	for i := range h.state[:h.used] {
		if h.state[i].live {
			h.closeFlow(uint32(i))
		}
	}
	for i := range h.listeners.At {
		if fd := h.listeners.At[i].fd; fd >= 0 {
			unix.Close(fd)
			h.listeners.Release(uint32(i), listener{fd: -1})
		}
	}
}
