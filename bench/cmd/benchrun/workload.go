// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// format says how a metric's figures are printed.
type format int

const (
	fmtRate  format = iota // Gbit/s, three significant digits
	fmtCount               // integer
	fmtPct                 // percent, two decimals
	fmtReal                // three significant digits
)

// metric is one row of the table.
type metric struct {
	id       string
	workload string // the workload (or phase) that produces it
	label    string
	format   format
}

// metrics lists the rows in table order.
var metrics = []metric{
	{"tcp_out_gbps", "tcp-out", "TCP ns->host, Gbit/s", fmtRate},
	{"tcp_out_min", "tcp-out", "TCP ns->host, slowest 1 s, Gbit/s", fmtRate},
	{"tcp_out_stall", "tcp-out", "TCP ns->host, slowest 1 s / median 1 s, %", fmtPct},
	{"tcp_out_retr", "tcp-out", "TCP ns->host, retransmits", fmtCount},
	{"tcp_out_cpu", "tcp-out", "TCP ns->host, CPU s/Gbit", fmtReal},
	{"tcp_paced_gbps", "tcp-paced", "TCP ns->host paced, Gbit/s", fmtRate},
	{"tcp_paced_cpu", "tcp-paced", "TCP ns->host paced, CPU s/Gbit", fmtReal},
	{"tcp_in_lo_gbps", "tcp-in-lo", "TCP host->ns, -t via 127.0.0.1, Gbit/s", fmtRate},
	{"tcp_in_lo_cpu", "tcp-in-lo", "TCP host->ns, -t via 127.0.0.1, CPU s/Gbit", fmtReal},
	{"tcp_in_addr_gbps", "tcp-in-addr", "TCP host->ns, -t via host address, Gbit/s", fmtRate},
	{"tcp_in_addr_cpu", "tcp-in-addr", "TCP host->ns, -t via host address, CPU s/Gbit", fmtReal},
	{"tcp_nslo_gbps", "tcp-nslo", "TCP ns lo->host lo (-T), Gbit/s", fmtRate},
	{"tcp_nslo_cpu", "tcp-nslo", "TCP ns lo->host lo (-T), CPU s/Gbit", fmtReal},
	{"udp_out_gbps", "udp-out", "UDP ns->host, received Gbit/s", fmtRate},
	{"udp_out_loss", "udp-out", "UDP ns->host, loss %", fmtPct},
	{"udp_out_cpu", "udp-out", "UDP ns->host, CPU s/Gbit", fmtReal},
	{"udp_in_gbps", "udp-in", "UDP host->ns, received Gbit/s", fmtRate},
	{"udp_in_loss", "udp-in", "UDP host->ns, loss %", fmtPct},
	{"udp_in_cpu", "udp-in", "UDP host->ns, CPU s/Gbit", fmtReal},
	{"crr_cps", "crr", "TCP connect+echo+close ns->host, conn/s", fmtCount},
	{"rr_p50", "rr", "TCP request/response ns->host, 1 CPU, p50 us", fmtReal},
	{"rr_p99", "rr", "TCP request/response ns->host, 1 CPU, p99 us", fmtReal},
	{"startup_ms", "startup", "start-up (--config-net -- true), ms", fmtReal},
	{"rss_idle_mib", "rss", "idle memory (PSS) after start, MiB", fmtReal},
	{"rss_load_mib", "rss", "memory (PSS) after the workloads, MiB", fmtReal},
}

// applies reports whether metric id makes sense for an implementation;
// a cell where it does not shows a dash rather than n/a.
func applies(im *impl, id string) bool {
	switch {
	case im.kind == kindVeth && (strings.HasSuffix(id, "_cpu") || strings.HasPrefix(id, "rss_")):
		return false // no process to measure
	case strings.HasPrefix(id, "tcp_nslo_"):
		return im.kind == kindVeth || im.kind == kindPasta // only pasta has -T
	case id == "startup_ms":
		return im.kind != kindPasst
	}
	return true
}

// workload produces the figures of some metrics from a running instance.
type workload struct {
	id  string
	run func(ctx context.Context, b *bench, in *instance) (map[string]float64, error)
}

