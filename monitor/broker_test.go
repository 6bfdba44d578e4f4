// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package monitor

import (
	"net/netip"
	"testing"

	"passt-go/conf"
	"passt-go/host"
	"passt-go/ipc"
)

func resolved(t *testing.T, mode conf.Mode, args ...string) *conf.Config {
	t.Helper()
	opts, _, err := conf.Parse(mode, args)
	if err != nil {
		t.Fatal(err)
	}
	info := &host.Info{
		V4: &host.Family{Ifname: "eth0", Ifindex: 2, MTU: 1500,
			Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}, Gateway: netip.MustParseAddr("192.0.2.1")},
		EphemeralPorts: [2]uint16{49152, 65535},
	}
	cfg, err := conf.Resolve(opts, info)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The allowance the monitor derives grants exactly the configured ports.
func TestAllowanceFromConfig(t *testing.T) {
	cfg := resolved(t, conf.Passt, "-t", "8080,9000-9001", "-u", "5353")
	a := allowance(cfg)
	tests := []struct {
		name string
		req  ipc.BrokerRequest
		want bool
	}{
		{"tcp 8080", ipc.BrokerRequest{Op: ipc.OpHostListener, Proto: ipc.TCP, Family: ipc.IPv4, Addr: netip.IPv4Unspecified(), Port: 8080}, true},
		{"tcp 9001", ipc.BrokerRequest{Op: ipc.OpHostListener, Proto: ipc.TCP, Family: ipc.IPv4, Addr: netip.IPv4Unspecified(), Port: 9001}, true},
		{"tcp 8081", ipc.BrokerRequest{Op: ipc.OpHostListener, Proto: ipc.TCP, Family: ipc.IPv4, Addr: netip.IPv4Unspecified(), Port: 8081}, false},
		{"udp 8080", ipc.BrokerRequest{Op: ipc.OpHostListener, Proto: ipc.UDP, Family: ipc.IPv4, Addr: netip.IPv4Unspecified(), Port: 8080}, false},
		{"udp 5353", ipc.BrokerRequest{Op: ipc.OpHostListener, Proto: ipc.UDP, Family: ipc.IPv4, Addr: netip.IPv4Unspecified(), Port: 5353}, true},
		{"ns socket in passt mode", ipc.BrokerRequest{Op: ipc.OpNSSocket, Proto: ipc.TCP, Family: ipc.IPv4, Action: ipc.NSConnect, Addr: netip.MustParseAddr("127.0.0.1"), Port: 8080}, false},
		{"rescan without auto", ipc.BrokerRequest{Op: ipc.OpRescan, Proto: ipc.TCP, Side: ipc.SideHost}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ipc.Decide(a, tc.req).Allowed(); got != tc.want {
				t.Errorf("got allowed %v (%v), want %v", got, ipc.Decide(a, tc.req), tc.want)
			}
		})
	}
}
