// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package pasta

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"passt-go/conf"
	"passt-go/host"
)

func TestNewSetup(t *testing.T) {
	a4 := netip.MustParsePrefix("192.0.2.2/24")
	b4 := netip.MustParsePrefix("198.51.100.7/25")
	a6 := netip.MustParsePrefix("2001:db8:1::2/64")
	gw4 := netip.MustParseAddr("192.0.2.1")
	gw6 := netip.MustParseAddr("fe80::1")
	def4 := host.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: gw4, Table: 254}
	net4 := host.Route{Dst: netip.MustParsePrefix("192.0.2.0/24"), Table: 254}
	def6 := host.Route{Dst: netip.MustParsePrefix("::/0"), Gateway: gw6, Priority: 1024, Table: 254}
	family4 := func(copyAddrs, copyRoutes bool) conf.Family {
		return conf.Family{Enabled: true, HostAddrs: []netip.Prefix{a4, b4}, HostRoutes: []host.Route{def4, net4},
			CopyAddrs: copyAddrs, CopyRoutes: copyRoutes, Addr: a4.Addr(), PrefixLen: 24, Gateway: gw4}
	}
	family6 := conf.Family{Enabled: true, HostAddrs: []netip.Prefix{a6}, HostRoutes: []host.Route{def6},
		CopyAddrs: true, CopyRoutes: true, Addr: a6.Addr(), PrefixLen: 64, Gateway: gw6}

	for _, tc := range []struct {
		name       string
		configNet  bool
		v4, v6     conf.Family
		want4      NetFamily
		want6      NetFamily
		wantSpawn  bool
		netns, cmd string
	}{
		{
			name: "copy everything", configNet: true, v4: family4(true, true), v6: family6,
			want4:     NetFamily{Enabled: true, Addrs: []netip.Prefix{a4, b4}, Routes: []host.Route{def4, net4}},
			want6:     NetFamily{Enabled: true, Addrs: []netip.Prefix{a6}, Routes: []host.Route{def6}},
			wantSpawn: true, cmd: "true",
		},
		{
			name: "one address, default route", configNet: true, v4: family4(false, false),
			want4: NetFamily{Enabled: true, Addrs: []netip.Prefix{a4},
				Routes: []host.Route{{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: gw4}}},
			wantSpawn: true,
		},
		{
			name: "IPv6 without an address", configNet: true,
			v6: conf.Family{Enabled: true, Gateway: gw6, PrefixLen: 64},
			want6: NetFamily{Enabled: true,
				Routes: []host.Route{{Dst: netip.MustParsePrefix("::/0"), Gateway: gw6}}},
			wantSpawn: true,
		},
		{
			name: "without --config-net", v4: family4(true, true), v6: family6,
			netns: "/run/netns/x",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &conf.Config{MTU: 65520, IPv4: tc.v4, IPv6: tc.v6, Hostname: "h",
				Namespace: &conf.Namespace{Ifname: "eth0", ConfigNet: tc.configNet, Netns: tc.netns}}
			if tc.cmd != "" {
				cfg.Namespace.Command = []string{tc.cmd}
			}
			s := NewSetup(cfg)
			if !reflect.DeepEqual(s.IPv4, tc.want4) {
				t.Errorf("IPv4: got %+v, want %+v", s.IPv4, tc.want4)
			}
			if !reflect.DeepEqual(s.IPv6, tc.want6) {
				t.Errorf("IPv6: got %+v, want %+v", s.IPv6, tc.want6)
			}
			if s.Spawn != tc.wantSpawn || s.Ifname != "eth0" || s.MTU != 65520 || s.Hostname != "h" || s.ConfigNet != tc.configNet {
				t.Errorf("got %+v", s)
			}
		})
	}
}

func TestFindCommand(t *testing.T) {
	t.Setenv("SHELL", "/bin/myshell")
	s := Setup{}
	if err := findCommand(&s); err != nil || s.Path != "/bin/myshell" || !reflect.DeepEqual(s.Command, []string{"-/bin/myshell"}) {
		t.Errorf("no command: got %q %q %v, want the login shell", s.Path, s.Command, err)
	}
	s = Setup{Command: []string{"sh", "-c", "true"}}
	if err := findCommand(&s); err != nil || !filepath.IsAbs(s.Path) || filepath.Base(s.Path) != "sh" {
		t.Errorf("sh: got %q, %v", s.Path, err)
	}
	s = Setup{Command: []string{"no-such-command-here"}}
	err := findCommand(&s)
	if err == nil || err.Error() != "cannot run no-such-command-here: executable file not found in $PATH" {
		t.Errorf("missing command: got %v", err)
	}
}

