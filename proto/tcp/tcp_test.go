// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tcp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"passt-go/proto/flow"
	"passt-go/proto/header"

	"golang.org/x/sys/unix"
)

// How long tests wait for the Handler to get somewhere.
const (
	waitLong  = 10 * time.Second
	waitShort = time.Second
)

// connectGuest opens a connection from g to the loopback server behind
// the gateway and returns the server's side of it.
func connectGuest(t *testing.T, e *env, g *guest, l net.Listener) net.Conn {
	t.Helper()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	g.connect()
	e.pump(waitLong, func() bool { return g.established || g.gotRst }, g)
	if g.gotRst {
		t.Fatal("connection refused")
	}
	g.finishHandshake()
	e.h.InputDone()
	var c net.Conn
	select {
	case c = <-accepted:
	case <-time.After(waitLong):
		t.Fatal("server did not accept")
	}
	if c == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// connected returns an env with options o and a guest of the family
// connected from port to a loopback server, with the server's side of the
// connection. mss, when not 0, is the MSS the guest announces.
func connected(t *testing.T, o envOptions, v6 bool, port, mss uint16) (*env, *guest, net.Conn) {
	t.Helper()
	e := newEnv(t, o)
	l, lport := listenLoopback(t, v6)
	g := newGuest(e, v6, port, lport)
	if mss != 0 {
		g.mss = mss
	}
	return e, g, connectGuest(t, e, g, l)
}

// inbound makes a loopback listener of the family a listener of e's
// Handler, forwarded to the same port of the guest, and connects a client
// to it. It returns the client, closed at clean-up, and the guest the
// connection is for.
func inbound(t *testing.T, e *env, v6 bool) (net.Conn, *guest) {
	t.Helper()
	l, port := listenLoopback(t, v6)
	if err := e.h.AddListener(listenerFD(t, l), Forward{Port: port, ToPort: port}); err != nil {
		t.Fatal(err)
	}
	cli, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli, newGuest(e, v6, port, uint16(cli.LocalAddr().(*net.TCPAddr).Port))
}

// sendAll sends data from g, stepping e until the Handler has taken all
// of it.
func sendAll(e *env, g *guest, data []byte) {
	sent := 0
	e.pump(waitLong, func() bool {
		sent += g.write(data[sent:])
		return sent == len(data)
	}, g)
}

// checkReset checks that a read on c, a socket of the host side, fails
// because the connection was reset; what names the read.
func checkReset(t *testing.T, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(waitLong))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("%s: %v, want ECONNRESET", what, err)
	}
}

// Data both ways, byte-exact, and the close in both orders: the guest's
// FIN reaches the server as end of file while the server still sends, and
// the server's close reaches the guest as FIN after the rest of its data.
func TestOutboundTransferAndHalfClose(t *testing.T) {
	for _, tc := range []struct {
		name     string
		v6       bool
		noPeek   bool
		size     int
		mtu      int
		guestMSS uint16
	}{
		{name: "ipv4", size: 3 << 20},
		{name: "ipv6", v6: true, size: 3 << 20},
		{name: "ipv4 without SO_PEEK_OFF", noPeek: true, size: 3 << 20},
		{name: "ipv4 mtu 1500", size: 1 << 20, mtu: 1500, guestMSS: 1460},
		{name: "ipv6 small", v6: true, size: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, g, srv := connected(t, envOptions{noPeekOffset: tc.noPeek, mtu: tc.mtu}, tc.v6, 40000, tc.guestMSS)

			up := pattern(tc.size, 1)
			down := pattern(tc.size, 2)
			got := make(chan []byte, 1)
			go func() {
				b, _ := io.ReadAll(srv) // until the guest's FIN
				got <- b
				srv.Write(down)
				srv.(*net.TCPConn).CloseWrite()
			}()
			sendAll(e, g, up)
			g.fin()
			var b []byte
			select {
			case b = <-got:
			case <-time.After(waitLong):
				t.Fatal("server did not see end of file")
			}
			if !bytes.Equal(b, up) {
				t.Fatalf("server got %d bytes, want %d, equal=%v", len(b), len(up), bytes.Equal(b, up))
			}
			// Half-closed: the guest still receives.
			e.pump(waitLong, func() bool { return g.gotFin }, g)
			if !bytes.Equal(g.gotData, down) {
				t.Fatalf("guest got %d bytes, want %d", len(g.gotData), len(down))
			}
			e.pump(waitLong, func() bool { return e.h.Len() == 0 }, g)
			if n := e.flows.Len(); n != 0 {
				t.Errorf("flows left: %d", n)
			}
			if c := e.h.Counters(); c.LostWrites != 0 || c.Drops[DropNoRoom] != 0 {
				t.Errorf("guest data refused by the socket after it was sent: %+v", c)
			}
		})
	}
}

