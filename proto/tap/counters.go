// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tap

// Drop is the reason a frame was not delivered by a reader or writer of
// this package.
type Drop uint8

// Drop reasons. NumDrops is the number of reasons, for sizing arrays.
const (
	// DropOutOfSync: a stream length header outside MinFrame..MaxFrame;
	// counted once per connection that loses its framing.
	DropOutOfSync Drop = iota
	// DropLength: a frame given to a writer whose total length is outside
	// MinFrame..MaxFrame.
	DropLength
	// DropShortWrite: a frame not started when the stream took only part
	// of a batch, a partial frame that could not be completed, or a short
	// write on a tap device.
	DropShortWrite
	// DropAgain: the descriptor returned EAGAIN before the frame was
	// started.
	DropAgain
	// DropNoBuffers: the tap device returned ENOBUFS or ENOSPC.
	DropNoBuffers
	// DropIO: the tap device returned EIO (its link is down).
	DropIO
	// DropError: any other write error; the error is also returned.
	DropError
	// DropSegmented: a frame from a tap device that still needs
	// segmentation, which OpenTap does not offer to take.
	DropSegmented
	NumDrops
)

var dropNames = [NumDrops]string{
	DropOutOfSync:  "out-of-sync",
	DropLength:     "bad-length",
	DropShortWrite: "short-write",
	DropAgain:      "again",
	DropNoBuffers:  "no-buffers",
	DropIO:         "io",
	DropError:      "error",
	DropSegmented:  "segmented",
}

// String returns a short lower-case name for d, for logs and statistics.
func (d Drop) String() string {
	if d < NumDrops {
		return dropNames[d]
	}
	return "unknown"
}

// Counters are the totals of one reader or writer since its construction.
// Reset of a reader or writer keeps them.
type Counters struct {
	// Frames and Bytes count frames delivered whole: yielded by a reader,
	// or accepted by the descriptor for a writer. Bytes exclude the
	// stream's length headers.
	Frames uint64
	Bytes  uint64
	// Completed counts frames that a stream took only in part and that
	// the writer then finished by waiting for the socket.
	Completed uint64
	// Drops counts dropped frames (and, for DropOutOfSync, broken
	// streams) by reason.
	Drops [NumDrops]uint64
}

// Dropped returns the sum of all drop counters.
func (c *Counters) Dropped() uint64 {
	var n uint64
	for _, v := range c.Drops {
		n += v
	}
	return n
}

// Add adds every counter of o to c, to sum the counters of a reader and a
// writer or of successive connections.
func (c *Counters) Add(o *Counters) {
	c.Frames += o.Frames
	c.Bytes += o.Bytes
	c.Completed += o.Completed
	for i, v := range o.Drops {
		c.Drops[i] += v
	}
}
