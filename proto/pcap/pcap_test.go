// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// capture is a capture file as read back by readCapture.
type capture struct {
	magic    uint32
	major    uint16
	minor    uint16
	snaplen  uint32
	linktype uint32
	records  []record
}

type record struct {
	sec, frac uint32
	origLen   uint32
	data      []byte
}

// readCapture parses a little-endian classic pcap file.
func readCapture(b []byte) (capture, error) {
	var c capture
	if len(b) < FileHeaderSize {
		return c, errors.New("short global header")
	}
	le := binary.LittleEndian
	c.magic = le.Uint32(b[0:])
	c.major = le.Uint16(b[4:])
	c.minor = le.Uint16(b[6:])
	c.snaplen = le.Uint32(b[16:])
	c.linktype = le.Uint32(b[20:])
	b = b[FileHeaderSize:]
	for len(b) > 0 {
		if len(b) < RecordHeaderSize {
			return c, errors.New("short record header")
		}
		r := record{sec: le.Uint32(b[0:]), frac: le.Uint32(b[4:]), origLen: le.Uint32(b[12:])}
		capLen := int(le.Uint32(b[8:]))
		b = b[RecordHeaderSize:]
		if capLen > len(b) || capLen > int(c.snaplen) {
			return c, errors.New("record of " + strconv.Itoa(capLen) + " bytes overruns the file or the snapshot length")
		}
		r.data = b[:capLen]
		b = b[capLen:]
		c.records = append(c.records, r)
	}
	return c, nil
}

// arpFrame returns a broadcast ARP request whose target address encodes
// seq, padded to n bytes (at least 42).
func arpFrame(seq, n int) []byte {
	f := make([]byte, max(n, 42))
	copy(f, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06,
		0, 1, 8, 0, 6, 4, 0, 1, 0x02, 0, 0, 0, 0, 1, 10, 0, 0, 1})
	binary.BigEndian.PutUint32(f[38:], 0x0a000000|uint32(seq))
	for i := 42; i < len(f); i++ {
		f[i] = byte(seq + i)
	}
	return f
}

// arpFrames returns n frames of size bytes, as arpFrame makes them.
func arpFrames(n, size int) [][]byte {
	frames := make([][]byte, n)
	for i := range frames {
		frames[i] = arpFrame(i, size)
	}
	return frames
}

// mustNew starts a capture of snaplen bytes a frame on fd, with
// timestamps in nanoseconds when nano is set, and fails the test on an
// error.
func mustNew(t testing.TB, fd int, nano bool, snaplen int) *Writer {
	t.Helper()
	newW, name := New, "New"
	if nano {
		newW, name = NewNano, "NewNano"
	}
	w, err := newW(fd, snaplen)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return w
}

// openDevNull opens /dev/null for writing, closed at clean-up.
func openDevNull(t testing.TB) int {
	t.Helper()
	fd, err := unix.Open("/dev/null", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open /dev/null: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// pipe returns a new pipe, its read end first, opened with flags.
func pipe(t *testing.T, flags int) [2]int {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], flags); err != nil {
		t.Fatalf("pipe2: %v", err)
	}
	return p
}

func tempFile(t *testing.T) (*os.File, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "capture.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f, path
}

