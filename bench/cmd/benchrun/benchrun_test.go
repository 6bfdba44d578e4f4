// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantPPID  int
		wantTicks uint64
		wantErr   bool
	}{
		{
			name:      "plain",
			in:        "42 (pasta) S 7 42 42 0 -1 4194560 100 0 0 0 11 22 3 4 20 0 1 0 5 1000 200",
			wantPPID:  7,
			wantTicks: 11 + 22 + 3 + 4,
		},
		{
			name:      "name with spaces and parentheses",
			in:        "43 (a (b) c) R 1 43 43 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 5 1000 200",
			wantPPID:  1,
			wantTicks: 11,
		},
		{name: "short", in: "44 (x) S 1 2 3", wantErr: true},
		{name: "no name", in: "45 x S 1", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStat([]byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if got.ppid != tc.wantPPID || got.ticks != tc.wantTicks {
				t.Errorf("got ppid %d ticks %d, want %d %d", got.ppid, got.ticks, tc.wantPPID, tc.wantTicks)
			}
		})
	}
}

func TestReadStatSelf(t *testing.T) {
	s, err := readStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.ppid != os.Getppid() {
		t.Errorf("got ppid %d, want %d", s.ppid, os.Getppid())
	}
	if _, err := cpuSeconds(os.Getpid()); err != nil {
		t.Error(err)
	}
	if kib, err := rssKiB(os.Getpid()); err != nil || kib <= 0 {
		t.Errorf("rssKiB = %d, %v", kib, err)
	}
}

