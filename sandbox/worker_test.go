// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package sandbox

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// These tests start the test worker (internal/testworker) and look at it
// from outside, through /proc and its wait status.

func TestWorkerConfined(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name     string
		cred     *Identity
		uid, gid uint32
	}{
		{name: "root monitor, same user", cred: nil, uid: 0, gid: 0},
		{name: "root monitor, worker as nobody", cred: &Identity{UID: 65534, GID: 65534}, uid: 65534, gid: 65534},
	}
	// The worker inherits the raised limit (and its own runtime, seeing
	// soft = hard, leaves it alone). Start from a low soft limit, which the
	// worker's runtime alone would raise only to hard-1.
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig) })
	low := syscall.Rlimit{Cur: orig.Max / 2, Max: orig.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	if _, err := RaiseNoFileLimit(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := startTestWorker(t, tc.cred, nil, "-stress", "100ms")
			w.ready(t)
			checkConfinedFromOutside(t, w.cmd.Process.Pid, true, tc.uid, tc.gid)
			if soft, hard := openFilesLimit(t, w.cmd.Process.Pid); soft != hard {
				t.Errorf("worker's open files limit: got soft %s, hard %s, want equal", soft, hard)
			}

			// The monitor's other threads keep their capabilities.
			// (The test goroutine never runs on a spawning thread: those
			// stay locked to their goroutine until they end.)
			if caps := lockedThreadCaps(t); caps.Effective == 0 {
				t.Errorf("test thread lost its capabilities: %+v", caps)
			}
			if _, err := w.ipc.Write([]byte("exit")); err != nil {
				t.Fatal(err)
			}
			if ws := w.wait(t); !ws.Exited() || ws.ExitStatus() != 0 {
				t.Errorf("got %s, want exit status 0; stderr: %s", DescribeExit(w.cmd.Process.Pid, ws), w.stderrText())
			}
		})
	}
}

// openFilesLimit returns the soft and hard "Max open files" of pid.
func openFilesLimit(t *testing.T, pid int) (soft, hard string) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			f := strings.Fields(rest)
			if len(f) >= 2 {
				return f[0], f[1]
			}
		}
	}
	t.Fatalf("no open files limit in /proc/%d/limits", pid)
	return "", ""
}

// lockedThreadCaps returns the capabilities of the thread running the
// test goroutine.
func lockedThreadCaps(t *testing.T) CapSets {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	caps, err := ThreadCaps()
	if err != nil {
		t.Fatal(err)
	}
	return caps
}

// TestWorkerConfinedUnprivileged runs the monitor side as uid 65534
// without capabilities; the test (root) inspects the worker it starts.
func TestWorkerConfinedUnprivileged(t *testing.T) {
	requireRoot(t)
	cmd := roleCmd(t, "launch", &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}})
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr stderrBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := newLineReader(stdout)
	l, err := lines.next(20 * time.Second)
	if err != nil {
		skipIfNoUserNS(t, stderr.String())
		t.Fatalf("child: %v; stderr: %s", err, stderr.String())
	}
	pid, err := pidFromLine(l)
	if err != nil {
		t.Fatal(err)
	}
	checkConfinedFromOutside(t, pid, true, 65534, 65534)

	fmt.Fprintln(stdin, "exit")
	l, err = lines.next(20 * time.Second)
	if err != nil {
		t.Fatalf("child: %v; stderr: %s", err, stderr.String())
	}
	if want := "worker exited with status 0"; l != want {
		t.Errorf("got %q, want %q", l, want)
	}
}

