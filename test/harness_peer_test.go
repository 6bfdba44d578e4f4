// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package test holds the integration tests: a real kernel (a network
// namespace) is the guest or the host, built with passt-go/test/nstest.
package test

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"passt-go/test/nstest"
)

// Ethernet, IP and ICMP numbers used by the fake peer, spelled out rather
// than imported so that the peer checks the bridge independently of the
// project's own header code.
const (
	etherTypeIPv4 = 0x0800
	etherTypeARP  = 0x0806
	etherTypeIPv6 = 0x86dd

	ethLen  = 14
	ipv4Len = 20
	ipv6Len = 40
	udpLen  = 8

	protoICMP   = 1
	protoUDP    = 17
	protoICMPv6 = 58

	icmpEchoReply    = 0
	icmpEchoRequest  = 8
	icmp6EchoRequest = 128
	icmp6EchoReply   = 129
	icmp6NeighSol    = 135
	icmp6NeighAdv    = 136
)

// fakePeer is the far end of a qemu stream: it answers ARP requests and
// neighbour solicitations for its addresses, answers ICMP and ICMPv6 echo
// requests sent to them, and hands every UDP frame to the test. Each reply
// frame is built by hand from the request.
type fakePeer struct {
	rw  io.ReadWriteCloser
	mac net.HardwareAddr
	ip4 netip.Addr
	ip6 netip.Addr

	wmu    sync.Mutex
	echo4  atomic.Int32 // echo requests answered
	echo6  atomic.Int32
	udp    chan []byte // copies of UDP frames (Ethernet included)
	done   chan error
	closed atomic.Bool
}

// startPeer runs a fake peer on rw until rw reaches end of stream or the
// test ends; at clean-up it closes rw and fails the test if the peer's
// stream broke.
func startPeer(t *testing.T, rw io.ReadWriteCloser, mac net.HardwareAddr, ip4, ip6 netip.Addr) *fakePeer {
	t.Helper()
	p := &fakePeer{rw: rw, mac: mac, ip4: ip4, ip6: ip6, udp: make(chan []byte, 256), done: make(chan error, 1)}
	go func() { p.done <- p.loop() }()
	t.Cleanup(func() {
		p.Close()
		select {
		case err := <-p.done:
			if err != nil {
				t.Errorf("fake peer: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("fake peer did not stop within 5s")
		}
	})
	return p
}

// streamFile wraps one end of a socketpair for the peer; the descriptor is
// made non-blocking so that Close interrupts a pending Read.
func streamFile(t *testing.T, fd int) *os.File {
	t.Helper()
	if err := setNonblock(fd); err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(fd), "peer-stream")
}

// Close ends the peer's stream; the peer's loop then stops without error.
func (p *fakePeer) Close() {
	p.closed.Store(true)
	p.rw.Close()
}

func (p *fakePeer) loop() error {
	buf := make([]byte, nstest.MaxFrame)
	for {
		f, err := nstest.ReadFrame(p.rw, buf)
		if errors.Is(err, io.EOF) || (err != nil && p.closed.Load()) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := p.handle(f); err != nil {
			return err
		}
	}
}

func (p *fakePeer) send(frame []byte) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	return nstest.WriteFrame(p.rw, frame)
}

// sendRaw writes bytes of the stream as they are, in one Write.
func (p *fakePeer) sendRaw(b []byte) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	_, err := p.rw.Write(b)
	return err
}

