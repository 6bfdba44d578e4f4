// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"passt-go/fwd"
	"passt-go/monitor"
	"passt-go/test/guest"
	"passt-go/test/guest/check"
	"passt-go/test/nstest"
)

// Ports of the qemu guest tests. The servers at the far addresses (in
// Remote) and behind the gateway address (Host's loopback) speak the
// check package's protocols; the guest serves fwdPort, which passt
// forwards to it from Host with -t and -u.
const (
	farPort  = 10001
	hostPort = 10002
	fwdPort  = 10003

	// tcpBytes is what each TCP check moves, each way.
	tcpBytes = 1 << 20

	// dnsName is what the guest asks the resolvers it was given, and
	// dnsAnswer what the test's resolver in Remote answers.
	dnsName   = "guest.example.test"
	dnsAnswer = "198.51.100.53"
)

// The guest image and the accelerator, found once per test binary.
var (
	qemuOnce  sync.Once
	qemuImg   guest.Image
	qemuAccel string
	qemuNote  string
	qemuErr   error
)

// qemuGuest builds (or finds in test/.cache) the guest image and probes
// KVM once: /dev/kvm can exist and still fail, so a short boot decides,
// and TCG is used otherwise. Without qemu, or the kernel and busybox
// packages, the test is skipped, or fails with CI=true.
func qemuGuest(t *testing.T) (guest.Image, string) {
	t.Helper()
	nstest.NeedRoot(t)
	nstest.NeedTool(t, guest.Qemu)
	qemuOnce.Do(func() {
		start := time.Now()
		qemuImg, qemuErr = guest.Build(guest.Options{ModuleRoot: moduleRoot()})
		if qemuErr != nil {
			return
		}
		how := "built"
		if qemuImg.Reused {
			how = "reused"
		}
		qemuNote = fmt.Sprintf("image %s (kernel %s) %s in %v", qemuImg.Key, qemuImg.Release, how, time.Since(start).Round(time.Millisecond))
		if took, err := guest.ProbeKVM(qemuImg, 8*time.Second); err == nil {
			qemuAccel = guest.KVM
			qemuNote += fmt.Sprintf("; KVM works (probe boot %v)", took.Round(time.Millisecond))
		} else {
			qemuAccel = guest.TCG
			first, _, _ := strings.Cut(err.Error(), "\n")
			qemuNote += "; TCG, KVM unusable: " + first
		}
	})
	if qemuErr != nil {
		if errors.Is(qemuErr, guest.ErrMissing) && os.Getenv("CI") != "true" {
			t.Skipf("no guest image: %v", qemuErr)
		}
		t.Fatalf("guest image: %v", qemuErr)
	}
	t.Log(qemuNote)
	return qemuImg, qemuAccel
}

// qemuSetup is what a guest test runs against: the topology with its
// servers, and which protocols this build translates.
type qemuSetup struct {
	topo     *nstest.Topology
	tcp, udp bool // translated by this build: those checks run
	servers  *serverLog
}

// serverLog collects the errors of the test's servers, for the log.
type serverLog struct {
	mu   sync.Mutex
	errs []string
}

func (s *serverLog) add(where string, err error) {
	if err == nil || errors.Is(err, net.ErrClosed) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, where+": "+err.Error())
}

func (s *serverLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.errs, "\n")
}

// newQemuSetup builds the topology and starts the servers the guest talks
// to: in Remote, TCP and UDP on farPort of the far addresses and a
// resolver on port 53 of the gateway's addresses (the host's resolvers);
// in Host, TCP and UDP on hostPort of the loopback addresses, which the
// guest reaches through the gateway address.
func newQemuSetup(t *testing.T) *qemuSetup {
	t.Helper()
	s := &qemuSetup{
		topo:    nstest.NewTopology(t, nstest.TopologyOptions{}),
		tcp:     monitor.Translated[fwd.TCP],
		udp:     monitor.Translated[fwd.UDP],
		servers: &serverLog{},
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("servers' errors:\n%s", s.servers)
		}
	})
	// Each server is bound to its address, so that replies to datagrams
	// leave from the address they were sent to.
	for _, a := range []string{nstest.FarAddr4, nstest.FarAddr6} {
		s.serve(t, s.topo.Remote, net.JoinHostPort(a, strconv.Itoa(farPort)))
	}
	for _, a := range []string{"127.0.0.1", "::1"} {
		s.serve(t, s.topo.Host, net.JoinHostPort(a, strconv.Itoa(hostPort)))
	}
	for _, a := range []string{nstest.RemoteAddr4, nstest.RemoteAddr6} {
		s.resolver(t, s.topo.Remote, net.JoinHostPort(a, "53"))
	}
	return s
}

