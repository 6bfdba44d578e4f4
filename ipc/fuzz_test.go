// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package ipc

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecode feeds arbitrary bytes to the decoder. Whatever it accepts must
// encode back to exactly the same bytes, and decode again to an equal
// message.
func FuzzDecode(f *testing.F) {
	for _, s := range sampleMessages() {
		m := s.msg
		m.FDs = make([]int, s.nfds)
		b, err := m.AppendBinary(nil)
		if err != nil {
			f.Fatalf("seed %s: %v", s.name, err)
		}
		f.Add(b, uint8(s.nfds))
		f.Add(b[:len(b)-1], uint8(s.nfds))
	}
	f.Add([]byte{}, uint8(0))
	f.Add(datagram(Version+1, KindReady, 0, OK, 0, 0, nil), uint8(0))
	f.Add(datagram(Version, KindConfig, 0, OK, flagMore, 0, []byte("x")), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, nfds uint8) {
		orig := bytes.Clone(data)
		m, err := Decode(data, int(nfds))
		if !bytes.Equal(data, orig) {
			t.Fatalf("Decode modified its input")
		}
		if err != nil {
			return
		}
		if m.FDs != nil {
			t.Fatalf("decoded FDs: got %v, want nil", m.FDs)
		}
		if len(data) > HeaderLen+maxPayload(m.Kind()) {
			t.Fatalf("accepted %d bytes for %v, limit %d", len(data), m.Kind(), HeaderLen+maxPayload(m.Kind()))
		}
		m.FDs = make([]int, nfds)
		b, err := m.AppendBinary(nil)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", m, err)
		}
		if !bytes.Equal(b, data) {
			t.Fatalf("re-encoded: got %x, want %x", b, data)
		}
		again, err := Decode(b, int(nfds))
		if err != nil {
			t.Fatalf("decode the re-encoding: %v", err)
		}
		m.FDs = nil
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("decoded twice: got %+v, want %+v", again, m)
		}
	})
}

// counterName turns s into a valid counter name.
func counterName(s string, i int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
	n := 1 + (len(s)+i)%MaxCounterName
	b := make([]byte, n)
	for j := range b {
		c := byte(i + j)
		if len(s) > 0 {
			c += s[(i+j)%len(s)]
		}
		b[j] = alphabet[int(c)%len(alphabet)]
	}
	return string(b)
}

// fuzzMessage builds a valid message of every kind from arbitrary values.
func fuzzMessage(kind uint8, id uint32, code uint8, a, b uint64, s string, blob []byte) Message {
	m := Message{ID: id}
	switch Kind(kind%uint8(numKinds-1)) + 1 {
	case KindHello:
		m.Body = Hello{Version: Version, Role: Role(1 + a%2), PID: uint32(1 + b%(1<<31-1))}
	case KindConfig:
		var c Config
		if len(blob) > 0 {
			c.Blob = blob[:min(len(blob), MaxConfig)]
		}
		m.Body = c
	case KindFDs:
		n := int(a % 16)
		body := FDs{More: a>>63 == 1}
		for i := range n {
			x := b ^ uint64(i)*0x9e3779b97f4a7c15
			body.Entries = append(body.Entries, FDEntry{
				Role:   FDRole(1 + x%uint64(numFDRoles-1)),
				Proto:  [...]Proto{0, TCP, UDP}[x>>8%3],
				Family: [...]Family{0, IPv4, IPv6}[x>>16%3],
				Side:   Side(x >> 24 % 3),
				Port:   uint16(x >> 32),
				Rule:   uint16(x >> 48),
			})
		}
		m.Body, m.FDs = body, make([]int, n)
	case KindReady:
		m.Body = Ready{}
	case KindBrokerRequest:
		r := BrokerRequest{Op: BrokerOp(a), Proto: Proto(a >> 8), Family: Family(a >> 16), Action: NSAction(a >> 24), Side: Side(a >> 32), Port: uint16(b)}
		switch {
		case len(blob) >= 16:
			r.Addr = netip.AddrFrom16([16]byte(blob))
		case len(blob) >= 4:
			r.Addr = netip.AddrFrom4([4]byte(blob))
		}
		r.Ifname = s[:min(len(s), MaxIfname)]
		m.Body = r
	case KindBrokerReply:
		op := BrokerOp(1 + a%uint64(numOps-1))
		m.Code = ErrCode(code % uint8(numCodes))
		r := BrokerReply{Op: op}
		if m.Code == Denied {
			r.Reason = Decision(1 + b%uint64(numDecisions-1))
		}
		if op == OpRescan && m.Code == OK {
			r.Ports = new(PortSet)
			for i := 0; i+1 < len(blob); i += 2 {
				r.Ports.Add(binary.LittleEndian.Uint16(blob[i:]))
			}
		}
		m.Body, m.FDs = r, make([]int, wantFDs(m.Code, r))
	case KindShutdown:
		m.Code = ErrCode(code % uint8(numCodes))
		m.Body = Shutdown{}
	case KindStats:
		var st Stats
		for i := range int(a % 40) {
			st.Counters = append(st.Counters, Counter{Name: counterName(s, i), Value: b * uint64(i+1)})
		}
		m.Body = st
	case KindLog:
		m.Body = Log{Level: Level(1 + a%uint64(numLevels-1)), Text: CleanLogText(s)}
	case KindUnlisten:
		m.Body = Unlisten{
			Role:   [...]FDRole{FDTCPListener, FDUDPListener}[a%2],
			Family: [...]Family{0, IPv4, IPv6}[a>>8%3],
			Side:   Side(a >> 16 % 3),
			Port:   uint16(1 + b%65535),
			Rule:   uint16(b >> 16),
		}
	}
	return m
}

