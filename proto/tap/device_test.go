// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"testing"
	"time"

	"passt-go/proto/header"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// netns runs functions on an OS thread that lives in a network namespace
// of its own. The thread stays locked until the test ends; it then exits
// with its goroutine, and the namespace goes with it.
type netns struct {
	calls chan func()
}

func newNetns(t *testing.T) *netns {
	t.Helper()
	ns := &netns{calls: make(chan func())}
	errc := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread must not be reused
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- nil
		for f := range ns.calls {
			f()
		}
	}()
	if err := <-errc; err != nil {
		t.Skipf("kernel refuses a new network namespace: %v", err)
	}
	t.Cleanup(func() { close(ns.calls) })
	return ns
}

// do runs f on the namespace's thread and returns its error.
func (ns *netns) do(f func() error) error {
	errc := make(chan error, 1)
	ns.calls <- func() { errc <- f() }
	return <-errc
}

var (
	guestMAC = net.HardwareAddr{0x02, 0x00, 0x00, 0xaa, 0xbb, 0x02}
	guestIP  = net.IPv4(10, 9, 0, 2).To4()
	tapIP    = net.IPv4(10, 9, 0, 1).To4()
)

// tapEnv is a tap device in a fresh namespace, up, with tapIP/24 on it and
// a permanent neighbour entry for the guest's address.
type tapEnv struct {
	ns     *netns
	h      *netlink.Handle
	fd     int
	name   string
	tapMAC net.HardwareAddr
}

func newTapEnv(t *testing.T) *tapEnv {
	t.Helper()
	e := &tapEnv{ns: newNetns(t), fd: -1}
	err := e.ns.do(func() error {
		fd, name, err := OpenTap("pgtap%d")
		if err != nil {
			return err
		}
		e.fd, e.name = fd, name
		// No IPv6 chatter (router solicitations, DAD) on the link.
		if p, err := unix.Open("/proc/sys/net/ipv6/conf/"+name+"/disable_ipv6", unix.O_WRONLY|unix.O_CLOEXEC, 0); err == nil {
			unix.Write(p, []byte("1"))
			unix.Close(p)
		}
		if e.h, err = netlink.NewHandle(); err != nil {
			return err
		}
		link, err := e.h.LinkByName(name)
		if err != nil {
			return err
		}
		if err := e.h.AddrAdd(link, &netlink.Addr{IPNet: &net.IPNet{IP: tapIP, Mask: net.CIDRMask(24, 32)}}); err != nil {
			return err
		}
		if err := e.h.LinkSetUp(link); err != nil {
			return err
		}
		if err := e.h.NeighAdd(&netlink.Neigh{LinkIndex: link.Attrs().Index, Family: netlink.FAMILY_V4,
			State: netlink.NUD_PERMANENT, IP: guestIP, HardwareAddr: guestMAC}); err != nil {
			return err
		}
		e.tapMAC = link.Attrs().HardwareAddr
		return nil
	})
	t.Cleanup(func() {
		if e.fd >= 0 {
			unix.Close(e.fd)
		}
		if e.h != nil {
			e.h.Close()
		}
	})
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENODEV) || errors.Is(err, unix.EPERM) {
		t.Skipf("kernel refuses a tap device: %v", err)
	}
	if err != nil {
		t.Fatalf("tap set-up: %v", err)
	}
	return e
}

