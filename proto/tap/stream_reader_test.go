// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tap

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// transports gives the reader a socketpair or a pipe, returning the read
// end (non-blocking) and a non-blocking write end.
var transports = []struct {
	name string
	open func(tb testing.TB) (r, w int)
}{
	{name: "socketpair", open: func(tb testing.TB) (int, int) {
		r, w := socketPair(tb, true)
		setSendBuffer(tb, w, 4<<20)
		return r, w
	}},
	{name: "pipe", open: func(tb testing.TB) (int, int) { return pipe(tb, 1<<20) }},
}

func TestStreamReaderSplits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	frames := randomFrames(rng, 200)
	stream := encode(frames)

	// Offsets of every length header, to cut inside them.
	var headers []int
	for off := 0; off < len(stream); {
		headers = append(headers, off)
		off += LengthSize + int(binary.BigEndian.Uint32(stream[off:]))
	}

	splits := []struct {
		name string
		segs func() [][]byte
	}{
		{name: "one write", segs: func() [][]byte { return [][]byte{stream} }},
		{name: "random", segs: func() [][]byte {
			var cuts []int
			for off := 0; off < len(stream); off += 1 + rng.IntN(3000) {
				cuts = append(cuts, off)
			}
			return splitAt(stream, cuts)
		}},
		{name: "inside length headers", segs: func() [][]byte {
			var cuts []int
			for i, h := range headers {
				cuts = append(cuts, h+1+i%3)
			}
			return splitAt(stream, cuts)
		}},
		{name: "header alone", segs: func() [][]byte {
			var cuts []int
			for _, h := range headers {
				cuts = append(cuts, h, h+LengthSize)
			}
			return splitAt(stream, cuts)
		}},
		{name: "byte by byte at the start", segs: func() [][]byte {
			var cuts []int
			for off := 1; off < 600; off++ {
				cuts = append(cuts, off)
			}
			return splitAt(stream, cuts)
		}},
	}
	for _, tr := range transports {
		for _, sp := range splits {
			t.Run(tr.name+"/"+sp.name, func(t *testing.T) {
				r, w := tr.open(t)
				sr, err := NewStreamReader(r, DefaultStreamBuffer)
				if err != nil {
					t.Fatalf("NewStreamReader: %v", err)
				}
				c := &collector{r: sr}
				c.feed(t, w, sp.segs())
				if err := sr.Err(); err != nil {
					t.Fatalf("Err: got %v, want nil", err)
				}
				equalFrames(t, c.frames, frames)
				if got := sr.Buffered(); got != 0 {
					t.Errorf("Buffered: got %d, want 0", got)
				}
				cnt := sr.Counters()
				if cnt.Frames != uint64(len(frames)) {
					t.Errorf("Counters.Frames: got %d, want %d", cnt.Frames, len(frames))
				}
			})
		}
	}
}

func TestStreamReaderOutOfSync(t *testing.T) {
	good := [][]byte{makeFrame(0, 60), makeFrame(1, MinFrame), makeFrame(2, MaxFrame)}
	tests := []struct {
		name   string
		length uint32
	}{
		{name: "zero", length: 0},
		{name: "one below minimum", length: MinFrame - 1},
		{name: "one above maximum", length: MaxFrame + 1},
		{name: "all ones", length: 0xffffffff},
	}
	for _, tr := range transports {
		for _, tc := range tests {
			t.Run(tr.name+"/"+tc.name, func(t *testing.T) {
				r, w := tr.open(t)
				stream := encode(good)
				stream = binary.BigEndian.AppendUint32(stream, tc.length)
				stream = append(stream, make([]byte, 100)...)
				sr, err := NewStreamReader(r, MinStreamBuffer)
				if err != nil {
					t.Fatalf("NewStreamReader: %v", err)
				}
				c := &collector{r: sr}
				c.feed(t, w, [][]byte{stream})
				equalFrames(t, c.frames, good)

				err = sr.Err()
				if !errors.Is(err, ErrOutOfSync) {
					t.Fatalf("Err: got %v, want ErrOutOfSync", err)
				}
				var oos *OutOfSyncError
				if !errors.As(err, &oos) || oos.Length != tc.length {
					t.Fatalf("bad length: got %v, want %d", err, tc.length)
				}
				if _, err := sr.Fill(); !errors.Is(err, ErrOutOfSync) {
					t.Errorf("Fill after out of sync: got %v, want ErrOutOfSync", err)
				}
				if f, ok := sr.Next(); ok {
					t.Errorf("Next after out of sync: got frame of %d bytes, want none", len(f))
				}
				if got := sr.Counters().Drops[DropOutOfSync]; got != 1 {
					t.Errorf("DropOutOfSync: got %d, want 1", got)
				}

				// A new connection is served from a clean state.
				r2, w2 := tr.open(t)
				sr.Reset(r2)
				c.frames = nil
				c.feed(t, w2, [][]byte{encode(good)})
				if err := sr.Err(); err != nil {
					t.Fatalf("Err after Reset: got %v, want nil", err)
				}
				equalFrames(t, c.frames, good)
			})
		}
	}
}

