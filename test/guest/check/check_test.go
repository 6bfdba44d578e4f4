// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package check

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPattern(t *testing.T) {
	a := PatternBytes(1, 1000)
	// Reading in odd pieces gives the same stream.
	var b []byte
	p := NewPattern(1)
	for _, n := range []int{1, 7, 8, 9, 100, 875} {
		chunk := make([]byte, n)
		p.Read(chunk)
		b = append(b, chunk...)
	}
	if !bytes.Equal(a, b) {
		t.Error("the stream depends on read sizes")
	}
	if bytes.Equal(a, PatternBytes(2, 1000)) {
		t.Error("seeds 1 and 2 give the same stream")
	}
	if bytes.Equal(a[:500], a[500:]) || bytes.Count(a, []byte{0}) > 20 {
		t.Error("the stream does not look random")
	}
	if sum := PatternSum(1, 1000); sum != PatternSum(1, 1000) || sum == PatternSum(1, 999) {
		t.Error("PatternSum is not a function of seed and length")
	}
}

// tcpServer serves the protocol on a loopback listener and returns a
// dialer for it and the servers' results.
func tcpServer(t *testing.T) (dial func() net.Conn, results chan error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	results = make(chan error, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { results <- Serve(c, 10*time.Second) }()
		}
	}()
	return func() net.Conn {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}, results
}

func TestStreamProtocol(t *testing.T) {
	dial, results := tcpServer(t)
	for _, n := range []int64{0, 1, 100000, 3 << 20} {
		if err := Put(dial(), n, 5, 10*time.Second); err != nil {
			t.Errorf("put %d: %v", n, err)
		}
		if err := <-results; err != nil {
			t.Errorf("server, put %d: %v", n, err)
		}
		if err := Get(dial(), n, 6, 10*time.Second); err != nil {
			t.Errorf("get %d: %v", n, err)
		}
		if err := <-results; err != nil {
			t.Errorf("server, get %d: %v", n, err)
		}
	}
	if err := Bye(dial()); err != nil {
		t.Fatal(err)
	}
	if err := <-results; !errors.Is(err, ErrBye) {
		t.Errorf("bye: got %v, want ErrBye", err)
	}
	c := dial()
	io.WriteString(c, "put lots\n")
	if err := <-results; err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("malformed command: got %v", err)
	}
}

// A server that sends the wrong bytes, too few, or too many is caught.
func TestStreamDetectsCorruption(t *testing.T) {
	tests := []struct {
		name  string
		reply func(c net.Conn, n int64)
	}{
		{"flipped byte", func(c net.Conn, n int64) {
			b := PatternBytes(9, int(n))
			b[n/2] ^= 1
			c.Write(b)
		}},
		{"short", func(c net.Conn, n int64) { c.Write(PatternBytes(9, int(n)-1)) }},
		{"long", func(c net.Conn, n int64) { c.Write(PatternBytes(9, int(n)+1)) }},
		{"wrong seed", func(c net.Conn, n int64) { c.Write(PatternBytes(10, int(n))) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := net.Pipe()
			defer a.Close()
			go func() {
				defer b.Close()
				line := make([]byte, 64)
				b.Read(line)
				tc.reply(b, 1000)
			}()
			if err := Get(a, 1000, 9, 5*time.Second); err == nil {
				t.Error("got no error")
			}
		})
	}
	// A put whose sum does not match.
	a, b := net.Pipe()
	defer a.Close()
	go func() {
		defer b.Close()
		io.Copy(io.Discard, io.LimitReader(b, int64(len("put 1000 9\n"))+1000))
		io.WriteString(b, "ok 0000\n")
	}()
	if err := Put(a, 1000, 9, 5*time.Second); err == nil || !strings.Contains(err.Error(), "sum") {
		t.Errorf("put with a wrong sum: got %v", err)
	}
}

func TestEcho(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	done := make(chan error, 1)
	go func() { done <- ServeEcho(pc, time.Now().Add(10*time.Second)) }()
	c, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := Echo(c, EchoSizes, 3, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("bye"))
	if err := <-done; !errors.Is(err, ErrBye) {
		t.Errorf("got %v, want ErrBye", err)
	}

	// Nobody answers: Echo gives up within its time.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	c2, err := net.Dial("udp", silent.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	start := time.Now()
	if err := Echo(c2, []int{16}, 3, 500*time.Millisecond); err == nil {
		t.Error("got no error without a server")
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("gave up after %v", d)
	}
}

