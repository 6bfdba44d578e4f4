// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package monitor

import (
	"bytes"
	"errors"
	"io"
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
// for -T auto and -U auto (listeners inside the namespace for ports that
// listen on the host; autohost.go). Where they are not, those
// specifications are refused and pasta's default for that option is none.
var AutoScansHost = map[fwd.Proto]bool{fwd.TCP: true, fwd.UDP: false}

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
	// host is -T auto, which scans the host's own tables, hostFiles.
	host      *hostTable
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
	s.host = m.newHostTable(cfg)
	if len(s.tables) == 0 && s.host == nil {
		return nil
	}
	if len(s.tables) > 0 && len(m.pasta.ns.ProcNet) == 0 {
		m.log.Warnf("auto forwarding: the namespace's socket tables could not be opened: no port is forwarded automatically to the namespace")
		s.tables = nil
	}
	if s.host != nil {
		if len(m.pasta.hostProcNet) == 0 {
			m.log.Warnf("-T auto: the host's socket tables could not be opened: no port is forwarded automatically to the host")
			s.host = nil
		} else {
			s.hostFiles = m.pasta.hostProcNet
		}
	}
	if len(s.tables) == 0 && s.host == nil {
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

// scan reads the listening ports of the namespace (and of the host, for
// -T auto) once and opens or closes listeners to match. It fails only
// when the worker cannot be told.
//
// A port one direction has an auto listener for is never forwarded back
// by the other: the listener shows in the other side's table. Which ports
// those are is taken before either direction changes anything, so that a
// listener closed by this scan, still in the tables just read, is not
// taken for a service.
func (s *autoScanner) scan() error {
	var tcp, udp, hostTCP ipc.PortSet
	s.read(s.files, "tcp", stateListen, &tcp)
	s.read(s.files, "tcp6", stateListen, &tcp)
	s.read(s.files, "udp", stateClose, &udp)
	s.read(s.files, "udp6", stateClose, &udp)
	var onHost, inNs ipc.PortSet // TCP ports of our auto listeners
	if s.host != nil {
		s.read(s.hostFiles, "tcp", stateListen, &hostTCP)
		s.read(s.hostFiles, "tcp6", stateListen, &hostTCP)
		s.host.openPorts(&inNs)
	}
	for _, a := range s.tables {
		if a.proto == ipc.TCP {
			for k := range a.open {
				onHost.Add(k.port)
			}
		}
	}
	for _, a := range s.tables {
		listening := tcp
		if a.proto == ipc.UDP {
			// As upstream: a TCP port in use inside counts for UDP too,
			// for tools that pair a TCP and a UDP port (iperf3).
			for p := range tcp.All() {
				listening.Add(p)
			}
			for p := range udp.All() {
				listening.Add(p)
			}
		}
		// Our -T auto listeners show as TCP ports inside: never
		// forwarded back, for UDP unless a UDP socket has the port.
		for p := range inNs.All() {
			if !udp.Has(p) || a.proto == ipc.TCP {
				listening.Remove(p)
			}
		}
		if err := s.sync(a, &listening); err != nil {
			return err
		}
	}
	if s.host != nil {
		return s.syncHost(s.host, &hostTCP, &onHost)
	}
	return nil
}

// read adds the ports of the sockets in state of the named /proc/net
// file of files to set; a missing or unreadable file adds nothing.
func (s *autoScanner) read(files map[string]int, name string, state uint8, set *ipc.PortSet) {
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
	parseProcNet(s.buf[:n], state, set)
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
// ADDR:PORT, the state in hex. Lines that do not parse are skipped.
func parseProcNet(b []byte, state uint8, set *ipc.PortSet) {
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
		set.Add(uint16(port))
	}
}
