// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestStartWorkerRejects(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tests := []struct {
		name string
		spec WorkerSpec
		want string
	}{
		{name: "relative path", spec: WorkerSpec{Path: "testworker", ExtraFiles: []*os.File{f}}, want: "not absolute"},
		{name: "no IPC socket", spec: WorkerSpec{Path: "/bin/true"}, want: "no IPC socket"},
		{name: "nil IPC socket", spec: WorkerSpec{Path: "/bin/true", ExtraFiles: []*os.File{nil}}, want: "no IPC socket"},
		{name: "marker in env", spec: WorkerSpec{Path: "/bin/true", ExtraFiles: []*os.File{f}, Env: []string{markerEnv + "=0"}}, want: "must not set " + markerEnv},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd, err := StartWorker(tc.spec)
			if err == nil {
				cmd.Wait()
				t.Fatalf("got no error, want one containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestStartWorkerDropsWithoutConstructor starts a program that has no
// nsinit constructor (this test binary in the hold role) through StartWorker
// as root: whatever it holds comes from the spawning thread alone.
func TestStartWorkerDropsWithoutConstructor(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name     string
		cred     *Identity
		uid, gid uint32
	}{
		{name: "same user", cred: nil, uid: 0, gid: 0},
		{name: "as nobody", cred: &Identity{UID: 65534, GID: 65534}, uid: 65534, gid: 65534},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, self := testBinaries(t)
			ours, theirs := seqpacketPair(t)
			cmd, err := StartWorker(WorkerSpec{
				Path:       self,
				Env:        []string{roleEnv + "=hold"},
				ExtraFiles: []*os.File{theirs},
				Credential: tc.cred,
			})
			theirs.Close()
			if err != nil {
				ours.Close()
				t.Fatal(err)
			}
			w := &worker{cmd: cmd, ipc: ours}
			defer func() {
				ours.Close()
				w.wait(t)
			}()
			if msg, err := w.recv(20 * time.Second); err != nil || string(msg) != "held" {
				t.Fatalf("got %q, %v, want \"held\"", msg, err)
			}
			zero := "0000000000000000"
			want := map[string]string{
				"CapInh": zero, "CapPrm": zero, "CapEff": zero, "CapBnd": zero, "CapAmb": zero,
				"NoNewPrivs": "1", "Seccomp": "0",
				"Uid": fmt.Sprintf("%d\t%d\t%d\t%d", tc.uid, tc.uid, tc.uid, tc.uid),
				"Gid": fmt.Sprintf("%d\t%d\t%d\t%d", tc.gid, tc.gid, tc.gid, tc.gid),
			}
			if tc.cred != nil {
				want["Groups"] = ""
			}
			for tid, st := range threadStatuses(t, cmd.Process.Pid) {
				for k, v := range want {
					if st[k] != v {
						t.Errorf("thread %s: %s: got %q, want %q", tid, k, st[k], v)
					}
				}
			}
			// No constructor: the namespaces are the test's own.
			theirsNS, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", cmd.Process.Pid))
			if err != nil {
				t.Fatal(err)
			}
			oursNS, err := os.Readlink("/proc/self/ns/user")
			if err != nil {
				t.Fatal(err)
			}
			if theirsNS != oursNS {
				t.Errorf("got user namespace %s, want the test's %s", theirsNS, oursNS)
			}
		})
	}
}

// TestDropThreadIsPerThread drops everything on one locked thread and
// checks that this thread has nothing left while the others keep theirs.
func TestDropThreadIsPerThread(t *testing.T) {
	requireRoot(t)
	before, err := ThreadCaps()
	if err != nil {
		t.Fatal(err)
	}
	if before.Empty() {
		t.Skip("test process has no capabilities to drop")
	}
	type result struct {
		caps CapSets
		nnp  bool
		err  error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread goes away
		if err := dropThread(nil); err != nil {
			done <- result{err: err}
			return
		}
		caps, err := ThreadCaps()
		nnp, _ := noNewPrivs()
		done <- result{caps: caps, nnp: nnp, err: err}
	}()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !r.caps.Empty() {
		t.Errorf("dropped thread: got %+v, want no capabilities", r.caps)
	}
	if !r.nnp {
		t.Error("dropped thread: got no_new_privs 0, want 1")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	after, err := ThreadCaps()
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("another thread: got %+v, want unchanged %+v", after, before)
	}
}

func TestDropToUser(t *testing.T) {
	requireRoot(t)
	out, err := roleCmd(t, "dropuser", nil).CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	if !strings.HasPrefix(string(out), "ok ") {
		t.Errorf("got %q, want \"ok N threads\"", out)
	}
}

func TestDropToUserAfterStartWorker(t *testing.T) {
	requireRoot(t)
	out, err := roleCmd(t, "dropafterstart", nil).CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	if want := "cannot change the monitor's user after a worker was started"; !strings.Contains(string(out), want) {
		t.Errorf("got %q, want it to contain %q", out, want)
	}
}

func TestRaiseNoFileLimit(t *testing.T) {
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	if orig.Max < 2 {
		t.Skipf("hard limit %d leaves nothing to raise", orig.Max)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig)
	low := syscall.Rlimit{Cur: orig.Max / 2, Max: orig.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	got, err := RaiseNoFileLimit()
	if err != nil {
		t.Fatal(err)
	}
	var now syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &now); err != nil {
		t.Fatal(err)
	}
	if got != orig.Max || now.Cur != orig.Max {
		t.Errorf("got returned %d, soft limit %d, want both %d", got, now.Cur, orig.Max)
	}
}

// TestConfinedNotLinked: this test binary does not link sandbox/nsinit.
func TestConfinedNotLinked(t *testing.T) {
	err := Confined()
	var ce *ConfineError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *ConfineError", err)
	}
	if want := "sandbox/nsinit is not linked"; !strings.Contains(err.Error(), want) {
		t.Errorf("got %q, want it to contain %q", err, want)
	}
}

func TestThreadCapsReadsThisThread(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	caps, err := ThreadCaps()
	if err != nil {
		t.Fatal(err)
	}
	st, err := procStatus("/proc/thread-self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key string
		got uint64
	}{
		{key: "CapEff", got: caps.Effective},
		{key: "CapPrm", got: caps.Permitted},
		{key: "CapInh", got: caps.Inheritable},
		{key: "CapBnd", got: caps.Bounding},
		{key: "CapAmb", got: caps.Ambient},
	} {
		want, err := strconv.ParseUint(st[c.key], 16, 64)
		if err != nil {
			t.Fatalf("%s: %v", c.key, err)
		}
		if c.got != want {
			t.Errorf("%s: got %#x, want %#x", c.key, c.got, want)
		}
	}
}
