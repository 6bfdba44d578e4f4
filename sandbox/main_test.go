// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The test binary doubles as a child process playing a role (an
// unprivileged monitor, a process that drops its user): TestMain plays the
// role named by this variable instead of running the tests.
const roleEnv = "SANDBOX_TEST_ROLE"

// workerEnv passes the test worker's path to a role process.
const workerEnv = "SANDBOX_TEST_WORKER"

// ipcEnv tells the launch role that its fd 3 is the worker's IPC socket.
const ipcEnv = "SANDBOX_TEST_IPC_FD3"

func TestMain(m *testing.M) {
	if h := os.Getenv(roleEnv); h != "" {
		os.Exit(runRole(h))
	}
	code := m.Run()
	if bins.dir != "" {
		os.RemoveAll(bins.dir)
	}
	os.Exit(code)
}

// bins holds the test worker and a copy of this test binary, both in a
// world-readable directory so that unprivileged children can run them.
var bins struct {
	once   sync.Once
	dir    string
	worker string
	self   string
	err    error
}

// testBinaries builds the test worker (once per run) and returns the
// worker's path and the path of a copy of this test binary.
func testBinaries(t *testing.T) (worker, self string) {
	t.Helper()
	bins.once.Do(func() {
		bins.dir, bins.err = os.MkdirTemp("", "sandbox-test-")
		if bins.err != nil {
			return
		}
		if bins.err = os.Chmod(bins.dir, 0o755); bins.err != nil {
			return
		}
		// go test puts its own toolchain first in PATH.
		goBin, err := exec.LookPath("go")
		if err != nil {
			bins.err = err
			return
		}
		bins.worker = filepath.Join(bins.dir, "testworker")
		cmd := exec.Command(goBin, "build", "-tags", "testhooks", "-o", bins.worker, "passt-go/sandbox/internal/testworker")
		out, err := cmd.CombinedOutput()
		if err != nil {
			bins.err = fmt.Errorf("building the test worker: %v\n%s", err, out)
			return
		}
		bins.self = filepath.Join(bins.dir, "sandbox.test")
		bins.err = copyFile(os.Args[0], bins.self)
	})
	if bins.err != nil {
		t.Fatal(bins.err)
	}
	return bins.worker, bins.self
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// requireRoot skips tests that need root; CI runs them as root.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (switches users, reads other processes' /proc entries)")
	}
}

// seqpacketPair returns a connected AF_UNIX SOCK_SEQPACKET pair: ours is
// non-blocking, so read deadlines work; theirs is for the worker's fd 3.
func seqpacketPair(t *testing.T) (ours, theirs *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		t.Fatalf("non-blocking: %v", err)
	}
	return os.NewFile(uintptr(fds[0]), "ipc"), os.NewFile(uintptr(fds[1]), "ipc-worker")
}

// worker is a running test worker.
type worker struct {
	cmd    *exec.Cmd
	ipc    *os.File
	stderr *os.File
	done   bool
	ws     syscall.WaitStatus
}

// startTestWorker starts the test worker through StartWorker with args,
// an optional credential and extra fds after fd 3. The worker is killed
// and reaped at the end of the test if still running.
func startTestWorker(t *testing.T, cred *Identity, extra []*os.File, args ...string) *worker {
	t.Helper()
	bin, _ := testBinaries(t)
	ours, theirs := seqpacketPair(t)
	stderr, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := StartWorker(WorkerSpec{
		Path:       bin,
		Args:       args,
		Env:        []string{"LANG=C"},
		ExtraFiles: append([]*os.File{theirs}, extra...),
		Credential: cred,
		Stderr:     stderr,
	})
	theirs.Close()
	if err != nil {
		ours.Close()
		stderr.Close()
		t.Fatalf("StartWorker: %v", err)
	}
	w := &worker{cmd: cmd, ipc: ours, stderr: stderr}
	t.Cleanup(func() {
		if !w.done {
			w.cmd.Process.Kill()
			w.cmd.Wait()
		}
		w.ipc.Close()
		w.stderr.Close()
	})
	return w
}

// recv reads one message from the worker, waiting at most d.
func (w *worker) recv(d time.Duration) ([]byte, error) {
	if err := w.ipc.SetReadDeadline(time.Now().Add(d)); err != nil {
		return nil, err
	}
	buf := make([]byte, 512)
	n, err := w.ipc.Read(buf)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// ready waits for the worker's "ready"; on failure it reports the exit.
// If the kernel refuses a new user namespace, the test is skipped.
func (w *worker) ready(t *testing.T) {
	t.Helper()
	msg, err := w.recv(20 * time.Second)
	skipIfNoUserNS(t, string(msg))
	if err != nil || string(msg) != "ready" {
		w.ipc.Close()
		w.wait(t)
		t.Fatalf("worker not ready (%q, %v): %s; stderr: %s", msg, err, DescribeExit(w.cmd.Process.Pid, w.ws), w.stderrText())
	}
}

// skipIfNoUserNS skips the test if out (a worker's report or a role process's
// stderr) says the kernel refused the worker a user namespace.
func skipIfNoUserNS(t *testing.T, out string) {
	t.Helper()
	if strings.Contains(out, "not confined: unshare of the user, mount, IPC and UTS namespaces") {
		t.Skipf("the kernel refuses new user namespaces here: %s", strings.TrimSpace(out))
	}
}

// wait reaps the worker, with a bound on the time it may take.
func (w *worker) wait(t *testing.T) syscall.WaitStatus {
	t.Helper()
	if w.done {
		return w.ws
	}
	timer := time.AfterFunc(20*time.Second, func() { w.cmd.Process.Kill() })
	defer timer.Stop()
	err := w.cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("waiting for the worker: %v", err)
	}
	w.ws = w.cmd.ProcessState.Sys().(syscall.WaitStatus)
	w.done = true
	return w.ws
}

