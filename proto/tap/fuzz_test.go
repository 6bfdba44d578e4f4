// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tap

import (
	"encoding/binary"
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// maxFuzzStream bounds the bytes one fuzz input puts through a pipe.
const maxFuzzStream = 1 << 20

// decoded is what a StreamReader made of a stream: its frames, its error
// and the bytes it kept buffered at the end.
type decoded struct {
	frames [][]byte
	err    error
	rest   int
}

// decodeThroughPipe feeds segments to a StreamReader with the smallest
// buffer through a pipe.
func decodeThroughPipe(t *testing.T, segs [][]byte) decoded {
	r, w := pipe(t, maxFuzzStream)
	sr, nerr := NewStreamReader(r, MinStreamBuffer)
	if nerr != nil {
		t.Fatalf("NewStreamReader: %v", nerr)
	}
	c := &collector{r: sr}
	c.feed(t, w, segs)
	for _, f := range c.frames {
		if len(f) < MinFrame || len(f) > MaxFrame {
			t.Fatalf("frame of %d bytes, want %d..%d", len(f), MinFrame, MaxFrame)
		}
	}
	return decoded{frames: c.frames, err: sr.Err(), rest: sr.Buffered()}
}

// checkDecode compares what the reader made of a stream with the reference
// decoder.
func checkDecode(t *testing.T, stream []byte, d decoded) {
	t.Helper()
	want, bad, isBad, wantRest := refDecode(stream)
	equalFrames(t, d.frames, want)
	err, rest := d.err, d.rest
	var oos *OutOfSyncError
	switch {
	case isBad && (!errors.As(err, &oos) || oos.Length != bad):
		t.Fatalf("error: got %v, want out of sync with length %d", err, bad)
	case !isBad && err != nil:
		t.Fatalf("error: got %v, want nil", err)
	case !isBad && rest != wantRest:
		t.Fatalf("bytes left buffered: got %d, want %d", rest, wantRest)
	}
}

// FuzzStreamReader feeds any byte stream, cut at any points, to a
// StreamReader. The frames, the out-of-sync verdict and the bytes left over
// must match the reference decoder and the same stream read unsplit, and
// every frame must be MinFrame..MaxFrame bytes long.
func FuzzStreamReader(f *testing.F) {
	valid := encode([][]byte{makeFrame(0, 60), makeFrame(1, MinFrame), makeFrame(2, 1514)})
	f.Add(valid, []byte{0, 1, 0, 2, 0, 0, 0, 3})
	f.Add(valid, []byte{})
	f.Add(append(valid, 0, 0, 0, 13, 1, 2, 3), []byte{0, 70})
	f.Add(append(valid, 0, 1, 0, 0), []byte{0, 2})
	f.Add(append(valid, 0xff, 0xff, 0xff, 0xff), []byte{0, 100, 0, 0})
	f.Add(encode([][]byte{makeFrame(3, MaxFrame), makeFrame(4, MaxFrame)}), []byte{0xff, 0xfe, 0, 5})
	f.Add([]byte{0, 0, 0}, []byte{0, 0})
	f.Fuzz(func(t *testing.T, stream, cuts []byte) {
		if len(stream) > maxFuzzStream/2 {
			return
		}
		split := decodeThroughPipe(t, splitBySizes(stream, cuts))
		checkDecode(t, stream, split)

		whole := decodeThroughPipe(t, [][]byte{stream})
		equalFrames(t, split.frames, whole.frames)
		if (split.err == nil) != (whole.err == nil) || (split.err == nil && split.rest != whole.rest) {
			t.Fatalf("split: (%v, %d left), unsplit: (%v, %d left)", split.err, split.rest, whole.err, whole.rest)
		}
	})
}

// FuzzStreamSplit encodes frames of lengths chosen by the input with a
// StreamWriter (each frame in two parts), checks the bytes against the
// wire format, cuts the stream at the input's points and decodes it again:
// the frames must come back identical.
func FuzzStreamSplit(f *testing.F) {
	f.Add([]byte{0, 0, 0, 46, 5, 200}, []byte{0, 3})
	f.Add([]byte{0xff, 0xff, 0xff, 0xf1}, []byte{0, 0, 0, 1, 0, 2})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, []byte{0x10, 0})
	f.Add([]byte{0, 0}, []byte{})
	f.Fuzz(func(t *testing.T, lengths, cuts []byte) {
		var frames [][]byte
		total := 0
		for i := 0; i+1 < len(lengths); i += 2 {
			n := MinFrame + int(binary.BigEndian.Uint16(lengths[i:]))%(MaxFrame-MinFrame+1)
			if total+LengthSize+n > maxFuzzStream/2 {
				break
			}
			total += LengthSize + n
			frames = append(frames, makeFrame(len(frames), n))
		}
		if len(frames) == 0 {
			return
		}

		r, w := pipe(t, maxFuzzStream)
		sw, err := NewStreamWriter(w, 16, 2)
		if err != nil {
			t.Fatalf("NewStreamWriter: %v", err)
		}
		for i, fr := range frames {
			if !sw.Queue(splitFrame(fr, int(lengths[i%len(lengths)]))...) {
				t.Fatalf("Queue refused frame %d of %d bytes", i, len(fr))
			}
			if sw.Full() || i == len(frames)-1 {
				want := sw.Len()
				if sent, err := sw.Flush(); sent != want || err != nil {
					t.Fatalf("Flush: got (%d, %v), want (%d, nil)", sent, err, want)
				}
			}
		}
		stream := make([]byte, total+1)
		n, err := unix.Read(r, stream)
		if err != nil || n != total {
			t.Fatalf("read back: got (%d, %v), want %d bytes", n, err, total)
		}
		stream = stream[:n]
		want := encode(frames)
		if string(stream) != string(want) {
			t.Fatalf("writer output differs from the wire format")
		}

		got := decodeThroughPipe(t, splitBySizes(stream, cuts))
		if got.err != nil || got.rest != 0 {
			t.Fatalf("decode: got (%v, %d left), want (nil, 0)", got.err, got.rest)
		}
		equalFrames(t, got.frames, frames)
	})
}
