// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package sandbox

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// kmsgWait bounds how long DescribeExit looks for the kernel's record of a
// seccomp kill: the audit subsystem writes it from its own thread, shortly
// after the process died.
const kmsgWait = 500 * time.Millisecond

// kmsgMaxRecords bounds the records read from /dev/kmsg in one call.
const kmsgMaxRecords = 1 << 17

// DescribeExit returns one line saying why the worker with process ID pid
// ended, from its wait status: "worker exited with status 1", "worker
// killed by signal SIGKILL (killed)", and so on.
//
// For SIGSYS, the seccomp filter's signal, it also names the forbidden
// system call when it can: the kernel logs an audit record (type=1326,
// with pid= and syscall=) to /dev/kmsg unless an audit daemon takes it.
// Opening /dev/kmsg needs privilege (CAP_SYSLOG, or dmesg_restrict off),
// which DescribeExit, called when the worker is gone, may no longer have:
// a process that gives up its privileges opens the log before, with
// OpenKernelLog, and calls KernelLog.DescribeExit instead. The search is
// non-blocking and gives up after half a second, and the line then says
// where to look instead.
func DescribeExit(pid int, ws syscall.WaitStatus) string {
	return describeExit(nil, pid, ws)
}

// KernelLog is /dev/kmsg, opened for reading while the process still may.
// Reading an open descriptor needs no privilege, so the kernel's record
// of a seccomp kill stays readable after the process has switched to an
// unprivileged user.
type KernelLog struct {
	fd int
}

// OpenKernelLog opens /dev/kmsg, non-blocking and close-on-exec, at the
// end of the log: later reads see only records written after the call.
// The caller closes it.
func OpenKernelLog() (*KernelLog, error) {
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/kmsg: %w", err)
	}
	if _, err := unix.Seek(fd, 0, unix.SEEK_END); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("seek to the end of /dev/kmsg: %w", err)
	}
	return &KernelLog{fd: fd}, nil
}

// Close closes the log. It may be called on a nil *KernelLog.
func (k *KernelLog) Close() error {
	if k == nil || k.fd < 0 {
		return nil
	}
	err := unix.Close(k.fd)
	k.fd = -1
	return err
}

// DescribeExit is the package's DescribeExit, reading the records written
// since OpenKernelLog (and not yet read) for the cause of a SIGSYS. On a
// nil *KernelLog it opens /dev/kmsg itself, as the package's function
// does. Not safe for concurrent use.
func (k *KernelLog) DescribeExit(pid int, ws syscall.WaitStatus) string {
	return describeExit(k, pid, ws)
}

func describeExit(k *KernelLog, pid int, ws syscall.WaitStatus) string {
	switch {
	case ws.Exited():
		return fmt.Sprintf("worker exited with status %d", ws.ExitStatus())
	case ws.Signaled():
		sig := ws.Signal()
		s := fmt.Sprintf("worker killed by signal %s (%s)", signalName(sig), sig)
		if ws.CoreDump() {
			s += ", core dumped"
		}
		if sig == syscall.SIGSYS {
			s += ": " + seccompCause(k, pid, time.Now().Add(kmsgWait))
		}
		return s
	case ws.Stopped():
		return fmt.Sprintf("worker stopped by signal %s (%s)", signalName(ws.StopSignal()), ws.StopSignal())
	case ws.Continued():
		return "worker continued"
	}
	return fmt.Sprintf("worker ended with unknown wait status %#x", uint32(ws))
}

func signalName(sig syscall.Signal) string {
	if n := unix.SignalName(sig); n != "" {
		return n
	}
	return "signal " + strconv.Itoa(int(sig))
}

