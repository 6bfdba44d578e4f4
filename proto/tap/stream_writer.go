// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tap

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultStallTimeout is how long a StreamWriter waits, by default, for the
// peer to take the rest of a frame it accepted in part.
const DefaultStallTimeout = time.Second

// StreamWriter sends batches of frames on the qemu stream, each preceded by
// its length, with one writev per batch. It owns its iovec and length-header
// arrays, allocated by NewStreamWriter; Queue and Flush do not allocate.
type StreamWriter struct {
	writer
	prefix []byte // LengthSize bytes per frame slot
	pfd    [1]unix.PollFd
	ts     unix.Timespec
	stall  time.Duration
}

// NewStreamWriter returns a writer for the stream connection fd that
// queues up to maxFrames frames of up to maxParts slices each. One length
// header per frame is added, so maxFrames*(maxParts+1) must not exceed
// MaxIOV. fd must be non-blocking; the writer does not close it.
func NewStreamWriter(fd, maxFrames, maxParts int) (*StreamWriter, error) {
	if maxParts < 1 {
		return nil, ErrBatchSize
	}
	b, err := newBatch(maxFrames, maxParts+1)
	if err != nil {
		return nil, err
	}
	return &StreamWriter{
		writer: writer{fd: fd, b: b, parts: maxParts},
		prefix: make([]byte, maxFrames*LengthSize),
		stall:  DefaultStallTimeout,
	}, nil
}

// SetStallTimeout sets how long Flush waits for the peer to take the rest
// of a frame that it accepted in part (DefaultStallTimeout initially).
func (w *StreamWriter) SetStallTimeout(d time.Duration) { w.stall = d }

// Queue adds to the batch one frame made of parts, in order; empty parts
// are skipped. It reports whether the frame was queued, which it is not
// when the batch is full (nothing is counted: Flush and queue it again) or
// when the frame's length is outside MinFrame..MaxFrame (counted as
// DropLength).
//
// The writer keeps pointers to the parts' bytes until Flush or Reset
// returns: the caller must neither modify nor reuse them before then.
// Queue panics if given more than the maxParts slices of NewStreamWriter.
func (w *StreamWriter) Queue(parts ...[]byte) bool {
	l, ok := w.admit(parts)
	if !ok {
		return false
	}
	h := w.prefix[w.b.n*LengthSize : (w.b.n+1)*LengthSize : (w.b.n+1)*LengthSize]
	binary.BigEndian.PutUint32(h, uint32(l))
	w.b.add(h, parts)
	return true
}

// Flush sends the queued frames with one writev and empties the batch. It
// returns how many frames, from the head of the batch in queue order,
// reached the stream whole; every other frame is dropped and counted.
//
//   - Everything sent: sent == Len() before the call, err == nil.
//   - EAGAIN before any byte was taken: every frame is dropped as
//     DropAgain; sent == 0 and err == nil. The stream is intact.
//   - The socket took part of the batch: frames that had not started are
//     dropped as DropShortWrite. A frame cut in the middle is completed
//     first, waiting for POLLOUT for at most the stall timeout, and is
//     counted as Completed and sent. If it cannot be completed, it is
//     dropped too and err is ErrStalled, or the error of writev(2) or
//     poll(2): the stream is out of step and must be closed.
//   - Any other error of writev(2) drops every frame as DropError and is
//     returned (EPIPE or ECONNRESET when the peer has gone).
func (w *StreamWriter) Flush() (sent int, err error) {
	b := &w.b
	if b.n == 0 {
		return 0, nil
	}
	n, errno := writev(w.fd, b.iov[:b.niov])
	switch {
	case errno == unix.EAGAIN:
		w.finish(0, DropAgain)
		return 0, nil
	case errno != 0:
		w.finish(0, DropError)
		return 0, errno
	case n == b.bytes:
		sent = b.n
		w.finish(sent, DropShortWrite)
		return sent, nil
	}
	k, inside := b.locate(n)
	if inside == 0 {
		w.finish(k, DropShortWrite)
		return k, nil
	}
	if err := w.complete(b.frameIOV(k), inside); err != nil {
		w.finish(k, DropShortWrite)
		return k, err
	}
	w.c.Completed++
	w.finish(k+1, DropShortWrite)
	return k + 1, nil
}

// finish counts the first sent frames of the batch as delivered and the
// others as dropped for reason, then empties the batch.
func (w *StreamWriter) finish(sent int, reason Drop) {
	b := &w.b
	for i := 0; i < sent; i++ {
		w.c.Bytes += uint64(b.size[i] - LengthSize)
	}
	w.c.Frames += uint64(sent)
	w.c.Drops[reason] += uint64(b.n - sent)
	b.reset()
}

// complete writes the rest of a frame whose first done bytes were sent,
// waiting for the socket with ppoll when it is full, for at most the stall
// timeout in all. It does not allocate.
func (w *StreamWriter) complete(iov []unix.Iovec, done int) error {
	iov = Advance(iov, done)
	var deadline time.Time
	for len(iov) > 0 {
		n, errno := writev(w.fd, iov)
		if errno == 0 && n > 0 {
			iov = Advance(iov, n)
			continue
		}
		if errno != 0 && errno != unix.EAGAIN {
			return errno
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(w.stall)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return ErrStalled
		}
		w.pfd[0] = unix.PollFd{Fd: int32(w.fd), Events: unix.POLLOUT}
		w.ts = unix.NsecToTimespec(left.Nanoseconds())
		if _, err := unix.Ppoll(w.pfd[:], &w.ts, nil); err != nil && err != unix.EINTR {
			return err
		}
	}
	return nil
}
