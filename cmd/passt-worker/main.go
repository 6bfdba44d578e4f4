// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Command passt-worker is the sandboxed process of passt-go; the monitor
// (passt, pasta) starts it. Importing sandbox/nsinit makes a constructor
// confine the process before the Go runtime starts its threads; the go:debug
// lines turn off runtime work that would need system calls outside the
// seccomp allowlist (periodic GOMAXPROCS updates, naming memory mappings).
//
//go:debug updatemaxprocs=0
//go:debug decoratemappings=0
package main

import (
	"os"

	_ "passt-go/sandbox/nsinit"
	"passt-go/worker"
)

func main() {
	os.Exit(worker.Main())
}
