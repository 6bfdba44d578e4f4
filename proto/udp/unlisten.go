// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package udp

import "golang.org/x/sys/unix"

// RemoveListener stops watching fd, a socket given to AddListener, closes
// it, and closes the inbound flows it opened: their sockets are bound to
// the same port, which is then free again on the host. Its slot is reused
// by the next AddListener. It reports false, and does nothing, when fd is
// not one of the Handler's listeners.
func (h *Handler) RemoveListener(fd int) bool {
	if fd < 0 {
		return false
	}
	for i := range h.listeners.At {
		l := &h.listeners.At[i]
		if l.fd != fd {
			continue
		}
		for idx := range h.state[:h.used] {
			st := &h.state[idx]
			if st.live && (st.origin == int32(i)+1 || st.listener == int32(i)) {
				h.closeFlow(uint32(idx))
			}
		}
		h.loop.Del(fd)
		unix.Close(fd)
		h.listeners.Release(uint32(i), listener{fd: -1})
		return true
	}
	return false
}

// Listeners is the number of listeners the Handler watches.
func (h *Handler) Listeners() int { return h.listeners.Len() }
