// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Conn: messages over an AF_UNIX SOCK_SEQPACKET socket, with descriptors
// passed as SCM_RIGHTS, on a raw descriptor (no os.File, no net.Conn, so
// the worker never starts the Go netpoller).

package ipc

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Conn is one end of the monitor-worker connection.
//
// Send may be called from several goroutines: each message goes out whole,
// its fragments never interleaved with another message's. Recv is meant for
// one reader at a time (concurrent calls are serialised). Close may be
// called at any time, also while Send or Recv are blocked: it wakes them.
type Conn struct {
	closing  atomic.Bool
	nonblock atomic.Bool

	sendMu sync.Mutex
	recvMu sync.Mutex
	fd     int // -1 after Close or File; written with both locks held
	fd0    int // fd as given, never written again

	// Send side, under sendMu.
	torn bool // a message went out in part: the stream is unusable
	wbuf []byte
	dbuf []byte // one fragment
	woob []byte
	smsg unix.Msghdr
	siov unix.Iovec

	// Receive side, under recvMu.
	peer Role
	rbuf []byte
	roob []byte
	rfds []int
	rmsg unix.Msghdr
	riov unix.Iovec
	part partial
}

// partial is a fragmented message being reassembled.
type partial struct {
	active bool
	h      header
	buf    []byte
	fds    []int
}

// oobLen is room for the control data of MaxFDs descriptors.
var oobLen = unix.CmsgSpace(4 * MaxFDs)

// NewConn wraps fd, an AF_UNIX SOCK_SEQPACKET socket; the Conn owns it from
// now on. The Conn accepts every kind until SetPeer restricts it. The worker
// calls NewConn(WorkerFD).
func NewConn(fd int) *Conn {
	return &Conn{
		fd:   fd,
		fd0:  fd,
		rbuf: make([]byte, MaxDatagram),
		roob: make([]byte, oobLen),
		rfds: make([]int, 0, MaxFDs),
		woob: make([]byte, oobLen),
	}
}

// Pair creates a connected socket pair with close-on-exec set on both
// ends. Each Conn accepts only the kinds the other end's role may send.
//
// The monitor hands the worker's end to the child with worker.File() as
// the first entry of exec.Cmd.ExtraFiles (fd 3 in the child, WorkerFD), and
// closes that *os.File once the child has started: while the monitor holds
// a copy, the death of the worker does not show as end of stream.
func Pair() (monitor, worker *Conn, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("ipc: socketpair: %w", err)
	}
	monitor, worker = NewConn(fds[0]), NewConn(fds[1])
	monitor.peer, worker.peer = RoleWorker, RoleMonitor
	return monitor, worker, nil
}

// SetPeer restricts Recv to the kinds a peer in role r may send; others are
// refused with ErrDirection. Zero accepts every kind.
func (c *Conn) SetPeer(r Role) {
	c.recvMu.Lock()
	c.peer = r
	c.recvMu.Unlock()
}

// SetNonblocking selects non-blocking operation: Recv returns ErrWouldBlock
// when no complete message is queued (a fragment already received is kept
// for the next call), and Send returns ErrWouldBlock when the first
// datagram of the message cannot be queued, having sent nothing. Once the
// first datagram of a fragmented message is out, Send waits for room for the
// rest. The descriptor's own O_NONBLOCK flag is never changed: blocking
// calls on a descriptor that has it wait with ppoll(2).
func (c *Conn) SetNonblocking(on bool) { c.nonblock.Store(on) }

// FD returns the socket descriptor, still owned by c (for epoll), or -1
// after Close or File.
func (c *Conn) FD() int {
	if c.closing.Load() {
		return -1
	}
	return c.fd0
}

// File hands the socket over as an *os.File, for exec.Cmd.ExtraFiles; c is
// closed afterwards and the *os.File owns the descriptor.
func (c *Conn) File() (*os.File, error) {
	if !c.closing.CompareAndSwap(false, true) {
		return nil, ErrClosed
	}
	c.sendMu.Lock()
	c.recvMu.Lock()
	defer c.sendMu.Unlock()
	defer c.recvMu.Unlock()
	fd := c.fd
	c.fd = -1
	c.dropPartial()
	return os.NewFile(uintptr(fd), "ipc"), nil
}