// workloads lists the workloads run against an instance, in order. The
// "startup" and "rss" phases are handled by the run loop.
var workloads = []workload{
	{"tcp-out", func(ctx context.Context, b *bench, in *instance) (map[string]float64, error) {
		r, err := b.iperf(ctx, in, "tcp-out", in.host, in.guest, portHostIperf, in.toHost, b.opt.duration)
		if err != nil {
			return nil, err
		}
		out := map[string]float64{
			"tcp_out_gbps":  r.receivedGbps(),
			"tcp_out_min":   r.slowestGbps(),
			"tcp_out_stall": r.slowestOfMedian(),
			"tcp_out_cpu":   r.cpuPerGbit(),
		}
		if r.End.SumSent.Retransmits != nil {
			out["tcp_out_retr"] = float64(*r.End.SumSent.Retransmits)
		}
		return out, nil
	}},
	{"tcp-paced", func(ctx context.Context, b *bench, in *instance) (map[string]float64, error) {
		r, err := b.iperf(ctx, in, "tcp-paced", in.host, in.guest, portHostIperf, in.toHost, b.opt.short, "-b", b.opt.pace)
		if err != nil {
			return nil, err
		}
		return map[string]float64{"tcp_paced_gbps": r.receivedGbps(), "tcp_paced_cpu": r.cpuPerGbit()}, nil
	}},
	{"tcp-in-lo", func(ctx context.Context, b *bench, in *instance) (map[string]float64, error) {
		if in.fwdErr != "" {
			return nil, errors.New(in.fwdErr)
		}
		r, err := b.iperf(ctx, in, "tcp-in-lo", in.guest, in.host, portGuestIperf, in.fwdLo, b.opt.short)
		if err != nil {
			return nil, err
		}
		return map[string]float64{"tcp_in_lo_gbps": r.receivedGbps(), "tcp_in_lo_cpu": r.cpuPerGbit()}, nil
	}},
	{"tcp-in-addr", func(ctx context.Context, b *bench, in *instance) (map[string]float64, error) {
		if in.fwdErr != "" {
			return nil, errors.New(in.fwdErr)
		}
		r, err := b.iperf(ctx, in, "tcp-in-addr", in.guest, in.host, portGuestIperf, in.fwdAddr, b.opt.short)
		if err != nil {
			return nil, err
		}
		return map[string]float64{"tcp_in_addr_gbps": r.receivedGbps(), "tcp_in_addr_cpu": r.cpuPerGbit()}, nil
	}},
	{"tcp-nslo", func(ctx context.Context, b *bench, in *instance) (map[string]float64, error) {
		if in.fwdErr != "" {
			return nil, errors.New(in.fwdErr)
		}
		r, err := b.iperf(ctx, in, "tcp-nslo", in.host, in.guest, portHostIperf, in.nsLo, b.opt.short)
		if err != nil {
			return nil, err
		}
		return map[string]float64{"tcp_nslo_gbps": r.receivedGbps(), "tcp_nslo_cpu": r.cpuPerGbit()}, nil
	}},
	{"udp-out", func(ctx context.Context, b *bench, in *instance) (map[string]float64, error) {
		r, err := b.iperf(ctx, in, "udp-out", in.host, in.guest, portHostIperf, in.toHost, b.opt.short,
			b.udpArgs()...)
		if err != nil {
			return nil, err
		}
		return r.udp("udp_out")
	}},
	{"udp-in", func(ctx context.Context, b *bench, in *instance) (map[string]float64, error) {
		r, err := b.iperf(ctx, in, "udp-in", in.host, in.guest, portHostIperf, in.toHost, b.opt.short,
			append(b.udpArgs(), "-R")...)
		if err != nil {
			return nil, err
		}
		return r.udp("udp_in")
	}},
	{"crr", func(ctx context.Context, b *bench, in *instance) (map[string]float64, error) {
		var res struct {
			PerSecond  float64 `json:"per_second"`
			Errors     int64   `json:"errors"`
			FirstError string  `json:"first_error"`
		}
		err := b.tool(ctx, in, "crr", false, &res, "crr",
			"-parallel", strconv.Itoa(b.opt.crrParallel), "-count", "1000000",
			"-duration", b.opt.rrDuration.String(), "-size", strconv.Itoa(b.opt.msgSize))
		if err != nil {
			return nil, err
		}
		if res.Errors > 0 {
			b.logf("  crr: %d failed connections (first: %s)", res.Errors, res.FirstError)
		}
		return map[string]float64{"crr_cps": res.PerSecond}, nil
	}},
	{"rr", func(ctx context.Context, b *bench, in *instance) (map[string]float64, error) {
		var res struct {
			P50   float64 `json:"p50_us"`
			P99   float64 `json:"p99_us"`
			Error string  `json:"error"`
		}
		err := b.tool(ctx, in, "rr", true, &res, "rr",
			"-duration", b.opt.rrDuration.String(), "-size", strconv.Itoa(b.opt.msgSize))
		if err != nil {
			return nil, err
		}
		if res.Error != "" {
			return nil, errors.New(res.Error)
		}
		return map[string]float64{"rr_p50": res.P50, "rr_p99": res.P99}, nil
	}},
}

