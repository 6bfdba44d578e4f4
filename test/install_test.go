// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"passt-go/test/nstest"
)

// makeIn runs make -s target with vars in the repository.
func makeIn(t *testing.T, target string, vars ...string) {
	t.Helper()
	cmd := exec.Command("make", append([]string{"-s", target}, vars...)...)
	cmd.Dir = moduleRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make %s %s: %v\n%s", target, strings.Join(vars, " "), err, out)
	}
}

// checkInstalled fails the test for each of files missing.
func checkInstalled(t *testing.T, files ...string) {
	t.Helper()
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("installed file: %v", err)
		}
	}
}

// runInstalledPasst starts the installed passt and returns the path of
// the worker binary it runs.
func runInstalledPasst(t *testing.T, passt string) string {
	t.Helper()
	sock := filepath.Join(sharedDir(t), "passt.socket")
	p := nstest.StartCmd(t, exec.Command(passt, "-f", "-s", sock))
	nstest.WaitFor(t, 10*time.Second, func() bool {
		if p.Exited() {
			t.Fatalf("installed passt exited:\n%s", p.Output())
		}
		return strings.Contains(p.Output(), "socket bound at")
	}, "the installed passt to be ready")
	worker := workerOf(t, p.PID())
	exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(worker), "exe"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	return exe
}

// checkUninstalled fails the test for each file left under dir.
func checkUninstalled(t *testing.T, dir string) {
	t.Helper()
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			t.Errorf("left after uninstall: %s", path)
		}
		return nil
	})
}

// copyFile copies the file src to dst with mode.
func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// make install gives working binaries, in a temporary DESTDIR as a
// package build does, and straight into custom directories as a user
// does; make uninstall removes every file again.
func TestMakeInstall(t *testing.T) {
	nstest.NeedRoot(t)
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	// make install builds bin/ for its directories: leave it for the
	// other tests as it was, a release build.
	t.Cleanup(func() {
		cmd := exec.Command("make", "-s", "all")
		cmd.Dir = moduleRoot()
		cmd.Run()
	})
	t.Run("DESTDIR", testInstallDestdir)
	t.Run("directories", testInstallDirs)
}

// With DESTDIR and PREFIX=/usr: the installed passt finds its worker in
// the libexec directory and serves; pasta and passt4netns are the same
// file under other names; the man pages and the unit are there.
func testInstallDestdir(t *testing.T) {
	dest := sharedDir(t)
	vars := []string{"DESTDIR=" + dest, "PREFIX=/usr"}
	makeIn(t, "install", vars...)

	bin := filepath.Join(dest, "usr/bin")
	var files []string
	for _, f := range []string{
		"usr/bin/passt", "usr/bin/pasta", "usr/bin/passt4netns", "usr/bin/qrap",
		"usr/libexec/passt-go/passt-worker",
		"usr/share/man/man1/passt.1", "usr/share/man/man1/pasta.1", "usr/share/man/man1/qrap.1",
		"usr/share/man/man8/passt-worker.8", "usr/lib/systemd/system/passt@.service",
	} {
		files = append(files, filepath.Join(dest, f))
	}
	checkInstalled(t, files...)
	passtInfo, err1 := os.Stat(filepath.Join(bin, "passt"))
	pastaInfo, err2 := os.Lstat(filepath.Join(bin, "pasta"))
	if err1 != nil || err2 != nil || !os.SameFile(passtInfo, pastaInfo) {
		t.Errorf("pasta is not a hard link to passt: %v %v", err1, err2)
	}
	unit, _ := os.ReadFile(filepath.Join(dest, "usr/lib/systemd/system/passt@.service"))
	if !strings.Contains(string(unit), "ExecStart=/usr/bin/passt") {
		t.Errorf("unit does not start /usr/bin/passt:\n%s", unit)
	}

	worker := filepath.Join(dest, "usr/libexec/passt-go/passt-worker")
	if systemdRunning() {
		startUnit(t, string(unit), filepath.Join(bin, "passt"), worker)
	} else {
		verifyUnit(t, string(unit), filepath.Join(bin, "passt"))
	}

	for _, tc := range []struct{ name, want string }{{"passt", "passt "}, {"pasta", "pasta "}, {"passt4netns", "pasta "}} {
		out, err := exec.Command(filepath.Join(bin, tc.name), "--version").Output()
		if err != nil || !strings.HasPrefix(string(out), tc.want) {
			t.Errorf("%s --version: got %q (%v), want %q...", tc.name, out, err, tc.want)
		}
	}

	// The installed passt runs, with the installed worker: found through
	// ../libexec/passt-go, since nothing is in /usr/libexec/passt-go, the
	// directory it was built for. (If something is, it rightly wins.)
	exe := runInstalledPasst(t, filepath.Join(bin, "passt"))
	want := worker
	if _, err := os.Stat("/usr/libexec/passt-go/passt-worker"); err == nil {
		want = "/usr/libexec/passt-go/passt-worker"
	}
	if exe != want {
		t.Errorf("worker binary: got %s, want %s", exe, want)
	}

	makeIn(t, "uninstall", vars...)
	checkUninstalled(t, dest)
}

