// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"passt-go/test/nstest"
)

// pasta runs inside the Host namespace of a topology: the namespace it
// creates or joins gets Host's addresses and routes, and its traffic goes
// out through Host's uplink to Remote.

// pastaArgv is the command line of pasta from dir, run as who.
func pastaArgv(who runAs, dir string, args ...string) []string {
	return command(who, dir, "pasta", args...).Args
}

// runPasta runs pasta to its end inside ns and returns its standard
// output, its standard error and its exit code.
func runPasta(t *testing.T, ns *nstest.NS, who runAs, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), nstest.DefaultTimeout)
	defer cancel()
	argv := pastaArgv(who, dir, args...)
	if ns != nil {
		argv = append([]string{"ip", "netns", "exec", ns.Name}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		code = ee.ExitCode()
	default:
		t.Fatalf("pasta %v: %v\nstderr: %s", args, err, errb.String())
	}
	return out.String(), errb.String(), code
}

// jsonOf decodes what `ip -j` printed.
func jsonOf(t *testing.T, what, s string) []map[string]any {
	t.Helper()
	var v []map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(s)), &v); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, s)
	}
	return v
}

// globalAddrs lists the addresses of global scope of the link named ifname
// in `ip -j addr` output, as "ADDR/PLEN", sorted.
func globalAddrs(links []map[string]any, ifname string) []string {
	var got []string
	for _, l := range links {
		if l["ifname"] != ifname {
			continue
		}
		infos, _ := l["addr_info"].([]any)
		for _, i := range infos {
			a, _ := i.(map[string]any)
			if a["scope"] == "global" {
				got = append(got, fmt.Sprintf("%v/%v", a["local"], a["prefixlen"]))
			}
		}
	}
	slices.Sort(got)
	return got
}

// routeKeys reduces `ip -j route` output to "DST via GW dev DEV", sorted.
func routeKeys(routes []map[string]any) []string {
	var got []string
	for _, r := range routes {
		k := fmt.Sprint(r["dst"])
		if gw, ok := r["gateway"]; ok {
			k += fmt.Sprint(" via ", gw)
		}
		got = append(got, k+fmt.Sprint(" dev ", r["dev"]))
	}
	slices.Sort(got)
	return got
}

func linkByName(links []map[string]any, name string) map[string]any {
	for _, l := range links {
		if l["ifname"] == name {
			return l
		}
	}
	return nil
}

func hasFlag(link map[string]any, flag string) bool {
	flags, _ := link["flags"].([]any)
	for _, f := range flags {
		if f == flag {
			return true
		}
	}
	return false
}

