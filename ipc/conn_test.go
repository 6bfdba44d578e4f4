// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package ipc

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"passt-go/internal/testnet"
)

// pair returns a connected monitor/worker pair, closed at cleanup.
func pair(t testing.TB) (mon, wrk *Conn) {
	t.Helper()
	mon, wrk, err := Pair()
	if err != nil {
		t.Fatalf("Pair: %v", err)
	}
	t.Cleanup(func() {
		mon.Close()
		wrk.Close()
	})
	return mon, wrk
}

// recvTimeout receives on c in a goroutine and fails the test when nothing
// arrives within the limit; the goroutine ends when c is closed.
func recvTimeout(t testing.TB, c *Conn, limit time.Duration) (Message, error) {
	t.Helper()
	type result struct {
		m   Message
		err error
	}
	ch := make(chan result, 1)
	go func() {
		m, err := c.Recv()
		ch <- result{m, err}
	}()
	select {
	case r := <-ch:
		return r.m, r.err
	case <-time.After(limit):
		c.Close()
		<-ch
		t.Fatalf("Recv: nothing within %v", limit)
		return Message{}, nil
	}
}

func TestConnRoundTrip(t *testing.T) {
	checkLeaks(t)
	mon, wrk := pair(t)
	for _, tc := range sampleMessages() {
		t.Run(tc.name, func(t *testing.T) {
			from, to := mon, wrk
			if !tc.msg.Kind().SentBy(RoleMonitor) {
				from, to = wrk, mon
			}
			sent := tc.msg
			sent.FDs = memFDs(t, tc.nfds)
			if err := from.Send(sent); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got, err := to.Recv()
			if err != nil {
				t.Fatalf("Recv: %v", err)
			}
			for _, fd := range got.FDs {
				t.Cleanup(func() { unix.Close(fd) })
			}
			if len(got.FDs) != tc.nfds {
				t.Fatalf("descriptors: got %d, want %d", len(got.FDs), tc.nfds)
			}
			for i, fd := range got.FDs {
				if fd == sent.FDs[i] {
					t.Errorf("descriptor %d: got the sender's number %d, want a new one", i, fd)
				}
				if !sameFile(t, fd, sent.FDs[i]) {
					t.Errorf("descriptor %d: got a different file, want the one sent", i)
				}
				if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || fl&unix.FD_CLOEXEC == 0 {
					t.Errorf("descriptor %d: got flags %#x (%v), want FD_CLOEXEC", i, fl, err)
				}
			}
			got.FDs = nil
			if !reflect.DeepEqual(got, tc.msg) {
				t.Errorf("got %+v, want %+v", got, tc.msg)
			}
		})
	}
}

func TestConnFragmented(t *testing.T) {
	checkLeaks(t)
	mon, wrk := pair(t)
	rng := rand.New(rand.NewPCG(1, 2))
	blob := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	many := make([]Counter, MaxCounters)
	for i := range many {
		many[i] = Counter{Name: string(bytes.Repeat([]byte{'a' + byte(i%26)}, MaxCounterName-4)) + string(rune('0'+i%10)), Value: uint64(i)}
	}
	tests := []struct {
		name     string
		from, to *Conn
		msg      Message
	}{
		{name: "Config one chunk", from: mon, to: wrk, msg: Message{ID: 1, Body: Config{Blob: blob(MaxChunk)}}},
		{name: "Config chunk and a byte", from: mon, to: wrk, msg: Message{ID: 2, Body: Config{Blob: blob(MaxChunk + 1)}}},
		{name: "Config exact chunks", from: mon, to: wrk, msg: Message{ID: 3, Body: Config{Blob: blob(4 * MaxChunk)}}},
		{name: "Config limit", from: mon, to: wrk, msg: Message{ID: 4, Body: Config{Blob: blob(MaxConfig)}}},
		{name: "Stats limit", from: wrk, to: mon, msg: Message{ID: 5, Body: Stats{Counters: many}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The sender blocks once the socket buffer is full, until the
			// receiver catches up.
			errc := make(chan error, 1)
			go func() { errc <- tc.from.Send(tc.msg) }()
			got, err := recvTimeout(t, tc.to, 10*time.Second)
			if err != nil {
				t.Fatalf("Recv: %v", err)
			}
			if err := <-errc; err != nil {
				t.Fatalf("Send: %v", err)
			}
			if !reflect.DeepEqual(got, tc.msg) {
				t.Errorf("got %v message %d, want %v message %d equal to the one sent", got.Kind(), got.ID, tc.msg.Kind(), tc.msg.ID)
			}
		})
	}
	if err := mon.Send(Message{Body: Config{Blob: make([]byte, MaxConfig+1)}}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Config over the limit: got %v, want %v", err, ErrTooLarge)
	}
}

