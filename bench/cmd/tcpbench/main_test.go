// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package main

import (
	"net"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	sorted := make([]time.Duration, 100)
	for i := range sorted {
		sorted[i] = time.Duration(i+1) * time.Microsecond
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0.50, 50 * time.Microsecond},
		{0.99, 99 * time.Microsecond},
		{0.999, 100 * time.Microsecond},
		{0, 1 * time.Microsecond},
		{1, 100 * time.Microsecond},
	}
	for _, tc := range tests {
		if got := percentile(sorted, tc.q); got != tc.want {
			t.Errorf("percentile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if got := percentile([]time.Duration{7}, 0.99); got != 7 {
		t.Errorf("single sample: got %v, want 7", got)
	}
}

func TestSummarise(t *testing.T) {
	lat := []time.Duration{3 * time.Microsecond, 1 * time.Microsecond, 2 * time.Microsecond}
	r := summarise(lat, 1)
	if r.Transactions != 3 || r.MinUS != 1 || r.P50US != 2 || r.MaxUS != 3 || r.MeanUS != 2 || r.PerSecond != 3 {
		t.Errorf("got %+v", r)
	}
	if empty := summarise(nil, 1); empty.Transactions != 0 || empty.P50US != 0 {
		t.Errorf("empty: got %+v", empty)
	}
}

// TestEchoLoopback runs one connect, echo, close over loopback.
func TestEchoLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback: %v", err)
	}
	defer ln.Close()
	go func() {
		for range 2 {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go echo(c, 8, 5*time.Second)
		}
	}()
	d := net.Dialer{Timeout: 2 * time.Second}
	buf := []byte("12345678")
	for range 2 {
		if err := oneConn(&d, ln.Addr().String(), buf, 2*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if string(buf) != "12345678" {
		t.Errorf("echo: got %q", buf)
	}
}
