// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package worker is the sandboxed half of passt-go: the process that reads
// every frame the guest sends. It starts confined (its own user, mount, IPC
// and UTS namespaces, an empty root, no capability in any thread: see
// package sandbox), receives its configuration and file descriptors from
// the monitor over the IPC socket on fd 3, prepares everything it will
// need, loads its seccomp filter, tells the monitor it is ready, and only
// then reads the first byte from the guest.
//
// Start-up order, each step needing the one before:
//
//	sandbox.Confined     the constructor did its work (else exit)
//	Hello, Config, FDs   from the monitor, fds checked with ipc.VerifyFD
//	prepare              epoll, buffers, readers and writers, services
//	sandbox.LoadFilter   from here on only the allowlist
//	Ready                to the monitor
//	loop                 until Shutdown, end of stream on fd 3, or the
//	                     guest leaving with --one-off
package worker

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"passt-go/conf"
	"passt-go/ipc"
	"passt-go/sandbox"
)

// Exit statuses of the worker, for the monitor's messages.
const (
	ExitOK       = 0
	ExitStartup  = 2 // set-up failed before the filter was loaded
	ExitRuntime  = 3 // the event loop failed
	ExitProtocol = 4 // the monitor spoke out of turn
)

// Main runs the worker and returns its exit status. Errors before the IPC
// connection works go to standard error, which the monitor passes through.
func Main() int {
	if err := sandbox.Confined(); err != nil {
		fmt.Fprintln(os.Stderr, "passt-worker: not confined:", err)
		return ExitStartup
	}
	// Signals from a terminal reach the whole process group; the monitor
	// decides when the worker stops, and tells it over IPC.
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	conn := ipc.NewConn(ipc.WorkerFD)
	conn.SetPeer(ipc.RoleMonitor)
	w, err := start(conn)
	if err != nil {
		fmt.Fprintln(os.Stderr, "passt-worker:", err)
		conn.Close()
		return ExitStartup
	}
	return w.run()
}

// start reads the monitor's configuration and descriptors and prepares the
// worker up to, and including, the seccomp filter and the Ready message.
func start(conn *ipc.Conn) (*Worker, error) {
	m, err := conn.Recv()
	if err != nil {
		return nil, fmt.Errorf("read hello: %w", err)
	}
	if h, ok := m.Body.(ipc.Hello); !ok || h.Role != ipc.RoleMonitor {
		return nil, fmt.Errorf("expected hello from the monitor, got %T", m.Body)
	}
	hello := ipc.Hello{Version: ipc.Version, Role: ipc.RoleWorker, PID: uint32(os.Getpid())}
	if err := conn.Send(ipc.Message{Body: hello}); err != nil {
		return nil, fmt.Errorf("send hello: %w", err)
	}

	cfg, err := readConfig(conn)
	if err != nil {
		return nil, err
	}

	var fds []handed
	for {
		m, err := conn.Recv()
		if err != nil {
			closeHanded(fds)
			return nil, fmt.Errorf("read descriptors: %w", err)
		}
		b, ok := m.Body.(ipc.FDs)
		if !ok {
			closeHanded(fds)
			for _, fd := range m.FDs {
				closeFD(fd)
			}
			return nil, fmt.Errorf("expected descriptors, got %T", m.Body)
		}
		for i, e := range b.Entries {
			fds = append(fds, handed{entry: e, fd: m.FDs[i]})
		}
		if !b.More {
			break
		}
	}
	for _, h := range fds {
		if err := ipc.VerifyFD(h.fd, h.entry); err != nil {
			closeHanded(fds)
			return nil, fmt.Errorf("descriptor for %v: %w", h.entry.Role, err)
		}
	}

	w, err := newWorker(cfg, conn, fds)
	if err != nil {
		closeHanded(fds)
		return nil, err
	}
	profile := sandbox.Passt
	if cfg.Mode == conf.Pasta {
		profile = sandbox.Pasta
	}
	if err := loadFilter(profile, cfg); err != nil {
		return nil, fmt.Errorf("seccomp: %w", err)
	}
	conn.SetNonblocking(true)
	if err := sendBlocking(conn, ipc.Message{Body: ipc.Ready{}}); err != nil {
		return nil, fmt.Errorf("send ready: %w", err)
	}
	testHookAfterReady()
	return w, nil
}

// readConfig reads the configuration the monitor sends after Hello: the
// JSON encoding of a conf.Config.
func readConfig(conn *ipc.Conn) (*conf.Config, error) {
	m, err := conn.Recv()
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	blob, ok := m.Body.(ipc.Config)
	if !ok {
		return nil, fmt.Errorf("expected configuration, got %T", m.Body)
	}
	cfg := new(conf.Config)
	if err := json.Unmarshal(blob.Blob, cfg); err != nil {
		return nil, fmt.Errorf("decode configuration: %w", err)
	}
	return cfg, nil
}

// loadFilter loads the profile's filter; PASST_GO_SECCOMP_DEBUG=1 in the
// worker's environment (set by the monitor for --trace) makes a forbidden
// call print a traceback instead of killing silently.
func loadFilter(p sandbox.Profile, cfg *conf.Config) error {
	if cfg.Log.Trace && os.Getenv("PASST_GO_SECCOMP_DEBUG") == "1" {
		return sandbox.LoadDebugFilter(p)
	}
	return sandbox.LoadFilter(p)
}

// sendBlocking sends m, waiting while the socket is full.
func sendBlocking(conn *ipc.Conn, m ipc.Message) error {
	for {
		err := conn.Send(m)
		if !errors.Is(err, ipc.ErrWouldBlock) {
			return err
		}
		waitWritable(conn.FD())
	}
}

// handed is one descriptor received from the monitor.
type handed struct {
	entry ipc.FDEntry
	fd    int
}

func closeHanded(fds []handed) {
	for _, h := range fds {
		closeFD(h.fd)
	}
}

// closeFDs closes descriptors that came with a message and are not used.
func closeFDs(fds []int) {
	for _, fd := range fds {
		closeFD(fd)
	}
}
