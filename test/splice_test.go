// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"passt-go/test/nstest"
)

// The spliced loopback path of pasta: -T listens on the namespace's
// loopback, and what it accepts is spliced to a server on Host's
// loopback. The client inside the namespace is socat between its
// standard streams and the namespace's loopback, so the test feeds and
// reads the namespace's side through pasta's standard streams.

// spliceTransfer runs pasta -T port with a socat client to the
// namespace's loop address, sends up bytes from the namespace to a server
// on Host's loopback, which checks them and end of file (the client's
// half-close), then sends down bytes back and closes; the test checks
// them and end of file on socat's output.
func spliceTransfer(t *testing.T, topo *nstest.Topology, dir string, loop netip.Addr, port uint16, up, down int64) {
	t.Helper()
	l := tcpListen(t, topo.Host, netip.AddrPortFrom(loop, port))
	srv := make(chan error, 1)
	go func() {
		l.SetDeadline(time.Now().Add(tcpTimeout))
		c, err := l.AcceptTCP()
		if err != nil {
			srv <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(tcpTimeout))
		if err := tcpCheck(c, up, 1); err != nil {
			srv <- fmt.Errorf("namespace to host: %w", err)
			return
		}
		// Half-closed by the namespace: the other direction still works.
		if err := tcpSend(c, down, 2); err != nil {
			srv <- fmt.Errorf("host to namespace: %w", err)
			return
		}
		srv <- c.CloseWrite()
	}()

	target := fmt.Sprintf("TCP4:%s:%d", loop, port)
	if loop.Is6() {
		target = fmt.Sprintf("TCP6:[%s]:%d", loop, port)
	}
	ctx, cancel := context.WithTimeout(context.Background(), tcpTimeout)
	defer cancel()
	argv := append([]string{"ip", "netns", "exec", topo.Host.Name},
		pastaArgv(runAs{"root", -1}, dir, "--config-net", "-T", fmt.Sprint(port), "--", "socat", "-t", "60", "-b", "65536", "STDIO", target)...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sendErr := make(chan error, 1)
	go func() {
		err := tcpSend(stdin, up, 1)
		if cerr := stdin.Close(); err == nil {
			err = cerr
		}
		sendErr <- err
	}()
	recvErr := tcpCheck(stdout, down, 2)
	werr := cmd.Wait()
	if err := errors.Join(<-sendErr, recvErr, <-srv, werr); err != nil {
		t.Fatalf("through %v port %d: %v\npasta's stderr:\n%s", loop, port, err, stderr.String())
	}
}

func TestSpliceNsToHost(t *testing.T) {
	nstest.NeedRoot(t)
	if _, err := exec.LookPath("socat"); err != nil {
		t.Skip("socat is not installed")
	}
	dir, _ := binaries(t)
	topo := nstest.NewTopology(t, nstest.TopologyOptions{})
	for _, tc := range []struct {
		name     string
		loop     netip.Addr
		port     uint16
		up, down int64
	}{
		{name: "IPv4 small", loop: netip.MustParseAddr("127.0.0.1"), port: 9090, up: 1000, down: 3},
		{name: "IPv6 small", loop: netip.IPv6Loopback(), port: 9091, up: 5, down: 70000},
		{name: "IPv4 empty up", loop: netip.MustParseAddr("127.0.0.1"), port: 9092, up: 0, down: 10},
		{name: "IPv4 100 MiB each way", loop: netip.MustParseAddr("127.0.0.1"), port: 9093, up: 100 << 20, down: 100 << 20},
		{name: "IPv6 100 MiB each way", loop: netip.IPv6Loopback(), port: 9094, up: 100 << 20, down: 100 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spliceTransfer(t, topo, dir, tc.loop, tc.port, tc.up, tc.down)
		})
	}
}
