// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Command qrap connects to a running passt and executes qemu with the
// connection on a known descriptor (see package qrap).
package main

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"passt-go/qrap"
)

func main() {
	plan, err := qrap.MakePlan(os.Args[1:], qrap.LookPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "qrap:", err)
		os.Exit(1)
	}
	fd, path, err := qrap.Connect(nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "qrap:", err)
		os.Exit(1)
	}
	if fd != plan.FD {
		// Dup3 without O_CLOEXEC: the descriptor must survive the exec.
		if err := unix.Dup3(fd, plan.FD, 0); err != nil {
			fmt.Fprintf(os.Stderr, "qrap: move connection to descriptor %d: %v\n", plan.FD, err)
			os.Exit(1)
		}
		unix.Close(fd)
	} else if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
		fmt.Fprintf(os.Stderr, "qrap: keep descriptor %d open: %v\n", fd, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "qrap: connected to %s on descriptor %d, starting %s\n", path, plan.FD, plan.Path)
	err = syscall.Exec(plan.Path, plan.Args, os.Environ())
	fmt.Fprintf(os.Stderr, "qrap: cannot start %s: %v\n", plan.Path, err)
	os.Exit(1)
}
