// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Command benchrun puts passt-go side by side with a veth pair (kernel
// routing, the limit), Debian's pasta and passt, and slirp4netns: the same
// workloads through each, in one run on one machine, reported as one table
// of medians with their spread and ratios. It is started by bench/run.sh,
// which builds it and its helpers; see bench/README.md.
//
// Every implementation gets the same set-up: a fresh "host" network
// namespace (an uplink with the host's address and a default route) and a
// fresh empty namespace that the implementation gives its network. Each
// run sets up every implementation in turn, runs all workloads through it
// and tears it down, so slow drifts of the machine spread over all columns.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// options are the command line.
type options struct {
	quick        bool
	runs         int
	duration     int // seconds, TCP ns->host unpaced
	short        int // seconds, the other iperf3 workloads
	rrDuration   time.Duration
	startupRuns  int
	impls        []string
	workloads    map[string]bool
	pace         string
	udpRate      string
	udpBuffer    string
	udpLen       int
	crrParallel  int
	msgSize      int
	results      string
	ours         string
	tapbridge    string
	tapbridgeErr string
	tcpbench     string
	prefix       string
	rrCPU        int
	settle       time.Duration
	pasta        string
	passt        string
	slirp        string
	maxTime      time.Duration
}

var allImpls = []string{"veth", "pasta", "slirp4netns", "ours", "passt", "ours-passt"}

var allWorkloads = []string{"tcp-out", "tcp-paced", "tcp-in-lo", "tcp-in-addr", "tcp-nslo",
	"udp-out", "udp-in", "crr", "rr", "startup", "rss"}

