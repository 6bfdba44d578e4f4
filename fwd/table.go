// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package fwd

import (
	"iter"
	"net/netip"
	"strings"
)

// MaxRules bounds the rules of one table. Exclusions split ranges into
// several rules; a table needing more is refused.
const MaxRules = 1024

// Table is the parsed forwarding table for one protocol and direction.
//
// Rules are kept in the order their specifications gave them, and no two
// rules overlap (see the package documentation), so the index of a rule is
// a stable name for it: listening sockets carry it in their references.
type Table struct {
	Proto Proto
	Dir   Dir
	// None is set when "none" was given: nothing is forwarded, and Rules
	// is empty.
	None  bool
	Rules []Rule
}

// Listener is one listening socket to open.
type Listener struct {
	Rule   int        // index of the rule in Table.Rules
	Addr   netip.Addr // as Rule.Listen: the zero Addr is dual-stack
	Ifname string     // as Rule.Ifname
	Port   uint16
	Weak   bool // as Rule.Weak: a bind failure is not an error
}

// Lookup returns the rule whose sockets receive traffic for local address
// addr and port, if any. It does not allocate.
func (t *Table) Lookup(addr netip.Addr, port uint16) (Rule, bool) {
	if i, ok := t.Index(addr, port); ok {
		return t.Rules[i], true
	}
	return Rule{}, false
}

// Index is Lookup returning the rule's index in t.Rules.
func (t *Table) Index(addr netip.Addr, port uint16) (int, bool) {
	for i := range t.Rules {
		r := &t.Rules[i]
		if r.Contains(port) && r.Matches(addr) {
			return i, true
		}
	}
	return 0, false
}

// HasAuto reports whether any rule is an auto rule, that is whether the
// target side's listening ports need to be scanned.
func (t *Table) HasAuto() bool {
	for _, r := range t.Rules {
		if r.Auto {
			return true
		}
	}
	return false
}

// Listeners yields the sockets to open at start: one per port of every
// rule that is not an auto rule, in rule order then port order.
func (t *Table) Listeners() iter.Seq[Listener] {
	return func(yield func(Listener) bool) {
		for i, r := range t.Rules {
			if r.Auto {
				continue
			}
			for p := uint32(r.First); p <= uint32(r.Last); p++ {
				l := Listener{Rule: i, Addr: r.Listen, Ifname: r.Ifname, Port: uint16(p), Weak: r.Weak}
				if !yield(l) {
					return
				}
			}
		}
	}
}

// AutoListeners yields the sockets to open once something was found
// listening on port on the target side: one for each auto rule whose ports
// include it (at most one per listening address).
func (t *Table) AutoListeners(port uint16) iter.Seq[Listener] {
	return func(yield func(Listener) bool) {
		for i, r := range t.Rules {
			if !r.Auto || !r.Contains(port) {
				continue
			}
			l := Listener{Rule: i, Addr: r.Listen, Ifname: r.Ifname, Port: port, Weak: r.Weak}
			if !yield(l) {
				return
			}
		}
	}
}

// NumListeners is the number of sockets Listeners yields.
func (t *Table) NumListeners() int {
	n := 0
	for _, r := range t.Rules {
		if !r.Auto {
			n += int(r.Last-r.First) + 1
		}
	}
	return n
}

// String renders the table for --debug: a heading naming the option, then
// one rule per line.
func (t *Table) String() string {
	var b strings.Builder
	b.WriteString(t.Proto.String() + " " + t.Dir.String() + " (" + Option(t.Proto, t.Dir) + "):")
	switch {
	case t.None:
		b.WriteString(" none")
	case len(t.Rules) == 0:
		b.WriteString(" no rules")
	}
	for _, r := range t.Rules {
		b.WriteString("\n    " + r.String())
	}
	return b.String()
}
