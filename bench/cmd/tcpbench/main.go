// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Command tcpbench measures TCP connection rate and request/response
// latency through a network path. It has three modes:
//
//	tcpbench server -listen ADDR:PORT [-size N] [-limit DURATION]
//	tcpbench crr -addr ADDR:PORT [-parallel P] [-count N] [-duration D] [-size N]
//	tcpbench rr  -addr ADDR:PORT [-count N] [-duration D] [-size N]
//
// The server echoes every message of -size bytes back on the same
// connection until the peer closes it, and exits after -limit.
//
// crr runs -parallel clients, each repeating connect, one message of -size
// bytes and its echo, and close, until -count connections in all or
// -duration have passed. rr sends -size byte messages on one connection,
// one at a time, waiting for each echo, until -count transactions or
// -duration, and reports latency percentiles.
//
// Both clients print one JSON object on standard output; they exit with
// status 1 when not a single connection or transaction succeeded.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tcpbench server|crr|rr [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "server":
		err = server(os.Args[2:])
	case "crr":
		err = crr(os.Args[2:])
	case "rr":
		err = rr(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q (want server, crr or rr)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcpbench:", err)
		os.Exit(1)
	}
}

// server accepts connections until limit has passed and echoes each
// message of size bytes back.
func server(args []string) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	listen := fs.String("listen", ":5301", "listen on `ADDR:PORT`")
	size := fs.Int("size", 64, "message size in `BYTES`")
	limit := fs.Duration("limit", 5*time.Minute, "exit after `DURATION`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *size < 1 || *size > 1<<20 {
		return fmt.Errorf("-size %d out of range", *size)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	time.AfterFunc(*limit, func() { ln.Close() })
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Out of descriptors and the like: back off, bounded by
			// the limit above, which closes the listener.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go echo(c, *size, *limit)
	}
}

// echo copies size byte messages back until the peer closes or limit has
// passed.
func echo(c net.Conn, size int, limit time.Duration) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(limit))
	buf := make([]byte, size)
	for {
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}

// crrResult is what crr prints.
type crrResult struct {
	Connections int64   `json:"connections"`
	Errors      int64   `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"per_second"`
	Parallel    int     `json:"parallel"`
	Size        int     `json:"size"`
}

func crr(args []string) error {
	fs := flag.NewFlagSet("crr", flag.ContinueOnError)
	addr := fs.String("addr", "", "server `ADDR:PORT`")
	parallel := fs.Int("parallel", 4, "concurrent `CLIENTS`")
	count := fs.Int64("count", 200000, "stop after `N` connections in all")
	duration := fs.Duration("duration", 3*time.Second, "stop after `DURATION`")
	size := fs.Int("size", 64, "message size in `BYTES`")
	timeout := fs.Duration("timeout", 2*time.Second, "per connection `TIMEOUT`")
	maxErrors := fs.Int64("max-errors", 1000, "give up after `N` failed connections")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *addr == "" || *parallel < 1 || *parallel > 1024 || *size < 1 || *size > 1<<20 || *count < 1 {
		return errors.New("crr: need -addr, 1 <= -parallel <= 1024, 1 <= -size <= 1 MiB, -count >= 1")
	}

	var done, failed atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	deadline := start.Add(*duration)
	var wg sync.WaitGroup
	for range *parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, *size)
			d := net.Dialer{Timeout: *timeout}
			for time.Now().Before(deadline) && done.Load() < *count && failed.Load() < *maxErrors {
				if err := oneConn(&d, *addr, buf, *timeout); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	res := crrResult{
		Connections: done.Load(),
		Errors:      failed.Load(),
		Seconds:     secs,
		PerSecond:   float64(done.Load()) / secs,
		Parallel:    *parallel,
		Size:        *size,
	}
	if s, ok := firstErr.Load().(string); ok {
		res.FirstError = s
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return err
	}
	if res.Connections == 0 {
		return fmt.Errorf("no connection succeeded: %s", res.FirstError)
	}
	return nil
}

// oneConn connects, sends buf, reads the echo into buf and closes.
func oneConn(d *net.Dialer, addr string, buf []byte, timeout time.Duration) error {
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write(buf); err != nil {
		return err
	}
	_, err = io.ReadFull(c, buf)
	return err
}

// rrResult is what rr prints. Latencies are in microseconds.
type rrResult struct {
	Transactions int     `json:"transactions"`
	Seconds      float64 `json:"seconds"`
	PerSecond    float64 `json:"per_second"`
	MinUS        float64 `json:"min_us"`
	P50US        float64 `json:"p50_us"`
	P90US        float64 `json:"p90_us"`
	P99US        float64 `json:"p99_us"`
	P999US       float64 `json:"p999_us"`
	MaxUS        float64 `json:"max_us"`
	MeanUS       float64 `json:"mean_us"`
	Size         int     `json:"size"`
	Error        string  `json:"error,omitempty"`
}

func rr(args []string) error {
	fs := flag.NewFlagSet("rr", flag.ContinueOnError)
	addr := fs.String("addr", "", "server `ADDR:PORT`")
	count := fs.Int("count", 1000000, "stop after `N` transactions")
	duration := fs.Duration("duration", 3*time.Second, "stop after `DURATION`")
	size := fs.Int("size", 64, "message size in `BYTES`")
	timeout := fs.Duration("timeout", 2*time.Second, "connect and per transaction `TIMEOUT`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *addr == "" || *size < 1 || *size > 1<<20 || *count < 1 || *count > 10000000 {
		return errors.New("rr: need -addr, 1 <= -size <= 1 MiB, 1 <= -count <= 10000000")
	}
	c, err := net.DialTimeout("tcp", *addr, *timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, *size)
	lat := make([]time.Duration, 0, *count)
	start := time.Now()
	deadline := start.Add(*duration)
	var runErr error
	for len(lat) < *count {
		t0 := time.Now()
		if !t0.Before(deadline) {
			break
		}
		c.SetDeadline(t0.Add(*timeout))
		if _, err := c.Write(buf); err != nil {
			runErr = err
			break
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			runErr = err
			break
		}
		lat = append(lat, time.Since(t0))
	}
	secs := time.Since(start).Seconds()
	res := summarise(lat, secs)
	res.Size = *size
	if runErr != nil {
		res.Error = runErr.Error()
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return err
	}
	if len(lat) == 0 {
		return fmt.Errorf("no transaction completed: %v", runErr)
	}
	return nil
}

// summarise sorts lat in place and computes the result's statistics.
func summarise(lat []time.Duration, secs float64) rrResult {
	res := rrResult{Transactions: len(lat), Seconds: secs}
	if len(lat) == 0 {
		return res
	}
	slices.Sort(lat)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	res.PerSecond = float64(len(lat)) / secs
	res.MinUS = us(lat[0])
	res.P50US = us(percentile(lat, 0.50))
	res.P90US = us(percentile(lat, 0.90))
	res.P99US = us(percentile(lat, 0.99))
	res.P999US = us(percentile(lat, 0.999))
	res.MaxUS = us(lat[len(lat)-1])
	res.MeanUS = us(sum / time.Duration(len(lat)))
	return res
}

// percentile returns the nearest-rank q quantile of sorted, which must not
// be empty.
func percentile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
