// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package sandbox

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// Profile selects the worker's allowlist.
type Profile int

const (
	// Passt is the worker behind a qemu socket or a tap fd.
	Passt Profile = iota
	// Pasta adds what the spliced loopback path needs (splice, pipes).
	Pasta
)

func (p Profile) String() string {
	switch p {
	case Passt:
		return "passt"
	case Pasta:
		return "pasta"
	}
	return fmt.Sprintf("Profile(%d)", int(p))
}

// Action is what the filter answers to a call that matches a rule.
type Action int

const (
	// Allow lets the call through to the kernel.
	Allow Action = iota
	// FailENOSYS fails the call with ENOSYS, as if the kernel lacked it.
	FailENOSYS
)

func (a Action) String() string {
	switch a {
	case Allow:
		return "allow"
	case FailENOSYS:
		return "ENOSYS"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Cmp is a condition on one argument of a call: Arg&Mask == Value.
type Cmp struct {
	Arg   uint   // argument number, 0 to 5
	Mask  uint64 // bits of the argument that are compared
	Value uint64 // what those bits must be
	// Self makes Value the process ID of the process loading the filter
	// (the worker), known only at load time; Value is then ignored.
	Self bool
}

// Rule is one entry of the allowlist. Rules for the same syscall are
// alternatives: a call matches if it satisfies any one of them.
type Rule struct {
	Syscall string // name as in the kernel's syscall table
	Action  Action
	Args    []Cmp  // all must hold; none means any arguments
	Who     string // who needs the call, one line
}

// String renders the rule on one line, as in the reviewed golden files:
// name, action, conditions ("(u32)argN" compares the low 32 bits, which is
// all the kernel reads of an int argument), and who needs it.
func (r Rule) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s %-7s", r.Syscall, r.Action)
	for i, c := range r.Args {
		if i == 0 {
			b.WriteString(" if")
		} else {
			b.WriteString(" &&")
		}
		v := fmt.Sprintf("%#x", c.Value)
		if c.Self {
			v = "own-pid"
		}
		switch c.Mask {
		case all64:
			fmt.Fprintf(&b, " arg%d == %s", c.Arg, v)
		case all32:
			fmt.Fprintf(&b, " (u32)arg%d == %s", c.Arg, v)
		default:
			fmt.Fprintf(&b, " arg%d & %#x == %s", c.Arg, c.Mask, v)
		}
	}
	fmt.Fprintf(&b, " # %s", r.Who)
	return b.String()
}

const (
	all64 = ^uint64(0)
	all32 = uint64(0xffffffff) // int arguments: the kernel reads 32 bits
)

// eq32 compares a 32-bit (int) argument.
func eq32(arg uint, v uint64) Cmp { return Cmp{Arg: arg, Mask: all32, Value: v} }

// eq64 compares a full 64-bit (long, pointer) argument.
func eq64(arg uint, v uint64) Cmp { return Cmp{Arg: arg, Mask: all64, Value: v} }

// zero requires the given bits of an argument to be zero.
func zero(arg uint, bits uint64) Cmp { return Cmp{Arg: arg, Mask: bits, Value: 0} }

// self requires a pid argument to be the loading process's own.
func self(arg uint) Cmp { return Cmp{Arg: arg, Mask: all32, Self: true} }

// Futex operations (linux/futex.h; golang.org/x/sys does not name them).
const (
	futexWait          = 0
	futexWake          = 1
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexPrivateFlag   = 128
	futexClockRealtime = 256
)

// cloneThread is the flag set of glibc's pthread_create, which creates
// every thread of the worker: libseccomp makes it a cgo binary, and the Go
// runtime then starts its threads through pthread_create.
const cloneThread = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SYSVSEM |
	unix.CLONE_SIGHAND | unix.CLONE_THREAD | unix.CLONE_SETTLS |
	unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_CLEARTID

// Allowlist returns the rules of profile p. Every system call not listed
// is forbidden. The slice is fresh: the caller may keep or change it.
func Allowlist(p Profile) []Rule {
	futexOps := all32 &^ (futexPrivateFlag | futexClockRealtime)
	sockType := all32 &^ (unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC)
	sock := func(family, typ, proto uint64, who string) Rule {
		return Rule{Syscall: "socket", Args: []Cmp{eq32(0, family), {Arg: 1, Mask: sockType, Value: typ}, eq32(2, proto)}, Who: who}
	}
	r := []Rule{
		// Go runtime and glibc: memory, locks, signals, threads.
		{Syscall: "futex", Args: []Cmp{{Arg: 1, Mask: futexOps, Value: futexWait}}, Who: "Go runtime locks and notes, glibc locks"},
		{Syscall: "futex", Args: []Cmp{{Arg: 1, Mask: futexOps, Value: futexWake}}, Who: "Go runtime locks and notes, glibc locks"},
		{Syscall: "futex", Args: []Cmp{{Arg: 1, Mask: futexOps, Value: futexWaitBitset}}, Who: "glibc timed waits"},
		{Syscall: "futex", Args: []Cmp{{Arg: 1, Mask: futexOps, Value: futexWakeBitset}}, Who: "glibc timed waits"},
		{Syscall: "mmap", Args: []Cmp{zero(2, unix.PROT_EXEC)}, Who: "Go heap and stacks, glibc thread stacks, vDSO getrandom state; never executable"},
		{Syscall: "mprotect", Args: []Cmp{zero(2, unix.PROT_EXEC)}, Who: "glibc guard pages of new thread stacks; never executable"},
		{Syscall: "munmap", Who: "Go heap, glibc thread stack cache"},
		{Syscall: "madvise", Who: "Go scavenger and GC return memory, glibc frees exited thread stacks"},
		{Syscall: "brk", Who: "glibc malloc (TLS of new threads)"},
		{Syscall: "rt_sigaction", Who: "Go signal handlers: os/signal, fatal signal path"},
		{Syscall: "rt_sigprocmask", Who: "Go per-thread signal masks, glibc pthread_create"},
		{Syscall: "rt_sigreturn", Who: "return from every signal handler (Go preemption)"},
		{Syscall: "sigaltstack", Who: "Go per-thread signal stack"},
		{Syscall: "getpid", Who: "Go runtime: signals to itself"},
		{Syscall: "gettid", Who: "Go runtime: thread ID of each M"},
		{Syscall: "tgkill", Args: []Cmp{self(0)}, Who: "Go async preemption (SIGURG) and crash re-raise, own process only"},
		{Syscall: "kill", Args: []Cmp{self(0)}, Who: "Go fatal signal re-raise, own process only"},
		{Syscall: "clone", Args: []Cmp{eq64(0, cloneThread)}, Who: "glibc pthread_create: new Go threads"},
		{Syscall: "clone3", Action: FailENOSYS, Who: "glibc tries clone3 first and falls back to clone on ENOSYS"},
		{Syscall: "set_robust_list", Who: "glibc, every new thread"},
		{Syscall: "rseq", Who: "glibc registers restartable sequences on every new thread"},
		{Syscall: "exit", Who: "thread exit (a locked goroutine returns)"},
		{Syscall: "exit_group", Who: "process exit"},
		{Syscall: "sched_yield", Who: "Go runtime: spinning Ms, GC"},
		{Syscall: "nanosleep", Who: "Go runtime usleep: sysmon, spinning"},
		{Syscall: "restart_syscall", Who: "kernel restarts an interrupted nanosleep or futex"},
		{Syscall: "clock_gettime", Who: "time.Now and timers when the vDSO falls back to the syscall"},
		{Syscall: "getrandom", Who: "initial sequence numbers, crypto/rand without vDSO getrandom"},

		// Event loop, timers, descriptors.
		{Syscall: "epoll_pwait", Who: "event loop (unix.EpollWait)"},
		{Syscall: "epoll_ctl", Who: "event loop: add, change, remove fds"},
		{Syscall: "timerfd_create", Who: "TCP per-connection timers"},
		{Syscall: "timerfd_settime", Who: "TCP per-connection timers"},
		{Syscall: "timerfd_gettime", Who: "TCP per-connection timers"},
		{Syscall: "read", Who: "tap frames, timerfds, IPC (fd 3), /proc/net fds from the monitor"},
		{Syscall: "write", Who: "tap frames, IPC (fd 3), logging to stderr"},
		{Syscall: "readv", Who: "qemu stream: length-prefixed frames"},
		{Syscall: "writev", Who: "qemu stream: batches of frames"},
		{Syscall: "ppoll", Who: "qemu stream writer: finishing a frame cut by a short write (TCP bursts fill the socket)"},
		{Syscall: "close", Who: "closing flows' sockets and timers"},
		{Syscall: "fcntl", Args: []Cmp{eq32(1, unix.F_GETFL)}, Who: "non-blocking mode of received fds"},
		{Syscall: "fcntl", Args: []Cmp{eq32(1, unix.F_SETFL)}, Who: "non-blocking mode of received fds"},
		{Syscall: "lseek", Who: "rewinding /proc/net fds from the monitor (port scans)"},
		{Syscall: "pread64", Who: "re-reading /proc/net fds from the monitor (port scans)"},

		// Host-side sockets for guest flows. No AF_UNIX: the worker shares
		// the host's network namespace, hence its abstract unix socket
		// namespace; everything local reaches it as fds from the monitor.
		sock(unix.AF_INET, unix.SOCK_STREAM, 0, "TCP flows (IPv4)"),
		sock(unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_TCP, "TCP flows (IPv4)"),
		sock(unix.AF_INET6, unix.SOCK_STREAM, 0, "TCP flows (IPv6)"),
		sock(unix.AF_INET6, unix.SOCK_STREAM, unix.IPPROTO_TCP, "TCP flows (IPv6)"),
		sock(unix.AF_INET, unix.SOCK_DGRAM, 0, "UDP flows (IPv4)"),
		sock(unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_UDP, "UDP flows (IPv4)"),
		sock(unix.AF_INET6, unix.SOCK_DGRAM, 0, "UDP flows (IPv6)"),
		sock(unix.AF_INET6, unix.SOCK_DGRAM, unix.IPPROTO_UDP, "UDP flows (IPv6)"),
		sock(unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP, "ICMP echo through ping sockets"),
		sock(unix.AF_INET6, unix.SOCK_DGRAM, unix.IPPROTO_ICMPV6, "ICMPv6 echo through ping sockets"),
		{Syscall: "bind", Who: "flow sockets: source address and port"},
		{Syscall: "connect", Who: "TCP connect, connected UDP and ICMP flows"},
		{Syscall: "listen", Who: "listening sockets the worker binds itself"},
		{Syscall: "accept4", Who: "inbound TCP connections"},
		{Syscall: "getsockname", Who: "UDP flows: bound address"},
		{Syscall: "getpeername", Who: "inbound connections: peer address"},
		{Syscall: "getsockopt", Who: "SO_ERROR, TCP_INFO, SO_PEEK_OFF"},
		{Syscall: "setsockopt", Who: "SO_PEEK_OFF, TCP_NODELAY, buffer sizes, SO_REUSEADDR"},
		{Syscall: "shutdown", Who: "TCP half-close (FIN from the guest)"},
		{Syscall: "recvfrom", Who: "TCP data with MSG_PEEK, UDP and ICMP replies"},
		{Syscall: "sendto", Who: "TCP data, UDP and ICMP datagrams"},
		{Syscall: "recvmsg", Who: "IPC with SCM_RIGHTS, TCP data with MSG_PEEK"},
		{Syscall: "sendmsg", Who: "IPC with SCM_RIGHTS, TCP data from guest frames"},
		{Syscall: "recvmmsg", Who: "UDP batches"},
		{Syscall: "sendmmsg", Who: "UDP batches"},
		{Syscall: "ioctl", Args: []Cmp{eq32(1, unix.SIOCOUTQ)}, Who: "TCP: bytes not yet acknowledged by the peer"},
		{Syscall: "ioctl", Args: []Cmp{eq32(1, unix.SIOCINQ)}, Who: "TCP and UDP: bytes waiting to be read (= FIONREAD)"},
	}
	if p == Pasta {
		r = append(r,
			Rule{Syscall: "splice", Who: "spliced loopback TCP: socket to pipe to socket"},
			Rule{Syscall: "pipe2", Who: "spliced loopback TCP: one pipe pair per connection"},
			Rule{Syscall: "fcntl", Args: []Cmp{eq32(1, unix.F_SETPIPE_SZ)}, Who: "spliced loopback TCP: pipe size"},
			Rule{Syscall: "fcntl", Args: []Cmp{eq32(1, unix.F_GETPIPE_SZ)}, Who: "spliced loopback TCP: pipe size"},
		)
	}
	return r
}
