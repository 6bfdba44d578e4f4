// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package header

import (
	"bytes"
	"net/netip"
	"testing"
)

// linuxSYNOptions is what Linux puts in a SYN: MSS 1460, SACK permitted,
// timestamps, NOP, window scale 7.
const linuxSYNOptions = "020405b4 0402 080a 00bc614e 00000000 01 030307"

func TestParseTCP(t *testing.T) {
	syn := unhex(t, "9c40 0050 01020304 00000000 a002 faf0 0000 0000"+linuxSYNOptions)
	tests := []struct {
		name    string
		b       []byte
		ok      bool
		hdrLen  int
		payload int
	}{
		{name: "SYN with options", b: syn, ok: true, hdrLen: 40},
		{name: "with data", b: cat(syn, []byte("hello")), ok: true, hdrLen: 40, payload: 5},
		{name: "no options", b: unhex(t, "9c40 0050 01020304 05060708 5010 ffff 0000 0000"), ok: true, hdrLen: 20},
		{name: "too short", b: syn[:19]},
		{name: "data offset 4", b: cat(syn[:12], []byte{0x40}, syn[13:])},
		{name: "data offset beyond segment", b: syn[:36]},
		{name: "data offset 15 beyond segment", b: cat(syn[:12], []byte{0xf0}, syn[13:])},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := ParseTCP(tc.b)
			if ok != tc.ok {
				t.Fatalf("ok: got %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if s.HeaderLen() != tc.hdrLen || len(s.Payload()) != tc.payload || len(s.RawOptions()) != tc.hdrLen-TCPMinLen {
				t.Errorf("got header %d payload %d options %d, want %d %d %d",
					s.HeaderLen(), len(s.Payload()), len(s.RawOptions()), tc.hdrLen, tc.payload, tc.hdrLen-TCPMinLen)
			}
		})
	}
	s, _ := ParseTCP(syn)
	if s.SrcPort() != 40000 || s.DstPort() != 80 || s.Seq() != 0x01020304 || s.Ack() != 0 ||
		s.Flags() != TCPFlagSYN || s.Window() != 0xfaf0 || s.Checksum() != 0 || s.Urgent() != 0 {
		t.Errorf("fields: got %d %d %#x %#x %v %#x, want 40000 80 0x1020304 0 SYN 0xfaf0",
			s.SrcPort(), s.DstPort(), s.Seq(), s.Ack(), s.Flags(), s.Window())
	}
	o, ok := s.Options()
	want := TCPOptions{MSS: 1460, HasMSS: true, SACKPermitted: true, HasTimestamps: true, TSVal: 12345678,
		WindowScale: 7, HasWindowScale: true}
	if !ok || o != want {
		t.Errorf("options: got %+v %v, want %+v true", o, ok, want)
	}
}

