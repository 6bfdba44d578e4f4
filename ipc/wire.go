// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// The wire format: the fixed header, message kinds, status codes, and the
// byte-level encoder and decoder of whole messages.

package ipc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"syscall"
)

// Version is the protocol version this package speaks. A peer whose header
// carries another version is refused with a *VersionError. Later versions
// must keep the magic and the version at the same offsets.
const Version uint16 = 1

// Limits of the wire format.
const (
	// HeaderLen is the size of the fixed header that starts every datagram.
	HeaderLen = 20
	// MaxDatagram is the largest datagram either side sends or accepts,
	// header included. Larger messages travel as fragments (see doc.go);
	// it stays far below the default AF_UNIX send buffer (net.core.
	// wmem_default), which bounds the size of one SOCK_SEQPACKET datagram.
	MaxDatagram = 16 << 10
	// MaxChunk is the payload carried by every fragment but the last.
	MaxChunk = MaxDatagram - HeaderLen
	// MaxFDs is the largest number of file descriptors one message
	// carries: the kernel's SCM_MAX_FD.
	MaxFDs = 253
	// MaxConfig is the largest configuration blob.
	MaxConfig = 1 << 20
	// MaxLogText is the largest log line, in bytes.
	MaxLogText = 4096
	// MaxCounters is the largest number of counters in one Stats message.
	MaxCounters = 512
	// MaxCounterName is the longest counter name, in bytes.
	MaxCounterName = 64
	// MaxIfname is the longest interface name (IFNAMSIZ - 1).
	MaxIfname = 15
)

// WorkerFD is the descriptor number of the worker's end of the connection
// in the worker process.
const WorkerFD = 3

var magic = [4]byte{'P', 'G', 'W', 'M'}

// Header offsets. All integers are little-endian.
//
//	 0               4       6       8               12      14  15  16              20
//	+---------------+-------+-------+---------------+-------+---+---+---------------+
//	| magic "PGWM"  |version| kind  |  request ID   | code  |flg|fds| payload length|
//	+---------------+-------+-------+---------------+-------+---+---+---------------+
const (
	offMagic   = 0
	offVersion = 4
	offKind    = 6
	offID      = 8
	offCode    = 12
	offFlags   = 14
	offNFDs    = 15
	offLength  = 16
)

// flagMore marks a fragment that is not the last of its message.
const flagMore = 0x01

// Kind is the type of a message; it selects the payload layout.
type Kind uint16

const (
	KindHello         Kind = iota + 1 // both ways: version, role, pid
	KindConfig                        // monitor to worker: configuration blob
	KindFDs                           // monitor to worker: descriptors with roles
	KindReady                         // worker to monitor: sandboxed and serving
	KindBrokerRequest                 // worker to monitor: ask for a socket or a rescan
	KindBrokerReply                   // monitor to worker: answer, maybe with a socket
	KindShutdown                      // both ways: stop
	KindStats                         // worker to monitor: counters
	KindLog                           // worker to monitor: one log line
	KindUnlisten                      // monitor to worker: close a listener
	numKinds
)

var kindNames = [numKinds]string{
	KindHello:         "Hello",
	KindConfig:        "Config",
	KindFDs:           "FDs",
	KindReady:         "Ready",
	KindBrokerRequest: "BrokerRequest",
	KindBrokerReply:   "BrokerReply",
	KindShutdown:      "Shutdown",
	KindStats:         "Stats",
	KindLog:           "Log",
	KindUnlisten:      "Unlisten",
}