// Without DESTDIR, with PREFIX, BINDIR, LIBEXECDIR and MANDIR each
// elsewhere: every file goes where it was told, the installed passt runs
// the worker of LIBEXECDIR even when an old one lies in
// BINDIR/../libexec/passt-go, and the installed qrap runs.
func testInstallDirs(t *testing.T) {
	top := sharedDir(t)
	prefix := filepath.Join(top, "prefix")
	bindir := filepath.Join(top, "programs")
	libexec := filepath.Join(top, "helpers", "passt")
	mandir := filepath.Join(top, "manuals")
	vars := []string{"PREFIX=" + prefix, "BINDIR=" + bindir, "LIBEXECDIR=" + libexec, "MANDIR=" + mandir}
	makeIn(t, "install", vars...)

	checkInstalled(t,
		filepath.Join(bindir, "passt"), filepath.Join(bindir, "pasta"), filepath.Join(bindir, "passt4netns"),
		filepath.Join(bindir, "qrap"), filepath.Join(libexec, "passt-worker"),
		filepath.Join(mandir, "man1/passt.1"), filepath.Join(mandir, "man1/pasta.1"), filepath.Join(mandir, "man1/qrap.1"),
		filepath.Join(mandir, "man8/passt-worker.8"), filepath.Join(prefix, "lib/systemd/system/passt@.service"))
	unit, _ := os.ReadFile(filepath.Join(prefix, "lib/systemd/system/passt@.service"))
	if !strings.Contains(string(unit), "ExecStart="+filepath.Join(bindir, "passt")+" ") {
		t.Errorf("unit does not start %s:\n%s", filepath.Join(bindir, "passt"), unit)
	}
	if out, err := exec.Command(filepath.Join(bindir, "pasta"), "--version").Output(); err != nil || !strings.HasPrefix(string(out), "pasta ") {
		t.Errorf("pasta --version: got %q (%v), want \"pasta ...\"", out, err)
	}

	// An old worker where the relative lookup would find it.
	stale := filepath.Join(top, "libexec/passt-go/passt-worker")
	copyFile(t, filepath.Join(libexec, "passt-worker"), stale, 0o755)
	if exe, want := runInstalledPasst(t, filepath.Join(bindir, "passt")), filepath.Join(libexec, "passt-worker"); exe != want {
		t.Errorf("worker binary: got %s, want %s", exe, want)
	}
	if err := os.Remove(stale); err != nil {
		t.Fatal(err)
	}

	// qrap with no passt listening: one line that says so, status 1. It
	// runs in a mount namespace of its own, with an empty /tmp, so that
	// it probes no /tmp/passt_N.socket of anybody else. The installed
	// tree, under the test's /tmp, is kept aside on /mnt and mounted back
	// at its path in the new /tmp.
	script := `mount --bind "$1" /mnt && mount -t tmpfs tmpfs /tmp && mkdir -p "$1" && mount --bind /mnt "$1" && exec "$2" 5 true`
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", top, filepath.Join(bindir, "qrap"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	line := strings.TrimSuffix(stderr.String(), "\n")
	if code != 1 || stdout.Len() != 0 || strings.Contains(line, "\n") ||
		!strings.HasPrefix(line, "qrap: no passt is listening on /tmp/passt_1.socket") {
		t.Errorf("qrap without passt: got status %d (%v), stdout %q, stderr %q; want 1, nothing, one line saying no passt listens",
			code, err, stdout.String(), stderr.String())
	}

	makeIn(t, "uninstall", vars...)
	checkUninstalled(t, top)
}

