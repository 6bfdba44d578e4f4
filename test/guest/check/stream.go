// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package check holds the small protocols the guest's checker (gcheck)
// and the tests speak to each other: a TCP transfer protocol that checks
// data byte for byte, a UDP echo, and the parts of DNS and DHCPv6 the
// checks need. Both ends import it, so they agree by construction.
//
// TCP: a client sends one command line, then:
//
//	put N SEED\n  followed by N pattern bytes and a half-close (FIN) from
//	              the client; the server answers "ok HEX\n", the SHA-256
//	              of what it read, over the half-closed connection
//	get N SEED\n  the server sends N pattern bytes and closes
//	bye\n         the server stops (Serve returns ErrBye)
//
// UDP: the server sends every datagram back to its sender, except "bye",
// which stops it.
package check

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Pattern is a deterministic stream of pseudo-random bytes (xorshift64*),
// the same at both ends for the same seed.
type Pattern struct {
	s   uint64
	buf [8]byte
	n   int // bytes of buf not yet used
}

// NewPattern starts the stream of seed.
func NewPattern(seed uint64) *Pattern {
	return &Pattern{s: seed*0x9E3779B97F4A7C15 + 1}
}

// Read fills p; it never fails.
func (p *Pattern) Read(b []byte) (int, error) {
	for i := range b {
		if p.n == 0 {
			p.s ^= p.s >> 12
			p.s ^= p.s << 25
			p.s ^= p.s >> 27
			binary.LittleEndian.PutUint64(p.buf[:], p.s*0x2545F4914F6CDD1D)
			p.n = 8
		}
		b[i] = p.buf[8-p.n]
		p.n--
	}
	return len(b), nil
}

// PatternBytes returns the first n bytes of seed's pattern.
func PatternBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	NewPattern(seed).Read(b)
	return b
}

// PatternSum is the SHA-256, in hexadecimal, of the first n bytes of
// seed's pattern.
func PatternSum(seed uint64, n int64) string {
	h := sha256.New()
	io.CopyN(h, NewPattern(seed), n)
	return hex.EncodeToString(h.Sum(nil))
}

// ErrBye is returned by the servers when a client asked them to stop.
var ErrBye = errors.New("bye")

// MaxTransfer bounds N in put and get.
const MaxTransfer = 1 << 30

// Serve handles one TCP connection, within timeout, and closes it.
func Serve(c net.Conn, timeout time.Duration) error {
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return fmt.Errorf("read command: %w", err)
	}
	f := strings.Fields(line)
	if len(f) == 1 && f[0] == "bye" {
		return ErrBye
	}
	if len(f) != 3 {
		return fmt.Errorf("malformed command %q", line)
	}
	n, err1 := strconv.ParseInt(f[1], 10, 64)
	seed, err2 := strconv.ParseUint(f[2], 10, 64)
	if err1 != nil || err2 != nil || n < 0 || n > MaxTransfer {
		return fmt.Errorf("malformed command %q", line)
	}
	switch f[0] {
	case "put":
		h := sha256.New()
		got, err := io.CopyN(h, r, n)
		if err != nil {
			return fmt.Errorf("put: read %d of %d bytes: %w", got, n, err)
		}
		_, err = fmt.Fprintf(c, "ok %s\n", hex.EncodeToString(h.Sum(nil)))
		return err
	case "get":
		if _, err := io.CopyN(c, NewPattern(seed), n); err != nil {
			return fmt.Errorf("get: %w", err)
		}
		return nil
	}
	return fmt.Errorf("unknown command %q", line)
}

// Put sends n bytes of seed's pattern over c and checks the server's sum.
func Put(c net.Conn, n int64, seed uint64, timeout time.Duration) error {
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := fmt.Fprintf(c, "put %d %d\n", n, seed); err != nil {
		return err
	}
	w := bufio.NewWriterSize(c, 1<<16)
	if _, err := io.CopyN(w, NewPattern(seed), n); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	// Half-close: the client's end of the stream is done, and the
	// server's answer must still come through.
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		if err := cw.CloseWrite(); err != nil {
			return fmt.Errorf("half-close: %w", err)
		}
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read the server's sum: %w", err)
	}
	want := "ok " + PatternSum(seed, n)
	if got := strings.TrimSpace(line); got != want {
		return fmt.Errorf("server's sum: got %q, want %q", got, want)
	}
	return nil
}

// Get asks for n bytes of seed's pattern and checks what arrives, and
// that the server then closes.
func Get(c net.Conn, n int64, seed uint64, timeout time.Duration) error {
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := fmt.Fprintf(c, "get %d %d\n", n, seed); err != nil {
		return err
	}
	h := sha256.New()
	got, err := io.Copy(h, io.LimitReader(c, n+1))
	if err != nil {
		return fmt.Errorf("receive: %d bytes, then %w", got, err)
	}
	if got != n {
		return fmt.Errorf("received %d bytes, want %d", got, n)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != PatternSum(seed, n) {
		return fmt.Errorf("received data differs from the pattern")
	}
	return nil
}

// Bye asks a server to stop.
func Bye(c net.Conn) error {
	_, err := io.WriteString(c, "bye\n")
	return err
}

// EchoSizes are the datagram sizes Echo sends: tiny, one Ethernet frame,
// a jumbo frame, and close to the maximum (fragmented on the way unless
// the path carries 65520 bytes).
var EchoSizes = []int{16, 1400, 9000, 60000}

// ServeEcho answers datagrams on pc until a "bye" datagram (ErrBye), a
// read error, or the deadline.
func ServeEcho(pc net.PacketConn, deadline time.Time) error {
	pc.SetDeadline(deadline)
	buf := make([]byte, 65536)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return err
		}
		if string(buf[:n]) == "bye" {
			return ErrBye
		}
		if _, err := pc.WriteTo(buf[:n], from); err != nil {
			return err
		}
	}
}

// Echo sends one datagram of each of sizes over the connected socket c
// and waits for each to come back unchanged, resending up to three times
// (a datagram may be lost while neighbours are being resolved).
func Echo(c net.Conn, sizes []int, seed uint64, timeout time.Duration) error {
	end := time.Now().Add(timeout)
	buf := make([]byte, 65536)
	for i, size := range sizes {
		want := PatternBytes(seed+uint64(i), size)
		ok := false
		for try := 0; try < 3 && !ok; try++ {
			if _, err := c.Write(want); err != nil {
				return fmt.Errorf("send %d bytes: %w", size, err)
			}
			wait := time.Now().Add(time.Second)
			if wait.After(end) {
				wait = end
			}
			c.SetReadDeadline(wait)
			for {
				n, err := c.Read(buf)
				if err != nil {
					break // timed out: send again
				}
				if n == size && string(buf[:n]) == string(want) {
					ok = true
					break
				}
				// Anything else is a late copy of an earlier datagram.
			}
		}
		if !ok {
			return fmt.Errorf("no echo of the %d-byte datagram", size)
		}
	}
	return nil
}