// The server closes first; the guest gets FIN after the data, keeps
// sending, and its data still arrives.
func TestServerClosesFirst(t *testing.T) {
	e, g, srv := connected(t, envOptions{}, false, 40001, 0)
	down := pattern(100000, 3)
	srv.Write(down)
	srv.(*net.TCPConn).CloseWrite()
	e.pump(waitLong, func() bool { return g.gotFin }, g)
	if !bytes.Equal(g.gotData, down) {
		t.Fatalf("guest got %d bytes, want %d", len(g.gotData), len(down))
	}
	// What the guest acknowledged leaves the socket, FIN sent or not.
	fd := -1
	for i := range e.h.conns[:e.h.used] {
		if e.h.conns[i].fd >= 0 {
			fd = int(e.h.conns[i].fd)
		}
	}
	queued := func() int { n, _ := unix.IoctlGetInt(fd, unix.SIOCINQ); return n }
	e.pump(waitShort, func() bool { return queued() == 0 }, g)
	if n := queued(); n != 0 {
		t.Errorf("%d acknowledged bytes still queued on the socket after our FIN", n)
	}
	up := pattern(200000, 4)
	sendAll(e, g, up)
	g.fin()
	b, err := io.ReadAll(srv)
	if err != nil || !bytes.Equal(b, up) {
		t.Fatalf("server got %d bytes (%v), want %d", len(b), err, len(up))
	}
	// Our ACKs after our FIN must be acceptable to the guest, which
	// ignores those of a segment older than its next expected one.
	e.pump(waitShort, func() bool { return g.sndUna == g.sndNxt }, g)
	if g.oldSegs != 0 {
		t.Errorf("%d segments after our FIN carried an old sequence number", g.oldSegs)
	}
	e.pump(waitLong, func() bool { return e.h.Len() == 0 }, g)
}

// A connection to a port nothing listens on is refused: the guest gets an
// RST that acknowledges its SYN.
func TestConnectRefused(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		e := newEnv(t, envOptions{})
		g := newGuest(e, v6, 40002, closedPort(t, v6))
		g.connect()
		e.pump(waitLong, func() bool { return g.gotRst }, g)
		if e.h.Len() != 0 || e.flows.Len() != 0 {
			t.Errorf("v6=%v: connection left after refusal", v6)
		}
		if e.h.Counters().ConnectFailed != 1 {
			t.Errorf("v6=%v: ConnectFailed = %d, want 1", v6, e.h.Counters().ConnectFailed)
		}
	}
}

// An RST from the guest resets the host side; a reset from the host side
// reaches the guest as RST.
func TestResetBothWays(t *testing.T) {
	e := newEnv(t, envOptions{})
	l, port := listenLoopback(t, false)

	g := newGuest(e, false, 40003, port)
	srv := connectGuest(t, e, g, l)
	g.send(header.TCPFlagRST, g.sndNxt, 0, nil, nil)
	e.h.InputDone()
	checkReset(t, srv, "server read after guest RST")

	g2 := newGuest(e, false, 40004, port)
	srv2 := connectGuest(t, e, g2, l)
	srv2.(*net.TCPConn).SetLinger(0)
	srv2.Close()
	e.pump(waitLong, func() bool { return g2.gotRst }, g2)
	e.pump(waitLong, func() bool { return e.h.Len() == 0 }, g2)
}

