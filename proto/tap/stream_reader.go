// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tap

import (
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"
)

// Frame length limits on the qemu stream, and the size of its length header.
const (
	// MinFrame is the shortest frame: an Ethernet header.
	MinFrame = 14
	// MaxFrame is the longest frame the length header may announce.
	MaxFrame = 65535
	// LengthSize is the size of the big-endian length before each frame.
	LengthSize = 4
)

// Buffer sizes for NewStreamReader.
const (
	// MinStreamBuffer is the smallest StreamReader buffer: room for one
	// frame of MaxFrame bytes and its length header, so that Fill always
	// makes progress.
	MinStreamBuffer = LengthSize + MaxFrame
	// DefaultStreamBuffer is the buffer size the worker uses, as passt
	// does.
	DefaultStreamBuffer = 8 << 20
)

// StreamReader splits the qemu stream read from a non-blocking descriptor
// into frames. It owns one buffer, allocated by NewStreamReader; Fill and
// Next do not allocate.
type StreamReader struct {
	fd    int
	buf   []byte
	start int // offset of the first byte not yet yielded by Next
	end   int // offset after the last byte read
	err   error
	oos   OutOfSyncError // storage for err, so that Next does not allocate
	c     Counters
}

// ErrBufferSize is returned by NewStreamReader for a size below
// MinStreamBuffer.
var ErrBufferSize = errors.New("tap: stream buffer smaller than MinStreamBuffer")

// NewStreamReader returns a reader for the stream connection fd with a
// buffer of size bytes (at least MinStreamBuffer; DefaultStreamBuffer is
// what the worker uses). fd must be non-blocking; the reader does not
// close it.
func NewStreamReader(fd int, size int) (*StreamReader, error) {
	if size < MinStreamBuffer {
		return nil, ErrBufferSize
	}
	return &StreamReader{fd: fd, buf: make([]byte, size)}, nil
}

// Reset makes the reader serve a new connection fd: it forgets buffered
// bytes and any out-of-sync condition. Counters are kept.
func (r *StreamReader) Reset(fd int) {
	r.fd = fd
	r.start, r.end = 0, 0
	r.err = nil
}

// Fill reads as much as the descriptor has ready, until it returns EAGAIN
// or the buffer is full, and returns the number of bytes read.
//
// Before reading, Fill moves the bytes that Next has not consumed (a frame
// or length header cut by the previous read, or frames not yet asked for)
// to the front of the buffer: every frame returned by Next before this call
// becomes invalid.
//
// Fill returns ErrEOF, possibly with n > 0, when the peer has closed the
// stream; frames completed by the last bytes are still returned by Next.
// After Next has found the stream out of sync, Fill reads nothing and
// returns that *OutOfSyncError until Reset. Other errors of read(2) are
// returned as they are. EAGAIN with nothing read gives (0, nil).
func (r *StreamReader) Fill() (n int, err error) {
	if r.err != nil {
		return 0, r.err
	}
	r.compact()
	for r.end < len(r.buf) {
		m, err := unix.Read(r.fd, r.buf[r.end:])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return n, nil
		case err != nil:
			return n, err
		case m == 0:
			return n, ErrEOF
		}
		r.end += m
		n += m
	}
	return n, nil
}

// compact moves the unconsumed bytes to the front of the buffer.
func (r *StreamReader) compact() {
	if r.start == 0 {
		return
	}
	if r.start < r.end {
		copy(r.buf, r.buf[r.start:r.end])
	}
	r.end -= r.start
	r.start = 0
}

// Next returns the next complete frame in the buffer, without its length
// header. The frame is a slice of the reader's buffer, with its capacity
// limited to its length: it stays valid until the next call of Fill or
// Reset, and the caller may modify it in place. Every frame returned has
// MinFrame <= len(frame) <= MaxFrame.
//
// Next returns ok == false when the buffer holds no complete frame (read
// more with Fill), or when it finds a length header outside MinFrame..
// MaxFrame: then Err returns an *OutOfSyncError, DropOutOfSync is counted,
// and the connection has to be closed.
func (r *StreamReader) Next() (frame []byte, ok bool) {
	if r.err != nil {
		return nil, false
	}
	avail := r.end - r.start
	if avail < LengthSize {
		return nil, false
	}
	l := binary.BigEndian.Uint32(r.buf[r.start:])
	if l < MinFrame || l > MaxFrame {
		r.oos.Length = l
		r.err = &r.oos
		r.c.Drops[DropOutOfSync]++
		return nil, false
	}
	if avail < LengthSize+int(l) {
		return nil, false
	}
	b := r.start + LengthSize
	e := b + int(l)
	r.start = e
	r.c.Frames++
	r.c.Bytes += uint64(l)
	return r.buf[b:e:e], true
}

// Err returns the *OutOfSyncError found by Next, or nil.
func (r *StreamReader) Err() error { return r.err }

// Buffered returns the number of bytes read and not yet consumed by Next,
// length headers included.
func (r *StreamReader) Buffered() int { return r.end - r.start }

// Counters returns the reader's totals: frames and bytes yielded by Next,
// and broken streams as DropOutOfSync.
func (r *StreamReader) Counters() Counters { return r.c }