func TestParseTCPOptions(t *testing.T) {
	tests := []struct {
		name string
		opts string
		want TCPOptions
		ok   bool
	}{
		{name: "none", opts: "", ok: true},
		{name: "MSS", opts: "020405b4", want: TCPOptions{MSS: 1460, HasMSS: true}, ok: true},
		{name: "Linux SYN", opts: linuxSYNOptions, ok: true, want: TCPOptions{MSS: 1460, HasMSS: true,
			SACKPermitted: true, HasTimestamps: true, TSVal: 12345678, WindowScale: 7, HasWindowScale: true}},
		{name: "timestamps only", opts: "0101 080a 00000001 00000002", ok: true,
			want: TCPOptions{HasTimestamps: true, TSVal: 1, TSEcr: 2}},
		{name: "end of list stops", opts: "00 020405b4", ok: true},
		{name: "NOPs then end", opts: "01010100", ok: true},
		{name: "window scale clamped", opts: "01 03030f", ok: true, want: TCPOptions{WindowScale: 14, HasWindowScale: true}},
		{name: "MSS of wrong length skipped", opts: "020305 020405b4", ok: true, want: TCPOptions{MSS: 1460, HasMSS: true}},
		{name: "later MSS wins", opts: "02040100 02040200", ok: true, want: TCPOptions{MSS: 0x200, HasMSS: true}},
		{name: "unknown option skipped", opts: "1e04abcd 04020101", ok: true, want: TCPOptions{SACKPermitted: true}},
		{name: "SACK blocks skipped", opts: "050a 00000001 00000002 0101", ok: true},
		{name: "length zero", opts: "020405b4 0500", want: TCPOptions{MSS: 1460, HasMSS: true}},
		{name: "length one", opts: "0501"},
		{name: "length past end", opts: "020405b4 080a 0000", want: TCPOptions{MSS: 1460, HasMSS: true}},
		{name: "kind without length", opts: "0101 02"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseTCPOptions(unhex(t, tc.opts))
			if ok != tc.ok || got != tc.want {
				t.Errorf("got %+v %v, want %+v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestPutTCP(t *testing.T) {
	tests := []struct {
		name     string
		fields   TCPFields
		src, dst string
		want     string
	}{
		{
			name: "SYN-ACK with MSS and window scale",
			fields: TCPFields{SrcPort: 80, DstPort: 40000, Seq: 0x01020304, Ack: 0x0a0b0c0d,
				Flags: TCPFlagSYN | TCPFlagACK, Window: 0xffff,
				Options: TCPOptions{MSS: 1460, HasMSS: true, WindowScale: 7, HasWindowScale: true}},
			src: "10.0.2.2", dst: "10.0.2.15",
			want: "0050 9c40 01020304 0a0b0c0d 7012 ffff b549 0000 020405b4 01030307",
		},
		{
			name:   "Linux SYN options",
			fields: TCPFields{SrcPort: 40000, DstPort: 80, Seq: 0x01020304, Flags: TCPFlagSYN, Window: 0xfaf0, Options: TCPOptions{MSS: 1460, HasMSS: true, SACKPermitted: true, HasTimestamps: true, TSVal: 12345678, WindowScale: 7, HasWindowScale: true}},
			src:    "10.0.2.15", dst: "10.0.2.2",
			want: "9c40 0050 01020304 00000000 a002 faf0 325e 0000" + linuxSYNOptions,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := unhex(t, tc.want)
			src, dst := netip.MustParseAddr(tc.src), netip.MustParseAddr(tc.dst)
			b := make([]byte, 64)
			n := PutTCP(b, tc.fields)
			if n != len(want) {
				t.Fatalf("length: got %d, want %d", n, len(want))
			}
			if !SetTransportChecksum4(b[:n], ProtocolTCP, src, dst) {
				t.Fatal("SetTransportChecksum4 refused a TCP segment")
			}
			// The golden checksum is only trusted as far as the
			// reference agrees with it.
			if got := naiveChecksum(naivePseudo4(ProtocolTCP, src, dst, len(want)), want); got != 0 {
				t.Fatalf("golden bytes do not sum right: reference gives %#04x, want 0", got)
			}
			if !bytes.Equal(b[:n], want) {
				t.Errorf("got % x, want % x", b[:n], want)
			}
			s, ok := ParseTCP(b[:n])
			o, oOK := s.Options()
			if !ok || !oOK || o != tc.fields.Options || s.Flags() != tc.fields.Flags || s.Seq() != tc.fields.Seq {
				t.Errorf("re-parse: got %v %+v %v, want options %+v", ok, o, s.Flags(), tc.fields.Options)
			}
		})
	}
	if n := PutTCP(make([]byte, 23), TCPFields{Options: TCPOptions{HasMSS: true}}); n != 0 {
		t.Errorf("short buffer: got %d, want 0", n)
	}
}

func TestTCPFlagsString(t *testing.T) {
	tests := []struct {
		name  string
		flags TCPFlags
		want  string
	}{
		{name: "none", flags: 0, want: "none"},
		{name: "SYN-ACK", flags: TCPFlagSYN | TCPFlagACK, want: "SYN|ACK"},
		{name: "all", flags: 0xff, want: "FIN|SYN|RST|PSH|ACK|URG|ECE|CWR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.flags.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzTCPOptions parses arbitrary option bytes, alone and inside a TCP
// header. What is parsed must survive writing and parsing again, and the
// header path must agree with the direct one.
func FuzzTCPOptions(f *testing.F) {
	for _, s := range []string{"", "020405b4", linuxSYNOptions, "0101 080a 00000001 00000002", "01 03030f", "0500", "02", "1e04abcd 00"} {
		b, _ := hexBytes(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, opts []byte) {
		o, ok := ParseTCPOptions(opts)
		if o.HasWindowScale && o.WindowScale > MaxWindowScale {
			t.Fatalf("window scale %d above %d", o.WindowScale, MaxWindowScale)
		}
		n := o.Len()
		if n%4 != 0 || n > TCPMaxLen-TCPMinLen {
			t.Fatalf("options length %d: not a multiple of 4 within 40", n)
		}
		b := make([]byte, n)
		if got := PutTCPOptions(b, o); got != n {
			t.Fatalf("PutTCPOptions wrote %d bytes, want %d", got, n)
		}
		back, backOK := ParseTCPOptions(b)
		if !backOK || back != o {
			t.Fatalf("round trip: got %+v %v, want %+v true", back, backOK, o)
		}
		if len(opts)%4 == 0 && len(opts) <= TCPMaxLen-TCPMinLen {
			seg := cat([]byte{0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, byte((TCPMinLen+len(opts))/4) << 4, 0, 0, 0, 0, 0, 0, 0}, opts)
			s, sOK := ParseTCP(seg)
			h, hOK := s.Options()
			if !sOK || h != o || hOK != ok {
				t.Fatalf("through header: got %+v %v, want %+v %v", h, hOK, o, ok)
			}
		}
	})
}
