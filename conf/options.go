// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package conf

import (
	"strconv"

	"passt-go/proto/flow"
)

// ArgKind says whether an option takes an argument.
type ArgKind uint8

const (
	// NoArgument options are flags: "--no-tcp"; "--no-tcp=x" is an error.
	NoArgument ArgKind = iota
	// RequiredArgument options take a value: "-t 22", "-t22", "--tcp-ports=22",
	// "--tcp-ports 22". The value may begin with '-'.
	RequiredArgument
)

// ModeSet is the set of modes an option belongs to.
type ModeSet uint8

const (
	// PasstOnly options are refused in pasta mode.
	PasstOnly ModeSet = 1 << Passt
	// PastaOnly options are refused in passt mode.
	PastaOnly ModeSet = 1 << Pasta
	// BothModes options mean the same in both modes.
	BothModes = PasstOnly | PastaOnly
)

// Has reports whether m is in the set.
func (s ModeSet) Has(m Mode) bool { return s&(1<<m) != 0 }

// Option describes one command-line option. The table of options drives the
// parser, the usage text and the manual page cross-check.
type Option struct {
	// Long is the canonical long name, without the leading "--".
	Long string
	// Aliases are further long names with the same meaning.
	Aliases []string
	// Short is the one-character name, 0 when there is none.
	Short rune
	// Arg says whether a value follows.
	Arg ArgKind
	// ArgName names the value in the usage text, such as "PATH".
	ArgName string
	// Modes are the modes that accept the option; in another mode it is
	// recognised but refused ("--userns is for pasta mode only").
	Modes ModeSet
	// Help is a one-line description in the usage text.
	Help string
	// Default describes the default in words; empty when there is nothing
	// to say.
	Default string
	// PastaDefault replaces Default in pasta mode when it is not empty.
	PastaDefault string
}

// Names returns the long name followed by its aliases.
func (o *Option) Names() []string {
	return append([]string{o.Long}, o.Aliases...)
}

// DefaultFor returns the default described for mode m.
func (o *Option) DefaultFor(m Mode) string {
	if m == Pasta && o.PastaDefault != "" {
		return o.PastaDefault
	}
	return o.Default
}

// OptionTable returns every option of passt and pasta, in the order the
// usage text lists them. The caller owns the returned slice.
func OptionTable() []Option {
	out := make([]Option, len(optionTable))
	copy(out, optionTable)
	for i := range out {
		out[i].Aliases = append([]string(nil), out[i].Aliases...)
	}
	return out
}

