// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Command gcheck runs the checks of the test guest that busybox cannot do:
// SLAAC and the router's default route read from /proc, a DHCPv6 client,
// TCP and UDP transfers checked byte for byte, a DNS query, and a server
// for connections coming from outside. It is built statically and runs as
// /bin/gcheck in the guest's initramfs, called by the init script.
//
// Every check prints one line on standard output (the serial console):
//
//	RESULT NAME PASS KEY=VALUE...
//	RESULT NAME FAIL reason
//
// and the exit status says the same (0 for PASS).
//
//	gcheck slaac IFACE TIMEOUT
//	gcheck dhcp6 IFACE LEASEFILE
//	gcheck tcp NAME put|get HOST PORT BYTES
//	gcheck udp NAME HOST PORT
//	gcheck dns NAME SERVER QNAME
//	gcheck serve PORT TIMEOUT
package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"passt-go/test/guest/check"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	args := os.Args[2:]
	var ok bool
	switch os.Args[1] {
	case "slaac":
		need(args, 2)
		ok = slaac(args[0], duration(args[1]))
	case "dhcp6":
		need(args, 2)
		ok = dhcp6(args[0], args[1])
	case "tcp":
		need(args, 5)
		ok = tcp(args[0], args[1], args[2], args[3], number(args[4]))
	case "udp":
		need(args, 3)
		ok = udp(args[0], args[1], args[2])
	case "dns":
		need(args, 3)
		ok = dns(args[0], args[1], args[2])
	case "serve":
		need(args, 2)
		ok = serve(args[0], duration(args[1]))
	default:
		usage()
	}
	if !ok {
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: gcheck slaac|dhcp6|tcp|udp|dns|serve ARGS (see the source)")
	os.Exit(2)
}

func need(args []string, n int) {
	if len(args) != n {
		usage()
	}
}

func duration(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		usage()
	}
	return d
}

func number(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		usage()
	}
	return n
}

// pass prints a PASS line with key=value details and reports true.
func pass(name string, kv ...string) bool {
	fmt.Printf("RESULT %s PASS %s\n", name, strings.Join(kv, " "))
	return true
}

// fail prints a FAIL line with its reason on one line and reports false.
func fail(name string, format string, a ...any) bool {
	msg := strings.ReplaceAll(fmt.Sprintf(format, a...), "\n", " ")
	fmt.Printf("RESULT %s FAIL %s\n", name, msg)
	return false
}

// seed gives each check its own pattern.
func seed(name string) uint64 {
	var s uint64 = 1469598103934665603
	for i := 0; i < len(name); i++ {
		s = (s ^ uint64(name[i])) * 1099511628211
	}
	return s
}

// slaac waits for a global, non-tentative IPv6 address on iface and for a
// default route learned from a router advertisement, and reports both.
func slaac(iface string, timeout time.Duration) bool {
	end := time.Now().Add(timeout)
	var addr, via string
	for {
		addr = globalAddr(iface)
		via = raDefaultRoute(iface)
		if (addr != "" && via != "") || time.Now().After(end) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	ok := true
	if addr == "" {
		ok = fail("slaac", "no global address on %s after %v: %s", iface, timeout, ifaceState(iface))
	} else {
		pass("slaac", "addr="+addr)
	}
	if via == "" {
		ok = fail("ra-route", "no default route from a router advertisement after %v", timeout)
	} else {
		mtu, _ := os.ReadFile("/proc/sys/net/ipv6/conf/" + iface + "/mtu")
		pass("ra-route", "via="+via, "mtu="+strings.TrimSpace(string(mtu)))
	}
	return ok
}

// ifaceState describes what decides whether iface has IPv6 addresses, for
// a failure message: its link state and MTU, its IPv6 settings, and the
// addresses it has, with their flags, from /proc/net/if_inet6.
func ifaceState(iface string) string {
	read := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			return "?"
		}
		return strings.TrimSpace(string(b))
	}
	var b strings.Builder
	for _, n := range []string{"operstate", "carrier", "mtu", "flags"} {
		fmt.Fprintf(&b, "%s=%s ", n, read("/sys/class/net/"+iface+"/"+n))
	}
	for _, n := range []string{"disable_ipv6", "autoconf", "accept_ra", "addr_gen_mode"} {
		fmt.Fprintf(&b, "%s=%s ", n, read("/proc/sys/net/ipv6/conf/"+iface+"/"+n))
	}
	b.WriteString("addrs=")
	for _, line := range strings.Split(read("/proc/net/if_inet6"), "\n") {
		if f := strings.Fields(line); len(f) == 6 && f[5] == iface {
			fmt.Fprintf(&b, "%s/%s,scope=%s,flags=%s;", f[0], f[2], f[3], f[4])
		}
	}
	return b.String()
}

