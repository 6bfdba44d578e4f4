// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tap

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// MaxIOV is the most iovecs one writev(2) accepts (UIO_MAXIOV on Linux).
const MaxIOV = 1024

// ErrBatchSize is returned by the writer constructors for a batch that
// cannot be described with MaxIOV iovecs, or with no room for a frame.
var ErrBatchSize = errors.New("tap: batch needs more than MaxIOV iovecs or has no room")

// batch is the queue of frames shared by both writers: an iovec array, and
// where each frame starts in it. Frames are described, never copied: the
// iovecs point into the callers' slices until reset.
type batch struct {
	iov      []unix.Iovec
	niov     int
	first    []int32 // first[i] is the index of frame i's first iovec
	size     []int   // size[i] is the number of bytes frame i puts on the wire
	n        int     // frames queued
	bytes    int     // sum of size[:n]
	maxParts int     // iovecs per frame, a length header included
}

func newBatch(maxFrames, maxParts int) (batch, error) {
	if maxFrames < 1 || maxParts < 1 || maxFrames*maxParts > MaxIOV {
		return batch{}, ErrBatchSize
	}
	return batch{
		iov:      make([]unix.Iovec, maxFrames*maxParts),
		first:    make([]int32, maxFrames+1),
		size:     make([]int, maxFrames),
		maxParts: maxParts,
	}, nil
}

func (b *batch) full() bool { return b.n == len(b.size) }

// add appends one frame made of head (may be nil) and parts, skipping empty
// slices. The caller has checked that the batch is not full and that parts
// fit in maxParts.
func (b *batch) add(head []byte, parts [][]byte) {
	b.first[b.n] = int32(b.niov)
	size := 0
	if len(head) > 0 {
		b.push(head)
		size += len(head)
	}
	for _, p := range parts {
		if len(p) > 0 {
			b.push(p)
			size += len(p)
		}
	}
	b.size[b.n] = size
	b.bytes += size
	b.n++
	b.first[b.n] = int32(b.niov)
}

func (b *batch) push(p []byte) {
	v := &b.iov[b.niov]
	v.Base = &p[0]
	v.SetLen(len(p))
	b.niov++
}

// frameIOV returns the iovecs of frame i.
func (b *batch) frameIOV(i int) []unix.Iovec {
	return b.iov[b.first[i]:b.first[i+1]]
}

// locate returns the frame that byte offset off of the batch falls in, and
// the offset inside that frame. For off == b.bytes it returns (b.n, 0).
func (b *batch) locate(off int) (frame, inside int) {
	for i := 0; i < b.n; i++ {
		if off < b.size[i] {
			return i, off
		}
		off -= b.size[i]
	}
	return b.n, 0
}

// reset empties the batch and clears the iovecs, so that the batch does not
// keep the callers' buffers reachable.
func (b *batch) reset() {
	clear(b.iov[:b.niov])
	b.niov, b.n, b.bytes = 0, 0, 0
}

// writer is what TapWriter and StreamWriter share: the descriptor, the
// batch of frames queued for it, and the totals. Its exported methods are
// theirs.
type writer struct {
	fd    int
	b     batch
	parts int // slices a caller may give per frame
	c     Counters
}

// Reset makes the writer serve the descriptor fd, a tap device or a new
// connection of the stream. Frames still queued are discarded without
// being counted.
func (w *writer) Reset(fd int) {
	w.fd = fd
	w.b.reset()
}

// Len returns the number of frames queued.
func (w *writer) Len() int { return w.b.n }

// Full reports whether the batch has no room for another frame.
func (w *writer) Full() bool { return w.b.full() }

// Counters returns the writer's totals.
func (w *writer) Counters() Counters { return w.c }

// admit returns the length of the frame made of parts and reports whether
// Queue may add it: not when the batch is full (nothing is counted), nor
// when the length is outside MinFrame..MaxFrame (counted as DropLength).
// It panics when given more slices than the writer was built for.
func (w *writer) admit(parts [][]byte) (int, bool) {
	if len(parts) > w.parts {
		panic("tap: Queue: more parts than the writer was built for")
	}
	if w.b.full() {
		return 0, false
	}
	l := frameLength(parts)
	if l < MinFrame || l > MaxFrame {
		w.c.Drops[DropLength]++
		return 0, false
	}
	return l, true
}

// Advance takes the first n bytes off iov, as a writev(2) that wrote them
// leaves it: the iovecs written whole are dropped, and the first one left
// is moved past its written part, in place. It returns the iovecs still to
// be written, a subslice of iov.
func Advance(iov []unix.Iovec, n int) []unix.Iovec {
	for n > 0 && len(iov) > 0 {
		l := int(iov[0].Len)
		if n >= l {
			n -= l
			iov = iov[1:]
			continue
		}
		iov[0].Base = (*byte)(unsafe.Add(unsafe.Pointer(iov[0].Base), n))
		iov[0].SetLen(l - n)
		n = 0
	}
	return iov
}

// writev writes iov to fd, retrying on EINTR. It returns the byte count, or
// the error number (0 on success) without converting it to an error, so
// that no interface value is built on the hot path. fd is non-blocking, so
// the call is made without telling the Go scheduler (a raw system call):
// it cannot block, and entering and leaving the scheduler's system call
// state costs more than a frame's write to a tap.
func writev(fd int, iov []unix.Iovec) (int, unix.Errno) {
	for {
		r, _, e := unix.RawSyscall(unix.SYS_WRITEV, uintptr(fd),
			uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(r), 0
	}
}

// read is read(2) of the non-blocking fd into b, a raw system call like
// writev's, returning the byte count or the error number. b must not be
// empty.
func read(fd int, b []byte) (int, unix.Errno) {
	r, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}

// frameLength sums the lengths of parts.
func frameLength(parts [][]byte) int {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	return n
}
