// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package flow

import (
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"passt-go/proto/header"
)

// testKey returns a distinct UDP key for every n below 2^32.
func testKey(n uint32) Key {
	return Key{
		Proto:      header.ProtocolUDP,
		GuestAddr:  netip.AddrFrom4([4]byte{192, 0, 2, 10}),
		GuestPort:  uint16(n),
		RemoteAddr: netip.AddrFrom4([4]byte{198, 51, 100, byte(n >> 16)}),
		RemotePort: uint16(n>>24) + 53,
	}
}

func newTable(t testing.TB, capacity int) *Table {
	t.Helper()
	tab, err := New(capacity)
	if err != nil {
		t.Fatalf("New(%d): %v", capacity, err)
	}
	return tab
}

func TestNewCapacity(t *testing.T) {
	tests := []struct {
		name     string
		capacity int
		wantCap  int
		wantErr  error
	}{
		{name: "default", capacity: 0, wantCap: DefaultCapacity},
		{name: "negative means default", capacity: -5, wantCap: DefaultCapacity},
		{name: "one", capacity: 1, wantCap: 1},
		{name: "not a multiple of 64", capacity: 100, wantCap: 100},
		{name: "maximum", capacity: MaxCapacity, wantCap: MaxCapacity},
		{name: "above maximum", capacity: MaxCapacity + 1, wantErr: ErrCapacity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tab, err := New(tc.capacity)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("got error %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if got := tab.Cap(); got != tc.wantCap {
				t.Errorf("got capacity %v, want %v", got, tc.wantCap)
			}
			if got := len(tab.buckets); got < 2*tc.wantCap || got&(got-1) != 0 {
				t.Errorf("got %v buckets, want a power of two >= %v", got, 2*tc.wantCap)
			}
			if tab.k0 == 0 && tab.k1 == 0 {
				t.Errorf("got an all-zero secret, want a random one")
			}
		})
	}
}

func TestInsertLookupRemove(t *testing.T) {
	tab := newTable(t, 8)
	a, b := testKey(1), testKey(2)
	v6 := Key{
		Proto:      header.ProtocolICMPv6,
		GuestAddr:  netip.MustParseAddr("2001:db8::10"),
		GuestPort:  7,
		RemoteAddr: netip.MustParseAddr("2001:db8::1"),
		RemotePort: 7,
	}
	mapped := a
	mapped.GuestAddr = netip.AddrFrom16(a.GuestAddr.As16())

	steps := []struct {
		name    string
		op      string // insert, lookup, remove
		key     Key
		typ     Type
		wantIdx uint32
		wantOK  bool
		wantErr error
	}{
		{name: "lookup in empty table", op: "lookup", key: a},
		{name: "insert a", op: "insert", key: a, typ: TypeUDP, wantIdx: 0, wantOK: true},
		{name: "insert b", op: "insert", key: b, typ: TypeUDP, wantIdx: 1, wantOK: true},
		{name: "insert v6", op: "insert", key: v6, typ: TypeICMP, wantIdx: 2, wantOK: true},
		{name: "duplicate refused", op: "insert", key: a, typ: TypeUDP, wantErr: ErrExists},
		{name: "none type refused", op: "insert", key: testKey(9), typ: TypeNone, wantErr: ErrType},
		{name: "unknown type refused", op: "insert", key: testKey(9), typ: NumTypes, wantErr: ErrType},
		{name: "lookup a", op: "lookup", key: a, wantIdx: 0, wantOK: true},
		{name: "lookup v6", op: "lookup", key: v6, wantIdx: 2, wantOK: true},
		{name: "mapped form is another key", op: "lookup", key: mapped},
		{name: "remove a", op: "remove", key: a, wantIdx: 0, wantOK: true},
		{name: "a gone", op: "lookup", key: a},
		{name: "b kept", op: "lookup", key: b, wantIdx: 1, wantOK: true},
		{name: "lowest free slot reused", op: "insert", key: mapped, typ: TypeUDP, wantIdx: 0, wantOK: true},
		{name: "next slot after the packed ones", op: "insert", key: a, typ: TypeUDPStream, wantIdx: 3, wantOK: true},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			switch s.op {
			case "insert":
				idx, err := tab.Insert(s.key, s.typ, 5)
				if !errors.Is(err, s.wantErr) {
					t.Fatalf("got error %v, want %v", err, s.wantErr)
				}
				if err == nil && idx != s.wantIdx {
					t.Errorf("got index %v, want %v", idx, s.wantIdx)
				}
				if err == nil && (tab.Key(idx) != s.key || tab.Type(idx) != s.typ || tab.LastActive(idx) != 5) {
					t.Errorf("got entry %v %v %v, want %v %v 5", tab.Key(idx), tab.Type(idx), tab.LastActive(idx), s.key, s.typ)
				}
			case "lookup":
				idx, ok := tab.Lookup(s.key)
				if ok != s.wantOK || (ok && idx != s.wantIdx) {
					t.Errorf("got %v %v, want %v %v", idx, ok, s.wantIdx, s.wantOK)
				}
			case "remove":
				if got := tab.Remove(s.wantIdx); got != s.wantOK {
					t.Errorf("got %v, want %v", got, s.wantOK)
				}
				if got := tab.Remove(s.wantIdx); got {
					t.Errorf("second remove got %v, want false", got)
				}
			}
		})
	}
	if got, want := tab.Len(), 4; got != want {
		t.Errorf("got Len %v, want %v", got, want)
	}
}

