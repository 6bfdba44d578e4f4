// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package sandbox

import (
	"fmt"
	"syscall"
)

// RaiseNoFileLimit raises the soft RLIMIT_NOFILE to the hard limit, as
// passt does at start: every flow holds a socket (and a timerfd, and for
// spliced TCP two pipes), so the default soft limit of 1024 is too low.
// The monitor calls it before StartWorker; the worker inherits the limit
// (syscall.Setrlimit tells os/exec not to restore the original one).
// It returns the new soft limit.
func RaiseNoFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("sandbox: reading RLIMIT_NOFILE: %w", err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("sandbox: raising RLIMIT_NOFILE to %d: %w", lim.Max, err)
	}
	return lim.Cur, nil
}
