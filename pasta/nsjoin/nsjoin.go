// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package nsjoin moves a process into pasta's target user and network
// namespaces before the Go runtime starts.
//
// The kernel refuses setns(CLONE_NEWUSER) to a process with more than one
// thread, and a Go program has several before its first init function
// runs. Importing this package links a C constructor that the dynamic
// loader runs before the runtime, while the process has a single thread.
// It acts only in a process whose environment holds both
// PASST_GO_PASTA_KEEPER=1 and PASST_GO_NSJOIN=USERFD,NETFD: it joins the
// user namespace open as USERFD (unless it is -1), then the network
// namespace open as NETFD, and closes both. Every thread the runtime
// starts afterwards is inside them.
//
// The constructor never exits the process; Result says what happened, and
// the caller decides. This is the one package beside sandbox with C code,
// for the same reason: the step has to come before the runtime's threads.
package nsjoin

/*
#cgo CFLAGS: -O2 -Wall -Wextra
#include "nsjoin.h"

extern struct passt_nsjoin_status passt_nsjoin_status;
*/
import "C"

import (
	"fmt"
	"syscall"
)

// Environment variables the constructor reads.
const (
	MarkerEnv = C.NSJOIN_MARKER
	FDsEnv    = C.NSJOIN_FDS
)

// Result reports whether the constructor was asked to join namespaces and,
// if it was, the error of the step that failed (nil when it joined them).
func Result() (asked bool, err error) {
	st := C.passt_nsjoin_status
	switch st.state {
	case C.NSJOIN_NOT_ASKED:
		return false, nil
	case C.NSJOIN_DONE:
		return true, nil
	}
	errno := syscall.Errno(st.err)
	switch st.step {
	case C.NSJOIN_STEP_PARSE:
		return true, fmt.Errorf("malformed %s", FDsEnv)
	case C.NSJOIN_STEP_USER:
		return true, fmt.Errorf("join the user namespace: %w", errno)
	case C.NSJOIN_STEP_NET:
		return true, fmt.Errorf("join the network namespace: %w", errno)
	}
	return true, fmt.Errorf("join namespaces: step %d: %w", int(st.step), errno)
}