func TestTCPTableListens(t *testing.T) {
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1451 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:14B5 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1
`
	tests := []struct {
		port int
		want bool
	}{
		{5201, true},  // 0x1451, listening
		{5301, false}, // 0x14B5, established only
		{80, false},
	}
	for _, tc := range tests {
		if got := tcpTableListens([]byte(table), tc.port); got != tc.want {
			t.Errorf("port %d: got %v, want %v", tc.port, got, tc.want)
		}
	}
}

func TestStats(t *testing.T) {
	tests := []struct {
		name         string
		in           []float64
		med, lo, hi  float64
		unchangedArg bool
	}{
		{name: "one", in: []float64{3}, med: 3, lo: 3, hi: 3},
		{name: "odd", in: []float64{5, 1, 3}, med: 3, lo: 1, hi: 5},
		{name: "even", in: []float64{4, 1, 2, 3}, med: 2.5, lo: 1, hi: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first := tc.in[0]
			med, lo, hi := stats(tc.in)
			if med != tc.med || lo != tc.lo || hi != tc.hi {
				t.Errorf("got %v %v %v, want %v %v %v", med, lo, hi, tc.med, tc.lo, tc.hi)
			}
			if tc.in[0] != first {
				t.Errorf("stats reordered its argument")
			}
		})
	}
}

func TestSig3(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{1234.5, "1234"},
		{22.04, "22.0"},
		{5, "5.00"},
		{0.0384, "0.038"},
		{0.00049, "0.00049"},
	}
	for _, tc := range tests {
		if got := sig3(tc.in); got != tc.want {
			t.Errorf("sig3(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestIperfResult(t *testing.T) {
	const out = `{
	"intervals": [
		{"sum": {"seconds": 1.0, "bits_per_second": 9e9}},
		{"sum": {"seconds": 1.0, "bits_per_second": 2e9}},
		{"sum": {"seconds": 1.0, "bits_per_second": 8e9}},
		{"sum": {"seconds": 1.0, "bits_per_second": 7e9}},
		{"sum": {"seconds": 0.001, "bits_per_second": 1e3}}
	],
	"end": {
		"sum_sent": {"bytes": 1375000000, "bits_per_second": 5.5e9, "retransmits": 7},
		"sum_received": {"bytes": 1250000000, "bits_per_second": 5e9},
		"sum": {"bits_per_second": 1e9, "lost_percent": 0.5}
	}
}`
	var r iperfResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	r.cpu = 2
	if got := r.receivedGbps(); got != 5 {
		t.Errorf("receivedGbps = %v, want 5", got)
	}
	if got := r.slowestGbps(); got != 2 {
		t.Errorf("slowestGbps = %v, want 2 (the short last interval left out)", got)
	}
	if got := r.slowestOfMedian(); got != 100*2/7.5 {
		t.Errorf("slowestOfMedian = %v, want %v (2 of the median 7.5)", got, 100*2/7.5)
	}
	if got := r.cpuPerGbit(); got != 0.2 {
		t.Errorf("cpuPerGbit = %v, want 0.2", got)
	}
	if r.End.SumSent.Retransmits == nil || *r.End.SumSent.Retransmits != 7 {
		t.Errorf("retransmits = %v, want 7", r.End.SumSent.Retransmits)
	}
	u, err := r.udp("udp_out")
	if err != nil || u["udp_out_loss"] != 0.5 || u["udp_out_gbps"] != 5 || u["udp_out_cpu"] != 0.2 {
		t.Errorf("udp = %v, %v", u, err)
	}
	r.cpu = math.NaN()
	if got := r.cpuPerGbit(); !math.IsNaN(got) {
		t.Errorf("cpuPerGbit without a process = %v, want NaN", got)
	}
}

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		check   func(*options) bool
		wantErr bool
	}{
		{name: "defaults", args: nil, check: func(o *options) bool {
			return o.runs == 3 && o.duration == 10 && len(o.impls) == len(allImpls) && len(o.workloads) == len(allWorkloads)
		}},
		{name: "quick", args: []string{"-quick"}, check: func(o *options) bool {
			return o.runs == 1 && o.duration == 3 && o.short == 2 && o.rrDuration == time.Second
		}},
		{name: "quick keeps explicit values", args: []string{"-quick", "-runs", "2", "-duration", "30"}, check: func(o *options) bool {
			return o.runs == 2 && o.duration == 30 && o.short == 2
		}},
		{name: "columns in canonical order", args: []string{"-impls", "ours,veth,pasta"}, check: func(o *options) bool {
			return strings.Join(o.impls, ",") == "veth,pasta,ours"
		}},
		{name: "unknown implementation", args: []string{"-impls", "vpnkit"}, wantErr: true},
		{name: "unknown workload", args: []string{"-workloads", "tcp-sideways"}, wantErr: true},
		{name: "runs out of range", args: []string{"-runs", "0"}, wantErr: true},
		{name: "stray argument", args: []string{"extra"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseOptions(tc.args)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err == nil && !tc.check(o) {
				t.Errorf("got %+v", o)
			}
		})
	}
}

// TestReport checks the cells: median, spread and ratios, dashes where a
// metric does not apply, and n/a with a numbered reason.
func TestReport(t *testing.T) {
	o, err := parseOptions([]string{"-impls", "veth,pasta,slirp4netns,ours", "-workloads", "tcp-out,tcp-nslo"})
	if err != nil {
		t.Fatal(err)
	}
	b := &bench{opt: o, res: newResults()}
	impls := b.implList()
	for _, im := range impls {
		im.unavailable = ""
	}
	impls[3].unavailable = "pasta mode: not supported yet"
	for _, v := range []float64{20, 22, 21} {
		b.res.add("veth", "tcp_out_gbps", v)
	}
	for _, v := range []float64{10, 11} {
		b.res.add("pasta", "tcp_out_gbps", v)
	}
	b.res.fail("pasta", "tcp_out_gbps", "iperf3: timed out")
	b.res.add("slirp4netns", "tcp_out_gbps", 5.25)

	text, md := b.report(impls, time.Second)
	for _, want := range []string{
		"21.0 [20.0-22.0] d2.00",                              // veth: ratio to Debian's pasta
		"10.5 [10.0-11.0] v0.500 (2/3)[1]",                    // pasta: partial
		"5.25 v0.250 d0.500",                                  // slirp4netns
		"[1] pasta (Debian): iperf3: timed out",               // footnote of the partial cell
		"[2] pasta (passt-go): pasta mode: not supported yet", // unavailable column
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text table lacks %q:\n%s", want, text)
		}
	}
	nslo := ""
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "TCP ns lo->host lo (-T), Gbit/s") {
			nslo = l
		}
	}
	if f := strings.Fields(nslo); len(f) < 4 || !strings.Contains(nslo, " - ") {
		t.Errorf("slirp4netns has no -T: want a dash in %q", nslo)
	}
	if !strings.HasPrefix(md, "<!-- SPDX-License-Identifier: GPL-2.0-or-later -->") || !strings.Contains(md, "| ---: |") {
		t.Errorf("markdown malformed:\n%s", md)
	}

	path := filepath.Join(t.TempDir(), "results.json")
	b.res.save(path, impls, o)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var parsed map[string]any
	if err := json.Unmarshal(raw, &parsed); err != nil {
		t.Fatalf("results.json: %v", err)
	}
}
