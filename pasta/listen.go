// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package pasta

import (
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"

	"passt-go/conf"
)

// NsPort is one port of a -T rule: the keeper listens on it inside the
// namespace.
type NsPort struct {
	Port uint16
	Rule int
	// Addr is the rule's listening address; the zero Addr means the
	// namespace's loopback addresses of the enabled families.
	Addr netip.Addr
	Weak bool
}

// NsListener is a listening socket the keeper opened inside the
// namespace. The monitor takes FD.
type NsListener struct {
	FD   int `json:"-"`
	Port uint16
	Rule int
	V6   bool
}

// nsPorts lists the -T ports of a configuration.
func nsPorts(cfg *conf.Config) []NsPort {
	t := cfg.Forward.TCPNs.Table
	if t == nil {
		return nil
	}
	var ps []NsPort
	for l := range t.Listeners() {
		ps = append(ps, NsPort{Port: l.Port, Rule: l.Rule, Addr: l.Addr, Weak: l.Weak})
	}
	return ps
}

// openNsListeners opens the -T listeners in the keeper's namespace: on
// 127.0.0.1 and ::1 for each enabled family, or on the rule's address.
func openNsListeners(s *Setup) ([]NsListener, error) {
	var out []NsListener
	fail := func(err error) ([]NsListener, error) {
		for _, l := range out {
			unix.Close(l.FD)
		}
		return nil, err
	}
	for _, p := range s.TCPNs {
		var addrs []netip.Addr
		switch {
		case p.Addr.IsValid():
			addrs = []netip.Addr{p.Addr}
		default:
			if s.ListenV4 {
				addrs = append(addrs, netip.AddrFrom4([4]byte{127, 0, 0, 1}))
			}
			if s.ListenV6 {
				addrs = append(addrs, netip.IPv6Loopback())
			}
		}
		for _, a := range addrs {
			fd, err := listenLocal(a, p.Port)
			if err != nil {
				if p.Weak {
					continue
				}
				return fail(fmt.Errorf("-T: TCP port %d on %s in the namespace: %w", p.Port, a, err))
			}
			out = append(out, NsListener{FD: fd, Port: p.Port, Rule: p.Rule, V6: a.Is6()})
		}
	}
	return out, nil
}

// listenLocal opens a non-blocking TCP listener on a and port.
func listenLocal(a netip.Addr, port uint16) (int, error) {
	a = a.Unmap()
	domain := unix.AF_INET
	var sa unix.Sockaddr
	if a.Is6() {
		domain = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(port), Addr: a.As16()}
	} else {
		sa = &unix.SockaddrInet4{Port: int(port), Addr: a.As4()}
	}
	fd, err := unix.Socket(domain, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if domain == unix.AF_INET6 {
		unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1)
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.EADDRINUSE) {
			return -1, errors.New("already in use")
		}
		return -1, err
	}
	if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// sendListeners sends the listeners to the monitor, a few per message,
// before the ready message.
func (k *keeper) sendListeners(ls []NsListener) error {
	for len(ls) > 0 {
		n := min(len(ls), maxMessageFDs)
		fds := make([]int, n)
		for i, l := range ls[:n] {
			fds[i] = l.FD
		}
		err := k.ch.send(message{Kind: kindListeners, Listeners: ls[:n]}, fds...)
		closeAll(fds)
		if err != nil {
			closeAllListeners(ls[n:])
			return err
		}
		ls = ls[n:]
	}
	return nil
}

func closeAllListeners(ls []NsListener) {
	for _, l := range ls {
		if l.FD >= 0 {
			unix.Close(l.FD)
		}
	}
}
