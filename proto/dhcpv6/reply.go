// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package dhcpv6

import (
	"bytes"
	"encoding/binary"
	"net/netip"

	"passt-go/proto/dhcp/dnsname"
	"passt-go/proto/header"
)

// UDP ports (RFC 8415 section 7.2).
const (
	ServerPort = 547
	ClientPort = 546
)

const (
	// MaxReplyLen is the longest frame Reply writes: the IPv6 minimum
	// MTU of 1280 bytes (RFC 8200 section 5) and the Ethernet header.
	MaxReplyLen = header.EthernetLen + minMTU

	minMTU      = 1280
	replyMsgOff = header.EthernetLen + header.IPv6Len + header.UDPLen
	maxMsgLen   = minMTU - header.IPv6Len - header.UDPLen

	// replyHopLimit is the hop limit of replies: the link is the only
	// hop.
	replyHopLimit = 255

	infinite = 0xffffffff

	// Client FQDN flags (RFC 4704 section 4.1).
	fqdnS = 0x01 // server updates the AAAA RR
	fqdnO = 0x02 // server overrode the client's S

	// notOnLinkText is the status message of a NotOnLink status code.
	notOnLinkText = "address not on this link"
)

// The multicast groups a client sends to (RFC 8415 section 7.1).
var (
	allRelayAgentsAndServers = netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 13: 0x01, 15: 0x02})
	allServers               = netip.AddrFrom16([16]byte{0: 0xff, 1: 0x05, 13: 0x01, 15: 0x03})
)

// Config is what the server tells the guest. The worker fills it once from
// the global configuration; Reply only reads it, so one Config may serve
// any number of calls. Slices and strings are kept, not copied.
type Config struct {
	// OurMAC and OurLL, our link-local address, are the source of
	// replies.
	OurMAC header.MAC
	OurLL  netip.Addr
	// GuestAddr is the one address given, in an IAADDR of the client's
	// IA_NA.
	GuestAddr netip.Addr
	// DNS are the name servers (option 23); IPv4 entries are skipped,
	// and none omits the option.
	DNS []netip.Addr
	// Search is the domain list (option 24); empty omits it. Names that
	// cannot be encoded are skipped; names that do not fit end the list.
	Search []string
	// FQDN is the client's fully qualified name (option 39); empty omits
	// it.
	FQDN string
	// DUID is the server identifier, from NewDUID.
	DUID DUID
}

// serverID is how a request's server identifier compares with ours.
type serverID uint8

const (
	serverIDAbsent serverID = iota
	serverIDOurs
	serverIDOther
)

// request is what Reply reads from a client's message.
type request struct {
	clientID []byte // client identifier option data, shared with the frame
	server   serverID
	iaNA     []byte // data of the first IA_NA, shared with the frame
	hasIANA  bool
	hasIATA  bool
	fqdnS    bool // client FQDN option (39) with the S flag
}

// parseRequest reads the top-level options of m and checks those nested in
// IA options. The first client identifier, server identifier and IA_NA
// count; later ones are checked but not used.
func parseRequest(cfg *Config, m Message) (request, Ignore) {
	var r request
	var hasClientID, hasServerID bool
	opts := m.Options()
	for {
		code, data, ok := opts.Next()
		if !ok {
			break
		}
		switch code {
		case OptionClientID:
			if !hasClientID {
				r.clientID, hasClientID = data, true
			}
		case OptionServerID:
			if !hasServerID {
				hasServerID = true
				r.server = serverIDOther
				if bytes.Equal(data, cfg.DUID[:]) {
					r.server = serverIDOurs
				}
			}
		case OptionIANA, OptionIATA:
			if why := checkIA(code, data); why != IgnoreNone {
				return r, why
			}
			if code == OptionIATA {
				r.hasIATA = true
			} else if !r.hasIANA {
				r.iaNA, r.hasIANA = data, true
			}
		case OptionClientFQDN:
			r.fqdnS = len(data) > 0 && data[0]&fqdnS != 0
		}
	}
	if opts.Truncated() {
		return r, IgnoreBadOptions
	}
	if !hasClientID || len(r.clientID) < 2 || len(r.clientID) > MaxDUIDLen {
		return r, IgnoreClientID
	}
	return r, IgnoreNone
}

// checkIA checks the data of an IA_NA or IA_TA option: its fixed part,
// and every option nested in it and in its IAADDRs within bounds. Nesting
// is two levels deep at most, so the walk is linear in the data.
func checkIA(code uint16, data []byte) Ignore {
	inner, ok := nestedOptions(code, data)
	if !ok {
		return IgnoreBadIA
	}
	for {
		c, d, ok := inner.Next()
		if !ok {
			break
		}
		if c != OptionIAAddr {
			continue
		}
		addrOpts, ok := nestedOptions(c, d)
		if !ok {
			return IgnoreBadIA
		}
		for {
			if _, _, ok := addrOpts.Next(); !ok {
				break
			}
		}
		if addrOpts.Truncated() {
			return IgnoreBadOptions
		}
	}
	if inner.Truncated() {
		return IgnoreBadOptions
	}
	return IgnoreNone
}

