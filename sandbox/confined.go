// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package sandbox

/*
#include <stddef.h>
#include "nsinit/status.h"

// Defined by sandbox/nsinit when it is linked in; NULL otherwise.
extern struct passt_nsinit_status passt_nsinit_status __attribute__((weak));

static int nsinit_linked(void) { return &passt_nsinit_status != NULL; }
static struct passt_nsinit_status nsinit_read(void) { return passt_nsinit_status; }
static const char *nsinit_marker(void) { return NSINIT_MARKER; }
static const char *nsinit_fail_at(void) { return NSINIT_FAIL_AT; }
*/
import "C"

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// markerEnv is the environment variable that makes the nsinit constructor
// act; StartWorker sets it to "1". The name comes from nsinit/status.h.
var markerEnv = C.GoString(C.nsinit_marker())

// failAtEnv names a constructor step to fail on purpose (testhooks builds).
var failAtEnv = C.GoString(C.nsinit_fail_at())

// stepNames names the constructor's steps, indexed by NSINIT_STEP_*.
var stepNames = [C.NSINIT_STEP_COUNT]string{
	C.NSINIT_STEP_NONE:         "no step",
	C.NSINIT_STEP_ARENAS:       "limiting glibc malloc to one arena",
	C.NSINIT_STEP_UNSHARE:      "unshare of the user, mount, IPC and UTS namespaces",
	C.NSINIT_STEP_PRIVATE:      "making / unbindable",
	C.NSINIT_STEP_MOUNT:        "mounting the empty tmpfs",
	C.NSINIT_STEP_CHDIR:        "changing into the empty tmpfs",
	C.NSINIT_STEP_PIVOT:        "pivot_root",
	C.NSINIT_STEP_DETACH:       "detaching the old root",
	C.NSINIT_STEP_CHDIR_ROOT:   "changing to the new root",
	C.NSINIT_STEP_BOUNDING:     "emptying the bounding set",
	C.NSINIT_STEP_AMBIENT:      "emptying the ambient set",
	C.NSINIT_STEP_CAPSET:       "emptying the capability sets",
	C.NSINIT_STEP_NO_NEW_PRIVS: "setting no_new_privs",
	C.NSINIT_STEP_DUMPABLE:     "making the process non-dumpable",
	C.NSINIT_STEP_PDEATHSIG:    "restoring the parent-death signal",
	C.NSINIT_STEP_VERIFY:       "checking that no capability is left",
}

// ConfineError reports why the worker is not confined.
type ConfineError struct {
	// Step is what failed or is missing, in words.
	Step string
	// Err is the cause, if there is one (often a unix.Errno).
	Err error
}

func (e *ConfineError) Error() string {
	if e.Err == nil {
		return "worker not confined: " + e.Step
	}
	return "worker not confined: " + e.Step + ": " + e.Err.Error()
}

func (e *ConfineError) Unwrap() error { return e.Err }

// Confined verifies that this process is a confined worker: the nsinit
// constructor is linked, ran with its marker and completed every step, and,
// checked afresh, the calling thread holds no capability in any set, has
// no_new_privs, is not dumpable, and "/" is an empty read-only tmpfs.
//
// It must be the worker's first call in main, before LoadFilter (it opens
// "/", which the filter forbids). Every thread of the worker descends from
// the single thread the constructor confined, so checking the calling
// thread covers them: the kernel copies credentials to new threads. On
// failure it returns a *ConfineError and the worker must exit.
func Confined() error {
	if C.nsinit_linked() == 0 {
		return &ConfineError{Step: "package passt-go/sandbox/nsinit is not linked into this binary"}
	}
	st := C.nsinit_read()
	switch st.state {
	case C.NSINIT_NOT_RUN:
		return &ConfineError{Step: "the nsinit constructor did not run (was the binary linked internally?)"}
	case C.NSINIT_SKIPPED:
		return &ConfineError{Step: "the nsinit constructor found no " + markerEnv + "=1 in the environment"}
	case C.NSINIT_FAILED:
		name := "unknown step"
		if st.step >= 0 && int(st.step) < len(stepNames) {
			name = stepNames[st.step]
		}
		return &ConfineError{Step: name, Err: unix.Errno(st.err)}
	case C.NSINIT_DONE:
	default:
		return &ConfineError{Step: fmt.Sprintf("the nsinit constructor left an unknown state %d", st.state)}
	}
	if err := checkThread(); err != nil {
		return err
	}
	return checkRoot()
}

// checkThread verifies the calling thread's credentials and flags.
func checkThread() error {
	caps, err := ThreadCaps()
	if err != nil {
		return &ConfineError{Step: "reading capabilities", Err: err}
	}
	if !caps.Empty() {
		return &ConfineError{Step: fmt.Sprintf("capabilities left: effective %#x, permitted %#x, inheritable %#x, bounding %#x, ambient %#x",
			caps.Effective, caps.Permitted, caps.Inheritable, caps.Bounding, caps.Ambient)}
	}
	nnp, err := noNewPrivs()
	if err != nil {
		return &ConfineError{Step: "reading no_new_privs", Err: err}
	}
	if !nnp {
		return &ConfineError{Step: "no_new_privs is not set"}
	}
	d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil {
		return &ConfineError{Step: "reading the dumpable flag", Err: err}
	}
	if d != 0 {
		return &ConfineError{Step: "the process is still dumpable"}
	}
	return nil
}

// checkRoot verifies that "/" is an empty, read-only tmpfs.
func checkRoot() error {
	var fs unix.Statfs_t
	if err := unix.Statfs("/", &fs); err != nil {
		return &ConfineError{Step: "statfs of /", Err: err}
	}
	if fs.Type != unix.TMPFS_MAGIC {
		return &ConfineError{Step: fmt.Sprintf("/ is not a tmpfs (filesystem type %#x)", fs.Type)}
	}
	if fs.Flags&unix.ST_RDONLY == 0 {
		return &ConfineError{Step: "/ is not read-only"}
	}
	fd, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &ConfineError{Step: "opening /", Err: err}
	}
	defer unix.Close(fd)
	names, err := readDirNames(fd)
	if err != nil {
		return &ConfineError{Step: "reading /", Err: err}
	}
	if len(names) > 0 {
		return &ConfineError{Step: fmt.Sprintf("/ is not empty (%d entries, first %q)", len(names), names[0])}
	}
	return nil
}

// readDirNames lists a directory fd, without "." and "..", with raw
// getdents64 (no os.File: the worker keeps its fds raw).
func readDirNames(fd int) ([]string, error) {
	var names []string
	buf := make([]byte, 4096)
	for range 1024 {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
	return nil, errors.New("directory listing did not end")
}