func (p *fakePeer) handle(f []byte) error {
	if len(f) < ethLen {
		return errors.New("frame shorter than an Ethernet header")
	}
	switch binary.BigEndian.Uint16(f[12:]) {
	case etherTypeARP:
		if r := p.arpReply(f); r != nil {
			return p.send(r)
		}
	case etherTypeIPv4:
		ip := f[ethLen:]
		if len(ip) < ipv4Len || ip[0]>>4 != 4 {
			return nil
		}
		switch ip[9] {
		case protoICMP:
			if r := p.echoReply4(f); r != nil {
				p.echo4.Add(1)
				return p.send(r)
			}
		case protoUDP:
			p.deliver(f)
		}
	case etherTypeIPv6:
		ip := f[ethLen:]
		if len(ip) < ipv6Len || ip[0]>>4 != 6 {
			return nil
		}
		switch ip[6] {
		case protoICMPv6:
			if len(ip) < ipv6Len+4 {
				return nil
			}
			switch ip[ipv6Len] {
			case icmp6NeighSol:
				if r := p.neighAdv(f); r != nil {
					return p.send(r)
				}
			case icmp6EchoRequest:
				if r := p.echoReply6(f); r != nil {
					p.echo6.Add(1)
					return p.send(r)
				}
			}
		case protoUDP:
			p.deliver(f)
		}
	}
	return nil
}

func (p *fakePeer) deliver(f []byte) {
	select {
	case p.udp <- append([]byte(nil), f...):
	default: // the test fails on the missing frame
	}
}

// arpReply answers a request for p.ip4:
//
//	htype(2) ptype(2) hlen(1) plen(1) op(2) sha(6) spa(4) tha(6) tpa(4)
func (p *fakePeer) arpReply(f []byte) []byte {
	arp := f[ethLen:]
	if len(arp) < 28 || binary.BigEndian.Uint16(arp[6:]) != 1 ||
		netip.AddrFrom4([4]byte(arp[24:28])) != p.ip4 {
		return nil
	}
	r := ethHeader(arp[8:14], p.mac, etherTypeARP)
	r = binary.BigEndian.AppendUint16(r, 1)      // Ethernet
	r = binary.BigEndian.AppendUint16(r, 0x0800) // IPv4
	r = append(r, 6, 4)
	r = binary.BigEndian.AppendUint16(r, 2) // reply
	r = append(r, p.mac...)
	r = append(r, arp[24:28]...) // our address
	r = append(r, arp[8:14]...)  // the asker's MAC
	r = append(r, arp[14:18]...) // and address
	return r
}

