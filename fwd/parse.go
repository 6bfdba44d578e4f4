// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package fwd

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ifNameSize is the kernel's IFNAMSIZ: interface names are at most
// ifNameSize-1 bytes.
const ifNameSize = 16

// ParseAll parses every specification given for one option (the option may
// be repeated) into one table. specs are the option's arguments in command
// line order; an empty list gives an empty table (the caller applies the
// mode's default). Errors are *Error values.
func ParseAll(specs []string, ctx Context) (*Table, error) {
	t := &Table{Proto: ctx.Proto, Dir: ctx.Dir}
	opt := Option(ctx.Proto, ctx.Dir)
	for _, s := range specs {
		if s == "none" {
			t.None = true
		}
	}
	for _, s := range specs {
		if s == "none" {
			continue
		}
		if t.None {
			return nil, &Error{Option: opt, Spec: "none", Reason: "cannot be combined with other forwarding specifications (" + strconv.Quote(s) + ")"}
		}
		rules, err := parseSpec(s, ctx, MaxRules-len(t.Rules))
		if err != nil {
			return nil, &Error{Option: opt, Spec: s, Reason: err.Error()}
		}
		for i, r := range rules {
			for _, old := range t.Rules {
				if r.overlaps(old) {
					return nil, &Error{Option: opt, Spec: s, Reason: fmt.Sprintf("%v overlaps %v", r, old)}
				}
			}
			t.Rules = append(t.Rules, rules[i])
		}
	}
	return t, nil
}

type chunkKind uint8

const (
	chunkInclude chunkKind = iota
	chunkExclude
	chunkAll
	chunkAuto
)

// chunk is one comma-separated piece of PORTS, checked for syntax only.
type chunk struct {
	kind        chunkKind
	first, last uint16
	to          netip.Addr // target address, if given
	toFirst     uint16     // target range, if given (else 0)
	toLast      uint16
}

// listen is a parsed LISTEN part.
type listen struct {
	addr   netip.Addr // invalid for a wildcard
	ifname string
}

// parseSpec parses one specification other than "none". It returns at most
// limit rules; more is an error.
func parseSpec(s string, ctx Context, limit int) ([]Rule, error) {
	if s == "" {
		return nil, errors.New("empty specification")
	}
	var l listen
	ports := s
	hasListen := false
	if i := strings.IndexByte(s, '/'); i >= 0 {
		// LISTEN takes precedence; PORTS cannot begin with text that
		// reads as LISTEN, since a TOADDR followed by "/" is IPv4 or
		// bracketed.
		pl, lerr := parseListen(s[:i])
		switch {
		case lerr == nil:
			l, ports, hasListen = pl, s[i+1:], true
		case looksLikePorts(s[:i]):
		case ctx.Dir == GuestToHost:
			return nil, errors.New("listening address not allowed")
		default:
			return nil, lerr
		}
	}
	if hasListen && ctx.Dir == GuestToHost {
		return nil, errors.New("listening address not allowed")
	}
	chunks, err := parsePorts(ports)
	if err != nil {
		return nil, err
	}

	// Resolve the listening side.
	if !ctx.IPv4 && !ctx.IPv6 {
		return nil, errors.New("no address family is enabled")
	}
	if l.addr.IsValid() {
		if err := checkFamily(l.addr, ctx, "listening address"); err != nil {
			return nil, err
		}
	} else if !ctx.IPv6 {
		l.addr = netip.IPv4Unspecified()
	} else if !ctx.IPv4 {
		l.addr = netip.IPv6Unspecified()
	}
	if ctx.Dir == GuestToHost {
		l.ifname = "lo"
	}

	// First pass: excludes, auto, all; check targets.
	var excl bitmap
	var all *chunk
	auto, includes := false, 0
	for i := range chunks {
		c := &chunks[i]
		switch c.kind {
		case chunkExclude:
			excl.setRange(c.first, c.last)
		case chunkAuto:
			if !ctx.Pasta {
				return nil, errors.New("auto is only allowed in pasta mode")
			}
			auto = true
		case chunkAll:
			if all != nil {
				return nil, errors.New("all given twice")
			}
			all = c
		case chunkInclude:
			includes++
		}
		if c.to.IsValid() {
			if c.to.IsUnspecified() {
				return nil, fmt.Errorf("target address %v is unspecified", c.to)
			}
			if err := checkFamily(c.to, ctx, "target address"); err != nil {
				return nil, err
			}
		}
	}
	if all != nil && includes > 0 {
		return nil, errors.New("all cannot be combined with port ranges")
	}

	b := builder{base: Rule{Listen: l.addr, Ifname: l.ifname, Auto: auto}, limit: limit}
	if includes == 0 {
		// "all", exclude-only or auto-only: everything but the excludes
		// and the ephemeral range, best effort.
		e := ctx.ephemeral()
		excl.setRange(e[0], e[1])
		b.base.Weak = true
		if all != nil {
			b.base.To = all.to
		}
		n, err := b.add(1, 65535, 1, &excl)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, errors.New("every port is excluded")
		}
		return b.rules, nil
	}
	for _, c := range chunks {
		if c.kind != chunkInclude {
			continue
		}
		b.base.To = c.to
		to := c.first
		if c.toFirst != 0 {
			to = c.toFirst
		}
		n, err := b.add(c.first, c.last, to, &excl)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, fmt.Errorf("every port of %s is excluded", portRange(c.first, c.last))
		}
	}
	return b.rules, nil
}

