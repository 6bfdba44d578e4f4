// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package conf

//lint:file-ignore ST1005 messages keep upstream passt's wording, capitals included: each is shown to the user as a line of its own

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"passt-go/fwd"
	"passt-go/host"
	"passt-go/proto/flow"
)

// Limits and defaults shared with upstream passt.
const (
	// DefaultMTU is the largest 802.3 payload (65535 less a 14-byte header)
	// rounded down to a multiple of four.
	DefaultMTU = 65520
	// MaxMTU is the largest MTU -m accepts.
	MaxMTU = 65535 - 14
	// MinMTU4 and MinMTU6 are the least MTUs the families work with; a
	// smaller -m only earns a warning.
	MinMTU4 = 576
	MinMTU6 = 1280
	// DefaultLogSize is the log file cap without --log-size.
	DefaultLogSize = 1 << 20
	// MinLogSize is the smallest --log-size: five 8 KiB buffers.
	MinLogSize = 5 * 8192
	// MaxDNS is how many nameservers per family are kept.
	MaxDNS = 3
	// MaxSearch is how many search domains are kept.
	MaxSearch = 6
	// maxDomain is the longest domain name, host name or FQDN.
	maxDomain = 253
	// maxPath is the longest path, as PATH_MAX counts it without the NUL.
	maxPath = 4095
	// maxSocketPath is the longest UNIX socket path (sun_path less NUL).
	maxSocketPath = 107
	// maxIfname is the longest interface name (IFNAMSIZ less NUL).
	maxIfname = 15
	// netnsRunDir is where ip-netns(8) keeps named network namespaces.
	netnsRunDir = "/run/netns"
)

// Sentinel results of [Parse]: the caller prints [Usage] or
// [VersionString] to standard output and exits with status 0.
var (
	ErrHelp    = errors.New("help requested")
	ErrVersion = errors.New("version requested")
)

// NotSupported lists, by long name, the options whose feature does not
// exist yet, each with a short reason. [Parse] refuses them after the scan
// with "OPTION: not supported yet". Removing an entry is all it takes to
// accept the option: its value is parsed and carried into [Config].
var NotSupported = map[string]string{
	"vhost-user":         "no vhost-user back end",
	"print-capabilities": "no vhost-user back end",
	"repair-path":        "no migration",
	"migrate-exit":       "no migration",
	"migrate-no-linger":  "no migration",
	"conf-path":          "no run-time reconfiguration",
	"splice-only":        "no tap-less mode",
	"stats":              "no event statistics",
	"chroot-fallback":    "the sandbox always needs pivot_root()",
}

