// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package sandbox

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestDescribeExit(t *testing.T) {
	// Wait statuses as the kernel encodes them.
	exit := func(code int) syscall.WaitStatus { return syscall.WaitStatus(code << 8) }
	signal := func(sig syscall.Signal, core bool) syscall.WaitStatus {
		ws := syscall.WaitStatus(sig)
		if core {
			ws |= 0x80
		}
		return ws
	}
	stopped := func(sig syscall.Signal) syscall.WaitStatus { return syscall.WaitStatus(int(sig)<<8 | 0x7f) }
	tests := []struct {
		name string
		ws   syscall.WaitStatus
		want string
	}{
		{name: "clean exit", ws: exit(0), want: "worker exited with status 0"},
		{name: "failure exit", ws: exit(3), want: "worker exited with status 3"},
		{name: "killed", ws: signal(syscall.SIGKILL, false), want: "worker killed by signal SIGKILL (killed)"},
		{name: "crashed with core", ws: signal(syscall.SIGSEGV, true), want: "worker killed by signal SIGSEGV (segmentation fault), core dumped"},
		{name: "stopped", ws: stopped(syscall.SIGSTOP), want: "worker stopped by signal SIGSTOP (stopped (signal))"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DescribeExit(1234, tc.ws); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestDescribeExitSIGSYSWithoutRecord: for a pid that no audit record
// names, the line says where to look, within the time bound.
func TestDescribeExitSIGSYSWithoutRecord(t *testing.T) {
	start := time.Now()
	got := DescribeExit(1<<30, syscall.WaitStatus(syscall.SIGSYS))
	if d := time.Since(start); d > 2*kmsgWait {
		t.Errorf("took %v, want at most %v", d, 2*kmsgWait)
	}
	want := "worker killed by signal SIGSYS (bad system call): a system call outside the seccomp allowlist; the kernel log (dmesg, journalctl -k) names it in an audit record with type=1326 and pid=1073741824"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if strings.Contains(got, "\n") {
		t.Errorf("got %q, want one line", got)
	}
}

func TestParseSeccompRecord(t *testing.T) {
	tests := []struct {
		name   string
		record string
		want   auditRecord
		ok     bool
	}{
		{
			name:   "kill record",
			record: "5,1234,1403494418,-;audit: type=1326 audit(1795596810.353:4): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=25736 comm=\"tw\" exe=\"/tmp/tw\" sig=31 arch=c000003e syscall=257 compat=0 ip=0x40a5ce code=0x80000000\n",
			want:   auditRecord{pid: 25736, syscall: 257, arch: 0xc000003e},
			ok:     true,
		},
		{
			name:   "continuation lines ignored",
			record: "5,9,1,-;audit: type=1326 audit(1.2:3): pid=7 sig=31 arch=c00000b7 syscall=56 code=0x80000000\n SUBSYSTEM=x\n",
			want:   auditRecord{pid: 7, syscall: 56, arch: 0xc00000b7},
			ok:     true,
		},
		{
			name:   "another audit type",
			record: "5,1,1,-;audit: type=1400 audit(1.2:3): apparmor=\"DENIED\" pid=7 syscall=2\n",
			ok:     false,
		},
		{
			name:   "no syscall field",
			record: "5,1,1,-;audit: type=1326 audit(1.2:3): pid=7 sig=31\n",
			ok:     false,
		},
		{
			name:   "no prefix",
			record: "audit: type=1326 pid=7 syscall=2",
			ok:     false,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseSeccompRecord(tc.record)
			if ok != tc.ok || (ok && got != tc.want) {
				t.Errorf("got %+v, %v, want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
