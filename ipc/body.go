// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Payloads of every message kind but the broker's. Each type encodes with
// AppendBinary and decodes with UnmarshalBinary; both apply the same checks,
// so every encoding is canonical: reserved bytes are zero, booleans are 0 or
// 1, and nothing trails the last field.

package ipc

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// reader consumes a payload front to back. Reads past the end return zero
// values and set short; callers check it once at the end.
type reader struct {
	b     []byte
	short bool
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || n > len(r.b) {
		r.short = true
		r.b = nil
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() uint8 {
	if v := r.bytes(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if v := r.bytes(2); v != nil {
		return binary.LittleEndian.Uint16(v)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if v := r.bytes(4); v != nil {
		return binary.LittleEndian.Uint32(v)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if v := r.bytes(8); v != nil {
		return binary.LittleEndian.Uint64(v)
	}
	return 0
}

// end reports whether the payload was consumed exactly.
func (r *reader) end() bool { return !r.short && len(r.b) == 0 }

func boolByte(v bool) uint8 {
	if v {
		return 1
	}
	return 0
}

// Hello opens the conversation in each direction: the monitor sends it
// first, the worker answers with its own.
type Hello struct {
	Version uint16 // the sender's protocol version; must be Version
	Role    Role   // the sender's role
	PID     uint32 // the sender's process ID, 1 to 2^31-1
}

const helloLen = 8 // version u16, role u8, reserved u8, pid u32

func (Hello) Kind() Kind { return KindHello }
func (Hello) isBody()    {}

func (v Hello) check() error {
	if v.Version != Version {
		return &VersionError{Got: v.Version, Want: Version}
	}
	if !v.Role.valid() {
		return malformed(KindHello, "unknown role %v", v.Role)
	}
	if v.PID == 0 || v.PID > 1<<31-1 {
		return malformed(KindHello, "process ID %d out of range", v.PID)
	}
	return nil
}

// AppendBinary implements Body.
func (v Hello) AppendBinary(b []byte) ([]byte, error) {
	if err := v.check(); err != nil {
		return b, err
	}
	b = binary.LittleEndian.AppendUint16(b, v.Version)
	b = append(b, uint8(v.Role), 0)
	return binary.LittleEndian.AppendUint32(b, v.PID), nil
}

// UnmarshalBinary decodes a Hello payload.
func (v *Hello) UnmarshalBinary(p []byte) error {
	r := reader{b: p}
	d := Hello{Version: r.u16(), Role: Role(r.u8())}
	reserved := r.u8()
	d.PID = r.u32()
	if !r.end() {
		return malformed(KindHello, "payload of %d bytes, want %d", len(p), helloLen)
	}
	if reserved != 0 {
		return malformed(KindHello, "reserved byte is %#x", reserved)
	}
	if err := d.check(); err != nil {
		return err
	}
	*v = d
	return nil
}

// Config carries the worker's configuration. The monitor serialises it (as
// JSON); this package only carries the bytes, up to MaxConfig, in as many
// fragments as needed.
type Config struct {
	Blob []byte // nil when empty
}

func (Config) Kind() Kind { return KindConfig }
func (Config) isBody()    {}

// AppendBinary implements Body.
func (v Config) AppendBinary(b []byte) ([]byte, error) {
	if len(v.Blob) > MaxConfig {
		return b, fmt.Errorf("ipc: Config message: blob of %d bytes, limit %d: %w", len(v.Blob), MaxConfig, ErrTooLarge)
	}
	return append(b, v.Blob...), nil
}

// UnmarshalBinary decodes a Config payload; the blob is a copy of p.
func (v *Config) UnmarshalBinary(p []byte) error {
	if len(p) > MaxConfig {
		return fmt.Errorf("ipc: Config message: blob of %d bytes, limit %d: %w", len(p), MaxConfig, ErrTooLarge)
	}
	v.Blob = append([]byte(nil), p...)
	return nil
}

// FDEntry describes one descriptor of an FDs message.
type FDEntry struct {
	Role   FDRole
	Proto  Proto  // TCP or UDP for listeners and ProcNet files; 0 otherwise
	Family Family // address family of a socket or ProcNet file; 0 for any
	Side   Side   // namespace the descriptor belongs to; 0 when it does not apply
	Port   uint16 // port of a listener; 0 otherwise
	Rule   uint16 // index of the forwarding rule a listener belongs to
}

// FDs hands descriptors to the worker: entry i describes Message.FDs[i].
// A hand-over of more than MaxFDs descriptors is split over several FDs
// messages (Conn.SendFDs); More is set on every one but the last.
type FDs struct {
	More    bool
	Entries []FDEntry // nil when empty
}

const (
	fdsHeaderLen = 4 // flags u8, reserved u8, count u16
	fdEntryLen   = 8 // role, proto, family, side u8; port, rule u16
)

func (FDs) Kind() Kind { return KindFDs }
func (FDs) isBody()    {}

func (e FDEntry) check() error {
	if !e.Role.valid() {
		return malformed(KindFDs, "unknown descriptor role %v", e.Role)
	}
	if e.Proto != 0 && e.Proto != TCP && e.Proto != UDP {
		return malformed(KindFDs, "unknown protocol %v", e.Proto)
	}
	if e.Family != 0 && e.Family != IPv4 && e.Family != IPv6 {
		return malformed(KindFDs, "unknown family %v", e.Family)
	}
	if e.Side > SideNamespace {
		return malformed(KindFDs, "unknown side %v", e.Side)
	}
	return nil
}

// AppendBinary implements Body.
func (v FDs) AppendBinary(b []byte) ([]byte, error) {
	if len(v.Entries) > MaxFDs {
		return b, malformed(KindFDs, "%d entries, limit %d", len(v.Entries), MaxFDs)
	}
	for _, e := range v.Entries {
		if err := e.check(); err != nil {
			return b, err
		}
	}
	b = append(b, boolByte(v.More), 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(v.Entries)))
	for _, e := range v.Entries {
		b = append(b, uint8(e.Role), uint8(e.Proto), uint8(e.Family), uint8(e.Side))
		b = binary.LittleEndian.AppendUint16(b, e.Port)
		b = binary.LittleEndian.AppendUint16(b, e.Rule)
	}
	return b, nil
}

// UnmarshalBinary decodes an FDs payload.
func (v *FDs) UnmarshalBinary(p []byte) error {
	r := reader{b: p}
	flags, reserved, n := r.u8(), r.u8(), int(r.u16())
	if r.short {
		return malformed(KindFDs, "payload of %d bytes is shorter than its header", len(p))
	}
	if flags > 1 || reserved != 0 {
		return malformed(KindFDs, "flags %#x, reserved %#x", flags, reserved)
	}
	if n > MaxFDs {
		return malformed(KindFDs, "%d entries, limit %d", n, MaxFDs)
	}
	if len(r.b) != n*fdEntryLen {
		return malformed(KindFDs, "%d entries need %d bytes, payload has %d", n, n*fdEntryLen, len(r.b))
	}
	d := FDs{More: flags == 1}
	if n > 0 {
		d.Entries = make([]FDEntry, n)
	}
	for i := range d.Entries {
		e := FDEntry{Role: FDRole(r.u8()), Proto: Proto(r.u8()), Family: Family(r.u8()), Side: Side(r.u8()), Port: r.u16(), Rule: r.u16()}
		if err := e.check(); err != nil {
			return err
		}
		d.Entries[i] = e
	}
	*v = d
	return nil
}

// Ready tells the monitor that the worker is sandboxed and serving.
type Ready struct{}

func (Ready) Kind() Kind { return KindReady }
func (Ready) isBody()    {}

// AppendBinary implements Body; the payload is empty.
func (Ready) AppendBinary(b []byte) ([]byte, error) { return b, nil }

// UnmarshalBinary accepts only an empty payload.
func (*Ready) UnmarshalBinary(p []byte) error {
	if len(p) != 0 {
		return malformed(KindReady, "payload of %d bytes, want none", len(p))
	}
	return nil
}

// Shutdown asks the peer to stop; the message's Code says why (OK for an
// orderly stop).
type Shutdown struct{}

func (Shutdown) Kind() Kind { return KindShutdown }
func (Shutdown) isBody()    {}

// AppendBinary implements Body; the payload is empty.
func (Shutdown) AppendBinary(b []byte) ([]byte, error) { return b, nil }

// UnmarshalBinary accepts only an empty payload.
func (*Shutdown) UnmarshalBinary(p []byte) error {
	if len(p) != 0 {
		return malformed(KindShutdown, "payload of %d bytes, want none", len(p))
	}
	return nil
}

// Counter is one named counter of the worker.
type Counter struct {
	Name  string // 1 to MaxCounterName bytes of [A-Za-z0-9_.-]
	Value uint64
}

// Stats carries the worker's counters to the monitor.
type Stats struct {
	Counters []Counter // nil when empty; at most MaxCounters
}

func (Stats) Kind() Kind { return KindStats }
func (Stats) isBody()    {}

func validCounterName(s string) bool {
	if len(s) == 0 || len(s) > MaxCounterName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '.', c == '-':
		default:
			return false
		}
	}
	return true
}

// AppendBinary implements Body.
func (v Stats) AppendBinary(b []byte) ([]byte, error) {
	if len(v.Counters) > MaxCounters {
		return b, malformed(KindStats, "%d counters, limit %d", len(v.Counters), MaxCounters)
	}
	for _, c := range v.Counters {
		if !validCounterName(c.Name) {
			return b, malformed(KindStats, "invalid counter name %q", c.Name)
		}
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(v.Counters)))
	for _, c := range v.Counters {
		b = append(b, uint8(len(c.Name)))
		b = append(b, c.Name...)
		b = binary.LittleEndian.AppendUint64(b, c.Value)
	}
	return b, nil
}

// UnmarshalBinary decodes a Stats payload.
func (v *Stats) UnmarshalBinary(p []byte) error {
	r := reader{b: p}
	n := int(r.u16())
	if r.short || n > MaxCounters {
		return malformed(KindStats, "bad counter count")
	}
	var d Stats
	if n > 0 {
		d.Counters = make([]Counter, n)
	}
	for i := range d.Counters {
		name := string(r.bytes(int(r.u8())))
		value := r.u64()
		if r.short {
			return malformed(KindStats, "payload of %d bytes ends inside counter %d", len(p), i)
		}
		if !validCounterName(name) {
			return malformed(KindStats, "invalid counter name %q", name)
		}
		d.Counters[i] = Counter{Name: name, Value: value}
	}
	if !r.end() {
		return malformed(KindStats, "%d bytes after the last counter", len(r.b))
	}
	*v = d
	return nil
}

// Log is one log line of the worker, written by the monitor to its log.
// The text is valid UTF-8 without control characters other than tab, so a
// worker cannot forge extra lines or terminal sequences in the monitor's
// log.
type Log struct {
	Level Level
	Text  string // at most MaxLogText bytes
}

func (Log) Kind() Kind { return KindLog }
func (Log) isBody()    {}

func validLogText(s string) bool {
	if len(s) > MaxLogText {
		return false
	}
	for _, c := range s {
		switch {
		case c == utf8.RuneError:
			// Either invalid UTF-8 or an encoded U+FFFD: refuse both, so
			// that the check does not depend on how the text was made.
			return false
		case c < 0x20 && c != '\t', c >= 0x7f && c < 0xa0:
			return false
		}
	}
	return true
}

// CleanLogText returns s made fit for a Log message: every character Log
// refuses (control characters other than tab, invalid UTF-8, U+FFFD)
// becomes '?', and the text is cut to MaxLogText bytes at a character
// boundary. Text that is already fit comes back unchanged.
func CleanLogText(s string) string {
	if validLogText(s) {
		return s
	}
	b := make([]byte, 0, min(len(s), MaxLogText))
	for _, c := range s {
		if c == utf8.RuneError || c < 0x20 && c != '\t' || c >= 0x7f && c < 0xa0 {
			c = '?'
		}
		if len(b)+utf8.RuneLen(c) > MaxLogText {
			break
		}
		b = utf8.AppendRune(b, c)
	}
	return string(b)
}

// AppendBinary implements Body.
func (v Log) AppendBinary(b []byte) ([]byte, error) {
	if !v.Level.valid() {
		return b, malformed(KindLog, "unknown level %v", v.Level)
	}
	if !validLogText(v.Text) {
		return b, malformed(KindLog, "text is too long, not UTF-8, or has control characters")
	}
	b = append(b, uint8(v.Level))
	return append(b, v.Text...), nil
}

// UnmarshalBinary decodes a Log payload.
func (v *Log) UnmarshalBinary(p []byte) error {
	if len(p) < 1 {
		return malformed(KindLog, "empty payload")
	}
	d := Log{Level: Level(p[0]), Text: string(p[1:])}
	if !d.Level.valid() {
		return malformed(KindLog, "unknown level %v", d.Level)
	}
	if !validLogText(d.Text) {
		return malformed(KindLog, "text is too long, not UTF-8, or has control characters")
	}
	*v = d
	return nil
}