// checkFamily reports an error when a's family is not enabled.
func checkFamily(a netip.Addr, ctx Context, what string) error {
	if a.Is4() && !ctx.IPv4 {
		return fmt.Errorf("%s %v is IPv4, but IPv4 is disabled", what, a)
	}
	if a.Is6() && !ctx.IPv6 {
		return fmt.Errorf("%s %v is IPv6, but IPv6 is disabled", what, a)
	}
	return nil
}

// builder turns ranges minus exclusions into rules.
type builder struct {
	base  Rule
	rules []Rule
	limit int
}

// add appends rules for the ports first..last not in excl, port first
// mapping to to, and returns how many rules it added.
func (b *builder) add(first, last, to uint16, excl *bitmap) (int, error) {
	n := 0
	for p := uint32(first); p <= uint32(last); {
		if excl.has(uint16(p)) {
			p++
			continue
		}
		q := p
		for q < uint32(last) && !excl.has(uint16(q+1)) {
			q++
		}
		if len(b.rules) >= b.limit {
			return n, fmt.Errorf("too many forwarding rules (maximum %d)", MaxRules)
		}
		r := b.base
		r.First, r.Last = uint16(p), uint16(q)
		r.ToFirst = to + uint16(p-uint32(first))
		b.rules = append(b.rules, r)
		n++
		p = q + 1
	}
	return n, nil
}

// bitmap is a set of ports.
type bitmap [65536 / 64]uint64

func (m *bitmap) has(p uint16) bool { return m[p/64]&(1<<(p%64)) != 0 }

func (m *bitmap) setRange(first, last uint16) {
	for p := uint32(first); p <= uint32(last); p++ {
		m[p/64] |= 1 << (p % 64)
	}
}

// parseListen parses LISTEN := ADDR ["%" IFNAME] | "%" IFNAME | "*" ["%" IFNAME].
func parseListen(s string) (listen, error) {
	var l listen
	a := s
	if i := strings.IndexByte(s, '%'); i >= 0 {
		a, l.ifname = s[:i], s[i+1:]
		if err := checkIfname(l.ifname); err != nil {
			return listen{}, err
		}
	}
	switch a {
	case "":
		if l.ifname == "" {
			return listen{}, errors.New("empty listening address")
		}
	case "*":
	default:
		addr, err := parseAddr(a)
		if err != nil {
			return listen{}, fmt.Errorf("bad listening address %q", a)
		}
		l.addr = addr
	}
	return l, nil
}

// checkIfname applies the kernel's rules for interface names.
func checkIfname(n string) error {
	switch {
	case n == "":
		return errors.New("empty interface name")
	case len(n) >= ifNameSize:
		return fmt.Errorf("interface name %q is too long (maximum %d bytes)", n, ifNameSize-1)
	case n == "." || n == "..":
		return fmt.Errorf("%q is not a valid interface name", n)
	case strings.ContainsAny(n, "/:% \t\n\v\f\r\x00"):
		return fmt.Errorf("interface name %q contains a forbidden character", n)
	}
	return nil
}

// parseAddr parses an address, optionally in brackets, without a zone.
// IPv4-mapped IPv6 addresses become IPv4.
func parseAddr(s string) (netip.Addr, error) {
	if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, err
	}
	if a.Zone() != "" {
		return netip.Addr{}, errors.New("address with a zone")
	}
	return a.Unmap(), nil
}

