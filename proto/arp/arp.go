// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package arp

import (
	"net/netip"

	"passt-go/proto/header"
)

// FrameLen is the length of every frame this package writes: an Ethernet
// header and an ARP packet, without padding (42 bytes).
const FrameLen = header.EthernetLen + header.ARPLen

// Config is what the ARP responder needs from the configuration. The worker
// fills it once; Reply and Request only read it.
type Config struct {
	// OurMAC is the address every answer claims, and the source of every
	// frame written.
	OurMAC header.MAC
	// GuestAddr is the IPv4 address assigned to the guest. Requests for it
	// are never answered. Invalid when the guest has none.
	GuestAddr netip.Addr
	// OurAddr is the sender address of Request: the guest's gateway (or,
	// without one, any address of ours the guest may see).
	OurAddr netip.Addr
}

var unspecified4 = netip.IPv4Unspecified()

// Reply answers the ARP request in frame, whose decoding f is what
// header.Decode returned for it, by writing a complete Ethernet frame at the
// start of out. It returns the frame's length (FrameLen) and IgnoreNone, or
// 0 and the reason the request is not answered, having written nothing.
// frame is only read; out is only written within out[:FrameLen]. Nothing
// is kept and nothing is allocated.
func Reply(cfg *Config, frame []byte, f header.Frame, out []byte) (n int, why Ignore) {
	if f.EtherType != header.EtherTypeARP {
		return 0, IgnoreNotARP
	}
	a, ok := header.ParseARP(f.Network(frame))
	if !ok {
		return 0, IgnoreMalformed
	}
	if a.Op() != header.ARPRequest {
		return 0, IgnoreNotRequest
	}
	sender, target := a.SenderIP(), a.TargetIP()
	switch {
	case target == unspecified4:
		return 0, IgnoreUnspecifiedTarget
	case sender == target:
		return 0, IgnoreAnnouncement
	case target == cfg.GuestAddr && sender == unspecified4:
		return 0, IgnoreProbe
	case target == cfg.GuestAddr:
		return 0, IgnoreGuestAddr
	}
	if len(out) < FrameLen {
		return 0, IgnoreShortBuffer
	}
	header.PutEthernet(out, f.SrcMAC, cfg.OurMAC, header.EtherTypeARP)
	header.PutARP(out[header.EthernetLen:], header.ARPReply,
		cfg.OurMAC, target, a.SenderMAC(), sender)
	return FrameLen, IgnoreNone
}

// Request writes at the start of out a broadcast ARP request for target,
// from cfg.OurMAC and cfg.OurAddr (0.0.0.0 when that is not IPv4), with a
// zero target hardware address, and returns its length (FrameLen). It
// returns 0, having written nothing, when out is shorter or target is not
// an IPv4 address.
func Request(cfg *Config, target netip.Addr, out []byte) int {
	if len(out) < FrameLen || !target.Is4() {
		return 0
	}
	header.PutEthernet(out, header.BroadcastMAC, cfg.OurMAC, header.EtherTypeARP)
	header.PutARP(out[header.EthernetLen:], header.ARPRequest,
		cfg.OurMAC, cfg.OurAddr, header.MAC{}, target)
	return FrameLen
}