// hexAddr parses the 32 hexadecimal digits of /proc/net's IPv6 tables.
func hexAddr(s string) (netip.Addr, bool) {
	if len(s) != 32 {
		return netip.Addr{}, false
	}
	var a [16]byte
	for i := range a {
		v, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			return netip.Addr{}, false
		}
		a[i] = byte(v)
	}
	return netip.AddrFrom16(a), true
}

// globalAddr returns an address of global scope, DAD done, from
// /proc/net/if_inet6: ADDR IFINDEX PREFIXLEN SCOPE FLAGS IFNAME.
func globalAddr(iface string) string {
	b, _ := os.ReadFile("/proc/net/if_inet6")
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 6 || f[5] != iface || f[3] != "00" {
			continue
		}
		flags, _ := strconv.ParseUint(f[4], 16, 32)
		if flags&(0x40|0x08) != 0 { // tentative, DAD failed
			continue
		}
		if a, ok := hexAddr(f[0]); ok {
			plen, _ := strconv.ParseUint(f[2], 16, 8)
			return fmt.Sprintf("%s/%d", a, plen)
		}
	}
	return ""
}

// Route flags of /proc/net/ipv6_route.
const (
	rtfGateway  = 0x0002
	rtfAddrconf = 0x40000 // learned from a router advertisement
)

// raDefaultRoute returns the gateway of a default route on iface learned
// from a router advertisement: DST DSTLEN SRC SRCLEN NEXTHOP METRIC REFCNT
// USE FLAGS IFNAME.
func raDefaultRoute(iface string) string {
	b, _ := os.ReadFile("/proc/net/ipv6_route")
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 10 || f[9] != iface || f[1] != "00" || strings.Trim(f[0], "0") != "" {
			continue
		}
		flags, _ := strconv.ParseUint(f[8], 16, 32)
		if flags&rtfGateway == 0 || flags&rtfAddrconf == 0 {
			continue
		}
		if a, ok := hexAddr(f[4]); ok {
			return a.String()
		}
	}
	return ""
}

// dhcp6 runs SOLICIT/ADVERTISE and REQUEST/REPLY on iface, reports the
// lease, and writes the address and the first resolver to leaseFile as
// shell assignments (lease6_addr, lease6_dns) for the init script.
func dhcp6(iface, leaseFile string) bool {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return fail("dhcp6", "%v", err)
	}
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6unspecified, Port: 546})
	if err != nil {
		return fail("dhcp6", "listen on port 546: %v", err)
	}
	defer c.Close()
	servers := &net.UDPAddr{IP: net.ParseIP("ff02::1:2"), Port: 547, Zone: iface}
	now := time.Now().UnixNano()
	xid := [3]byte{byte(now >> 16), byte(now >> 8), byte(now)}
	const iaid = 1

	exchange := func(msg []byte, want byte) (check.DHCPv6Lease, error) {
		buf := make([]byte, 2048)
		for try := 0; try < 5; try++ {
			if _, err := c.WriteToUDP(msg, servers); err != nil {
				return check.DHCPv6Lease{}, err
			}
			c.SetReadDeadline(time.Now().Add(time.Second))
			for {
				n, _, err := c.ReadFromUDP(buf)
				if err != nil {
					break // resend
				}
				l, err := check.ParseDHCPv6(buf[:n])
				if err == nil && l.Type == want && l.XID == xid {
					return l, nil
				}
			}
		}
		return check.DHCPv6Lease{}, fmt.Errorf("no answer of type %d after 5 tries", want)
	}

	adv, err := exchange(check.DHCPv6Message(check.DHCPv6Solicit, xid, ifi.HardwareAddr, iaid, nil, netip.Addr{}), check.DHCPv6Advertise)
	if err != nil {
		return fail("dhcp6", "solicit: %v", err)
	}
	if adv.Status != 0 || len(adv.Addrs) == 0 || adv.ServerID == nil {
		return fail("dhcp6", "advertise without an address or server id (status %d)", adv.Status)
	}
	xid[2]++
	reply, err := exchange(check.DHCPv6Message(check.DHCPv6Request, xid, ifi.HardwareAddr, iaid, adv.ServerID, adv.Addrs[0]), check.DHCPv6Reply)
	if err != nil {
		return fail("dhcp6", "request: %v", err)
	}
	if reply.Status != 0 || len(reply.Addrs) == 0 {
		return fail("dhcp6", "reply without an address (status %d)", reply.Status)
	}
	var dns []string
	for _, a := range reply.DNS {
		dns = append(dns, a.String())
	}
	env := fmt.Sprintf("lease6_addr='%s'\n", reply.Addrs[0])
	if len(dns) > 0 {
		env += fmt.Sprintf("lease6_dns='%s'\n", dns[0])
	}
	if err := os.WriteFile(leaseFile, []byte(env), 0o644); err != nil {
		return fail("dhcp6", "%v", err)
	}
	return pass("dhcp6", "addr="+reply.Addrs[0].String(), "dns="+strings.Join(dns, ","), "search="+strings.Join(reply.Search, ","))
}

