// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package pasta

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// Sockets made inside the namespace while pasta runs. A socket belongs to
// the network namespace it was created in, whoever holds it later, and
// only a process inside can create one there: the monitor may not enter
// the namespace (setns(2) needs CAP_SYS_ADMIN in its own user namespace,
// which an ordinary user lacks), so it asks the keeper, which stays for
// the whole run for this, in joined namespaces as well as in spawned ones.
// The monitor's broker decides what may be asked for; the keeper only
// carries it out.

// SocketTimeout bounds the keeper's answer to one request.
const SocketTimeout = 2 * time.Second

// SocketRequest asks the keeper for one socket inside the namespace.
type SocketRequest struct {
	// Seq matches the answer to the request; Namespace.Socket sets it.
	Seq uint64 `json:"seq"`
	UDP bool   `json:"udp,omitempty"`
	// Bind: bind to Addr and Port (and listen, for TCP). Otherwise
	// connect to them, without waiting for a TCP handshake to complete.
	Bind bool       `json:"bind,omitempty"`
	Addr netip.Addr `json:"addr"`
	Port uint16     `json:"port"`
}

func (r SocketRequest) String() string {
	verb, proto := "connected to", "TCP"
	if r.Bind {
		verb = "bound to"
	}
	if r.UDP {
		proto = "UDP"
	}
	return fmt.Sprintf("%s socket %s %s", proto, verb, netip.AddrPortFrom(r.Addr, r.Port))
}

// socketAnswer is what the receiving goroutine hands a waiting request.
type socketAnswer struct {
	fd  int
	err error
}

// Socket asks the keeper for a socket inside the namespace, as r says.
// The descriptor is non-blocking and close-on-exec, and belongs to the
// caller. It may be called from any goroutine.
func (ns *Namespace) Socket(r SocketRequest) (int, error) {
	ans := make(chan socketAnswer, 1)
	ns.mu.Lock()
	if ns.pending == nil {
		ns.mu.Unlock()
		return -1, errors.New("the namespace process is gone")
	}
	ns.seq++
	r.Seq = ns.seq
	ns.pending[r.Seq] = ans
	ns.mu.Unlock()
	forget := func() {
		ns.mu.Lock()
		delete(ns.pending, r.Seq)
		ns.mu.Unlock()
	}
	if err := ns.ch.send(message{Kind: kindSocket, Socket: &r}); err != nil {
		forget()
		return -1, fmt.Errorf("%v in the namespace: %w", r, err)
	}
	t := time.NewTimer(SocketTimeout)
	defer t.Stop()
	select {
	case a := <-ans:
		if a.err != nil {
			return -1, fmt.Errorf("%v in the namespace: %w", r, a.err)
		}
		return a.fd, nil
	case <-t.C:
		forget()
		// An answer racing the timeout finds no one waiting and its
		// descriptor is closed by the receiver.
		return -1, fmt.Errorf("%v in the namespace: no answer within %v", r, SocketTimeout)
	}
}

// answerSocket delivers an answer from the keeper to the request waiting
// for it, or closes its descriptor if none waits.
func (ns *Namespace) answerSocket(m message, fds []int) {
	var a socketAnswer
	switch {
	case m.Error != "":
		a.err = errors.New(m.Error)
		closeAll(fds)
	case len(fds) != 1:
		a.err = fmt.Errorf("answer with %d descriptors", len(fds))
		closeAll(fds)
	default:
		a.fd = fds[0]
	}
	ns.mu.Lock()
	ch, ok := ns.pending[m.Seq]
	delete(ns.pending, m.Seq)
	ns.mu.Unlock()
	if !ok {
		if a.err == nil {
			unix.Close(a.fd)
		}
		return
	}
	ch <- a
}

// failSockets answers every waiting request with err, and every later one
// as well: the keeper is gone.
func (ns *Namespace) failSockets(err error) {
	ns.mu.Lock()
	pending := ns.pending
	ns.pending = nil
	ns.mu.Unlock()
	for _, ch := range pending {
		ch <- socketAnswer{err: err}
	}
}

// serveSocket carries out one request in the keeper and answers it.
func (k *keeper) serveSocket(r *SocketRequest) {
	fd, err := openSocket(r)
	if err != nil {
		k.ch.send(message{Kind: kindSocket, Seq: r.Seq, Error: err.Error()})
		return
	}
	k.ch.send(message{Kind: kindSocket, Seq: r.Seq}, fd)
	unix.Close(fd)
}

// openSocket makes the socket r asks for, in the calling process's
// network namespace.
func openSocket(r *SocketRequest) (int, error) {
	a := r.Addr.Unmap()
	if !a.IsValid() || a.Zone() != "" {
		return -1, errors.New("no usable address")
	}
	domain := unix.AF_INET
	var sa unix.Sockaddr
	if a.Is6() {
		domain = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(r.Port), Addr: a.As16()}
	} else {
		sa = &unix.SockaddrInet4{Port: int(r.Port), Addr: a.As4()}
	}
	if r.Bind && !r.UDP {
		return listenLocal(a, r.Port)
	}
	typ := unix.SOCK_STREAM
	if r.UDP {
		typ = unix.SOCK_DGRAM
	}
	fd, err := unix.Socket(domain, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if domain == unix.AF_INET6 {
		unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1)
	}
	if r.Bind {
		// No SO_REUSEADDR: a second socket on the port would take a
		// share of its datagrams.
		err = unix.Bind(fd, sa)
		if errors.Is(err, unix.EADDRINUSE) {
			err = errors.New("already in use")
		}
	} else {
		for {
			err = unix.Connect(fd, sa)
			if err != unix.EINTR {
				break
			}
		}
		if err == unix.EINPROGRESS {
			err = nil
		}
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}
