// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package tcp

import "golang.org/x/sys/unix"

// RemoveListener stops watching fd, a listener given to AddListener, and
// closes it; connections accepted on it go on. Its slot is reused by the
// next AddListener. It reports false, and does nothing, when fd is not
// one of the Handler's listeners.
func (h *Handler) RemoveListener(fd int) bool {
	for i := range h.listeners.At {
		l := &h.listeners.At[i]
		if l.fd != fd || fd < 0 {
			continue
		}
		if h.loop != nil {
			h.loop.Del(fd)
		}
		unix.Close(fd)
		h.listeners.Release(uint32(i), listener{fd: -1})
		return true
	}
	return false
}

// Listeners is the number of listeners the Handler watches.
func (h *Handler) Listeners() int { return h.listeners.Len() }