// TestWorkerDiesWithMonitor checks the parent-death signal: the worker
// survives its monitor's thread churn, and dies with the monitor. The
// worker's fd 3 is connected to the test, not to the monitor, so the
// monitor's death is not visible to it as end of file: only the signal
// can end it.
func TestWorkerDiesWithMonitor(t *testing.T) {
	requireRoot(t)
	ours, theirs := seqpacketPair(t)
	defer ours.Close()
	cmd := roleCmd(t, "launch", nil)
	cmd.Env = append(cmd.Env, ipcEnv+"=1")
	cmd.ExtraFiles = []*os.File{theirs}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr stderrBuffer
	cmd.Stderr = &stderr
	err = cmd.Start()
	theirs.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := newLineReader(stdout)
	l, err := lines.next(20 * time.Second)
	if err != nil {
		t.Fatalf("child: %v; stderr: %s", err, stderr.String())
	}
	pid, err := pidFromLine(l)
	if err != nil {
		t.Fatal(err)
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatalf("pidfd_open: %v", err)
	}
	defer unix.Close(pidfd)
	t.Cleanup(func() { unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0) })
	w := &worker{ipc: ours}
	msg, err := w.recv(20 * time.Second)
	skipIfNoUserNS(t, string(msg))
	if err != nil || string(msg) != "ready" {
		t.Fatalf("got %q, %v, want \"ready\"; stderr: %s", msg, err, stderr.String())
	}

	fmt.Fprintln(stdin, "churn")
	if l, err := lines.next(20 * time.Second); err != nil || l != "churned" {
		t.Fatalf("got %q, %v, want \"churned\"; stderr: %s", l, err, stderr.String())
	}
	if exited(t, pidfd, 0) {
		t.Fatal("worker died while its monitor churned threads")
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if !exited(t, pidfd, 10*time.Second) {
		t.Fatal("worker still running 10s after its monitor was killed")
	}
}

// exited reports whether the process behind pidfd exits within d.
func exited(t *testing.T, pidfd int, d time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(time.Until(deadline)/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		return n > 0
	}
}

func TestForbiddenSyscallKills(t *testing.T) {
	requireRoot(t)
	// Opened before the worker exists, as the monitor does before it
	// gives up root.
	kmsg, kmsgErr := OpenKernelLog()
	if kmsgErr == nil {
		defer kmsg.Close()
	}
	w := startTestWorker(t, nil, nil, "-stress", "10ms")
	w.ready(t)
	if _, err := w.ipc.Write([]byte("forbidden")); err != nil {
		t.Fatal(err)
	}
	ws := w.wait(t)
	if !ws.Signaled() || ws.Signal() != syscall.SIGSYS {
		t.Fatalf("got %s, want death by SIGSYS; stderr: %s", DescribeExit(w.cmd.Process.Pid, ws), w.stderrText())
	}
	got := DescribeExit(w.cmd.Process.Pid, ws)
	want := "worker killed by signal SIGSYS (bad system call): "
	if !strings.HasPrefix(got, want) {
		t.Errorf("got %q, want prefix %q", got, want)
	}
	// Where the kernel log is readable, the audit record names openat.
	if fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err == nil {
		unix.Close(fd)
		named := fmt.Sprintf("system call %d (openat) is not in the seccomp allowlist", unix.SYS_OPENAT)
		if !strings.HasSuffix(got, named) {
			t.Errorf("got %q, want it to end with %q", got, named)
		}
		if kmsgErr != nil {
			t.Fatalf("OpenKernelLog: %v", kmsgErr)
		}
		if got := kmsg.DescribeExit(w.cmd.Process.Pid, ws); !strings.HasSuffix(got, named) {
			t.Errorf("from the kernel log opened before the worker: got %q, want it to end with %q", got, named)
		}
	}
}

func TestDebugFilterTraps(t *testing.T) {
	requireRoot(t)
	w := startTestWorker(t, nil, nil, "-filter", "trap", "-stress", "10ms")
	w.ready(t)
	if _, err := w.ipc.Write([]byte("forbidden")); err != nil {
		t.Fatal(err)
	}
	ws := w.wait(t)
	// The Go runtime turns the trap into a crash report and exit 2.
	if !ws.Exited() || ws.ExitStatus() != 2 {
		t.Errorf("got %s, want exit status 2", DescribeExit(w.cmd.Process.Pid, ws))
	}
	out := w.stderrText()
	for _, want := range []string{"SIGSYS: bad system call", "sandbox.ForbiddenSyscall"} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr does not contain %q:\n%s", want, out)
		}
	}
}

