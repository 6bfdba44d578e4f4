// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package flow

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math/bits"
	"time"
)

// Capacity limits.
const (
	// DefaultCapacity is the number of flows a table holds when New is given
	// no capacity.
	DefaultCapacity = 32768
	// MaxCapacity is the largest capacity New accepts.
	MaxCapacity = 1 << 22
)

// Type says which protocol owns a flow, and so which timeout applies to it.
type Type uint8

// Flow types. TypeNone marks a free slot and is never a live flow's type.
const (
	TypeNone      Type = iota
	TypeTCP            // TCP between the guest and a host socket
	TypeTCPSplice      // TCP spliced between two sockets (pasta loopback)
	TypeUDP            // UDP, at most one datagram each way so far
	TypeUDPStream      // UDP with more than one datagram in some direction
	TypeICMP           // ICMP or ICMPv6 echo through a ping socket

	// NumTypes is the number of Type values, TypeNone included.
	NumTypes
)

var typeNames = [NumTypes]string{"none", "tcp", "tcp-splice", "udp", "udp-stream", "icmp"}

// String returns a short lower-case name of t.
func (t Type) String() string {
	if t < NumTypes {
		return typeNames[t]
	}
	return "invalid"
}

// Timeouts holds the idle timeout of each flow type. A zero (or negative)
// timeout means flows of that type are never reported by Expire.
type Timeouts [NumTypes]time.Duration

// DefaultTimeouts returns the reference behaviour's idle timeouts: UDP 30 s
// (nf_conntrack_udp_timeout's default), UDP streams 120 s
// (nf_conntrack_udp_timeout_stream's default), ICMP echo 60 s. TCP types are
// zero: TCP connections keep their own timers.
func DefaultTimeouts() Timeouts {
	var t Timeouts
	t[TypeUDP] = 30 * time.Second
	t[TypeUDPStream] = 120 * time.Second
	t[TypeICMP] = 60 * time.Second
	return t
}

// Error is why Insert or New refused. It is a small integer, so returning
// it as an error does not allocate.
type Error uint8

// Errors.
const (
	// ErrFull: every slot is in use. The new flow is refused; the caller
	// logs it at a limited rate.
	ErrFull Error = iota + 1
	// ErrExists: a flow with the same key is already in the table.
	ErrExists
	// ErrType: the type is TypeNone or out of range.
	ErrType
	// ErrCapacity: the capacity given to New is above MaxCapacity.
	ErrCapacity
)

var errorText = [...]string{
	ErrFull:     "flow table full",
	ErrExists:   "flow already exists",
	ErrType:     "invalid flow type",
	ErrCapacity: "flow table capacity out of range",
}

func (e Error) Error() string {
	if int(e) < len(errorText) && errorText[e] != "" {
		return errorText[e]
	}
	return "flow error"
}

// entry is one slot.
type entry struct {
	key  Key
	last Time
	hash uint32 // low bits of the table hash of key
	typ  Type   // TypeNone: free
}

// bucket is one cell of the hash index. slot is the flow index plus one,
// zero for an empty bucket.
type bucket struct {
	slot uint32
	hash uint32
}

// Table is a fixed-capacity flow table with a hash index. The zero value is
// not usable; build one with New.
type Table struct {
	entries []entry
	buckets []bucket
	mask    uint32

	// free has one bit per slot, set while the slot is free; bits past the
	// capacity are clear. summary has one bit per word of free, set while
	// that word has a free slot.
	free    []uint64
	summary []uint64
	n       int

	k0, k1 uint64 // SipHash key, never both zero

	observe func(ev Event, index uint32, k Key, typ Type) // nil: none
}

// Event is a change of the table reported to the function set with
// Observe.
type Event uint8

// Events.
const (
	EventInserted Event = iota + 1 // after Insert took a slot
	EventRemoved                   // before Remove frees a slot
)

// String returns "inserted" or "removed".
func (e Event) String() string {
	switch e {
	case EventInserted:
		return "inserted"
	case EventRemoved:
		return "removed"
	}
	return "invalid"
}

