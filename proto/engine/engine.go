// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package engine is the worker's event loop: one goroutine waiting in
// epoll_wait on raw non-blocking file descriptors. Each
// registered descriptor carries a typed reference (Ref: a kind and an index)
// in the epoll data word, so an event is dispatched with a switch on the
// kind and a table lookup on the index, never by comparing descriptors.
//
// Timers are timerfds, registered like any other descriptor. Events arrive
// in batches of up to MaxEvents; the handler sees them one by one and is
// told when a batch ends, which is where deferred work (flushing frames to
// the guest, coalesced ACKs) happens.
//
// Slots is a table for descriptors that come and go, such as listeners:
// each keeps its index, the Index of its Ref, while in use, and a freed
// index is used again.
//
// The loop allocates nothing after New: the event array is allocated once
// and the Ref round-trips through the data word by value. Slots allocates
// only when it grows.
//
// The loop does not lock its goroutine to an OS thread: nothing it does
// depends on the thread it runs on, and it has to pass through the Go
// scheduler now and then (see yieldEvery), which costs a hand-over of the
// P between two threads, with two wake-ups, when the goroutine is locked.
package engine

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// Kind says what a registered descriptor is; its meaning belongs to the
// user of the loop.
type Kind uint32

// Ref is the typed reference stored with a descriptor.
type Ref struct {
	Kind  Kind
	Index uint32
}

// Event is one readiness report.
type Event struct {
	Ref    Ref
	Events uint32 // EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP bits
}

// Handler receives events. Handle is called for each event of a batch,
// BatchDone after the last one.
type Handler interface {
	Handle(ev Event)
	BatchDone()
}

// MaxEvents is the size of one epoll_wait batch.
const MaxEvents = 128

// Loop is an epoll instance and its event buffer.
type Loop struct {
	epfd   int
	events [MaxEvents]unix.EpollEvent
	stop   bool
}

// New creates the epoll instance. Call it before the seccomp filter is
// loaded: epoll_create1 is not on the worker's allowlist.
func New() (*Loop, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	return &Loop{epfd: fd}, nil
}

// Close releases the epoll instance; registered descriptors stay open.
func (l *Loop) Close() error { return unix.Close(l.epfd) }

func event(ref Ref, events uint32) unix.EpollEvent {
	return unix.EpollEvent{Events: events, Fd: int32(ref.Kind), Pad: int32(ref.Index)}
}

// Add registers fd for events with its reference.
func (l *Loop) Add(fd int, ref Ref, events uint32) error {
	ev := event(ref, events)
	return unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
}

// Mod changes the events (and reference) of a registered fd.
func (l *Loop) Mod(fd int, ref Ref, events uint32) error {
	ev := event(ref, events)
	return unix.EpollCtl(l.epfd, unix.EPOLL_CTL_MOD, fd, &ev)
}

// Del unregisters fd. Closing a descriptor unregisters it too.
func (l *Loop) Del(fd int) error {
	return unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, fd, nil)
}

// Stop makes Run return after the current batch.
func (l *Loop) Stop() { l.stop = true }

// Run dispatches events to h until Stop is called or epoll_wait fails.
// timeout bounds each wait (a negative value waits for ever); a wait that
// times out still ends with BatchDone, so periodic work runs. A caller
// that locked its goroutine to a thread (a test in a network namespace)
// keeps it locked.
func (l *Loop) Run(h Handler, timeout time.Duration) error {
	ms := -1
	if timeout >= 0 {
		ms = int(timeout / time.Millisecond)
	}
	l.stop = false
	yielded := time.Now()
	for !l.stop {
		n, err := unix.EpollWait(l.epfd, l.events[:], ms)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("epoll_wait: %w", err)
		}
		for i := 0; i < n; i++ {
			e := &l.events[i]
			h.Handle(Event{Ref: Ref{Kind: Kind(e.Fd), Index: uint32(e.Pad)}, Events: e.Events})
		}
		h.BatchDone()
		if now := time.Now(); now.Sub(yielded) >= yieldEvery {
			runtime.Gosched()
			yielded = now
		}
	}
	return nil
}

// yieldEvery is how long a busy loop goes at most without passing through
// the Go scheduler. The runtime's monitor thread (sysmon) takes a
// goroutine that has not been scheduled again for 10 ms for one running
// too long: it preempts it with a signal or, when it sits in a system call
// (epoll_wait, a write to the tap), takes its P away, and after taking a P
// it polls every 20 µs for a while. Under steady traffic that cost
// thousands of wake-ups a second; a yield a little more often than every
// 10 ms (after a batch, so never in the middle of one) costs a few
// microseconds each time.
const yieldEvery = 8 * time.Millisecond

// Timer is a timerfd, registered with the loop under its own reference.
type Timer struct {
	fd int
}

// NewTimer creates a monotonic, non-blocking timerfd and registers it.
func (l *Loop) NewTimer(ref Ref) (*Timer, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("timerfd_create: %w", err)
	}
	if err := l.Add(fd, ref, unix.EPOLLIN); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("register timer: %w", err)
	}
	return &Timer{fd: fd}, nil
}

// Set arms the timer to fire after d, then every interval (0: once).
// A zero d disarms it.
func (t *Timer) Set(d, interval time.Duration) error {
	spec := unix.ItimerSpec{
		Value:    unix.NsecToTimespec(int64(d)),
		Interval: unix.NsecToTimespec(int64(interval)),
	}
	return unix.TimerfdSettime(t.fd, 0, &spec, nil)
}

// Ack reads the expiry count so the timer stops reporting readiness, and
// returns it.
func (t *Timer) Ack() uint64 {
	var b [8]byte
	n, err := unix.Read(t.fd, b[:])
	if err != nil || n != 8 {
		return 0
	}
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// Close releases the timer.
func (t *Timer) Close() error { return unix.Close(t.fd) }
