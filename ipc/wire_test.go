// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package ipc

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func rescanPorts() *PortSet {
	var s PortSet
	s.Add(22)
	s.AddRange(5000, 5010)
	s.Add(65535)
	return &s
}

// sampleMessage is a message of every kind and shape, with how many
// descriptors it carries.
type sampleMessage struct {
	name string
	msg  Message
	nfds int
}

func sampleMessages() []sampleMessage {
	return []sampleMessage{
		{name: "Hello/monitor", msg: Message{Body: Hello{Version: Version, Role: RoleMonitor, PID: 4242}}},
		{name: "Hello/worker", msg: Message{ID: 7, Body: Hello{Version: Version, Role: RoleWorker, PID: 1<<31 - 1}}},
		{name: "Config", msg: Message{Body: Config{Blob: []byte(`{"mtu":65520,"dns":["192.0.2.53"]}`)}}},
		{name: "Config/empty", msg: Message{Body: Config{}}},
		{name: "FDs/three", nfds: 3, msg: Message{Body: FDs{More: true, Entries: []FDEntry{
			{Role: FDTap},
			{Role: FDTCPListener, Proto: TCP, Family: IPv6, Side: SideHost, Port: 443, Rule: 2},
			{Role: FDProcNet, Proto: UDP, Family: IPv4, Side: SideNamespace},
		}}}},
		{name: "FDs/end", msg: Message{Body: FDs{}}},
		{name: "Ready", msg: Message{Body: Ready{}}},
		{name: "BrokerRequest/ns-connect", msg: Message{ID: 1, Body: BrokerRequest{Op: OpNSSocket, Proto: TCP, Family: IPv4, Action: NSConnect, Addr: netip.MustParseAddr("127.0.0.1"), Port: 8080}}},
		{name: "BrokerRequest/host-listener", msg: Message{ID: 2, Body: BrokerRequest{Op: OpHostListener, Proto: UDP, Family: IPv6, Addr: netip.MustParseAddr("2001:db8::1"), Port: 53, Ifname: "eth0"}}},
		{name: "BrokerRequest/rescan", msg: Message{ID: 3, Body: BrokerRequest{Op: OpRescan, Proto: TCP, Side: SideNamespace}}},
		{name: "BrokerRequest/out-of-range", msg: Message{ID: 4, Body: BrokerRequest{Op: 200, Proto: 1, Family: 9, Action: 7, Side: 5, Addr: netip.MustParseAddr("::ffff:10.0.0.1"), Port: 0, Ifname: "a/b"}}},
		{name: "BrokerReply/socket", nfds: 1, msg: Message{ID: 1, Body: BrokerReply{Op: OpNSSocket}}},
		{name: "BrokerReply/denied", msg: Message{ID: 2, Code: Denied, Body: BrokerReply{Op: OpHostListener, Reason: DenyPort}}},
		{name: "BrokerReply/in-use", msg: Message{ID: 5, Code: InUse, Body: BrokerReply{Op: OpHostListener}}},
		{name: "BrokerReply/rescan", msg: Message{ID: 3, Body: BrokerReply{Op: OpRescan, Ports: rescanPorts()}}},
		{name: "Shutdown", msg: Message{Body: Shutdown{}}},
		{name: "Shutdown/internal", msg: Message{Code: Internal, Body: Shutdown{}}},
		{name: "Stats", msg: Message{Body: Stats{Counters: []Counter{{Name: "tcp.flows", Value: 12}, {Name: "drop_bad-csum", Value: 1<<64 - 1}}}}},
		{name: "Stats/empty", msg: Message{Body: Stats{}}},
		{name: "Log", msg: Message{Body: Log{Level: LevelWarning, Text: "tcp: flow table full\tnaïve ✓"}}},
		{name: "Log/empty", msg: Message{Body: Log{Level: LevelTrace}}},
		{name: "Unlisten/tcp", msg: Message{Body: Unlisten{Role: FDTCPListener, Side: SideHost, Port: 8080, Rule: 3}}},
		{name: "Unlisten/udp6", msg: Message{ID: 9, Body: Unlisten{Role: FDUDPListener, Family: IPv6, Side: SideHost, Port: 65535}}},
	}
}

