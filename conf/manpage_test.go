// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package conf

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// manPage is the manual page of passt and pasta, relative to this package.
const manPage = "../doc/passt.1"

// The subsections of OPTIONS that hold option entries, by the modes their
// options belong to. Other subsections (the port forwarding grammar) hold
// no option entries.
var manSubsections = map[string]ModeSet{
	"Options for passt and pasta": BothModes,
	"Options for passt only":      PasstOnly,
	"Options for pasta only":      PastaOnly,
}

// manEntry is one option entry of the manual page: a .TP paragraph whose
// tag names options.
type manEntry struct {
	line   int      // line number of the tag, for messages
	names  []string // as written in the tag: "-d", "--debug"
	arg    string   // the argument in the tag, "" for none
	modes  ModeSet  // from the subsection the entry is in
	body   string   // the paragraph's text, escapes removed, spaces folded
	subsec string
}

// manText is the parsed page: its option entries and its whole text.
type manText struct {
	entries []manEntry
	text    string
}

// roffArgs splits the arguments of a macro line (without the macro name)
// as roff does: at spaces, except inside double quotes, where "" stands
// for one quote character.
func roffArgs(s string) []string {
	var args []string
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return args
		}
		if s[0] != '"' {
			end := strings.IndexAny(s, " \t")
			if end < 0 {
				end = len(s)
			}
			args = append(args, s[:end])
			s = s[end:]
			continue
		}
		var b strings.Builder
		i := 1
		for ; i < len(s); i++ {
			if s[i] == '"' {
				if i+1 < len(s) && s[i+1] == '"' {
					b.WriteByte('"')
					i++
					continue
				}
				break
			}
			b.WriteByte(s[i])
		}
		args = append(args, b.String())
		if i >= len(s) {
			return args
		}
		s = s[i+1:]
	}
}

// roffEscapes are the escapes the page uses, as plain text.
var roffEscapes = strings.NewReplacer(
	`\-`, "-", `\fB`, "", `\fI`, "", `\fR`, "", `\fP`, "",
	`\&`, "", `\e`, `\`, `\(bu`, "*", `\(em`, "-", `\ `, " ", `\%`, "",
)

// roffLine turns one line into plain text: font macros join their
// arguments without spaces (they alternate fonts), other macros give
// nothing, text lines give themselves.
func roffLine(line string) string {
	if !strings.HasPrefix(line, ".") {
		return roffEscapes.Replace(line)
	}
	name, rest, _ := strings.Cut(line[1:], " ")
	switch name {
	case "B", "I", "SM", "SB":
		return roffEscapes.Replace(strings.Join(roffArgs(rest), " "))
	case "BR", "BI", "IR", "IB", "RB", "RI":
		return roffEscapes.Replace(strings.Join(roffArgs(rest), ""))
	}
	return ""
}

// parseManPage finds the option entries of the OPTIONS section: at the
// outer indentation level, in a subsection of manSubsections, the tag of a
// .TP paragraph that starts with "-". The tag lists the names, separated
// by ", ", then the argument, if any, after a space.
func parseManPage(t *testing.T, src string) manText {
	t.Helper()
	var (
		out     manText
		all     []string
		section string
		subsec  string
		depth   int  // .RS nesting
		wantTag bool // the previous request was .TP
		cur     *manEntry
		body    []string
	)
	flush := func() {
		if cur != nil {
			cur.body = strings.Join(strings.Fields(strings.Join(body, " ")), " ")
			out.entries = append(out.entries, *cur)
		}
		cur, body = nil, nil
	}
	for i, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(line, `.\"`) {
			continue
		}
		text := roffLine(line)
		all = append(all, text)
		name, rest, _ := strings.Cut(strings.TrimPrefix(line, "."), " ")
		isRequest := strings.HasPrefix(line, ".")
		switch {
		case wantTag:
			wantTag = false
			_, inOptions := manSubsections[subsec]
			if section == "OPTIONS" && inOptions && depth == 0 && strings.HasPrefix(text, "-") {
				flush()
				e := manEntry{line: i + 1, modes: manSubsections[subsec], subsec: subsec}
				fields := strings.Fields(text)
				for len(fields) > 0 && strings.HasPrefix(fields[0], "-") {
					e.names = append(e.names, strings.TrimSuffix(fields[0], ","))
					fields = fields[1:]
				}
				e.arg = strings.Join(fields, " ")
				cur = &e
				continue
			}
			flush()
		case isRequest && name == "SH":
			flush()
			section = strings.Join(roffArgs(rest), " ")
			subsec = ""
		case isRequest && name == "SS":
			flush()
			subsec = strings.Join(roffArgs(rest), " ")
		case isRequest && name == "RS":
			depth++
		case isRequest && name == "RE":
			depth--
		case isRequest && name == "TP" && depth == 0:
			wantTag = true
			continue
		}
		if cur != nil {
			body = append(body, text)
		}
	}
	flush()
	out.text = strings.Join(all, "\n")
	return out
}