// listenIn opens a listener and a datagram socket on addr inside ns.
func listenIn(t *testing.T, ns *nstest.NS, addr string, stream, dgram bool) (net.Listener, net.PacketConn) {
	t.Helper()
	var l net.Listener
	var pc net.PacketConn
	err := ns.Do(func() error {
		var err error
		if stream {
			if l, err = net.Listen("tcp", addr); err != nil {
				return err
			}
		}
		if dgram {
			pc, err = net.ListenPacket("udp", addr)
		}
		return err
	})
	if err != nil {
		t.Fatalf("listen on %s in %s: %v", addr, ns, err)
	}
	t.Cleanup(func() {
		if l != nil {
			l.Close()
		}
		if pc != nil {
			pc.Close()
		}
	})
	return l, pc
}

// serve runs the check protocols' servers on addr in ns until clean-up.
func (s *qemuSetup) serve(t *testing.T, ns *nstest.NS, addr string) {
	l, pc := listenIn(t, ns, addr, true, true)
	where := fmt.Sprintf("%s %s", ns, addr)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				s.servers.add(where+" accept", err)
				return
			}
			go func() { s.servers.add(where+" tcp", check.Serve(c, time.Minute)) }()
		}
	}()
	go func() {
		for {
			err := check.ServeEcho(pc, time.Now().Add(10*time.Minute))
			if !errors.Is(err, check.ErrBye) {
				s.servers.add(where+" udp", err)
				return
			}
		}
	}()
}

// resolver answers DNS queries on addr in ns: dnsAnswer for dnsName, no
// such name otherwise.
func (s *qemuSetup) resolver(t *testing.T, ns *nstest.NS, addr string) {
	_, pc := listenIn(t, ns, addr, false, true)
	answer := netip.MustParseAddr(dnsAnswer)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				s.servers.add("resolver", err)
				return
			}
			_, name, err := check.DNSQuestion(buf[:n])
			if err != nil {
				s.servers.add("resolver", err)
				continue
			}
			a := netip.Addr{}
			if strings.EqualFold(strings.TrimSuffix(name, "."), dnsName) {
				a = answer
			}
			r, err := check.DNSAnswer(buf[:n], a)
			if err == nil {
				_, err = pc.WriteTo(r, from)
			}
			s.servers.add("resolver", err)
		}
	}()
}

// passtArgs are the options the guest tests give passt: the forwarded
// port, for the protocols this build translates.
func (s *qemuSetup) passtArgs() []string {
	var args []string
	if s.tcp {
		args = append(args, "-t", strconv.Itoa(fwdPort))
	}
	if s.udp {
		args = append(args, "-u", strconv.Itoa(fwdPort))
	}
	return args
}

// params is the guest's kernel command line for the checks.
func (s *qemuSetup) params() map[string]string {
	flag := map[bool]string{false: "0", true: "1"}
	return map[string]string{
		"mode":  "check",
		"gw4":   nstest.RemoteAddr4,
		"gw6":   nstest.RemoteAddr6,
		"far4":  nstest.FarAddr4,
		"far6":  nstest.FarAddr6,
		"tcp":   flag[s.tcp],
		"udp":   flag[s.udp],
		"rport": strconv.Itoa(farPort),
		"hport": strconv.Itoa(hostPort),
		"fport": strconv.Itoa(fwdPort),
		"bytes": strconv.Itoa(tcpBytes),
		"qname": dnsName,
		"wait":  "40s",
	}
}