// Close shuts the socket down, which wakes a blocked Send or Recv (they
// return ErrClosed) and shows end of stream to the peer, then closes it.
// Descriptors of a message being reassembled are closed. Closing twice is
// a no-op.
func (c *Conn) Close() error {
	if !c.closing.CompareAndSwap(false, true) {
		return nil
	}
	// Only Close and File, guarded by the swap above, ever write c.fd.
	_ = unix.Shutdown(c.fd, unix.SHUT_RDWR)
	c.sendMu.Lock()
	c.recvMu.Lock()
	defer c.sendMu.Unlock()
	defer c.recvMu.Unlock()
	err := unix.Close(c.fd)
	c.fd = -1
	c.dropPartial()
	if err != nil {
		return fmt.Errorf("ipc: close: %w", err)
	}
	return nil
}

// Send sends m: one datagram, or fragments for a payload over MaxChunk
// bytes (a Config blob, large Stats). m.FDs stay owned by the caller; the
// kernel duplicates them into the message. Send fails without sending
// anything when m does not encode (see Message.AppendBinary).
func (c *Conn) Send(m Message) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.fd < 0 {
		return ErrClosed
	}
	if c.torn {
		return fmt.Errorf("ipc: an earlier message was sent only in part: %w", ErrClosed)
	}
	b, err := m.AppendBinary(c.wbuf[:0])
	if err != nil {
		return err
	}
	if cap(b) <= 2*MaxDatagram {
		c.wbuf = b
	} else {
		c.wbuf = nil // do not keep a large Config alive
	}
	oob := c.rights(m.FDs)
	dontwait := c.nonblock.Load()
	if len(b) <= MaxDatagram {
		return c.sendDatagram(b, oob, dontwait)
	}
	if c.dbuf == nil {
		c.dbuf = make([]byte, MaxDatagram)
	}
	h := header{version: Version, kind: m.Kind(), id: m.ID, code: m.Code}
	payload := b[HeaderLen:]
	for off := 0; off < len(payload); off += MaxChunk {
		end := min(off+MaxChunk, len(payload))
		h.flags, h.nfds, h.length = 0, 0, uint32(end-off)
		if end < len(payload) {
			h.flags = flagMore
		}
		d := c.dbuf[:HeaderLen+end-off]
		copy(d[HeaderLen:], payload[off:end])
		if off == 0 {
			h.nfds = uint8(len(m.FDs))
			putHeader(d, h)
			if err := c.sendDatagram(d, oob, dontwait); err != nil {
				return err
			}
			continue
		}
		putHeader(d, h)
		if err := c.sendDatagram(d, nil, false); err != nil {
			c.torn = true
			return err
		}
	}
	return nil
}

// SendFDs hands descriptors over with their entries (entries[i] describes
// fds[i]), in as many FDs messages of at most MaxFDs as needed, More set on
// all but the last; with no entries it sends one empty FDs message, which
// ends a hand-over. Meant for a blocking Conn.
func (c *Conn) SendFDs(id uint32, entries []FDEntry, fds []int) error {
	if len(entries) != len(fds) {
		return fmt.Errorf("ipc: %d entries for %d descriptors: %w", len(entries), len(fds), ErrFDCount)
	}
	for start := 0; ; start += MaxFDs {
		end := min(start+MaxFDs, len(entries))
		body := FDs{More: end < len(entries), Entries: entries[start:end:end]}
		if len(body.Entries) == 0 {
			body.Entries = nil
		}
		if err := c.Send(Message{ID: id, Body: body, FDs: fds[start:end:end]}); err != nil {
			return err
		}
		if end == len(entries) {
			return nil
		}
	}
}

// rights builds the SCM_RIGHTS control message for fds in c.woob.
func (c *Conn) rights(fds []int) []byte {
	if len(fds) == 0 {
		return nil
	}
	b := c.woob[:unix.CmsgSpace(4*len(fds))]
	clear(b)
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level = unix.SOL_SOCKET
	h.Type = unix.SCM_RIGHTS
	h.SetLen(unix.CmsgLen(4 * len(fds)))
	data := b[unix.CmsgLen(0):]
	for i, fd := range fds {
		binary.NativeEndian.PutUint32(data[4*i:], uint32(int32(fd)))
	}
	return b
}

