// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package splice

import (
	"golang.org/x/sys/unix"
)

// MaxPipeSize is the largest pipe size asked for with F_SETPIPE_SZ.
const MaxPipeSize = 1 << 20

// minPipeSize is the smallest size tried before keeping the default.
const minPipeSize = 1 << 16

// SocketBuffer is the SO_RCVBUF and SO_SNDBUF set on both sockets (the
// kernel doubles it, and caps it at net.core.rmem_max and wmem_max).
// Left to autotuning, a loopback connection's receive queue grows to
// tcp_rmem's maximum (32 MiB on Debian), so a fast sender can park many
// megabytes before they are read; with 1 MiB the spliced paths measured
// about 6% faster, for less CPU in all three processes together (see
// doc.go).
const SocketBuffer = 1 << 20

// Sides of a Conn.
const (
	A = 0
	B = 1
)

// Conn is one spliced connection. The zero value is closed.
type Conn struct {
	fd   [2]int    // sockets: A, B
	pipe [2][2]int // pipe[d]: carries fd[d] to fd[1-d]; [0] read end, [1] write end
	size [2]int    // capacity of each pipe
	held [2]int    // bytes in pipe[d] not yet written to fd[1-d]

	eof     [2]bool // fd[d] read end of stream
	shut    [2]bool // fd[1-d] was shut down for writing after eof[d]
	blocked [2]bool // fd[1-d] refused bytes of pipe[d]: waiting for EPOLLOUT
	// connecting: B's non-blocking connect has not completed yet.
	connecting bool
	failed     bool
	open       bool

	// Moved counts the bytes written to each destination: Moved[d] is
	// what went from side d to the other side.
	Moved [2]uint64
}

// Open starts splicing a and b, which the Conn then owns (Close closes
// them). Both must be non-blocking connected (or, for b when connecting
// is true, connecting) stream sockets. On error nothing is kept and a
// and b stay the caller's.
func (c *Conn) Open(a, b int, connecting bool) error {
	*c = Conn{fd: [2]int{a, b}, pipe: [2][2]int{{-1, -1}, {-1, -1}}}
	for d := range 2 {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
			c.closePipes()
			return err
		}
		c.pipe[d] = p
		c.size[d] = growPipe(p[1])
	}
	for _, fd := range c.fd {
		// Best effort: a refusal leaves autotuning, which works too.
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, SocketBuffer)
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, SocketBuffer)
	}
	c.connecting = connecting
	c.open = true
	return nil
}

// growPipe sets the pipe's size as large as allowed and returns it.
func growPipe(fd int) int {
	for sz := MaxPipeSize; sz >= minPipeSize; sz /= 2 {
		if got, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, sz); err == nil {
			return got
		}
	}
	if got, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0); err == nil {
		return got
	}
	return minPipeSize
}

// FD returns the socket of a side.
func (c *Conn) FD(side int) int { return c.fd[side] }

// PipeSize returns the capacity of the pipe carrying side's bytes.
func (c *Conn) PipeSize(side int) int { return c.size[side] }

// IsOpen reports whether the Conn holds sockets (Open was called, Close
// not yet).
func (c *Conn) IsOpen() bool { return c.open }

// Done reports whether the connection is over: both directions ended, or
// a failure. The caller then calls Close.
func (c *Conn) Done() bool {
	return c.failed || (c.shut[A] && c.shut[B])
}

// Failed reports whether the connection ended by a reset or an error.
func (c *Conn) Failed() bool { return c.failed }

// Want returns the events to watch on a side's socket.
func (c *Conn) Want(side int) uint32 {
	if c.Done() {
		return 0
	}
	if c.connecting {
		if side == B {
			return unix.EPOLLOUT
		}
		return 0
	}
	var ev uint32
	// Reading side's source: while its stream goes on and its pipe is
	// not waiting for the other socket.
	if !c.eof[side] && !c.blocked[side] {
		ev |= unix.EPOLLIN | unix.EPOLLRDHUP
	}
	// Writing to side: the other direction's pipe is waiting for room.
	if c.blocked[1-side] {
		ev |= unix.EPOLLOUT
	}
	return ev
}

// Event handles the readiness events of a side's socket and moves what
// can be moved in both directions.
func (c *Conn) Event(side int, events uint32) {
	if !c.open || c.Done() {
		return
	}
	if events&unix.EPOLLERR != 0 {
		c.failed = true
		return
	}
	if c.connecting {
		if side != B || events&(unix.EPOLLOUT|unix.EPOLLHUP) == 0 {
			return
		}
		if e, err := unix.GetsockoptInt(c.fd[B], unix.SOL_SOCKET, unix.SO_ERROR); err != nil || e != 0 {
			c.failed = true
			return
		}
		c.connecting = false
	}
	if events&unix.EPOLLOUT != 0 {
		c.blocked[1-side] = false
	}
	c.Move()
}

// Move moves what can be moved in both directions without waiting.
func (c *Conn) Move() {
	if !c.open || c.connecting {
		return
	}
	for d := range 2 {
		if c.failed {
			return
		}
		c.move(d)
	}
}

// move moves direction d: fd[d] to fd[1-d] through pipe[d].
func (c *Conn) move(d int) {
	src, dst := c.fd[d], c.fd[1-d]
	for {
		if c.held[d] > 0 {
			n, err := unix.Splice(c.pipe[d][0], nil, dst, nil, c.held[d], unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
			if n > 0 {
				c.held[d] -= int(n)
				c.Moved[d] += uint64(n)
			}
			switch {
			case err == unix.EINTR:
				continue
			case err == unix.EAGAIN:
				c.blocked[d] = true
				return
			case err != nil:
				c.failed = true
				return
			}
			if c.held[d] > 0 {
				continue
			}
		}
		c.blocked[d] = false
		if c.eof[d] {
			if !c.shut[d] {
				c.shut[d] = true
				unix.Shutdown(dst, unix.SHUT_WR)
			}
			return
		}
		n, err := unix.Splice(src, nil, c.pipe[d][1], nil, c.size[d], unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return
		case err != nil:
			c.failed = true
			return
		case n == 0:
			c.eof[d] = true
		default:
			c.held[d] += int(n)
		}
	}
}

// Close closes the pipes and both sockets; after a failure the sockets
// are reset (SO_LINGER 0) so that both peers see it. The Conn is then
// zero again.
func (c *Conn) Close() {
	if !c.open {
		return
	}
	reset := c.failed || !c.Done()
	for _, fd := range c.fd {
		if fd < 0 {
			continue
		}
		if reset {
			unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
		}
		unix.Close(fd)
	}
	c.closePipes()
	*c = Conn{}
}

func (c *Conn) closePipes() {
	for d := range 2 {
		for _, fd := range c.pipe[d] {
			if fd >= 0 {
				unix.Close(fd)
			}
		}
		c.pipe[d] = [2]int{-1, -1}
	}
}
