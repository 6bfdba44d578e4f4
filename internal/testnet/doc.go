// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package testnet holds helpers that the unit tests of several packages
// share; only tests import it.
//
//   - NetNS, a private network namespace for the sockets a Handler opens,
//     and CountFDs, to see that they are closed again;
//   - Rig, the flow table, event loop, guest-side sink and clock of a
//     Handler, and its Pump, which runs the loop until frames arrive;
//   - checks of the Reply functions that answer the guest on the host's
//     behalf (ARP, NDP, DHCP, DHCPv6): a reply that must come, frames that
//     must be ignored, a reply that allocates nothing, a reply written into
//     a guarded buffer for a fuzz target;
//   - UDPFrame and DecodeUDP, to build a UDP frame and take one apart;
//   - small checks those packages have in common: the names of an
//     enumeration, fields of a frame or message against the values wanted,
//     the codes an option iterator gives.
//
// Failures are reported through the testing.TB given. A helper that
// cannot go on stops the test with Fatal, so it must run on the test's
// goroutine, never inside NetNS.Run.
package testnet
