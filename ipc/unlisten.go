// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Unlisten: the monitor takes back a listener it handed over at run time.

package ipc

import "encoding/binary"

// Unlisten tells the worker to close a listener it received in an FDs
// message after Ready: auto forwarding found that the port no longer
// listens on the other side. The fields are those of the listener's
// FDEntry; a listener the worker does not have is ignored.
type Unlisten struct {
	Role   FDRole // FDTCPListener or FDUDPListener
	Family Family // as in the FDEntry: 0 for a dual-stack socket
	Side   Side
	Port   uint16 // 1 to 65535
	Rule   uint16
}

const unlistenLen = 8 // role, family, side, reserved u8; port, rule u16

func (Unlisten) Kind() Kind { return KindUnlisten }
func (Unlisten) isBody()    {}

func (v Unlisten) check() error {
	if v.Role != FDTCPListener && v.Role != FDUDPListener {
		return malformed(KindUnlisten, "role %v is not a listener", v.Role)
	}
	if v.Family != 0 && v.Family != IPv4 && v.Family != IPv6 {
		return malformed(KindUnlisten, "unknown family %v", v.Family)
	}
	if v.Side > SideNamespace {
		return malformed(KindUnlisten, "unknown side %v", v.Side)
	}
	if v.Port == 0 {
		return malformed(KindUnlisten, "port 0")
	}
	return nil
}

// AppendBinary implements Body.
func (v Unlisten) AppendBinary(b []byte) ([]byte, error) {
	if err := v.check(); err != nil {
		return b, err
	}
	b = append(b, uint8(v.Role), uint8(v.Family), uint8(v.Side), 0)
	b = binary.LittleEndian.AppendUint16(b, v.Port)
	return binary.LittleEndian.AppendUint16(b, v.Rule), nil
}

// UnmarshalBinary decodes an Unlisten payload.
func (v *Unlisten) UnmarshalBinary(p []byte) error {
	r := reader{b: p}
	d := Unlisten{Role: FDRole(r.u8()), Family: Family(r.u8()), Side: Side(r.u8())}
	reserved := r.u8()
	d.Port, d.Rule = r.u16(), r.u16()
	if !r.end() {
		return malformed(KindUnlisten, "payload of %d bytes, want %d", len(p), unlistenLen)
	}
	if reserved != 0 {
		return malformed(KindUnlisten, "reserved byte is %#x", reserved)
	}
	if err := d.check(); err != nil {
		return err
	}
	*v = d
	return nil
}
