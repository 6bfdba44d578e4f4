// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package sandbox

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// LoadFilter installs the seccomp filter of profile p on every thread of
// the calling process (TSYNC); a call outside Allowlist(p) kills the whole
// process with SIGSYS. It also sets no_new_privs. A filter cannot be
// removed: call it once, after everything that needs other calls (Confined,
// the worker's own epoll fd, received fds) and before the first byte from
// the guest. It starts the Go runtime's netpoller first, because timers
// need it and epoll_create1 is not allowed afterwards, and loads the local
// time zone, which needs openat (in the empty root: UTC). It refuses to load
// unless the binary turned the runtime's background calls off with
//
//	//go:debug updatemaxprocs=0
//	//go:debug decoratemappings=0
//
// above its main package (and GODEBUG does not turn them on again).
func LoadFilter(p Profile) error {
	return loadFilter(p, seccomp.ActKillProcess)
}

// LoadDebugFilter is LoadFilter with a trap instead of the kill: the
// offending thread gets SIGSYS, and the Go runtime prints "SIGSYS: bad
// system call" with a traceback of the calling goroutine and a register
// dump (the call's number is in rax on amd64, x8 on arm64), then exits 2.
// For diagnosing a missing entry only; a thread that blocks or handles
// SIGSYS could go on, so never use it in production.
func LoadDebugFilter(p Profile) error {
	return loadFilter(p, seccomp.ActTrap)
}

// ExportPFC writes the filter of profile p, as libseccomp would load it
// for the calling process, in libseccomp's readable PFC form to f.
func ExportPFC(p Profile, f *os.File) error {
	filter, err := build(p, seccomp.ActKillProcess, unix.Getpid())
	if err != nil {
		return err
	}
	defer filter.Release()
	if err := filter.ExportPFC(f); err != nil {
		return fmt.Errorf("seccomp: exporting the %s filter: %w", p, err)
	}
	return nil
}

// quietRuntime lists the GODEBUG settings that must be 0 in a filtered
// process: with them on, the Go runtime (1.25 and later) makes calls in
// the background that the filter forbids: sched_getaffinity and cgroup
// reads every second, prctl(PR_SET_VMA) on every new mapping.
var quietRuntime = []string{"updatemaxprocs", "decoratemappings"}

// checkQuietRuntime verifies quietRuntime against the binary's default
// GODEBUG (its //go:debug lines) and the GODEBUG environment variable.
func checkQuietRuntime() error {
	defaults := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "DefaultGODEBUG" {
				defaults = s.Value
			}
		}
	}
	for _, k := range quietRuntime {
		if v := godebugValue(defaults, os.Getenv("GODEBUG"), k); v != "0" {
			return fmt.Errorf("seccomp: the Go runtime has %s=%q, want 0: add //go:debug %s=0 to the worker's main package", k, v, k)
		}
	}
	return nil
}

// godebugValue returns the value of key in GODEBUG lists: env overrides
// defaults, and a later entry an earlier one. Empty means unset.
func godebugValue(defaults, env, key string) string {
	v := ""
	for _, list := range []string{defaults, env} {
		for _, kv := range strings.Split(list, ",") {
			if k, val, ok := strings.Cut(kv, "="); ok && k == key {
				v = val
			}
		}
	}
	return v
}

func loadFilter(p Profile, violation seccomp.ScmpAction) error {
	if err := checkQuietRuntime(); err != nil {
		return err
	}
	// Go timers start the runtime's netpoller on first use
	// (epoll_create1, eventfd2), which the filter does not allow: start it
	// now with a timer that never fires (a function timer: channel timers
	// reach the runtime's heap only once something waits on them).
	time.AfterFunc(time.Hour, func() {}).Stop()
	// The local time zone is loaded from a file on first use (a log
	// line with a time stamp): load it now. In the empty root there is no
	// such file, so the worker's local time is UTC.
	_ = time.Local.String()

	filter, err := build(p, violation, unix.Getpid())
	if err != nil {
		return err
	}
	defer filter.Release()
	if err := filter.Load(); err != nil {
		return fmt.Errorf("seccomp: loading the %s filter: %w", p, err)
	}
	return nil
}

// build turns the allowlist into a libseccomp filter for the native
// architecture: violation for unlisted calls and for calls from another
// architecture's ABI, no_new_privs, and a binary tree over syscall
// numbers instead of a linear scan.
func build(p Profile, violation seccomp.ScmpAction, pid int) (*seccomp.ScmpFilter, error) {
	filter, err := seccomp.NewFilter(violation)
	if err != nil {
		return nil, fmt.Errorf("seccomp: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			filter.Release()
		}
	}()
	if err := filter.SetBadArchAction(violation); err != nil {
		return nil, fmt.Errorf("seccomp: setting the bad-architecture action: %w", err)
	}
	if err := filter.SetNoNewPrivsBit(true); err != nil {
		return nil, fmt.Errorf("seccomp: setting no_new_privs: %w", err)
	}
	// Older libseccomp has no binary tree: the filter is then linear,
	// slower but the same.
	_ = filter.SetOptimize(2)

	for _, r := range Allowlist(p) {
		nr, err := seccomp.GetSyscallFromName(r.Syscall)
		if err != nil {
			return nil, fmt.Errorf("seccomp: unknown system call %q: %w", r.Syscall, err)
		}
		act := seccomp.ActAllow
		if r.Action == FailENOSYS {
			act = seccomp.ActErrno.SetReturnCode(int16(unix.ENOSYS))
		}
		conds := make([]seccomp.ScmpCondition, 0, len(r.Args))
		for _, c := range r.Args {
			v := c.Value
			if c.Self {
				v = uint64(uint32(pid))
			}
			var cond seccomp.ScmpCondition
			if c.Mask == all64 {
				cond, err = seccomp.MakeCondition(c.Arg, seccomp.CompareEqual, v)
			} else {
				// libseccomp: (argument & first) == second.
				cond, err = seccomp.MakeCondition(c.Arg, seccomp.CompareMaskedEqual, c.Mask, v)
			}
			if err != nil {
				return nil, fmt.Errorf("seccomp: condition of %s: %w", r.Syscall, err)
			}
			conds = append(conds, cond)
		}
		if len(conds) == 0 {
			err = filter.AddRuleExact(nr, act)
		} else {
			err = filter.AddRuleConditionalExact(nr, act, conds)
		}
		if err != nil {
			return nil, fmt.Errorf("seccomp: rule for %s: %w", r.Syscall, err)
		}
	}
	ok = true
	return filter, nil
}