func readManPage(t *testing.T) manText {
	t.Helper()
	src, err := os.ReadFile(manPage)
	if err != nil {
		t.Fatalf("read the manual page: %v", err)
	}
	m := parseManPage(t, string(src))
	if len(m.entries) == 0 {
		t.Fatalf("%s: no option entries found in OPTIONS", manPage)
	}
	return m
}

// tableNames returns the spellings of o as the page must list them: the
// short form, the long name, the aliases.
func tableNames(o *Option) []string {
	var names []string
	if o.Short != 0 {
		names = append(names, "-"+string(o.Short))
	}
	for _, n := range o.Names() {
		names = append(names, "--"+n)
	}
	return names
}

// TestManPageOptions checks that the manual page documents every option of
// the table, with its short form and aliases in one entry, its argument as
// the usage text names it, in the subsection of its modes, and marked "not
// supported yet" with the reason exactly when NotSupported lists it.
func TestManPageOptions(t *testing.T) {
	m := readManPage(t)
	byName := map[string][]*manEntry{}
	for i := range m.entries {
		e := &m.entries[i]
		for _, n := range e.names {
			byName[n] = append(byName[n], e)
		}
	}
	for _, o := range OptionTable() {
		t.Run(o.Long, func(t *testing.T) {
			entries := byName["--"+o.Long]
			if len(entries) != 1 {
				t.Fatalf("--%s has %d entries in %s, want 1", o.Long, len(entries), manPage)
			}
			e := entries[0]
			got, want := slices.Clone(e.names), tableNames(&o)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("line %d: names %q, want %q", e.line, e.names, tableNames(&o))
			}
			wantArg := ""
			if o.Arg == RequiredArgument {
				wantArg = o.ArgName
			}
			if e.arg != wantArg {
				t.Errorf("line %d: argument %q, want %q", e.line, e.arg, wantArg)
			}
			if e.modes != o.Modes {
				t.Errorf("line %d: in subsection %q, which does not match the option's modes", e.line, e.subsec)
			}
			reason, refused := NotSupported[o.Long]
			said := strings.Contains(strings.ToLower(e.body), "not supported yet")
			switch {
			case refused && !strings.Contains(e.body, "not supported yet ("+reason+")") &&
				!strings.Contains(e.body, "Not supported yet ("+reason+")"):
				t.Errorf("line %d: --%s is in NotSupported; its entry must say \"not supported yet (%s)\"", e.line, o.Long, reason)
			case !refused && said:
				t.Errorf("line %d: --%s is supported, but its entry says it is not", e.line, o.Long)
			}
		})
	}
}

