// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package flow

// isnTickShift makes the ISN clock tick every 32 ns (2^5 ns).
const isnTickShift = 5

// ISN returns an initial TCP sequence number for the connection k at time
// now, as RFC 6528 section 3 builds it: ISN = M + F(addresses, ports,
// secret), with M a clock ticking every 32 ns and F the table's SipHash-2-4
// (in a domain of its own) folded to 32 bits. Sequence numbers of one
// 4-tuple move forward with the clock; different tuples start at unrelated
// points that a guest or a remote peer cannot predict. Zero is never
// returned (it would read as "no sequence number yet"): one is given
// instead. ISN does not allocate.
func (t *Table) ISN(k Key, now Time) uint32 {
	h := sum(t.k0, t.k1, domainISN, &k)
	isn := uint32(h) ^ uint32(h>>32)
	isn += uint32(uint64(now) >> isnTickShift)
	if isn == 0 {
		isn = 1
	}
	return isn
}
