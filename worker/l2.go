// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package worker

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"passt-go/conf"
	"passt-go/ipc"
	"passt-go/proto/arp"
	"passt-go/proto/dhcp"
	"passt-go/proto/dhcpv6"
	"passt-go/proto/flow"
	"passt-go/proto/header"
	"passt-go/proto/icmp"
	"passt-go/proto/nat"
	"passt-go/proto/ndp"
)

// Unsolicited router advertisements go out at random intervals in this
// range (RFC 4861, 6.2.1), once a guest is there to hear them.
const (
	raMinInterval = 200 * time.Second
	raMaxInterval = 600 * time.Second
)

// l2 holds the services the worker answers itself (ARP, NDP, DHCP,
// DHCPv6), ICMP echo through ping sockets, and what the guest's frames
// tell about it (its MAC address, the addresses it uses).
type l2 struct {
	w *Worker

	guestMAC header.MAC
	seen4    netip.Addr // the guest's IPv4 source address, as used
	seen6    netip.Addr // its global IPv6 source address
	seenLL   netip.Addr // its link-local IPv6 address

	reply []byte // one frame, built and copied out before the next

	arpOn, ndpOn, dhcpOn, dhcp6On, icmpOn bool

	arp   arp.Config
	ndp   ndp.Config
	dhcp  dhcp.Config
	dhcp6 dhcpv6.Config
	nat   nat.Config

	flows *flow.Table
	icmp  *icmp.Handler

	nextRA time.Time

	arpIgnored   [arp.NumIgnores]uint64
	ndpIgnored   [ndp.NumIgnores]uint64
	dhcpIgnored  [dhcp.NumIgnores]uint64
	dhcp6Ignored [dhcpv6.NumIgnores]uint64
}

func (s *l2) init(w *Worker) error {
	c := w.cfg
	s.w = w
	s.guestMAC = header.BroadcastMAC
	s.reply = make([]byte, outSlotSize)
	mac := header.MAC(c.MAC)

	var dns4, dns6 []netip.Addr
	var search []string
	if c.AdvertiseDNS {
		dns4, dns6 = c.IPv4.DNS, c.IPv6.DNS
	}
	if c.AdvertiseSearch {
		search = c.Search
	}

	s.arpOn = c.IPv4.Enabled
	s.arp = arp.Config{OurMAC: mac, GuestAddr: c.IPv4.Addr, OurAddr: c.IPv4.Gateway}
	s.dhcpOn = c.IPv4.Enabled && c.DHCP
	s.dhcp = dhcp.Config{
		OurMAC: mac, ServerID: c.IPv4.Gateway, GuestAddr: c.IPv4.Addr, PrefixLen: c.IPv4.PrefixLen,
		Router: c.IPv4.Gateway, DNS: dns4, Search: search, Hostname: c.Hostname, FQDN: c.FQDN, MTU: c.MTU,
	}
	s.ndpOn = c.IPv6.Enabled && c.NDP
	s.ndp = ndp.Config{
		OurMAC: mac, OurLL: c.IPv6.LinkLocal, GuestAddr: c.IPv6.Addr, MTU: c.MTU,
		DNS: dns6, Search: search, NoRA: !c.RA,
	}
	s.dhcp6On = c.IPv6.Enabled && c.DHCPv6
	s.dhcp6 = dhcpv6.Config{
		OurMAC: mac, OurLL: c.IPv6.LinkLocal, GuestAddr: c.IPv6.Addr, DNS: dns6, Search: search,
		FQDN: c.FQDN, DUID: dhcpv6.NewDUID(mac, time.Now()),
	}
	s.nat = natConfig(c)

	// The monitor checked --max-flows; New refuses a capacity above
	// flow.MaxCapacity all the same, and takes zero (a configuration
	// without the field) for flow.DefaultCapacity.
	flows, err := flow.New(c.MaxFlows)
	if err != nil {
		return fmt.Errorf("flow table of %d flows: %w", c.MaxFlows, err)
	}
	s.flows = flows
	s.icmpOn = c.ICMP
	if s.icmpOn {
		s.icmp = icmp.New(icmp.Config{
			NAT:      &s.nat,
			OurMAC:   mac,
			GuestMAC: func() header.MAC { return s.guestMAC },
			Warn: func(cond icmp.Condition) {
				w.logf(ipc.LevelWarning, "%v", cond)
			},
			Zone6: uint32(c.IPv6.Ifindex),
		}, flows, w.loop, kindICMP, (*guestSink)(w))
	}
	return nil
}

