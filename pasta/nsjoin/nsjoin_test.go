// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package nsjoin

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// The test binary links the constructor too: run again with the
// environment set, it reports what the constructor did.
const childEnv = "PASST_GO_NSJOIN_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		asked, err := Result()
		ns, _ := os.Readlink("/proc/thread-self/ns/net")
		fmt.Printf("asked=%v err=%v ns=%s\n", asked, err, ns)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child runs the test binary with env and extra files (descriptors 3...)
// and returns what it reported.
func child(t *testing.T, env []string, files ...*os.File) string {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), append([]string{childEnv + "=1"}, env...)...)
	cmd.ExtraFiles = files
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestNotAsked(t *testing.T) {
	if asked, err := Result(); asked || err != nil {
		t.Errorf("got %v, %v; want nothing asked", asked, err)
	}
	// The descriptors alone, without the marker, do nothing.
	if got := child(t, []string{FDsEnv + "=-1,3"}); !strings.HasPrefix(got, "asked=false err=<nil>") {
		t.Errorf("without the marker: got %q", got)
	}
}

func TestMalformed(t *testing.T) {
	for _, v := range []string{"", "3", "x,3", "-1,", "-1,2", "-2,3", "3,4,5"} {
		got := child(t, []string{MarkerEnv + "=1", FDsEnv + "=" + v})
		if !strings.Contains(got, "asked=true err=malformed") {
			t.Errorf("%s=%q: got %q, want a malformed value", FDsEnv, v, got)
		}
	}
}

func TestNotANamespace(t *testing.T) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := child(t, []string{MarkerEnv + "=1", FDsEnv + "=-1,3"}, f)
	if !strings.Contains(got, "asked=true err=join the network namespace: invalid argument") {
		t.Errorf("got %q", got)
	}
}

func TestJoin(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	holder := exec.Command("unshare", "-n", "sleep", "30")
	if err := holder.Start(); err != nil {
		t.Skipf("unshare: %v", err)
	}
	defer func() { holder.Process.Kill(); holder.Wait() }()
	path := fmt.Sprintf("/proc/%d/ns/net", holder.Process.Pid)
	var want string
	for range 1000 {
		// unshare has entered its namespace once it runs sleep.
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", holder.Process.Pid))
		if strings.HasSuffix(exe, "/sleep") {
			want, _ = os.Readlink(path)
			break
		}
		unix.Nanosleep(&unix.Timespec{Nsec: 1e6}, nil)
	}
	own, _ := os.Readlink("/proc/self/ns/net")
	if want == "" || want == own {
		t.Fatalf("no separate namespace to join (%q)", want)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := child(t, []string{MarkerEnv + "=1", FDsEnv + "=-1,3"}, f)
	if got != "asked=true err=<nil> ns="+want {
		t.Errorf("got %q, want the holder's namespace %s", got, want)
	}
}
