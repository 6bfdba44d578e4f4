// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package sandbox

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Capabilities are per thread. Every function in this file acts on, or
// reads, the calling OS thread only; callers lock the goroutine to its
// thread first when that matters.

// maxCap bounds the loops over capability numbers; the kernel answers
// EINVAL above its own last capability, which ends them earlier.
const maxCap = 63

// CapSets is the capability state of one thread, each set a bit mask
// indexed by capability number.
type CapSets struct {
	Effective, Permitted, Inheritable, Bounding, Ambient uint64
}

// Empty reports whether no capability is left in any set.
func (c CapSets) Empty() bool {
	return c.Effective|c.Permitted|c.Inheritable|c.Bounding|c.Ambient == 0
}

// ThreadCaps returns the capability sets of the calling thread, read with
// capget and prctl (no /proc needed, so it works inside the worker).
func ThreadCaps() (CapSets, error) {
	var c CapSets
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return c, fmt.Errorf("capget: %w", err)
	}
	c.Effective = uint64(data[0].Effective) | uint64(data[1].Effective)<<32
	c.Permitted = uint64(data[0].Permitted) | uint64(data[1].Permitted)<<32
	c.Inheritable = uint64(data[0].Inheritable) | uint64(data[1].Inheritable)<<32
	for i := 0; i <= maxCap; i++ {
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(i), 0, 0, 0)
		if errors.Is(err, unix.EINVAL) {
			break
		}
		if err != nil {
			return c, fmt.Errorf("reading the bounding set: %w", err)
		}
		if in == 1 {
			c.Bounding |= 1 << i
		}
		amb, err := unix.PrctlRetInt(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_IS_SET, uintptr(i), 0, 0)
		if err == nil && amb == 1 {
			c.Ambient |= 1 << i
		}
	}
	return c, nil
}

// dropBounding empties the calling thread's bounding set. It needs
// CAP_SETPCAP; without it the kernel answers EPERM, which is returned.
func dropBounding() error {
	for i := 0; i <= maxCap; i++ {
		err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(i), 0, 0, 0)
		if errors.Is(err, unix.EINVAL) && i > 0 {
			return nil
		}
		if err != nil {
			return fmt.Errorf("dropping capability %d from the bounding set: %w", i, err)
		}
	}
	return nil
}

// clearAmbient empties the calling thread's ambient set (a no-op on
// kernels without one).
func clearAmbient() error {
	err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
	if err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("clearing the ambient set: %w", err)
	}
	return nil
}

// clearCaps empties the effective, permitted and inheritable sets of the
// calling thread. Dropping never needs privilege.
func clearCaps() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}

// noNewPrivs reports whether no_new_privs is set on the calling thread.
func noNewPrivs() (bool, error) {
	v, err := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
	if err != nil {
		return false, fmt.Errorf("reading no_new_privs: %w", err)
	}
	return v == 1, nil
}

// setNoNewPrivs sets no_new_privs on the calling thread; threads and
// processes it creates inherit it, and execve can then grant nothing.
func setNoNewPrivs() error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("setting no_new_privs: %w", err)
	}
	return nil
}
