// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package nstest

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// testFrames returns frames of the given sizes, each filled with a
// pattern that depends on its index, so a frame cut, merged or reordered
// does not compare equal.
func testFrames(sizes ...int) [][]byte {
	frames := make([][]byte, len(sizes))
	for i, n := range sizes {
		f := make([]byte, n)
		for j := range f {
			f[j] = byte(i*31 + j*7 + j>>8)
		}
		frames[i] = f
	}
	return frames
}

func encodeStream(frames [][]byte) []byte {
	var s []byte
	for _, f := range frames {
		s = AppendFrame(s, f)
	}
	return s
}

// feed pushes stream into d in pieces cut at the given lengths (the rest
// in one piece) and returns copies of the frames d yields.
func feed(t *testing.T, d *deframer, stream []byte, cuts []int) ([][]byte, error) {
	t.Helper()
	var got [][]byte
	push := func(p []byte) error {
		for len(p) > 0 {
			room := d.room()
			if len(room) == 0 {
				t.Fatalf("got empty room with %d bytes pending, want space", d.pending())
			}
			n := copy(room, p)
			d.filled(n)
			p = p[n:]
			for {
				f, err := d.next()
				if err != nil {
					return err
				}
				if f == nil {
					break
				}
				got = append(got, bytes.Clone(f))
			}
		}
		return nil
	}
	for _, c := range cuts {
		c = min(c, len(stream))
		if err := push(stream[:c]); err != nil {
			return got, err
		}
		stream = stream[c:]
	}
	return got, push(stream)
}

func TestDeframerSplits(t *testing.T) {
	frames := testFrames(14, 60, 1514, MaxFrame, 15, 9000, 65534)
	stream := encodeStream(frames)
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name string
		cuts func() []int
	}{
		{"whole", func() []int { return nil }},
		{"one byte at a time", func() []int {
			c := make([]int, len(stream))
			for i := range c {
				c[i] = 1
			}
			return c
		}},
		{"inside every prefix", func() []int { return []int{2, 1, 14 + 1, 2, 60 + 3, 1} }},
		{"random", func() []int {
			var c []int
			for n := 0; n < len(stream); {
				k := 1 + rng.IntN(70000)
				c = append(c, k)
				n += k
			}
			return c
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The smallest buffer allowed, so partial frames must be
			// moved to the front.
			d := newDeframer(0)
			got, err := feed(t, d, stream, tc.cuts())
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if len(got) != len(frames) {
				t.Fatalf("got %d frames, want %d", len(got), len(frames))
			}
			for i := range frames {
				if !bytes.Equal(got[i], frames[i]) {
					t.Errorf("frame %d: got %d bytes (differing), want %d", i, len(got[i]), len(frames[i]))
				}
			}
			if d.pending() != 0 {
				t.Errorf("got %d bytes pending, want 0", d.pending())
			}
		})
	}
}

func TestDeframerBadLength(t *testing.T) {
	for _, n := range []uint32{0, 13, MaxFrame + 1, 1 << 31} {
		d := newDeframer(0)
		stream := append(encodeStream(testFrames(100)), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		got, err := feed(t, d, stream, []int{50})
		var fe FrameLengthError
		if !errors.As(err, &fe) || fe.Len != n {
			t.Errorf("length %d: got error %v, want FrameLengthError{%d}", n, err, n)
		}
		if len(got) != 1 {
			t.Errorf("length %d: got %d frames before the bad one, want 1", n, len(got))
		}
	}
}

func TestReadWriteFrame(t *testing.T) {
	frames := testFrames(14, 1500, MaxFrame)
	var buf bytes.Buffer
	for _, f := range frames {
		if err := WriteFrame(&buf, f); err != nil {
			t.Fatalf("WriteFrame(%d bytes): got %v, want nil", len(f), err)
		}
	}
	if err := WriteFrame(&buf, make([]byte, 13)); err == nil {
		t.Errorf("WriteFrame(13 bytes): got nil, want an error")
	}
	rbuf := make([]byte, MaxFrame)
	for i, want := range frames {
		got, err := ReadFrame(&buf, rbuf)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("frame %d: got %d bytes, %v; want %d bytes, nil", i, len(got), err, len(want))
		}
	}
	if _, err := ReadFrame(&buf, rbuf); err != io.EOF {
		t.Errorf("at end: got %v, want %v", err, io.EOF)
	}
	cut := bytes.NewReader(encodeStream(testFrames(100))[:50])
	if _, err := ReadFrame(cut, rbuf); err != io.ErrUnexpectedEOF {
		t.Errorf("cut frame: got %v, want %v", err, io.ErrUnexpectedEOF)
	}
}