// FuzzRoundTrip encodes messages built from arbitrary field values and
// checks that they decode to equal messages.
func FuzzRoundTrip(f *testing.F) {
	for k := range uint8(numKinds) {
		f.Add(k, uint32(k)*7, uint8(k), uint64(k)*0x0123456789abcdef, ^uint64(k), "tcp.flows é\x01", []byte{192, 0, 2, 1, 0, 80, 1, 187, 255, 255, 9, 9, 9, 9, 9, 9, 9})
	}
	f.Add(uint8(1), uint32(0), uint8(0), uint64(0), uint64(0), "", []byte(nil))
	f.Fuzz(func(t *testing.T, kind uint8, id uint32, code uint8, a, b uint64, s string, blob []byte) {
		m := fuzzMessage(kind, id, code, a, b, s, blob)
		enc, err := m.AppendBinary(nil)
		if err != nil {
			t.Fatalf("encode %+v: %v", m, err)
		}
		got, err := Decode(enc, len(m.FDs))
		if err != nil {
			t.Fatalf("decode %+v: %v", m, err)
		}
		m.FDs = nil
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("got %+v, want %+v", got, m)
		}
	})
}

// FuzzCleanLogText checks that CleanLogText always gives text a Log
// accepts, changes nothing in text that is already fit, keeps the length of
// text under the limit, and is idempotent.
func FuzzCleanLogText(f *testing.F) {
	for _, s := range []string{"", "ok\tfine", "line\nforged", "\x1b[2J", "a\xffb", "\u0085", "\uFFFD", strings.Repeat("é", MaxLogText)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := CleanLogText(s)
		if !validLogText(c) {
			t.Fatalf("CleanLogText(%q) = %q: not valid log text", s, c)
		}
		if validLogText(s) && c != s {
			t.Fatalf("CleanLogText(%q) = %q: changed valid text", s, c)
		}
		if utf8.ValidString(s) && len(s) <= MaxLogText && utf8.RuneCountInString(c) != utf8.RuneCountInString(s) {
			t.Fatalf("CleanLogText(%q) = %q: characters added or lost", s, c)
		}
		if again := CleanLogText(c); again != c {
			t.Fatalf("CleanLogText twice: got %q, then %q", c, again)
		}
	})
}

