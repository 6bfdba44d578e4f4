// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package dhcp

import (
	"encoding/binary"
	"net/netip"
)

// BOOTP/DHCP message (RFC 951, RFC 2131 section 2), the UDP payload:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|      op       |  htype (1)    |   hlen (6)    |     hops      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                     xid (transaction ID)                      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|             secs              |B|          flags              |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|              ciaddr (client's current address)                |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|              yiaddr (address given to the client)             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|              siaddr (next server for bootstrap)               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|              giaddr (relay agent)                             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|              chaddr (client hardware address, 16 bytes)       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|              sname (server host name, 64 bytes)               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|              file (boot file name, 128 bytes)                 |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|              magic cookie 99.130.83.99 (RFC 1497)             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|              options (code, length, data; pad 0, end 255)     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// B is the broadcast flag: a client that cannot receive unicast before it
// has an address asks for the reply to be broadcast.
const (
	offOp     = 0
	offHType  = 1
	offHLen   = 2
	offHops   = 3
	offXID    = 4
	offSecs   = 8
	offFlags  = 10
	offCIAddr = 12
	offYIAddr = 16
	offSIAddr = 20
	offGIAddr = 24
	offCHAddr = 28
	offSName  = 44
	offFile   = 108
	offCookie = 236

	// FixedLen is the length of the message up to and including the
	// magic cookie: where options start.
	FixedLen = 240
	// CHAddrLen is the size of the client hardware address field.
	CHAddrLen = 16

	// FlagBroadcast is the broadcast bit of the flags field.
	FlagBroadcast = 0x8000

	// Cookie is the magic cookie that opens the options (RFC 2131
	// section 3), 99.130.83.99.
	Cookie = 0x63825363
)

// Op values.
const (
	BootRequest = 1
	BootReply   = 2
)

// MessageType is the value of the DHCP message type option (53).
type MessageType uint8

// Message types (RFC 2132 section 9.6).
const (
	TypeDiscover MessageType = 1
	TypeOffer    MessageType = 2
	TypeRequest  MessageType = 3
	TypeDecline  MessageType = 4
	TypeAck      MessageType = 5
	TypeNak      MessageType = 6
	TypeRelease  MessageType = 7
	TypeInform   MessageType = 8
)

// Option codes this package reads or writes (RFC 2132 unless noted).
const (
	OptionPad             = 0
	OptionSubnetMask      = 1
	OptionRouter          = 3
	OptionDNS             = 6
	OptionHostname        = 12
	OptionMTU             = 26
	OptionLeaseTime       = 51
	OptionOverload        = 52
	OptionMessageType     = 53
	OptionServerID        = 54
	OptionParameterList   = 55
	OptionRapidCommit     = 80  // RFC 4039
	OptionClientFQDN      = 81  // RFC 4702
	OptionSearch          = 119 // RFC 3397
	OptionClasslessRoutes = 121 // RFC 3442
	OptionEnd             = 255
)

// Message is a validated view of a BOOTP/DHCP message: at least FixedLen
// bytes. It shares the caller's slice; accessors never read outside it.
type Message struct {
	b []byte
}

// ParseMessage returns a view of b, a UDP payload, when it holds the fixed
// part of a message and the magic cookie field (FixedLen bytes). Neither
// the op nor the cookie's value is examined.
func ParseMessage(b []byte) (Message, bool) {
	if len(b) < FixedLen {
		return Message{}, false
	}
	return Message{b: b}, true
}

// Bytes returns the message the view covers.
func (m Message) Bytes() []byte { return m.b }

func (m Message) byteAt(off int) uint8 {
	if len(m.b) < FixedLen {
		return 0
	}
	return m.b[off]
}

func (m Message) u16(off int) uint16 {
	if len(m.b) < FixedLen {
		return 0
	}
	return binary.BigEndian.Uint16(m.b[off:])
}

func (m Message) u32(off int) uint32 {
	if len(m.b) < FixedLen {
		return 0
	}
	return binary.BigEndian.Uint32(m.b[off:])
}

func (m Message) addr(off int) netip.Addr {
	if len(m.b) < FixedLen {
		return netip.IPv4Unspecified()
	}
	return netip.AddrFrom4([4]byte(m.b[off : off+4]))
}

// Op returns BootRequest or BootReply (or anything else a sender wrote).
func (m Message) Op() uint8 { return m.byteAt(offOp) }

