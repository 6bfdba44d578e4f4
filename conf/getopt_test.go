// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package conf

import (
	"slices"
	"strings"
	"testing"
)

// scanAll runs the scanner to the end and renders each option as
// "name=value" (or just "name").
func scanAll(args []string) (got []string, rest []string, err error) {
	s := newScanner(optionTable, args)
	for {
		occ, ok, err := s.scan()
		if err != nil {
			return got, nil, err
		}
		if !ok {
			return got, s.rest(), nil
		}
		if occ.opt.Arg == RequiredArgument {
			got = append(got, occ.name+"="+occ.value)
		} else {
			got = append(got, occ.name)
		}
	}
}

func TestScanner(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantOpts []string
		wantRest []string
	}{
		{name: "empty", args: nil, wantOpts: nil, wantRest: []string{}},
		{name: "short flags grouped with argument", args: []string{"-4dt", "22"},
			wantOpts: []string{"-4", "-d", "-t=22"}, wantRest: []string{}},
		{name: "short argument attached", args: []string{"-t80"},
			wantOpts: []string{"-t=80"}, wantRest: []string{}},
		{name: "short argument in group tail", args: []string{"-dqt80,443"},
			wantOpts: []string{"-d", "-q", "-t=80,443"}, wantRest: []string{}},
		{name: "short argument may start with dash", args: []string{"-t", "-5"},
			wantOpts: []string{"-t=-5"}, wantRest: []string{}},
		{name: "long with equals", args: []string{"--tcp-ports=22"},
			wantOpts: []string{"--tcp-ports=22"}, wantRest: []string{}},
		{name: "long with separate value", args: []string{"--tcp-ports", "22"},
			wantOpts: []string{"--tcp-ports=22"}, wantRest: []string{}},
		{name: "long with empty value", args: []string{"--log-file="},
			wantOpts: []string{"--log-file="}, wantRest: []string{}},
		{name: "long value may start with dash", args: []string{"--log-file", "--debug"},
			wantOpts: []string{"--log-file=--debug"}, wantRest: []string{}},
		{name: "long value keeps later equals", args: []string{"--runas=a=b"},
			wantOpts: []string{"--runas=a=b"}, wantRest: []string{}},
		{name: "abbreviation", args: []string{"--fore"},
			wantOpts: []string{"--foreground"}, wantRest: []string{}},
		{name: "abbreviation with value", args: []string{"--tcp-p=22"},
			wantOpts: []string{"--tcp-ports=22"}, wantRest: []string{}},
		{name: "exact name wins over longer names", args: []string{"--no-dhcp"},
			wantOpts: []string{"--no-dhcp"}, wantRest: []string{}},
		{name: "exact netns wins over netns-only", args: []string{"--netns", "x"},
			wantOpts: []string{"--netns=x"}, wantRest: []string{}},
		{name: "prefix of alias and name of one option", args: []string{"--sock", "/s"},
			wantOpts: []string{"--socket=/s"}, wantRest: []string{}},
		{name: "alias by full name", args: []string{"--socket-path", "/s"},
			wantOpts: []string{"--socket-path=/s"}, wantRest: []string{}},
		{name: "double dash ends options", args: []string{"-d", "--", "-q", "x"},
			wantOpts: []string{"-d"}, wantRest: []string{"-q", "x"}},
		{name: "first non-option stops", args: []string{"-d", "sh", "-c", "true"},
			wantOpts: []string{"-d"}, wantRest: []string{"sh", "-c", "true"}},
		{name: "single dash is a non-option", args: []string{"-", "-d"},
			wantOpts: nil, wantRest: []string{"-", "-d"}},
		{name: "empty argument is a non-option", args: []string{"", "-d"},
			wantOpts: nil, wantRest: []string{"", "-d"}},
		{name: "repeated options", args: []string{"-t", "22", "-t", "80"},
			wantOpts: []string{"-t=22", "-t=80"}, wantRest: []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, rest, err := scanAll(tc.args)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !slices.Equal(got, tc.wantOpts) {
				t.Errorf("options: got %q, want %q", got, tc.wantOpts)
			}
			if !slices.Equal(rest, tc.wantRest) {
				t.Errorf("rest: got %q, want %q", rest, tc.wantRest)
			}
		})
	}
}

func TestScannerErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "unknown long", args: []string{"--bogus"}, wantErr: "unrecognized option '--bogus'"},
		{name: "unknown long with value", args: []string{"--bogus=1"}, wantErr: "unrecognized option '--bogus=1'"},
		{name: "empty long name", args: []string{"--=1"}, wantErr: "unrecognized option '--=1'"},
		{name: "unknown short", args: []string{"-x"}, wantErr: "invalid option -- 'x'"},
		{name: "unknown short in group", args: []string{"-dx"}, wantErr: "invalid option -- 'x'"},
		{name: "non-ASCII short", args: []string{"-é"}, wantErr: "invalid option -- 'é'"},
		{name: "control character short", args: []string{"-\n"}, wantErr: `invalid option -- '\n'`},
		{name: "invalid UTF-8 short", args: []string{"-\xff"}, wantErr: "invalid option -- '�'"},
		{name: "short missing argument", args: []string{"-t"}, wantErr: "option requires an argument -- 't'"},
		{name: "short missing argument at group end", args: []string{"-dt"}, wantErr: "option requires an argument -- 't'"},
		{name: "long missing argument", args: []string{"--tcp-ports"}, wantErr: "option '--tcp-ports' requires an argument"},
		{name: "abbreviated long missing argument", args: []string{"--tcp-p"}, wantErr: "option '--tcp-ports' requires an argument"},
		{name: "flag with argument", args: []string{"--debug=1"}, wantErr: "option '--debug' doesn't allow an argument"},
		{name: "ambiguous", args: []string{"--no-dhcp-"},
			wantErr: "option '--no-dhcp-' is ambiguous; possibilities: '--no-dhcp-dns' '--no-dhcp-search'"},
		{name: "ambiguous short prefix", args: []string{"--dn"},
			wantErr: "option '--dn' is ambiguous; possibilities: '--dns' '--dns-forward' '--dns-host'"},
		{name: "newline in unknown long is quoted", args: []string{"--a\nb"}, wantErr: `unrecognized option "--a\nb"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := scanAll(tc.args)
			if err == nil {
				t.Fatalf("got no error, want %q", tc.wantErr)
			}
			if err.Error() != tc.wantErr {
				t.Errorf("got %q, want %q", err.Error(), tc.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err.Error())
			}
		})
	}
}