func TestConnSendFDs(t *testing.T) {
	checkLeaks(t)
	tests := []struct {
		name   string
		n      int
		splits []int // descriptors per message
	}{
		{name: "none", n: 0, splits: []int{0}},
		{name: "one", n: 1, splits: []int{1}},
		{name: "limit", n: MaxFDs, splits: []int{MaxFDs}},
		{name: "over limit", n: MaxFDs + 47, splits: []int{MaxFDs, 47}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mon, wrk := pair(t)
			fds := memFDs(t, tc.n)
			entries := make([]FDEntry, tc.n)
			for i := range entries {
				entries[i] = FDEntry{Role: FDUDPListener, Proto: UDP, Family: IPv4, Port: uint16(1000 + i), Rule: uint16(i)}
			}
			errc := make(chan error, 1)
			go func() { errc <- mon.SendFDs(9, entries, fds) }()
			next := 0
			for i, want := range tc.splits {
				m, err := recvTimeout(t, wrk, 10*time.Second)
				if err != nil {
					t.Fatalf("message %d: Recv: %v", i, err)
				}
				for _, fd := range m.FDs {
					t.Cleanup(func() { unix.Close(fd) })
				}
				body, ok := m.Body.(FDs)
				if !ok || m.ID != 9 {
					t.Fatalf("message %d: got %v ID %d, want FDs ID 9", i, m.Kind(), m.ID)
				}
				if len(m.FDs) != want || len(body.Entries) != want {
					t.Fatalf("message %d: got %d descriptors and %d entries, want %d", i, len(m.FDs), len(body.Entries), want)
				}
				if wantMore := i < len(tc.splits)-1; body.More != wantMore {
					t.Errorf("message %d: More: got %v, want %v", i, body.More, wantMore)
				}
				for j, e := range body.Entries {
					if e != entries[next] || !sameFile(t, m.FDs[j], fds[next]) {
						t.Errorf("entry %d: got %+v (or another file), want %+v", next, e, entries[next])
					}
					next++
				}
			}
			if err := <-errc; err != nil {
				t.Fatalf("SendFDs: %v", err)
			}
		})
	}
	mon, _ := pair(t)
	if err := mon.SendFDs(0, make([]FDEntry, 2), []int{0}); !errors.Is(err, ErrFDCount) {
		t.Errorf("entries and descriptors differ: got %v, want %v", err, ErrFDCount)
	}
}

