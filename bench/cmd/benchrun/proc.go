// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat.
// Linux fixes it at 100 on every architecture Go supports.
const clockTicks = 100

// proc is a process the harness started. Each one leads its own process
// group, so that stopping it reaches whatever it forked.
type proc struct {
	name    string
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
	stdout  string // file the standard output goes to
	stderr  string // file the standard error goes to
}

// alive reports whether the process has not been reaped yet.
func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// exitStatus describes how the process ended, or "running".
func (p *proc) exitStatus() string {
	if p.alive() {
		return "running"
	}
	if p.cmd.ProcessState != nil {
		return p.cmd.ProcessState.String()
	}
	if p.waitErr != nil {
		return p.waitErr.Error()
	}
	return "exited"
}

// errTail returns the last non-empty lines of the process's standard
// error, joined by "; ", for messages.
func (p *proc) errTail(lines int) string {
	return fileTail(p.stderr, lines)
}

// fileTail returns the last lines of a text file that say something,
// leaving out the noise of daemons that cannot reach syslog.
func fileTail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var keep []string
	for i, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if i == 0 && strings.HasPrefix(l, "# ") {
			continue // the command line, written by start
		}
		if l == "" || strings.HasPrefix(l, "Failed to send") && strings.HasSuffix(l, "to syslog") {
			continue
		}
		keep = append(keep, l)
	}
	if len(keep) > lines {
		keep = keep[len(keep)-lines:]
	}
	s := strings.Join(keep, "; ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// procs starts and tracks processes. Every process it starts is recorded,
// by PID, in pidFile, so that a wrapper can still end them if the harness
// itself is killed; stopAll ends those still running.
type procs struct {
	mu      sync.Mutex
	live    map[*proc]bool
	pidFile string
	log     func(format string, args ...any)
}

func newProcs(pidFile string, log func(string, ...any)) *procs {
	return &procs{live: map[*proc]bool{}, pidFile: pidFile, log: log}
}

// start runs argv in the background with its output in logBase.out and
// logBase.err. extra, if not nil, become descriptors 3, 4, ... of the child.
func (ps *procs) start(name, logBase string, extra []*os.File, argv ...string) (*proc, error) {
	if err := os.MkdirAll(filepath.Dir(logBase), 0o755); err != nil {
		return nil, err
	}
	out, err := os.Create(logBase + ".out")
	if err != nil {
		return nil, err
	}
	defer out.Close()
	errf, err := os.Create(logBase + ".err")
	if err != nil {
		return nil, err
	}
	defer errf.Close()
	fmt.Fprintf(errf, "# %s\n", strings.Join(argv, " "))

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = out
	cmd.Stderr = errf
	cmd.ExtraFiles = extra
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), stdout: logBase + ".out", stderr: logBase + ".err"}
	ps.mu.Lock()
	ps.live[p] = true
	if f, err := os.OpenFile(ps.pidFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
		fmt.Fprintf(f, "%d\n", cmd.Process.Pid)
		f.Close()
	}
	ps.mu.Unlock()
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
		ps.mu.Lock()
		delete(ps.live, p)
		ps.mu.Unlock()
	}()
	return p, nil
}

// run starts argv and waits for it for at most timeout; on timeout or
// cancellation the process and its descendants are killed. It returns the
// standard output.
func (ps *procs) run(ctx context.Context, timeout time.Duration, name, logBase string, argv ...string) ([]byte, error) {
	p, err := ps.start(name, logBase, nil, argv...)
	if err != nil {
		return nil, err
	}
	if err := p.wait(ctx, timeout); err != nil {
		return nil, err
	}
	out, _ := os.ReadFile(p.stdout)
	if !p.cmd.ProcessState.Success() {
		msg := p.errTail(3)
		if msg == "" {
			msg = strings.TrimSpace(string(lastBytes(out, 200)))
		}
		return out, fmt.Errorf("%s: %s: %s", name, p.cmd.ProcessState, msg)
	}
	return out, nil
}

// wait waits for the process to end, for at most timeout, and kills it
// with its descendants if it has not.
func (p *proc) wait(ctx context.Context, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		p.stop(0)
		return fmt.Errorf("%s: %w", p.name, ctx.Err())
	case <-t.C:
		p.stop(0)
		return fmt.Errorf("%s: no exit after %v, killed", p.name, timeout)
	}
}

// stop ends the process: SIGTERM, then after grace SIGKILL to it, its
// process group and every descendant found in /proc. It waits, bounded,
// for the process to be reaped.
func (p *proc) stop(grace time.Duration) {
	if !p.alive() {
		return
	}
	pid := p.cmd.Process.Pid
	if grace > 0 {
		_ = unix.Kill(pid, unix.SIGTERM)
		t := time.NewTimer(grace)
		select {
		case <-p.done:
		case <-t.C:
		}
		t.Stop()
	}
	// Descendants first, while their parent still holds them together.
	for _, d := range descendants(pid) {
		_ = unix.Kill(d, unix.SIGKILL)
	}
	_ = unix.Kill(-pid, unix.SIGKILL)
	_ = unix.Kill(pid, unix.SIGKILL)
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
	}
}

