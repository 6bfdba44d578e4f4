// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/syndtr/gocapability/capability"
	"golang.org/x/sys/unix"

	"passt-go/test/nstest"
)

// An identity a test runs passt as.
type runAs struct {
	name string
	uid  int // -1: the test's own identity (root in CI)
}

var identities = []runAs{{"root", -1}, {"unprivileged", 65534}}

// passtProc is a passt started by a test.
type passtProc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	sock   string
	dir    string
	done   chan struct{}
}

// syncBuffer collects a process's output safely while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// sharedDir makes a directory every user may write, for sockets and pid
// files of a passt running as nobody.
func sharedDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "passt-go-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o777); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// command builds the command line for bin (in dir) run as who.
func command(who runAs, dir, bin string, args ...string) *exec.Cmd {
	path := filepath.Join(dir, bin)
	if who.uid < 0 {
		return exec.Command(path, args...)
	}
	id := strconv.Itoa(who.uid)
	full := append([]string{"--reuid=" + id, "--regid=" + id, "--clear-groups", "--", path}, args...)
	return exec.Command("setpriv", full...)
}

// startForeground starts passt -f on a socket in a fresh shared directory
// and waits until the socket accepts connections.
func startForeground(t *testing.T, who runAs, dir string, env []string, args ...string) *passtProc {
	t.Helper()
	return startPasst(t, who, dir, env, false, args...)
}

// startPasst is startForeground; with mayExit, passt ending right after it
// is ready is not a failure of the start.
func startPasst(t *testing.T, who runAs, dir string, env []string, mayExit bool, args ...string) *passtProc {
	t.Helper()
	nstest.NeedRoot(t)
	work := sharedDir(t)
	sock := filepath.Join(work, "passt.socket")
	cmd := command(who, dir, "passt", append([]string{"-f", "-s", sock}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	p := &passtProc{cmd: cmd, stderr: &syncBuffer{}, sock: sock, dir: work, done: make(chan struct{})}
	cmd.Stdout = p.stderr
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		if !p.exited() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-p.done
			}
		}
		if t.Failed() {
			t.Logf("passt output:\n%s", p.stderr.String())
		}
	})
	nstest.WaitFor(t, 10*time.Second, func() bool {
		if p.exited() && !(mayExit && strings.Contains(p.stderr.String(), "socket bound at")) {
			t.Fatalf("passt exited at start: %v\n%s", cmd.ProcessState, p.stderr.String())
		}
		// Logged once the worker is ready; a probing connection would
		// take the one place in the listen queue.
		return strings.Contains(p.stderr.String(), "socket bound at")
	}, "passt to be ready")
	return p
}

func (p *passtProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for passt to exit and returns its exit code.
func (p *passtProc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("passt still running after %v", timeout)
	}
	return p.cmd.ProcessState.ExitCode()
}

// monitorPID is the pid of the monitor itself (setpriv execs it, so the
// command's pid is the monitor's either way).
func (p *passtProc) monitorPID() int { return p.cmd.Process.Pid }

// childrenOf lists the child processes of pid.
func childrenOf(pid int) []int {
	var kids []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil {
				kids = append(kids, n)
			}
		}
	}
	return kids
}

// workerOf finds the worker process of a monitor.
func workerOf(t *testing.T, monitor int) int {
	t.Helper()
	var worker int
	nstest.WaitFor(t, 5*time.Second, func() bool {
		for _, k := range childrenOf(monitor) {
			exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", k))
			if err == nil && filepath.Base(exe) == "passt-worker" {
				worker = k
				return true
			}
		}
		return false
	}, "the worker process")
	return worker
}

// statusField returns a field of /proc/PID/task/TID/status.
func statusFields(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m, nil
}

