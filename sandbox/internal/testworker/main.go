// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Testworker is a stand-in for the real worker, built by the sandbox tests
// with the testhooks tag. It follows the worker's start-up contract
// (nsinit import, go:debug lines, Confined, then the filter), exercises
// what the Go runtime and the data path do under the filter, and obeys
// commands on fd 3 so that the tests can inspect it from outside.
//
// Usage:
//
//	testworker [-filter kill|trap|probe] [-profile passt|pasta]
//	           [-stress D] [-liveness] [-procnet-fd N]
//
// Protocol on fd 3, a SOCK_SEQPACKET socket:
//   - if sandbox.Confined fails, it sends "unconfined: " and the error,
//     waits for any message or end of file, and exits 3;
//   - with -filter probe, each message is 7 little-endian uint64 (a
//     system call number and 6 arguments) of a call to make, and the reply
//     is its errno as a uint64 (0 on success), until end of file;
//   - with -liveness, it stresses for D and exits 0 without a word;
//   - otherwise it stresses for D and sends "ready", then obeys commands:
//     "forbidden" makes a forbidden system call, "stress" stresses again
//     and answers "ready", "exit" or end of file exits 0.
//
// Exit codes: 0 fine, 3 not confined, 4 filter not loaded, 5 stress
// failed, 6 fd 3 failed.
//
//go:debug updatemaxprocs=0
//go:debug decoratemappings=0
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"passt-go/sandbox"
	_ "passt-go/sandbox/nsinit"
)

const ipcFD = 3

func main() {
	filter := flag.String("filter", "kill", "kill, trap or probe")
	profile := flag.String("profile", "passt", "passt or pasta")
	stressFor := flag.Duration("stress", 100*time.Millisecond, "how long to stress")
	liveness := flag.Bool("liveness", false, "stress, then exit 0")
	procNet := flag.Int("procnet-fd", -1, "fd of an open /proc/net file to re-read")
	flag.Parse()

	if err := sandbox.Confined(); err != nil {
		// Say why on fd 3 and stay until told, so that the test can
		// look at what a failed confinement leaves behind.
		if _, werr := unix.Write(ipcFD, []byte("unconfined: "+err.Error())); werr == nil {
			buf := make([]byte, 64)
			unix.Read(ipcFD, buf)
		}
		fail(3, err)
	}
	p := sandbox.Passt
	if *profile == "pasta" {
		p = sandbox.Pasta
	}
	// Created before the filter: epoll_create1 is not allowed after.
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		fail(4, err)
	}
	switch *filter {
	case "kill":
		err = sandbox.LoadFilter(p)
	case "trap":
		err = sandbox.LoadDebugFilter(p)
	case "probe":
		err = loadProbeFilter(p)
	default:
		err = fmt.Errorf("unknown filter %q", *filter)
	}
	if err != nil {
		fail(4, err)
	}
	if *filter == "probe" {
		probe()
	}

	s := &stress{epfd: epfd, procNetFD: *procNet, pasta: p == sandbox.Pasta}
	if err := s.run(*stressFor); err != nil {
		fail(5, err)
	}
	if *liveness {
		os.Exit(0)
	}
	if _, err := unix.Write(ipcFD, []byte("ready")); err != nil {
		fail(6, err)
	}
	buf := make([]byte, 64)
	for {
		n, err := unix.Read(ipcFD, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			fail(6, err)
		}
		switch string(buf[:n]) {
		case "", "exit":
			os.Exit(0)
		case "forbidden":
			fail(5, forbiddenSyscall())
		case "stress":
			if err := s.run(*stressFor); err != nil {
				fail(5, err)
			}
			if _, err := unix.Write(ipcFD, []byte("ready")); err != nil {
				fail(6, err)
			}
		}
	}
}

// fail reports on stderr with a raw write (no os.File, no poller) and exits.
func fail(code int, err error) {
	unix.Write(2, []byte(fmt.Sprintf("testworker: %v\n", err)))
	os.Exit(code)
}