// Observe has fn called after every successful Insert and before every
// Remove of a live flow, with the flow's index, key and type; nil stops
// it. It is meant for tracing: without an observer the table pays one
// comparison per insertion and removal. fn must not insert or remove.
func (t *Table) Observe(fn func(ev Event, index uint32, k Key, typ Type)) { t.observe = fn }

// New returns a table for capacity flows (DefaultCapacity when capacity is
// zero or negative) with a fresh random hash secret. Everything it will
// ever use is allocated here: 72 bytes per slot for entries and 16 to 32
// for the hash index (about 3 MiB at the default capacity). It fails with ErrCapacity above MaxCapacity, or when
// the kernel's random generator does.
func New(capacity int) (*Table, error) {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	if capacity > MaxCapacity {
		return nil, ErrCapacity
	}
	var secret [16]byte
	for {
		if _, err := rand.Read(secret[:]); err != nil {
			return nil, fmt.Errorf("flow table secret: %w", err)
		}
		if secret != [16]byte{} {
			break
		}
	}
	nb := 1 << bits.Len(uint(2*capacity-1)) // power of two >= 2*capacity
	words := (capacity + 63) / 64
	t := &Table{
		entries: make([]entry, capacity),
		buckets: make([]bucket, nb),
		mask:    uint32(nb - 1),
		free:    make([]uint64, words),
		summary: make([]uint64, (words+63)/64),
		k0:      binary.LittleEndian.Uint64(secret[0:]),
		k1:      binary.LittleEndian.Uint64(secret[8:]),
	}
	for w := range t.free {
		t.free[w] = ^uint64(0)
		t.summary[w/64] |= 1 << (w % 64)
	}
	if r := capacity % 64; r != 0 {
		t.free[words-1] = 1<<r - 1
	}
	return t, nil
}

// Cap returns the capacity: every index is below it.
func (t *Table) Cap() int { return len(t.entries) }

// Len returns the number of flows in the table.
func (t *Table) Len() int { return t.n }

// Hash returns the keyed table hash of k. It is exposed for tests and
// diagnostics; positions in the index are its low bits.
func (t *Table) Hash(k Key) uint64 { return sum(t.k0, t.k1, domainTable, &k) }

// Lookup returns the index of the flow with key k. It does not allocate.
func (t *Table) Lookup(k Key) (uint32, bool) {
	h := uint32(sum(t.k0, t.k1, domainTable, &k))
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		b := t.buckets[i]
		if b.slot == 0 {
			return 0, false
		}
		if b.hash == h && t.entries[b.slot-1].key == k {
			return b.slot - 1, true
		}
	}
}

// Insert adds a flow of type typ with key k, last active at now, in the
// lowest free slot, and returns its index. It fails, changing nothing, with
// ErrType for TypeNone or an unknown type, ErrExists when k is already in
// the table, and ErrFull when every slot is in use. It does not allocate.
func (t *Table) Insert(k Key, typ Type, now Time) (uint32, error) {
	if typ == TypeNone || typ >= NumTypes {
		return 0, ErrType
	}
	h := uint32(sum(t.k0, t.k1, domainTable, &k))
	i := h & t.mask
	for ; t.buckets[i].slot != 0; i = (i + 1) & t.mask {
		b := t.buckets[i]
		if b.hash == h && t.entries[b.slot-1].key == k {
			return 0, ErrExists
		}
	}
	idx, ok := t.take()
	if !ok {
		return 0, ErrFull
	}
	t.entries[idx] = entry{key: k, last: now, hash: h, typ: typ}
	t.buckets[i] = bucket{slot: idx + 1, hash: h}
	t.n++
	if t.observe != nil {
		t.observe(EventInserted, idx, k, typ)
	}
	return idx, nil
}

// take claims the lowest free slot.
func (t *Table) take() (uint32, bool) {
	for s, sw := range t.summary {
		if sw == 0 {
			continue
		}
		w := s*64 + bits.TrailingZeros64(sw)
		b := bits.TrailingZeros64(t.free[w])
		t.free[w] &^= 1 << b
		if t.free[w] == 0 {
			t.summary[s] &^= 1 << (w % 64)
		}
		return uint32(w*64 + b), true
	}
	return 0, false
}