func TestDNS(t *testing.T) {
	q, err := DNSQuery(0x1234, "guest.example.test")
	if err != nil {
		t.Fatal(err)
	}
	id, name, err := DNSQuestion(q)
	if err != nil || id != 0x1234 || name != "guest.example.test" {
		t.Fatalf("DNSQuestion: got %#x %q %v", id, name, err)
	}
	want := netip.MustParseAddr("198.51.100.53")
	r, err := DNSAnswer(q, want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DNSReply(r, 0x1234)
	if err != nil || len(got) != 1 || got[0] != want {
		t.Errorf("DNSReply: got %v, %v; want [%v]", got, err, want)
	}
	if _, err := DNSReply(r, 0x4321); err == nil {
		t.Error("a reply to another ID was accepted")
	}
	nx, err := DNSAnswer(q, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DNSReply(nx, 0x1234); err == nil || !strings.Contains(err.Error(), "rcode 3") {
		t.Errorf("NXDOMAIN: got %v", err)
	}
	for _, bad := range []string{"", "a..b", strings.Repeat("x", 64) + ".test"} {
		if _, err := DNSQuery(1, bad); err == nil {
			t.Errorf("DNSQuery(%q): got no error", bad)
		}
	}
	// Truncated replies are errors, never panics.
	for i := 0; i < len(r); i++ {
		DNSReply(r[:i], 0x1234)
	}
}

// dhcpv6Reply builds a server's message the way passt lays it out.
func dhcpv6Reply(typ byte, xid [3]byte, addr netip.Addr, dns netip.Addr, search []string) []byte {
	b := []byte{typ, xid[0], xid[1], xid[2]}
	b = appendOpt(b, optServerID, []byte{0, 1, 0, 1, 1, 2, 3, 4, 0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55})
	ia := binary.BigEndian.AppendUint32(nil, 1)
	ia = append(ia, make([]byte, 8)...)
	a := addr.As16()
	ia = appendOpt(ia, optIAAddr, append(a[:], 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
	b = appendOpt(b, optIANA, ia)
	d := dns.As16()
	b = appendOpt(b, optDNSServers, d[:])
	var list []byte
	for _, s := range search {
		list, _ = appendName(list, s)
	}
	return appendOpt(b, optDomainList, list)
}

func TestDHCPv6(t *testing.T) {
	mac := net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}
	xid := [3]byte{1, 2, 3}
	sol := DHCPv6Message(DHCPv6Solicit, xid, mac, 1, nil, netip.Addr{})
	if sol[0] != DHCPv6Solicit || !bytes.Equal(sol[1:4], xid[:]) {
		t.Fatalf("solicit header: % x", sol[:4])
	}
	var codes []uint16
	walkOpts(sol[4:], func(code uint16, data []byte) error {
		codes = append(codes, code)
		if code == optClientID && !bytes.Equal(data, append([]byte{0, 3, 0, 1}, mac...)) {
			t.Errorf("client id: got % x", data)
		}
		return nil
	})
	if want := []uint16{optClientID, optIANA, optElapsed, optORO}; !reflect.DeepEqual(codes, want) {
		t.Errorf("solicit options: got %v, want %v", codes, want)
	}

	addr, dns := netip.MustParseAddr("2001:db8:1::2"), netip.MustParseAddr("2001:db8:1::1")
	msg := dhcpv6Reply(DHCPv6Reply, xid, addr, dns, []string{"example.test", "b.test"})
	l, err := ParseDHCPv6(msg)
	if err != nil {
		t.Fatal(err)
	}
	if l.Type != DHCPv6Reply || l.XID != xid || l.Status != 0 || l.ServerID == nil {
		t.Errorf("got %+v", l)
	}
	if !reflect.DeepEqual(l.Addrs, []netip.Addr{addr}) || !reflect.DeepEqual(l.DNS, []netip.Addr{dns}) ||
		!reflect.DeepEqual(l.Search, []string{"example.test", "b.test"}) {
		t.Errorf("got addrs %v dns %v search %v", l.Addrs, l.DNS, l.Search)
	}

	req := DHCPv6Message(DHCPv6Request, xid, mac, 1, l.ServerID, addr)
	found := false
	walkOpts(req[4:], func(code uint16, data []byte) error {
		if code == optServerID && bytes.Equal(data, l.ServerID) {
			found = true
		}
		return nil
	})
	if !found {
		t.Error("request lacks the server id")
	}

	// Truncated messages are errors, never panics.
	for i := 0; i < len(msg); i++ {
		ParseDHCPv6(msg[:i])
	}
}
