// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package dhcp

import (
	"bytes"
	"encoding/binary"
	"net/netip"

	"passt-go/proto/dhcp/dnsname"
	"passt-go/proto/header"
)

// UDP ports (RFC 2131 section 4.1).
const (
	ServerPort = 67
	ClientPort = 68
)

const (
	// OptionsLen is the room for options in a reply: a message of 576
	// bytes (the datagram every host accepts, RFC 2131 section 2) less
	// the IPv4 and UDP headers and the fixed part.
	OptionsLen = 576 - header.IPv4MinLen - header.UDPLen - FixedLen
	// MinOptionsLen is the options area of the shortest reply: BOOTP's
	// 64-byte vendor area less the cookie (RFC 951), zero-padded.
	MinOptionsLen = 60

	// MaxReplyLen is the longest frame Reply writes.
	MaxReplyLen = replyMsgOff + FixedLen + OptionsLen

	replyMsgOff = header.EthernetLen + header.IPv4MinLen + header.UDPLen

	// maxOptionData is what the options other than the end option may
	// take.
	maxOptionData = OptionsLen - 1

	// replyTTL is the time to live of replies: the link is the only hop.
	replyTTL = 255

	infiniteLease = 0xffffffff

	// Client FQDN flags (RFC 4702 section 2.1).
	fqdnS = 0x01 // server updates the A RR
	fqdnO = 0x02 // server overrode the client's S
	fqdnE = 0x04 // canonical wire format encoding
	// fqdnRCODE is what RFC 4702 section 2.2 asks servers to put in
	// both deprecated RCODE fields.
	fqdnRCODE = 255

	// classlessRoutesLen is the length of the two routes written in
	// option 121: the gateway as a /32 on link (1+4+4 bytes) and the
	// default route through it (1+0+4 bytes).
	classlessRoutesLen = 9 + 5
)

// Config is what the server tells the guest. The worker fills it once from
// the global configuration; Reply only reads it, so one Config may serve
// any number of calls. Slices and strings are kept, not copied.
type Config struct {
	// OurMAC is the source of replies.
	OurMAC header.MAC
	// ServerID is our address on the link, the gateway address as the
	// guest sees it: source of replies and server identifier (54).
	ServerID netip.Addr
	// GuestAddr is the one address given (yiaddr), with PrefixLen bits
	// of netmask (option 1).
	GuestAddr netip.Addr
	PrefixLen int
	// Router is the default gateway (option 3). When it lies outside
	// GuestAddr/PrefixLen, option 121 also carries a route to it and the
	// default route through it. The zero Addr omits both.
	Router netip.Addr
	// DNS are the name servers (option 6); IPv6 entries are skipped, and
	// none omits the option.
	DNS []netip.Addr
	// Search is the domain search list (option 119); empty omits it.
	// Names that cannot be encoded are skipped; names that do not fit
	// end the list.
	Search []string
	// Hostname (option 12) and FQDN (option 81) are omitted when empty.
	Hostname string
	FQDN     string
	// MTU is the interface MTU (option 26); 0 omits it.
	MTU int
}

// request is what Reply reads from a client's options.
type request struct {
	msgType MessageType // 0 when absent or empty: BOOTP
	params  []byte      // parameter request list, shared with the frame
	rapid   bool        // rapid commit asked for (option 80)
	fqdnS   bool        // client FQDN option (81) with the S flag
}

// parseRequest reads the options of m. A repeated option replaces an
// earlier one. Option overload (52) is not honoured: the sname and file
// fields are never read as options.
func parseRequest(m Message) (request, bool) {
	var r request
	opts := m.Options()
	for {
		code, data, ok := opts.Next()
		if !ok {
			break
		}
		switch code {
		case OptionMessageType:
			r.msgType = 0
			if len(data) > 0 {
				r.msgType = MessageType(data[0])
			}
		case OptionParameterList:
			r.params = data
		case OptionRapidCommit:
			r.rapid = true
		case OptionClientFQDN:
			r.fqdnS = len(data) > 0 && data[0]&fqdnS != 0
		}
	}
	return r, !opts.Truncated()
}

