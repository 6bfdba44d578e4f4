// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// readAll reads the blocking descriptor fd until end of file, chunk bytes
// at most per read.
func readAll(fd int, chunk int) ([]byte, error) {
	var out []byte
	buf := make([]byte, chunk)
	for {
		n, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return out, err
		}
		if n == 0 {
			return out, nil
		}
		out = append(out, buf[:n]...)
	}
}

// fdReader reads a blocking descriptor in reads of at most chunk bytes.
type fdReader struct {
	fd    int
	chunk int
}

func (r fdReader) Read(p []byte) (int, error) {
	p = p[:min(len(p), r.chunk)]
	for {
		n, err := unix.Read(r.fd, p)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

// splitFrame cuts f in two parts, the way the worker gives a header
// template and a payload.
func splitFrame(f []byte, at int) [][]byte {
	at = min(at, len(f))
	return [][]byte{f[:at], f[at:]}
}

func TestStreamWriterRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		maxFrames int
		maxParts  int
		frames    int
	}{
		{name: "one frame per batch", maxFrames: 1, maxParts: 2, frames: 30},
		{name: "small batches", maxFrames: 7, maxParts: 2, frames: 100},
		{name: "largest batch", maxFrames: MaxIOV / 3, maxParts: 2, frames: 700},
		{name: "single part", maxFrames: 64, maxParts: 1, frames: 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, p := socketPair(t, false)
			setSendBuffer(t, w, 64<<20)
			frames := randomFrames(rand.New(rand.NewPCG(7, uint64(tc.frames))), tc.frames)
			sw, err := NewStreamWriter(w, tc.maxFrames, tc.maxParts)
			if err != nil {
				t.Fatalf("NewStreamWriter: %v", err)
			}
			done := make(chan []byte)
			go func() {
				b, _ := readAll(p, 1<<20)
				done <- b
			}()
			for i := 0; i < len(frames); {
				parts := [][]byte{frames[i]}
				if tc.maxParts > 1 {
					parts = splitFrame(frames[i], 14+i%40)
				}
				if sw.Queue(parts...) {
					i++
					continue
				}
				if !sw.Full() {
					t.Fatalf("Queue refused frame %d of %d bytes with room left", i, len(frames[i]))
				}
				want := sw.Len()
				if sent, err := sw.Flush(); sent != want || err != nil {
					t.Fatalf("Flush: got (%d, %v), want (%d, nil)", sent, err, want)
				}
			}
			want := sw.Len()
			if sent, err := sw.Flush(); sent != want || err != nil {
				t.Fatalf("Flush: got (%d, %v), want (%d, nil)", sent, err, want)
			}
			unix.Shutdown(w, unix.SHUT_WR)
			got := <-done
			if !bytes.Equal(got, encode(frames)) {
				gf, _, _, _ := refDecode(got)
				equalFrames(t, gf, frames)
				t.Fatalf("stream differs from its encoding (%d bytes, want %d)", len(got), len(encode(frames)))
			}
			c := sw.Counters()
			if c.Frames != uint64(len(frames)) || c.Dropped() != 0 {
				t.Errorf("counters: got %d frames, %d dropped, want %d, 0", c.Frames, c.Dropped(), len(frames))
			}
		})
	}
}

func TestStreamWriterQueue(t *testing.T) {
	tests := []struct {
		name   string
		parts  [][]byte
		queued bool
		drops  uint64
	}{
		{name: "minimum", parts: [][]byte{make([]byte, MinFrame)}, queued: true},
		{name: "maximum in two parts", parts: [][]byte{make([]byte, 54), make([]byte, MaxFrame-54)}, queued: true},
		{name: "empty part skipped", parts: [][]byte{nil, make([]byte, 60)}, queued: true},
		{name: "too short", parts: [][]byte{make([]byte, MinFrame-1)}, drops: 1},
		{name: "too long", parts: [][]byte{make([]byte, MaxFrame), {0}}, drops: 1},
		{name: "empty", parts: nil, drops: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sw, err := NewStreamWriter(-1, 4, 2)
			if err != nil {
				t.Fatalf("NewStreamWriter: %v", err)
			}
			if got := sw.Queue(tc.parts...); got != tc.queued {
				t.Errorf("Queue: got %v, want %v", got, tc.queued)
			}
			want := 0
			if tc.queued {
				want = 1
			}
			if got := sw.Len(); got != want {
				t.Errorf("Len: got %d, want %d", got, want)
			}
			if got := sw.Counters().Drops[DropLength]; got != tc.drops {
				t.Errorf("DropLength: got %d, want %d", got, tc.drops)
			}
		})
	}

	t.Run("full", func(t *testing.T) {
		sw, err := NewStreamWriter(-1, 3, 1)
		if err != nil {
			t.Fatalf("NewStreamWriter: %v", err)
		}
		f := make([]byte, 60)
		for i := 0; i < 3; i++ {
			if !sw.Queue(f) {
				t.Fatalf("Queue %d: got false, want true", i)
			}
		}
		if !sw.Full() {
			t.Fatalf("Full: got false, want true")
		}
		if sw.Queue(f) {
			t.Fatalf("Queue on a full batch: got true, want false")
		}
		if c := sw.Counters(); c.Dropped() != 0 {
			got := c.Dropped()
			t.Fatalf("drops after refusing for a full batch: got %d, want 0", got)
		}
	})
}

