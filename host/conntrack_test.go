// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package host

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReadUDPTimeouts reads the connection tracker's timeouts from a
// directory standing for /proc/sys.
func TestReadUDPTimeouts(t *testing.T) {
	absent := "\x00" // no file at all
	tests := []struct {
		name             string
		timeout, stream  string // file contents, or absent
		want             UDPTimeouts
		notes            int
		noteMentionsFile string
	}{
		{name: "no conntrack", timeout: absent, stream: absent,
			want: UDPTimeouts{DefaultUDPTimeout, DefaultUDPStreamTimeout}},
		{name: "values", timeout: "45\n", stream: "300\n",
			want: UDPTimeouts{45 * time.Second, 300 * time.Second}},
		{name: "only one file", timeout: "10\n", stream: absent,
			want: UDPTimeouts{10 * time.Second, DefaultUDPStreamTimeout}},
		{name: "zero", timeout: "0\n", stream: "180\n",
			want: UDPTimeouts{DefaultUDPTimeout, 180 * time.Second}, notes: 1, noteMentionsFile: "nf_conntrack_udp_timeout"},
		{name: "garbage", timeout: "30\n", stream: "two minutes\n",
			want: UDPTimeouts{30 * time.Second, DefaultUDPStreamTimeout}, notes: 1, noteMentionsFile: "nf_conntrack_udp_timeout_stream"},
		{name: "negative and empty", timeout: "-5\n", stream: "",
			want: UDPTimeouts{DefaultUDPTimeout, DefaultUDPStreamTimeout}, notes: 2},
		{name: "too large", timeout: "99999999999\n", stream: "120",
			want: UDPTimeouts{DefaultUDPTimeout, 120 * time.Second}, notes: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			nf := filepath.Join(dir, "net", "netfilter")
			if err := os.MkdirAll(nf, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, content := range map[string]string{
				"nf_conntrack_udp_timeout":        tc.timeout,
				"nf_conntrack_udp_timeout_stream": tc.stream,
			} {
				if content == absent {
					continue
				}
				if err := os.WriteFile(filepath.Join(nf, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, notes := ReadUDPTimeouts(dir)
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if len(notes) != tc.notes {
				t.Errorf("got notes %q, want %d", notes, tc.notes)
			}
			if tc.noteMentionsFile != "" && len(notes) > 0 && !strings.Contains(notes[0], "/"+tc.noteMentionsFile+";") {
				t.Errorf("note %q does not name %s", notes[0], tc.noteMentionsFile)
			}
		})
	}
}

// TestReadUDPTimeoutsUnreadable: a directory where a file should be cannot
// be read, which is not the same as a missing file.
func TestReadUDPTimeoutsUnreadable(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "net", "netfilter", "nf_conntrack_udp_timeout"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, notes := ReadUDPTimeouts(dir)
	if want := (UDPTimeouts{DefaultUDPTimeout, DefaultUDPStreamTimeout}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if len(notes) != 1 {
		t.Errorf("got notes %q, want one", notes)
	}
}

// TestReadUDPTimeoutsHost reads the running kernel's values: whatever they
// are, they are positive.
func TestReadUDPTimeoutsHost(t *testing.T) {
	got, notes := ReadUDPTimeouts("")
	if got.Timeout <= 0 || got.Stream <= 0 {
		t.Errorf("got %+v, want positive timeouts", got)
	}
	t.Logf("host: %+v, notes %q", got, notes)
}
