// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package worker

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"passt-go/conf"
	"passt-go/ipc"
	"passt-go/proto/engine"
	"passt-go/proto/flow"
	"passt-go/proto/header"
	"passt-go/proto/pcap"
	"passt-go/proto/tap"
)

// Kinds of the descriptors in the worker's event loop.
const (
	kindIPC engine.Kind = iota + 1
	kindQemuListener
	kindQemuConn
	kindTap
	kindTick
	kindICMP
	// TCP: sockets of flows, listeners of -t rules, timers, spliced pairs.
	kindTCPSock
	kindTCPListen
	kindTCPTimer
	kindTCPSplice
	// UDP: sockets of flows, bound sockets of -u rules.
	kindUDPSock
	kindUDPListen
	// Spliced UDP of pasta: bound sockets of -U rules, flows.
	kindUDPSplice
)

// Tick is the period of the worker's housekeeping: flow expiry, periodic
// router advertisements, counters.
const Tick = time.Second

// Output batching: frames toward the guest are copied into slots and sent
// in one write (qemu) or one write each (tap) at the end of each batch of
// events, or earlier when the slots run out. TCP queues its frames without
// a copy, as a header and a payload in its own buffers (queueParts), so
// the writers take up to outFrames frames of two parts each.
const (
	outSlots    = 64
	outSlotSize = tap.MaxFrame + 1
	outFrames   = 320
)

// Worker is the state of the event loop. Everything is allocated in
// newWorker; handling an event allocates nothing.
type Worker struct {
	cfg  *conf.Config
	conn *ipc.Conn
	loop *engine.Loop
	tick *engine.Timer

	// Guest side: passt mode has a listener and at most one connection;
	// pasta mode a tap device.
	listenFD int
	connFD   int
	sr       *tap.StreamReader
	sw       *tap.StreamWriter
	tapFD    int
	tr       *tap.TapReader
	tw       *tap.TapWriter
	pcap     *pcap.Writer

	out     [][]byte // outSlots slots of outSlotSize
	outUsed int
	// outBlocked: the qemu stream refused frames (its socket is full);
	// EPOLLOUT is watched on it and TCP waits for writable.
	outBlocked bool
	pcapBuf    []byte // a frame given in parts, joined for the capture

	l2   l2
	tcp  tcpGlue
	udp  udpGlue
	auto autoListeners // listeners of auto rules (auto.go)

	splice spliceGlue // spliced -T connections of pasta (splice.go)
	// spliced -U datagrams of pasta (udpsplice.go)
	udpSplice udpSpliceGlue

	// Counters: frames dropped by decode reason and by handling reason.
	decodeDrops [header.NumDrops]uint64
	drops       [numDrops]uint64
	frames      uint64
	sentFrames  uint64
	lastStats   time.Time

	// clock is the flow clock read once per batch of events (clockSet)
	// for UDP, which stamps the flow of every datagram with it: flows
	// expire after tens of seconds, a batch lasts far less.
	clock    flow.Time
	clockSet bool

	// trace: --trace, one log line per frame and per flow (trace.go).
	// The data path tests it and nothing else when tracing is off.
	trace     bool
	traceBuf  []byte // a frame given in parts, joined for its trace line
	traceLost uint64 // trace lines the IPC socket had no room for

	exit int
}

// drop reasons of the dispatch layer, beside header.Drop.
type drop uint8

const (
	dropNoHandler   drop = iota // a protocol this worker does not translate yet
	dropDisabled                // a handler turned off by the configuration
	dropMulticast               // broadcast or multicast not for an L2 service
	dropNotAnswered             // an L2 service chose not to answer
	dropNoGuest                 // a frame for the guest with no guest connected
	dropOutFull                 // the guest-side writer refused the frame
	numDrops
)

var dropNames = [numDrops]string{"no_handler", "disabled", "multicast", "not_answered", "no_guest", "out_full"}

