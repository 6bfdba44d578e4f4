// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package logging

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestLevels(t *testing.T) {
	tests := []struct {
		name  string
		level Level
		want  []string
	}{
		{"quiet", Warn, []string{"warn", "error"}},
		{"default", Info, []string{"info", "warn", "error"}},
		{"debug", Debug, []string{"debug", "info", "warn", "error"}},
		{"trace", Trace, []string{"trace", "debug", "info", "warn", "error"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			l := New("passt", tc.level)
			l.SetStderr(&b)
			l.Tracef("trace")
			l.Debugf("debug")
			l.Infof("info")
			l.Warnf("warn")
			l.Errorf("error")
			var got []string
			line := regexp.MustCompile(`^\d+\.\d{4}: (\w+)$`)
			for _, s := range strings.Split(strings.TrimSpace(b.String()), "\n") {
				m := line.FindStringSubmatch(s)
				if m == nil {
					t.Fatalf("line %q: not 'seconds.fraction: message'", s)
				}
				got = append(got, m[1])
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSyslogFormat(t *testing.T) {
	var b bytes.Buffer
	l := New("pasta", Info)
	l.SetStderr(nil)
	l.SetSyslog(&b)
	l.Warnf("careful")
	if !regexp.MustCompile(`^<28>\w{3} [ \d]\d \d\d:\d\d:\d\d pasta\[\d+\]: careful$`).MatchString(b.String()) {
		t.Errorf("got %q, want an RFC 3164 line at daemon.warning", b.String())
	}
}

// The log file stays under its size, keeps whole lines, and keeps the
// newest ones.
func TestFileCap(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("old contents, truncated at start\n")
	l := New("passt", Info)
	l.SetStderr(nil)
	const size = MinFileSize
	if err := l.SetFile(f, size); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		l.Infof("line %04d %s", i, strings.Repeat("x", 40))
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > size {
		t.Errorf("got %d bytes, want at most %d", len(b), size)
	}
	if bytes.Contains(b, []byte("old contents")) {
		t.Errorf("file was not truncated at start")
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for _, s := range lines {
		if !regexp.MustCompile(`^\d+\.\d{4}: line \d{4} x{40}$`).MatchString(s) {
			t.Fatalf("broken line %q", s)
		}
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "line 0999") {
		t.Errorf("last line %q, want the newest (0999)", last)
	}
	if strings.Contains(lines[0], "line 0000") {
		t.Errorf("oldest line kept, want it dropped")
	}
	if err := New("passt", Info).SetFile(f, size-1); err == nil {
		t.Errorf("size below the minimum accepted")
	}
}
