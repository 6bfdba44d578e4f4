// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package nsinit confines the worker process before the Go runtime starts.
//
// Importing it (for its side effect only) links a C constructor into the
// binary. The dynamic loader runs that constructor before main, while the
// process still has a single thread. If, and only if, the environment holds
// PASST_GO_NSINIT=1, the constructor:
//
//  1. limits glibc malloc to one arena: past a few arenas glibc reads the
//     CPU count from /sys, which would be gone (and openat forbidden);
//  2. unshares the user, mount, IPC and UTS namespaces (the network
//     namespace stays the host's: the worker opens host sockets);
//  3. makes "/" recursively unbindable, so nothing propagates to the host;
//  4. mounts an empty tmpfs (read-only, nodev, noexec, nosuid, 4 KiB, two
//     inodes) on /tmp, or the first of /mnt, /run, /dev that works;
//  5. changes into it, pivot_root(".", "."), detaches the old root and
//     changes to "/": from here no file of the host can be named;
//  6. empties the bounding, ambient, inheritable, permitted and effective
//     capability sets, sets no_new_privs and makes the process
//     non-dumpable;
//  7. sets the parent-death signal again (and delivers it if the parent
//     is already gone), then checks with capget that nothing is left.
//
// No uid or gid map is written: none of these steps needs one, and mapping
// uid 0 would need CAP_SETFCAP in the parent namespace. Inside its user
// namespace the worker therefore appears as the overflow uid.
//
// If a namespace step fails, the remaining namespace steps are skipped but
// step 5 still runs, so a failed start never leaves a capability behind.
// The outcome (state, first failed step, errno) is stored in a C variable
// that sandbox.Confined reads; the worker must call sandbox.Confined before
// doing anything else and stop if it reports an error.
//
// Without the marker the constructor only records that it ran and was
// skipped, so tests and tools that link this package are unaffected. The
// constructor needs external linking, which cgo packages outside the
// standard library force; sandbox.Confined reports a constructor that never
// ran.
//
// After the pivot there is no /proc and no /sys: the Go runtime's start-up
// reads (transparent huge page size, cgroup CPU limit) fail and it falls
// back to defaults. Anything else the worker needs from files must reach it
// as file descriptors.
//
// Binaries built with the testhooks tag honour PASST_GO_NSINIT_FAIL_AT=N,
// which makes step number N (see status.h) fail with EPERM, so tests can
// check the failure path.
package nsinit