// notOnLink returns the first IA_NA or IA_TA of m holding an address other
// than addr, with its code. parseRequest must have accepted m.
func notOnLink(m Message, addr netip.Addr) (code uint16, ia []byte, found bool) {
	opts := m.Options()
	for {
		c, data, ok := opts.Next()
		if !ok {
			return 0, nil, false
		}
		if c != OptionIANA && c != OptionIATA {
			continue
		}
		inner, _ := nestedOptions(c, data)
		for {
			ic, d, ok := inner.Next()
			if !ok {
				break
			}
			if ic == OptionIAAddr && len(d) >= IAAddrLen && netip.AddrFrom16([16]byte(d[:16])) != addr {
				return c, data, true
			}
		}
	}
}

// Reply answers frame, a frame from the guest that header.Decode accepted
// as f, when it is a DHCPv6 message a server answers: it writes the whole
// reply frame (Ethernet, IPv6, UDP, message) at the start of out and
// returns its length. Otherwise it returns 0 and the reason, having
// written nothing.
//
// SOLICIT gets ADVERTISE; REQUEST, RENEW, CONFIRM, REBIND and
// INFORMATION-REQUEST get REPLY. REQUEST, RENEW and CONFIRM naming an
// address other than GuestAddr get a REPLY whose IA carries the status
// NotOnLink. out must be at least MaxReplyLen bytes; Reply writes only
// inside out[:n], keeps no reference to frame or out, and does not
// allocate.
func Reply(cfg *Config, frame []byte, f header.Frame, out []byte) (n int, why Ignore) {
	if f.EtherType != header.EtherTypeIPv6 || f.Proto != header.ProtocolUDP || f.DstPort != ServerPort {
		return 0, IgnoreNotDHCPv6
	}
	if f.Dst != allRelayAgentsAndServers && f.Dst != allServers {
		return 0, IgnoreNotMulticast
	}
	if !cfg.GuestAddr.Is6() || cfg.GuestAddr.Is4In6() || !cfg.OurLL.Is6() {
		return 0, IgnoreNotConfigured
	}
	if len(out) < MaxReplyLen {
		return 0, IgnoreShortBuffer
	}
	if !f.Src.Is6() || f.Src.IsUnspecified() || f.Src.IsMulticast() {
		return 0, IgnoreBadSource
	}
	m, ok := ParseMessage(f.Data(frame))
	if !ok {
		return 0, IgnoreTooShort
	}
	req, why := parseRequest(cfg, m)
	if why != IgnoreNone {
		return 0, why
	}

	replyType, checkLink := TypeReply, false
	switch m.Type() {
	case TypeSolicit:
		if req.server != serverIDAbsent {
			return 0, IgnoreServerID
		}
		replyType = TypeAdvertise
	case TypeRequest, TypeRenew:
		if req.server != serverIDOurs {
			return 0, IgnoreServerID
		}
		checkLink = true
	case TypeConfirm:
		if req.server != serverIDAbsent {
			return 0, IgnoreServerID
		}
		checkLink = true
	case TypeRebind:
		// RFC 8415 forbids a server identifier here; one naming us is
		// tolerated, one naming another server is not for us.
		if req.server == serverIDOther {
			return 0, IgnoreServerID
		}
	case TypeInformationRequest:
		if req.server == serverIDOther {
			return 0, IgnoreServerID
		}
		if req.hasIANA || req.hasIATA {
			return 0, IgnoreUnexpectedIA
		}
	default:
		return 0, IgnoreMessageType
	}

	w := writer{b: out[replyMsgOff : replyMsgOff+maxMsgLen]}
	w.b[0] = byte(replyType)
	copy(w.b[1:HeaderLen], m.Bytes()[1:HeaderLen])
	w.off = HeaderLen
	w.option(OptionServerID, cfg.DUID[:])
	var code uint16
	var ia []byte
	bad := false
	if checkLink {
		code, ia, bad = notOnLink(m, cfg.GuestAddr)
	}
	if bad {
		w.notOnLinkIA(code, ia)
		w.option(OptionClientID, req.clientID)
		if m.Type() == TypeConfirm {
			// RFC 8415 section 18.3.3: a Confirm is answered with a
			// status for the whole message.
			w.status(StatusNotOnLink, notOnLinkText)
		}
	} else {
		if req.hasIANA && m.Type() != TypeInformationRequest {
			w.iaNA(req.iaNA[:4], cfg.GuestAddr)
		}
		w.option(OptionClientID, req.clientID)
		w.dns(cfg.DNS)
		w.domainList(cfg.Search)
		w.clientFQDN(cfg.FQDN, req.fqdnS)
	}
	msgLen := w.off

	udp := out[header.EthernetLen+header.IPv6Len : replyMsgOff+msgLen]
	header.PutUDP(udp, ServerPort, ClientPort, msgLen)
	header.SetTransportChecksum6(udp, header.ProtocolUDP, cfg.OurLL, f.Src)
	header.PutIPv6(out[header.EthernetLen:], len(udp), header.IPv6Fields{
		Src:        cfg.OurLL,
		Dst:        f.Src,
		NextHeader: header.ProtocolUDP,
		HopLimit:   replyHopLimit,
	})
	header.PutEthernet(out, f.SrcMAC, cfg.OurMAC, header.EtherTypeIPv6)
	return replyMsgOff + msgLen, IgnoreNone
}