// run waits for the guest to finish, doing the checks that start outside
// (connections and datagrams to the port forwarded to the guest) once the
// guest serves, and returns every result: the guest's and the test's.
func (s *qemuSetup) run(t *testing.T, qemu *nstest.Proc, accel string) map[string]guest.Result {
	t.Helper()
	limit := 120 * time.Second
	if accel == guest.KVM {
		limit = 60 * time.Second
	}
	start := time.Now()
	deadline := start.Add(limit)
	ready := fmt.Sprintf("READY serve %d", fwdPort)
	serving := s.tcp || s.udp
	var booted time.Duration
	// Poll the console: note when init starts, and start the checks from
	// outside as soon as the guest serves.
	for interval := time.Millisecond; !qemu.Exited() && time.Now().Before(deadline); interval = min(2*interval, 20*time.Millisecond) {
		out := qemu.Output()
		if booted == 0 && strings.Contains(out, "RESULT boot ") {
			booted = time.Since(start)
		}
		if serving && strings.Contains(out, ready) {
			break
		}
		time.Sleep(interval)
	}
	outside := map[string]guest.Result{}
	if serving {
		if strings.Contains(qemu.Output(), ready) {
			outside = s.inbound(t)
		} else {
			t.Errorf("the guest never served port %d: no checks from outside", fwdPort)
		}
	}
	if err := qemu.Wait(time.Until(deadline)); errors.Is(err, nstest.ErrTimeout) {
		t.Errorf("the guest did not power off within %v", limit)
	}
	results, done := guest.ParseResults(qemu.Output())
	if !done {
		t.Errorf("the guest's init did not finish (no DONE line)")
	}
	if booted == 0 {
		booted = time.Since(start) // no boot line: the whole run
	}
	uptime, _ := results["boot"].Value("uptime")
	t.Logf("accel %s: init started %v after qemu (guest uptime %s s); the whole run took %v",
		accel, booted.Round(time.Millisecond), uptime, time.Since(start).Round(time.Millisecond))
	for k, v := range outside {
		results[k] = v
	}
	return results
}

// inbound connects to the forwarded port from Remote (to the host's
// addresses) and from Host's loopback, moves data both ways over TCP and
// echoes datagrams over UDP, then tells the guest's server to stop.
func (s *qemuSetup) inbound(t *testing.T) map[string]guest.Result {
	out := map[string]guest.Result{}
	port := strconv.Itoa(fwdPort)
	targets := []struct {
		name string
		ns   *nstest.NS
		addr string
	}{
		{"4-in", s.topo.Remote, nstest.HostAddr4},
		{"6-in", s.topo.Remote, nstest.HostAddr6},
		{"4-in-local", s.topo.Host, "127.0.0.1"},
		{"6-in-local", s.topo.Host, "::1"},
	}
	record := func(name string, err error, detail string) {
		if err != nil {
			out[name] = guest.Result{Name: name, Status: "FAIL", Detail: err.Error()}
			return
		}
		out[name] = guest.Result{Name: name, Status: "PASS", Detail: detail}
	}
	dial := func(ns *nstest.NS, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := ns.Do(func() error {
			var err error
			c, err = net.DialTimeout(network, addr, 10*time.Second)
			return err
		})
		return c, err
	}
	for i, tg := range targets {
		addr := net.JoinHostPort(tg.addr, port)
		if s.tcp {
			name := "tcp" + tg.name
			err := func() error {
				for _, op := range []string{"put", "get"} {
					c, err := dial(tg.ns, "tcp", addr)
					if err != nil {
						return err
					}
					if op == "put" {
						err = check.Put(c, tcpBytes, uint64(100+i), time.Minute)
					} else {
						err = check.Get(c, tcpBytes, uint64(200+i), time.Minute)
					}
					c.Close()
					if err != nil {
						return fmt.Errorf("%s %s: %w", op, addr, err)
					}
				}
				return nil
			}()
			record(name, err, fmt.Sprintf("addr=%s bytes=%d", addr, tcpBytes))
		}
		if s.udp {
			name := "udp" + tg.name
			err := func() error {
				c, err := dial(tg.ns, "udp", addr)
				if err != nil {
					return err
				}
				defer c.Close()
				return check.Echo(c, check.EchoSizes, uint64(300+i), 20*time.Second)
			}()
			record(name, err, "addr="+addr)
		}
	}
	// Stop the guest's server through whatever reaches it.
	addr := net.JoinHostPort(nstest.HostAddr4, port)
	if s.tcp {
		if c, err := dial(s.topo.Remote, "tcp", addr); err == nil {
			check.Bye(c)
			c.Close()
		}
	}
	if s.udp {
		if c, err := dial(s.topo.Remote, "udp", addr); err == nil {
			for i := 0; i < 3; i++ {
				c.Write([]byte("bye"))
			}
			c.Close()
		}
	}
	return out
}

