// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package worker

import (
	"passt-go/fwd"
	"passt-go/ipc"
)

// Auto forwarding, seen from the worker: once it is ready, the monitor
// may hand over listeners of auto rules at any time (FDs messages) and
// take them back (Unlisten), as ports start and stop listening on the
// other side. Each descriptor is checked as those of the start are, and
// against the rule its entry names; one that does not pass is closed.

// autoKey names a listener handed over at run time.
type autoKey = ipc.Unlisten

// autoListeners are the listeners handed over at run time, by key, with
// their descriptors (owned by the TCP or UDP handler).
type autoListeners map[autoKey]int

func keyOf(e ipc.FDEntry) autoKey {
	return autoKey{Role: e.Role, Family: e.Family, Side: e.Side, Port: e.Port, Rule: e.Rule}
}

// autoMessage handles the messages of auto forwarding and reports whether
// m was one; it owns m's descriptors then.
func (w *Worker) autoMessage(m ipc.Message) bool {
	switch b := m.Body.(type) {
	case ipc.FDs:
		for i, e := range b.Entries {
			w.autoAdd(e, m.FDs[i])
		}
		return true
	case ipc.Unlisten:
		w.autoRemove(b)
		return true
	}
	return false
}

// autoAdd registers fd, described by e, as a listener of an auto rule.
func (w *Worker) autoAdd(e ipc.FDEntry, fd int) {
	if err := w.autoCheck(e, fd); err != nil {
		closeFD(fd)
		w.logf(ipc.LevelWarning, "listener from the monitor refused: %v", err)
		return
	}
	k := keyOf(e)
	if old, ok := w.auto[k]; ok {
		// The monitor handed the same listener again: keep the newer.
		w.autoDrop(k, old)
	}
	var err error
	switch {
	case e.Side == ipc.SideNamespace && e.Role == ipc.FDTCPListener:
		err = w.splice.add(e, fd)
	case e.Side == ipc.SideNamespace:
		err = w.udpSplice.add(e, fd)
	case e.Role == ipc.FDTCPListener:
		err = w.tcp.add(handed{entry: e, fd: fd})
	default:
		err = w.udp.add(handed{entry: e, fd: fd})
	}
	if err != nil {
		w.logf(ipc.LevelWarning, "%v", err)
		return
	}
	if w.auto == nil {
		w.auto = autoListeners{}
	}
	w.auto[k] = fd
}

// autoCheck checks a listener handed over at run time: a TCP or UDP
// listener on the host side, or a TCP listener (-T) or bound UDP socket
// (-U) inside the namespace, what its entry says it is, for a port of an
// auto rule of its protocol and direction.
func (w *Worker) autoCheck(e ipc.FDEntry, fd int) error {
	var t *fwd.Table
	side := ipc.SideHost
	switch {
	case e.Role == ipc.FDTCPListener && e.Proto == ipc.TCP && e.Side == ipc.SideNamespace && w.cfg.TCP:
		t, side = w.cfg.Forward.TCPNs.Table, ipc.SideNamespace
	case e.Role == ipc.FDUDPListener && e.Proto == ipc.UDP && e.Side == ipc.SideNamespace && w.cfg.UDP:
		t, side = w.cfg.Forward.UDPNs.Table, ipc.SideNamespace
	case e.Role == ipc.FDTCPListener && e.Proto == ipc.TCP && w.tcp.on:
		t = w.cfg.Forward.TCP.Table
	case e.Role == ipc.FDUDPListener && e.Proto == ipc.UDP && w.udp.h != nil:
		t = w.cfg.Forward.UDP.Table
	default:
		return errString("descriptor for " + e.Role.String() + " " + e.Proto.String() + " at run time")
	}
	if e.Side != side || e.Port == 0 {
		return errString("listener not on the side of its rules, or without a port")
	}
	if t == nil || int(e.Rule) >= len(t.Rules) || !t.Rules[e.Rule].Auto || !t.Rules[e.Rule].Contains(e.Port) {
		return errString("no auto forwarding rule has the port")
	}
	return ipc.VerifyFD(fd, e)
}

// autoRemove closes the listener u names, if the worker has it.
func (w *Worker) autoRemove(u ipc.Unlisten) {
	if fd, ok := w.auto[u]; ok {
		w.autoDrop(u, fd)
	}
}

func (w *Worker) autoDrop(k autoKey, fd int) {
	delete(w.auto, k)
	switch {
	case k.Side == ipc.SideNamespace && k.Role == ipc.FDTCPListener:
		w.splice.remove(fd)
	case k.Side == ipc.SideNamespace:
		w.udpSplice.remove(fd)
	case k.Role == ipc.FDTCPListener:
		w.tcp.h.RemoveListener(fd)
	default:
		w.udpSplice.dropListener(fd)
		w.udp.h.RemoveListener(fd)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
