// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"passt-go/test/nstest"
)

// cliRun runs bin (passt or pasta, from dir) with args outside any
// namespace and returns its standard output, standard error and exit
// status.
func cliRun(t *testing.T, dir, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(dir, bin), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("%s %q: %v", bin, args, err)
		}
	case <-time.After(nstest.DefaultTimeout):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s %q: still running after %v", bin, args, nstest.DefaultTimeout)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// -h and --version answer on standard output with status 0; a command line
// that is wrong gets one line on standard error, naming what is wrong and
// where the options are listed, nothing on standard output, and status 1.
func TestCLI(t *testing.T) {
	dir, _ := binaries(t)
	for _, mode := range []string{"passt", "pasta"} {
		t.Run(mode+"/-h", func(t *testing.T) {
			stdout, stderr, code := cliRun(t, dir, mode, "-h")
			if code != 0 || stderr != "" {
				t.Errorf("got status %d and stderr %q, want 0 and nothing", code, stderr)
			}
			if !strings.HasPrefix(stdout, "Usage: "+mode+" ") || !strings.Contains(stdout, "--trace") {
				t.Errorf("got stdout %q, want the usage of %s", stdout, mode)
			}
		})
		t.Run(mode+"/--version", func(t *testing.T) {
			stdout, stderr, code := cliRun(t, dir, mode, "--version")
			if code != 0 || stderr != "" {
				t.Errorf("got status %d and stderr %q, want 0 and nothing", code, stderr)
			}
			// binaries builds without -ldflags: the version is "unknown".
			if stdout != mode+" unknown\n" {
				t.Errorf("got stdout %q, want %q", stdout, mode+" unknown\n")
			}
		})
		for _, tc := range []struct {
			name string
			args []string
			want string // in the one line of standard error
		}{
			{name: "unknown long option", args: []string{"--no-such-option"}, want: "unrecognized option '--no-such-option'"},
			{name: "unknown short option", args: []string{"-Z"}, want: "invalid option -- 'Z'"},
			{name: "missing argument", args: []string{"-m"}, want: "option requires an argument -- 'm'"},
			{name: "malformed value", args: []string{"--mtu", "lots"}, want: "Invalid MTU: lots"},
			{name: "malformed port specification", args: []string{"-t", "99999"}, want: `-t "99999": port 99999 out of range`},
			{name: "not supported yet", args: []string{"--chroot-fallback"}, want: "--chroot-fallback: not supported yet"},
		} {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				stdout, stderr, code := cliRun(t, dir, mode, tc.args...)
				if code != 1 || stdout != "" {
					t.Errorf("got status %d and stdout %q, want 1 and nothing", code, stdout)
				}
				line, rest, _ := strings.Cut(stderr, "\n")
				if rest != "" || !strings.HasSuffix(stderr, "\n") {
					t.Errorf("got stderr %q, want exactly one line", stderr)
				}
				if !strings.HasPrefix(line, mode+": ") || !strings.Contains(line, tc.want) || !strings.Contains(line, mode+" --help") {
					t.Errorf("got %q, want %q naming %q and pointing to %s --help", line, mode+": ...", tc.want, mode)
				}
			})
		}
	}
}

// cliLogLine is a line of the monitor's log: seconds since start, then
// the message.
var cliLogLine = regexp.MustCompile(`^\d+\.\d{4}: (.*)$`)

// passt --debug prints the configuration it derived from the host: a
// namespace with known interfaces, routes and resolv.conf (the host of
// TestHostConf) gives known lines.
func TestCLIDebugConfiguration(t *testing.T) {
	p, _ := startHostConfPasst(t, "-d")
	if err := p.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(time.Second); err != nil {
		t.Errorf("passt stopped by SIGTERM: got %v, want status 0", err)
	}

	// The configuration, in order; a line ending in "*" is a prefix.
	want := []string{
		"Template interface: eth0 (IPv4), eth0 (IPv6)",
		"MAC:",
		"    host: *",
		"DHCP:",
		"    assign: 192.0.2.2",
		"    mask: 255.255.255.0",
		"    router: 192.0.2.1",
		"DNS:",
		"    192.0.2.53",
		"    192.0.2.1",
		"NDP/DHCPv6:",
		"    assign: 2001:db8:1::2",
		"    router: 2001:db8:1::1",
		"    our link-local: fe80::2",
		"DNS:",
		"    2001:db8::53",
		"DNS search list:",
		"    example.com",
	}
	var got []string
	for _, l := range strings.Split(p.Output(), "\n") {
		if m := cliLogLine.FindStringSubmatch(l); m != nil {
			got = append(got, m[1])
		}
	}
	i := 0
	for _, l := range got {
		if i == len(want) {
			break
		}
		w := want[i]
		if l == w || strings.HasSuffix(w, "*") && strings.HasPrefix(l, strings.TrimSuffix(w, "*")) {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("the debug output lacks %q (after %q); got:\n%s", want[i], want[:i], strings.Join(got, "\n"))
	}
}