// sendDatagram sends d with control data oob, retrying on EINTR. Without
// dontwait it waits for room with ppoll when the socket is non-blocking.
func (c *Conn) sendDatagram(d, oob []byte, dontwait bool) error {
	c.siov = unix.Iovec{Base: &d[0]}
	c.siov.SetLen(len(d))
	c.smsg = unix.Msghdr{Iov: &c.siov}
	c.smsg.SetIovlen(1)
	if len(oob) > 0 {
		c.smsg.Control = &oob[0]
		c.smsg.SetControllen(len(oob))
	}
	flags := unix.MSG_NOSIGNAL
	if dontwait {
		flags |= unix.MSG_DONTWAIT
	}
	for {
		n, _, e := unix.Syscall(unix.SYS_SENDMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&c.smsg)), uintptr(flags))
		switch e {
		case 0:
			if int(n) != len(d) {
				c.torn = true
				return fmt.Errorf("ipc: sendmsg sent %d of %d bytes", n, len(d))
			}
			return nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			if dontwait {
				return ErrWouldBlock
			}
			if err := waitFD(c.fd, unix.POLLOUT); err != nil {
				return err
			}
			continue
		}
		if c.closing.Load() {
			return ErrClosed
		}
		return fmt.Errorf("ipc: sendmsg: %w", e)
	}
}

// waitFD blocks until fd has one of events (or an error or hang-up).
func waitFD(fd int, events int16) error {
	pfd := [1]unix.PollFd{{Fd: int32(fd), Events: events}}
	for {
		_, err := unix.Ppoll(pfd[:], nil, nil)
		if err != unix.EINTR {
			if err != nil {
				return fmt.Errorf("ipc: ppoll: %w", err)
			}
			return nil
		}
	}
}

// Recv receives the next message. Descriptors come with close-on-exec set
// and are owned by the caller. On any error every descriptor received with
// the offending datagram (and with an unfinished fragmented message) has
// been closed; the end of stream from the peer is io.EOF, or
// io.ErrUnexpectedEOF inside a fragmented message. Errors other than
// ErrWouldBlock mean a broken or hostile peer: the datagram is consumed, and
// the caller should end the conversation.
func (c *Conn) Recv() (Message, error) {
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	for {
		if c.fd < 0 {
			return Message{}, ErrClosed
		}
		n, fds, err := c.recvDatagram()
		if err != nil {
			if err != ErrWouldBlock {
				c.dropPartial()
			}
			return Message{}, err
		}
		m, done, err := c.absorb(c.rbuf[:n], fds)
		if err != nil || done {
			return m, err
		}
	}
}

// recvDatagram receives one datagram into c.rbuf; the descriptors that came
// with it are returned in c.rfds's storage.
func (c *Conn) recvDatagram() (int, []int, error) {
	dontwait := c.nonblock.Load()
	flags := unix.MSG_CMSG_CLOEXEC
	if dontwait {
		flags |= unix.MSG_DONTWAIT
	}
	for {
		c.riov = unix.Iovec{Base: &c.rbuf[0]}
		c.riov.SetLen(len(c.rbuf))
		c.rmsg = unix.Msghdr{Iov: &c.riov, Control: &c.roob[0]}
		c.rmsg.SetIovlen(1)
		c.rmsg.SetControllen(len(c.roob))
		r, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&c.rmsg)), uintptr(flags))
		switch e {
		case 0:
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			if dontwait {
				return 0, nil, ErrWouldBlock
			}
			if err := waitFD(c.fd, unix.POLLIN); err != nil {
				return 0, nil, err
			}
			continue
		default:
			return 0, nil, fmt.Errorf("ipc: recvmsg: %w", e)
		}
		n := int(r)
		oobn := min(int(c.rmsg.Controllen), len(c.roob))
		fds, ok := parseRights(c.roob[:oobn], c.rfds[:0])
		mflags := int(c.rmsg.Flags)
		switch {
		case mflags&unix.MSG_CTRUNC != 0:
			closeFDs(fds)
			return 0, nil, fmt.Errorf("ipc: descriptors dropped by the kernel (is RLIMIT_NOFILE reached?): %w", ErrTruncated)
		case mflags&unix.MSG_TRUNC != 0:
			closeFDs(fds)
			return 0, nil, fmt.Errorf("ipc: datagram larger than %d bytes: %w", MaxDatagram, ErrTooLarge)
		case !ok:
			closeFDs(fds)
			return 0, nil, fmt.Errorf("ipc: unexpected control message: %w", ErrMalformed)
		case n == 0:
			closeFDs(fds)
			if c.closing.Load() {
				return 0, nil, ErrClosed
			}
			if c.part.active {
				return 0, nil, io.ErrUnexpectedEOF
			}
			return 0, nil, io.EOF
		}
		return n, fds, nil
	}
}

