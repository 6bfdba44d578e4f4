// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package monitor

import (
	"cmp"
	"net/netip"
	"slices"

	"golang.org/x/sys/unix"

	"passt-go/conf"
	"passt-go/fwd"
	"passt-go/ipc"
	"passt-go/pasta"
)

// -T auto and -U auto: the scan of auto.go also reads the host's socket
// tables, opened at start-up, and for every port of an auto -T rule that
// listens on the host, or of an auto -U rule that is bound there, it has
// the keeper open sockets on the namespace's loopback (127.0.0.1 and ::1,
// for the enabled families) and hands them to the worker as -T listeners,
// whose connections it splices to the host's loopback, or as -U sockets,
// whose datagrams it moves there (worker/udpsplice.go). When the port is
// no longer in use on the host, the worker is told to close them. A port
// in use inside the namespace is skipped, and tried again at the next
// scan.
//
// For -U, a port counts when an unconnected UDP socket is bound to it on
// a loopback or wildcard address (state 07: connected sockets, such as
// the worker's own flows, show as 01 and never count), or, as upstream
// and as the namespace's scan for -u do, when a TCP socket listens on it
// there (tools that pair a TCP and a UDP port, iperf3). Sockets bound to
// other addresses only are left out: the datagrams go to the host's
// loopback, which does not reach them.
//
// Ports of the -t and -u rules are left out: they are in use on the host
// because the monitor opened them, and forwarding them back into the
// namespace would make a loop.

// hostKey names one -T or -U auto socket inside the namespace.
type hostKey struct {
	port, rule uint16
	v6         bool
}

// hostTable is -T auto or -U auto: what the worker has, and what did not
// bind.
type hostTable struct {
	opt   string // "-T" or "-U"
	proto ipc.Proto
	role  ipc.FDRole
	table *fwd.Table // -T or -U
	other *fwd.Table // -t or -u: its fixed ports are ours on the host
	// v4 and v6 are the families whose loopback gets sockets.
	v4, v6 bool
	open   map[hostKey]ipc.Unlisten
	failed map[hostKey]bool
	// listen has the keeper open a socket inside the namespace.
	listen func(addr netip.Addr, port uint16) (int, error)
}

// newHostTables returns -T auto and -U auto for cfg, those that have an
// auto rule.
func (m *monitor) newHostTables(cfg *conf.Config) []*hostTable {
	if m.pasta == nil {
		return nil
	}
	ns := m.pasta.ns
	var hs []*hostTable
	for _, p := range []fwd.Proto{fwd.TCP, fwd.UDP} {
		h := newHostTable(cfg, p)
		if h == nil {
			continue
		}
		udp := p == fwd.UDP
		h.listen = func(addr netip.Addr, port uint16) (int, error) {
			return ns.Socket(pasta.SocketRequest{UDP: udp, Bind: true, Addr: addr, Port: port})
		}
		hs = append(hs, h)
	}
	return hs
}

// newHostTable returns the host scan of protocol p for cfg, or nil when
// p has no auto rule for the namespace or is off.
func newHostTable(cfg *conf.Config, p fwd.Proto) *hostTable {
	h := &hostTable{opt: "-T", proto: ipc.TCP, role: ipc.FDTCPListener,
		table: cfg.Forward.TCPNs.Table, other: cfg.Forward.TCP.Table,
		v4: cfg.IPv4.Enabled, v6: cfg.IPv6.Enabled,
		open: map[hostKey]ipc.Unlisten{}, failed: map[hostKey]bool{}}
	on := cfg.TCP
	if p == fwd.UDP {
		h.opt, h.proto, h.role = "-U", ipc.UDP, ipc.FDUDPListener
		h.table, h.other = cfg.Forward.UDPNs.Table, cfg.Forward.UDP.Table
		on = cfg.UDP
	}
	if !on || h.table == nil || !h.table.HasAuto() {
		return nil
	}
	return h
}

// openHostProcNet opens the host's socket tables for -T auto and -U auto,
// at start-up: the files show the sockets of the monitor's network
// namespace, the host's, whenever they are read again. -U needs the TCP
// tables too.
func (m *monitor) openHostProcNet(cfg *conf.Config) {
	var names []string
	if newHostTable(cfg, fwd.TCP) != nil || newHostTable(cfg, fwd.UDP) != nil {
		names = append(names, "tcp", "tcp6")
	}
	if newHostTable(cfg, fwd.UDP) != nil {
		names = append(names, "udp", "udp6")
	}
	if len(names) == 0 {
		return
	}
	files := map[string]int{}
	for _, name := range names {
		fd, err := unix.Open("/proc/self/net/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			m.log.Debugf("auto forwarding: /proc/net/%s of the host: %v", name, err)
			continue
		}
		files[name] = fd
	}
	m.pasta.hostProcNet = files
}

// openPorts adds the ports the worker has listeners for to set.
func (h *hostTable) openPorts(set *ipc.PortSet) {
	for k := range h.open {
		set.Add(k.port)
	}
}

