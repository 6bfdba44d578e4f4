// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package conf

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Mode is what the program serves: a virtual machine over a UNIX socket
// (passt) or a network namespace through a tap device (pasta).
type Mode uint8

const (
	// Passt serves a virtual machine: qemu connects to a UNIX socket.
	Passt Mode = iota
	// Pasta serves a network namespace through a tap device in it.
	Pasta
)

// ModeFromArgv0 chooses the mode from the name the program was started as:
// a base name containing "pasta", or the legacy alias "passt4netns", runs
// pasta; every other name runs passt.
func ModeFromArgv0(argv0 string) Mode {
	base := filepath.Base(argv0)
	if strings.Contains(base, "pasta") || strings.Contains(base, "passt4netns") {
		return Pasta
	}
	return Passt
}

// String returns the program name for the mode: "passt" or "pasta".
func (m Mode) String() string {
	switch m {
	case Passt:
		return "passt"
	case Pasta:
		return "pasta"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// MarshalText encodes the mode as its name.
func (m Mode) MarshalText() ([]byte, error) {
	if m != Passt && m != Pasta {
		return nil, fmt.Errorf("invalid mode %d", uint8(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText decodes "passt" or "pasta".
func (m *Mode) UnmarshalText(b []byte) error {
	switch string(b) {
	case "passt":
		*m = Passt
	case "pasta":
		*m = Pasta
	default:
		return fmt.Errorf("invalid mode %q", b)
	}
	return nil
}

// VersionString is what --version prints: the mode's name, a space and the
// version, for example "pasta 2026_07_16.090d739".
func VersionString(mode Mode, version string) string {
	return mode.String() + " " + version
}
