// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package nstest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// tcpListen is the state column of a listening socket in /proc/net/tcp*.
const tcpListen = "0A"

// Listening reports whether a socket in ns is listening on port: for
// "tcp" a socket in LISTEN state, for "udp" any socket bound to the port
// (both address families); "tcp4", "tcp6", "udp4" and "udp6" look at one
// family only. It reads /proc/thread-self/net/... from a thread inside ns
// (/proc/net follows the thread group leader's namespace, not the
// thread's). It returns false if the tables cannot be read; nil ns means
// the test process's namespace.
func Listening(ns *NS, proto string, port int) bool {
	ok, err := ListeningErr(ns, proto, port)
	return err == nil && ok
}

// ListeningErr is Listening that also reports why the answer could not be
// found.
func ListeningErr(ns *NS, proto string, port int) (bool, error) {
	var files []string
	switch proto {
	case "tcp", "udp":
		files = []string{proto, proto + "6"}
	case "tcp4", "udp4":
		files = []string{proto[:3]}
	case "tcp6", "udp6":
		files = []string{proto}
	default:
		return false, fmt.Errorf("listening: unknown protocol %q", proto)
	}
	found := false
	err := ns.Do(func() error {
		for _, f := range files {
			b, err := os.ReadFile("/proc/thread-self/net/" + f)
			if err != nil {
				return err
			}
			ok, err := portInTable(b, port, strings.HasPrefix(proto, "tcp"))
			if err != nil {
				return fmt.Errorf("/proc/net/%s: %w", f, err)
			}
			if ok {
				found = true
				return nil
			}
		}
		return nil
	})
	return found, err
}

// portInTable scans a /proc/net/{tcp,udp}[6] table for a socket whose local
// port is port, in LISTEN state if listen is set.
func portInTable(table []byte, port int, listen bool) (bool, error) {
	sc := bufio.NewScanner(bytes.NewReader(table))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	first := true
	for sc.Scan() {
		if first { // header
			first = false
			continue
		}
		// sl local_address rem_address st ...
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 {
			continue
		}
		_, hexPort, ok := strings.Cut(fields[1], ":")
		if !ok {
			return false, fmt.Errorf("malformed local address %q", fields[1])
		}
		p, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil {
			return false, fmt.Errorf("malformed port %q", hexPort)
		}
		if int(p) == port && (!listen || fields[3] == tcpListen) {
			return true, nil
		}
	}
	return false, sc.Err()
}
