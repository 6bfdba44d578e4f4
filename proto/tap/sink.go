// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tap

// Sink takes frames for the guest from the protocol handlers. The frame is
// valid only during the call: Send copies it or writes it out before
// returning. The worker's output batch implements it.
type Sink interface {
	Send(frame []byte)
}
