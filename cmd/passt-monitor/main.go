// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Command passt-monitor is passt and pasta (installed under those names:
// the mode follows the name it is started as). See package monitor.
package main

import (
	"os"

	"passt-go/monitor"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "unknown"

// libexecDir is where the worker is installed; set at build time.
var libexecDir string

func main() {
	if libexecDir != "" {
		monitor.LibexecDir = libexecDir
	}
	os.Exit(monitor.Run(os.Args[0], os.Args[1:], version))
}
