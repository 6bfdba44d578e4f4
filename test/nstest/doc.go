// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package nstest is the harness of the integration tests: it builds
// network namespaces, veth links and a small routed topology that never
// leaves the machine, runs commands inside those namespaces with bounded
// time, and makes a real kernel the guest of passt mode by bridging a
// qemu-stream socket to a tap device inside a namespace.
//
// Namespaces are named (ip netns add), so that ip netns exec can run
// programs in them with their own /etc/resolv.conf; every helper that
// creates something registers its removal with t.Cleanup. Helpers that take
// a *NS accept nil to mean the namespace the test process runs in, for
// reading only; nothing here changes that namespace.
//
// Addresses come only from the documentation ranges (192.0.2.0/24,
// 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32).
//
// The frame bridge (OpenTap, NewBridge, and the tapbridge program built on
// them) has no dependency on package testing's state and may run outside
// tests, for example under a benchmark of passt mode.
package nstest
