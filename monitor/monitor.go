// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package monitor is the privileged half of passt-go. It parses the command
// line, reads the host's configuration, opens everything that needs a path
// or a privilege (the qemu socket, the pcap and log files, the pid file),
// starts the worker from a de-privileged thread and hands it its
// configuration and descriptors over the IPC socket. Afterwards it only
// logs for the worker, answers its broker requests, keeps the listeners
// of auto forwarding in step with the namespace's ports (auto.go), relays
// signals and waits for it to end. It never reads a frame from the guest.
package monitor

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"passt-go/conf"
	"passt-go/host"
	"passt-go/ipc"
	"passt-go/logging"
	"passt-go/sandbox"
)

// LibexecDir is where `make install` puts the worker; set at build time.
var LibexecDir = "/usr/local/libexec/passt-go"

// WorkerName is the worker binary's file name.
const WorkerName = "passt-worker"

// ReadyTimeout bounds the worker's start-up.
const ReadyTimeout = 10 * time.Second

// Run is the monitor's main: it returns the process exit status.
func Run(argv0 string, args []string, version string) int {
	// pasta: this process may be the one that holds the namespace.
	if code, ok := pastaKeeper(); ok {
		return code
	}
	mode := conf.ModeFromArgv0(argv0)
	name := mode.String()
	opts, warnings, err := conf.Parse(mode, args)
	switch {
	case errors.Is(err, conf.ErrHelp):
		fmt.Print(conf.Usage(mode))
		return 0
	case errors.Is(err, conf.ErrVersion):
		fmt.Println(conf.VersionString(mode, version))
		return 0
	case err != nil:
		// One line, so that a caller logging stderr gets the whole story.
		fmt.Fprintf(os.Stderr, "%s: %v (%s --help lists the options)\n", name, err, filepath.Base(argv0))
		return 1
	}
	daemon, inheritedFD, inDaemon := InDaemon()
	if !opts.Foreground && !inDaemon && !pastaSpawns(opts) {
		code, err := Background(opts.FD)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		}
		return code
	}
	if inDaemon && inheritedFD >= 0 {
		opts.FD = inheritedFD
	}

	// Signals are caught from here on; during set-up they wait in the
	// channel, and serve acts on them once the worker runs.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT)

	log := logging.New(name, levelOf(opts))
	for _, w := range warnings {
		log.Warnf("%s", w)
	}
	m := &monitor{name: name, log: log, daemon: daemon, version: version, sigs: sigs}
	defer m.cleanup()
	if err := m.setup(opts); err != nil {
		log.Errorf("%v", err)
		return 1
	}
	return m.serve()
}

func levelOf(o *conf.Options) logging.Level {
	switch {
	case o.Trace:
		return logging.Trace
	case o.Debug:
		return logging.Debug
	case o.Quiet:
		return logging.Warn
	}
	return logging.Info
}

type monitor struct {
	name    string
	version string
	log     *logging.Logger
	daemon  *Daemon
	cfg     *conf.Config

	socketPath string // bound by us, removed at exit
	listenFD   int
	pidFile    *os.File
	handOver   []ipc.FDEntry
	handFDs    []int

	conn *ipc.Conn
	cmd  *exec.Cmd
	sigs chan os.Signal

	pasta *pastaState // pasta mode: the namespace (monitor/pasta.go)

	stderrDone chan struct{} // closed when the worker's stderr ends

	broker *broker

	kmsg *sandbox.KernelLog // nil if /dev/kmsg could not be opened
}

// relayStderr logs what the worker writes to its standard error (start-up
// failures, a runtime crash report).
func (m *monitor) relayStderr(r *os.File) {
	defer close(m.stderrDone)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		m.log.Errorf("worker: %s", sc.Text())
	}
}

