// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package header

import "encoding/binary"

// TCP header (RFC 9293 section 3.1):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          Source Port          |       Destination Port        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                        Sequence Number                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Acknowledgment Number                      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Data |       |C|E|U|A|P|R|S|F|                               |
//	| Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//	|       |       |R|E|G|K|H|T|N|N|                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Checksum            |         Urgent Pointer        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Options                    |    Padding    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                             data                              |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The data offset counts 32-bit words of header, options included.
const (
	tcpSrcPort    = 0
	tcpDstPort    = 2
	tcpSeq        = 4
	tcpAck        = 8
	tcpDataOffset = 12
	tcpFlags      = 13
	tcpWindow     = 14
	tcpChecksum   = 16
	tcpUrgent     = 18

	// TCPMinLen is the length of a TCP header without options.
	TCPMinLen = 20
	// TCPMaxLen is the longest TCP header (data offset 15).
	TCPMaxLen = 60
)

// TCPFlags are the control bits of a TCP header.
type TCPFlags uint8

// TCP control bits.
const (
	TCPFlagFIN TCPFlags = 1 << iota
	TCPFlagSYN
	TCPFlagRST
	TCPFlagPSH
	TCPFlagACK
	TCPFlagURG
	TCPFlagECE
	TCPFlagCWR
)

// String names the set bits, "SYN|ACK" style, or "none". It allocates;
// keep it out of the data path.
func (f TCPFlags) String() string {
	names := [...]string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"}
	s := ""
	for i, n := range names {
		if f&(1<<i) != 0 {
			if s != "" {
				s += "|"
			}
			s += n
		}
	}
	if s == "" {
		return "none"
	}
	return s
}

// TCP is a validated view of a TCP segment: header, options and data. It
// shares the caller's slice.
type TCP struct{ b []byte }

// ParseTCP validates the TCP header at the start of seg, which must be the
// whole segment (an IP payload): data offset at least 5 and header within
// seg. Options are not examined until Options is called; the checksum is
// not verified (TransportChecksumValid4/6 do).
func ParseTCP(seg []byte) (TCP, bool) {
	if len(seg) < TCPMinLen {
		return TCP{}, false
	}
	hl := int(seg[tcpDataOffset]>>4) * 4
	if hl < TCPMinLen || hl > len(seg) {
		return TCP{}, false
	}
	return TCP{seg}, true
}

// SrcPort returns the source port.
func (t TCP) SrcPort() uint16 { return be16(t.b, tcpSrcPort) }

// DstPort returns the destination port.
func (t TCP) DstPort() uint16 { return be16(t.b, tcpDstPort) }

// Seq returns the sequence number.
func (t TCP) Seq() uint32 { return be32(t.b, tcpSeq) }

// Ack returns the acknowledgment number.
func (t TCP) Ack() uint32 { return be32(t.b, tcpAck) }

// HeaderLen returns the header length in bytes, options included.
func (t TCP) HeaderLen() int { return int(u8(t.b, tcpDataOffset)>>4) * 4 }

// Flags returns the control bits.
func (t TCP) Flags() TCPFlags { return TCPFlags(u8(t.b, tcpFlags)) }

// Window returns the window field, not scaled.
func (t TCP) Window() uint16 { return be16(t.b, tcpWindow) }

// Checksum returns the checksum field.
func (t TCP) Checksum() uint16 { return be16(t.b, tcpChecksum) }

// Urgent returns the urgent pointer.
func (t TCP) Urgent() uint16 { return be16(t.b, tcpUrgent) }

// RawOptions returns the option bytes (empty when the data offset is 5).
func (t TCP) RawOptions() []byte { return span(t.b, TCPMinLen, t.HeaderLen()) }

// Options parses the options; see ParseTCPOptions.
func (t TCP) Options() (TCPOptions, bool) { return ParseTCPOptions(t.RawOptions()) }

// Payload returns the segment's data.
func (t TCP) Payload() []byte { return tail(t.b, t.HeaderLen()) }

// Bytes returns the segment the view covers.
func (t TCP) Bytes() []byte { return t.b }

// TCP option kinds and lengths (RFC 9293, RFC 7323, RFC 2018):
//
//	End of option list   +--------+
//	                     |00000000|
//	                     +--------+
//	No-operation         +--------+
//	                     |00000001|
//	                     +--------+
//	Maximum segment size +--------+--------+---------+--------+
//	                     |00000010|00000100|   max seg size   |
//	                     +--------+--------+---------+--------+
//	Window scale         +--------+--------+--------+
//	                     |00000011|00000011|shift.cnt|
//	                     +--------+--------+--------+
//	SACK permitted       +--------+--------+
//	                     |00000100|00000010|
//	                     +--------+--------+
//	Timestamps           +--------+--------+--------+--------+
//	                     |00001000|00001010|  TSval (32 bits) |
//	                     +--------+--------+--------+--------+
//	                     |   TSecr (32 bits)                 |
//	                     +--------+--------+--------+--------+
const (
	tcpOptEOL           = 0
	tcpOptNOP           = 1
	tcpOptMSS           = 2
	tcpOptWindowScale   = 3
	tcpOptSACKPermitted = 4
	tcpOptTimestamps    = 8

	tcpOptMSSLen           = 4
	tcpOptWindowScaleLen   = 3
	tcpOptSACKPermittedLen = 2
	tcpOptTimestampsLen    = 10

	// MaxWindowScale is the largest shift count RFC 7323 allows; a larger
	// one received is taken as this.
	MaxWindowScale = 14
)