func parseOptions(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("benchrun", flag.ContinueOnError)
	fs.BoolVar(&o.quick, "quick", false, "short run: 1 run, 3 s and 2 s tests, about 2 minutes")
	fs.IntVar(&o.runs, "runs", 3, "runs of every workload; the table shows their median and spread")
	fs.IntVar(&o.duration, "duration", 10, "`SECONDS` of the unpaced TCP ns->host test")
	fs.IntVar(&o.short, "short", 5, "`SECONDS` of the other iperf3 tests")
	fs.DurationVar(&o.rrDuration, "rr-duration", 3*time.Second, "length of the connection-rate and latency tests")
	fs.IntVar(&o.startupRuns, "startup-runs", 10, "start-up measurements per implementation")
	implList := fs.String("impls", strings.Join(allImpls, ","), "implementations (columns), comma separated")
	wlList := fs.String("workloads", strings.Join(allWorkloads, ","), "workloads, comma separated")
	fs.StringVar(&o.pace, "pace", "5G", "iperf3 -b rate of the paced TCP test")
	fs.StringVar(&o.udpRate, "udp-rate", "1G", "offered UDP rate (iperf3 -b)")
	fs.StringVar(&o.udpBuffer, "udp-buffer", "4M", "socket buffers of both iperf3 ends in the UDP tests (iperf3 -w); 0 for iperf3's default")
	fs.IntVar(&o.udpLen, "udp-len", 1400, "UDP payload `BYTES` (iperf3 -l)")
	fs.IntVar(&o.crrParallel, "crr-parallel", 4, "parallel clients of the connection-rate test")
	fs.IntVar(&o.msgSize, "msg-size", 64, "message `BYTES` of the connection-rate and latency tests")
	fs.StringVar(&o.results, "results", "", "results `DIR` (default .bench/<timestamp>)")
	fs.StringVar(&o.ours, "ours", "bin", "`DIR` holding our pasta and passt")
	fs.StringVar(&o.tapbridge, "tapbridge", "", "tapbridge `PATH` for passt mode")
	fs.StringVar(&o.tapbridgeErr, "tapbridge-error", "tapbridge not available", "reason shown when -tapbridge is empty")
	fs.StringVar(&o.tcpbench, "tcpbench", "", "tcpbench `PATH` (default: beside benchrun)")
	fs.StringVar(&o.prefix, "prefix", fmt.Sprintf("pgb%d", os.Getpid()), "prefix of namespace names")
	fs.IntVar(&o.rrCPU, "rr-cpu", runtime.NumCPU()-1, "the CPU the latency test runs on")
	fs.DurationVar(&o.settle, "settle", time.Second, "idle time before RSS is read")
	fs.StringVar(&o.pasta, "pasta", "/usr/bin/pasta", "Debian's pasta")
	fs.StringVar(&o.passt, "passt", "/usr/bin/passt", "Debian's passt")
	fs.StringVar(&o.slirp, "slirp4netns", "slirp4netns", "slirp4netns")
	fs.DurationVar(&o.maxTime, "max-time", 40*time.Minute, "abort the whole run after this long")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		quick := map[string]func(){
			"runs":         func() { o.runs = 1 },
			"duration":     func() { o.duration = 3 },
			"short":        func() { o.short = 2 },
			"rr-duration":  func() { o.rrDuration = time.Second },
			"startup-runs": func() { o.startupRuns = 5 },
			"settle":       func() { o.settle = 500 * time.Millisecond },
			"max-time":     func() { o.maxTime = 10 * time.Minute },
		}
		for name, f := range quick {
			if !set[name] {
				f()
			}
		}
	}
	switch {
	case o.runs < 1 || o.runs > 50:
		return nil, errors.New("-runs: 1 to 50")
	case o.duration < 1 || o.duration > 600 || o.short < 1 || o.short > 600:
		return nil, errors.New("-duration, -short: 1 to 600 seconds")
	case o.rrDuration < 100*time.Millisecond || o.rrDuration > 10*time.Minute:
		return nil, errors.New("-rr-duration: 100ms to 10m")
	case o.startupRuns < 1 || o.startupRuns > 1000:
		return nil, errors.New("-startup-runs: 1 to 1000")
	case o.rrCPU < 0 || o.rrCPU >= runtime.NumCPU():
		return nil, fmt.Errorf("-rr-cpu: 0 to %d", runtime.NumCPU()-1)
	case o.udpLen < 16 || o.udpLen > 65000, o.msgSize < 1 || o.msgSize > 1<<20:
		return nil, errors.New("-udp-len: 16 to 65000, -msg-size: 1 to 1 MiB")
	case o.crrParallel < 1 || o.crrParallel > 256:
		return nil, errors.New("-crr-parallel: 1 to 256")
	case len(o.prefix) > 8:
		return nil, errors.New("-prefix: at most 8 characters")
	}
	for _, s := range strings.Split(*implList, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !slices.Contains(allImpls, s) {
			return nil, fmt.Errorf("-impls: unknown %q (have %s)", s, strings.Join(allImpls, ","))
		}
		if !slices.Contains(o.impls, s) {
			o.impls = append(o.impls, s)
		}
	}
	// Columns always come in the same order.
	slices.SortFunc(o.impls, func(a, b string) int {
		return slices.Index(allImpls, a) - slices.Index(allImpls, b)
	})
	o.workloads = map[string]bool{}
	for _, s := range strings.Split(*wlList, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !slices.Contains(allWorkloads, s) {
			return nil, fmt.Errorf("-workloads: unknown %q (have %s)", s, strings.Join(allWorkloads, ","))
		}
		o.workloads[s] = true
	}
	if len(o.impls) == 0 || len(o.workloads) == 0 {
		return nil, errors.New("nothing to run")
	}
	return o, nil
}

// bench is the state of one invocation.
type bench struct {
	opt   *options
	procs *procs
	dir   string // results directory
	tmp   string // private directory for sockets
	netns map[string]bool
	seq   int // numbers command log files
	nsSeq int // numbers namespaces
	res   *results
	// loadStart is the load average when the run began.
	loadStart string

	logMu sync.Mutex
	log   io.Writer
}

