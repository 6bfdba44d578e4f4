// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package monitor

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/sys/unix"

	"passt-go/conf"
	"passt-go/fwd"
	"passt-go/ipc"
)

// Translated says which protocols the worker translates. Forwarding rules
// for a protocol it does not translate yet are refused at start, never
// accepted and ignored.
var Translated = map[fwd.Proto]bool{fwd.TCP: true, fwd.UDP: true}

// TranslatedNs says for which protocols -T and -U (namespace to host,
// pasta) work: they need listeners inside the namespace and the spliced
// loopback path.
var TranslatedNs = map[fwd.Proto]bool{fwd.TCP: true, fwd.UDP: true}

// AutoForwarding says whether "auto" specifications work: they need the
// port re-scan of the other side (monitor/auto.go). For -T and -U they
// also need the namespace side of TranslatedNs.
const AutoForwarding = true

// Available reports whether a forwarding option (-t, -u, -T, -U) works in
// this version, so that pasta's default of auto can fall back to none
// where it does not.
func Available(opt string, auto bool) bool {
	if auto && (!AutoForwarding || !autoDirection(opt)) {
		return false
	}
	switch opt {
	case "-t":
		return Translated[fwd.TCP]
	case "-u":
		return Translated[fwd.UDP]
	case "-T":
		return TranslatedNs[fwd.TCP]
	case "-U":
		return TranslatedNs[fwd.UDP]
	}
	return false
}

// refuseMissing refuses configurations that ask for forwarding this
// version does not do yet.
func refuseMissing(cfg *conf.Config) error {
	for _, f := range []struct {
		opt string
		fw  conf.Forward
	}{
		{"-t", cfg.Forward.TCP}, {"-u", cfg.Forward.UDP},
		{"-T", cfg.Forward.TCPNs}, {"-U", cfg.Forward.UDPNs},
	} {
		if f.fw.Table == nil || len(f.fw.Table.Rules) == 0 {
			continue
		}
		spec := strings.Join(f.fw.Specs, ",")
		if !Available(f.opt, false) {
			return fmt.Errorf("%s %s: not supported yet (this forwarding direction is not translated yet)", f.opt, spec)
		}
		if f.fw.Table.HasAuto() && !Available(f.opt, true) {
			return fmt.Errorf("%s %s: auto: not supported yet (ports are not re-scanned yet; give them explicitly)", f.opt, spec)
		}
	}
	return nil
}

// openListeners opens the host-side sockets of the -t and -u rules and
// queues them for the worker. Ports below 1024 work when the monitor may
// bind them (root, CAP_NET_BIND_SERVICE, or a lowered
// net.ipv4.ip_unprivileged_port_start): it opens them before it gives up
// its privileges.
func (m *monitor) openListeners(cfg *conf.Config) error {
	for _, f := range []struct {
		opt string
		fw  conf.Forward
	}{{"-t", cfg.Forward.TCP}, {"-u", cfg.Forward.UDP}} {
		t := f.fw.Table
		if t == nil || len(t.Rules) == 0 {
			continue
		}
		opened, weakFailed := 0, 0
		for l := range t.Listeners() {
			fd, fam, err := listenPort(t.Proto, l, cfg.IPv4.Enabled, cfg.IPv6.Enabled, cfg.Freebind)
			if err != nil {
				if l.Weak {
					weakFailed++
					continue
				}
				return fmt.Errorf("%s: %w", f.opt, err)
			}
			role, proto := ipc.FDTCPListener, ipc.TCP
			if t.Proto == fwd.UDP {
				role, proto = ipc.FDUDPListener, ipc.UDP
			}
			m.give(ipc.FDEntry{Role: role, Proto: proto, Family: fam, Side: ipc.SideHost, Port: l.Port, Rule: uint16(l.Rule)}, fd)
			opened++
		}
		if opened == 0 && weakFailed > 0 {
			return fmt.Errorf("%s %s: no port could be bound on the host", f.opt, strings.Join(f.fw.Specs, ","))
		}
		if weakFailed > 0 {
			m.log.Debugf("%s: %d ports in use on the host, skipped", f.opt, weakFailed)
		}
	}
	return nil
}

// listenPort opens one listening TCP socket or bound UDP socket on the
// host: dual-stack when the rule has no address and both families are on.
func listenPort(p fwd.Proto, l fwd.Listener, v4, v6, freebind bool) (int, ipc.Family, error) {
	addr := l.Addr
	dual := false
	if !addr.IsValid() {
		switch {
		case v6:
			addr, dual = netip.IPv6Unspecified(), v4
		default:
			addr = netip.IPv4Unspecified()
		}
	}
	domain, fam := unix.AF_INET, ipc.IPv4
	if addr.Is6() {
		domain, fam = unix.AF_INET6, ipc.IPv6
	}
	typ, name := unix.SOCK_STREAM, "TCP"
	if p == fwd.UDP {
		typ, name = unix.SOCK_DGRAM, "UDP"
	}
	where := fmt.Sprintf("%s port %d on the host", name, l.Port)
	if l.Addr.IsValid() {
		where = fmt.Sprintf("%s port %d on the host address %s", name, l.Port, l.Addr)
	}
	fd, err := unix.Socket(domain, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, 0, fmt.Errorf("%s: socket: %w", where, err)
	}
	fail := func(what string, err error) (int, ipc.Family, error) {
		unix.Close(fd)
		if errors.Is(err, unix.EADDRINUSE) {
			return -1, 0, fmt.Errorf("%s is already in use", where)
		}
		if errors.Is(err, unix.EACCES) && l.Port < 1024 {
			return -1, 0, fmt.Errorf("%s: %s: %w (ports below 1024 need privilege, or a lower net.ipv4.ip_unprivileged_port_start)", where, what, err)
		}
		return -1, 0, fmt.Errorf("%s: %s: %w", where, what, err)
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if domain == unix.AF_INET6 {
		v6only := 1
		if dual {
			v6only = 0
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v6only); err != nil {
			return fail("IPV6_V6ONLY", err)
		}
	}
	if freebind {
		if domain == unix.AF_INET6 {
			unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_FREEBIND, 1)
		} else {
			unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_FREEBIND, 1)
		}
	}
	if l.Ifname != "" {
		if err := unix.BindToDevice(fd, l.Ifname); err != nil {
			return fail("bind to interface "+l.Ifname, err)
		}
	}
	var sa unix.Sockaddr
	if domain == unix.AF_INET6 {
		sa = &unix.SockaddrInet6{Port: int(l.Port), Addr: addr.As16()}
	} else {
		sa = &unix.SockaddrInet4{Port: int(l.Port), Addr: addr.As4()}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	if p == fwd.TCP {
		if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
			return fail("listen", err)
		}
	}
	return fd, fam, nil
}
