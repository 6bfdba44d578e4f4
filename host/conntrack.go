// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package host

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultSysctlDir is where the kernel's sysctls are read.
const DefaultSysctlDir = "/proc/sys"

// The connection tracker's UDP timeouts, relative to the sysctl directory,
// and the kernel's defaults, which apply when the files are missing (no
// nf_conntrack module loaded) or unusable.
const (
	conntrackUDPTimeout       = "net/netfilter/nf_conntrack_udp_timeout"
	conntrackUDPStreamTimeout = "net/netfilter/nf_conntrack_udp_timeout_stream"

	DefaultUDPTimeout       = 30 * time.Second
	DefaultUDPStreamTimeout = 120 * time.Second
)

// maxConntrackTimeout bounds a timeout read from a sysctl: larger values
// are refused as garbage rather than overflowing a time.Duration.
const maxConntrackTimeout = 1 << 31

// UDPTimeouts are the idle timeouts of UDP flows, as the host's
// connection tracker has them.
type UDPTimeouts struct {
	// Timeout applies to flows that have seen at most one datagram each
	// way (nf_conntrack_udp_timeout).
	Timeout time.Duration
	// Stream applies to flows with more than one datagram in some
	// direction (nf_conntrack_udp_timeout_stream).
	Stream time.Duration
}

// ReadUDPTimeouts reads the connection tracker's UDP timeouts under the
// sysctl directory dir ("" for DefaultSysctlDir). A missing file gives the
// default silently; an unreadable file, a value that is not a positive
// number of seconds, or one absurdly large gives the default and a
// message in notes, for the caller to log.
func ReadUDPTimeouts(dir string) (t UDPTimeouts, notes []string) {
	if dir == "" {
		dir = DefaultSysctlDir
	}
	read := func(name string, def time.Duration) time.Duration {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return def
		}
		if err != nil {
			notes = append(notes, fmt.Sprintf("Couldn't read %s: %v; using %v", path, err, def))
			return def
		}
		s := strings.TrimSpace(string(data))
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil || n == 0 || n > maxConntrackTimeout {
			notes = append(notes, fmt.Sprintf("Invalid value %q in %s; using %v", s, path, def))
			return def
		}
		return time.Duration(n) * time.Second
	}
	t.Timeout = read(conntrackUDPTimeout, DefaultUDPTimeout)
	t.Stream = read(conntrackUDPStreamTimeout, DefaultUDPStreamTimeout)
	return t, notes
}
