// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package testnet

import (
	"testing"

	"passt-go/proto/header"
)

// Enum is a small enumeration with names, such as the reasons a Reply
// function gives for not answering; for those, the zero value means an
// answer was written.
type Enum interface {
	~uint8
	String() string
}

// ReplyFunc is the form of the Reply functions of the packages that
// answer the guest on the host's behalf: it writes the answer to frame,
// decoded as f, into out and returns its length, or 0 and why it did not
// answer.
type ReplyFunc[C any, W Enum] func(cfg *C, frame []byte, f header.Frame, out []byte) (int, W)

// Decode decodes frame, which the test built, and fails the test when it
// does not decode.
func Decode(t testing.TB, frame []byte) header.Frame {
	t.Helper()
	f, d := header.Decode(frame)
	if d != header.DropNone {
		t.Fatalf("frame does not decode: got %v, want %v", d, header.DropNone)
	}
	return f
}

// MustReply runs reply on frame with an output buffer of size bytes and
// fails the test unless it answers; it returns the answer.
func MustReply[C any, W Enum](t testing.TB, reply ReplyFunc[C, W], cfg *C, frame []byte, size int) []byte {
	t.Helper()
	out := make([]byte, size)
	n, why := reply(cfg, frame, Decode(t, frame), out)
	if why != 0 {
		t.Fatalf("got %v, want a reply", why)
	}
	return out[:n]
}

// IgnoreCase is a frame a Reply function must not answer, and why.
type IgnoreCase[C any, W Enum] struct {
	Name  string
	Cfg   *C // nil: the configuration given to CheckIgnored
	Frame []byte
	Size  int // of the output buffer; 0: the size given to CheckIgnored
	Want  W
}

// CheckIgnored runs reply on the frame of each case, in a subtest of its
// own, and checks that it writes nothing and gives the reason wanted.
func CheckIgnored[C any, W Enum](t *testing.T, reply ReplyFunc[C, W], cfg *C, size int, cases []IgnoreCase[C, W]) {
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			c, out := tc.Cfg, tc.Size
			if c == nil {
				c = cfg
			}
			if out == 0 {
				out = size
			}
			n, why := reply(c, tc.Frame, Decode(t, tc.Frame), make([]byte, out))
			if why != tc.Want || n != 0 {
				t.Errorf("got %v (n %v), want %v (n 0)", why, n, tc.Want)
			}
		})
	}
}

// CheckReplyAllocs checks that reply answers frame, into an output buffer
// of size bytes, without allocating.
func CheckReplyAllocs[C any, W Enum](t *testing.T, reply ReplyFunc[C, W], cfg *C, frame []byte, size int) {
	t.Helper()
	f := Decode(t, frame)
	out := make([]byte, size)
	allocs := testing.AllocsPerRun(100, func() {
		if _, why := reply(cfg, frame, f, out); why != 0 {
			t.Fatalf("got %v, want a reply", why)
		}
	})
	if allocs != 0 {
		t.Errorf("got %v allocations per reply, want 0", allocs)
	}
}

// GuardedReply runs reply on frame, decoded as f, with an output buffer
// of size bytes followed by guard bytes, for a fuzz target. It fails the
// test when reply writes past the buffer, gives a reason of end (the
// number of reasons) or more, or a length that does not go with its
// reason: 0 without an answer, 1 to size with one. It returns the answer,
// nil when there is none.
func GuardedReply[C any, W Enum](t testing.TB, reply ReplyFunc[C, W], cfg *C, frame []byte, f header.Frame, size int, end W) []byte {
	t.Helper()
	const guard = 64
	buf := make([]byte, size+guard)
	for i := range buf {
		buf[i] = 0x5a
	}
	out := buf[:size:size]
	n, why := reply(cfg, frame, f, out)
	for i := size; i < len(buf); i++ {
		if buf[i] != 0x5a {
			t.Fatalf("byte %v beyond out was written", i)
		}
	}
	if why >= end {
		t.Fatalf("got %T(%d), beyond the last reason", why, why)
	}
	if why != 0 {
		if n != 0 {
			t.Fatalf("got n %v with %v, want 0", n, why)
		}
		return nil
	}
	if n <= 0 || n > size {
		t.Fatalf("got n %v, want 1..%v", n, size)
	}
	return out[:n]
}
