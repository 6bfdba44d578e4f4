// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package engine

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

type recorder struct {
	l       *Loop
	events  []Event
	batches int
	want    int
}

func (r *recorder) Handle(ev Event) { r.events = append(r.events, ev) }
func (r *recorder) BatchDone() {
	r.batches++
	if len(r.events) >= r.want || r.batches > 50 {
		r.l.Stop()
	}
}

func socketpair(t *testing.T) [2]int {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds
}

func TestRefsRoundTrip(t *testing.T) {
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a, b := socketpair(t), socketpair(t)
	refA := Ref{Kind: 7, Index: 0xfffffffe}
	refB := Ref{Kind: 1, Index: 42}
	if err := l.Add(a[0], refA, unix.EPOLLIN); err != nil {
		t.Fatal(err)
	}
	if err := l.Add(b[0], refB, unix.EPOLLIN); err != nil {
		t.Fatal(err)
	}
	unix.Write(a[1], []byte("x"))
	unix.Write(b[1], []byte("y"))
	r := &recorder{l: l, want: 2}
	if err := l.Run(r, time.Second); err != nil {
		t.Fatal(err)
	}
	got := map[Ref]bool{}
	for _, ev := range r.events {
		if ev.Events&unix.EPOLLIN == 0 {
			t.Errorf("event for %v: got events %#x, want EPOLLIN", ev.Ref, ev.Events)
		}
		got[ev.Ref] = true
	}
	if !got[refA] || !got[refB] || len(got) != 2 {
		t.Errorf("got refs %v, want %v and %v", got, refA, refB)
	}
}

func TestTimerFiresAndAcks(t *testing.T) {
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ref := Ref{Kind: 3, Index: 9}
	tm, err := l.NewTimer(ref)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	if err := tm.Set(5*time.Millisecond, 0); err != nil {
		t.Fatal(err)
	}
	r := &recorder{l: l, want: 1}
	if err := l.Run(r, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if len(r.events) != 1 || r.events[0].Ref != ref {
		t.Fatalf("got events %v, want one for %v", r.events, ref)
	}
	if n := tm.Ack(); n != 1 {
		t.Errorf("got %d expiries, want 1", n)
	}
	if n := tm.Ack(); n != 0 {
		t.Errorf("after ack: got %d expiries, want 0", n)
	}
}

type counter struct {
	l *Loop
	n int
}

func (c *counter) Handle(Event) { c.n++ }
func (c *counter) BatchDone()   { c.l.Stop() }

func TestDispatchAllocatesNothing(t *testing.T) {
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := socketpair(t)
	if err := l.Add(p[0], Ref{Kind: 1}, unix.EPOLLIN); err != nil {
		t.Fatal(err)
	}
	unix.Write(p[1], []byte("x")) // stays readable: level-triggered
	c := &counter{l: l}
	allocs := testing.AllocsPerRun(100, func() { l.Run(c, time.Second) })
	if allocs != 0 {
		t.Errorf("got %v allocations per wake-up, want 0", allocs)
	}
	if c.n < 100 {
		t.Errorf("got %d events, want at least 100", c.n)
	}
}