// udpSocket opens a non-blocking UDP socket in the namespace, bound to
// tapIP:port and, if peerPort is not zero, connected to guestIP:peerPort.
func (e *tapEnv) udpSocket(t *testing.T, port, peerPort int) int {
	t.Helper()
	var fd int
	err := e.ns.do(func() error {
		var err error
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte(tapIP)}); err != nil {
			return err
		}
		if peerPort != 0 {
			return unix.Connect(fd, &unix.SockaddrInet4{Port: peerPort, Addr: [4]byte(guestIP)})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("UDP socket in namespace: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// arpRequest builds the guest's ARP request for tapIP as an Ethernet
// header and an ARP body.
func arpRequest() (eth, arp []byte) {
	eth = append(append(bytes.Repeat([]byte{0xff}, 6), guestMAC...), 0x08, 0x06)
	arp = []byte{0, 1, 8, 0, 6, 4, 0, 1}
	arp = append(arp, guestMAC...)
	arp = append(arp, guestIP...)
	arp = append(arp, make([]byte, 6)...)
	arp = append(arp, tapIP...)
	return eth, arp
}

// udpFrame builds an Ethernet/IPv4/UDP frame from the guest to tapIP, as
// a header and a payload.
func udpFrame(dstMAC net.HardwareAddr, sport, dport int, payload []byte) (hdr []byte) {
	hdr = make([]byte, 14+20+8)
	copy(hdr, dstMAC)
	copy(hdr[6:], guestMAC)
	binary.BigEndian.PutUint16(hdr[12:], 0x0800)
	ip := hdr[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(payload)))
	ip[8] = 64
	ip[9] = unix.IPPROTO_UDP
	copy(ip[12:], guestIP)
	copy(ip[16:], tapIP)
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	udp := hdr[34:]
	binary.BigEndian.PutUint16(udp[0:], uint16(sport))
	binary.BigEndian.PutUint16(udp[2:], uint16(dport))
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(payload)))
	return hdr
}

// udpPayload returns the payload of an IPv4/UDP frame from tapIP to the
// guest with destination port dport, or nil.
func udpPayload(f []byte, dport int) []byte {
	if len(f) < 42 || binary.BigEndian.Uint16(f[12:]) != 0x0800 || f[23] != unix.IPPROTO_UDP {
		return nil
	}
	ihl := int(f[14]&0xf) * 4
	if !bytes.Equal(f[26:30], tapIP) || !bytes.Equal(f[30:34], guestIP) || len(f) < 14+ihl+8 {
		return nil
	}
	udp := f[14+ihl:]
	if int(binary.BigEndian.Uint16(udp[2:])) != dport {
		return nil
	}
	l := int(binary.BigEndian.Uint16(udp[4:]))
	if l < 8 || l > len(udp) {
		return nil
	}
	return udp[8:l]
}