// With --config-net the namespace gets Host's addresses and routes on a
// tap device named like Host's interface, with pasta's MTU, loopback up;
// from inside, the gateway (Host's loopback, reached through ICMP echo
// sockets) and Remote's far addresses answer.
func TestPastaConfigNet(t *testing.T) {
	nstest.NeedRoot(t)
	dir, _ := binaries(t)
	topo := nstest.NewTopology(t, nstest.TopologyOptions{})
	sep := "\n@@\n"
	script := strings.Join([]string{
		"ip -j link show", "ip -j addr show", "ip -j -4 route show", "ip -j -6 route show",
		strings.Join(nstest.PingArgv(nstest.RemoteAddr4, 2, 10), " "),
		strings.Join(nstest.PingArgv(nstest.FarAddr4, 2, 10), " "),
		strings.Join(nstest.PingArgv(nstest.RemoteAddr6, 2, 10), " "),
		strings.Join(nstest.PingArgv(nstest.FarAddr6, 2, 10), " "),
	}, "; echo '"+strings.TrimSpace(sep)+"'; ")
	out, stderr, code := runPasta(t, topo.Host, runAs{"root", -1}, dir, "--config-net", "--", "sh", "-c", script)
	if code != 0 {
		t.Fatalf("pasta exited %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	parts := strings.Split(out, sep)
	if len(parts) != 8 {
		t.Fatalf("got %d sections of output, want 8:\n%s\nstderr:\n%s", len(parts), out, stderr)
	}

	links := jsonOf(t, "ip link", parts[0])
	tap := linkByName(links, nstest.HostIf)
	if tap == nil {
		t.Fatalf("no link %s in the namespace: %s", nstest.HostIf, parts[0])
	}
	if mtu := fmt.Sprint(tap["mtu"]); mtu != "65520" {
		t.Errorf("tap MTU: got %s, want 65520", mtu)
	}
	if !hasFlag(tap, "UP") {
		t.Errorf("tap not up: %v", tap["flags"])
	}
	if lo := linkByName(links, "lo"); lo == nil || !hasFlag(lo, "UP") {
		t.Errorf("loopback not up: %v", lo)
	}

	hostAddrs := globalAddrs(jsonOf(t, "host ip addr", nstest.Run(t, topo.Host, "ip", "-j", "addr", "show")), nstest.HostIf)
	nsAddrs := globalAddrs(jsonOf(t, "ip addr", parts[1]), nstest.HostIf)
	if !slices.Equal(nsAddrs, hostAddrs) || len(nsAddrs) != 2 {
		t.Errorf("addresses: got %v, want the host's %v", nsAddrs, hostAddrs)
	}
	for i, fam := range []string{"-4", "-6"} {
		host := routeKeys(jsonOf(t, "host ip route", nstest.Run(t, topo.Host, "ip", "-j", fam, "route", "show")))
		ns := routeKeys(jsonOf(t, "ip route", parts[2+i]))
		if !slices.Equal(ns, host) {
			t.Errorf("ip %s routes: got %v, want the host's %v", fam, ns, host)
		}
	}
	for i, addr := range []string{nstest.RemoteAddr4, nstest.FarAddr4, nstest.RemoteAddr6, nstest.FarAddr6} {
		if !strings.Contains(parts[4+i], "2 packets received") && !strings.Contains(parts[4+i], " 0% packet loss") {
			t.Errorf("ping %s from the namespace:\n%s", addr, parts[4+i])
		}
	}
}

// pasta exits with the command's status, and with 128 and the signal's
// number when a signal killed it.
func TestPastaExitStatus(t *testing.T) {
	nstest.NeedRoot(t)
	dir, _ := binaries(t)
	topo := nstest.NewTopology(t, nstest.TopologyOptions{})
	for _, tc := range []struct {
		name   string
		script string
		want   int
	}{
		{"exit 0", "exit 0", 0},
		{"exit 7", "exit 7", 7},
		{"SIGTERM", "kill -TERM $$", 128 + 15},
		{"SIGKILL", "kill -KILL $$", 128 + 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runPasta(t, topo.Host, runAs{"root", -1}, dir, "--", "sh", "-c", tc.script)
			if code != tc.want {
				t.Errorf("got exit status %d, want %d\nstderr: %s", code, tc.want, stderr)
			}
		})
	}
}

// As root (which becomes nobody, mapped to root of the namespace) and as
// an unprivileged user, pasta creates its namespaces and configures them.
func TestPastaIdentities(t *testing.T) {
	nstest.NeedRoot(t)
	dir, _ := binaries(t)
	topo := nstest.NewTopology(t, nstest.TopologyOptions{})
	for _, who := range identities {
		t.Run(who.name, func(t *testing.T) {
			_, stderr, code := runPasta(t, topo.Host, who, dir, "--config-net", "--", "true")
			if code != 0 {
				t.Fatalf("pasta --config-net -- true: exit status %d\nstderr: %s", code, stderr)
			}
			out, stderr, code := runPasta(t, topo.Host, who, dir, "--config-net", "--", "sh", "-c", "id -u; ip -br addr show "+nstest.HostIf)
			if code != 0 {
				t.Fatalf("exit status %d\nstderr: %s", code, stderr)
			}
			lines := strings.SplitN(out, "\n", 2)
			if strings.TrimSpace(lines[0]) != "0" {
				t.Errorf("uid in the namespace: got %q, want 0", lines[0])
			}
			if len(lines) < 2 || !strings.Contains(lines[1], nstest.HostAddr4+"/24") {
				t.Errorf("tap addresses: got %q, want %s/24", out, nstest.HostAddr4)
			}
		})
	}
}

// Every thread of the worker is confined as in passt mode; SIGTERM to
// pasta goes on to the command, and pasta exits with its status.
func TestPastaSandboxAndSignal(t *testing.T) {
	nstest.NeedRoot(t)
	dir, _ := binaries(t)
	topo := nstest.NewTopology(t, nstest.TopologyOptions{})
	for _, who := range identities {
		t.Run(who.name, func(t *testing.T) {
			// The command starts once the worker is ready.
			shared := sharedDir(t)
			p := nstest.Start(t, topo.Host, pastaArgv(who, dir, "--config-net", "--", "sh", "-c", "touch "+filepath.Join(shared, "started")+"; exec sleep 30")...)
			waitStarted(t, p, shared, "the command to start")
			mon := p.PID()
			worker := workerOf(t, mon)
			checkConfined(t, worker, mon)
			if err := p.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			err := p.Wait(10 * time.Second)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 128+15 {
				t.Errorf("pasta after SIGTERM: got %v, want exit status 143", err)
			}
		})
	}
}

// holder starts `unshare -rUn sleep 60` as who inside ns, and returns it
// once its namespaces exist.
func holder(t *testing.T, ns *nstest.NS, who runAs) *nstest.Proc {
	t.Helper()
	h := nstest.Start(t, ns, asUser(who, "unshare", "-rUn", "sleep", "60")...)
	nstest.WaitFor(t, 5*time.Second, func() bool {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", h.PID()))
		return err == nil && filepath.Base(exe) == "sleep"
	}, "the namespace holder")
	return h
}

// waitStarted waits until the command pasta runs has created the file
// "started" in dir, and fails the test at once if pasta exits first; what
// names the wait in the failure message.
func waitStarted(t *testing.T, p *nstest.Proc, dir, what string) {
	t.Helper()
	nstest.WaitFor(t, 10*time.Second, func() bool {
		if p.Exited() {
			t.Fatalf("pasta exited at start:\n%s", p.Output())
		}
		_, err := os.Stat(filepath.Join(dir, "started"))
		return err == nil
	}, what)
}

// waitPIDFile waits until pasta has written its pid file (once ready).
func waitPIDFile(t *testing.T, path string, p *nstest.Proc) int {
	t.Helper()
	pid := 0
	nstest.WaitFor(t, 10*time.Second, func() bool {
		if p != nil && p.Exited() {
			t.Fatalf("pasta exited at start:\n%s", p.Output())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	}, "pasta's pid file")
	return pid
}

// asUser prefixes argv with setpriv for who, unless who is the test's own
// identity.
func asUser(who runAs, argv ...string) []string {
	if who.uid < 0 {
		return argv
	}
	id := strconv.Itoa(who.uid)
	return append([]string{"setpriv", "--reuid=" + id, "--regid=" + id, "--clear-groups", "--"}, argv...)
}

// nsenterArgv runs argv as who in the user and network namespaces of pid.
// who must be the namespaces' owner: the identity mapped to root there,
// which keeps its capabilities across the exec of argv.
func nsenterArgv(who runAs, pid int, argv ...string) []string {
	return asUser(who, append([]string{"nsenter", "-t", strconv.Itoa(pid), "-U", "-n", "--preserve-credentials", "--"}, argv...)...)
}

// pasta PID joins the namespaces of a process made with unshare -rUn, by
// root and by an unprivileged user; the namespace configures itself by
// DHCP, pings the gateway, and pasta exits when the process ends.
func TestPastaAttachPID(t *testing.T) {
	nstest.NeedRoot(t)
	nstest.NeedTool(t, "busybox")
	nstest.NeedTool(t, "nsenter")
	dir, _ := binaries(t)
	topo := nstest.NewTopology(t, nstest.TopologyOptions{})
	for _, who := range identities {
		t.Run(who.name, func(t *testing.T) {
			work := sharedDir(t)
			h := holder(t, topo.Host, who)
			pidFile := filepath.Join(work, "pasta.pid")
			p := nstest.Start(t, topo.Host, pastaArgv(who, dir, "-f", "-P", pidFile, strconv.Itoa(h.PID()))...)
			waitPIDFile(t, pidFile, p)
			checkConfined(t, workerOf(t, p.PID()), p.PID())

			in := func(argv ...string) string { return nstest.Run(t, nil, nsenterArgv(who, h.PID(), argv...)...) }
			in("ip", "link", "set", nstest.HostIf, "up")
			leaseFile := filepath.Join(work, "lease.env")
			script := filepath.Join(work, "udhcpc.sh")
			body := fmt.Sprintf("#!/bin/sh\n[ \"$1\" = bound ] && env > %s\nexit 0\n", leaseFile)
			if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
				t.Fatal(err)
			}
			in("busybox", "udhcpc", "-i", nstest.HostIf, "-n", "-q", "-f", "-t", "5", "-T", "1", "-s", script)
			b, err := os.ReadFile(leaseFile)
			if err != nil {
				t.Fatalf("no lease: %v", err)
			}
			lease := map[string]string{}
			for _, line := range strings.Split(string(b), "\n") {
				if k, v, ok := strings.Cut(line, "="); ok {
					lease[k] = v
				}
			}
			if lease["ip"] != nstest.HostAddr4 || lease["router"] != nstest.RemoteAddr4 {
				t.Fatalf("lease: got ip %q router %q, want %s and %s", lease["ip"], lease["router"], nstest.HostAddr4, nstest.RemoteAddr4)
			}
			in("ip", "addr", "add", lease["ip"]+"/24", "dev", nstest.HostIf)
			in("ip", "route", "add", "default", "via", lease["router"])
			if out, err := nstest.RunErr(t, nil, nsenterArgv(who, h.PID(), nstest.PingArgv(nstest.RemoteAddr4, 2, 10)...)...); err != nil {
				t.Errorf("ping the gateway from the namespace: %v\n%s", err, out)
			}

			// The holder's end is the namespace's: pasta exits, status 0.
			if err := h.Stop(time.Second); err != nil {
				t.Fatal(err)
			}
			if err := p.Wait(10 * time.Second); err != nil {
				t.Errorf("pasta after the namespace went: got %v, want exit status 0\n%s", err, p.Output())
			}
		})
	}
}

// pasta --netns NAME joins a namespace made by ip netns add; with
// --config-net it gets Host's addresses, and reaches the gateway and
// Remote.
func TestPastaNetnsName(t *testing.T) {
	nstest.NeedRoot(t)
	dir, _ := binaries(t)
	topo := nstest.NewTopology(t, nstest.TopologyOptions{})
	ns := nstest.NewNS(t)
	pidFile := filepath.Join(sharedDir(t), "pasta.pid")
	p := nstest.Start(t, topo.Host, pastaArgv(runAs{"root", -1}, dir, "-f", "-P", pidFile, "--config-net", "--netns", ns.Name)...)
	waitPIDFile(t, pidFile, p)
	addrs := globalAddrs(jsonOf(t, "ip addr", nstest.Run(t, ns, "ip", "-j", "addr", "show")), nstest.HostIf)
	if !slices.Contains(addrs, nstest.HostAddr4+"/24") {
		t.Errorf("addresses in %s: got %v, want %s/24", ns, addrs, nstest.HostAddr4)
	}
	nstest.Ping(t, ns, nstest.RemoteAddr4, 2)
	nstest.Ping(t, ns, nstest.FarAddr4, 2)
	nstest.Ping(t, ns, nstest.FarAddr6, 2)

	// The process pasta keeps in the namespace, its own binary run again,
	// gave up root once the set-up was over.
	pid := waitPIDFile(t, pidFile, p)
	keeper := keeperOf(t, pid)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", keeper))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 5 && (f[0] == "Uid:" || f[0] == "Gid:"):
			for _, id := range f[1:] {
				if id == "0" {
					t.Errorf("namespace process %d: %s, want no root identity left", keeper, l)
					break
				}
			}
		case len(f) == 2 && (f[0] == "CapEff:" || f[0] == "CapPrm:"):
			if strings.Trim(f[1], "0") != "" {
				t.Errorf("namespace process %d: %s, want none", keeper, l)
			}
		}
	}
}

