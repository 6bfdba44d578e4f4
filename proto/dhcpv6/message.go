// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package dhcpv6

import "encoding/binary"

// Client/server message (RFC 8415 section 8), the UDP payload:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|    msg-type   |               transaction-id                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                            options                            |
//	|                           (variable)                          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Every option (section 21.1), at the top level or nested inside an
// IA_NA, IA_TA or IAADDR, is a type-length-value:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          option-code          |           option-len          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                          option-data                          |
//	|                      (option-len octets)                      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	// HeaderLen is the length of the message header.
	HeaderLen = 4
	// OptionHeaderLen is the length of an option's code and length.
	OptionHeaderLen = 4

	// IANALen is the fixed part of an IA_NA option's data: IAID, T1, T2
	// (section 21.4). IA options follow it.
	IANALen = 12
	// IATALen is the fixed part of an IA_TA option's data: IAID
	// (section 21.5).
	IATALen = 4
	// IAAddrLen is the fixed part of an IAADDR option's data: address,
	// preferred and valid lifetimes (section 21.6).
	IAAddrLen = 24

	// MaxDUIDLen is the longest DUID, its 2-byte type included
	// (section 11.1).
	MaxDUIDLen = 2 + 128
)

// MessageType is the msg-type of a message.
type MessageType uint8

// Message types (RFC 8415 section 7.3).
const (
	TypeSolicit            MessageType = 1
	TypeAdvertise          MessageType = 2
	TypeRequest            MessageType = 3
	TypeConfirm            MessageType = 4
	TypeRenew              MessageType = 5
	TypeRebind             MessageType = 6
	TypeReply              MessageType = 7
	TypeRelease            MessageType = 8
	TypeDecline            MessageType = 9
	TypeReconfigure        MessageType = 10
	TypeInformationRequest MessageType = 11
	TypeRelayForward       MessageType = 12
	TypeRelayReply         MessageType = 13
)

// Option codes this package reads or writes.
const (
	OptionClientID    = 1
	OptionServerID    = 2
	OptionIANA        = 3
	OptionIATA        = 4
	OptionIAAddr      = 5
	OptionStatusCode  = 13
	OptionRapidCommit = 14
	OptionDNSServers  = 23 // RFC 3646
	OptionDomainList  = 24 // RFC 3646
	OptionClientFQDN  = 39 // RFC 4704
)

// Status codes (RFC 8415 section 21.13).
const (
	StatusSuccess   = 0
	StatusNotOnLink = 4
)

// Message is a validated view of a DHCPv6 client/server message: at least
// its 4-byte header. It shares the caller's slice.
type Message struct {
	b []byte
}

// ParseMessage returns a view of b, a UDP payload, when it holds at least
// the message header. Options are not examined until iterated.
func ParseMessage(b []byte) (Message, bool) {
	if len(b) < HeaderLen {
		return Message{}, false
	}
	return Message{b: b}, true
}

// Bytes returns the message the view covers.
func (m Message) Bytes() []byte { return m.b }

// Type returns the message type.
func (m Message) Type() MessageType {
	if len(m.b) < HeaderLen {
		return 0
	}
	return MessageType(m.b[0])
}

// XID returns the 24-bit transaction ID.
func (m Message) XID() uint32 {
	if len(m.b) < HeaderLen {
		return 0
	}
	return uint32(m.b[1])<<16 | uint32(m.b[2])<<8 | uint32(m.b[3])
}

// Options returns an iterator over the top-level options.
func (m Message) Options() Options {
	if len(m.b) < HeaderLen {
		return Options{}
	}
	return Options{rest: m.b[HeaderLen:]}
}

// Options iterates over a sequence of options: a message's, or those
// nested in an option's data. The zero value has none.
type Options struct {
	rest      []byte
	truncated bool
}

// NewOptions returns an iterator over b, a sequence of options.
func NewOptions(b []byte) Options { return Options{rest: b} }

// Next returns the next option: its code and its data, a sub-slice of the
// message. ok is false at the end, or at an option whose header or data
// runs past the sequence; Truncated tells the two apart. Next never reads
// outside the sequence.
func (o *Options) Next() (code uint16, data []byte, ok bool) {
	if len(o.rest) == 0 {
		return 0, nil, false
	}
	if len(o.rest) < OptionHeaderLen {
		o.rest, o.truncated = nil, true
		return 0, nil, false
	}
	code = binary.BigEndian.Uint16(o.rest)
	n := int(binary.BigEndian.Uint16(o.rest[2:]))
	if len(o.rest)-OptionHeaderLen < n {
		o.rest, o.truncated = nil, true
		return 0, nil, false
	}
	data = o.rest[OptionHeaderLen : OptionHeaderLen+n : OptionHeaderLen+n]
	o.rest = o.rest[OptionHeaderLen+n:]
	return code, data, true
}

// Truncated reports whether iteration stopped at an option that runs past
// the end of the sequence.
func (o *Options) Truncated() bool { return o.truncated }

// nestedOptions returns the options inside the data of an option of the
// given code (IA_NA, IA_TA, IAADDR), after its fixed part, and whether the
// data holds that fixed part.
func nestedOptions(code uint16, data []byte) (Options, bool) {
	fixed := 0
	switch code {
	case OptionIANA:
		fixed = IANALen
	case OptionIATA:
		fixed = IATALen
	case OptionIAAddr:
		fixed = IAAddrLen
	default:
		return Options{}, false
	}
	if len(data) < fixed {
		return Options{}, false
	}
	return NewOptions(data[fixed:]), true
}

var messageTypeNames = [...]string{
	TypeSolicit:            "SOLICIT",
	TypeAdvertise:          "ADVERTISE",
	TypeRequest:            "REQUEST",
	TypeConfirm:            "CONFIRM",
	TypeRenew:              "RENEW",
	TypeRebind:             "REBIND",
	TypeReply:              "REPLY",
	TypeRelease:            "RELEASE",
	TypeDecline:            "DECLINE",
	TypeReconfigure:        "RECONFIGURE",
	TypeInformationRequest: "INFORMATION-REQUEST",
	TypeRelayForward:       "RELAY-FORW",
	TypeRelayReply:         "RELAY-REPL",
}

// String returns the name RFC 8415 gives t, or "unknown".
func (t MessageType) String() string {
	if int(t) < len(messageTypeNames) && messageTypeNames[t] != "" {
		return messageTypeNames[t]
	}
	return "unknown"
}
