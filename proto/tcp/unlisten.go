// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tcp

import "golang.org/x/sys/unix"

// RemoveListener stops watching fd, a listener given to AddListener, and
// closes it; connections accepted on it go on. Its slot is reused by the
// next AddListener. It reports false, and does nothing, when fd is not
// one of the Handler's listeners.
func (h *Handler) RemoveListener(fd int) bool {
	for i := range h.listeners {
		l := &h.listeners[i]
		if l.fd != fd || fd < 0 {
			continue
		}
		if h.loop != nil {
			h.loop.Del(fd)
		}
		unix.Close(fd)
		*l = listener{fd: -1}
		return true
	}
	return false
}

// freeListener returns the index of a slot for a new listener: a removed
// one's, else one past the end.
func (h *Handler) freeListener() int {
	for i := range h.listeners {
		if h.listeners[i].fd < 0 {
			return i
		}
	}
	return len(h.listeners)
}

// Listeners is the number of listeners the Handler watches.
func (h *Handler) Listeners() int {
	n := 0
	for i := range h.listeners {
		if h.listeners[i].fd >= 0 {
			n++
		}
	}
	return n
}
