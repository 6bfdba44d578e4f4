// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package worker

import (
	"fmt"
	"net/netip"
	"strconv"

	"passt-go/ipc"
	"passt-go/proto/flow"
	"passt-go/proto/header"
)

// Tracing (--trace): one log line per frame, each way, and one per flow
// inserted in or removed from the flow table. The data path tests a single
// bool (Worker.trace) before calling in here, so that without --trace
// nothing is formatted or allocated. Lines travel to the monitor like any
// log line, without waiting: when the IPC socket is full they are counted,
// and the count is reported once there is room again. Tracing may slow
// the worker, but never stops it.

// traceInit turns tracing on when the configuration asks for it.
func (w *Worker) traceInit() {
	if !w.cfg.Log.Trace {
		return
	}
	w.trace = true
	w.traceBuf = make([]byte, outSlotSize)
	w.l2.flows.Observe(w.traceFlow)
}

// traceFromGuest describes a frame from the guest, decoded as f, or
// dropped by the decoder for reason d.
func (w *Worker) traceFromGuest(frame []byte, f *header.Frame, d header.Drop) {
	w.tracef("from guest: %s", describeFrame(frame, f, d))
}

// traceToGuest describes a frame queued for the guest.
func (w *Worker) traceToGuest(frame []byte) {
	f, d := header.Decode(frame)
	w.tracef("to guest: %s", describeFrame(frame, &f, d))
}

// traceToGuestParts describes a frame queued for the guest as a header and
// a payload.
func (w *Worker) traceToGuestParts(hdr, payload []byte) {
	n := copy(w.traceBuf, hdr)
	n += copy(w.traceBuf[n:], payload)
	w.traceToGuest(w.traceBuf[:n])
}

// traceFlow is the flow table's observer.
func (w *Worker) traceFlow(ev flow.Event, index uint32, k flow.Key, typ flow.Type) {
	what := "opened"
	if ev == flow.EventRemoved {
		what = "closed"
	}
	guest, remote := k.GuestAddr.String(), k.RemoteAddr.String()
	if typ != flow.TypeICMP {
		guest = netip.AddrPortFrom(k.GuestAddr, k.GuestPort).String()
		remote = netip.AddrPortFrom(k.RemoteAddr, k.RemotePort).String()
	} else {
		remote += " id " + strconv.Itoa(int(k.GuestPort))
	}
	w.tracef("flow %d %s: %s, guest %s, remote %s", index, what, typ, guest, remote)
}

// tracef sends a trace line to the monitor without waiting; a line that
// does not fit is counted as lost.
func (w *Worker) tracef(format string, args ...any) {
	if w.traceLost > 0 {
		text := fmt.Sprintf("%d trace lines lost: the monitor did not keep up", w.traceLost)
		if w.conn.Send(ipc.Message{Body: ipc.Log{Level: ipc.LevelWarning, Text: text}}) != nil {
			w.traceLost++
			return
		}
		w.traceLost = 0
	}
	text := ipc.CleanLogText(fmt.Sprintf(format, args...))
	if w.conn.Send(ipc.Message{Body: ipc.Log{Level: ipc.LevelTrace, Text: text}}) != nil {
		w.traceLost++
	}
}

// describeFrame says in one line what a frame carries: protocols,
// addresses and ports, TCP flags and sequence numbers, ICMP type, and its
// length; or why the decoder dropped it.
func describeFrame(frame []byte, f *header.Frame, d header.Drop) string {
	s := ""
	switch {
	case f.EtherType == header.EtherTypeARP && d == header.DropNone:
		op := "ARP"
		if a, ok := header.ParseARP(frame[f.L3:]); ok {
			switch a.Op() {
			case header.ARPRequest:
				op = "ARP request"
			case header.ARPReply:
				op = "ARP reply"
			}
		}
		s = fmt.Sprintf("%s %s > %s", op, f.Src, f.Dst)
	case f.EtherType == header.EtherTypeIPv4 || f.EtherType == header.EtherTypeIPv6:
		fam := "IPv4"
		if f.EtherType == header.EtherTypeIPv6 {
			fam = "IPv6"
		}
		if !f.Src.IsValid() {
			s = fam
			break
		}
		switch {
		case f.L4 == 0:
			s = fmt.Sprintf("%s proto %d %s > %s", fam, f.Proto, f.Src, f.Dst)
		case f.Proto == header.ProtocolTCP:
			s = fmt.Sprintf("%s TCP %s > %s %v", fam,
				netip.AddrPortFrom(f.Src, f.SrcPort), netip.AddrPortFrom(f.Dst, f.DstPort), f.TCPFlags)
			if t, ok := header.ParseTCP(f.Transport(frame)); ok {
				s += fmt.Sprintf(" seq %d ack %d win %d, %d bytes of data", t.Seq(), t.Ack(), t.Window(), f.End-f.Payload)
			}
		case f.Proto == header.ProtocolUDP:
			s = fmt.Sprintf("%s UDP %s > %s", fam, netip.AddrPortFrom(f.Src, f.SrcPort), netip.AddrPortFrom(f.Dst, f.DstPort))
		case f.Proto == header.ProtocolICMP || f.Proto == header.ProtocolICMPv6:
			name := "ICMP"
			if f.Proto == header.ProtocolICMPv6 {
				name = "ICMPv6"
			}
			s = fmt.Sprintf("%s %s %s > %s type %d code %d", fam, name, f.Src, f.Dst, f.ICMPType, f.ICMPCode)
			if f.SrcPort != 0 {
				s += fmt.Sprintf(" id %d", f.SrcPort)
			}
		default:
			s = fmt.Sprintf("%s proto %d %s > %s", fam, f.Proto, f.Src, f.Dst)
		}
	case f.EtherType != 0:
		s = fmt.Sprintf("ethertype 0x%04x %s > %s", uint16(f.EtherType), f.SrcMAC, f.DstMAC)
	default:
		s = "Ethernet"
	}
	s += fmt.Sprintf(", %d bytes", len(frame))
	if d != header.DropNone {
		s += ", dropped: " + d.String()
	}
	return s
}