// setup does everything up to the worker's Ready.
func (m *monitor) setup(opts *conf.Options) error {
	info, err := host.Detect(opts.HostOptions())
	if err != nil {
		return err
	}
	m.pastaOptions(opts)
	cfg, err := conf.Resolve(opts, info)
	if err != nil {
		return err
	}
	m.cfg = cfg
	if err := refuseMissing(cfg); err != nil {
		return err
	}
	for _, w := range cfg.Warnings {
		m.log.Warnf("%s", w)
	}
	if m.log.Enabled(logging.Debug) {
		var b bytes.Buffer
		cfg.Describe(&b)
		for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
			m.log.Debugf("%s", line)
		}
	}
	if n, err := sandbox.RaiseNoFileLimit(); err != nil {
		m.log.Warnf("raise open file limit: %v", err)
	} else {
		m.log.Debugf("open file limit: %d", n)
	}

	if err := m.openFiles(cfg); err != nil {
		return err
	}
	if err := m.openGuestSide(cfg); err != nil {
		return err
	}
	if err := m.openListeners(cfg); err != nil {
		return err
	}

	// The kernel log names the system call of a seccomp kill; reading it
	// may need privileges kept only until the switch below.
	if k, err := sandbox.OpenKernelLog(); err != nil {
		m.log.Debugf("kernel log: %v: a seccomp kill will not name the system call", err)
	} else {
		m.kmsg = k
	}

	// Everything that needs a path or a privilege is open: become the
	// unprivileged user before the worker exists.
	uid, gid, warning, err := sandbox.LookupRunas(cfg.RunAs)
	if err != nil {
		return err
	}
	if warning != "" {
		m.log.Warnf("%s", warning)
	}
	if uid != uint32(os.Geteuid()) || gid != uint32(os.Getegid()) {
		// The socket file stays removable by the user we become.
		if m.socketPath != "" {
			if err := os.Lchown(m.socketPath, int(uid), int(gid)); err != nil {
				m.log.Warnf("socket %s: %v", m.socketPath, err)
			}
		}
		if err := sandbox.DropToUser(uid, gid); err != nil {
			return fmt.Errorf("switch to uid %d gid %d: %w", uid, gid, err)
		}
	}
	if err := m.startWorker(); err != nil {
		return err
	}
	return nil
}

// openFiles opens the files the worker and the monitor write.
func (m *monitor) openFiles(cfg *conf.Config) error {
	if cfg.Log.File != "" {
		f, err := os.OpenFile(cfg.Log.File, os.O_RDWR|os.O_CREATE|os.O_TRUNC|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return fmt.Errorf("log file: %w", err)
		}
		if err := m.log.SetFile(f, cfg.Log.Size); err != nil {
			return err
		}
	}
	if cfg.PIDFile != "" {
		f, err := os.OpenFile(cfg.PIDFile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return fmt.Errorf("pid file: %w", err)
		}
		m.pidFile = f
	}
	if cfg.PcapFile != "" {
		fd, err := unix.Open(cfg.PcapFile, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return fmt.Errorf("pcap file %s: %w", cfg.PcapFile, err)
		}
		m.give(ipc.FDEntry{Role: ipc.FDPcap}, fd)
		m.log.Infof("saving packet capture to %s", cfg.PcapFile)
	}
	return nil
}

// openGuestSide opens qemu's socket, or takes the --fd connection; in
// pasta mode it makes or joins the namespace and opens its tap device.
func (m *monitor) openGuestSide(cfg *conf.Config) error {
	if cfg.Mode == conf.Pasta {
		return m.openNamespace(cfg)
	}
	if cfg.FD >= 0 {
		fd, err := unix.FcntlInt(uintptr(cfg.FD), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			return fmt.Errorf("--fd %d: %w", cfg.FD, err)
		}
		unix.Close(cfg.FD)
		m.give(ipc.FDEntry{Role: ipc.FDQemuConn}, fd)
		return nil
	}
	fd, path, err := ListenUnix(cfg.SocketPath)
	if err != nil {
		return err
	}
	m.listenFD, m.socketPath = fd, path
	m.give(ipc.FDEntry{Role: ipc.FDQemuListener}, fd)
	return nil
}

func (m *monitor) give(e ipc.FDEntry, fd int) {
	m.handOver = append(m.handOver, e)
	m.handFDs = append(m.handFDs, fd)
}

// findWorker looks for the worker beside the monitor (a build tree), then
// in LibexecDir, where `make install` put it, then in ../libexec/passt-go
// relative to the monitor (an installed tree moved elsewhere, or a
// DESTDIR not yet in place). LibexecDir comes before the relative path
// so that an old worker left there cannot win over the one installed with
// this monitor.
func findWorker() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find own executable: %w", err)
	}
	dir := filepath.Dir(exe)
	candidates := []string{
		filepath.Join(dir, WorkerName),
		filepath.Join(LibexecDir, WorkerName),
		filepath.Join(dir, "..", "libexec", "passt-go", WorkerName),
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return filepath.Clean(c), nil
		}
	}
	return "", fmt.Errorf("worker not found: looked for %s", strings.Join(candidates, ", "))
}

