// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package nstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// DefaultTimeout bounds Run and RunErr, and the wait for a process Start
// stops at clean-up.
const DefaultTimeout = 30 * time.Second

// inCI reports whether the environment declares a CI run, where missing
// privileges or tools are failures rather than reasons to skip.
func inCI() bool {
	return os.Getenv("CI") == "true"
}

// NeedRoot skips the test unless it runs as root; with CI=true it fails
// instead, since CI runs as root and must run these tests.
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if inCI() {
		t.Fatal("needs root (network namespaces, tap devices), and CI=true: not skipping")
	}
	t.Skip("needs root (network namespaces, tap devices)")
}

// NeedTool skips the test unless the program name is in PATH; with CI=true
// it fails instead.
func NeedTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err == nil {
		return
	}
	if inCI() {
		t.Fatalf("needs %s in PATH, and CI=true: not skipping", name)
	}
	t.Skipf("needs %s in PATH", name)
}

// WaitFor polls cond until it returns true, and fails the test if timeout
// passes first, naming what it waited for. Polling starts at 1 ms and backs
// off to 50 ms. cond must not block for long.
func WaitFor(t testing.TB, timeout time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	interval := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(interval)
		interval = min(2*interval, 50*time.Millisecond)
	}
}

// Command returns a command that runs argv inside ns through ip netns exec
// (so with the namespace's own /etc/resolv.conf and /sys), or directly
// when ns is nil. ip netns exec execs argv in place, so the command's PID
// is argv's.
func Command(ns *NS, argv ...string) *exec.Cmd {
	if ns != nil {
		argv = append([]string{"ip", "netns", "exec", ns.Name}, argv...)
	}
	return exec.Command(argv[0], argv[1:]...)
}

// Run runs argv inside ns, bounded by DefaultTimeout, and returns its
// standard output and error combined. The test fails if the command cannot
// start, exits non-zero or times out.
func Run(t testing.TB, ns *NS, argv ...string) string {
	t.Helper()
	out, err := RunErr(t, ns, argv...)
	if err != nil {
		t.Fatalf("%v in %s: %v\n%s", argv, ns, err, out)
	}
	return out
}

// RunErr is Run that returns the command's failure instead of failing the
// test.
func RunErr(t testing.TB, ns *NS, argv ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	cmd := Command(ns, argv...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = time.Second
	if err := spawn(cmd); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		return out.String(), fmt.Errorf("timed out after %v", DefaultTimeout)
	}
}

// Proc is a background process started by Start or StartCmd.
type Proc struct {
	Cmd  *exec.Cmd
	out  syncBuffer
	done chan struct{}
	err  error // valid once done is closed
}

// Start runs argv inside ns in the background, capturing standard output
// and error together. At clean-up the process, if still running, gets
// SIGTERM and then, after a grace period, SIGKILL; its output is logged if
// the test failed.
func Start(t testing.TB, ns *NS, argv ...string) *Proc {
	t.Helper()
	return StartCmd(t, Command(ns, argv...))
}

// StartCmd is Start for a prepared command (from Command, with ExtraFiles
// or Env set). It sets Stdout and Stderr if they are nil, and Pdeathsig
// (SIGKILL), so that a test binary that dies leaves nothing running: the
// fork happens on a thread kept for that purpose, which lives as long as
// the test binary.
func StartCmd(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	p := &Proc{Cmd: cmd, done: make(chan struct{})}
	if cmd.Stdout == nil {
		cmd.Stdout = &p.out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &p.out
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	cmd.WaitDelay = time.Second
	if err := spawn(cmd); err != nil {
		t.Fatalf("start %v: %v", cmd.Args, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if err := p.Stop(5 * time.Second); err != nil {
			t.Errorf("stop %v (pid %d): %v", cmd.Args, p.PID(), err)
		}
		if t.Failed() {
			t.Logf("output of %v (pid %d):\n%s", cmd.Args, p.PID(), p.Output())
		}
	})
	return p
}

// PID returns the process ID.
func (p *Proc) PID() int {
	return p.Cmd.Process.Pid
}

// Output returns what the process has written so far (if StartCmd set
// its Stdout and Stderr).
func (p *Proc) Output() string {
	return p.out.String()
}

// Done is closed when the process has exited and its output is complete.
func (p *Proc) Done() <-chan struct{} {
	return p.done
}

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ErrTimeout is returned by Wait when the process outlives the timeout.
var ErrTimeout = errors.New("process still running")

// Wait waits up to timeout for the process to exit and returns its exit
// error (nil for status 0), or ErrTimeout.
func (p *Proc) Wait(timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.done:
		return p.err
	case <-timer.C:
		return ErrTimeout
	}
}

