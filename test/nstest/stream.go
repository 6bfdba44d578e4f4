// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package nstest

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Limits of the qemu stream format (qemu -netdev stream/socket, passt's
// unix socket): every Ethernet frame, without FCS or virtio-net header, is
// preceded by its length as a 4-byte big-endian integer. passt resets the
// connection on a length outside [MinFrame, MaxFrame].
const (
	LenPrefix = 4
	MinFrame  = 14
	MaxFrame  = 65535
)

// FrameLengthError reports a length prefix outside [MinFrame, MaxFrame]:
// the stream is corrupt or out of step and cannot be resynchronised.
type FrameLengthError struct {
	Len uint32
}

func (e FrameLengthError) Error() string {
	return fmt.Sprintf("qemu stream: frame length %d outside [%d, %d]", e.Len, MinFrame, MaxFrame)
}

// AppendFrame appends frame to dst with its length prefix and returns the
// extended slice. It does not check the length against the limits.
func AppendFrame(dst, frame []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(frame)))
	return append(dst, frame...)
}

// WriteFrame writes one length-prefixed frame to w in a single Write.
func WriteFrame(w io.Writer, frame []byte) error {
	if len(frame) < MinFrame || len(frame) > MaxFrame {
		return FrameLengthError{Len: uint32(len(frame))}
	}
	_, err := w.Write(AppendFrame(make([]byte, 0, LenPrefix+len(frame)), frame))
	return err
}

// ReadFrame reads one length-prefixed frame from r into buf and returns
// the frame, which aliases buf. buf must hold MaxFrame bytes. At a clean end
// of stream (no byte of a new frame read) it returns io.EOF; a stream that
// ends inside a frame gives io.ErrUnexpectedEOF.
func ReadFrame(r io.Reader, buf []byte) ([]byte, error) {
	var prefix [LenPrefix]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(prefix[:])
	if n < MinFrame || n > MaxFrame {
		return nil, FrameLengthError{Len: n}
	}
	if int(n) > len(buf) {
		return nil, fmt.Errorf("qemu stream: frame of %d bytes does not fit a %d-byte buffer", n, len(buf))
	}
	if _, err := io.ReadFull(r, buf[:n]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf[:n], nil
}

// deframer splits a qemu stream held in one preallocated buffer into
// frames, carrying a partial frame over to the next read. It never
// allocates.
type deframer struct {
	buf        []byte
	start, end int // buf[start:end] holds bytes not yet returned as frames
}

// newDeframer returns a deframer over a buffer of size bytes; size must be
// at least LenPrefix+MaxFrame so that a whole frame always fits.
func newDeframer(size int) *deframer {
	if size < LenPrefix+MaxFrame {
		size = LenPrefix + MaxFrame
	}
	return &deframer{buf: make([]byte, size)}
}

// room returns the free space to read into. It moves a pending partial
// frame to the front of the buffer only when the space after it could not
// hold a whole frame, so the returned slice is never empty.
func (d *deframer) room() []byte {
	switch {
	case d.start == d.end:
		d.start, d.end = 0, 0
	case len(d.buf)-d.end < LenPrefix+MaxFrame:
		d.end = copy(d.buf, d.buf[d.start:d.end])
		d.start = 0
	}
	return d.buf[d.end:]
}

// filled records that n bytes were read into the slice room returned.
func (d *deframer) filled(n int) {
	d.end += n
}

// next returns the next complete frame, or nil when the buffered bytes do
// not hold one yet. The frame aliases the buffer and stays valid until the
// next call to room.
func (d *deframer) next() ([]byte, error) {
	if d.end-d.start < LenPrefix {
		return nil, nil
	}
	n := binary.BigEndian.Uint32(d.buf[d.start:])
	if n < MinFrame || n > MaxFrame {
		return nil, FrameLengthError{Len: n}
	}
	if d.end-d.start-LenPrefix < int(n) {
		return nil, nil
	}
	f := d.buf[d.start+LenPrefix : d.start+LenPrefix+int(n)]
	d.start += LenPrefix + int(n)
	return f, nil
}

// pending returns how many bytes of an incomplete frame are buffered.
func (d *deframer) pending() int {
	return d.end - d.start
}