func TestWriterRoundTrip(t *testing.T) {
	stamp := time.Unix(1767225600, 123456789)
	tests := []struct {
		name    string
		nano    bool
		snaplen int
		sizes   []int
		batch   bool
	}{
		{name: "microseconds one by one", snaplen: 65535, sizes: []int{42, 60, 1514, 9014, 65535}},
		{name: "nanoseconds one by one", nano: true, snaplen: 65535, sizes: []int{42, 1514}},
		{name: "truncated to the snapshot length", snaplen: 100, sizes: []int{42, 100, 101, 1514}},
		{name: "one batch", snaplen: 65535, sizes: repeat(64, 1514), batch: true},
		{name: "batch over MaxBatch", nano: true, snaplen: 1500, sizes: repeat(MaxBatch*2+7, 1514), batch: true},
		{name: "empty frame", snaplen: 65535, sizes: []int{0, 42}, batch: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, path := tempFile(t)
			w := mustNew(t, int(f.Fd()), tc.nano, tc.snaplen)
			frames := make([][]byte, len(tc.sizes))
			for i, n := range tc.sizes {
				frames[i] = arpFrame(i, n)[:n]
			}
			if tc.batch {
				w.WriteFrames(frames, stamp)
			} else {
				for _, fr := range frames {
					w.WriteFrame(fr, stamp)
				}
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			c, err := readCapture(b)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			wantMagic, wantFrac := uint32(MagicMicro), uint32(123456)
			if tc.nano {
				wantMagic, wantFrac = MagicNano, 123456789
			}
			fields := []struct {
				name      string
				got, want uint32
			}{
				{name: "magic", got: c.magic, want: wantMagic},
				{name: "major", got: uint32(c.major), want: 2},
				{name: "minor", got: uint32(c.minor), want: 4},
				{name: "snaplen", got: c.snaplen, want: uint32(tc.snaplen)},
				{name: "linktype", got: c.linktype, want: 1},
				{name: "records", got: uint32(len(c.records)), want: uint32(len(frames))},
			}
			for _, fl := range fields {
				if fl.got != fl.want {
					t.Fatalf("%s: got %#x, want %#x", fl.name, fl.got, fl.want)
				}
			}
			truncated := 0
			for i, r := range c.records {
				want := frames[i][:min(len(frames[i]), tc.snaplen)]
				if len(want) < len(frames[i]) {
					truncated++
				}
				if r.sec != 1767225600 || r.frac != wantFrac {
					t.Errorf("record %d time: got %d.%d, want %d.%d", i, r.sec, r.frac, 1767225600, wantFrac)
				}
				if r.origLen != uint32(len(frames[i])) {
					t.Errorf("record %d len: got %d, want %d", i, r.origLen, len(frames[i]))
				}
				if !bytes.Equal(r.data, want) {
					t.Fatalf("record %d data differs: got %d bytes, want %d", i, len(r.data), len(want))
				}
			}
			s := w.Stats()
			if s.Records != uint64(len(frames)) || s.Errors != 0 || s.Truncated != uint64(truncated) {
				t.Errorf("stats: got %+v, want %d records, 0 errors, %d truncated", s, len(frames), truncated)
			}
		})
	}
}

func repeat(n, size int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = size
	}
	return s
}

func TestWriterTcpdump(t *testing.T) {
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skip("tcpdump is not installed")
	}
	tests := []struct {
		name  string
		nano  bool
		count int
	}{
		{name: "microseconds", count: 37},
		{name: "nanoseconds", nano: true, count: MaxBatch + 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, path := tempFile(t)
			w := mustNew(t, int(f.Fd()), tc.nano, 65535)
			frames := arpFrames(tc.count, 60)
			w.WriteFrame(frames[0], time.Now())
			w.WriteFrames(frames[1:], time.Now())
			out, err := exec.Command(tcpdump, "-r", path, "-nn").Output()
			if err != nil {
				t.Fatalf("tcpdump: %v", err)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != tc.count {
				t.Fatalf("tcpdump printed %d packets, want %d", len(lines), tc.count)
			}
			for _, want := range []string{"ARP", "Request who-has 10.0.0.0", "tell 10.0.0.1"} {
				if !strings.Contains(lines[0], want) {
					t.Errorf("tcpdump first line: got %q, want it to contain %q", lines[0], want)
				}
			}
			last := tc.count - 1
			want := "who-has 10.0." + strconv.Itoa(last>>8) + "." + strconv.Itoa(last&0xff) + " "
			if !strings.Contains(lines[last], want) {
				t.Errorf("tcpdump last line: got %q, want it to contain %q", lines[last], want)
			}
		})
	}
}

func TestNewSnapLen(t *testing.T) {
	tests := []struct {
		name    string
		snaplen int
		ok      bool
	}{
		{name: "zero", snaplen: 0},
		{name: "one", snaplen: 1, ok: true},
		{name: "maximum", snaplen: MaxSnapLen, ok: true},
		{name: "above maximum", snaplen: MaxSnapLen + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := tempFile(t)
			_, err := New(int(f.Fd()), tc.snaplen)
			if got := err == nil; got != tc.ok {
				t.Fatalf("New(%d): got error %v, want ok %v", tc.snaplen, err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrSnapLen) {
				t.Fatalf("got %v, want ErrSnapLen", err)
			}
		})
	}
}