// iperfResult is the part of iperf3's JSON output the harness reads, and
// the networking process's CPU time over the run.
type iperfResult struct {
	Error     string `json:"error"`
	Intervals []struct {
		Sum struct {
			Seconds       float64 `json:"seconds"`
			BitsPerSecond float64 `json:"bits_per_second"`
			Omitted       bool    `json:"omitted"`
		} `json:"sum"`
	} `json:"intervals"`
	End struct {
		SumSent struct {
			Bytes         float64 `json:"bytes"`
			BitsPerSecond float64 `json:"bits_per_second"`
			Retransmits   *int64  `json:"retransmits"`
		} `json:"sum_sent"`
		SumReceived struct {
			Bytes         float64 `json:"bytes"`
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
		Sum struct {
			BitsPerSecond float64  `json:"bits_per_second"`
			LostPercent   *float64 `json:"lost_percent"`
		} `json:"sum"`
	} `json:"end"`

	cpu float64 // CPU seconds of the networking processes; NaN if none
}

func (r *iperfResult) receivedGbps() float64 { return r.End.SumReceived.BitsPerSecond / 1e9 }

// rates returns the rates of the client's one-second intervals in Gbit/s;
// a short trailing interval is left out.
func (r *iperfResult) rates() []float64 {
	var out []float64
	for _, iv := range r.Intervals {
		if iv.Sum.Omitted || iv.Sum.Seconds < 0.5 {
			continue
		}
		out = append(out, iv.Sum.BitsPerSecond/1e9)
	}
	return out
}

// slowestGbps is the lowest rate of the client's one-second intervals.
func (r *iperfResult) slowestGbps() float64 {
	rs := r.rates()
	if len(rs) == 0 {
		return math.NaN()
	}
	return slices.Min(rs)
}

// slowestOfMedian is the slowest one-second interval as a percentage of
// the median interval: a transfer that stalls for a second, or falls to a
// fraction of its rate, shows below 50 however fast the rest was.
func (r *iperfResult) slowestOfMedian() float64 {
	rs := r.rates()
	if len(rs) == 0 {
		return math.NaN()
	}
	slices.Sort(rs)
	m := rs[len(rs)/2]
	if len(rs)%2 == 0 {
		m = (rs[len(rs)/2-1] + m) / 2
	}
	if m <= 0 {
		return math.NaN()
	}
	return 100 * rs[0] / m
}

// cpuPerGbit divides CPU seconds by the gigabits received.
func (r *iperfResult) cpuPerGbit() float64 {
	gbit := r.End.SumReceived.Bytes * 8 / 1e9
	if math.IsNaN(r.cpu) || gbit <= 0 {
		return math.NaN()
	}
	return r.cpu / gbit
}

// udp returns the received rate, the loss seen by the receiver and the
// CPU time per gigabit received.
func (r *iperfResult) udp(prefix string) (map[string]float64, error) {
	if r.End.Sum.LostPercent == nil {
		return nil, errors.New("iperf3: no UDP loss figure")
	}
	return map[string]float64{prefix + "_gbps": r.receivedGbps(), prefix + "_loss": *r.End.Sum.LostPercent,
		prefix + "_cpu": r.cpuPerGbit()}, nil
}

// udpArgs are the iperf3 client options of the UDP tests. The socket
// buffer (-w, which iperf3 applies to both ends) is the same for every
// implementation, veth included: iperf3's default receive buffer loses
// datagrams of a 1 Gbit/s flow in the receiving iperf3 itself whenever
// it is scheduled out for a moment, which would hide what the networking
// in between loses.
func (b *bench) udpArgs() []string {
	args := []string{"-u", "-b", b.opt.udpRate, "-l", strconv.Itoa(b.opt.udpLen)}
	if b.opt.udpBuffer != "" && b.opt.udpBuffer != "0" {
		args = append(args, "-w", b.opt.udpBuffer)
	}
	return args
}

// iperf runs one iperf3 test: a one-off server in serverNS on port, the
// client in clientNS connecting to addr for secs seconds with extra
// arguments. The JSON outputs stay in the run's directory.
func (b *bench) iperf(ctx context.Context, in *instance, name, serverNS, clientNS string, port int, addr string, secs int, extra ...string) (*iperfResult, error) {
	if addr == "" {
		return nil, errors.New("no address for this path")
	}
	srv, err := b.startServer(ctx, in, serverNS, "iperf3 server", name+".server", port,
		"iperf3", "-s", "-1", "-J", "-p", strconv.Itoa(port))
	if err != nil {
		return nil, err
	}
	defer srv.stop(2 * time.Second)

	argv := []string{"iperf3", "-c", addr, "-p", strconv.Itoa(port), "-t", strconv.Itoa(secs),
		"-J", "--connect-timeout", "5000"}
	argv = append(argv, extra...)
	before := b.cpu(in)
	out, runErr := b.procs.run(ctx, time.Duration(secs)*time.Second+30*time.Second, "iperf3 client",
		filepath.Join(in.dir, name), nsExec(clientNS, argv...)...)
	after := b.cpu(in)
	var r iperfResult
	if err := json.Unmarshal(out, &r); err != nil {
		if runErr != nil {
			return nil, runErr
		}
		return nil, fmt.Errorf("iperf3 output: %w", err)
	}
	if r.Error != "" {
		return nil, fmt.Errorf("iperf3: %s", r.Error)
	}
	if runErr != nil {
		return nil, runErr
	}
	r.cpu = after - before
	writeJSON(filepath.Join(in.dir, name+".cpu.json"), map[string]any{"cpu_seconds": jsonNum(r.cpu)})
	return &r, nil
}

// cpu returns the CPU seconds used so far by the networking process and
// its descendants, or NaN when there is none.
func (b *bench) cpu(in *instance) float64 {
	if in.net == nil || !in.net.alive() {
		return math.NaN()
	}
	s, err := cpuSeconds(in.net.cmd.Process.Pid)
	if err != nil {
		return math.NaN()
	}
	return s
}

// tool runs a tcpbench client in the namespace against a tcpbench server
// on the host, and decodes its JSON output into res. With pinned, the
// client, the server and the data path's processes share one CPU.
func (b *bench) tool(ctx context.Context, in *instance, name string, pinned bool, res any, args ...string) error {
	var prefix []string
	if pinned {
		prefix = []string{"taskset", "-c", strconv.Itoa(b.opt.rrCPU)}
	}
	srvArgv := append(append([]string{}, prefix...), b.opt.tcpbench, "server",
		"-listen", fmt.Sprintf(":%d", portHostTool), "-size", strconv.Itoa(b.opt.msgSize),
		"-limit", (b.opt.rrDuration + time.Minute).String())
	srv, err := b.startServer(ctx, in, in.host, "tcpbench server", name+".server", portHostTool, srvArgv...)
	if err != nil {
		return err
	}
	defer srv.stop(time.Second)
	if pinned {
		saved, err := pin(in.pids(), b.opt.rrCPU)
		if err != nil {
			return err
		}
		defer saved.restore()
	}
	argv := append(append([]string{}, prefix...), b.opt.tcpbench)
	argv = append(argv, args...)
	argv = append(argv, "-addr", net.JoinHostPort(in.toHost, strconv.Itoa(portHostTool)))
	out, err := b.procs.run(ctx, b.opt.rrDuration+30*time.Second, "tcpbench "+name,
		filepath.Join(in.dir, name), nsExec(in.guest, argv...)...)
	if err != nil {
		return err
	}
	return json.Unmarshal(out, res)
}

// jsonNum makes NaN, which JSON cannot carry, a null.
func jsonNum(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

func writeJSON(path string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return
	}
	_ = os.WriteFile(path, append(b, '\n'), 0o644)
}
