// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package pcap

import (
	"encoding/binary"
	"errors"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"passt-go/proto/tap"
)

// Format constants.
const (
	// MagicMicro and MagicNano identify the file format and the timestamp
	// resolution.
	MagicMicro = 0xa1b2c3d4
	MagicNano  = 0xa1b23c4d
	// VersionMajor and VersionMinor are the format version written: 2.4.
	VersionMajor = 2
	VersionMinor = 4
	// LinkTypeEthernet is LINKTYPE_ETHERNET.
	LinkTypeEthernet = 1
	// FileHeaderSize and RecordHeaderSize are the sizes of the global
	// header and of each record header.
	FileHeaderSize   = 24
	RecordHeaderSize = 16
	// MaxSnapLen is the largest snapshot length accepted, as tcpdump's.
	MaxSnapLen = 262144
	// MaxBatch is how many records WriteFrames sends with one writev.
	MaxBatch = 512
)

// ErrSnapLen is returned by New and NewNano for a snapshot length outside
// 1..MaxSnapLen.
var ErrSnapLen = errors.New("pcap: snapshot length outside 1..262144")

// Stats are a Writer's totals.
type Stats struct {
	// Records counts records written whole; Bytes their captured bytes,
	// record headers excluded.
	Records uint64
	Bytes   uint64
	// Errors counts records not written because of a write error, or
	// because an earlier error stopped the writer.
	Errors uint64
	// Truncated counts records cut to the snapshot length.
	Truncated uint64
}

// Writer writes capture records to a file descriptor it does not own. Its
// buffers are allocated by New; WriteFrame and WriteFrames do not allocate.
// A Writer is not safe for concurrent use.
type Writer struct {
	fd      int
	snaplen int
	nano    bool
	broken  bool // a record was cut: write nothing more
	hdr     []byte
	iov     []unix.Iovec
	stats   Stats
}

// New writes the global header of a capture file with microsecond
// timestamps to fd and returns a Writer that appends records to it, each
// cut to snaplen bytes. fd should be open for writing at the start of an
// empty file, or on a pipe; the Writer never closes it. An error writing
// the global header is returned, with a nil Writer.
func New(fd int, snaplen int) (*Writer, error) { return newWriter(fd, snaplen, false) }

// NewNano is New with nanosecond timestamps.
func NewNano(fd int, snaplen int) (*Writer, error) { return newWriter(fd, snaplen, true) }

func newWriter(fd, snaplen int, nano bool) (*Writer, error) {
	if snaplen < 1 || snaplen > MaxSnapLen {
		return nil, ErrSnapLen
	}
	w := &Writer{
		fd:      fd,
		snaplen: snaplen,
		nano:    nano,
		hdr:     make([]byte, MaxBatch*RecordHeaderSize),
		iov:     make([]unix.Iovec, 2*MaxBatch),
	}
	var h [FileHeaderSize]byte
	magic := uint32(MagicMicro)
	if nano {
		magic = MagicNano
	}
	le := binary.LittleEndian
	le.PutUint32(h[0:], magic)
	le.PutUint16(h[4:], VersionMajor)
	le.PutUint16(h[6:], VersionMinor)
	// thiszone and sigfigs stay 0.
	le.PutUint32(h[16:], uint32(snaplen))
	le.PutUint32(h[20:], LinkTypeEthernet)
	w.iov[0].Base = &h[0]
	w.iov[0].SetLen(len(h))
	err := w.writeAll(w.iov[:1], len(h))
	w.iov[0] = unix.Iovec{}
	if err != 0 {
		return nil, err
	}
	return w, nil
}

// WriteFrame appends a record of frame, stamped with t. The frame is not
// kept after the call.
func (w *Writer) WriteFrame(frame []byte, t time.Time) {
	w.writeBatch(frame, nil, t)
}

// WriteFrames appends one record per frame, all stamped with t, with one
// writev per MaxBatch frames. The frames are not kept after the call.
func (w *Writer) WriteFrames(frames [][]byte, t time.Time) {
	for len(frames) > 0 {
		n := min(len(frames), MaxBatch)
		w.writeBatch(nil, frames[:n], t)
		frames = frames[n:]
	}
}

// writeBatch writes single (when frames is nil) or frames, at most
// MaxBatch, with one writev.
func (w *Writer) writeBatch(single []byte, frames [][]byte, t time.Time) {
	count := len(frames)
	if frames == nil {
		count = 1
	}
	if w.broken {
		w.stats.Errors += uint64(count)
		return
	}
	sec := uint32(t.Unix())
	frac := uint32(t.Nanosecond())
	if !w.nano {
		frac /= 1000
	}
	niov, total, bytes, truncated := 0, 0, 0, 0
	for i := 0; i < count; i++ {
		f := single
		if frames != nil {
			f = frames[i]
		}
		capLen := min(len(f), w.snaplen)
		if capLen < len(f) {
			truncated++
		}
		h := w.hdr[i*RecordHeaderSize : (i+1)*RecordHeaderSize]
		le := binary.LittleEndian
		le.PutUint32(h[0:], sec)
		le.PutUint32(h[4:], frac)
		le.PutUint32(h[8:], uint32(capLen))
		le.PutUint32(h[12:], uint32(len(f)))
		w.iov[niov].Base = &h[0]
		w.iov[niov].SetLen(RecordHeaderSize)
		niov++
		if capLen > 0 {
			w.iov[niov].Base = &f[0]
			w.iov[niov].SetLen(capLen)
			niov++
		}
		total += RecordHeaderSize + capLen
		bytes += capLen
	}
	err := w.writeAll(w.iov[:niov], total)
	clear(w.iov[:niov])
	if err != 0 {
		w.stats.Errors += uint64(count)
		return
	}
	w.stats.Records += uint64(count)
	w.stats.Bytes += uint64(bytes)
	w.stats.Truncated += uint64(truncated)
}

// writeAll writes total bytes described by iov, continuing after short
// writes. If nothing was written, the file is intact and the error is only
// returned. If a write fails after part of the bytes went out, the file
// holds a cut record: the writer is marked broken.
func (w *Writer) writeAll(iov []unix.Iovec, total int) unix.Errno {
	done := 0
	for done < total {
		r, _, e := unix.Syscall(unix.SYS_WRITEV, uintptr(w.fd),
			uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
		if e == unix.EINTR {
			continue
		}
		if e == 0 && r == 0 {
			e = unix.EIO
		}
		if e != 0 {
			if done > 0 {
				w.broken = true
			}
			return e
		}
		done += int(r)
		iov = tap.Advance(iov, int(r))
	}
	return 0
}

// Broken reports whether a write error cut a record, after which the
// writer writes nothing more.
func (w *Writer) Broken() bool { return w.broken }

// Stats returns the writer's totals.
func (w *Writer) Stats() Stats { return w.stats }
