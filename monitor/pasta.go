// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package monitor

import (
	"errors"
	"os"
	"syscall"

	"passt-go/conf"
	"passt-go/ipc"
	"passt-go/logging"
	"passt-go/pasta"
	"passt-go/sandbox"
)

// pasta mode, seen from the monitor: the namespace is made or joined
// during set-up, before the monitor gives up its identity (package pasta
// does it through a second process); its tap device goes to the worker as
// the guest side; once the worker is ready the command starts, and its
// end, or the end of a joined namespace, ends pasta.

// pastaState is what the monitor keeps of the namespace.
type pastaState struct {
	ns    *pasta.Namespace
	watch *pasta.Watcher // nil: spawned, or --no-netns-quit
	path  string         // the joined namespace's file
	// hostProcNet are the host's socket tables for -T auto and -U auto,
	// by name.
	hostProcNet map[string]int
	// exit is the command's exit code once known, else -1.
	exit int
}

// pastaKeeper runs the namespace process instead of the monitor when this
// process was started as one (see pasta.IsKeeper).
func pastaKeeper() (int, bool) {
	if !pasta.IsKeeper() {
		return 0, false
	}
	return pasta.KeeperMain(), true
}

// pastaSpawns reports whether pasta creates a namespace and runs a command
// in it: it then stays in the foreground, as the command's parent.
func pastaSpawns(o *conf.Options) bool {
	return o.Mode == conf.Pasta && o.PID == 0 && o.Netns == ""
}

// pastaOptions adjusts pasta's defaults before the configuration is
// resolved. Forwarding defaults to "auto" in all four directions: where
// that is not available yet (see Available) the default is "none", and an
// explicit specification is still refused by refuseMissing. A spawned
// command owns the terminal, so pasta is quiet unless asked for
// debugging.
func (m *monitor) pastaOptions(o *conf.Options) {
	if o.Mode != conf.Pasta {
		return
	}
	for _, d := range []struct {
		opt   string
		specs *[]string
	}{
		{"-t", &o.TCPPorts}, {"-u", &o.UDPPorts}, {"-T", &o.TCPNsPorts}, {"-U", &o.UDPNsPorts},
	} {
		if len(*d.specs) == 0 && !Available(d.opt, true) {
			*d.specs = []string{"none"}
			m.log.Debugf("%s: auto forwarding is not available yet: none", d.opt)
		}
	}
	if pastaSpawns(o) && !o.Debug && !o.Trace && m.log.Level() < logging.Warn {
		m.log.SetLevel(logging.Warn)
	}
}

// openNamespace makes or joins the namespace, queues its tap device for
// the worker, and starts watching a joined namespace.
func (m *monitor) openNamespace(cfg *conf.Config) error {
	if cfg.FD >= 0 {
		return errors.New("--fd: not supported yet in pasta mode (a tap device from the caller)")
	}
	nc := cfg.Namespace
	uid, gid, _, err := sandbox.LookupRunas(cfg.RunAs)
	if err != nil {
		return err
	}
	userns := nc.Userns
	if nc.NetnsOnly {
		userns = ""
	}
	ns, err := pasta.Open(pasta.Target{
		Setup:  pasta.NewSetup(cfg),
		Netns:  nc.Netns,
		Userns: userns,
		PID:    nc.PID,
		UID:    uid,
		GID:    gid,
		Argv0:  os.Args[0],
	})
	if err != nil {
		return err
	}
	m.pasta = &pastaState{ns: ns, path: nc.Netns, exit: -1}
	for _, w := range ns.Warnings {
		m.log.Warnf("namespace: %s", w)
	}
	l := ns.Link
	m.log.Debugf("namespace: tap device %s (index %d), MAC %s, MTU %d", l.Name, l.Index, l.MAC, l.MTU)
	m.give(ipc.FDEntry{Role: ipc.FDTap}, ns.TapFD)
	ns.TapFD = -1
	m.giveNsListeners(ns)
	m.openHostProcNet(cfg)
	if err := m.giveNsUDP(cfg, ns); err != nil {
		return err
	}
	// Later sockets inside (auto forwarding, the spliced paths) need no
	// privilege: a keeper that started as root gives it up now.
	if err := ns.Settle(); err != nil {
		return err
	}
	if !nc.Spawn() && !nc.NoNetnsQuit {
		w, err := pasta.WatchGone(nc.Netns)
		if err != nil {
			return err
		}
		m.pasta.watch = w
	}
	return nil
}

// pastaRun starts the command of a spawned namespace. The channel it
// returns delivers pasta's exit status when pasta should end: the
// command's (its exit status, or 128 and a signal's number), or 0 when a
// joined namespace has gone. It is nil in passt mode and when a joined
// namespace is not watched.
func (m *monitor) pastaRun() <-chan int {
	p := m.pasta
	if p == nil {
		return nil
	}
	if p.watch != nil {
		done := make(chan int, 1)
		go func() {
			<-p.watch.Gone()
			m.log.Infof("namespace %s is gone, exiting", p.path)
			done <- 0
		}()
		return done
	}
	if err := p.ns.Start(); err != nil {
		m.log.Errorf("%v", err)
		done := make(chan int, 1)
		done <- 1
		return done
	}
	return p.ns.Done()
}

// pastaSignal handles a signal for a spawned namespace and reports
// whether it did: SIGTERM and SIGHUP go on to the command, whose end ends
// pasta; SIGINT and SIGQUIT come from the terminal, which sends them to
// the command too, and are left to it.
func (m *monitor) pastaSignal(s os.Signal) bool {
	p := m.pasta
	if p == nil || p.ns.Done() == nil {
		return false
	}
	switch s {
	case syscall.SIGTERM, syscall.SIGHUP:
		m.log.Debugf("%v: passed on to the command", s)
		p.ns.Signal(s.(syscall.Signal))
	default:
		m.log.Debugf("%v: left to the command", s)
	}
	return true
}

// exitCode is pasta's exit status once the worker stopped normally: the
// command's when it ended, else code.
func (m *monitor) exitCode(code int) int {
	if m.pasta != nil && m.pasta.exit >= 0 {
		return m.pasta.exit
	}
	return code
}

// pastaCleanup ends the namespace process of a spawned namespace, if it
// still runs, and the watch.
func (m *monitor) pastaCleanup() {
	if m.pasta == nil {
		return
	}
	if m.pasta.watch != nil {
		m.pasta.watch.Stop()
	}
	m.pasta.ns.Close()
}
