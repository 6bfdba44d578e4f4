// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// The namespace's socket tables, for auto forwarding.

package pasta

import (
	"slices"

	"golang.org/x/sys/unix"
)

// ProcNetFiles are the socket tables the keeper opens inside the network
// namespace and hands to the monitor. A /proc/net file stays bound to the
// network namespace it was opened in: rewound and read again, it shows
// that namespace's sockets at the time of the read, whoever reads it and
// whatever identity the reader has taken since. So the monitor can scan
// the namespace's listening ports for as long as it runs, in both modes
// (also after the keeper of a joined namespace is gone, and when the
// namespace was given as a path, without a process to look through).
var ProcNetFiles = []string{"tcp", "tcp6", "udp", "udp6"}

// openProcNet opens the keeper's own /proc/net files; one that does not
// open (IPv6 disabled, for one) is left out.
func openProcNet() ([]string, []int) {
	var names []string
	var fds []int
	for _, name := range ProcNetFiles {
		fd, err := unix.Open("/proc/thread-self/net/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		names = append(names, name)
		fds = append(fds, fd)
	}
	return names, fds
}

// validProcNet checks the names of a ready message: known, each once.
func validProcNet(names []string) bool {
	seen := map[string]bool{}
	for _, n := range names {
		if !slices.Contains(ProcNetFiles, n) || seen[n] {
			return false
		}
		seen[n] = true
	}
	return true
}