// stopAll stops every process still running.
func (ps *procs) stopAll() {
	ps.mu.Lock()
	var list []*proc
	for p := range ps.live {
		list = append(list, p)
	}
	ps.mu.Unlock()
	for _, p := range list {
		p.stop(time.Second)
	}
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// procStat is what the harness needs from /proc/PID/stat.
type procStat struct {
	ppid  int
	ticks uint64 // utime + stime + cutime + cstime
}

// readStat parses /proc/PID/stat. The command name may hold spaces and
// parentheses, so fields are counted from the last ')'.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseStat(b)
}

func parseStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, errors.New("stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): ppid is field 4, utime..cstime 14..17.
	if len(f) < 15 {
		return procStat{}, errors.New("stat: short")
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return procStat{}, err
	}
	var s procStat
	s.ppid = ppid
	for _, k := range f[11:15] {
		v, err := strconv.ParseUint(k, 10, 64)
		if err != nil {
			return procStat{}, err
		}
		s.ticks += v
	}
	return s, nil
}

// descendants lists the live descendants of pid, found by their parent
// PIDs in /proc.
func descendants(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		s, err := readStat(n)
		if err != nil {
			continue
		}
		children[s.ppid] = append(children[s.ppid], n)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 && len(out) < 100000 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// tree is pid and its descendants.
func tree(pid int) []int {
	return append([]int{pid}, descendants(pid)...)
}

// cpuSeconds sums the CPU time (user and system, all threads, reaped
// children included) of pid and its live descendants.
func cpuSeconds(pid int) (float64, error) {
	var ticks uint64
	for i, p := range tree(pid) {
		s, err := readStat(p)
		if err != nil {
			if i == 0 {
				return 0, err
			}
			continue // a descendant that just ended
		}
		ticks += s.ticks
	}
	return float64(ticks) / clockTicks, nil
}

// rssKiB sums the proportional set size (Pss in smaps_rollup) over pid
// and its live descendants: a page several of them map, such as the text
// of one binary run as two processes, counts once in the sum, as it
// takes memory once. Without smaps_rollup it sums VmRSS.
func rssKiB(pid int) (int64, error) {
	var sum int64
	for i, p := range tree(pid) {
		v, err := procField(p, "smaps_rollup", "Pss:")
		if err != nil {
			v, err = procField(p, "status", "VmRSS:")
		}
		if err != nil {
			if i == 0 {
				return 0, err
			}
			continue
		}
		sum += v
	}
	return sum, nil
}

// procField returns the number after key in /proc/PID/file (kB for the
// memory fields).
func procField(pid int, file, key string) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/" + file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if rest, ok := strings.CutPrefix(l, key); ok {
			fs := strings.Fields(rest)
			if len(fs) == 0 {
				break
			}
			return strconv.ParseInt(fs[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("pid %d: no %s in %s", pid, key, file)
}

// listening reports whether a TCP socket listens on port in the network
// namespace of pid.
func listening(pid, port int) bool {
	for _, f := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/net/" + f)
		if err == nil && tcpTableListens(b, port) {
			return true
		}
	}
	return false
}

// tcpTableListens looks for a socket in state LISTEN (0A) on port in the
// text of /proc/net/tcp or tcp6.
func tcpTableListens(table []byte, port int) bool {
	want := fmt.Sprintf(":%04X", port)
	for _, l := range strings.Split(string(table), "\n") {
		f := strings.Fields(l)
		if len(f) < 4 || f[3] != "0A" {
			continue
		}
		if strings.HasSuffix(f[1], want) {
			return true
		}
	}
	return false
}

// affinity remembers the CPU masks of a set of threads so they can be put
// back after pinning.
type affinity map[int]unix.CPUSet

// pin moves every thread of every process in pids to cpu, returning the
// masks they had.
func pin(pids []int, cpu int) (affinity, error) {
	saved := affinity{}
	var one unix.CPUSet
	one.Set(cpu)
	for _, pid := range pids {
		for _, p := range tree(pid) {
			tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", p))
			if err != nil {
				continue
			}
			for _, t := range tasks {
				tid, err := strconv.Atoi(t.Name())
				if err != nil {
					continue
				}
				var old unix.CPUSet
				if err := unix.SchedGetaffinity(tid, &old); err != nil {
					continue
				}
				if err := unix.SchedSetaffinity(tid, &one); err != nil {
					saved.restore()
					return nil, fmt.Errorf("pin thread %d: %w", tid, err)
				}
				saved[tid] = old
			}
		}
	}
	return saved, nil
}

// restore puts the saved masks back, ignoring threads that have ended.
func (a affinity) restore() {
	for tid, set := range a {
		s := set
		_ = unix.SchedSetaffinity(tid, &s)
	}
}

// waitFor polls cond every interval until it is true, for at most
// timeout. It returns cond's last error, or a timeout error.
func waitFor(ctx context.Context, timeout, interval time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	var last error
	for i := 0; i < 100000; i++ {
		ok, err := cond()
		if ok {
			return nil
		}
		last = err
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
	if last != nil {
		return fmt.Errorf("%s: %w", what, last)
	}
	return fmt.Errorf("%s: not after %v", what, timeout)
}