// checkConfined asserts the sandbox from outside: every thread without
// capabilities, with no_new_privs and a seccomp filter; an empty root; own
// user, mount, IPC and UTS namespaces; the host's network namespace.
func checkConfined(t *testing.T, worker, monitor int) {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", worker))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("no threads for worker %d: %v", worker, err)
	}
	want := map[string]string{
		"CapEff": "0000000000000000", "CapPrm": "0000000000000000", "CapInh": "0000000000000000",
		"CapBnd": "0000000000000000", "CapAmb": "0000000000000000", "NoNewPrivs": "1", "Seccomp": "2",
	}
	for _, task := range tasks {
		f, err := statusFields(task)
		if err != nil {
			continue // the thread ended meanwhile
		}
		for k, v := range want {
			if f[k] != v {
				t.Errorf("%s: got %s %s, want %s", task, k, f[k], v)
			}
		}
	}
	// A second, independent reading of every thread's sets through the
	// gocapability library (capget on the thread, /proc for the bounding
	// and ambient sets).
	for _, task := range tasks {
		tid, err := strconv.Atoi(filepath.Base(filepath.Dir(task)))
		if err != nil {
			continue
		}
		caps, err := capability.NewPid2(tid)
		if err != nil {
			continue
		}
		if err := caps.Load(); err != nil {
			continue // the thread ended meanwhile
		}
		for _, which := range []capability.CapType{capability.EFFECTIVE, capability.PERMITTED, capability.INHERITABLE, capability.BOUNDING, capability.AMBIENT} {
			if !caps.Empty(which) {
				t.Errorf("thread %d: %v set not empty: %v", tid, which, caps)
			}
		}
	}
	t.Logf("worker %d: %d threads checked", worker, len(tasks))
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/root/", worker))
	if err != nil {
		t.Errorf("read worker root: %v", err)
	}
	if len(entries) != 0 {
		t.Errorf("worker root lists %d entries, want none", len(entries))
	}
	for _, ns := range []string{"user", "mnt", "ipc", "uts", "net"} {
		w, err1 := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", worker, ns))
		m, err2 := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", monitor, ns))
		if err1 != nil || err2 != nil {
			t.Errorf("namespace %s: %v %v", ns, err1, err2)
			continue
		}
		same := w == m
		if ns == "net" && !same {
			t.Errorf("net namespace: worker %s, monitor %s: want the same", w, m)
		}
		if ns != "net" && same {
			t.Errorf("%s namespace: worker and monitor share %s, want the worker's own", ns, w)
		}
	}
}

func TestPasstSandboxFromOutside(t *testing.T) {
	dir, _ := binaries(t)
	for _, who := range identities {
		t.Run(who.name, func(t *testing.T) {
			p := startForeground(t, who, dir, nil)
			mon := p.monitorPID()
			checkConfined(t, workerOf(t, mon), mon)
			if who.uid >= 0 {
				f, _ := statusFields(fmt.Sprintf("/proc/%d/status", mon))
				if !strings.HasPrefix(f["Uid"], strconv.Itoa(who.uid)) {
					t.Errorf("monitor Uid: got %q, want %d", f["Uid"], who.uid)
				}
			}
		})
	}
}

