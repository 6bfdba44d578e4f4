// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package worker

import (
	"time"

	"passt-go/ipc"
	"passt-go/proto/header"
)

// l2 holds the services the worker answers itself and the guest's
// addresses as seen in its frames.
type l2 struct {
	w        *Worker
	guestMAC header.MAC
	scratch  []byte
}

func (s *l2) init(w *Worker) error {
	s.w = w
	s.guestMAC = header.BroadcastMAC
	s.scratch = make([]byte, outSlotSize)
	return nil
}

// learn records the guest's MAC address from the source of its frames.
func (s *l2) learn(f *header.Frame) {
	if !f.SrcMAC.IsMulticast() && !f.SrcMAC.IsZero() && f.SrcMAC != s.guestMAC {
		s.guestMAC = f.SrcMAC
		s.w.logf(ipc.LevelDebug, "guest MAC address: %v", f.SrcMAC)
	}
}

// dispatch hands a decoded frame to its service; it reports a drop reason
// when nothing took the frame.
func (s *l2) dispatch(frame []byte, f *header.Frame) (drop, bool) {
	return dropNoHandler, true
}

func (s *l2) guestConnected()                       {}
func (s *l2) periodic(now time.Time)                {}
func (s *l2) icmpEvent(index uint32, events uint32) {}
func (s *l2) counters(add func(string, uint64))     {}