// Reply answers frame, a frame from the guest that header.Decode accepted
// as f, when it is a DHCP or BOOTP request: it writes the whole reply
// frame (Ethernet, IPv4, UDP, message) at the start of out and returns its
// length. Otherwise it returns 0 and the reason, having written nothing.
//
// DISCOVER is answered with OFFER, or with ACK when the client asked for
// rapid commit; REQUEST and BOOTP requests (no message type) with ACK.
// Other messages get no answer, never a NAK: the one address is always
// the client's. out must be at least MaxReplyLen bytes; Reply writes only
// inside out[:MaxReplyLen] (bytes past n are scratch), keeps no reference
// to frame or out, and does not allocate.
func Reply(cfg *Config, frame []byte, f header.Frame, out []byte) (n int, why Ignore) {
	if f.EtherType != header.EtherTypeIPv4 || f.Proto != header.ProtocolUDP || f.DstPort != ServerPort {
		return 0, IgnoreNotDHCP
	}
	if !cfg.GuestAddr.Is4() || !cfg.ServerID.Is4() {
		return 0, IgnoreNotConfigured
	}
	if len(out) < MaxReplyLen {
		return 0, IgnoreShortBuffer
	}
	m, ok := ParseMessage(f.Data(frame))
	if !ok {
		return 0, IgnoreTooShort
	}
	if m.Op() != BootRequest {
		return 0, IgnoreNotRequest
	}
	req, ok := parseRequest(m)
	if !ok {
		return 0, IgnoreBadOptions
	}

	var reply MessageType
	switch req.msgType {
	case TypeDiscover:
		reply = TypeOffer
		if req.rapid {
			reply = TypeAck
		}
	case 0, TypeRequest:
		reply = TypeAck
	default:
		return 0, IgnoreMessageType
	}
	req.rapid = req.rapid && req.msgType == TypeDiscover

	msg := out[replyMsgOff : replyMsgOff+FixedLen+OptionsLen]
	writeFixed(msg, m, cfg.GuestAddr)
	w := optionWriter{
		cfg:     cfg,
		b:       msg[FixedLen:],
		msgType: reply,
		rapid:   req.rapid,
		fqdnS:   req.fqdnS,
		mask:    mask(cfg.PrefixLen),
	}
	w.routes = needRoutes(cfg, w.mask)
	w.searchBudget = w.budgetForSearch()
	optLen := w.fill(req.params)
	msgLen := FixedLen + optLen

	dst := cfg.GuestAddr
	dstMAC := f.SrcMAC
	if m.Broadcast() {
		dst = netip.AddrFrom4([4]byte{255, 255, 255, 255})
		dstMAC = header.BroadcastMAC
	}
	udp := out[header.EthernetLen+header.IPv4MinLen : replyMsgOff+msgLen]
	header.PutUDP(udp, ServerPort, ClientPort, msgLen)
	header.SetTransportChecksum4(udp, header.ProtocolUDP, cfg.ServerID, dst)
	header.PutIPv4(out[header.EthernetLen:], len(udp), header.IPv4Fields{
		Src:          cfg.ServerID,
		Dst:          dst,
		Protocol:     header.ProtocolUDP,
		TTL:          replyTTL,
		DontFragment: true,
	})
	header.PutEthernet(out, dstMAC, cfg.OurMAC, header.EtherTypeIPv4)
	return replyMsgOff + msgLen, IgnoreNone
}