// FuzzReassemble feeds a Conn's reassembly a sequence of datagrams. The
// input is a list of records, so that full-size fragments need no 16 KiB
// of input:
//
//	0, len u16, bytes        a datagram as given
//	1, kind u8, id u8, code u8, flags u8, fill u8
//	                         a datagram of MaxChunk fill bytes with that header
//
// Reassembly must never panic, never hold more than the largest payload, and
// every message it completes must encode and decode back to itself.
func FuzzReassemble(f *testing.F) {
	raw := func(d []byte) []byte {
		return append(binary.LittleEndian.AppendUint16([]byte{0}, uint16(len(d))), d...)
	}
	full := func(k Kind, id, code, flags, fill byte) []byte {
		return []byte{1, byte(k), id, code, flags, fill}
	}
	cat := func(rs ...[]byte) []byte { return bytes.Join(rs, nil) }
	f.Add(cat(full(KindConfig, 1, 0, flagMore, '{'), raw(datagram(Version, KindConfig, 1, OK, 0, 0, []byte("}")))))
	f.Add(cat(full(KindConfig, 1, 0, flagMore, 'a'), full(KindConfig, 1, 0, flagMore, 'b'), full(KindConfig, 1, 0, 0, 'c')))
	f.Add(cat(full(KindStats, 2, 0, flagMore, 0), full(KindStats, 2, 0, flagMore, 0), full(KindStats, 2, 0, 0, 0)))
	f.Add(cat(full(KindConfig, 1, 0, flagMore, '{'), raw(datagram(Version, KindLog, 1, OK, 0, 0, []byte{1, 'x'}))))
	f.Add(cat(raw(encode(f, Message{Body: Log{Level: LevelInfo, Text: "x"}})), raw([]byte("PGWM"))))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := NewConn(-1)
		chunk := make([]byte, MaxChunk)
		for len(data) > 0 {
			var d []byte
			switch op := data[0]; {
			case op == 0 && len(data) >= 3:
				n := int(binary.LittleEndian.Uint16(data[1:]))
				d = data[3:min(3+n, len(data))]
				data = data[3+len(d):]
			case op == 1 && len(data) >= 6:
				for i := range chunk {
					chunk[i] = data[5]
				}
				d = datagram(Version, Kind(data[1]), uint32(data[2]), ErrCode(data[3]), data[4], 0, chunk)
				data = data[6:]
			default:
				data = data[1:]
				continue
			}
			m, done, err := c.absorb(d, nil)
			if len(c.part.buf) > MaxConfig {
				t.Fatalf("reassembly holds %d bytes, limit %d", len(c.part.buf), MaxConfig)
			}
			if err != nil || !done {
				continue
			}
			enc, err := m.AppendBinary(nil)
			if err != nil {
				t.Fatalf("re-encode %v: %v", m.Kind(), err)
			}
			again, err := Decode(enc, 0)
			if err != nil || !reflect.DeepEqual(again, m) {
				t.Fatalf("decode the re-encoding: got %v, %v, want %v", again.Kind(), err, m.Kind())
			}
		}
	})
}

// FuzzDecide checks the broker's invariants on arbitrary requests: a grant
// is for a known op and protocol, an enabled family, a non-zero port and an
// address of that family, and the port is one a rule of that protocol
// names; equal inputs give equal answers.
func FuzzDecide(f *testing.F) {
	for _, tc := range decideCases() {
		r := tc.req
		f.Add(uint8(r.Op), uint8(r.Proto), uint8(r.Family), uint8(r.Action), uint8(r.Side), r.Addr.AsSlice(), r.Port, r.Ifname)
	}
	a := pastaAllowance()
	// every port any rule of a protocol names, on either side
	var named [256]PortSet
	for _, p := range []Proto{TCP, UDP} {
		fw := a.forwarding(p)
		for _, rules := range [][]Rule{fw.HostToGuest, fw.GuestToHost} {
			for i := range rules {
				for port := range rules[i].Ports.All() {
					named[p].Add(port)
				}
				for port := range rules[i].Targets.All() {
					named[p].Add(port)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, op, proto, family, action, side uint8, addr []byte, port uint16, ifname string) {
		r := BrokerRequest{Op: BrokerOp(op), Proto: Proto(proto), Family: Family(family), Action: NSAction(action), Side: Side(side), Port: port, Ifname: ifname}
		r.Addr, _ = netip.AddrFromSlice(addr)
		d := Decide(a, r)
		if d >= numDecisions {
			t.Fatalf("got decision %d, want a known one", d)
		}
		if again := Decide(pastaAllowance(), r); again != d {
			t.Fatalf("equal inputs: got %v, then %v", d, again)
		}
		if d != Allow {
			return
		}
		if !r.Op.valid() || r.Proto != TCP && r.Proto != UDP {
			t.Fatalf("granted %+v: unknown op or protocol", r)
		}
		if r.Op == OpRescan {
			return
		}
		if r.Port == 0 || !named[r.Proto].Has(r.Port) {
			t.Fatalf("granted %+v: port no rule names", r)
		}
		if r.Family != IPv4 && r.Family != IPv6 || r.Addr.Is4() != (r.Family == IPv4) || r.Addr.Zone() != "" {
			t.Fatalf("granted %+v: family and address disagree", r)
		}
	})
}