// echoReply4 turns an ICMP echo request to p.ip4 into the reply.
func (p *fakePeer) echoReply4(f []byte) []byte {
	ip := f[ethLen:]
	ihl := int(ip[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(ip[2:]))
	if ihl < ipv4Len || total > len(ip) || total < ihl+8 || ip[ihl] != icmpEchoRequest ||
		netip.AddrFrom4([4]byte(ip[16:20])) != p.ip4 {
		return nil
	}
	r := ethHeader(f[6:12], p.mac, etherTypeIPv4)
	r = append(r, ip[:total]...)
	rip := r[ethLen:]
	copy(rip[12:16], ip[16:20])
	copy(rip[16:20], ip[12:16])
	rip[8] = 64 // TTL
	rip[10], rip[11] = 0, 0
	binary.BigEndian.PutUint16(rip[10:], checksum(rip[:ihl], 0))
	icmp := rip[ihl:total]
	icmp[0] = icmpEchoReply
	icmp[2], icmp[3] = 0, 0
	binary.BigEndian.PutUint16(icmp[2:], checksum(icmp, 0))
	return r
}

// neighAdv answers a neighbour solicitation for p.ip6 with a solicited,
// override advertisement carrying our link-layer address:
//
//	type(1) code(1) checksum(2) flags(4) target(16) [option: 2, 1, MAC]
func (p *fakePeer) neighAdv(f []byte) []byte {
	ip := f[ethLen:]
	icmp := ip[ipv6Len:]
	if len(icmp) < 24 || ip[7] != 255 || netip.AddrFrom16([16]byte(icmp[8:24])) != p.ip6 {
		return nil
	}
	src := netip.AddrFrom16([16]byte(ip[8:24]))
	if src.IsUnspecified() {
		return nil // duplicate address detection: not ours to answer
	}
	body := []byte{icmp6NeighAdv, 0, 0, 0, 0x60, 0, 0, 0} // S|O
	body = append(body, icmp[8:24]...)
	body = append(body, 2, 1)
	body = append(body, p.mac...)
	return ipv6Frame(f[6:12], p.mac, p.ip6, src, protoICMPv6, 255, body)
}

// echoReply6 turns an ICMPv6 echo request to p.ip6 into the reply.
func (p *fakePeer) echoReply6(f []byte) []byte {
	ip := f[ethLen:]
	plen := int(binary.BigEndian.Uint16(ip[4:]))
	if ipv6Len+plen > len(ip) || plen < 8 || netip.AddrFrom16([16]byte(ip[24:40])) != p.ip6 {
		return nil
	}
	body := append([]byte(nil), ip[ipv6Len:ipv6Len+plen]...)
	body[0] = icmp6EchoReply
	return ipv6Frame(f[6:12], p.mac, p.ip6, netip.AddrFrom16([16]byte(ip[8:24])), protoICMPv6, 64, body)
}

func ethHeader(dst, src net.HardwareAddr, etherType uint16) []byte {
	h := make([]byte, 0, 1600)
	h = append(h, dst...)
	h = append(h, src...)
	return binary.BigEndian.AppendUint16(h, etherType)
}

// ipv6Frame builds Ethernet + IPv6 + body, where body is an ICMPv6 message
// or a UDP datagram whose checksum field is zero and gets filled in.
func ipv6Frame(dstMAC, srcMAC net.HardwareAddr, src, dst netip.Addr, proto uint8, hops uint8, body []byte) []byte {
	r := ethHeader(dstMAC, srcMAC, etherTypeIPv6)
	r = append(r, 0x60, 0, 0, 0)
	r = binary.BigEndian.AppendUint16(r, uint16(len(body)))
	r = append(r, proto, hops)
	r = append(r, src.AsSlice()...)
	r = append(r, dst.AsSlice()...)
	r = append(r, body...)
	l4 := r[ethLen+ipv6Len:]
	off := 2 // ICMPv6 checksum
	if proto == protoUDP {
		off = 6
	}
	l4[off], l4[off+1] = 0, 0
	binary.BigEndian.PutUint16(l4[off:], l4Checksum(src, dst, proto, l4))
	return r
}

// udp4Frame builds Ethernet + IPv4 (DF, no options) + UDP + payload with
// both checksums.
func udp4Frame(dstMAC, srcMAC net.HardwareAddr, src, dst netip.AddrPort, payload []byte) []byte {
	r := ethHeader(dstMAC, srcMAC, etherTypeIPv4)
	r = append(r, 0x45, 0)
	r = binary.BigEndian.AppendUint16(r, uint16(ipv4Len+udpLen+len(payload)))
	r = append(r, 0x12, 0x34, 0x40, 0) // ID, DF
	r = append(r, 64, protoUDP, 0, 0)  // TTL, protocol, checksum
	r = append(r, src.Addr().AsSlice()...)
	r = append(r, dst.Addr().AsSlice()...)
	binary.BigEndian.PutUint16(r[ethLen+10:], checksum(r[ethLen:ethLen+ipv4Len], 0))
	r = binary.BigEndian.AppendUint16(r, src.Port())
	r = binary.BigEndian.AppendUint16(r, dst.Port())
	r = binary.BigEndian.AppendUint16(r, uint16(udpLen+len(payload)))
	r = append(r, 0, 0)
	r = append(r, payload...)
	binary.BigEndian.PutUint16(r[ethLen+ipv4Len+6:], l4Checksum(src.Addr(), dst.Addr(), protoUDP, r[ethLen+ipv4Len:]))
	return r
}

// udpDatagram is a UDP datagram taken apart from a frame the peer got.
type udpDatagram struct {
	src, dst netip.AddrPort
	payload  []byte
}

// parseUDP checks a frame carrying one unfragmented UDP datagram: lengths
// consistent with the frame's, valid IPv4 header checksum, valid UDP
// checksum (required for IPv6, optional for IPv4).
func parseUDP(f []byte) (udpDatagram, error) {
	var d udpDatagram
	if len(f) < ethLen {
		return d, errors.New("short frame")
	}
	ip := f[ethLen:]
	var l4 []byte
	var src, dst netip.Addr
	switch binary.BigEndian.Uint16(f[12:]) {
	case etherTypeIPv4:
		if len(ip) < ipv4Len || ip[0] != 0x45 || ip[9] != protoUDP {
			return d, errors.New("not IPv4/UDP without options")
		}
		if int(binary.BigEndian.Uint16(ip[2:])) != len(ip) {
			return d, errors.New("IPv4 total length differs from the frame's")
		}
		if binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 {
			return d, errors.New("IPv4 fragment")
		}
		if checksum(ip[:ipv4Len], 0) != 0 {
			return d, errors.New("bad IPv4 header checksum")
		}
		src, dst = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
		l4 = ip[ipv4Len:]
	case etherTypeIPv6:
		if len(ip) < ipv6Len || ip[6] != protoUDP {
			return d, errors.New("not IPv6/UDP")
		}
		if ipv6Len+int(binary.BigEndian.Uint16(ip[4:])) != len(ip) {
			return d, errors.New("IPv6 payload length differs from the frame's")
		}
		src, dst = netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
		l4 = ip[ipv6Len:]
	default:
		return d, errors.New("not IP")
	}
	if len(l4) < udpLen || int(binary.BigEndian.Uint16(l4[4:])) != len(l4) {
		return d, errors.New("UDP length differs from the frame's")
	}
	if (src.Is6() || binary.BigEndian.Uint16(l4[6:]) != 0) && l4Checksum(src, dst, protoUDP, l4) != 0 {
		return d, errors.New("bad UDP checksum")
	}
	d.src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(l4[0:]))
	d.dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(l4[2:]))
	d.payload = l4[udpLen:]
	return d, nil
}