func TestKindCoverage(t *testing.T) {
	seen := map[Kind]bool{}
	for _, s := range sampleMessages() {
		seen[s.msg.Kind()] = true
	}
	for k := KindHello; k < numKinds; k++ {
		if !seen[k] {
			t.Errorf("kind %v: got no sample message, want at least one", k)
		}
	}
}

func TestEncodeDecode(t *testing.T) {
	for _, tc := range sampleMessages() {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.msg
			m.FDs = make([]int, tc.nfds) // values are not encoded
			b := encode(t, m)
			if len(b) < HeaderLen+0 || len(b) > HeaderLen+maxPayload(m.Kind()) {
				t.Fatalf("encoded length: got %d, want %d to %d", len(b), HeaderLen, HeaderLen+maxPayload(m.Kind()))
			}
			got, err := Decode(b, tc.nfds)
			if err != nil {
				t.Fatalf("decode: got %v, want no error", err)
			}
			if !reflect.DeepEqual(got, tc.msg) {
				t.Errorf("decoded: got %+v, want %+v", got, tc.msg)
			}
			if tc.nfds > 0 {
				if _, err := got.AppendBinary(nil); !errors.Is(err, ErrFDCount) {
					t.Errorf("re-encode without descriptors: got %v, want %v", err, ErrFDCount)
				}
			}
			got.FDs = m.FDs
			if again, err := got.AppendBinary(nil); err != nil || !bytes.Equal(again, b) {
				t.Errorf("re-encode: got %x, %v, want %x", again, err, b)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	hello := encode(t, Message{Body: Hello{Version: Version, Role: RoleWorker, PID: 9}})
	withByte := func(b []byte, off int, v byte) []byte {
		c := bytes.Clone(b)
		c[off] = v
		return c
	}
	logOf := func(text string) []byte {
		return datagram(Version, KindLog, 0, OK, 0, 0, append([]byte{byte(LevelInfo)}, text...))
	}
	fdsPayload := func(count uint16, entries ...byte) []byte {
		return append([]byte{0, 0, byte(count), byte(count >> 8)}, entries...)
	}
	reply := func(code ErrCode, op BrokerOp, reason Decision, ports bool) []byte {
		p := []byte{byte(op), byte(reason), 0, 0}
		if ports {
			p[2] = 1
			p = append(p, make([]byte, PortSetLen)...)
		}
		return datagram(Version, KindBrokerReply, 1, code, 0, 0, p)
	}
	tests := []struct {
		name    string
		data    []byte
		nfds    int
		wantErr error
	}{
		{name: "empty", data: nil, wantErr: ErrMalformed},
		{name: "one byte", data: []byte{'P'}, wantErr: ErrMalformed},
		{name: "header cut", data: hello[:HeaderLen-1], wantErr: ErrMalformed},
		{name: "bad magic", data: withByte(hello, 0, 'X'), wantErr: ErrMalformed},
		{name: "unknown kind", data: datagram(Version, 99, 0, OK, 0, 0, nil), wantErr: ErrMalformed},
		{name: "kind zero", data: datagram(Version, 0, 0, OK, 0, 0, nil), wantErr: ErrMalformed},
		{name: "unknown code", data: datagram(Version, KindReady, 0, numCodes, 0, 0, nil), wantErr: ErrMalformed},
		{name: "unknown flag", data: datagram(Version, KindReady, 0, OK, 0x80, 0, nil), wantErr: ErrMalformed},
		{name: "fragment flag", data: datagram(Version, KindReady, 0, OK, flagMore, 0, nil), wantErr: ErrMalformed},
		{name: "length over data", data: hello[:len(hello)-1], wantErr: ErrMalformed},
		{name: "trailing byte", data: append(bytes.Clone(hello), 0), wantErr: ErrMalformed},
		{name: "header fds over limit", data: datagram(Version, KindReady, 0, OK, 0, 254, nil), nfds: 254, wantErr: ErrTooLarge},
		{name: "header fds disagree", data: datagram(Version, KindReady, 0, OK, 0, 1, nil), nfds: 0, wantErr: ErrFDCount},
		{name: "Ready with fd", data: datagram(Version, KindReady, 0, OK, 0, 1, nil), nfds: 1, wantErr: ErrFDCount},
		{name: "Hello with fds", data: datagram(Version, KindHello, 0, OK, 0, 2, hello[HeaderLen:]), nfds: 2, wantErr: ErrFDCount},
		{name: "FDs entries over fds", data: datagram(Version, KindFDs, 0, OK, 0, 1, fdsPayload(2, 3, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0)), nfds: 1, wantErr: ErrFDCount},
		{name: "FDs fds over entries", data: datagram(Version, KindFDs, 0, OK, 0, 2, fdsPayload(1, 3, 0, 0, 0, 0, 0, 0, 0)), nfds: 2, wantErr: ErrFDCount},
		{name: "FDs count over payload", data: datagram(Version, KindFDs, 0, OK, 0, 2, fdsPayload(2, 3, 0, 0, 0, 0, 0, 0, 0)), nfds: 2, wantErr: ErrMalformed},
		{name: "FDs count over limit", data: datagram(Version, KindFDs, 0, OK, 0, 0, fdsPayload(300)), wantErr: ErrMalformed},
		{name: "FDs unknown role", data: datagram(Version, KindFDs, 0, OK, 0, 1, fdsPayload(1, 10, 0, 0, 0, 0, 0, 0, 0)), nfds: 1, wantErr: ErrMalformed},
		{name: "FDs unknown proto", data: datagram(Version, KindFDs, 0, OK, 0, 1, fdsPayload(1, 4, 1, 0, 0, 0, 0, 0, 0)), nfds: 1, wantErr: ErrMalformed},
		{name: "FDs flag 2", data: datagram(Version, KindFDs, 0, OK, 0, 0, []byte{2, 0, 0, 0}), wantErr: ErrMalformed},
		{name: "FDs short", data: datagram(Version, KindFDs, 0, OK, 0, 0, []byte{0, 0, 0}), wantErr: ErrMalformed},
		{name: "Hello short", data: datagram(Version, KindHello, 0, OK, 0, 0, hello[HeaderLen:HeaderLen+7]), wantErr: ErrMalformed},
		{name: "Hello role 3", data: withByte(hello, HeaderLen+2, 3), wantErr: ErrMalformed},
		{name: "Hello reserved", data: withByte(hello, HeaderLen+3, 1), wantErr: ErrMalformed},
		{name: "Hello pid 0", data: datagram(Version, KindHello, 0, OK, 0, 0, []byte{1, 0, 2, 0, 0, 0, 0, 0}), wantErr: ErrMalformed},
		{name: "Hello with status", data: datagram(Version, KindHello, 0, Denied, 0, 0, hello[HeaderLen:]), wantErr: ErrMalformed},
		{name: "Ready with payload", data: datagram(Version, KindReady, 0, OK, 0, 0, []byte{0}), wantErr: ErrTooLarge},
		{name: "Config over limit", data: datagram(Version, KindConfig, 0, OK, 0, 0, make([]byte, MaxConfig+1)), wantErr: ErrTooLarge},
		{name: "Log newline", data: logOf("ok\nforged line"), wantErr: ErrMalformed},
		{name: "Log escape", data: logOf("\x1b[2J"), wantErr: ErrMalformed},
		{name: "Log C1 control", data: logOf("a\u0085b"), wantErr: ErrMalformed},
		{name: "Log invalid UTF-8", data: logOf("a\xffb"), wantErr: ErrMalformed},
		{name: "Log over limit", data: logOf(strings.Repeat("x", MaxLogText+1)), wantErr: ErrTooLarge},
		{name: "Log no level", data: datagram(Version, KindLog, 0, OK, 0, 0, nil), wantErr: ErrMalformed},
		{name: "Log level 0", data: datagram(Version, KindLog, 0, OK, 0, 0, []byte{0, 'a'}), wantErr: ErrMalformed},
		{name: "Stats bad name", data: datagram(Version, KindStats, 0, OK, 0, 0, []byte{1, 0, 2, 'a', ' ', 0, 0, 0, 0, 0, 0, 0, 0}), wantErr: ErrMalformed},
		{name: "Stats empty name", data: datagram(Version, KindStats, 0, OK, 0, 0, []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), wantErr: ErrMalformed},
		{name: "Stats cut value", data: datagram(Version, KindStats, 0, OK, 0, 0, []byte{1, 0, 1, 'a', 0, 0, 0}), wantErr: ErrMalformed},
		{name: "Stats trailing", data: datagram(Version, KindStats, 0, OK, 0, 0, []byte{0, 0, 1}), wantErr: ErrMalformed},
		{name: "BrokerRequest addr 5 bytes", data: datagram(Version, KindBrokerRequest, 0, OK, 0, 0, []byte{1, 6, 4, 1, 0, 5, 80, 0, 1, 2, 3, 4, 5, 0}), wantErr: ErrMalformed},
		{name: "BrokerRequest addr cut", data: datagram(Version, KindBrokerRequest, 0, OK, 0, 0, []byte{1, 6, 4, 1, 0, 16, 80, 0, 1, 2, 3}), wantErr: ErrMalformed},
		{name: "BrokerRequest ifname long", data: datagram(Version, KindBrokerRequest, 0, OK, 0, 0, append([]byte{2, 6, 4, 0, 0, 0, 80, 0, 16}, "0123456789abcdef"...)), wantErr: ErrMalformed},
		{name: "BrokerRequest trailing", data: datagram(Version, KindBrokerRequest, 0, OK, 0, 0, []byte{3, 6, 0, 0, 2, 0, 0, 0, 0, 0}), wantErr: ErrMalformed},
		{name: "BrokerReply OK socket without fd", data: reply(OK, OpNSSocket, Allow, false), wantErr: ErrFDCount},
		{name: "BrokerReply denied with fd", data: datagram(Version, KindBrokerReply, 1, Denied, 0, 1, []byte{1, byte(DenyPort), 0, 0}), nfds: 1, wantErr: ErrFDCount},
		{name: "BrokerReply denied without reason", data: reply(Denied, OpHostListener, Allow, false), wantErr: ErrMalformed},
		{name: "BrokerReply reason with OK", data: datagram(Version, KindBrokerReply, 1, OK, 0, 1, []byte{1, byte(DenyPort), 0, 0}), nfds: 1, wantErr: ErrMalformed},
		{name: "BrokerReply unknown reason", data: reply(Denied, OpRescan, numDecisions, false), wantErr: ErrMalformed},
		{name: "BrokerReply unknown op", data: reply(Denied, 0, DenyOp, false), wantErr: ErrMalformed},
		{name: "BrokerReply rescan without ports", data: reply(OK, OpRescan, Allow, false), wantErr: ErrMalformed},
		{name: "BrokerReply ports on failure", data: reply(Internal, OpRescan, Allow, true), wantErr: ErrMalformed},
		{name: "Unlisten not a listener", data: datagram(Version, KindUnlisten, 0, OK, 0, 0, []byte{byte(FDTap), 0, 1, 0, 80, 0, 0, 0}), wantErr: ErrMalformed},
		{name: "Unlisten port 0", data: datagram(Version, KindUnlisten, 0, OK, 0, 0, []byte{byte(FDTCPListener), 0, 1, 0, 0, 0, 0, 0}), wantErr: ErrMalformed},
		{name: "Unlisten reserved", data: datagram(Version, KindUnlisten, 0, OK, 0, 0, []byte{byte(FDTCPListener), 0, 1, 1, 80, 0, 0, 0}), wantErr: ErrMalformed},
		{name: "Unlisten short", data: datagram(Version, KindUnlisten, 0, OK, 0, 0, []byte{byte(FDTCPListener), 0, 1, 0, 80, 0, 0}), wantErr: ErrMalformed},
		{name: "Unlisten with fd", data: datagram(Version, KindUnlisten, 0, OK, 0, 1, []byte{byte(FDTCPListener), 0, 1, 0, 80, 0, 0, 0}), nfds: 1, wantErr: ErrFDCount},
		{name: "Unlisten with status", data: datagram(Version, KindUnlisten, 0, Denied, 0, 0, []byte{byte(FDTCPListener), 0, 1, 0, 80, 0, 0, 0}), wantErr: ErrMalformed},
		{name: "BrokerReply ports cut", data: datagram(Version, KindBrokerReply, 1, OK, 0, 0, append([]byte{byte(OpRescan), 0, 1, 0}, make([]byte, 100)...)), wantErr: ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode(tc.data, tc.nfds)
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("got %+v, %v, want error %v", m, err, tc.wantErr)
			}
		})
	}
}