// Signal sends sig to the process (by PID), unless it has exited.
func (p *Proc) Signal(sig os.Signal) error {
	if p.Exited() {
		return nil
	}
	return p.Cmd.Process.Signal(sig)
}

// Stop ends the process if it still runs: SIGTERM, then SIGKILL if it has
// not exited after grace. It returns an error only if the process could
// not be ended; the exit status of a stopped process is not an error.
func (p *Proc) Stop(grace time.Duration) error {
	if p.Exited() {
		return nil
	}
	_ = p.Signal(syscall.SIGTERM)
	if p.Wait(grace) != ErrTimeout {
		return nil
	}
	_ = p.Signal(syscall.SIGKILL)
	if p.Wait(DefaultTimeout) == ErrTimeout {
		return fmt.Errorf("pid %d survived SIGKILL for %v", p.PID(), DefaultTimeout)
	}
	return nil
}

// syncBuffer is a bytes.Buffer safe for a writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// PingArgv returns the command line that sends count echo requests, 0.2 s
// apart, to addr (IPv4 or IPv6) and gives up after deadline seconds:
// iputils ping if installed, else busybox's. Nil if neither is in PATH.
func PingArgv(addr string, count, deadline int) []string {
	args := []string{"-c", strconv.Itoa(count), "-i", "0.2", "-w", strconv.Itoa(deadline), addr}
	if p, err := exec.LookPath("ping"); err == nil {
		return append([]string{p}, args...)
	}
	if p, err := exec.LookPath("busybox"); err == nil {
		return append([]string{p, "ping"}, args...)
	}
	return nil
}

var pingReceived = regexp.MustCompile(`(\d+) (?:packets )?received`)

// Ping sends count echo requests from ns to addr and fails the test unless
// all of them are answered within 10 seconds. It returns ping's output.
func Ping(t testing.TB, ns *NS, addr string, count int) string {
	t.Helper()
	argv := PingArgv(addr, count, 10)
	if argv == nil {
		NeedTool(t, "ping")
	}
	out, err := RunErr(t, ns, argv...)
	got := "no"
	if m := pingReceived.FindStringSubmatch(out); m != nil {
		got = m[1]
	}
	if err != nil || got != strconv.Itoa(count) {
		t.Fatalf("ping %s from %s (%v): got %s replies, want %d\n%s", addr, ns, err, got, count, out)
	}
	return out
}

var (
	spawnOnce sync.Once
	spawnReq  chan spawnRequest
)

type spawnRequest struct {
	cmd  *exec.Cmd
	done chan error
}

// spawn starts cmd from a goroutine locked to its OS thread for the life
// of the process. Pdeathsig fires when the thread that forked the child
// exits, not the process (see PR_SET_PDEATHSIG); a Go thread that ran some
// other goroutine's LockOSThread without unlocking is destroyed, so forking
// from arbitrary threads would kill children at random.
func spawn(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnReq = make(chan spawnRequest)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread stays
			for r := range spawnReq {
				r.done <- r.cmd.Start()
			}
		}()
	})
	done := make(chan error, 1)
	spawnReq <- spawnRequest{cmd: cmd, done: done}
	return <-done
}