func (w *worker) stderrText() string {
	b, _ := os.ReadFile(w.stderr.Name())
	return strings.TrimSpace(string(b))
}

// procStatus parses the "Key:\tvalue" lines of a /proc status file.
func procStatus(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string)
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m, nil
}

// threadStatuses returns the parsed status of every thread of pid.
func threadStatuses(t *testing.T, pid int) map[string]map[string]string {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/task", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("listing threads: %v", err)
	}
	all := make(map[string]map[string]string)
	for _, e := range entries {
		st, err := procStatus(filepath.Join(dir, e.Name(), "status"))
		if errors.Is(err, os.ErrNotExist) {
			continue // thread exited meanwhile
		}
		if err != nil {
			t.Fatalf("thread %s: %v", e.Name(), err)
		}
		all[e.Name()] = st
	}
	if len(all) == 0 {
		t.Fatalf("no threads in %s", dir)
	}
	return all
}

// checkConfinedFromOutside checks, from /proc, what the worker pid must
// look like: every thread without capabilities, with no_new_privs and a
// seccomp filter (if filtered); own user, mount, IPC and UTS namespaces,
// the host's network namespace; an empty root; uid and gid as given.
func checkConfinedFromOutside(t *testing.T, pid int, filtered bool, uid, gid uint32) {
	t.Helper()
	zero := "0000000000000000"
	want := map[string]string{
		"CapInh": zero, "CapPrm": zero, "CapEff": zero, "CapBnd": zero, "CapAmb": zero,
		"NoNewPrivs": "1",
		"Uid":        fmt.Sprintf("%d\t%d\t%d\t%d", uid, uid, uid, uid),
		"Gid":        fmt.Sprintf("%d\t%d\t%d\t%d", gid, gid, gid, gid),
	}
	if filtered {
		want["Seccomp"] = "2"
	}
	threads := threadStatuses(t, pid)
	for tid, st := range threads {
		for k, v := range want {
			if st[k] != v {
				t.Errorf("thread %s: %s: got %q, want %q", tid, k, st[k], v)
			}
		}
	}
	if len(threads) < 2 {
		t.Errorf("got %d threads, want several (the Go runtime's)", len(threads))
	}
	for _, ns := range []struct {
		name string
		same bool
	}{
		{name: "user", same: false},
		{name: "mnt", same: false},
		{name: "ipc", same: false},
		{name: "uts", same: false},
		{name: "net", same: true},
	} {
		theirs, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns.name))
		if err != nil {
			t.Errorf("namespace %s: %v", ns.name, err)
			continue
		}
		ours, err := os.Readlink("/proc/self/ns/" + ns.name)
		if err != nil {
			t.Fatal(err)
		}
		if (theirs == ours) != ns.same {
			t.Errorf("namespace %s: got worker %s, test %s; want same=%v", ns.name, theirs, ours, ns.same)
		}
	}
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/root", pid))
	if err != nil {
		t.Errorf("reading the worker's root: %v", err)
	} else if len(entries) != 0 {
		t.Errorf("got %d entries in the worker's root (first %s), want 0", len(entries), entries[0].Name())
	}
}

