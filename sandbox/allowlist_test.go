// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package sandbox

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden allowlists in testdata")

// renderAllowlist is the reviewed form of a profile's allowlist.
func renderAllowlist(p Profile) string {
	rules := Allowlist(p)
	var b strings.Builder
	fmt.Fprintf(&b, "# seccomp allowlist, profile %s: %d rules; anything else kills the worker\n", p, len(rules))
	for _, r := range rules {
		b.WriteString(r.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// TestAllowlistGolden makes every change to the allowlist show up in
// review: run "go test ./sandbox -run Golden -update" and commit the diff.
func TestAllowlistGolden(t *testing.T) {
	for _, p := range []Profile{Passt, Pasta} {
		t.Run(p.String(), func(t *testing.T) {
			path := filepath.Join("testdata", "allowlist-"+p.String()+".golden")
			got := renderAllowlist(p)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("allowlist of %s differs from %s; run with -update after review.\ngot:\n%s", p, path, got)
			}
		})
	}
}

func TestAllowlistRules(t *testing.T) {
	forbidden := []string{
		"open", "openat", "openat2", "creat", "execve", "execveat", "ptrace",
		"mount", "umount2", "pivot_root", "chroot", "unshare", "setns",
		"socketpair", "prctl", "bpf", "memfd_create", "epoll_create1",
		"eventfd2", "process_vm_readv", "process_vm_writev", "kexec_load",
		"init_module", "finit_module", "keyctl", "add_key", "userfaultfd",
		"perf_event_open", "io_uring_setup", "setuid", "setgid", "capset",
		"seccomp", "fork", "vfork", "mremap", "sched_getaffinity",
	}
	pastaOnly := map[string]bool{"splice": true, "pipe2": true}
	for _, p := range []Profile{Passt, Pasta} {
		t.Run(p.String(), func(t *testing.T) {
			names := map[string]bool{}
			for _, r := range Allowlist(p) {
				names[r.Syscall] = true
				if r.Who == "" {
					t.Errorf("%s: no comment saying who needs it", r.Syscall)
				}
				for _, c := range r.Args {
					if c.Arg > 5 {
						t.Errorf("%s: argument %d does not exist", r.Syscall, c.Arg)
					}
					if c.Mask == 0 {
						t.Errorf("%s: condition on argument %d compares nothing", r.Syscall, c.Arg)
					}
				}
				if r.Action == FailENOSYS && r.Syscall != "clone3" {
					t.Errorf("%s: got ENOSYS, want only clone3 to fail that way", r.Syscall)
				}
			}
			for _, n := range forbidden {
				if names[n] {
					t.Errorf("%s is allowed, want forbidden", n)
				}
			}
			for n := range pastaOnly {
				if got, want := names[n], p == Pasta; got != want {
					t.Errorf("%s allowed: got %v, want %v", n, got, want)
				}
			}
			for _, n := range []string{"clone3", "epoll_pwait", "recvmmsg", "sendmmsg", "exit_group"} {
				if !names[n] {
					t.Errorf("%s missing", n)
				}
			}
		})
	}
}

// TestAllowlistSocketRules checks that socket() is only allowed with the
// families and protocols the worker needs, never AF_UNIX.
func TestAllowlistSocketRules(t *testing.T) {
	for _, p := range []Profile{Passt, Pasta} {
		for _, r := range Allowlist(p) {
			if r.Syscall != "socket" {
				continue
			}
			if len(r.Args) != 3 {
				t.Errorf("%s: got %d conditions, want family, type and protocol", r, len(r.Args))
				continue
			}
			if fam := r.Args[0].Value; fam != 2 && fam != 10 {
				t.Errorf("%s: got family %d, want AF_INET (2) or AF_INET6 (10)", r, fam)
			}
		}
	}
}

// TestFilterBuilds loads nothing but has libseccomp accept every rule of
// both profiles, as the worker would load them, and export them.
func TestFilterBuilds(t *testing.T) {
	for _, p := range []Profile{Passt, Pasta} {
		t.Run(p.String(), func(t *testing.T) {
			f, err := os.CreateTemp(t.TempDir(), "pfc")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := ExportPFC(p, f); err != nil {
				t.Fatal(err)
			}
			out, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"action KILL_PROCESS", "action ERRNO(38)"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("PFC output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

func TestGodebugValue(t *testing.T) {
	tests := []struct {
		name     string
		defaults string
		env      string
		want     string
	}{
		{name: "from go:debug lines", defaults: "decoratemappings=0,updatemaxprocs=0", want: "0"},
		{name: "unset", defaults: "decoratemappings=0", want: ""},
		{name: "environment overrides", defaults: "updatemaxprocs=0", env: "updatemaxprocs=1", want: "1"},
		{name: "environment alone", env: "gctrace=1,updatemaxprocs=0", want: "0"},
		{name: "later entry wins", env: "updatemaxprocs=0,updatemaxprocs=1", want: "1"},
		{name: "prefix is another key", defaults: "updatemaxprocsx=0", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := godebugValue(tc.defaults, tc.env, "updatemaxprocs"); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
