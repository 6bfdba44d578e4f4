// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package check

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// DHCPv6 message types and options (RFC 8415) used by the client.
const (
	DHCPv6Solicit   = 1
	DHCPv6Advertise = 2
	DHCPv6Request   = 3
	DHCPv6Reply     = 7

	optClientID   = 1
	optServerID   = 2
	optIANA       = 3
	optIAAddr     = 5
	optORO        = 6
	optElapsed    = 8
	optStatusCode = 13
	optDNSServers = 23
	optDomainList = 24
)

// DHCPv6Lease is what an ADVERTISE or REPLY offers.
type DHCPv6Lease struct {
	Type     byte
	XID      [3]byte
	ServerID []byte
	Addrs    []netip.Addr // IA_NA addresses
	DNS      []netip.Addr
	Search   []string
	Status   int // IA_NA or top-level status code; 0 is success
}

func appendOpt(b []byte, code uint16, data []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, code)
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}

// DHCPv6Message builds a SOLICIT or a REQUEST from the client with mac:
// client identifier (DUID-LL), one IA_NA with IAID iaid, elapsed time
// zero, and a request for DNS servers and the domain list. A REQUEST
// carries serverID and asks for addr.
func DHCPv6Message(typ byte, xid [3]byte, mac net.HardwareAddr, iaid uint32, serverID []byte, addr netip.Addr) []byte {
	b := []byte{typ, xid[0], xid[1], xid[2]}
	duid := append([]byte{0, 3, 0, 1}, mac...)
	b = appendOpt(b, optClientID, duid)
	if serverID != nil {
		b = appendOpt(b, optServerID, serverID)
	}
	ia := binary.BigEndian.AppendUint32(nil, iaid)
	ia = append(ia, make([]byte, 8)...) // T1, T2: the server chooses
	if addr.Is6() {
		a := addr.As16()
		ia = appendOpt(ia, optIAAddr, append(a[:], make([]byte, 8)...))
	}
	b = appendOpt(b, optIANA, ia)
	b = appendOpt(b, optElapsed, []byte{0, 0})
	return appendOpt(b, optORO, []byte{0, optDNSServers, 0, optDomainList})
}

// walkOpts calls fn for each option in b.
func walkOpts(b []byte, fn func(code uint16, data []byte) error) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return errors.New("truncated option header")
		}
		code, l := binary.BigEndian.Uint16(b), int(binary.BigEndian.Uint16(b[2:]))
		if 4+l > len(b) {
			return fmt.Errorf("option %d runs past the message", code)
		}
		if err := fn(code, b[4:4+l]); err != nil {
			return err
		}
		b = b[4+l:]
	}
	return nil
}

// ParseDHCPv6 reads a server's message.
func ParseDHCPv6(b []byte) (DHCPv6Lease, error) {
	var l DHCPv6Lease
	if len(b) < 4 {
		return l, errors.New("message too short")
	}
	l.Type = b[0]
	copy(l.XID[:], b[1:4])
	status := func(data []byte) {
		if len(data) >= 2 && l.Status == 0 {
			l.Status = int(binary.BigEndian.Uint16(data))
		}
	}
	err := walkOpts(b[4:], func(code uint16, data []byte) error {
		switch code {
		case optServerID:
			l.ServerID = append([]byte(nil), data...)
		case optStatusCode:
			status(data)
		case optIANA:
			if len(data) < 12 {
				return errors.New("short IA_NA")
			}
			return walkOpts(data[12:], func(code uint16, data []byte) error {
				switch code {
				case optIAAddr:
					if len(data) < 24 {
						return errors.New("short IAADDR")
					}
					l.Addrs = append(l.Addrs, netip.AddrFrom16([16]byte(data[:16])))
				case optStatusCode:
					status(data)
				}
				return nil
			})
		case optDNSServers:
			if len(data)%16 != 0 {
				return errors.New("DNS servers option is not a list of addresses")
			}
			for i := 0; i < len(data); i += 16 {
				l.DNS = append(l.DNS, netip.AddrFrom16([16]byte(data[i:i+16])))
			}
		case optDomainList:
			for off := 0; off < len(data); {
				name, next, err := readName(data, off)
				if err != nil {
					return fmt.Errorf("domain list: %w", err)
				}
				l.Search = append(l.Search, name)
				off = next
			}
		}
		return nil
	})
	return l, err
}