func (k Kind) String() string {
	if k.valid() {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

func (k Kind) valid() bool { return k > 0 && k < numKinds }

// SentBy reports whether a peer in role r may send messages of kind k.
func (k Kind) SentBy(r Role) bool {
	switch k {
	case KindHello, KindShutdown:
		return r.valid()
	case KindConfig, KindFDs, KindBrokerReply, KindUnlisten:
		return r == RoleMonitor
	case KindReady, KindBrokerRequest, KindStats, KindLog:
		return r == RoleWorker
	}
	return false
}

// maxPayload is the largest payload a message of kind k may have.
func maxPayload(k Kind) int {
	switch k {
	case KindHello:
		return helloLen
	case KindConfig:
		return MaxConfig
	case KindFDs:
		return fdsHeaderLen + MaxFDs*fdEntryLen
	case KindBrokerRequest:
		return brokerRequestMax
	case KindBrokerReply:
		return brokerReplyMax
	case KindStats:
		return 2 + MaxCounters*(1+MaxCounterName+8)
	case KindLog:
		return 1 + MaxLogText
	case KindUnlisten:
		return unlistenLen
	}
	return 0
}

// ErrCode is the status of a message: the only form in which a failure
// crosses the process boundary. Text describing a failure stays in the log
// of the side where it happened.
type ErrCode uint16

const (
	OK          ErrCode = iota // success
	Denied                     // the configuration does not allow it
	NotFound                   // no such interface, address or namespace
	InUse                      // address or port already in use
	Invalid                    // malformed or out-of-range request
	Refused                    // connection refused
	Unsupported                // family or protocol not supported here
	Internal                   // any other failure
	numCodes
)

var codeNames = [numCodes]string{
	OK:          "ok",
	Denied:      "denied",
	NotFound:    "not found",
	InUse:       "in use",
	Invalid:     "invalid",
	Refused:     "refused",
	Unsupported: "unsupported",
	Internal:    "internal error",
}

func (c ErrCode) String() string {
	if c < numCodes {
		return codeNames[c]
	}
	return "code(" + strconv.Itoa(int(c)) + ")"
}

// RemoteError is a failure the peer reported by its code.
type RemoteError struct {
	Code ErrCode
}

func (e *RemoteError) Error() string { return "ipc: peer reported: " + e.Code.String() }

// Err returns nil for OK and a *RemoteError otherwise.
func (c ErrCode) Err() error {
	if c == OK {
		return nil
	}
	return &RemoteError{Code: c}
}

// CodeOf maps the error of a failed system call to the code sent to the
// peer; nil maps to OK and anything unrecognised to Internal.
func CodeOf(err error) ErrCode {
	if err == nil {
		return OK
	}
	var re *RemoteError
	if errors.As(err, &re) {
		return re.Code
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return Internal
	}
	switch errno {
	case syscall.EACCES, syscall.EPERM:
		return Denied
	case syscall.ENOENT, syscall.ENODEV, syscall.ENXIO, syscall.EADDRNOTAVAIL:
		return NotFound
	case syscall.EADDRINUSE, syscall.EBUSY:
		return InUse
	case syscall.EINVAL:
		return Invalid
	case syscall.ECONNREFUSED:
		return Refused
	case syscall.EAFNOSUPPORT, syscall.EPROTONOSUPPORT, syscall.EOPNOTSUPP:
		return Unsupported
	}
	return Internal
}

// Errors returned by the decoder and by Conn. Each is wrapped with the
// details of the case; test with errors.Is.
var (
	// ErrMalformed: a datagram or payload that does not follow the format.
	ErrMalformed = errors.New("malformed message")
	// ErrFDCount: the descriptors attached do not match what the message
	// declares. Every descriptor received with it has been closed.
	ErrFDCount = errors.New("wrong number of file descriptors")
	// ErrTooLarge: a datagram, payload or descriptor list over its limit.
	ErrTooLarge = errors.New("message too large")
	// ErrTruncated: the kernel cut the control data (descriptors) of a
	// datagram, for example because the receiver's RLIMIT_NOFILE was hit.
	ErrTruncated = errors.New("control data truncated")
	// ErrDirection: a kind the peer's role may not send.
	ErrDirection = errors.New("message kind not allowed from this peer")
	// ErrWouldBlock: a non-blocking Conn has nothing to receive, or cannot
	// queue the message now. Nothing was consumed or sent.
	ErrWouldBlock = errors.New("operation would block")
	// ErrClosed: the Conn was closed (or handed over with File) locally.
	ErrClosed = errors.New("connection closed")
)

// VersionError is returned when the peer speaks another protocol version.
type VersionError struct {
	Got, Want uint16
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("ipc: peer speaks protocol version %d, this side speaks %d: monitor and worker binaries do not match", e.Got, e.Want)
}

func malformed(k Kind, format string, args ...any) error {
	return fmt.Errorf("ipc: %v message: %s: %w", k, fmt.Sprintf(format, args...), ErrMalformed)
}

// header is the decoded fixed header of one datagram.
type header struct {
	version uint16
	kind    Kind
	id      uint32
	code    ErrCode
	flags   uint8
	nfds    uint8
	length  uint32
}

func putHeader(b []byte, h header) {
	_ = b[HeaderLen-1]
	copy(b[offMagic:], magic[:])
	binary.LittleEndian.PutUint16(b[offVersion:], h.version)
	binary.LittleEndian.PutUint16(b[offKind:], uint16(h.kind))
	binary.LittleEndian.PutUint32(b[offID:], h.id)
	binary.LittleEndian.PutUint16(b[offCode:], uint16(h.code))
	b[offFlags] = h.flags
	b[offNFDs] = h.nfds
	binary.LittleEndian.PutUint32(b[offLength:], h.length)
}

// parseHeader decodes and checks the header of datagram d: magic, version,
// kind, code, flags, descriptor count and that the length field matches the
// bytes that follow the header.
func parseHeader(d []byte) (header, error) {
	if len(d) < HeaderLen {
		return header{}, fmt.Errorf("ipc: datagram of %d bytes is shorter than the %d-byte header: %w", len(d), HeaderLen, ErrMalformed)
	}
	if [4]byte(d[offMagic:]) != magic {
		return header{}, fmt.Errorf("ipc: datagram does not start with the protocol magic: %w", ErrMalformed)
	}
	h := header{
		version: binary.LittleEndian.Uint16(d[offVersion:]),
		kind:    Kind(binary.LittleEndian.Uint16(d[offKind:])),
		id:      binary.LittleEndian.Uint32(d[offID:]),
		code:    ErrCode(binary.LittleEndian.Uint16(d[offCode:])),
		flags:   d[offFlags],
		nfds:    d[offNFDs],
		length:  binary.LittleEndian.Uint32(d[offLength:]),
	}
	if h.version != Version {
		return header{}, &VersionError{Got: h.version, Want: Version}
	}
	if !h.kind.valid() {
		return header{}, malformed(h.kind, "unknown kind")
	}
	if h.code >= numCodes {
		return header{}, malformed(h.kind, "unknown status code %d", uint16(h.code))
	}
	if h.flags&^flagMore != 0 {
		return header{}, malformed(h.kind, "unknown flags %#x", h.flags)
	}
	if h.nfds > MaxFDs {
		return header{}, fmt.Errorf("ipc: %v message: header declares %d descriptors, limit %d: %w", h.kind, h.nfds, MaxFDs, ErrTooLarge)
	}
	if uint64(h.length) != uint64(len(d)-HeaderLen) {
		return header{}, malformed(h.kind, "header says %d payload bytes, datagram has %d", h.length, len(d)-HeaderLen)
	}
	return h, nil
}

// Message is one protocol message.
type Message struct {
	// ID pairs a reply with its request: a BrokerReply carries the ID of
	// the BrokerRequest it answers. Other kinds may use it freely.
	ID uint32
	// Code is the status. Only BrokerReply and Shutdown may carry a code
	// other than OK.
	Code ErrCode
	// Body is the typed payload; its dynamic type selects the kind.
	Body Body
	// FDs are the descriptors attached. For Send they stay owned by the
	// caller. From Recv they are owned by the caller, have close-on-exec
	// set, and match what Body declares: the entries of an FDs message in
	// order, or the one socket of an OK BrokerReply to a socket request.
	FDs []int
}

// Kind returns the kind of the message's body, or 0 without a body.
func (m Message) Kind() Kind {
	if m.Body == nil {
		return 0
	}
	return m.Body.Kind()
}

// Body is the payload of a message: one of Hello, Config, FDs, Ready,
// BrokerRequest, BrokerReply, Shutdown, Stats, Log and Unlisten.
type Body interface {
	// Kind is the message kind this payload belongs to.
	Kind() Kind
	// AppendBinary appends the payload's encoding to b; it fails, leaving
	// b as it was, when a field is out of range or over a limit.
	AppendBinary(b []byte) ([]byte, error)
	isBody()
}

// wantFDs is the number of descriptors a message must carry.
func wantFDs(code ErrCode, body Body) int {
	switch b := body.(type) {
	case FDs:
		return len(b.Entries)
	case BrokerReply:
		if code == OK && b.Op.wantsSocket() {
			return 1
		}
	}
	return 0
}

// checkMessage checks the rules that tie the header's code to the body.
func checkMessage(code ErrCode, body Body) error {
	k := body.Kind()
	if code >= numCodes {
		return malformed(k, "unknown status code %d", uint16(code))
	}
	switch b := body.(type) {
	case BrokerReply:
		if (b.Reason != Allow) != (code == Denied) {
			return malformed(k, "status %v does not agree with denial reason %v", code, b.Reason)
		}
		if (b.Ports != nil) != (b.Op == OpRescan && code == OK) {
			return malformed(k, "port set present=%t for %v with status %v", b.Ports != nil, b.Op, code)
		}
	case Shutdown:
	default:
		if code != OK {
			return malformed(k, "status %v on a kind that carries none", code)
		}
	}
	return nil
}

// AppendBinary appends m as one unfragmented message (header and payload;
// the descriptors travel beside it) to b. It fails when the body is
// invalid, when len(m.FDs) is not what the body declares, or when the
// payload is over the kind's limit; b is then returned unchanged.
func (m Message) AppendBinary(b []byte) ([]byte, error) {
	if m.Body == nil {
		return b, fmt.Errorf("ipc: message without a body: %w", ErrMalformed)
	}
	k := m.Body.Kind()
	if err := checkMessage(m.Code, m.Body); err != nil {
		return b, err
	}
	if want := wantFDs(m.Code, m.Body); len(m.FDs) != want {
		return b, fmt.Errorf("ipc: %v message: %d descriptors attached, body declares %d: %w", k, len(m.FDs), want, ErrFDCount)
	}
	if len(m.FDs) > MaxFDs {
		return b, fmt.Errorf("ipc: %v message: %d descriptors, limit %d: %w", k, len(m.FDs), MaxFDs, ErrTooLarge)
	}
	start := len(b)
	b = append(b, make([]byte, HeaderLen)...)
	b, err := m.Body.AppendBinary(b)
	if err != nil {
		return b[:start], err
	}
	n := len(b) - start - HeaderLen
	if n > maxPayload(k) {
		return b[:start], fmt.Errorf("ipc: %v message: payload of %d bytes, limit %d: %w", k, n, maxPayload(k), ErrTooLarge)
	}
	putHeader(b[start:], header{
		version: Version,
		kind:    k,
		id:      m.ID,
		code:    m.Code,
		nfds:    uint8(len(m.FDs)),
		length:  uint32(n),
	})
	return b, nil
}

// Decode decodes one complete, unfragmented message from b, which arrived
// with nfds descriptors attached. The returned Message has FDs nil: the
// caller attaches the descriptors. It never panics and never keeps b.
// Everything AppendBinary produces decodes to an equal Message, and every
// Message that Decode accepts encodes back to exactly b.
func Decode(b []byte, nfds int) (Message, error) {
	h, err := parseHeader(b)
	if err != nil {
		return Message{}, err
	}
	if h.flags&flagMore != 0 {
		return Message{}, malformed(h.kind, "fragment where a complete message was expected")
	}
	if int(h.nfds) != nfds {
		return Message{}, fmt.Errorf("ipc: %v message: header declares %d descriptors, %d attached: %w", h.kind, h.nfds, nfds, ErrFDCount)
	}
	return decodeBody(h, b[HeaderLen:], nfds)
}

// decodeBody decodes the payload p of a message with header h (whose length
// and flags describe a single datagram, and are not used) and checks that
// nfds descriptors is what it declares.
func decodeBody(h header, p []byte, nfds int) (Message, error) {
	if len(p) > maxPayload(h.kind) {
		return Message{}, fmt.Errorf("ipc: %v message: payload of %d bytes, limit %d: %w", h.kind, len(p), maxPayload(h.kind), ErrTooLarge)
	}
	var body Body
	var err error
	switch h.kind {
	case KindHello:
		var v Hello
		err = v.UnmarshalBinary(p)
		body = v
	case KindConfig:
		var v Config
		err = v.UnmarshalBinary(p)
		body = v
	case KindFDs:
		var v FDs
		err = v.UnmarshalBinary(p)
		body = v
	case KindReady:
		var v Ready
		err = v.UnmarshalBinary(p)
		body = v
	case KindBrokerRequest:
		var v BrokerRequest
		err = v.UnmarshalBinary(p)
		body = v
	case KindBrokerReply:
		var v BrokerReply
		err = v.UnmarshalBinary(p)
		body = v
	case KindShutdown:
		var v Shutdown
		err = v.UnmarshalBinary(p)
		body = v
	case KindStats:
		var v Stats
		err = v.UnmarshalBinary(p)
		body = v
	case KindLog:
		var v Log
		err = v.UnmarshalBinary(p)
		body = v
	case KindUnlisten:
		var v Unlisten
		err = v.UnmarshalBinary(p)
		body = v
	default:
		return Message{}, malformed(h.kind, "unknown kind")
	}
	if err != nil {
		return Message{}, err
	}
	if err := checkMessage(h.code, body); err != nil {
		return Message{}, err
	}
	if want := wantFDs(h.code, body); nfds != want {
		return Message{}, fmt.Errorf("ipc: %v message: %d descriptors attached, body declares %d: %w", h.kind, nfds, want, ErrFDCount)
	}
	return Message{ID: h.id, Code: h.code, Body: body}, nil
}