// TestConnRejects sends hand-made datagrams and checks that each is refused
// with the right error, that every descriptor that came with it is closed in
// the receiver, and that the connection still works afterwards.
func TestConnRejects(t *testing.T) {
	checkLeaks(t)
	logPayload := append([]byte{byte(LevelInfo)}, "ok"...)
	cfgChunk := make([]byte, MaxChunk)
	tests := []struct {
		name string
		// peer is the role the receiving Conn expects the sender to have.
		peer Role
		// prior datagrams, sent before the offending one, with their
		// descriptor counts; each must be accepted as a fragment.
		prior     [][]byte
		priorFDs  []int
		data      []byte
		nfds      int
		closePeer bool // close the sender after the datagrams
		wantErr   error
	}{
		{name: "shorter than header", peer: RoleWorker, data: []byte("PGWM\x01"), nfds: 2, wantErr: ErrMalformed},
		{name: "garbage", peer: RoleWorker, data: bytes.Repeat([]byte{0xa5}, 64), nfds: 1, wantErr: ErrMalformed},
		{name: "version mismatch", peer: RoleWorker, data: datagram(Version+1, KindLog, 0, OK, 0, 1, logPayload), nfds: 1, wantErr: &VersionError{}},
		{name: "length disagrees", peer: RoleWorker, data: append(datagram(Version, KindLog, 0, OK, 0, 0, logPayload), 'x'), wantErr: ErrMalformed},
		{name: "oversized", peer: RoleWorker, data: make([]byte, MaxDatagram+1), nfds: 3, wantErr: ErrTooLarge},
		{name: "unexpected fds", peer: RoleWorker, data: datagram(Version, KindLog, 0, OK, 0, 3, logPayload), nfds: 3, wantErr: ErrFDCount},
		{name: "header fds over attached", peer: RoleWorker, data: datagram(Version, KindLog, 0, OK, 0, 2, logPayload), nfds: 1, wantErr: ErrFDCount},
		{name: "attached fds over header", peer: RoleWorker, data: datagram(Version, KindLog, 0, OK, 0, 0, logPayload), nfds: 2, wantErr: ErrFDCount},
		{name: "FDs declares fewer", peer: RoleMonitor, data: datagram(Version, KindFDs, 0, OK, 0, 2, []byte{0, 0, 1, 0, byte(FDLog), 0, 0, 0, 0, 0, 0, 0}), nfds: 2, wantErr: ErrFDCount},
		{name: "bad payload", peer: RoleWorker, data: datagram(Version, KindLog, 0, OK, 0, 0, []byte{byte(LevelInfo), '\n'}), wantErr: ErrMalformed},
		{name: "Config from worker", peer: RoleWorker, data: datagram(Version, KindConfig, 0, OK, 0, 1, nil), nfds: 1, wantErr: ErrDirection},
		{name: "BrokerRequest from monitor", peer: RoleMonitor, data: datagram(Version, KindBrokerRequest, 0, OK, 0, 0, nil), wantErr: ErrDirection},
		{name: "fragment of small kind", peer: RoleWorker, data: datagram(Version, KindLog, 0, OK, flagMore, 1, logPayload), nfds: 1, wantErr: ErrMalformed},
		{name: "short first fragment", peer: RoleMonitor, data: datagram(Version, KindConfig, 0, OK, flagMore, 0, cfgChunk[:100]), wantErr: ErrMalformed},
		{name: "interleaved", peer: RoleMonitor,
			prior: [][]byte{datagram(Version, KindConfig, 1, OK, flagMore, 2, cfgChunk)}, priorFDs: []int{2},
			data: datagram(Version, KindShutdown, 2, OK, 0, 1, nil), nfds: 1, wantErr: ErrMalformed},
		{name: "fragment of another id", peer: RoleMonitor,
			prior: [][]byte{datagram(Version, KindConfig, 1, OK, flagMore, 0, cfgChunk)}, priorFDs: []int{0},
			data: datagram(Version, KindConfig, 2, OK, 0, 0, []byte("x")), wantErr: ErrMalformed},
		{name: "fds on continuation", peer: RoleMonitor,
			prior: [][]byte{datagram(Version, KindConfig, 1, OK, flagMore, 0, cfgChunk)}, priorFDs: []int{0},
			data: datagram(Version, KindConfig, 1, OK, 0, 1, []byte("x")), nfds: 1, wantErr: ErrFDCount},
		{name: "short middle fragment", peer: RoleMonitor,
			prior: [][]byte{datagram(Version, KindConfig, 1, OK, flagMore, 0, cfgChunk)}, priorFDs: []int{0},
			data: datagram(Version, KindConfig, 1, OK, flagMore, 0, []byte("x")), wantErr: ErrMalformed},
		{name: "fds on first fragment of Config", peer: RoleMonitor,
			prior: [][]byte{datagram(Version, KindConfig, 1, OK, flagMore, 3, cfgChunk)}, priorFDs: []int{3},
			data: datagram(Version, KindConfig, 1, OK, 0, 0, []byte("x")), wantErr: ErrFDCount},
		{name: "reassembled over limit", peer: RoleWorker,
			prior: func() [][]byte {
				var ds [][]byte
				for range maxPayload(KindStats) / MaxChunk {
					ds = append(ds, datagram(Version, KindStats, 1, OK, flagMore, 0, cfgChunk))
				}
				return ds
			}(),
			data: datagram(Version, KindStats, 1, OK, 0, 0, cfgChunk), wantErr: ErrTooLarge},
		{name: "end of stream in a fragment", peer: RoleMonitor,
			prior: [][]byte{datagram(Version, KindConfig, 1, OK, flagMore, 2, cfgChunk)}, priorFDs: []int{2},
			closePeer: true, wantErr: io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, c, closeRaw := rawPair(t, tc.peer)
			total := tc.nfds
			for _, n := range tc.priorFDs {
				total += n
			}
			for i, d := range tc.prior {
				n := 0
				if i < len(tc.priorFDs) {
					n = tc.priorFDs[i]
				}
				sendRaw(t, raw, d, memFDs(t, n))
			}
			if tc.data != nil {
				sendRaw(t, raw, tc.data, memFDs(t, tc.nfds))
			}
			if tc.closePeer {
				closeRaw()
			}
			// The descriptors will arrive at the lowest free numbers.
			landing := nextFDs(t, total)
			before := testnet.CountFDs(t)
			m, err := c.Recv()
			var ve *VersionError
			if _, wantVersion := tc.wantErr.(*VersionError); wantVersion && !errors.As(err, &ve) ||
				!wantVersion && !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v message, error %v, want error %v", m.Kind(), err, tc.wantErr)
			}
			if m.Body != nil || m.FDs != nil {
				t.Errorf("message with the error: got %+v, want none", m)
			}
			for _, fd := range landing {
				if isOpen(fd) {
					t.Errorf("received descriptor %d: got open, want closed", fd)
				}
			}
			if after := testnet.CountFDs(t); after != before {
				t.Errorf("open descriptors: got %d after Recv, want %d", after, before)
			}
			if tc.closePeer {
				return
			}
			// The connection still delivers the next good message.
			var good []byte
			if tc.peer == RoleWorker {
				good = encode(t, Message{ID: 77, Body: Log{Level: LevelInfo, Text: "after"}})
			} else {
				good = encode(t, Message{ID: 77, Body: Shutdown{}})
			}
			sendRaw(t, raw, good, nil)
			if m, err := c.Recv(); err != nil || m.ID != 77 {
				t.Errorf("next message: got %v ID %d, %v, want ID 77", m.Kind(), m.ID, err)
			}
		})
	}
}