func (b *bench) logf(format string, args ...any) {
	b.logMu.Lock()
	defer b.logMu.Unlock()
	fmt.Fprintf(b.log, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	o, err := parseOptions(args)
	if err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return errors.New("needs root: it creates network namespaces, veth pairs and tap devices")
	}
	if o.results == "" {
		o.results = filepath.Join(".bench", time.Now().Format("20060102-150405"))
	}
	if o.tcpbench == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		o.tcpbench = filepath.Join(filepath.Dir(exe), "tcpbench")
	}
	for _, p := range []*string{&o.results, &o.ours, &o.tcpbench} {
		if *p, err = filepath.Abs(*p); err != nil {
			return err
		}
	}
	if _, err := os.Stat(o.tcpbench); err != nil {
		return fmt.Errorf("tcpbench: %w", err)
	}
	for _, tool := range []string{"ip", "iperf3", "taskset", "unshare", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is needed: %w", tool, err)
		}
	}
	if err := os.MkdirAll(o.results, 0o755); err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(o.results, "bench.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	tmp, err := os.MkdirTemp("", "passt-go-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	b := &bench{
		opt:   o,
		dir:   o.results,
		tmp:   tmp,
		netns: map[string]bool{},
		res:   newResults(),
		log:   io.MultiWriter(os.Stderr, logFile),
	}
	pidFile := filepath.Join(o.results, "pids")
	b.procs = newProcs(pidFile, b.logf)

	ctx, cancel := context.WithTimeout(context.Background(), o.maxTime)
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		if s, ok := <-sigs; ok {
			b.logf("%v: stopping", s)
			cancel()
		}
	}()
	defer signal.Stop(sigs)

	start := time.Now()
	b.loadStart = loadavg()
	impls := b.implList()
	b.writeEnv(impls)
	b.logf("results in %s", o.results)
	for _, im := range impls {
		if im.unavailable != "" {
			b.logf("%s: n/a: %s", im.title, im.unavailable)
		}
	}

	b.startupPhase(ctx, impls)
	for r := 1; r <= o.runs && ctx.Err() == nil; r++ {
		for _, im := range impls {
			if ctx.Err() != nil {
				break
			}
			if im.unavailable == "" {
				b.runOne(ctx, im, r)
			}
		}
	}
	runErr := ctx.Err()

	b.procs.stopAll()
	for name := range b.netns {
		b.delNS(name)
	}
	os.Remove(pidFile)

	text, md := b.report(impls, time.Since(start))
	if err := os.WriteFile(filepath.Join(o.results, "summary.txt"), []byte(text), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.results, "summary.md"), []byte(md), 0o644); err != nil {
		return err
	}
	b.res.save(filepath.Join(o.results, "results.json"), impls, o)
	fmt.Print(text)
	fmt.Printf("\nraw results and summary.md in %s\n", o.results)
	if runErr != nil {
		return fmt.Errorf("stopped early: %w", runErr)
	}
	return nil
}

// implList builds the columns, noting those that cannot run at all.
func (b *bench) implList() []*impl {
	o := b.opt
	var out []*impl
	for _, id := range o.impls {
		im := &impl{id: id}
		switch id {
		case "veth":
			im.title, im.kind, im.ref = "veth (kernel)", kindVeth, "pasta"
		case "pasta":
			im.title, im.kind, im.bin, im.ref = "pasta (Debian)", kindPasta, o.pasta, "pasta"
		case "slirp4netns":
			im.title, im.kind, im.bin, im.ref = "slirp4netns", kindSlirp, o.slirp, "pasta"
		case "ours":
			im.title, im.kind, im.bin, im.ref = "pasta (passt-go)", kindPasta, filepath.Join(o.ours, "pasta"), "pasta"
		case "passt":
			im.title, im.kind, im.bin, im.ref = "passt+bridge (Debian)", kindPasst, o.passt, "passt"
		case "ours-passt":
			im.title, im.kind, im.bin, im.ref = "passt+bridge (passt-go)", kindPasst, filepath.Join(o.ours, "passt"), "passt"
		}
		if im.bin != "" {
			if p, err := exec.LookPath(im.bin); err != nil {
				switch id {
				case "ours", "ours-passt":
					im.unavailable = fmt.Sprintf("%s missing (run make)", im.bin)
				case "slirp4netns":
					im.unavailable = "slirp4netns not installed (apt-get install slirp4netns)"
				default:
					im.unavailable = fmt.Sprintf("%s not installed (apt-get install passt)", im.bin)
				}
			} else {
				im.bin = p
			}
		}
		if im.kind == kindPasst && im.unavailable == "" && o.tapbridge == "" {
			im.unavailable = o.tapbridgeErr
		}
		out = append(out, im)
	}
	return out
}

