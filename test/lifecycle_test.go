// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"passt-go/conf"
	"passt-go/host"
	"passt-go/ipc"
	"passt-go/sandbox"
	"passt-go/test/nstest"
	"passt-go/worker"
)

// The worker ends when its IPC socket reaches end of file, whatever its
// parent-death signal does: here its parent is the test binary, which lives
// on, and so does the thread that started it (StartWorker keeps it until
// the worker exits). The test plays the monitor up to Ready, then closes
// its end.
func TestWorkerExitsOnIPCEOF(t *testing.T) {
	nstest.NeedRoot(t)
	dir, _ := binaries(t)

	opts, _, err := conf.Parse(conf.Passt, []string{"-f"})
	if err != nil {
		t.Fatal(err)
	}
	info, err := host.Detect(opts.HostOptions())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := conf.Resolve(opts, info)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lfd := listenUnix(t, filepath.Join(t.TempDir(), "passt.socket"))

	mon, wrk, err := ipc.Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	wf, err := wrk.File()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd, err := sandbox.StartWorker(sandbox.WorkerSpec{
		Path:       filepath.Join(dir, "passt-worker"),
		Env:        []string{"PATH=/nonexistent"},
		ExtraFiles: []*os.File{wf},
		Stderr:     stderr,
	})
	wf.Close()
	if err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})
	output := func() string { b, _ := os.ReadFile(stderr.Name()); return string(b) }

	hello := ipc.Hello{Version: ipc.Version, Role: ipc.RoleMonitor, PID: uint32(os.Getpid())}
	if err := mon.Send(ipc.Message{Body: hello}); err != nil {
		t.Fatalf("send hello: %v", err)
	}
	if err := mon.Send(ipc.Message{Body: ipc.Config{Blob: blob}}); err != nil {
		t.Fatalf("send configuration: %v", err)
	}
	if err := mon.SendFDs(0, []ipc.FDEntry{{Role: ipc.FDQemuListener}}, []int{lfd}); err != nil {
		t.Fatalf("send descriptors: %v", err)
	}
	unix.Close(lfd)
	deadline := time.AfterFunc(10*time.Second, func() { mon.Close() })
	for ready := false; !ready; {
		m, err := mon.Recv()
		if err != nil {
			t.Fatalf("waiting for the worker's Ready: %v\n%s", err, output())
		}
		for _, fd := range m.FDs {
			unix.Close(fd)
		}
		_, ready = m.Body.(ipc.Ready)
	}
	deadline.Stop()

	select {
	case <-exited:
		t.Fatalf("worker exited after Ready: %v\n%s", cmd.ProcessState, output())
	case <-time.After(200 * time.Millisecond):
	}
	mon.Close()
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatalf("worker still running 5s after its IPC socket was closed\n%s", output())
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Exited() || ws.ExitStatus() != worker.ExitProtocol {
		t.Errorf("got %s, want exit status %d (the monitor gone)\n%s", sandbox.DescribeExit(cmd.Process.Pid, ws), worker.ExitProtocol, output())
	}
}

// listenUnix makes a listening unix stream socket at path, as the monitor
// hands to the worker.
func listenUnix(t *testing.T, path string) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 1); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	return fd
}

// SIGTERM, SIGINT and SIGHUP each stop passt cleanly: status 0, the worker
// gone, the socket file removed.
func TestPasstStopSignals(t *testing.T) {
	dir, _ := binaries(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		t.Run(unix.SignalName(sig), func(t *testing.T) {
			p := startForeground(t, runAs{"root", -1}, dir, nil)
			w := workerOf(t, p.monitorPID())
			p.cmd.Process.Signal(sig)
			if code := p.wait(t, 10*time.Second); code != 0 {
				t.Errorf("exit code after %v: got %d, want 0\n%s", sig, code, p.stderr.String())
			}
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", w)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("worker %d still there after the monitor exited (%v)", w, err)
			}
			if _, err := os.Lstat(p.sock); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("socket %s: got %v, want it removed", p.sock, err)
			}
		})
	}
}

// -l writes the log to the file: the monitor's lines, before and after it
// becomes nobody, and the worker's, which it relays.
func TestPasstLogFile(t *testing.T) {
	dir, _ := binaries(t)
	logFile := filepath.Join(sharedDir(t), "passt.log")
	p := startForeground(t, runAs{"root", -1}, dir, nil, "-l", logFile)
	c := dialQemu(t, p.sock)
	nstest.WaitFor(t, 5*time.Second, func() bool { return strings.Contains(p.stderr.String(), "client connected") }, "the client to be served")
	c.Close()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit code: got %d, want 0\n%s", code, p.stderr.String())
	}
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"UNIX domain socket bound at " + p.sock,
		": client connected\n",
		": terminated: stopping\n",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("log file does not contain %q:\n%s", want, b)
		}
	}
}