// Started as root, monitor and worker give up root for nobody.
func TestPasstRootSwitchesToNobody(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir, _ := binaries(t)
	p := startForeground(t, runAs{"root", -1}, dir, nil)
	mon := p.monitorPID()
	for _, pid := range []int{mon, workerOf(t, mon)} {
		f, err := statusFields(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Fields(f["Uid"]); len(got) != 4 || got[0] != "65534" || got[1] != "65534" || got[2] != "65534" {
			t.Errorf("pid %d: got Uid %q, want nobody (65534) everywhere", pid, f["Uid"])
		}
	}
}

// Without -f, passt returns once the socket listens and the worker is
// sandboxed, within a second of its start; the pid file names the daemon.
func TestPasstDaemonStartup(t *testing.T) {
	dir, _ := binaries(t)
	for _, who := range identities {
		t.Run(who.name, func(t *testing.T) {
			nstest.NeedRoot(t)
			work := sharedDir(t)
			sock := filepath.Join(work, "passt.socket")
			pidFile := filepath.Join(work, "passt.pid")
			cmd := command(who, dir, "passt", "-s", sock, "-P", pidFile)
			var out syncBuffer
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Whatever happens below, the daemon goes when the test ends.
			t.Cleanup(func() {
				if b, err := os.ReadFile(pidFile); err == nil {
					if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
						syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			})
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("passt: %v\n%s", err, out.String())
				}
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("passt did not return\n%s", out.String())
			}
			took := time.Since(start)
			c, err := net.Dial("unix", sock)
			if err != nil {
				t.Fatalf("socket right after return: %v", err)
			}
			c.Close()
			t.Logf("passt returned after %v", took)
			if took > time.Second {
				t.Errorf("passt returned after %v, want within a second", took)
			}

			b, err := os.ReadFile(pidFile)
			if err != nil {
				t.Fatal(err)
			}
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatalf("pid file %q: %v", b, err)
			}
			t.Cleanup(func() {
				syscall.Kill(pid, syscall.SIGTERM)
				nstest.WaitFor(t, 5*time.Second, func() bool { return syscall.Kill(pid, 0) != nil }, "daemon to exit")
			})
			exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
			if err != nil || filepath.Base(exe) != "passt-monitor" {
				t.Fatalf("pid file names %d (%s, %v), want the running passt-monitor", pid, exe, err)
			}
			if pid == cmd.Process.Pid {
				t.Errorf("pid file names the starting process %d, want the daemon", pid)
			}
			checkConfined(t, workerOf(t, pid), pid)
		})
	}
}

// A forbidden system call kills the worker with SIGSYS; the monitor says
// so, names the call where it can read the kernel's audit record of the
// kill, and exits non-zero. A monitor started as root opens the kernel log
// before it becomes nobody, so it names the call wherever root may read
// /dev/kmsg.
func TestPasstForbiddenSyscall(t *testing.T) {
	_, hooks := binaries(t)
	for _, who := range identities {
		t.Run(who.name, func(t *testing.T) {
			p := startPasst(t, who, hooks, []string{"PASST_GO_TEST_HOOK=forbidden-syscall"}, true)
			code := p.wait(t, 10*time.Second)
			out := p.stderr.String()
			if code == 0 {
				t.Errorf("exit code: got 0, want non-zero\n%s", out)
			}
			if !strings.Contains(out, "killed by signal SIGSYS") {
				t.Errorf("monitor output does not name SIGSYS:\n%s", out)
			}
			if !kmsgReadable(t, who) {
				t.Logf("%s cannot read /dev/kmsg: the system call is not required", who.name)
				return
			}
			named := fmt.Sprintf("system call %d (openat) is not in the seccomp allowlist", unix.SYS_OPENAT)
			if !strings.Contains(out, named) {
				t.Errorf("monitor output does not contain %q:\n%s", named, out)
			}
		})
	}
}

// kmsgReadable reports whether passt started as who can open /dev/kmsg
// at start, before it gives up root: that needs CAP_SYSLOG where
// kernel.dmesg_restrict is set.
func kmsgReadable(t *testing.T, who runAs) bool {
	t.Helper()
	if who.uid < 0 {
		fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return false
		}
		unix.Close(fd)
		return true
	}
	id := strconv.Itoa(who.uid)
	cmd := exec.Command("setpriv", "--reuid="+id, "--regid="+id, "--clear-groups", "--", "sh", "-c", ": </dev/kmsg")
	return cmd.Run() == nil
}

// The release build has no test hook: the same environment does nothing.
func TestPasstReleaseHasNoHook(t *testing.T) {
	dir, _ := binaries(t)
	p := startForeground(t, runAs{"root", -1}, dir, []string{"PASST_GO_TEST_HOOK=forbidden-syscall"})
	mon := p.monitorPID()
	workerOf(t, mon)
	time.Sleep(200 * time.Millisecond) // give a hook, were there one, time to fire
	if p.exited() {
		t.Fatalf("release passt exited: %s", p.stderr.String())
	}
}

