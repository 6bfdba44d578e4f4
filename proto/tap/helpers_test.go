// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// socketPair returns a connected unix stream pair: r non-blocking (the
// side under test reads or writes it), p blocking unless nonblockPeer. Both
// are closed at the end of the test.
func socketPair(tb testing.TB, nonblockPeer bool) (r, p int) {
	tb.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatalf("socketpair: %v", err)
	}
	tb.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	if err := unix.SetNonblock(fds[0], true); err != nil {
		tb.Fatalf("set non-blocking: %v", err)
	}
	if nonblockPeer {
		if err := unix.SetNonblock(fds[1], true); err != nil {
			tb.Fatalf("set non-blocking: %v", err)
		}
	}
	return fds[0], fds[1]
}

// pipe returns a non-blocking pipe (read end, write end) of at least size
// bytes of capacity, closed at the end of the test.
func pipe(tb testing.TB, size int) (r, w int) {
	tb.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		tb.Fatalf("pipe2: %v", err)
	}
	tb.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	if size > 0 {
		if _, err := unix.FcntlInt(uintptr(p[1]), unix.F_SETPIPE_SZ, size); err != nil {
			tb.Fatalf("F_SETPIPE_SZ %d: %v", size, err)
		}
	}
	return p[0], p[1]
}

// setSendBuffer sets SO_SNDBUF, forcing it past the system limit when the
// kernel lets us.
func setSendBuffer(tb testing.TB, fd, size int) {
	tb.Helper()
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, size); err == nil {
		return
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, size); err != nil {
		tb.Fatalf("SO_SNDBUF %d: %v", size, err)
	}
}

// waitFD polls fd for events, for at most d. It reports whether the fd
// became ready.
func waitFD(tb testing.TB, fd int, events int16, d time.Duration) bool {
	tb.Helper()
	pfd := []unix.PollFd{{Fd: int32(fd), Events: events}}
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		n, err := unix.Poll(pfd, int(left/time.Millisecond)+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			tb.Fatalf("poll: %v", err)
		}
		return n > 0
	}
}

// makeFrame returns a frame of n bytes whose content identifies seq.
func makeFrame(seq int, n int) []byte {
	f := make([]byte, n)
	for i := range f {
		f[i] = byte(seq*7 + i*13 + i>>8)
	}
	if n >= MinFrame+4 {
		binary.BigEndian.PutUint32(f[MinFrame:], uint32(seq))
	}
	return f
}

// randomFrames returns count frames of lengths drawn from sizes of interest
// and from the whole valid range.
func randomFrames(rng *rand.Rand, count int) [][]byte {
	special := []int{MinFrame, MinFrame + 1, 60, 64, 1514, 9014, MaxFrame - 1, MaxFrame}
	frames := make([][]byte, count)
	for i := range frames {
		var n int
		switch rng.IntN(3) {
		case 0:
			n = special[rng.IntN(len(special))]
		case 1:
			n = MinFrame + rng.IntN(1500)
		default:
			n = MinFrame + rng.IntN(MaxFrame-MinFrame+1)
		}
		frames[i] = makeFrame(i, n)
	}
	return frames
}

// encode returns frames as a qemu stream.
func encode(frames [][]byte) []byte {
	var out []byte
	for _, f := range frames {
		out = binary.BigEndian.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out
}

// refDecode is the reference decoder: it walks a whole stream and returns
// its complete frames, the bad length that stops it (if any), and the
// number of bytes left over after the last complete frame.
func refDecode(stream []byte) (frames [][]byte, bad uint32, isBad bool, rest int) {
	for {
		if len(stream) < LengthSize {
			return frames, 0, false, len(stream)
		}
		l := binary.BigEndian.Uint32(stream)
		if l < MinFrame || l > MaxFrame {
			return frames, l, true, len(stream)
		}
		if len(stream) < LengthSize+int(l) {
			return frames, 0, false, len(stream)
		}
		frames = append(frames, stream[LengthSize:LengthSize+int(l)])
		stream = stream[LengthSize+int(l):]
	}
}

// collector drains a StreamReader into copies of its frames.
type collector struct {
	r      *StreamReader
	frames [][]byte
}

func (c *collector) drain() {
	for {
		f, ok := c.r.Next()
		if !ok {
			return
		}
		c.frames = append(c.frames, bytes.Clone(f))
	}
}

// fill calls Fill and drains; it fails the test on errors other than
// out-of-sync, which it reports.
func (c *collector) fill(tb testing.TB) (n int, outOfSync bool) {
	tb.Helper()
	n, err := c.r.Fill()
	switch {
	case errors.Is(err, ErrOutOfSync):
		return n, true
	case err != nil:
		tb.Fatalf("Fill: %v", err)
	}
	c.drain()
	return n, c.r.Err() != nil
}

// feed writes segments to the non-blocking fd w one after the other and
// fills c after each; when the descriptor is full it fills c to make room.
// It stops early when the stream is found out of sync.
func (c *collector) feed(tb testing.TB, w int, segments [][]byte) {
	tb.Helper()
	for _, seg := range segments {
		for len(seg) > 0 {
			n, err := unix.Write(w, seg)
			if errors.Is(err, unix.EAGAIN) {
				if _, oos := c.fill(tb); oos {
					return
				}
				continue
			}
			if err != nil {
				tb.Fatalf("write: %v", err)
			}
			seg = seg[n:]
		}
		if _, oos := c.fill(tb); oos {
			return
		}
	}
	for {
		n, oos := c.fill(tb)
		if oos || n == 0 {
			return
		}
	}
}

// splitAt cuts data at the given increasing offsets.
func splitAt(data []byte, cuts []int) [][]byte {
	var segs [][]byte
	prev := 0
	for _, c := range cuts {
		if c <= prev || c >= len(data) {
			continue
		}
		segs = append(segs, data[prev:c])
		prev = c
	}
	return append(segs, data[prev:])
}

// splitBySizes cuts data into segments whose sizes are read as 16-bit
// numbers (plus one) from sizes; what remains is the last segment.
func splitBySizes(data, sizes []byte) [][]byte {
	var segs [][]byte
	for len(sizes) >= 2 && len(data) > 0 {
		n := int(binary.BigEndian.Uint16(sizes)) + 1
		sizes = sizes[2:]
		n = min(n, len(data))
		segs = append(segs, data[:n])
		data = data[n:]
	}
	if len(data) > 0 {
		segs = append(segs, data)
	}
	return segs
}

// equalFrames reports the first difference between two frame lists.
func equalFrames(tb testing.TB, got, want [][]byte) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("got %d frames, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			tb.Fatalf("frame %d: got %d bytes %x..., want %d bytes %x...",
				i, len(got[i]), head(got[i]), len(want[i]), head(want[i]))
		}
	}
}

func head(b []byte) []byte { return b[:min(len(b), 24)] }
