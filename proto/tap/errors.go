// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tap

import (
	"errors"
	"strconv"
)

// Conditions that end the use of a stream connection or of a tap device.
// They are compared with errors.Is.
var (
	// ErrEOF: the peer closed the stream, or the tap device is gone
	// (read returned end of file or EBADFD). Frames read before are still
	// yielded by Next.
	ErrEOF = errors.New("tap: end of stream")

	// ErrOutOfSync matches every *OutOfSyncError.
	ErrOutOfSync = errors.New("tap: stream out of sync")

	// ErrStalled: a frame was sent in part and the peer did not take the
	// rest within the writer's stall timeout. The stream is out of step
	// and the connection must be closed.
	ErrStalled = errors.New("tap: peer stalled in the middle of a frame")
)

// OutOfSyncError reports a stream length header outside MinFrame..MaxFrame.
// errors.Is(err, ErrOutOfSync) holds for it.
type OutOfSyncError struct {
	// Length is the bad value read from the length header.
	Length uint32
}

// Error describes the bad length.
func (e *OutOfSyncError) Error() string {
	return "tap: stream out of sync: frame length " + strconv.FormatUint(uint64(e.Length), 10)
}

// Is reports whether target is ErrOutOfSync.
func (e *OutOfSyncError) Is(target error) bool { return target == ErrOutOfSync }
