// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Enumerations shared by the message payloads and the broker policy. Every
// enumeration keeps zero for "unset", so a forgotten field never reads as a
// meaningful value.

package ipc

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// Role is the part a process plays on the connection.
type Role uint8

const (
	RoleMonitor Role = 1 // privileged, never parses guest traffic
	RoleWorker  Role = 2 // sandboxed, parses guest traffic
)

func (r Role) String() string {
	switch r {
	case RoleMonitor:
		return "monitor"
	case RoleWorker:
		return "worker"
	}
	return "role(" + strconv.Itoa(int(r)) + ")"
}

func (r Role) valid() bool { return r == RoleMonitor || r == RoleWorker }

// Proto is a transport protocol. The values are the IP protocol numbers.
type Proto uint8

const (
	TCP Proto = unix.IPPROTO_TCP
	UDP Proto = unix.IPPROTO_UDP
)

func (p Proto) String() string {
	switch p {
	case 0:
		return "none"
	case TCP:
		return "TCP"
	case UDP:
		return "UDP"
	}
	return "proto(" + strconv.Itoa(int(p)) + ")"
}

// Family is an IP address family.
type Family uint8

const (
	IPv4 Family = 4
	IPv6 Family = 6
)

// AF returns the socket address family (unix.AF_INET, unix.AF_INET6), or
// unix.AF_UNSPEC for anything else.
func (f Family) AF() int {
	switch f {
	case IPv4:
		return unix.AF_INET
	case IPv6:
		return unix.AF_INET6
	}
	return unix.AF_UNSPEC
}

func (f Family) String() string {
	switch f {
	case 0:
		return "any"
	case IPv4:
		return "IPv4"
	case IPv6:
		return "IPv6"
	}
	return "family(" + strconv.Itoa(int(f)) + ")"
}

// Side says which network namespace a resource belongs to: the one the
// monitor started in (the host's) or the target namespace of pasta.
type Side uint8

const (
	SideHost      Side = 1
	SideNamespace Side = 2
)

func (s Side) String() string {
	switch s {
	case 0:
		return "unset"
	case SideHost:
		return "host"
	case SideNamespace:
		return "namespace"
	}
	return "side(" + strconv.Itoa(int(s)) + ")"
}

// FDRole says what a file descriptor handed to the worker is for.
type FDRole uint8

const (
	FDQemuListener FDRole = iota + 1 // listening AF_UNIX stream socket for qemu
	FDQemuConn                       // connected AF_UNIX stream socket to qemu
	FDTap                            // tap device (a /dev/net/tun file)
	FDTCPListener                    // listening TCP socket of a forwarding rule
	FDUDPListener                    // bound UDP socket of a forwarding rule
	FDLog                            // log file opened for writing
	FDPcap                           // packet capture file opened for writing
	FDProcNet                        // /proc/net/{tcp,udp}{,6} for port re-scans
	FDNSHandle                       // handle of a namespace (an nsfs file)
	numFDRoles
)

var fdRoleNames = [numFDRoles]string{
	FDQemuListener: "QemuListener",
	FDQemuConn:     "QemuConn",
	FDTap:          "Tap",
	FDTCPListener:  "TCPListener",
	FDUDPListener:  "UDPListener",
	FDLog:          "Log",
	FDPcap:         "Pcap",
	FDProcNet:      "ProcNet",
	FDNSHandle:     "NSHandle",
}

func (r FDRole) String() string {
	if r > 0 && r < numFDRoles {
		return fdRoleNames[r]
	}
	return "fdrole(" + strconv.Itoa(int(r)) + ")"
}

func (r FDRole) valid() bool { return r > 0 && r < numFDRoles }

// Level is the severity of a log line, as passt's -q/-d/--trace select them.
type Level uint8

const (
	LevelError Level = iota + 1
	LevelWarning
	LevelInfo
	LevelDebug
	LevelTrace
	numLevels
)

var levelNames = [numLevels]string{
	LevelError:   "error",
	LevelWarning: "warning",
	LevelInfo:    "info",
	LevelDebug:   "debug",
	LevelTrace:   "trace",
}

func (l Level) String() string {
	if l > 0 && l < numLevels {
		return levelNames[l]
	}
	return "level(" + strconv.Itoa(int(l)) + ")"
}

func (l Level) valid() bool { return l > 0 && l < numLevels }