// runOne sets an implementation up, runs the selected workloads through
// it and tears it down. A networking process that dies is set up again,
// a bounded number of times, so that one crash costs only its workload.
func (b *bench) runOne(ctx context.Context, im *impl, run int) {
	dir := filepath.Join(b.dir, "raw", fmt.Sprintf("run%d", run), im.id)
	b.logf("run %d/%d: %s", run, b.opt.runs, im.title)
	var todo []workload
	for _, w := range workloads {
		if b.opt.workloads[w.id] && b.anyApplies(im, w.id) {
			todo = append(todo, w)
		}
	}
	rss := b.opt.workloads["rss"] && applies(im, "rss_idle_mib")

	const maxSetups = 3
	setups := 0
	var in *instance
	defer func() { b.teardown(in) }()
	ensure := func() error {
		if in != nil && in.died() == "" {
			return nil
		}
		b.teardown(in)
		in = nil
		if setups >= maxSetups {
			return fmt.Errorf("gave up after %d set-ups", maxSetups)
		}
		setups++
		var err error
		in, err = b.setup(ctx, im, filepath.Join(dir, fmt.Sprintf("setup%d", setups)))
		if err != nil {
			b.teardown(in)
			in = nil
			return fmt.Errorf("set-up: %w", err)
		}
		in.dir = dir
		return nil
	}

	if err := ensure(); err != nil {
		b.logf("  %s: %v", im.title, err)
		if run == 1 {
			im.unavailable = err.Error()
			return
		}
		b.failAll(im, todo, rss, err.Error())
		return
	}
	if rss {
		b.rss(ctx, im, in, "rss_idle_mib")
	}
	for _, w := range todo {
		if ctx.Err() != nil {
			return
		}
		if err := ensure(); err != nil {
			b.failWorkload(im, w.id, err.Error())
			continue
		}
		t0 := time.Now()
		vals, err := w.run(ctx, b, in)
		if d := in.died(); d != "" {
			err = fmt.Errorf("during the workload: %s", d)
		}
		if err != nil {
			b.logf("  %-11s n/a: %v", w.id, err)
			b.failWorkload(im, w.id, err.Error())
			continue
		}
		var parts []string
		for _, m := range metrics {
			if v, ok := vals[m.id]; ok && m.workload == w.id && applies(im, m.id) {
				b.res.add(im.id, m.id, v)
				parts = append(parts, fmt.Sprintf("%s=%s", m.id, formatValue(m.format, v)))
			}
		}
		b.logf("  %-11s %s (%.1fs)", w.id, strings.Join(parts, " "), time.Since(t0).Seconds())
	}
	if rss && ctx.Err() == nil {
		if in == nil || in.died() != "" {
			b.res.fail(im.id, "rss_load_mib", "networking process not running after the workloads")
		} else {
			b.rss(ctx, im, in, "rss_load_mib")
		}
	}
}

func (b *bench) anyApplies(im *impl, wl string) bool {
	for _, m := range metrics {
		if m.workload == wl && applies(im, m.id) {
			return true
		}
	}
	return false
}

// failWorkload records reason for every applicable metric of a workload.
func (b *bench) failWorkload(im *impl, wl, reason string) {
	for _, m := range metrics {
		if m.workload == wl && applies(im, m.id) {
			b.res.fail(im.id, m.id, reason)
		}
	}
}

func (b *bench) failAll(im *impl, todo []workload, rss bool, reason string) {
	for _, w := range todo {
		b.failWorkload(im, w.id, reason)
	}
	if rss {
		b.failWorkload(im, "rss", reason)
	}
}

