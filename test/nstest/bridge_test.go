// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package nstest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// bridgeRig is a Bridge whose tap is one end of a seqpacket socketpair
// (one message per frame, like a tap device) so that it runs without
// privileges. Tests play both outer ends: stream and tap.
type bridgeRig struct {
	b      *Bridge
	stream int // the peer's end of the qemu stream
	tap    int // the "kernel" end of the tap
	done   chan error
}

func newBridgeRig(t testing.TB) *bridgeRig {
	t.Helper()
	s, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	for _, fd := range []int{p[0], p[1]} {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 1<<20)
	}
	b, err := NewBridge(s[1], p[1])
	if err != nil {
		t.Fatalf("NewBridge: %v", err)
	}
	r := &bridgeRig{b: b, stream: s[0], tap: p[0], done: make(chan error, 1)}
	go func() { r.done <- b.Run() }()
	t.Cleanup(func() {
		b.Close()
		unix.Close(r.stream)
		unix.Close(r.tap)
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
			t.Errorf("bridge did not stop within 5s of Close")
		}
	})
	return r
}

// wait returns Run's result, failing the test if it takes over 5 s.
func (r *bridgeRig) wait(t testing.TB) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // for the clean-up
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("bridge still running after 5s, want it stopped")
		return nil
	}
}

// readFull reads exactly len(p) bytes from a blocking stream socket.
func readFull(fd int, p []byte) error {
	for len(p) > 0 {
		n, err := unix.Read(fd, p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return errors.New("unexpected end of stream")
		}
		p = p[n:]
	}
	return nil
}