// keeperOf returns the child of pasta's monitor pid that runs the
// monitor's own binary: the process pasta keeps in the namespace.
func keeperOf(t *testing.T, pid int) int {
	t.Helper()
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		if err != nil {
			continue
		}
		// The parent's PID is the second field after the command
		// name, which is in parentheses.
		rest := string(stat)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		f := strings.Fields(rest)
		if len(f) < 2 || f[1] != strconv.Itoa(pid) {
			continue
		}
		if x, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", child)); err == nil && x == exe {
			return child
		}
	}
	t.Fatalf("pasta %d has no child running %s", pid, exe)
	return 0
}

// Without -f pasta goes to the background once ready, and exits when the
// namespace it joined is deleted.
func TestPastaNetnsDeleted(t *testing.T) {
	nstest.NeedRoot(t)
	dir, _ := binaries(t)
	topo := nstest.NewTopology(t, nstest.TopologyOptions{})
	name := fmt.Sprintf("%s%d-pasta%d", nstest.NamePrefix, os.Getpid(), time.Now().UnixNano()%1000000)
	nstest.Run(t, nil, "ip", "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "delete", name).Run() })
	pidFile := filepath.Join(sharedDir(t), "pasta.pid")

	out, stderr, code := runPasta(t, topo.Host, runAs{"root", -1}, dir, "-P", pidFile, "--netns", name)
	if code != 0 {
		t.Fatalf("pasta: exit status %d\nstdout: %s\nstderr: %s", code, out, stderr)
	}
	pid := waitPIDFile(t, pidFile, nil)
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if !running(pid) {
		t.Fatalf("pasta (pid %d) is not running in the background", pid)
	}
	nstest.Run(t, nil, "ip", "netns", "delete", name)
	nstest.WaitFor(t, 5*time.Second, func() bool { return !running(pid) }, "pasta to exit")
}

// running reports whether pid is a live process (not a zombie).
func running(pid int) bool {
	f, err := statusFields(fmt.Sprintf("/proc/%d/status", pid))
	return err == nil && !strings.HasPrefix(f["State"], "Z")
}

// Mistakes users make get one clear line and status 1.
func TestPastaErrors(t *testing.T) {
	nstest.NeedRoot(t)
	dir, _ := binaries(t)
	topo := nstest.NewTopology(t, nstest.TopologyOptions{})
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	notNS := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notNS, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		argv []string
		want string
	}{
		{"no such PID", []string{strconv.Itoa(gone.Process.Pid)}, fmt.Sprintf("PID %d: no such process", gone.Process.Pid)},
		{"not a namespace", []string{"--netns", notNS}, "--netns " + notNS + ": not a network namespace"},
		{"wrong namespace", []string{"--netns", "/proc/self/ns/user"}, "a user namespace, not a network namespace"},
		{"no command", []string{"--", "/nonexistent/command"}, "cannot run /nonexistent/command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runPasta(t, topo.Host, runAs{"root", -1}, dir, append([]string{"-f"}, tc.argv...)...)
			if code != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("got status %d, stderr %q; want 1 and %q", code, stderr, tc.want)
			}
		})
	}
	// A user namespace whose limit of nested user namespaces is 0: the
	// message names the setting.
	t.Run("user namespaces disabled", func(t *testing.T) {
		pasta := filepath.Join(dir, "pasta")
		out, err := nstest.RunErr(t, topo.Host, "unshare", "-Ur", "sh", "-c",
			"echo 0 > /proc/sys/user/max_user_namespaces && exec "+pasta+" -- true")
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(out, "user.max_user_namespaces is 0") {
			t.Errorf("got %v, output %q; want status 1 and the setting named", err, out)
		}
	})
}