// Options is what the command line said: each value validated, nothing
// looked up on the host yet. The zero value is not meaningful; Options come
// from [Parse], which fills in the defaults of the mode.
type Options struct {
	Mode Mode

	// Logging and process.
	Debug, Trace, Quiet bool
	Foreground          bool
	LogFile             string // -l: log only to this file
	LogSize             int64  // --log-size, bytes
	StatsDelay          int    // --stats, seconds; 0 when not given
	RunAs               string // --runas: UID, UID:GID, LOGIN or LOGIN:GROUP
	ConfPath            string // -c
	PcapFile            string // -p
	PIDFile             string // -P
	ChrootFallback      bool

	// The guest side.
	SocketPath        string // -s; "" to probe /tmp/passt_N.socket
	FD                int    // -F; -1 when not given
	OneOff            bool   // -1
	VhostUser         bool
	PrintCapabilities bool
	RepairPath        string
	MigrateExit       bool
	MigrateNoLinger   bool

	// Addressing.
	MTU int // -m; 0 disables advertising
	// Addr4 and Addr6 are -a per family; invalid when not given.
	Addr4, Addr6 netip.Addr
	// Prefix4 is the IPv4 prefix length from -n, from -a's /PLEN, or by
	// address class for -a without one; -1 to take the host's.
	Prefix4                  int
	Gateway4, Gateway6       netip.Addr // -g per family
	MAC                      MAC        // -M
	Interface                string     // -i
	Outbound4, Outbound6     netip.Addr // -o per family
	OutboundIf4, OutboundIf6 string
	IPv4Only, IPv6Only       bool // -4, -6: the last one given wins

	// Names.
	DNS                      []netip.Addr // -D in order; empty with NoDNS
	NoDNS                    bool         // -D none
	DNSForward4, DNSForward6 netip.Addr
	DNSHost4, DNSHost6       netip.Addr
	Search                   []string // -S, split at spaces
	NoSearch                 bool     // -S none
	AdvertiseDNS             bool     // passt: unless --no-dhcp-dns; pasta: --dhcp-dns
	AdvertiseSearch          bool     // passt: unless --no-dhcp-search; pasta: --dhcp-search
	Hostname, FQDN           string

	// Address translation.
	MapHostLoopback4, MapHostLoopback6 netip.Addr
	MapGuestAddr4, MapGuestAddr6       netip.Addr
	NoMapGW                            bool // also set by --map-host-loopback none

	// Protocol handlers.
	NoTCP, NoUDP, NoICMP, NoDHCP, NoNDP, NoDHCPv6, NoRA bool
	Freebind                                            bool
	MaxFlows                                            int // --max-flows

	// Port forwarding specifications, as given, for package fwd.
	TCPPorts, UDPPorts     []string // -t, -u
	TCPNsPorts, UDPNsPorts []string // -T, -U

	// pasta.
	NsIfname     string // -I
	NsMAC        MAC    // --ns-mac-addr; zero when not given
	Userns       string // --userns
	Netns        string // --netns, a NAME already turned into a path
	NetnsOnly    bool   // --netns-only
	NoNetnsQuit  bool
	ConfigNet    bool
	NoCopyRoutes bool
	NoCopyAddrs  bool
	NoSplice     bool
	SpliceOnly   bool
	HostLoToNsLo bool
	// PID is the process whose namespaces to join; 0 when not given.
	PID int
	// Command is the command to run in a new namespace; empty for the
	// default shell, and always empty with a PID or --netns.
	Command []string

	// given records the long names of every option seen.
	given map[string]bool
	// addr4HasPrefix says the last IPv4 -a carried a /PLEN.
	addr4HasPrefix bool
	// netmask is -n's prefix length, -1 when not given.
	netmask int
}

// defaults returns the options of mode m before any argument is read.
func defaults(m Mode) *Options {
	return &Options{
		Mode:            m,
		LogSize:         DefaultLogSize,
		FD:              -1,
		MTU:             DefaultMTU,
		MaxFlows:        flow.DefaultCapacity,
		Prefix4:         -1,
		MAC:             DefaultMAC,
		AdvertiseDNS:    m == Passt,
		AdvertiseSearch: m == Passt,
		given:           map[string]bool{},
		netmask:         -1,
	}
}

// Given reports whether the option with long name long appeared on the
// command line.
func (o *Options) Given(long string) bool { return o.given[long] }

// Parse reads the arguments of mode (args excludes argv[0]). It returns the
// options, the warnings to print (deprecated options, entries dropped), and
// an error whose text is one line for the user; [ErrHelp] and [ErrVersion]
// ask the caller to print [Usage] or [VersionString] and exit 0.
//
// Every argument must be valid UTF-8, so that a [Config] carries it through
// JSON unchanged.
func Parse(mode Mode, args []string) (*Options, []string, error) {
	for i, a := range args {
		if !utf8.ValidString(a) {
			return nil, nil, fmt.Errorf("Argument %d is not valid UTF-8: %q", i+1, a)
		}
	}
	o := defaults(mode)
	var warnings []string
	s := newScanner(optionTable, args)
	for {
		occ, ok, err := s.scan()
		if err != nil {
			return nil, warnings, err
		}
		if !ok {
			break
		}
		if !occ.opt.Modes.Has(mode) {
			other := Passt
			if mode == Passt {
				other = Pasta
			}
			return nil, warnings, fmt.Errorf("%s is for %s mode only", occ.name, other)
		}
		o.given[occ.opt.Long] = true
		w, err := o.apply(occ)
		if err != nil {
			return nil, warnings, err
		}
		warnings = append(warnings, w...)
	}
	if err := o.positional(s.rest()); err != nil {
		return nil, warnings, err
	}
	w, err := o.finish()
	warnings = append(warnings, w...)
	if err != nil {
		return nil, warnings, err
	}
	if err := o.checkPortSpecs(); err != nil {
		return nil, warnings, err
	}
	return o, warnings, nil
}

