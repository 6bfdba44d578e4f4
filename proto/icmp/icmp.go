// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package icmp

import (
	"encoding/binary"
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

// DefaultTimeout is how long an echo flow lives without activity.
const DefaultTimeout = 60 * time.Second

// ReplyHopLimit is the TTL or hop limit of replies sent to the guest.
const ReplyHopLimit = 255

// Config is what a Handler needs besides its collaborators.
type Config struct {
	// NAT maps destinations of requests. Nil means no translation, but
	// loopback destinations are still refused.
	NAT *nat.Config
	// OurMAC is the source MAC address of frames to the guest.
	OurMAC header.MAC
	// GuestMAC returns the guest's MAC address as learned from its frames;
	// nil, or a zero result, sends to the broadcast address.
	GuestMAC func() header.MAC
	// Timeout is the idle timeout of a flow; zero means DefaultTimeout.
	Timeout time.Duration
	// Now reads the clock; nil means flow.Now.
	Now func() flow.Time
	// Warn is told, at most once per condition for the Handler's life, of
	// conditions that disable the translation; nil ignores them.
	Warn func(Condition)
	// Zone6 is the interface index link-local IPv6 destinations are sent
	// through (the template interface); 0 leaves them unreachable.
	Zone6 uint32
}

// Condition is a lasting problem the worker should log once.
type Condition uint8

// Conditions.
const (
	// ConditionPingGroupRange: the kernel refused to open a ping socket
	// (EACCES) because our group is outside net.ipv4.ping_group_range.
	ConditionPingGroupRange Condition = iota + 1

	numConditions
)

// String returns the warning to log for c.
func (c Condition) String() string {
	switch c {
	case ConditionPingGroupRange:
		return "ICMP echo disabled: ping socket refused (EACCES); " +
			"add this process's group to sysctl net.ipv4.ping_group_range"
	}
	return "unknown ICMP condition"
}

// Drop is why a request or reply was not forwarded. Counts are kept in an
// array indexed by Drop.
type Drop uint8

// Drop reasons. DropNone means the message was forwarded.
const (
	DropNone         Drop = iota
	DropNotICMP           // the frame's protocol is not ICMP of its IP family
	DropNotEcho           // an ICMP message other than an echo request (code 0)
	DropTooShort          // the echo header is incomplete
	DropRefused           // nat.Outbound refused the destination
	DropTableFull         // no free slot in the flow table
	DropPermission        // socket() refused with EACCES (ping_group_range)
	DropSocket            // socket(), bind() or registration failed otherwise
	DropSend              // sendto() failed
	DropReplyNotEcho      // the socket returned something other than an echo reply
	DropReplySource       // the reply came from another address than the flow's
	DropReplyTooBig       // the reply does not fit an IP packet
	DropReadError         // recvfrom() failed with an error other than EAGAIN

	// NumDrops is the number of Drop values, DropNone included.
	NumDrops
)

var dropNames = [NumDrops]string{
	"none", "not icmp", "not echo request", "too short", "destination refused",
	"flow table full", "ping sockets not permitted", "socket error", "send error",
	"reply not echo", "reply from other source", "reply too big", "read error",
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
	Requests uint64 // echo requests sent to a ping socket
	Replies  uint64 // echo replies sent to the guest
	Opened   uint64 // flows (sockets) opened
	Closed   uint64 // flows closed
	Drops    [NumDrops]uint64
}

// ping is the per-flow state, indexed like the flow table.
type ping struct {
	fd     int32      // -1: no socket
	sockID uint16     // the identifier the kernel uses
	dst    netip.Addr // the host-side destination (after NAT)
}

// frameRoom holds the largest reply: Ethernet, IPv6 and a full payload.
const frameRoom = header.EthernetLen + header.IPv6Len + 65535

// Handler translates echo requests and replies. Build it with New.
type Handler struct {
	cfg   Config
	nat   *nat.Config
	flows *flow.Table
	loop  *engine.Loop
	kind  engine.Kind
	out   tap.Sink

	state    []ping // state[used:] never touched yet (flow.Claim)
	used     int
	buf      []byte
	timeouts flow.Timeouts
	expireFn func(uint32, flow.Type)
	warned   [numConditions]bool
	c        Counters

	// Scratch socket addresses, kept here so that passing them to the
	// kernel does not allocate.
	sa4     unix.SockaddrInet4
	sa6     unix.SockaddrInet6
	from    unix.RawSockaddrAny
	fromLen uint32
}

// New returns a Handler that keeps its flows in flows, registers their
// sockets with loop under references of kind kind (the flow index as
// Index), and sends frames for the guest to out. It allocates the per-flow
// state (one small entry per slot of flows) and one frame buffer.
func New(cfg Config, flows *flow.Table, loop *engine.Loop, kind engine.Kind, out tap.Sink) *Handler {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = flow.Now
	}
	h := &Handler{
		cfg:   cfg,
		nat:   cfg.NAT,
		flows: flows,
		loop:  loop,
		kind:  kind,
		out:   out,
		state: make([]ping, flows.Cap()),
		buf:   make([]byte, frameRoom),
	}
	if h.nat == nil {
		h.nat = &nat.Config{NoMapGW: true}
	}
	h.timeouts[flow.TypeICMP] = cfg.Timeout
	h.expireFn = h.expire
	return h
}