func TestBridgeBothWays(t *testing.T) {
	r := newBridgeRig(t)
	frames := testFrames(14, 42, 1514, 9000, 65534, MaxFrame, 100)

	// tap -> stream: every frame behind its length prefix, in order.
	for _, f := range frames {
		if _, err := unix.Write(r.tap, f); err != nil {
			t.Fatalf("write to tap side: %v", err)
		}
	}
	want := encodeStream(frames)
	got := make([]byte, len(want))
	if err := readFull(r.stream, got); err != nil {
		t.Fatalf("read stream: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("stream: got %d bytes differing from the %d sent", len(got), len(want))
	}

	// stream -> tap: one write of the whole stream, one message per
	// frame on the tap side.
	if _, err := unix.Write(r.stream, want); err != nil {
		t.Fatalf("write stream: %v", err)
	}
	buf := make([]byte, MaxFrame+1)
	for i, f := range frames {
		n, err := unix.Read(r.tap, buf)
		if err != nil {
			t.Fatalf("frame %d: read tap side: %v", i, err)
		}
		if !bytes.Equal(buf[:n], f) {
			t.Errorf("frame %d: got %d bytes, want %d, byte-exact", i, n, len(f))
		}
	}

	// The counters are added after each batch is written, so the last
	// batch may be on the tap before it is counted: wait for them.
	n := uint64(len(frames))
	WaitFor(t, 5*time.Second, func() bool { s := r.b.Stats(); return s.FramesToSocket == n && s.FramesToTap == n }, "the counters")
	s := r.b.Stats()
	if s.FramesToSocket != uint64(len(frames)) || s.FramesToTap != uint64(len(frames)) {
		t.Errorf("stats: got %d to socket, %d to tap; want %d each", s.FramesToSocket, s.FramesToTap, len(frames))
	}
	if wantBytes := uint64(len(want) - LenPrefix*len(frames)); s.BytesToSocket != wantBytes || s.BytesToTap != wantBytes {
		t.Errorf("stats: got %d bytes to socket, %d to tap; want %d each", s.BytesToSocket, s.BytesToTap, wantBytes)
	}
}

func TestBridgeBatchesTapFrames(t *testing.T) {
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	s, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	defer unix.Close(p[0])
	defer unix.Close(s[0])
	// Frames queued before Run starts are all ready at the first read:
	// they must leave in one write.
	frames := testFrames(60, 60, 60, 1500, 60)
	for _, f := range frames {
		if _, err := unix.Write(p[0], f); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	b, err := NewBridge(s[1], p[1])
	if err != nil {
		t.Fatalf("NewBridge: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Run() }()
	want := encodeStream(frames)
	got := make([]byte, len(want))
	if err := readFull(s[0], got); err != nil || !bytes.Equal(got, want) {
		t.Errorf("stream: got %v and %d bytes matching %v, want the %d bytes sent", err, len(got), bytes.Equal(got, want), len(want))
	}
	WaitFor(t, 5*time.Second, func() bool { return b.Stats().FramesToSocket == uint64(len(frames)) }, "the counters")
	if w := b.Stats().SocketWrites; w != 1 {
		t.Errorf("socket writes: got %d, want 1", w)
	}
	unix.Close(s[0])
	if err := <-done; err != nil {
		t.Errorf("Run: got %v, want nil", err)
	}
}

func TestBridgeEnds(t *testing.T) {
	frame := testFrames(100)[0]
	prefix := binary.BigEndian.AppendUint32(nil, uint32(len(frame)))
	tests := []struct {
		name    string
		send    []byte // written to the stream before it is closed
		close   bool   // close the stream (else call Close)
		wantErr bool
	}{
		{"end of stream", encodeStream([][]byte{frame}), true, false},
		{"end inside a frame", append(prefix, frame[:50]...), true, true},
		{"end inside a prefix", prefix[:2], true, true},
		{"length too small", []byte{0, 0, 0, 13}, false, true},
		{"length too large", []byte{0, 1, 0, 0}, false, true},
		{"Close", nil, false, false},
		{"Close inside a frame", append(prefix, frame[:50]...), false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newBridgeRig(t)
			if len(tc.send) > 0 {
				if _, err := unix.Write(r.stream, tc.send); err != nil {
					t.Fatalf("write: %v", err)
				}
			}
			if tc.close {
				unix.Shutdown(r.stream, unix.SHUT_WR)
			} else if !tc.wantErr {
				// Let the bridge take in what was sent, then stop it.
				WaitFor(t, 5*time.Second, func() bool {
					n, _ := unix.IoctlGetInt(r.stream, unix.SIOCOUTQ)
					return n == 0
				}, "the bridge to read the stream")
				r.b.Close()
			}
			err := r.wait(t)
			if (err != nil) != tc.wantErr {
				t.Errorf("Run: got %v, want error: %v", err, tc.wantErr)
			}
			// Run closed its descriptors: after the frames it
			// passed on, the tap side reads the end.
			buf := make([]byte, MaxFrame)
			frames := 0
			for ; frames < 10; frames++ {
				n, err := unix.Read(r.tap, buf)
				if err != nil {
					t.Fatalf("tap side after Run: %v", err)
				}
				if n == 0 {
					break
				}
			}
			if want := len(tc.send) / (LenPrefix + len(frame)); frames != want {
				t.Errorf("tap side: got %d frames before the end, want %d", frames, want)
			}
		})
	}
}

// TestBridgeNoAllocs proves that moving a frame in each direction
// allocates nothing, in the bridge or here.
func TestBridgeNoAllocs(t *testing.T) {
	r := newBridgeRig(t)
	frame := testFrames(1514)[0]
	stream := encodeStream([][]byte{frame})
	sbuf := make([]byte, len(stream))
	fbuf := make([]byte, MaxFrame)
	var failed error
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := unix.Write(r.tap, frame); err != nil {
			failed = err
			return
		}
		if err := readFull(r.stream, sbuf); err != nil {
			failed = err
			return
		}
		if _, err := unix.Write(r.stream, stream); err != nil {
			failed = err
			return
		}
		if _, err := unix.Read(r.tap, fbuf); err != nil {
			failed = err
		}
	})
	if failed != nil {
		t.Fatalf("round trip: %v", failed)
	}
	if allocs != 0 {
		t.Errorf("allocations per round trip: got %v, want 0", allocs)
	}
}

// BenchmarkBridge measures each direction with frames of passt's default
// MTU (65520) and of 1500, the tap side being a seqpacket socket.
func BenchmarkBridge(b *testing.B) {
	for _, size := range []int{65534, 1514} {
		frame := testFrames(size)[0]
		b.Run("tap-to-socket/"+strconv.Itoa(size), func(b *testing.B) {
			r := newBridgeRig(b)
			sink := make([]byte, 1<<20)
			total := b.N * (size + LenPrefix)
			go func() {
				for i := 0; i < b.N; i++ {
					if _, err := unix.Write(r.tap, frame); err != nil {
						return
					}
				}
			}()
			b.SetBytes(int64(size))
			for total > 0 {
				n, err := unix.Read(r.stream, sink[:min(len(sink), total)])
				if err != nil || n == 0 {
					b.Fatalf("read stream: %d, %v", n, err)
				}
				total -= n
			}
		})
		b.Run("socket-to-tap/"+strconv.Itoa(size), func(b *testing.B) {
			r := newBridgeRig(b)
			const per = 64
			var batch []byte
			for range per {
				batch = AppendFrame(batch, frame)
			}
			go func() {
				for i := 0; i < b.N; i += per {
					if err := writeFull(r.stream, batch); err != nil {
						return
					}
				}
			}()
			b.SetBytes(int64(size))
			buf := make([]byte, MaxFrame)
			want := (b.N + per - 1) / per * per
			for i := 0; i < want; i++ {
				if _, err := unix.Read(r.tap, buf); err != nil {
					b.Fatalf("read tap side: %v", err)
				}
			}
		})
	}
}