// writeFixed writes the fixed part of the reply to m into msg, cookie
// included: op BOOTREPLY, hardware type and length, xid, flags, ciaddr,
// giaddr and chaddr echoed, yiaddr the address given, everything else
// zero (siaddr too: there is no next server).
func writeFixed(msg []byte, m Message, yiaddr netip.Addr) {
	req := m.Bytes()
	clear(msg[:FixedLen])
	msg[offOp] = BootReply
	msg[offHType] = req[offHType]
	msg[offHLen] = req[offHLen]
	copy(msg[offXID:offXID+4], req[offXID:])
	copy(msg[offFlags:offFlags+2], req[offFlags:])
	copy(msg[offCIAddr:offCIAddr+4], req[offCIAddr:])
	a := yiaddr.As4()
	copy(msg[offYIAddr:], a[:])
	copy(msg[offGIAddr:offGIAddr+4], req[offGIAddr:])
	copy(msg[offCHAddr:offCHAddr+CHAddrLen], req[offCHAddr:])
	binary.BigEndian.PutUint32(msg[offCookie:], Cookie)
}

// mask returns the netmask of a prefix length, clamped to 0..32.
func mask(prefixLen int) [4]byte {
	prefixLen = max(0, min(32, prefixLen))
	var m [4]byte
	binary.BigEndian.PutUint32(m[:], ^uint32(0)<<(32-prefixLen))
	return m
}

// needRoutes reports whether the router lies outside the guest's subnet,
// so that the guest needs a route to it before it can use it.
func needRoutes(cfg *Config, m [4]byte) bool {
	if !cfg.Router.Is4() {
		return false
	}
	g, r := cfg.GuestAddr.As4(), cfg.Router.As4()
	for i := range m {
		if g[i]&m[i] != r[i]&m[i] {
			return true
		}
	}
	return false
}

// replyCodes are the options a reply may carry, in the order they are
// written when the client's parameter request list does not name them.
var replyCodes = [...]uint8{
	OptionSubnetMask, OptionRouter, OptionDNS, OptionHostname, OptionMTU,
	OptionLeaseTime, OptionMessageType, OptionServerID, OptionRapidCommit,
	OptionClientFQDN, OptionSearch, OptionClasslessRoutes,
}

// optionWriter fills the options area of one reply.
type optionWriter struct {
	cfg          *Config
	b            []byte // the options area, OptionsLen bytes
	off          int
	sent         [4]uint64 // bit per option code written
	msgType      MessageType
	rapid        bool
	fqdnS        bool
	routes       bool
	mask         [4]byte
	searchBudget int // most bytes the search list may take
}

// fill writes the options, then the end option and padding, and returns
// the length of the options area used. The message type comes first unless
// the client's parameter request list params names it; then the options
// params names, in its order; then the others in replyCodes order. An
// option that does not fit in what is left is skipped.
func (w *optionWriter) fill(params []byte) int {
	if bytes.IndexByte(params, OptionMessageType) < 0 {
		w.put(OptionMessageType)
	}
	for _, code := range params {
		w.put(code)
	}
	for _, code := range replyCodes {
		w.put(code)
	}
	w.b[w.off] = OptionEnd
	w.off++
	if w.off < MinOptionsLen {
		clear(w.b[w.off:MinOptionsLen])
		w.off = MinOptionsLen
	}
	return w.off
}

// put writes option code once, if the reply has it and it fits.
func (w *optionWriter) put(code uint8) {
	if w.sent[code/64]&(1<<(code%64)) != 0 {
		return
	}
	room := maxOptionData - w.off - 2
	if room < 0 {
		return
	}
	data := w.b[w.off+2 : w.off+2+min(room, 255)]
	n, ok := w.data(code, data)
	if !ok {
		return
	}
	w.b[w.off] = code
	w.b[w.off+1] = byte(n)
	w.off += 2 + n
	w.sent[code/64] |= 1 << (code % 64)
}