// Counters returns a copy of the totals.
func (h *Handler) Counters() Counters { return h.c }

// SocketID returns the identifier the kernel uses for the flow at index,
// which differs from the guest's when its own was taken.
func (h *Handler) SocketID(index uint32) (uint16, bool) {
	if index >= uint32(h.used) || h.state[index].fd < 0 {
		return 0, false
	}
	return h.state[index].sockID, true
}

// warn reports c once.
func (h *Handler) warn(c Condition) {
	if h.warned[c] {
		return
	}
	h.warned[c] = true
	if h.cfg.Warn != nil {
		h.cfg.Warn(c)
	}
}

// drop counts d and returns it.
func (h *Handler) drop(d Drop) Drop {
	h.c.Drops[d]++
	return d
}

// FromGuest handles an ICMP or ICMPv6 frame from the guest, f being what
// header.Decode returned for frame. An echo request is sent through the
// flow's ping socket, which is opened on the first request of a flow; the
// result says why anything else was dropped (and it is counted). frame is
// not kept and not modified. FromGuest does not allocate once the flow
// exists.
func (h *Handler) FromGuest(frame []byte, f header.Frame) Drop {
	var request uint8
	switch {
	case f.Proto == header.ProtocolICMP && f.Src.Is4() && f.Dst.Is4():
		request = header.ICMPv4EchoRequest
	case f.Proto == header.ProtocolICMPv6 && f.Src.Is6() && f.Dst.Is6():
		request = header.ICMPv6EchoRequest
	default:
		return h.drop(DropNotICMP)
	}
	msg := f.Transport(frame)
	if len(msg) < header.ICMPLen {
		return h.drop(DropTooShort)
	}
	if msg[0] != request || msg[1] != 0 {
		return h.drop(DropNotEcho)
	}
	id := binary.BigEndian.Uint16(msg[4:6])
	key := flow.Key{Proto: f.Proto, GuestAddr: f.Src, GuestPort: id, RemoteAddr: f.Dst, RemotePort: id}
	now := h.cfg.Now()
	idx, ok := h.flows.Lookup(key)
	if !ok {
		var d Drop
		if idx, d = h.open(key, now); d != DropNone {
			return h.drop(d)
		}
	}
	st := &h.state[idx]
	if st.fd < 0 {
		return h.drop(DropSocket)
	}
	// The kernel sets the identifier and the checksum itself.
	var err error
	if st.dst.Is4() {
		h.sa4.Addr, h.sa4.Port = st.dst.As4(), 0
		err = unix.Sendto(int(st.fd), msg, 0, &h.sa4)
	} else {
		h.sa6.Addr, h.sa6.Port, h.sa6.ZoneId = st.dst.As16(), 0, 0
		if st.dst.IsLinkLocalUnicast() {
			h.sa6.ZoneId = h.cfg.Zone6
		}
		err = unix.Sendto(int(st.fd), msg, 0, &h.sa6)
	}
	if err != nil {
		return h.drop(DropSend)
	}
	h.flows.Touch(idx, now)
	h.c.Requests++
	return DropNone
}

// open creates the flow for key: NAT, a table slot, a bound ping socket
// registered with the loop.
func (h *Handler) open(key flow.Key, now flow.Time) (uint32, Drop) {
	dst, ok := h.nat.Outbound(key.Proto, key.RemoteAddr, 0)
	if !ok {
		return 0, DropRefused
	}
	idx, err := h.flows.Insert(key, flow.TypeICMP, now)
	if err != nil {
		if errors.Is(err, flow.ErrFull) {
			return 0, DropTableFull
		}
		return 0, DropSocket
	}
	h.used = flow.Claim(h.state, h.used, idx, ping{fd: -1})
	fd, sockID, d := h.socket(dst.Is4(), key.GuestPort)
	if d != DropNone {
		h.flows.Remove(idx)
		return 0, d
	}
	if err := h.loop.Add(fd, engine.Ref{Kind: h.kind, Index: idx}, unix.EPOLLIN); err != nil {
		unix.Close(fd)
		h.flows.Remove(idx)
		return 0, DropSocket
	}
	h.state[idx] = ping{fd: int32(fd), sockID: sockID, dst: dst}
	h.c.Opened++
	return idx, DropNone
}

