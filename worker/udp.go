// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package worker

import (
	"time"

	"passt-go/proto/engine"
	"passt-go/proto/header"
)

// udpGlue connects the UDP translation to the worker: frames from the
// guest, events of its descriptors (kinds kindUDP...), periodic work and
// counters. Without a UDP translation, frames are dropped and counted, and
// the monitor refuses UDP forwarding rules (see monitor.Translated).
type udpGlue struct{}

func (g *udpGlue) init(w *Worker, listeners []handed) error {
	closeHanded(listeners)
	return nil
}

func (g *udpGlue) fromGuest(frame []byte, f *header.Frame) (drop, bool) {
	return dropNoHandler, true
}

func (g *udpGlue) event(ev engine.Event)             {}
func (g *udpGlue) periodic(now time.Time)            {}
func (g *udpGlue) counters(add func(string, uint64)) {}
