// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package conf

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// occurrence is one option as the scanner read it.
type occurrence struct {
	opt *Option
	// name is the option as it is shown in messages: "-t" for a short
	// option, "--" and the full long name otherwise (also when the user
	// typed an abbreviation).
	name  string
	value string // the argument; "" for options without one
}

// scanner reads options from an argument vector the way getopt_long does
// with a leading '+' in its option string: it stops at "--" or at the first
// argument that is not an option.
type scanner struct {
	opts  []Option
	args  []string
	next  int    // index in args of the next argument to look at
	group string // rest of a group of short options, such as "dt" of "-4dt"
}

func newScanner(opts []Option, args []string) *scanner {
	return &scanner{opts: opts, args: args}
}

// scan returns the next option. It returns ok == false when the options
// are over; rest then holds the arguments that follow them.
func (s *scanner) scan() (occ occurrence, ok bool, err error) {
	if s.group != "" {
		return s.short()
	}
	if s.next >= len(s.args) {
		return occurrence{}, false, nil
	}
	a := s.args[s.next]
	switch {
	case a == "--":
		s.next++
		return occurrence{}, false, nil
	case len(a) < 2 || a[0] != '-':
		return occurrence{}, false, nil
	case strings.HasPrefix(a, "--"):
		s.next++
		return s.long(a)
	}
	s.next++
	s.group = a[1:]
	return s.short()
}

// rest returns the arguments after the options; valid once scan has
// reported the end.
func (s *scanner) rest() []string { return s.args[s.next:] }

func (s *scanner) short() (occurrence, bool, error) {
	r, size := utf8.DecodeRuneInString(s.group)
	s.group = s.group[size:]
	opt := s.byShort(r)
	if opt == nil || r == utf8.RuneError {
		return occurrence{}, false, fmt.Errorf("invalid option -- %s", quoteRune(r))
	}
	occ := occurrence{opt: opt, name: "-" + string(r)}
	if opt.Arg == NoArgument {
		return occ, true, nil
	}
	switch {
	case s.group != "":
		occ.value, s.group = s.group, ""
	case s.next < len(s.args):
		occ.value = s.args[s.next]
		s.next++
	default:
		return occurrence{}, false, fmt.Errorf("option requires an argument -- %s", quoteRune(r))
	}
	return occ, true, nil
}

func (s *scanner) long(arg string) (occurrence, bool, error) {
	name, value, hasValue := strings.Cut(arg[2:], "=")
	opt, full, err := s.byLong(name, arg)
	if err != nil {
		return occurrence{}, false, err
	}
	occ := occurrence{opt: opt, name: "--" + full}
	switch {
	case opt.Arg == NoArgument && hasValue:
		return occurrence{}, false, fmt.Errorf("option '%s' doesn't allow an argument", occ.name)
	case opt.Arg == NoArgument:
	case hasValue:
		occ.value = value
	case s.next < len(s.args):
		occ.value = s.args[s.next]
		s.next++
	default:
		return occurrence{}, false, fmt.Errorf("option '%s' requires an argument", occ.name)
	}
	return occ, true, nil
}

func (s *scanner) byShort(r rune) *Option {
	for i := range s.opts {
		if s.opts[i].Short != 0 && s.opts[i].Short == r {
			return &s.opts[i]
		}
	}
	return nil
}

// byLong finds the option called name, or the only option one of whose
// names begins with name. It returns the full name that matched.
func (s *scanner) byLong(name, arg string) (*Option, string, error) {
	if name == "" {
		return nil, "", fmt.Errorf("unrecognized option %s", quote(arg))
	}
	var (
		found      *Option
		foundName  string
		candidates []string
		ambiguous  bool
	)
	for i := range s.opts {
		o := &s.opts[i]
		for _, n := range o.Names() {
			if n == name {
				return o, n, nil
			}
			if !strings.HasPrefix(n, name) {
				continue
			}
			candidates = append(candidates, "'--"+n+"'")
			if found == nil {
				found, foundName = o, n
			} else if found != o {
				ambiguous = true
			}
		}
	}
	switch {
	case found == nil:
		return nil, "", fmt.Errorf("unrecognized option %s", quote(arg))
	case ambiguous:
		return nil, "", fmt.Errorf("option %s is ambiguous; possibilities: %s",
			quote("--"+name), strings.Join(candidates, " "))
	}
	return found, foundName, nil
}

// quote shows s in single quotes when it prints on one line, as getopt
// does, and as a Go string literal otherwise, so that a message never
// spans lines or carries control characters.
func quote(s string) string {
	if printable(s) {
		return "'" + s + "'"
	}
	return strconv.Quote(s)
}

func quoteRune(r rune) string {
	if r != utf8.RuneError && strconv.IsPrint(r) {
		return "'" + string(r) + "'"
	}
	return strconv.QuoteRune(r)
}

// show returns s unchanged when it prints on one line and has no space at
// either end, else quoted.
func show(s string) string {
	if printable(s) && s != "" && strings.TrimSpace(s) == s {
		return s
	}
	return strconv.Quote(s)
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return false
		}
	}
	return true
}