// natConfig takes the address mapping out of the configuration.
func natConfig(c *conf.Config) nat.Config {
	n := nat.Config{
		Guest4: c.IPv4.Addr, Guest6: c.IPv6.Addr,
		Gateway4: c.IPv4.Gateway, Gateway6: c.IPv6.Gateway,
		OurLL6:           c.IPv6.LinkLocal,
		MapHostLoopback4: c.IPv4.MapHostLoopback, MapHostLoopback6: c.IPv6.MapHostLoopback,
		MapGuestAddr4: c.IPv4.MapGuestAddr, MapGuestAddr6: c.IPv6.MapGuestAddr,
		DNSForward4: c.IPv4.DNSForward, DNSForward6: c.IPv6.DNSForward,
		DNSHost4: c.IPv4.DNSHost, DNSHost6: c.IPv6.DNSHost,
	}
	// The configuration has already resolved the gateway mapping into
	// MapHostLoopback: nat must not add it again when it is off.
	n.NoMapGW = true
	return n
}

// guestSink lets protocol packages send frames to the guest.
type guestSink Worker

// Send copies frame into the batch for the guest.
func (g *guestSink) Send(frame []byte) { (*Worker)(g).toGuest(frame) }

// learn records the guest's MAC address and source addresses.
func (s *l2) learn(f *header.Frame) {
	if !f.SrcMAC.IsMulticast() && !f.SrcMAC.IsZero() && f.SrcMAC != s.guestMAC {
		s.guestMAC = f.SrcMAC
		s.w.logf(ipc.LevelDebug, "guest MAC address: %v", f.SrcMAC)
	}
	src := f.Src
	if !src.IsValid() || src.IsUnspecified() || src.IsMulticast() {
		return
	}
	switch {
	case src.Is4() && f.EtherType == header.EtherTypeIPv4:
		s.seen4 = src
	case src.Is6() && src.IsLinkLocalUnicast():
		s.seenLL = src
	case src.Is6():
		s.seen6 = src
	}
}

// dispatch hands a decoded frame to its service; it reports a drop reason
// when nothing took the frame. UDP datagrams queued from the guest go out
// after the last frame at hand (udpGlue.afterFrame).
func (s *l2) dispatch(frame []byte, f *header.Frame) (drop, bool) {
	why, dropped := s.dispatchFrame(frame, f)
	s.w.udp.afterFrame()
	return why, dropped
}

func (s *l2) dispatchFrame(frame []byte, f *header.Frame) (drop, bool) {
	switch f.EtherType {
	case header.EtherTypeARP:
		if !s.arpOn {
			return dropDisabled, true
		}
		n, why := arp.Reply(&s.arp, frame, *f, s.reply)
		return s.answer(n, func() { s.arpIgnored[why]++ })
	case header.EtherTypeIPv4:
		switch f.Proto {
		case header.ProtocolUDP:
			if f.DstPort == 67 {
				if !s.dhcpOn {
					return dropDisabled, true
				}
				n, why := dhcp.Reply(&s.dhcp, frame, *f, s.reply)
				return s.answer(n, func() { s.dhcpIgnored[why]++ })
			}
		case header.ProtocolICMP:
			return s.echo(frame, f)
		}
		if f.Proto == header.ProtocolTCP {
			return s.w.tcp.fromGuest(frame, f)
		}
		if f.Proto == header.ProtocolUDP && !f.Dst.IsMulticast() && f.Dst != netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			return s.w.udp.fromGuest(frame, f)
		}
	case header.EtherTypeIPv6:
		switch f.Proto {
		case header.ProtocolICMPv6:
			if f.ICMPType >= 133 && f.ICMPType <= 137 {
				if !s.ndpOn {
					return dropDisabled, true
				}
				n, why := ndp.Reply(&s.ndp, frame, *f, s.reply)
				return s.answer(n, func() { s.ndpIgnored[why]++ })
			}
			return s.echo(frame, f)
		case header.ProtocolUDP:
			if f.DstPort == 547 {
				if !s.dhcp6On {
					return dropDisabled, true
				}
				n, why := dhcpv6.Reply(&s.dhcp6, frame, *f, s.reply)
				if n > 0 && s.dhcp6.GuestAddr.IsValid() {
					s.seen6 = s.dhcp6.GuestAddr
				}
				return s.answer(n, func() { s.dhcp6Ignored[why]++ })
			}
		}
		if f.Proto == header.ProtocolTCP {
			return s.w.tcp.fromGuest(frame, f)
		}
		if f.Proto == header.ProtocolUDP && !f.Dst.IsMulticast() {
			return s.w.udp.fromGuest(frame, f)
		}
	}
	if f.Dst.IsMulticast() || f.DstMAC == header.BroadcastMAC || (f.Dst.Is4() && f.Dst == netip.AddrFrom4([4]byte{255, 255, 255, 255})) {
		return dropMulticast, true
	}
	return dropNoHandler, true
}

