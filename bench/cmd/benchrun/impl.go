// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Addresses and ports of the set-up. Every implementation gets a "host"
// namespace with an uplink (a veth pair whose far end goes nowhere) that
// carries the host's address and a default route, so that the tools find
// a template interface, and an empty "guest" namespace that the
// implementation gives its network.
const (
	hostAddr    = "203.0.113.1"   // the host's own address, on up0
	hostPrefix  = "24"            //
	hostGateway = "203.0.113.254" // the host's default gateway (never answers)

	vethHost  = "198.51.100.1" // veth: host end
	vethGuest = "198.51.100.2" // veth: namespace end
	slirpCIDR = "198.51.100.0/24"
	slirpGW   = "198.51.100.2" // slirp4netns: gateway, maps to the host's loopback

	mtu = 65520

	portHostIperf  = 5201 // iperf3 server on the host
	portHostTool   = 5301 // tcpbench server on the host
	portGuestIperf = 5202 // iperf3 server in the namespace, forwarded (-t)
	portGuestTool  = 5302 // tcpbench server in the namespace, forwarded (-t)
)

type kind int

const (
	kindVeth  kind = iota // kernel routing over a veth pair: the limit
	kindPasta             // pasta-like: pasta gives the namespace its network
	kindSlirp             // slirp4netns
	kindPasst             // passt, bridged to a tap in the namespace
)

// impl is one column of the table.
type impl struct {
	id    string // name on the command line and in file names
	title string // column header
	kind  kind
	bin   string // the networking program ("" for veth)
	ref   string // id of the Debian column figures are compared with
	// unavailable, when set, is why the whole column is n/a.
	unavailable string
}

// instance is one implementation set up and running.
type instance struct {
	impl        *impl
	host, guest string // namespace names
	holder      *proc  // a process in the host namespace, for /proc/PID/net
	net         *proc  // the networking process (nil for veth)
	bridge      *proc  // tapbridge (passt mode)
	dir         string // raw files of this run
	toHost      string // address the namespace reaches host servers at
	fwdLo       string // host-side address of the forward over loopback
	fwdAddr     string // host-side address of the forward over the host's address
	nsLo        string // address the namespace's -T forward listens on ("" if none)
	// fwdErr, when set, says why the implementation runs without its
	// port forwards: it would not start with them.
	fwdErr string
}

// pids returns the processes on the data path other than clients and
// servers: the networking process and, in passt mode, the bridge.
func (in *instance) pids() []int {
	var out []int
	for _, p := range []*proc{in.net, in.bridge} {
		if p != nil && p.alive() {
			out = append(out, p.cmd.Process.Pid)
		}
	}
	return out
}

// died returns a reason when the networking process is gone.
func (in *instance) died() string {
	for _, p := range []*proc{in.net, in.bridge} {
		if p != nil && !p.alive() {
			msg := fmt.Sprintf("%s exited (%s)", p.name, p.exitStatus())
			if t := p.errTail(2); t != "" {
				msg += ": " + t
			}
			return msg
		}
	}
	return ""
}

// nsExec returns argv run inside the named network namespace.
func nsExec(ns string, argv ...string) []string {
	if ns == "" {
		return argv
	}
	return append([]string{"ip", "netns", "exec", ns}, argv...)
}

// cmdTimeout bounds every short configuration command.
const cmdTimeout = 15 * time.Second

// sh runs a short configuration command.
func (b *bench) sh(ctx context.Context, dir, name string, argv ...string) error {
	b.seq++
	_, err := b.procs.run(ctx, cmdTimeout, name, filepath.Join(dir, "cmd", fmt.Sprintf("%03d-%s", b.seq, name)), argv...)
	return err
}

// addNS creates a network namespace with loopback up and the sysctls that
// let connection-rate tests reuse ports, and records it for clean-up.
func (b *bench) addNS(ctx context.Context, dir, name string) error {
	if err := b.sh(ctx, dir, "netns-add", "ip", "netns", "add", name); err != nil {
		return err
	}
	b.netns[name] = true
	if err := b.sh(ctx, dir, "lo-up", "ip", "-n", name, "link", "set", "lo", "up"); err != nil {
		return err
	}
	return b.sh(ctx, dir, "sysctl", nsExec(name, "sh", "-c",
		"echo '1024 65535' > /proc/sys/net/ipv4/ip_local_port_range && echo 1 > /proc/sys/net/ipv4/tcp_tw_reuse")...)
}