// startWorker spawns the worker, hands it configuration and descriptors
// and waits for its Ready.
func (m *monitor) startWorker() error {
	path, err := findWorker()
	if err != nil {
		return err
	}
	mon, wrk, err := ipc.Pair()
	if err != nil {
		return fmt.Errorf("IPC socket: %w", err)
	}
	m.conn = mon
	wf, err := wrk.File()
	if err != nil {
		return fmt.Errorf("IPC socket: %w", err)
	}
	env := []string{"PATH=/nonexistent"}
	env = append(env, testHookEnv()...)
	if m.cfg.Log.Trace {
		env = append(env, "PASST_GO_SECCOMP_DEBUG=1")
	}
	// The worker's standard error comes back through a pipe and into the
	// log, so that a daemon leaves the caller's terminal behind entirely.
	errR, errW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("pipe: %w", err)
	}
	cmd, err := sandbox.StartWorker(sandbox.WorkerSpec{
		Path:       path,
		Env:        env,
		ExtraFiles: []*os.File{wf},
		Stderr:     errW,
	})
	wf.Close()
	errW.Close()
	m.stderrDone = make(chan struct{})
	go m.relayStderr(errR)
	if err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	m.cmd = cmd
	m.log.Debugf("worker %s started, pid %d", path, cmd.Process.Pid)

	// The hand-over, in order: hello both ways, configuration, descriptors.
	hello := ipc.Hello{Version: ipc.Version, Role: ipc.RoleMonitor, PID: uint32(os.Getpid())}
	if err := mon.Send(ipc.Message{Body: hello}); err != nil {
		return m.workerFailed("send hello", err)
	}
	blob, err := json.Marshal(m.cfg)
	if err != nil {
		return fmt.Errorf("encode configuration: %w", err)
	}
	if err := mon.Send(ipc.Message{Body: ipc.Config{Blob: blob}}); err != nil {
		return m.workerFailed("send configuration", err)
	}
	if err := mon.SendFDs(0, m.handOver, m.handFDs); err != nil {
		return m.workerFailed("send descriptors", err)
	}
	for _, fd := range m.handFDs {
		unix.Close(fd)
	}
	m.handFDs = nil

	deadline := time.AfterFunc(ReadyTimeout, func() { mon.Close() })
	defer deadline.Stop()
	for {
		msg, err := mon.Recv()
		if err != nil {
			return m.workerFailed("wait for the worker to be ready", err)
		}
		switch b := msg.Body.(type) {
		case ipc.Hello:
			if b.Version != ipc.Version {
				return fmt.Errorf("worker speaks protocol version %d, want %d", b.Version, ipc.Version)
			}
		case ipc.Ready:
			return nil
		default:
			m.handle(msg)
		}
	}
}

