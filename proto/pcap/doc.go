// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package pcap writes the frames that cross the tap side of the worker to
// a capture file in the classic libpcap format, which tcpdump, Wireshark
// and tshark read.
//
// The file is a 24-byte global header followed by one record per frame:
//
//	global header                         record header (per frame)
//	+-------------+---------------+       +-----------+----------------+
//	| magic       | version 2.4   |       | ts_sec    | ts_usec/ts_nsec|
//	+-------------+---------------+       +-----------+----------------+
//	| thiszone 0  | sigfigs 0     |       | caplen    | len            |
//	+-------------+---------------+       +-----------+----------------+
//	| snaplen     | linktype 1    |       | caplen bytes of the frame ...
//	+-------------+---------------+
//
// Every field is a 32-bit number (the version two 16-bit ones), written in
// little-endian order; readers learn the order from the magic number,
// 0xa1b2c3d4 for microsecond timestamps or 0xa1b23c4d for nanosecond ones.
// The link type is LINKTYPE_ETHERNET: records hold bare Ethernet frames,
// without the 4-byte length of the qemu stream. A frame longer than the
// snapshot length is cut to it; len keeps the frame's real length.
//
// The worker cannot open files: the monitor opens the capture file and
// passes its descriptor, and Writer only writes to it. A record header and
// its frame go out in one writev, a batch of records too. Capturing is a
// diagnostic aid, so a failed write is counted, never fatal. A record cut
// by a failed write would make the rest of the file unreadable, so after
// one the writer stops writing and only counts.
package pcap