func newWorker(cfg *conf.Config, conn *ipc.Conn, fds []handed) (*Worker, error) {
	w := &Worker{cfg: cfg, conn: conn, listenFD: -1, connFD: -1, tapFD: -1, lastStats: time.Now()}
	loop, err := engine.New()
	if err != nil {
		return nil, err
	}
	w.loop = loop
	backing := make([]byte, outSlots*outSlotSize)
	w.out = make([][]byte, outSlots)
	for i := range w.out {
		w.out[i] = backing[i*outSlotSize : (i+1)*outSlotSize : (i+1)*outSlotSize]
	}
	var tcpListeners, udpListeners, nsListeners, nsUDP []handed
	for _, h := range fds {
		switch h.entry.Role {
		case ipc.FDTCPListener:
			if h.entry.Side == ipc.SideNamespace {
				nsListeners = append(nsListeners, h)
				continue
			}
			tcpListeners = append(tcpListeners, h)
		case ipc.FDUDPListener:
			if h.entry.Side == ipc.SideNamespace {
				nsUDP = append(nsUDP, h)
				continue
			}
			udpListeners = append(udpListeners, h)
		case ipc.FDQemuListener:
			w.listenFD = h.fd
		case ipc.FDQemuConn:
			w.connFD = h.fd
		case ipc.FDTap:
			w.tapFD = h.fd
		case ipc.FDPcap:
			p, err := pcap.New(h.fd, tap.MaxFrame)
			if err != nil {
				return nil, fmt.Errorf("pcap: %w", err)
			}
			w.pcap = p
		default:
			closeFD(h.fd)
		}
	}
	if cfg.Mode == conf.Pasta {
		if w.tapFD < 0 {
			return nil, errors.New("no tap device handed over")
		}
		if err := unix.SetNonblock(w.tapFD, true); err != nil {
			return nil, err
		}
		if w.tr, err = tap.NewTapReader(w.tapFD, 64); err != nil {
			return nil, err
		}
		w.tr.Checksums = w.pcap != nil // the capture shows what the namespace meant
		if w.tw, err = tap.NewTapWriter(w.tapFD, outFrames, 2); err != nil {
			return nil, err
		}
		if err := loop.Add(w.tapFD, engine.Ref{Kind: kindTap}, unix.EPOLLIN); err != nil {
			return nil, err
		}
	} else {
		if w.listenFD < 0 && w.connFD < 0 {
			return nil, errors.New("no qemu socket handed over")
		}
		if w.sr, err = tap.NewStreamReader(-1, tap.DefaultStreamBuffer); err != nil {
			return nil, err
		}
		if w.sw, err = tap.NewStreamWriter(-1, outFrames, 2); err != nil {
			return nil, err
		}
		if w.listenFD >= 0 {
			if err := loop.Add(w.listenFD, engine.Ref{Kind: kindQemuListener}, unix.EPOLLIN); err != nil {
				return nil, err
			}
		}
	}
	if err := loop.Add(conn.FD(), engine.Ref{Kind: kindIPC}, unix.EPOLLIN); err != nil {
		return nil, err
	}
	if w.tick, err = loop.NewTimer(engine.Ref{Kind: kindTick}); err != nil {
		return nil, err
	}
	if err := w.tick.Set(Tick, Tick); err != nil {
		return nil, err
	}
	if err := w.l2.init(w); err != nil {
		return nil, err
	}
	if err := w.tcp.init(w, tcpListeners); err != nil {
		return nil, err
	}
	if err := w.udp.init(w, udpListeners); err != nil {
		return nil, err
	}
	if err := w.splice.init(w, nsListeners); err != nil {
		return nil, err
	}
	if err := w.udpSplice.init(w, nsUDP); err != nil {
		return nil, err
	}
	w.traceInit()
	return w, nil
}

// run serves until told to stop and returns the exit status.
func (w *Worker) run() int {
	if w.connFD >= 0 {
		w.serveConn(w.connFD)
	}
	if err := w.loop.Run(w, -1); err != nil {
		w.logf(ipc.LevelError, "event loop: %v", err)
		return ExitRuntime
	}
	w.sendStats()
	return w.exit
}

