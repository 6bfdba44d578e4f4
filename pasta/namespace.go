// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package pasta

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"passt-go/pasta/nsjoin"
)

// SetupTimeout bounds the keeper's work before it answers.
const SetupTimeout = 10 * time.Second

// Target says which namespace Open makes or joins.
type Target struct {
	// Setup is sent to the keeper; Setup.Spawn selects creation.
	Setup Setup
	// Netns and Userns are the files of the namespaces to join (attach);
	// Userns "" joins the network namespace only.
	Netns, Userns string
	// PID is the process whose namespaces these are, 0 if they were
	// given as paths; it only improves messages.
	PID int
	// UID and GID are the identity mapped to root in a new user
	// namespace: the one the monitor is about to run as.
	UID, GID uint32
	// Argv0 is the keeper's argv[0], so that it shows as pasta.
	Argv0 string
}

// Namespace is pasta's target namespace, made or joined, with its tap
// device.
type Namespace struct {
	// TapFD is the tap device, non-blocking and close-on-exec. The
	// caller takes it (hands it to the worker and closes it).
	TapFD int
	// NetnsFD is a handle on the network namespace, open until Close.
	NetnsFD int
	// Link is the tap device as the keeper left it.
	Link Link
	// Warnings are set-up problems that were not fatal, for the log.
	Warnings []string
	// Listeners are the -T sockets opened inside the namespace; the
	// caller takes them (and sets their FD to -1).
	Listeners []NsListener
	// ProcNet holds the namespace's /proc/net files, by name (see
	// ProcNetFiles), open for reading until Close; a file the keeper
	// could not open is missing.
	ProcNet map[string]int

	spawn  bool
	keeper *exec.Cmd
	ch     *channel
	reaped sync.Once
	waited chan struct{} // closed once the keeper is reaped
	done   chan int      // the command's exit code, once

	// After the set-up one goroutine (run) receives from the keeper:
	// answers to Start go to started, answers to Socket to pending.
	started chan message
	ended   chan struct{} // closed when the keeper's channel ends
	mu      sync.Mutex
	seq     uint64
	pending map[uint64]chan socketAnswer // nil once the keeper is gone
}

// Open creates or joins the namespaces of t, has the keeper prepare them,
// and returns the tap device. Its errors are one line for the user.
func Open(t Target) (*Namespace, error) {
	if t.Setup.Spawn {
		return spawn(t)
	}
	return attach(t)
}

// spawn starts the keeper in new user, network, mount, UTS, IPC and PID
// namespaces, with t.UID and t.GID mapped to root.
func spawn(t Target) (*Namespace, error) {
	if err := findCommand(&t.Setup); err != nil {
		return nil, err
	}
	cmd := keeperCommand(t.Argv0)
	attr := &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWUSER | unix.CLONE_NEWNET | unix.CLONE_NEWNS |
			unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWPID,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(t.UID), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(t.GID), Size: 1}},
	}
	if uint32(os.Geteuid()) != t.UID || uint32(os.Getegid()) != t.GID {
		// Root mapping another identity: the keeper takes it at once
		// (root of the new namespace is that identity outside), and
		// sheds root's supplementary groups, which needs setgroups(2)
		// allowed in the namespace. Writing the maps needs CAP_SETUID
		// and CAP_SETGID, which such a monitor has.
		attr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
		attr.GidMappingsEnableSetgroups = true
	}
	cmd.SysProcAttr = attr
	ns, err := startKeeper(cmd, nil, "")
	if err != nil {
		// fork/exec's own wording says nothing more than the errno.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, explainSpawn(fmt.Errorf("cannot create namespaces: %w", err), "/proc", os.Geteuid())
	}
	if err := ns.prepare(t.Setup); err != nil {
		ns.Close()
		return nil, explainSpawn(fmt.Errorf("new namespace: %w", err), "/proc", os.Geteuid())
	}
	ns.spawn = true
	go ns.run()
	return ns, nil
}