// expectation is one planned check: which protocol it needs translated
// (none, "TCP" or "UDP"), and the values its result must carry.
type expectation struct {
	name  string
	needs string
	want  map[string]string
	test  func(r guest.Result) error
}

// plannedChecks lists every check of a guest run. The ICMP and L2 checks
// always run; TCP, UDP and DNS checks run when this build translates the
// protocol (monitor.Translated) and are skipped, saying so, until then.
func plannedChecks() []expectation {
	inPrefix := func(key, prefix string, plen int) func(guest.Result) error {
		return func(r guest.Result) error {
			v, _ := r.Value(key)
			p, err := netip.ParsePrefix(v)
			if err != nil {
				return fmt.Errorf("%s=%q: %v", key, v, err)
			}
			want := netip.MustParsePrefix(prefix)
			if !want.Contains(p.Addr()) || p.Bits() != plen {
				return fmt.Errorf("%s=%s: want an address in %s, prefix length %d", key, v, want, plen)
			}
			return nil
		}
	}
	linkLocal := func(r guest.Result) error {
		v, _ := r.Value("via")
		if a, err := netip.ParseAddr(v); err != nil || !a.IsLinkLocalUnicast() {
			return fmt.Errorf("via=%q: want a link-local router address", v)
		}
		return nil
	}
	checks := []expectation{
		{name: "boot"},
		{name: "modules"},
		{name: "link"},
		{name: "dhcp4", want: map[string]string{
			"ip": nstest.HostAddr4, "mask": strconv.Itoa(nstest.PrefixLen4), "router": nstest.RemoteAddr4,
			"mtu": "65520", "ifmtu": "65520", "dns": nstest.RemoteAddr4, "search": "example.test",
		}},
		{name: "slaac", test: inPrefix("addr", nstest.HostAddr6+"/64", 64)},
		{name: "ra-route", want: map[string]string{"mtu": "65520"}, test: linkLocal},
		{name: "dhcp6", want: map[string]string{
			"addr": nstest.HostAddr6, "dns": nstest.RemoteAddr6, "search": "example.test",
		}},
		{name: "ping4-gw"}, {name: "ping4-far"},
		{name: "ping6-gw"}, {name: "ping6-far"}, {name: "ping6-router"},
	}
	for _, f := range []string{"4", "6"} {
		for _, where := range []string{"far", "gw"} {
			for _, op := range []string{"put", "get"} {
				checks = append(checks, expectation{name: "tcp" + f + "-" + where + "-" + op, needs: "TCP"})
			}
			checks = append(checks, expectation{name: "udp" + f + "-" + where, needs: "UDP"})
		}
		for _, where := range []string{"-in", "-in-local"} {
			checks = append(checks, expectation{name: "tcp" + f + where, needs: "TCP"})
			checks = append(checks, expectation{name: "udp" + f + where, needs: "UDP"})
		}
		checks = append(checks, expectation{name: "dns" + f, needs: "UDP",
			want: map[string]string{"a": dnsAnswer}})
	}
	return append(checks, expectation{name: "serve", needs: "TCP or UDP"})
}