// An RST outside the window is ignored.
func TestResetOutOfWindow(t *testing.T) {
	e, g, _ := connected(t, envOptions{}, false, 40005, 0)
	if d := g.send(header.TCPFlagRST, g.sndNxt+1<<30, 0, nil, nil); d != DropOutOfWindow {
		t.Errorf("RST far outside the window: got %v, want %v", d, DropOutOfWindow)
	}
	if e.h.Len() != 1 {
		t.Errorf("connection closed by an RST outside the window")
	}
}

// Segments for no connection are answered as RFC 9293 3.10.7.1 says.
func TestResetUnknown(t *testing.T) {
	for _, tc := range []struct {
		name        string
		fl          header.TCPFlags
		seq, ack    uint32
		data        int
		wantNone    bool
		wantSeq     uint32
		wantAck     uint32
		wantACKFlag bool
	}{
		{name: "ack", fl: header.TCPFlagACK, seq: 5, ack: 777, wantSeq: 777},
		{name: "data without ack", fl: header.TCPFlagPSH, seq: 100, data: 10, wantAck: 110, wantACKFlag: true},
		{name: "fin without ack", fl: header.TCPFlagFIN, seq: 100, wantAck: 101, wantACKFlag: true},
		{name: "rst", fl: header.TCPFlagRST, seq: 5, wantNone: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			g := newGuest(e, false, 40006, 9)
			if d := g.send(tc.fl, tc.seq, tc.ack, make([]byte, tc.data), nil); d != DropNoFlow {
				t.Errorf("got %v, want %v", d, DropNoFlow)
			}
			e.out.Flush()
			if tc.wantNone {
				if len(e.out.frames) != 0 {
					t.Errorf("RST answered")
				}
				return
			}
			if len(e.out.frames) != 1 {
				t.Fatalf("got %d frames, want 1 RST", len(e.out.frames))
			}
			f, _ := header.Decode(e.out.frames[0])
			seg, _ := header.ParseTCP(f.Transport(e.out.frames[0]))
			if seg.Flags()&header.TCPFlagRST == 0 || seg.Seq() != tc.wantSeq ||
				(seg.Flags()&header.TCPFlagACK != 0) != tc.wantACKFlag || (tc.wantACKFlag && seg.Ack() != tc.wantAck) {
				t.Errorf("got %v seq %d ack %d, want RST seq %d ack %d (ACK flag %v)",
					seg.Flags(), seg.Seq(), seg.Ack(), tc.wantSeq, tc.wantAck, tc.wantACKFlag)
			}
			if f.Src != gateway4 || f.Dst != guest4 || f.SrcPort != 9 || f.DstPort != 40006 {
				t.Errorf("RST addressed %v:%d -> %v:%d", f.Src, f.SrcPort, f.Dst, f.DstPort)
			}
		})
	}
}

// Frames the guest side drops are sent again from the socket once it is
// writable, and frames the guest loses are sent again on its duplicate
// ACKs: either way the stream arrives whole.
func TestRetransmission(t *testing.T) {
	e, g, srv := connected(t, envOptions{}, false, 40007, 1000)
	down := pattern(400000, 5)
	go srv.Write(down)

	// Output refuses the middle of a batch.
	e.out.refuse = 3
	e.pump(waitLong, func() bool { return e.out.blocked }, g)
	e.out.unblock()
	// The guest loses frames.
	g.dropNextData = 2
	e.pump(waitLong, func() bool { return len(g.gotData) == len(down) }, g)
	if !bytes.Equal(g.gotData, down) {
		t.Fatal("stream differs after retransmissions")
	}
	c := e.h.Counters()
	if c.Rewinds == 0 || c.FastRetransmits == 0 {
		t.Errorf("counters: %+v, want rewinds and fast retransmits", c)
	}
}

