// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"passt-go/test/nstest"
)

// fileServer listens on addr inside ns: a connection to it first gets the
// whole of data, then the server reads what the client sends until end of
// stream and reports its SHA-256 on sums. One connection per call to accept.
func fileServer(t *testing.T, ns *nstest.NS, network, addr string, data []byte) (string, chan [32]byte) {
	t.Helper()
	var l net.Listener
	if err := nstest.InNetNS(ns.Path(), func() error {
		var err error
		l, err = net.Listen(network, addr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	sums := make(chan [32]byte, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				var mode [1]byte
				if _, err := io.ReadFull(c, mode[:]); err != nil {
					return
				}
				if mode[0] == 'g' {
					c.Write(data)
					return
				}
				h := sha256.New()
				io.Copy(h, c)
				var s [32]byte
				copy(s[:], h.Sum(nil))
				sums <- s
			}()
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port, sums
}

// TCP through pasta's tap path, both directions, IPv4 and IPv6, to a
// remote host and, through the gateway address, to the host's loopback:
// every byte arrives, and each transfer ends with a half-close.
func TestPastaTCP(t *testing.T) {
	nstest.NeedRoot(t)
	dir, _ := binaries(t)
	nstest.NeedTool(t, "socat")
	topo := nstest.NewTopology(t, nstest.TopologyOptions{})
	work := sharedDir(t)

	data := make([]byte, 16<<20)
	rand.Read(data)
	want := sha256.Sum256(data)
	src := filepath.Join(work, "data")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}

	type target struct {
		name, addr string
		sums       chan [32]byte
	}
	var targets []target
	for _, s := range []struct {
		name, network, listen, dial string
		ns                          *nstest.NS
	}{
		{"remote4", "tcp4", nstest.FarAddr4 + ":0", nstest.FarAddr4, topo.Remote},
		{"remote6", "tcp6", "[" + nstest.FarAddr6 + "]:0", "[" + nstest.FarAddr6 + "]", topo.Remote},
		{"hostlo4", "tcp4", "127.0.0.1:0", nstest.RemoteAddr4, topo.Host},
		{"hostlo6", "tcp6", "[::1]:0", "[" + nstest.RemoteAddr6 + "]", topo.Host},
	} {
		port, sums := fileServer(t, s.ns, s.network, s.listen, data)
		targets = append(targets, target{s.name, s.dial + ":" + port, sums})
	}

	// Inside the namespace: for each target, fetch the data ('g'), then
	// send it back ('p') and half-close.
	var script strings.Builder
	script.WriteString("set -e\n")
	for _, tg := range targets {
		fmt.Fprintf(&script, "printf g | socat -t 30 - TCP:%s > %s/got-%s\n", tg.addr, work, tg.name)
		fmt.Fprintf(&script, "{ printf p; cat %s; } | socat -t 30 -u - TCP:%s\n", src, tg.addr)
	}
	stdout, stderr, code := runPasta(t, topo.Host, runAs{"root", -1}, dir, "--config-net", "--", "sh", "-c", script.String())
	if code != 0 {
		t.Fatalf("pasta: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	for _, tg := range targets {
		got, err := os.ReadFile(filepath.Join(work, "got-"+tg.name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("%s: received %d bytes differing from the %d sent", tg.name, len(got), len(data))
		}
		select {
		case s := <-tg.sums:
			if s != want {
				t.Errorf("%s: the server received other bytes than the namespace sent", tg.name)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s: the server saw no end of the upload", tg.name)
		}
	}
}
