// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package nat holds the address translation that TCP, UDP and ICMP share,
// as pure functions of a Config. By default there is no translation: the
// guest has the host's own address and talks to the world with it. A few
// addresses are special, and only this package knows which.
//
// # Guest to host (Outbound)
//
// For the destination of a new flow from the guest, first match wins:
//
//  1. TCP or UDP to port 53 or 853 at the DNS forwarding address goes to the
//     DNS host (the resolver the host really uses, perhaps 127.0.0.53).
//  2. The map-host-loopback address (by default the gateway, unless NoMapGW)
//     goes to 127.0.0.1 or ::1: the host itself.
//  3. The map-guest-addr address goes to the guest's assigned address, which
//     is the host's own address on its outbound interface.
//  4. Anything else goes where the guest sent it.
//
// Loopback, unspecified and IPv4-mapped IPv6 destinations are refused
// before the rules: the guest must never reach the host's loopback except
// through rule 2 (or the DNS host of rule 1), and a mapped address would
// reach IPv4 through a dual-stack socket around the rules.
//
// # Host to guest (Inbound)
//
// For the source of a flow that starts on the host side, as the guest will
// see it:
//
//   - 127.0.0.1 (that address only, not all of 127.0.0.0/8) or ::1 becomes
//     the map-host-loopback address;
//   - the guest's own assigned address becomes the map-guest-addr address;
//   - any other address that is not loopback, unspecified or the guest's
//     own is kept;
//   - anything left becomes the gateway (IPv4) or our link-local address
//     (IPv6), and with neither configured the flow is refused.
//
// No result of Inbound is ever a loopback or unspecified address.
//
// # Replies (Reverse)
//
// A flow opened by the guest keeps the destination the guest used in its
// key, and replies on it carry that address as their source: that is exact
// whatever the rules did. Reverse is the same inverse as a pure function of
// the reply's source address and port: a DNS reply from the DNS host
// becomes the DNS forwarding address, everything else goes through Inbound.
// Reverse(Outbound(x)) is x for every address a rule rewrote, as long as
// the rules' targets are distinct (a DNS host of 127.0.0.1 or of the
// guest's address makes them ambiguous), and for every address left alone
// other than the DNS host and the guest's own address.
//
// # Configuration
//
// A Config field left as the zero netip.Addr is "none". IPv4 fields hold
// IPv4 addresses and IPv6 fields IPv6 ones; Validate checks that and that
// no address the guest could be shown is loopback or unspecified, so that
// the guarantees above hold. Addresses given to the functions in IPv4-mapped
// IPv6 form are taken as IPv4 on the host side (Inbound, Reverse) and
// refused on the guest side (Outbound). Nothing here allocates.
package nat