// An output that refuses frames without ever blocking (a tap device)
// makes no busy loop: refused frames wait for the next pass, and the
// stream still arrives whole.
func TestOutputRefusesWithoutBlocking(t *testing.T) {
	e, g, srv := connected(t, envOptions{}, false, 40009, 1000)
	e.out.lossy = true
	down := pattern(300000, 12)
	go srv.Write(down)
	e.pump(waitLong, func() bool { return len(g.gotData) == len(down) }, g)
	if !bytes.Equal(g.gotData, down) {
		t.Fatal("stream differs")
	}
	if e.h.Counters().Rewinds == 0 {
		t.Error("no frame was refused")
	}
}

// A server that does not read fills its socket: the window closes, the
// guest waits, and nothing it sent is refused; when the server reads, a
// window update resumes the transfer.
func TestBackPressure(t *testing.T) {
	for _, mtu := range []int{0, 1500} {
		var mss uint16
		if mtu == 1500 {
			mss = 1460
		}
		e, g, srv := connected(t, envOptions{mtu: mtu}, false, 40008, mss)
		up := pattern(64<<20, 6)
		sent := 0
		e.pump(waitLong, func() bool {
			sent += g.write(up[sent:])
			return g.sndWnd == 0 && g.sndUna == g.sndNxt
		}, g)
		if sent == len(up) {
			t.Fatalf("mtu %d: the whole transfer fit, no back-pressure seen", mtu)
		}
		done := make(chan []byte)
		go func() {
			b, _ := io.ReadAll(srv)
			done <- b
		}()
		sendAll(e, g, up[sent:])
		g.fin()
		b := <-done
		if !bytes.Equal(b, up) {
			t.Fatalf("mtu %d: server got %d bytes, want %d", mtu, len(b), len(up))
		}
		c := e.h.Counters()
		if c.LostWrites != 0 || c.ZeroWindows == 0 || c.WindowUpdates == 0 {
			t.Errorf("mtu %d: counters %+v: want zero windows and updates, no refused writes", mtu, c)
		}
	}
}

// Inbound: a connection accepted on a listener becomes a SYN to the guest;
// data flows both ways once the guest accepts.
func TestInbound(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		e := newEnv(t, envOptions{})
		cli, g := inbound(t, e, v6)
		e.pump(waitLong, func() bool { return g.gotSyn }, g)
		g.accept()
		e.h.InputDone()
		msg := pattern(300000, 7)
		go cli.Write(msg)
		e.pump(waitLong, func() bool { return len(g.gotData) == len(msg) }, g)
		if !bytes.Equal(g.gotData, msg) {
			t.Fatalf("v6=%v: guest got different data", v6)
		}
		up := pattern(200000, 8)
		sendAll(e, g, up)
		b := make([]byte, len(up))
		cli.SetReadDeadline(time.Now().Add(waitLong))
		if _, err := io.ReadFull(cli, b); err != nil || !bytes.Equal(b, up) {
			t.Fatalf("v6=%v: client got different data (%v)", v6, err)
		}
		if e.h.Counters().Accepted != 1 {
			t.Errorf("Accepted = %d", e.h.Counters().Accepted)
		}
	}
}

// An inbound connection the guest refuses is reset for the client.
func TestInboundRefusedByGuest(t *testing.T) {
	e := newEnv(t, envOptions{})
	cli, g := inbound(t, e, false)
	e.pump(waitLong, func() bool { return g.gotSyn }, g)
	g.send(header.TCPFlagRST|header.TCPFlagACK, 0, g.synAckSeq+1, nil, nil)
	e.h.InputDone()
	checkReset(t, cli, "client read")
}

// When the flow table is full, a new connection gets an RST and the
// existing ones carry on.
func TestTableFull(t *testing.T) {
	e := newEnv(t, envOptions{capacity: 2})
	var logged int
	e.h.cfg.Logf = func(string, ...any) { logged++ }
	l, port := listenLoopback(t, false)
	g1 := newGuest(e, false, 41001, port)
	s1 := connectGuest(t, e, g1, l)
	g2 := newGuest(e, false, 41002, port)
	connectGuest(t, e, g2, l)
	for i := range 3 {
		g3 := newGuest(e, false, uint16(41003+i), port)
		g3.connect()
		e.pump(waitLong, func() bool { return g3.gotRst }, g3)
	}
	if c := e.h.Counters().Drops[DropTableFull]; c != 3 {
		t.Errorf("table full drops: %d, want 3", c)
	}
	if logged != 1 {
		t.Errorf("logged %d times, want once (rate limited)", logged)
	}
	msg := pattern(1000, 9)
	s1.Write(msg)
	e.pump(waitLong, func() bool { return len(g1.gotData) == len(msg) }, g1)
}

