// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package flow

import (
	"encoding/binary"
	"net/netip"
	"time"

	"passt-go/proto/header"
)

// Key names a flow from the guest's side. It is comparable with ==.
//
// For TCP and UDP the ports are the guest's and the remote one; for ICMP and
// ICMPv6 echo both ports hold the guest's echo identifier, as header.Frame
// reports them. Addresses are as the guest sees them, before any NAT, and
// compare exactly: an IPv4 address and its IPv4-mapped IPv6 form are
// different keys (they hash alike, which costs nothing but a probe).
// Fields are ordered to keep the struct small (56 bytes).
type Key struct {
	GuestAddr  netip.Addr
	RemoteAddr netip.Addr
	GuestPort  uint16
	RemotePort uint16
	Proto      header.IPProtocol
}

// Hash domains, so that bucket positions and sequence numbers come from
// unrelated outputs of the keyed function.
const (
	domainTable = 0
	domainISN   = 1
)

// keyMsgLen is the length of the message a Key is hashed as:
//
//	0        1        2                4                6        8
//	+--------+--------+----------------+----------------+--------+
//	| domain | proto  |   guest port   |  remote port   |  zero  |
//	+--------+--------+----------------+----------------+--------+
//	|                 guest address (16 bytes)                   |
//	+------------------------------------------------------------+
//	|                remote address (16 bytes)                   |
//	+------------------------------------------------------------+
//
// Addresses are taken in their 16-byte form (IPv4 as IPv4-mapped); zones
// are not hashed.
const keyMsgLen = 40

// sum returns the keyed hash of k in domain d.
func sum(k0, k1 uint64, d byte, k *Key) uint64 {
	var m [keyMsgLen]byte
	m[0] = d
	m[1] = byte(k.Proto)
	binary.BigEndian.PutUint16(m[2:], k.GuestPort)
	binary.BigEndian.PutUint16(m[4:], k.RemotePort)
	g := k.GuestAddr.As16()
	r := k.RemoteAddr.As16()
	copy(m[8:24], g[:])
	copy(m[24:40], r[:])
	return sipHash24(k0, k1, m[:])
}

// Time is a reading of a monotonic clock in nanoseconds since an arbitrary
// origin. Differences of two Times are durations.
type Time int64

// origin anchors Now; only its monotonic reading is used.
var origin = time.Now()

// Now returns the current monotonic time. It reads the vDSO clock (no system
// call) and does not allocate.
func Now() Time { return Time(time.Since(origin)) }

// Add returns t advanced by d.
func (t Time) Add(d time.Duration) Time { return t + Time(d) }

// Sub returns the duration t - u.
func (t Time) Sub(u Time) time.Duration { return time.Duration(t - u) }
