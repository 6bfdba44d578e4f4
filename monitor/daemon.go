// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package monitor

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// Going to the background. A Go program cannot fork, so the monitor runs
// itself again as a new session leader and waits until that copy says it is
// ready (socket listening, worker sandboxed, pid file written) or gives up.
// The starting command returns only then, with status 0, so `passt && qemu`
// needs no fork in the caller. Until it is ready the background copy keeps
// the caller's standard error, so every start-up message and error shows
// where the user started it.

const (
	envDaemonReady = "PASST_GO_DAEMON_READY" // fd of the readiness pipe
	envDaemonFD    = "PASST_GO_DAEMON_FD"    // new number of the --fd socket
)

// Daemon is the background copy's end of the readiness pipe.
type Daemon struct {
	ready *os.File
}

// InDaemon reports whether this process is the background copy, and takes
// its readiness pipe and the renumbered --fd socket (-1 if none) from the
// environment.
func InDaemon() (*Daemon, int, bool) {
	v := os.Getenv(envDaemonReady)
	if v == "" {
		return nil, -1, false
	}
	os.Unsetenv(envDaemonReady)
	n, err := strconv.Atoi(v)
	if err != nil || n < 3 {
		return nil, -1, false
	}
	fd := -1
	if s := os.Getenv(envDaemonFD); s != "" {
		os.Unsetenv(envDaemonFD)
		if m, err := strconv.Atoi(s); err == nil {
			fd = m
		}
	}
	syscall.CloseOnExec(n)
	return &Daemon{ready: os.NewFile(uintptr(n), "ready")}, fd, true
}

// Ready tells the waiting caller that start-up succeeded, and detaches from
// its standard streams.
func (d *Daemon) Ready() {
	if d == nil || d.ready == nil {
		return
	}
	d.ready.Write([]byte{'1'})
	d.ready.Close()
	d.ready = nil
	if null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0); err == nil {
		for _, fd := range []int{0, 1, 2} {
			syscall.Dup3(int(null.Fd()), fd, 0)
		}
		null.Close()
	}
}

// Background starts the background copy with the same arguments and waits
// for it: it returns 0 once the copy is ready, or the copy's exit status
// when it fails first. inheritFD, if not -1, is an --fd socket to hand on.
func Background(inheritFD int) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 1, fmt.Errorf("find own executable: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return 1, fmt.Errorf("pipe: %w", err)
	}
	defer r.Close()
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Args[0] = os.Args[0] // mode is chosen by argv[0]
	cmd.Env = append(os.Environ(), envDaemonReady+"=3")
	cmd.ExtraFiles = []*os.File{w}
	if inheritFD >= 0 {
		cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(uintptr(inheritFD), "fd"))
		cmd.Env = append(cmd.Env, envDaemonFD+"=4")
	}
	cmd.Stdin = nil
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return 1, fmt.Errorf("start background process: %w", err)
	}
	w.Close()
	buf := make([]byte, 1)
	n, _ := io.ReadFull(r, buf)
	if n == 1 {
		cmd.Process.Release()
		return 0, nil
	}
	// The pipe closed without a word: the copy failed and said why.
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() > 0 {
		return ee.ExitCode(), nil
	}
	return 1, nil
}