// If the worker dies, the monitor exits non-zero naming the signal.
func TestPasstWorkerDeath(t *testing.T) {
	dir, _ := binaries(t)
	p := startForeground(t, runAs{"root", -1}, dir, nil)
	w := workerOf(t, p.monitorPID())
	syscall.Kill(w, syscall.SIGKILL)
	if code := p.wait(t, 10*time.Second); code == 0 {
		t.Errorf("exit code: got 0, want non-zero")
	}
	if out := p.stderr.String(); !strings.Contains(out, "SIGKILL") {
		t.Errorf("monitor output does not name SIGKILL:\n%s", out)
	}
}

// If the monitor dies, the worker goes too.
func TestPasstMonitorDeath(t *testing.T) {
	dir, _ := binaries(t)
	p := startForeground(t, runAs{"root", -1}, dir, nil)
	w := workerOf(t, p.monitorPID())
	p.cmd.Process.Kill()
	p.wait(t, 5*time.Second)
	nstest.WaitFor(t, 5*time.Second, func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/%d", w))
		return errors.Is(err, os.ErrNotExist)
	}, "worker to exit after the monitor")
}

// With NOTIFY_SOCKET, readiness reaches the service manager.
func TestPasstNotify(t *testing.T) {
	dir, _ := binaries(t)
	work := sharedDir(t)
	path := filepath.Join(work, "notify")
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o777)
	startForeground(t, runAs{"root", -1}, dir, []string{"NOTIFY_SOCKET=" + path})
	tv := unix.NsecToTimeval(int64(5 * time.Second))
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	buf := make([]byte, 256)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	if got := string(buf[:n]); !strings.Contains(got, "READY=1") {
		t.Errorf("got notification %q, want READY=1", got)
	}
}

// dialQemu connects like qemu does.
func dialQemu(t *testing.T, sock string) *net.UnixConn {
	t.Helper()
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByPeer reports whether the peer closed c within d.
func closedByPeer(c *net.UnixConn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 65536)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return false
		}
		return true
	}
}

// One qemu connection at a time: a second one is closed at once and the
// first goes on carrying frames; after the first leaves, a new one is
// served.
func TestPasstOneClientAtATime(t *testing.T) {
	dir, _ := binaries(t)
	p := startForeground(t, runAs{"root", -1}, dir, nil, streamAddrArgs...)
	first := dialQemu(t, p.sock)
	nstest.WaitFor(t, 5*time.Second, func() bool { return strings.Contains(p.stderr.String(), "client connected") }, "the first client to be served")
	second := dialQemu(t, p.sock)
	if !closedByPeer(second, 5*time.Second) {
		t.Errorf("second connection: not closed by passt")
	}
	if closedByPeer(first, 300*time.Millisecond) {
		t.Fatalf("first connection closed when the second came")
	}
	if err := resolveGateway(first, 5*time.Second); err != nil {
		t.Errorf("first connection after the second was refused: %v", err)
	}
	first.Close()
	nstest.WaitFor(t, 5*time.Second, func() bool { return strings.Contains(p.stderr.String(), "client disconnected") }, "the first client to be gone")
	third := dialQemu(t, p.sock)
	if err := resolveGateway(third, 5*time.Second); err != nil {
		t.Errorf("connection after the first left: %v", err)
	}
	if p.exited() {
		t.Fatalf("passt exited: %s", p.stderr.String())
	}
}

// streamAddrArgs give passt fixed IPv4 addresses for the tests that speak
// the qemu stream themselves, whatever the host's are.
var streamAddrArgs = []string{"-a", "198.51.100.2", "-n", "24", "-g", "198.51.100.1"}

