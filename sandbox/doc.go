// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package sandbox takes privilege away: from the worker, which parses
// everything the guest sends, and, where asked, from the monitor.
//
// # Security model
//
// The worker is assumed compromisable. It can then do no more than this:
//
//   - Files: none. Its root is an empty, read-only tmpfs (nodev, noexec,
//     nosuid, 4 KiB, two inodes) and openat is not in the seccomp
//     allowlist; /proc, /sys and the host's filesystem cannot be named.
//     What it needs from files (the /proc/net tables for port scans, a
//     pcap or log file) reaches it as fds from the monitor, which it may
//     read, re-read (pread64, lseek) and write.
//   - Namespaces: own user, mount, IPC and UTS namespaces; the host's
//     network namespace, because it opens ordinary host sockets for guest
//     flows, as passt does. It cannot create or enter another namespace
//     (unshare, setns, clone flags are filtered).
//   - Capabilities: none, in any set (effective, permitted, inheritable,
//     bounding, ambient), in any thread, in any namespace, from its first
//     instruction to its exit; no_new_privs is set and it is not dumpable,
//     so execve (forbidden anyway) could grant nothing and other processes
//     of the same user cannot ptrace it or read its memory.
//   - System calls: only Allowlist(profile), enforced by one seccomp
//     filter on every thread; anything else kills the whole process with
//     SIGSYS. socket is limited to TCP and UDP over IPv4 and IPv6 and ICMP
//     echo ("ping") sockets. Never AF_UNIX: sharing the host's network
//     namespace means sharing its abstract unix socket namespace (D-Bus,
//     X11 and the like); everything local it needs arrives as fds. Other
//     arguments filtered where cheap: clone only with thread-creation
//     flags (clone3 answers ENOSYS, so glibc falls back to clone), ioctl
//     only SIOCOUTQ and SIOCINQ, fcntl only F_GETFL and F_SETFL (plus the
//     pipe size for pasta), futex only wait and wake (plain and bitset),
//     no executable mappings, tgkill and kill only towards itself.
//   - Sockets: what the kernel allows an unprivileged process: no port
//     below 1024, no raw sockets, ping sockets only if ping_group_range
//     includes its group. Like passt, it can reach whatever the host can,
//     its loopback services included: that is its job. Listening sockets on low ports, and sockets
//     inside pasta's target namespace, come from the monitor as fds.
//   - Identity: the monitor's uid and gid, or nobody (or --runas) when
//     the monitor runs as root in the initial user namespace; inside its
//     own user namespace the worker is unmapped (the overflow uid).
//
// # Order of steps
//
// Monitor, before the worker exists:
//
//  1. RaiseNoFileLimit: soft RLIMIT_NOFILE to the hard limit, inherited.
//  2. LookupRunas: the identity for --runas, or nobody for root.
//  3. Set-up that needs privilege: listening sockets, tap, namespaces.
//  4. Either DropToUser for the whole monitor (then the worker inherits
//     the identity), or keep the monitor's privilege and pass the identity
//     as WorkerSpec.Credential. DropToUser must come before StartWorker.
//  5. StartWorker: on a new locked thread, empty the bounding set, switch
//     that thread alone to the Credential, empty the ambient, inheritable,
//     permitted and effective sets, set no_new_privs, fork and exec the
//     worker with a minimal environment plus the nsinit marker, fd 3 = IPC
//     socket, and SIGKILL as parent-death signal. The thread stays until
//     the worker exits, so that the signal means "monitor gone".
//  6. Wait, then DescribeExit for the one-line reason.
//
// Worker, in the nsinit constructor before the Go runtime starts (one
// thread; see package nsinit): one malloc arena; unshare user, mount, IPC
// and UTS; make / unbindable; mount the empty tmpfs; pivot_root into it and
// detach the old root; empty every capability set; no_new_privs; not
// dumpable; restore the parent-death signal. Then, in main:
//
//  7. Confined: the constructor ran with the marker and completed; the
//     thread has no capability, no_new_privs, is not dumpable; "/" is an
//     empty read-only tmpfs.
//  8. Receive configuration and fds on fd 3; create the epoll fd and
//     anything else that needs calls outside the allowlist.
//  9. LoadFilter (LoadDebugFilter to diagnose): it starts the runtime's
//     netpoller, refuses unless updatemaxprocs=0 and decoratemappings=0,
//     and installs the filter on every thread with TSYNC.
//  10. Only then read the first frame from the guest.
//
// # Why these mechanisms
//
// Capabilities and namespaces belong to threads, and the Go runtime starts
// threads before main; syscall.AllThreadsSyscall is unavailable once cgo
// is linked, and libseccomp needs cgo. So the monitor drops on the one
// thread that forks (clone copies that thread's credentials), and the
// worker confines itself in a C constructor while it still has one thread
// (unshare of a user namespace requires that). A seccomp filter, in
// contrast, reaches every thread through TSYNC.
//
// The capability calls are made with golang.org/x/sys/unix directly rather
// than through github.com/syndtr/gocapability, for three defects that
// matter here: its Apply skips the bounding set without a word when
// CAP_SETPCAP is not effective, it loses errors of the ambient loop, and
// its Load reads the bounding and ambient sets of the process's main
// thread, not of the calling one. The integration tests use that library
// for what it does well: an independent reading of every worker thread's
// sets from outside.
package sandbox
