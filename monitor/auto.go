// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package monitor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"passt-go/conf"
	"passt-go/fwd"
	"passt-go/ipc"
)

// Auto forwarding (-t auto, -u auto in pasta mode): about once a second
// the monitor reads the namespace's socket tables and, for every port of
// an auto rule that listens there, opens the host's listener and hands it
// to the worker; when the port stops listening inside, it tells the worker
// to close that listener.
//
// The tables are /proc/net files the keeper opened inside the namespace
// during set-up (see pasta.ProcNetFiles): such a file shows the sockets of
// the namespace it was opened in whenever it is read again, so the scan
// needs neither a process inside the namespace nor any privilege, and goes
// on after the monitor has become an unprivileged user. Listeners of ports
// below 1024 then fail to bind, as upstream's do (not usable with auto).

// AutoScansHost says, by protocol, whether the host's ports are scanned
// for -T auto and -U auto (sockets inside the namespace for ports in use
// on the host; autohost.go). Where they are not, those specifications are
// refused and pasta's default for that option is none.
var AutoScansHost = map[fwd.Proto]bool{fwd.TCP: true, fwd.UDP: true}

// autoDirection reports whether auto works for the forwarding option opt
// as far as the scans go: -t and -u scan the namespace, -T and -U the
// host.
func autoDirection(opt string) bool {
	switch opt {
	case "-t", "-u":
		return true
	case "-T":
		return AutoScansHost[fwd.TCP]
	case "-U":
		return AutoScansHost[fwd.UDP]
	}
	return false
}

// ScanInterval is the period of the port scans.
const ScanInterval = time.Second

// Socket states in /proc/net/{tcp,udp}{,6}: a listening TCP socket, an
// unconnected UDP socket.
const (
	stateListen = 0x0a
	stateClose  = 0x07
)

// autoTable is the auto forwarding of one protocol.
type autoTable struct {
	opt   string
	table *fwd.Table
	// other is the table of the opposite direction: ports it forwards
	// are ours listening in the namespace, never forwarded back.
	other *fwd.Table
	role  ipc.FDRole
	proto ipc.Proto
	// open are the listeners the worker has, with what closes them.
	open map[autoKey]ipc.Unlisten
	// failed are listeners that did not bind: the failure is logged
	// once, and binding is tried again at every scan.
	failed map[autoKey]bool
}

// autoKey names a listener of an auto rule.
type autoKey struct {
	port, rule uint16
}

// autoScanner scans the namespace and keeps the worker's auto listeners
// in step.
type autoScanner struct {
	m      *monitor
	cfg    *conf.Config
	files  map[string]int // /proc/net files by name: copies the scanner owns
	tables []*autoTable
	// hosts are -T auto and -U auto, which scan the host's own tables,
	// hostFiles.
	hosts     []*hostTable
	hostFiles map[string]int
	buf       []byte
}

// newAutoScanner returns the scanner for cfg, or nil when no rule is an
// auto rule (or this is not pasta).
func (m *monitor) newAutoScanner(cfg *conf.Config) *autoScanner {
	if m.pasta == nil {
		return nil
	}
	s := &autoScanner{m: m, cfg: cfg, files: map[string]int{}, buf: make([]byte, 64<<10)}
	for _, d := range []struct {
		opt   string
		fw    conf.Forward
		other conf.Forward
		role  ipc.FDRole
		proto ipc.Proto
	}{
		{"-t", cfg.Forward.TCP, cfg.Forward.TCPNs, ipc.FDTCPListener, ipc.TCP},
		{"-u", cfg.Forward.UDP, cfg.Forward.UDPNs, ipc.FDUDPListener, ipc.UDP},
	} {
		if d.fw.Table == nil || !d.fw.Table.HasAuto() {
			continue
		}
		s.tables = append(s.tables, &autoTable{
			opt: d.opt, table: d.fw.Table, other: d.other.Table, role: d.role, proto: d.proto,
			open: map[autoKey]ipc.Unlisten{}, failed: map[autoKey]bool{},
		})
	}
	s.hosts = m.newHostTables(cfg)
	if len(s.tables) == 0 && len(s.hosts) == 0 {
		return nil
	}
	if len(s.tables) > 0 && len(m.pasta.ns.ProcNet) == 0 {
		m.log.Warnf("auto forwarding: the namespace's socket tables could not be opened: no port is forwarded automatically to the namespace")
		s.tables = nil
	}
	if len(s.hosts) > 0 {
		if len(m.pasta.hostProcNet) == 0 {
			m.log.Warnf("-T auto, -U auto: the host's socket tables could not be opened: no port is forwarded automatically to the host")
			s.hosts = nil
		} else {
			s.hostFiles = m.pasta.hostProcNet
		}
	}
	if len(s.tables) == 0 && len(s.hosts) == 0 {
		return nil
	}
	// The scans outlive nothing the namespace owns: the namespace closes
	// its descriptors at exit, which may come in the middle of a scan.
	for name, fd := range m.pasta.ns.ProcNet {
		dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			m.log.Warnf("auto forwarding: /proc/net/%s of the namespace: %v", name, err)
			continue
		}
		s.files[name] = dup
	}
	return s
}

