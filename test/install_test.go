// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"passt-go/test/nstest"
)

// make install into a temporary DESTDIR gives working binaries: the
// installed passt finds its worker in the libexec directory and serves;
// pasta and passt4netns are the same file under other names; the man pages
// and the unit are there; make uninstall removes every file again.
func TestMakeInstall(t *testing.T) {
	nstest.NeedRoot(t)
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	dest := sharedDir(t)
	mk := func(target string) {
		t.Helper()
		cmd := exec.Command("make", "-s", target, "DESTDIR="+dest, "PREFIX=/usr")
		cmd.Dir = moduleRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make %s: %v\n%s", target, err, out)
		}
	}
	mk("install")
	// The build is left for the other tests as it was: a release build.
	t.Cleanup(func() {
		cmd := exec.Command("make", "-s", "all")
		cmd.Dir = moduleRoot()
		cmd.Run()
	})

	bin := filepath.Join(dest, "usr/bin")
	for _, f := range []string{
		"usr/bin/passt", "usr/bin/pasta", "usr/bin/passt4netns", "usr/bin/qrap",
		"usr/libexec/passt-go/passt-worker",
		"usr/share/man/man1/passt.1", "usr/share/man/man1/pasta.1", "usr/share/man/man1/qrap.1",
		"usr/share/man/man8/passt-worker.8", "usr/lib/systemd/system/passt@.service",
	} {
		if _, err := os.Stat(filepath.Join(dest, f)); err != nil {
			t.Errorf("installed file: %v", err)
		}
	}
	passtInfo, err1 := os.Stat(filepath.Join(bin, "passt"))
	pastaInfo, err2 := os.Lstat(filepath.Join(bin, "pasta"))
	if err1 != nil || err2 != nil || !os.SameFile(passtInfo, pastaInfo) {
		t.Errorf("pasta is not a hard link to passt: %v %v", err1, err2)
	}
	unit, _ := os.ReadFile(filepath.Join(dest, "usr/lib/systemd/system/passt@.service"))
	if !strings.Contains(string(unit), "ExecStart=/usr/bin/passt") {
		t.Errorf("unit does not start /usr/bin/passt:\n%s", unit)
	}

	verifyUnit(t, string(unit), filepath.Join(bin, "passt"))

	for _, tc := range []struct{ name, want string }{{"passt", "passt "}, {"pasta", "pasta "}, {"passt4netns", "pasta "}} {
		out, err := exec.Command(filepath.Join(bin, tc.name), "--version").Output()
		if err != nil || !strings.HasPrefix(string(out), tc.want) {
			t.Errorf("%s --version: got %q (%v), want %q...", tc.name, out, err, tc.want)
		}
	}

	// The installed passt runs, with the installed worker.
	work := sharedDir(t)
	sock := filepath.Join(work, "passt.socket")
	p := nstest.StartCmd(t, exec.Command(filepath.Join(bin, "passt"), "-f", "-s", sock))
	nstest.WaitFor(t, 10*time.Second, func() bool {
		if p.Exited() {
			t.Fatalf("installed passt exited:\n%s", p.Output())
		}
		return strings.Contains(p.Output(), "socket bound at")
	}, "the installed passt to be ready")
	worker := workerOf(t, p.PID())
	exe, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(worker), "exe"))
	if want := filepath.Join(dest, "usr/libexec/passt-go/passt-worker"); exe != want {
		t.Errorf("worker binary: got %s, want %s", exe, want)
	}
	p.Stop(5 * time.Second)

	mk("uninstall")
	filepath.Walk(dest, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			t.Errorf("left after uninstall: %s", path)
		}
		return nil
	})
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
