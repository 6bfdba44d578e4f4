// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package nstest

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Defaults of TapConfig.
const (
	DefaultTapName = "eth0"
	DefaultMTU     = 65520
)

// TapConfig describes a tap device to create.
type TapConfig struct {
	// NetNS is where the device is created: a name under NetNSDir, a
	// path to a namespace file, or "" for the caller's namespace.
	NetNS string
	// Name is the interface name; "" means DefaultTapName.
	Name string
	// MTU is set on the link; 0 means DefaultMTU.
	MTU int
	// MAC, if set, is the link's hardware address; otherwise the
	// kernel's random one stays.
	MAC net.HardwareAddr
}

// Tap is a tap device opened by OpenTap. The device exists as long as FD
// is open.
type Tap struct {
	FD    int // non-blocking, close-on-exec; owned by the caller
	Name  string
	Index int
	MTU   int
	MAC   net.HardwareAddr
}

// OpenTap creates a tap device (IFF_TAP|IFF_NO_PI: one Ethernet frame per
// read or write, no packet information, no virtio-net header) inside
// cfg.NetNS, sets its MTU and MAC, and brings the link up. The caller owns
// the returned descriptor; closing it removes the device.
func OpenTap(cfg TapConfig) (*Tap, error) {
	if cfg.Name == "" {
		cfg.Name = DefaultTapName
	}
	if cfg.MTU == 0 {
		cfg.MTU = DefaultMTU
	}
	var tap *Tap
	err := InNetNS(NetNSPath(cfg.NetNS), func() error {
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
		if err != nil {
			return fmt.Errorf("open /dev/net/tun: %w", err)
		}
		t, err := setupTap(fd, cfg)
		if err != nil {
			unix.Close(fd)
			return err
		}
		tap = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	return tap, nil
}

// setupTap attaches fd to a new tap device and configures the link. It
// runs in the target namespace.
func setupTap(fd int, cfg TapConfig) (*Tap, error) {
	ifr, err := unix.NewIfreq(cfg.Name)
	if err != nil {
		return nil, fmt.Errorf("tap name %q: %w", cfg.Name, err)
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		return nil, fmt.Errorf("TUNSETIFF %s: %w", cfg.Name, err)
	}
	name := ifr.Name()

	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	defer h.Close()
	link, err := h.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("tap %s: %w", name, err)
	}
	if err := h.LinkSetMTU(link, cfg.MTU); err != nil {
		return nil, fmt.Errorf("tap %s: MTU %d: %w", name, cfg.MTU, err)
	}
	if cfg.MAC != nil {
		if err := h.LinkSetHardwareAddr(link, cfg.MAC); err != nil {
			return nil, fmt.Errorf("tap %s: MAC %v: %w", name, cfg.MAC, err)
		}
	}
	if err := h.LinkSetUp(link); err != nil {
		return nil, fmt.Errorf("tap %s: up: %w", name, err)
	}
	if link, err = h.LinkByName(name); err != nil {
		return nil, fmt.Errorf("tap %s: %w", name, err)
	}
	a := link.Attrs()
	return &Tap{FD: fd, Name: name, Index: a.Index, MTU: a.MTU, MAC: a.HardwareAddr}, nil
}