// verify turns the results into one subtest per planned check; a check
// that reported nothing fails.
func (s *qemuSetup) verify(t *testing.T, results map[string]guest.Result) {
	t.Helper()
	for _, c := range plannedChecks() {
		t.Run(c.name, func(t *testing.T) {
			switch c.needs {
			case "TCP":
				if !s.tcp {
					t.Skip("TCP is not translated yet (monitor.Translated[fwd.TCP] is false): runs once it is")
				}
			case "UDP":
				if !s.udp {
					t.Skip("UDP is not translated yet (monitor.Translated[fwd.UDP] is false): runs once it is")
				}
			case "TCP or UDP":
				if !s.tcp && !s.udp {
					t.Skip("neither TCP nor UDP is translated yet: the guest serves nothing")
				}
			}
			r, ok := results[c.name]
			if !ok {
				t.Fatalf("no result reported")
			}
			if r.Status != "PASS" {
				t.Fatalf("got %s: %s", r.Status, r.Detail)
			}
			for k, want := range c.want {
				if got, _ := r.Value(k); got != want {
					t.Errorf("%s: got %q, want %q (%s)", k, got, want, r.Detail)
				}
			}
			if c.test != nil {
				if err := c.test(r); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// startQemuPasst starts passt with argv inside the namespaces argv's prefix
// enters, and waits until it serves.
func startQemuPasst(t *testing.T, argv []string) *nstest.Proc {
	t.Helper()
	p := nstest.Start(t, nil, argv...)
	nstest.WaitFor(t, 10*time.Second, func() bool {
		if p.Exited() {
			t.Fatalf("passt exited at start:\n%s", p.Output())
		}
		return strings.Contains(p.Output(), "socket bound at")
	}, "passt to be ready")
	return p
}

// A qemu guest connected to passt with -netdev stream: it configures
// itself by DHCP, SLAAC and DHCPv6 with the host's addresses, pings the
// gateway and the far side over both IP versions, and, where this build
// translates them, moves TCP and UDP data both ways and resolves a name.
func TestQemuStream(t *testing.T) {
	img, accel := qemuGuest(t)
	dir, _ := binaries(t)
	s := newQemuSetup(t)
	sock := filepath.Join(sharedDir(t), "passt.socket")

	enter := []string{"ip", "netns", "exec", s.topo.Host.Name}
	passtArgv := append(append(enter, filepath.Join(dir, "passt"), "-f", "-s", sock), s.passtArgs()...)
	startQemuPasst(t, passtArgv)

	argv := append(append(enter, guest.Qemu), img.QemuArgs(accel, s.params())...)
	argv = append(argv, "-netdev", "stream,id=n,server=off,addr.type=unix,addr.path="+sock)
	argv = append(argv, guest.NIC("n")...)
	qemu := nstest.Start(t, nil, argv...)
	s.verify(t, s.run(t, qemu, accel))
}

// holderScript keeps a mount namespace with an empty /tmp of its own, in
// which passt and qrap meet at /tmp/passt_1.socket whatever the real /tmp
// holds. The test's binaries ($1) and the guest image ($2) may live under
// the real /tmp (a checkout in /tmp, for one): their directories are bound
// back in at the same paths.
const holderScript = `set -e
exec 7<"$1" 8<"$2"
mount -t tmpfs -o mode=1777 passt-go-qrap /tmp
mkdir -p "$1" "$2"
mount --no-canonicalize --bind /proc/self/fd/7 "$1"
mount --no-canonicalize --bind /proc/self/fd/8 "$2"
exec 7<&- 8<&-
echo ready
exec sleep 600
`

// The same guest started through qrap: passt, given no socket path, takes
// the first free /tmp/passt_N.socket, and qrap finds it by probing, then
// runs qemu with the connection as descriptor 5 (-netdev socket,fd=5).
func TestQemuQrap(t *testing.T) {
	img, accel := qemuGuest(t)
	dir, _ := binaries(t)
	nstest.NeedTool(t, "nsenter")
	s := newQemuSetup(t)

	// ip netns exec gives the holder its own mount namespace, whose
	// mounts do not reach the rest of the system.
	holder := nstest.Start(t, s.topo.Host, "sh", "-c", holderScript, "sh", dir, filepath.Dir(img.Kernel))
	nstest.WaitFor(t, 10*time.Second, func() bool {
		if holder.Exited() {
			t.Fatalf("mount namespace holder exited:\n%s", holder.Output())
		}
		return strings.Contains(holder.Output(), "ready")
	}, "a private /tmp")
	enter := []string{"nsenter", "-t", strconv.Itoa(holder.PID()), "-m", "-n", "--"}

	passtArgv := append(append(enter, filepath.Join(dir, "passt"), "-f"), s.passtArgs()...)
	p := startQemuPasst(t, passtArgv)
	if !strings.Contains(p.Output(), "/tmp/passt_1.socket") {
		t.Fatalf("passt did not take /tmp/passt_1.socket in an empty /tmp:\n%s", p.Output())
	}

	argv := append(append(enter, filepath.Join(dir, "qrap"), "5", guest.Qemu), img.QemuArgs(accel, s.params())...)
	argv = append(argv, "-netdev", "socket,fd=5,id=n")
	argv = append(argv, guest.NIC("n")...)
	qemu := nstest.Start(t, nil, argv...)
	s.verify(t, s.run(t, qemu, accel))
}