// findCommand sets s.Path to the program of s.Command, looked up in $PATH
// (the namespace sees the same files), or to the user's login shell,
// $SHELL or /bin/sh, when there is no command: then argv[0] is the shell
// with a leading '-'.
func findCommand(s *Setup) error {
	if len(s.Command) == 0 {
		shell := os.Getenv("SHELL")
		if shell == "" {
			shell = "/bin/sh"
		}
		s.Path, s.Command = shell, []string{"-" + shell}
		return nil
	}
	path, err := exec.LookPath(s.Command[0])
	if err != nil && !errors.Is(err, exec.ErrDot) {
		var e *exec.Error
		if errors.As(err, &e) {
			err = e.Err
		}
		return fmt.Errorf("cannot run %s: %w", s.Command[0], err)
	}
	s.Path = path
	return nil
}

// attach opens the namespace files, checks them, and starts the keeper,
// whose constructor joins them.
func attach(t Target) (*Namespace, error) {
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	userFD := "-1"
	if t.Userns != "" {
		f, err := openNS(t.Userns, unix.CLONE_NEWUSER, t.PID)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		userFD = strconv.Itoa(keeperFD + len(files))
	}
	f, err := openNS(t.Netns, unix.CLONE_NEWNET, t.PID)
	if err != nil {
		return nil, err
	}
	files = append(files, f)
	netFD := strconv.Itoa(keeperFD + len(files))

	cmd := keeperCommand(t.Argv0)
	// This keeper runs no command and stays until Close: it must not
	// hold the caller's standard streams open (a caller reading them to
	// their end would wait for it), and it has nothing to say on them
	// after the set-up, whose errors travel on the channel.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	ns, err := startKeeper(cmd, files, nsjoin.FDsEnv+"="+userFD+","+netFD)
	if err != nil {
		return nil, err
	}
	t.Setup.Shed, t.Setup.UID, t.Setup.GID = t.Userns == "", t.UID, t.GID
	if err := ns.prepare(t.Setup); err != nil {
		ns.Close()
		return nil, fmt.Errorf("%s: %w", describeTarget(t), err)
	}
	// The keeper of a joined namespace stays, to make sockets inside
	// it, until Close.
	go ns.run()
	return ns, nil
}

