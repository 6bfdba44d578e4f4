// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Command tapbridge makes a network namespace's kernel the guest of passt:
// it connects to passt's unix socket (or takes an inherited, connected
// stream socket) and bridges the qemu-stream frames to a tap device it
// creates inside the namespace. It exits when the socket closes (status 0),
// on SIGTERM or SIGINT (status 0), or on an error (status 1).
//
//	tapbridge -socket /tmp/passt_1.socket -netns NAME [-ifname eth0]
//	          [-mtu 65520] [-mac 02:00:00:00:00:02] [-ready FILE] [-wait 5s]
//
// With -ready, once the tap is up the program writes "IFNAME IFINDEX MAC"
// to FILE (atomically, by rename), so a test can wait for the file.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"passt-go/test/nstest"
)

func main() {
	logger := log.New(os.Stderr, "tapbridge: ", 0)
	if err := run(os.Args[1:], logger, os.Stderr); err != nil {
		var u usageError
		if errors.As(err, &u) {
			logger.Print(err)
			os.Exit(2)
		}
		logger.Print(err)
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(args []string, logger *log.Logger, usageOut io.Writer) error {
	fs := flag.NewFlagSet("tapbridge", flag.ContinueOnError)
	fs.SetOutput(usageOut)
	socketPath := fs.String("socket", "", "connect to the passt unix stream socket at `PATH`")
	fd := fs.Int("fd", -1, "use the inherited, connected stream socket `N` instead of -socket")
	wait := fs.Duration("wait", 0, "keep retrying to connect to -socket for up to `DURATION`")
	netnsArg := fs.String("netns", "", "create the tap in namespace `NAME` (under /run/netns) or PATH; default: own namespace")
	ifname := fs.String("ifname", nstest.DefaultTapName, "tap interface `NAME`")
	mtu := fs.Int("mtu", nstest.DefaultMTU, "tap `MTU`")
	macArg := fs.String("mac", "", "tap hardware address `MAC` (default: the kernel's random one)")
	ready := fs.String("ready", "", "write \"IFNAME IFINDEX MAC\" to `FILE` once the tap is up")
	stats := fs.Bool("stats", false, "print frame and byte counters on exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err.Error()}
	}
	if fs.NArg() != 0 {
		return usageError{fmt.Sprintf("unexpected arguments %q", fs.Args())}
	}
	if (*socketPath == "") == (*fd < 0) {
		return usageError{"exactly one of -socket and -fd is required"}
	}
	var mac net.HardwareAddr
	if *macArg != "" {
		m, err := net.ParseMAC(*macArg)
		if err != nil || len(m) != 6 {
			return usageError{fmt.Sprintf("-mac %q: not an Ethernet address", *macArg)}
		}
		mac = m
	}

	sock := *fd
	if *socketPath != "" {
		s, err := connect(*socketPath, *wait)
		if err != nil {
			return err
		}
		sock = s
	} else if _, err := unix.GetsockoptInt(sock, unix.SOL_SOCKET, unix.SO_TYPE); err != nil {
		return fmt.Errorf("-fd %d: not a socket: %w", sock, err)
	}
	unix.CloseOnExec(sock)

	tap, err := nstest.OpenTap(nstest.TapConfig{NetNS: *netnsArg, Name: *ifname, MTU: *mtu, MAC: mac})
	if err != nil {
		unix.Close(sock)
		return err
	}
	b, err := nstest.NewBridge(sock, tap.FD)
	if err != nil {
		unix.Close(sock)
		unix.Close(tap.FD)
		return err
	}
	if *ready != "" {
		if err := writeReady(*ready, tap); err != nil {
			b.Close()
			return err
		}
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		b.Close()
	}()
	err = b.Run()
	if *stats {
		s := b.Stats()
		logger.Printf("to socket: %d frames, %d bytes, %d writes; to tap: %d frames, %d bytes, %d dropped",
			s.FramesToSocket, s.BytesToSocket, s.SocketWrites, s.FramesToTap, s.BytesToTap, s.TapDrops)
	}
	return err
}

// connect opens a stream connection to the unix socket at path, retrying
// refused or missing sockets until wait has passed.
func connect(path string, wait time.Duration) (int, error) {
	deadline := time.Now().Add(wait)
	delay := 10 * time.Millisecond
	for {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return -1, fmt.Errorf("socket: %w", err)
		}
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: path})
		if err == nil {
			return fd, nil
		}
		unix.Close(fd)
		retry := errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ECONNREFUSED)
		if !retry || time.Now().After(deadline) {
			return -1, fmt.Errorf("connect %s: %w", path, err)
		}
		time.Sleep(delay)
		delay = min(2*delay, 200*time.Millisecond)
	}
}

// writeReady writes the tap's name, index and MAC to path through a
// temporary file and a rename, so a reader never sees a partial line.
func writeReady(path string, tap *nstest.Tap) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tapbridge-ready-*")
	if err != nil {
		return fmt.Errorf("ready file: %w", err)
	}
	_, werr := fmt.Fprintf(tmp, "%s %d %s\n", tap.Name, tap.Index, tap.MAC)
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("ready file: %w", werr)
	}
	return nil
}
