// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package qrap connects qemu versions without -netdev stream to passt:
// it finds a live passt socket, moves the connection to a known descriptor
// number and executes qemu with a -netdev socket,fd=N back-end, so that qemu
// is the process afterwards.
//
// Two forms, as in the original tool:
//
//	qrap FDNUM QEMU_CMD [QEMU_ARG]...   the arguments are used unchanged
//	qrap [QEMU_ARG]...                  descriptor 5; qrap removes the
//	                                    network options it finds, adds its
//	                                    own and looks for qemu in PATH
//
// A socket counts as live when it answers a probe: a broadcast ARP request
// and an IPv6 neighbour solicitation, framed as qemu frames them, to which
// passt replies. A connection reset (passt serving another client, as
// happens when libvirt starts qemu several times in a row) is retried
// briefly before the next socket is tried.
package qrap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultFD is the descriptor qemu finds the connection on in the patching
// form.
const DefaultFD = 5

// Probe limits.
const (
	SocketMax     = 99
	ProbeTimeout  = 500 * time.Millisecond
	ResetRetries  = 50
	ResetInterval = 50 * time.Millisecond
)

// Plan is what qrap will execute.
type Plan struct {
	FD   int      // descriptor the connection is moved to
	Path string   // qemu binary, resolved in PATH
	Args []string // qemu's argv, Args[0] included
}

// qemuNames are tried in order in the patching form.
var qemuNames = []string{"kvm", "qemu-kvm", "qemu-system-x86_64", "/usr/libexec/qemu-kvm"}

// MakePlan decides the form from args (without qrap's own argv[0]): the
// explicit form when args[0] is a descriptor number of 3 or more (and
// then args[1] must be found by lookPath), the patching form otherwise.
// lookPath resolves an executable name, as exec.LookPath does.
func MakePlan(args []string, lookPath func(string) (string, error)) (Plan, error) {
	if len(args) >= 2 {
		if fd, err := strconv.Atoi(args[0]); err == nil && fd >= 3 {
			// A descriptor number first means the explicit form: a
			// QEMU_CMD that is not there is an error, not qemu
			// arguments to patch.
			p, err := lookPath(args[1])
			if err != nil {
				return Plan{}, fmt.Errorf("QEMU_CMD %q not found in PATH, or not executable", args[1])
			}
			return Plan{FD: fd, Path: p, Args: append([]string{args[1]}, args[2:]...)}, nil
		}
	}
	var path, name string
	for _, n := range qemuNames {
		if p, err := lookPath(n); err == nil {
			path, name = p, n
			break
		}
	}
	if path == "" {
		return Plan{}, fmt.Errorf("no qemu found in PATH (tried %s); give it explicitly: qrap FDNUM QEMU_CMD ARGS", strings.Join(qemuNames, ", "))
	}
	return Plan{FD: DefaultFD, Path: path, Args: append([]string{name}, Patch(args, DefaultFD)...)}, nil
}

// nicPrefixes are the -device drivers replaced by ours.
var nicPrefixes = []string{"virtio-net-pci,", "virtio-net-ccw,", "e1000,", "e1000e,", "rtl8139,"}

func isNIC(dev string) bool {
	for _, p := range nicPrefixes {
		if strings.HasPrefix(dev, p) || strings.HasPrefix(dev, `{"driver":"`+strings.TrimSuffix(p, ",")+`"`) {
			return true
		}
	}
	return false
}

// Patch removes every -net and -netdev option and every network card
// device from args and appends a virtio network card on a socket back-end
// reading descriptor fd. An s390 machine gets the ccw model.
func Patch(args []string, fd int) []string {
	out := make([]string, 0, len(args)+4)
	model := "virtio-net-pci"
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch a {
		case "-net", "-netdev", "--net", "--netdev":
			i++ // drop the option and its value
			continue
		case "-device", "--device":
			if i+1 < len(args) && isNIC(args[i+1]) {
				i++
				continue
			}
		case "-machine", "-M", "--machine":
			if i+1 < len(args) && strings.HasPrefix(args[i+1], "s390-ccw") {
				model = "virtio-net-ccw"
			}
		}
		out = append(out, a)
	}
	return append(out,
		"-device", model+",netdev=hostnet0,x-txburst=4096",
		"-netdev", fmt.Sprintf("socket,fd=%d,id=hostnet0", fd))
}

