// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package pasta

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"passt-go/pasta/nsjoin"
	"passt-go/proto/tap"
)

// The keeper is the monitor's own binary started again with
// PASST_GO_PASTA_KEEPER=1 in its environment. It runs inside the target
// namespaces from its first instruction: created for it by clone(2) flags
// (spawn), or joined by the nsjoin constructor before the Go runtime
// started (attach). Its socket to the monitor is descriptor 3.

// keeperFD is the keeper's end of the socket pair.
const keeperFD = 3

// hostnamePrefix starts the hostname of a spawned namespace without -H.
const hostnamePrefix = "pasta-"

// pingGroupRange lets root of the namespace (its only mapped group) open
// ICMP echo sockets.
const pingGroupRange = "0 0"

// IsKeeper reports whether this process was started as the keeper. The
// monitor's main calls it first and, if so, runs KeeperMain instead of
// itself.
func IsKeeper() bool { return os.Getenv(nsjoin.MarkerEnv) == "1" }

// KeeperMain is the keeper's main function; it returns the exit status.
// It never returns before the monitor has its answer to the set-up.
func KeeperMain() int {
	_, joinErr := nsjoin.Result()
	// Nothing started from here on inherits the markers.
	os.Unsetenv(nsjoin.MarkerEnv)
	os.Unsetenv(nsjoin.FDsEnv)

	ch := newChannel(keeperFD)
	m, fds, err := ch.recv()
	closeAll(fds)
	if err != nil || m.Kind != kindSetup || m.Setup == nil {
		fmt.Fprintf(os.Stderr, "pasta: namespace process: no set-up from the monitor (%v)\n", err)
		return 1
	}
	if joinErr != nil {
		ch.send(message{Kind: kindFailed, Error: joinErr.Error()})
		return 1
	}
	k := &keeper{ch: ch, setup: m.Setup}
	link, tapFD, err := k.prepare()
	if err != nil {
		ch.send(message{Kind: kindFailed, Error: err.Error()})
		return 1
	}
	lns, err := openNsListeners(k.setup)
	if err == nil {
		err = k.sendListeners(lns)
	}
	if err != nil {
		unix.Close(tapFD)
		ch.send(message{Kind: kindFailed, Error: err.Error()})
		return 1
	}
	nsFD, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(tapFD)
		ch.send(message{Kind: kindFailed, Error: fmt.Sprintf("open own network namespace: %v", err)})
		return 1
	}
	names, procFDs := openProcNet()
	err = ch.send(message{Kind: kindReady, Link: &link, Warnings: k.warnings, ProcNet: names}, append([]int{tapFD, nsFD}, procFDs...)...)
	unix.Close(tapFD)
	unix.Close(nsFD)
	closeAll(procFDs)
	if err != nil {
		return 1
	}
	if !k.setup.Spawn {
		return k.serveJoined()
	}
	return k.serve()
}

type keeper struct {
	ch       *channel
	setup    *Setup
	warnings []string
}

func (k *keeper) warn(s string) { k.warnings = append(k.warnings, s) }

// prepare readies the namespace and opens the tap device. It returns the
// link as configured and the tap's descriptor.
func (k *keeper) prepare() (Link, int, error) {
	s := k.setup
	if s.Spawn {
		k.prepareSpawned()
	}
	if err := loopbackUp(); err != nil {
		return Link{}, -1, err
	}
	fd, name, err := tap.OpenTap(s.Ifname)
	switch {
	case errors.Is(err, unix.EBUSY):
		return Link{}, -1, fmt.Errorf("tap device %s: in use already (by another pasta?)", s.Ifname)
	case errors.Is(err, unix.EINVAL) && s.Ifname != "":
		return Link{}, -1, fmt.Errorf("%s: an interface of another kind has this name; choose the tap's name with -I", s.Ifname)
	case err != nil:
		return Link{}, -1, err
	}
	fail := func(err error) (Link, int, error) {
		unix.Close(fd)
		return Link{}, -1, err
	}
	link, err := netlink.LinkByName(name)
	if err != nil {
		return fail(fmt.Errorf("tap device %s: %w", name, err))
	}
	if err := prepareLink(link, s, k.warn); err != nil {
		return fail(err)
	}
	l, err := linkOf(link)
	if err != nil {
		return fail(err)
	}
	return l, fd, nil
}

// prepareSpawned does what a namespace pasta creates gets beside its
// network: its own /proc (it has its own PID namespace), ICMP echo
// sockets for root, a hostname.
func (k *keeper) prepareSpawned() {
	s := k.setup
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		k.warn(fmt.Sprintf("mount /proc in the namespace: %v", err))
	}
	if err := os.WriteFile("/proc/sys/net/ipv4/ping_group_range", []byte(pingGroupRange), 0); err != nil {
		k.warn("cannot set ping_group_range: ICMP echo requests from the namespace may fail")
	}
	name := s.Hostname
	if name == "" {
		h, _ := os.Hostname()
		name = hostnamePrefix + h
		if len(name) > 64 {
			name = name[:64]
		}
	}
	if err := unix.Sethostname([]byte(name)); err != nil {
		k.warn(fmt.Sprintf("set hostname %s: %v", name, err))
	}
}