// addrs returns the addresses inside the namespace a socket of rule r is
// opened on.
func (h *hostTable) addrs(r fwd.Rule) []netip.Addr {
	if r.Listen.IsValid() && !r.Listen.IsUnspecified() {
		return []netip.Addr{r.Listen.Unmap()}
	}
	var as []netip.Addr
	if h.v4 && (!r.Listen.IsValid() || r.Listen.Is4()) {
		as = append(as, netip.AddrFrom4([4]byte{127, 0, 0, 1}))
	}
	if h.v6 && (!r.Listen.IsValid() || r.Listen.Is6()) {
		as = append(as, netip.IPv6Loopback())
	}
	return as
}

// changes compares the sockets the worker has with the ports in use on
// the host (listening) less those of our own -t or -u auto listeners
// (ours): it returns the sockets to close, and those to open, in port
// order. It forgets failures of ports no longer wanted.
func (h *hostTable) changes(listening, ours *ipc.PortSet) (closing, opening []hostKey) {
	wanted := func(p uint16) bool {
		return listening.Has(p) && !ours.Has(p) && !forwards(h.other, p)
	}
	for k := range h.open {
		if !wanted(k.port) {
			closing = append(closing, k)
		}
	}
	for k := range h.failed {
		if !wanted(k.port) {
			delete(h.failed, k)
		}
	}
	for p := range listening.All() {
		if !wanted(p) {
			continue
		}
		for l := range h.table.AutoListeners(p) {
			for _, a := range h.addrs(h.table.Rules[l.Rule]) {
				k := hostKey{port: p, rule: uint16(l.Rule), v6: a.Is6()}
				if _, ok := h.open[k]; !ok {
					opening = append(opening, k)
				}
			}
		}
	}
	slices.SortFunc(closing, func(a, b hostKey) int {
		if c := cmp.Compare(a.port, b.port); c != 0 {
			return c
		}
		if c := cmp.Compare(a.rule, b.rule); c != 0 {
			return c
		}
		return cmp.Compare(btoi(a.v6), btoi(b.v6))
	})
	return closing, opening
}

// syncHost brings the worker's -T or -U auto sockets in step with the
// ports in use on the host. It fails only when the worker cannot be told.
func (s *autoScanner) syncHost(h *hostTable, listening, ours *ipc.PortSet) error {
	closing, opening := h.changes(listening, ours)
	for _, k := range closing {
		u := h.open[k]
		delete(h.open, k)
		s.m.log.Debugf("%s auto: port %d no longer in use on the host: closed in the namespace", h.opt, k.port)
		if err := s.m.conn.Send(ipc.Message{Body: u}); err != nil {
			return err
		}
	}
	entries, fds := h.openListeners(opening, s.m.log.Debugf)
	defer func() { closeFDs(fds) }()
	return s.sendFDs(entries, fds)
}

// openListeners has the keeper open the sockets of keys and returns
// their entries and descriptors; it records them as open. A socket that
// cannot be opened is logged once and left for the next scan.
func (h *hostTable) openListeners(keys []hostKey, debugf func(string, ...any)) ([]ipc.FDEntry, []int) {
	var entries []ipc.FDEntry
	var fds []int
	for _, k := range keys {
		r := h.table.Rules[k.rule]
		var addr netip.Addr
		for _, a := range h.addrs(r) {
			if a.Is6() == k.v6 {
				addr = a
			}
		}
		fd, err := h.listen(addr, k.port)
		if err != nil {
			if !h.failed[k] {
				h.failed[k] = true
				debugf("%s auto: port %d on %s: %v", h.opt, k.port, addr, err)
			}
			continue
		}
		delete(h.failed, k)
		fam := ipc.IPv4
		if k.v6 {
			fam = ipc.IPv6
		}
		e := ipc.FDEntry{Role: h.role, Proto: h.proto, Family: fam, Side: ipc.SideNamespace, Port: k.port, Rule: k.rule}
		h.open[k] = ipc.Unlisten{Role: e.Role, Family: e.Family, Side: e.Side, Port: e.Port, Rule: e.Rule}
		entries = append(entries, e)
		fds = append(fds, fd)
		debugf("%s auto: port %d in use on the host: forwarded from %s in the namespace", h.opt, k.port, addr)
	}
	return entries, fds
}

// sendFDs hands listeners over to the worker, one message per MaxFDs:
// every one complete, none with More set. The caller closes fds.
func (s *autoScanner) sendFDs(entries []ipc.FDEntry, fds []int) error {
	for start := 0; start < len(entries); start += ipc.MaxFDs {
		end := min(start+ipc.MaxFDs, len(entries))
		msg := ipc.Message{Body: ipc.FDs{Entries: entries[start:end:end]}, FDs: fds[start:end:end]}
		if err := s.m.conn.Send(msg); err != nil {
			return err
		}
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