func TestConnNonblocking(t *testing.T) {
	checkLeaks(t)
	raw, c, _ := rawPair(t, RoleMonitor)
	c.SetNonblocking(true)
	if _, err := c.Recv(); !errors.Is(err, ErrWouldBlock) {
		t.Fatalf("empty: got %v, want %v", err, ErrWouldBlock)
	}
	// A fragment is kept across calls.
	chunk := bytes.Repeat([]byte{'c'}, MaxChunk)
	sendRaw(t, raw, datagram(Version, KindConfig, 5, OK, flagMore, 0, chunk), nil)
	if _, err := c.Recv(); !errors.Is(err, ErrWouldBlock) {
		t.Fatalf("after a fragment: got %v, want %v", err, ErrWouldBlock)
	}
	sendRaw(t, raw, datagram(Version, KindConfig, 5, OK, 0, 0, []byte("!")), nil)
	m, err := c.Recv()
	if err != nil {
		t.Fatalf("after the last fragment: got %v, want a message", err)
	}
	if cfg, ok := m.Body.(Config); !ok || m.ID != 5 || !bytes.Equal(cfg.Blob, append(chunk, '!')) {
		t.Errorf("got %v ID %d, want the reassembled Config 5", m.Kind(), m.ID)
	}

	// Non-blocking Send fills the socket, then refuses without sending
	// anything: the receiver gets exactly the messages accepted.
	mon, wrk := pair(t)
	wrk.SetNonblocking(true)
	msg := Message{Body: Log{Level: LevelDebug, Text: string(bytes.Repeat([]byte{'x'}, 1000))}}
	sent := 0
	for sent < 100000 {
		err := wrk.Send(msg)
		if errors.Is(err, ErrWouldBlock) {
			break
		}
		if err != nil {
			t.Fatalf("Send %d: %v", sent, err)
		}
		sent++
	}
	if sent == 0 || sent == 100000 {
		t.Fatalf("messages queued before the socket was full: got %d, want between 1 and 100000", sent)
	}
	mon.SetNonblocking(true)
	got := 0
	for {
		_, err := mon.Recv()
		if errors.Is(err, ErrWouldBlock) {
			break
		}
		if err != nil {
			t.Fatalf("Recv %d: %v", got, err)
		}
		got++
	}
	if got != sent {
		t.Errorf("messages received: got %d, want %d", got, sent)
	}
}

