// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package nat

import (
	"fmt"
	"net/netip"
)

// ConfigError says which field of a Config is unusable and why.
type ConfigError struct {
	Field  string
	Addr   netip.Addr
	Reason string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("nat: %s %v: %s", e.Field, e.Addr, e.Reason)
}

// Validate checks c before use: every address is of its field's family
// (IPv6 fields not IPv4-mapped), has no zone, and is neither unspecified
// nor multicast; none but the DNS hosts is loopback (a resolver on the
// host's loopback is the point of --dns-host); OurLL6 is link-local. It
// returns the first problem found as a *ConfigError.
func (c *Config) Validate() error {
	fields := []struct {
		name     string
		addr     netip.Addr
		v6       bool
		loopback bool // may be loopback
	}{
		{"Guest4", c.Guest4, false, false},
		{"Guest6", c.Guest6, true, false},
		{"Gateway4", c.Gateway4, false, false},
		{"Gateway6", c.Gateway6, true, false},
		{"OurLL6", c.OurLL6, true, false},
		{"MapHostLoopback4", c.MapHostLoopback4, false, false},
		{"MapHostLoopback6", c.MapHostLoopback6, true, false},
		{"MapGuestAddr4", c.MapGuestAddr4, false, false},
		{"MapGuestAddr6", c.MapGuestAddr6, true, false},
		{"DNSForward4", c.DNSForward4, false, false},
		{"DNSForward6", c.DNSForward6, true, false},
		{"DNSHost4", c.DNSHost4, false, true},
		{"DNSHost6", c.DNSHost6, true, true},
	}
	for _, f := range fields {
		a := f.addr
		var reason string
		switch {
		case !a.IsValid():
			continue
		case f.v6 && (!a.Is6() || a.Is4In6()):
			reason = "not an IPv6 address"
		case !f.v6 && !a.Is4():
			reason = "not an IPv4 address"
		case a.Zone() != "":
			reason = "has a zone"
		case a.IsUnspecified():
			reason = "unspecified"
		case a.IsMulticast():
			reason = "multicast"
		case a.IsLoopback() && !f.loopback:
			reason = "loopback"
		case f.name == "OurLL6" && !a.IsLinkLocalUnicast():
			reason = "not link-local"
		default:
			continue
		}
		return &ConfigError{Field: f.name, Addr: a, Reason: reason}
	}
	return nil
}