// logLines makes e's Handler keep the lines it logs, formatted, in the
// slice returned.
func logLines(e *env) *[]string {
	var lines []string
	e.h.cfg.Logf = func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	return &lines
}

// A connection accepted on a listener while the flow table is full is
// closed with a reset for the client, and counted; the log says the table
// is full, once for a burst; the connection that fills the table carries
// on.
func TestInboundTableFull(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		t.Run(map[bool]string{false: "ipv4", true: "ipv6"}[v6], func(t *testing.T) {
			e := newEnv(t, envOptions{capacity: 1})
			lines := logLines(e)
			l, port := listenLoopback(t, v6)
			g := newGuest(e, v6, 41101, port)
			srv := connectGuest(t, e, g, l)

			cli1, _ := inbound(t, e, v6)
			cli2, _ := inbound(t, e, v6)
			e.pump(waitLong, func() bool { return e.h.Counters().AcceptedTableFull == 2 })
			checkReset(t, cli1, "first client's read")
			checkReset(t, cli2, "second client's read")
			if c := e.h.Counters(); c.Accepted != 0 || e.flows.Len() != 1 {
				t.Errorf("accepted %d, flows %d; want 0 and 1", c.Accepted, e.flows.Len())
			}
			if len(*lines) != 1 || !strings.Contains((*lines)[0], "flow table full") {
				t.Errorf("logged %q, want one line saying the flow table is full", *lines)
			}

			msg := pattern(5000, 13)
			srv.Write(msg)
			e.pump(waitLong, func() bool { return len(g.gotData) == len(msg) }, g)
			if !bytes.Equal(g.gotData, msg) {
				t.Error("the connection in the table got different data")
			}
		})
	}
}

// Each kind of log line has its own rate limit: a paused listener does
// not hide the flow table being full, and the other way round; within a
// kind, lines come at most once per LogInterval and the next one counts
// what was not logged.
func TestLogKindsLimitedApart(t *testing.T) {
	e := newEnv(t, envOptions{capacity: 1})
	clk := useClock(e)
	lines := logLines(e)
	l, port := listenLoopback(t, false)
	connectGuest(t, e, newGuest(e, false, 41201, port), l)

	// A socket that does not listen: accept fails with EINVAL, and the
	// listener is paused.
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.h.AddListener(fd, Forward{Port: 1, ToPort: 1}); err != nil {
		t.Fatal(err)
	}
	pause := func() {
		e.h.Periodic(clk.t)
		e.h.Event(engineEvent(testKinds.Listen, 0))
	}
	refuse := func(port uint16) {
		t.Helper()
		g := newGuest(e, false, port, 80)
		if d := g.send(header.TCPFlagSYN, g.isn, 0, nil, &header.TCPOptions{HasMSS: true, MSS: 1460}); d != DropTableFull {
			t.Fatalf("SYN with the table full: got %v, want %v", d, DropTableFull)
		}
	}
	pause()
	refuse(41202) // logged, though a pause was just logged
	pause()       // not logged: a pause was logged less than LogInterval ago
	refuse(41203) // not logged either
	clk.advance(LogInterval)
	refuse(41204) // logged, with the refusal before it
	want := []string{
		"TCP: accept on port 1: invalid argument; listener paused for a second",
		"TCP: flow table full (1 flows): 1 new connections refused",
		"TCP: flow table full (1 flows): 2 new connections refused",
	}
	if !slices.Equal(*lines, want) {
		t.Errorf("logged %q, want %q", *lines, want)
	}
}