// The guest those tests play: its address, gateway (streamAddrArgs) and MAC.
var (
	streamGuestAddr = netip.MustParseAddr("198.51.100.2")
	streamGateway   = netip.MustParseAddr("198.51.100.1")
	streamGuestMAC  = net.HardwareAddr{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
)

// arpRequest builds a broadcast ARP request from the stream's guest for
// target:
//
//	htype(2) ptype(2) hlen(1) plen(1) op(2) sha(6) spa(4) tha(6) tpa(4)
func arpRequest(target netip.Addr) []byte {
	broadcast := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	r := ethHeader(broadcast, streamGuestMAC, etherTypeARP)
	r = binary.BigEndian.AppendUint16(r, 1)             // Ethernet
	r = binary.BigEndian.AppendUint16(r, etherTypeIPv4) // IPv4
	r = append(r, 6, 4)
	r = binary.BigEndian.AppendUint16(r, 1) // request
	r = append(r, streamGuestMAC...)
	r = append(r, streamGuestAddr.AsSlice()...)
	r = append(r, make([]byte, 6)...)
	return append(r, target.AsSlice()...)
}

// isARPReply reports whether frame is the answer to arpRequest(target):
// a reply to the guest, from a non-zero MAC, saying who has target.
func isARPReply(frame []byte, target netip.Addr) bool {
	if len(frame) < ethLen+28 || binary.BigEndian.Uint16(frame[12:]) != etherTypeARP {
		return false
	}
	arp := frame[ethLen:]
	sha := net.HardwareAddr(arp[8:14])
	return bytes.Equal(frame[0:6], streamGuestMAC) &&
		binary.BigEndian.Uint16(arp[0:]) == 1 && binary.BigEndian.Uint16(arp[2:]) == etherTypeIPv4 &&
		arp[4] == 6 && arp[5] == 4 && binary.BigEndian.Uint16(arp[6:]) == 2 &&
		!bytes.Equal(sha, make([]byte, 6)) && bytes.Equal(sha, frame[6:12]) &&
		netip.AddrFrom4([4]byte(arp[14:18])) == target &&
		bytes.Equal(arp[18:24], streamGuestMAC) &&
		netip.AddrFrom4([4]byte(arp[24:28])) == streamGuestAddr
}

// resolveGateway asks, over the qemu connection c, for the gateway's MAC
// address and waits at most d for passt's answer, passing over other
// frames. It returns why there was none.
func resolveGateway(c *net.UnixConn, d time.Duration) error {
	c.SetDeadline(time.Now().Add(d))
	defer c.SetDeadline(time.Time{})
	if err := nstest.WriteFrame(c, arpRequest(streamGateway)); err != nil {
		return fmt.Errorf("send an ARP request for %v: %w", streamGateway, err)
	}
	buf := make([]byte, nstest.MaxFrame)
	for {
		f, err := nstest.ReadFrame(c, buf)
		if err != nil {
			return fmt.Errorf("no ARP reply for %v: %w", streamGateway, err)
		}
		if isARPReply(f, streamGateway) {
			return nil
		}
	}
}

// --one-off: passt exits 0 when its client leaves.
func TestPasstOneOff(t *testing.T) {
	dir, _ := binaries(t)
	p := startForeground(t, runAs{"root", -1}, dir, nil, "--one-off")
	c := dialQemu(t, p.sock)
	nstest.WaitFor(t, 5*time.Second, func() bool { return strings.Contains(p.stderr.String(), "client connected") }, "the client to be served")
	c.Close()
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit code: got %d, want 0\n%s", code, p.stderr.String())
	}
}