// optionTable is the single source of truth; see [OptionTable].
var optionTable = []Option{
	// Logging and process behaviour.
	{Long: "debug", Short: 'd', Modes: BothModes,
		Help: "Print debugging messages"},
	{Long: "trace", Modes: BothModes,
		Help: "Print a message for every packet, implies --debug"},
	{Long: "stats", Arg: RequiredArgument, ArgName: "DELAY", Modes: BothModes,
		Help: "Print event counters at most every DELAY seconds (needs -f)"},
	{Long: "quiet", Short: 'q', Modes: BothModes,
		Help: "Print only warnings and errors"},
	{Long: "foreground", Short: 'f', Modes: BothModes,
		Help:    "Stay in the foreground",
		Default: "go to the background once ready"},
	{Long: "stderr", Short: 'e', Modes: BothModes,
		Help: "Deprecated: has no effect"},
	{Long: "log-file", Short: 'l', Arg: RequiredArgument, ArgName: "PATH", Modes: BothModes,
		Help: "Write log messages to PATH only, not to the system log"},
	{Long: "log-size", Arg: RequiredArgument, ArgName: "BYTES", Modes: BothModes,
		Help:    "Keep the log file under BYTES, dropping its oldest entries",
		Default: "1048576"},
	{Long: "runas", Arg: RequiredArgument, ArgName: "UID|UID:GID|LOGIN|LOGIN:GROUP", Modes: BothModes,
		Help:    "Change to this user and group after start",
		Default: "\"nobody\" when started as root in the initial namespace"},
	{Long: "conf-path", Short: 'c', Arg: RequiredArgument, ArgName: "PATH", Modes: BothModes,
		Help: "UNIX socket for changing the configuration at run time"},
	{Long: "help", Short: 'h', Modes: BothModes,
		Help: "Print this help and exit"},
	{Long: "version", Modes: BothModes,
		Help: "Print the version and exit"},

	// The guest side: socket, tap device, descriptors.
	{Long: "socket", Aliases: []string{"socket-path"}, Short: 's', Arg: RequiredArgument, ArgName: "PATH", Modes: PasstOnly,
		Help:    "UNIX socket that qemu or qrap connects to",
		Default: "the first free /tmp/passt_N.socket, counting from 1"},
	{Long: "vhost-user", Modes: PasstOnly,
		Help: "Speak vhost-user on the UNIX socket"},
	{Long: "print-capabilities", Modes: PasstOnly,
		Help: "Print the vhost-user back-end capabilities as JSON and exit"},
	{Long: "repair-path", Arg: RequiredArgument, ArgName: "PATH", Modes: PasstOnly,
		Help:    "UNIX socket for passt-repair during migration, or \"none\"",
		Default: "the socket path with \".repair\" appended (vhost-user only)"},
	{Long: "migrate-exit", Modes: PasstOnly,
		Help: "Deprecated: exit once migrated away as the source"},
	{Long: "migrate-no-linger", Modes: PasstOnly,
		Help: "Deprecated: close migrated sockets on the source"},
	{Long: "one-off", Short: '1', Modes: PasstOnly,
		Help: "Exit when the first client disconnects"},
	{Long: "ns-ifname", Short: 'I', Arg: RequiredArgument, ArgName: "NAME", Modes: PastaOnly,
		Help:    "Name of the tap device in the namespace",
		Default: "the template interface's name, or tap0"},
	{Long: "fd", Short: 'F', Arg: RequiredArgument, ArgName: "FD", Modes: BothModes,
		Help: "Use the already connected socket FD, exit when it closes"},
	{Long: "pcap", Short: 'p', Arg: RequiredArgument, ArgName: "FILE", Modes: BothModes,
		Help: "Capture the guest's frames to FILE in pcap format"},
	{Long: "pid", Short: 'P', Arg: RequiredArgument, ArgName: "FILE", Modes: BothModes,
		Help: "Write the process ID to FILE once ready"},

	// Addressing.
	{Long: "mtu", Short: 'm', Arg: RequiredArgument, ArgName: "MTU", Modes: BothModes,
		Help:    "MTU to advertise by DHCP and NDP, 0 for none",
		Default: "65520, the largest 802.3 frame less its header, in 4-byte units"},
	{Long: "address", Short: 'a', Arg: RequiredArgument, ArgName: "ADDR[/PLEN]", Modes: BothModes,
		Help:    "Guest address, once for IPv4 and once for IPv6",
		Default: "the address of the template interface"},
	{Long: "netmask", Short: 'n', Arg: RequiredArgument, ArgName: "MASK", Modes: BothModes,
		Help:    "IPv4 netmask, dotted quad or number of bits",
		Default: "the template address's prefix, or by class for -a"},
	{Long: "mac-addr", Short: 'M', Arg: RequiredArgument, ArgName: "MAC", Modes: BothModes,
		Help:    "Our MAC address as the guest sees it",
		Default: "9a:55:9a:55:9a:55, locally administered"},
	{Long: "gateway", Short: 'g', Arg: RequiredArgument, ArgName: "ADDR", Modes: BothModes,
		Help:    "Guest's gateway, once for IPv4 and once for IPv6",
		Default: "the gateway of the template interface's default route"},
	{Long: "interface", Short: 'i', Arg: RequiredArgument, ArgName: "NAME", Modes: BothModes,
		Help:    "Host interface to copy addresses and routes from",
		Default: "--outbound-if4/6, else the interface with the default route"},
	{Long: "outbound", Short: 'o', Arg: RequiredArgument, ArgName: "ADDR", Modes: BothModes,
		Help:    "Source address of outbound sockets, once per family",
		Default: "chosen by the routing table"},
	{Long: "outbound-if4", Arg: RequiredArgument, ArgName: "NAME", Modes: BothModes,
		Help:    "Bind IPv4 outbound sockets to this host interface",
		Default: "no binding"},
	{Long: "outbound-if6", Arg: RequiredArgument, ArgName: "NAME", Modes: BothModes,
		Help:    "Bind IPv6 outbound sockets to this host interface",
		Default: "no binding"},

	// Names.
	{Long: "dns", Short: 'D', Arg: RequiredArgument, ArgName: "ADDR", Modes: BothModes,
		Help:         "Nameserver for the guest, as given; repeatable; \"none\" for no DNS",
		Default:      "the nameservers of /etc/resolv.conf",
		PastaDefault: "the nameservers of /etc/resolv.conf, not advertised"},
	{Long: "dns-forward", Arg: RequiredArgument, ArgName: "ADDR", Modes: BothModes,
		Help:    "Guest-side address whose DNS traffic goes to --dns-host",
		Default: "no forwarding"},
	{Long: "dns-host", Arg: RequiredArgument, ArgName: "ADDR", Modes: BothModes,
		Help:    "Host resolver that receives --dns-forward traffic",
		Default: "the first nameserver of /etc/resolv.conf"},
	{Long: "search", Short: 'S', Arg: RequiredArgument, ArgName: "LIST", Modes: BothModes,
		Help:         "Space-separated DNS search list; \"none\" for no list",
		Default:      "the search list of /etc/resolv.conf",
		PastaDefault: "the search list of /etc/resolv.conf, not advertised"},
	{Long: "hostname", Short: 'H', Arg: RequiredArgument, ArgName: "NAME", Modes: BothModes,
		Help:         "Host name for the guest (DHCP option 12)",
		PastaDefault: "the namespace gets \"pasta-\" and the host's name"},
	{Long: "fqdn", Arg: RequiredArgument, ArgName: "NAME", Modes: BothModes,
		Help: "Fully qualified name for the guest (DHCP 81, DHCPv6 39)"},
	{Long: "no-dhcp-dns", Modes: PasstOnly,
		Help: "Don't advertise nameservers by DHCP, NDP or DHCPv6"},
	{Long: "dhcp-dns", Modes: PastaOnly,
		Help: "Advertise nameservers by DHCP, NDP and DHCPv6"},
	{Long: "no-dhcp-search", Modes: PasstOnly,
		Help: "Don't advertise the search list by DHCP, NDP or DHCPv6"},
	{Long: "dhcp-search", Modes: PastaOnly,
		Help: "Advertise the search list by DHCP, NDP and DHCPv6"},

	// Address translation.
	{Long: "map-host-loopback", Arg: RequiredArgument, ArgName: "ADDR", Modes: BothModes,
		Help:    "Guest-side address that reaches the host's loopback, or \"none\"",
		Default: "the gateway address"},
	{Long: "map-guest-addr", Arg: RequiredArgument, ArgName: "ADDR", Modes: BothModes,
		Help:    "Guest-side address that reaches the host's copy of the guest's address",
		Default: "none"},
	{Long: "no-map-gw", Modes: BothModes,
		Help: "Don't make the gateway address reach the host's loopback"},

	// Protocol handlers.
	{Long: "no-tcp", Modes: BothModes, Help: "Turn off TCP"},
	{Long: "no-udp", Modes: BothModes, Help: "Turn off UDP"},
	{Long: "no-icmp", Modes: BothModes, Help: "Turn off ICMP and ICMPv6 echo, implies --no-ndp"},
	{Long: "no-dhcp", Modes: BothModes, Help: "Turn off the DHCP server"},
	{Long: "no-ndp", Modes: BothModes, Help: "Don't answer neighbour discovery"},
	{Long: "no-dhcpv6", Modes: BothModes, Help: "Turn off the DHCPv6 server"},
	{Long: "no-ra", Modes: BothModes, Help: "Don't send router advertisements"},
	{Long: "freebind", Modes: BothModes,
		Help: "Allow -t and -u to listen on addresses the host doesn't have"},
	{Long: "max-flows", Arg: RequiredArgument, ArgName: "N", Modes: BothModes,
		Help:    "Track at most N flows (TCP connections, UDP flows, pings) at once; a passt-go extension, not in upstream",
		Default: strconv.Itoa(flow.DefaultCapacity)},
	{Long: "chroot-fallback", Modes: BothModes,
		Help: "Use chroot() where pivot_root() fails instead of giving up"},
	{Long: "ipv4-only", Short: '4', Modes: BothModes, Help: "Use IPv4 only"},
	{Long: "ipv6-only", Short: '6', Modes: BothModes, Help: "Use IPv6 only"},

	// Port forwarding.
	{Long: "tcp-ports", Short: 't', Arg: RequiredArgument, ArgName: "SPEC", Modes: BothModes,
		Help:         "Forward TCP ports of the host to the guest; repeatable",
		Default:      "none",
		PastaDefault: "auto"},
	{Long: "udp-ports", Short: 'u', Arg: RequiredArgument, ArgName: "SPEC", Modes: BothModes,
		Help:         "Forward UDP ports of the host to the guest; repeatable",
		Default:      "none",
		PastaDefault: "auto"},
	{Long: "tcp-ns", Short: 'T', Arg: RequiredArgument, ArgName: "SPEC", Modes: PastaOnly,
		Help:    "Forward TCP ports of the namespace to the host; repeatable",
		Default: "auto"},
	{Long: "udp-ns", Short: 'U', Arg: RequiredArgument, ArgName: "SPEC", Modes: PastaOnly,
		Help:    "Forward UDP ports of the namespace to the host; repeatable",
		Default: "auto"},
	{Long: "host-lo-to-ns-lo", Modes: PastaOnly,
		Help: "Forwards from the host's loopback arrive at the namespace's"},

	// The namespace.
	{Long: "userns", Arg: RequiredArgument, ArgName: "PATH", Modes: PastaOnly,
		Help:    "User namespace to join",
		Default: "the PID's user namespace when a PID is given"},
	{Long: "netns", Arg: RequiredArgument, ArgName: "PATH|NAME", Modes: PastaOnly,
		Help: "Network namespace to join; a NAME is looked up in /run/netns"},
	{Long: "netns-only", Modes: PastaOnly,
		Help: "Join the network namespace only, no user namespace"},
	{Long: "no-netns-quit", Modes: PastaOnly,
		Help: "Keep running when the target namespace goes away"},
	{Long: "config-net", Modes: PastaOnly,
		Help: "Set up the tap device's addresses and routes, implies --no-ra"},
	{Long: "no-copy-routes", Modes: PastaOnly,
		Help: "Deprecated: with --config-net, set only the default route"},
	{Long: "no-copy-addrs", Modes: PastaOnly,
		Help: "Deprecated: with --config-net, set only one address"},
	{Long: "ns-mac-addr", Arg: RequiredArgument, ArgName: "MAC", Modes: PastaOnly,
		Help:    "MAC address of the tap device in the namespace",
		Default: "chosen by the kernel"},
	{Long: "no-splice", Modes: PastaOnly,
		Help: "Carry loopback traffic through the tap device, not splice()"},
	{Long: "splice-only", Modes: PastaOnly,
		Help: "No tap device: only move loopback traffic between namespaces"},
}
