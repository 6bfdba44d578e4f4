// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package worker

import (
	"time"

	"passt-go/proto/engine"
	"passt-go/proto/header"
)

// tcpGlue connects the TCP translation to the worker: frames from the
// guest, events of its descriptors (kinds kindTCP...), periodic work and
// counters. Without a TCP translation, frames are dropped and counted, and
// the monitor refuses TCP forwarding rules (see monitor.Translated).
type tcpGlue struct{}

func (g *tcpGlue) init(w *Worker, listeners []handed) error {
	closeHanded(listeners)
	return nil
}

func (g *tcpGlue) fromGuest(frame []byte, f *header.Frame) (drop, bool) {
	return dropNoHandler, true
}

func (g *tcpGlue) event(ev engine.Event)             {}
func (g *tcpGlue) periodic(now time.Time)            {}
func (g *tcpGlue) counters(add func(string, uint64)) {}