func TestTapDevice(t *testing.T) {
	e := newTapEnv(t)

	t.Run("ARP request gets a reply", func(t *testing.T) {
		w, err := NewTapWriter(e.fd, 4, 2)
		if err != nil {
			t.Fatalf("NewTapWriter: %v", err)
		}
		r, err := NewTapReader(e.fd, 8)
		if err != nil {
			t.Fatalf("NewTapReader: %v", err)
		}
		eth, arp := arpRequest()
		if !w.Queue(eth, arp) {
			t.Fatalf("Queue: got false, want true")
		}
		if sent, err := w.Flush(); sent != 1 || err != nil {
			t.Fatalf("Flush: got (%d, %v), want (1, nil)", sent, err)
		}
		var reply []byte
		deadline := time.Now().Add(5 * time.Second)
		for reply == nil && time.Now().Before(deadline) {
			if !waitFD(t, e.fd, unix.POLLIN, time.Until(deadline)) {
				break
			}
			if _, err := r.Fill(); err != nil {
				t.Fatalf("Fill: %v", err)
			}
			for f, ok := r.Next(); ok; f, ok = r.Next() {
				if len(f) >= 42 && binary.BigEndian.Uint16(f[12:]) == 0x0806 && binary.BigEndian.Uint16(f[20:]) == 2 {
					reply = bytes.Clone(f)
				}
			}
		}
		if reply == nil {
			t.Fatalf("no ARP reply read from the tap")
		}
		checks := []struct {
			name      string
			got, want []byte
		}{
			{name: "Ethernet destination", got: reply[0:6], want: guestMAC},
			{name: "sender MAC", got: reply[22:28], want: e.tapMAC},
			{name: "sender IP", got: reply[28:32], want: tapIP},
			{name: "target MAC", got: reply[32:38], want: guestMAC},
			{name: "target IP", got: reply[38:42], want: guestIP},
		}
		for _, c := range checks {
			if !bytes.Equal(c.got, c.want) {
				t.Errorf("%s: got %x, want %x", c.name, c.got, c.want)
			}
		}
	})

	t.Run("written frames reach a socket", func(t *testing.T) {
		sock := e.udpSocket(t, 5001, 0)
		w, err := NewTapWriter(e.fd, 4, 2)
		if err != nil {
			t.Fatalf("NewTapWriter: %v", err)
		}
		var payloads [][]byte
		for i := 0; i < 4; i++ {
			p := []byte("datagram " + strconv.Itoa(i) + " into the namespace")
			payloads = append(payloads, p)
			if !w.Queue(udpFrame(e.tapMAC, 4000, 5001, p), p) {
				t.Fatalf("Queue %d: got false, want true", i)
			}
		}
		if sent, err := w.Flush(); sent != 4 || err != nil {
			t.Fatalf("Flush: got (%d, %v), want (4, nil)", sent, err)
		}
		buf := make([]byte, 2048)
		for i, want := range payloads {
			if !waitFD(t, sock, unix.POLLIN, 5*time.Second) {
				t.Fatalf("datagram %d never arrived", i)
			}
			n, err := unix.Read(sock, buf)
			if err != nil {
				t.Fatalf("read datagram %d: %v", i, err)
			}
			if !bytes.Equal(buf[:n], want) {
				t.Fatalf("datagram %d: got %q, want %q", i, buf[:n], want)
			}
		}
		if c := w.Counters(); c.Frames != 4 || c.Dropped() != 0 {
			t.Errorf("counters: got %d frames, %d dropped, want 4, 0", c.Frames, c.Dropped())
		}
	})

	t.Run("checksums left to the device are completed on request", func(t *testing.T) {
		sock := e.udpSocket(t, 5003, 4003)
		r, err := NewTapReader(e.fd, 8)
		if err != nil {
			t.Fatalf("NewTapReader: %v", err)
		}
		// The namespace's stack leaves the UDP checksum to the device,
		// which saves it a pass over the data: the frame as read does not
		// sum right, and with Checksums it does.
		for _, complete := range []bool{false, true} {
			r.Checksums = complete
			payload := bytes.Repeat([]byte("checksum me "), 100)
			if _, err := unix.Write(sock, payload); err != nil {
				t.Fatalf("send: %v", err)
			}
			seg := readUDP(t, e, r, 4003)
			valid := header.TransportChecksumValid4(seg, header.ProtocolUDP,
				netip.AddrFrom4([4]byte(tapIP)), netip.AddrFrom4([4]byte(guestIP)))
			if valid != complete {
				t.Errorf("Checksums %v: the UDP checksum sums right: %v", complete, valid)
			}
		}
	})

	t.Run("frames sent by the kernel are read in batches", func(t *testing.T) {
		const count = 10
		const slots = 3
		sock := e.udpSocket(t, 5002, 6000)
		for i := 0; i < count; i++ {
			if _, err := unix.Write(sock, []byte("datagram "+strconv.Itoa(i)+" to the guest")); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
		}
		r, err := NewTapReader(e.fd, slots)
		if err != nil {
			t.Fatalf("NewTapReader: %v", err)
		}
		var got []string
		deadline := time.Now().Add(5 * time.Second)
		for len(got) < count && time.Now().Before(deadline) {
			if !waitFD(t, e.fd, unix.POLLIN, time.Until(deadline)) {
				break
			}
			if _, err := r.Fill(); err != nil {
				t.Fatalf("Fill: %v", err)
			}
			frames := 0
			for f, ok := r.Next(); ok; f, ok = r.Next() {
				frames++
				if p := udpPayload(f, 6000); p != nil {
					got = append(got, string(p))
				}
			}
			if frames > slots {
				t.Fatalf("one Fill gave %d frames, want at most %d", frames, slots)
			}
		}
		if len(got) != count {
			t.Fatalf("got %d datagrams, want %d", len(got), count)
		}
		for i, g := range got {
			if want := "datagram " + strconv.Itoa(i) + " to the guest"; g != want {
				t.Errorf("datagram %d: got %q, want %q", i, g, want)
			}
		}
	})

	t.Run("no allocation", func(t *testing.T) {
		out := e.udpSocket(t, 5003, 6001)
		in := e.udpSocket(t, 5004, 0)
		r, err := NewTapReader(e.fd, 8)
		if err != nil {
			t.Fatalf("NewTapReader: %v", err)
		}
		w, err := NewTapWriter(e.fd, 8, 2)
		if err != nil {
			t.Fatalf("NewTapWriter: %v", err)
		}
		payload := bytes.Repeat([]byte("x"), 1000)
		hdr := udpFrame(e.tapMAC, 4000, 5004, payload)
		buf := make([]byte, 2048)
		pfd := make([]unix.PollFd, 1)
		rounds, read := 0, 0
		allocs := testing.AllocsPerRun(20, func() {
			rounds++
			if _, err := unix.Write(out, payload); err != nil {
				panic(err)
			}
			for seen := false; !seen; {
				pfd[0] = unix.PollFd{Fd: int32(e.fd), Events: unix.POLLIN}
				if n, _ := unix.Poll(pfd, 5000); n != 1 {
					panic("tap never became readable")
				}
				if _, err := r.Fill(); err != nil {
					panic(err)
				}
				for f, ok := r.Next(); ok; f, ok = r.Next() {
					if udpPayload(f, 6001) != nil {
						seen = true
						read++
					}
				}
			}
			w.Queue(hdr, payload)
			if sent, err := w.Flush(); sent != 1 || err != nil {
				panic("tap write failed")
			}
			pfd[0] = unix.PollFd{Fd: int32(in), Events: unix.POLLIN}
			if n, _ := unix.Poll(pfd, 5000); n != 1 {
				panic("datagram never arrived")
			}
			if _, err := unix.Read(in, buf); err != nil {
				panic(err)
			}
		})
		if allocs != 0 {
			t.Errorf("allocations per tap round trip: got %v, want 0", allocs)
		}
		if read != rounds {
			t.Errorf("frames read: got %d, want %d", read, rounds)
		}
	})

	t.Run("link down drops frames as EIO", func(t *testing.T) {
		setLink := func(up bool) {
			t.Helper()
			err := e.ns.do(func() error {
				link, err := e.h.LinkByName(e.name)
				if err != nil {
					return err
				}
				if up {
					return e.h.LinkSetUp(link)
				}
				return e.h.LinkSetDown(link)
			})
			if err != nil {
				t.Fatalf("set link up=%v: %v", up, err)
			}
		}
		setLink(false)
		defer setLink(true)
		w, err := NewTapWriter(e.fd, 4, 2)
		if err != nil {
			t.Fatalf("NewTapWriter: %v", err)
		}
		eth, arp := arpRequest()
		w.Queue(eth, arp)
		w.Queue(eth, arp)
		if sent, err := w.Flush(); sent != 0 || err != nil {
			t.Fatalf("Flush: got (%d, %v), want (0, nil)", sent, err)
		}
		if got := w.Counters().Drops[DropIO]; got != 2 {
			t.Fatalf("DropIO: got %d, want 2", got)
		}
	})

	t.Run("removed device gives ErrEOF", func(t *testing.T) {
		err := e.ns.do(func() error {
			link, err := e.h.LinkByName(e.name)
			if err != nil {
				return err
			}
			return e.h.LinkDel(link)
		})
		if err != nil {
			t.Fatalf("delete link: %v", err)
		}
		r, err := NewTapReader(e.fd, 2)
		if err != nil {
			t.Fatalf("NewTapReader: %v", err)
		}
		if _, err := r.Fill(); !errors.Is(err, ErrEOF) {
			t.Errorf("Fill: got %v, want ErrEOF", err)
		}
		w, err := NewTapWriter(e.fd, 2, 2)
		if err != nil {
			t.Fatalf("NewTapWriter: %v", err)
		}
		eth, arp := arpRequest()
		w.Queue(eth, arp)
		if sent, err := w.Flush(); sent != 0 || !errors.Is(err, ErrEOF) {
			t.Errorf("Flush: got (%d, %v), want (0, ErrEOF)", sent, err)
		}
	})
}