// delNS deletes a namespace created by addNS.
func (b *bench) delNS(name string) {
	if !b.netns[name] {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	if err := b.sh(ctx, b.dir, "netns-del", "ip", "netns", "del", name); err != nil {
		b.logf("warning: %v", err)
	}
	delete(b.netns, name)
}

// addHost creates the host namespace: uplink, address, default route.
func (b *bench) addHost(ctx context.Context, dir, name string) error {
	if err := b.addNS(ctx, dir, name); err != nil {
		return err
	}
	steps := [][]string{
		{"ip", "-n", name, "link", "add", "up0", "type", "veth", "peer", "name", "up1"},
		{"ip", "-n", name, "addr", "add", hostAddr + "/" + hostPrefix, "dev", "up0"},
		{"ip", "-n", name, "link", "set", "up0", "up"},
		{"ip", "-n", name, "link", "set", "up1", "up"},
		{"ip", "-n", name, "route", "add", "default", "via", hostGateway},
	}
	for _, s := range steps {
		if err := b.sh(ctx, dir, "host-net", s...); err != nil {
			return err
		}
	}
	return nil
}

// setup creates the namespaces and starts the implementation. If a pasta
// or passt does not start with its port forwards, it is tried once more
// without them, so that the workloads that need none still run. On error
// the caller still calls teardown.
func (b *bench) setup(ctx context.Context, im *impl, dir string) (*instance, error) {
	in, err := b.setupOnce(ctx, im, dir, true)
	if err == nil || im.kind != kindPasta && im.kind != kindPasst || ctx.Err() != nil {
		return in, err
	}
	b.teardown(in)
	in2, err2 := b.setupOnce(ctx, im, dir+"-noforward", false)
	if err2 != nil {
		return in2, fmt.Errorf("%w; without port forwards: %v", err, err2)
	}
	in2.fwdErr = "does not start with port forwards: " + err.Error()
	b.logf("  %s: running without port forwards: %v", im.title, err)
	return in2, nil
}

func (b *bench) setupOnce(ctx context.Context, im *impl, dir string, fwd bool) (*instance, error) {
	b.nsSeq++
	in := &instance{
		impl:  im,
		host:  fmt.Sprintf("%s-h%d", b.opt.prefix, b.nsSeq),
		guest: fmt.Sprintf("%s-g%d", b.opt.prefix, b.nsSeq),
		dir:   dir,
	}
	if err := b.addHost(ctx, dir, in.host); err != nil {
		return in, err
	}
	if err := b.addNS(ctx, dir, in.guest); err != nil {
		return in, err
	}
	holder, err := b.procs.start("holder", filepath.Join(dir, "holder"), nil, nsExec(in.host, "sleep", "86400")...)
	if err != nil {
		return in, err
	}
	in.holder = holder

	switch im.kind {
	case kindVeth:
		err = b.setupVeth(ctx, in)
	case kindPasta:
		err = b.setupPasta(ctx, in, fwd)
	case kindSlirp:
		err = b.setupSlirp(ctx, in)
	case kindPasst:
		err = b.setupPasst(ctx, in, fwd)
	}
	if err != nil {
		return in, err
	}
	if err := b.smoke(ctx, in); err != nil {
		return in, fmt.Errorf("smoke check: %w", err)
	}
	return in, nil
}

// teardown stops the processes of the instance and deletes its namespaces.
func (b *bench) teardown(in *instance) {
	if in == nil {
		return
	}
	for _, p := range []*proc{in.bridge, in.net, in.holder} {
		if p != nil {
			p.stop(2 * time.Second)
		}
	}
	b.delNS(in.guest)
	b.delNS(in.host)
}

func (b *bench) setupVeth(ctx context.Context, in *instance) error {
	h, g := in.host, in.guest
	steps := [][]string{
		{"ip", "-n", h, "link", "add", "veth0", "mtu", strconv.Itoa(mtu), "type", "veth",
			"peer", "name", "veth0", "mtu", strconv.Itoa(mtu), "netns", g},
		{"ip", "-n", h, "addr", "add", vethHost + "/24", "dev", "veth0"},
		{"ip", "-n", h, "link", "set", "veth0", "up"},
		{"ip", "-n", g, "addr", "add", vethGuest + "/24", "dev", "veth0"},
		{"ip", "-n", g, "link", "set", "veth0", "up"},
		{"ip", "-n", g, "route", "add", "default", "via", vethHost},
	}
	for _, s := range steps {
		if err := b.sh(ctx, in.dir, "veth", s...); err != nil {
			return err
		}
	}
	// Kernel routing has no forwarder: "through a forward" becomes the
	// direct route to the namespace, "-T" the direct route to the host.
	in.toHost, in.fwdLo, in.fwdAddr, in.nsLo = vethHost, vethGuest, vethGuest, vethHost
	return nil
}

// runasArgs keeps pasta and passt from switching to nobody when started as
// root: nobody could not enter the namespaces the harness made.
func runasArgs() []string {
	if os.Geteuid() == 0 {
		return []string{"--runas", "0"}
	}
	return nil
}

func (b *bench) setupPasta(ctx context.Context, in *instance, fwd bool) error {
	argv := []string{in.impl.bin, "-f"}
	argv = append(argv, runasArgs()...)
	argv = append(argv, "--config-net", "--netns", "/run/netns/"+in.guest)
	if fwd {
		argv = append(argv, "-t", fmt.Sprintf("%d,%d", portGuestIperf, portGuestTool),
			"-T", strconv.Itoa(portHostIperf))
	}
	p, err := b.procs.start(in.impl.id, filepath.Join(in.dir, in.impl.id), nil, nsExec(in.host, argv...)...)
	if err != nil {
		return err
	}
	in.net = p
	in.toHost, in.fwdLo, in.fwdAddr, in.nsLo = hostGateway, "127.0.0.1", hostAddr, "127.0.0.1"
	// Ready: the namespace has its default route and the forward listens.
	return waitFor(ctx, 15*time.Second, 50*time.Millisecond, "pasta ready", func() (bool, error) {
		if !p.alive() {
			return false, errors.New(in.died())
		}
		if fwd && !listening(in.holder.cmd.Process.Pid, portGuestIperf) {
			return false, nil
		}
		return b.hasDefaultRoute(ctx, in), nil
	})
}

// hasDefaultRoute reports whether the guest namespace has a default route.
func (b *bench) hasDefaultRoute(ctx context.Context, in *instance) bool {
	out, err := b.procs.run(ctx, cmdTimeout, "route", filepath.Join(in.dir, "cmd", "route"),
		"ip", "-n", in.guest, "-4", "route", "show", "default")
	return err == nil && strings.Contains(string(out), "default")
}

func (b *bench) setupSlirp(ctx context.Context, in *instance) error {
	api := filepath.Join(b.tmp, fmt.Sprintf("slirp%d.sock", b.nsSeq))
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	argv := []string{in.impl.bin, "--configure", "--mtu=" + strconv.Itoa(mtu), "--cidr=" + slirpCIDR,
		"--api-socket", api, "--ready-fd=3", "--netns-type=path", "/run/netns/" + in.guest, "tap0"}
	p, err := b.procs.start(in.impl.id, filepath.Join(in.dir, in.impl.id), []*os.File{w}, nsExec(in.host, argv...)...)
	w.Close()
	if err != nil {
		return err
	}
	in.net = p
	in.toHost, in.fwdLo, in.fwdAddr = slirpGW, "127.0.0.1", hostAddr
	_ = r.SetReadDeadline(time.Now().Add(15 * time.Second))
	buf := make([]byte, 1)
	if _, err := r.Read(buf); err != nil {
		if d := in.died(); d != "" {
			return errors.New(d)
		}
		return fmt.Errorf("slirp4netns ready: %w", err)
	}
	for _, port := range []int{portGuestIperf, portGuestTool} {
		if err := slirpForward(api, port); err != nil {
			return err
		}
	}
	return nil
}

// slirpForward asks slirp4netns, through its API socket, to forward TCP
// port on every host address to the same port in the namespace.
func slirpForward(api string, port int) error {
	c, err := net.DialTimeout("unix", api, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	req := map[string]any{
		"execute": "add_hostfwd",
		"arguments": map[string]any{
			"proto": "tcp", "host_addr": "0.0.0.0", "host_port": port, "guest_port": port,
		},
	}
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return err
	}
	var resp struct {
		Return json.RawMessage `json:"return"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		return fmt.Errorf("slirp4netns add_hostfwd %d: %w", port, err)
	}
	if resp.Return == nil {
		return fmt.Errorf("slirp4netns add_hostfwd %d: %s", port, resp.Error)
	}
	return nil
}

func (b *bench) setupPasst(ctx context.Context, in *instance, fwd bool) error {
	if b.opt.tapbridge == "" {
		return errors.New(b.opt.tapbridgeErr)
	}
	sock := filepath.Join(b.tmp, fmt.Sprintf("passt%d.sock", b.nsSeq))
	argv := []string{in.impl.bin, "-f"}
	argv = append(argv, runasArgs()...)
	argv = append(argv, "-s", sock)
	if fwd {
		argv = append(argv, "-t", fmt.Sprintf("%d,%d", portGuestIperf, portGuestTool))
	}
	p, err := b.procs.start(in.impl.id, filepath.Join(in.dir, in.impl.id), nil, nsExec(in.host, argv...)...)
	if err != nil {
		return err
	}
	in.net = p
	in.toHost, in.fwdLo, in.fwdAddr = hostGateway, "127.0.0.1", hostAddr
	if err := waitFor(ctx, 15*time.Second, 50*time.Millisecond, "passt socket", func() (bool, error) {
		if !p.alive() {
			return false, errors.New(in.died())
		}
		_, err := os.Stat(sock)
		return err == nil, nil
	}); err != nil {
		return err
	}
	ready := filepath.Join(b.tmp, fmt.Sprintf("bridge%d.ready", b.nsSeq))
	br, err := b.procs.start("tapbridge", filepath.Join(in.dir, "tapbridge"), nil,
		b.opt.tapbridge, "-socket", sock, "-wait", "5s", "-netns", in.guest,
		"-ifname", "tap0", "-mtu", strconv.Itoa(mtu), "-ready", ready)
	if err != nil {
		return err
	}
	in.bridge = br
	if err := waitFor(ctx, 15*time.Second, 20*time.Millisecond, "tapbridge ready", func() (bool, error) {
		if d := in.died(); d != "" {
			return false, errors.New(d)
		}
		_, err := os.Stat(ready)
		return err == nil, nil
	}); err != nil {
		return err
	}
	// The guest takes what passt would hand out by DHCP: the host's
	// address and its gateway.
	for _, s := range [][]string{
		{"ip", "-n", in.guest, "addr", "add", hostAddr + "/" + hostPrefix, "dev", "tap0"},
		{"ip", "-n", in.guest, "route", "add", "default", "via", hostGateway},
	} {
		if err := b.sh(ctx, in.dir, "guest-net", s...); err != nil {
			return err
		}
	}
	return nil
}

// smoke checks that a TCP connection with an echo goes from the
// namespace to a server on the host.
func (b *bench) smoke(ctx context.Context, in *instance) error {
	srv, err := b.startServer(ctx, in, in.host, "smoke-server", "smoke-server", portHostTool,
		b.opt.tcpbench, "server", "-listen", fmt.Sprintf(":%d", portHostTool), "-limit", "30s")
	if err != nil {
		return err
	}
	defer srv.stop(time.Second)
	_, err = b.procs.run(ctx, 20*time.Second, "smoke", filepath.Join(in.dir, "smoke"),
		nsExec(in.guest, b.opt.tcpbench, "crr", "-addr", net.JoinHostPort(in.toHost, strconv.Itoa(portHostTool)),
			"-parallel", "1", "-count", "3", "-duration", "10s", "-max-errors", "3")...)
	if err != nil {
		if d := in.died(); d != "" {
			return errors.New(d)
		}
		return err
	}
	return nil
}

// startServer starts a server and waits until it listens on port.
func (b *bench) startServer(ctx context.Context, in *instance, ns, name, base string, port int, argv ...string) (*proc, error) {
	p, err := b.procs.start(name, filepath.Join(in.dir, base), nil, nsExec(ns, argv...)...)
	if err != nil {
		return nil, err
	}
	err = waitFor(ctx, 10*time.Second, 20*time.Millisecond, name+" listening", func() (bool, error) {
		if !p.alive() {
			return false, fmt.Errorf("%s exited (%s): %s", name, p.exitStatus(), p.errTail(2))
		}
		return listening(p.cmd.Process.Pid, port), nil
	})
	if err != nil {
		p.stop(0)
		return nil, err
	}
	return p, nil
}