// TestLiveness runs the stress load under the real filter for a few
// seconds; any call missing from the allowlist kills the worker.
func TestLiveness(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name    string
		profile string
	}{
		{name: "passt", profile: "passt"},
		{name: "pasta", profile: "pasta"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			procNet, err := os.Open("/proc/net/tcp")
			if err != nil {
				t.Fatal(err)
			}
			defer procNet.Close()
			w := startTestWorker(t, nil, []*os.File{procNet},
				"-profile", tc.profile, "-stress", "2s", "-liveness", "-procnet-fd", "4")
			ws := w.wait(t)
			if !ws.Exited() || ws.ExitStatus() != 0 {
				t.Errorf("got %s, want exit status 0; stderr: %s", DescribeExit(w.cmd.Process.Pid, ws), w.stderrText())
			}
		})
	}
}

// probeCall is a system call the probe worker makes for the test.
type probeCall struct {
	nr   uintptr
	args [6]uint64
}

// TestFilterArguments loads each profile with a recognisable errno instead
// of the kill and checks, call by call, what the kernel lets through: the
// argument conditions as the kernel runs them, not as we wrote them.
func TestFilterArguments(t *testing.T) {
	requireRoot(t)
	const (
		allowed = iota
		denied
		enosys
	)
	neg := func(v int) uint64 { return uint64(int64(v)) }
	self := func(w *worker) uint64 { return uint64(w.cmd.Process.Pid) }
	tests := []struct {
		name  string
		call  func(w *worker) probeCall
		passt int
		pasta int
	}{
		{name: "TCP/IPv4 socket", passt: allowed, pasta: allowed, call: fixed(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)},
		{name: "TCP/IPv6 socket", passt: allowed, pasta: allowed, call: fixed(unix.SYS_SOCKET, unix.AF_INET6, unix.SOCK_STREAM, unix.IPPROTO_TCP)},
		{name: "UDP/IPv6 socket", passt: allowed, pasta: allowed, call: fixed(unix.SYS_SOCKET, unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)},
		{name: "ICMP ping socket", passt: allowed, pasta: allowed, call: fixed(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)},
		{name: "ICMPv6 ping socket", passt: allowed, pasta: allowed, call: fixed(unix.SYS_SOCKET, unix.AF_INET6, unix.SOCK_DGRAM, unix.IPPROTO_ICMPV6)},
		{name: "upper half of an int argument is ignored", passt: allowed, pasta: allowed, call: fixed(unix.SYS_SOCKET, 1<<32|unix.AF_INET, unix.SOCK_DGRAM, 0)},
		{name: "unix stream socket", passt: denied, pasta: denied, call: fixed(unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_STREAM, 0)},
		{name: "unix datagram socket", passt: denied, pasta: denied, call: fixed(unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)},
		{name: "netlink socket", passt: denied, pasta: denied, call: fixed(unix.SYS_SOCKET, unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE)},
		{name: "packet socket", passt: denied, pasta: denied, call: fixed(unix.SYS_SOCKET, unix.AF_PACKET, unix.SOCK_RAW, 0)},
		{name: "raw ICMP socket", passt: denied, pasta: denied, call: fixed(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)},
		{name: "stream socket with UDP", passt: denied, pasta: denied, call: fixed(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_UDP)},
		{name: "ICMPv6 on IPv4", passt: denied, pasta: denied, call: fixed(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMPV6)},
		{name: "socket type with an unknown flag", passt: denied, pasta: denied, call: fixed(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_DGRAM|0x10, 0)},
		{name: "socketpair", passt: denied, pasta: denied, call: fixed(unix.SYS_SOCKETPAIR, unix.AF_UNIX, unix.SOCK_STREAM, 0, 0)},
		{name: "ioctl SIOCOUTQ", passt: allowed, pasta: allowed, call: fixed(unix.SYS_IOCTL, neg(-1), unix.SIOCOUTQ, 0)},
		{name: "ioctl SIOCINQ", passt: allowed, pasta: allowed, call: fixed(unix.SYS_IOCTL, neg(-1), unix.SIOCINQ, 0)},
		{name: "ioctl TIOCSTI", passt: denied, pasta: denied, call: fixed(unix.SYS_IOCTL, neg(-1), unix.TIOCSTI, 0)},
		{name: "ioctl FIONBIO", passt: denied, pasta: denied, call: fixed(unix.SYS_IOCTL, neg(-1), 0x5421 /* FIONBIO */, 0)},
		{name: "fcntl F_GETFL", passt: allowed, pasta: allowed, call: fixed(unix.SYS_FCNTL, neg(-1), unix.F_GETFL, 0)},
		{name: "fcntl F_SETFL", passt: allowed, pasta: allowed, call: fixed(unix.SYS_FCNTL, neg(-1), unix.F_SETFL, 0)},
		{name: "fcntl F_DUPFD", passt: denied, pasta: denied, call: fixed(unix.SYS_FCNTL, neg(-1), unix.F_DUPFD, 0)},
		{name: "fcntl F_SETOWN", passt: denied, pasta: denied, call: fixed(unix.SYS_FCNTL, neg(-1), unix.F_SETOWN, 0)},
		{name: "fcntl F_SETPIPE_SZ", passt: denied, pasta: allowed, call: fixed(unix.SYS_FCNTL, neg(-1), unix.F_SETPIPE_SZ, 4096)},
		{name: "splice", passt: denied, pasta: allowed, call: fixed(unix.SYS_SPLICE, neg(-1), 0, neg(-1), 0, 1, 0)},
		{name: "pipe2", passt: denied, pasta: allowed, call: fixed(unix.SYS_PIPE2, 0, 0)},
		{name: "clone with namespace flags", passt: denied, pasta: denied, call: fixed(unix.SYS_CLONE, unix.CLONE_NEWUSER|unix.CLONE_FS, 0, 0, 0, 0)},
		{name: "clone3 answers ENOSYS", passt: enosys, pasta: enosys, call: fixed(unix.SYS_CLONE3, 0, 0)},
		{name: "tgkill to itself", passt: allowed, pasta: allowed, call: func(w *worker) probeCall {
			return probeCall{nr: unix.SYS_TGKILL, args: [6]uint64{self(w), self(w), 0}}
		}},
		{name: "tgkill to another process", passt: denied, pasta: denied, call: fixed(unix.SYS_TGKILL, 1, 1, 0)},
		{name: "kill of itself", passt: allowed, pasta: allowed, call: func(w *worker) probeCall {
			return probeCall{nr: unix.SYS_KILL, args: [6]uint64{self(w), 0}}
		}},
		{name: "kill of another process", passt: denied, pasta: denied, call: fixed(unix.SYS_KILL, 1, 0)},
		{name: "futex wake", passt: allowed, pasta: allowed, call: fixed(unix.SYS_FUTEX, 0, futexWake|futexPrivateFlag, 1)},
		{name: "futex timed wait", passt: allowed, pasta: allowed, call: fixed(unix.SYS_FUTEX, 0, futexWaitBitset|futexPrivateFlag|futexClockRealtime, 1)},
		{name: "futex lock PI", passt: denied, pasta: denied, call: fixed(unix.SYS_FUTEX, 0, 6 /* FUTEX_LOCK_PI */, 0)},
		{name: "futex requeue", passt: denied, pasta: denied, call: fixed(unix.SYS_FUTEX, 0, 4 /* FUTEX_CMP_REQUEUE */, 0)},
		{name: "mmap readable", passt: allowed, pasta: allowed, call: fixed(unix.SYS_MMAP, 0, 4096, unix.PROT_READ, 0, neg(-1), 0)},
		{name: "mmap executable", passt: denied, pasta: denied, call: fixed(unix.SYS_MMAP, 0, 4096, unix.PROT_READ|unix.PROT_EXEC, 0, neg(-1), 0)},
		{name: "mprotect executable", passt: denied, pasta: denied, call: fixed(unix.SYS_MPROTECT, 0, 4096, unix.PROT_READ|unix.PROT_EXEC)},
		{name: "getrandom", passt: allowed, pasta: allowed, call: fixed(unix.SYS_GETRANDOM, 0, 0, 0)},
		{name: "openat", passt: denied, pasta: denied, call: fixed(unix.SYS_OPENAT, neg(unix.AT_FDCWD), 0, 0)},
		{name: "execve", passt: denied, pasta: denied, call: fixed(unix.SYS_EXECVE, 0, 0, 0)},
		{name: "ptrace", passt: denied, pasta: denied, call: fixed(unix.SYS_PTRACE, neg(-1), 0, 0, 0)},
		{name: "mount", passt: denied, pasta: denied, call: fixed(unix.SYS_MOUNT, 0, 0, 0, 0, 0)},
		{name: "unshare", passt: denied, pasta: denied, call: fixed(unix.SYS_UNSHARE, 0)},
		{name: "setns", passt: denied, pasta: denied, call: fixed(unix.SYS_SETNS, neg(-1), 0)},
		{name: "prctl", passt: denied, pasta: denied, call: fixed(unix.SYS_PRCTL, unix.PR_GET_DUMPABLE)},
		{name: "epoll_create1", passt: denied, pasta: denied, call: fixed(unix.SYS_EPOLL_CREATE1, 0)},
		{name: "memfd_create", passt: denied, pasta: denied, call: fixed(unix.SYS_MEMFD_CREATE, 0, 0)},
		{name: "bpf", passt: denied, pasta: denied, call: fixed(unix.SYS_BPF, 0, 0, 0)},
	}
	for _, profile := range []string{"passt", "pasta"} {
		t.Run(profile, func(t *testing.T) {
			w := startTestWorker(t, nil, nil, "-filter", "probe", "-profile", profile)
			for _, tc := range tests {
				want := tc.passt
				if profile == "pasta" {
					want = tc.pasta
				}
				call := tc.call(w)
				errno, err := w.probe(call)
				if err != nil {
					w.ipc.Close()
					t.Fatalf("%s: %v; %s; stderr: %s", tc.name, err, DescribeExit(w.cmd.Process.Pid, w.wait(t)), w.stderrText())
				}
				var ok bool
				switch want {
				case allowed:
					ok = errno != probeErrno
				case denied:
					ok = errno == probeErrno
				case enosys:
					ok = errno == unix.ENOSYS
				}
				if !ok {
					t.Errorf("%s: got errno %d (%v), want %s", tc.name, int(errno), errno, []string{"allowed", "denied", "ENOSYS"}[want])
				}
			}
		})
	}
}