// checkPortSpecs parses the port forwarding specifications once with what
// the command line alone says (the address families, the mode), so that
// a malformed one is an error of the command line, before the host is
// examined or the daemon starts. Resolve parses them again with the
// host's ephemeral ports and its families.
func (o *Options) checkPortSpecs() error {
	for _, d := range []struct {
		name  string
		specs []string
		proto fwd.Proto
		dir   fwd.Dir
	}{
		{"-t", o.TCPPorts, fwd.TCP, fwd.HostToGuest},
		{"-u", o.UDPPorts, fwd.UDP, fwd.HostToGuest},
		{"-T", o.TCPNsPorts, fwd.TCP, fwd.GuestToHost},
		{"-U", o.UDPNsPorts, fwd.UDP, fwd.GuestToHost},
	} {
		if len(d.specs) == 0 {
			continue
		}
		_, err := fwd.ParseAll(d.specs, fwd.Context{Proto: d.proto, Dir: d.dir, Pasta: o.Mode == Pasta,
			IPv4: !o.IPv6Only, IPv6: !o.IPv4Only})
		var named *fwd.Error
		switch {
		case errors.As(err, &named):
			return err
		case err != nil:
			return fmt.Errorf("%s: %w", d.name, err)
		}
	}
	return nil
}

// apply records one option. Options are applied in order, so the last of
// conflicting options wins.
func (o *Options) apply(occ occurrence) (warnings []string, err error) {
	v := occ.value
	switch occ.opt.Long {
	case "debug":
		o.Debug, o.Quiet = true, false
	case "trace":
		o.Trace, o.Debug, o.Quiet = true, true, false
	case "quiet":
		o.Quiet, o.Debug, o.Trace = true, false, false
	case "stats":
		n, err := parseCUint(v, 31)
		if err != nil {
			return nil, fmt.Errorf("Invalid --stats delay: %s", show(v))
		}
		o.StatsDelay = int(n)
	case "foreground":
		o.Foreground = true
	case "stderr":
		return []string{"--stderr has no effect and will be dropped soon"}, nil
	case "log-file":
		o.LogFile, err = path(v, maxPath, "Invalid log file")
	case "log-size":
		n, err := parseCUint(v, 63)
		if err != nil || n < MinLogSize {
			return nil, fmt.Errorf("Invalid --log-size: %s (minimum %d)", show(v), MinLogSize)
		}
		o.LogSize = int64(n)
	case "runas":
		o.RunAs, err = runas(v)
	case "conf-path":
		o.ConfPath, err = path(v, maxSocketPath, "Invalid configuration socket path")
	case "help":
		return nil, ErrHelp
	case "version":
		return nil, ErrVersion

	case "socket":
		o.SocketPath, err = path(v, maxSocketPath, "Invalid socket path")
		o.FD = -1
	case "vhost-user":
		o.VhostUser = true
	case "print-capabilities":
		o.PrintCapabilities = true
	case "repair-path":
		o.RepairPath, err = path(v, maxSocketPath, "Invalid passt-repair path")
	case "migrate-exit":
		o.MigrateExit = true
	case "migrate-no-linger":
		o.MigrateNoLinger = true
	case "one-off":
		o.OneOff = true
	case "ns-ifname":
		o.NsIfname, err = ifname(v)
	case "fd":
		n, perr := parseCUint(v, 31)
		if perr != nil || (n != 0 && n <= 2) {
			return nil, fmt.Errorf("Invalid --fd: %s", show(v))
		}
		o.FD, o.SocketPath = int(n), ""
	case "pcap":
		o.PcapFile, err = path(v, maxPath, "Invalid pcap path")
	case "pid":
		o.PIDFile, err = path(v, maxPath, "Invalid PID file")

	case "mtu":
		n, perr := parseCUint(v, 32)
		if perr != nil {
			return nil, fmt.Errorf("Invalid MTU: %s", show(v))
		}
		if n > MaxMTU {
			return nil, fmt.Errorf("MTU %d too large (max %d)", n, MaxMTU)
		}
		o.MTU = int(n)
	case "address":
		err = o.address(v)
	case "netmask":
		if o.addr4HasPrefix {
			return nil, errors.New("Redundant prefix length specification")
		}
		plen, ok := parseNetmask(v)
		if !ok {
			return nil, fmt.Errorf("Invalid prefix length: %s", show(v))
		}
		o.netmask = plen
	case "mac-addr":
		o.MAC, err = mac(v)
	case "gateway":
		a, ok := parseAddr(v)
		switch {
		case ok && a.Is6() && !a.IsUnspecified() && !a.IsLoopback() && !a.IsMulticast():
			o.Gateway6 = a
		case ok && a.Is4() && !a.IsUnspecified() && !a.IsLoopback() && !a.IsMulticast() && !isBroadcast(a):
			o.Gateway4 = a
		default:
			return nil, fmt.Errorf("Invalid gateway address: %s", show(v))
		}
	case "interface":
		o.Interface, err = ifname(v)
	case "outbound":
		a, ok := parseRawAddr(v)
		switch {
		case ok && a.Is6() && !a.Is4In6() && !isV4Compat(a) && !a.IsUnspecified() && !a.IsLoopback() && !a.IsMulticast():
			o.Outbound6 = a
		case ok && a.Is4() && !a.IsUnspecified() && !a.IsMulticast() && !isBroadcast(a):
			o.Outbound4 = a
		default:
			return nil, fmt.Errorf("Invalid or redundant outbound address: %s", show(v))
		}
	case "outbound-if4":
		o.OutboundIf4, err = ifname(v)
	case "outbound-if6":
		o.OutboundIf6, err = ifname(v)

	case "dns":
		return o.dns(v)
	case "dns-forward":
		a, ok := parseAddr(v)
		switch {
		case ok && a.Is6() && !a.IsUnspecified() && !a.IsLoopback():
			o.DNSForward6 = a
		case ok && a.Is4() && !a.IsUnspecified() && !a.IsLoopback() && !isBroadcast(a):
			o.DNSForward4 = a
		default:
			return nil, fmt.Errorf("Invalid DNS forwarding address: %s", show(v))
		}
	case "dns-host":
		a, ok := parseAddr(v)
		switch {
		case ok && a.Is6() && !a.IsUnspecified():
			o.DNSHost6 = a
		case ok && a.Is4() && !a.IsUnspecified() && !isBroadcast(a):
			o.DNSHost4 = a
		default:
			return nil, fmt.Errorf("Invalid host nameserver address: %s", show(v))
		}
	case "search":
		err = o.search(v)
	case "hostname":
		o.Hostname, err = name(v, "Invalid hostname")
	case "fqdn":
		o.FQDN, err = name(v, "Invalid FQDN")
	case "no-dhcp-dns":
		o.AdvertiseDNS = false
	case "dhcp-dns":
		o.AdvertiseDNS = true
	case "no-dhcp-search":
		o.AdvertiseSearch = false
	case "dhcp-search":
		o.AdvertiseSearch = true

	case "map-host-loopback":
		if v == "none" {
			o.MapHostLoopback4, o.MapHostLoopback6 = netip.Addr{}, netip.Addr{}
			o.NoMapGW = true
			return nil, nil
		}
		err = mapAddr(v, &o.MapHostLoopback4, &o.MapHostLoopback6)
	case "map-guest-addr":
		if v == "none" {
			o.MapGuestAddr4, o.MapGuestAddr6 = netip.Addr{}, netip.Addr{}
			return nil, nil
		}
		err = mapAddr(v, &o.MapGuestAddr4, &o.MapGuestAddr6)
	case "no-map-gw":
		o.NoMapGW = true

	case "no-tcp":
		o.NoTCP = true
	case "no-udp":
		o.NoUDP = true
	case "no-icmp":
		o.NoICMP = true
	case "no-dhcp":
		o.NoDHCP = true
	case "no-ndp":
		o.NoNDP = true
	case "no-dhcpv6":
		o.NoDHCPv6 = true
	case "no-ra":
		o.NoRA = true
	case "freebind":
		o.Freebind = true
	case "max-flows":
		n, perr := parseCUint(v, 63)
		if perr != nil || n < 1 || n > flow.MaxCapacity {
			return nil, fmt.Errorf("Invalid --max-flows: %s (from 1 to %d)", show(v), flow.MaxCapacity)
		}
		o.MaxFlows = int(n)
	case "chroot-fallback":
		o.ChrootFallback = true
	case "ipv4-only":
		o.IPv4Only, o.IPv6Only = true, false
	case "ipv6-only":
		o.IPv6Only, o.IPv4Only = true, false

	case "tcp-ports":
		o.TCPPorts = append(o.TCPPorts, v)
	case "udp-ports":
		o.UDPPorts = append(o.UDPPorts, v)
	case "tcp-ns":
		o.TCPNsPorts = append(o.TCPNsPorts, v)
	case "udp-ns":
		o.UDPNsPorts = append(o.UDPNsPorts, v)
	case "host-lo-to-ns-lo":
		o.HostLoToNsLo = true

	case "userns":
		o.Userns, err = path(v, maxPath, "Invalid userns")
		o.NetnsOnly = false
	case "netns":
		if !strings.Contains(v, "/") && v != "" {
			v = netnsRunDir + "/" + v
		}
		o.Netns, err = path(v, maxPath, "Invalid network namespace name or path")
	case "netns-only":
		o.NetnsOnly, o.Userns = true, ""
	case "no-netns-quit":
		o.NoNetnsQuit = true
	case "config-net":
		o.ConfigNet = true
	case "no-copy-routes":
		o.NoCopyRoutes = true
		return []string{"--no-copy-routes will be dropped soon"}, nil
	case "no-copy-addrs":
		o.NoCopyAddrs = true
		return []string{"--no-copy-addrs will be dropped soon"}, nil
	case "ns-mac-addr":
		o.NsMAC, err = mac(v)
	case "no-splice":
		o.NoSplice = true
	case "splice-only":
		o.SpliceOnly = true
	default:
		// The table and this switch disagree: a programming error that
		// the tests catch.
		return nil, fmt.Errorf("option %s has no handler", occ.name)
	}
	return nil, err
}