func TestExplainSpawn(t *testing.T) {
	write := func(t *testing.T, root string, files map[string]string) {
		for name, v := range files {
			p := filepath.Join(root, "sys", name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	eperm := fmt.Errorf("cannot create namespaces: %w", unix.EPERM)
	for _, tc := range []struct {
		name  string
		files map[string]string
		err   error
		euid  int
		want  string // "" for no hint
	}{
		{"disabled", map[string]string{"user/max_user_namespaces": "0"}, fmt.Errorf("x: %w", unix.ENOSPC), 0, "user.max_user_namespaces is 0"},
		{"limit reached", map[string]string{"user/max_user_namespaces": "10"}, fmt.Errorf("x: %w", unix.ENOSPC), 1000, "is reached"},
		{"debian switch", map[string]string{"kernel/unprivileged_userns_clone": "0"}, eperm, 1000, "kernel.unprivileged_userns_clone is 0"},
		{"debian switch, root", map[string]string{"kernel/unprivileged_userns_clone": "0"}, eperm, 0, ""},
		{"apparmor", map[string]string{"kernel/apparmor_restrict_unprivileged_userns": "1"}, errors.New("bring loopback up: operation not permitted"), 1000, "kernel.apparmor_restrict_unprivileged_userns is 1"},
		{"apparmor off", map[string]string{"kernel/apparmor_restrict_unprivileged_userns": "0"}, eperm, 1000, ""},
		{"unrelated error", map[string]string{"user/max_user_namespaces": "0"}, errors.New("cannot run x: not found"), 1000, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			write(t, root, tc.files)
			got := explainSpawn(tc.err, root, tc.euid)
			if !errors.Is(got, tc.err) {
				t.Errorf("got %v, which does not wrap %v", got, tc.err)
			}
			if strings.Contains(got.Error(), "\n") {
				t.Errorf("got %q: more than one line", got)
			}
			if tc.want == "" && got.Error() != tc.err.Error() {
				t.Errorf("got %q, want %q unchanged", got, tc.err)
			}
			if tc.want != "" && !strings.Contains(got.Error(), tc.want) {
				t.Errorf("got %q, want it to say %q", got, tc.want)
			}
		})
	}
}

func TestChannel(t *testing.T) {
	a, b, err := socketPair()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(a)
	ca, cb := newChannel(a), newChannel(b)
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	link := Link{Name: "eth0", Index: 2, MAC: conf.MAC{2, 0, 0, 0, 0, 1}, MTU: 65520}
	if err := ca.send(message{Kind: kindReady, Link: &link, Warnings: []string{"w"}}, p[1]); err != nil {
		t.Fatal(err)
	}
	unix.Close(p[1])
	m, fds, err := cb.recv()
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != kindReady || m.Link == nil || *m.Link != link || len(m.Warnings) != 1 {
		t.Errorf("got %+v", m)
	}
	if len(fds) != 1 {
		t.Fatalf("got %d descriptors, want 1", len(fds))
	}
	if _, err := unix.Write(fds[0], []byte("x")); err != nil {
		t.Errorf("write to the received pipe: %v", err)
	}
	buf := make([]byte, 1)
	if n, err := unix.Read(p[0], buf); n != 1 || err != nil || buf[0] != 'x' {
		t.Errorf("read back: %d %v", n, err)
	}
	closeAll(fds)
	unix.Close(b)
	if _, _, err := ca.recv(); err != io.EOF {
		t.Errorf("after the peer closed: got %v, want EOF", err)
	}
}

func TestCheckNS(t *testing.T) {
	open := func(path string) int {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(fd) })
		return fd
	}
	if err := checkNS(open("/proc/self/ns/net"), unix.CLONE_NEWNET); err != nil {
		t.Errorf("own network namespace: %v", err)
	}
	if err := checkNS(open("/proc/self/ns/user"), unix.CLONE_NEWNET); err == nil || err.Error() != "a user namespace, not a network namespace" {
		t.Errorf("user namespace as network: got %v", err)
	}
	if err := checkNS(open("/proc/self/status"), unix.CLONE_NEWUSER); err == nil || err.Error() != "not a user namespace" {
		t.Errorf("a file: got %v", err)
	}
	if _, err := openNS("/nonexistent/ns", unix.CLONE_NEWNET, 0); err == nil || !strings.HasPrefix(err.Error(), "--netns /nonexistent/ns: ") {
		t.Errorf("missing file: got %v", err)
	}
}

func TestWatchGoneFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ns")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := WatchGone(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if w.file == nil {
		t.Fatal("a file on a regular file system is not watched with inotify")
	}
	// Another file going does not count.
	other := filepath.Join(dir, "other")
	os.WriteFile(other, nil, 0o644)
	os.Remove(other)
	select {
	case <-w.Gone():
		t.Fatal("gone after another file was removed")
	case <-time.After(100 * time.Millisecond):
	}
	os.Remove(path)
	select {
	case <-w.Gone():
	case <-time.After(5 * time.Second):
		t.Fatal("not reported gone 5 s after removal")
	}

	w2, err := WatchGone(path)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-w2.Gone():
	default:
		t.Error("a file missing at the start is not reported gone")
	}
	w2.Stop()
}

func TestWatchGoneProcess(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	w, err := WatchGone(fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if w.file != nil {
		t.Error("a procfs file is watched with inotify, want polling")
	}
	select {
	case <-w.Gone():
		t.Fatal("gone while the process runs")
	case <-time.After(QuitPoll + 200*time.Millisecond):
	}
	cmd.Process.Kill()
	cmd.Wait()
	select {
	case <-w.Gone():
	case <-time.After(3 * QuitPoll):
		t.Fatal("not reported gone after the process ended")
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		ws   unix.WaitStatus
		want int
		text string
	}{
		{0, 0, "exited with status 0"},
		{7 << 8, 7, "exited with status 7"},
		{unix.WaitStatus(unix.SIGTERM), 143, "killed by SIGTERM"},
		{unix.WaitStatus(unix.SIGKILL) | 0x80, 137, "killed by SIGKILL"}, // with a core dump flag
	} {
		if got := ExitCode(tc.ws); got != tc.want {
			t.Errorf("ExitCode(%#x): got %d, want %d", uint32(tc.ws), got, tc.want)
		}
		if got := describeStatus(tc.ws); got != tc.text {
			t.Errorf("describeStatus(%#x): got %q, want %q", uint32(tc.ws), got, tc.text)
		}
	}
}
