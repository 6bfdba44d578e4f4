// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package logging writes the monitor's log the way passt does: to standard
// error while in the foreground, to a size-capped file with -l, to syslog
// (facility daemon) when in the background without -l. Every line carries
// the seconds elapsed since start, so lines stay ordered across outputs.
//
// A Logger is passed to whoever logs; nothing here is global.
package logging

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Level orders messages by importance.
type Level int

const (
	Trace Level = iota
	Debug
	Info
	Warn
	Error
)

var levelNames = [...]string{"trace", "debug", "info", "warning", "error"}

// String gives the level's name as it appears in option texts.
func (l Level) String() string {
	if l < Trace || l > Error {
		return fmt.Sprintf("level(%d)", int(l))
	}
	return levelNames[l]
}

// syslog priorities (RFC 5424) for facility daemon (3).
var syslogPrio = [...]int{3<<3 | 7, 3<<3 | 7, 3<<3 | 6, 3<<3 | 4, 3<<3 | 3}

// Logger writes messages at or above its level to its outputs. It is safe
// for concurrent use.
type Logger struct {
	mu     sync.Mutex
	level  Level
	start  time.Time
	ident  string
	stderr io.Writer // nil: not logging to standard error
	file   *capped   // nil: no log file
	syslog io.Writer // nil: no syslog
}

// New returns a logger at level that writes to standard error only.
func New(ident string, level Level) *Logger {
	return &Logger{level: level, start: time.Now(), ident: ident, stderr: os.Stderr}
}

// SetLevel changes the threshold.
func (l *Logger) SetLevel(level Level) {
	l.mu.Lock()
	l.level = level
	l.mu.Unlock()
}

// Level reports the threshold.
func (l *Logger) Level() Level {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.level
}

// Enabled reports whether messages at level are written.
func (l *Logger) Enabled(level Level) bool { return level >= l.Level() }

// SetStderr turns logging to standard error on (w non-nil) or off.
func (l *Logger) SetStderr(w io.Writer) {
	l.mu.Lock()
	l.stderr = w
	l.mu.Unlock()
}

// SetSyslog sends messages to w, a connected datagram socket to the
// system logger, or stops doing so when w is nil.
func (l *Logger) SetSyslog(w io.Writer) {
	l.mu.Lock()
	l.syslog = w
	l.mu.Unlock()
}

// SetFile sends messages to f, truncated now, keeping it under size bytes
// by dropping its oldest lines when full.
func (l *Logger) SetFile(f *os.File, size int64) error {
	c, err := newCapped(f, size)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.file = c
	l.mu.Unlock()
	return nil
}

// Logf formats and writes one message at level.
func (l *Logger) Logf(level Level, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if level < l.level {
		return
	}
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	el := time.Since(l.start)
	line := fmt.Sprintf("%d.%04d: %s\n", int64(el/time.Second), int64(el%time.Second/(100*time.Microsecond)), msg)
	if l.stderr != nil {
		io.WriteString(l.stderr, line)
	}
	if l.file != nil {
		l.file.write(line)
	}
	if l.syslog != nil {
		fmt.Fprintf(l.syslog, "<%d>%s %s[%d]: %s", syslogPrio[clamp(level)], time.Now().Format(time.Stamp), l.ident, os.Getpid(), msg)
	}
}

func clamp(l Level) Level {
	if l < Trace {
		return Trace
	}
	if l > Error {
		return Error
	}
	return l
}

// Tracef, Debugf, Infof, Warnf and Errorf log at their level.
func (l *Logger) Tracef(format string, args ...any) { l.Logf(Trace, format, args...) }
func (l *Logger) Debugf(format string, args ...any) { l.Logf(Debug, format, args...) }
func (l *Logger) Infof(format string, args ...any)  { l.Logf(Info, format, args...) }
func (l *Logger) Warnf(format string, args ...any)  { l.Logf(Warn, format, args...) }
func (l *Logger) Errorf(format string, args ...any) { l.Logf(Error, format, args...) }
