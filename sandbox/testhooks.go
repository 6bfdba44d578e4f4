// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

//go:build testhooks

package sandbox

import (
	"fmt"
	"unsafe"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// This file exists only in binaries built with the testhooks tag, never in
// a release build: it lets tests make the worker do what it must not.

// ProbeErrno is what the probe filter answers to a forbidden call; no
// allowed call in the worker's allowlist returns it on its own.
const ProbeErrno = unix.ENOTRECOVERABLE

// ForbiddenSyscall makes a call that no profile allows: openat of "/".
// Under LoadFilter it does not return (SIGSYS kills the process); without
// a filter it returns an error saying so.
func ForbiddenSyscall() error {
	p, err := unix.BytePtrFromString("/")
	if err != nil {
		return err
	}
	dirfd := unix.AT_FDCWD
	fd, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), unix.O_RDONLY|unix.O_CLOEXEC, 0, 0, 0)
	if e == 0 {
		unix.Close(int(fd))
	}
	return fmt.Errorf("openat of / returned (errno %d): no filter stopped it", e)
}

// LoadProbeFilter installs the filter of profile p with ProbeErrno, not a
// kill, as the answer to calls outside the allowlist, so that a test can
// probe which calls and arguments the kernel lets through.
func LoadProbeFilter(p Profile) error {
	return loadFilter(p, seccomp.ActErrno.SetReturnCode(int16(ProbeErrno)))
}
