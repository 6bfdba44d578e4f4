// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package header_test

import (
	"fmt"
	"net/netip"

	"passt-go/proto/header"
)

// A frame toward the guest is built around data already in place: the
// data goes to its final offset, then each header is written in front of
// it, innermost first.
func Example() {
	gw, guest := netip.MustParseAddr("10.0.2.2"), netip.MustParseAddr("10.0.2.15")
	gwMAC, guestMAC := header.MAC{0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55}, header.MAC{0x52, 0x54, 0, 0x12, 0x34, 0x56}

	const l3, l4 = header.EthernetLen, header.EthernetLen + header.IPv4MinLen
	buf := make([]byte, 1514)
	data := l4 + header.TCPMinLen
	n := copy(buf[data:], "hello") // in the data path: recvmsg(MSG_PEEK) into buf[data:]

	seg := buf[l4 : data+n]
	header.PutTCP(seg, header.TCPFields{SrcPort: 80, DstPort: 40000, Seq: 1000, Ack: 2000,
		Flags: header.TCPFlagACK | header.TCPFlagPSH, Window: 65535})
	header.SetTransportChecksum4(seg, header.ProtocolTCP, gw, guest)
	header.PutIPv4(buf[l3:], len(seg), header.IPv4Fields{Src: gw, Dst: guest, Protocol: header.ProtocolTCP})
	header.PutEthernet(buf, guestMAC, gwMAC, header.EtherTypeIPv4)
	frame := buf[:data+n]

	var drops [header.NumDrops]uint64
	f, drop := header.Decode(frame)
	drops[drop]++
	fmt.Println(drop, f.Src, f.SrcPort, "->", f.Dst, f.DstPort, f.TCPFlags, string(f.Data(frame)))
	fmt.Println(header.TransportChecksumValid4(f.Transport(frame), f.Proto, f.Src, f.Dst))

	frame[l3] = 0x46 // IHL 6: the header now claims 4 bytes of options
	_, drop = header.Decode(frame)
	drops[drop]++
	fmt.Println(drop, drops[header.DropNone], drops[header.DropBadChecksum])
	// Output:
	// none 10.0.2.2 80 -> 10.0.2.15 40000 PSH|ACK hello
	// true
	// bad checksum 1 1
}
