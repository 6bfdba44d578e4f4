// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package flow

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
)

// The expected values come from an independent implementation (OpenSSL's
// SIPHASH MAC, 8-byte output, printed little-endian), for the key 00..0f
// (or ff..00) and the message 00 01 02 ... of the given length. Lengths 0
// and 15 are also vectors of the SipHash paper.
func TestSipHash24Vectors(t *testing.T) {
	tests := []struct {
		name   string
		key    string
		length int
		want   string
	}{
		{name: "empty", key: "000102030405060708090a0b0c0d0e0f", length: 0, want: "310E0EDD47DB6F72"},
		{name: "one byte", key: "000102030405060708090a0b0c0d0e0f", length: 1, want: "FD67DC93C539F874"},
		{name: "seven", key: "000102030405060708090a0b0c0d0e0f", length: 7, want: "37D1018BF50002AB"},
		{name: "one word", key: "000102030405060708090a0b0c0d0e0f", length: 8, want: "6224939A79F5F593"},
		{name: "nine", key: "000102030405060708090a0b0c0d0e0f", length: 9, want: "B0E4A90BDF82009E"},
		{name: "paper", key: "000102030405060708090a0b0c0d0e0f", length: 15, want: "E545BE4961CA29A1"},
		{name: "two words", key: "000102030405060708090a0b0c0d0e0f", length: 16, want: "DB9BC2577FCC2A3F"},
		{name: "thirty-seven", key: "000102030405060708090a0b0c0d0e0f", length: 37, want: "81396229F0907902"},
		{name: "key message length", key: "000102030405060708090a0b0c0d0e0f", length: 40, want: "D0A704536BA93E0E"},
		{name: "sixty-three", key: "000102030405060708090a0b0c0d0e0f", length: 63, want: "724506EB4C328A95"},
		{name: "other key", key: "ffeeddccbbaa99887766554433221100", length: 40, want: "F444EF72B546F02E"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, err := hex.DecodeString(tc.key)
			if err != nil {
				t.Fatal(err)
			}
			m := make([]byte, tc.length)
			for i := range m {
				m[i] = byte(i)
			}
			h := sipHash24(binary.LittleEndian.Uint64(key), binary.LittleEndian.Uint64(key[8:]), m)
			var out [8]byte
			binary.LittleEndian.PutUint64(out[:], h)
			if got := strings.ToUpper(hex.EncodeToString(out[:])); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func BenchmarkSipHash24KeyMessage(b *testing.B) {
	var m [keyMsgLen]byte
	b.SetBytes(keyMsgLen)
	var sink uint64
	for b.Loop() {
		sink += sipHash24(1, 2, m[:])
	}
	_ = sink
}
