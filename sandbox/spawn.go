// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// Identity is a user and group ID pair.
type Identity struct {
	UID, GID uint32
}

// WorkerSpec describes how to start the worker.
type WorkerSpec struct {
	// Path is the absolute path of the worker binary.
	Path string
	// Args are the arguments after argv[0] (which is Path).
	Args []string
	// Env is the worker's complete environment; nothing is inherited from
	// the monitor. StartWorker appends the nsinit marker
	// (PASST_GO_NSINIT=1); Env must not set that variable itself.
	Env []string
	// ExtraFiles become fds 3, 4, ... in the worker: ExtraFiles[0] is the
	// IPC socket. Required. The caller keeps (and should close) its copies.
	ExtraFiles []*os.File
	// Credential, if not nil, is the identity the worker runs as. It needs
	// CAP_SETUID and CAP_SETGID (a root monitor switching to nobody or
	// --runas); nil keeps the monitor's uid and gid.
	Credential *Identity
	// Stdout and Stderr of the worker; nil means /dev/null. The worker has
	// no other way to log. Stdin is always /dev/null.
	Stdout, Stderr *os.File
}

// workerStarted is set once StartWorker has created a de-privileged
// thread; DropToUser refuses from then on (see there).
var workerStarted atomic.Bool

// StartWorker starts the worker from an OS thread of its own that first
// gives up everything: empty bounding, ambient, inheritable, permitted and
// effective capability sets, no_new_privs, and spec.Credential if set.
// clone copies the calling thread's credentials, so the worker starts
// without a capability even when the monitor holds all of them; the
// monitor's other threads keep theirs.
//
// The worker gets SIGKILL as its parent-death signal. The kernel sends it
// when the thread that forked the worker exits, not the process, so that
// thread stays alive, locked, and blocked in waitid (without reaping)
// until the worker has exited; it then ends, taking its credentials with
// it (never the main thread, which Go would park for good instead). If
// the monitor dies, the worker dies.
//
// The caller owns the returned command: it must call Wait to reap the
// worker, and can pass the status to DescribeExit. StartWorker does not
// confine the worker by itself: the worker's nsinit constructor does,
// triggered by the marker this function adds to the environment.
func StartWorker(spec WorkerSpec) (*exec.Cmd, error) {
	if !filepath.IsAbs(spec.Path) {
		return nil, fmt.Errorf("sandbox: worker path %q is not absolute", spec.Path)
	}
	if len(spec.ExtraFiles) == 0 || spec.ExtraFiles[0] == nil {
		return nil, errors.New("sandbox: no IPC socket for the worker's fd 3")
	}
	env := make([]string, 0, len(spec.Env)+1)
	for _, kv := range spec.Env {
		if strings.HasPrefix(kv, markerEnv+"=") {
			return nil, fmt.Errorf("sandbox: the worker's environment must not set %s", markerEnv)
		}
		env = append(env, kv)
	}
	env = append(env, markerEnv+"=1")

	pidfd := -1
	cmd := &exec.Cmd{
		Path:       spec.Path,
		Args:       append([]string{spec.Path}, spec.Args...),
		Env:        env,
		ExtraFiles: spec.ExtraFiles,
		SysProcAttr: &syscall.SysProcAttr{
			Pdeathsig: syscall.SIGKILL,
			PidFD:     &pidfd,
		},
	}
	// Assigning a nil *os.File to the io.Writer fields would not be nil.
	if spec.Stdout != nil {
		cmd.Stdout = spec.Stdout
	}
	if spec.Stderr != nil {
		cmd.Stderr = spec.Stderr
	}

	workerStarted.Store(true)
	started := make(chan error, 1)
	spawn := func(locked chan<- struct{}) {
		// Never unlocked: when this goroutine returns, the runtime
		// ends the thread instead of reusing its credentials.
		runtime.LockOSThread()
		if locked != nil {
			close(locked)
		}
		if err := dropThread(spec.Credential); err != nil {
			started <- err
			return
		}
		if err := cmd.Start(); err != nil {
			started <- fmt.Errorf("sandbox: starting the worker: %w", err)
			return
		}
		started <- nil
		waitExited(pidfd, cmd.Process.Pid)
		if pidfd >= 0 {
			unix.Close(pidfd)
		}
	}
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() != unix.Getpid() {
			spawn(nil)
			return
		}
		// This is the main thread, which Go never ends: it would be
		// parked for good without capabilities. Hold it while another
		// goroutine, which then cannot run here, takes its own thread.
		locked := make(chan struct{})
		go spawn(locked)
		<-locked
		runtime.UnlockOSThread()
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return cmd, nil
}