func TestAccessorsOutOfRange(t *testing.T) {
	tab := newTable(t, 4)
	if _, err := tab.Insert(testKey(1), TypeUDP, 1); err != nil {
		t.Fatal(err)
	}
	for _, idx := range []uint32{1, 4, 1 << 31} {
		if tab.InUse(idx) || tab.Type(idx) != TypeNone || tab.Key(idx) != (Key{}) || tab.Remove(idx) || tab.SetType(idx, TypeUDP) {
			t.Errorf("index %v: got a live flow, want none", idx)
		}
		tab.Touch(idx, 99)
		if got := tab.LastActive(idx); got != 0 {
			t.Errorf("index %v: got last active %v, want 0", idx, got)
		}
	}
	if !tab.SetType(0, TypeUDPStream) || tab.Type(0) != TypeUDPStream {
		t.Errorf("got type %v, want %v", tab.Type(0), TypeUDPStream)
	}
	if tab.SetType(0, TypeNone) {
		t.Errorf("SetType to TypeNone got true, want false")
	}
}

// TestFillBeyondCapacity fills tables to capacity, then tries one more:
// the extra insert must fail with ErrFull and leave every flow as it was.
func TestFillBeyondCapacity(t *testing.T) {
	tests := []struct {
		name     string
		capacity int
	}{
		{name: "default", capacity: DefaultCapacity},
		{name: "odd size", capacity: 1000},
		{name: "single slot", capacity: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tab := newTable(t, tc.capacity)
			n := uint32(tab.Cap())
			for i := uint32(0); i < n; i++ {
				idx, err := tab.Insert(testKey(i), TypeUDP, Time(i))
				if err != nil || idx != i {
					t.Fatalf("insert %v: got %v %v, want %v nil", i, idx, err, i)
				}
			}
			if _, err := tab.Insert(testKey(n), TypeUDP, 0); !errors.Is(err, ErrFull) {
				t.Fatalf("insert past capacity: got %v, want %v", err, ErrFull)
			}
			if _, err := tab.Insert(testKey(0), TypeUDP, 0); !errors.Is(err, ErrExists) {
				t.Errorf("duplicate in a full table: got %v, want %v", err, ErrExists)
			}
			if got := tab.Len(); got != int(n) {
				t.Errorf("got Len %v, want %v", got, n)
			}
			for i := uint32(0); i < n; i++ {
				idx, ok := tab.Lookup(testKey(i))
				if !ok || idx != i || tab.LastActive(i) != Time(i) {
					t.Fatalf("flow %v after refusal: got %v %v, want %v true", i, idx, ok, i)
				}
			}
			if _, ok := tab.Lookup(testKey(n)); ok {
				t.Errorf("refused key found, want absent")
			}
			// Freeing a slot in the middle makes room again, at that slot.
			mid := n / 2
			tab.Remove(mid)
			idx, err := tab.Insert(testKey(n), TypeICMP, 0)
			if err != nil || idx != mid {
				t.Errorf("insert after remove: got %v %v, want %v nil", idx, err, mid)
			}
		})
	}
}