// A worker that dies ends pasta with an error, and the namespace with it:
// the command does not go on without a network.
func TestPastaWorkerDeath(t *testing.T) {
	nstest.NeedRoot(t)
	dir, _ := binaries(t)
	topo := nstest.NewTopology(t, nstest.TopologyOptions{})
	shared := sharedDir(t)
	p := nstest.Start(t, topo.Host, pastaArgv(runAs{"root", -1}, dir, "--", "sh", "-c", "touch "+filepath.Join(shared, "started")+"; exec sleep 30")...)
	waitStarted(t, p, shared, "the command to start")
	mon := p.PID()
	var command int
	for _, k := range childrenOf(mon) {
		for _, c := range childrenOf(k) {
			if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", c)); filepath.Base(exe) == "sleep" {
				command = c
			}
		}
	}
	if command == 0 {
		t.Fatalf("no command process under pasta %d", mon)
	}
	syscall.Kill(workerOf(t, mon), syscall.SIGKILL)
	err := p.Wait(10 * time.Second)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("pasta after its worker died: got %v, want exit status 1", err)
	}
	if !strings.Contains(p.Output(), "SIGKILL") {
		t.Errorf("pasta's output does not name SIGKILL:\n%s", p.Output())
	}
	nstest.WaitFor(t, 5*time.Second, func() bool { return !running(command) }, "the command to end")
}