// dropThread takes every privilege away from the calling thread, which
// must be locked to its goroutine. The order matters: emptying the
// bounding set needs CAP_SETPCAP and switching identity needs CAP_SETUID
// and CAP_SETGID, all lost at the end.
func dropThread(cred *Identity) error {
	// Without CAP_SETPCAP (an unprivileged monitor) the bounding set
	// cannot be emptied; it then only limits what execve could grant,
	// and no_new_privs already makes that nothing.
	bndErr := dropBounding()
	if cred != nil {
		// Raw system calls: glibc's setgroups and setres[ug]id would
		// apply the change to every thread of the monitor.
		if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, 0, 0, 0); e != 0 {
			return fmt.Errorf("sandbox: clearing supplementary groups for the worker: %w", e)
		}
		g, u := uintptr(cred.GID), uintptr(cred.UID)
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, g, g, g); e != 0 {
			return fmt.Errorf("sandbox: switching the worker to gid %d: %w", cred.GID, e)
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, u, u, u); e != 0 {
			return fmt.Errorf("sandbox: switching the worker to uid %d: %w", cred.UID, e)
		}
	}
	if err := clearAmbient(); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if err := clearCaps(); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if err := setNoNewPrivs(); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}

	caps, err := ThreadCaps()
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if caps.Effective|caps.Permitted|caps.Inheritable|caps.Ambient != 0 {
		return fmt.Errorf("sandbox: capabilities left on the spawning thread: effective %#x, permitted %#x, inheritable %#x, ambient %#x",
			caps.Effective, caps.Permitted, caps.Inheritable, caps.Ambient)
	}
	if caps.Bounding != 0 && !errors.Is(bndErr, unix.EPERM) {
		return fmt.Errorf("sandbox: bounding set left on the spawning thread (%#x): %v", caps.Bounding, bndErr)
	}
	if cred != nil {
		// getresuid reports the calling thread's own IDs.
		r, e, s := unix.Getresuid()
		if uint32(r) != cred.UID || uint32(e) != cred.UID || uint32(s) != cred.UID {
			return fmt.Errorf("sandbox: spawning thread has uids %d/%d/%d, want %d", r, e, s, cred.UID)
		}
	}
	return nil
}

// waitExited blocks until the worker has exited, without reaping it (the
// owner of the exec.Cmd does). It returns early if the worker was reaped
// already.
func waitExited(pidfd, pid int) {
	var info unix.Siginfo
	idType, id := unix.P_PIDFD, pidfd
	if pidfd < 0 {
		idType, id = unix.P_PID, pid
	}
	for {
		err := unix.Waitid(idType, id, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			return
		}
	}
}

// DropToUser switches the whole monitor process to uid and gid: empty
// supplementary groups (EPERM tolerated, as in a user namespace where
// setgroups is denied), then gid, then uid, real, effective and saved.
// The change reaches every thread (glibc's set*id broadcast with cgo, or
// the runtime's with AllThreadsSyscall); as uid 0 becomes non-zero, the
// kernel clears the permitted and effective sets of each.
//
// Call it after set-up and before StartWorker: it fails once a worker has
// been started, because the worker's de-privileged parent thread could not
// follow the broadcast and glibc would abort the process.
func DropToUser(uid, gid uint32) error {
	if workerStarted.Load() {
		return errors.New("sandbox: cannot change the monitor's user after a worker was started")
	}
	if err := syscall.Setgroups(nil); err != nil && !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("sandbox: clearing supplementary groups: %w", err)
	}
	if err := syscall.Setresgid(int(gid), int(gid), int(gid)); err != nil {
		return fmt.Errorf("sandbox: switching to gid %d: %w", gid, err)
	}
	if err := syscall.Setresuid(int(uid), int(uid), int(uid)); err != nil {
		return fmt.Errorf("sandbox: switching to uid %d: %w", uid, err)
	}
	ru, eu, su := unix.Getresuid()
	rg, eg, sg := unix.Getresgid()
	for _, v := range []int{ru, eu, su} {
		if uint32(v) != uid {
			return fmt.Errorf("sandbox: uids are %d/%d/%d after switching to %d", ru, eu, su, uid)
		}
	}
	for _, v := range []int{rg, eg, sg} {
		if uint32(v) != gid {
			return fmt.Errorf("sandbox: gids are %d/%d/%d after switching to %d", rg, eg, sg, gid)
		}
	}
	return nil
}