// tcp connects to host:port and puts or gets n bytes.
func tcp(name, op, host, port string, n int64) bool {
	start := time.Now()
	c, err := net.DialTimeout("tcp", net.JoinHostPort(host, port), 10*time.Second)
	if err != nil {
		return fail(name, "%v", err)
	}
	defer c.Close()
	switch op {
	case "put":
		err = check.Put(c, n, seed(name), 60*time.Second)
	case "get":
		err = check.Get(c, n, seed(name), 60*time.Second)
	default:
		usage()
	}
	if err != nil {
		return fail(name, "%s %d bytes: %v", op, n, err)
	}
	return pass(name, "bytes="+strconv.FormatInt(n, 10), "ms="+strconv.FormatInt(time.Since(start).Milliseconds(), 10))
}

// udp sends datagrams of check.EchoSizes to host:port and waits for their
// echoes.
func udp(name, host, port string) bool {
	c, err := net.Dial("udp", net.JoinHostPort(host, port))
	if err != nil {
		return fail(name, "%v", err)
	}
	defer c.Close()
	if err := check.Echo(c, check.EchoSizes, seed(name), 20*time.Second); err != nil {
		return fail(name, "%v", err)
	}
	sizes := fmt.Sprint(check.EchoSizes)
	return pass(name, "sizes="+strings.ReplaceAll(strings.Trim(sizes, "[]"), " ", ","))
}

// dns asks server for the A records of qname.
func dns(name, server, qname string) bool {
	if _, err := netip.ParseAddr(server); err != nil {
		return fail(name, "no resolver address (got %q)", server)
	}
	c, err := net.Dial("udp", net.JoinHostPort(server, "53"))
	if err != nil {
		return fail(name, "%v", err)
	}
	defer c.Close()
	id := uint16(time.Now().UnixNano())
	q, err := check.DNSQuery(id, qname)
	if err != nil {
		return fail(name, "%v", err)
	}
	buf := make([]byte, 4096)
	for try := 0; try < 3; try++ {
		if _, err := c.Write(q); err != nil {
			return fail(name, "send: %v", err)
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			continue
		}
		addrs, err := check.DNSReply(buf[:n], id)
		if err != nil {
			return fail(name, "%s from %s: %v", qname, server, err)
		}
		var s []string
		for _, a := range addrs {
			s = append(s, a.String())
		}
		return pass(name, "server="+server, "a="+strings.Join(s, ","))
	}
	return fail(name, "no answer from %s", server)
}

// serve accepts TCP connections and answers UDP datagrams on port, both
// address families, until a client says bye or timeout passes. It prints
// "READY serve PORT" once both sockets are open.
func serve(port string, timeout time.Duration) bool {
	l, err := net.Listen("tcp", ":"+port)
	if err != nil {
		return fail("serve", "%v", err)
	}
	defer l.Close()
	pc, err := net.ListenPacket("udp", ":"+port)
	if err != nil {
		return fail("serve", "%v", err)
	}
	defer pc.Close()
	fmt.Printf("READY serve %s\n", port)

	deadline := time.Now().Add(timeout)
	bye := make(chan struct{})
	var once sync.Once
	stop := func() { once.Do(func() { close(bye) }) }
	var mu sync.Mutex
	var conns, errs int
	var lastErr error
	go func() {
		if err := check.ServeEcho(pc, deadline); errors.Is(err, check.ErrBye) {
			stop()
		}
	}()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				err := check.Serve(c, 60*time.Second)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case errors.Is(err, check.ErrBye):
					stop()
				case err != nil:
					errs++
					lastErr = err
				default:
					conns++
				}
			}()
		}
	}()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-bye:
	case <-timer.C:
		return fail("serve", "nobody said bye within %v", timeout)
	}
	mu.Lock()
	defer mu.Unlock()
	if errs > 0 {
		return fail("serve", "%d of %d connections failed, last: %v", errs, errs+conns, lastErr)
	}
	return pass("serve", "tcp="+strconv.Itoa(conns))
}
