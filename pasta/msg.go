// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package pasta

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"golang.org/x/sys/unix"
)

// The monitor and the keeper talk over an AF_UNIX SOCK_SEQPACKET pair: one
// JSON object per datagram, descriptors as SCM_RIGHTS on the datagram they
// belong to. Both ends are trusted (the same binary, set up by the same
// user), so the channel is kept simple; the worker never sees it.

// maxMessage bounds one datagram: a set-up with every route of a host.
const maxMessage = 1 << 20

// maxMessageFDs is the most descriptors a message carries.
const maxMessageFDs = 8

// Kinds of message.
const (
	// Monitor to keeper.
	kindSetup  = "setup"  // Setup: prepare the namespace
	kindStart  = "start"  // run the command
	kindSignal = "signal" // Signal: pass a signal on to the command

	// Keeper to monitor.
	kindReady   = "ready"   // Link, with the tap and the netns handle
	kindStarted = "started" // PID of the command, as the namespace numbers it
	kindExited  = "exited"  // Status: the command ended
	kindFailed  = "failed"  // Error: the request could not be done
	// Listeners: -T sockets opened inside, sent before ready.
	kindListeners = "listeners"

	// Both ways: a SocketRequest, and its answer (Seq, with the
	// descriptor or an Error).
	kindSocket = "socket"
	// Monitor to the keeper of a joined namespace: the set-up is over,
	// give up root; answered with settled (and an Error if it could
	// not).
	kindSettle  = "settle"
	kindSettled = "settled"
)

// message is what travels in one datagram.
type message struct {
	Kind   string `json:"kind"`
	Setup  *Setup `json:"setup,omitempty"`
	Signal int    `json:"signal,omitempty"`
	Link   *Link  `json:"link,omitempty"`
	PID    int    `json:"pid,omitempty"`
	// Status is the command's wait status as the kernel reports it.
	Status uint32 `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
	// Listeners describe the descriptors of a listeners message, in order.
	Listeners []NsListener `json:"listeners,omitempty"`
	// Warnings from the set-up, for the monitor to log.
	Warnings []string `json:"warnings,omitempty"`
	// ProcNet names the /proc/net files that follow the tap and the
	// netns handle in a ready message, in order (see ProcNetFiles).
	ProcNet []string `json:"procnet,omitempty"`
	// Socket is a request for a socket inside the namespace; Seq
	// names the request an answer is for.
	Socket *SocketRequest `json:"socket,omitempty"`
	Seq    uint64         `json:"seq,omitempty"`
}

// channel is one end of the pair. Sends may come from several goroutines;
// one goroutine receives.
type channel struct {
	fd     int
	sendMu sync.Mutex
	buf    []byte
	oob    []byte
}

func newChannel(fd int) *channel {
	return &channel{
		fd:  fd,
		buf: make([]byte, maxMessage),
		oob: make([]byte, unix.CmsgSpace(4*maxMessageFDs)),
	}
}

// socketPair returns two connected, close-on-exec SOCK_SEQPACKET sockets.
func socketPair() (a, b int, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, -1, fmt.Errorf("socket pair: %w", err)
	}
	return fds[0], fds[1], nil
}

// send writes m with fds attached. The descriptors stay open on this side.
func (c *channel) send(m message, fds ...int) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if len(b) > maxMessage {
		return fmt.Errorf("%s message of %d bytes is too long", m.Kind, len(b))
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	for {
		err = unix.Sendmsg(c.fd, b, oob, nil, 0)
		if err != unix.EINTR {
			return err
		}
	}
}

// recv reads one message. End of stream gives io.EOF. Received
// descriptors are close-on-exec and belong to the caller.
func (c *channel) recv() (message, []int, error) {
	var n, oobn, flags int
	var err error
	for {
		n, oobn, flags, _, err = unix.Recvmsg(c.fd, c.buf, c.oob, unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return message{}, nil, err
	}
	fds, ferr := parseRights(c.oob[:oobn])
	switch {
	case ferr != nil:
		err = ferr
	case flags&(unix.MSG_CTRUNC|unix.MSG_TRUNC) != 0:
		err = errors.New("message truncated")
	case n == 0 && len(fds) == 0:
		return message{}, nil, io.EOF
	}
	var m message
	if err == nil {
		err = json.Unmarshal(c.buf[:n], &m)
	}
	if err != nil {
		closeAll(fds)
		return message{}, nil, err
	}
	return m, fds, nil
}

func parseRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	cmsgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	for i := range cmsgs {
		got, err := unix.ParseUnixRights(&cmsgs[i])
		if err != nil {
			closeAll(fds)
			return nil, err
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}