func TestConnBlockingOnNonblockingFD(t *testing.T) {
	checkLeaks(t)
	mon, wrk := pair(t)
	if err := unix.SetNonblock(wrk.FD(), true); err != nil {
		t.Fatalf("set O_NONBLOCK: %v", err)
	}
	type result struct {
		m   Message
		err error
	}
	ch := make(chan result, 1)
	go func() {
		m, err := wrk.Recv()
		ch <- result{m, err}
	}()
	// Nothing is queued: Recv must wait, not fail with EAGAIN.
	select {
	case r := <-ch:
		t.Fatalf("Recv before anything was sent: got %v, %v, want it to wait", r.m.Kind(), r.err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := mon.Send(Message{Body: Shutdown{}}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	select {
	case r := <-ch:
		if r.err != nil || r.m.Kind() != KindShutdown {
			t.Errorf("got %v, %v, want Shutdown", r.m.Kind(), r.err)
		}
	case <-time.After(5 * time.Second):
		wrk.Close()
		<-ch
		t.Fatal("Recv: nothing within 5s of the Send")
	}
}

func TestConnClose(t *testing.T) {
	checkLeaks(t)
	mon, wrk := pair(t)
	done := make(chan error, 1)
	go func() {
		_, err := wrk.Recv()
		done <- err
	}()
	// Close must wake the blocked Recv; closing without it ever blocking
	// would pass too, which is fine: either way Recv ends with ErrClosed.
	if err := wrk.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("blocked Recv: got %v, want %v", err, ErrClosed)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("blocked Recv: still blocked 5s after Close")
	}
	if err := wrk.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	if err := wrk.Send(Message{Body: Ready{}}); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: got %v, want %v", err, ErrClosed)
	}
	if fd := wrk.FD(); fd != -1 {
		t.Errorf("FD after Close: got %d, want -1", fd)
	}
	if _, err := mon.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("peer Recv: got %v, want %v", err, io.EOF)
	}
	if err := mon.Send(Message{Body: Shutdown{}}); err == nil {
		t.Errorf("peer Send: got nil, want an error")
	}
	if _, err := wrk.File(); !errors.Is(err, ErrClosed) {
		t.Errorf("File after Close: got %v, want %v", err, ErrClosed)
	}
}

// TestChildOverWorkerFD starts this test binary as a worker with its end of
// the pair as descriptor 3, and talks to it.
func TestChildOverWorkerFD(t *testing.T) {
	checkLeaks(t)
	mon, wrk := pair(t)
	f, err := wrk.File()
	if err != nil {
		t.Fatalf("File: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		f.Close()
		t.Fatalf("executable: %v", err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = []string{childEnv + "=1"}
	cmd.ExtraFiles = []*os.File{f}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start child: %v", err)
	}
	f.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waited := false
	t.Cleanup(func() {
		if waited {
			return
		}
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill() // the child we started, by its PID
			<-exited
			t.Errorf("child: still running 10s after the test")
		}
	})

	if err := mon.Send(Message{Body: Hello{Version: Version, Role: RoleMonitor, PID: uint32(os.Getpid())}}); err != nil {
		t.Fatalf("send Hello: %v", err)
	}
	m, err := recvTimeout(t, mon, 10*time.Second)
	if err != nil {
		t.Fatalf("receive Hello: %v", err)
	}
	if h, ok := m.Body.(Hello); !ok || h.Role != RoleWorker || int(h.PID) != cmd.Process.Pid {
		t.Fatalf("got %+v, want the worker's Hello with PID %d", m.Body, cmd.Process.Pid)
	}
	const secret = "passed over SCM_RIGHTS"
	if err := mon.SendFDs(1, []FDEntry{{Role: FDLog}}, []int{memFD(t, secret)}); err != nil {
		t.Fatalf("send FDs: %v", err)
	}
	m, err = recvTimeout(t, mon, 10*time.Second)
	if err != nil {
		t.Fatalf("receive Log: %v", err)
	}
	if l, ok := m.Body.(Log); !ok || l.Text != secret {
		t.Fatalf("got %+v, want Log %q", m.Body, secret)
	}
	if err := mon.Send(Message{Body: Shutdown{}}); err != nil {
		t.Fatalf("send Shutdown: %v", err)
	}
	// With the worker gone and our copy of its end closed, the stream ends.
	if _, err := recvTimeout(t, mon, 10*time.Second); !errors.Is(err, io.EOF) {
		t.Errorf("after the child exits: got %v, want %v", err, io.EOF)
	}
	waited = true
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("child exit: got %v, want success", err)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-exited
		t.Errorf("child: still running 10s after Shutdown")
	}
}

func TestParseRights(t *testing.T) {
	rights := unix.UnixRights(5, 6, 7)
	creds := unix.UnixCredentials(&unix.Ucred{Pid: 1})
	tests := []struct {
		name   string
		oob    []byte
		want   []int
		wantOK bool
	}{
		{name: "none", oob: nil, want: nil, wantOK: true},
		{name: "rights", oob: rights, want: []int{5, 6, 7}, wantOK: true},
		{name: "two rights", oob: append(bytes.Clone(rights), unix.UnixRights(8)...), want: []int{5, 6, 7, 8}, wantOK: true},
		{name: "credentials after rights", oob: append(bytes.Clone(rights), creds...), want: []int{5, 6, 7}, wantOK: false},
		{name: "length past end", oob: rights[:len(rights)-8], want: nil, wantOK: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseRights(tc.oob, nil)
			if !reflect.DeepEqual(got, tc.want) || ok != tc.wantOK {
				t.Errorf("got %v, %v, want %v, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}