// A stream out of sync (random bytes, absurd lengths) is closed with a
// log line that gives the length; passt keeps running and serves the next
// connection.
func TestPasstGarbageStream(t *testing.T) {
	dir, _ := binaries(t)
	p := startForeground(t, runAs{"root", -1}, dir, nil, streamAddrArgs...)
	rng := rand.New(rand.NewSource(1))
	junk := make([]byte, 1<<16)
	rng.Read(junk)
	junk[0] = 0x7f // a length far above 65535
	tests := []struct {
		name    string
		in      []byte
		length  uint32 // the length passt reports out of sync
		partial bool   // a frame cut short: kept, not out of sync
	}{
		{name: "absurd length", in: []byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3}, length: 0xffffffff},
		{name: "too short", in: []byte{0, 0, 0, 5, 1, 2, 3, 4, 5}, length: 5},
		{name: "zero length", in: []byte{0, 0, 0, 0}, length: 0},
		{name: "random", in: junk, length: binary.BigEndian.Uint32(junk)},
		{name: "truncated tail", in: append([]byte{0, 0, 0, 60}, make([]byte, 30)...), partial: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dialQemu(t, p.sock)
			c.Write(tc.in)
			if tc.partial {
				// A frame cut short is kept for the next read, not an error.
				if closedByPeer(c, 300*time.Millisecond) {
					t.Errorf("connection closed for a partial frame")
				}
				c.Close()
				nstest.WaitFor(t, 5*time.Second, func() bool {
					return strings.Count(p.stderr.String(), "client disconnected") > 0
				}, "disconnect to be seen")
				return
			}
			if !closedByPeer(c, 5*time.Second) {
				t.Errorf("connection not closed after %s", tc.name)
			}
			line := fmt.Sprintf("client sent a frame length of %d: stream out of sync, connection closed", tc.length)
			nstest.WaitFor(t, 5*time.Second, func() bool { return strings.Contains(p.stderr.String(), line) }, "the line "+strconv.Quote(line))
			if p.exited() {
				t.Fatalf("passt exited: %s", p.stderr.String())
			}
		})
	}
	c := dialQemu(t, p.sock)
	if err := resolveGateway(c, 5*time.Second); err != nil {
		t.Errorf("connection after garbage: %v", err)
	}
}

// --fd: an inherited connected socket is served; its end ends passt.
func TestPasstInheritedFD(t *testing.T) {
	nstest.NeedRoot(t)
	dir, _ := binaries(t)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours := os.NewFile(uintptr(fds[0]), "ours")
	theirs := os.NewFile(uintptr(fds[1]), "theirs")
	defer ours.Close()
	cmd := exec.Command(filepath.Join(dir, "passt"), "-f", "--fd", "3")
	cmd.ExtraFiles = []*os.File{theirs}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	theirs.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	nstest.WaitFor(t, 5*time.Second, func() bool { return strings.Contains(out.String(), "client connected") }, "the inherited socket to be served")
	ours.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("passt --fd: %v\n%s", err, out.String())
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("passt --fd did not exit when the socket closed\n%s", out.String())
	}
}

// An explicit socket path that a live passt holds is an error; a stale
// file is reused.
func TestPasstSocketPath(t *testing.T) {
	dir, _ := binaries(t)
	p := startForeground(t, runAs{"root", -1}, dir, nil)
	cmd := exec.Command(filepath.Join(dir, "passt"), "-f", "-s", p.sock)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("second passt on %s: started, want an error", p.sock)
	}
	if !strings.Contains(string(out), p.sock) {
		t.Errorf("error does not name the path: %s", out)
	}

	stale := filepath.Join(sharedDir(t), "stale.socket")
	fd, _ := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	unix.Bind(fd, &unix.SockaddrUnix{Name: stale})
	unix.Close(fd) // leaves the file, nobody listening
	q := exec.Command(filepath.Join(dir, "passt"), "-f", "-s", stale)
	var qout syncBuffer
	q.Stdout, q.Stderr = &qout, &qout
	if err := q.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { q.Process.Signal(syscall.SIGTERM); q.Wait() }()
	nstest.WaitFor(t, 5*time.Second, func() bool {
		c, err := net.Dial("unix", stale)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, "passt to take over the stale socket")
}
