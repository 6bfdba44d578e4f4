// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package conf

import (
	"errors"
	"fmt"
)

// MAC is an Ethernet address. In JSON and text it is written as six
// two-digit hexadecimal bytes separated by colons.
type MAC [6]byte

// DefaultMAC is the locally administered address we use towards the guest
// unless -M gives another.
var DefaultMAC = MAC{0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55}

// ParseMAC parses exactly "xx:xx:xx:xx:xx:xx" with hexadecimal digits in
// either case; nothing else is accepted.
func ParseMAC(s string) (MAC, error) {
	var m MAC
	if len(s) != 17 {
		return m, errors.New("a MAC address is six hexadecimal bytes separated by ':'")
	}
	for i := range m {
		hi, ok1 := hexDigit(s[3*i])
		lo, ok2 := hexDigit(s[3*i+1])
		if !ok1 || !ok2 || (i < 5 && s[3*i+2] != ':') {
			return MAC{}, errors.New("a MAC address is six hexadecimal bytes separated by ':'")
		}
		m[i] = hi<<4 | lo
	}
	return m, nil
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// IsZero reports whether m is 00:00:00:00:00:00, which stands for "not set".
func (m MAC) IsZero() bool { return m == MAC{} }

// IsMulticast reports whether the group bit of m is set; such an address
// can never be the source of a frame.
func (m MAC) IsMulticast() bool { return m[0]&1 != 0 }

// String formats m as lower-case "xx:xx:xx:xx:xx:xx".
func (m MAC) String() string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// MarshalText encodes m as [MAC.String] does.
func (m MAC) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText decodes what [ParseMAC] accepts.
func (m *MAC) UnmarshalText(b []byte) error {
	v, err := ParseMAC(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}