// runRole plays one role inside a re-executed test binary and returns
// its exit code. Role processes talk on stdin/stdout, a line each way.
func runRole(role string) int {
	var err error
	switch role {
	case "launch":
		err = roleLaunch()
	case "dropuser":
		err = roleDropUser()
	case "dropafterstart":
		err = roleDropAfterStart()
	case "hold":
		err = roleHold()
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

// roleLaunch plays the monitor: it starts the worker (with the test
// worker's default arguments) and obeys stdin: "churn" creates and ends
// threads and answers "churned"; "exit" stops the worker and prints
// DescribeExit's line.
//
// By default it makes the IPC socket pair itself and prints "pid N" once
// the worker is ready. With ipcEnv set, the worker's fd 3 is the role process's
// own fd 3, whose peer the test holds: it prints "pid N" at once, and the
// worker outlives the role process's fds.
func roleLaunch() error {
	var ours, theirs *os.File
	if os.Getenv(ipcEnv) != "" {
		theirs = os.NewFile(3, "ipc-worker")
	} else {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		ours, theirs = os.NewFile(uintptr(fds[0]), "ipc"), os.NewFile(uintptr(fds[1]), "ipc-worker")
	}
	cmd, err := StartWorker(WorkerSpec{
		Path:       os.Getenv(workerEnv),
		ExtraFiles: []*os.File{theirs},
		Stderr:     os.Stderr,
	})
	theirs.Close()
	if err != nil {
		return err
	}
	if ours != nil {
		buf := make([]byte, 64)
		n, err := ours.Read(buf)
		if err != nil || string(buf[:n]) != "ready" {
			ours.Close()
			cmd.Wait()
			return fmt.Errorf("worker not ready (%q, %v): %s", buf[:n], err, DescribeExit(cmd.Process.Pid, cmd.ProcessState.Sys().(syscall.WaitStatus)))
		}
	}
	fmt.Printf("pid %d\n", cmd.Process.Pid)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "churn":
			churnThreads(64)
			fmt.Println("churned")
		case "exit":
			if ours != nil {
				ours.Write([]byte("exit"))
			}
			cmd.Wait()
			fmt.Println(DescribeExit(cmd.Process.Pid, cmd.ProcessState.Sys().(syscall.WaitStatus)))
			return nil
		}
	}
	return errors.New("stdin closed")
}

// churnThreads makes the runtime create and destroy OS threads: goroutines
// lock their thread and return without unlocking.
func churnThreads(n int) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			time.Sleep(time.Millisecond)
		}()
	}
	wg.Wait()
	runtime.GC()
}

// roleDropUser starts threads, calls DropToUser(65534, 65534) and checks
// every thread of the process in /proc; it prints "ok N threads".
func roleDropUser() error {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			<-stop
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	if err := DropToUser(65534, 65534); err != nil {
		return err
	}
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, e := range entries {
		st, err := procStatus(filepath.Join("/proc/self/task", e.Name(), "status"))
		if err != nil {
			return err
		}
		for k, v := range map[string]string{
			"Uid":    "65534\t65534\t65534\t65534",
			"Gid":    "65534\t65534\t65534\t65534",
			"Groups": "",
			"CapEff": "0000000000000000",
			"CapPrm": "0000000000000000",
		} {
			if st[k] != v {
				return fmt.Errorf("thread %s: %s: got %q, want %q", e.Name(), k, st[k], v)
			}
		}
	}
	fmt.Printf("ok %d threads\n", len(entries))
	return nil
}

// roleDropAfterStart starts a worker, then expects DropToUser to refuse
// and the process to stay root; it prints the error.
func roleDropAfterStart() error {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "ipc"), os.NewFile(uintptr(fds[1]), "ipc-worker")
	cmd, err := StartWorker(WorkerSpec{Path: os.Getenv(workerEnv), ExtraFiles: []*os.File{theirs}})
	theirs.Close()
	if err != nil {
		return err
	}
	defer func() {
		ours.Close()
		cmd.Wait()
	}()
	err = DropToUser(65534, 65534)
	if err == nil {
		return errors.New("DropToUser succeeded after StartWorker")
	}
	if os.Getuid() != 0 || os.Geteuid() != 0 {
		return fmt.Errorf("uid changed to %d/%d although DropToUser failed", os.Getuid(), os.Geteuid())
	}
	fmt.Println(err)
	return nil
}

// roleHold is a stand-in worker without the nsinit constructor: it says
// "held" on fd 3 and waits there for end of file.
func roleHold() error {
	if _, err := unix.Write(3, []byte("held")); err != nil {
		return err
	}
	buf := make([]byte, 16)
	for {
		n, err := unix.Read(3, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return err
		}
	}
}

// roleCmd prepares the copy of this test binary to play a role.
func roleCmd(t *testing.T, role string, cred *syscall.Credential) *exec.Cmd {
	t.Helper()
	workerBin, self := testBinaries(t)
	cmd := exec.Command(self)
	cmd.Env = []string{roleEnv + "=" + role, workerEnv + "=" + workerBin, "PATH=/usr/bin:/bin"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	// A worker that outlives the role process must not hold Wait up forever
	// through that process's stderr, which it shares.
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// lineReader reads lines from a role process with a deadline.
type lineReader struct {
	lines chan string
}

func newLineReader(r io.Reader) *lineReader {
	lr := &lineReader{lines: make(chan string, 16)}
	go func() {
		s := bufio.NewScanner(r)
		for s.Scan() {
			lr.lines <- s.Text()
		}
		close(lr.lines)
	}()
	return lr
}

func (lr *lineReader) next(d time.Duration) (string, error) {
	select {
	case l, ok := <-lr.lines:
		if !ok {
			return "", io.EOF
		}
		return l, nil
	case <-time.After(d):
		return "", errors.New("timed out")
	}
}

// pidFromLine parses "pid N".
func pidFromLine(l string) (int, error) {
	s, ok := strings.CutPrefix(l, "pid ")
	if !ok {
		return 0, fmt.Errorf("got %q, want \"pid N\"", l)
	}
	return strconv.Atoi(s)
}

// stderrBuffer collects a role process's stderr for failure messages.
type stderrBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *stderrBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *stderrBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
