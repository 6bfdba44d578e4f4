// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package host

import (
	"bytes"
	"io"
	"net/netip"
	"os"
	"strings"
)

const (
	// MaxNameservers is how many resolvers of each family are kept, as the
	// C library's MAXNS.
	MaxNameservers = 3
	// MaxSearch is how many search domains are kept, as MAXDNSRCH.
	MaxSearch = 6
	// maxDomain is the longest domain name in text form.
	maxDomain = 253
	// maxResolvConf bounds how much of resolv.conf is read.
	maxResolvConf = 1 << 20
)

// ResolvConf is what resolv.conf says about resolvers.
type ResolvConf struct {
	Nameservers []netip.Addr // in file order, zones removed
	Search      []string     // the last search or domain list
}

// ParseResolvConf parses the contents of a resolv.conf file (see the
// package documentation for the rules). It never fails: lines it does not
// understand are ignored, as the C library does.
func ParseResolvConf(data []byte) ResolvConf {
	var rc ResolvConf
	var n4, n6 int
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		kw, rest := keyword(line)
		switch kw {
		case "nameserver":
			a, ok := nameserver(rest)
			if !ok {
				continue
			}
			if a.Is4() {
				if n4 == MaxNameservers {
					continue
				}
				n4++
			} else {
				if n6 == MaxNameservers {
					continue
				}
				n6++
			}
			rc.Nameservers = append(rc.Nameservers, a)
		case "search", "domain":
			rc.Search = searchList(rest, kw == "domain")
		}
	}
	return rc
}

// keyword splits a line into its keyword and the rest, or returns "" when
// the line has none (comment, blank, or no separator).
func keyword(line []byte) (string, string) {
	if len(line) == 0 || line[0] == '#' || line[0] == ';' {
		return "", ""
	}
	i := bytes.IndexAny(line, " \t")
	if i <= 0 {
		return "", ""
	}
	return string(line[:i]), string(line[i+1:])
}

// nameserver parses the address of a nameserver line: its first field.
func nameserver(rest string) (netip.Addr, bool) {
	f := strings.Fields(rest)
	if len(f) == 0 {
		return netip.Addr{}, false
	}
	s, _, _ := strings.Cut(f[0], "%")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	a = a.Unmap()
	if a.IsUnspecified() || a.IsMulticast() {
		return netip.Addr{}, false
	}
	return a, true
}

// searchList parses the names of a search line, or the single name of a
// domain line.
func searchList(rest string, single bool) []string {
	var out []string
	for _, name := range strings.Fields(rest) {
		if len(out) == MaxSearch || single && len(out) == 1 {
			break
		}
		if validDomain(name) {
			out = append(out, name)
		}
	}
	return out
}

// validDomain accepts up to maxDomain bytes of printable ASCII without
// spaces.
func validDomain(s string) bool {
	if s == "" || len(s) > maxDomain {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// readResolvConf reads and parses path.
func readResolvConf(path string) (ResolvConf, error) {
	f, err := os.Open(path)
	if err != nil {
		return ResolvConf{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxResolvConf))
	if err != nil {
		return ResolvConf{}, err
	}
	return ParseResolvConf(data), nil
}