// probeErrno mirrors ProbeErrno, which exists only with the testhooks tag.
const probeErrno = unix.ENOTRECOVERABLE

// fixed returns a probe of syscall nr with fixed arguments.
func fixed(nr uintptr, args ...uint64) func(*worker) probeCall {
	return func(*worker) probeCall {
		c := probeCall{nr: nr}
		copy(c.args[:], args)
		return c
	}
}

// probe has the worker make one system call and returns its errno.
func (w *worker) probe(c probeCall) (unix.Errno, error) {
	var req [7 * 8]byte
	binary.LittleEndian.PutUint64(req[:], uint64(c.nr))
	for i, a := range c.args {
		binary.LittleEndian.PutUint64(req[(i+1)*8:], a)
	}
	if _, err := w.ipc.Write(req[:]); err != nil {
		return 0, err
	}
	rep, err := w.recv(10 * time.Second)
	if err != nil {
		return 0, err
	}
	if len(rep) != 8 {
		return 0, fmt.Errorf("reply of %d bytes", len(rep))
	}
	return unix.Errno(binary.LittleEndian.Uint64(rep)), nil
}

// TestConfinedNeedsMarker runs the worker binary directly, without
// StartWorker and so without the marker: the constructor does nothing and
// Confined says so.
func TestConfinedNeedsMarker(t *testing.T) {
	requireRoot(t)
	w := startDirect(t, []string{"LANG=C"})
	msg, err := w.recv(20 * time.Second)
	if err != nil {
		t.Fatalf("no report from the worker: %v", err)
	}
	if want := "unconfined: worker not confined: the nsinit constructor found no " + markerEnv + "=1 in the environment"; string(msg) != want {
		t.Errorf("got %q, want %q", msg, want)
	}
}