// socket opens a ping socket bound to id if the kernel allows, else to an
// identifier of its choice, and returns it with the identifier in use.
func (h *Handler) socket(v4 bool, id uint16) (int, uint16, Drop) {
	domain, proto := unix.AF_INET, unix.IPPROTO_ICMP
	if !v4 {
		domain, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	fd, err := unix.Socket(domain, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err == unix.EACCES {
		h.warn(ConditionPingGroupRange)
		return -1, 0, DropPermission
	}
	if err != nil {
		return -1, 0, DropSocket
	}
	// Ping sockets are created with SO_REUSEADDR set, and two sockets that
	// both have it may bind the same identifier, after which replies go to
	// only one of them. Without it, bind fails when any ping socket in the
	// namespace holds the identifier, and the fallback picks a free one.
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 0) != nil {
		unix.Close(fd)
		return -1, 0, DropSocket
	}
	if h.bind(fd, v4, id) == nil {
		return fd, id, DropNone
	}
	if h.bind(fd, v4, 0) != nil {
		unix.Close(fd)
		return -1, 0, DropSocket
	}
	got, ok := h.localPort(fd)
	if !ok {
		unix.Close(fd)
		return -1, 0, DropSocket
	}
	return fd, got, DropNone
}

func (h *Handler) bind(fd int, v4 bool, port uint16) error {
	if v4 {
		h.sa4 = unix.SockaddrInet4{Port: int(port)}
		return unix.Bind(fd, &h.sa4)
	}
	h.sa6 = unix.SockaddrInet6{Port: int(port)}
	return unix.Bind(fd, &h.sa6)
}

// localPort reads the port (echo identifier) a socket is bound to, without
// allocating a Sockaddr.
func (h *Handler) localPort(fd int) (uint16, bool) {
	h.fromLen = unix.SizeofSockaddrAny
	_, _, e := unix.RawSyscall(unix.SYS_GETSOCKNAME, uintptr(fd),
		uintptr(unsafe.Pointer(&h.from)), uintptr(unsafe.Pointer(&h.fromLen)))
	if e != 0 {
		return 0, false
	}
	switch h.from.Addr.Family {
	case unix.AF_INET:
		p := (*unix.RawSockaddrInet4)(unsafe.Pointer(&h.from)).Port
		return ntohs(p), true
	case unix.AF_INET6:
		p := (*unix.RawSockaddrInet6)(unsafe.Pointer(&h.from)).Port
		return ntohs(p), true
	}
	return 0, false
}

// ntohs converts a port as the kernel stores it (network order in memory)
// to its value.
func ntohs(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return binary.BigEndian.Uint16(b[:])
}

// recvFrom reads one datagram into b, the source into h.from, without
// allocating. With MSG_TRUNC the length returned is the datagram's, even
// when b was shorter.
func (h *Handler) recvFrom(fd int, b []byte) (int, unix.Errno) {
	h.fromLen = unix.SizeofSockaddrAny
	n, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd),
		uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), unix.MSG_DONTWAIT|unix.MSG_TRUNC,
		uintptr(unsafe.Pointer(&h.from)), uintptr(unsafe.Pointer(&h.fromLen)))
	return int(n), e
}

// fromAddr reports whether h.from holds dst.
func (h *Handler) fromAddr(dst netip.Addr) bool {
	switch h.from.Addr.Family {
	case unix.AF_INET:
		return dst.Is4() && (*unix.RawSockaddrInet4)(unsafe.Pointer(&h.from)).Addr == dst.As4()
	case unix.AF_INET6:
		return dst.Is6() && (*unix.RawSockaddrInet6)(unsafe.Pointer(&h.from)).Addr == dst.As16()
	}
	return false
}