// --runas UID:GID: monitor and worker take that identity, with no
// supplementary groups, instead of nobody; the socket file is theirs.
func TestPasstRunas(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	const uid, gid = 12345, 23456
	dir, _ := binaries(t)
	p := startForeground(t, runAs{"root", -1}, dir, nil, "--runas", fmt.Sprintf("%d:%d", uid, gid))
	mon := p.monitorPID()
	for _, pid := range []int{mon, workerOf(t, mon)} {
		f, err := statusFields(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Fatal(err)
		}
		for k, id := range map[string]int{"Uid": uid, "Gid": gid} {
			want := strings.TrimSpace(strings.Repeat(strconv.Itoa(id)+" ", 4))
			if got := strings.Join(strings.Fields(f[k]), " "); got != want {
				t.Errorf("pid %d: got %s %q, want %q (real, effective, saved, filesystem)", pid, k, got, want)
			}
		}
		if f["Groups"] != "" {
			t.Errorf("pid %d: got Groups %q, want none", pid, f["Groups"])
		}
	}
	var st unix.Stat_t
	if err := unix.Lstat(p.sock, &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != uid || st.Gid != gid {
		t.Errorf("socket %s: got owner %d:%d, want %d:%d", p.sock, st.Uid, st.Gid, uid, gid)
	}
}

// qemuLine is the -netdev stream option passt tells qemu users to give,
// for socket path sock.
func qemuLine(sock string) string {
	return "-device virtio-net-pci,netdev=s -netdev stream,id=s,server=off,addr.type=unix,addr.path=" + sock
}

// At start, passt prints the qemu options that connect to its socket, and
// the qrap way for an older qemu.
func TestPasstPrintsQemuCommandLine(t *testing.T) {
	dir, _ := binaries(t)
	p := startForeground(t, runAs{"root", -1}, dir, nil)
	out := p.stderr.String()
	for _, want := range []string{
		"kvm ... " + qemuLine(p.sock) + "\n",
		"qrap 5 kvm ... -net socket,fd=5 -net nic,model=virtio\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not contain %q:\n%s", want, out)
		}
	}
}

// privateTmpScript keeps a mount namespace with an empty /tmp of its own;
// the test's binaries ($1), which may live under the real /tmp, are bound
// back in at the same path.
const privateTmpScript = `set -e
exec 7<"$1"
mount -t tmpfs -o mode=1777 passt-go-tmp /tmp
mkdir -p "$1"
mount --no-canonicalize --bind /proc/self/fd/7 "$1"
exec 7<&-
echo ready
exec sleep 600
`

// Without -s, passt passes over a /tmp/passt_N.socket that something
// answers on and takes the next one, replacing a stale file there; it
// prints the qemu options for the path it took. All of it in a /tmp of
// its own, away from the sockets of any other passt.
func TestPasstSocketPathProbe(t *testing.T) {
	nstest.NeedRoot(t)
	nstest.NeedTool(t, "unshare")
	nstest.NeedTool(t, "nsenter")
	dir, _ := binaries(t)
	holder := nstest.Start(t, nil, "unshare", "--mount", "--propagation", "private", "sh", "-c", privateTmpScript, "sh", dir)
	nstest.WaitFor(t, 10*time.Second, func() bool {
		if holder.Exited() {
			t.Fatalf("mount namespace holder exited:\n%s", holder.Output())
		}
		return strings.Contains(holder.Output(), "ready")
	}, "a private /tmp")
	tmp := fmt.Sprintf("/proc/%d/root/tmp", holder.PID())

	// passt_1: in use, a listener of ours. passt_2: stale, a socket
	// file nobody listens on.
	inUse := listenUnix(t, filepath.Join(tmp, "passt_1.socket"))
	defer unix.Close(inUse)
	stale, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(stale, &unix.SockaddrUnix{Name: filepath.Join(tmp, "passt_2.socket")}); err != nil {
		t.Fatal(err)
	}
	unix.Close(stale)

	argv := []string{"nsenter", "-t", strconv.Itoa(holder.PID()), "-m", "--", filepath.Join(dir, "passt"), "-f"}
	p := startQemuPasst(t, argv)
	out := p.Output()
	if want := "UNIX domain socket bound at /tmp/passt_2.socket\n"; !strings.Contains(out, want) {
		t.Errorf("output does not contain %q:\n%s", want, out)
	}
	if want := qemuLine("/tmp/passt_2.socket"); !strings.Contains(out, want) {
		t.Errorf("output does not contain %q:\n%s", want, out)
	}
	// The socket in use is still ours.
	c, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(c)
	if err := unix.Connect(c, &unix.SockaddrUnix{Name: filepath.Join(tmp, "passt_1.socket")}); err != nil {
		t.Fatalf("connect to our passt_1.socket: %v", err)
	}
	a, _, err := unix.Accept4(inUse, unix.SOCK_CLOEXEC)
	if err != nil {
		t.Errorf("passt_1.socket no longer reaches our listener: %v", err)
	} else {
		unix.Close(a)
	}
}
