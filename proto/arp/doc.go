// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package arp answers the guest's ARP requests without asking the host, and
// builds the request the worker sends to learn the guest's MAC address.
//
// # What is answered
//
// The guest sits alone on a point-to-point Ethernet link whose other end is
// the translator. Every IPv4 address other than the guest's own lies behind
// that other end, so Reply answers an Ethernet/IPv4 ARP request for any such
// address with our MAC address (proxy ARP for the whole address space). The
// reply is unicast: its Ethernet destination is the source of the request,
// its sender is our MAC with the address asked for, and its target is the
// requester's hardware and protocol address, copied from the request.
//
// # What is ignored, and why
//
// Reply writes nothing and returns an Ignore reason for:
//
//   - frames that are not ARP, or ARP for other hardware or protocol types
//     (IgnoreNotARP, IgnoreMalformed);
//   - replies and other operations (IgnoreNotRequest): only requests are
//     answered, and the worker learns the guest's MAC from the source of any
//     frame, so a reply from the guest carries nothing more;
//   - announcements, gratuitous ARP, where sender and target address are the
//     same non-zero address (IgnoreAnnouncement): nothing is asked;
//   - probes from 0.0.0.0 for the guest's own address, RFC 5227 address
//     conflict detection (IgnoreProbe): answering would make the guest
//     believe its address is taken;
//   - any other request for the guest's own address (IgnoreGuestAddr): that
//     address is the guest's, not ours;
//   - requests for 0.0.0.0 (IgnoreUnspecifiedTarget), which no host holds;
//   - a reply buffer shorter than FrameLen (IgnoreShortBuffer).
//
// A probe from 0.0.0.0 for another address is answered like any request,
// with 0.0.0.0 as the reply's target address, as upstream passt does: the
// guest learns that the address is in use.
//
// Unlike upstream passt since late 2025, which answers for hosts of the
// host's own LAN with their real MAC from a neighbour cache, every answer
// here carries Config.OurMAC.
//
// # Learning the guest's MAC
//
// When the guest's link comes up, the worker sends one broadcast request
// for the guest's address (Request), with our MAC and our IPv4 address as
// sender; the guest's reply, like every frame it sends, tells the worker
// its MAC.
//
// Reply and Request are pure functions of their arguments: no state, no
// I/O, no allocation. The caller owns frame and out; nothing is kept.
package arp