// keeperCommand is the monitor's binary as the keeper, with the caller's
// standard streams (a spawned command inherits them).
func keeperCommand(argv0 string) *exec.Cmd {
	cmd := &exec.Cmd{
		Path:   "/proc/self/exe",
		Args:   []string{argv0},
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k != nsjoin.MarkerEnv && k != nsjoin.FDsEnv {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, nsjoin.MarkerEnv+"=1")
	return cmd
}

// startKeeper starts cmd with its end of a new socket pair as descriptor
// 3 and extra after it.
func startKeeper(cmd *exec.Cmd, extra []*os.File, env string) (*Namespace, error) {
	mine, theirs, err := socketPair()
	if err != nil {
		return nil, err
	}
	tf := os.NewFile(uintptr(theirs), "keeper")
	cmd.ExtraFiles = append([]*os.File{tf}, extra...)
	if env != "" {
		cmd.Env = append(cmd.Env, env)
	}
	err = cmd.Start()
	tf.Close()
	if err != nil {
		unix.Close(mine)
		return nil, err
	}
	return &Namespace{
		TapFD:   -1,
		NetnsFD: -1,
		keeper:  cmd,
		ch:      newChannel(mine),
		waited:  make(chan struct{}),
		done:    make(chan int, 1),
		started: make(chan message, 1),
		ended:   make(chan struct{}),
		pending: make(map[uint64]chan socketAnswer),
	}, nil
}

// prepare sends the set-up and takes the answer.
func (ns *Namespace) prepare(s Setup) error {
	if err := ns.ch.send(message{Kind: kindSetup, Setup: &s}); err != nil {
		return ns.keeperFailed(err)
	}
	tv := unix.NsecToTimeval(SetupTimeout.Nanoseconds())
	unix.SetsockoptTimeval(ns.ch.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	m, fds, err := ns.ch.recv()
	for err == nil && m.Kind == kindListeners {
		if len(fds) != len(m.Listeners) {
			closeAll(fds)
			err = errors.New("listeners message with a wrong number of descriptors")
			break
		}
		for i := range fds {
			l := m.Listeners[i]
			l.FD = fds[i]
			ns.Listeners = append(ns.Listeners, l)
		}
		m, fds, err = ns.ch.recv()
	}
	unix.SetsockoptTimeval(ns.ch.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{})
	if err != nil {
		return ns.keeperFailed(err)
	}
	switch {
	case m.Kind == kindFailed:
		closeAll(fds)
		return errors.New(m.Error)
	case m.Kind != kindReady || m.Link == nil || len(fds) != 2+len(m.ProcNet) || !validProcNet(m.ProcNet):
		closeAll(fds)
		return fmt.Errorf("unexpected %q answer from the namespace process", m.Kind)
	}
	ns.TapFD, ns.NetnsFD = fds[0], fds[1]
	ns.ProcNet = make(map[string]int, len(m.ProcNet))
	for i, name := range m.ProcNet {
		ns.ProcNet[name] = fds[2+i]
	}
	ns.Link = *m.Link
	ns.Warnings = m.Warnings
	return nil
}

// keeperFailed explains a keeper that stopped answering.
func (ns *Namespace) keeperFailed(err error) error {
	if errors.Is(err, unix.EAGAIN) {
		ns.keeper.Process.Kill()
		ns.reap()
		return fmt.Errorf("the namespace process did not answer within %v", SetupTimeout)
	}
	if err == io.EOF || errors.Is(err, unix.EPIPE) || errors.Is(err, unix.ECONNRESET) {
		ns.reap()
		if ws, ok := ns.keeper.ProcessState.Sys().(syscall.WaitStatus); ok {
			return fmt.Errorf("the namespace process %s", describeStatus(unix.WaitStatus(ws)))
		}
	}
	return fmt.Errorf("namespace process: %w", err)
}

// reap waits for the keeper to exit; it may be called from several
// goroutines.
func (ns *Namespace) reap() {
	ns.reaped.Do(func() {
		ns.keeper.Wait()
		close(ns.waited)
	})
	<-ns.waited
}

// Start runs the command in a spawned namespace; Done then reports its
// end. It does nothing for a joined namespace.
func (ns *Namespace) Start() error {
	if !ns.spawn {
		return nil
	}
	if err := ns.ch.send(message{Kind: kindStart}); err != nil {
		return ns.keeperFailed(err)
	}
	var m message
	select {
	case m = <-ns.started:
	case <-ns.ended:
		return ns.keeperFailed(io.EOF)
	}
	if m.Kind == kindFailed {
		return errors.New(m.Error)
	}
	return nil
}

// Settle tells the keeper of a joined namespace that the sockets it had
// to open with the privileges it started with are open: a keeper running
// as root then takes the identity of Target.UID and Target.GID, without
// supplementary groups and so without any capability, for the rest of
// the run. It does nothing for a spawned namespace, whose keeper has no
// privilege outside it.
func (ns *Namespace) Settle() error {
	if ns.spawn {
		return nil
	}
	if err := ns.ch.send(message{Kind: kindSettle}); err != nil {
		return ns.keeperFailed(err)
	}
	t := time.NewTimer(SetupTimeout)
	defer t.Stop()
	select {
	case m := <-ns.started:
		if m.Error != "" {
			return fmt.Errorf("namespace process: %s", m.Error)
		}
		return nil
	case <-ns.ended:
		return ns.keeperFailed(io.EOF)
	case <-t.C:
		return fmt.Errorf("the namespace process did not answer within %v", SetupTimeout)
	}
}

// run receives from the keeper once the set-up is done, until the
// channel ends. In a spawned namespace the keeper reports the command's
// end, then exits; a keeper that ends without a report ended the command
// with it.
func (ns *Namespace) run() {
	var status *unix.WaitStatus
	for {
		m, fds, err := ns.ch.recv()
		if err != nil {
			break
		}
		switch m.Kind {
		case kindSocket:
			ns.answerSocket(m, fds)
			continue
		case kindStarted, kindFailed, kindSettled:
			select {
			case ns.started <- m:
			default:
			}
		case kindExited:
			ws := unix.WaitStatus(m.Status)
			status = &ws
		}
		closeAll(fds)
	}
	ns.failSockets(errors.New("the namespace process is gone"))
	close(ns.ended)
	ns.reap()
	if !ns.spawn {
		return
	}
	if status == nil {
		ws, _ := ns.keeper.ProcessState.Sys().(syscall.WaitStatus)
		s := unix.WaitStatus(ws)
		status = &s
	}
	ns.done <- ExitCode(*status)
}

// Done delivers the command's exit code (the shell's reading: 128 and
// the signal's number for a command killed by a signal) once it has
// ended. Nil for a joined namespace.
func (ns *Namespace) Done() <-chan int {
	if !ns.spawn {
		return nil
	}
	return ns.done
}

// Signal passes sig on to the command of a spawned namespace.
func (ns *Namespace) Signal(sig syscall.Signal) {
	if ns.spawn {
		ns.ch.send(message{Kind: kindSignal, Signal: int(sig)})
	}
}

// Close ends the keeper if it still runs (and with it everything in a
// spawned PID namespace) and closes the descriptors Open returned, unless
// the caller took TapFD (set it to -1).
func (ns *Namespace) Close() {
	select {
	case <-ns.waited:
	default:
		ns.keeper.Process.Kill()
		go ns.reap()
	}
	unix.Shutdown(ns.ch.fd, unix.SHUT_RDWR)
	if ns.TapFD >= 0 {
		unix.Close(ns.TapFD)
		ns.TapFD = -1
	}
	if ns.NetnsFD >= 0 {
		unix.Close(ns.NetnsFD)
		ns.NetnsFD = -1
	}
	for name, fd := range ns.ProcNet {
		unix.Close(fd)
		delete(ns.ProcNet, name)
	}
}

// openNS opens a namespace file and checks that it is one of kind.
func openNS(path string, kind int, pid int) (*os.File, error) {
	what := map[int]string{unix.CLONE_NEWNET: "network", unix.CLONE_NEWUSER: "user"}[kind]
	opt := map[int]string{unix.CLONE_NEWNET: "--netns", unix.CLONE_NEWUSER: "--userns"}[kind]
	where := opt + " " + path
	if pid > 0 {
		where = "PID " + strconv.Itoa(pid)
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("PID %d: no such process", pid)
		}
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		if pid > 0 {
			return nil, fmt.Errorf("%s: cannot open its %s namespace: %w", where, what, err)
		}
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	f := os.NewFile(uintptr(fd), path)
	if err := checkNS(fd, kind); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return f, nil
}

// nsKinds names namespace types by their clone flag.
var nsKinds = map[int]string{
	unix.CLONE_NEWNET: "network", unix.CLONE_NEWUSER: "user", unix.CLONE_NEWNS: "mount",
	unix.CLONE_NEWPID: "PID", unix.CLONE_NEWUTS: "UTS", unix.CLONE_NEWIPC: "IPC",
	unix.CLONE_NEWCGROUP: "cgroup", unix.CLONE_NEWTIME: "time",
}

// checkNS checks that fd is a namespace file of kind.
func checkNS(fd int, kind int) error {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return err
	}
	if st.Type != unix.NSFS_MAGIC {
		return fmt.Errorf("not a %s namespace", nsKinds[kind])
	}
	got, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
	if err != nil {
		return fmt.Errorf("namespace type: %w", err)
	}
	if got != kind {
		name := nsKinds[got]
		if name == "" {
			name = "another"
		}
		return fmt.Errorf("a %s namespace, not a %s namespace", name, nsKinds[kind])
	}
	return nil
}

func describeTarget(t Target) string {
	if t.PID > 0 {
		return "PID " + strconv.Itoa(t.PID)
	}
	return t.Netns
}