// TestProbeLengthsBounded inserts keys a guest could choose to collide
// under a fixed hash (consecutive ports, one address) and checks that no
// lookup walks a long probe sequence.
func TestProbeLengthsBounded(t *testing.T) {
	tab := newTable(t, DefaultCapacity)
	for i := uint32(0); i < DefaultCapacity; i++ {
		k := Key{Proto: header.ProtocolTCP, GuestAddr: netip.AddrFrom4([4]byte{10, 0, 0, 2}), GuestPort: uint16(i), RemoteAddr: netip.AddrFrom4([4]byte{10, 0, 0, 1}), RemotePort: 80}
		if _, err := tab.Insert(k, TypeTCP, 0); err != nil {
			t.Fatal(err)
		}
	}
	worst := 0
	for i, b := range tab.buckets {
		if b.slot == 0 {
			continue
		}
		d := int((uint32(i) - b.hash) & tab.mask)
		worst = max(worst, d)
	}
	// At load 1/2 the longest displacement of 32768 keys under a random
	// function is a few dozen buckets; 200 would mean the hash is weak.
	if worst > 200 {
		t.Errorf("got longest displacement %v, want at most 200", worst)
	}
}

func TestSecretPerTable(t *testing.T) {
	a, b := newTable(t, 16), newTable(t, 16)
	same := 0
	for i := uint32(0); i < 64; i++ {
		if a.Hash(testKey(i)) == b.Hash(testKey(i)) {
			same++
		}
	}
	if same != 0 {
		t.Errorf("got %v equal hashes from two tables, want 0", same)
	}
	if got, want := a.Hash(testKey(3)), a.Hash(testKey(3)); got != want {
		t.Errorf("got %v, want %v from the same table", got, want)
	}
}

func TestExpire(t *testing.T) {
	const base = Time(1000 * time.Second)
	timeouts := DefaultTimeouts()
	flows := []struct {
		typ  Type
		last Time
	}{
		{TypeUDP, base.Add(-31 * time.Second)},       // 0: idle past 30 s
		{TypeUDP, base.Add(-29 * time.Second)},       // 1: not yet
		{TypeUDPStream, base.Add(-31 * time.Second)}, // 2: stream timeout is 120 s
		{TypeUDPStream, base.Add(-121 * time.Second)},
		{TypeICMP, base.Add(-60 * time.Second)}, // 4: exactly the timeout
		{TypeTCP, 0},                            // 5: TCP never expires here
		{TypeICMP, base},                        // 6: just active
	}
	// Flows 7 to 64 are TCP fillers; 65, in the second (partial) bitmap
	// word, is ICMP and idle since time 0.
	for len(flows) < 65 {
		flows = append(flows, struct {
			typ  Type
			last Time
		}{TypeTCP, 0})
	}
	flows = append(flows, struct {
		typ  Type
		last Time
	}{TypeICMP, 0})
	tests := []struct {
		name     string
		now      Time
		timeouts Timeouts
		want     []uint32
	}{
		{name: "default timeouts", now: base, timeouts: timeouts, want: []uint32{0, 3, 4, 65}},
		{name: "earlier tick, flow 0 exactly at its timeout", now: base.Add(-time.Second), timeouts: timeouts, want: []uint32{0, 3, 65}},
		{name: "two seconds earlier", now: base.Add(-2 * time.Second), timeouts: timeouts, want: []uint32{65}},
		{name: "only icmp", now: base.Add(61 * time.Second), timeouts: Timeouts{TypeICMP: 60 * time.Second}, want: []uint32{4, 6, 65}},
		{name: "nothing expires", now: base, timeouts: Timeouts{}, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tab := newTable(t, 70) // two bitmap words, the second partial
			for i, f := range flows {
				if _, err := tab.Insert(testKey(uint32(i)), f.typ, 0); err != nil {
					t.Fatal(err)
				}
				tab.Touch(uint32(i), f.last)
			}
			var got []uint32
			n := tab.Expire(tc.now, &tc.timeouts, func(idx uint32, typ Type) {
				if typ != flows[idx].typ {
					t.Errorf("flow %v: got type %v, want %v", idx, typ, flows[idx].typ)
				}
				got = append(got, idx)
			})
			if n != len(got) || !equalIdx(got, tc.want) {
				t.Errorf("got %v (count %v), want %v", got, n, tc.want)
			}
		})
	}
}