// Event handles readiness of the ping socket of the flow at index: it reads
// every reply queued, sends each to the guest as a frame, and marks the flow
// active. Events for a closed flow are ignored. It does not allocate.
func (h *Handler) Event(index uint32, events uint32) {
	if index >= uint32(h.used) || h.state[index].fd < 0 {
		return
	}
	st := &h.state[index]
	key := h.flows.Key(index)
	v4 := st.dst.Is4()
	off, limit := header.EthernetLen+header.IPv6Len, 65535
	if v4 {
		off, limit = header.EthernetLen+header.IPv4MinLen, 65535-header.IPv4MinLen
	}
	got := false
	for {
		n, e := h.recvFrom(int(st.fd), h.buf[off:off+limit])
		if e == unix.EINTR {
			continue
		}
		if e == unix.EAGAIN {
			break
		}
		if e != 0 {
			h.c.Drops[DropReadError]++
			break
		}
		if n > limit {
			h.c.Drops[DropReplyTooBig]++
			continue
		}
		if !h.fromAddr(st.dst) {
			h.c.Drops[DropReplySource]++
			continue
		}
		frameLen, d := h.reply(v4, n, &key)
		if d != DropNone {
			h.c.Drops[d]++
			continue
		}
		h.out.Send(h.buf[:frameLen])
		h.c.Replies++
		got = true
	}
	if got {
		h.flows.Touch(index, h.cfg.Now())
	}
}

// reply turns the n-byte message read at its place in h.buf into a frame
// for the guest of the flow with key, and returns the frame's length.
func (h *Handler) reply(v4 bool, n int, key *flow.Key) (int, Drop) {
	guestMAC := header.BroadcastMAC
	if h.cfg.GuestMAC != nil {
		if m := h.cfg.GuestMAC(); !m.IsZero() {
			guestMAC = m
		}
	}
	return putReply(h.buf, v4, n, guestMAC, h.cfg.OurMAC, key.RemoteAddr, key.GuestAddr, key.GuestPort)
}

// putReply builds an echo reply frame in b around an n-byte ICMP message
// that a ping socket returned, already in place after room for the
// Ethernet and IP headers (IPv4 without options when v4, else IPv6). The
// message must be an echo reply, code 0; its identifier becomes id, its
// sequence number and data are kept, and its checksum is computed for src
// and dst. The frame goes from ourMAC to guestMAC, from src to dst, with TTL
// or hop limit ReplyHopLimit. It returns the frame length.
func putReply(b []byte, v4 bool, n int, guestMAC, ourMAC header.MAC, src, dst netip.Addr, id uint16) (int, Drop) {
	ipLen, ether, proto, replyType := header.IPv6Len, header.EtherTypeIPv6, header.ProtocolICMPv6, uint8(header.ICMPv6EchoReply)
	if v4 {
		ipLen, ether, proto, replyType = header.IPv4MinLen, header.EtherTypeIPv4, header.ProtocolICMP, header.ICMPv4EchoReply
	}
	off := header.EthernetLen + ipLen
	if n < header.ICMPLen || off+n > len(b) {
		return 0, DropReplyNotEcho
	}
	msg := b[off : off+n]
	if msg[0] != replyType || msg[1] != 0 {
		return 0, DropReplyNotEcho
	}
	seq := binary.BigEndian.Uint16(msg[6:8])
	var ok bool
	if v4 {
		ok = header.PutICMPv4Echo(msg, replyType, id, seq, msg[header.ICMPLen:]) == n &&
			header.PutIPv4(b[header.EthernetLen:], n, header.IPv4Fields{
				Src: src, Dst: dst, Protocol: proto, TTL: ReplyHopLimit,
			}) == ipLen
	} else {
		ok = header.PutICMPv6Echo(msg, replyType, id, seq, msg[header.ICMPLen:], src, dst) == n &&
			header.PutIPv6(b[header.EthernetLen:], n, header.IPv6Fields{
				Src: src, Dst: dst, NextHeader: proto, HopLimit: ReplyHopLimit,
			}) == ipLen
	}
	if !ok {
		return 0, DropReplyTooBig
	}
	header.PutEthernet(b, guestMAC, ourMAC, ether)
	return off + n, DropNone
}

// Expire closes every echo flow idle for the timeout at time now: its
// socket is closed (which also unregisters it) and its slot freed. It
// returns how many flows it closed and does not allocate.
func (h *Handler) Expire(now flow.Time) int {
	return h.flows.Expire(now, &h.timeouts, h.expireFn)
}

func (h *Handler) expire(index uint32, _ flow.Type) { h.closeFlow(index) }

// closeFlow releases the flow at index.
func (h *Handler) closeFlow(index uint32) {
	st := &h.state[index]
	if st.fd >= 0 {
		unix.Close(int(st.fd))
		h.c.Closed++
	}
	*st = ping{fd: -1}
	h.flows.Remove(index)
}

// Close closes every echo flow, for shutdown.
func (h *Handler) Close() {
	for i := range h.state[:h.used] {
		if h.state[i].fd >= 0 {
			h.closeFlow(uint32(i))
		}
	}
}
