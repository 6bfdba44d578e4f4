// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package flow

import (
	"errors"
	"net/netip"
	"testing"

	"passt-go/proto/header"
)

// FuzzTableOps runs a sequence of inserts and removes, two bytes per
// operation, against a small table (so that probe runs wrap and collide)
// and checks it against a map after every step: same membership, same
// indices, Len right, inserts taking the lowest free slot, the full table
// refusing with ErrFull.
func FuzzTableOps(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 0, 3, 1, 2, 0, 4})
	f.Add([]byte{0, 0, 0, 0, 1, 0, 1, 0})
	seed := make([]byte, 0, 200)
	for i := 0; i < 50; i++ {
		seed = append(seed, 0, byte(i))
	}
	for i := 0; i < 50; i += 3 {
		seed = append(seed, 1, byte(i))
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, ops []byte) {
		const capacity = 37
		tab, err := New(capacity)
		if err != nil {
			t.Fatal(err)
		}
		model := map[Key]uint32{}
		used := [capacity]bool{}
		key := func(b byte) Key {
			return Key{Proto: header.ProtocolUDP, GuestAddr: netip.AddrFrom4([4]byte{10, 0, 0, b % 7}), GuestPort: uint16(b), RemoteAddr: netip.AddrFrom4([4]byte{10, 0, 1, 1}), RemotePort: 53}
		}
		for len(ops) >= 2 {
			op, arg := ops[0], ops[1]
			ops = ops[2:]
			k := key(arg)
			if op%2 == 0 {
				want := -1
				for i, u := range used {
					if !u {
						want = i
						break
					}
				}
				idx, err := tab.Insert(k, TypeUDP, 0)
				_, exists := model[k]
				switch {
				case exists:
					if !errors.Is(err, ErrExists) {
						t.Fatalf("insert of existing key: got %v, want %v", err, ErrExists)
					}
				case want < 0:
					if !errors.Is(err, ErrFull) {
						t.Fatalf("insert into full table: got %v, want %v", err, ErrFull)
					}
				default:
					if err != nil || idx != uint32(want) {
						t.Fatalf("insert: got %v %v, want %v nil", idx, err, want)
					}
					model[k] = idx
					used[idx] = true
				}
			} else {
				idx, exists := model[k]
				if !exists {
					idx = uint32(arg) % capacity
					if got, want := tab.Remove(idx), used[idx]; got != want {
						t.Fatalf("remove %v: got %v, want %v", idx, got, want)
					}
					for mk, mi := range model {
						if mi == idx {
							delete(model, mk)
						}
					}
					used[idx] = false
				} else {
					if !tab.Remove(idx) {
						t.Fatalf("remove %v: got false, want true", idx)
					}
					delete(model, k)
					used[idx] = false
				}
			}
			if tab.Len() != len(model) {
				t.Fatalf("got Len %v, want %v", tab.Len(), len(model))
			}
			for b := 0; b < 256; b++ {
				k := key(byte(b))
				idx, ok := tab.Lookup(k)
				want, wantOK := model[k]
				if ok != wantOK || (ok && idx != want) {
					t.Fatalf("lookup %v: got %v %v, want %v %v", b, idx, ok, want, wantOK)
				}
			}
		}
	})
}
