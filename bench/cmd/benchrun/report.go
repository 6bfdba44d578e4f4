// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package main

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// cell holds the figures of one metric for one implementation, one per
// successful run, and the reasons of the runs that gave none.
type cell struct {
	Values  []float64 `json:"values"`
	Reasons []string  `json:"reasons,omitempty"`
}

// results collects cells by implementation and metric.
type results struct {
	mu    sync.Mutex
	cells map[string]map[string]*cell
}

func newResults() *results { return &results{cells: map[string]map[string]*cell{}} }

func (r *results) get(impl, metric string) *cell {
	m := r.cells[impl]
	if m == nil {
		m = map[string]*cell{}
		r.cells[impl] = m
	}
	c := m[metric]
	if c == nil {
		c = &cell{}
		m[metric] = c
	}
	return c
}

// add records a figure; NaN (a figure the run could not give) is
// recorded as a failure.
func (r *results) add(impl, metric string, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		r.fail(impl, metric, "no figure in the output")
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.get(impl, metric)
	c.Values = append(c.Values, v)
}

func (r *results) fail(impl, metric, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.get(impl, metric)
	c.Reasons = append(c.Reasons, reason)
}

// lookup returns the cell or nil.
func (r *results) lookup(impl, metric string) *cell {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cells[impl][metric]
}

// stats returns the median, minimum and maximum of values, which must not
// be empty. The median of an even count is the mean of the middle two.
func stats(values []float64) (med, lo, hi float64) {
	s := slices.Clone(values)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		med = s[n/2]
	} else {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return med, s[0], s[n-1]
}

// sig3 prints v with about three significant digits.
func sig3(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	case a >= 0.001:
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.2g", v)
}

func formatValue(f format, v float64) string {
	switch f {
	case fmtCount:
		return fmt.Sprintf("%.0f", v)
	case fmtPct:
		return fmt.Sprintf("%.2f", v)
	}
	return sig3(v)
}

// footnotes numbers distinct reasons in order of first use.
type footnotes struct {
	list []string
}

func (f *footnotes) ref(reason string) int {
	reason = oneLine(reason, 240)
	if i := slices.Index(f.list, reason); i >= 0 {
		return i + 1
	}
	f.list = append(f.list, reason)
	return len(f.list)
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > n {
		r := []rune(s)
		s = string(r[:n]) + "..."
	}
	return s
}

// cellText renders one cell: median [min-max], then the ratios to veth
// (v) and to the Debian reference (d), then how many runs gave a figure
// when not all did.
func (b *bench) cellText(m metric, im *impl, byID map[string]*impl, notes *footnotes) string {
	if !applies(im, m.id) {
		return "-"
	}
	c := b.res.lookup(im.id, m.id)
	if c == nil || len(c.Values) == 0 {
		reason := "not run"
		switch {
		case c != nil && len(c.Reasons) > 0:
			reason = c.Reasons[0]
		case im.unavailable != "":
			reason = im.unavailable
		}
		return fmt.Sprintf("n/a[%d]", notes.ref(im.title+": "+reason))
	}
	med, lo, hi := stats(c.Values)
	s := formatValue(m.format, med)
	if lo != hi {
		s += fmt.Sprintf(" [%s-%s]", formatValue(m.format, lo), formatValue(m.format, hi))
	}
	ratio := func(refID, tag string) {
		if refID == im.id {
			return
		}
		ref := byID[refID]
		if ref == nil || !applies(ref, m.id) {
			return
		}
		rc := b.res.lookup(refID, m.id)
		if rc == nil || len(rc.Values) == 0 {
			return
		}
		rmed, _, _ := stats(rc.Values)
		if rmed == 0 {
			return
		}
		s += fmt.Sprintf(" %s%s", tag, sig3(med/rmed))
	}
	ratio("veth", "v")
	ratio(im.ref, "d")
	if len(c.Reasons) > 0 {
		s += fmt.Sprintf(" (%d/%d)[%d]", len(c.Values), len(c.Values)+len(c.Reasons),
			notes.ref(im.title+": "+c.Reasons[0]))
	}
	return s
}

