// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package testnet

import (
	"testing"
	"time"

	"passt-go/proto/engine"
	"passt-go/proto/flow"
)

// Recorder is a tap.Sink keeping copies of the frames sent to the guest.
type Recorder struct{ Frames [][]byte }

// Send keeps a copy of frame.
func (r *Recorder) Send(frame []byte) { r.Frames = append(r.Frames, append([]byte(nil), frame...)) }

// Rig is what a protocol Handler under test runs with: its flow table,
// its event loop, a Recorder for the frames it sends to the guest and a
// clock the test sets.
type Rig struct {
	Flows *flow.Table
	Loop  *engine.Loop
	Sink  *Recorder
	Now   flow.Time
}

// NewRig returns a Rig with a flow table of capacity, an event loop
// closed at clean-up, and the clock at one hour. A Handler built on it
// and closed at a clean-up registered later is closed before the loop.
func NewRig(t testing.TB, capacity int) *Rig {
	t.Helper()
	flows, err := flow.New(capacity)
	if err != nil {
		t.Fatal(err)
	}
	loop, err := engine.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { loop.Close() })
	return &Rig{Flows: flows, Loop: loop, Sink: &Recorder{}, Now: flow.Time(time.Hour)}
}

// Clock returns the time the test set, for a Handler's configuration.
func (r *Rig) Clock() flow.Time { return r.Now }

// Pump runs the loop, handing every event to handle, until the sink holds
// want frames or five seconds pass, and reports whether it got them.
func (r *Rig) Pump(want int, handle func(engine.Event)) bool {
	p := &pumper{r: r, want: want, handle: handle, deadline: time.Now().Add(5 * time.Second)}
	if len(r.Sink.Frames) < want {
		if err := r.Loop.Run(p, 20*time.Millisecond); err != nil {
			return false
		}
	}
	return len(r.Sink.Frames) >= want
}

// pumper is the engine.Handler of Pump: it stops the loop after the batch
// that brings the frames wanted, or after the deadline.
type pumper struct {
	r        *Rig
	want     int
	handle   func(engine.Event)
	deadline time.Time
}

func (p *pumper) Handle(ev engine.Event) { p.handle(ev) }

func (p *pumper) BatchDone() {
	if len(p.r.Sink.Frames) >= p.want || time.Now().After(p.deadline) {
		p.r.Loop.Stop()
	}
}