// l4Checksum is the Internet checksum of segment with the IPv4 or IPv6
// pseudo-header. Over a segment whose checksum field is set, a correct
// checksum gives 0; with the field zeroed it gives the value to store.
func l4Checksum(src, dst netip.Addr, proto uint8, segment []byte) uint16 {
	var pseudo []byte
	pseudo = append(pseudo, src.AsSlice()...)
	pseudo = append(pseudo, dst.AsSlice()...)
	if src.Is4() {
		pseudo = append(pseudo, 0, proto)
		pseudo = binary.BigEndian.AppendUint16(pseudo, uint16(len(segment)))
	} else {
		pseudo = binary.BigEndian.AppendUint32(pseudo, uint32(len(segment)))
		pseudo = append(pseudo, 0, 0, 0, proto)
	}
	c := checksum(segment, sum(pseudo, 0))
	if c == 0 && proto == protoUDP && !isVerifying(segment, proto) {
		return 0xffff // UDP sends a computed zero as all ones
	}
	return c
}

// isVerifying reports whether the segment's checksum field is set, that
// is whether l4Checksum is checking rather than computing.
func isVerifying(segment []byte, proto uint8) bool {
	off := 2
	if proto == protoUDP {
		off = 6
	}
	return len(segment) >= off+2 && (segment[off] != 0 || segment[off+1] != 0)
}

func sum(b []byte, acc uint32) uint32 {
	for len(b) >= 2 {
		acc += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint32(b[0]) << 8
	}
	return acc
}

// checksum returns the Internet checksum (RFC 1071) of b, starting from
// the partial sum acc.
func checksum(b []byte, acc uint32) uint16 {
	acc = sum(b, acc)
	for acc>>16 != 0 {
		acc = acc&0xffff + acc>>16
	}
	return ^uint16(acc)
}
