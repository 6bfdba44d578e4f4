// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package nstest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

const (
	// bridgeBatch is the size of the buffer that collects length-prefixed
	// frames read from the tap before one write to the socket.
	bridgeBatch = 1 << 20
	// bridgeRead is the size of the buffer the socket is read into.
	bridgeRead = 1 << 20
	// bridgeSndbuf is the send buffer asked for on the socket, so that a
	// whole batch usually fits without the writer sleeping.
	bridgeSndbuf = 4 << 20
)

// BridgeStats counts what a Bridge moved. Byte counts are Ethernet bytes,
// without length prefixes.
type BridgeStats struct {
	FramesToSocket uint64 // frames read from the tap and written to the socket
	BytesToSocket  uint64
	SocketWrites   uint64 // writes to the socket; each carries a batch of frames
	FramesToTap    uint64 // frames read from the socket and written to the tap
	BytesToTap     uint64
	TapDrops       uint64 // frames the tap refused (for example while down)
	ShortTapFrames uint64 // reads from the tap shorter than an Ethernet header
}

// Bridge copies Ethernet frames between a stream socket speaking the qemu
// stream format (what passt serves to qemu) and a tap device, until the
// socket reaches end of stream or Close is called.
//
// Direction tap to socket: frames are read until the tap has no more
// (EAGAIN) or the batch buffer is full, each placed behind its length
// prefix in one contiguous buffer, and the whole batch goes out in one
// write. Direction socket to tap: the socket is read in large chunks, split
// into frames (a partial frame is carried over to the next read) and each
// frame is written to the tap with its own write. Each direction runs on
// its own locked OS thread; buffers are allocated once by NewBridge and the
// loops allocate nothing per frame.
type Bridge struct {
	sock, tap, wake int

	out  []byte    // tap -> socket batch buffer
	in   *deframer // socket -> tap
	pfds [2]unix.PollFd

	started atomic.Bool
	stopped atomic.Bool

	mu     sync.Mutex // guards closed and the descriptors against Close
	closed bool

	framesToSock, bytesToSock, sockWrites atomic.Uint64
	framesToTap, bytesToTap, tapDrops     atomic.Uint64
	shortTap                              atomic.Uint64
}

// NewBridge prepares a bridge between sock, a connected stream socket
// carrying qemu-stream framing, and tap, a descriptor on which each read
// returns one Ethernet frame and each write sends one: a tap device opened
// with IFF_TAP|IFF_NO_PI, or a datagram or seqpacket socket. It takes
// ownership of both descriptors (Run closes them), puts sock in blocking
// and tap in non-blocking mode, and asks for a large socket send buffer
// (best effort).
func NewBridge(sock, tap int) (*Bridge, error) {
	if err := unix.SetNonblock(sock, false); err != nil {
		return nil, fmt.Errorf("bridge socket: %w", err)
	}
	if err := unix.SetNonblock(tap, true); err != nil {
		return nil, fmt.Errorf("bridge tap: %w", err)
	}
	if unix.SetsockoptInt(sock, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, bridgeSndbuf) != nil {
		_ = unix.SetsockoptInt(sock, unix.SOL_SOCKET, unix.SO_SNDBUF, bridgeSndbuf)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("bridge eventfd: %w", err)
	}
	b := &Bridge{
		sock: sock,
		tap:  tap,
		wake: wake,
		out:  make([]byte, bridgeBatch),
		in:   newDeframer(bridgeRead),
	}
	b.pfds[1] = unix.PollFd{Fd: int32(wake), Events: unix.POLLIN}
	return b, nil
}

// Run moves frames in both directions and returns when the socket reaches
// end of stream or the peer closes it, when Close is called, or on the
// first I/O error. It returns nil in the first cases, and an error if the
// stream ended in the middle of a frame, carried a length outside
// [MinFrame, MaxFrame], or a read or write failed otherwise.
// Run closes both descriptors before it returns; it may be called once.
func (b *Bridge) Run() error {
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("bridge: Run called twice")
	}
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return nil
	}

	tapDone := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := b.tapToSocket()
		if err != nil && b.stopped.Load() {
			err = nil // caused by Close shutting the socket down
		}
		// Wake the other direction, blocked in a read of the socket.
		_ = unix.Shutdown(b.sock, unix.SHUT_RD)
		tapDone <- err
	}()

	runtime.LockOSThread()
	err := b.socketToTap()
	runtime.UnlockOSThread()
	if err != nil && b.stopped.Load() {
		err = nil
	}
	// Wake the other direction, waiting for the tap or blocked in a
	// write to a peer that no longer reads.
	b.signal()
	_ = unix.Shutdown(b.sock, unix.SHUT_RDWR)
	if terr := <-tapDone; err == nil {
		err = terr
	}

	b.mu.Lock()
	b.closed = true
	unix.Close(b.sock)
	unix.Close(b.tap)
	unix.Close(b.wake)
	b.mu.Unlock()
	return err
}

// Close stops a running bridge: Run returns nil soon after. If Run has not
// been called, Close releases the descriptors itself. Close may be called
// any number of times, from any goroutine.
func (b *Bridge) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.stopped.Store(true)
	if !b.started.Load() {
		b.closed = true
		unix.Close(b.sock)
		unix.Close(b.tap)
		unix.Close(b.wake)
		return nil
	}
	_ = unix.Shutdown(b.sock, unix.SHUT_RDWR)
	b.signal()
	return nil
}

// Stats returns a snapshot of the counters; it may be called while Run runs.
func (b *Bridge) Stats() BridgeStats {
	return BridgeStats{
		FramesToSocket: b.framesToSock.Load(),
		BytesToSocket:  b.bytesToSock.Load(),
		SocketWrites:   b.sockWrites.Load(),
		FramesToTap:    b.framesToTap.Load(),
		BytesToTap:     b.bytesToTap.Load(),
		TapDrops:       b.tapDrops.Load(),
		ShortTapFrames: b.shortTap.Load(),
	}
}