// probe serves system call requests until end of file.
func probe() {
	var req [7 * 8]byte
	for {
		n, err := unix.Read(ipcFD, req[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			fail(6, err)
		}
		if n == 0 {
			os.Exit(0)
		}
		if n != len(req) {
			fail(6, fmt.Errorf("probe request of %d bytes", n))
		}
		var a [7]uintptr
		for i := range a {
			a[i] = uintptr(binary.LittleEndian.Uint64(req[i*8:]))
		}
		r, _, e := unix.Syscall6(a[0], a[1], a[2], a[3], a[4], a[5], a[6])
		if e == 0 && a[0] == unix.SYS_SOCKET {
			unix.Close(int(r))
		}
		var rep [8]byte
		binary.LittleEndian.PutUint64(rep[:], uint64(e))
		if _, err := unix.Write(ipcFD, rep[:]); err != nil {
			fail(6, err)
		}
	}
}

// stress runs, in rounds until a deadline, what a worker does under its
// filter: thread churn, GC, timers, preemption, sockets, epoll, timerfds.
type stress struct {
	epfd      int
	procNetFD int
	pasta     bool
	sink      [][]byte
}

func (s *stress) run(d time.Duration) error {
	deadline := time.Now().Add(d)
	for round := 0; ; round++ {
		steps := []struct {
			name string
			fn   func() error
		}{
			{"threads", s.threads},
			{"gc", s.gc},
			{"timers", s.timers},
			{"preemption", s.preemption},
			{"udp", s.udp},
			{"tcp", s.tcp},
			{"ping", s.ping},
			{"timerfd", s.timerfd},
			{"procnet", s.procNet},
			{"random", s.random},
		}
		for _, st := range steps {
			if err := st.fn(); err != nil {
				return fmt.Errorf("round %d, %s: %w", round, st.name, err)
			}
		}
		if !time.Now().Before(deadline) {
			return nil
		}
	}
}

// threads starts goroutines that lock their thread and return without
// unlocking: each such thread exits, and the next ones must be created.
func (s *stress) threads() error {
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			time.Sleep(200 * time.Microsecond)
		}()
	}
	wg.Wait()
	return nil
}

func (s *stress) gc() error {
	for i := range 64 {
		s.sink = append(s.sink, make([]byte, 64<<10+i))
	}
	s.sink = nil
	runtime.GC()
	debug.FreeOSMemory()
	return nil
}

func (s *stress) timers() error {
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		time.AfterFunc(time.Duration(i)*50*time.Microsecond, wg.Done)
	}
	t := time.NewTicker(100 * time.Microsecond)
	for range 3 {
		<-t.C
	}
	t.Stop()
	wg.Wait()
	return nil
}

// preemption keeps goroutines busy in loops without calls, which the
// runtime can only interrupt with a signal (tgkill SIGURG).
func (s *stress) preemption() error {
	var wg sync.WaitGroup
	stop := time.Now().Add(25 * time.Millisecond)
	for range runtime.GOMAXPROCS(0) + 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := 0
			for time.Now().Before(stop) {
				for j := range 100000 {
					x += j
				}
			}
			_ = x
		}()
	}
	wg.Wait()
	return nil
}

// waitReadable waits on the pre-made epoll fd for fd to become readable.
func (s *stress) waitReadable(fd int) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
	if err := unix.EpollCtl(s.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	defer unix.EpollCtl(s.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	events := make([]unix.EpollEvent, 4)
	for range 100 {
		n, err := unix.EpollWait(s.epfd, events, 20)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("epoll_pwait: %w", err)
		}
		for _, e := range events[:n] {
			if int(e.Fd) == fd {
				return nil
			}
		}
	}
	return errors.New("fd never became readable")
}

func (s *stress) udp() error {
	if err := s.udpPair(unix.AF_INET, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return fmt.Errorf("IPv4: %w", err)
	}
	err := s.udpPair(unix.AF_INET6, &unix.SockaddrInet6{Addr: [16]byte{15: 1}})
	if errors.Is(err, unix.EAFNOSUPPORT) || errors.Is(err, unix.EADDRNOTAVAIL) {
		return nil // no IPv6 here
	}
	if err != nil {
		return fmt.Errorf("IPv6: %w", err)
	}
	return nil
}