// TestConfinementFailure makes one constructor step fail (testhooks) in a
// worker started by root without StartWorker, and checks that Confined
// names the step, and what the constructor still took away.
func TestConfinementFailure(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name     string
		step     string // as in stepNames, and in the error
		capsGone bool   // effective and permitted empty
		nnp      string
	}{
		{name: "unshare", step: "unshare of the user, mount, IPC and UTS namespaces", capsGone: true, nnp: "1"},
		{name: "mount", step: "mounting the empty tmpfs", capsGone: true, nnp: "1"},
		{name: "pivot_root", step: "pivot_root", capsGone: true, nnp: "1"},
		{name: "capset", step: "emptying the capability sets", capsGone: false, nnp: "1"},
		{name: "no_new_privs", step: "setting no_new_privs", capsGone: true, nnp: "0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			step := -1
			for i, n := range stepNames {
				if n == tc.step {
					step = i
				}
			}
			if step < 0 {
				t.Fatalf("no step named %q", tc.step)
			}
			w := startDirect(t, []string{markerEnv + "=1", failAtEnv + "=" + strconv.Itoa(step)})
			msg, err := w.recv(20 * time.Second)
			if err != nil {
				t.Fatalf("no report from the worker: %v", err)
			}
			if want := "unconfined: worker not confined: " + tc.step + ": operation not permitted"; string(msg) != want {
				t.Errorf("got %q, want %q", msg, want)
			}
			zero := "0000000000000000"
			for tid, st := range threadStatuses(t, w.cmd.Process.Pid) {
				for _, k := range []string{"CapBnd", "CapAmb", "CapInh"} {
					if st[k] != zero {
						t.Errorf("thread %s: %s: got %s, want 0", tid, k, st[k])
					}
				}
				for _, k := range []string{"CapEff", "CapPrm"} {
					if got := st[k] == zero; got != tc.capsGone {
						t.Errorf("thread %s: %s is %s: empty %v, want %v", tid, k, st[k], got, tc.capsGone)
					}
				}
				if st["NoNewPrivs"] != tc.nnp {
					t.Errorf("thread %s: NoNewPrivs: got %s, want %s", tid, st["NoNewPrivs"], tc.nnp)
				}
			}
			w.ipc.Close()
			if ws := w.wait(t); !ws.Exited() || ws.ExitStatus() != 3 {
				t.Errorf("got %s, want exit status 3", DescribeExit(w.cmd.Process.Pid, ws))
			}
		})
	}
}

// startDirect starts the worker binary with os/exec alone, without
// StartWorker: nothing is dropped on the monitor side, and env is the
// whole environment (so the marker is there only if env has it).
func startDirect(t *testing.T, env []string) *worker {
	t.Helper()
	bin, _ := testBinaries(t)
	ours, theirs := seqpacketPair(t)
	stderr, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = env
	cmd.ExtraFiles = []*os.File{theirs}
	cmd.Stderr = stderr
	err = cmd.Start()
	theirs.Close()
	if err != nil {
		t.Fatal(err)
	}
	w := &worker{cmd: cmd, ipc: ours, stderr: stderr}
	t.Cleanup(func() {
		if !w.done {
			w.cmd.Process.Kill()
			w.cmd.Wait()
		}
		w.ipc.Close()
		stderr.Close()
	})
	return w
}
