// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// The broker: what the worker may ask the monitor for, the policy that
// decides, and the payloads of requests and replies.

package ipc

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"
)

// BrokerOp is what a BrokerRequest asks for.
type BrokerOp uint8

const (
	// OpNSSocket: a socket inside the target namespace (pasta), connected
	// to or bound to a port on the namespace's loopback or own address.
	OpNSSocket BrokerOp = iota + 1
	// OpHostListener: a listening (TCP) or bound (UDP) socket on the host
	// for a forwarded port, including ports below 1024.
	OpHostListener
	// OpRescan: the set of ports listening on one side, for automatic
	// forwarding.
	OpRescan
	numOps
)

var opNames = [numOps]string{
	OpNSSocket:     "NSSocket",
	OpHostListener: "HostListener",
	OpRescan:       "Rescan",
}

func (o BrokerOp) String() string {
	if o.valid() {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

func (o BrokerOp) valid() bool { return o > 0 && o < numOps }

// wantsSocket reports whether a granted request of this op is answered with
// a descriptor.
func (o BrokerOp) wantsSocket() bool { return o == OpNSSocket || o == OpHostListener }

// NSAction is what the monitor does with a namespace socket before handing
// it over.
type NSAction uint8

const (
	// NSConnect: connect to Addr:Port (non-blocking for TCP: the handshake
	// may still be in progress when the worker gets the socket).
	NSConnect NSAction = 1
	// NSBind: bind to Addr:Port, and listen for TCP.
	NSBind NSAction = 2
)

func (a NSAction) String() string {
	switch a {
	case 0:
		return "none"
	case NSConnect:
		return "connect"
	case NSBind:
		return "bind"
	}
	return "action(" + strconv.Itoa(int(a)) + ")"
}

// BrokerRequest is what the worker asks the monitor for. Fields an op does
// not use must be zero.
//
//	op        Proto  Family  Action       Side       Addr          Port     Ifname
//	NSSocket  yes    yes     yes          -          yes           yes      -
//	HostList. yes    yes     -            -          yes (:: too)  yes      optional
//	Rescan    yes    -       -            yes        -             -        -
type BrokerRequest struct {
	Op     BrokerOp
	Proto  Proto
	Family Family
	Action NSAction
	Side   Side       // Rescan: the side whose listening ports are wanted
	Addr   netip.Addr // without zone; the unspecified address for a wildcard
	Port   uint16
	Ifname string // at most MaxIfname bytes
}

const brokerRequestMax = 8 + 16 + 1 + MaxIfname

func (BrokerRequest) Kind() Kind { return KindBrokerRequest }
func (BrokerRequest) isBody()    {}

// AppendBinary implements Body. It checks only what the encoding needs (an
// address without zone, an interface name of at most MaxIfname bytes):
// whether the request makes sense is for Decide to say, so that a bad
// request gets a typed denial.
func (v BrokerRequest) AppendBinary(b []byte) ([]byte, error) {
	if v.Addr.Zone() != "" {
		return b, malformed(KindBrokerRequest, "address with zone %q", v.Addr.Zone())
	}
	if len(v.Ifname) > MaxIfname {
		return b, malformed(KindBrokerRequest, "interface name of %d bytes, limit %d", len(v.Ifname), MaxIfname)
	}
	addr := v.Addr.AsSlice()
	b = append(b, uint8(v.Op), uint8(v.Proto), uint8(v.Family), uint8(v.Action), uint8(v.Side), uint8(len(addr)))
	b = binary.LittleEndian.AppendUint16(b, v.Port)
	b = append(b, addr...)
	b = append(b, uint8(len(v.Ifname)))
	return append(b, v.Ifname...), nil
}

// UnmarshalBinary decodes a BrokerRequest payload.
func (v *BrokerRequest) UnmarshalBinary(p []byte) error {
	r := reader{b: p}
	d := BrokerRequest{Op: BrokerOp(r.u8()), Proto: Proto(r.u8()), Family: Family(r.u8()), Action: NSAction(r.u8()), Side: Side(r.u8())}
	alen := int(r.u8())
	d.Port = r.u16()
	if alen != 0 && alen != 4 && alen != 16 {
		return malformed(KindBrokerRequest, "address of %d bytes", alen)
	}
	if a := r.bytes(alen); len(a) == alen && alen > 0 {
		d.Addr, _ = netip.AddrFromSlice(a)
	}
	nlen := int(r.u8())
	if nlen > MaxIfname {
		return malformed(KindBrokerRequest, "interface name of %d bytes, limit %d", nlen, MaxIfname)
	}
	d.Ifname = string(r.bytes(nlen))
	if !r.end() {
		return malformed(KindBrokerRequest, "payload of %d bytes does not match its fields", len(p))
	}
	*v = d
	return nil
}

// BrokerReply answers a BrokerRequest; the message's ID is the request's.
// Its Code is OK when the request was carried out, Denied when the policy
// refused it (Reason says why), or the code of the system error met while
// carrying it out. An OK answer to NSSocket or HostListener carries the
// socket as its one descriptor; an OK answer to Rescan carries Ports.
type BrokerReply struct {
	Op     BrokerOp // the op of the request answered
	Reason Decision // Allow unless Code is Denied
	Ports  *PortSet // Rescan with Code OK: the ports found listening
}

const brokerReplyMax = 4 + PortSetLen // op, reason, flags, reserved; ports

func (BrokerReply) Kind() Kind { return KindBrokerReply }
func (BrokerReply) isBody()    {}

// AppendBinary implements Body.
func (v BrokerReply) AppendBinary(b []byte) ([]byte, error) {
	if !v.Op.valid() {
		return b, malformed(KindBrokerReply, "unknown op %v", v.Op)
	}
	if v.Reason >= numDecisions {
		return b, malformed(KindBrokerReply, "unknown reason %v", v.Reason)
	}
	b = append(b, uint8(v.Op), uint8(v.Reason), boolByte(v.Ports != nil), 0)
	if v.Ports != nil {
		return v.Ports.AppendBinary(b)
	}
	return b, nil
}

// UnmarshalBinary decodes a BrokerReply payload.
func (v *BrokerReply) UnmarshalBinary(p []byte) error {
	r := reader{b: p}
	d := BrokerReply{Op: BrokerOp(r.u8()), Reason: Decision(r.u8())}
	flags, reserved := r.u8(), r.u8()
	if r.short {
		return malformed(KindBrokerReply, "payload of %d bytes is shorter than its header", len(p))
	}
	if !d.Op.valid() {
		return malformed(KindBrokerReply, "unknown op %v", d.Op)
	}
	if d.Reason >= numDecisions {
		return malformed(KindBrokerReply, "unknown reason %v", d.Reason)
	}
	if flags > 1 || reserved != 0 {
		return malformed(KindBrokerReply, "flags %#x, reserved %#x", flags, reserved)
	}
	switch {
	case flags == 1:
		d.Ports = new(PortSet)
		if err := d.Ports.UnmarshalBinary(r.b); err != nil {
			return err
		}
	case len(r.b) != 0:
		return malformed(KindBrokerReply, "%d bytes after a reply without ports", len(r.b))
	}
	*v = d
	return nil
}

// Decision is the broker's verdict on a request: Allow, or the reason for a
// denial. The reason goes back to the worker in the BrokerReply.
type Decision uint8

const (
	Allow         Decision = iota
	DenyOp                 // unknown op
	DenyProto              // protocol neither TCP nor UDP
	DenyFamily             // family unknown, disabled, or not the address's
	DenyAddress            // address not allowed for this op and port
	DenyPortZero           // port 0: the kernel would pick any port
	DenyPort               // port not covered by any forwarding rule
	DenyInterface          // interface not the rule's, or not a valid name
	DenyNamespace          // no namespace sockets: passt mode or splicing off
	DenyAction             // namespace socket action neither connect nor bind
	DenyAuto               // no automatic forwarding rule for this rescan
	DenyMalformed          // a field the op does not use is set, or out of range
	numDecisions
)

var decisionNames = [numDecisions]string{
	Allow:         "allow",
	DenyOp:        "unknown op",
	DenyProto:     "protocol not allowed",
	DenyFamily:    "address family not allowed",
	DenyAddress:   "address not allowed",
	DenyPortZero:  "port 0",
	DenyPort:      "port not forwarded",
	DenyInterface: "interface not allowed",
	DenyNamespace: "no namespace sockets in this mode",
	DenyAction:    "unknown namespace socket action",
	DenyAuto:      "no automatic forwarding",
	DenyMalformed: "malformed request",
}

func (d Decision) String() string {
	if d < numDecisions {
		return decisionNames[d]
	}
	return "decision(" + strconv.Itoa(int(d)) + ")"
}

// Allowed reports whether d grants the request.
func (d Decision) Allowed() bool { return d == Allow }

// Code is the status a reply carries for d: OK or Denied.
func (d Decision) Code() ErrCode {
	if d == Allow {
		return OK
	}
	return Denied
}

// Rule is one forwarding rule of one protocol and direction, as the
// monitor derived it from the configuration.
type Rule struct {
	// Ports are the ports the rule listens on: on the host for
	// HostToGuest rules, in the namespace for GuestToHost rules.
	Ports PortSet
	// Targets are the ports its connections go to on the other side,
	// after mapping.
	Targets PortSet
	// Addr is the host listen address of a HostToGuest rule; the zero
	// Addr means the unspecified address of each enabled family.
	// GuestToHost rules listen on the namespace's loopback and own
	// addresses, and ignore it.
	Addr netip.Addr
	// Ifname is the interface a HostToGuest rule's listeners are bound to
	// (SO_BINDTODEVICE), "" for none.
	Ifname string
	// Splice is set when connections of a HostToGuest rule may be spliced
	// (pasta, no explicit target address): the worker may then ask for
	// namespace sockets connected to Targets.
	Splice bool
	// Auto is set for an "auto" rule, whose ports follow the listeners on
	// the other side: the worker may ask for rescans.
	Auto bool
}

// Forwarding holds the rules of one protocol.
type Forwarding struct {
	HostToGuest []Rule // -t, -u: host listeners, namespace connects
	GuestToHost []Rule // -T, -U: namespace listeners
}

// Allowance is what the configuration permits the worker to obtain from
// the broker. The monitor builds it once from the forwarding tables (and
// again when the tables change); Decide only reads it.
type Allowance struct {
	IPv4, IPv6 bool // enabled address families
	// NSSockets: pasta with splicing enabled. Without it every namespace
	// socket request is denied.
	NSSockets bool
	// NSAddrs are the namespace's own addresses, allowed as namespace
	// socket addresses beside 127.0.0.1 and ::1.
	NSAddrs  []netip.Addr
	TCP, UDP Forwarding
}

var noAllowance Allowance

func (a *Allowance) forwarding(p Proto) *Forwarding {
	if p == TCP {
		return &a.TCP
	}
	return &a.UDP
}

func (a *Allowance) familyEnabled(f Family) bool {
	return (f == IPv4 && a.IPv4) || (f == IPv6 && a.IPv6)
}

// addrFamily checks that addr is a plain address (no zone, not an
// IPv4-mapped IPv6 address) of family f.
func addrFamily(addr netip.Addr, f Family) Decision {
	switch {
	case !addr.IsValid() || addr.Zone() != "" || addr.Is4In6():
		return DenyAddress
	case addr.Is4() != (f == IPv4):
		return DenyFamily
	}
	return Allow
}

// validIfname reports whether s could name a network interface.
func validIfname(s string) bool {
	if len(s) == 0 || len(s) > MaxIfname || s == "." || s == ".." {
		return false
	}
	return !strings.ContainsFunc(s, func(c rune) bool {
		return c <= ' ' || c == '/' || c == ':' || c >= 0x7f
	})
}

// Decide says whether the worker may have what r asks for under the
// allowance a. It is a pure function: the result depends only on *a and r,
// and neither is modified. A nil a allows nothing. When several checks
// fail, the reason is the first of: op, protocol, then per op as below.
//
//   - NSSocket: namespace sockets allowed, action, no side or interface,
//     family enabled, address family, address (127.0.0.1, ::1, or one of
//     NSAddrs), port not 0, port in the Targets of a HostToGuest rule with
//     Splice (connect) or in the Ports of a GuestToHost rule (bind).
//   - HostListener: no action or side, family enabled, address family,
//     interface name, port not 0, port in the Ports of a HostToGuest rule,
//     then that rule's address (the unspecified address when the rule has
//     none) and interface.
//   - Rescan: no family, action, address, port or interface; a known side;
//     an Auto rule in the direction that reads that side (HostToGuest for
//     the namespace, GuestToHost for the host).
func Decide(a *Allowance, r BrokerRequest) Decision {
	if a == nil {
		a = &noAllowance
	}
	if !r.Op.valid() {
		return DenyOp
	}
	if r.Proto != TCP && r.Proto != UDP {
		return DenyProto
	}
	fw := a.forwarding(r.Proto)
	switch r.Op {
	case OpNSSocket:
		return decideNSSocket(a, fw, &r)
	case OpHostListener:
		return decideHostListener(a, fw, &r)
	default:
		return decideRescan(fw, &r)
	}
}

func decideNSSocket(a *Allowance, fw *Forwarding, r *BrokerRequest) Decision {
	if !a.NSSockets {
		return DenyNamespace
	}
	if r.Action != NSConnect && r.Action != NSBind {
		return DenyAction
	}
	if r.Side != 0 {
		return DenyMalformed
	}
	if r.Ifname != "" {
		return DenyInterface
	}
	if !a.familyEnabled(r.Family) {
		return DenyFamily
	}
	if d := addrFamily(r.Addr, r.Family); d != Allow {
		return d
	}
	if !nsAddrAllowed(a, r.Addr) {
		return DenyAddress
	}
	if r.Port == 0 {
		return DenyPortZero
	}
	if r.Action == NSConnect {
		for i := range fw.HostToGuest {
			if rule := &fw.HostToGuest[i]; rule.Splice && rule.Targets.Has(r.Port) {
				return Allow
			}
		}
		return DenyPort
	}
	for i := range fw.GuestToHost {
		if fw.GuestToHost[i].Ports.Has(r.Port) {
			return Allow
		}
	}
	return DenyPort
}

var (
	loopback4 = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	loopback6 = netip.IPv6Loopback()
)

func nsAddrAllowed(a *Allowance, addr netip.Addr) bool {
	if addr == loopback4 || addr == loopback6 {
		return true
	}
	for _, own := range a.NSAddrs {
		if addr == own {
			return true
		}
	}
	return false
}

func decideHostListener(a *Allowance, fw *Forwarding, r *BrokerRequest) Decision {
	if r.Action != 0 || r.Side != 0 {
		return DenyMalformed
	}
	if !a.familyEnabled(r.Family) {
		return DenyFamily
	}
	if d := addrFamily(r.Addr, r.Family); d != Allow {
		return d
	}
	if r.Ifname != "" && !validIfname(r.Ifname) {
		return DenyInterface
	}
	if r.Port == 0 {
		return DenyPortZero
	}
	verdict := DenyPort
	for i := range fw.HostToGuest {
		rule := &fw.HostToGuest[i]
		if !rule.Ports.Has(r.Port) {
			continue
		}
		if rule.Addr.IsValid() && rule.Addr != r.Addr || !rule.Addr.IsValid() && !r.Addr.IsUnspecified() {
			if verdict == DenyPort {
				verdict = DenyAddress
			}
			continue
		}
		if rule.Ifname != r.Ifname {
			verdict = DenyInterface
			continue
		}
		return Allow
	}
	return verdict
}

func decideRescan(fw *Forwarding, r *BrokerRequest) Decision {
	if r.Family != 0 || r.Action != 0 || r.Addr.IsValid() || r.Port != 0 || r.Ifname != "" {
		return DenyMalformed
	}
	var rules []Rule
	switch r.Side {
	case SideNamespace:
		rules = fw.HostToGuest
	case SideHost:
		rules = fw.GuestToHost
	default:
		return DenyMalformed
	}
	for i := range rules {
		if rules[i].Auto {
			return Allow
		}
	}
	return DenyAuto
}
