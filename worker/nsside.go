// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package worker

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"

	"passt-go/conf"
	"passt-go/fwd"
	"passt-go/ipc"
)

// What the spliced paths of pasta (splice.go, udpsplice.go) share.

// addNsSockets hands the namespace-side sockets of a -T or -U table
// (what names them in messages) to add, after checking that a rule has
// each; with the protocol off or no table they are closed unused.
func addNsSockets(hs []handed, on bool, table *fwd.Table, what string, add func(ipc.FDEntry, int) error) error {
	if len(hs) == 0 {
		return nil
	}
	if !on || table == nil {
		closeHanded(hs)
		return nil
	}
	for i, h := range hs {
		e := h.entry
		if int(e.Rule) >= len(table.Rules) || !table.Rules[e.Rule].Contains(e.Port) {
			closeHanded(hs[i:])
			return fmt.Errorf("%s for port %d: no forwarding rule has it", what, e.Port)
		}
		if err := add(e, h.fd); err != nil {
			closeHanded(hs[i+1:])
			return err
		}
	}
	return nil
}

// loopbackOf is the loopback address of a family.
func loopbackOf(v6 bool) netip.Addr {
	if v6 {
		return netip.IPv6Loopback()
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1})
}

// nsTarget is where a connection or a flow from the host's loopback goes
// inside the namespace: the namespace's own address of its family, or
// its loopback with --host-lo-to-ns-lo or without a usable address.
func nsTarget(c *conf.Config, v6 bool) (netip.Addr, ipc.Family) {
	to, fam := c.IPv4.Addr, ipc.IPv4
	if v6 {
		to, fam = c.IPv6.Addr, ipc.IPv6
	}
	if c.Namespace.HostLoToNsLo || !to.IsValid() || (v6 && to.IsLinkLocalUnicast()) {
		to = loopbackOf(v6)
	}
	return to.Unmap(), fam
}

// dialHost starts a connection on the host, of type typ (SOCK_STREAM or
// SOCK_DGRAM), to the address to, the loopback of its family when zero,
// and port. connecting is true while a TCP handshake goes on.
func dialHost(typ int, to netip.Addr, v6 bool, port uint16) (fd int, connecting bool, err error) {
	if !to.IsValid() {
		to = loopbackOf(v6)
	}
	to = to.Unmap()
	domain := unix.AF_INET6
	var sa unix.Sockaddr = &unix.SockaddrInet6{Port: int(port), Addr: to.As16()}
	if to.Is4() {
		domain = unix.AF_INET
		sa = &unix.SockaddrInet4{Port: int(port), Addr: to.As4()}
	}
	fd, err = unix.Socket(domain, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, false, err
	}
	switch err = unix.Connect(fd, sa); err {
	case nil:
		return fd, false, nil
	case unix.EINPROGRESS:
		return fd, true, nil
	}
	unix.Close(fd)
	return -1, false, err
}