// address handles -a: an IPv4 or IPv6 unicast address, optionally with a
// prefix length.
func (o *Options) address(v string) error {
	addrPart, plenPart, hasPrefix := strings.Cut(v, "/")
	a, ok := parseRawAddr(addrPart)
	if !ok || a.IsUnspecified() || a.IsMulticast() || a.IsLoopback() || isV4Compat(a) ||
		a.Unmap().IsLoopback() || a.Unmap().IsUnspecified() || a.Unmap().IsMulticast() {
		return fmt.Errorf("Invalid address: %s", show(v))
	}
	a = a.Unmap()
	if a.Is4() && isBroadcast(a) {
		return fmt.Errorf("Invalid address: %s", show(v))
	}
	plen := -1
	if hasPrefix {
		max := 128
		if a.Is4() && !strings.Contains(addrPart, ":") {
			max = 32
		}
		n, err := strconv.ParseUint(plenPart, 10, 8)
		if err != nil || int(n) > max || (a.Is4() && n == 0) {
			return fmt.Errorf("Invalid address: %s", show(v))
		}
		plen = int(n)
		if max == 128 && a.Is4() {
			// An IPv4-mapped address with an IPv6 prefix length.
			if plen < 96 {
				return fmt.Errorf("Invalid address: %s", show(v))
			}
			plen -= 96
		}
	}
	if a.Is6() {
		// IPv6 always gets a /64 on the link: the prefix length, if any,
		// is accepted and not used.
		o.Addr6 = a
		return nil
	}
	if hasPrefix && o.netmask >= 0 {
		return errors.New("Redundant prefix length specification")
	}
	o.Addr4, o.addr4HasPrefix = a, hasPrefix
	if hasPrefix {
		o.Prefix4 = plen
	} else {
		o.Prefix4 = classfulPrefix(a)
	}
	return nil
}