func (s *stress) udpPair(family int, lo unix.Sockaddr) error {
	rx, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return err
	}
	defer unix.Close(rx)
	tx, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(tx)
	if err := unix.Bind(rx, lo); err != nil {
		return err
	}
	addr, err := unix.Getsockname(rx)
	if err != nil {
		return err
	}
	if err := unix.Sendto(tx, []byte("single"), 0, addr); err != nil {
		return fmt.Errorf("sendto: %w", err)
	}
	if err := unix.Connect(tx, addr); err != nil {
		return err
	}
	// A batch of three with sendmmsg, then all four read with recvmmsg.
	payload := [][]byte{[]byte("one"), []byte("two"), []byte("three")}
	iov := make([]unix.Iovec, len(payload))
	msgs := make([]unix.Mmsghdr, len(payload))
	for i := range payload {
		iov[i].Base = &payload[i][0]
		iov[i].SetLen(len(payload[i]))
		msgs[i].Hdr.Iov = &iov[i]
		msgs[i].Hdr.SetIovlen(1)
	}
	if n, err := mmsg(unix.SYS_SENDMMSG, tx, msgs, 0); err != nil || n != len(msgs) {
		return fmt.Errorf("sendmmsg: %d, %v", n, err)
	}
	if err := s.waitReadable(rx); err != nil {
		return err
	}
	if _, err := unix.IoctlGetInt(rx, unix.SIOCINQ); err != nil {
		return fmt.Errorf("SIOCINQ: %w", err)
	}
	bufs := make([][]byte, 4)
	riov := make([]unix.Iovec, 4)
	rmsgs := make([]unix.Mmsghdr, 4)
	for i := range bufs {
		bufs[i] = make([]byte, 64)
		riov[i].Base = &bufs[i][0]
		riov[i].SetLen(64)
		rmsgs[i].Hdr.Iov = &riov[i]
		rmsgs[i].Hdr.SetIovlen(1)
	}
	got := 0
	for range 100 {
		n, err := mmsg(unix.SYS_RECVMMSG, rx, rmsgs[got:], unix.MSG_DONTWAIT)
		if err == unix.EAGAIN {
			if err := s.waitReadable(rx); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("recvmmsg: %w", err)
		}
		if got += n; got == 4 {
			return nil
		}
	}
	return fmt.Errorf("received %d of 4 datagrams", got)
}

func mmsg(nr uintptr, fd int, msgs []unix.Mmsghdr, flags int) (int, error) {
	n, _, e := unix.Syscall6(nr, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])), uintptr(len(msgs)), uintptr(flags), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