// serve runs the command when the monitor says so, passes signals on, and
// returns when the command has ended. As the first process of the PID
// namespace it also reaps every orphan; when it returns, the kernel ends
// whatever is left in the namespace.
func (k *keeper) serve() int {
	// SIGINT and SIGQUIT come from the terminal, which sends them to the
	// command as well; SIGTERM and SIGHUP go on to the command.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT)

	msgs := make(chan message, 4)
	go func() {
		defer close(msgs)
		for {
			m, fds, err := k.ch.recv()
			closeAll(fds)
			if err != nil {
				return
			}
			if m.Kind == kindSocket {
				if m.Socket != nil {
					k.serveSocket(m.Socket)
				}
				continue
			}
			msgs <- m
		}
	}()

	exited := make(chan unix.WaitStatus, 1)
	pid := 0
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				// The monitor is gone. Before the start there is nothing
				// to run; afterwards the command goes on, as it would
				// under upstream pasta, until it ends.
				msgs = nil
				if pid == 0 {
					return 1
				}
				continue
			}
			switch m.Kind {
			case kindStart:
				if pid != 0 {
					continue
				}
				var err error
				pid, err = k.start()
				if err != nil {
					k.ch.send(message{Kind: kindFailed, Error: err.Error()})
					return 1
				}
				go reap(pid, exited)
				k.ch.send(message{Kind: kindStarted, PID: pid})
			case kindSignal:
				if pid != 0 && m.Signal > 0 && m.Signal < 65 {
					unix.Kill(pid, unix.Signal(m.Signal))
				}
			}
		case s := <-sigs:
			if pid != 0 && (s == syscall.SIGTERM || s == syscall.SIGHUP) {
				unix.Kill(pid, s.(syscall.Signal))
			}
		case ws := <-exited:
			k.ch.send(message{Kind: kindExited, Status: uint32(ws)})
			return ExitCode(ws)
		}
	}
}

// serveJoined makes sockets in a joined namespace for the monitor until
// it closes the channel. The keeper is in the caller's process group but
// has no terminal of its own: a ^C meant for pasta must not end it before
// the monitor does.
func (k *keeper) serveJoined() int {
	signal.Ignore(syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP, syscall.SIGPIPE)
	for {
		m, fds, err := k.ch.recv()
		closeAll(fds)
		if err != nil {
			return 0
		}
		switch {
		case m.Kind == kindSocket && m.Socket != nil:
			k.serveSocket(m.Socket)
		case m.Kind == kindSettle:
			var e string
			if err := k.shed(); err != nil {
				e = err.Error()
			}
			k.ch.send(message{Kind: kindSettled, Error: e})
		}
	}
}

// shed gives up root: the keeper of a joined namespace started with the
// monitor's identity, root for a pasta started by root, and needs no
// privilege to make sockets on ports of 1024 and above. Set-uid from root
// to another user clears every capability set; Go applies it to every
// thread of the process.
func (k *keeper) shed() error {
	if !k.setup.Shed || os.Geteuid() != 0 || k.setup.UID == 0 {
		return nil
	}
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("drop supplementary groups: %w", err)
	}
	if err := syscall.Setgid(int(k.setup.GID)); err != nil {
		return fmt.Errorf("set group %d: %w", k.setup.GID, err)
	}
	if err := syscall.Setuid(int(k.setup.UID)); err != nil {
		return fmt.Errorf("set user %d: %w", k.setup.UID, err)
	}
	return nil
}

// start runs the command with the keeper's standard streams, environment
// and working directory, in the same process group, so that the terminal
// treats it as part of pasta's job.
func (k *keeper) start() (int, error) {
	s := k.setup
	if len(s.Command) == 0 || s.Path == "" {
		return 0, errors.New("no command to run")
	}
	pid, err := syscall.ForkExec(s.Path, s.Command, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
	})
	if err != nil {
		return 0, fmt.Errorf("start %s: %w", s.Path, err)
	}
	return pid, nil
}

// reap waits for every child: orphans of the namespace are reaped and
// forgotten, the command's status is sent on exited.
func reap(pid int, exited chan<- unix.WaitStatus) {
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(-1, &ws, 0, nil)
		switch {
		case err == unix.EINTR:
		case err != nil:
			// No child left without the command's status: cannot happen
			// while the command runs; report a failure rather than hang.
			exited <- unix.WaitStatus(1 << 8)
			return
		case got == pid && (ws.Exited() || ws.Signaled()):
			exited <- ws
			return
		}
	}
}

// ExitCode is the shell's reading of a wait status: the exit status, or
// 128 and the signal's number.
func ExitCode(ws unix.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	}
	return 1
}

// describeStatus says how a process ended, for messages.
func describeStatus(ws unix.WaitStatus) string {
	switch {
	case ws.Exited():
		return fmt.Sprintf("exited with status %d", ws.ExitStatus())
	case ws.Signaled():
		return "killed by " + unix.SignalName(ws.Signal())
	}
	return fmt.Sprintf("ended (status %#x)", uint32(ws))
}