// Handle dispatches one event by the kind of its descriptor.
func (w *Worker) Handle(ev engine.Event) {
	switch ev.Ref.Kind {
	case kindIPC:
		w.ipcEvent()
	case kindQemuListener:
		w.accept()
	case kindQemuConn:
		w.qemuEvent(ev.Events)
	case kindTap:
		w.tapEvent(ev.Events)
	case kindTick:
		w.tick.Ack()
		w.periodic(time.Now())
	case kindICMP:
		w.l2.icmpEvent(ev.Ref.Index, ev.Events)
	case kindTCPSock, kindTCPListen, kindTCPTimer:
		w.tcp.event(ev)
	case kindTCPSplice:
		w.splice.event(ev)
	case kindUDPSock, kindUDPListen:
		w.udp.event(ev)
	case kindUDPSplice:
		w.udpSplice.event(ev)
	}
}

// BatchDone does TCP's deferred work (ACKs, window updates, data for
// the guest) and flushes what the batch queued for the guest.
func (w *Worker) BatchDone() {
	w.tcp.flush()
	w.flush()
	w.clockSet = false
}

// batchNow returns the flow clock of the current batch of events.
func (w *Worker) batchNow() flow.Time {
	if !w.clockSet {
		w.clock, w.clockSet = flow.Now(), true
	}
	return w.clock
}

func (w *Worker) stop(status int) {
	w.exit = status
	w.loop.Stop()
}

// ipcEvent reads messages from the monitor.
func (w *Worker) ipcEvent() {
	for {
		m, err := w.conn.Recv()
		if errors.Is(err, ipc.ErrWouldBlock) {
			return
		}
		if err != nil {
			// The monitor is gone (or broken): nothing left to serve for.
			w.stop(ExitProtocol)
			return
		}
		if w.autoMessage(m) || w.splice.brokerReply(m) || w.udpSplice.brokerReply(m) {
			continue
		}
		for _, fd := range m.FDs {
			closeFD(fd)
		}
		switch m.Body.(type) {
		case ipc.Shutdown:
			w.stop(ExitOK)
			return
		default:
			w.logf(ipc.LevelWarning, "unexpected %T from the monitor", m.Body)
		}
	}
}

// accept takes a qemu connection; while one is served, a second one is
// accepted and closed at once, leaving the first undisturbed.
func (w *Worker) accept() {
	for {
		fd, _, err := unix.Accept4(w.listenFD, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != nil {
			return
		}
		if w.connFD >= 0 {
			pid := 0
			if cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
				pid = int(cred.Pid)
			}
			closeFD(fd)
			w.logf(ipc.LevelInfo, "another client connected (pid %d): refused, one is being served", pid)
			continue
		}
		w.serveConn(fd)
	}
}

// serveConn starts serving a qemu connection.
func (w *Worker) serveConn(fd int) {
	unix.SetNonblock(fd, true)
	// Large socket buffers as upstream, as far as the limits allow.
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 1<<30)
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<30)
	if err := w.loop.Add(fd, engine.Ref{Kind: kindQemuConn}, unix.EPOLLIN|unix.EPOLLRDHUP); err != nil {
		w.logf(ipc.LevelError, "qemu connection: %v", err)
		closeFD(fd)
		return
	}
	w.connFD = fd
	w.sr.Reset(fd)
	w.sw.Reset(fd)
	w.outUsed = 0
	w.outBlocked = false
	w.logf(ipc.LevelInfo, "client connected")
	w.l2.guestConnected()
}

// closeConn ends the current qemu connection; with --one-off (or --fd) the
// worker then exits.
func (w *Worker) closeConn(why string) {
	if w.connFD < 0 {
		return
	}
	w.loop.Del(w.connFD)
	closeFD(w.connFD)
	w.connFD = -1
	w.sr.Reset(-1)
	w.sw.Reset(-1)
	w.outUsed = 0
	w.outBlocked = false
	// The guest's TCP state went with it.
	w.tcp.guestGone()
	w.logf(ipc.LevelInfo, "client %s", why)
	if w.cfg.OneOff || w.listenFD < 0 {
		w.stop(ExitOK)
	}
}