// looksLikePorts reports whether text before the first '/' that is not a
// listening address starts PORTS (a chunk with a target, or several
// chunks) rather than being a malformed listening address.
func looksLikePorts(p string) bool {
	if strings.ContainsRune(p, ',') || strings.HasPrefix(p, "~") || strings.HasPrefix(p, "all:") {
		return true
	}
	i := strings.IndexByte(p, ':')
	return i > 0 && isRangeSyntax(p[:i])
}

// isRangeSyntax reports whether s has the shape DIGITS["-"DIGITS].
func isRangeSyntax(s string) bool {
	a, b, found := strings.Cut(s, "-")
	return isDigits(a) && (!found || isDigits(b))
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parsePorts parses PORTS for syntax and port ranges; families and modes
// are checked by the caller.
func parsePorts(s string) ([]chunk, error) {
	var out []chunk
	for text := range strings.SplitSeq(s, ",") {
		c, err := parseChunk(text)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func parseChunk(s string) (chunk, error) {
	switch {
	case s == "":
		return chunk{}, errors.New("empty port chunk")
	case s == "auto":
		return chunk{kind: chunkAuto}, nil
	case s == "all":
		return chunk{kind: chunkAll}, nil
	case strings.HasPrefix(s, "all:"):
		a, err := parseAddr(s[len("all:"):])
		if err != nil {
			return chunk{}, fmt.Errorf("bad target address in %q", s)
		}
		return chunk{kind: chunkAll, to: a}, nil
	case strings.HasPrefix(s, "~"):
		first, last, err := parseRange(s[1:])
		if err != nil {
			return chunk{}, err
		}
		return chunk{kind: chunkExclude, first: first, last: last}, nil
	}
	ports, target, hasTarget := strings.Cut(s, ":")
	first, last, err := parseRange(ports)
	if err != nil {
		return chunk{}, err
	}
	c := chunk{kind: chunkInclude, first: first, last: last}
	if !hasTarget {
		return c, nil
	}
	// TARGET: TOADDR "/" RANGE, RANGE, or TOADDR.
	addr, rng, hasAddr, hasRange := target, "", true, false
	if i := strings.LastIndexByte(target, '/'); i >= 0 {
		addr, rng, hasRange = target[:i], target[i+1:], true
	} else if isRangeSyntax(target) {
		rng, hasAddr, hasRange = target, false, true
	}
	if hasAddr {
		a, err := parseAddr(addr)
		if err != nil {
			return chunk{}, fmt.Errorf("bad target address %q", addr)
		}
		if hasRange && !strings.HasPrefix(addr, "[") && strings.ContainsRune(addr, ':') {
			return chunk{}, fmt.Errorf("IPv6 target address %q needs brackets before a port", addr)
		}
		c.to = a
	}
	if hasRange {
		tf, tl, err := parseRange(rng)
		if err != nil {
			return chunk{}, err
		}
		if tl-tf != last-first {
			return chunk{}, fmt.Errorf("target range %s has %s, listening range %s has %s",
				portRange(tf, tl), countPorts(tl-tf+1), portRange(first, last), countPorts(last-first+1))
		}
		c.toFirst, c.toLast = tf, tl
	}
	return c, nil
}

// countPorts counts n ports in words.
func countPorts(n uint16) string {
	if n == 1 {
		return "1 port"
	}
	return strconv.Itoa(int(n)) + " ports"
}

// parseRange parses FIRST["-"LAST]: decimal ports from 1 to 65535, not
// running backwards.
func parseRange(s string) (first, last uint16, err error) {
	a, b, found := strings.Cut(s, "-")
	if first, err = parsePort(a, s); err != nil {
		return 0, 0, err
	}
	last = first
	if found {
		if last, err = parsePort(b, s); err != nil {
			return 0, 0, err
		}
	}
	if last < first {
		return 0, 0, fmt.Errorf("port range %q runs backwards", s)
	}
	return first, last, nil
}

func parsePort(s, in string) (uint16, error) {
	if !isDigits(s) {
		return 0, fmt.Errorf("bad port in %q", in)
	}
	v, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("port %s out of range in %q", s, in)
	}
	if v == 0 {
		return 0, fmt.Errorf("port 0 in %q", in)
	}
	return uint16(v), nil
}