// HType returns the hardware address type (1 for Ethernet).
func (m Message) HType() uint8 { return m.byteAt(offHType) }

// HLen returns the hardware address length (6 for Ethernet).
func (m Message) HLen() uint8 { return m.byteAt(offHLen) }

// Hops returns the relay hop count.
func (m Message) Hops() uint8 { return m.byteAt(offHops) }

// XID returns the transaction ID.
func (m Message) XID() uint32 { return m.u32(offXID) }

// Secs returns the seconds since the client began.
func (m Message) Secs() uint16 { return m.u16(offSecs) }

// Flags returns the flags field.
func (m Message) Flags() uint16 { return m.u16(offFlags) }

// Broadcast reports whether the broadcast flag is set.
func (m Message) Broadcast() bool { return m.Flags()&FlagBroadcast != 0 }

// CIAddr returns the client's current address.
func (m Message) CIAddr() netip.Addr { return m.addr(offCIAddr) }

// YIAddr returns the address given to the client ("your" address).
func (m Message) YIAddr() netip.Addr { return m.addr(offYIAddr) }

// SIAddr returns the next server's address.
func (m Message) SIAddr() netip.Addr { return m.addr(offSIAddr) }

// GIAddr returns the relay agent's address.
func (m Message) GIAddr() netip.Addr { return m.addr(offGIAddr) }

// CHAddr returns the client hardware address field, all 16 bytes.
func (m Message) CHAddr() [CHAddrLen]byte {
	var a [CHAddrLen]byte
	if len(m.b) >= FixedLen {
		copy(a[:], m.b[offCHAddr:])
	}
	return a
}

// SName returns the server host name field (64 bytes, shared).
func (m Message) SName() []byte {
	if len(m.b) < FixedLen {
		return nil
	}
	return m.b[offSName:offFile]
}

// File returns the boot file name field (128 bytes, shared).
func (m Message) File() []byte {
	if len(m.b) < FixedLen {
		return nil
	}
	return m.b[offFile:offCookie]
}

// HasCookie reports whether the magic cookie field holds Cookie.
func (m Message) HasCookie() bool { return m.u32(offCookie) == Cookie }

// Options returns an iterator over the options area, which is empty when
// the message lacks the magic cookie: without it the area is not in the
// format of RFC 2132. Options overloaded into the sname and file fields
// (option 52) are not visited.
func (m Message) Options() Options {
	if !m.HasCookie() {
		return Options{}
	}
	return Options{rest: m.b[FixedLen:]}
}

// Options iterates over DHCP options. The zero value has none.
type Options struct {
	rest      []byte
	truncated bool
}

// NewOptions returns an iterator over b, an options area.
func NewOptions(b []byte) Options { return Options{rest: b} }

// Next returns the next option: its code and its data, a sub-slice of the
// message. Pad options are skipped. ok is false at the end option, at the
// end of the area, or at an option whose length byte or data runs past
// the area; Truncated tells the last case apart. Next never reads outside
// the area.
func (o *Options) Next() (code uint8, data []byte, ok bool) {
	for len(o.rest) > 0 && o.rest[0] == OptionPad {
		o.rest = o.rest[1:]
	}
	if len(o.rest) == 0 || o.rest[0] == OptionEnd {
		o.rest = nil
		return 0, nil, false
	}
	if len(o.rest) < 2 || len(o.rest) < 2+int(o.rest[1]) {
		o.rest, o.truncated = nil, true
		return 0, nil, false
	}
	code, n := o.rest[0], int(o.rest[1])
	data = o.rest[2 : 2+n : 2+n]
	o.rest = o.rest[2+n:]
	return code, data, true
}

// Truncated reports whether iteration stopped at an option that runs past
// the end of the area.
func (o *Options) Truncated() bool { return o.truncated }

var messageTypeNames = [...]string{
	TypeDiscover: "DISCOVER",
	TypeOffer:    "OFFER",
	TypeRequest:  "REQUEST",
	TypeDecline:  "DECLINE",
	TypeAck:      "ACK",
	TypeNak:      "NAK",
	TypeRelease:  "RELEASE",
	TypeInform:   "INFORM",
}

// String returns the name RFC 2131 gives t, or "unknown".
func (t MessageType) String() string {
	if int(t) < len(messageTypeNames) && messageTypeNames[t] != "" {
		return messageTypeNames[t]
	}
	return "unknown"
}
