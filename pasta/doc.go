// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package pasta creates or joins the network namespace that pasta serves,
// opens the tap device inside it, configures it, and runs the command of a
// namespace it creates.
//
// # Why a second process
//
// A Go program always has several threads, and the kernel lets neither
// unshare(CLONE_NEWUSER) nor setns(CLONE_NEWUSER) change a process with
// more than one thread. So the monitor never enters the namespaces itself:
// it starts its own binary again as the keeper (PASST_GO_PASTA_KEEPER=1 in
// the environment, see IsKeeper and KeeperMain), which is inside them from
// its first instruction:
//
//   - Spawn (pasta [COMMAND]): clone(2) flags create new user, network,
//     mount, UTS, IPC and PID namespaces for the keeper, with the monitor's
//     final identity mapped to root (nobody's when root starts pasta, as
//     upstream). The keeper is the PID namespace's first process: it mounts
//     /proc, lets root open ICMP echo sockets (ping_group_range "0 0"), sets
//     the hostname (-H, or "pasta-" and the host's), and later runs the
//     command and reaps orphans until the command ends.
//   - Attach (pasta PID, --netns, --userns): the monitor opens and checks
//     the namespace files, and the nsjoin constructor of the keeper joins
//     them before the Go runtime starts. The keeper ends once it has
//     answered.
//
// In both cases the keeper brings loopback up, creates the tap device
// (named after the host's template interface, or -I), sets its MAC address
// (--ns-mac-addr) and MTU, and with --config-net brings it up and copies
// the host's addresses and routes onto it (see NewSetup). It sends the tap
// device and a handle on the network namespace back over a SOCK_SEQPACKET
// pair with SCM_RIGHTS. The worker gets the tap; it never enters a
// namespace.
//
// # Lifetime
//
// A spawned namespace lives as long as its command: the keeper reports the
// command's wait status (Done gives the shell's reading of it, 128 and the
// signal's number for a signal) and exits, which ends every other process
// of the namespace. SIGTERM and SIGHUP reach the command through the
// keeper (Signal). When pasta fails (its worker died), Close ends the
// keeper and the namespace with it; only if the monitor itself is killed
// does the command go on without a network, as under upstream pasta.
//
// A joined namespace is someone else's: WatchGone reports when its file
// goes away, so that pasta can exit (unless --no-netns-quit).
package pasta