func TestNewStreamWriterSize(t *testing.T) {
	tests := []struct {
		name      string
		maxFrames int
		maxParts  int
		ok        bool
	}{
		{name: "no frames", maxFrames: 0, maxParts: 2},
		{name: "no parts", maxFrames: 8, maxParts: 0},
		{name: "largest", maxFrames: MaxIOV / 4, maxParts: 3, ok: true},
		{name: "one iovec too many", maxFrames: MaxIOV/4 + 1, maxParts: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewStreamWriter(-1, tc.maxFrames, tc.maxParts)
			if got := err == nil; got != tc.ok {
				t.Fatalf("got error %v, want ok %v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrBatchSize) {
				t.Fatalf("got %v, want ErrBatchSize", err)
			}
		})
	}
}

// TestStreamWriterSlowPeer sends through a tiny socket buffer to a peer
// that reads a little at a time. Flush keeps getting short writes; frames
// it did not send are queued again, as TCP would. The peer must parse the
// whole stream and see every frame exactly once, in order.
func TestStreamWriterSlowPeer(t *testing.T) {
	w, p := socketPair(t, false)
	if err := unix.SetsockoptInt(w, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096); err != nil {
		t.Fatalf("SO_SNDBUF: %v", err)
	}
	const total = 3000
	rng := rand.New(rand.NewPCG(8, 9))
	frames := make([][]byte, total)
	for i := range frames {
		frames[i] = makeFrame(i, MinFrame+4+rng.IntN(3000))
	}

	type result struct {
		seqs []int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var res result
		defer func() { done <- res }()
		rd := fdReader{fd: p, chunk: 97}
		var hdr [LengthSize]byte
		for {
			if _, err := io.ReadFull(rd, hdr[:]); err != nil {
				if err != io.EOF {
					res.err = err
				}
				return
			}
			l := binary.BigEndian.Uint32(hdr[:])
			if l < MinFrame+4 || l > MaxFrame {
				res.err = errors.New("bad length " + strconv.Itoa(int(l)))
				return
			}
			f := make([]byte, l)
			if _, err := io.ReadFull(rd, f); err != nil {
				res.err = err
				return
			}
			seq := int(binary.BigEndian.Uint32(f[MinFrame:]))
			if seq >= total || !bytes.Equal(f, frames[seq]) {
				res.err = errors.New("frame content differs, sequence " + strconv.Itoa(seq))
				return
			}
			res.seqs = append(res.seqs, seq)
		}
	}()

	sw, err := NewStreamWriter(w, 64, 2)
	if err != nil {
		t.Fatalf("NewStreamWriter: %v", err)
	}
	sw.SetStallTimeout(5 * time.Second)
	next := 0 // first frame not yet delivered
	deadline := time.Now().Add(20 * time.Second)
	for round := 0; next < total; round++ {
		if time.Now().After(deadline) || round > 100*total {
			t.Fatalf("gave up after %d rounds with %d of %d frames sent", round, next, total)
		}
		for i := next; i < total && !sw.Full(); i++ {
			if !sw.Queue(splitFrame(frames[i], 20+i%50)...) {
				t.Fatalf("Queue refused frame %d", i)
			}
		}
		sent, err := sw.Flush()
		if err != nil {
			t.Fatalf("Flush: %v", err)
		}
		next += sent
		if sent == 0 && !waitFD(t, w, unix.POLLOUT, 5*time.Second) {
			t.Fatalf("socket never became writable")
		}
	}
	unix.Shutdown(w, unix.SHUT_WR)
	res := <-done
	if res.err != nil {
		t.Fatalf("peer: %v", res.err)
	}
	if len(res.seqs) != total {
		t.Fatalf("peer got %d frames, want %d", len(res.seqs), total)
	}
	for i, s := range res.seqs {
		if s != i {
			t.Fatalf("peer frame %d: got sequence %d, want %d", i, s, i)
		}
	}
	c := sw.Counters()
	if c.Completed == 0 {
		t.Errorf("Completed: got 0, want partial frames finished after short writes")
	}
	if c.Frames != total {
		t.Errorf("Frames: got %d, want %d", c.Frames, total)
	}
	t.Logf("completed %d frames, dropped %d short-write and %d again", c.Completed,
		c.Drops[DropShortWrite], c.Drops[DropAgain])
}

// fillSocket writes into the non-blocking fd until it returns EAGAIN.
func fillSocket(t *testing.T, fd int) {
	t.Helper()
	junk := make([]byte, 4096)
	for _, size := range []int{4096, 1} {
		for i := 0; ; i++ {
			if i > 1<<16 {
				t.Fatalf("socket never filled")
			}
			_, err := unix.Write(fd, junk[:size])
			if errors.Is(err, unix.EAGAIN) {
				break
			}
			if err != nil {
				t.Fatalf("write: %v", err)
			}
		}
	}
}