// startAuto starts the scans, if any rule needs them; they end with the
// monitor.
func (m *monitor) startAuto() {
	s := m.newAutoScanner(m.cfg)
	if s == nil {
		return
	}
	go func() {
		t := time.NewTicker(ScanInterval)
		defer t.Stop()
		for {
			if err := s.scan(); err != nil {
				if !errors.Is(err, ipc.ErrClosed) {
					m.log.Debugf("auto forwarding: %v", err)
				}
				return
			}
			<-t.C
		}
	}()
}

// scan reads the ports in use in the namespace (and on the host, for -T
// auto and -U auto) once and opens or closes sockets to match. It fails
// only when the worker cannot be told.
//
// A port one direction has an auto socket for is never forwarded back by
// the other: the socket shows in the other side's table. Which ports
// those are is taken before either direction changes anything, so that a
// socket closed by this scan, still in the tables just read, is not taken
// for a service.
func (s *autoScanner) scan() error {
	var ns, host scanned
	s.read(s.files, "tcp", stateListen, &ns.tcp, nil)
	s.read(s.files, "tcp6", stateListen, &ns.tcp, nil)
	s.read(s.files, "udp", stateClose, &ns.udp, nil)
	s.read(s.files, "udp6", stateClose, &ns.udp, nil)
	var ours autoOurs
	for _, a := range s.tables {
		a.openPorts(ours.onHost(a.proto))
	}
	if len(s.hosts) > 0 {
		s.read(s.hostFiles, "tcp", stateListen, &host.tcp, &host.tcpLocal)
		s.read(s.hostFiles, "tcp6", stateListen, &host.tcp, &host.tcpLocal)
		s.read(s.hostFiles, "udp", stateClose, nil, &host.udpLocal)
		s.read(s.hostFiles, "udp6", stateClose, nil, &host.udpLocal)
		for _, h := range s.hosts {
			h.openPorts(ours.inNs(h.proto))
		}
	}
	for _, a := range s.tables {
		listening := nsInUse(a, &ns, &ours, s.cfg.Forward.TCPNs.Table)
		if err := s.sync(a, &listening); err != nil {
			return err
		}
	}
	for _, h := range s.hosts {
		listening := hostInUse(h, &host, &ours, s.cfg.Forward.TCP.Table)
		if err := s.syncHost(h, &listening, ours.onHost(h.proto)); err != nil {
			return err
		}
	}
	return nil
}

// scanned are the ports of one side's tables: listening TCP sockets and
// unconnected UDP sockets, and for the host those on a loopback or
// wildcard address.
type scanned struct {
	tcp, udp, tcpLocal, udpLocal ipc.PortSet
}

// autoOurs are the ports of our own auto sockets at the start of a scan:
// -t and -u listeners on the host, -T and -U sockets in the namespace.
type autoOurs struct {
	tcpOnHost, udpOnHost, tcpInNs, udpInNs ipc.PortSet
}

func (o *autoOurs) onHost(p ipc.Proto) *ipc.PortSet {
	if p == ipc.UDP {
		return &o.udpOnHost
	}
	return &o.tcpOnHost
}

func (o *autoOurs) inNs(p ipc.Proto) *ipc.PortSet {
	if p == ipc.UDP {
		return &o.udpInNs
	}
	return &o.tcpInNs
}

// nsInUse returns the ports in use in the namespace for -t or -u auto,
// our -T and -U sockets left out. As upstream, a TCP port in use counts
// for UDP too, for tools that pair a TCP and a UDP port (iperf3), unless
// the TCP listener is ours: one of -T auto, or of a fixed -T rule (tns).
// The fixed ports of the other direction are left out later, by sync.
func nsInUse(a *autoTable, ns *scanned, ours *autoOurs, tns *fwd.Table) ipc.PortSet {
	var set ipc.PortSet
	for p := range ns.tcp.All() {
		if ours.tcpInNs.Has(p) || (a.proto == ipc.UDP && forwards(tns, p)) {
			continue
		}
		set.Add(p)
	}
	if a.proto == ipc.TCP {
		return set
	}
	for p := range ns.udp.All() {
		if !ours.udpInNs.Has(p) {
			set.Add(p)
		}
	}
	return set
}

// hostInUse returns the ports in use on the host for -T or -U auto: for
// -T, the listening TCP ports; for -U, the UDP ports bound to a loopback
// or wildcard address, and, as for -u, the TCP ports listening there but
// those of our -t listeners, auto or of a fixed rule (tcp). Our -u
// listeners and the fixed ports of -u are left out later, by changes.
func hostInUse(h *hostTable, host *scanned, ours *autoOurs, tcp *fwd.Table) ipc.PortSet {
	if h.proto == ipc.TCP {
		return host.tcp
	}
	set := host.udpLocal
	for p := range host.tcpLocal.All() {
		if !ours.tcpOnHost.Has(p) && !forwards(tcp, p) {
			set.Add(p)
		}
	}
	return set
}

// openPorts adds the ports the worker has listeners for to set.
func (a *autoTable) openPorts(set *ipc.PortSet) {
	for k := range a.open {
		set.Add(k.port)
	}
}