// signal makes the eventfd readable for good: both loops treat a readable
// eventfd as the order to stop. The counter is never read back.
func (b *Bridge) signal() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(b.wake, one[:])
}

// tapToSocket reads frames from the tap into the batch buffer, each behind
// its length prefix, and writes the batch to the socket when the tap has
// nothing more to give or the buffer is full.
func (b *Bridge) tapToSocket() error {
	buf := b.out
	pfds := b.pfds[:]
	pfds[0] = unix.PollFd{Fd: int32(b.tap), Events: unix.POLLIN}
	for {
		off, frames, idle := 0, uint64(0), false
		for len(buf)-off >= LenPrefix+MaxFrame {
			n, err := unix.Read(b.tap, buf[off+LenPrefix:off+LenPrefix+MaxFrame])
			if err == unix.EINTR {
				continue
			}
			if err == unix.EAGAIN {
				idle = true
				break
			}
			if err != nil {
				return fmt.Errorf("bridge: read tap: %w", err)
			}
			if n == 0 {
				// A tap never reads empty; a seqpacket peer that
				// closed does.
				return nil
			}
			if n < MinFrame {
				b.shortTap.Add(1)
				continue
			}
			binary.BigEndian.PutUint32(buf[off:], uint32(n))
			off += LenPrefix + n
			frames++
		}
		if off > 0 {
			if err := writeFull(b.sock, buf[:off]); err == unix.EPIPE || err == unix.ECONNRESET {
				return nil // the peer closed the stream: the end, not a failure
			} else if err != nil {
				return fmt.Errorf("bridge: write socket: %w", err)
			}
			b.framesToSock.Add(frames)
			b.bytesToSock.Add(uint64(off) - frames*LenPrefix)
			b.sockWrites.Add(1)
		}
		if b.stopped.Load() {
			return nil
		}
		if !idle {
			continue
		}
		stop, err := waitFD(pfds, unix.POLLIN)
		if stop || err != nil {
			return err
		}
	}
}

// socketToTap reads the socket in large chunks and writes every complete
// frame to the tap.
func (b *Bridge) socketToTap() error {
	d := b.in
	pfds := [2]unix.PollFd{{Fd: int32(b.tap), Events: unix.POLLOUT}, b.pfds[1]}
	for {
		n, err := unix.Read(b.sock, d.room())
		if err == unix.EINTR {
			continue
		}
		if err == unix.ECONNRESET {
			return nil
		}
		if err != nil {
			return fmt.Errorf("bridge: read socket: %w", err)
		}
		if n == 0 {
			if p := d.pending(); p > 0 && !b.stopped.Load() {
				return fmt.Errorf("bridge: stream ended inside a frame (%d bytes pending)", p)
			}
			return nil
		}
		d.filled(n)
		var frames, nbytes, drops uint64
		for {
			f, err := d.next()
			if err != nil {
				return err
			}
			if f == nil {
				break
			}
			ok, stop, err := writeFrame(b.tap, f, pfds[:])
			if err != nil {
				return err
			}
			if stop {
				return nil
			}
			if ok {
				frames++
				nbytes += uint64(len(f))
			} else {
				drops++
			}
		}
		b.framesToTap.Add(frames)
		b.bytesToTap.Add(nbytes)
		if drops > 0 {
			b.tapDrops.Add(drops)
		}
	}
}

// writeFrame writes one frame to the tap, waiting for room if the tap
// (or a socket standing in for it) is full. It reports ok=false for a frame
// the tap refused, which is dropped, and stop=true if the bridge was told to
// stop while waiting. pfds[0] must name the tap with POLLOUT and pfds[1] the
// stop eventfd.
func writeFrame(fd int, f []byte, pfds []unix.PollFd) (ok, stop bool, err error) {
	for {
		_, err := unix.Write(fd, f)
		switch err {
		case nil:
			return true, false, nil
		case unix.EINTR:
			continue
		case unix.EAGAIN, unix.ENOBUFS:
			if stop, err := waitFD(pfds, unix.POLLOUT); stop || err != nil {
				return false, stop, err
			}
		case unix.EBADF, unix.EBADFD, unix.EPIPE, unix.ECONNREFUSED:
			return false, false, fmt.Errorf("bridge: write tap: %w", err)
		default:
			// EIO (link down), EINVAL (frame the device rejects), ...
			return false, false, nil
		}
	}
}

// writeFull writes all of p to the socket, completing short writes so
// that the stream never loses step. It returns the write's errno.
func writeFull(fd int, p []byte) error {
	for len(p) > 0 {
		n, err := unix.Write(fd, p)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			// The socket was switched to non-blocking behind our
			// back; wait for room.
			for {
				_, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}, -1)
				if err != unix.EINTR {
					break
				}
			}
			continue
		}
		if err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// waitFD waits until pfds[0] is ready for events or the stop eventfd in
// pfds[1] is readable (stop=true). A hang-up or error on pfds[0] counts as
// ready: the next read or write reports it.
func waitFD(pfds []unix.PollFd, events int16) (stop bool, err error) {
	pfds[0].Events = events
	for {
		_, err := unix.Poll(pfds, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("bridge: poll: %w", err)
		}
		if pfds[1].Revents != 0 {
			return true, nil
		}
		if pfds[0].Revents&unix.POLLNVAL != 0 {
			return false, errors.New("bridge: poll: descriptor closed")
		}
		if pfds[0].Revents != 0 {
			return false, nil
		}
	}
}
