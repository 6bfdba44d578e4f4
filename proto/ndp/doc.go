// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package ndp answers the guest's IPv6 Neighbor Discovery (RFC 4861)
// without asking the host: neighbor solicitations, router solicitations,
// and the periodic router advertisements. It also builds the solicitation
// the worker sends to learn the guest's MAC address.
//
// # What is answered
//
// The guest sits alone on a point-to-point Ethernet link whose other end is
// the translator, which is the guest's router and every other node it may
// look for.
//
// A Neighbor Solicitation (NS) for any unicast target other than the
// guest's own address gets a solicited Neighbor Advertisement (NA) with
// the Router, Solicited and Override flags and our MAC as target
// link-layer address: every other address, link-local or global, is
// behind us.
//
// A Router Solicitation (RS) gets a Router Advertisement (RA) unless RAs
// are off. The RA makes us the default router (lifetime 65535 s, the RFC
// 8319 maximum) and sets M, managed configuration: the guest's address
// comes from DHCPv6, which also hands out nameservers and the search list.
// O (other configuration) is left clear, as upstream passt leaves it: RFC
// 4861 4.2 calls it redundant once M is set, and the RA carries the DNS
// information itself. The prefix information option still lets the guest
// form an address by SLAAC (L and A set, infinite lifetimes): the /64 of
// the assigned address, so that the guest's addresses share the host's
// prefix. An MTU option, RDNSS and DNSSL (RFC 8106, infinite lifetimes)
// follow when configured. The worker also sends RA on its own, to
// all-nodes, at random intervals of 200 to 600 s (RFC 4861 6.2.1).
//
// Every message goes out from our link-local address with hop limit 255
// and a correct ICMPv6 checksum. Answers go to the soliciting address and
// to the Ethernet source of the solicitation; an RS from :: is answered to
// all-nodes (ff02::1, MAC 33:33:00:00:00:01), as RFC 4861 6.2.6 asks. No
// packet exceeds 1280 bytes, the IPv6 minimum MTU: nameservers and search
// domains that would not fit are left out of an RA.
//
// # What is ignored, and why
//
// Incoming messages are validated as RFC 4861 6.1.1 and 7.1.1 ask where it
// is cheap: hop limit 255 (proving the sender is on the link), code 0,
// complete fixed part, correct checksum, options complete and none of
// length 0, no source link-layer option from ::, a source that is not
// multicast, and an NS target that is not multicast. A message that fails
// is ignored with the reason. Further, by design:
//
//   - ICMPv6 other than RS and NS (IgnoreNotSolicitation): an RA or NA from
//     the guest asks nothing, and the worker learns the guest's MAC from
//     the source of any frame;
//   - an NS from :: (IgnoreDAD): the guest is checking that an address is
//     free before using it; answering would make the address look taken;
//   - an NS for the guest's own address (IgnoreGuestAddr): the address is
//     the guest's, not ours. Upstream passt answers such an NS when it does
//     not come from ::; a guest holding the address never sends one, and a
//     neighbour entry sending the guest's own address to us is never right,
//     so it is refused here as the ARP responder refuses the same request;
//   - an RS while RAs are off (IgnoreNoRA).
//
// Unlike upstream passt since late 2025, which answers for hosts of the
// host's own LAN with their real MAC from a neighbour cache, every answer
// here carries Config.OurMAC.
//
// # Learning the guest's MAC
//
// When the guest's link comes up, the worker sends an NS for the guest's
// address (Solicit) to its solicited-node multicast group; the guest's NA,
// like every frame it sends, tells the worker its MAC.
//
// Reply, RA and Solicit are pure functions of their arguments: no state, no
// I/O, no allocation. The caller owns frame and out; nothing is kept.
package ndp
