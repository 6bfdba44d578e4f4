// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tap

import (
	"encoding/binary"
	"fmt"

	"passt-go/proto/header"

	"golang.org/x/sys/unix"
)

// VnetHdrLen is the size of the header the kernel puts before each frame
// on a tap device opened by OpenTap (struct virtio_net_hdr, IFF_VNET_HDR).
const VnetHdrLen = 10

// SlotSize is the size of each TapReader slot: room for the device's
// header, and one byte more than MaxFrame, so that a read filling a slot
// completely reveals a frame too long to pass on.
const SlotSize = VnetHdrLen + MaxFrame + 1

// tunFCsum is TUN_F_CSUM of linux/if_tun.h: frames may come with a
// partial checksum.
const tunFCsum = 0x01

// Fields of struct virtio_net_hdr (linux/virtio_net.h), in the byte order
// of the host for a tap device that was not told otherwise.
const (
	vnetFlags      = 0 // u8: vnetNeedsCsum
	vnetGSOType    = 1 // u8: 0 for a frame that needs no segmentation
	vnetCsumStart  = 6 // u16: where the checksummed data starts
	vnetCsumOffset = 8 // u16: where the checksum goes, from the start

	vnetNeedsCsum = 1 // VIRTIO_NET_HDR_F_NEEDS_CSUM
)

// vnetHdr is the header written before every frame to the device: no
// flags, no segmentation. The checksums of our frames are complete.
var vnetHdr [VnetHdrLen]byte

// OpenTap creates (or attaches to) the tap device name in the network
// namespace of the calling thread, with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR,
// and returns a
// non-blocking, close-on-exec descriptor for it and the device's name as
// the kernel gave it (name may be empty, or a pattern such as "tap%d").
// The caller locks its OS thread into the target namespace beforehand; the
// descriptor may then be used from any thread or process. The link is left
// down.
func OpenTap(name string) (fd int, actualName string, err error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return -1, "", fmt.Errorf("tap: device name %q: %w", name, err)
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI | unix.IFF_VNET_HDR)
	fd, err = unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return -1, "", fmt.Errorf("tap: open /dev/net/tun: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return -1, "", fmt.Errorf("tap: TUNSETIFF %q: %w", name, err)
	}
	// The namespace's stack may leave the TCP and UDP checksums of its
	// frames to us (the header says so): nothing here checks them, and
	// the host's sockets compute their own. That saves the sender a pass
	// over every byte it sends.
	if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, tunFCsum); err != nil {
		unix.Close(fd)
		return -1, "", fmt.Errorf("tap: TUNSETOFFLOAD %q: %w", name, err)
	}
	return fd, ifr.Name(), nil
}

// TapReader reads frames from a tap device, one frame per read(2), into
// preallocated slots of SlotSize bytes used as a ring. Fill and Next do
// not allocate.
type TapReader struct {
	// Checksums makes Next complete the checksum of every frame whose
	// sender left it to the device (see OpenTap), so that a capture
	// shows it right. Nothing else needs it.
	Checksums bool

	fd    int
	mem   []byte
	lens  []int
	head  int // slot of the next frame for Next
	count int // frames read and not yet yielded
	c     Counters
}

// NewTapReader returns a reader for the tap descriptor fd that holds up to
// slots frames (128 slots, 8 MiB, is what the worker uses). fd must be
// non-blocking; the reader does not close it.
func NewTapReader(fd int, slots int) (*TapReader, error) {
	if slots < 1 {
		return nil, ErrBufferSize
	}
	return &TapReader{
		fd:   fd,
		mem:  make([]byte, slots*SlotSize),
		lens: make([]int, slots),
	}, nil
}

// Reset makes the reader serve the descriptor fd and forgets the frames
// not yet yielded. Counters are kept.
func (r *TapReader) Reset(fd int) {
	r.fd = fd
	r.head, r.count = 0, 0
}

// Fill reads frames until the device returns EAGAIN or every slot holds a
// frame not yet yielded, and returns the number of bytes read. Slots of
// frames already returned by Next are reused: those frames become invalid.
// Frames not yet yielded are kept, in order.
//
// Fill returns ErrEOF, possibly with n > 0, when the device is gone
// (end of file, or EBADFD once the interface was removed). Other errors of
// read(2) are returned as they are. EAGAIN with nothing read gives
// (0, nil).
func (r *TapReader) Fill() (n int, err error) {
	slots := len(r.lens)
	for r.count < slots {
		i := r.head + r.count
		if i >= slots {
			i -= slots
		}
		m, errno := read(r.fd, r.mem[i*SlotSize:(i+1)*SlotSize])
		switch {
		case errno == unix.EINTR:
			continue
		case errno == unix.EAGAIN:
			return n, nil
		case errno == unix.EBADFD:
			return n, ErrEOF
		case errno != 0:
			return n, errno
		case m == 0:
			return n, ErrEOF
		}
		n += m
		m -= VnetHdrLen
		if m < MinFrame || m > MaxFrame {
			r.c.Drops[DropLength]++
			continue
		}
		if r.mem[i*SlotSize+vnetGSOType] != 0 {
			r.c.Drops[DropSegmented]++ // no segmentation offload was offered
			continue
		}
		r.lens[i] = m
		r.count++
	}
	return n, nil
}