// The SYN-ACK carries our MSS, what the guest's MTU allows rounded down
// to whole pages when larger than one, and offers window scaling (8) only
// to a guest that offered it. A guest that did not is never sent a window
// larger than 16 bits hold, and the window it reads unscaled is the one
// the Handler advertised.
func TestSynAckOptions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		v6      bool
		noWS    bool
		mtu     int
		wantMSS uint16
	}{
		{name: "ipv4", wantMSS: 61440},
		{name: "ipv6", v6: true, wantMSS: 61440},
		{name: "ipv4 mtu 1500", mtu: 1500, wantMSS: 1460},
		{name: "ipv6 mtu 1500", v6: true, mtu: 1500, wantMSS: 1440},
		{name: "ipv4 mtu 9000", mtu: 9000, wantMSS: 8192},
		{name: "ipv6 mtu 4136", v6: true, mtu: 4136, wantMSS: 4076},
		{name: "ipv4 without window scaling", noWS: true, wantMSS: 61440},
		{name: "ipv6 without window scaling", v6: true, noWS: true, wantMSS: 61440},
		{name: "ipv6 mtu 1500 without window scaling", v6: true, noWS: true, mtu: 1500, wantMSS: 1440},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{mtu: tc.mtu})
			l, lport := listenLoopback(t, tc.v6)
			g := newGuest(e, tc.v6, 41301, lport)
			g.noWS = tc.noWS
			srv := connectGuest(t, e, g, l)
			o := g.synOpts
			if !o.HasMSS || o.MSS != tc.wantMSS {
				t.Errorf("SYN-ACK MSS: got %v (present %v), want %v", o.MSS, o.HasMSS, tc.wantMSS)
			}
			if o.HasWindowScale != !tc.noWS || (o.HasWindowScale && o.WindowScale != 8) {
				t.Errorf("SYN-ACK window scale: got %v (present %v), want present %v, 8", o.WindowScale, o.HasWindowScale, !tc.noWS)
			}

			// Data both ways; the Handler's ACK of the last byte carries
			// the window it computed then.
			up := pattern(100000, 14)
			got := make(chan []byte, 1)
			go func() {
				b := make([]byte, len(up))
				srv.SetReadDeadline(time.Now().Add(waitLong))
				io.ReadFull(srv, b)
				got <- b
			}()
			sendAll(e, g, up)
			if b := <-got; !bytes.Equal(b, up) {
				t.Fatal("server got different data")
			}
			e.pump(waitLong, func() bool { return g.sndUna == g.sndNxt }, g)
			g.write([]byte{1})
			e.deliver(g)
			idx, ok := e.flows.Lookup(flowKey(g))
			if !ok {
				t.Fatal("connection gone")
			}
			wnd := e.h.conns[idx].wndToTap
			if wnd == 0 {
				t.Fatal("zero window advertised")
			}
			shift := uint8(8)
			if tc.noWS {
				shift = 0
				if wnd > 0xffff {
					t.Errorf("window %d advertised to a guest without window scaling", wnd)
				}
			}
			if uint32(g.lastWnd) != wnd>>shift {
				t.Errorf("window field %d, want %d (window %d scaled by %d)", g.lastWnd, wnd>>shift, wnd, shift)
			}
		})
	}
}

// ISNs are never zero, differ between connections, and differ between two
// Handlers (two runs of the worker) for the same connection.
func TestISN(t *testing.T) {
	seen := map[uint32]bool{}
	first := map[flow.Key]uint32{}
	for run := range 2 {
		e := newEnv(t, envOptions{})
		now := flow.Now()
		for i := range 1000 {
			key := flow.Key{GuestAddr: guest4, GuestPort: uint16(10000 + i), RemoteAddr: gateway4, RemotePort: 80, Proto: header.ProtocolTCP}
			c := e.h.take(0, -1, &key, now)
			if c.isnToTap == 0 {
				t.Fatal("ISN zero")
			}
			if seen[c.isnToTap] {
				t.Fatalf("ISN %d repeated", c.isnToTap)
			}
			seen[c.isnToTap] = true
			if run == 0 {
				first[key] = c.isnToTap
			} else if first[key] == c.isnToTap {
				t.Fatalf("same ISN for %v across two handlers", key)
			}
			e.h.conns[0].fd = -1
		}
	}
}