func equalIdx(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestExpireRemovesWhileWalking(t *testing.T) {
	tab := newTable(t, 200)
	for i := uint32(0); i < 200; i++ {
		if _, err := tab.Insert(testKey(i), TypeUDP, 0); err != nil {
			t.Fatal(err)
		}
	}
	tab.Touch(150, Time(100*time.Second)) // recently active
	timeouts := DefaultTimeouts()
	n := tab.Expire(Time(100*time.Second), &timeouts, func(idx uint32, _ Type) {
		if !tab.Remove(idx) {
			t.Errorf("remove %v: got false, want true", idx)
		}
	})
	if n != 199 || tab.Len() != 1 {
		t.Errorf("got %v visited, Len %v, want 199, 1", n, tab.Len())
	}
	if idx, ok := tab.Lookup(testKey(150)); !ok || idx != 150 {
		t.Errorf("active flow: got %v %v, want 150 true", idx, ok)
	}
	if got := tab.Expire(Time(100*time.Second), &timeouts, func(uint32, Type) {}); got != 0 {
		t.Errorf("second walk got %v, want 0", got)
	}
}

func TestISN(t *testing.T) {
	tab := newTable(t, 4)
	k := Key{Proto: header.ProtocolTCP, GuestAddr: netip.MustParseAddr("192.0.2.10"), GuestPort: 40000, RemoteAddr: netip.MustParseAddr("198.51.100.1"), RemotePort: 443}
	other := k
	other.GuestPort++
	const now = Time(5 * time.Second)

	base := tab.ISN(k, now)
	tests := []struct {
		name string
		got  uint32
		want uint32
	}{
		{name: "same tuple and time", got: tab.ISN(k, now), want: base},
		{name: "one tick later", got: tab.ISN(k, now+32), want: base + 1},
		{name: "less than a tick later", got: tab.ISN(k, now+31), want: base},
		{name: "a second later", got: tab.ISN(k, now.Add(time.Second)), want: base + uint32(time.Second/32)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
	if tab.ISN(other, now) == base {
		t.Errorf("another port got the same ISN %v", base)
	}
	if tab2 := newTable(t, 4); tab2.ISN(k, now) == base {
		t.Errorf("another secret got the same ISN %v", base)
	}
	h := tab.Hash(k)
	if uint32(h)^uint32(h>>32)+uint32(now>>isnTickShift) == base {
		t.Errorf("ISN equals the table hash fold, want a separate domain")
	}
	// ISN never returns zero: find the clock value that would give zero.
	f := tab.ISN(k, 0)
	zeroAt := Time(uint64(-f) << isnTickShift)
	if got := tab.ISN(k, zeroAt); got != 1 {
		t.Errorf("got %v where the sum is zero, want 1", got)
	}
}

func TestZeroAllocs(t *testing.T) {
	tab := newTable(t, DefaultCapacity)
	for i := uint32(0); i < 1000; i++ {
		if _, err := tab.Insert(testKey(i), TypeUDP, 0); err != nil {
			t.Fatal(err)
		}
	}
	k := testKey(5000)
	timeouts := DefaultTimeouts()
	visit := func(uint32, Type) {}
	tests := []struct {
		name string
		fn   func()
	}{
		{name: "lookup hit", fn: func() { tab.Lookup(testKey(500)) }},
		{name: "lookup miss", fn: func() { tab.Lookup(k) }},
		{name: "insert and remove", fn: func() {
			idx, err := tab.Insert(k, TypeUDP, 1)
			if err != nil {
				panic(err)
			}
			tab.Remove(idx)
		}},
		{name: "insert existing", fn: func() { _, _ = tab.Insert(testKey(1), TypeUDP, 1) }},
		{name: "touch", fn: func() { tab.Touch(7, 9) }},
		{name: "expire", fn: func() { tab.Expire(Time(time.Hour), &timeouts, visit) }},
		{name: "isn", fn: func() { tab.ISN(k, 77) }},
		{name: "now", fn: func() { Now() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, tc.fn); got != 0 {
				t.Errorf("got %v allocations, want 0", got)
			}
		})
	}
}

// The observer sees every insertion and removal that changes the table,
// with the flow's key and type, and nothing else.
func TestObserve(t *testing.T) {
	type seen struct {
		ev  Event
		idx uint32
		k   Key
		typ Type
	}
	tab := newTable(t, 2)
	var got []seen
	tab.Observe(func(ev Event, idx uint32, k Key, typ Type) { got = append(got, seen{ev, idx, k, typ}) })
	a, _ := tab.Insert(testKey(1), TypeTCP, 0)
	b, _ := tab.Insert(testKey(2), TypeUDP, 0)
	tab.Insert(testKey(1), TypeTCP, 0) // exists
	tab.Insert(testKey(3), TypeUDP, 0) // full
	tab.Remove(a)
	tab.Remove(a) // already free
	tab.Observe(nil)
	tab.Remove(b)
	want := []seen{
		{EventInserted, a, testKey(1), TypeTCP},
		{EventInserted, b, testKey(2), TypeUDP},
		{EventRemoved, a, testKey(1), TypeTCP},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if EventInserted.String() != "inserted" || EventRemoved.String() != "removed" || Event(0).String() != "invalid" {
		t.Errorf("event names: got %q %q %q", EventInserted, EventRemoved, Event(0))
	}
}

func TestErrorText(t *testing.T) {
	for _, e := range []Error{ErrFull, ErrExists, ErrType, ErrCapacity, 0, 200} {
		if e.Error() == "" {
			t.Errorf("Error(%d): got empty text", e)
		}
	}
	if got, want := ErrFull.Error(), "flow table full"; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	if got, want := TypeUDPStream.String(), "udp-stream"; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	if got, want := Type(200).String(), "invalid"; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestNowMonotonic(t *testing.T) {
	a := Now()
	b := Now()
	if b < a {
		t.Errorf("got %v after %v, want non-decreasing", b, a)
	}
}

func BenchmarkLookupHit(b *testing.B) {
	tab := newTable(b, DefaultCapacity)
	for i := uint32(0); i < DefaultCapacity/2; i++ {
		tab.Insert(testKey(i), TypeUDP, 0)
	}
	i := uint32(0)
	for b.Loop() {
		if _, ok := tab.Lookup(testKey(i % (DefaultCapacity / 2))); !ok {
			b.Fatal("miss")
		}
		i++
	}
}

func BenchmarkLookupMiss(b *testing.B) {
	tab := newTable(b, DefaultCapacity)
	for i := uint32(0); i < DefaultCapacity/2; i++ {
		tab.Insert(testKey(i), TypeUDP, 0)
	}
	i := uint32(0)
	for b.Loop() {
		if _, ok := tab.Lookup(testKey(DefaultCapacity + i%1024)); ok {
			b.Fatal("hit")
		}
		i++
	}
}

func BenchmarkInsertRemove(b *testing.B) {
	tab := newTable(b, DefaultCapacity)
	for i := uint32(0); i < DefaultCapacity/2; i++ {
		tab.Insert(testKey(i), TypeUDP, 0)
	}
	i := uint32(0)
	for b.Loop() {
		idx, err := tab.Insert(testKey(DefaultCapacity+i%1024), TypeUDP, 0)
		if err != nil {
			b.Fatal(err)
		}
		tab.Remove(idx)
		i++
	}
}

func BenchmarkISN(b *testing.B) {
	tab := newTable(b, 1)
	k := testKey(1)
	var sink uint32
	for b.Loop() {
		sink += tab.ISN(k, 12345)
	}
	_ = sink
}

func BenchmarkExpireFullTable(b *testing.B) {
	tab := newTable(b, DefaultCapacity)
	for i := uint32(0); i < DefaultCapacity; i++ {
		tab.Insert(testKey(i), TypeUDP, 0)
	}
	timeouts := DefaultTimeouts()
	visit := func(uint32, Type) {}
	for b.Loop() {
		tab.Expire(1, &timeouts, visit) // nothing idle: the walk alone
	}
}

// Claim sets exactly the slots from the old count up to the claimed one,
// never lowers the count, and leaves every slot above it as it was.
func TestClaim(t *testing.T) {
	const untouched, free = 7, -1
	state := make([]int, 16)
	for i := range state {
		state[i] = untouched
	}
	used := 0
	for _, step := range []struct {
		idx  uint32
		want int
	}{{0, 1}, {4, 5}, {2, 5}, {4, 5}, {9, 10}, {15, 16}} {
		used = Claim(state, used, step.idx, free)
		if used != step.want {
			t.Fatalf("Claim(%d): count %d, want %d", step.idx, used, step.want)
		}
		for i, v := range state {
			switch {
			case i == 0 && step.idx > 0 && v != 42:
				t.Fatalf("Claim(%d): slot 0 = %d, was overwritten", step.idx, v)
			case i == 0 && step.idx == 0 && v != free:
				t.Fatalf("Claim(0): slot 0 = %d, want free", v)
			case i > 0 && i < used && v != free:
				t.Fatalf("Claim(%d): slot %d = %d, want free", step.idx, i, v)
			case i >= used && v != untouched:
				t.Fatalf("Claim(%d): slot %d = %d, touched above the count", step.idx, i, v)
			}
		}
		state[0] = 42 // a live flow's state, which later claims keep
	}
}