// rss waits for the instance to settle and records the resident memory
// of the networking process and its descendants.
func (b *bench) rss(ctx context.Context, im *impl, in *instance, id string) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(b.opt.settle):
	}
	if in.net == nil || !in.net.alive() {
		b.res.fail(im.id, id, "networking process not running")
		return
	}
	kib, err := rssKiB(in.net.cmd.Process.Pid)
	if err != nil {
		b.res.fail(im.id, id, err.Error())
		return
	}
	b.res.add(im.id, id, float64(kib)/1024)
	b.logf("  %-11s %s=%.1f", "rss", id, float64(kib)/1024)
}

// writeEnv records the machine and the versions compared.
func (b *bench) writeEnv(impls []*impl) {
	var sb strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&sb, "date: %s\nhost: %s\ncpus: %d\n", time.Now().Format(time.RFC3339), host, runtime.NumCPU())
	if u, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		fmt.Fprintf(&sb, "kernel: %s", u)
	}
	if m, err := statusMemTotal(); err == nil {
		fmt.Fprintf(&sb, "memory: %s\n", m)
	}
	for _, pkg := range []string{"passt", "slirp4netns", "iperf3"} {
		out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", pkg).Output()
		if err == nil {
			fmt.Fprintf(&sb, "package %s: %s\n", pkg, out)
		}
	}
	for _, im := range impls {
		fmt.Fprintf(&sb, "column %s: %s", im.id, im.title)
		if im.bin != "" {
			fmt.Fprintf(&sb, " (%s)", im.bin)
		}
		sb.WriteString("\n")
	}
	fmt.Fprintf(&sb, "options: %s\n", b.optionString())
	_ = os.WriteFile(filepath.Join(b.dir, "env.txt"), []byte(sb.String()), 0o644)
}

func statusMemTotal() (string, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "", err
	}
	l, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(strings.TrimPrefix(l, "MemTotal:")), nil
}

func (b *bench) optionString() string {
	o := b.opt
	var wl []string
	for _, w := range allWorkloads {
		if o.workloads[w] {
			wl = append(wl, w)
		}
	}
	return fmt.Sprintf("runs=%d duration=%ds short=%ds rr-duration=%v startup-runs=%d pace=%s udp-rate=%s udp-len=%d udp-buffer=%s crr-parallel=%d msg-size=%d rr-cpu=%d impls=%s workloads=%s",
		o.runs, o.duration, o.short, o.rrDuration, o.startupRuns, o.pace, o.udpRate, o.udpLen, o.udpBuffer,
		o.crrParallel, o.msgSize, o.rrCPU, strings.Join(o.impls, ","), strings.Join(wl, ","))
}

// startupPhase measures start-up times. It also serves as the start-up
// smoke check of every pasta: a first, unrecorded `pasta --config-net --
// true` that fails makes the whole column n/a with its reason.
func (b *bench) startupPhase(ctx context.Context, impls []*impl) {
	measure := b.opt.workloads["startup"]
	var todo []*impl
	for _, im := range impls {
		if im.unavailable == "" && (im.kind == kindPasta || measure && applies(im, "startup_ms")) {
			todo = append(todo, im)
		}
	}
	if len(todo) == 0 {
		return
	}
	dir := filepath.Join(b.dir, "raw", "startup")
	host := b.opt.prefix + "-s"
	if err := b.addHost(ctx, dir, host); err != nil {
		b.logf("start-up: host namespace: %v", err)
		for _, im := range todo {
			b.res.fail(im.id, "startup_ms", err.Error())
		}
		b.delNS(host)
		return
	}
	defer b.delNS(host)
	for _, im := range todo {
		n := b.opt.startupRuns
		if !measure {
			n = 0
		}
		var got []string
		for i := 0; i <= n && ctx.Err() == nil; i++ {
			d, err := b.startOnce(ctx, im, host, filepath.Join(dir, im.id), i)
			if err != nil {
				if i == 0 {
					im.unavailable = "start-up smoke check: " + err.Error()
					b.logf("%s: n/a: %s", im.title, im.unavailable)
					break
				}
				b.res.fail(im.id, "startup_ms", err.Error())
				continue
			}
			if i > 0 { // the first one warms caches and checks it works
				ms := float64(d) / float64(time.Millisecond)
				b.res.add(im.id, "startup_ms", ms)
				got = append(got, strconv.FormatFloat(ms, 'f', 1, 64))
			}
		}
		if len(got) > 0 {
			b.logf("start-up %s: %s ms", im.title, strings.Join(got, " "))
		}
	}
}

