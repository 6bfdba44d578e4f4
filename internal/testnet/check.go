// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package testnet

import (
	"maps"
	"slices"
	"testing"
)

// CheckNames checks the names of an enumeration whose values run from 0
// up to, not including, end: each has a name of its own, neither empty
// nor unknown, and end itself is named unknown.
func CheckNames[E Enum](t *testing.T, end E, unknown string) {
	t.Helper()
	seen := make(map[string]E)
	for i := range end {
		s := i.String()
		if s == "" || s == unknown {
			t.Errorf("%T(%d).String(): got %q, want a name", i, i, s)
		}
		if prev, dup := seen[s]; dup {
			t.Errorf("%T(%d).String(): got %q, want a name distinct from %T(%d)", i, i, s, prev, prev)
		}
		seen[s] = i
	}
	if got := end.String(); got != unknown {
		t.Errorf("%T(%d).String(): got %q, want %q", end, end, got, unknown)
	}
}

// CheckStrings checks that the String method of each value of names gives
// the name it maps to, in a subtest named by that name, in the order of
// the values.
func CheckStrings[E Enum](t *testing.T, names map[E]string) {
	for _, v := range slices.Sorted(maps.Keys(names)) {
		t.Run(names[v], func(t *testing.T) {
			if got := v.String(); got != names[v] {
				t.Errorf("got %q, want %q", got, names[v])
			}
		})
	}
}

// Fields are values a test checks, each with its name, the value found
// and the value wanted. They compare with ==, as interfaces: a value found
// of another type than the one wanted is never equal to it.
type Fields = []struct {
	Name      string
	Got, Want any
}

// CheckFields reports each of fields whose value found is not the one
// wanted.
func CheckFields(t testing.TB, fields Fields) {
	t.Helper()
	for _, f := range fields {
		if f.Got != f.Want {
			t.Errorf("%s: got %v, want %v", f.Name, f.Got, f.Want)
		}
	}
}

// OptionsCase is an options area and what an iterator over it must give:
// the codes in order, and whether it stops at truncated data.
type OptionsCase[C comparable] struct {
	Name          string
	Area          []byte
	WantCodes     []C
	WantTruncated bool
}

// Iterator is an iterator over options, such as the Options of the DHCP
// and DHCPv6 packages.
type Iterator[C any] interface {
	Next() (code C, data []byte, ok bool)
	Truncated() bool
}

// CheckOptions runs, for each case in a subtest of its own, an iterator
// that open returns over the case's area to its end, and checks what it
// gives. The iterator's methods have pointer receivers: open returns it
// as a value, as the packages' NewOptions do.
func CheckOptions[C comparable, O any, P interface {
	*O
	Iterator[C]
}](t *testing.T, open func(area []byte) O, cases []OptionsCase[C]) {
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			o := open(tc.Area)
			it := P(&o)
			codes := allCodes(it.Next)
			if !slices.Equal(codes, tc.WantCodes) || it.Truncated() != tc.WantTruncated {
				t.Errorf("got %v truncated %v, want %v truncated %v", codes, it.Truncated(), tc.WantCodes, tc.WantTruncated)
			}
		})
	}
}

// allCodes calls next, the Next method of an option iterator, until it
// reports the end, and returns the codes it gave in order.
func allCodes[C any](next func() (code C, data []byte, ok bool)) []C {
	var codes []C
	for {
		code, _, ok := next()
		if !ok {
			return codes
		}
		codes = append(codes, code)
	}
}