// parseRights appends to dst every descriptor in the control data oob. It
// reports false when oob holds anything but SCM_RIGHTS messages or is cut
// short; the descriptors found are returned either way, for closing.
func parseRights(oob []byte, dst []int) ([]int, bool) {
	ok := true
	hdr := unix.CmsgLen(0)
	for off := 0; off+unix.SizeofCmsghdr <= len(oob); {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[off]))
		l := int(h.Len)
		if l < hdr || l > len(oob)-off {
			return dst, false
		}
		data := oob[off+hdr : off+l]
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_RIGHTS {
			for i := 0; i+4 <= len(data); i += 4 {
				dst = append(dst, int(int32(binary.NativeEndian.Uint32(data[i:]))))
			}
		} else {
			ok = false
		}
		off += unix.CmsgSpace(l - hdr)
	}
	return dst, ok
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		_ = unix.Close(fd)
	}
}

// dropPartial forgets a message being reassembled and closes its
// descriptors.
func (c *Conn) dropPartial() {
	p := &c.part
	closeFDs(p.fds)
	p.fds = p.fds[:0]
	p.active = false
	if cap(p.buf) > MaxDatagram {
		p.buf = nil
	} else {
		p.buf = p.buf[:0]
	}
}

// absorb takes one datagram d and the descriptors that came with it (it owns
// them from now on). It returns the message when d completes one, done
// false when d was a fragment of an unfinished message.
func (c *Conn) absorb(d []byte, fds []int) (Message, bool, error) {
	fail := func(err error) (Message, bool, error) {
		closeFDs(fds)
		c.dropPartial()
		return Message{}, false, err
	}
	h, err := parseHeader(d)
	if err != nil {
		return fail(err)
	}
	if int(h.nfds) != len(fds) {
		return fail(fmt.Errorf("ipc: %v message: header declares %d descriptors, %d attached: %w", h.kind, h.nfds, len(fds), ErrFDCount))
	}
	if c.peer != 0 && !h.kind.SentBy(c.peer) {
		return fail(fmt.Errorf("ipc: %v message from the %v: %w", h.kind, c.peer, ErrDirection))
	}
	payload := d[HeaderLen:]
	more := h.flags&flagMore != 0
	p := &c.part
	switch {
	case p.active:
		if h.kind != p.h.kind || h.id != p.h.id || h.code != p.h.code {
			return fail(malformed(h.kind, "datagram %d does not continue the unfinished %v message %d", h.id, p.h.kind, p.h.id))
		}
		if len(fds) != 0 {
			return fail(fmt.Errorf("ipc: %v message: descriptors on a continuation fragment: %w", h.kind, ErrFDCount))
		}
		if more && len(payload) != MaxChunk || len(payload) == 0 {
			return fail(malformed(h.kind, "fragment of %d bytes", len(payload)))
		}
		if len(p.buf)+len(payload) > maxPayload(h.kind) {
			return fail(fmt.Errorf("ipc: %v message: reassembled payload over %d bytes: %w", h.kind, maxPayload(h.kind), ErrTooLarge))
		}
		p.buf = append(p.buf, payload...)
		if more {
			return Message{}, false, nil
		}
		// Move the descriptors out of p, so that they are closed once.
		payload, fds = p.buf, p.fds
		p.fds = p.fds[:0]
	case more:
		if maxPayload(h.kind) <= MaxChunk {
			return fail(malformed(h.kind, "fragment of a kind that always fits one datagram"))
		}
		if len(payload) != MaxChunk {
			return fail(malformed(h.kind, "first fragment of %d bytes", len(payload)))
		}
		p.active, p.h = true, h
		p.buf = append(p.buf[:0], payload...)
		p.fds = append(p.fds[:0], fds...)
		return Message{}, false, nil
	}
	m, err := decodeBody(h, payload, len(fds))
	if err != nil {
		return fail(err)
	}
	if len(fds) > 0 {
		m.FDs = append([]int(nil), fds...)
	}
	c.dropPartial()
	return m, true, nil
}
