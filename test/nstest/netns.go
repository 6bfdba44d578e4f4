// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package nstest

import (
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// NetNSDir is where ip netns keeps named network namespaces.
const NetNSDir = "/run/netns"

// NetNSPath turns a namespace argument into a path: a string containing a
// slash is already a path (/proc/PID/ns/net, /run/netns/NAME); any other
// non-empty string is a name under NetNSDir; "" stays "" (the caller's own
// namespace).
func NetNSPath(nameOrPath string) string {
	if nameOrPath == "" || strings.Contains(nameOrPath, "/") {
		return nameOrPath
	}
	return NetNSDir + "/" + nameOrPath
}

// InNetNS runs fn on an OS thread that has entered the network namespace
// at path, and returns fn's error. Sockets and tap devices created by fn
// belong to that namespace for good and may be used from any goroutine
// afterwards. With path "" fn runs in the caller's namespace.
//
// fn runs in a new goroutine locked to its thread; goroutines it starts run
// elsewhere, in the original namespace. The thread returns to its original
// namespace afterwards; if that fails the thread is left locked, so the
// runtime discards it with the goroutine.
func InNetNS(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", path, err)
	}
	defer unix.Close(target)

	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("open own netns: %w", err)
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("setns %s: %w", path, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			// Stay locked: the thread dies with this goroutine.
			done <- fmt.Errorf("return from netns %s: %w", path, err)
			return
		}
		runtime.UnlockOSThread()
		done <- ferr
	}()
	return <-done
}