func TestWriterErrors(t *testing.T) {
	t.Run("header to a read-only descriptor", func(t *testing.T) {
		_, path := tempFile(t)
		f, err := os.Open(path)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer f.Close()
		if _, err := New(int(f.Fd()), 65535); !errors.Is(err, unix.EBADF) {
			t.Fatalf("New: got %v, want EBADF", err)
		}
	})

	t.Run("reader gone", func(t *testing.T) {
		p := pipe(t, unix.O_CLOEXEC)
		defer unix.Close(p[1])
		w := mustNew(t, p[1], false, 65535)
		unix.Close(p[0])
		w.WriteFrame(arpFrame(0, 60), time.Now())
		w.WriteFrames([][]byte{arpFrame(1, 60), arpFrame(2, 60)}, time.Now())
		if s := w.Stats(); s.Errors != 3 || s.Records != 0 {
			t.Fatalf("stats: got %+v, want 3 errors, 0 records", s)
		}
		if w.Broken() {
			t.Fatalf("Broken: got true after writes that wrote nothing, want false")
		}
	})

	t.Run("record cut by a full pipe", func(t *testing.T) {
		p := pipe(t, unix.O_CLOEXEC|unix.O_NONBLOCK)
		defer unix.Close(p[0])
		defer unix.Close(p[1])
		size, err := unix.FcntlInt(uintptr(p[1]), unix.F_SETPIPE_SZ, 4096)
		if err != nil {
			t.Fatalf("F_SETPIPE_SZ: %v", err)
		}
		w := mustNew(t, p[1], false, 65535)
		w.WriteFrame(arpFrame(0, 2*size), time.Now())
		if !w.Broken() {
			t.Fatalf("Broken: got false after a cut record, want true")
		}
		w.WriteFrames([][]byte{arpFrame(1, 60), arpFrame(2, 60)}, time.Now())
		if s := w.Stats(); s.Errors != 3 || s.Records != 0 {
			t.Fatalf("stats: got %+v, want 3 errors, 0 records", s)
		}
	})
}

func TestWriterAllocs(t *testing.T) {
	w := mustNew(t, openDevNull(t), true, 65535)
	frames := arpFrames(64, 1514)
	now := time.Now()
	allocs := testing.AllocsPerRun(100, func() {
		w.WriteFrame(frames[0], now)
		w.WriteFrames(frames, now)
	})
	if allocs != 0 {
		t.Errorf("allocations per WriteFrame+WriteFrames: got %v, want 0", allocs)
	}
	if s := w.Stats(); s.Records != 101*65 {
		t.Errorf("records: got %d, want %d", s.Records, 101*65)
	}
}

func BenchmarkWriter(b *testing.B) {
	frames := arpFrames(64, 1514)
	size := int64(64 * (RecordHeaderSize + 1514))
	b.Run("devnull/64x1514B", func(b *testing.B) {
		benchWrite(b, openDevNull(b), frames, size, nil)
	})
	b.Run("file/64x1514B", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "bench.pcap")
		fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
		if err != nil {
			b.Fatalf("open: %v", err)
		}
		defer unix.Close(fd)
		i := 0
		benchWrite(b, fd, frames, size, func() {
			if i++; i%256 == 0 {
				// Keep the file small: start again after the header.
				unix.Ftruncate(fd, FileHeaderSize)
				unix.Seek(fd, FileHeaderSize, 0)
			}
		})
	})
}

// benchWrite measures WriteFrames of frames, size bytes in all, to a
// capture on fd, calling each, when not nil, after every call.
func benchWrite(b *testing.B, fd int, frames [][]byte, size int64, each func()) {
	w := mustNew(b, fd, false, 65535)
	now := time.Now()
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		w.WriteFrames(frames, now)
		if each != nil {
			each()
		}
	}
	if s := w.Stats(); s.Errors != 0 {
		b.Fatalf("write errors: %d", s.Errors)
	}
}