// TestManPageKnowsNoOtherOption checks the other direction: every option
// entry of the page, and every long option the page mentions anywhere,
// is an option of the table.
func TestManPageKnowsNoOtherOption(t *testing.T) {
	m := readManPage(t)
	known := map[string]bool{}
	for _, o := range OptionTable() {
		for _, n := range tableNames(&o) {
			known[n] = true
		}
	}
	seen := map[string]int{}
	for _, e := range m.entries {
		if len(e.names) == 0 {
			t.Errorf("line %d: entry names no option", e.line)
		}
		for _, n := range e.names {
			if !known[n] {
				t.Errorf("line %d: entry for %s, which is not in OptionTable()", e.line, n)
			}
			if prev, dup := seen[n]; dup {
				t.Errorf("line %d: %s already has an entry at line %d", e.line, n, prev)
			}
			seen[n] = e.line
		}
	}
	mention := regexp.MustCompile(`--[a-z0-9][a-z0-9-]*[a-z0-9]`)
	for _, n := range mention.FindAllString(m.text, -1) {
		if !known[n] {
			t.Errorf("the page mentions %s, which is not in OptionTable()", n)
		}
	}
}

// TestManPageParser checks the parser on a small page, so that a change
// in the page's layout that hides entries shows up as a parser failure
// rather than as silence.
func TestManPageParser(t *testing.T) {
	src := strings.Join([]string{
		`.\" comment with .TP`,
		`.SH OPTIONS`,
		`.SS "Options for passt and pasta"`,
		`.TP`,
		`.BR \-l ", " \-\-log\-file " \fIPATH\fR"`,
		`Log to`,
		`.I PATH .`,
		`.TP`,
		`.BI \-\-runas " UID\fR|\fPUID:GID"`,
		`Switch.`,
		`.RS`,
		`.TP`,
		`.B \-\-nested`,
		`Not an entry.`,
		`.RE`,
		`.SS "Options for pasta only"`,
		`.TP`,
		`.B \-\-splice\-only`,
		`Not supported yet (no tap-less mode).`,
		`.TP`,
		`.I PID`,
		`Not an option.`,
		`.SS "Port forwarding specifications"`,
		`.TP`,
		`.B \-t 22`,
		`An example.`,
		`.SH NOTES`,
		`.TP`,
		`.B \-\-elsewhere`,
	}, "\n")
	m := parseManPage(t, src)
	type entry struct {
		names []string
		arg   string
		modes ModeSet
		body  string
	}
	want := []entry{
		{[]string{"-l", "--log-file"}, "PATH", BothModes, "Log to PATH ."},
		{[]string{"--runas"}, "UID|UID:GID", BothModes, "Switch. --nested Not an entry."},
		{[]string{"--splice-only"}, "", PastaOnly, "Not supported yet (no tap-less mode)."},
	}
	var got []entry
	for _, e := range m.entries {
		got = append(got, entry{e.names, e.arg, e.modes, e.body})
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i := range want {
		if !slices.Equal(got[i].names, want[i].names) || got[i].arg != want[i].arg ||
			got[i].modes != want[i].modes || got[i].body != want[i].body {
			t.Errorf("entry %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if strings.Contains(m.text, "comment") {
		t.Errorf("comments reached the text: %q", m.text)
	}
}

// TestPastaManPage checks that pasta(1) is the same page: a link to
// passt.1, or a .so request that includes it.
func TestPastaManPage(t *testing.T) {
	pasta := filepath.Join(filepath.Dir(manPage), "pasta.1")
	if target, err := os.Readlink(pasta); err == nil {
		if target != "passt.1" {
			t.Errorf("%s links to %q, want passt.1", pasta, target)
		}
		return
	}
	src, err := os.ReadFile(pasta)
	if err != nil {
		t.Fatalf("read %s: %v", pasta, err)
	}
	for _, line := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(line, `.\"`) || line == "" {
			continue
		}
		if line != ".so man1/passt.1" {
			t.Errorf("%s: got %q, want only comments and .so man1/passt.1", pasta, line)
		}
	}
}
