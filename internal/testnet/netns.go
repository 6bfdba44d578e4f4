// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package testnet

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// NetNS is a private network namespace held by one goroutine locked to
// its thread: functions given to Run execute on that thread, so the
// sockets they open belong to the namespace. The goroutine never unlocks:
// when it ends, at the test's clean-up, its thread ends with it and the
// namespace goes away.
type NetNS struct {
	fns  chan func()
	done chan struct{}
}

// NewNetNS creates a network namespace with lo up, then runs setup, when
// not nil, on the namespace's thread. It skips the test when the kernel
// refuses to create the namespace and fails it when anything after that
// fails.
func NewNetNS(t testing.TB, setup func() error) *NetNS {
	t.Helper()
	type result struct {
		err     error
		unshare bool // err is the refusal of unshare itself
	}
	ns := &NetNS{fns: make(chan func()), done: make(chan struct{})}
	res := make(chan result)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			res <- result{err: err, unshare: true}
			return
		}
		err := linkUp("lo")
		if err == nil && setup != nil {
			err = setup()
		}
		res <- result{err: err}
		if err != nil {
			return
		}
		for fn := range ns.fns {
			fn()
			ns.done <- struct{}{}
		}
	}()
	if r := <-res; r.err != nil {
		if r.unshare && (errors.Is(r.err, unix.EPERM) || errors.Is(r.err, unix.EINVAL) || errors.Is(r.err, unix.ENOSPC)) {
			t.Skipf("the kernel refused a network namespace: unshare(CLONE_NEWNET): %v", r.err)
		}
		t.Fatalf("namespace set-up: %v", r.err)
	}
	t.Cleanup(func() { close(ns.fns) })
	return ns
}

// Run executes fn on the namespace's thread and waits for it. fn must not
// call t.Fatal or t.FailNow (they would end the namespace's goroutine);
// it reports with t.Error and returns.
func (ns *NetNS) Run(fn func()) {
	ns.fns <- fn
	<-ns.done
}

// linkUp sets IFF_UP on the named interface of the calling thread's
// namespace.
func linkUp(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("SIOCGIFFLAGS %s: %w", name, err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("SIOCSIFFLAGS %s: %w", name, err)
	}
	return nil
}

// CountFDs returns the number of descriptors the process has open.
func CountFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("reading /proc/self/fd: %v", err)
	}
	return len(ents)
}