func (w *Worker) qemuEvent(events uint32) {
	if events&unix.EPOLLOUT != 0 {
		w.outWritable()
	}
	if events&unix.EPOLLIN != 0 {
		for {
			n, err := w.sr.Fill()
			for {
				frame, ok := w.sr.Next()
				if !ok {
					break
				}
				w.fromGuest(frame)
			}
			// The frames are valid until the next Fill.
			w.tcp.inputDone()
			var oos *tap.OutOfSyncError
			switch {
			case errors.As(err, &oos):
				w.flush()
				w.closeConn(fmt.Sprintf("sent a frame length of %d: stream out of sync, connection closed", oos.Length))
				return
			case errors.Is(err, tap.ErrEOF):
				w.flush()
				w.closeConn("disconnected")
				return
			case err != nil:
				w.flush()
				w.closeConn(fmt.Sprintf("connection failed: %v", err))
				return
			}
			if n == 0 {
				break
			}
		}
	}
	if events&(unix.EPOLLHUP|unix.EPOLLERR|unix.EPOLLRDHUP) != 0 && events&unix.EPOLLIN == 0 {
		w.closeConn("disconnected")
	}
}

func (w *Worker) tapEvent(events uint32) {
	for {
		n, err := w.tr.Fill()
		for {
			frame, ok := w.tr.Next()
			if !ok {
				break
			}
			w.fromGuest(frame)
		}
		// The frames are valid until the next Fill.
		w.tcp.inputDone()
		if err != nil {
			w.logf(ipc.LevelError, "tap device: %v", err)
			w.stop(ExitRuntime)
			return
		}
		if n == 0 {
			return
		}
	}
}

// fromGuest handles one frame from the guest.
func (w *Worker) fromGuest(frame []byte) {
	w.frames++
	if w.pcap != nil {
		w.pcap.WriteFrame(frame, time.Now())
	}
	f, d := header.Decode(frame)
	if w.trace {
		w.traceFromGuest(frame, &f, d)
	}
	if d != header.DropNone {
		w.decodeDrops[d]++
		return
	}
	w.l2.learn(&f)
	if why, dropped := w.l2.dispatch(frame, &f); dropped {
		w.drops[why]++
	}
}

// toGuest queues frame for the guest; the frame is copied, the caller keeps
// its buffer.
func (w *Worker) toGuest(frame []byte) {
	if w.connFD < 0 && w.tw == nil {
		w.drops[dropNoGuest]++
		return
	}
	if w.outUsed == len(w.out) || w.outFull() {
		w.flush()
	}
	slot := w.out[w.outUsed][:len(frame)]
	copy(slot, frame)
	var queued bool
	if w.sw != nil {
		queued = w.sw.Queue(slot)
	} else {
		queued = w.tw.Queue(slot)
	}
	if !queued {
		w.drops[dropOutFull]++
		return
	}
	w.outUsed++
	if w.pcap != nil {
		w.pcap.WriteFrame(slot, time.Now())
	}
	if w.trace {
		w.traceToGuest(slot)
	}
}

// queueParts queues a frame made of hdr and payload without copying them;
// both must stay untouched until the next flush. It returns the frame's
// position in the batch, and false when there is no guest or no room.
func (w *Worker) queueParts(hdr, payload []byte) (int, bool) {
	if w.connFD < 0 && w.tw == nil {
		w.drops[dropNoGuest]++
		return 0, false
	}
	pos := w.outLen()
	var queued bool
	if w.sw != nil {
		queued = w.sw.Queue(hdr, payload)
	} else {
		queued = w.tw.Queue(hdr, payload)
	}
	if !queued {
		return 0, false
	}
	if w.pcap != nil {
		if w.pcapBuf == nil {
			w.pcapBuf = make([]byte, outSlotSize)
		}
		n := copy(w.pcapBuf, hdr)
		n += copy(w.pcapBuf[n:], payload)
		w.pcap.WriteFrame(w.pcapBuf[:n], time.Now())
	}
	if w.trace {
		w.traceToGuestParts(hdr, payload)
	}
	return pos, true
}

// outLen is the number of frames queued for the guest.
func (w *Worker) outLen() int {
	if w.sw != nil {
		return w.sw.Len()
	}
	if w.tw != nil {
		return w.tw.Len()
	}
	return 0
}