// TCPOptions are the options the translator cares about. A Has field (or
// SACKPermitted) tells whether the option was present.
type TCPOptions struct {
	MSS          uint16 // maximum segment size, if HasMSS
	WindowScale  uint8  // shift count, at most MaxWindowScale, if HasWindowScale
	TSVal, TSEcr uint32 // timestamps, if HasTimestamps

	HasMSS         bool
	HasWindowScale bool
	SACKPermitted  bool
	HasTimestamps  bool
}

// ParseTCPOptions reads the option bytes of a TCP header. It stops at End
// of Option List or at the end of opts. A known option with the wrong
// length is skipped without taking its value; unknown options are skipped;
// a later occurrence of an option replaces an earlier one. The result is
// false when an option's length is below 2 or runs past opts; the options
// found before that point are still returned. It never reads outside opts.
func ParseTCPOptions(opts []byte) (TCPOptions, bool) {
	var o TCPOptions
	for i := 0; i < len(opts); {
		kind := opts[i]
		switch kind {
		case tcpOptEOL:
			return o, true
		case tcpOptNOP:
			i++
			continue
		}
		if i+1 >= len(opts) {
			return o, false
		}
		l := int(opts[i+1])
		if l < 2 || i+l > len(opts) {
			return o, false
		}
		v := opts[i : i+l]
		switch {
		case kind == tcpOptMSS && l == tcpOptMSSLen:
			o.MSS, o.HasMSS = binary.BigEndian.Uint16(v[2:]), true
		case kind == tcpOptWindowScale && l == tcpOptWindowScaleLen:
			o.WindowScale, o.HasWindowScale = min(v[2], MaxWindowScale), true
		case kind == tcpOptSACKPermitted && l == tcpOptSACKPermittedLen:
			o.SACKPermitted = true
		case kind == tcpOptTimestamps && l == tcpOptTimestampsLen:
			o.TSVal = binary.BigEndian.Uint32(v[2:])
			o.TSEcr = binary.BigEndian.Uint32(v[6:])
			o.HasTimestamps = true
		}
		i += l
	}
	return o, true
}

// Len returns the number of option bytes PutTCPOptions writes for o, a
// multiple of 4.
func (o TCPOptions) Len() int {
	n := 0
	if o.HasMSS {
		n += 4
	}
	if o.SACKPermitted || o.HasTimestamps {
		n += 4
	}
	if o.HasTimestamps {
		n += 8
	}
	if o.HasWindowScale {
		n += 4
	}
	return n
}

// PutTCPOptions writes o at the start of b in the layout Linux uses for a
// SYN (MSS; SACK permitted and timestamps, NOP-padded; NOP and window
// scale) and returns o.Len(), or 0 writing nothing when b is shorter. A
// window scale above MaxWindowScale is written as MaxWindowScale.
func PutTCPOptions(b []byte, o TCPOptions) int {
	n := o.Len()
	if len(b) < n {
		return 0
	}
	i := 0
	if o.HasMSS {
		b[i], b[i+1] = tcpOptMSS, tcpOptMSSLen
		binary.BigEndian.PutUint16(b[i+2:], o.MSS)
		i += 4
	}
	switch {
	case o.SACKPermitted && o.HasTimestamps:
		b[i], b[i+1] = tcpOptSACKPermitted, tcpOptSACKPermittedLen
		i += 2
	case o.SACKPermitted:
		b[i], b[i+1] = tcpOptNOP, tcpOptNOP
		b[i+2], b[i+3] = tcpOptSACKPermitted, tcpOptSACKPermittedLen
		i += 4
	case o.HasTimestamps:
		b[i], b[i+1] = tcpOptNOP, tcpOptNOP
		i += 2
	}
	if o.HasTimestamps {
		b[i], b[i+1] = tcpOptTimestamps, tcpOptTimestampsLen
		binary.BigEndian.PutUint32(b[i+2:], o.TSVal)
		binary.BigEndian.PutUint32(b[i+6:], o.TSEcr)
		i += 10
	}
	if o.HasWindowScale {
		b[i], b[i+1], b[i+2], b[i+3] = tcpOptNOP, tcpOptWindowScale, tcpOptWindowScaleLen, min(o.WindowScale, MaxWindowScale)
	}
	return n
}

// TCPFields are the values PutTCP writes.
type TCPFields struct {
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	Flags            TCPFlags
	Window           uint16 // as sent, already scaled down
	Options          TCPOptions
}

// PutTCP writes a TCP header with f's options at the start of b, checksum
// field zero, and returns its length (TCPMinLen plus f.Options.Len()). It
// returns 0 and writes nothing when b is shorter. The data that follows is
// neither read nor written; SetTransportChecksum4/6 fill the checksum once
// it is in place.
func PutTCP(b []byte, f TCPFields) int {
	hl := TCPMinLen + f.Options.Len()
	if len(b) < hl {
		return 0
	}
	binary.BigEndian.PutUint16(b[tcpSrcPort:], f.SrcPort)
	binary.BigEndian.PutUint16(b[tcpDstPort:], f.DstPort)
	binary.BigEndian.PutUint32(b[tcpSeq:], f.Seq)
	binary.BigEndian.PutUint32(b[tcpAck:], f.Ack)
	b[tcpDataOffset] = uint8(hl/4) << 4
	b[tcpFlags] = uint8(f.Flags)
	binary.BigEndian.PutUint16(b[tcpWindow:], f.Window)
	binary.BigEndian.PutUint16(b[tcpChecksum:], 0)
	binary.BigEndian.PutUint16(b[tcpUrgent:], 0)
	PutTCPOptions(b[TCPMinLen:hl], f.Options)
	return hl
}