func TestStreamReaderBurstLargerThanBuffer(t *testing.T) {
	r, w := socketPair(t, true)
	setSendBuffer(t, w, 16<<20)
	rng := rand.New(rand.NewPCG(3, 4))
	frames := randomFrames(rng, 60)
	stream := encode(frames)
	if len(stream) < 4*MinStreamBuffer {
		t.Fatalf("burst of %d bytes is not larger than the buffer", len(stream))
	}
	for off := 0; off < len(stream); {
		n, err := unix.Write(w, stream[off:])
		if err != nil {
			t.Fatalf("write burst at %d of %d: %v", off, len(stream), err)
		}
		off += n
	}

	sr, err := NewStreamReader(r, MinStreamBuffer)
	if err != nil {
		t.Fatalf("NewStreamReader: %v", err)
	}
	c := &collector{r: sr}
	n, _ := c.fill(t)
	if n != MinStreamBuffer {
		t.Fatalf("first Fill: got %d bytes, want a full buffer of %d", n, MinStreamBuffer)
	}
	for i := 0; i < 10*len(frames) && len(c.frames) < len(frames); i++ {
		if n, oos := c.fill(t); n == 0 || oos {
			t.Fatalf("Fill stopped after %d of %d frames (out of sync: %v)", len(c.frames), len(frames), oos)
		}
	}
	equalFrames(t, c.frames, frames)
}

func TestStreamReaderEOF(t *testing.T) {
	frames := [][]byte{makeFrame(0, 100), makeFrame(1, 1514)}
	tests := []struct {
		name     string
		trailing []byte // bytes after the last complete frame
	}{
		{name: "clean", trailing: nil},
		{name: "cut in length header", trailing: []byte{0, 0}},
		{name: "cut in frame", trailing: append([]byte{0, 0, 0, 100}, make([]byte, 50)...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, w := socketPair(t, true)
			stream := append(encode(frames), tc.trailing...)
			if _, err := unix.Write(w, stream); err != nil {
				t.Fatalf("write: %v", err)
			}
			unix.Shutdown(w, unix.SHUT_WR)
			sr, err := NewStreamReader(r, MinStreamBuffer)
			if err != nil {
				t.Fatalf("NewStreamReader: %v", err)
			}
			c := &collector{r: sr}
			var got error
			for i := 0; i < 4 && got == nil; i++ {
				_, got = sr.Fill()
				c.drain()
			}
			if !errors.Is(got, ErrEOF) {
				t.Fatalf("Fill: got %v, want ErrEOF", got)
			}
			equalFrames(t, c.frames, frames)
			if got := sr.Buffered(); got != len(tc.trailing) {
				t.Errorf("Buffered: got %d, want %d", got, len(tc.trailing))
			}
		})
	}
}

func TestNewStreamReaderSize(t *testing.T) {
	tests := []struct {
		name string
		size int
		ok   bool
	}{
		{name: "too small", size: MinStreamBuffer - 1, ok: false},
		{name: "minimum", size: MinStreamBuffer, ok: true},
		{name: "default", size: DefaultStreamBuffer, ok: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewStreamReader(-1, tc.size)
			if got := err == nil; got != tc.ok {
				t.Fatalf("NewStreamReader(%d): got error %v, want ok %v", tc.size, err, tc.ok)
			}
		})
	}
}

func TestStreamReaderAllocs(t *testing.T) {
	r, w := socketPair(t, true)
	setSendBuffer(t, w, 4<<20)
	frames := randomFrames(rand.New(rand.NewPCG(5, 6)), 20)
	stream := encode(frames)
	// Cut the stream so that each round leaves a partial frame behind.
	cut := len(stream) / 3
	chunks := [][]byte{stream[:cut], stream[cut:]}
	sr, err := NewStreamReader(r, DefaultStreamBuffer)
	if err != nil {
		t.Fatalf("NewStreamReader: %v", err)
	}
	got := 0
	allocs := testing.AllocsPerRun(50, func() {
		for _, ch := range chunks {
			if _, err := unix.Write(w, ch); err != nil {
				panic(err)
			}
			if _, err := sr.Fill(); err != nil {
				panic(err)
			}
			for {
				if _, ok := sr.Next(); !ok {
					break
				}
				got++
			}
		}
	})
	if allocs != 0 {
		t.Errorf("allocations per Fill+Next round: got %v, want 0", allocs)
	}
	if want := 51 * len(frames); got != want {
		t.Errorf("frames read: got %d, want %d", got, want)
	}
}

func BenchmarkStreamReader(b *testing.B) {
	for _, size := range []int{64, 1514, MaxFrame} {
		b.Run(sizeName(size), func(b *testing.B) {
			r, w := socketPair(b, true)
			setSendBuffer(b, w, 8<<20)
			count := max(1, (256<<10)/size)
			frames := make([][]byte, count)
			for i := range frames {
				frames[i] = makeFrame(i, size)
			}
			stream := encode(frames)
			sr, err := NewStreamReader(r, DefaultStreamBuffer)
			if err != nil {
				b.Fatalf("NewStreamReader: %v", err)
			}
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				for off := 0; off < len(stream); {
					n, err := unix.Write(w, stream[off:])
					if err != nil {
						b.Fatalf("write: %v", err)
					}
					off += n
				}
				got := 0
				for got < count {
					if _, err := sr.Fill(); err != nil {
						b.Fatalf("Fill: %v", err)
					}
					for {
						if _, ok := sr.Next(); !ok {
							break
						}
						got++
					}
				}
			}
		})
	}
}

func sizeName(n int) string { return strconv.Itoa(n) + "B" }