var _ = netip.Addr{}

// clock is a settable time source for timer tests.
type clock struct{ t flow.Time }

func (c *clock) now() flow.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// useClock makes e's Handler read a clock the test moves.
func useClock(e *env) *clock {
	c := &clock{t: flow.Now()}
	e.h.now = c.now
	return c
}

// runTimersFor moves the clock by d in steps of step, running timers and
// delivering frames after each.
func runTimersFor(e *env, c *clock, d, step time.Duration, guests ...*guest) {
	for elapsed := time.Duration(0); elapsed < d; elapsed += step {
		c.advance(step)
		e.h.runTimers(c.t)
		e.deliver(guests...)
	}
}

// Data the guest never acknowledges is sent again when the retransmission
// timer fires, with the timeout doubling; after too many tries both sides
// are reset.
func TestRetransmissionTimeout(t *testing.T) {
	e, g, srv := connected(t, envOptions{}, false, 44000, 0)
	clk := useClock(e)
	msg := pattern(5000, 10)
	g.dropNextData = 1000 // the guest hears nothing
	srv.Write(msg)
	e.pump(waitLong, func() bool { return e.h.Counters().BytesToGuest >= uint64(len(msg)) }, g)
	runTimersFor(e, clk, 1500*time.Millisecond, 100*time.Millisecond, g)
	if n := e.h.Counters().Timeouts; n != 1 {
		t.Fatalf("timeouts after 1.5 s: %d, want 1", n)
	}
	// The guest hears again: the retransmission after the next timeout
	// (2 s later) gets through.
	g.dropNextData = 0
	runTimersFor(e, clk, 2500*time.Millisecond, 100*time.Millisecond, g)
	if !bytes.Equal(g.gotData, msg) {
		t.Fatalf("guest got %d bytes, want %d", len(g.gotData), len(msg))
	}
	// Now it never answers again: seven tries, then resets.
	g.dropNextData = 1 << 30
	srv.Write(msg)
	e.pump(waitLong, func() bool { return e.h.Counters().BytesToGuest >= uint64(4*len(msg)) }, g)
	runTimersFor(e, clk, 10*time.Minute, time.Second, g)
	if !g.gotRst || e.h.Len() != 0 {
		t.Fatalf("after ten minutes without ACKs: RST %v, connections %d; want a reset (%+v)", g.gotRst, e.h.Len(), e.h.Counters())
	}
	checkReset(t, srv, "server read")
}

// An inbound connection the guest never answers: the SYN is sent again,
// and at last the client sees a reset.
func TestInboundSynTimeout(t *testing.T) {
	e := newEnv(t, envOptions{})
	clk := useClock(e)
	cli, g := inbound(t, e, false)
	syns := 0
	e.pump(waitLong, func() bool { return g.gotSyn }, g)
	for range 200 {
		if g.gotSyn {
			syns++
			g.gotSyn = false
		}
		clk.advance(time.Second)
		e.h.runTimers(clk.t)
		e.deliver(g)
		if e.h.Len() == 0 {
			break
		}
	}
	if want := 1 + synLinear + synRetries; syns != want {
		t.Errorf("SYNs sent: %d, want %d", syns, want)
	}
	if e.h.Len() != 0 {
		t.Fatal("connection still open")
	}
	checkReset(t, cli, "client read")
}

// A zero window from the guest is probed; when the guest opens it again
// (its answer to a probe), sending resumes.
func TestZeroWindowProbe(t *testing.T) {
	e, g, srv := connected(t, envOptions{}, false, 44001, 0)
	clk := useClock(e)
	// The guest's window closes.
	g.rcvWnd = 0
	g.send(header.TCPFlagACK, g.sndNxt, g.rcvNxt, nil, nil)
	e.h.InputDone()
	msg := pattern(10000, 11)
	srv.Write(msg)
	framesBefore := g.frames
	e.step(50 * time.Millisecond)
	e.deliver(g)
	if len(g.gotData) != 0 {
		t.Fatal("data sent into a zero window")
	}
	runTimersFor(e, clk, 1500*time.Millisecond, 100*time.Millisecond, g)
	if g.frames == framesBefore {
		t.Fatal("no probe of the zero window")
	}
	g.rcvWnd = 1 << 20
	g.send(header.TCPFlagACK, g.sndNxt, g.rcvNxt, nil, nil)
	e.h.InputDone()
	e.pump(waitLong, func() bool { return len(g.gotData) == len(msg) }, g)
	if !bytes.Equal(g.gotData, msg) {
		t.Fatal("data differs")
	}
}