// dns handles -D: "none" drops every nameserver given so far and any DNS
// forwarding; an address is added as given, without remapping.
func (o *Options) dns(v string) ([]string, error) {
	if v == "none" {
		o.NoDNS = true
		o.DNS = nil
		o.DNSForward4, o.DNSForward6 = netip.Addr{}, netip.Addr{}
		o.DNSHost4, o.DNSHost6 = netip.Addr{}, netip.Addr{}
		return nil, nil
	}
	a, ok := parseAddr(v)
	if !ok {
		return nil, fmt.Errorf("Cannot use DNS address %s", show(v))
	}
	o.NoDNS = false
	n := 0
	for _, d := range o.DNS {
		if d.Is4() == a.Is4() {
			n++
		}
	}
	if n >= MaxDNS {
		return []string{fmt.Sprintf("-D %s: only %d nameservers per family are used, ignoring it", v, MaxDNS)}, nil
	}
	o.DNS = append(o.DNS, a)
	return nil, nil
}

// search handles -S: "none" drops the list, anything else adds its
// space-separated domains.
func (o *Options) search(v string) error {
	if v == "none" {
		o.NoSearch, o.Search = true, nil
		return nil
	}
	o.NoSearch = false
	domains := strings.Fields(v)
	if len(domains) == 0 {
		return fmt.Errorf("Cannot use DNS search domain %s", show(v))
	}
	for _, d := range domains {
		if len(o.Search) >= MaxSearch || len(d) > maxDomain || !printable(d) {
			return fmt.Errorf("Cannot use DNS search domain %s", show(d))
		}
		o.Search = append(o.Search, d)
	}
	return nil
}