// Next returns the next frame read by Fill, as a slice of its slot with
// the capacity limited to its length. It stays valid until the next Fill or
// Reset; the caller may modify it in place. Every frame returned has
// MinFrame <= len(frame) <= MaxFrame: others are dropped by Fill as
// DropLength. ok is false when no frame is left.
func (r *TapReader) Next() (frame []byte, ok bool) {
	if r.count == 0 {
		return nil, false
	}
	i := r.head
	r.head++
	if r.head == len(r.lens) {
		r.head = 0
	}
	r.count--
	b := i*SlotSize + VnetHdrLen
	e := b + r.lens[i]
	r.c.Frames++
	r.c.Bytes += uint64(r.lens[i])
	if r.Checksums {
		completeChecksum(r.mem[b-VnetHdrLen:b], r.mem[b:e])
	}
	return r.mem[b:e:e], true
}

// completeChecksum writes the checksum of frame where its device header
// hdr says the sender left it partial: the field holds the sum of the
// pseudo-header, and the checksum covers everything from the start given
// to the end of the frame. Out-of-bounds positions leave frame alone.
func completeChecksum(hdr, frame []byte) {
	if hdr[vnetFlags]&vnetNeedsCsum == 0 {
		return
	}
	start := int(binary.NativeEndian.Uint16(hdr[vnetCsumStart:]))
	at := start + int(binary.NativeEndian.Uint16(hdr[vnetCsumOffset:]))
	if at+2 > len(frame) {
		return
	}
	binary.BigEndian.PutUint16(frame[at:], ^header.Checksum(frame[start:], 0))
}

// Buffered returns the number of frames read by Fill and not yet
// returned by Next.
func (r *TapReader) Buffered() int { return r.count }

// Counters returns the reader's totals.
func (r *TapReader) Counters() Counters { return r.c }

// TapWriter writes batches of frames to a tap device, one writev(2) per
// frame, each frame given as a few slices. It owns its iovec array,
// allocated by NewTapWriter; Queue and Flush do not allocate.
type TapWriter struct {
	writer
}

// NewTapWriter returns a writer for the tap descriptor fd that queues up to
// maxFrames frames of up to maxParts slices each; maxFrames*maxParts must
// not exceed MaxIOV. fd must be non-blocking; the writer does not close it.
func NewTapWriter(fd, maxFrames, maxParts int) (*TapWriter, error) {
	b, err := newBatch(maxFrames, maxParts+1)
	if err != nil {
		return nil, err
	}
	return &TapWriter{writer{fd: fd, b: b, parts: maxParts}}, nil
}

// Queue adds to the batch one frame made of parts, in order; empty parts
// are skipped. It reports whether the frame was queued, which it is not
// when the batch is full (nothing is counted: Flush and queue it again) or
// when the frame's length is outside MinFrame..MaxFrame (counted as
// DropLength).
//
// The writer keeps pointers to the parts' bytes until Flush or Reset
// returns: the caller must neither modify nor reuse them before then.
// Queue panics if given more than the maxParts slices of NewTapWriter.
func (w *TapWriter) Queue(parts ...[]byte) bool {
	if _, ok := w.admit(parts); !ok {
		return false
	}
	w.b.add(vnetHdr[:], parts)
	return true
}

// Flush writes the queued frames, one writev per frame, and empties the
// batch. It returns how many frames, from the head of the batch in queue
// order, the device took. At the first frame the device refuses, that
// frame and all later ones are dropped, so that the frames sent are always
// a prefix of the batch:
//
//   - EAGAIN: DropAgain; ENOBUFS or ENOSPC: DropNoBuffers; EIO (link
//     down): DropIO; a short write: DropShortWrite. err is nil: the device
//     stays usable.
//   - EBADFD (the interface was removed): DropError, and err is ErrEOF.
//   - Any other error: DropError, and the error of writev(2) is returned.
func (w *TapWriter) Flush() (sent int, err error) {
	b := &w.b
	for i := 0; i < b.n; i++ {
		n, errno := writev(w.fd, b.frameIOV(i))
		if errno == 0 && n == b.size[i] {
			w.c.Frames++
			w.c.Bytes += uint64(n - VnetHdrLen)
			continue
		}
		var reason Drop
		switch errno {
		case 0:
			reason = DropShortWrite
		case unix.EAGAIN:
			reason = DropAgain
		case unix.ENOBUFS, unix.ENOSPC:
			reason = DropNoBuffers
		case unix.EIO:
			reason = DropIO
		case unix.EBADFD:
			err = ErrEOF
			reason = DropError
		default:
			err = errno
			reason = DropError
		}
		w.c.Drops[reason] += uint64(b.n - i)
		b.reset()
		return i, err
	}
	sent = b.n
	b.reset()
	return sent, nil
}
