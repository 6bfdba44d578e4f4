// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Command qrap connects to a running passt and executes qemu with the
// connection on a known descriptor (see package qrap).
package main

import (
	"fmt"
	"os"

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
	fmt.Fprintf(os.Stderr, "qrap: connected to %s on descriptor %d, starting %s\n", path, plan.FD, plan.Path)
	err = qrap.Exec(plan, fd, os.Environ())
	fmt.Fprintln(os.Stderr, "qrap:", err)
	os.Exit(1)
}