// outRoom is how many more frames the batch takes before a flush.
func (w *Worker) outRoom() int {
	if w.connFD < 0 && w.tw == nil {
		return 0
	}
	return outFrames - w.outLen()
}

// outFull reports whether the guest-side writer takes no more frames.
func (w *Worker) outFull() bool {
	if w.sw != nil {
		return w.sw.Full()
	}
	return w.tw != nil && w.tw.Full()
}

// flush sends the queued frames. Frames the guest side did not take are
// reported to TCP, which sends its own again: on the qemu stream once the
// socket is writable (EPOLLOUT is watched until then), on a tap device at
// the next batch (a tap reports EPOLLOUT always, and refuses frames for
// other reasons than room).
func (w *Worker) flush() {
	queued := w.outLen()
	if queued == 0 {
		w.outUsed = 0
		return
	}
	var sent int
	var err error
	if w.sw != nil {
		sent, err = w.sw.Flush()
	} else {
		sent, err = w.tw.Flush()
	}
	w.sentFrames += uint64(sent)
	w.outUsed = 0
	w.tcp.sent(sent)
	if err != nil && w.sw != nil {
		w.closeConn(fmt.Sprintf("write failed: %v", err))
		return
	}
	if sent < queued && w.sw != nil {
		w.outBlock()
	}
}

// outBlock starts watching the qemu stream for room.
func (w *Worker) outBlock() {
	if w.outBlocked || w.connFD < 0 {
		return
	}
	w.outBlocked = true
	w.loop.Mod(w.connFD, engine.Ref{Kind: kindQemuConn}, unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLOUT)
}

// outWritable ends a blocked period: the qemu stream has room again.
func (w *Worker) outWritable() {
	if !w.outBlocked {
		return
	}
	w.outBlocked = false
	if w.connFD >= 0 {
		w.loop.Mod(w.connFD, engine.Ref{Kind: kindQemuConn}, unix.EPOLLIN|unix.EPOLLRDHUP)
	}
	w.tcp.writable()
}

// periodic runs once per Tick.
func (w *Worker) periodic(now time.Time) {
	w.l2.periodic(now)
	w.tcp.periodic(now)
	w.udp.periodic(now)
	w.udpSplice.periodic(now)
	if w.cfg.Log.Debug && now.Sub(w.lastStats) >= 10*time.Second {
		w.sendStats()
	}
}

// sendStats reports the counters to the monitor (which logs them with
// --debug).
func (w *Worker) sendStats() {
	w.lastStats = time.Now()
	var c []ipc.Counter
	add := func(name string, v uint64) {
		if v != 0 {
			c = append(c, ipc.Counter{Name: counterName(name), Value: v})
		}
	}
	add("frames_from_guest", w.frames)
	add("frames_to_guest", w.sentFrames)
	for i, v := range w.decodeDrops {
		if i != int(header.DropNone) {
			add("drop_"+header.Drop(i).String(), v)
		}
	}
	for i, v := range w.drops {
		add("drop_"+dropNames[i], v)
	}
	w.l2.counters(add)
	w.tcp.counters(add)
	w.udp.counters(add)
	w.splice.counters(add)
	w.udpSplice.counters(add)
	if len(c) == 0 {
		return
	}
	w.conn.Send(ipc.Message{Body: ipc.Stats{Counters: c}})
}

// logf sends a log line to the monitor; when the IPC socket is full the
// line is lost (the data path never waits for logging).
func (w *Worker) logf(level ipc.Level, format string, args ...any) {
	text := ipc.CleanLogText(fmt.Sprintf(format, args...))
	w.conn.Send(ipc.Message{Body: ipc.Log{Level: level, Text: text}})
}

func closeFD(fd int) {
	if fd >= 0 {
		unix.Close(fd)
	}
}

// waitWritable waits (bounded) until fd can be written.
func waitWritable(fd int) {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	unix.Poll(pfd, 1000)
}

// counterName turns a reason's text into a counter name (letters, digits,
// '_', '.', '-'; at most ipc.MaxCounterName bytes).
func counterName(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
		if !ok {
			b[i] = '_'
		}
	}
	if len(b) > ipc.MaxCounterName {
		b = b[:ipc.MaxCounterName]
	}
	return string(b)
}