// release returns slot idx to the free set.
func (t *Table) release(idx uint32) {
	w := idx / 64
	t.free[w] |= 1 << (idx % 64)
	t.summary[w/64] |= 1 << (w % 64)
}

// InUse reports whether index names a live flow.
func (t *Table) InUse(index uint32) bool {
	return index < uint32(len(t.entries)) && t.entries[index].typ != TypeNone
}

// Remove deletes the flow at index and reports whether there was one. The
// slot becomes the lowest free one if nothing below it is free. It does not
// allocate.
func (t *Table) Remove(index uint32) bool {
	if !t.InUse(index) {
		return false
	}
	e := &t.entries[index]
	if t.observe != nil {
		t.observe(EventRemoved, index, e.key, e.typ)
	}
	i := e.hash & t.mask
	for t.buckets[i].slot != index+1 {
		i = (i + 1) & t.mask
	}
	// Backward-shift deletion: move later members of the run into the hole
	// when their home bucket does not lie cyclically in (hole, j].
	for j := (i + 1) & t.mask; t.buckets[j].slot != 0; j = (j + 1) & t.mask {
		home := t.buckets[j].hash & t.mask
		if (j-home)&t.mask >= (j-i)&t.mask {
			t.buckets[i] = t.buckets[j]
			i = j
		}
	}
	t.buckets[i] = bucket{}
	*e = entry{}
	t.release(index)
	t.n--
	return true
}

// Key returns the key of the flow at index; the zero Key for a free slot.
func (t *Table) Key(index uint32) Key {
	if index >= uint32(len(t.entries)) {
		return Key{}
	}
	return t.entries[index].key
}

// Type returns the type of the flow at index; TypeNone for a free slot.
func (t *Table) Type(index uint32) Type {
	if index >= uint32(len(t.entries)) {
		return TypeNone
	}
	return t.entries[index].typ
}

// SetType changes the type of a live flow (UDP becoming a UDP stream) and
// reports whether index names one and typ is valid.
func (t *Table) SetType(index uint32, typ Type) bool {
	if !t.InUse(index) || typ == TypeNone || typ >= NumTypes {
		return false
	}
	t.entries[index].typ = typ
	return true
}

// Touch records activity on the flow at index at time now. Free slots are
// left alone.
func (t *Table) Touch(index uint32, now Time) {
	if t.InUse(index) {
		t.entries[index].last = now
	}
}

// LastActive returns the time of the last activity on the flow at index.
func (t *Table) LastActive(index uint32) Time {
	if index >= uint32(len(t.entries)) {
		return 0
	}
	return t.entries[index].last
}

// Expire calls visit, in index order, for every flow whose type has a
// positive timeout in timeouts and that has been idle for at least that
// long at time now, and returns how many it visited. visit is expected to
// close the flow's resources and Remove it; a flow left in place is visited
// again by the next call. visit may Remove or Insert any flow: a flow
// inserted during the walk at a higher index is visited only if it is
// already idle past its timeout. Expire itself does not allocate.
func (t *Table) Expire(now Time, timeouts *Timeouts, visit func(index uint32, typ Type)) int {
	visited := 0
	for w := range t.free {
		used := ^t.free[w]
		if w == len(t.free)-1 {
			if r := len(t.entries) % 64; r != 0 {
				used &= 1<<r - 1
			}
		}
		for used != 0 {
			b := bits.TrailingZeros64(used)
			used &^= 1 << b
			idx := uint32(w*64 + b)
			e := &t.entries[idx]
			if e.typ == TypeNone {
				continue
			}
			d := timeouts[e.typ]
			if d <= 0 || now.Sub(e.last) < d {
				continue
			}
			visited++
			visit(idx, e.typ)
		}
	}
	return visited
}

// Claim readies per-flow state for slot idx. A protocol keeps its state in
// a slice indexed like the Table, state[:used] set up and the rest never
// touched: since the Table hands out the lowest free slot, the slots a
// daemon uses are the first few, and the pages behind the others (several
// MiB at the default capacity) are never written. Claim sets every slot
// from used up to idx to free and returns the new count; loops over all
// flows range over state[:used].
func Claim[T any](state []T, used int, idx uint32, free T) int {
	for ; used <= int(idx); used++ {
		state[used] = free
	}
	return used
}
