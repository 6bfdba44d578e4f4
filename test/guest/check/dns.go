// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package check

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// DNS record type and class numbers (RFC 1035).
const (
	dnsTypeA   = 1
	dnsClassIN = 1
	dnsHeader  = 12
)

// appendName appends name in DNS label encoding.
func appendName(b []byte, name string) ([]byte, error) {
	name = strings.TrimSuffix(name, ".")
	if name == "" || len(name) > 253 {
		return nil, fmt.Errorf("bad name %q", name)
	}
	for _, l := range strings.Split(name, ".") {
		if l == "" || len(l) > 63 {
			return nil, fmt.Errorf("bad name %q", name)
		}
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0), nil
}

// DNSQuery builds a recursive query for the A records of name.
func DNSQuery(id uint16, name string) ([]byte, error) {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = append(b, 0x01, 0x00)             // RD
	b = append(b, 0, 1, 0, 0, 0, 0, 0, 0) // one question
	b, err := appendName(b, name)
	if err != nil {
		return nil, err
	}
	b = binary.BigEndian.AppendUint16(b, dnsTypeA)
	return binary.BigEndian.AppendUint16(b, dnsClassIN), nil
}

// skipName returns the offset just past the (possibly compressed) name
// at off.
func skipName(b []byte, off int) (int, error) {
	for {
		if off >= len(b) {
			return 0, errors.New("name runs past the message")
		}
		l := int(b[off])
		switch {
		case l == 0:
			return off + 1, nil
		case l&0xc0 == 0xc0:
			if off+2 > len(b) {
				return 0, errors.New("truncated pointer")
			}
			return off + 2, nil
		case l&0xc0 != 0:
			return 0, errors.New("bad label type")
		}
		off += 1 + l
	}
}

// readName decodes the uncompressed name at off (questions are never
// compressed).
func readName(b []byte, off int) (string, int, error) {
	var labels []string
	for {
		if off >= len(b) {
			return "", 0, errors.New("name runs past the message")
		}
		l := int(b[off])
		if l == 0 {
			return strings.Join(labels, "."), off + 1, nil
		}
		if l&0xc0 != 0 || off+1+l > len(b) {
			return "", 0, errors.New("bad label")
		}
		labels = append(labels, string(b[off+1:off+1+l]))
		off += 1 + l
	}
}

// DNSQuestion returns the ID and the name asked about by a query with one
// question for A records.
func DNSQuestion(q []byte) (id uint16, name string, err error) {
	if len(q) < dnsHeader || binary.BigEndian.Uint16(q[4:]) != 1 || q[2]&0x80 != 0 {
		return 0, "", errors.New("not a query with one question")
	}
	name, off, err := readName(q, dnsHeader)
	if err != nil {
		return 0, "", err
	}
	if off+4 > len(q) {
		return 0, "", errors.New("truncated question")
	}
	if binary.BigEndian.Uint16(q[off:]) != dnsTypeA || binary.BigEndian.Uint16(q[off+2:]) != dnsClassIN {
		return 0, "", errors.New("question is not for an A record")
	}
	return binary.BigEndian.Uint16(q), name, nil
}

// DNSAnswer builds the answer to query q: the A record addr, or, if addr
// is not valid, "no such name".
func DNSAnswer(q []byte, addr netip.Addr) ([]byte, error) {
	_, name, err := DNSQuestion(q)
	if err != nil {
		return nil, err
	}
	qlen := dnsHeader + len(name) + 2 + 4
	if name == "" {
		qlen = dnsHeader + 1 + 4
	}
	r := append([]byte(nil), q[:qlen]...)
	r[2] = 0x81 // QR, RD
	r[3] = 0x80 // RA, no error
	binary.BigEndian.PutUint16(r[8:], 0)
	binary.BigEndian.PutUint16(r[10:], 0)
	if !addr.Is4() {
		r[3] |= 3 // NXDOMAIN
		binary.BigEndian.PutUint16(r[6:], 0)
		return r, nil
	}
	binary.BigEndian.PutUint16(r[6:], 1)
	r = append(r, 0xc0, dnsHeader) // the question's name
	r = binary.BigEndian.AppendUint16(r, dnsTypeA)
	r = binary.BigEndian.AppendUint16(r, dnsClassIN)
	r = binary.BigEndian.AppendUint32(r, 60)
	r = binary.BigEndian.AppendUint16(r, 4)
	a := addr.As4()
	return append(r, a[:]...), nil
}

// DNSReply returns the A records of a reply to the query with id.
func DNSReply(r []byte, id uint16) ([]netip.Addr, error) {
	if len(r) < dnsHeader {
		return nil, errors.New("reply too short")
	}
	if binary.BigEndian.Uint16(r) != id || r[2]&0x80 == 0 {
		return nil, errors.New("not the reply to our query")
	}
	if rcode := r[3] & 0x0f; rcode != 0 {
		return nil, fmt.Errorf("rcode %d", rcode)
	}
	qd, an := int(binary.BigEndian.Uint16(r[4:])), int(binary.BigEndian.Uint16(r[6:]))
	off := dnsHeader
	var err error
	for i := 0; i < qd; i++ {
		if off, err = skipName(r, off); err != nil {
			return nil, err
		}
		off += 4
	}
	var addrs []netip.Addr
	for i := 0; i < an; i++ {
		if off, err = skipName(r, off); err != nil {
			return nil, err
		}
		if off+10 > len(r) {
			return nil, errors.New("truncated answer")
		}
		typ, class := binary.BigEndian.Uint16(r[off:]), binary.BigEndian.Uint16(r[off+2:])
		rdlen := int(binary.BigEndian.Uint16(r[off+8:]))
		off += 10
		if off+rdlen > len(r) {
			return nil, errors.New("truncated record data")
		}
		if typ == dnsTypeA && class == dnsClassIN && rdlen == 4 {
			addrs = append(addrs, netip.AddrFrom4([4]byte(r[off:off+4])))
		}
		off += rdlen
	}
	return addrs, nil
}
