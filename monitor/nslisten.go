// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package monitor

import (
	"fmt"
	"net/netip"

	"passt-go/conf"
	"passt-go/ipc"
	"passt-go/pasta"
)

// giveNsListeners queues the -T listeners the keeper opened inside the
// namespace for the worker, which splices what they accept to the host's
// loopback.
func (m *monitor) giveNsListeners(ns *pasta.Namespace) {
	for i := range ns.Listeners {
		l := &ns.Listeners[i]
		fam := ipc.IPv4
		if l.V6 {
			fam = ipc.IPv6
		}
		m.give(ipc.FDEntry{Role: ipc.FDTCPListener, Proto: ipc.TCP, Family: fam, Side: ipc.SideNamespace, Port: l.Port, Rule: uint16(l.Rule)}, l.FD)
		l.FD = -1
	}
	ns.Listeners = nil
}

// giveNsUDP has the keeper bind the -U sockets inside the namespace, on
// 127.0.0.1 and ::1 for the enabled families or on the rule's address,
// and queues them for the worker, which moves their datagrams to the
// host's loopback and back (worker/udpsplice.go). A port in use inside
// fails the start unless its rule is weak (a range with exclusions, say).
func (m *monitor) giveNsUDP(cfg *conf.Config, ns *pasta.Namespace) error {
	t := cfg.Forward.UDPNs.Table
	if t == nil {
		return nil
	}
	for l := range t.Listeners() {
		var addrs []netip.Addr
		switch {
		case l.Addr.IsValid() && !l.Addr.IsUnspecified():
			addrs = []netip.Addr{l.Addr.Unmap()}
		default:
			if cfg.IPv4.Enabled {
				addrs = append(addrs, netip.AddrFrom4([4]byte{127, 0, 0, 1}))
			}
			if cfg.IPv6.Enabled {
				addrs = append(addrs, netip.IPv6Loopback())
			}
		}
		for _, a := range addrs {
			fd, err := ns.Socket(pasta.SocketRequest{UDP: true, Bind: true, Addr: a, Port: l.Port})
			if err != nil {
				if l.Weak {
					continue
				}
				return fmt.Errorf("-U: UDP port %d on %s in the namespace: %w", l.Port, a, err)
			}
			fam := ipc.IPv4
			if a.Is6() {
				fam = ipc.IPv6
			}
			m.give(ipc.FDEntry{Role: ipc.FDUDPListener, Proto: ipc.UDP, Family: fam, Side: ipc.SideNamespace, Port: l.Port, Rule: uint16(l.Rule)}, fd)
		}
	}
	return nil
}