func TestDecodeVersionMismatch(t *testing.T) {
	tests := []struct {
		name    string
		version uint16
	}{
		{name: "older", version: 0},
		{name: "newer", version: Version + 1},
		{name: "far", version: 0xffff},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(datagram(tc.version, KindReady, 0, OK, 0, 0, nil), 0)
			var ve *VersionError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a *VersionError", err)
			}
			if ve.Got != tc.version || ve.Want != Version {
				t.Errorf("got versions %d/%d, want %d/%d", ve.Got, ve.Want, tc.version, Version)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, fmt.Sprint(tc.version)) {
				t.Errorf("got message %q, want one line naming version %d", msg, tc.version)
			}
		})
	}
	// A Hello that claims another version inside a current header.
	p := []byte{byte(Version + 1), 0, byte(RoleWorker), 0, 1, 0, 0, 0}
	_, err := Decode(datagram(Version, KindHello, 0, OK, 0, 0, p), 0)
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Got != Version+1 {
		t.Errorf("Hello with version %d: got %v, want a *VersionError", Version+1, err)
	}
}

func TestEncodeRejects(t *testing.T) {
	tests := []struct {
		name    string
		msg     Message
		wantErr error
	}{
		{name: "no body", msg: Message{}, wantErr: ErrMalformed},
		{name: "Hello other version", msg: Message{Body: Hello{Version: 2, Role: RoleMonitor, PID: 1}}, wantErr: &VersionError{}},
		{name: "Hello no role", msg: Message{Body: Hello{Version: Version, PID: 1}}, wantErr: ErrMalformed},
		{name: "Hello pid 0", msg: Message{Body: Hello{Version: Version, Role: RoleWorker}}, wantErr: ErrMalformed},
		{name: "Ready with status", msg: Message{Code: Internal, Body: Ready{}}, wantErr: ErrMalformed},
		{name: "Ready with fd", msg: Message{Body: Ready{}, FDs: []int{0}}, wantErr: ErrFDCount},
		{name: "unknown code", msg: Message{Code: numCodes, Body: Shutdown{}}, wantErr: ErrMalformed},
		{name: "Config over limit", msg: Message{Body: Config{Blob: make([]byte, MaxConfig+1)}}, wantErr: ErrTooLarge},
		{name: "FDs missing fd", msg: Message{Body: FDs{Entries: []FDEntry{{Role: FDLog}}}}, wantErr: ErrFDCount},
		{name: "FDs bad role", msg: Message{Body: FDs{Entries: []FDEntry{{Role: 0}}}, FDs: []int{0}}, wantErr: ErrMalformed},
		{name: "FDs bad family", msg: Message{Body: FDs{Entries: []FDEntry{{Role: FDTCPListener, Family: 5}}}, FDs: []int{0}}, wantErr: ErrMalformed},
		{name: "FDs over limit", msg: Message{Body: FDs{Entries: make([]FDEntry, MaxFDs+1)}, FDs: make([]int, MaxFDs+1)}, wantErr: ErrTooLarge},
		{name: "BrokerRequest zone", msg: Message{Body: BrokerRequest{Op: OpNSSocket, Addr: netip.MustParseAddr("fe80::1%eth0")}}, wantErr: ErrMalformed},
		{name: "BrokerRequest long ifname", msg: Message{Body: BrokerRequest{Op: OpHostListener, Ifname: "0123456789abcdef"}}, wantErr: ErrMalformed},
		{name: "BrokerReply no fd", msg: Message{Body: BrokerReply{Op: OpHostListener}}, wantErr: ErrFDCount},
		{name: "BrokerReply bad op", msg: Message{Code: Denied, Body: BrokerReply{Op: 9, Reason: DenyOp}}, wantErr: ErrMalformed},
		{name: "BrokerReply denied no reason", msg: Message{Code: Denied, Body: BrokerReply{Op: OpRescan}}, wantErr: ErrMalformed},
		{name: "BrokerReply stray ports", msg: Message{Code: Denied, Body: BrokerReply{Op: OpNSSocket, Reason: DenyPort, Ports: &PortSet{}}}, wantErr: ErrMalformed},
		{name: "Stats bad name", msg: Message{Body: Stats{Counters: []Counter{{Name: "a b"}}}}, wantErr: ErrMalformed},
		{name: "Stats over limit", msg: Message{Body: Stats{Counters: make([]Counter, MaxCounters+1)}}, wantErr: ErrMalformed},
		{name: "Log control", msg: Message{Body: Log{Level: LevelInfo, Text: "a\rb"}}, wantErr: ErrMalformed},
		{name: "Log replacement char", msg: Message{Body: Log{Level: LevelInfo, Text: "a\uFFFDb"}}, wantErr: ErrMalformed},
		{name: "Log no level", msg: Message{Body: Log{Text: "a"}}, wantErr: ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefix := []byte("keep")
			b, err := tc.msg.AppendBinary(prefix)
			var ve *VersionError
			if _, wantVersion := tc.wantErr.(*VersionError); wantVersion && !errors.As(err, &ve) ||
				!wantVersion && !errors.Is(err, tc.wantErr) {
				t.Errorf("got %v, want %v", err, tc.wantErr)
			}
			if !bytes.Equal(b, prefix) {
				t.Errorf("buffer after failure: got %q, want %q", b, prefix)
			}
		})
	}
}

func TestCodeOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want ErrCode
	}{
		{name: "nil", err: nil, want: OK},
		{name: "EACCES", err: syscall.EACCES, want: Denied},
		{name: "wrapped EADDRINUSE", err: fmt.Errorf("bind: %w", syscall.EADDRINUSE), want: InUse},
		{name: "ENODEV", err: syscall.ENODEV, want: NotFound},
		{name: "EINVAL", err: syscall.EINVAL, want: Invalid},
		{name: "ECONNREFUSED", err: syscall.ECONNREFUSED, want: Refused},
		{name: "EAFNOSUPPORT", err: syscall.EAFNOSUPPORT, want: Unsupported},
		{name: "EMFILE", err: syscall.EMFILE, want: Internal},
		{name: "remote error", err: fmt.Errorf("x: %w", NotFound.Err()), want: NotFound},
		{name: "other error", err: errors.New("x"), want: Internal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := CodeOf(tc.err); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if OK.Err() != nil || Denied.Err() == nil {
		t.Errorf("Err: got %v, %v, want nil, non-nil", OK.Err(), Denied.Err())
	}
}

func TestSentBy(t *testing.T) {
	tests := []struct {
		kind            Kind
		monitor, worker bool
	}{
		{KindHello, true, true},
		{KindConfig, true, false},
		{KindFDs, true, false},
		{KindReady, false, true},
		{KindBrokerRequest, false, true},
		{KindBrokerReply, true, false},
		{KindShutdown, true, true},
		{KindStats, false, true},
		{KindLog, false, true},
		{KindUnlisten, true, false},
		{numKinds, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.kind.String(), func(t *testing.T) {
			if got := tc.kind.SentBy(RoleMonitor); got != tc.monitor {
				t.Errorf("from monitor: got %v, want %v", got, tc.monitor)
			}
			if got := tc.kind.SentBy(RoleWorker); got != tc.worker {
				t.Errorf("from worker: got %v, want %v", got, tc.worker)
			}
			if tc.kind.SentBy(0) {
				t.Errorf("from role 0: got true, want false")
			}
		})
	}
}