func TestOpenTapBadName(t *testing.T) {
	tests := []struct {
		name string
		dev  string
	}{
		{name: "too long", dev: "a-name-longer-than-ifnamsiz"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fd, _, err := OpenTap(tc.dev)
			if err == nil {
				unix.Close(fd)
				t.Fatalf("OpenTap(%q): got no error, want one", tc.dev)
			}
			if fd != -1 {
				t.Errorf("fd: got %d, want -1", fd)
			}
		})
	}
}

func TestTapReaderDropsBadLengths(t *testing.T) {
	// A datagram socket keeps boundaries like a tap device does.
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	sizes := []struct {
		n    int
		kept bool
	}{
		{n: MinFrame - 1, kept: false},
		{n: MinFrame, kept: true},
		{n: 1514, kept: true},
		{n: MaxFrame, kept: true},
		{n: MaxFrame + 1, kept: false},
		{n: 60, kept: true},
	}
	if err := unix.SetsockoptInt(fds[1], unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 4<<20); err != nil {
		t.Logf("SO_SNDBUFFORCE: %v", err)
	}
	var want [][]byte
	for i, s := range sizes {
		f := makeFrame(i, s.n)
		// Each read of the device starts with its header.
		if _, err := unix.Write(fds[1], append(make([]byte, VnetHdrLen), f...)); err != nil {
			t.Fatalf("write %d bytes: %v", s.n, err)
		}
		if s.kept {
			want = append(want, f)
		}
	}
	// A frame still to be segmented is not passed on.
	gso := make([]byte, VnetHdrLen, VnetHdrLen+1514)
	gso[vnetGSOType] = 1 // VIRTIO_NET_HDR_GSO_TCPV4
	if _, err := unix.Write(fds[1], append(gso, makeFrame(9, 1514)...)); err != nil {
		t.Fatalf("write: %v", err)
	}
	r, err := NewTapReader(fds[0], 3)
	if err != nil {
		t.Fatalf("NewTapReader: %v", err)
	}
	var got [][]byte
	for i := 0; i < 10 && len(got) < len(want); i++ {
		if _, err := r.Fill(); err != nil {
			t.Fatalf("Fill: %v", err)
		}
		// Take one frame only, so that the ring wraps with frames kept.
		before := r.Buffered()
		if f, ok := r.Next(); ok {
			got = append(got, bytes.Clone(f))
			if after := r.Buffered(); after != before-1 {
				t.Errorf("Buffered: %d before Next, %d after, want one less", before, after)
			}
		}
	}
	equalFrames(t, got, want)
	if got := r.Counters().Drops[DropLength]; got != 2 {
		t.Errorf("DropLength: got %d, want 2", got)
	}
	for range 3 {
		r.Fill()
		r.Next()
	}
	if got := r.Counters().Drops[DropSegmented]; got != 1 {
		t.Errorf("DropSegmented: got %d, want 1", got)
	}
}

// readUDP reads frames from the tap until a UDP datagram to port comes,
// and returns its UDP header and payload.
func readUDP(t *testing.T, e *tapEnv, r *TapReader, port uint16) []byte {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if !waitFD(t, e.fd, unix.POLLIN, time.Until(deadline)) {
			break
		}
		if _, err := r.Fill(); err != nil {
			t.Fatalf("Fill: %v", err)
		}
		for f, ok := r.Next(); ok; f, ok = r.Next() {
			fr, d := header.Decode(f)
			if d == header.DropNone && fr.Proto == header.ProtocolUDP && fr.DstPort == port {
				return bytes.Clone(fr.Transport(f))
			}
		}
	}
	t.Fatalf("no datagram to port %d read from the tap", port)
	return nil
}