// answer sends a reply of n bytes from s.reply, or counts why not.
func (s *l2) answer(n int, ignored func()) (drop, bool) {
	if n == 0 {
		ignored()
		return dropNotAnswered, true
	}
	s.w.toGuest(s.reply[:n])
	return 0, false
}

// echo passes an ICMP or ICMPv6 message to the ping socket translation.
func (s *l2) echo(frame []byte, f *header.Frame) (drop, bool) {
	if f.Dst.IsMulticast() {
		return dropMulticast, true // MLD reports, multicast echo
	}
	if !s.icmpOn {
		return dropDisabled, true
	}
	s.icmp.FromGuest(frame, *f) // counted by the handler
	return 0, false
}

// guestConnected asks the guest for its MAC address, as passt does when a
// guest appears: an ARP request for its IPv4 address and a neighbour
// solicitation for its IPv6 address.
func (s *l2) guestConnected() {
	s.guestMAC = header.BroadcastMAC
	if s.arpOn && s.arp.GuestAddr.IsValid() {
		if n := arp.Request(&s.arp, s.arp.GuestAddr, s.reply); n > 0 {
			s.w.toGuest(s.reply[:n])
		}
	}
	if s.ndpOn && s.ndp.GuestAddr.IsValid() {
		if n := ndp.Solicit(&s.ndp, s.ndp.GuestAddr, s.reply); n > 0 {
			s.w.toGuest(s.reply[:n])
		}
	}
	s.nextRA = time.Now().Add(randomRAInterval())
}

func randomRAInterval() time.Duration {
	return raMinInterval + rand.N(raMaxInterval-raMinInterval)
}

// periodic expires idle ICMP flows and sends unsolicited RAs.
func (s *l2) periodic(now time.Time) {
	if s.icmpOn {
		s.icmp.Expire(flow.Now())
	}
	guest := s.w.connFD >= 0 || s.w.tw != nil
	if guest && s.ndpOn && !s.ndp.NoRA && !s.nextRA.IsZero() && now.After(s.nextRA) {
		if n := ndp.RA(&s.ndp, s.reply); n > 0 {
			s.w.toGuest(s.reply[:n])
		}
		s.nextRA = now.Add(randomRAInterval())
	}
}

func (s *l2) icmpEvent(index uint32, events uint32) {
	if s.icmp != nil {
		s.icmp.Event(index, events)
	}
}

// counters reports the services' counters by name.
func (s *l2) counters(add func(string, uint64)) {
	for i, v := range s.arpIgnored {
		add("arp_ignored_"+arp.Ignore(i).String(), v)
	}
	for i, v := range s.ndpIgnored {
		add("ndp_ignored_"+ndp.Ignore(i).String(), v)
	}
	for i, v := range s.dhcpIgnored {
		add("dhcp_ignored_"+dhcp.Ignore(i).String(), v)
	}
	for i, v := range s.dhcp6Ignored {
		add("dhcpv6_ignored_"+dhcpv6.Ignore(i).String(), v)
	}
	if s.icmp != nil {
		c := s.icmp.Counters()
		add("icmp_requests", c.Requests)
		add("icmp_replies", c.Replies)
		add("icmp_flows_opened", c.Opened)
		add("icmp_flows_closed", c.Closed)
		for i, v := range c.Drops {
			add("icmp_drop_"+icmp.Drop(i).String(), v)
		}
	}
}