// data writes the data of option code into d and returns its length, or
// false when the reply does not carry that option or it does not fit in
// d. d may be written even then.
func (w *optionWriter) data(code uint8, d []byte) (int, bool) {
	cfg := w.cfg
	switch code {
	case OptionSubnetMask:
		return putBytes(d, w.mask[:])
	case OptionRouter:
		if !cfg.Router.Is4() {
			return 0, false
		}
		a := cfg.Router.As4()
		return putBytes(d, a[:])
	case OptionDNS:
		k := countDNS(cfg.DNS)
		if k == 0 || len(d) < 4*k {
			return 0, false
		}
		n := 0
		for _, a := range cfg.DNS {
			if a = a.Unmap(); a.Is4() && n < 4*k {
				b := a.As4()
				n += copy(d[n:], b[:])
			}
		}
		return n, true
	case OptionHostname:
		if cfg.Hostname == "" || len(cfg.Hostname) > len(d) {
			return 0, false
		}
		return copy(d, cfg.Hostname), true
	case OptionMTU:
		if cfg.MTU <= 0 || cfg.MTU > 0xffff || len(d) < 2 {
			return 0, false
		}
		binary.BigEndian.PutUint16(d, uint16(cfg.MTU))
		return 2, true
	case OptionLeaseTime:
		if len(d) < 4 {
			return 0, false
		}
		binary.BigEndian.PutUint32(d, infiniteLease)
		return 4, true
	case OptionMessageType:
		return putBytes(d, []byte{byte(w.msgType)})
	case OptionServerID:
		a := cfg.ServerID.As4()
		return putBytes(d, a[:])
	case OptionRapidCommit:
		return 0, w.rapid
	case OptionClientFQDN:
		if cfg.FQDN == "" || len(d) < 3 {
			return 0, false
		}
		// We never update DNS records: S stays clear, and O tells a
		// client that asked us to that we did not follow.
		d[0] = fqdnE
		if w.fqdnS {
			d[0] |= fqdnO
		}
		d[1], d[2] = fqdnRCODE, fqdnRCODE
		n := dnsname.Put(d[3:], cfg.FQDN)
		return 3 + n, n > 0
	case OptionSearch:
		return w.search(d[:min(len(d), w.searchBudget)])
	case OptionClasslessRoutes:
		if !w.routes || len(d) < classlessRoutesLen {
			return 0, false
		}
		r := cfg.Router.As4()
		d[0] = 32
		copy(d[1:5], r[:])
		clear(d[5:9])
		d[9] = 0
		copy(d[10:14], r[:])
		return classlessRoutesLen, true
	}
	return 0, false
}

// putBytes copies v into d when it fits.
func putBytes(d, v []byte) (int, bool) {
	if len(d) < len(v) {
		return 0, false
	}
	return copy(d, v), true
}

// countDNS returns how many IPv4 name servers option 6 carries: at most
// what one option's 255 bytes hold.
func countDNS(dns []netip.Addr) int {
	k := 0
	for _, a := range dns {
		if a.Unmap().Is4() {
			k++
		}
	}
	return min(k, 255/4)
}

// search writes the search list into d with compression, in order, and
// stops at the first name that does not fit.
func (w *optionWriter) search(d []byte) (int, bool) {
	n := 0
	for _, name := range w.cfg.Search {
		if dnsname.WireLen(name) == 0 {
			continue
		}
		k := dnsname.PutCompressed(d, n, name)
		if k == 0 {
			break
		}
		n += k
	}
	return n, n > 0
}

// budgetForSearch returns how many bytes the search list may take so that
// every other option of the reply still fits: the search list is the one
// option whose length the server chooses.
func (w *optionWriter) budgetForSearch() int {
	cfg := w.cfg
	other := 3 + 6 + 6 + 6 // message type, server ID, lease time, netmask
	if cfg.Router.Is4() {
		other += 6
	}
	if k := countDNS(cfg.DNS); k > 0 {
		other += 2 + 4*k
	}
	if l := len(cfg.Hostname); l > 0 && l <= 255 {
		other += 2 + l
	}
	if cfg.MTU > 0 && cfg.MTU <= 0xffff {
		other += 4
	}
	if w.rapid {
		other += 2
	}
	if l := dnsname.WireLen(cfg.FQDN); l > 0 && l <= 255-3 {
		other += 2 + 3 + l
	}
	if w.routes {
		other += 2 + classlessRoutesLen
	}
	return max(0, min(255, maxOptionData-other-2))
}