// positional handles what follows the options: nothing for passt; for pasta
// a single number is a PID, anything else a command.
func (o *Options) positional(rest []string) error {
	if len(rest) == 0 {
		return nil
	}
	if o.Mode == Passt {
		return fmt.Errorf("Extra non-option argument: %s", show(rest[0]))
	}
	if o.Netns != "" {
		return errors.New("Both --netns and PID or command given")
	}
	if len(rest) == 1 {
		if n, err := strconv.ParseInt(rest[0], 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
			if err != nil || n < 1 || n > 1<<31-1 {
				return fmt.Errorf("Invalid PID %s", show(rest[0]))
			}
			o.PID = int(n)
			return nil
		}
	}
	o.Command = append([]string(nil), rest...)
	return nil
}

// finish checks what depends on several options, then refuses what is not
// supported yet.
func (o *Options) finish() (warnings []string, err error) {
	if o.netmask >= 0 {
		o.Prefix4 = o.netmask
	}
	if o.Given("stats") && !o.Foreground {
		return nil, errors.New("--stats requires -f: can't display statistics if not running in foreground")
	}
	if o.Given("log-size") && o.LogFile == "" {
		warnings = append(warnings, "--log-size has no effect without --log-file")
	}
	if o.RepairPath != "" && o.RepairPath != "none" && !o.VhostUser {
		return warnings, errors.New("--repair-path is for vhost-user mode only")
	}
	if o.MigrateExit && !o.VhostUser {
		return warnings, errors.New("--migrate-exit is for vhost-user mode only")
	}
	if o.MigrateNoLinger && !o.VhostUser {
		return warnings, errors.New("--migrate-no-linger is for vhost-user mode only")
	}
	if o.Mode == Pasta {
		if !o.ConfigNet && o.NoCopyRoutes {
			return warnings, errors.New("--no-copy-routes needs --config-net")
		}
		if !o.ConfigNet && o.NoCopyAddrs {
			return warnings, errors.New("--no-copy-addrs needs --config-net")
		}
		if o.SpliceOnly && o.NoSplice {
			return warnings, errors.New("--splice-only is incompatible with --no-splice")
		}
		if o.HostLoToNsLo && o.NoSplice {
			return warnings, errors.New("--host-lo-to-ns-lo is incompatible with --no-splice")
		}
	}
	for _, opt := range optionTable {
		if reason, ok := NotSupported[opt.Long]; ok && o.given[opt.Long] {
			if reason == "" {
				return warnings, fmt.Errorf("--%s: not supported yet", opt.Long)
			}
			return warnings, fmt.Errorf("--%s: not supported yet (%s)", opt.Long, reason)
		}
	}
	return warnings, nil
}

// HostOptions says what host detection should look at for these options.
func (o *Options) HostOptions() host.Options {
	return host.Options{
		Ifname:  o.Interface,
		Ifname4: o.OutboundIf4,
		Ifname6: o.OutboundIf6,
		NoV4:    o.IPv6Only || o.SpliceOnly,
		NoV6:    o.IPv4Only || o.SpliceOnly,
	}
}

