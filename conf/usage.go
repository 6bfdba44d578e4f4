// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package conf

import "strings"

const (
	// helpColumn is where the help text starts on an option's line.
	helpColumn = 30
	// usageWidth is the width the usage text is wrapped to.
	usageWidth = 80
)

// Usage returns the help text of mode, generated from the option table:
// the synopsis, then every option the mode accepts with its default, then
// the syntax of port forwarding specifications.
func Usage(mode Mode) string {
	var b strings.Builder
	name := mode.String()
	guest := "guest"
	if mode == Pasta {
		guest = "namespace"
		b.WriteString("Usage: pasta [OPTION]... [COMMAND [ARGS]...]\n")
		b.WriteString("       pasta [OPTION]... PID\n")
		b.WriteString("       pasta [OPTION]... --netns PATH|NAME\n\n")
		b.WriteString("Connects a network namespace to the host's network through a tap device.\n")
		b.WriteString("Without PID or --netns, runs COMMAND, or a shell, in a new user and\n")
		b.WriteString("network namespace.\n\n")
	} else {
		b.WriteString("Usage: passt [OPTION]...\n\n")
		b.WriteString("Connects a virtual machine to the host's network through a UNIX socket\n")
		b.WriteString("that qemu connects to.\n\n")
	}
	b.WriteString("Options:\n")
	for i := range optionTable {
		o := &optionTable[i]
		if !o.Modes.Has(mode) {
			continue
		}
		left := "  " + optionSpelling(o)
		if len(left) >= helpColumn-1 {
			b.WriteString(left + "\n")
			left = ""
		}
		b.WriteString(wrap(left, o.Help, helpColumn))
		if d := o.DefaultFor(mode); d != "" {
			b.WriteString(wrap("", "default: "+d, helpColumn+2))
		}
	}
	if mode == Pasta {
		b.WriteString("\nPort forwarding SPEC for -t, -u, -T and -U:\n")
	} else {
		b.WriteString("\nPort forwarding SPEC for -t and -u:\n")
	}
	b.WriteString("  none                        forward nothing\n")
	b.WriteString("  all                         every free port outside the ephemeral range\n")
	if mode == Pasta {
		b.WriteString("  auto                        ports bound on the other side, checked each second\n")
	}
	b.WriteString("  [ADDR][%IFNAME]/PORTS       listen only on this address or interface\n")
	b.WriteString("  PORTS is a comma-separated list of:\n")
	b.WriteString("    FIRST[-LAST][:TOFIRST[-TOLAST]]   ports, optionally to other ports\n")
	b.WriteString("    ~FIRST[-LAST]                     ports left out\n")
	b.WriteString("  Examples:\n")
	b.WriteString("    -t 22                             port 22 to port 22 of the " + guest + "\n")
	b.WriteString("    -t 2222:22                        port 2222 to port 22 of the " + guest + "\n")
	b.WriteString("    -t 192.0.2.1/80                   port 80, listening on 192.0.2.1 only\n")
	b.WriteString("    -t 1000-2000,~1500                ports 1000 to 2000 except 1500\n")
	b.WriteString("\nIf an option is given more than once, the last one counts, except where\n")
	b.WriteString("it says repeatable. See " + name + "(1) for details.\n")
	return b.String()
}

// optionSpelling is the left column of the usage text: "-s, --socket,
// --socket-path PATH".
func optionSpelling(o *Option) string {
	var parts []string
	if o.Short != 0 {
		parts = append(parts, "-"+string(o.Short))
	} else {
		parts = append(parts, "   ")
	}
	for _, n := range o.Names() {
		parts = append(parts, "--"+n)
	}
	s := strings.Join(parts, ", ")
	s = strings.Replace(s, "   , ", "    ", 1)
	if o.Arg == RequiredArgument {
		s += " " + o.ArgName
	}
	return s
}

// wrap writes text after left, starting at column indent and breaking
// lines at spaces so that none is wider than usageWidth; continuation lines
// start at column indent too.
func wrap(left, text string, indent int) string {
	var b strings.Builder
	line := left + strings.Repeat(" ", indent-len(left))
	start := len(line)
	for _, word := range strings.Fields(text) {
		if len(line) > start && len(line)+1+len(word) > usageWidth {
			b.WriteString(line + "\n")
			line = strings.Repeat(" ", indent)
		}
		if len(line) > start || len(line) > indent {
			line += " "
		}
		line += word
	}
	b.WriteString(line + "\n")
	return b.String()
}