func TestStreamWriterAgain(t *testing.T) {
	w, _ := socketPair(t, false)
	if err := unix.SetsockoptInt(w, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096); err != nil {
		t.Fatalf("SO_SNDBUF: %v", err)
	}
	fillSocket(t, w)
	sw, err := NewStreamWriter(w, 8, 1)
	if err != nil {
		t.Fatalf("NewStreamWriter: %v", err)
	}
	for i := 0; i < 3; i++ {
		sw.Queue(makeFrame(i, 100))
	}
	sent, err := sw.Flush()
	if sent != 0 || err != nil {
		t.Fatalf("Flush: got (%d, %v), want (0, nil)", sent, err)
	}
	c := sw.Counters()
	if c.Drops[DropAgain] != 3 || c.Frames != 0 {
		t.Fatalf("counters: got %d again, %d frames, want 3, 0", c.Drops[DropAgain], c.Frames)
	}
	if sw.Len() != 0 {
		t.Fatalf("Len after Flush: got %d, want 0", sw.Len())
	}
}

func TestStreamWriterStalled(t *testing.T) {
	w, _ := socketPair(t, false)
	if err := unix.SetsockoptInt(w, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096); err != nil {
		t.Fatalf("SO_SNDBUF: %v", err)
	}
	sw, err := NewStreamWriter(w, 8, 1)
	if err != nil {
		t.Fatalf("NewStreamWriter: %v", err)
	}
	sw.SetStallTimeout(50 * time.Millisecond)
	sw.Queue(makeFrame(0, MaxFrame))
	sw.Queue(makeFrame(1, 100))
	sent, err := sw.Flush()
	if sent != 0 || !errors.Is(err, ErrStalled) {
		t.Fatalf("Flush: got (%d, %v), want (0, ErrStalled)", sent, err)
	}
	if got := sw.Counters().Drops[DropShortWrite]; got != 2 {
		t.Fatalf("DropShortWrite: got %d, want 2", got)
	}
}

func TestStreamWriterPeerGone(t *testing.T) {
	w, p := socketPair(t, false)
	unix.Close(p)
	sw, err := NewStreamWriter(w, 8, 1)
	if err != nil {
		t.Fatalf("NewStreamWriter: %v", err)
	}
	sw.Queue(makeFrame(0, 100))
	sw.Queue(makeFrame(1, 100))
	sent, err := sw.Flush()
	if sent != 0 || !errors.Is(err, unix.EPIPE) {
		t.Fatalf("Flush: got (%d, %v), want (0, EPIPE)", sent, err)
	}
	if got := sw.Counters().Drops[DropError]; got != 2 {
		t.Fatalf("DropError: got %d, want 2", got)
	}
}

func TestStreamWriterAllocs(t *testing.T) {
	w, p := socketPair(t, true)
	setSendBuffer(t, w, 8<<20)
	sw, err := NewStreamWriter(w, 32, 2)
	if err != nil {
		t.Fatalf("NewStreamWriter: %v", err)
	}
	hdr := makeFrame(0, 54)
	payload := makeFrame(1, 1460)
	sink := make([]byte, 1<<20)
	want := 32 * (LengthSize + len(hdr) + len(payload))
	allocs := testing.AllocsPerRun(50, func() {
		for !sw.Full() {
			sw.Queue(hdr, payload)
		}
		if sent, err := sw.Flush(); sent != 32 || err != nil {
			panic("short flush")
		}
		for got := 0; got < want; {
			n, err := unix.Read(p, sink)
			if err != nil {
				panic(err)
			}
			got += n
		}
	})
	if allocs != 0 {
		t.Errorf("allocations per Queue+Flush round: got %v, want 0", allocs)
	}
}

func BenchmarkStreamWriter(b *testing.B) {
	for _, batch := range []int{1, 8, 64, 256} {
		b.Run(strconv.Itoa(batch)+"x1514B", func(b *testing.B) {
			w, p := socketPair(b, true)
			setSendBuffer(b, w, 8<<20)
			sw, err := NewStreamWriter(w, batch, 2)
			if err != nil {
				b.Fatalf("NewStreamWriter: %v", err)
			}
			hdr := makeFrame(0, 54)
			payload := makeFrame(1, 1460)
			sink := make([]byte, 4<<20)
			size := batch * (LengthSize + len(hdr) + len(payload))
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				for !sw.Full() {
					sw.Queue(hdr, payload)
				}
				if sent, err := sw.Flush(); sent != batch || err != nil {
					b.Fatalf("Flush: got (%d, %v), want (%d, nil)", sent, err, batch)
				}
				for got := 0; got < size; {
					n, err := unix.Read(p, sink)
					if err != nil {
						b.Fatalf("read: %v", err)
					}
					got += n
				}
			}
		})
	}
}