// parseCUint parses s as C's strtoul with base 0 does, but only if all of s
// is the number: "0x" or "0X" starts hexadecimal, a leading "0" octal,
// anything else decimal; no sign, no spaces, no digit separators.
func parseCUint(s string, bits int) (uint64, error) {
	base, digits := 10, s
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, digits = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, digits = 8, s[1:]
	}
	if digits == "" || digits[0] == '+' || digits[0] == '-' {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseUint(digits, base, bits)
}

// parseNetmask parses a dotted-quad netmask or a prefix length, 1 to 32.
func parseNetmask(s string) (int, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		if !a.Is4() {
			return 0, false
		}
		b := a.As4()
		m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		plen := 0
		for m&(1<<31) != 0 {
			plen++
			m <<= 1
		}
		if m != 0 || plen == 0 {
			return 0, false
		}
		return plen, true
	}
	n, err := parseCUint(s, 8)
	if err != nil || n == 0 || n > 32 {
		return 0, false
	}
	return int(n), true
}

// classfulPrefix is the prefix length of a's address class: A /8, B /16,
// C /24, anything else /32.
func classfulPrefix(a netip.Addr) int {
	b := a.As4()[0]
	switch {
	case b&0x80 == 0:
		return 8
	case b&0xc0 == 0x80:
		return 16
	case b&0xe0 == 0xc0:
		return 24
	}
	return 32
}

// parseRawAddr parses an IPv4 or IPv6 address without a zone.
func parseRawAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a, true
}

// parseAddr parses an address without a zone and turns IPv4-mapped IPv6
// addresses into IPv4 ones.
func parseAddr(s string) (netip.Addr, bool) {
	a, ok := parseRawAddr(s)
	return a.Unmap(), ok
}

func isBroadcast(a netip.Addr) bool {
	return a == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// isV4Compat reports the deprecated IPv4-compatible form ::a.b.c.d (but
// not :: or ::1).
func isV4Compat(a netip.Addr) bool {
	if !a.Is6() || a.Is4In6() {
		return false
	}
	b := a.As16()
	for _, x := range b[:12] {
		if x != 0 {
			return false
		}
	}
	return b[12]|b[13]|b[14] != 0 || b[15] > 1
}

// mapAddr parses an address for --map-host-loopback or --map-guest-addr
// into the field of its family.
func mapAddr(v string, a4, a6 *netip.Addr) error {
	a, ok := parseAddr(v)
	if !ok || a.IsUnspecified() || a.IsLoopback() || a.IsMulticast() {
		return fmt.Errorf("Invalid address to remap to host: %s", show(v))
	}
	if a.Is4() {
		*a4 = a
	} else {
		*a6 = a
	}
	return nil
}

func mac(v string) (MAC, error) {
	m, err := ParseMAC(v)
	if err != nil || m.IsMulticast() || m.IsZero() {
		return MAC{}, fmt.Errorf("Invalid MAC address: %s", show(v))
	}
	return m, nil
}

// ifname checks an interface name as the kernel does: 1 to 15 bytes, not
// "." or "..", no '/', ':' or white space.
func ifname(v string) (string, error) {
	if v == "" || len(v) > maxIfname || v == "." || v == ".." ||
		strings.ContainsAny(v, "/: \t\n\v\f\r\x00") {
		return "", fmt.Errorf("Invalid interface name: %s", show(v))
	}
	return v, nil
}

// path checks a file system path: not empty, no NUL, at most max bytes.
func path(v string, max int, what string) (string, error) {
	if v == "" || len(v) > max || strings.IndexByte(v, 0) >= 0 {
		return "", fmt.Errorf("%s: %s", what, show(v))
	}
	return v, nil
}

// name checks a host name or FQDN: at most 253 printable bytes.
func name(v, what string) (string, error) {
	if len(v) > maxDomain || !printable(v) {
		return "", fmt.Errorf("%s: %s", what, show(v))
	}
	return v, nil
}

// runas checks the form of --runas; names are looked up when switching.
func runas(v string) (string, error) {
	user, group, hasGroup := strings.Cut(v, ":")
	if user == "" || (hasGroup && group == "") || strings.Contains(group, ":") || !printable(v) {
		return "", fmt.Errorf("Invalid --runas option: %s", show(v))
	}
	return v, nil
}