// startOnce times one start-up: the namespace created, given its network,
// a command run in it, everything torn down.
func (b *bench) startOnce(ctx context.Context, im *impl, host, dir string, i int) (time.Duration, error) {
	base := filepath.Join(dir, fmt.Sprintf("%02d", i))
	switch im.kind {
	case kindPasta:
		argv := append([]string{im.bin}, runasArgs()...)
		argv = append(argv, "--config-net", "--", "true")
		t0 := time.Now()
		_, err := b.procs.run(ctx, 20*time.Second, im.id, base, nsExec(host, argv...)...)
		return time.Since(t0), err
	case kindVeth:
		ns := fmt.Sprintf("%s-v%d", b.opt.prefix, i)
		script := fmt.Sprintf(`set -e
ip netns add %[1]s
trap 'ip netns del %[1]s' EXIT
ip link add vs%[2]d type veth peer name vs%[2]d netns %[1]s
ip addr add %[3]s/24 dev vs%[2]d
ip link set vs%[2]d up
ip -n %[1]s link set lo up
ip -n %[1]s addr add %[4]s/24 dev vs%[2]d
ip -n %[1]s link set vs%[2]d up
ip -n %[1]s route add default via %[3]s
ip netns exec %[1]s true`, ns, i, vethHost, vethGuest)
		t0 := time.Now()
		_, err := b.procs.run(ctx, 20*time.Second, "veth", base, nsExec(host, "sh", "-c", script)...)
		return time.Since(t0), err
	case kindSlirp:
		return b.startSlirp(ctx, im, host, base)
	}
	return 0, errors.New("no start-up test")
}

// startSlirp times slirp4netns's equivalent of `pasta --config-net --
// true`: a new network namespace, slirp4netns configuring it, a command
// run inside, both stopped.
func (b *bench) startSlirp(ctx context.Context, im *impl, host, base string) (time.Duration, error) {
	t0 := time.Now()
	holder, err := b.procs.start("holder", base+".holder", nil, nsExec(host, "unshare", "-n", "sleep", "60")...)
	if err != nil {
		return 0, err
	}
	defer holder.stop(0)
	pid := holder.cmd.Process.Pid
	if err := waitFor(ctx, 5*time.Second, time.Millisecond, "unshare", func() (bool, error) {
		c, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		return err == nil && strings.TrimSpace(string(c)) == "sleep", nil
	}); err != nil {
		return 0, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	slirp, err := b.procs.start(im.id, base, []*os.File{w}, nsExec(host, im.bin, "--configure",
		"--mtu="+strconv.Itoa(mtu), "--cidr="+slirpCIDR, "--ready-fd=3", strconv.Itoa(pid), "tap0")...)
	w.Close()
	if err != nil {
		return 0, err
	}
	defer slirp.stop(0)
	_ = r.SetReadDeadline(time.Now().Add(15 * time.Second))
	if _, err := r.Read(make([]byte, 1)); err != nil {
		return 0, fmt.Errorf("slirp4netns ready: %w (%s)", err, slirp.errTail(2))
	}
	if _, err := b.procs.run(ctx, 10*time.Second, "nsenter", base+".cmd",
		"nsenter", "-t", strconv.Itoa(pid), "-n", "true"); err != nil {
		return 0, err
	}
	slirp.stop(5 * time.Second)
	holder.stop(0)
	return time.Since(t0), nil
}

// loadavg returns the first three fields of /proc/loadavg.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
