// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package guest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Qemu is the emulator the guest runs in (Debian's qemu-system-x86).
const Qemu = "qemu-system-x86_64"

// Accelerators.
const (
	KVM = "kvm"
	TCG = "tcg"
)

// QemuArgs returns qemu's arguments (without the program name) that boot
// img with accel, its console on qemu's standard output, and params on
// the kernel command line as pgo_NAME=VALUE, which the init script reads.
// The caller adds the network card and its back-end. The machine powers
// off when init is done, and on a panic qemu exits instead of
// rebooting. no_timer_check: under TCG on a busy host the kernel's check
// of the IO-APIC timer can fail and panic the boot.
func (img Image) QemuArgs(accel string, params map[string]string) []string {
	cmdline := []string{"console=ttyS0", "loglevel=3", "panic=-1", "no_timer_check", "rdinit=/init"}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmdline = append(cmdline, "pgo_"+k+"="+params[k])
	}
	args := []string{"-accel", accel}
	if accel == KVM {
		args = append(args, "-cpu", "host")
	}
	return append(args,
		"-machine", "pc", "-m", "256", "-smp", "1",
		"-no-user-config", "-nodefaults", "-display", "none", "-no-reboot",
		"-serial", "stdio",
		"-kernel", img.Kernel, "-initrd", img.Initrd,
		"-append", strings.Join(cmdline, " "))
}

// NIC is the network card the tests give the guest, on back-end id.
// romfile= leaves out the card's boot ROM: the kernel is loaded directly.
func NIC(id string) []string {
	return []string{"-device", "virtio-net-pci,netdev=" + id + ",romfile="}
}

// Result is one check's line from the console.
type Result struct {
	Name   string
	Status string // PASS, FAIL or SKIP
	Detail string // KEY=VALUE words for PASS, the reason otherwise
}

// Value returns the value of key in a PASS line's details.
func (r Result) Value(key string) (string, bool) {
	for _, w := range strings.Fields(r.Detail) {
		if k, v, ok := strings.Cut(w, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

var resultLine = regexp.MustCompile(`RESULT (\S+) (PASS|FAIL|SKIP)(?: (.*))?$`)

// ParseResults reads the RESULT lines of console output (kernel messages
// and carriage returns may surround them). A name reported twice keeps
// its first FAIL, else its last line. done reports whether init printed
// DONE.
func ParseResults(out string) (results map[string]Result, done bool) {
	results = map[string]Result{}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "DONE" {
			done = true
			continue
		}
		m := resultLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if prev, ok := results[m[1]]; ok && prev.Status == "FAIL" {
			continue
		}
		results[m[1]] = Result{Name: m[1], Status: m[2], Detail: strings.TrimSpace(m[3])}
	}
	return results, done
}

// ProbeKVM boots img with KVM, doing nothing but reporting that it came
// up, within timeout. /dev/kvm may exist and still not work (no nested
// virtualisation, a refused ioctl, a guest that never runs): only a boot
// proves it. It returns how long the boot took, or why KVM is unusable.
func ProbeKVM(img Image, timeout time.Duration) (time.Duration, error) {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, Qemu, img.QemuArgs(KVM, map[string]string{"mode": "probe"})...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start)
	if ctx.Err() != nil {
		return 0, fmt.Errorf("no boot within %v%s", timeout, lastLine(out.String()))
	}
	if err != nil {
		return 0, fmt.Errorf("qemu: %v%s", err, lastLine(out.String()))
	}
	results, done := ParseResults(out.String())
	if r := results["boot"]; r.Status != "PASS" || !done {
		return 0, fmt.Errorf("the guest did not report its boot%s", lastLine(out.String()))
	}
	return took, nil
}

// lastLine quotes the last line of output that says something, for an
// error message.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if l := strings.TrimSpace(lines[len(lines)-1]); l != "" {
		return fmt.Sprintf(" (last output: %q)", l)
	}
	return " (no output)"
}