// Connections quiet on the guest side get keepalive probes; a guest
// keepalive is answered and turns SO_KEEPALIVE on; connections idle for
// the activity timeout are reset.
func TestKeepalive(t *testing.T) {
	e, g, srv := connected(t, envOptions{}, false, 44002, 0)
	clk := useClock(e)
	e.h.Periodic(clk.t)
	before := g.frames
	clk.advance(KeepaliveInterval)
	e.h.Periodic(clk.t)
	e.deliver(g)
	if e.h.Counters().Keepalives != 1 || g.frames == before {
		t.Errorf("no keepalive after %v without guest traffic", KeepaliveInterval)
	}
	// The guest's own keepalive: one below its next sequence number.
	before = g.frames
	g.send(header.TCPFlagACK, g.sndNxt-1, g.rcvNxt, nil, nil)
	e.h.InputDone()
	e.deliver(g)
	if g.frames == before {
		t.Error("guest keepalive not answered")
	}
	idx, _ := e.flows.Lookup(flowKey(g))
	if v, _ := getsockoptInt(int(e.h.conns[idx].fd), solSocket, syscall.SO_KEEPALIVE); v != 1 {
		t.Error("SO_KEEPALIVE not set after a guest keepalive")
	}
	for range int(ActivityTimeout/KeepaliveInterval) + 1 {
		clk.advance(KeepaliveInterval)
		e.h.Periodic(clk.t)
		e.deliver(g)
	}
	if e.h.Len() != 0 || !g.gotRst {
		t.Fatalf("after %v idle: %d connections, RST %v; want a reset", ActivityTimeout, e.h.Len(), g.gotRst)
	}
	checkReset(t, srv, "server read")
}

// A listener whose accept fails for another reason than "nothing to
// accept" stops being watched until the next Periodic.
func TestListenerPause(t *testing.T) {
	e := newEnv(t, envOptions{})
	// A socket that does not listen: accept fails with EINVAL.
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.h.AddListener(fd, Forward{Port: 1, ToPort: 1}); err != nil {
		t.Fatal(err)
	}
	e.h.Event(engineEvent(testKinds.Listen, 0))
	if !e.h.listeners.At[0].paused {
		t.Fatal("listener not paused after an accept error")
	}
	e.h.Periodic(flow.Now())
	if e.h.listeners.At[0].paused {
		t.Fatal("listener still paused after Periodic")
	}
}

// A Handler writes the state of a slot only once a connection uses it, so
// the default table's megabytes of per-connection state cost no memory
// until flows need them; the slots in use still count and close.
func TestStateWrittenOnlyInUse(t *testing.T) {
	e := newEnv(t, envOptions{})
	if e.h.used != 0 {
		t.Fatalf("%d slots written by New, want 0", e.h.used)
	}
	l, port := listenLoopback(t, false)
	for i := range 2 {
		connectGuest(t, e, newGuest(e, false, uint16(42001+i), port), l)
	}
	if e.h.used != 2 || e.h.Len() != 2 {
		t.Fatalf("after two connections: %d slots written, Len %d; want 2 and 2", e.h.used, e.h.Len())
	}
	for i := e.h.used; i < len(e.h.conns); i++ {
		if e.h.conns[i] != (conn{}) {
			t.Fatalf("slot %d written, above the %d in use", i, e.h.used)
		}
	}
	e.h.Reset()
	if n := e.h.Len(); n != 0 {
		t.Errorf("Len after Reset: %d", n)
	}
}
