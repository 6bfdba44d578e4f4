// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package monitor

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"passt-go/conf"
	"passt-go/logging"
)

func TestPastaOptions(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mode      conf.Mode
		args      []string
		wantLevel logging.Level
	}{
		{"spawn", conf.Pasta, nil, logging.Warn},
		{"spawn with -d", conf.Pasta, []string{"-d"}, logging.Debug},
		{"attach", conf.Pasta, []string{"1"}, logging.Info},
		{"netns", conf.Pasta, []string{"--netns", "x"}, logging.Info},
		{"passt", conf.Passt, nil, logging.Info},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, _, err := conf.Parse(tc.mode, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			log := logging.New("pasta", levelOf(opts))
			var out bytes.Buffer
			log.SetStderr(&out)
			m := &monitor{log: log}
			m.pastaOptions(opts)
			if got := log.Level(); got != tc.wantLevel {
				t.Errorf("log level: got %v, want %v", got, tc.wantLevel)
			}
			for _, d := range []struct {
				opt   string
				specs []string
			}{{"-t", opts.TCPPorts}, {"-u", opts.UDPPorts}, {"-T", opts.TCPNsPorts}, {"-U", opts.UDPNsPorts}} {
				switch {
				case tc.mode == conf.Passt:
					if len(d.specs) != 0 {
						t.Errorf("passt %s: got %v, want untouched", d.opt, d.specs)
					}
				case Available(d.opt, true):
					if len(d.specs) != 0 {
						t.Errorf("%s: got %v, want the default auto kept", d.opt, d.specs)
					}
				default:
					if !slices.Equal(d.specs, []string{"none"}) {
						t.Errorf("%s: got %v, want none while auto is not available", d.opt, d.specs)
					}
					if opts.Debug && !strings.Contains(out.String(), d.opt+": auto forwarding is not available yet") {
						t.Errorf("%s: no debug line in %q", d.opt, out.String())
					}
				}
			}
		})
	}
}

func TestPastaSpawns(t *testing.T) {
	for _, tc := range []struct {
		mode conf.Mode
		args []string
		want bool
	}{
		{conf.Pasta, nil, true},
		{conf.Pasta, []string{"--", "sh"}, true},
		{conf.Pasta, []string{"42"}, false},
		{conf.Pasta, []string{"--netns", "/run/netns/x"}, false},
		{conf.Passt, nil, false},
	} {
		opts, _, err := conf.Parse(tc.mode, tc.args)
		if err != nil {
			t.Fatal(err)
		}
		if got := pastaSpawns(opts); got != tc.want {
			t.Errorf("%v %q: got %v, want %v", tc.mode, tc.args, got, tc.want)
		}
	}
}