// workerFailed explains a failure of the hand-over: usually the worker
// died, and its exit status says why.
func (m *monitor) workerFailed(what string, err error) error {
	if m.cmd != nil {
		done := make(chan error, 1)
		go func() { done <- m.cmd.Wait() }()
		select {
		case <-done:
			if ws, ok := m.cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
				return fmt.Errorf("%s: %s", what, m.describeExit(ws))
			}
		case <-time.After(2 * time.Second):
			m.cmd.Process.Kill()
			<-done
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// serve runs after the worker is ready: announce, write the pid file,
// detach, then log for the worker until it ends or a signal ends both.
func (m *monitor) serve() int {
	if m.socketPath != "" {
		m.log.Infof("UNIX domain socket bound at %s", m.socketPath)
		m.log.Infof("You can now start qemu (>= 7.2):")
		m.log.Infof("    kvm ... -device virtio-net-pci,netdev=s -netdev stream,id=s,server=off,addr.type=unix,addr.path=%s", m.socketPath)
		m.log.Infof("or, with an older qemu, through qrap:")
		m.log.Infof("    qrap 5 kvm ... -net socket,fd=5 -net nic,model=virtio")
	}
	if m.pidFile != nil {
		fmt.Fprintf(m.pidFile, "%d\n", os.Getpid())
		m.pidFile.Close()
		m.pidFile = nil
	}
	if err := Notify("READY=1"); err != nil {
		m.log.Warnf("%v", err)
	}
	if m.daemon != nil {
		m.daemon.Ready()
		m.log.SetStderr(nil)
		if m.cfg.Log.File == "" {
			if w, err := dialSyslog(); err == nil {
				m.log.SetSyslog(w)
			}
		}
	}

	sigs := m.sigs
	msgs := make(chan ipc.Message, 64)
	go func() {
		defer close(msgs)
		for {
			msg, err := m.conn.Recv()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, ipc.ErrClosed) {
					// A worker that breaks the protocol is not trusted
					// to go on.
					m.log.Errorf("worker broke the IPC protocol: %v: stopping it", err)
					m.cmd.Process.Kill()
				}
				return
			}
			msgs <- msg
		}
	}()
	exited := make(chan struct{})
	go func() {
		m.cmd.Wait()
		close(exited)
	}()
	// pasta: the command starts now; its end, or the end of a joined
	// namespace, ends pasta.
	pastaDone := m.pastaRun()
	m.startAuto()

	stopping := false
	for {
		select {
		case s := <-sigs:
			if m.pastaSignal(s) {
				continue
			}
			if !stopping {
				m.log.Infof("%v: stopping", s)
				stopping = true
				m.conn.Send(ipc.Message{Body: ipc.Shutdown{}})
				time.AfterFunc(5*time.Second, func() { m.cmd.Process.Kill() })
			}
		case code := <-pastaDone:
			pastaDone = nil
			m.pasta.exit = code
			if !stopping {
				stopping = true
				m.conn.Send(ipc.Message{Body: ipc.Shutdown{}})
				time.AfterFunc(5*time.Second, func() { m.cmd.Process.Kill() })
			}
		case msg, ok := <-msgs:
			if !ok {
				msgs = nil
				continue
			}
			m.handle(msg)
		case <-exited:
			// Drain what the worker said before it went.
			for msgs != nil {
				msg, ok := <-msgs
				if !ok {
					break
				}
				m.handle(msg)
			}
			select {
			case <-m.stderrDone:
			case <-time.After(time.Second):
			}
			ws, _ := m.cmd.ProcessState.Sys().(syscall.WaitStatus)
			if ws.Exited() && ws.ExitStatus() == 0 {
				m.log.Debugf("worker exited")
				return m.exitCode(0)
			}
			if stopping && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
				m.log.Warnf("worker did not stop in time: killed")
				return m.exitCode(0)
			}
			m.log.Errorf("%s", m.describeExit(ws))
			return 1
		}
	}
}

// describeExit says why the worker ended, from its wait status and, for a
// seccomp kill, the kernel log opened at start (without it, /dev/kmsg as
// far as the monitor can still open it).
func (m *monitor) describeExit(ws syscall.WaitStatus) string {
	return m.kmsg.DescribeExit(m.cmd.Process.Pid, ws)
}

// handle acts on one message from the worker.
func (m *monitor) handle(msg ipc.Message) {
	for _, fd := range msg.FDs {
		unix.Close(fd)
	}
	switch b := msg.Body.(type) {
	case ipc.Log:
		m.log.Logf(levelFromIPC(b.Level), "%s", b.Text)
	case ipc.Stats:
		var sb strings.Builder
		for i, c := range b.Counters {
			if i > 0 {
				sb.WriteByte(' ')
			}
			fmt.Fprintf(&sb, "%s=%d", c.Name, c.Value)
		}
		m.log.Debugf("counters: %s", sb.String())
	case ipc.BrokerRequest:
		if m.broker == nil {
			m.broker = &broker{m: m, allow: allowance(m.cfg)}
		}
		m.broker.serve(msg.ID, b)
	default:
		m.log.Warnf("unexpected %T from the worker", msg.Body)
	}
}

func levelFromIPC(l ipc.Level) logging.Level {
	switch l {
	case ipc.LevelError:
		return logging.Error
	case ipc.LevelWarning:
		return logging.Warn
	case ipc.LevelInfo:
		return logging.Info
	case ipc.LevelDebug:
		return logging.Debug
	}
	return logging.Trace
}

// cleanup removes what the monitor created.
func (m *monitor) cleanup() {
	m.pastaCleanup()
	for _, fd := range m.handFDs {
		unix.Close(fd)
	}
	if m.conn != nil {
		m.conn.Close()
	}
	if m.cmd != nil && m.cmd.ProcessState == nil {
		m.cmd.Process.Kill()
		m.cmd.Wait()
	}
	if m.socketPath != "" {
		os.Remove(m.socketPath)
	}
	if m.pidFile != nil {
		m.pidFile.Close()
	}
	m.kmsg.Close()
}

// dialSyslog connects to the system logger's datagram socket.
func dialSyslog() (io.Writer, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: "/dev/log"}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "syslog"), nil
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
