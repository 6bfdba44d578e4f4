// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package fwd

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Proto is the transport protocol a specification forwards.
type Proto uint8

const (
	TCP Proto = iota
	UDP
)

// String returns "TCP" or "UDP".
func (p Proto) String() string {
	switch p {
	case TCP:
		return "TCP"
	case UDP:
		return "UDP"
	}
	return "Proto(" + strconv.Itoa(int(p)) + ")"
}

// Dir is the direction of a forward.
type Dir uint8

const (
	// HostToGuest forwards ports of the host to the guest (-t, -u).
	HostToGuest Dir = iota
	// GuestToHost forwards ports of the namespace to the host (-T, -U;
	// pasta only).
	GuestToHost
)

// String names the direction.
func (d Dir) String() string {
	switch d {
	case HostToGuest:
		return "host to guest"
	case GuestToHost:
		return "namespace to host"
	}
	return "Dir(" + strconv.Itoa(int(d)) + ")"
}

// Option returns the command line option that carries specifications for
// this protocol and direction: "-t", "-u", "-T" or "-U".
func Option(p Proto, d Dir) string {
	o := "t"
	if p == UDP {
		o = "u"
	}
	if d == GuestToHost {
		o = strings.ToUpper(o)
	}
	return "-" + o
}

// DefaultEphemeral is the ephemeral port range assumed when the host's is
// unknown (RFC 6335).
var DefaultEphemeral = [2]uint16{49152, 65535}

// Context is what a specification is parsed against.
type Context struct {
	Proto      Proto
	Dir        Dir
	Pasta      bool      // pasta mode: auto is allowed
	IPv4, IPv6 bool      // enabled address families
	Ephemeral  [2]uint16 // the host's ephemeral port range, inclusive
}

// ephemeral returns the context's ephemeral range, or DefaultEphemeral when
// it is unset or malformed (zero, or running backwards).
func (c Context) ephemeral() [2]uint16 {
	e := c.Ephemeral
	if e[0] == 0 || e[0] > e[1] {
		return DefaultEphemeral
	}
	return e
}

// Rule forwards one contiguous range of listening ports.
type Rule struct {
	// Listen is the address the listening sockets are bound to. The zero
	// Addr means every address of both families (dual-stack sockets);
	// 0.0.0.0 or :: means every address of that family only. It never
	// carries a zone and is never an IPv4-mapped IPv6 address.
	Listen netip.Addr
	// Ifname, when not empty, binds the listening sockets to that
	// interface (SO_BINDTODEVICE).
	Ifname string
	// First and Last are the listening ports, inclusive: 1 <= First <= Last.
	First, Last uint16
	// To is the target address. The zero Addr means the guest's (or
	// namespace's) own address, chosen per flow.
	To netip.Addr
	// ToFirst is the target port of First: port p goes to
	// ToFirst + (p - First), which never exceeds 65535.
	ToFirst uint16
	// Weak marks rules of "all" or exclude-only specifications: a port that
	// cannot be bound is skipped without error.
	Weak bool
	// Auto marks rules of a specification with "auto": a port is forwarded
	// only while something listens on it on the target side.
	Auto bool
}

// Contains reports whether port is one of the rule's listening ports.
func (r Rule) Contains(port uint16) bool {
	return port >= r.First && port <= r.Last
}

// ToLast is the target port of Last.
func (r Rule) ToLast() uint16 {
	return r.ToFirst + (r.Last - r.First)
}

// Target returns the target port for listening port p. p must satisfy
// r.Contains(p).
func (r Rule) Target(p uint16) uint16 {
	return r.ToFirst + (p - r.First)
}

// Matches reports whether a socket of this rule receives connections or
// datagrams addressed to the local address a (zone ignored; IPv4-mapped
// addresses count as IPv4).
func (r Rule) Matches(a netip.Addr) bool {
	if !r.Listen.IsValid() {
		return true
	}
	a = a.Unmap()
	if a.Is4() != r.Listen.Is4() {
		return false
	}
	if r.Listen.IsUnspecified() {
		return true
	}
	return a.WithZone("") == r.Listen
}

// overlaps reports whether sockets of r and s could be asked for the same
// local address and port.
func (r Rule) overlaps(s Rule) bool {
	if r.Last < s.First || s.Last < r.First {
		return false
	}
	return addrsMeet(r.Listen, s.Listen)
}

// addrsMeet reports whether two listening addresses (zero Addr: dual-stack
// wildcard) cover at least one common local address.
func addrsMeet(a, b netip.Addr) bool {
	if !a.IsValid() || !b.IsValid() {
		return true
	}
	if a.Is4() != b.Is4() {
		return false
	}
	return a.IsUnspecified() || b.IsUnspecified() || a == b
}

// String renders the rule on one line, for example
// "192.0.2.1%eth0:20-24 => 192.0.2.9:30-34 (weak)".
func (r Rule) String() string {
	var b strings.Builder
	switch {
	case !r.Listen.IsValid():
		b.WriteString("*")
	case r.Listen.Is6():
		b.WriteString("[" + r.Listen.String() + "]")
	default:
		b.WriteString(r.Listen.String())
	}
	if r.Ifname != "" {
		b.WriteString("%" + r.Ifname)
	}
	b.WriteString(":" + portRange(r.First, r.Last) + " => ")
	switch {
	case !r.To.IsValid():
	case r.To.Is6():
		b.WriteString("[" + r.To.String() + "]:")
	default:
		b.WriteString(r.To.String() + ":")
	}
	b.WriteString(portRange(r.ToFirst, r.ToLast()))
	if r.Weak {
		b.WriteString(" (weak)")
	}
	if r.Auto {
		b.WriteString(" (auto)")
	}
	return b.String()
}

func portRange(first, last uint16) string {
	if first == last {
		return strconv.Itoa(int(first))
	}
	return strconv.Itoa(int(first)) + "-" + strconv.Itoa(int(last))
}

// Error is a specification that cannot be used. Its message is one line
// naming the option and the offending specification.
type Error struct {
	Option string // "-t", "-u", "-T" or "-U"
	Spec   string // the whole argument as given
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %q: %s", e.Option, e.Spec, e.Reason)
}