// probeFrames is the probe: a broadcast ARP request and an IPv6 neighbour
// solicitation, each behind its 4-byte length, as one write.
func probeFrames() []byte {
	src := [6]byte{0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x56}
	var b []byte
	// ARP request: who has 0.0.0.1? (any address passt claims)
	arp := make([]byte, 42)
	copy(arp[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(arp[6:12], src[:])
	binary.BigEndian.PutUint16(arp[12:], 0x0806)
	binary.BigEndian.PutUint16(arp[14:], 1)      // Ethernet
	binary.BigEndian.PutUint16(arp[16:], 0x0800) // IPv4
	arp[18], arp[19] = 6, 4
	binary.BigEndian.PutUint16(arp[20:], 1) // request
	copy(arp[22:28], src[:])
	copy(arp[38:42], []byte{192, 0, 2, 1})
	b = binary.BigEndian.AppendUint32(b, uint32(len(arp)))
	b = append(b, arp...)
	// Neighbour solicitation from :: for fe80::1 (no checksum needed for
	// the probe to be answered or dropped: any reply byte will do).
	ns := make([]byte, 78)
	copy(ns[0:6], []byte{0x33, 0x33, 0xff, 0x00, 0x00, 0x01})
	copy(ns[6:12], src[:])
	binary.BigEndian.PutUint16(ns[12:], 0x86dd)
	ns[14] = 0x60
	binary.BigEndian.PutUint16(ns[18:], 24) // payload length
	ns[20] = 58                             // ICMPv6
	ns[21] = 255
	copy(ns[38:54], []byte{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 1})
	ns[54] = 135
	copy(ns[62:78], []byte{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	b = binary.BigEndian.AppendUint32(b, uint32(len(ns)))
	return append(b, ns...)
}

// errReset is a connection reset during the probe: passt is busy.
var errReset = errors.New("connection reset")

// probe connects to path and sends the probe; it returns the connected
// socket once a reply byte is waiting.
func probe(path string) (int, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	tv := unix.NsecToTimeval(int64(ProbeTimeout))
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	fail := func(err error) (int, error) {
		unix.Close(fd)
		// A passt busy with another client accepts and closes at once:
		// the probe then meets a reset, or a broken pipe when the close
		// came before the write.
		if errors.Is(err, unix.ECONNRESET) || errors.Is(err, unix.EPIPE) {
			return -1, errReset
		}
		return -1, err
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return fail(err)
	}
	if _, err := unix.Write(fd, probeFrames()); err != nil {
		return fail(err)
	}
	var one [1]byte
	n, _, err := unix.Recvfrom(fd, one[:], unix.MSG_PEEK)
	if err != nil {
		return fail(err)
	}
	if n == 0 {
		return fail(errReset)
	}
	var zero unix.Timeval
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &zero)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &zero)
	return fd, nil
}

// Connect finds the first live passt socket among paths (the default
// /tmp/passt_N.socket list when nil) and returns the connection.
func Connect(paths []string) (int, string, error) {
	if paths == nil {
		for n := 1; n <= SocketMax; n++ {
			paths = append(paths, fmt.Sprintf("/tmp/passt_%d.socket", n))
		}
	}
	var last error
	for _, p := range paths {
		for try := 0; try <= ResetRetries; try++ {
			fd, err := probe(p)
			if err == nil {
				return fd, p, nil
			}
			last = err
			if !errors.Is(err, errReset) {
				break
			}
			time.Sleep(ResetInterval)
		}
	}
	if errors.Is(last, unix.ENOENT) || errors.Is(last, unix.ECONNREFUSED) || last == nil {
		return -1, "", fmt.Errorf("no passt is listening on %s to %s: start passt first", paths[0], paths[len(paths)-1])
	}
	return -1, "", fmt.Errorf("no passt answered on %s to %s (last error: %v)", paths[0], paths[len(paths)-1], last)
}

// Exec places the connection fd on descriptor plan.FD, open across the
// execution, and executes plan with the environment env, so that qemu is
// the process from then on. It returns only when that fails, with an
// error of one line that names what failed; the connection is closed
// then.
func Exec(plan Plan, fd int, env []string) error {
	if fd != plan.FD {
		// Dup3 without O_CLOEXEC: the descriptor must survive the exec.
		err := unix.Dup3(fd, plan.FD, 0)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("move connection to descriptor %d: %w", plan.FD, err)
		}
	} else if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
		unix.Close(fd)
		return fmt.Errorf("keep descriptor %d open: %w", fd, err)
	}
	err := syscall.Exec(plan.Path, plan.Args, env)
	unix.Close(plan.FD)
	return fmt.Errorf("cannot start %s: %w", plan.Path, err)
}

// LookPath is exec.LookPath, for MakePlan.
func LookPath(name string) (string, error) { return exec.LookPath(name) }