// report renders the table as plain text and as Markdown.
func (b *bench) report(impls []*impl, elapsed time.Duration) (text, md string) {
	byID := map[string]*impl{}
	for _, im := range impls {
		byID[im.id] = im
	}
	var notes footnotes
	header := []string{"metric"}
	for _, im := range impls {
		header = append(header, im.title)
	}
	rows := [][]string{}
	for _, m := range metrics {
		if !b.opt.workloads[m.workload] {
			continue
		}
		row := []string{m.label}
		for _, im := range impls {
			row = append(row, b.cellText(m, im, byID, &notes))
		}
		rows = append(rows, row)
	}

	o := b.opt
	intro := []string{
		fmt.Sprintf("passt-go side-by-side benchmark, %s, %d CPUs, %s",
			time.Now().Format("2006-01-02 15:04"), runtimeCPUs(), kernel()),
		fmt.Sprintf("medians of %d run(s) [min-max]; start-up: median of %d; TCP ns->host %d s, other iperf3 tests %d s, paced at %s, UDP offered %s with %d-byte datagrams (iperf3 -w %s), %d connection-rate clients, latency on CPU %d; took %s",
			o.runs, o.startupRuns, o.duration, o.short, o.pace, o.udpRate, o.udpLen, o.udpBuffer, o.crrParallel, o.rrCPU,
			elapsed.Round(time.Second)),
		"vN: ratio to veth; dN: ratio to Debian's pasta (passt columns: to Debian's passt); - not applicable; n/a[k]: no figure, reason in note k",
		"veth has no forwarder: its host->ns rows use the direct route to the namespace, its -T row the direct route to the host",
		fmt.Sprintf("load average at start %s, at end %s: anything else running on the machine shows up as noise", b.loadStart, loadavg()),
	}

	var tb strings.Builder
	for _, l := range intro {
		tb.WriteString(l + "\n")
	}
	tb.WriteString("\n")
	widths := make([]int, len(header))
	for _, r := range append([][]string{header}, rows...) {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	line := func(r []string) {
		for i, c := range r {
			if i > 0 {
				tb.WriteString("  ")
			}
			tb.WriteString(c)
			if i < len(r)-1 {
				tb.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)))
			}
		}
		tb.WriteString("\n")
	}
	line(header)
	for _, r := range rows {
		line(r)
	}
	if len(notes.list) > 0 {
		tb.WriteString("\n")
		for i, n := range notes.list {
			fmt.Fprintf(&tb, "[%d] %s\n", i+1, n)
		}
	}

	var mb strings.Builder
	mb.WriteString("<!-- SPDX-License-Identifier: GPL-2.0-or-later -->\n")
	mb.WriteString("<!-- SPDX-FileCopyrightText: 2026 passt-go contributors -->\n\n")
	mb.WriteString("# passt-go side-by-side benchmark\n\n")
	mb.WriteString(intro[0] + ".\n\n")
	for _, l := range intro[1:] {
		mb.WriteString("- " + l + ".\n")
	}
	mb.WriteString("\n")
	mdRow := func(r []string) {
		mb.WriteString("|")
		for _, c := range r {
			mb.WriteString(" " + strings.ReplaceAll(c, "|", "\\|") + " |")
		}
		mb.WriteString("\n")
	}
	mdRow(header)
	sep := []string{"---"}
	for range impls {
		sep = append(sep, "---:")
	}
	mdRow(sep)
	for _, r := range rows {
		mdRow(r)
	}
	if len(notes.list) > 0 {
		mb.WriteString("\n")
		for i, n := range notes.list {
			fmt.Fprintf(&mb, "%d. %s\n", i+1, strings.ReplaceAll(n, "|", "\\|"))
		}
	}
	return tb.String(), mb.String()
}

func runtimeCPUs() int {
	var n int
	if b, err := os.ReadFile("/sys/devices/system/cpu/online"); err == nil {
		for _, part := range strings.Split(strings.TrimSpace(string(b)), ",") {
			var lo, hi int
			if k, _ := fmt.Sscanf(part, "%d-%d", &lo, &hi); k == 2 {
				n += hi - lo + 1
			} else {
				n++
			}
		}
	}
	return n
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "Linux"
	}
	return "Linux " + strings.TrimSpace(string(b))
}

// save writes every figure and reason, with their summary, as JSON.
func (r *results) save(path string, impls []*impl, o *options) {
	type metricOut struct {
		Values  []float64 `json:"values"`
		Median  any       `json:"median"`
		Min     any       `json:"min"`
		Max     any       `json:"max"`
		Reasons []string  `json:"reasons,omitempty"`
	}
	type implOut struct {
		Title       string                `json:"title"`
		Binary      string                `json:"binary,omitempty"`
		Unavailable string                `json:"unavailable,omitempty"`
		Metrics     map[string]*metricOut `json:"metrics"`
	}
	out := map[string]any{}
	cols := []implOut{}
	for _, im := range impls {
		col := implOut{Title: im.title, Binary: im.bin, Unavailable: im.unavailable, Metrics: map[string]*metricOut{}}
		for _, m := range metrics {
			c := r.lookup(im.id, m.id)
			if c == nil {
				continue
			}
			mo := &metricOut{Values: c.Values, Reasons: c.Reasons}
			if len(c.Values) > 0 {
				med, lo, hi := stats(c.Values)
				mo.Median, mo.Min, mo.Max = med, lo, hi
			}
			col.Metrics[m.id] = mo
		}
		cols = append(cols, col)
	}
	out["implementations"] = cols
	labels := map[string]string{}
	for _, m := range metrics {
		labels[m.id] = m.label
	}
	out["metrics"] = labels
	out["options"] = map[string]any{
		"runs": o.runs, "duration_s": o.duration, "short_s": o.short, "rr_duration": o.rrDuration.String(),
		"startup_runs": o.startupRuns, "pace": o.pace, "udp_rate": o.udpRate, "udp_len": o.udpLen, "udp_buffer": o.udpBuffer,
		"crr_parallel": o.crrParallel, "msg_size": o.msgSize, "rr_cpu": o.rrCPU,
	}
	writeJSON(path, out)
}
