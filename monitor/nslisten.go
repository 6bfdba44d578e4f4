// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package monitor

import (
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