// read adds the ports of the sockets in state of the named /proc/net
// file of files to set, and those on a loopback or wildcard address to
// local, each unless nil; a missing or unreadable file adds nothing.
func (s *autoScanner) read(files map[string]int, name string, state uint8, set, local *ipc.PortSet) {
	fd, ok := files[name]
	if !ok {
		return
	}
	if _, err := unix.Seek(fd, 0, io.SeekStart); err != nil {
		return
	}
	n := 0
	for {
		if n == len(s.buf) {
			s.buf = append(s.buf, make([]byte, len(s.buf))...)
		}
		k, err := unix.Read(fd, s.buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || k <= 0 {
			break
		}
		n += k
	}
	parseProcNet(s.buf[:n], state, set, local)
}

// sync opens the listeners of ports that listen in the namespace and
// closes those of ports that stopped.
func (s *autoScanner) sync(a *autoTable, listening *ipc.PortSet) error {
	for k, u := range a.open {
		if !listening.Has(k.port) {
			delete(a.open, k)
			s.m.log.Debugf("%s auto: port %d no longer listens in the namespace: closed on the host", a.opt, k.port)
			if err := s.m.conn.Send(ipc.Message{Body: u}); err != nil {
				return err
			}
		}
	}
	for k := range a.failed {
		if !listening.Has(k.port) {
			delete(a.failed, k)
		}
	}
	var entries []ipc.FDEntry
	var fds []int
	defer func() { closeFDs(fds) }()
	for p := range listening.All() {
		if forwards(a.other, p) {
			continue
		}
		for l := range a.table.AutoListeners(p) {
			k := autoKey{port: p, rule: uint16(l.Rule)}
			if _, ok := a.open[k]; ok {
				continue
			}
			fd, fam, err := listenPort(a.table.Proto, l, s.cfg.IPv4.Enabled, s.cfg.IPv6.Enabled, s.cfg.Freebind)
			if err != nil {
				if !a.failed[k] {
					a.failed[k] = true
					s.m.log.Debugf("%s auto: %v", a.opt, err)
				}
				continue
			}
			delete(a.failed, k)
			e := ipc.FDEntry{Role: a.role, Proto: a.proto, Family: fam, Side: ipc.SideHost, Port: p, Rule: k.rule}
			a.open[k] = ipc.Unlisten{Role: e.Role, Family: e.Family, Side: e.Side, Port: e.Port, Rule: e.Rule}
			entries = append(entries, e)
			fds = append(fds, fd)
			s.m.log.Debugf("%s auto: port %d listens in the namespace: forwarded from the host", a.opt, p)
		}
	}
	if len(entries) == 0 {
		return nil
	}
	return s.sendFDs(entries, fds)
}

// forwards reports whether t has a rule for port whose listeners are
// open from the start. Auto rules are left out: their listeners come and
// go, and scan excludes those open at the time.
func forwards(t *fwd.Table, port uint16) bool {
	if t == nil {
		return false
	}
	for _, r := range t.Rules {
		if !r.Auto && r.Contains(port) {
			return true
		}
	}
	return false
}

// parseProcNet adds to set the local port of every socket in state in b,
// the text of /proc/net/{tcp,udp}{,6}: a heading line, then one line per
// socket, "sl: local_address rem_address st ...", addresses as hex
// ADDR:PORT, the state in hex. It adds to local those whose local address
// is a loopback or wildcard address. Either set may be nil. Lines that do
// not parse are skipped.
func parseProcNet(b []byte, state uint8, set, local *ipc.PortSet) {
	first := true
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if first {
			first = false
			continue
		}
		f := bytes.Fields(line)
		if len(f) < 4 {
			continue
		}
		i := bytes.LastIndexByte(f[1], ':')
		if i < 0 {
			continue
		}
		port, err := strconv.ParseUint(string(f[1][i+1:]), 16, 16)
		if err != nil || port == 0 {
			continue
		}
		st, err := strconv.ParseUint(string(f[3]), 16, 8)
		if err != nil || uint8(st) != state {
			continue
		}
		if set != nil {
			set.Add(uint16(port))
		}
		if local != nil && localAddr(f[1][:i]) {
			local.Add(uint16(port))
		}
	}
}

// localAddr reports whether h, an address of /proc/net/{tcp,udp}{,6}, is
// a loopback or wildcard address, IPv4-mapped ones included. The kernel
// prints an address as 32-bit words in hex, each in the host's byte
// order.
func localAddr(h []byte) bool {
	var b [16]byte
	if len(h) != 8 && len(h) != 32 {
		return false
	}
	for i := 0; i < len(h); i += 8 {
		w, err := strconv.ParseUint(string(h[i:i+8]), 16, 32)
		if err != nil {
			return false
		}
		binary.NativeEndian.PutUint32(b[i/2:], uint32(w))
	}
	var a netip.Addr
	if len(h) == 8 {
		a = netip.AddrFrom4([4]byte(b[:4]))
	} else {
		a = netip.AddrFrom16(b).Unmap()
	}
	return a.IsLoopback() || a.IsUnspecified()
}