func (s *stress) tcp() error {
	ln, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(ln)
	if err := unix.SetsockoptInt(ln, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return err
	}
	if err := unix.Bind(ln, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return err
	}
	if err := unix.Listen(ln, 8); err != nil {
		return err
	}
	addr, err := unix.Getsockname(ln)
	if err != nil {
		return err
	}
	c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return err
	}
	defer unix.Close(c)
	fl, err := unix.FcntlInt(uintptr(c), unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	if _, err := unix.FcntlInt(uintptr(c), unix.F_SETFL, fl|unix.O_NONBLOCK); err != nil {
		return err
	}
	if err := unix.Connect(c, addr); err != nil && err != unix.EINPROGRESS {
		return fmt.Errorf("connect: %w", err)
	}
	if err := s.waitReadable(ln); err != nil {
		return err
	}
	a, _, err := unix.Accept4(ln, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	if err != nil {
		return fmt.Errorf("accept4: %w", err)
	}
	defer unix.Close(a)
	if _, err := unix.Getpeername(a); err != nil {
		return err
	}
	if err := unix.SetsockoptInt(c, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		return err
	}
	if _, err := unix.GetsockoptInt(c, unix.SOL_SOCKET, unix.SO_ERROR); err != nil {
		return err
	}
	if _, err := unix.GetsockoptTCPInfo(c, unix.IPPROTO_TCP, unix.TCP_INFO); err != nil {
		return err
	}
	if _, err := unix.Writev(c, [][]byte{[]byte("hello, "), []byte("world")}); err != nil {
		return fmt.Errorf("writev: %w", err)
	}
	if _, err := unix.IoctlGetInt(c, unix.SIOCOUTQ); err != nil {
		return fmt.Errorf("SIOCOUTQ: %w", err)
	}
	if err := s.waitReadable(a); err != nil {
		return err
	}
	buf := make([]byte, 5)
	if _, _, err := unix.Recvfrom(a, buf, unix.MSG_PEEK); err != nil {
		return fmt.Errorf("recvfrom MSG_PEEK: %w", err)
	}
	rest := make([]byte, 64)
	if _, err := unix.Readv(a, [][]byte{buf, rest}); err != nil {
		return fmt.Errorf("readv: %w", err)
	}
	if s.pasta {
		if err := s.splice(c, a); err != nil {
			return fmt.Errorf("splice: %w", err)
		}
	}
	if err := unix.Shutdown(c, unix.SHUT_WR); err != nil {
		return err
	}
	return nil
}

// splice moves bytes from socket c to socket a through a pipe, as the
// spliced loopback path does.
func (s *stress) splice(c, a int) error {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return err
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	if _, err := unix.FcntlInt(uintptr(p[0]), unix.F_SETPIPE_SZ, 1<<16); err != nil {
		return err
	}
	if _, err := unix.FcntlInt(uintptr(p[0]), unix.F_GETPIPE_SZ, 0); err != nil {
		return err
	}
	if _, err := unix.Write(a, []byte("spliced")); err != nil {
		return err
	}
	if err := s.waitReadable(c); err != nil {
		return err
	}
	n, err := unix.Splice(c, nil, p[1], nil, 64, unix.SPLICE_F_NONBLOCK|unix.SPLICE_F_MOVE)
	if err != nil {
		return err
	}
	if _, err := unix.Splice(p[0], nil, c, nil, int(n), unix.SPLICE_F_NONBLOCK|unix.SPLICE_F_MOVE); err != nil {
		return err
	}
	return nil
}

// ping sends an ICMP echo request to 127.0.0.1 through a ping socket, if
// this system's ping_group_range lets the worker's group have one.
func (s *stress) ping() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMP)
	if err == unix.EACCES || err == unix.EPERM {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	echo := []byte{8, 0, 0, 0, 0, 0, 0, 1, 'p', 'i', 'n', 'g'}
	if err := unix.Sendto(fd, echo, 0, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return fmt.Errorf("sendto: %w", err)
	}
	if err := s.waitReadable(fd); err != nil {
		return err
	}
	buf := make([]byte, 64)
	if _, _, err := unix.Recvfrom(fd, buf, 0); err != nil {
		return fmt.Errorf("recvfrom: %w", err)
	}
	return nil
}

func (s *stress) timerfd() error {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(200 * time.Microsecond))}
	if err := unix.TimerfdSettime(fd, 0, &spec, nil); err != nil {
		return err
	}
	var cur unix.ItimerSpec
	if err := unix.TimerfdGettime(fd, &cur); err != nil {
		return err
	}
	if err := s.waitReadable(fd); err != nil {
		return err
	}
	var exp [8]byte
	if _, err := unix.Read(fd, exp[:]); err != nil {
		return err
	}
	return nil
}

// procNet re-reads the /proc/net fd, if the test passed one, as the port
// scan does.
func (s *stress) procNet() error {
	if s.procNetFD < 0 {
		return nil
	}
	buf := make([]byte, 256)
	if _, err := unix.Pread(s.procNetFD, buf, 0); err != nil {
		return fmt.Errorf("pread64: %w", err)
	}
	if _, err := unix.Seek(s.procNetFD, 0, 0); err != nil {
		return fmt.Errorf("lseek: %w", err)
	}
	if _, err := unix.Read(s.procNetFD, buf); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	return nil
}

func (s *stress) random() error {
	// Local time, as a logger prints it.
	if len(time.Now().String()) == 0 {
		return errors.New("empty time")
	}
	var b [16]byte
	if _, err := unix.Getrandom(b[:], 0); err != nil {
		return fmt.Errorf("getrandom: %w", err)
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return fmt.Errorf("clock_gettime: %w", err)
	}
	return nil
}