// verifyUnit has systemd-analyze check the installed unit, with its
// ExecStart pointed at the installed binary (verify wants it to exist):
// no error, and no warning either.
func verifyUnit(t *testing.T, unit, passt string) {
	t.Helper()
	nstest.NeedTool(t, "systemd-analyze")
	dir := t.TempDir()
	path := filepath.Join(dir, "passt@test.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/bin/passt", passt)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("systemd-analyze", "verify", "--man=no", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) != 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// systemdRunning reports whether systemd is the init system, as
// sd_booted(3) decides it.
func systemdRunning() bool {
	st, err := os.Stat("/run/systemd/system")
	return err == nil && st.IsDir()
}

// startUnit runs the unit under the system's systemd, as it ships but for
// ExecStart, and under a name of its own so that no passt@.service of the
// machine is touched: started, it is active, runs our passt, and has its
// socket in its runtime directory; stopped, the socket and the directory
// are gone. The binaries are copied under /run, which the unit's
// PrivateTmp and ProtectHome leave visible.
func startUnit(t *testing.T, unit, passt, worker string) {
	t.Helper()
	nstest.NeedTool(t, "systemctl")
	bin, err := os.MkdirTemp("/run", "passt-go-unit-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(bin) })
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, passt, filepath.Join(bin, "passt"), 0o755)
	copyFile(t, worker, filepath.Join(bin, "passt-worker"), 0o755)

	name := fmt.Sprintf("t%d", os.Getpid())
	template := "passt-go-" + name + "@.service"
	instance := "passt-go-" + name + "@" + name + ".service"
	path := filepath.Join("/run/systemd/system", template)
	text := strings.ReplaceAll(unit, "/usr/bin/passt", filepath.Join(bin, "passt"))
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	// The unit wants network-online.target: bound the wait for it.
	systemctl := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "systemctl", args...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	t.Cleanup(func() {
		systemctl("stop", instance)
		if t.Failed() {
			out, _ := exec.Command("journalctl", "--no-pager", "-n", "50", "-u", instance).CombinedOutput()
			t.Logf("journal of %s:\n%s", instance, out)
		}
		systemctl("reset-failed", instance)
		os.Remove(path)
		systemctl("daemon-reload")
	})
	if out, err := systemctl("daemon-reload"); err != nil {
		t.Fatalf("systemctl daemon-reload: %v\n%s", err, out)
	}

	// Type=notify: start returns once passt said READY=1, or fails.
	if out, err := systemctl("start", instance); err != nil {
		t.Fatalf("systemctl start %s: %v\n%s", instance, err, out)
	}
	if out, _ := systemctl("is-active", instance); out != "active" {
		t.Errorf("%s: got %q, want active", instance, out)
	}
	sock := filepath.Join("/run/passt", name, "passt.socket")
	if st, err := os.Stat(sock); err != nil || st.Mode()&os.ModeSocket == 0 {
		t.Errorf("%s: %v (mode %v), want a socket", sock, err, st)
	}
	pid, _ := systemctl("show", "--property=MainPID", "--value", instance)
	exe, _ := os.Readlink("/proc/" + pid + "/exe")
	if exe != filepath.Join(bin, "passt") {
		t.Errorf("%s runs %q (pid %s), want %s", instance, exe, pid, filepath.Join(bin, "passt"))
	}

	if out, err := systemctl("stop", instance); err != nil {
		t.Errorf("systemctl stop %s: %v\n%s", instance, err, out)
	}
	if out, _ := systemctl("is-active", instance); out != "inactive" {
		t.Errorf("%s after stop: got %q, want inactive", instance, out)
	}
	if _, err := os.Stat(filepath.Dir(sock)); err == nil {
		t.Errorf("%s: still there after stop, want the runtime directory gone", filepath.Dir(sock))
	}
}
