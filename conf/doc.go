// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package conf turns the command line of passt or pasta into the one typed
// configuration that the rest of the program runs on.
//
// # Theory of operation
//
// Configuration happens in two stages, because the second needs the host.
//
//  1. [Parse] reads the arguments (without argv[0]) against the option
//     table returned by [OptionTable]. The scanner behaves like glibc's
//     getopt_long with a leading '+' in the option string: short options
//     may be grouped ("-4dt 22", "-t80"), long options take "--opt=val" or
//     "--opt val", unambiguous prefixes of long names are accepted
//     ("--fore"), "--" ends the options and so does the first argument that
//     is not an option, which keeps pasta's trailing PID or COMMAND [ARGS]
//     untouched. Each option is applied in order as it is read, so the last
//     one given wins and -h or --version stop the scan where they appear.
//     Values are checked here (address kinds, MTU range, MAC syntax, mode
//     restrictions) and the result, [Options], says what the command line
//     asked for and nothing more. Options whose feature is not built yet
//     are listed in [NotSupported] and refused after the scan. Arguments
//     must be valid UTF-8, since the configuration travels as JSON.
//
//  2. [Resolve] combines [Options] with what package host detected
//     (template interface, addresses, default route, resolv.conf) into a
//     [Config]: per address family the guest's address, prefix, gateway,
//     our link-local address, the nameservers to advertise and the
//     DNS and loopback mappings; the enabled protocol handlers; the port
//     forwarding tables, parsed by package fwd now that the enabled
//     families and the ephemeral port range are known; the pasta namespace
//     to create or join. A Config is plain data that encodes to JSON and
//     back unchanged, so the monitor can hand it to the worker.
//
// # Addressing
//
// By default the guest gets the address, prefix and gateway of the host's
// template interface (the one with the default route, or the one named by
// -i / --outbound-if4 / --outbound-if6), so that no NAT is needed. A family
// with no template interface runs in local mode: IPv4 uses 169.254.2.1/16
// with gateway 169.254.2.2, IPv6 assigns no address and uses fe80::1 as
// gateway and as our link-local address. The gateway address doubles as the
// guest-side name of the host's loopback (--map-host-loopback) unless
// --no-map-gw says otherwise. Loopback resolvers in the host's resolv.conf
// (127.0.0.53 on systemd-resolved hosts) are advertised as that mapped
// address, and DNS traffic to it is sent to the real resolver; the pair is
// recorded in [Family] as DNSForward and DNSHost.
//
// When neither family has a template interface and no -a or -g gives one
// to build from, Resolve fails and says which interfaces it examined.
package conf