// writer appends options to a reply message. Every method checks the room
// left and writes nothing when its option does not fit.
type writer struct {
	b   []byte // the message, maxMsgLen bytes
	off int
}

func (w *writer) room() int { return len(w.b) - w.off }

// begin writes an option header with a zero length and returns where it
// starts, or -1 when not even the header and need bytes of data fit.
func (w *writer) begin(code uint16, need int) int {
	if w.room() < OptionHeaderLen+need {
		return -1
	}
	start := w.off
	binary.BigEndian.PutUint16(w.b[start:], code)
	binary.BigEndian.PutUint16(w.b[start+2:], 0)
	w.off += OptionHeaderLen
	return start
}

// end sets the length of the option begun at start to what was written
// since.
func (w *writer) end(start int) {
	binary.BigEndian.PutUint16(w.b[start+2:], uint16(w.off-start-OptionHeaderLen))
}

func (w *writer) put(v []byte) { w.off += copy(w.b[w.off:], v) }

func (w *writer) put32(v uint32) {
	binary.BigEndian.PutUint32(w.b[w.off:], v)
	w.off += 4
}

// option writes an option with data v.
func (w *writer) option(code uint16, v []byte) {
	if start := w.begin(code, len(v)); start >= 0 {
		w.put(v)
		w.end(start)
	}
}

// status writes a status code option.
func (w *writer) status(code uint16, text string) {
	if start := w.begin(OptionStatusCode, 2+len(text)); start >= 0 {
		binary.BigEndian.PutUint16(w.b[w.off:], code)
		w.off += 2
		w.off += copy(w.b[w.off:], text)
		w.end(start)
	}
}

// iaNA writes an IA_NA with the client's IAID, infinite T1 and T2, and one
// IAADDR giving addr with infinite lifetimes.
func (w *writer) iaNA(iaid []byte, addr netip.Addr) {
	start := w.begin(OptionIANA, IANALen+OptionHeaderLen+IAAddrLen)
	if start < 0 {
		return
	}
	w.put(iaid)
	w.put32(infinite) // T1
	w.put32(infinite) // T2
	a := w.begin(OptionIAAddr, IAAddrLen)
	a16 := addr.As16()
	w.put(a16[:])
	w.put32(infinite) // preferred lifetime
	w.put32(infinite) // valid lifetime
	w.end(a)
	w.end(start)
}

// notOnLinkIA writes back the client's IA of the given code, its fixed
// part as the client sent it, holding only a NotOnLink status.
func (w *writer) notOnLinkIA(code uint16, ia []byte) {
	fixed := IANALen
	if code == OptionIATA {
		fixed = IATALen
	}
	start := w.begin(code, fixed+OptionHeaderLen+2+len(notOnLinkText))
	if start < 0 {
		return
	}
	w.put(ia[:fixed])
	w.status(StatusNotOnLink, notOnLinkText)
	w.end(start)
}

// dns writes the IPv6 name servers, as many as fit.
func (w *writer) dns(servers []netip.Addr) {
	start := -1
	for _, a := range servers {
		if !a.Is6() || a.Is4In6() {
			continue
		}
		if start < 0 {
			if start = w.begin(OptionDNSServers, 16); start < 0 {
				return
			}
		}
		if w.room() < 16 {
			break
		}
		a16 := a.As16()
		w.put(a16[:])
	}
	if start >= 0 {
		w.end(start)
	}
}

// domainList writes the domain list uncompressed (RFC 8415 section 10),
// skipping names that cannot be encoded and stopping at the first that
// does not fit.
func (w *writer) domainList(names []string) {
	start := -1
	for _, name := range names {
		l := dnsname.WireLen(name)
		if l == 0 {
			continue
		}
		if start < 0 {
			if start = w.begin(OptionDomainList, l); start < 0 {
				return
			}
		}
		n := dnsname.Put(w.b[w.off:], name)
		if n == 0 {
			break
		}
		w.off += n
	}
	if start >= 0 {
		w.end(start)
	}
}

// clientFQDN writes the client FQDN option: no flag but O when the client
// asked us to update DNS (we never do), then the name in wire format.
func (w *writer) clientFQDN(fqdn string, clientS bool) {
	l := dnsname.WireLen(fqdn)
	if l == 0 {
		return
	}
	start := w.begin(OptionClientFQDN, 1+l)
	if start < 0 {
		return
	}
	w.b[w.off] = 0
	if clientS {
		w.b[w.off] = fqdnO
	}
	w.off++
	w.off += dnsname.Put(w.b[w.off:], fqdn)
	w.end(start)
}