// seccompCause names the system call that got pid killed, from k (or from
// /dev/kmsg opened now if k is nil), or says where to find it.
func seccompCause(k *KernelLog, pid int, deadline time.Time) string {
	var rec auditRecord
	var err error
	if k != nil && k.fd >= 0 {
		rec, err = scanSeccompRecord(k.fd, pid, deadline)
	} else {
		rec, err = findSeccompRecord(pid, deadline)
	}
	if err != nil {
		return fmt.Sprintf("a system call outside the seccomp allowlist; the kernel log (dmesg, journalctl -k) names it in an audit record with type=1326 and pid=%d", pid)
	}
	name := "unknown"
	if native := nativeAuditArch(); rec.arch != 0 && native != 0 && rec.arch != native {
		// Another ABI (say i386 on x86_64): its numbers differ.
		name = "ABI " + strconv.FormatUint(uint64(rec.arch), 16)
	} else if n, err := seccomp.ScmpSyscall(rec.syscall).GetName(); err == nil {
		name = n
	}
	return fmt.Sprintf("system call %d (%s) is not in the seccomp allowlist", rec.syscall, name)
}

// auditRecord is what DescribeExit needs from a seccomp audit record.
type auditRecord struct {
	pid     int
	syscall int
	arch    uint32
}

var errNoRecord = errors.New("no seccomp audit record found")

// findSeccompRecord opens /dev/kmsg and scans it from its oldest record
// with scanSeccompRecord.
func findSeccompRecord(pid int, deadline time.Time) (auditRecord, error) {
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return auditRecord{}, err
	}
	defer unix.Close(fd)
	return scanSeccompRecord(fd, pid, deadline)
}

// scanSeccompRecord reads the non-blocking /dev/kmsg descriptor fd from
// its current position, waiting with poll until deadline for records
// still to come, and returns the last seccomp record for pid.
func scanSeccompRecord(fd, pid int, deadline time.Time) (auditRecord, error) {
	buf := make([]byte, 8192) // the kernel's limit for one record
	var found auditRecord
	ok := false
	for range kmsgMaxRecords {
		n, err := unix.Read(fd, buf)
		switch {
		case err == nil:
			if rec, match := parseSeccompRecord(string(buf[:n])); match && rec.pid == pid {
				found, ok = rec, true
			}
			continue
		case err == unix.EPIPE, err == unix.EINTR:
			continue // overwritten before we read it; go on
		case err != unix.EAGAIN:
			return auditRecord{}, err
		}
		// Caught up with the log.
		if ok {
			return found, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return auditRecord{}, errNoRecord
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, int(left/time.Millisecond)+1); err != nil && err != unix.EINTR {
			return auditRecord{}, err
		}
	}
	if ok {
		return found, nil
	}
	return auditRecord{}, errNoRecord
}

// parseSeccompRecord parses one /dev/kmsg record ("prio,seq,time,flags;
// message\n" and continuation lines) and reports whether it is a seccomp
// audit record (type=1326) with a pid and a syscall number.
func parseSeccompRecord(r string) (auditRecord, bool) {
	_, msg, ok := strings.Cut(r, ";")
	if !ok {
		return auditRecord{}, false
	}
	msg, _, _ = strings.Cut(msg, "\n")
	if !strings.Contains(msg, "type=1326 ") {
		return auditRecord{}, false
	}
	var rec auditRecord
	var havePID, haveNR bool
	for _, f := range strings.Fields(msg) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		switch k {
		case "pid":
			n, err := strconv.Atoi(v)
			rec.pid, havePID = n, err == nil
		case "syscall":
			n, err := strconv.Atoi(v)
			rec.syscall, haveNR = n, err == nil
		case "arch":
			n, err := strconv.ParseUint(v, 16, 32)
			if err == nil {
				rec.arch = uint32(n)
			}
		}
	}
	return rec, havePID && haveNR
}

// nativeAuditArch is the AUDIT_ARCH_* value of this build's system call
// ABI, or 0 where we do not know it.
func nativeAuditArch() uint32 {
	switch runtime.GOARCH {
	case "amd64":
		return unix.AUDIT_ARCH_X86_64
	case "arm64":
		return unix.AUDIT_ARCH_AARCH64
	case "386":
		return unix.AUDIT_ARCH_I386
	case "arm":
		return unix.AUDIT_ARCH_ARM
	case "riscv64":
		return unix.AUDIT_ARCH_RISCV64
	case "ppc64le":
		return unix.AUDIT_ARCH_PPC64LE
	case "s390x":
		return unix.AUDIT_ARCH_S390X
	case "loong64":
		return unix.AUDIT_ARCH_LOONGARCH64
	}
	return 0
}
